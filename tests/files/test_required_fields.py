"""The fields every record carries are required (issue 23).

College Board's 2023 layout marks *Date of last student update* (TXT columns 875-880) and
*Date of this report* (881-886) "Optional: No"; the AP ID (1-8) is the record's key. A
record where one is blank is a ``ParseError`` naming the line and the field, in both
formats and both error modes; the writers refuse a report without the dates, so written
files always read back equal. Only the public API is used here: these tests outlive any
rewrite of the readers' internals.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _golden import ANA_REPORT, BEN_REPORT, reports
from apscores.errors import MissingColumnsError, ParseError, UnwritableRecordError
from apscores.files import read_csv, read_txt, write_csv, write_txt
from apscores.models import ScoreReport

#: Field -> (first, last TXT column, 1-based, as College Board's tables give them; the CSV
#: header write_csv gives it; the model attribute).
REQUIRED = {
    "ap_id": (1, 8, "AP Number / AP ID", "ap_id"),
    "date_of_last_student_update": (875, 880, "Date of Last Student Update", "date_updated"),
    "date_of_this_report": (881, 886, "Date of this report", "report_date"),
}
DATES = ("date_of_last_student_update", "date_of_this_report")
MESSAGES = {
    "ap_id": "the AP ID is blank",
    "date_of_last_student_update": (
        "the Date of last student update is blank: every record carries it"
    ),
    "date_of_this_report": "the Date of this report is blank: every record carries it",
}
#: Enough students for the TXT reader's bulk blocks; each of the two repeats many times.
PEOPLE = [
    attrs.evolve(r, ap_id=f"{r.ap_id[:4]}{n:04d}")
    for n in range(40)
    for r in (ANA_REPORT, BEN_REPORT)
]


def txt(people: list[ScoreReport], newline: str = "\n") -> bytes:
    out = io.BytesIO()
    write_txt(people, out, newline=newline)
    return out.getvalue()


def csv_bytes(people: list[ScoreReport]) -> bytes:
    out = io.BytesIO()
    write_csv(people, out, raw=True)
    return out.getvalue()


def blank_txt(data: bytes, lines: set[int], field: str, newline: str = "\n") -> bytes:
    """Blank ``field`` (spaces) on the given 1-based lines of a written TXT file."""
    first, last, _, _ = REQUIRED[field]
    rows = data.split(newline.encode())
    for number in lines:
        row = rows[number - 1]
        rows[number - 1] = row[: first - 1] + b" " * (last - first + 1) + row[last:]
    return newline.encode().join(rows)


def blank_csv(data: bytes, lines: set[int], field: str, cell: str = "") -> bytes:
    """Put ``cell`` in ``field``'s column on the given 1-based lines (line 1 is the header)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    at = rows[0].index(REQUIRED[field][2])
    for number in lines:
        rows[number - 1][at] = cell
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def damaged(fmt: str, field: str, lines: set[int]) -> bytes:
    """PEOPLE written in ``fmt`` with ``field`` blanked on the given record numbers."""
    if fmt == "txt":
        return blank_txt(txt(PEOPLE), lines, field)
    return blank_csv(csv_bytes(PEOPLE), {n + 1 for n in lines}, field)


READERS = {"txt": read_txt, "csv": read_csv}


@pytest.mark.parametrize("fmt", ["txt", "csv"])
@pytest.mark.parametrize("field", DATES)
def test_a_blank_required_date_is_an_error_naming_line_and_field(fmt: str, field: str) -> None:
    data = damaged(fmt, field, {3})
    line = 3 if fmt == "txt" else 4  # the CSV header is line 1
    with pytest.raises(ParseError) as caught:
        list(READERS[fmt](data))
    error = caught.value
    assert (error.line, error.field, error.raw) == (line, field, "")
    assert error.reason == MESSAGES[field]
    assert str(error) == f"line {line}, field {field!r}: {MESSAGES[field]}"


@pytest.mark.parametrize("fmt", ["txt", "csv"])
@pytest.mark.parametrize("field", DATES)
def test_collect_mode_skips_each_record_without_a_date(fmt: str, field: str) -> None:
    # The blank date is met again after it was first seen (a reader that caches the
    # parts of records by their bytes must still refuse it each time).
    lines = {2, 4, 61, len(PEOPLE)}
    reader = READERS[fmt](damaged(fmt, field, lines), errors="collect")
    kept = list(reader)
    assert kept == [r for n, r in enumerate(PEOPLE, 1) if n not in lines]
    offset = 0 if fmt == "txt" else 1
    assert [(e.line, e.field) for e in reader.errors] == [
        (n + offset, field) for n in sorted(lines)
    ]
    assert {e.reason for e in reader.errors} == {MESSAGES[field]}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_txt_both_dates_blank_names_the_first_in_file_order(newline: str) -> None:
    data = txt(PEOPLE, newline)
    for field in DATES:
        data = blank_txt(data, {5}, field, newline)
    reader = read_txt(data, errors="collect")
    assert len(list(reader)) == len(PEOPLE) - 1
    assert [(e.line, e.field) for e in reader.errors] == [(5, "date_of_last_student_update")]


@pytest.mark.parametrize("fmt", ["txt", "csv"])
def test_a_blank_ap_id_keeps_its_own_message(fmt: str) -> None:
    with pytest.raises(ParseError) as caught:
        list(READERS[fmt](damaged(fmt, "ap_id", {1})))
    assert (caught.value.field, caught.value.reason) == ("ap_id", "the AP ID is blank")


def test_a_csv_date_of_spaces_is_blank() -> None:
    data = blank_csv(csv_bytes(PEOPLE[:3]), {3}, "date_of_this_report", "   ")
    reader = read_csv(data, errors="collect")
    assert [r.ap_id for r in reader] == [PEOPLE[0].ap_id, PEOPLE[2].ap_id]
    assert [(e.line, e.field, e.raw) for e in reader.errors] == [(3, "date_of_this_report", "")]


def test_a_csv_header_without_the_dates_lacks_required_columns() -> None:
    rows = list(csv.reader(io.StringIO(csv_bytes(PEOPLE[:2]).decode("utf-8"))))
    keep = [i for i, label in enumerate(rows[0]) if label != "Date of this report"]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([[row[i] for i in keep] for row in rows])
    for errors in ("raise", "collect"):  # raised up front, in both modes
        with pytest.raises(MissingColumnsError) as caught:
            read_csv(out.getvalue().encode(), errors=errors)
        assert caught.value.missing == ["Date of this report"]


# --- any record, any required field, any line ----------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    people=st.lists(reports(), min_size=1, max_size=6),
    field=st.sampled_from(sorted(REQUIRED)),
    fmt=st.sampled_from(["txt", "csv"]),
    data=st.data(),
)
def test_any_blank_required_field_is_refused_and_the_rest_read(
    people: list[ScoreReport], field: str, fmt: str, data: st.DataObject
) -> None:
    lines = data.draw(st.sets(st.integers(1, len(people)), min_size=1), label="blanked")
    if fmt == "txt":
        damaged_file = blank_txt(txt(people), lines, field)
        offset = 0
    else:
        damaged_file = blank_csv(csv_bytes(people), {n + 1 for n in lines}, field)
        offset = 1
    first = min(lines) + offset
    with pytest.raises(ParseError) as caught:
        list(READERS[fmt](damaged_file))
    assert (caught.value.line, caught.value.field) == (first, field)
    assert caught.value.reason == MESSAGES[field]
    reader = READERS[fmt](damaged_file, errors="collect")
    assert list(reader) == [r for n, r in enumerate(people, 1) if n not in lines]
    assert [(e.line, e.field, e.reason) for e in reader.errors] == [
        (n + offset, field, MESSAGES[field]) for n in sorted(lines)
    ]


# --- the writers --------------------------------------------------------------------------


@pytest.mark.parametrize("write", [write_txt, write_csv])
@pytest.mark.parametrize("field", DATES)
def test_the_writers_refuse_a_report_without_a_required_date(
    write: object, field: str, tmp_path: Path
) -> None:
    attribute = REQUIRED[field][3]
    bad: ScoreReport = attrs.evolve(BEN_REPORT, **{attribute: None})  # type: ignore[arg-type]
    path = tmp_path / "scores.out"
    path.write_bytes(b"before")
    with pytest.raises(UnwritableRecordError) as caught:
        write([ANA_REPORT, bad], path)  # type: ignore[operator]
    message = str(caught.value)
    assert f"AP ID {BEN_REPORT.ap_id!r}" in message
    assert attribute in message
    assert repr(field) in message
    assert path.read_bytes() == b"before"  # a path is left untouched


@pytest.mark.parametrize("write", [write_txt, write_csv])
def test_the_date_released_stays_optional(write: object) -> None:
    report = attrs.evolve(ANA_REPORT, date_released=None)
    out = io.BytesIO()
    write([report], out)  # type: ignore[operator]
    reader = read_txt if write is write_txt else read_csv
    assert list(reader(out.getvalue())) == [report]
    assert report.date_updated == dt.date(2024, 7, 1)


@pytest.mark.parametrize("fmt", ["txt", "csv"])
@pytest.mark.parametrize("field", DATES)
def test_a_blank_optional_date_seen_first_lets_no_blank_required_date_pass(
    fmt: str, field: str
) -> None:
    """Every date of a line is looked up in one cache: a blank *Date grades released*
    (optional, read first on every line) must not vouch for a blank required date."""
    people = [attrs.evolve(person, date_released=None) for person in PEOPLE]
    if fmt == "txt":
        data = blank_txt(txt(people), {30}, field)
    else:
        data = blank_csv(csv_bytes(people), {31}, field)
    with pytest.raises(ParseError) as raised:
        list(READERS[fmt](io.BytesIO(data)))
    assert (raised.value.line, raised.value.field) == (30 if fmt == "txt" else 31, field)
    assert MESSAGES[field] in str(raised.value)
