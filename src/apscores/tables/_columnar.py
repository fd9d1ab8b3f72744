"""The columnar fast path: a TXT score file straight to a long Arrow table, with numpy.

:func:`apscores.tables.to_arrow` over :func:`apscores.files.txt.read_txt` builds a
:class:`~apscores.models.ScoreReport` per line and a dict per exam; that is the reference.
This module produces the *same* table (columns, types, values, row order, dictionaries)
without building any Python object per line:

- The file is read in blocks of whole lines (``chunk_lines`` at a time, so memory is
  bounded per block). A block whose lines all have 950 columns and the same ending (LF or
  CRLF) is viewed as a 2-D ``uint8`` array without copying; any other block (stripped
  trailing blanks, 910-column lines, blank lines, mixed endings) is padded to 950 columns
  line by line first.
- Fields are sliced with the offsets of :mod:`apscores.files.layout`; the 30 exam blocks are
  unpivoted to one row per exam, ending at the first block whose exam code is blank.
- Years use a table built from :func:`apscores.years.expand_year`; ``MMDDYY`` dates are
  checked and converted with numpy, once per distinct date; text is decoded as Latin-1,
  encoded as UTF-8 and right-stripped of exactly the characters ``str.rstrip`` strips.
- Values with few distinct raw forms (exam codes and names by admin year, statuses,
  irregularity codes, DI and school codes) are resolved once per distinct value with the
  package's own functions (:func:`apscores.catalog.exam_name`,
  :func:`~apscores.catalog.exam_status`, ``college_code_to_di``).

Validation. Every check the typed reader makes that could refuse a line is made here too,
vectorised (blank AP ID, line too long, dates, two-digit years of exams, awards and previous
schools, grades). A block where any check fails is handed whole to the typed reader, which
raises the same :class:`~apscores.errors.ParseError` (line number, field, raw text) that
``read_txt`` raises for that file. So this path is never silently different: it is either
fast and equal, or it is the reference.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from apscores import catalog
from apscores.errors import EmptyFileError, ParseError
from apscores.files import txt
from apscores.files.layout import EXAM_BLOCK_COUNT, LAYOUT_910, LAYOUT_950, Field, Kind
from apscores.files.sources import first_line, peek, split_lines
from apscores.files.values import college_code_to_di
from apscores.tables.rows import columns_of
from apscores.tables.schema import (
    DATE_COLUMNS,
    IRREGULARITY_SEPARATOR,
    STUDENT_COLUMNS,
    column_kind,
)
from apscores.years import expand_year

__all__ = ["read_long_table"]

Array = npt.NDArray[Any]
Part = dict[str, Any]  # column -> pa.Array, or int32 dictionary indices for categories

_LENGTH = LAYOUT_950.length
_MIN_LENGTH = LAYOUT_950.min_length  # the framing rule of apscores.files.layout
#: Columns both layouts share (1-900); what a 910 line has beyond them is filler.
_SHARED = next(
    mine.start - 1
    for mine, theirs in zip(LAYOUT_950.fields, LAYOUT_910.fields, strict=False)
    if mine != theirs
)
_BOM = b"\xef\xbb\xbf"
#: What a blank line may hold; the same characters as ``apscores.files.txt`` (a test checks it).
_BLANK = " \t\x1a\x0c"

# Lookup tables, built from the package's own rules rather than restating them.
_WS_CHARS = "".join(chr(b) for b in range(256) if chr(b).isspace())  # str.rstrip, in Latin-1
_WS = np.array([chr(b) in _WS_CHARS for b in range(256)], dtype=bool)
_BLANK_BYTES = np.array([chr(b) in _BLANK for b in range(256)], dtype=bool)
_PAIRS = np.arange(1 << 16)
_LOW, _HIGH = _PAIRS & 0xFF, _PAIRS >> 8  # a little-endian uint16 is (first byte, second byte)
#: Two bytes -> both blank (a blank code).
_BLANK_PAIR = _WS[_LOW] & _WS[_HIGH]
#: Two bytes -> their value if both are ASCII digits, else -1 (the typed reader refuses it).
_DIGITS = np.full(256, -1, dtype=np.int64)
_DIGITS[ord("0") : ord("9") + 1] = np.arange(10)
_TWO_DIGITS = np.where(
    (_DIGITS[_LOW] >= 0) & (_DIGITS[_HIGH] >= 0), _DIGITS[_LOW] * 10 + _DIGITS[_HIGH], -1
)
#: Two-digit year -> four-digit year: the pivot rule of apscores.years, as a table.
_YEARS = np.array([expand_year(yy) for yy in range(100)], dtype=np.int64)
#: Grade byte -> score 1-5, 0 for blank (no score), -1 for anything else.
_GRADES = np.where(_WS, 0, -1)
_GRADES[ord("1") : ord("5") + 1] = np.arange(1, 6)
#: One byte -> its right-stripped text (for one-column text fields).
_ONE_CHAR = [chr(b).rstrip() for b in range(256)]
_SPACES = int.from_bytes(b" " * 8, "little")


def _field(name: str) -> Field:
    return LAYOUT_950.field(name)


def _block_fields(name: str) -> tuple[int, int, int]:
    """(0-based start in block 1, distance between blocks, width) of an exam field."""
    starts = [_field(f"{name}_{block:02d}").start - 1 for block in range(1, EXAM_BLOCK_COUNT + 1)]
    steps = {later - earlier for earlier, later in itertools.pairwise(starts)}
    if len(steps) != 1:  # pragma: no cover - a layout guard, checked at import
        raise AssertionError(f"exam field {name} is not evenly spaced in apscores.files.layout")
    return starts[0], steps.pop(), _field(f"{name}_01").width


def _exam_field(attribute: str) -> str:
    """The layout name (without ``_01``) of the field behind an exam attribute."""
    return LAYOUT_950.by_attribute(f"exams[0].{attribute}").name.removesuffix("_01")


_EXAM = {
    _exam_field(attribute): _block_fields(_exam_field(attribute))
    for attribute in (
        "admin_year",
        "code",
        "score",
        "irregularity_codes[0]",
        "irregularity_codes[1]",
        "class_section",
    )
}
assert set(_EXAM) == {
    "admin_year",
    "exam_code",
    "exam_grade",
    "irregularity_code_1",
    "irregularity_code_2",
    "class_section_code",
}
_AWARDS = tuple(
    (f.name, f.name.replace("_type_", "_year_"))
    for f in LAYOUT_950.fields
    if f.name.startswith("award_type_")
)
_PREVIOUS_YEARS = tuple(f.name for f in LAYOUT_950.fields if f.name.startswith("previous_ai_year"))
#: Column -> layout field, found through the record attribute the schema names.
_FIELD_OF = {
    column: LAYOUT_950.by_attribute(attribute)
    for column, (_, attribute) in {**STUDENT_COLUMNS, **DATE_COLUMNS}.items()
}
#: Long column -> layout field, for the per-student text columns read as they are.
_TEXT_FIELDS = {
    column: field.name
    for column, field in _FIELD_OF.items()
    if field.kind in (Kind.TEXT, Kind.CODE) and column in STUDENT_COLUMNS
}
#: Long column -> layout field, for the four dates.
_DATE_FIELDS = {column: f.name for column, f in _FIELD_OF.items() if f.kind is Kind.DATE}
_DI_FIELD = next(f.name for f in _FIELD_OF.values() if f.kind is Kind.DI)
_SCHOOL_CODE_FIELD = _FIELD_OF["high_school_code"].name
assert set(_FIELD_OF) == {*_TEXT_FIELDS, *_DATE_FIELDS, "di_code", "high_school_code"}
_WORDS = ("ap_id", _DI_FIELD, _SCHOOL_CODE_FIELD, *_DATE_FIELDS.values())
_PAIR_FIELDS = (*_PREVIOUS_YEARS, *(name for pair in _AWARDS for name in pair))
if any(  # pragma: no cover - layout guards, checked at import
    _field(name).start - 1 + 8 > _LENGTH or _field(name).width > 8 for name in _WORDS
) or any(_field(name).width != 2 for name in _PAIR_FIELDS):
    raise AssertionError("apscores.files.layout moved a field this module reads as a word or pair")


class _Dictionary:
    """One dictionary for a category column across all blocks, in first-appearance order
    (what ``pyarrow.Table.from_pydict`` builds on the reference path)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def indices(self, values: Iterable[str]) -> npt.NDArray[np.int32]:
        """Each value's index, adding new values at the end in the order given."""
        out: list[int] = []
        for value in values:
            index = self._index.get(value)
            if index is None:
                index = self._index[value] = len(self.values)
                self.values.append(value)
            out.append(index)
        return np.array(out, dtype=np.int32)


class _UnsafeBlockError(Exception):
    """A block holds a value the fast path cannot vouch for: read it the reference way."""


# --- reading blocks of whole lines ----------------------------------------------------------


def _blocks(stream: BinaryIO, chunk_lines: int) -> Iterator[tuple[memoryview, int]]:
    """(whole lines, how many) until the end of the stream; the last line gets a newline.

    Lines are read into one reused buffer, so a block is only valid until the next one.
    """
    buffer = bytearray(chunk_lines * (_LENGTH + 2))
    view = memoryview(buffer)
    filled = 0  # bytes of an unfinished line carried over at the start of the buffer
    start = 0
    first = True
    while True:
        if filled == len(buffer):  # a line longer than the buffer: make room
            buffer = bytearray(buffer) + bytearray(len(buffer))
            view = memoryview(buffer)
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
        cut = buffer.rfind(b"\n", start, end) + 1
        if cut == 0:
            filled = end
            continue
        yield view[start:cut], _count_lines(view[start:cut])
        tail = bytes(view[cut:end])
        view[: len(tail)] = tail
        filled, start = len(tail), 0


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


def _matrix(block: memoryview, lines: int) -> Array:
    """The block as rows of at least 950 columns, without its empty lines.

    A block of 950-column lines with one ending is viewed in place; any other is padded
    line by line. Raises :class:`_UnsafeBlockError` for a line longer than the layout.
    """
    flat = np.frombuffer(block, dtype=np.uint8)
    stride = len(block) // lines
    if stride * lines == len(block) and stride in (_LENGTH + 1, _LENGTH + 2):
        view = flat.reshape(lines, stride)
        ending = np.frombuffer(b"\r\n"[_LENGTH + 2 - stride :], dtype=np.uint8)
        # With as many newlines as rows, all at row ends, every line has the same length.
        if (view[:, _LENGTH:] == ending).all() and not (view[:, _LENGTH - 1] == 13).any():
            return view
    padded: list[bytes] = []
    for raw in bytes(block).split(b"\n")[:-1]:
        line = raw.rstrip(b"\r")
        size = len(line)
        if size != _LENGTH:
            if not line.decode("latin-1").strip(_BLANK):
                continue
            if size > _LENGTH or size < _MIN_LENGTH:  # too long, or a truncated record
                raise _UnsafeBlockError
            if size == LAYOUT_910.length:
                line = line[:_SHARED]
            line = line.ljust(_LENGTH)
        padded.append(line)
    return np.frombuffer(b"".join(padded), dtype=np.uint8).reshape(len(padded), _LENGTH)


# --- fields as arrays -------------------------------------------------------------------


class _Block:
    """Typed views of one matrix's fields (no copies until a value is needed)."""

    def __init__(self, matrix: Array) -> None:
        self.matrix = matrix
        self.rows, self.stride = matrix.shape
        self.flat = matrix.reshape(-1)

    def view(self, dtype: str, start: int, shape: tuple[int, ...], steps: tuple[int, ...]) -> Array:
        view: Array = np.ndarray(shape, dtype, self.matrix, start, (self.stride, *steps))
        return view

    def bytes(self, name: str) -> Array:
        """The field's bytes, (rows, width)."""
        field: Array = self.matrix[:, _field(name).slice]
        return field

    def pair(self, name: str) -> Array:
        """A two-column field as one little-endian uint16 per row."""
        return self.view("<u2", _field(name).start - 1, (self.rows,), ())

    def word(self, name: str) -> Array:
        """A field of up to 8 columns as one little-endian int64 key per row."""
        field = _field(name)
        key = self.view("<u8", field.start - 1, (self.rows,), ()).astype(np.int64)
        return key & ((1 << (8 * field.width)) - 1) if field.width < 8 else key

    def exams(self, name: str) -> Array:
        """An exam field in the 30 blocks, (rows, 30), uint8 or uint16."""
        start, step, width = _EXAM[name]
        dtype = "u1" if width == 1 else "<u2"
        return self.view(dtype, start, (self.rows, EXAM_BLOCK_COUNT), (step,))

    def exam(self, name: str, row: Array, slot: Array) -> Array:
        """An exam field of the given (row, slot) pairs, as int64 keys (little-endian)."""
        start, step, width = _EXAM[name]
        at = row * self.stride + slot * step + start
        key: Array = np.take(self.flat, at).astype(np.int64)
        for column in range(1, width):
            key |= np.take(self.flat, at + column).astype(np.int64) << (8 * column)
        return key


def _text(field: Array) -> Any:
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
    return pc.utf8_rtrim(text, characters=_WS_CHARS)


def _unkey(key: int, width: int) -> str:
    """The right-stripped text of a little-endian key of ``width`` bytes."""
    return int(key).to_bytes(width, "little").decode("latin-1").rstrip()


def _distinct(keys: Array) -> tuple[list[int], Array]:
    """Distinct keys in first-appearance order, and each row's index into them."""
    encoded = pc.dictionary_encode(pa.array(keys, pa.int64()))
    uniques: list[int] = encoded.dictionary.to_pylist()
    indices: Array = encoded.indices.to_numpy()
    return uniques, indices


def _mapped(keys: Array, convert: Callable[[int], str]) -> tuple[Any, Array]:
    """``convert`` applied once per distinct key: (strings, each row's index into them)."""
    uniques, indices = _distinct(keys)
    return pa.array([convert(key) for key in uniques], pa.string()), indices


def _dates(keys: Array) -> tuple[Array, Array]:
    """Packed MMDDYY keys -> (days since 1970, blank), checked as the typed reader's
    ``parse_date`` checks them (a test compares the two); refuses the block otherwise."""
    encoded = pc.dictionary_encode(pa.array(keys, pa.int64()))
    uniques = encoded.dictionary.to_numpy()
    raw = [(uniques >> (8 * at)) & 0xFF for at in range(6)]
    blank = np.logical_and.reduce([_WS[byte] for byte in raw])
    digit = [_DIGITS[byte] for byte in raw]
    digits = np.logical_and.reduce([value >= 0 for value in digit])
    if not (blank | digits).all():
        raise _UnsafeBlockError
    month = digit[0] * 10 + digit[1]
    day = digit[2] * 10 + digit[3]
    year = _YEARS[np.where(digits, digit[4] * 10 + digit[5], 0)]
    months = (year - 1970) * 12 + np.clip(month, 1, 12) - 1
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    after = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= after - first)
    if (digits & ~valid).any():
        raise _UnsafeBlockError
    days = np.where(digits, first + day - 1, 0).astype(np.int32)
    indices = encoded.indices.to_numpy()
    return days[indices], blank[indices]


def _irregularities(key: int) -> tuple[str, ...]:
    """The non-blank irregularity codes packed in ``key`` (two 2-byte codes)."""
    codes = (_unkey(key >> 16, 2), _unkey(key & 0xFFFF, 2))
    return tuple(code for code in codes if code)


# --- one block of lines -----------------------------------------------------------------


def _drop_blank_lines(matrix: Array) -> Array:
    """Drop blank lines (950 columns of blanks, or a 910 line blank up to column 900);
    a blank AP ID on any other line is the typed reader's to report."""
    keys = _Block(matrix).word("ap_id")
    blank_id = keys == _SPACES & ((1 << (8 * _field("ap_id").width)) - 1)
    if blank_id.any():
        if not _BLANK_BYTES[matrix[blank_id, :_LENGTH]].all():
            raise _UnsafeBlockError
        matrix = matrix[~blank_id]
    return matrix


def _check(block: _Block) -> None:
    """Refuse what the typed reader refuses in fields the long table does not show."""
    for name in _PREVIOUS_YEARS:
        pair = block.pair(name)
        if ((_TWO_DIGITS[pair] < 0) & ~_BLANK_PAIR[pair]).any():
            raise _UnsafeBlockError
    for award_type, award_year in _AWARDS:
        given = ~_BLANK_PAIR[block.pair(award_type)]
        if (given & (_TWO_DIGITS[block.pair(award_year)] < 0)).any():
            raise _UnsafeBlockError


def _fast_part(raw: memoryview, lines: int, names: _Dictionary, statuses: _Dictionary) -> Part:
    """Read a block with numpy; refuses it when the typed reader must decide."""
    block = _Block(_drop_blank_lines(_matrix(raw, lines)))
    if not block.rows:
        raise _UnsafeBlockError  # only blank lines: nothing to gain, and no rows to view
    _check(block)

    # Exams: one row per (student, slot) up to the first blank exam code, in file order.
    present = ~_BLANK_PAIR[block.exams("exam_code")]
    student, slot = np.nonzero(np.logical_and.accumulate(present, axis=1))

    def exam(name: str) -> Array:
        return block.exam(name, student, slot)

    yy = _TWO_DIGITS[exam("admin_year")]
    score = _GRADES[exam("exam_grade")]
    if (yy < 0).any() or (score < 0).any():
        raise _UnsafeBlockError
    no_score = score == 0
    code = exam("exam_code")
    irregular = (exam("irregularity_code_1") << 16) | exam("irregularity_code_2")

    part: Part = {}
    rows = pa.array(student)
    for name, field in _TEXT_FIELDS.items():
        if _field(field).width == 1:
            values = pa.array(_ONE_CHAR, pa.string())
            part[name] = values.take(pa.array(block.bytes(field)[:, 0][student]))
            continue
        text = _text(block.bytes(field))
        if name == "ap_id" and pc.any(pc.equal(pc.utf8_length(text), 0)).as_py():
            raise _UnsafeBlockError  # blanks other than spaces: the typed reader decides
        part[name] = text.take(rows)
    di_codes, indices = _mapped(
        block.word(_DI_FIELD), lambda key: college_code_to_di(_unkey(key, 6))
    )
    part["di_code"] = di_codes.take(pa.array(indices[student]))
    width = _field(_SCHOOL_CODE_FIELD).width
    schools, indices = _mapped(block.word(_SCHOOL_CODE_FIELD), lambda key: _unkey(key, width))
    part["high_school_code"] = schools.take(pa.array(indices[student]))
    for name, field in _DATE_FIELDS.items():
        days, blank = _dates(block.word(field))
        part[name] = pa.array(days[student], pa.date32(), mask=blank[student])

    exam_codes, indices = _mapped(code, lambda key: _unkey(key, 2))
    part["exam_code"] = exam_codes.take(pa.array(indices))
    uniques, indices = _distinct(code * 100 + yy)
    found = (catalog.exam_name(_unkey(key // 100, 2), int(_YEARS[key % 100])) for key in uniques)
    part["exam_name"] = names.indices(found)[indices]
    part["admin_year"] = pa.array(_YEARS[yy])
    part["score"] = pa.array(score, pa.int64(), mask=no_score)
    uniques, indices = _distinct((irregular << 3) | score)
    found = (
        catalog.exam_status((key & 7) or None, _irregularities(key >> 3)).value for key in uniques
    )
    part["status"] = statuses.indices(found)[indices]
    separator = IRREGULARITY_SEPARATOR
    codes, indices = _mapped(irregular, lambda key: separator.join(_irregularities(key)))
    part["irregularity_codes"] = codes.take(pa.array(indices))
    sections = pa.array(_ONE_CHAR, pa.string())
    part["class_section"] = sections.take(pa.array(exam("class_section_code")))
    return part


def _slow_part(
    block: bytes,
    line_no: int,
    names: _Dictionary,
    statuses: _Dictionary,
    collect: bool,
    problems: list[ParseError],
) -> Part:
    """Read a block with the typed reader (the reference): the same records, and the same
    errors, raised or collected."""
    lines = split_lines(io.BytesIO(block).read)
    records = txt.read_lines(lines, first_line_no=line_no, collect=collect, problems=problems)
    _, columns = columns_of(list(records), True)
    types = {"str": pa.string(), "int": pa.int64(), "date": pa.date32()}
    part: Part = {}
    for name, values in columns.items():
        kind = column_kind(name)
        if kind == "category":
            part[name] = (names if name == "exam_name" else statuses).indices(values)
        else:
            part[name] = pa.array(values, types[kind])
    return part


def _nothing() -> None:
    """Close nothing: the block is ours."""


def _check_first_line(block: memoryview) -> bool:
    """Apply the typed reader's first-line checks to a block; True once a line was seen."""
    first, _ = peek(split_lines(io.BytesIO(bytes(block)).read))
    if first is None:
        return False
    first_line(iter((first,)), _nothing, None, txt.plausible_record)
    return True


def read_long_table(
    stream: BinaryIO,
    schema: Any,
    *,
    chunk_lines: int,
    collect: bool = False,
    problems: list[ParseError] | None = None,
) -> Any:
    """The long table of a TXT stream, with ``schema`` (the reference path's).

    ``chunk_lines`` lines are read at a time into one buffer (about 950 bytes a line).
    With ``collect``, bad lines are skipped and their errors appended to ``problems``.
    """
    found: list[ParseError] = problems if problems is not None else []
    names, statuses = _Dictionary(), _Dictionary()
    parts: list[Part] = []
    line_no = 1
    seen = False
    for block, lines in _blocks(stream, chunk_lines):
        seen = seen or _check_first_line(block)
        try:
            parts.append(_fast_part(block, lines, names, statuses))
        except _UnsafeBlockError:
            parts.append(_slow_part(bytes(block), line_no, names, statuses, collect, found))
        line_no += lines
    if not seen:
        raise EmptyFileError()
    dictionaries = {
        "exam_name": pa.array(names.values, pa.string()),
        "status": pa.array(statuses.values, pa.string()),
    }
    batches = []
    for part in parts:
        arrays = []
        for field in schema:
            values = part[field.name]
            if field.name in dictionaries:
                indices = pa.array(values, pa.int32())
                values = pa.DictionaryArray.from_arrays(indices, dictionaries[field.name])
            arrays.append(values)
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)
