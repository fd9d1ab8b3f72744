"""The exam catalog: names by admin year, awards, irregularity categories, exam status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apscores import catalog
from apscores.catalog import (
    ExamName,
    ExamStatus,
    IrregularityCategory,
    award_name,
    exam_entry,
    exam_name,
    exam_names,
    exam_status,
    irregularity,
    is_known_exam,
    normalize_exam_code,
)


@pytest.mark.parametrize(
    ("code", "year", "name"),
    [
        ("93", 2019, "World History"),
        ("93", 2001, "World History"),
        ("93", 2020, "World History: Modern"),
        ("93", 2021, "World History: Modern"),
        ("14", 2019, "Studio Art: Drawing Portfolio"),
        ("14", 2020, "Drawing"),
        ("15", 2019, "Studio Art: 2-D Design Portfolio"),
        ("15", 2024, "2-D Art and Design"),
        ("16", 2018, "Studio Art: 3-D Design Portfolio"),
        ("16", 2020, "3-D Art and Design"),
        ("10", 2024, "African American Studies"),
        ("65", 2024, "Precalculus"),
        ("07", 1990, "United States History"),
    ],
)
def test_exam_names_by_admin_year(code: str, year: int, name: str) -> None:
    assert exam_name(code, year) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("33", "Computer Science AB"),
        ("51", "French Literature"),
        ("78", "Physics B"),
        ("61", "Latin Literature"),
    ],
)
def test_discontinued_exams_keep_their_names(code: str, name: str) -> None:
    assert exam_name(code, 2005) == name
    assert exam_name(code, 2024) == name
    assert is_known_exam(code)
    assert any(entry.status == "discontinued" for entry in exam_names()[code])


def test_unknown_codes_get_a_placeholder() -> None:
    assert exam_name("XY", 2024) == "Unknown exam XY"
    assert exam_name("00", 2024) == "Unknown exam 00"
    assert not is_known_exam("XY")


def test_every_reference_code_is_known() -> None:
    codes = set(exam_names())
    assert {"07", "10", "13", "23", "32", "59", "65", "69", "76", "77", "93"} <= codes
    assert len(codes) == 50  # every row of file-layout.md §4.1, and 70, 71 (2025-26)


@pytest.mark.parametrize(
    ("code", "year", "name", "status"),
    [
        ("70", 2026, "Networking", "pilot"),
        ("71", 2026, "Cybersecurity", "pilot"),
        ("71", 2027, "Cybersecurity", "active"),  # first national exam May 2027
        ("83", 2024, "Physics 1", "active"),
        ("83", 2025, "Physics 1", "revised"),  # the code table's name (exam-codes.csv)
        ("84", 2025, "Physics 2", "revised"),
        ("80", 2024, "Physics C: Mechanics", "active"),
        ("80", 2025, "Physics C: Mechanics", "revised"),  # same name, new content
        ("82", 2025, "Physics C: Electricity and Magnetism", "revised"),
        ("31", 2025, "Computer Science A", "active"),
        ("31", 2026, "Computer Science A", "revised"),
    ],
)
def test_the_2025_26_exams_and_revisions(code: str, year: int, name: str, status: str) -> None:
    entry = exam_entry(code, year)
    assert entry is not None
    assert (entry.name, entry.status) == (name, status)
    assert exam_name(code, year) == name


@pytest.mark.parametrize("written", ["7", "07", " 7 ", " 07"])
def test_a_code_written_without_its_zero_is_the_same_exam(written: str) -> None:
    assert normalize_exam_code(written) == "07"
    assert is_known_exam(written)
    assert exam_name(written, 2024) == "United States History"


@pytest.mark.parametrize("written", ["٧", "7.0", "007", "", "XY", "1E1"])
def test_only_one_ascii_digit_gains_a_zero(written: str) -> None:
    assert normalize_exam_code(written) == written.strip()


def test_year_outside_every_range_takes_the_nearest_name(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {
        "AA": (
            ExamName("AA", "Old", 2000, 2009, "renamed"),
            ExamName("AA", "New", 2010, 2019, "discontinued"),
        )
    }
    monkeypatch.setattr(catalog, "exam_names", lambda: table)
    lookup = exam_name.__wrapped__
    assert lookup("AA", 1990) == "Old"
    assert lookup("AA", 2005) == "Old"
    assert lookup("AA", 2030) == "New"
    assert ExamName("AA", "x", None, None, "active").covers(1900)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("01", "AP Scholar"),
        ("05", "National AP Scholar"),
        ("12", "National AP Scholar (Bermuda)"),
        ("13", "AP Capstone Diploma"),
        ("14", "AP Seminar and Research Certificate"),
        ("10", "Unknown award 10"),
        ("11", "Unknown award 11"),
        ("99", "Unknown award 99"),
    ],
)
def test_award_names(code: str, name: str) -> None:
    assert award_name(code) == name


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("96", IrregularityCategory.PENDING),
        ("07", IrregularityCategory.PENDING),
        ("01", IrregularityCategory.PENDING_OR_NOT_AVAILABLE),
        ("04", IrregularityCategory.CANCELED),
        ("16", IrregularityCategory.NO_SCORE),
        ("98", IrregularityCategory.WITHHELD),
        ("20", IrregularityCategory.SCORED_WITH_NOTE),
        ("22", IrregularityCategory.UNKNOWN),
        ("ZZ", IrregularityCategory.UNKNOWN),
    ],
)
def test_irregularity_categories(code: str, category: IrregularityCategory) -> None:
    found = irregularity(code)
    assert found.code == code
    assert found.category is category
    assert found.description


def test_unknown_irregularity_description() -> None:
    assert irregularity("ZZ").description == "Unknown irregularity code ZZ"


@pytest.mark.parametrize(
    ("score", "codes", "status"),
    [
        (5, (), ExamStatus.SCORED),
        (4, ("20",), ExamStatus.SCORED_WITH_NOTE),
        (3, ("07",), ExamStatus.SCORED_WITH_NOTE),  # a grade and a pending code together
        (4, ("ZZ",), ExamStatus.SCORED_WITH_NOTE),
        (None, ("96",), ExamStatus.PENDING),
        (None, ("01",), ExamStatus.PENDING),
        (None, ("04",), ExamStatus.CANCELED),
        (None, ("16",), ExamStatus.CANCELED),
        (5, ("94",), ExamStatus.CANCELED),  # canceled wins over a score
        (5, ("98",), ExamStatus.WITHHELD),  # withheld wins over everything
        (None, ("04", "98"), ExamStatus.WITHHELD),
        (None, ("96", "04"), ExamStatus.CANCELED),
        (None, (), ExamStatus.UNKNOWN),
        (None, ("ZZ",), ExamStatus.UNKNOWN),
    ],
)
def test_exam_status_precedence(
    score: int | None, codes: tuple[str, ...], status: ExamStatus
) -> None:
    assert exam_status(score, codes) is status


def test_only_reported_scores_earn_credit() -> None:
    assert {s for s in ExamStatus if s.earns_credit} == {
        ExamStatus.SCORED,
        ExamStatus.SCORED_WITH_NOTE,
    }


# -- DI codes: one rule ------------------------------------------------------------------


@given(st.text(max_size=6))
def test_a_di_code_is_exactly_four_ascii_digits(text: str) -> None:
    assert catalog.is_di_code(text) is (re.fullmatch(r"[0-9]{4}", text, re.ASCII) is not None)


@pytest.mark.parametrize("code", ["١٢٣٤", "۱۲۳۴", "１２３４", "12³4", "123", "12345", "12 4"])
def test_digits_that_are_not_ascii_or_not_four_are_no_di_code_anywhere(
    code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from apscores.cli import main
    from apscores.errors import ConfigurationError
    from apscores.sandbox import fake_reports
    from apscores.service import check_di_code

    assert not catalog.is_di_code(code)
    with pytest.raises(ConfigurationError, match="a DI code is 4 digits"):
        check_di_code(code)
    with pytest.raises(ValueError, match="a DI code is 4 digits"):
        fake_reports(1, di_code=code)
    assert main(["fetch", "--sandbox", "--di", code, "--dest", str(tmp_path / "d")]) == 2
    assert main(["sandbox", "serve", "--di", code]) == 2
    assert main(["ledger", "--dest", str(tmp_path), "--di", code]) == 2
    err = capsys.readouterr().err
    assert err.endswith(f"apscores: --di {code}: a DI code is 4 digits, like 1234\n")
    assert not (tmp_path / "d").exists()


def test_the_package_checks_di_codes_by_the_one_rule() -> None:
    import apscores

    src = Path(apscores.__file__).parent
    other_rules = [
        f"{path.relative_to(src)}:{number}"
        for path in sorted(src.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"len\((\w+)\) == 4 and \1\.isdigit\(\)|^_?DI\w* = re\.compile", line)
    ]
    assert other_rules == []
