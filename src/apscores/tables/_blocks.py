"""TXT blocks as numpy matrices: the columnar path's view of the one block reader.

Blocks come from :func:`apscores.files.blocks.blocks` (the reader every path shares). A
block of clean whole-length lines with one ending (LF or CRLF) is viewed as a 2-D
``uint8`` array without a copy; any other block is padded line by line by the framing rule
of :mod:`apscores.files._framing`, for the plan's layout (its length, its shortest record,
the older layouts it reads), or refused: the typed reader then explains the line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from apscores.errors import ParseError
from apscores.files import _framing
from apscores.files._framing import clean, uniform_stride
from apscores.files.blocks import Block
from apscores.tables._plan import Plan

__all__ = ["UnsafeBlockError", "as_matrix", "frame", "uniform_stride"]

Array = npt.NDArray[Any]


class UnsafeBlockError(Exception):
    """A block holds a value the fast path cannot vouch for: read it the reference way."""


def frame(raw: bytes, plan: Plan) -> bytes | None:
    """One line without its ending, made a whole record of the plan's layout by the one
    framing rule (:func:`apscores.files._framing.frame`); ``None`` for a blank line. An
    older layout's record (910 columns under the 950 layout) keeps the columns the two
    share, the rest blank. Raises :class:`UnsafeBlockError` for a line too long or cut
    short, or holding a control byte anywhere, in the columns cut off too (the typed
    reader explains it)."""
    try:
        line = _framing.frame(raw, None, plan.layout)
    except ParseError:
        raise UnsafeBlockError from None
    if line is not None and not clean(line, 0):
        raise UnsafeBlockError
    if line is not None and len(line) != plan.length:
        line = line[: plan.shorter[len(line)]].ljust(plan.length)
    return line


def as_matrix(block: Block, plan: Plan) -> Array:
    """The block as rows of at least ``plan.length`` columns, blank lines still in.

    A block of clean whole-length lines with one ending is viewed in place (its rows hold
    the line endings after the record); any other is padded line by line with
    :func:`frame`. Raises :class:`UnsafeBlockError` for a line the framing rule refuses
    or one holding a control byte (the typed reader explains it).
    """
    flat = np.frombuffer(block.data, dtype=np.uint8)
    stride = uniform_stride(block, plan.length)
    if stride:
        return flat.reshape(block.lines, stride)
    padded: list[bytes] = []
    for raw in block.contents():
        line = frame(raw, plan)
        if line is not None:  # None: a blank line
            padded.append(line)
    return np.frombuffer(b"".join(padded), dtype=np.uint8).reshape(len(padded), plan.length)
