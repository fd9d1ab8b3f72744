"""Where lines come from, and the :class:`Reader` every read function returns.

A source is a path (opened here and closed here), a binary file object (left open: the
caller owns it), raw ``bytes`` (treated as file content), or any iterable of ``bytes`` or
``str`` lines (an iterable of lines, not of arbitrary chunks). Byte sources are read in
blocks of :data:`BLOCK` bytes, so memory stays constant whatever the file size.

Line endings. A path, a file object and the same ``bytes`` give the same lines, cut by the
one block reader of :mod:`apscores.files.blocks` (its docstring states the rule: LF and
CRLF end a line; a lone CR does only in a CR-only file, decided once from the file's
first bytes; elsewhere it is data, which the readers refuse).
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Literal, TypeAlias, Union, cast

import attrs

from apscores._atomic import atomic_write
from apscores._closing import Closing
from apscores.errors import ConfigurationError, EmptyFileError, ParseError, UnknownFormatError
from apscores.files.blocks import BLOCK, Block, LongHead, LongLine, Piece, blocks
from apscores.models import ScoreReport

__all__ = [
    "BLOCK",
    "CONTROL_BYTES",
    "Destination",
    "ErrorMode",
    "Line",
    "Opened",
    "Reader",
    "Source",
    "binary_error",
    "check_mode",
    "first_line",
    "is_binary",
    "lines_of",
    "look_ahead",
    "open_source",
    "peek",
    "source_name",
    "write_lines",
]

Source: TypeAlias = Union[str, "os.PathLike[str]", BinaryIO, bytes, Iterable[bytes], Iterable[str]]
ErrorMode: TypeAlias = Literal["raise", "collect"]
Line: TypeAlias = bytes | str
Destination: TypeAlias = Union[str, "os.PathLike[str]", BinaryIO]


def _nothing() -> None:
    """Close nothing: the caller owns file objects and iterables it passes in."""


def check_mode(errors: str) -> bool:
    """Validate ``errors=``; True means collect."""
    if errors not in ("raise", "collect"):
        raise ConfigurationError(f"errors must be 'raise' or 'collect', not {errors!r}")
    return errors == "collect"


def lines_of(pieces: Iterator[Piece]) -> Iterator[Line]:
    """The lines of the block reader's pieces, each with its ending; a
    :class:`~apscores.files.blocks.LongLine` is passed on as it is (typed ``Line`` for
    brevity: every consumer checks for it)."""
    for piece in pieces:
        if isinstance(piece, LongLine):
            yield piece  # type: ignore[misc]
        else:
            yield from piece.with_endings()


def source_name(source: Source) -> str | None:
    """What errors call the source: a path as given, a file object's name, else None."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else None


@attrs.define
class Opened:
    """A source opened for reading: bytes in blocks (a path, ``bytes``, a binary file) or
    lines (an iterable of lines, a text file). ``close`` closes what apscores opened."""

    read: Callable[[int], bytes] | None
    lines: Iterator[Line] | None
    close: Callable[[], None]
    name: str | None
    pieces: Iterator[Piece] | None = None

    def blocks(self) -> Iterator[Piece]:
        """The byte source's pieces (:func:`apscores.files.blocks.blocks`), once."""
        if self.pieces is None:
            assert self.read is not None
            self.pieces = blocks(self.read)
        return self.pieces

    def as_lines(self) -> Iterator[Line]:
        """Every line, each with its ending (see :func:`lines_of`)."""
        if self.lines is None:
            return lines_of(self.blocks())
        return self.lines


def open_source(source: Source) -> Opened:
    """Open a path (closed by the reader), or take bytes, a file object or lines as they are."""
    name = source_name(source)
    if isinstance(source, (str, os.PathLike)):
        handle = open(source, "rb")  # noqa: SIM115 - closed by the Reader
        return Opened(handle.read, None, handle.close, name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Opened(io.BytesIO(bytes(source)).read, None, _nothing, name)
    read = getattr(source, "read", None)
    if callable(read) and not isinstance(source, io.TextIOBase):
        return Opened(read, None, _nothing, name)
    lines = cast(Iterable[Line], source)
    return Opened(None, last_unmarked(lines), _nothing, name)  # lines (a text file too)


def last_unmarked(lines: Iterable[Line]) -> Iterator[Line]:
    """Lines given as lines, the last without the DOS end-of-file mark (Ctrl-Z, 0x1A) it
    may end with: dropped as the block reader drops it from bytes, so the same content
    reads the same given as bytes or as lines."""
    items = iter(lines)
    previous = next(items, None)
    if previous is None:
        return
    for line in items:
        yield previous
        previous = line
    mark: Line = "\x1a" if isinstance(previous, str) else b"\x1a"
    yield previous[:-1] if previous[-1:] == mark else previous


def look_ahead(opened: Opened, plausible: Callable[[Line], bool] = lambda line: False) -> Line:
    """The first non-blank line, checked as :func:`first_line` does; ``opened`` still
    yields everything afterwards. Reads only as far as that line (a block or two); a first
    line too long to hold is judged by its first bytes."""
    if opened.lines is not None:
        first, opened.lines = first_line(opened.lines, opened.close, opened.name, plausible)
        return first
    pieces = opened.blocks()
    seen: list[Piece] = []
    found: bytes | None = None
    for piece in pieces:
        seen.append(piece)
        found = LongHead.of(piece) if isinstance(piece, LongLine) else first_filled(piece)
        if found is not None:
            break
    opened.pieces = itertools.chain(seen, pieces)
    first, _ = first_line(
        iter(() if found is None else (found,)), opened.close, opened.name, plausible
    )
    return first


def first_filled(block: Block) -> bytes | None:
    """The first non-blank line of a block, with its ending; None if all are blank."""
    data, ending, start = block.data, block.ending, 0
    while start < len(data):
        end = data.find(ending, start)
        end = len(data) if end < 0 else end + 1
        if data[start:end].strip(_BLANK_BYTES):
            return data[start:end]
        start = end
    return None


def peek(lines: Iterator[Line]) -> tuple[Line | None, Iterator[Line]]:
    """The first non-blank line, and an iterator that still yields every line."""
    seen: list[Line] = []
    for line in lines:
        seen.append(line)
        if isinstance(line, LongLine):  # too long to hold: judged by its first bytes
            return LongHead.of(line), itertools.chain(seen, lines)
        blank = not (
            line.strip(_BLANK_BYTES) if isinstance(line, bytes) else line.strip(_BLANK_TEXT)
        )
        if not blank:
            return line, itertools.chain(seen, lines)
    return None, iter(seen)


#: What a blank line may hold: white space and the old DOS end-of-file mark (0x1A).
_BLANK_TEXT = " \t\r\n\x0b\x0c\x1a"
_BLANK_BYTES = _BLANK_TEXT.encode("ascii")


#: Bytes no text score file holds: C0 controls but tab, LF, VT... (the DOS end-of-file
#: mark 0x1A and form feed 0x0C are tolerated as blanks), and DEL.
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F])
_CONTROL_TEXT = CONTROL_BYTES.decode("latin-1")
_CONTROL_TABLE = str.maketrans("", "", _CONTROL_TEXT)


def is_binary(line: Line) -> bool:
    """Whether a line holds bytes no text score file does (NUL, other control bytes)."""
    if isinstance(line, bytes):
        return len(line.translate(None, CONTROL_BYTES)) != len(line)
    return len(line.translate(_CONTROL_TABLE)) != len(line)


def binary_error(name: str | None) -> UnknownFormatError:
    """What a file of binary data (or no kind of text score file) is told."""
    return UnknownFormatError(
        "the file holds binary data (NUL or other control bytes): "
        "it is not an AP score file (TXT or CSV)",
        file=name,
    )


def first_line(
    lines: Iterator[Line],
    close: Callable[[], None],
    name: str | None,
    plausible: Callable[[Line], bool] = lambda line: False,
) -> tuple[Line, Iterator[Line]]:
    """The first non-blank line (and all lines again), refusing empty and binary input.

    Both are file-level problems, raised in ``errors="collect"`` mode too; the source is
    closed before raising. A first line with control bytes that ``plausible`` still takes
    for a record of the expected format is left to the reader, which names the bad field.
    """
    try:
        first, lines = peek(lines)
        if first is None:
            raise EmptyFileError(file=name)
        if isinstance(first, bytes) and _looks_utf16(first, plausible):
            raise UnknownFormatError(
                "the file is UTF-16 text (a spreadsheet's 'Unicode Text'?); save it as "
                "'CSV UTF-8' and read that",
                file=name,
            )
        if is_binary(first) and not plausible(first):
            raise binary_error(name)
    except BaseException:
        close()
        raise
    return first, lines


def _looks_utf16(first: bytes, plausible: Callable[[Line], bool]) -> bool:
    """A UTF-16 byte-order mark, then NUL bytes (ASCII text in UTF-16) or a line that is
    no record: a TXT record may begin with the Latin-1 bytes of ``þÿ`` or ``ÿþ`` too."""
    return first.startswith((b"\xff\xfe", b"\xfe\xff")) and (
        b"\x00" in first[2:64] or not plausible(first)
    )


class Reader(Closing, Iterator[ScoreReport]):
    """Score reports from one file, streamed; a context manager that closes the source.

    ``errors`` lists the :class:`~apscores.errors.ParseError` of every bad line skipped in
    ``errors="collect"`` mode (good lines are still yielded); in ``"raise"`` mode the first
    bad line raises. ``format`` is ``"txt"`` or ``"csv"``. Iterating with ``for`` runs the
    underlying generator directly (no per-record method call), for speed.
    """

    def __init__(
        self,
        records: Iterator[ScoreReport],
        *,
        format: str,
        errors: list[ParseError],
        close: Callable[[], None],
    ) -> None:
        self.format = format
        self.errors = errors
        self._records = records
        self._close = close

    def __iter__(self) -> Iterator[ScoreReport]:
        return self._records

    def __next__(self) -> ScoreReport:
        return next(self._records)

    def close(self) -> None:
        """Stop reading and close the file if we opened it (safe to call twice)."""
        close = getattr(self._records, "close", None)
        if close is not None:
            close()
        self._close()

    def __repr__(self) -> str:
        return f"<apscores Reader format={self.format!r} errors={len(self.errors)}>"


def write_lines(chunks: Iterable[bytes], dest: Destination) -> int:
    """Write encoded records to a path (atomically) or a binary file; count them.

    A path is written to a temporary file beside it and renamed into place only when every
    record was written, so a refused record never leaves a half-written file behind.
    """
    if not isinstance(dest, (str, os.PathLike)):
        count = 0
        for chunk in chunks:
            dest.write(chunk)
            count += 1
        return count
    with atomic_write(dest) as handle:
        count = write_lines(chunks, handle)
    return count
