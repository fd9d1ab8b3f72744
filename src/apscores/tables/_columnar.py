"""The columnar fast path: a TXT score file straight to a long Arrow table, with numpy.

:func:`apscores.tables.to_arrow` over :func:`apscores.files.read_txt` builds a
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

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from apscores import catalog
from apscores._guard import guard
from apscores.errors import ParseError
from apscores.files import _txt as txt
from apscores.files._framing import LENGTH
from apscores.files._sources import Opened, look_ahead
from apscores.files.blocks import Block, Piece, blocks
from apscores.files.layout import LAYOUT_950, FieldKind
from apscores.tables._arrays import (
    BLANK_BYTES,
    BLANK_PAIR,
    GRADES,
    ONE_CHAR,
    SPACES,
    TWO_DIGITS,
    YEARS,
    as_text,
    di_codes,
    distinct,
    irregularities,
    layout_field,
    mapped,
    to_days,
    unkey,
)
from apscores.tables._arrays import Block as Matrix
from apscores.tables._blocks import UnsafeBlockError, as_matrix
from apscores.tables._rows import columns_of
from apscores.tables._schema import (
    DATE_COLUMNS,
    IRREGULARITY_SEPARATOR,
    STUDENT_COLUMNS,
    column_kind,
)

__all__ = ["Dictionaries", "long_parts", "read_long_table"]

Array = npt.NDArray[Any]
Part = dict[str, Any]  # column -> pa.Array, or int32 dictionary indices for categories

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
    if field.kind in (FieldKind.TEXT, FieldKind.CODE) and column in STUDENT_COLUMNS
}
#: Long column -> layout field, for the four dates.
_DATE_FIELDS = {column: f.name for column, f in _FIELD_OF.items() if f.kind is FieldKind.DATE}
_DI_FIELD = next(f.name for f in _FIELD_OF.values() if f.kind is FieldKind.DI)
_SCHOOL_CODE_FIELD = _FIELD_OF["high_school_code"].name
guard(
    set(_FIELD_OF) == {*_TEXT_FIELDS, *_DATE_FIELDS, "di_code", "high_school_code"},
    "every long column is a text, a date, the DI code or the school code",
)
_WORDS = ("ap_id",)  # fields read as one int64 word
_PAIR_FIELDS = (*_PREVIOUS_YEARS, *(name for pair in _AWARDS for name in pair))
if any(  # pragma: no cover - layout guards, checked at import
    layout_field(name).start - 1 + 8 > LENGTH or layout_field(name).width > 8 for name in _WORDS
) or any(layout_field(name).width != 2 for name in _PAIR_FIELDS):
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


# --- one block of lines -----------------------------------------------------------------


def _drop_blank_lines(matrix: Array) -> Array:
    """Drop blank lines (950 columns of blanks, or a 910 line blank up to column 900);
    a blank AP ID on any other line is the typed reader's to report."""
    keys = Matrix(matrix).word("ap_id")
    blank_id = keys == SPACES & ((1 << (8 * layout_field("ap_id").width)) - 1)
    if blank_id.any():
        if not BLANK_BYTES[matrix[blank_id, :LENGTH]].all():
            raise UnsafeBlockError
        matrix = matrix[~blank_id]
    return matrix


def _check(block: Matrix) -> None:
    """Refuse what the typed reader refuses in fields the long table does not show."""
    for name in _PREVIOUS_YEARS:
        pair = block.pair(name)
        if ((TWO_DIGITS[pair] < 0) & ~BLANK_PAIR[pair]).any():
            raise UnsafeBlockError
    for award_type, award_year in _AWARDS:
        given = ~BLANK_PAIR[block.pair(award_type)]
        if (given & (TWO_DIGITS[block.pair(award_year)] < 0)).any():
            raise UnsafeBlockError


def _fast_part(raw: Block, names: _Dictionary, statuses: _Dictionary) -> Part:
    """Read a block with numpy; refuses it when the typed reader must decide."""
    block = Matrix(_drop_blank_lines(as_matrix(raw)))
    if not block.rows:
        raise UnsafeBlockError  # only blank lines: nothing to gain, and no rows to view
    _check(block)

    # Exams: one row per (student, slot) up to the first blank exam code, in file order.
    present = ~BLANK_PAIR[block.exams("exam_code")]
    student, slot = np.nonzero(np.logical_and.accumulate(present, axis=1))

    def exam(name: str) -> Array:
        return block.exam(name, student, slot)

    yy = TWO_DIGITS[exam("admin_year")]
    score = GRADES[exam("exam_grade")]
    if (yy < 0).any() or (score < 0).any():
        raise UnsafeBlockError
    no_score = score == 0
    code = exam("exam_code")
    irregular = (exam("irregularity_code_1") << 16) | exam("irregularity_code_2")

    part: Part = {}
    rows = pa.array(student)
    for name, field in _TEXT_FIELDS.items():
        if layout_field(field).width == 1:
            values = pa.array(ONE_CHAR, pa.string())
            part[name] = values.take(pa.array(block.bytes(field)[:, 0][student]))
            continue
        text = as_text(block.bytes(field))
        if name == "ap_id" and pc.any(pc.equal(pc.utf8_length(text), 0)).as_py():
            raise UnsafeBlockError  # blanks other than spaces: the typed reader decides
        part[name] = text.take(rows)
    part["di_code"] = di_codes(block.bytes(_DI_FIELD)).take(rows)
    part["high_school_code"] = as_text(block.bytes(_SCHOOL_CODE_FIELD)).take(rows)
    for name, field in _DATE_FIELDS.items():
        days, blank = to_days(block.bytes(field))
        part[name] = pa.array(days[student], pa.date32(), mask=blank[student])

    exam_codes, indices = mapped(code, lambda key: unkey(key, 2))
    part["exam_code"] = exam_codes.take(pa.array(indices))
    uniques, indices = distinct(code * 100 + yy)
    found = (catalog.exam_name(unkey(key // 100, 2), int(YEARS[key % 100])) for key in uniques)
    part["exam_name"] = names.indices(found)[indices]
    part["admin_year"] = pa.array(YEARS[yy])
    part["score"] = pa.array(score, pa.int64(), mask=no_score)
    uniques, indices = distinct((irregular << 3) | score)
    found = (
        catalog.exam_status((key & 7) or None, irregularities(key >> 3)).value for key in uniques
    )
    part["status"] = statuses.indices(found)[indices]
    separator = IRREGULARITY_SEPARATOR
    codes, indices = mapped(irregular, lambda key: separator.join(irregularities(key)))
    part["irregularity_codes"] = codes.take(pa.array(indices))
    sections = pa.array(ONE_CHAR, pa.string())
    part["class_section"] = sections.take(pa.array(exam("class_section_code")))
    return part


def _slow_part(
    piece: Piece,
    names: _Dictionary,
    statuses: _Dictionary,
    collect: bool,
    problems: list[ParseError],
    name: str | None,
) -> Part:
    """Read a block with the typed reader (the reference): the same records, and the same
    errors, raised or collected."""
    records = txt.read_pieces((piece,), collect=collect, problems=problems, name=name)
    _, columns = columns_of(list(records), True)
    types = {"str": pa.string(), "int": pa.int64(), "date": pa.date32()}
    part: Part = {}
    for column, values in columns.items():
        kind = column_kind(column)
        if kind == "category":
            part[column] = (names if column == "exam_name" else statuses).indices(values)
        else:
            part[column] = pa.array(values, types[kind])
    return part


def _nothing() -> None:
    """Close nothing: the caller owns the stream."""


class Dictionaries:
    """The category columns' dictionaries, shared by every block (and file) of a table."""

    def __init__(self) -> None:
        self.names, self.statuses = _Dictionary(), _Dictionary()

    def batch(self, part: Part, schema: Any) -> Any:
        """A block's record batch, its categories over the dictionaries as they are now
        (the final ones, or a prefix of them while streaming: the same values)."""
        dictionaries = {
            "exam_name": pa.array(self.names.values, pa.string()),
            "status": pa.array(self.statuses.values, pa.string()),
        }
        arrays = []
        for field in schema:
            values = part[field.name]
            if field.name in dictionaries:
                indices = pa.array(values, pa.int32())
                values = pa.DictionaryArray.from_arrays(indices, dictionaries[field.name])
            arrays.append(values)
        return pa.RecordBatch.from_arrays(arrays, schema=schema)


def long_parts(
    stream: BinaryIO,
    dictionaries: Dictionaries,
    *,
    chunk_lines: int,
    collect: bool = False,
    problems: list[ParseError] | None = None,
    name: str | None = None,
) -> Iterator[Part]:
    """The long table of a TXT stream, a block at a time (its columns, categories as
    indices into ``dictionaries``). The first-line checks run before the first block.

    Blocks of about ``chunk_lines`` lines (about 950 bytes a line) come from the one block
    reader, :func:`apscores.files.blocks.blocks`. With ``collect``, bad lines are skipped
    and their errors appended to ``problems``; errors name the file ``name``.
    """
    found: list[ParseError] = problems if problems is not None else []
    names, statuses = dictionaries.names, dictionaries.statuses
    opened = Opened(None, None, _nothing, name, blocks(stream.read, chunk_lines * (LENGTH + 1)))
    look_ahead(opened, txt.plausible_record)  # the typed reader's first-line checks
    for piece in opened.blocks():
        if isinstance(piece, Block):
            try:
                yield _fast_part(piece, names, statuses)
                continue
            except UnsafeBlockError:
                pass
        yield _slow_part(piece, names, statuses, collect, found, name)


def read_long_table(
    stream: BinaryIO,
    schema: Any,
    *,
    chunk_lines: int,
    collect: bool = False,
    problems: list[ParseError] | None = None,
    name: str | None = None,
) -> Any:
    """The long table of a TXT stream, with ``schema`` (the reference path's); see
    :func:`long_parts`."""
    dictionaries = Dictionaries()
    parts = list(
        long_parts(
            stream,
            dictionaries,
            chunk_lines=chunk_lines,
            collect=collect,
            problems=problems,
            name=name,
        )
    )
    batches = [dictionaries.batch(part, schema) for part in parts]
    return pa.Table.from_batches(batches, schema=schema)
