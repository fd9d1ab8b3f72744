"""Roster rows out of a CSV or XLSX export, or out of mappings, with their line numbers.

A CSV is decoded by its byte-order mark when it has one (UTF-8, UTF-16), else as UTF-8,
or as the encoding given (Excel's "CSV" is cp1252 on Windows): a byte that does not decode
is an error naming the line and column, never a guess. An XLSX is read with openpyxl (the
``excel`` extra), first sheet only; cells keep their types (dates stay dates).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import gc
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TypeVar

from typing_extensions import ParamSpec

from apscores._extras import optional_module
from apscores.errors import ConfigurationError, RosterError

__all__ = ["Cell", "Row", "bulk", "decode", "rows_from_mappings", "rows_from_path"]

P = ParamSpec("P")
T = TypeVar("T")


def bulk(function: Callable[P, T]) -> Callable[P, T]:
    """Run ``function`` with the cyclic garbage collector paused (and resumed after).

    Reading a roster and indexing it allocate millions of small acyclic objects; the
    collector would walk the growing heap again and again (half of the time at 300k
    rows). Reference counting still frees everything as usual.
    """

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> T:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


#: A cell: text, or a date when the spreadsheet typed it so.
Cell = str | dt.date
#: One data row: its line (the header is line 1), the headers, the cells in their order
#: (a file gives the same headers object for every row).
Row = tuple[int, tuple[str, ...], list[Cell]]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ZIP_MAGIC = b"PK\x03\x04"


def _cell(value: object) -> Cell:
    """An XLSX or mapping value as text (whole numbers without ``.0``), or a date."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode(data: bytes, encoding: str | None, name: str) -> str:
    if encoding is None:
        for bom, codec in _BOMS:
            if data.startswith(bom):
                encoding = codec
                break
    try:
        return data.decode(encoding or "utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        hint = (
            "; an Excel 'CSV' export is usually cp1252: pass --encoding cp1252 "
            "(encoding='cp1252' in Python)"
            if encoding is None
            else ""
        )
        raise RosterError(
            f"byte {data[error.start]:#04x} at character {column} is not "
            f"{encoding or 'UTF-8'}{hint}",
            line=line,
            field=None,
            raw="",
            file=name,
        ) from None
    except LookupError:
        raise ConfigurationError(f"unknown encoding {encoding!r}") from None


def _csv_rows(text: str, name: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return
        headers = tuple(cell.strip() for cell in header)
        for cells in reader:
            if not "".join(cells).strip():
                continue
            if len(cells) > len(headers):
                raise RosterError(
                    f"{len(cells)} cells, the header has {len(headers)}",
                    line=reader.line_num,
                    field=None,
                    raw="",
                    file=name,
                )
            if len(cells) < len(headers):
                cells += [""] * (len(headers) - len(cells))
            yield reader.line_num, headers, cells  # type: ignore[misc]
    except csv.Error as error:
        raise RosterError(str(error), line=reader.line_num, field=None, raw="", file=name) from None


def _openpyxl() -> ModuleType:
    return optional_module(
        "openpyxl", "excel", needed_for="reading an XLSX roster", otherwise="or save it as CSV"
    )


def _xlsx_rows(path: Path) -> Iterator[Row]:
    openpyxl = _openpyxl()
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise RosterError(
            f"not a readable XLSX workbook ({type(error).__name__})",
            line=None,
            field=None,
            raw="",
            file=str(path),
        ) from None
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        first = next(values, None)
        if first is None:
            return
        headers = tuple(str(_cell(value)) for value in first)
        for line, cells in enumerate(values, start=2):
            row = [_cell(value) for value in cells[: len(headers)]]
            if any(value != "" for value in row):
                yield line, headers, row + [""] * (len(headers) - len(row))
    finally:
        workbook.close()


def rows_from_path(path: str | os.PathLike[str], encoding: str | None = None) -> Iterator[Row]:
    """The rows of a CSV or XLSX roster (by content: an XLSX is a zip archive)."""
    path = Path(path)
    data = path.read_bytes()
    if data.startswith(_ZIP_MAGIC):
        yield from _xlsx_rows(path)
    elif path.suffix.lower() == ".xls" or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterError(
            "an Excel 97-2003 workbook: save it as XLSX or CSV",
            line=None,
            field=None,
            raw="",
            file=str(path),
        )
    else:
        yield from _csv_rows(decode(data, encoding, str(path)), str(path))


def rows_from_mappings(rows: Iterable[Mapping[str, object]]) -> Iterator[Row]:
    """Mappings as rows; the first mapping is line 2, as if a header were line 1."""
    for line, mapping in enumerate(rows, start=2):
        headers = tuple(str(key).strip() for key in mapping)
        yield line, headers, [_cell(value) for value in mapping.values()]
