"""Cuts the framing rules alone let through, for the download check (:mod:`.check`).

A body cut exactly where a trimmed TXT record ends (at or after column 886), or just after
a CSV separator, reads as whole by the usual framing rules: the padding gives back the
trimmed blanks, the empty last cell reads as blank. Neither can be told from a whole file
by what it holds, but each leaves one trace: the file's lines end with a line ending, and
the cut one does not. So, unless the storage host's checksum proved the body complete
(``verified``):

- a last TXT line without a line ending is a cut unless it is whole at full width (950
  columns, or 910 for the older layout) or blank;
- a last CSV row without a line ending is a cut unless its last cell is complete, which
  only a closing quote shows;
- in a CSV that quotes every cell (as College Board does), an empty unquoted last cell is
  a cut, not a blank, in any row;
- a CSV with a header and no record is a cut too (College Board never sends one).

A line ends with LF or CR: a CRLF file cut between the two has its record whole.
What no check sees (a body cut exactly at the end of a line, or a 950-column line cut at
column 910) is listed in ``docs/downloading-safely.md``; the ``ETag`` sees those.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Generic, TypeVar

from apscores.errors import EmptyFileError, ParseError, TruncatedRecordError
from apscores.files._csv_columns import delimiter, map_columns
from apscores.files._csv_rows import check_row as _check_row
from apscores.files._csv_rows import csv_error as _csv_error
from apscores.files._csv_rows import decode as _decode
from apscores.files._framing import BLANK
from apscores.files._sources import Line, peek
from apscores.files.blocks import Block, Piece
from apscores.files.layout import (
    EXAM_BLOCK_COUNT,
    LAYOUTS,
    Layout,
    chosen,
    layout_for_length,
)

__all__ = ["LastPiece", "Tail", "frame_rows", "refuse_cut_line"]

L = TypeVar("L", bytes, str)

_BLANK_BYTES = BLANK.encode("ascii")


class Tail(Generic[L]):
    """Lines passing through, unchanged; remembers how many went by and the last one."""

    def __init__(self, lines: Iterator[L]) -> None:
        self._lines: Iterator[L] = lines
        self.count = 0
        self.last: L | None = None

    def __iter__(self) -> Tail[L]:
        return self

    def __next__(self) -> L:
        line: L = next(self._lines)
        self.count += 1
        self.last = line
        return line

    @property
    def unterminated(self) -> L | None:
        """The last line if it lacks a line ending (LF or CR), else None."""
        last = self.last
        if last is None or last[-1:] in ("\n", "\r", b"\n", b"\r"):
            return None
        return last


class LastPiece:
    """The block reader's pieces passing through, unchanged; remembers the last one, to
    tell the file's last line (:meth:`tail`)."""

    def __init__(self, pieces: Iterator[Piece]) -> None:
        self._pieces = pieces
        self.last: Piece | None = None

    def __iter__(self) -> LastPiece:
        return self

    def __next__(self) -> Piece:
        self.last = next(self._pieces)
        return self.last

    def tail(self) -> Tail[bytes]:
        """The file's last line (with its ending, if it has one) and its number."""
        tail: Tail[bytes] = Tail(iter(()))
        last = self.last
        if isinstance(last, Block):
            data = last.data
            start = data.rfind(last.ending, 0, len(data) - 1) + 1
            tail.count, tail.last = last.first + last.lines - 1, data[start:]
        return tail


def refuse_cut_line(tail: Tail[bytes], name: str | None, layout: Layout | None = None) -> None:
    """The TXT rule: a last line without a line ending must be whole (or blank): as long
    as ``layout``, or as either built-in layout."""
    last = tail.unterminated
    if last is None:
        return
    if tail.count == 1:
        last = last.removeprefix(b"\xef\xbb\xbf")
    width = len(last)
    if width == layout_for_length(width, layout).length or not last.strip(_BLANK_BYTES):
        return  # whole, at its layout's length (910 or 950 by default), or blank
    target = chosen(layout)
    field = target.first_cut_field(min(width, target.length - 1)).name
    whole = sorted({layout_for_length(length, layout).length for length in LAYOUTS}, reverse=True)
    lengths = " or ".join(map(str, whole))
    error = TruncatedRecordError(
        f"the file's last line has no line ending and is not a whole record ({lengths} "
        f"columns): the body was cut short (cut in field {field!r})",
        line=tail.count,
        field=field,
        raw="",
        length=width,
    )
    raise error.in_file(name) if name else error


def _refuse(reason: str, line: int, name: str | None) -> ParseError:
    error = ParseError(reason, line=line, field=None, raw="")
    return error.in_file(name) if name else error


def _quotes_every_cell(text: str, cells: list[str], separator: str) -> bool:
    """Whether the header line quotes each of its cells, as College Board's files do."""
    quoted = separator.join('"' + cell.replace('"', '""') + '"' for cell in cells)
    return text.rstrip("\r\n") == quoted


def _ends_quoted(text: str, cell: str) -> bool:
    """Whether a row's last line ends with ``cell`` closed by its quote (so it is whole).

    A cell that spans lines was quoted (strict CSV allows no line break outside quotes)
    and closed (an open quote at the end of the file is an error already).
    """
    if "\n" in cell or "\r" in cell:
        return True
    return text.endswith('"' + cell.replace('"', '""') + '"')


def _ends_open(tail: Tail[str], separator: str) -> bool:
    """Whether the row just read ends with its separator (an empty, unquoted last cell)."""
    return tail.last is not None and tail.last.rstrip("\r\n").endswith(separator)


def frame_rows(
    raw_lines: Iterator[Line], name: str | None = None, *, verified: bool = False
) -> tuple[int, int]:
    """Check the header and that every row is complete (no value is read); returns
    (records, exams). The check a download gets before it is recorded; unless
    ``verified``, the cuts of the module docstring are refused too."""
    long_lines: list[ParseError] = []
    tail = Tail(_decode(raw_lines, long_lines))
    first, lines = peek(tail)
    if first is None:
        raise EmptyFileError(file=name)
    assert isinstance(first, str)
    separator = delimiter(first)
    reader = csv.reader(lines, delimiter=separator, strict=True)  # type: ignore[arg-type]
    records = exams = 0
    header: list[str] | None = None
    codes: list[int] = []
    quote_all = False
    row: list[str] = []
    row_line = 0
    while True:
        line_no = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problem = _csv_error(error, line_no)
            raise problem.in_file(name) if name else problem from None
        if long_lines:
            problem = long_lines.pop(0)
            raise problem.in_file(name) if name else problem
        if not any(cell.strip() for cell in cells):
            continue
        row, row_line = cells, line_no
        if header is None:
            header = cells
            columns = map_columns(header, name)
            codes = [
                columns[f"exam_code_{block:02d}"]
                for block in range(1, EXAM_BLOCK_COUNT + 1)
                if f"exam_code_{block:02d}" in columns
            ]
            quote_all = tail.last is not None and _quotes_every_cell(tail.last, cells, separator)
            continue
        try:
            _check_row(cells, len(header), line_no)
        except ParseError as problem:
            raise problem.in_file(name) if name else problem from None
        if quote_all and not verified and cells[-1] == "" and _ends_open(tail, separator):
            raise _refuse(
                "the last cell is empty and unquoted in a file that quotes every cell: "
                "the row was cut after its last separator",
                line_no,
                name,
            )
        records += 1
        exams += sum(bool(cells[at].strip()) for at in codes)
    if header is None:
        raise EmptyFileError("the file has no header and no records", file=name)
    if verified:
        return records, exams
    cut = tail.unterminated
    if cut is not None and cut.strip() and not _ends_quoted(cut, row[-1]):
        raise _refuse(
            "the file's last row has no line ending and its last cell is not closed by a "
            "quote: the body may have been cut inside it",
            row_line,
            name,
        )
    if records == 0:
        raise EmptyFileError(
            "the file has a header but no records: College Board never sends one "
            "(the body was probably cut after its first line)",
            file=name,
        )
    return records, exams
