"""Where lines come from, and the :class:`Reader` every read function returns.

A source is a path (opened here and closed here), a binary file object (left open: the
caller owns it), raw ``bytes`` (treated as file content), or any iterable of ``bytes`` or
``str`` lines (an iterable of lines, not of arbitrary chunks). Nothing is read ahead beyond
the first non-blank line, so memory stays constant whatever the file size.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Literal, TypeAlias, Union

from apscores._atomic import atomic_write
from apscores._closing import Closing
from apscores.errors import ConfigurationError, ParseError
from apscores.models import ScoreReport

__all__ = [
    "Destination",
    "ErrorMode",
    "Line",
    "Reader",
    "Source",
    "check_mode",
    "open_lines",
    "peek",
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


def open_lines(source: Source) -> tuple[Iterator[Line], Callable[[], None]]:
    """An iterator over the source's lines, and how to close what we opened."""
    if isinstance(source, (str, os.PathLike)):
        handle = open(source, "rb")  # noqa: SIM115 - closed by the Reader
        return iter(handle), handle.close
    if isinstance(source, (bytes, bytearray, memoryview)):
        return iter(bytes(source).splitlines(keepends=True)), _nothing
    return iter(source), _nothing


def peek(lines: Iterator[Line]) -> tuple[Line | None, Iterator[Line]]:
    """The first non-blank line, and an iterator that still yields every line."""
    seen: list[Line] = []
    for line in lines:
        seen.append(line)
        if line.strip():
            return line, itertools.chain(seen, lines)
    return None, iter(seen)


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
