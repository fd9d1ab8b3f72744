"""Fields of a block matrix as numpy arrays, and the lookup tables that check them.

The tables are built from the package's own rules (:func:`apscores.years.expand_year`,
``str.rstrip``'s whitespace) rather than restating them; each
converter refuses (:class:`~apscores.tables._blocks.UnsafeBlockError`) what the typed
reader would refuse, so the block goes to the reference path instead.
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
from apscores.files.layout import Field
from apscores.tables._blocks import UnsafeBlockError
from apscores.tables._plan import Spread
from apscores.years import expand_year

Array = npt.NDArray[Any]
_EPOCH = dt.date(1970, 1, 1)

# Lookup tables, built from the package's own rules rather than restating them.
WS_CHARS = "".join(chr(b) for b in range(256) if chr(b).isspace())  # str.rstrip, in Latin-1
WS = np.array([chr(b) in WS_CHARS for b in range(256)], dtype=bool)
BLANK_BYTES = np.array([chr(b) in BLANK for b in range(256)], dtype=bool)
_PAIRS = np.arange(1 << 16)
_LOW, _HIGH = _PAIRS & 0xFF, _PAIRS >> 8  # a little-endian uint16 is (first byte, second byte)
#: Two bytes -> both blank (a blank code).
BLANK_PAIR = WS[_LOW] & WS[_HIGH]
#: Two bytes -> their value if both are ASCII digits, else -1 (the typed reader refuses it).
DIGITS = np.full(256, -1, dtype=np.int64)
DIGITS[ord("0") : ord("9") + 1] = np.arange(10)
TWO_DIGITS = np.where(
    (DIGITS[_LOW] >= 0) & (DIGITS[_HIGH] >= 0), DIGITS[_LOW] * 10 + DIGITS[_HIGH], -1
)
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
#: One byte -> its right-stripped text (for one-column text fields).
ONE_CHAR = [chr(b).rstrip() for b in range(256)]


class Block:
    """Typed views of one matrix's fields (no copies until a value is needed); fields and
    exam spreads come from the layout's :class:`~apscores.tables._plan.Plan`."""

    def __init__(self, matrix: Array) -> None:
        self.matrix = matrix
        self.rows, self.stride = matrix.shape
        self.flat = matrix.reshape(-1)

    def view(self, dtype: str, start: int, shape: tuple[int, ...], steps: tuple[int, ...]) -> Array:
        view: Array = np.ndarray(shape, dtype, self.matrix, start, (self.stride, *steps))
        return view

    def bytes(self, field: Field) -> Array:
        """The field's bytes, (rows, width)."""
        found: Array = self.matrix[:, field.slice]
        return found

    def pair(self, field: Field) -> Array:
        """A two-column field as one little-endian uint16 per row."""
        return self.view("<u2", field.start - 1, (self.rows,), ())

    def exams(self, spread: Spread) -> Array:
        """An exam field in every exam block, (rows, blocks), uint8 or uint16."""
        dtype = "u1" if spread.width == 1 else "<u2"
        return self.view(dtype, spread.start, (self.rows, spread.blocks), (spread.step,))

    def exam(self, spread: Spread, row: Array, slot: Array) -> Array:
        """An exam field of the given (row, slot) pairs, as int64 keys (little-endian)."""
        at = row * self.stride + slot * spread.step + spread.start
        key: Array = np.take(self.flat, at).astype(np.int64)
        for column in range(1, spread.width):
            key |= np.take(self.flat, at + column).astype(np.int64) << (8 * column)
        return key


def as_text(field: Array) -> Any:
    """Latin-1 text, right-stripped as ``str.rstrip`` does, as an Arrow string array."""
    data = field.copy()
    rows, width = data.shape
    if data.max(initial=0) < 0x80:
        encoded: Any = data
        lengths = np.full(rows, width, dtype=np.int32)
    else:  # Latin-1 -> UTF-8: every byte >= 0x80 becomes two
        encoded = data.tobytes().decode("latin-1").encode("utf-8")
        high = data >> 7
        lengths = np.full(rows, width, dtype=np.int32)
        for column in range(width):
            lengths += high[:, column]
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    text = pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(encoded))
    return pc.utf8_rtrim(text, characters=WS_CHARS)


def di_codes(field: Array) -> Any:
    """The DI codes of a college-code field, as ``college_code_to_di`` makes them: stripped,
    and ``00`` dropped from six ASCII digits (a test compares the two)."""
    if field.shape[1] != 6:  # pragma: no cover - a layout guard
        raise AssertionError("the college code is no longer six columns")
    digits = (DIGITS[field] >= 0).all(axis=1)
    zeros = (field[:, 0] == ord("0")) & (field[:, 1] == ord("0"))
    stripped = pc.utf8_ltrim(as_text(field), characters=WS_CHARS)
    return pc.if_else(pa.array(digits & zeros), as_text(field[:, 2:]), stripped)


def unkey(key: int, width: int) -> str:
    """The right-stripped text of a little-endian key of ``width`` bytes."""
    return int(key).to_bytes(width, "little").decode("latin-1").rstrip()


def distinct(keys: Array) -> tuple[list[int], Array]:
    """Distinct keys in first-appearance order, and each row's index into them."""
    encoded = pc.dictionary_encode(pa.array(keys, pa.int64()))
    uniques: list[int] = encoded.dictionary.to_pylist()
    indices: Array = encoded.indices.to_numpy()
    return uniques, indices


def mapped(keys: Array, convert: Callable[[int], str]) -> tuple[Any, Array]:
    """``convert`` applied once per distinct key: (strings, each row's index into them)."""
    uniques, indices = distinct(keys)
    return pa.array([convert(key) for key in uniques], pa.string()), indices


def to_days(field: Array) -> tuple[Array, Array]:
    """MMDDYY bytes, (rows, 6) -> (days since 1970, blank), checked as the typed reader's
    ``parse_date`` checks them (a test compares the two); refuses the block otherwise."""
    digit = DIGITS[field]
    digits: Array = np.all(digit >= 0, axis=1)
    blank: Array = np.all(WS[field], axis=1)
    if not (blank | digits).all():
        raise UnsafeBlockError
    digit = np.where(digits[:, None], digit, 0)
    month = digit[:, 0] * 10 + digit[:, 1]
    day = digit[:, 2] * 10 + digit[:, 3]
    at = (digit[:, 4] * 10 + digit[:, 5]) * 12 + np.clip(month, 1, 12) - 1
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= _MONTH_DAYS[at])
    if (digits & ~valid).any():
        raise UnsafeBlockError
    days = np.where(digits, _MONTH_STARTS[at] + day - 1, 0).astype(np.int32)
    return days, blank


def irregularities(key: int) -> tuple[str, ...]:
    """The non-blank irregularity codes packed in ``key`` (two 2-byte codes)."""
    codes = (unkey(key >> 16, 2), unkey(key & 0xFFFF, 2))
    return tuple(code for code in codes if code)
