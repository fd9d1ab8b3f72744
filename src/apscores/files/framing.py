"""Framing TXT lines: where a record starts and ends, and whether it is whole.

The one rule (kept with the layout, :mod:`apscores.files.layout`): after its ending is
removed, a line is a record when it has the layout's length, or is shorter but reaches the
end of *Date of this report* (column 886), the last field every record carries; it is then
padded back (its trailing blanks were trimmed). A shorter line is a
:class:`~apscores.errors.TruncatedRecordError`, a longer one a
:class:`~apscores.errors.ParseError`. A line of exactly 910 columns is the pre-2016 layout.

The reader and the download check (:func:`frame_lines`) share this module, so a file that
passes the check is one the reader frames the same way.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from apscores.errors import ParseError, TruncatedRecordError
from apscores.files import _txt_fast as fast
from apscores.files.layout import LAYOUT_910, LAYOUT_950
from apscores.files.sources import BLOCK, Line, split_lines

__all__ = [
    "BLANK",
    "LENGTH",
    "MIN_LENGTH",
    "Framed",
    "bulk",
    "frame",
    "frame_lines",
    "framed",
    "numbered",
    "plausible_record",
    "truncated_record",
]

LENGTH = LAYOUT_950.length
MIN_LENGTH = LAYOUT_950.min_length  # the same in both layouts (a layout check says so)
BLANK = " \t\x1a\x0c"  # what an empty line may hold (\x1a: the old DOS end-of-file mark)
_BLANK_BYTES = BLANK.encode("ascii")
#: Columns both layouts share (1-900); what a 910 line has beyond them is filler.
_SHARED = next(
    mine.start - 1
    for mine, theirs in zip(LAYOUT_950.fields, LAYOUT_910.fields, strict=False)
    if mine != theirs
)
_LF, _CRLF = fast.row_struct(1), fast.row_struct(2)
_RECORD = fast.row_struct(0)
_NL = b"\n"


def plausible_record(line: Line) -> bool:
    """Whether a line's length fits the framing rule (950 or 910 columns, or trimmed)."""
    size = len(line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n"))
    return MIN_LENGTH <= size <= LENGTH


def truncated_record(length: int, line_no: int | None, raw: str = "") -> TruncatedRecordError:
    """The error for a line of ``length`` columns that ends before the last required field."""
    cut = LAYOUT_950.first_cut_field(length)
    last = LAYOUT_950.last_required
    label = last.name.replace("_", " ").capitalize()
    return TruncatedRecordError(
        f"a truncated record (cut in field {cut.name!r}; {label}, columns "
        f"{last.start}-{last.end}, missing)",
        line=line_no,
        field=cut.name,
        raw=raw,
        length=length,
    )


def frame(raw: bytes, line_no: int | None) -> bytes | None:
    """One line without its ending, made 950 columns long by the framing rule.

    ``None`` for a blank line; a ParseError for a line longer than the layout, and a
    TruncatedRecordError for one that ends before the last required field.
    """
    size = len(raw)
    if size == LENGTH:
        return raw
    if not raw.strip(_BLANK_BYTES):
        return None
    if size > LENGTH:
        text = raw.decode("latin-1")
        raise ParseError(
            f"the line has {size} columns, more than the {LENGTH} of the layout",
            line=line_no,
            field=None,
            raw=text,
        )
    if size == LAYOUT_910.length:
        return raw[:_SHARED].ljust(LENGTH)
    if size < MIN_LENGTH:
        raise truncated_record(size, line_no, raw.decode("latin-1"))
    return raw.ljust(LENGTH)


#: One framed line: its number, and its 950 columns (or the reason it has none).
Framed = tuple[int, bytes | ParseError]


def numbered(lines: Iterator[Line], first: int = 1) -> Iterator[tuple[int, bytes]]:
    """Lines as bytes without their endings, numbered; a BOM is dropped from line 1."""
    for number, line in enumerate(lines, start=first):
        raw = line.encode("latin-1", "replace") if isinstance(line, str) else line
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
            if isinstance(line, str):
                raw = line.removeprefix("\ufeff").encode("latin-1", "replace")
        yield number, raw.rstrip(b"\r\n")


def framed(lines: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, Any]]:
    """Line by line: each non-blank line's pieces, or its framing error."""
    unpack = _RECORD.unpack
    for number, raw in lines:
        try:
            line = frame(raw, number)
        except ParseError as error:
            yield number, error
            continue
        if line is not None:
            yield number, (line, unpack(line))


def bulk(read: Callable[[int], bytes]) -> Iterator[tuple[int, Any]]:
    """Whole blocks of uniform lines through ``iter_unpack``; the others line by line.

    Once the first line shows the file's stride (950 columns and LF or CRLF), blocks are
    read as a whole number of lines, so a block is never copied to carry a cut line over:
    on a uniform file the only work per block is a few C-level checks.
    """
    head = read(BLOCK)
    if head.startswith(b"\xef\xbb\xbf") or _ending(head) == b"\r":
        # A BOM or CR-only endings: frame every line (rare files; correct, not fast).
        stream = io.BytesIO(head)
        lines = split_lines(lambda size: stream.read(size) or read(size))
        yield from framed(numbered(lines))
        return
    stride = _stride(head)
    size = stride * (BLOCK // stride) if stride else BLOCK
    number = 1
    rest = b""
    data = head
    while data:
        chunk = rest + data if rest else data
        cut = chunk.rfind(_NL) + 1
        if cut == len(chunk):
            whole, rest = chunk, b""
        else:
            whole, rest = chunk[:cut], chunk[cut:]
        if whole:
            count = len(whole) - len(whole.replace(_NL, b""))
            yield from _block(whole, number, count)
            number += count
        # Finish a cut line with a small read, so that every later block is whole lines.
        data = read(stride - len(rest)) if stride and 0 < len(rest) < stride else read(size)
    if rest:
        yield from framed(iter(((number, rest.rstrip(b"\r")),)))


def _stride(head: bytes) -> int:
    """Bytes per line if the first line is a full record (950 columns + LF or CRLF), else 0."""
    if head[LENGTH : LENGTH + 1] == _NL:
        return LENGTH + 1
    if head[LENGTH : LENGTH + 2] == b"\r\n":
        return LENGTH + 2
    return 0


def _ending(head: bytes) -> bytes:
    cr, lf = head.find(b"\r"), head.find(b"\n")
    return b"\r" if cr >= 0 and (lf < 0 or cr < lf) and head[cr + 1 : cr + 2] != b"\n" else b"\n"


def _block(whole: bytes, first: int, lines: int) -> Iterator[tuple[int, Any]]:
    """The records of ``lines`` whole lines starting at line ``first``."""
    size = len(whole)
    for stride, layout in ((LENGTH + 1, _LF), (LENGTH + 2, _CRLF)):
        if size == stride * lines and whole[stride - 1 :: stride] == _NL * lines:
            if stride == LENGTH + 2 and whole[LENGTH::stride] != b"\r" * lines:
                break
            yield first, (whole, stride, layout.iter_unpack(whole))
            return
    yield from framed(
        (number, raw.rstrip(b"\r")) for number, raw in enumerate(whole.split(_NL)[:-1], first)
    )


def frame_lines(lines: Iterator[Line], name: str | None = None) -> tuple[int, int]:
    """Check every line against the framing rule only; returns (records, exams).

    The check a download gets before it is recorded: it raises the reader's own
    ParseError for a line too long or cut short, and reads no value, so a file that
    passes is whole (its values are the reader's business). A line of blanks, even at
    full width, is no record here either, as for the reader: the counts are the reader's.
    """
    records = exams = 0
    for _number, item in framed(numbered(lines)):
        if isinstance(item, ParseError):
            raise item.in_file(name) if name else item
        line, pieces = item
        if not pieces[0].strip() and not line.strip(_BLANK_BYTES):
            continue  # a full-width line of blanks: the reader skips it too
        records += 1
        exams += fast.exam_count(pieces[_EXAMS_AT])
    return records, exams


_EXAMS_AT = fast.LOOP_ORDER.index("exams")
