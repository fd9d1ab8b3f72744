"""TXT blocks as numpy matrices: the columnar path's view of the one block reader.

Blocks come from :func:`apscores.files.blocks.blocks` (the reader every path shares). A
block of clean 950-column lines with one ending (LF or CRLF) is viewed as a 2-D ``uint8``
array without a copy; any other block is padded line by line by the framing rule of
:mod:`apscores.files._framing`, or refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from apscores.errors import ParseError
from apscores.files._framing import LENGTH, clean, frame, uniform_stride
from apscores.files.blocks import Block
from apscores.files.layout import LAYOUT_910, FieldKind

#: The columns a 910 line shares with the 950 layout (its last field that is not filler).
_SHARED = max(f.end for f in LAYOUT_910.fields if f.kind is not FieldKind.FILLER)

__all__ = ["UnsafeBlockError", "as_matrix"]

Array = npt.NDArray[Any]


class UnsafeBlockError(Exception):
    """A block holds a value the fast path cannot vouch for: read it the reference way."""


def as_matrix(block: Block) -> Array:
    """The block as rows of 950 columns, blank lines still in.

    A block of clean 950-column lines with one ending is viewed in place; any other is
    padded line by line with :func:`~apscores.files._framing.frame`. Raises
    :class:`UnsafeBlockError` for a line the framing rule refuses or one holding a control
    byte (the typed reader explains it).
    """
    flat = np.frombuffer(block.data, dtype=np.uint8)
    stride = uniform_stride(block, LENGTH)
    if stride:
        return flat.reshape(block.lines, stride)
    padded: list[bytes] = []
    for raw in block.contents():
        try:
            line = frame(raw, None)
        except ParseError:  # too long, or a truncated record: the typed reader explains
            raise UnsafeBlockError from None
        if line is not None:  # None: a blank line
            if not clean(line, 0):
                raise UnsafeBlockError
            if len(line) == LAYOUT_910.length:  # its own layout: what 950 holds there is blank
                line = line[:_SHARED].ljust(LENGTH)
            padded.append(line)
    return np.frombuffer(b"".join(padded), dtype=np.uint8).reshape(len(padded), LENGTH)
