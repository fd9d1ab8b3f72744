"""The fixed-width TXT reader, against golden lines built from the layout table."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _golden import (
    ANA,
    ANA_REPORT,
    BEN,
    BEN_REPORT,
    CARLA,
    CARLA_EXAMS,
    exam,
    reports,
    txt_line,
)
from apscores.catalog import ExamStatus
from apscores.errors import (
    ConfigurationError,
    EmptyFileError,
    ParseError,
    UnknownFormatError,
    UnwritableRecordError,
)
from apscores.files import read_txt, write_txt
from apscores.files._txt import parse_line
from apscores.files.layout import LAYOUT_910
from apscores.models import ExamScore, ScoreReport


def read_all(data: bytes) -> list[ScoreReport]:
    return list(read_txt(io.BytesIO(data)))


def test_golden_record_maps_every_field() -> None:
    assert read_all(txt_line(ANA)) == [ANA_REPORT]


def test_exam_93_keeps_both_years_with_their_own_names() -> None:
    (report,) = read_all(txt_line(ANA))
    names = {exam.admin_year: exam.name for exam in report.exams if exam.code == "93"}
    assert names == {2021: "World History: Modern", 2019: "World History"}


def test_new_codes_unknown_codes_and_pending_scores() -> None:
    (report,) = read_all(txt_line(ANA))
    exams = {exam.code: exam for exam in report.exams}
    assert exams["10"].name == "African American Studies"
    assert exams["65"].name == "Precalculus"
    assert exams["XY"].is_known is False
    assert exams["XY"].name == "Unknown exam XY"
    assert exams["65"].score is None
    assert exams["65"].irregularity_codes == ("96",)
    assert exams["65"].status is ExamStatus.PENDING


def test_no_exams_and_all_thirty_blocks() -> None:
    ben, carla = read_all(txt_line(BEN) + txt_line(CARLA))
    assert ben == BEN_REPORT
    assert ben.exams == ()
    assert carla.exams == CARLA_EXAMS


def test_latin1_name_is_one_byte_one_column() -> None:
    line = txt_line(ANA)
    assert b"Mu\xf1oz" in line
    assert len(line) == 951
    (report,) = read_all(line)
    assert report.student.last_name == "Muñoz"
    assert report.student.first_name == "Ana"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b""])
@pytest.mark.parametrize("strip", [False, True])
def test_line_endings_and_stripped_trailing_blanks(newline: bytes, strip: bool) -> None:
    data = txt_line(ANA, strip=strip, newline=b"\r\n") + txt_line(BEN, strip=strip, newline=newline)
    assert read_all(data) == [ANA_REPORT, BEN_REPORT]


def test_910_column_lines() -> None:
    values = {**ANA, "race_ethnicity_student_response": "JUNKJUNK10"}  # filler in a 910 file
    line = txt_line(values, width=910)
    assert len(line) == 911
    (report,) = read_all(line)
    expected_student = attrs.evolve(
        ANA_REPORT.student, race_ethnicity_response="", derived_aggregate_race_ethnicity=""
    )
    assert report == attrs.evolve(ANA_REPORT, student=expected_student)


def test_blank_lines_bom_and_str_lines() -> None:
    data = b"\xef\xbb\xbf" + txt_line(BEN) + b"\n   \n" + b" " * 950 + b"\n\x1a\n"
    assert read_all(data) == [BEN_REPORT]
    lines = [txt_line(BEN).decode("latin-1"), "", txt_line(ANA).decode("latin-1").rstrip("\n")]
    assert list(read_txt(lines)) == [BEN_REPORT, ANA_REPORT]
    assert list(read_txt(["\ufeff" + lines[0]])) == [BEN_REPORT]
    with pytest.raises(EmptyFileError):
        read_txt([])


def test_sources_path_bytes_and_file_objects(tmp_path: Path) -> None:
    path = tmp_path / "scores.txt"
    path.write_bytes(txt_line(ANA) + txt_line(BEN))
    with read_txt(path) as reader:
        assert reader.format == "txt"
        assert list(reader) == [ANA_REPORT, BEN_REPORT]
    assert list(read_txt(str(path))) == [ANA_REPORT, BEN_REPORT]
    assert list(read_txt(path.read_bytes())) == [ANA_REPORT, BEN_REPORT]
    with path.open("rb") as handle:
        reader = read_txt(handle)
        assert next(reader) == ANA_REPORT
        reader.close()
        assert not handle.closed  # the caller's file stays open
        with pytest.raises(StopIteration):
            next(reader)


def test_a_blank_block_is_skipped_and_the_exams_after_it_are_kept() -> None:
    """One exam per filled block, empty blocks skipped (file-layout.md §1.3: PY950 skips
    blocks whose exam code is blank; user-needs.md item 3): never an exam dropped."""
    values = {**BEN, **exam(1, "24", "07", "5"), **exam(3, "24", "20", "4")}
    (report,) = read_all(txt_line(values))
    assert report.exams == (ExamScore("07", 2024, 5), ExamScore("20", 2024, 4))
    last_only = {**BEN, **exam(30, "19", "93", "", "98")}
    (report,) = read_all(txt_line(last_only))
    assert report.exams == (ExamScore("93", 2019, None, ("98",)),)


def test_award_and_previous_school_pairs() -> None:
    values = {
        **BEN,
        "award_type_1": "",
        "award_year_1": "22",  # a year without a type is skipped
        "award_type_2": "10",
        "award_year_2": "23",
        "previous_ai_year_1": "",
        "previous_ai_code_1": "000123",
        "previous_ai_year_2": "98",
    }
    (report,) = read_all(txt_line(values))
    assert [(a.code, a.year, a.name) for a in report.awards] == [("10", 2023, "Unknown award 10")]
    assert [(p.year, p.code) for p in report.previous_schools] == [
        (None, "000123"),
        (1998, ""),
    ]


@pytest.mark.parametrize(
    ("college_code", "di_code"),
    [("001234", "1234"), ("123456", "123456"), ("", ""), ("  1234", "1234"), ("0012", "0012")],
)
def test_di_code_shapes(college_code: str, di_code: str) -> None:
    (report,) = read_all(txt_line({**BEN, "college_code": college_code}))
    assert report.di_code == di_code
    assert report.college.code == di_code


@pytest.mark.parametrize(
    ("values", "field", "raw"),
    [
        (exam(1, "2X", "07", "5"), "admin_year_01", "2X"),
        (exam(1, "", "07", "5"), "admin_year_01", ""),
        (exam(1, "24", "07", "5") | exam(2, "24", "20", "6"), "exam_grade_02", "6"),
        (exam(1, "24", "07", "A"), "exam_grade_01", "A"),
        ({"birth_date": "133106"}, "birth_date", "133106"),
        ({"birth_date": "03x506"}, "birth_date", "03x506"),
        ({"date_of_this_report": "000000"}, "date_of_this_report", "000000"),
        ({"award_type_2": "01"}, "award_year_2", ""),
        ({"award_type_1": "01", "award_year_1": "x1"}, "award_year_1", "x1"),
        ({"previous_ai_year_1": "9", "previous_ai_code_1": "1"}, "previous_ai_year_1", "9"),
        ({"ap_id": ""}, "ap_id", ""),
    ],
)
def test_bad_values_name_line_field_and_raw(values: dict[str, str], field: str, raw: str) -> None:
    data = txt_line(BEN) + txt_line({**BEN, **values})
    with pytest.raises(ParseError) as caught:
        read_all(data)
    error = caught.value
    assert (error.line, error.field, error.raw) == (2, field, raw)
    assert "line 2" in str(error)
    assert repr(field) in str(error)
    with pytest.raises(ParseError) as slow:
        parse_line(txt_line({**BEN, **values}).decode("latin-1"), 2)
    assert (slow.value.line, slow.value.field, slow.value.raw) == (2, field, raw)


def test_too_long_line_is_refused_with_its_number() -> None:
    data = txt_line(BEN) + b"x" * 951 + b"\n"
    with pytest.raises(ParseError, match="line 2") as caught:
        read_all(data)
    assert caught.value.field is None
    with pytest.raises(ParseError):
        parse_line("x" * 951)


def test_collect_mode_keeps_good_records_and_lists_bad_lines() -> None:
    bad = txt_line({**BEN, "birth_date": "999999"})
    data = txt_line(ANA) + bad + b"y" * 960 + b"\n" + txt_line(BEN)
    reader = read_txt(io.BytesIO(data), errors="collect")
    assert list(reader) == [ANA_REPORT, BEN_REPORT]
    assert [(e.line, e.field) for e in reader.errors] == [(2, "birth_date"), (3, None)]
    assert "errors=2" in repr(reader)


def test_errors_must_be_raise_or_collect() -> None:
    with pytest.raises(ConfigurationError, match="errors must be"):
        read_txt([], errors="ignore")  # type: ignore[arg-type]


def test_caches_are_bounded_and_still_correct(monkeypatch: pytest.MonkeyPatch) -> None:
    import apscores.files._speed.cache

    monkeypatch.setattr(apscores.files._speed.cache, "LIMIT", 2)
    lines = []
    expected = []
    for n in range(6):
        day = f"{n + 1:02d}"
        values = {
            **ANA,
            "ap_id": f"ID{n}",
            "birth_date": f"01{day}05",
            "education_level": str(n),
            "race_ethnicity_student_response": "Y" * n,
            **exam(1, "24", "07", str(n % 5 + 1)),
            "award_year_1": day,
            "previous_ai_code_1": f"00000{n}",
            "hs_ai_code": f"10000{n}",
            "college_code": f"00100{n}",
            "service_code": day,
        }
        lines.append(txt_line(values))
        expected.append(parse_line(lines[-1].decode("latin-1")))
    assert read_all(b"".join(lines * 2)) == expected * 2
    assert expected[3].student.date_of_birth == dt.date(2005, 1, 4)


@pytest.mark.slow
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_fast_path_agrees_with_the_slow_reference(report: ScoreReport) -> None:
    out = io.BytesIO()
    write_txt([report], out)
    line = out.getvalue()
    assert read_all(line) == [parse_line(line.decode("latin-1"))] == [report]


_MALFORMED = st.binary(min_size=0, max_size=1000) | st.builds(
    lambda base, at, junk: base[:at] + junk + base[at + len(junk) :],
    st.sampled_from([txt_line(ANA)[:-1], txt_line(CARLA)[:-1], txt_line(BEN, strip=True)[:-1]]),
    st.integers(0, 950),
    st.binary(min_size=1, max_size=12),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MALFORMED, min_size=1, max_size=3))
def test_malformed_lines_only_ever_raise_parse_error(lines: list[bytes]) -> None:
    data = b"\n".join(lines)
    failure: ParseError | None = None
    try:
        read_all(data)
    except UnknownFormatError:  # empty or binary: a file-level error, in both modes
        with pytest.raises(UnknownFormatError):
            read_txt(io.BytesIO(data), errors="collect")
        return
    except ParseError as error:
        failure = error
    assert failure is None or failure.line is not None
    reader = read_txt(io.BytesIO(data), errors="collect")
    list(reader)
    assert all(isinstance(error, ParseError) for error in reader.errors)


def test_write_txt_refuses_what_the_layout_cannot_hold() -> None:
    with pytest.raises(UnwritableRecordError, match=r"'last_name'.*15 columns"):
        write_txt(
            [
                attrs.evolve(
                    BEN_REPORT, student=attrs.evolve(BEN_REPORT.student, last_name="L" * 16)
                )
            ],
            io.BytesIO(),
        )
    with pytest.raises(UnwritableRecordError, match="Latin-1"):
        write_txt([attrs.evolve(BEN_REPORT, service_code="€")], io.BytesIO())
    with pytest.raises(UnwritableRecordError, match="line break"):
        write_txt([attrs.evolve(BEN_REPORT, service_code="a\nb")], io.BytesIO())
    with pytest.raises(UnwritableRecordError, match=r"910 layout has no field for student\.race"):
        write_txt([ANA_REPORT], io.BytesIO(), layout=LAYOUT_910)
    with pytest.raises(ConfigurationError, match="newline"):
        write_txt([], io.BytesIO(), newline="\r")


def test_write_txt_910_and_crlf() -> None:
    out = io.BytesIO()
    assert write_txt([BEN_REPORT, BEN_REPORT], out, layout=LAYOUT_910, newline="\r\n") == 2
    lines = out.getvalue().split(b"\r\n")
    assert [len(line) for line in lines] == [910, 910, 0]
    assert read_all(out.getvalue()) == [BEN_REPORT, BEN_REPORT]


def test_write_txt_to_a_path_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    assert write_txt([ANA_REPORT, BEN_REPORT], path) == 2
    assert list(read_txt(path)) == [ANA_REPORT, BEN_REPORT]
    bad = attrs.evolve(BEN_REPORT, ap_id="")
    with pytest.raises(UnwritableRecordError, match="AP ID is blank"):
        write_txt([ANA_REPORT, bad], path)
    assert list(read_txt(path)) == [ANA_REPORT, BEN_REPORT]  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


@pytest.mark.parametrize(
    "values",
    [
        {**exam(1, "24", "07", "9"), "birth_date": "999999", "award_type_1": "01"},
        {"birth_date": "999999", "award_type_1": "01", "previous_ai_year_1": "x"},
        {"date_of_this_report": "1", "birth_date": "2", "award_year_2": "3"},
        {"award_type_1": "01", "award_year_1": "", "previous_ai_year_2": "zz"},
    ],
)
def test_a_line_with_several_bad_fields_reports_the_reference_first(
    values: dict[str, str],
) -> None:
    line = txt_line({**BEN, **values})
    with pytest.raises(ParseError) as fast:
        read_all(line)
    with pytest.raises(ParseError) as slow:
        parse_line(line.decode("latin-1"), 1)
    assert (fast.value.field, fast.value.raw) == (slow.value.field, slow.value.raw)


def test_line_endings_and_a_last_line_without_one() -> None:
    crlf = txt_line(ANA, newline=b"\r\n")
    bare = txt_line(BEN, newline=b"")
    assert read_all(crlf + crlf + bare) == [ANA_REPORT, ANA_REPORT, BEN_REPORT]
    assert read_all(txt_line(ANA) + txt_line(BEN, newline=b"\r")) == [ANA_REPORT, BEN_REPORT]
    with pytest.raises(ParseError, match="951 columns"):
        read_all(txt_line(BEN)[:-1] + b"x")
    assert read_all(b" " * 950 + b"\r\n" + b"\t" * 950 + b"\n" + txt_line(BEN)) == [BEN_REPORT]


def test_a_blank_exam_code_skips_its_block_even_after_a_seen_block() -> None:
    blank_first = {**ANA, **exam(1, "24", "", "3")}
    gap = {**ANA, **exam(2, "24", "", "", "", "", "S")}
    lines = [txt_line(ANA), txt_line(blank_first), txt_line(gap), txt_line(ANA)]
    got = read_all(b"".join(lines))
    assert got == [parse_line(line.decode("latin-1")) for line in lines]
    assert got[1].exams == ANA_REPORT.exams[1:]
    assert got[2].exams == ANA_REPORT.exams[:1] + ANA_REPORT.exams[2:]
    assert got[3] == ANA_REPORT
