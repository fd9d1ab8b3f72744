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

from apscores.files._framing import BLANK, clean
from apscores.files.blocks import Block
from apscores.tables._plan import Plan

__all__ = ["UnsafeBlockError", "as_matrix", "frame", "uniform_stride"]

Array = npt.NDArray[Any]
_BLANK_BYTES = BLANK.encode("ascii")
_NL = b"\n"


class UnsafeBlockError(Exception):
    """A block holds a value the fast path cannot vouch for: read it the reference way."""


def frame(raw: bytes, plan: Plan) -> bytes | None:
    """One line without its ending, made a whole record of the plan's layout by the
    framing rule (:func:`apscores.files._framing.frame`, for any layout); ``None`` for a
    blank line. Raises :class:`UnsafeBlockError` for a line too long or cut short."""
    size = len(raw)
    if size == plan.length:
        return raw
    if not raw.strip(_BLANK_BYTES):
        return None
    if size > plan.length:
        raise UnsafeBlockError
    kept = plan.shorter.get(size)
    if kept is not None:  # an older layout's line: its own columns past the shared are filler
        return raw[:kept].ljust(plan.length)
    if size < plan.min_length:
        raise UnsafeBlockError
    return raw.ljust(plan.length)


def uniform_stride(block: Block, length: int) -> int:
    """The bytes per line of a block of clean ``length``-column lines with one ending (LF
    or CRLF, :func:`apscores.files._framing.uniform_stride` for any length); else 0."""
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
            if not clean(line, 0):
                raise UnsafeBlockError
            padded.append(line)
    return np.frombuffer(b"".join(padded), dtype=np.uint8).reshape(len(padded), plan.length)
