"""TXT lines in blocks, as numpy matrices: the columnar path's reading.

A block is a whole number of lines read into one reused buffer (``chunk_lines`` at a
time, so memory is bounded). A block of 950-column lines with one ending (LF or CRLF) is
viewed as a 2-D ``uint8`` array without a copy; any other block is padded line by line
by the framing rule of :mod:`apscores.files.framing`, or refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from apscores.errors import ParseError
from apscores.files.framing import LENGTH, frame

__all__ = ["UnsafeBlockError", "as_matrix", "read_blocks"]

Array = npt.NDArray[Any]

_BOM = b"\xef\xbb\xbf"


class UnsafeBlockError(Exception):
    """A block holds a value the fast path cannot vouch for: read it the reference way."""


def read_blocks(stream: BinaryIO, chunk_lines: int) -> Iterator[tuple[memoryview, int]]:
    """(whole lines, how many) until the end of the stream; the last line gets a newline.

    Lines are read into one reused buffer, so a block is only valid until the next one.
    """
    # Uninitialised memory: the OS maps pages as they are read into, so a small file
    # never pays for zeroing a buffer sized for ``chunk_lines``.
    buffer = np.empty(chunk_lines * (LENGTH + 2), dtype=np.uint8)
    view = buffer.data
    filled = 0  # bytes of an unfinished line carried over at the start of the buffer
    start = 0
    first = True
    while True:
        if filled == len(buffer):  # a line longer than the buffer: make room
            buffer = np.concatenate([buffer, np.empty(len(buffer), dtype=np.uint8)])
            view = buffer.data
        got = _fill(stream, view[filled:])
        end = filled + got
        if first:
            first = False
            if bytes(view[:3]) == _BOM:
                start = 3
        if not got:
            if end > start:  # what is left is a last line without a newline: give it one
                view[end] = 10
                yield view[start : end + 1], 1
            return
        cut = _after_last_newline(view, start, end)
        if cut == 0:
            filled = end
            continue
        yield view[start:cut], _count_lines(view[start:cut])
        tail = bytes(view[cut:end])
        view[: len(tail)] = tail
        filled, start = len(tail), 0


def _after_last_newline(view: memoryview, start: int, end: int) -> int:
    """Where the bytes after the last newline in ``view[start:end]`` begin; 0 if none.

    Searched backwards a window at a time: the last newline is about a line from the end.
    """
    window = 1 << 16
    stop = end
    while stop > start:
        at = max(start, stop - window)
        found = bytes(view[at:stop]).rfind(b"\n")
        if found >= 0:
            return at + found + 1
        stop = at
    return 0


def _fill(stream: BinaryIO, into: memoryview) -> int:
    """Read until ``into`` is full or the stream ends; returns the bytes read."""
    readinto = getattr(stream, "readinto", None)
    total = 0
    while total < len(into):
        if readinto is not None:
            got = readinto(into[total:]) or 0
        else:
            data = stream.read(len(into) - total)
            got = len(data)
            into[total : total + got] = data
        if not got:
            break
        total += got
    return total


def _count_lines(block: memoryview) -> int:
    """How many newlines: numpy, a cache-sized slice at a time (faster than bytes.count)."""
    flat = np.frombuffer(block, dtype=np.uint8)
    step = 1 << 20
    return sum(
        int(np.count_nonzero(flat[at : at + step] == 10)) for at in range(0, flat.size, step)
    )


def as_matrix(block: memoryview, lines: int) -> Array:
    """The block as rows of at least 950 columns, without its empty lines.

    A block of 950-column lines with one ending is viewed in place; any other is padded
    line by line with :func:`~apscores.files.framing.frame`. Raises
    :class:`UnsafeBlockError` for a line the framing rule refuses.
    """
    flat = np.frombuffer(block, dtype=np.uint8)
    stride = len(block) // lines
    if stride * lines == len(block) and stride in (LENGTH + 1, LENGTH + 2):
        view = flat.reshape(lines, stride)
        ending = np.frombuffer(b"\r\n"[LENGTH + 2 - stride :], dtype=np.uint8)
        # With as many newlines as rows, all at row ends, every line has the same length.
        if (view[:, LENGTH:] == ending).all() and not (view[:, LENGTH - 1] == 13).any():
            return view
    padded: list[bytes] = []
    for raw in bytes(block).split(b"\n")[:-1]:
        try:
            line = frame(raw.rstrip(b"\r"), None)
        except ParseError:  # too long, or a truncated record: the typed reader explains
            raise UnsafeBlockError from None
        if line is not None:  # None: a blank line
            padded.append(line)
    return np.frombuffer(b"".join(padded), dtype=np.uint8).reshape(len(padded), LENGTH)
