"""Strict values (issue 23): control bytes anywhere in a record or a cell are an error naming
the line and the field, with a hint for Windows-1252 and UTF-8 text; a grade is a digit or
a space; codes a spreadsheet turned into numbers are refused; the same on every Python."""

from __future__ import annotations

import io

import pytest

from _golden import ANA, ANA_REPORT, txt_line
from apscores.errors import ParseError
from apscores.files import read_csv, read_txt, write_csv
from apscores.files._check import check_file

HEADER = (
    '"AP ID","Admin Year 01","Exam Code 01","Exam Grade 01","DI Code","Last Name",'
    '"Date of Last Student Update","Date of this report"\r\n'
)
#: The two dates every record carries: the last cells of each row below.
DATES = ',"070124","070924"'


def _csv_error(row: str) -> ParseError:
    reader = read_csv((HEADER + row + DATES + "\r\n").encode("utf-8"), errors="collect")
    assert list(reader) == []
    (error,) = reader.errors
    return error


def _txt_error(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as caught:
        list(read_txt(data))
    return caught.value


@pytest.mark.parametrize(
    ("value", "byte", "hint"),
    [
        ("O\x92Brien", "0x92", "Windows-1252"),  # the Windows-1252 apostrophe
        ("O\u2019Brien".encode().decode("latin-1"), "0x80", "UTF-8"),  # ’ as UTF-8
        ("Mu\x00oz", "0x00", ""),
        ("Mu\x7foz", "0x7F", ""),
        ("Mu\x0coz", "0x0C", ""),
    ],
)
def test_txt_control_bytes_name_line_field_and_a_hint(value: str, byte: str, hint: str) -> None:
    error = _txt_error(txt_line(ANA) + txt_line({**ANA, "last_name": value}))
    assert (error.line, error.field) == (2, "last_name")
    assert f"a control byte ({byte})" in error.reason
    assert hint in error.reason


@pytest.mark.parametrize("grade", ["\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\t"])
def test_a_grade_is_a_digit_or_a_space(grade: str) -> None:
    error = _txt_error(txt_line({**ANA, "exam_grade_01": grade}))
    assert (error.line, error.field) == (1, "exam_grade_01")


def test_a_grade_of_a_space_is_no_score() -> None:
    (report,) = read_txt(txt_line({**ANA, "exam_grade_01": " "}))
    assert report.exams[0].score is None


@pytest.mark.parametrize(
    ("cell", "code"),
    [("Mu\x00oz", "U+0000"), ("Mu\toz", "U+0009"), ("O\x92Brien", "U+0092"), ("A\x7f", "U+007F")],
)
def test_csv_control_characters_name_the_cell(cell: str, code: str) -> None:
    error = _csv_error(f'"X1","24","07","5","001234","{cell}"')
    assert (error.line, error.field) == (2, "last_name")
    assert code in error.reason
    if code == "U+0092":
        assert "Windows-1252" in error.reason


def test_nul_in_a_csv_cell_is_refused_by_the_check_too() -> None:
    data = (HEADER + '"X1","24","07","5","001234","Mu\x00oz"' + DATES + "\r\n").encode()
    reader = read_csv(data, errors="collect")
    assert list(reader) == []
    assert reader.errors[0].field == "last_name"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ('"1.23E+08","24","07","5","001234","Ana"', "ap_id"),
        ('"X1","24","07","5","1E+05","Ana"', "college_code"),
        ('"X1","24","90.0","5","001234","Ana"', "exam_code_01"),
        ('"X1","24.0","07","5","001234","Ana"', "admin_year_01"),
    ],
)
def test_spreadsheet_numbers_are_an_error_naming_the_cell(row: str, field: str) -> None:
    error = _csv_error(row)
    assert (error.line, error.field) == (2, field)
    assert "spreadsheet" in error.reason


def test_codes_with_letters_are_not_spreadsheet_numbers() -> None:
    reader = read_csv(
        (HEADER + '"12E45678","24","07","5","001234","Ana"' + DATES + "\r\n").encode()
    )
    assert [r.ap_id for r in reader] == ["12E45678"]


def test_ctrl_z_at_the_end_is_dropped_in_both_formats() -> None:
    txt = txt_line(ANA)
    assert list(read_txt(txt + b"\x1a")) == [ANA_REPORT]
    assert list(read_txt(txt.rstrip(b"\n") + b"\x1a")) == [ANA_REPORT]
    out = io.BytesIO()
    write_csv([ANA_REPORT], out)
    assert list(read_csv(out.getvalue() + b"\x1a")) == [ANA_REPORT]
    assert list(read_csv(out.getvalue().rstrip(b"\r\n") + b"\x1a")) == [ANA_REPORT]


def test_the_check_frames_and_leaves_control_bytes_to_the_reader() -> None:
    # A control byte would not change by downloading again: the check reads no value.
    data = txt_line(ANA) + txt_line({**ANA, "last_name": "Mu\x00oz"})
    assert check_file(io.BytesIO(data)).records == 2
    with pytest.raises(ParseError, match=r"line 2, field 'last_name': a control byte"):
        list(read_txt(data))
