"""A student's own details (names, address, birth date: every field filling ``student.*``)
never appear in an error's message, which may reach stderr and a log; the error still names
the line and field, and keeps the text in ``raw`` for the program that reads it. A field
that is no one's details (a grade, a year) still quotes what was found."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _golden import BEN, BEN_REPORT, exam, k12_csv, txt_line
from apscores.errors import ParseError, UnwritableRecordError
from apscores.files import read_csv, read_txt, write_csv, write_txt
from apscores.files.layout import LAYOUT_950
from apscores.models import Student
from apscores.tables import txt_to_arrow

PERSONAL = sorted(f.name for f in LAYOUT_950.fields if f.personal)


def test_the_personal_fields_are_the_students_own() -> None:
    assert {"last_name", "first_name", "birth_date", "zip_code", "street_address_1"} <= set(
        PERSONAL
    )
    assert not {"ap_id", "college_code", "exam_grade_01", "admin_year_01"} & set(PERSONAL)


def _txt_errors(data: bytes) -> list[ParseError]:
    found: list[ParseError] = []
    for run in (lambda: list(read_txt(data)), lambda: txt_to_arrow(data)):
        with pytest.raises(ParseError) as caught:
            run()
        found.append(caught.value)
    with read_txt(data, errors="collect") as reader:
        list(reader)
    return [*found, *reader.errors]


def _unseen(error: ParseError, secret: str) -> None:
    assert secret not in str(error)
    assert secret not in repr(error)
    assert "found" not in str(error)


def test_a_bad_birth_date_is_named_not_quoted() -> None:
    data = txt_line({**BEN, "birth_date": "13X506"})
    for error in _txt_errors(data):
        assert (error.line, error.field) == (1, "birth_date")
        assert error.raw == "13X506"  # kept for the program
        _unseen(error, "13X506")


@pytest.mark.parametrize("field", ["last_name", "first_name", "street_address_1", "zip_code"])
def test_a_control_byte_in_a_personal_field_is_named_not_quoted(field: str) -> None:
    data = txt_line({**BEN, field: "Ok\x85afo"})
    for error in _txt_errors(data):
        assert (error.line, error.field) == (1, field)
        assert "0x85" in str(error)
        _unseen(error, "afo")


def test_other_fields_still_quote_what_was_found() -> None:
    data = txt_line({**BEN, **exam(1, "24", "07", "9")})
    (error, *_) = _txt_errors(data)
    assert error.field == "exam_grade_01"
    assert "(found '9')" in str(error)


def test_csv_cells_of_personal_fields_are_named_not_quoted() -> None:
    spreadsheet = k12_csv([{**BEN, "zip_code": "6.27E+08"}])
    with pytest.raises(ParseError) as caught:
        list(read_csv(spreadsheet.splitlines(keepends=True)))
    assert caught.value.field == "zip_code"
    _unseen(caught.value, "6.27E+08")
    control = k12_csv([{**BEN, "last_name": "Oka\x01for"}])
    with pytest.raises(ParseError) as caught:
        list(read_csv(control.splitlines(keepends=True)))
    assert caught.value.field == "last_name"
    _unseen(caught.value, "Oka")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PERSONAL), st.text(alphabet="9X/\x01\x85-.E+", min_size=1, max_size=6))
def test_no_damage_to_a_personal_field_shows_it(field: str, value: str) -> None:
    """Whatever a personal field holds, read as TXT or as a CSV cell, its text stays out
    of the message."""
    width = next(f.width for f in LAYOUT_950.fields if f.name == field)
    value = ("Q" + value)[:width]
    for data in (txt_line({**BEN, field: value}), k12_csv([{**BEN, field: value}])):
        lines = data.splitlines(keepends=True) if isinstance(data, str) else data
        with read_txt(lines) if isinstance(data, bytes) else read_csv(lines) as reader:
            try:
                list(reader)
            except ParseError as error:
                if error.field == field:
                    _unseen(error, value)


def test_the_writers_name_a_personal_field_without_its_value(tmp_path: object) -> None:
    long_name = attrs.evolve(BEN_REPORT, student=Student("Okafor" * 10, "Ben"))
    with pytest.raises(UnwritableRecordError) as caught:
        write_txt([long_name], tmp_path / "a.txt")  # type: ignore[operator]
    assert "'last_name'" in str(caught.value)
    assert "OkaforOkafor" not in str(caught.value)
    greek = attrs.evolve(BEN_REPORT, student=Student("Ωkafor", "Ben"))
    with pytest.raises(UnwritableRecordError) as caught:
        write_txt([greek], tmp_path / "b.txt")  # type: ignore[operator]
    assert "Ωkafor" not in str(caught.value)
    born = attrs.evolve(
        BEN_REPORT, student=Student("Okafor", "Ben", date_of_birth=dt.date(2006, 3, 15))
    )
    write_csv([born], tmp_path / "c.csv")  # type: ignore[operator]
