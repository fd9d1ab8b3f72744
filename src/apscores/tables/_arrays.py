"""Fields of a block matrix as Arrow arrays, and the byte rules that check them.

Every byte reaching numpy is *clean*: the block reader and framing hand over no block
holding a control byte (C0, DEL, C1; :data:`apscores.files.blocks.CONTROL`), so the rules
are a few byte operations rather than lookup tables: a clean byte is whitespace to
``str.rstrip`` exactly when ``byte & 0x7F == 0x20`` (space or no-break space), and blank
to the framing rule exactly when it is a space (both checked at import). The tables left
are built from the package's own rules (:func:`apscores.years.expand_year`, the grades of
:mod:`apscores.files._values`); each converter refuses
(:class:`~apscores.tables._blocks.UnsafeBlockError`) what the typed reader would refuse,
so the block goes to the reference path instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from apscores.files._framing import BLANK
from apscores.files._values import GRADES as VALUE_GRADES
from apscores.files.blocks import CONTROL
from apscores.tables._blocks import UnsafeBlockError
from apscores.years import expand_year

Array = npt.NDArray[Any]
_EPOCH = dt.date(1970, 1, 1)

WS_CHARS = "".join(chr(b) for b in range(256) if chr(b).isspace())  # str.rstrip, in Latin-1
if [b for b in range(256) if chr(b) in WS_CHARS and b not in CONTROL] != [0x20, 0xA0]:
    raise AssertionError("clean whitespace is no longer the bytes with b & 0x7F == 0x20")
if {b for b in BLANK.encode("latin-1") if b not in CONTROL} != {0x20}:
    raise AssertionError("a clean blank line is no longer one of spaces")
#: Two-digit year -> four-digit year: the pivot rule of apscores.years, as a table.
YEARS = np.array([expand_year(yy) for yy in range(100)], dtype=np.int64)
#: (two-digit year * 12 + month - 1) -> the month's first day (days since 1970), its length.
_MONTHS = [
    (dt.date(expand_year(yy), month, 1), dt.date(expand_year(yy) + month // 12, month % 12 + 1, 1))
    for yy in range(100)
    for month in range(1, 13)
]
_MONTH_STARTS = np.array([(start - _EPOCH).days for start, _ in _MONTHS], dtype=np.int64)
_MONTH_DAYS = np.array([(end - start).days for start, end in _MONTHS], dtype=np.int64)
#: Grade byte -> score 1-5, 0 for no score, -1 for anything else: the one-character
#: texts of :data:`apscores.files._values.GRADES` (a digit or a space, no other blank).
GRADES = np.full(256, -1, dtype=np.int64)
for _text, _score in VALUE_GRADES.items():
    if len(_text) == 1:
        GRADES[ord(_text)] = _score or 0


def blank(field: Array) -> Array:
    """Whether each field of clean bytes (``(..., width)``) is all whitespace."""
    return _every(field, lambda column: (column & 0x7F) == 0x20)


def digits(field: Array) -> tuple[Array, Array]:
    """Fields of clean bytes (``(..., width)``) -> (their number, whether all are ASCII
    digits); the number is meaningless where they are not."""
    digit = field - np.uint8(ord("0"))  # wraps: any other byte is 10 or more
    number = np.zeros(field.shape[:-1], dtype=np.int64)
    for column in range(field.shape[-1]):
        number = number * 10 + digit[..., column]
    return number, _every(digit, lambda column: column < 10)


def _every(field: Array, test: Callable[[Array], Array]) -> Array:
    """Whether ``test`` holds for every byte of each field (a column at a time: numpy
    reduces a short last axis slowly)."""
    found: Array = test(field[..., 0])
    for column in range(1, field.shape[-1]):
        found &= test(field[..., column])
    return found


def keys(field: Array) -> Array:
    """Fields of ``(rows, width)`` bytes as little-endian int64 keys (see :func:`unkey`)."""
    key = np.zeros(len(field), dtype=np.int64)
    for column in range(field.shape[1]):
        key |= field[:, column].astype(np.int64) << (8 * column)
    return key


def arrow(values: Array, kind: Any, valid: Array | None = None) -> Any:
    """A numpy array as an Arrow array of ``kind`` (of the same width), null where not
    ``valid``, without a copy (``pyarrow.array`` is far slower on a block's arrays)."""
    data = _bits(values) if values.dtype == np.bool_ else np.ascontiguousarray(values)
    mask = None if valid is None or valid.all() else pa.py_buffer(_bits(valid))
    return pa.Array.from_buffers(kind, len(values), [mask, pa.py_buffer(data)])


def _bits(values: Array) -> Array:
    found: Array = np.packbits(values, bitorder="little")
    return found


def as_text(field: Array) -> Any:
    """Latin-1 text of clean bytes, ``(rows, width)``, right-stripped as ``str.rstrip``
    does, as an Arrow string array."""
    return as_texts([field])


def as_texts(fields: list[Array]) -> Any:
    """:func:`as_text` of several fields at once: one string array, field after field."""
    sizes = np.cumsum([len(field) * field.shape[1] for field in fields])  # bytes so far
    data = np.empty(sizes[-1], dtype=np.uint8)
    ends = [np.zeros(1, dtype=np.int32)]  # each text's end: the offsets
    for field, size in zip(fields, sizes, strict=True):
        rows, width = field.shape
        data[size - rows * width : size].reshape(rows, width)[...] = field
        ends.append(np.arange(size - (rows - 1) * width, size + 1, width, dtype=np.int32))
    offsets = np.concatenate(ends)
    high = np.flatnonzero(data >= 0x80)
    encoded: Any = data
    if len(high):  # Latin-1 -> UTF-8: every byte >= 0x80 becomes two
        owner = np.searchsorted(offsets, high, side="right")  # the offset after each one
        offsets += np.cumsum(np.bincount(owner, minlength=len(offsets)), dtype=np.int32)
        encoded = data.tobytes().decode("latin-1").encode("utf-8")
    buffers = pa.py_buffer(offsets), pa.py_buffer(encoded)
    text = pa.StringArray.from_buffers(len(offsets) - 1, *buffers)
    return pc.utf8_rtrim(text, characters=" \xa0")


def di_codes(field: Array) -> Any:
    """The DI codes of a college-code field, as ``college_code_to_di`` makes them: stripped,
    and ``00`` dropped from six ASCII digits (a test compares the two)."""
    if field.shape[1] != 6:  # pragma: no cover - a layout guard
        raise AssertionError("the college code is no longer six columns")
    dropped = digits(field)[1] & (field[:, 0] == ord("0")) & (field[:, 1] == ord("0"))
    if dropped.all():  # (the usual case: one quick array)
        return as_text(field[:, 2:])
    stripped = pc.utf8_ltrim(as_text(field), characters=" \xa0")
    if not dropped.any():
        return stripped
    return pc.if_else(arrow(dropped, pa.bool_()), as_text(field[:, 2:]), stripped)


def unkey(key: int, width: int) -> str:
    """The right-stripped text of a little-endian key of ``width`` bytes."""
    return int(key).to_bytes(width, "little").decode("latin-1").rstrip()


def distinct(values: Array) -> tuple[list[int], Array]:
    """Distinct int64 keys in first-appearance order, and each row's index into them."""
    encoded = pc.dictionary_encode(arrow(values, pa.int64()))
    uniques: list[int] = encoded.dictionary.to_pylist()
    return uniques, _numpy(encoded.indices, np.int32)


def strings(values: list[str]) -> Any:
    """An Arrow string array of Python strings (no None), built from its buffers:
    ``pa.array`` would import pandas when it is installed (50 MB and 0.1-0.3 s a run)."""
    encoded = [value.encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(value) for value in encoded], out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), data)


def _numpy(values: Any, dtype: type[np.generic]) -> Array:
    """A primitive Arrow array without nulls as numpy, zero copy: ``to_numpy`` would import
    pandas when it is installed (50 MB and 0.1-0.3 s a run)."""
    size = np.dtype(dtype).itemsize
    found: Array = np.frombuffer(
        values.buffers()[1], dtype=dtype, count=len(values), offset=values.offset * size
    )
    return found


def to_days(field: Array) -> tuple[Array, Array]:
    """MMDDYY bytes, ``(..., 6)`` -> (days since 1970, blank), checked as the typed reader's
    ``parse_date`` checks them (a test compares the two); refuses the block otherwise."""
    digit = field - np.uint8(ord("0"))  # wraps: any other byte is 10 or more
    given = _every(digit, lambda column: column < 10)
    empty = blank(field)
    if not (empty | given).all():
        raise UnsafeBlockError
    month, day, yy = (digit[..., at] * np.uint8(10) + digit[..., at + 1] for at in (0, 2, 4))
    at = np.where(given, yy.astype(np.intp) * 12 + np.clip(month, 1, 12) - 1, 0)
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= _MONTH_DAYS[at])
    if (given & ~valid).any():
        raise UnsafeBlockError
    days = np.where(given, _MONTH_STARTS[at] + day - 1, 0).astype(np.int32)
    return days, empty


def irregularities(key: int) -> tuple[str, ...]:
    """The non-blank irregularity codes packed in ``key`` (two 2-byte codes)."""
    codes = (unkey(key >> 16, 2), unkey(key & 0xFFFF, 2))
    return tuple(code for code in codes if code)
