"""Framing TXT lines: where a record starts and ends, and whether it is whole.

The one rule (kept with the layout, :mod:`apscores.files.layout`): after its ending is
removed, a line is a record when it has the layout's length, or is shorter but reaches the
end of *Date of this report* (column 886), the last field every record carries; it is then
padded back (its trailing blanks were trimmed). A shorter line is a
:class:`~apscores.errors.TruncatedRecordError`, a longer one a
:class:`~apscores.errors.ParseError`. A line of exactly 910 columns is the pre-2016 layout.

The reader and the download check (:func:`frame_lines`) share this module, so a file that
passes the check is one the reader frames the same way. Lines come from the one block
reader (:mod:`apscores.files.blocks`), which decides the line endings.

A framed record holds no control byte (C0, DEL, or C1: Latin-1 text never means
``0x80``-``0x9F``): :func:`control_error` names the line and the field that holds one,
with a hint when the bytes look like Windows-1252 or UTF-8 rather than Latin-1.

What the records never keep, an error never shows (:func:`shown`): the fields that fill
no attribute (fillers, and the social security numbers files before July 2018 hold in
columns 148-156, ``docs/reference/file-layout.md`` §1.5) are starred out of the ``raw``
of a line's error, and a control byte in one is named without its text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from apscores.errors import ParseError, TruncatedRecordError
from apscores.files._sources import Line
from apscores.files.blocks import CONTROL, Block, LongLine, Piece
from apscores.files.layout import (
    LAYOUT_910,
    FieldKind,
    Layout,
    chosen,
    exams_in,
    layout_for_length,
)

__all__ = [
    "BLANK",
    "Framed",
    "bulk",
    "clean",
    "control_error",
    "frame",
    "frame_lines",
    "framed",
    "latin1",
    "numbered",
    "plausible_record",
    "shown",
    "strip_ending",
    "too_long",
    "truncated_record",
]

BLANK = " \t\x1a\x0c"  # what an empty line may hold (\x1a: the old DOS end-of-file mark)
_BLANK_BYTES = BLANK.encode("ascii")
_NL = b"\n"
#: The columns of a 910 line that hold values (the rest is filler).
_VALUES_910 = max(f.end for f in LAYOUT_910.fields if f.kind is not FieldKind.FILLER)


def plausible_record(line: Line, layout: Layout | None = None) -> bool:
    """Whether a line's length fits the framing rule (950 or 910 columns, or trimmed; the
    length of ``layout``, or trimmed, when it is given)."""
    size = len(line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n"))
    target = chosen(layout)
    return target.min_length <= size <= target.length


def shown(line: bytes, layout: Layout | None = None) -> str:
    """A line as an error keeps it (``raw``): each non-blank field no record keeps (its
    attribute is empty: fillers, the old SSN) starred out, in the first record's columns."""
    target = layout_for_length(len(line), layout) if len(line) == 910 else chosen(layout)
    text = bytearray(line)
    for field in target.fields:
        if not field.attribute and line[field.slice].strip(b" "):
            text[field.slice] = b"*" * len(text[field.slice])
    return text.decode("latin-1")


def truncated_record(
    length: int, line_no: int | None, raw: str = "", layout: Layout | None = None
) -> TruncatedRecordError:
    """The error for a line of ``length`` columns that ends before the last required field."""
    target = chosen(layout)
    cut = target.first_cut_field(length)
    last = target.last_required
    label = last.name.replace("_", " ").capitalize()
    return TruncatedRecordError(
        f"a truncated record (cut in field {cut.name!r}; {label}, columns "
        f"{last.start}-{last.end}, missing)",
        line=line_no,
        field=cut.name,
        raw=raw,
        length=length,
    )


def too_long(
    size: int, line_no: int | None, raw: bytes, layout: Layout | None = None
) -> ParseError:
    """The error for a line of ``size`` columns, more than the layout's."""
    return ParseError(
        f"the line has {size} columns, more than the {chosen(layout).length} of the layout",
        line=line_no,
        field=None,
        raw=shown(raw, layout),
        show_raw=False,  # the line holds a student's details, as a truncated one does
    )


_CONTROL_AT = re.compile(b"[" + re.escape(CONTROL) + b"]")
#: C1 bytes Windows-1252 prints (0x92 is its apostrophe); 81, 8D, 8F, 90, 9D it does not.
_CP1252 = frozenset(set(range(0x80, 0xA0)) - {0x81, 0x8D, 0x8F, 0x90, 0x9D})
#: A UTF-8 sequence of a character past ASCII (``’`` is ``E2 80 99``): told in the hint.
_UTF8 = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def clean(data: bytes, endings: int) -> bool:
    """Whether ``data`` holds no control byte but ``endings`` bytes of line endings (one
    C-level pass over the block)."""
    return len(data) - len(data.translate(None, CONTROL)) == endings


def _hint(line: bytes, at: int) -> str:
    """Why a text holds a C1 byte: it is UTF-8, or Windows-1252, not Latin-1."""
    if any(m.start() <= at < m.end() for m in _UTF8.finditer(line)):
        return "; the text looks UTF-8 encoded, and a TXT score file is Latin-1"
    if line[at] in _CP1252:
        return "; the text looks Windows-1252 encoded, and a TXT score file is Latin-1"
    return ""


def control_error(
    line: bytes, line_no: int | None, layout: Layout | None = None
) -> ParseError | None:
    """The error for the first control byte of a framed line, naming its field; None if
    the line holds none."""
    found = _CONTROL_AT.search(line)
    if found is None:
        return None
    at = found.start()
    reason = (
        f"a control byte (0x{line[at]:02X}) inside the field: not text a score file "
        f"holds{_hint(line, at)}"
    )
    field = next(f for f in layout_for_length(len(line), layout).fields if f.end > at)
    kept = line[field.slice].decode("latin-1") if field.attribute else ""
    return ParseError(reason, line=line_no, field=field.name, raw=kept, show_raw=not field.personal)


def frame(raw: bytes, line_no: int | None, layout: Layout | None = None) -> bytes | None:
    """One line without its ending, made as long as its layout by the framing rule.

    Under the default layout, a line of exactly 910 columns is a record of the 910 layout,
    kept as it is (:func:`~apscores.files.layout.layout_for_length`), and any other the
    950 layout's.
    ``None`` for a blank line; a ParseError for a line longer than the layout, and a
    TruncatedRecordError for one that ends before the last required field.
    """
    target = chosen(layout)
    size = len(raw)
    if size == target.length:
        return raw
    if not raw.strip(_BLANK_BYTES):
        return None
    if size > target.length:
        raise too_long(size, line_no, raw, target)
    if layout_for_length(size, layout) is LAYOUT_910:  # blank but for its filler: blank
        return raw if raw[:_VALUES_910].strip(_BLANK_BYTES) else None
    if size < target.min_length:
        raise truncated_record(size, line_no, shown(raw, target), target)
    return raw.ljust(target.length)


#: One framed line: its number, and its 950 columns (or the reason it has none).
Framed = tuple[int, bytes | ParseError]


def strip_ending(line: bytes) -> bytes:
    """A line without its ending: LF, CRLF or CR (only one CR: ``\\r\\r\\n`` keeps one)."""
    if line[-1:] == b"\n":
        line = line[:-1]
    return line[:-1] if line[-1:] == b"\r" else line


def latin1(text: str, line_no: int | None, layout: Layout | None = None) -> bytes:
    """A line given as text, as the Latin-1 bytes of a TXT file. A character Latin-1 lacks
    (the text was decoded otherwise: cp1252 makes 0x92 a ``’``) is a ParseError naming
    the line and the field it is in, never a ``?`` in its place."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as error:
        at, char = error.start, text[error.start]
        fields = layout_for_length(len(strip_ending(text.encode("latin-1", "replace"))), layout)
        field = next((f for f in fields.fields if f.end > at), None)
        raise ParseError(
            f"a character that is not Latin-1 (U+{ord(char):04X}): a TXT score "
            "file is Latin-1 bytes, so this text was decoded with another encoding; read "
            "the file as bytes (a path or a binary file)",
            line=line_no,
            field=None if field is None else field.name,
            raw=char,
        ) from None


def numbered(
    lines: Iterable[Line], first: int = 1, layout: Layout | None = None
) -> Iterator[tuple[int, bytes | ParseError]]:
    """Lines (given as lines: an iterable, a text file) as bytes without their endings,
    numbered; a BOM is dropped from line 1. A text line Latin-1 cannot hold is its error."""
    for number, line in enumerate(lines, start=first):
        if isinstance(line, str):
            text = line.removeprefix("\ufeff") if number == first else line
            try:
                raw = latin1(text, number, layout)
            except ParseError as error:
                yield number, error
                continue
        else:
            raw = line.removeprefix(b"\xef\xbb\xbf") if number == first else line
        yield number, strip_ending(raw)


def framed(
    lines: Iterable[tuple[int, bytes | ParseError]],
    values: bool = True,
    layout: Layout | None = None,
) -> Iterator[tuple[int, Any]]:
    """Line by line: each non-blank line's 950 columns, or its framing or control-byte
    error (the latter only with ``values``: the download check frames, it reads no value)."""
    for number, raw in lines:
        if isinstance(raw, ParseError):  # a text line Latin-1 cannot hold
            yield number, raw
            continue
        try:
            line = frame(raw, number, layout)
        except ParseError as error:
            yield number, error
            continue
        if line is None:
            continue
        if values and not clean(line, 0):
            if line.strip(_BLANK_BYTES):  # a blank line may hold tabs (and form feeds)
                yield number, control_error(line, number, layout)
            continue
        yield number, line


def bulk(
    pieces: Iterable[Piece], values: bool = True, layout: Layout | None = None
) -> Iterator[tuple[int, Any]]:
    """Whole blocks of uniform clean lines as they are; the others line by line.

    A block of full-length lines (950 columns, or ``layout``'s) with one ending (LF or
    CRLF) and no control byte is checked with a few C-level calls and given whole, ``(its
    bytes, its stride)``, for the reader to cut into records uncopied; any other block is
    framed line by line.
    """
    for piece in pieces:
        if isinstance(piece, LongLine):
            yield piece.line, too_long(piece.length, piece.line, piece.head, layout)
            continue
        uniform = uniform_stride(piece, chosen(layout).length)
        if uniform:
            yield piece.first, (piece.data, uniform)
        else:
            yield from framed(zip(itertools.count(piece.first), piece.contents()), values, layout)


def uniform_stride(block: Block, length: int) -> int:
    """The bytes per line of a block of clean ``length``-column lines with one ending
    (LF or CRLF); else 0."""
    whole, lines = block.data, block.lines
    if block.ending != _NL or len(whole) not in (lines * (length + 1), lines * (length + 2)):
        return 0
    stride = len(whole) // lines
    if block.controls != (_NL if stride == length + 1 else b"\r\n") * lines:
        return 0  # a control byte, or an ending out of place (none but these endings)
    if whole[stride - 1 :: stride] != _NL * lines:
        return 0
    if stride == length + 2 and whole[length::stride] != b"\r" * lines:
        return 0
    return stride


def frame_lines(
    pieces: Iterable[Piece], name: str | None = None, layout: Layout | None = None
) -> tuple[int, int]:
    """Check every line against the framing rule only; returns (records, exams).

    The check a download gets before it is recorded: it raises the reader's own
    ParseError for a line too long or cut short, and reads no value (a control byte
    included), so a file that passes is whole (its values are the reader's business, and
    downloading again would not change them). A line of blanks, even at full width, is no
    record here either, as for the reader: the counts are the reader's.
    """
    records = exams = 0
    for _number, item in bulk(pieces, values=False, layout=layout):
        if isinstance(item, ParseError):
            raise item.in_file(name) if name else item
        if isinstance(item, bytes):
            lines: Iterable[bytes] = (item,)
        else:
            whole, stride = item
            full = chosen(layout).length
            lines = (whole[at : at + full] for at in range(0, len(whole), stride))
        for line in lines:
            if line.strip(_BLANK_BYTES):  # a line of blanks: the reader skips it too
                records += 1
                exams += exams_in(line, layout_for_length(len(line), layout))
    return records, exams
