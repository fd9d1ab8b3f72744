"""The CSV reader: header aliases, encodings, lenient values, and equality with the TXT."""

from __future__ import annotations

import csv
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
    K12_HEADER,
    TXT_ONLY,
    exam,
    k12_csv,
    reports,
    txt_line,
)
from apscores.errors import EmptyFileError, MissingColumnsError, ParseError
from apscores.files import read_txt
from apscores.files._csv import _parse_row_slowly, read_csv, write_csv
from apscores.files._csv_columns import CANONICAL_HEADERS, map_columns, normalise_header
from apscores.models import ExamScore, ScoreReport

PEOPLE = [ANA, BEN, CARLA]
#: The two date columns every score CSV has, and a row's two dates.
DATE_LABELS = '"Date of Last Student Update","Date of this report"'
DATES = '"070124","070924"'


def read_text(text: str, encoding: str = "utf-8") -> list[ScoreReport]:
    return list(read_csv(io.BytesIO(text.encode(encoding))))


def test_golden_k12_csv_equals_the_golden_txt() -> None:
    from_csv = read_text(k12_csv(PEOPLE))
    from_txt = list(read_txt(io.BytesIO(b"".join(txt_line(p) for p in PEOPLE))))
    assert from_csv == from_txt
    assert from_csv[0] == ANA_REPORT
    assert from_csv[1] == BEN_REPORT
    assert from_csv[2].exams == CARLA_EXAMS


def test_k12_file_without_txt_only_columns() -> None:
    (report,) = read_text(k12_csv([ANA], header=K12_HEADER))
    assert report.high_school.contact_name == ""
    assert report.service_type == ""
    assert report.exams[3] == ExamScore("93", 2021, 4, (), "", "A")


def test_pre_2020_labels_snake_case_and_psfix_names() -> None:
    renames = {
        "AP Number / AP ID": "AP Number",
        "Gender": "Sex",
        "Grade Level": "Education Level",
        "Irregularity Code #1 02": "Irregularity Code .1 02",
        "Exam Code 01": "EXAM_CODE_01",
        "Admin Year 01": "admin_year_01",
        "High School Contact Name": "CONTACT NAME (HIGH SCHOOL)",
        "Date Grades Released to College": "DATE GRADES RELEASED TO COLLEGE",
        "Contact Name": "contact_name",
    }
    header = tuple((renames.get(label, label), field) for label, field in K12_HEADER + TXT_ONLY)
    assert read_text(k12_csv([ANA], header=header)) == [ANA_REPORT]


def test_column_order_does_not_matter_and_extra_columns_are_ignored() -> None:
    header = (*reversed(K12_HEADER + TXT_ONLY), ("Student Texas Unique ID", ""))
    assert read_text(k12_csv([ANA, BEN], header=header)) == [ANA_REPORT, BEN_REPORT]


def test_duplicate_institution_name_is_high_school_then_college() -> None:
    header = tuple(
        ("Institution Name", field) if field.endswith("institution_name") else (label, field)
        for label, field in K12_HEADER + TXT_ONLY
    )
    assert read_text(k12_csv([ANA], header=header)) == [ANA_REPORT]


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_or_without_bom(prefix: bytes) -> None:
    data = prefix + k12_csv([ANA]).encode("utf-8")
    assert list(read_csv(io.BytesIO(data))) == [ANA_REPORT]


def test_latin1_fallback() -> None:
    assert read_text(k12_csv([ANA]), encoding="latin-1") == [ANA_REPORT]


def test_str_lines_tabs_and_paths(tmp_path: Path) -> None:
    text = k12_csv([ANA])
    assert list(read_csv(text.splitlines())) == [ANA_REPORT]
    tabbed = text.replace('","', '"\t"')
    assert list(read_csv(io.BytesIO(tabbed.encode()))) == [ANA_REPORT]
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding="utf-8")
    with read_csv(path) as reader:
        assert reader.format == "csv"
        assert list(reader) == [ANA_REPORT]


def test_spreadsheet_damage_is_repaired() -> None:
    header = (
        ("AP ID", "ap_id"),
        ("Admin Year 01", "admin_year_01"),
        ("Exam Code 01", "exam_code_01"),
        ("Exam Grade 01", "exam_grade_01"),
        ("Irregularity Code #1 01", "irregularity_code_1_01"),
        ("College Code", "college_code"),
        ("AI Code", "hs_ai_code"),
        ("Award Type 1", "award_type_1"),
        ("Award Year 1", "award_year_1"),
        ("Date of Birth", "birth_date"),
        ("Date of this report", "date_of_this_report"),
        ("Date of Last Student Update", "date_of_last_student_update"),
    )
    person = {
        "ap_id": "X1",
        "admin_year_01": "2024",
        "exam_code_01": "7",
        "exam_grade_01": "5",
        "irregularity_code_1_01": "4",
        "college_code": "234",
        "hs_ai_code": "14001",
        "award_type_1": "1",
        "award_year_1": "9",
        "birth_date": "61706",
        "date_of_this_report": "7/9/2024",
        "date_of_last_student_update": "2024-07-01",
    }
    (report,) = read_text(k12_csv([person], header=header))
    assert report.exams == (ExamScore("07", 2024, 5, ("04",)),)
    assert report.di_code == "0234"
    assert report.high_school.code == "014001"
    assert [(a.code, a.year) for a in report.awards] == [("01", 2009)]
    assert report.student.date_of_birth == dt.date(2006, 6, 17)
    assert report.report_date == dt.date(2024, 7, 9)
    assert report.date_updated == dt.date(2024, 7, 1)


def test_college_code_four_or_six_digits() -> None:
    rows = [{**BEN, "college_code": "1234"}, {**BEN, "college_code": "001234"}]
    assert read_text(k12_csv(rows, header=K12_HEADER)) == [BEN_REPORT, BEN_REPORT]


def test_short_rows_are_refused_and_blank_rows_skipped() -> None:
    text = f'"AP ID","Admin Year 01","Exam Code 01","Exam Grade 01",{DATE_LABELS},"Last Name"\r\n'
    text += (
        f'"X1","24","07","5",{DATES},""\r\n,,,,\r\n\r\n,,\r\n"X2","24","20","3",{DATES},"Doe"\r\n'
    )
    first, second = read_text(text)
    assert (first.ap_id, first.student.last_name) == ("X1", "")
    assert (second.ap_id, second.student.last_name) == ("X2", "Doe")
    cut = text.replace(f'{DATES},""', DATES)  # a row cut short is never padded back
    with pytest.raises(ParseError, match="6 cells, the header 7: a row cut short") as caught:
        read_text(cut)
    assert caught.value.line == 2
    reader = read_csv(io.BytesIO(cut.encode()), errors="collect")
    assert [r.ap_id for r in reader] == ["X2"]
    assert [e.line for e in reader.errors] == [2]


def test_missing_required_columns_lists_missing_and_found() -> None:
    text = "AP ID,Last Name,Exam Code 01\r\n1,Doe,07\r\n"
    with pytest.raises(MissingColumnsError) as caught:
        read_text(text)
    error = caught.value
    assert error.missing == [
        "Admin Year 01",
        "Exam Grade 01",
        "Date of Last Student Update",
        "Date of this report",
    ]
    assert error.found == ["AP ID", "Last Name", "Exam Code 01"]
    message = str(error)
    assert "Admin Year 01, Exam Grade 01, Date of Last Student Update" in message
    assert "AP ID, Last Name, Exam Code 01" in message
    with pytest.raises(MissingColumnsError, match="AP Number / AP ID"):
        read_text("Name,Admin Year 01,Exam Code 01,Exam Grade 01\r\n")
    with pytest.raises(MissingColumnsError):  # raised up front, in collect mode too
        read_csv(io.BytesIO(text.encode()), errors="collect")


def test_missing_columns_closes_a_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("AP ID,Name\r\n", encoding="utf-8")
    with pytest.raises(MissingColumnsError):
        read_csv(path)


def test_empty_files_are_refused() -> None:
    for text in ("", "\r\n\r\n", ",,,\r\n"):
        with pytest.raises(EmptyFileError):
            read_csv(io.BytesIO(text.encode()), errors="collect")


def test_bad_values_and_collect_mode() -> None:
    rows = [
        ANA,
        {**BEN, **exam(1, "24", "07", "9")},
        {**BEN, "birth_date": "1/x/2020"},
        {**BEN, **exam(1, "202", "07", "5")},
        BEN,
    ]
    text = k12_csv(rows)
    with pytest.raises(ParseError) as caught:
        read_text(text)
    assert (caught.value.line, caught.value.field, caught.value.raw) == (3, "exam_grade_01", "9")
    reader = read_csv(io.BytesIO(text.encode()), errors="collect")
    assert list(reader) == [ANA_REPORT, BEN_REPORT]
    assert [(e.line, e.field) for e in reader.errors] == [
        (3, "exam_grade_01"),
        (4, "birth_date"),
        (5, "admin_year_01"),
    ]


def test_multiline_quoted_value_is_refused_and_keeps_line_numbers() -> None:
    # A line break is a control character: no score-file value holds one (issue 23).
    text = f'"AP ID","Admin Year 01","Exam Code 01","Exam Grade 01",{DATE_LABELS},'
    text += '"DI Street Address 1"\r\n'
    text += f'"X1","24","07","5",{DATES},"line one\nline two"\r\n'
    text += f'"X2","2x","07","5",{DATES},""\r\n"X3","24","07","5",{DATES},"ok"\r\n'
    reader = read_csv(io.BytesIO(text.encode()), errors="collect")
    (report,) = list(reader)
    assert report.ap_id == "X3"
    assert [(e.line, e.field) for e in reader.errors] == [
        (2, "college_street_address_1"),
        (4, "admin_year_01"),
    ]
    assert "U+000A" in str(reader.errors[0])


def test_header_normalisation() -> None:
    assert normalise_header("Irregularity Code #1 01") == "irregularitycode101"
    assert normalise_header("IRREGULARITY_CODE_#1_01") == "irregularitycode101"
    assert normalise_header("Irregularity Code .1 01") == "irregularitycode101"
    assert normalise_header("AP Number / AP ID") == "apnumberapid"


def test_write_csv_header_is_canonical() -> None:
    out = io.BytesIO()
    assert write_csv([ANA_REPORT], out) == 1
    header = out.getvalue().split(b"\r\n", 1)[0].decode()
    assert header.startswith('"AP Number / AP ID","Last Name","First Name"')
    assert '"Irregularity Code #1 01"' in header
    assert '"Exam Suppression Flag 30"' in header
    assert '"Order Institution Key"' in header
    assert next(iter(CANONICAL_HEADERS.values())) == "AP Number / AP ID"
    assert "ssn_filler" not in CANONICAL_HEADERS
    assert list(read_csv(io.BytesIO(out.getvalue()))) == [ANA_REPORT]


def test_write_csv_empty_and_to_path(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert write_csv([], path) == 0
    assert list(read_csv(path)) == []
    assert write_csv(iter([BEN_REPORT, attrs.evolve(BEN_REPORT, ap_id="B2")]), path) == 2
    assert [r.ap_id for r in read_csv(path)] == ["00000042", "B2"]


def _reference(text: str) -> list[ScoreReport]:
    """Each row read field by field through the shared builder."""
    rows = list(csv.reader(io.StringIO(text)))
    columns = map_columns(rows[0])
    return [_parse_row_slowly(row, columns, n) for n, row in enumerate(rows[1:], 2)]


@pytest.mark.slow
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(reports(), min_size=1, max_size=3))
def test_fast_path_agrees_with_the_slow_reference(written: list[ScoreReport]) -> None:
    out = io.BytesIO()
    write_csv(written, out, raw=True)
    text = out.getvalue().decode("utf-8")
    assert read_text(text) == _reference(text) == written


def test_caches_are_bounded_and_still_correct(monkeypatch: pytest.MonkeyPatch) -> None:
    import apscores.files._speed.cache

    monkeypatch.setattr(apscores.files._speed.cache, "LIMIT", 2)
    rows = []
    for n in range(6):
        day = f"{n + 1:02d}"
        rows.append(
            {
                **ANA,
                "ap_id": f"ID{n}",
                "birth_date": f"01{day}05",
                "education_level": str(n),
                **exam(1, "24", "07", str(n % 5 + 1)),
                "award_year_1": day,
                "previous_ai_code_1": f"{n}",
                "hs_ai_code": f"10000{n}",
                "college_code": f"100{n}",
                "service_code": day,
            }
        )
    text = k12_csv(rows + rows)
    expected = _reference(text)
    assert read_text(text) == expected
    assert expected[3].student.date_of_birth == dt.date(2005, 1, 4)
    assert expected[2].previous_schools[0].code == "000002"


def test_a_row_with_several_bad_fields_reports_the_reference_first() -> None:
    bad = [
        {**BEN, **exam(1, "24", "07", "9"), "birth_date": "99/99/99", "award_type_1": "01"},
        {**BEN, "birth_date": "x", "award_type_1": "01", "previous_ai_year_1": "x"},
        {**BEN, "date_of_this_report": "1", "birth_date": "2", "award_year_2": "3"},
    ]
    for row in bad:
        text = k12_csv([row])
        with pytest.raises(ParseError) as fast:
            read_text(text)
        with pytest.raises(ParseError) as slow:
            _reference(text)
        assert (fast.value.line, fast.value.field, fast.value.raw) == (
            slow.value.line,
            slow.value.field,
            slow.value.raw,
        )


def test_latin1_header_and_a_blank_ap_id() -> None:
    header = f"AP ID,Admin Year 01,Exam Code 01,Exam Grade 01,{DATE_LABELS},Remarque é\r\n"
    data = (header + f"X1,24,07,5,{DATES},\r\n , 24,07,5,{DATES},x\r\n").encode("latin-1")
    reader = read_csv(io.BytesIO(data), errors="collect")
    assert [report.ap_id for report in reader] == ["X1"]
    assert [(e.line, e.field) for e in reader.errors] == [(3, "ap_id")]
