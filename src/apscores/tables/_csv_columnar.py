"""CSV score files on the columnar path: each block of rows made TXT records for the engine.

:func:`apscores.files.read_csv` reads a row at a time (``csv.reader``, then the layout's
generated builder). Here the same rows, from the same reader past the same header
(:func:`apscores.files._csv.open_rows`), are taken ``chunk_lines`` at a time, and each
block is turned into what the TXT engine of :mod:`apscores.tables._columnar` reads: one
fixed-width record of the layout per row, every cell left-aligned and padded to its
field's width (one ``%`` format per row, a C call), encoded as Latin-1, viewed as a
``uint8`` matrix and read by :func:`~apscores.tables._columnar.matrix_part`. No value
rule is written here: the TXT engine applies the TXT (strict) rules, and a block is only
read this way when, for every cell, those give what the CSV (lenient) rules of
:func:`apscores.files._values.convert` give. A block is *refused*, and read by
:meth:`Rows.records <apscores.files._csv.Rows.records>` (the CSV reader's own loop, which
raises or collects exactly what ``read_csv`` does), when it holds:

- an error from the row reader (a CSV syntax error, a line too long to hold), or a row
  whose cell count is not the header's;
- a cell longer than its field (the record would not be the layout's length), a
  character outside Latin-1, or a control character in any cell (mapped or not; an
  unmapped cell longer than :data:`~apscores.files._csv_rows.MAX_CELL` too);
- a cell where the lenient rules differ from the strict ones (:func:`unsafe_cells`): a
  ``.``, ``+`` or ``-`` in a field that is not text or a date (what a spreadsheet number
  needs), digits followed by blanks in a digit code or a year (lenient pads them or
  reads ``7`` as 2007), one to three digits in the college code (padded), a date that
  is neither six digits nor blank (lenient reads ``7/9/2024``, ``70924``, ISO);
- anything the TXT engine itself refuses (a bad date or grade, a blank required field).

So the output is the same as the object path's, block by block, or comes from it.
Memory holds one block of rows.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from os import PathLike
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from apscores.errors import ParseError
from apscores.files import _txt as txt
from apscores.files import format_of, read
from apscores.files._csv import Item, Rows, open_rows
from apscores.files._csv_rows import MAX_CELL, has_control
from apscores.files._sources import look_ahead, open_source, source_name
from apscores.files.blocks import CONTROL
from apscores.files.layout import FieldKind, Layout
from apscores.models import ScoreReport
from apscores.tables._arrays import blank, digits
from apscores.tables._blocks import UnsafeBlockError
from apscores.tables._columnar import (
    Dictionaries,
    long_blocks,
    long_parts,
    matrix_part,
    records_part,
    typed_records,
)
from apscores.tables._dictionaries import Part
from apscores.tables._plan import Plan, plan_for

__all__ = [
    "Refused",
    "csv_blocks",
    "csv_file_blocks",
    "file_blocks",
    "file_parts",
    "open_csv",
    "source_format",
    "unsafe_cells",
]

Array = npt.NDArray[Any]
_NOT_CONTROL = bytes(sorted(set(range(256)) - set(CONTROL)))
#: Bytes a spreadsheet number holds besides digits and ``E``: ``1.23E+08``, ``90.0``.
_NUMBER_MARKS = np.array([ord(char) for char in ".+-"], dtype=np.uint8)
#: Kinds whose value a cell gives as it is, in both modes (checked for nothing here).
_AS_IS = frozenset({FieldKind.TEXT, FieldKind.FILLER})


@attrs.frozen
class Refused:
    """A block of rows the fast path cannot vouch for: read it the reference way."""

    rows: Rows
    items: list[Item]

    def records(
        self, collect: bool = False, errors: list[ParseError] | None = None
    ) -> Iterator[ScoreReport]:
        """The block's records as ``read_csv`` gives them (its errors raised, or
        collected into ``errors``)."""
        return self.rows.records(self.items, collect, [] if errors is None else errors)


def _columns(fields: Iterable[tuple[int, int]]) -> Array:
    return np.array([c for start, end in fields for c in range(start, end)], dtype=np.intp)


class _Checks:
    """The columns of each check of :func:`unsafe_cells`, for one layout."""

    def __init__(self, layout: Layout) -> None:
        fields = layout.fields
        spans = {f.name: (f.start - 1, f.end) for f in fields}
        self.marks = _columns(
            spans[f.name] for f in fields if f.kind not in _AS_IS and f.kind is not FieldKind.DATE
        )
        padded = [f for f in fields if f.kind in (FieldKind.DIGITS, FieldKind.YEAR) and f.width > 1]
        self.firsts = np.array([f.start - 1 for f in padded], dtype=np.intp)
        self.lasts = np.array([f.end - 1 for f in padded], dtype=np.intp)
        self.di = [spans[f.name] for f in fields if f.kind is FieldKind.DI]
        self.dates = [spans[f.name] for f in fields if f.kind is FieldKind.DATE]


@functools.cache
def _checks(layout: Layout) -> _Checks:
    return _Checks(layout)


def unsafe_cells(matrix: Array, plan: Plan) -> bool:
    """Whether any field of ``matrix`` (records of the plan's layout, clean bytes) holds a
    text that :func:`apscores.files._values.convert` reads otherwise leniently (CSV) than
    strictly (TXT): the conditions of the module docstring, each a superset of what
    makes the two differ (a property test compares them with ``convert``)."""
    checks = _checks(plan.layout)
    if np.isin(matrix[:, checks.marks], _NUMBER_MARKS).any():
        return True
    digit = matrix[:, checks.firsts] - np.uint8(ord("0")) < 10
    if (digit & (matrix[:, checks.lasts] - np.uint8(ord("0")) >= 10)).any():
        return True
    for start, end in checks.di:
        count = (matrix[:, start:end] - np.uint8(ord("0")) < 10).sum(axis=1)
        if ((count > 0) & (count < 4)).any():
            return True
    for start, end in checks.dates:
        field = matrix[:, start:end]
        if not (digits(field)[1] | blank(field)).all():
            return True
    return False


class _Records:
    """How the rows of one CSV header become fixed-width records of a layout."""

    def __init__(self, rows: Rows, plan: Plan) -> None:
        template, indices = [], []
        for field in plan.layout.fields:
            index = None if field.kind is FieldKind.FILLER else rows.columns.get(field.name)
            if index is None:
                template.append(" " * field.width)
            else:
                template.append(f"%-{field.width}s")
                indices.append(index)
        self.template = "".join(template)
        self.cells = rows.cells
        self.mapped = _getter(indices)
        others = sorted(set(range(rows.cells)) - set(indices))
        self.others = _getter(others) if others else None
        self.plan = plan

    def matrix(self, items: list[Item]) -> Array:
        """The block's records as a ``uint8`` matrix; raises :class:`UnsafeBlockError`
        for a block the reference reader must read."""
        rows: list[list[str]] = []
        for _, row in items:
            if not isinstance(row, list) or len(row) != self.cells:
                raise UnsafeBlockError
            rows.append(row)
        if self.others is not None:
            others = ["".join(self.others(row)) for row in rows]
            if has_control("".join(others)) or max(map(len, others)) > MAX_CELL:
                raise UnsafeBlockError
        template, mapped = self.template, self.mapped
        try:
            data = "".join([template % mapped(row) for row in rows]).encode("latin-1")
        except UnicodeEncodeError:
            raise UnsafeBlockError from None
        length = self.plan.length
        if len(data) != len(rows) * length or data.translate(None, _NOT_CONTROL):
            raise UnsafeBlockError  # a cell longer than its field, or a control character
        matrix = np.frombuffer(data, dtype=np.uint8).reshape(len(rows), length)
        if blank(matrix[:, self.plan.ap_id.slice]).any() or unsafe_cells(matrix, self.plan):
            raise UnsafeBlockError
        return matrix


def _getter(indices: list[int]) -> Any:
    """The cells at ``indices`` of a row, always as a tuple."""
    if len(indices) == 1:
        (index,) = indices
        return lambda row: (row[index],)
    return itemgetter(*indices)


def csv_blocks(
    rows: Rows,
    dictionaries: Dictionaries,
    *,
    chunk_lines: int,
    layout: Layout | None = None,
    part: Callable[[Array, Plan, Dictionaries], Part] = matrix_part,
) -> Iterator[Part | Refused]:
    """The long table of a CSV file opened past its header, a block of ``chunk_lines``
    rows at a time: each block's part (or as ``part(matrix, plan, dictionaries)`` makes
    it), or the block :class:`Refused`."""
    plan = plan_for(layout)
    records = _Records(rows, plan)
    items = rows.items()
    dictionaries.read_file(rows.name, rows.unknown)  # its warnings name it
    while True:
        block = list(itertools.islice(items, chunk_lines))
        if not block:
            return
        dictionaries.fresh = False
        try:
            made = part(records.matrix(block), plan, dictionaries)
        except UnsafeBlockError:
            yield Refused(rows, block)
            continue
        if dictionaries.fresh:  # a new unknown code: warned as read_csv warns, by line
            for _ in Refused(rows, block).records(collect=True):
                pass
        yield made


def source_format(source: str | PathLike[str], layout: Layout | None) -> str:
    """``"csv"`` or ``"txt"`` as :func:`apscores.files.read` decides; what it refuses at
    once (an empty or binary file, a header missing columns...) raises its error here."""
    kind = format_of(source)
    if kind is None:
        read(source, layout=layout).close()  # raises: the file is refused as read refuses it
    return kind or "txt"  # (or reads it as TXT, if it reads now: a file changed meanwhile)


def open_csv(source: str | PathLike[str], layout: Layout | None) -> Rows:
    """A CSV file opened as :func:`apscores.files.read` opens it."""
    opened = open_source(source)
    look_ahead(opened, functools.partial(txt.plausible_record, layout=layout))
    return open_rows(opened, layout)


def csv_file_blocks(
    source: str | PathLike[str],
    dictionaries: Dictionaries,
    *,
    chunk_lines: int,
    layout: Layout | None = None,
    part: Callable[[Array, Plan, Dictionaries], Part] = matrix_part,
) -> Iterator[Part | Refused]:
    """:func:`csv_blocks` of a CSV file, opened as ``read`` opens it and closed after."""
    rows = open_csv(source, layout)
    try:
        yield from csv_blocks(rows, dictionaries, chunk_lines=chunk_lines, layout=layout, part=part)
    finally:
        rows.close()


def file_parts(
    source: str | PathLike[str],
    dictionaries: Dictionaries,
    *,
    chunk_lines: int,
    collect: bool = False,
    problems: list[ParseError] | None = None,
    layout: Layout | None = None,
) -> Iterator[Part]:
    """The long table of a TXT or CSV file (its format decided as ``read`` decides it), a
    block at a time, as :func:`~apscores.tables._columnar.long_parts` gives a TXT's."""
    found: list[ParseError] = problems if problems is not None else []
    name = source_name(source)
    if source_format(source, layout) != "csv":
        with open(source, "rb") as stream:
            yield from long_parts(
                stream, dictionaries, chunk_lines=chunk_lines, collect=collect,
                problems=found, name=name, layout=layout,
            )  # fmt: skip
        return
    names, statuses = dictionaries.names, dictionaries.statuses
    for item in csv_file_blocks(source, dictionaries, chunk_lines=chunk_lines, layout=layout):
        if isinstance(item, Refused):
            item = records_part(item.records(collect, found), names, statuses)
        yield item


def file_blocks(
    sources: Iterable[str | PathLike[str]],
    schema: Any,
    *,
    chunk_lines: int,
    layout: Layout | None = None,
) -> Iterator[Any]:
    """Each file's blocks in turn (TXT or CSV): the record batch (``schema``'s) of a
    block the fast path reads, or the records of a block it refuses, read by the file
    format's reference reader (its first error raised after the records before it)."""
    dictionaries = Dictionaries()
    for source in sources:
        name = source_name(source)
        if source_format(source, layout) == "csv":
            blocks = csv_file_blocks(source, dictionaries, chunk_lines=chunk_lines, layout=layout)
            for item in blocks:
                yield (
                    item.records()
                    if isinstance(item, Refused)
                    else dictionaries.batch(item, schema)
                )
            continue
        with open(source, "rb") as stream:
            for piece in long_blocks(
                stream, dictionaries, chunk_lines=chunk_lines, name=name, layout=layout
            ):
                if isinstance(piece, dict):
                    yield dictionaries.batch(piece, schema)
                else:
                    yield typed_records(piece, name, layout, dictionaries.unknown.told)
