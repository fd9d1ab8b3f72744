"""Reading the fixed-width TXT score file (950 columns, or 910 before July 2016).

One byte is one column: fields are sliced from bytes and decoded as Latin-1, so an
accented name (``Muñoz`` with ``ñ`` as byte ``0xF1``) never shifts a column. Values are
right-stripped. LF, CRLF (and CR-only) endings, a UTF-8 BOM on the first line and blank
lines are accepted. Lines are framed by :mod:`apscores.files._framing`: a line shorter than
the layout is a record whose trailing blanks were trimmed only if it reaches the end of
*Date of this report* (column 886); a shorter one is a
:class:`~apscores.errors.TruncatedRecordError` naming the line, its length and the first
field it cuts, never a padded record. A line longer than 950 columns is a
:class:`~apscores.errors.ParseError`. A line of exactly 910 columns is read with the 910
layout (its columns 901-910 are filler and ignored); ``layout=`` reads every line with the
layout given. Exams end at the first block whose exam code
is blank.

:func:`parse_line` is the reference reading of one line, field by field; the reading loop
builds records with the builder generated from the line's layout
(:mod:`apscores.files._speed`) and, for any line that builder does not vouch for, asks
:func:`parse_line`, so records and errors are always the reference's.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from apscores.errors import ParseError
from apscores.files._framing import (
    BLANK,
    bulk,
    control_error,
    frame,
    frame_lines,
    framed,
    latin1,
    numbered,
    plausible_record,
    strip_ending,
)
from apscores.files._records import build_report
from apscores.files._sources import (
    ErrorMode,
    Opened,
    Reader,
    Source,
    check_mode,
    look_ahead,
    open_source,
)
from apscores.files._speed import Clock, compiled
from apscores.files._unknown import Unknown
from apscores.files.blocks import Piece
from apscores.files.layout import FieldKind, Layout, chosen, layout_for_length
from apscores.models import ScoreReport

__all__ = [
    "frame_lines",
    "open_reader",
    "parse_line",
    "plausible_record",
    "read_pieces",
    "read_txt",
]

_BLANK_BYTES = BLANK.encode("ascii")


def read_txt(
    source: Source, *, errors: ErrorMode = "raise", layout: Layout | None = None
) -> Reader:
    """Read a 950- or 910-column TXT score file, streamed, every value checked.

    ``source`` is a path, a binary file object, bytes, or an iterable of lines. Fields are
    sliced from bytes and decoded as Latin-1; LF, CRLF and CR endings, a UTF-8 BOM and
    blank lines are accepted. A line cut before column 886 (*Date of this report*) is a
    :class:`~apscores.errors.TruncatedRecordError`, never a padded record; a bad value is
    a :class:`~apscores.errors.ParseError` naming the file, line and field. With
    ``errors="collect"`` bad lines are skipped and listed in the reader's ``errors``.
    An empty or binary input raises :class:`~apscores.errors.UnknownFormatError` (or its
    :class:`~apscores.errors.EmptyFileError`) at once, in both error modes. ``layout``
    reads every line with that :class:`~apscores.files.layout.Layout` instead of choosing
    950 or 910 by the line's length.
    """
    collect = check_mode(errors)
    if layout is not None:
        compiled(layout, lenient=False)  # a layout no builder is made for: say so now
    opened = open_source(source)
    look_ahead(opened, functools.partial(plausible_record, layout=layout))
    return open_reader(opened, collect, layout)


def open_reader(opened: Opened, collect: bool, layout: Layout | None = None) -> Reader:
    """The TXT :class:`Reader` over a source already opened (``apscores.read`` looks first)."""
    found: list[ParseError] = []
    if opened.lines is None:
        items = bulk(opened.blocks(), layout=layout)
    else:
        items = framed(numbered(opened.lines, layout=layout), layout=layout)
    records = _read(items, collect, found, opened.close, opened.name, layout)
    return Reader(records, format="txt", errors=found, close=opened.close)


def read_pieces(
    pieces: Iterable[Piece],
    *,
    collect: bool,
    problems: list[ParseError],
    name: str | None,
    layout: Layout | None = None,
    told: set[tuple[str, str]] | None = None,
) -> Iterator[ScoreReport]:
    """The records of the block reader's pieces from the middle of a file (the columnar
    path's slow blocks); errors collected into ``problems`` or raised. ``told``: the
    unknown codes the file's read has warned about (shared, each warned about once)."""
    items = bulk(pieces, layout=layout)
    return _read(items, collect, problems, _nothing, name, layout, told)


def _nothing() -> None:
    """Close nothing: the caller owns the lines."""


def parse_line(
    line: bytes | str, line_no: int | None = None, layout: Layout | None = None
) -> ScoreReport:
    """Read one line field by field, framing it first: the reference reading.

    The generated builders must agree with this (the tests check it), and ask it about
    every line they do not vouch for. Useful to explain a line too. A blank line is a
    ParseError.
    """
    raw = latin1(line, line_no, layout) if isinstance(line, str) else line
    record = frame(strip_ending(raw), line_no, layout)
    if record is None:
        raise ParseError("the line is blank", line=line_no, field=None, raw="")
    problem = control_error(record, line_no, layout)
    if problem is not None:
        raise problem
    target = layout_for_length(len(record), layout)
    text = record.decode("latin-1")
    values = {f.name: text[f.slice] for f in target.fields if f.kind is not FieldKind.FILLER}
    return build_report(values, line=line_no, lenient=False, layout=target)


@functools.cache
def _cutter(layout: Layout, ending: int) -> struct.Struct:
    """The struct cutting a record of ``layout`` and ``ending`` bytes of line ending."""
    return compiled(layout, lenient=False).row_struct(ending)


def _read(
    items: Iterator[tuple[int, Any]],
    collect: bool,
    errors: list[ParseError],
    close: Callable[[], None],
    name: str | None,
    layout: Layout | None,
    told: set[tuple[str, str]] | None = None,
) -> Iterator[ScoreReport]:
    """Records from framed items: whole uniform blocks, single lines, or framing errors.

    Each record is built by its layout's generated loop (one per layout and read, with its
    own caches), delegated to with ``yield from``; a line its builder does not vouch for
    is read by :func:`parse_line`, and a refused line raised or collected (:class:`_Refusals`).
    """
    clock = Clock()
    unknown = Unknown(name, clock, told)
    clock.seen = unknown.item
    builders: dict[Layout, Any] = {}
    refusals = _Refusals(collect, errors, name, layout, unknown.report)

    def builder(target: Layout) -> Any:
        """The generated ``records(rows, on_error)`` of ``target``, one per read."""
        if target not in builders:
            builders[target] = compiled(target, lenient=False).make(clock, ())[1]
        return builders[target]

    try:
        for number, item in items:
            clock.line = number - 1  # the builder's loop counts each line as it reads it
            if isinstance(item, ParseError):
                refusals.refuse(item)
                continue
            if isinstance(item, bytes):  # one framed line, as long as its layout
                target = layout_for_length(len(item), layout)
                rows: Iterator[Any] = iter((_cutter(target, 0).unpack(item),))
                lines = _same(item)
            else:  # a uniform block of full-length lines: (its bytes, line stride)
                whole, stride = item
                target = chosen(layout)
                rows = _cutter(target, stride - target.length).iter_unpack(whole)
                lines = _block_line(whole, stride, number, target.length)
            yield from builder(target)(rows, refusals.reader(number, lines))
    finally:
        close()


class _Refusals:
    """What a read does with a line its builder does not vouch for: the reference reading
    gives its record, or the error, which is raised or collected (naming the file)."""

    def __init__(
        self,
        collect: bool,
        errors: list[ParseError],
        name: str | None,
        layout: Layout | None,
        seen: Callable[[ScoreReport], None],
    ) -> None:
        self.collect, self.errors, self.name, self.layout = collect, errors, name, layout
        self.seen = seen  # each record the reference reading gives

    def refuse(self, error: ParseError) -> None:
        # Read while the builder's own ParseError was handled: that one (its frames hold
        # the read's caches and block) must not stay attached.
        error.__context__ = None
        if self.name is not None:
            error.in_file(self.name)
        if not self.collect:
            raise error from None  # not "during handling of" the builder's own ParseError
        self.errors.append(error.with_traceback(None))  # frames would keep blocks

    def reader(self, first: int, line_of: Callable[[int], bytes]) -> Callable[[int], Any]:
        """``on_error(index)`` for the rows of lines ``first``...: the reference's record,
        or ``None`` (a blank line, or a refused one once collected)."""

        def on_error(index: int) -> ScoreReport | None:
            number = first + index
            line = line_of(number)
            if not line.strip(_BLANK_BYTES):
                return None
            try:
                report = parse_line(line, number, self.layout)
            except ParseError as error:
                self.refuse(error)
                return None
            self.seen(report)
            return report

        return on_error


def _same(line: bytes) -> Callable[[int], bytes]:
    """The one framed line, whatever its number."""
    return lambda _number: line


def _block_line(whole: bytes, stride: int, first: int, length: int) -> Callable[[int], bytes]:
    """Line ``number``'s record inside a uniform block."""

    def line(number: int) -> bytes:
        at = (number - first) * stride
        return whole[at : at + length]

    return line
