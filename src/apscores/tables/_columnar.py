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
- The exam blocks are unpivoted to one row per exam, skipping the blocks whose exam code
  is blank (wherever they are, as the typed reader does).
- numpy sees clean bytes only (the block reader refuses a block holding a control byte),
  so blanks and digits are a few byte operations (:mod:`apscores.tables._arrays`); years
  use a table built from :func:`apscores.years.expand_year`; ``MMDDYY`` dates are checked
  and converted from their digit pairs; text is decoded as Latin-1, encoded as UTF-8 and
  right-stripped of exactly the characters ``str.rstrip`` strips, every per-student text
  field of a block in one Arrow array, taken to the exam rows at once.
- Values with few distinct raw forms (exam codes and names by admin year, statuses and
  irregularity codes) are resolved once per distinct value with the package's own
  functions (:func:`apscores.catalog.exam_name`, :func:`~apscores.catalog.exam_status`),
  and kept for the next blocks.

CSV files come here too (:mod:`apscores.tables._csv_columnar`): a block of rows made
fixed-width records is read by :func:`matrix_part`, and a block it refuses by the CSV
reader (:func:`records_part` of its records).

Validation. Every check the typed reader makes that could refuse a line is made here too,
vectorised (a blank required field: the AP ID and the two dates every record carries; line
too long, dates, two-digit years of exams, awards and previous schools, grades). A block
where any check fails is handed whole to the typed reader, which raises the same
:class:`~apscores.errors.ParseError` (line number, field, raw text) that ``read_txt``
raises for that file. So this path is never silently different: it is either
fast and equal, or it is the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from apscores import catalog
from apscores.errors import ParseError
from apscores.files import _txt as txt
from apscores.files._sources import Opened, look_ahead
from apscores.files._speed.cache import Cache
from apscores.files.blocks import Block, Piece, blocks
from apscores.files.layout import Field, Layout
from apscores.models import ScoreReport
from apscores.tables._arrays import (
    GRADES,
    YEARS,
    arrow,
    as_texts,
    blank,
    di_codes,
    digits,
    distinct,
    irregularities,
    keys,
    strings,
    to_days,
    unkey,
)
from apscores.tables._blocks import UnsafeBlockError, as_matrix
from apscores.tables._dictionaries import Dictionaries, Dictionary, Part, fresh_codes
from apscores.tables._plan import Plan, plan_for
from apscores.tables._rows import columns_of
from apscores.tables._schema import IRREGULARITY_SEPARATOR, column_kind

__all__ = [
    "Dictionaries",
    "long_blocks",
    "long_parts",
    "matrix_part",
    "read_long_table",
    "records_part",
    "typed_records",
]

Array = npt.NDArray[Any]
_SPACE = ord(" ")


# --- one block of lines -----------------------------------------------------------------


def _drop_blank_lines(matrix: Array, plan: Plan) -> Array:
    """Drop blank lines (all spaces, or a 910 line blank up to column 900); a blank AP ID
    on any other line is the typed reader's to report."""
    blank_id = blank(matrix[:, plan.ap_id.slice])
    if blank_id.any():
        if (matrix[blank_id, : plan.length] != _SPACE).any():
            raise UnsafeBlockError
        matrix = matrix[~blank_id]
    return matrix


def _pairs(matrix: Array, fields: Iterable[Field]) -> Array:
    """Two-column fields of every row, ``(rows, fields, 2)``."""
    columns = [column for field in fields for column in (field.start - 1, field.start)]
    found: Array = matrix[:, columns].reshape(len(matrix), -1, 2)
    return found


def _check(matrix: Array, plan: Plan) -> None:
    """Refuse what the typed reader refuses in fields the long table does not show, and
    a blank required field (the typed reader names it)."""
    read = {plan.ap_id, *(field for _, field in plan.dates)}  # checked where they are read
    for field in plan.required:
        if field not in read and blank(matrix[:, field.slice]).any():
            raise UnsafeBlockError
    years = _pairs(matrix, plan.previous_years)
    types = _pairs(matrix, (kind for kind, _ in plan.awards))
    award_years = _pairs(matrix, (year for _, year in plan.awards))
    if (~digits(years)[1] & ~blank(years)).any():
        raise UnsafeBlockError
    if (~blank(types) & ~digits(award_years)[1]).any():
        raise UnsafeBlockError


def _exams(matrix: Array, plan: Plan) -> tuple[Array, Callable[[str], Array]]:
    """One row per exam (a block whose exam code is blank is skipped), in file order: the
    row of each exam's line, and an exam field's bytes of every exam by attribute."""
    spreads = plan.exams
    start = min(spread.start for spread in spreads.values())
    span = max(spread.start + spread.width for spread in spreads.values()) - start
    code, rows, stride = spreads["code"], *matrix.shape
    codes: Array = np.ndarray((rows, code.blocks), "<u2", matrix, code.start, (stride, code.step))
    given = codes & 0x7F7F != 0x2020  # blank(), on both bytes at once
    student = np.flatnonzero(given) // code.blocks
    whole = np.dtype((np.void, span))  # an exam block's bytes as one item: a quick copy
    exams = np.ndarray(given.shape, whole, matrix, start, (stride, code.step))[given]
    exams = exams.view(np.uint8).reshape(-1, span)

    def field(attribute: str) -> Array:
        at = spreads[attribute].start - start
        found: Array = exams[:, at : at + spreads[attribute].width]
        return found

    return student, field


def _fast_part(raw: Block, plan: Plan, dictionaries: Dictionaries) -> Part:
    """Read a block with numpy; refuses it when the typed reader must decide."""
    return matrix_part(as_matrix(raw, plan), plan, dictionaries)


def matrix_part(matrix: Array, plan: Plan, dictionaries: Dictionaries) -> Part:
    """The part of rows of clean bytes, each a whole record of the plan's layout (blank
    ones still in); refuses (:class:`UnsafeBlockError`) what the reference must decide."""
    matrix = checked(matrix, plan)
    texts, di, days, given = student_columns(matrix, plan)  # checks first: then dictionaries
    student, part = exam_columns(matrix, plan, dictionaries)
    rows, exams = len(matrix), len(student)
    at = (np.arange(len(plan.texts))[:, None] * rows + student).reshape(-1)
    texts = _take(texts, at)  # every per-student text to the exam rows at once
    for index, (name, _) in enumerate(plan.texts):
        part[name] = texts.slice(index * exams, exams)
    part["di_code"] = _take(di, student)
    days, given = days[student], given[student]
    for index, (name, _) in enumerate(plan.dates):
        part[name] = arrow(days[:, index], pa.date32(), given[:, index])
    return part


def checked(matrix: Array, plan: Plan) -> Array:
    """The rows without blank lines, checked as the typed reader checks what the tables
    do not show; refuses the block otherwise."""
    matrix = _drop_blank_lines(matrix, plan)
    if not len(matrix):
        raise UnsafeBlockError  # only blank lines: nothing to gain, and no rows to view
    _check(matrix, plan)
    return matrix


def student_columns(matrix: Array, plan: Plan) -> tuple[Any, Any, Array, Array]:
    """Per line: the text fields (one array, field after field), the DI codes, and the
    dates (days, given) of ``plan.dates``; refuses a blank required date."""
    texts = as_texts([matrix[:, field.slice] for _, field in plan.texts])
    columns = [column for _, field in plan.dates for column in range(field.start - 1, field.end)]
    days, empty = to_days(matrix[:, columns].reshape(len(matrix), -1, 6))
    if any(field.required and empty[:, i].any() for i, (_, field) in enumerate(plan.dates)):
        raise UnsafeBlockError
    return texts, di_codes(matrix[:, plan.di.slice]), days, ~empty


def exam_columns(matrix: Array, plan: Plan, dictionaries: Dictionaries) -> tuple[Array, Part]:
    """One row per exam (see :func:`_exams`): each exam's line, and the exam columns
    (categories as indices into ``dictionaries``); refuses a bad year or grade."""
    student, exam = _exams(matrix, plan)
    yy, years = digits(exam("admin_year"))
    score = GRADES[exam("score")[:, 0]]
    if not years.all() or (score < 0).any():
        raise UnsafeBlockError
    irregular = (keys(exam("irregularity_codes[0]")) << 16) | keys(exam("irregularity_codes[1]"))
    # The few distinct values resolved once (and kept for later blocks).
    part: Part = {}
    names, statuses = dictionaries.names, dictionaries.statuses
    dictionaries.clock.line += len(matrix)
    dictionaries.fresh = fresh_codes(matrix, plan, exam("code"), irregular, dictionaries)

    def exam_name(key: int) -> tuple[int, str]:
        code = unkey(key // 100, 2)
        return names.index(catalog.exam_name(code, int(YEARS[key % 100]))), code

    def status(key: int) -> tuple[int, str]:
        codes = irregularities(key >> 3)
        status = catalog.exam_status((key & 7) or None, codes).value
        return statuses.index(status), IRREGULARITY_SEPARATOR.join(codes)

    keyed = keys(exam("code")) * 100 + yy
    part["exam_name"], part["exam_code"] = _resolve(dictionaries.exams, keyed, exam_name)
    part["status"], part["irregularity_codes"] = _resolve(
        dictionaries.marks, (irregular << 3) | score, status
    )
    part["class_section"] = as_texts([exam("class_section")])
    part["admin_year"] = arrow(YEARS[yy], pa.int64())
    part["score"] = arrow(score, pa.int64(), score != 0)
    return student, part


def _resolve(
    known: Cache, keys: Array, values: Callable[[int], tuple[int, str]]
) -> tuple[Array, Any]:
    """``values`` of each row's int64 key, computed once per distinct key and kept in
    ``known`` for later blocks (the package's one cache policy: bounded): a category's
    indices and an Arrow string column."""
    uniques, indices = distinct(keys)
    found = [known.get(key) or known.keep(key, values(key)) for key in uniques]
    categories = np.array([category for category, _ in found], dtype=np.int32)
    texts = strings([text for _, text in found])
    return categories[indices], _take(texts, indices)


def _take(values: Any, indices: Array) -> Any:
    """``values`` at ``indices`` (made here: no bounds to check)."""
    return pc.take(values, arrow(indices, pa.from_numpy_dtype(indices.dtype)), boundscheck=False)


def _slow_part(
    piece: Piece,
    dictionaries: Dictionaries,
    collect: bool,
    problems: list[ParseError],
    name: str | None,
    layout: Layout | None = None,
) -> Part:
    """Read a block with the typed reader (the reference): the same records, and the same
    errors, raised or collected."""
    told = dictionaries.unknown.told  # the file's warnings, each once
    records = txt.read_pieces(
        (piece,), collect=collect, problems=problems, name=name, layout=layout, told=told
    )
    return records_part(records, dictionaries.names, dictionaries.statuses)


def records_part(records: Iterable[ScoreReport], names: Dictionary, statuses: Dictionary) -> Part:
    """The part of records read the reference way (categories into the dictionaries)."""
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
    for item in long_blocks(
        stream, dictionaries, chunk_lines=chunk_lines, name=name, layout=layout
    ):
        if isinstance(item, dict):
            yield item
        else:
            yield _slow_part(item, dictionaries, collect, found, name, layout)


def long_blocks(
    stream: BinaryIO,
    dictionaries: Dictionaries,
    *,
    chunk_lines: int,
    name: str | None = None,
    layout: Layout | None = None,
    fast: Callable[[Block, Plan, Dictionaries], Any] | None = None,
) -> Iterator[Any]:
    """:func:`long_parts` without the typed reader: each block read by the fast path as
    its part (or as ``fast(block, plan, dictionaries)`` makes it), each block it refuses
    as the block reader's piece (for the caller to read with
    :func:`apscores.files._txt.read_pieces`, as the reference path would)."""
    plan = plan_for(layout)
    dictionaries.read_file(name)  # its warnings name it
    read = fast or _fast_part
    size = chunk_lines * (plan.length + 1)
    opened = Opened(None, None, _nothing, name, blocks(stream.read, size))
    look_ahead(opened, plan.plausible)  # the typed reader's first-line checks
    for piece in opened.blocks():
        if isinstance(piece, Block):
            dictionaries.fresh = False
            try:
                part = read(piece, plan, dictionaries)
            except UnsafeBlockError:
                pass
            else:
                if dictionaries.fresh:  # a new unknown code: warned as read_txt warns
                    for _ in typed_records(piece, name, layout, dictionaries.unknown.told):
                        pass
                yield part
                continue
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


def typed_records(
    piece: Piece,
    name: str | None,
    layout: Layout | None = None,
    told: set[tuple[str, str]] | None = None,
) -> Iterator[ScoreReport]:
    """The records of a piece the fast path refused, read by the typed reader as the
    reference path reads them: its first error raised, after the records before it;
    ``told``: the unknown codes the file's read has warned about."""
    return txt.read_pieces(
        (piece,), collect=False, problems=[], name=name, layout=layout, told=told
    )
