"""The columnar fast path: a TXT score file straight to a long Arrow table, with numpy.

:func:`apscores.tables.to_arrow` over :func:`apscores.files.read_txt` builds a
:class:`~apscores.models.ScoreReport` per line and a dict per exam; that is the reference.
This module produces the *same* table (columns, types, values, row order, dictionaries)
without building any Python object per line:

- Records follow a :class:`~apscores.files.layout.Layout` (the 950-column one unless told):
  every offset comes from its plan (:mod:`apscores.tables._plan`), which finds each field
  through the record attribute it fills, so a layout whose fields moved or widened reads
  the same way.
- The file is read in blocks of whole lines (``chunk_lines`` at a time, so memory is
  bounded per block). A block whose lines all have the layout's length and the same
  ending (LF or CRLF) is viewed as a 2-D ``uint8`` array without copying; any other block
  (stripped trailing blanks, 910-column lines under the 950 layout, blank lines, mixed
  endings) is padded to the layout's length line by line first.
- The exam blocks are unpivoted to one row per exam, ending at the first block whose exam
  code is blank.
- Years use a table built from :func:`apscores.years.expand_year`; ``MMDDYY`` dates are
  checked and converted with numpy, once per distinct date; text is decoded as Latin-1,
  encoded as UTF-8 and right-stripped of exactly the characters ``str.rstrip`` strips.
- Values with few distinct raw forms (exam codes and names by admin year, statuses,
  irregularity codes, DI and school codes) are resolved once per distinct value with the
  package's own functions (:func:`apscores.catalog.exam_name`,
  :func:`~apscores.catalog.exam_status`, ``college_code_to_di``).

Validation. Every check the typed reader makes that could refuse a line is made here too,
vectorised (a blank required field: the AP ID and the two dates every record carries; line
too long, dates, two-digit years of exams, awards and previous schools, grades). A block
where any check fails is handed whole to the typed reader, which raises the same
:class:`~apscores.errors.ParseError` (line number, field, raw text) that ``read_txt``
raises for that file. So this path is never silently different: it is either
fast and equal, or it is the reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from os import PathLike
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from apscores import catalog
from apscores.errors import ParseError
from apscores.files import _txt as txt
from apscores.files._sources import Opened, look_ahead, source_name
from apscores.files.blocks import Block, Piece, blocks
from apscores.files.layout import Layout
from apscores.models import ScoreReport
from apscores.tables._arrays import (
    BLANK_BYTES,
    BLANK_PAIR,
    GRADES,
    ONE_CHAR,
    TWO_DIGITS,
    WS,
    YEARS,
    as_text,
    di_codes,
    distinct,
    irregularities,
    mapped,
    to_days,
    unkey,
)
from apscores.tables._arrays import Block as Matrix
from apscores.tables._blocks import UnsafeBlockError, as_matrix
from apscores.tables._plan import Plan, plan_for
from apscores.tables._rows import columns_of
from apscores.tables._schema import IRREGULARITY_SEPARATOR, column_kind

__all__ = [
    "Dictionaries",
    "file_blocks",
    "long_blocks",
    "long_parts",
    "read_long_table",
    "typed_records",
]

Array = npt.NDArray[Any]
Part = dict[str, Any]  # column -> pa.Array, or int32 dictionary indices for categories
_SPACE = ord(" ")


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


def _drop_blank_lines(matrix: Array, plan: Plan) -> Array:
    """Drop blank lines (all blanks, or a 910 line blank up to column 900); a blank AP ID
    on any other line is the typed reader's to report."""
    blank_id = (matrix[:, plan.ap_id.slice] == _SPACE).all(axis=1)
    if blank_id.any():
        if not BLANK_BYTES[matrix[blank_id, : plan.length]].all():
            raise UnsafeBlockError
        matrix = matrix[~blank_id]
    return matrix


def _check(block: Matrix, plan: Plan) -> None:
    """Refuse what the typed reader refuses in fields the long table does not show, and
    a blank required field (the typed reader names it)."""
    for field in plan.required:
        if WS[block.bytes(field)].all(axis=1).any():
            raise UnsafeBlockError
    for field in plan.previous_years:
        pair = block.pair(field)
        if ((TWO_DIGITS[pair] < 0) & ~BLANK_PAIR[pair]).any():
            raise UnsafeBlockError
    for award_type, award_year in plan.awards:
        given = ~BLANK_PAIR[block.pair(award_type)]
        if (given & (TWO_DIGITS[block.pair(award_year)] < 0)).any():
            raise UnsafeBlockError


def _fast_part(raw: Block, plan: Plan, names: _Dictionary, statuses: _Dictionary) -> Part:
    """Read a block with numpy; refuses it when the typed reader must decide."""
    block = Matrix(_drop_blank_lines(as_matrix(raw, plan), plan))
    if not block.rows:
        raise UnsafeBlockError  # only blank lines: nothing to gain, and no rows to view
    _check(block, plan)

    # Exams: one row per (student, slot) up to the first blank exam code, in file order.
    exams = plan.exams
    present = ~BLANK_PAIR[block.exams(exams["code"])]
    student, slot = np.nonzero(np.logical_and.accumulate(present, axis=1))

    def exam(attribute: str) -> Array:
        return block.exam(exams[attribute], student, slot)

    yy = TWO_DIGITS[exam("admin_year")]
    score = GRADES[exam("score")]
    if (yy < 0).any() or (score < 0).any():
        raise UnsafeBlockError
    no_score = score == 0
    code = exam("code")
    irregular = (exam("irregularity_codes[0]") << 16) | exam("irregularity_codes[1]")

    part: Part = {}
    rows = pa.array(student)
    for name, field in plan.texts:
        if field.width == 1:
            values = pa.array(ONE_CHAR, pa.string())
            part[name] = values.take(pa.array(block.bytes(field)[:, 0][student]))
        else:
            part[name] = as_text(block.bytes(field)).take(rows)
    part["di_code"] = di_codes(block.bytes(plan.di)).take(rows)
    for name, field in plan.dates:
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
    part["class_section"] = sections.take(pa.array(exam("class_section")))
    return part


def _slow_part(
    piece: Piece,
    names: _Dictionary,
    statuses: _Dictionary,
    collect: bool,
    problems: list[ParseError],
    name: str | None,
    layout: Layout | None = None,
) -> Part:
    """Read a block with the typed reader (the reference): the same records, and the same
    errors, raised or collected."""
    records = txt.read_pieces(
        (piece,), collect=collect, problems=problems, name=name, layout=layout
    )
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
    layout: Layout | None = None,
) -> Iterator[Part]:
    """The long table of a TXT stream, a block at a time (its columns, categories as
    indices into ``dictionaries``). The first-line checks run before the first block.

    Blocks of about ``chunk_lines`` lines come from the one block reader,
    :func:`apscores.files.blocks.blocks`. Records follow ``layout`` (None: the 950-column
    layout, 910-column lines read as today); a ``ValueError`` names a layout this path
    cannot read. With ``collect``, bad lines are skipped and their errors appended to
    ``problems``; errors name the file ``name``.
    """
    found: list[ParseError] = problems if problems is not None else []
    names, statuses = dictionaries.names, dictionaries.statuses
    for item in long_blocks(
        stream, dictionaries, chunk_lines=chunk_lines, name=name, layout=layout
    ):
        if isinstance(item, dict):
            yield item
        else:
            yield _slow_part(item, names, statuses, collect, found, name, layout)


def long_blocks(
    stream: BinaryIO,
    dictionaries: Dictionaries,
    *,
    chunk_lines: int,
    name: str | None = None,
    layout: Layout | None = None,
) -> Iterator[Part | Piece]:
    """:func:`long_parts` without the typed reader: each block read by the fast path as
    its part, each block it refuses as the block reader's piece (for the caller to read
    with :func:`apscores.files._txt.read_pieces`, as the reference path would)."""
    plan = plan_for(layout)
    names, statuses = dictionaries.names, dictionaries.statuses
    size = chunk_lines * (plan.length + 1)
    opened = Opened(None, None, _nothing, name, blocks(stream.read, size))
    look_ahead(opened, plan.plausible)  # the typed reader's first-line checks
    for piece in opened.blocks():
        if isinstance(piece, Block):
            try:
                yield _fast_part(piece, plan, names, statuses)
                continue
            except UnsafeBlockError:
                pass
        yield piece


def read_long_table(
    stream: BinaryIO,
    schema: Any,
    *,
    chunk_lines: int,
    collect: bool = False,
    problems: list[ParseError] | None = None,
    name: str | None = None,
    layout: Layout | None = None,
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
            layout=layout,
        )
    )
    batches = [dictionaries.batch(part, schema) for part in parts]
    return pa.Table.from_batches(batches, schema=schema)


def file_blocks(
    sources: Iterable[str | PathLike[str]],
    schema: Any,
    *,
    chunk_lines: int,
    layout: Layout | None = None,
) -> Iterator[tuple[Any, str | None]]:
    """Each file's blocks in turn with the file's name: the record batch (``schema``'s)
    of a block the fast path reads, or the piece it refuses (see :func:`typed_records`)."""
    dictionaries = Dictionaries()
    for source in sources:
        name = source_name(source)
        with open(source, "rb") as stream:
            for item in long_blocks(
                stream, dictionaries, chunk_lines=chunk_lines, name=name, layout=layout
            ):
                batch = dictionaries.batch(item, schema) if isinstance(item, dict) else item
                yield batch, name


def typed_records(
    piece: Piece, name: str | None, layout: Layout | None = None
) -> Iterator[ScoreReport]:
    """The records of a piece the fast path refused, read by the typed reader as the
    reference path reads them: its first error raised, after the records before it."""
    return txt.read_pieces((piece,), collect=False, problems=[], name=name, layout=layout)
