"""The rows of a CSV score file, before any value is read: text lines, cell checks, framing.

Shared by the CSV reader (:mod:`apscores.files._csv`) and the download check
(:func:`apscores.files._cuts.frame_rows`), so both refuse the same rows: lines decoded as
UTF-8 (BOM dropped) or Latin-1, a line too long to hold, a row that does not fit the
header, a cell longer than :data:`MAX_CELL`, and a control character in any cell (NUL
included, the same on every Python version: 3.10's ``csv`` refuses NUL, 3.11+ keeps it).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Iterator

from apscores.errors import ParseError
from apscores.files._sources import Line
from apscores.files.blocks import LongLine

__all__ = [
    "MAX_CELL",
    "NUL",
    "check_cells",
    "check_row",
    "csv_error",
    "decode",
    "has_control",
    "text_of",
]

#: The longest cell a score file may hold. Real values are at most 50 characters (a
#: 2020+ K-12 last name); anything this long is a damaged or foreign file.
MAX_CELL = 4096


#: What a NUL becomes before the ``csv`` module sees it (Python 3.10 refuses NUL, 3.11+
#: keeps it): a noncharacter the cell check then reports as the NUL it stands for.
NUL = "\ufdd0"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ufdd0]")
#: C1 characters Windows-1252 prints (0x92 is its apostrophe).
_CP1252 = frozenset(chr(c) for c in range(0x80, 0xA0)) - {"\x81", "\x8d", "\x8f", "\x90", "\x9d"}


def decode(lines: Iterable[Line], long_lines: list[ParseError] | None = None) -> Iterator[str]:
    """Text lines: UTF-8 (BOM dropped), or Latin-1 for a line that is not valid UTF-8.

    A line too long to hold (:class:`~apscores.files.blocks.LongLine`) becomes an empty
    line, and its error goes to ``long_lines`` for the reading loop to report.
    """
    first = True
    for raw in lines:
        if isinstance(raw, LongLine):
            problem = ParseError(
                f"the line is {raw.length} bytes long: not a row of a score file",
                line=raw.line,
                field=None,
                raw=raw.head.decode("latin-1"),
                show_raw=False,  # a row holds a student's details
            )
            if long_lines is None:
                raise problem
            long_lines.append(problem)
            text = "\n"
        else:
            text = text_of(raw)
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        yield text.replace("\x00", NUL) if "\x00" in text else text


def text_of(raw: Line) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def csv_error(error: csv.Error, line: int) -> ParseError:
    text = str(error)
    if "new-line character" in text:
        reason = "a line break (CR) inside an unquoted cell"
    elif "unexpected end of data" in text:
        reason = "a quoted cell is not closed before the end of the file"
    elif "field larger than field limit" in text:
        reason = f"a cell longer than {MAX_CELL} characters"
    else:
        reason = f"not valid CSV ({text})"
    return ParseError(reason, line=line, field=None, raw="")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`check_cells` refuses."""
    return _CONTROL.search(text) is not None


def check_cells(
    row: list[str], line: int, names: dict[int, str], personal: Collection[int] = ()
) -> None:
    """Refuse a control character in any cell, naming the cell; the text of a cell the
    reader does not read (an old *Social Security Number* column...) is not shown, nor
    that of a ``personal`` one (a student's own details: they may reach a log)."""
    if not has_control("".join(row)):
        return
    for index, cell in enumerate(row):
        found = _CONTROL.search(cell)
        if found is None:
            continue
        char = found.group()
        code = 0 if char == NUL else ord(char)
        hint = ""
        if char in _CP1252:
            hint = "; it looks Windows-1252 encoded: save the file as 'CSV UTF-8'"
        raise ParseError(
            f"a control character (U+{code:04X}) in the cell: not text a score file holds{hint}",
            line=line,
            field=names.get(index, f"column {index + 1}"),
            raw=cell.replace(NUL, "\x00") if index in names else "",
            show_raw=index not in personal,
        )


def check_row(row: list[str], cells: int, line: int) -> None:
    """Refuse a row that does not fit the header, or holds a cell no score file holds."""
    if len(row) != cells:
        if len(row) < cells:
            raise ParseError(
                f"the row has {len(row)} cells, the header {cells}: a row cut short",
                line=line,
                field=None,
                raw="",
            )
        if any(cell.strip() for cell in row[cells:]):
            raise ParseError(
                f"the row has {len(row)} cells, the header {cells}: text beyond the last column",
                line=line,
                field=None,
                raw="",
            )
    if max(map(len, row)) > MAX_CELL:
        raise ParseError(
            f"a cell longer than {MAX_CELL} characters: not a score-file value",
            line=line,
            field=None,
            raw="",
        )
