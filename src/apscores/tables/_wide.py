"""The wide table of TXT files on the columnar path: one row per student, ``exam_NN_*``.

The reference is ``to_arrow(read_txt(path), long=False)``: a row per record with its
student and date columns, then the record's exams in order in slots ``exam_01_*``,
``exam_02_*``..., as many slots as the widest record has, the missing ones null. Each
slot's category columns (``exam_NN_name``, ``exam_NN_status``) have a dictionary of their
own, in first-appearance order.

This path reads the same blocks as the long one
(:func:`~apscores.tables._columnar.long_blocks`) and makes the same student and exam
columns (:func:`~apscores.tables._columnar.student_columns`,
:func:`~apscores.tables._columnar.exam_columns`); an exam's slot is its rank within its
record, so each slot's columns are the exam columns taken to the records holding that
slot (null elsewhere). A block the fast path refuses is read by the typed reader, whose
rows fill the same columns. The slots are known only when every block is read, so the
table is built at the end, each part padded with null slots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from typing import Any, BinaryIO, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apscores.errors import ParseError
from apscores.files import _txt as txt
from apscores.files._sources import source_name
from apscores.files.blocks import Block
from apscores.files.layout import Layout
from apscores.models import ScoreReport
from apscores.tables._arrays import Array, arrow, strings
from apscores.tables._blocks import as_matrix
from apscores.tables._columnar import (
    checked,
    exam_columns,
    long_blocks,
    student_columns,
)
from apscores.tables._csv_columnar import Refused, csv_file_blocks, source_format
from apscores.tables._dictionaries import Dictionaries, Dictionary, Part
from apscores.tables._plan import Plan
from apscores.tables._rows import columns_of
from apscores.tables._schema import EXAM_COLUMNS, column_kind, long_name

__all__ = [
    "WideDictionaries",
    "batch",
    "matrix_wide",
    "read_wide_table",
    "slots",
    "stream_parts",
    "wide_parts",
]

_TYPES = {"str": pa.string(), "int": pa.int64(), "date": pa.date32()}


class WideDictionaries(Dictionaries):
    """The long path's dictionaries (exam names and statuses, resolved once), and one
    dictionary per wide category column."""

    def __init__(self, *, quiet: bool = False) -> None:
        super().__init__(quiet=quiet)
        self.columns: defaultdict[str, Dictionary] = defaultdict(Dictionary)


def _slot_name(slot: int, key: str) -> str:
    return f"exam_{slot + 1:02d}_{key}"


def _fast_wide(raw: Block, plan: Plan, dictionaries: Dictionaries) -> Part:
    """A block's wide columns with numpy; refuses it when the typed reader must decide."""
    return matrix_wide(as_matrix(raw, plan), plan, dictionaries)


def matrix_wide(matrix: Array, plan: Plan, shared: Dictionaries) -> Part:
    """The wide part of rows of clean bytes, each a whole record of the plan's layout (a
    TXT block, or CSV rows made records); refuses what the reference must decide."""
    dictionaries = cast(WideDictionaries, shared)  # (wide_parts gives one)
    matrix = checked(matrix, plan)
    texts, di, days, given = student_columns(matrix, plan)  # checks first: then dictionaries
    student, exams = exam_columns(matrix, plan, dictionaries)
    rows = len(matrix)
    part: Part = {"di_code": di}
    for index, (name, _) in enumerate(plan.texts):
        part[name] = texts.slice(index * rows, rows)
    for index, (name, _) in enumerate(plan.dates):
        part[name] = arrow(days[:, index], pa.date32(), given[:, index])
    firsts = np.searchsorted(student, np.arange(rows))  # each record's first exam row
    slot = np.arange(len(student)) - firsts[student]
    for index in range(int(slot.max()) + 1 if len(slot) else 0):
        held = np.flatnonzero(slot == index)  # the exam rows in this slot
        owners = student[held]
        at = np.zeros(rows, dtype=np.int32)
        at[owners] = held
        has = np.zeros(rows, dtype=bool)
        has[owners] = True
        for key in EXAM_COLUMNS:
            name, values = _slot_name(index, key), exams[long_name(key)]
            if column_kind(name) == "category":
                words = dictionaries.names if key == "name" else dictionaries.statuses
                codes = np.full(rows, -1, dtype=np.int32)
                codes[owners] = _local(values[held], words, dictionaries.columns[name])
                part[name] = codes
            else:
                part[name] = pc.take(values, arrow(at, pa.int32(), has), boundscheck=False)
    return part


def _local(indices: Array, words: Dictionary, column: Dictionary) -> Array:
    """Indices into the shared dictionary ``words`` as indices into ``column``'s own,
    which takes new values in their order of first appearance."""
    uniques, first, inverse = np.unique(indices, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    local = np.empty(len(uniques), dtype=np.int32)
    local[order] = column.indices(words.values[uniques[at]] for at in order)
    found: Array = local[inverse.reshape(-1)]
    return found


def records_wide(records: Iterable[ScoreReport], dictionaries: WideDictionaries) -> Part:
    """The wide part of records read the reference way (a block the fast path refused)."""
    _, columns = columns_of(list(records), False)
    part: Part = {}
    for column, values in columns.items():
        kind = column_kind(column)
        if kind == "category":
            own = dictionaries.columns[column]
            part[column] = np.array(
                [-1 if value is None else own.index(value) for value in values], dtype=np.int32
            )
        else:
            part[column] = pa.array(values, _TYPES[kind])
    return part


def batch(part: Part, schema: Any, dictionaries: WideDictionaries) -> Any:
    """A part's record batch with every slot of ``schema``, those it lacks null, its
    categories over the dictionaries as they are now (a prefix of the final ones)."""
    rows = len(part["ap_id"])
    arrays = []
    for field in schema:
        values = part.get(field.name)
        if column_kind(field.name) == "category":
            codes = np.full(rows, -1, dtype=np.int32) if values is None else values
            indices = arrow(np.maximum(codes, 0), pa.int32(), codes >= 0)
            words = strings(dictionaries.columns[field.name].values)
            values = pa.DictionaryArray.from_arrays(indices, words)
        elif values is None:
            values = pa.nulls(rows, field.type)
        arrays.append(values)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def stream_parts(
    stream: BinaryIO,
    name: str | None,
    dictionaries: WideDictionaries,
    *,
    chunk_lines: int,
    collect: bool,
    problems: list[ParseError],
    layout: Layout | None,
) -> Iterator[Part]:
    """The wide parts of a TXT stream, a block at a time (errors naming ``name``)."""
    for item in long_blocks(
        stream, dictionaries, chunk_lines=chunk_lines, name=name, layout=layout, fast=_fast_wide
    ):
        if not isinstance(item, dict):
            records = txt.read_pieces(
                (item,), collect=collect, problems=problems, name=name, layout=layout,
                told=dictionaries.unknown.told,
            )  # fmt: skip
            item = records_wide(records, dictionaries)
        yield item


def wide_parts(
    sources: Iterable[str | PathLike[str]],
    dictionaries: WideDictionaries,
    *,
    chunk_lines: int,
    collect: bool = False,
    problems: list[ParseError] | None = None,
    layout: Layout | None = None,
) -> Iterator[Part]:
    """The wide parts of TXT or CSV files in turn (each format decided as ``read``
    decides it), a block at a time, each with the slots its own records fill (see
    :func:`batch`)."""
    found: list[ParseError] = problems if problems is not None else []
    for source in sources:
        if source_format(source, layout) != "csv":
            with open(source, "rb") as stream:
                yield from stream_parts(
                    stream, source_name(source), dictionaries, chunk_lines=chunk_lines,
                    collect=collect, problems=found, layout=layout,
                )  # fmt: skip
            continue
        for item in csv_file_blocks(
            source, dictionaries, chunk_lines=chunk_lines, layout=layout, part=matrix_wide
        ):
            if isinstance(item, Refused):
                item = records_wide(item.records(collect, found), dictionaries)
            yield item


def slots(part: Part) -> int:
    """How many exam slots a part fills."""
    return sum(1 for column in part if column[5:7].isdigit() and column.endswith("_code"))


def read_wide_table(
    parts: Iterable[Part], dictionaries: WideDictionaries, schema_of: Callable[[int], Any]
) -> Any:
    """The wide table of ``parts`` (whose categories index ``dictionaries``), equal to
    ``to_arrow(records, long=False)`` of their records; ``schema_of(slots)`` is the
    reference's schema for that many exam slots."""
    parts = list(parts)
    schema = schema_of(max(map(slots, parts), default=0))
    batches = [batch(part, schema, dictionaries) for part in parts]
    return pa.Table.from_batches(batches, schema=schema)
