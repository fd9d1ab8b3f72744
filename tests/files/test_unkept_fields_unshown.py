"""What the records never keep, an error never shows: the social security numbers that TXT
files before July 2018 hold in columns 148-156 (file-layout.md §1.5: "a reader should treat
a non-blank value there as sensitive"), and the CSV columns the reader does not read. A
damaged line still names its line and field; its ``raw`` and message leave those out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _golden import BEN, k12_csv, txt_line
from apscores.errors import ParseError
from apscores.files import check_file, read_csv, read_txt
from apscores.tables import txt_to_arrow

SSN = "918273645"


def _old_line(**values: str) -> bytes:
    """A 910-column record (before July 2016) with an SSN in columns 148-156."""
    return txt_line({**BEN, "ssn_filler": SSN, **values})[:910] + b"\n"


def _errors(data: bytes) -> list[ParseError]:
    found: list[ParseError] = []
    with pytest.raises(ParseError) as typed:
        list(read_txt(data))
    found.append(typed.value)
    with pytest.raises(ParseError) as columnar:
        txt_to_arrow(data)
    found.append(columnar.value)
    with read_txt(data, errors="collect") as reader:
        list(reader)
    found.extend(reader.errors)
    return found


def _unseen(error: ParseError, secret: str) -> None:
    for text in (str(error), repr(error), error.raw, *map(str, error.args)):
        assert secret[:5] not in text  # not even a damaged part of it
        assert secret[-4:] not in text


@pytest.mark.parametrize("byte", [b"\x85", b"\x00", b"\x7f"])
def test_a_control_byte_in_the_ssn_columns_is_refused_without_the_ssn(byte: bytes) -> None:
    line = _old_line()
    damaged = line[:150] + byte + line[151:]
    for error in _errors(damaged):
        assert (error.line, error.field) == (1, "ssn_filler")
        assert f"0x{byte[0]:02X}" in str(error)
        _unseen(error, SSN)


@settings(max_examples=40, deadline=None)
@given(st.integers(160, 885), st.sampled_from([b"", b"X" * 45, b"\r" + BEN["ap_id"].encode()]))
def test_a_cut_or_too_long_old_line_keeps_no_ssn(cut: int, tail: bytes) -> None:
    line = _old_line().rstrip(b"\n")
    data = (line[:cut] if not tail else line + tail) + b"\n"
    for error in _errors(data):
        assert error.line == 1
        _unseen(error, SSN)
    try:  # the download check frames lines only: a CR inside a record is the reader's
        check_file(io.BytesIO(data), "txt")
    except ParseError as checked:
        _unseen(checked, SSN)


def test_a_control_character_in_a_csv_column_not_read_is_not_shown() -> None:
    header = (
        ("AP Number", "ap_id"),
        ("Social Security Number", "ssn"),
        ("Last Name", "last_name"),
        ("Admin Year 01", "admin_year_01"),
        ("Exam Code 01", "exam_code_01"),
        ("Exam Grade 01", "exam_grade_01"),
        ("Date of Last Student Update", "date_of_last_student_update"),
        ("Date of this report", "date_of_this_report"),
    )
    person = {**BEN, "ssn": "91827\x853645"}
    text = k12_csv([person], header=header)
    with pytest.raises(ParseError) as caught:
        list(read_csv(io.BytesIO(text.encode("utf-8"))))
    assert (caught.value.line, caught.value.field) == (2, "column 2")
    assert "U+0085" in str(caught.value)
    _unseen(caught.value, SSN)
    # A column the reader reads still shows what it found: that is how it is fixed.
    person = {**BEN, "ssn": "", "last_name": "Ok\x85afor"}
    with pytest.raises(ParseError) as named:
        list(read_csv(io.BytesIO(k12_csv([person], header=header).encode("utf-8"))))
    assert named.value.field == "last_name"
    assert named.value.raw == "Ok\x85afor"


def test_a_too_long_line_is_named_without_the_students_details(tmp_path: Path) -> None:
    """As a truncated record's message never shows the line (it holds a student's
    details), a too-long line's does not either: its message reaches logs (the download
    check, ``fetch``'s summary, a command's one line on stderr). ``raw`` keeps it."""
    line = txt_line(BEN).rstrip(b"\n")
    data = line + b"XYZ\n" + line + b"\n"
    surname = BEN["last_name"]
    path = tmp_path / "scores.txt"
    path.write_bytes(data)
    found = [*_errors(data)]
    with pytest.raises(ParseError) as checked:
        check_file(path, "txt")
    found.append(checked.value)
    long_row = b"AP ID,Last Name\n1234ABCD," + surname.encode() + b"x" * 300_000 + b"\n"
    with pytest.raises(ParseError) as csv_long:
        list(read_csv(long_row))
    found.append(csv_long.value)
    for error in found:
        assert error.line in (1, 2)
        assert surname not in str(error)
        assert surname not in repr(error)
        assert "columns" in str(error) or "bytes long" in str(error)
    assert found[0].raw.startswith(line[:40].decode("latin-1"))  # kept for the caller
    assert str(path) in str(checked.value)
