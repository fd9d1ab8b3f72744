"""The columnar path over CSV score files (issue 23, item 5), against the reference reading.

- :func:`~apscores.tables._csv_columnar.unsafe_cells` is a superset of what makes the CSV
  value rules differ from the TXT ones: every field text it lets through reads the same
  both ways by :func:`apscores.files._values.convert` (the one value rule).
- The long table of a CSV file read a block at a time equals ``to_arrow(read_csv(...))``,
  and its errors (line, field, message) are ``read_csv``'s, in both error modes, for any
  block size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _damaged_csv import FIELDS, HEADER, ROWS, csv_bytes, damaged_csv_files
from apscores.errors import APScoresError, ParseError
from apscores.files import read
from apscores.files._values import convert
from apscores.files.layout import LAYOUT_950, Field
from apscores.tables import to_arrow
from apscores.tables._columnar import Dictionaries
from apscores.tables._csv_columnar import Refused, csv_blocks, file_parts, unsafe_cells
from apscores.tables._frames import long_schema
from apscores.tables._plan import plan_for

PLAN = plan_for(None)
#: Characters the rules treat specially: digits, blanks, number marks, date separators.
_ALPHABET = list("0123456789 \xa0.+-eE/:xA")


def _value(field: Field, text: str, lenient: bool) -> tuple[str, Any]:
    try:
        return "value", convert(field, text, 5, lenient)
    except ParseError as error:
        return "error", str(error)


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(FIELDS),
    st.text(st.sampled_from(_ALPHABET), max_size=6),
)
def test_what_unsafe_cells_lets_through_reads_the_same_strictly_and_leniently(
    field: Field, cell: str
) -> None:
    cell = cell[: field.width]
    padded = cell.ljust(field.width)
    record = bytearray(b" " * LAYOUT_950.length)
    record[field.start - 1 : field.end] = padded.encode("latin-1")
    matrix = np.frombuffer(bytes(record), dtype=np.uint8).reshape(1, -1)
    if not unsafe_cells(matrix, PLAN):
        assert _value(field, padded, False) == _value(field, cell, True)


@pytest.mark.parametrize(
    ("name", "cell"),
    [("exam_code_01", "7"), ("admin_year_01", "7"), ("ap_id", "90.0"), ("college_code", "12"),
     ("birth_date", "70924"), ("birth_date", "1/2/03"), ("zip_code", "1E+05")],
)  # fmt: skip
def test_cells_read_otherwise_leniently_are_unsafe(name: str, cell: str) -> None:
    field = next(f for f in FIELDS if f.name == name)
    assert _value(field, cell.ljust(field.width), False) != _value(field, cell, True)
    record = bytearray(b" " * LAYOUT_950.length)
    record[field.start - 1 : field.start - 1 + len(cell)] = cell.encode("latin-1")
    assert unsafe_cells(np.frombuffer(bytes(record), dtype=np.uint8).reshape(1, -1), PLAN)


def _errors(found: list[ParseError]) -> list[tuple[Any, ...]]:
    return [(e.line, e.field, str(e)) for e in found]


def _reference(path: Path, collect: bool) -> tuple[str, Any, list[tuple[Any, ...]]]:
    try:
        with read(path, errors="collect" if collect else "raise") as reader:
            table = to_arrow(reader)
            return "table", table, _errors(reader.errors)
    except APScoresError as error:
        return "error", (type(error).__name__, str(error)), []


def _columnar(path: Path, collect: bool, chunk: int) -> tuple[str, Any, list[tuple[Any, ...]]]:
    import pyarrow as pa

    dictionaries = Dictionaries()
    found: list[ParseError] = []
    schema = long_schema()
    try:
        parts = list(
            file_parts(path, dictionaries, chunk_lines=chunk, collect=collect, problems=found)
        )
    except APScoresError as error:
        return "error", (type(error).__name__, str(error)), []
    batches = [dictionaries.batch(part, schema) for part in parts]
    return "table", pa.Table.from_batches(batches, schema=schema), _errors(found)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_csv_files(), st.booleans(), st.sampled_from([1, 3, 50]))
def test_the_same_table_and_errors_in_both_modes(data: bytes, collect: bool, chunk: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.csv"
        path.write_bytes(data)
        kind, expected, errors = _reference(path, collect)
        found = _columnar(path, collect, chunk)
    assert found[0] == kind
    if kind == "table":
        assert found[1].equals(expected)
        assert found[2] == errors
    else:
        assert found[1] == expected


def test_collect_mode_skips_the_bad_rows_of_a_refused_block(tmp_path: Path) -> None:
    rows = [list(row) for row in ROWS[:30]]
    rows[4][FIELDS.index(next(f for f in FIELDS if f.name == "exam_code_01"))] = "90.0"
    rows[11] = rows[11][:10]
    path = tmp_path / "two-bad.csv"
    path.write_bytes(csv_bytes(HEADER, rows))
    kind, table, errors = _columnar(path, True, 5)
    assert (kind, table, errors) == _reference(path, True)
    assert [(line, field) for line, field, _ in errors] == [(6, "exam_code_01"), (13, None)]
    assert "spreadsheet" in errors[0][2]


def test_a_refused_block_reads_its_records_the_reference_way(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    rows = [list(row) for row in ROWS[:3]]
    rows[1][0] = "1.23E+08"
    path.write_bytes(csv_bytes(HEADER, rows))
    from apscores.tables._csv_columnar import open_csv

    opened = open_csv(path, None)
    try:
        (block,) = csv_blocks(opened, Dictionaries(), chunk_lines=10)
        assert isinstance(block, Refused)
        found: list[ParseError] = []
        records = list(block.records(True, found))
        assert [r.ap_id for r in records] == [rows[0][0], rows[2][0]]
        assert _errors(found)[0][:2] == (3, "ap_id")
        with pytest.raises(ParseError, match="spreadsheet"):
            list(block.records())
    finally:
        opened.close()


@pytest.mark.parametrize(
    "data",
    [b"\r\r\n", b"\r", b"\n"],
    ids=["CR CR LF", "CR", "LF"],
)
def test_line_endings_in_collect_mode(tmp_path: Path, data: bytes) -> None:
    """The audit's mixed endings: rows joined by a lone CR, or ending CR CR LF, collected
    as ``read_csv`` collects them."""
    lines = csv_bytes(HEADER, ROWS[:8]).split(b"\r\n")
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(lines[:4]) + data + b"\r\n".join(lines[4:]))
    for chunk in (1, 3, 50):
        assert _columnar(path, True, chunk) == _reference(path, True)
