"""The long table of TXT files a block at a time, with each block's record keys.

``apscores export`` on the columnar path (:mod:`apscores.export._columnar`) needs what
:func:`~apscores.tables._columnar.file_blocks` gives (one row per exam, with the student
columns) and one thing the long table cannot show: the records themselves. A record with
no exam has no row, and two records of one student read as one run of rows. So each block
also gives the AP ID and DI code of every record in it, in file order.

A block the fast path reads gives its record batch and the keys read from the same matrix
(the AP ID as the long table's ``ap_id``, the DI code as its ``di_code``). A block it
refuses is read by the typed reader, as the reference path reads it: the same records, and
the same first error, raised.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from os import PathLike
from typing import Any

import attrs
import pyarrow as pa

from apscores.files._sources import source_name
from apscores.files.blocks import Block
from apscores.files.layout import Layout
from apscores.models import ScoreReport
from apscores.tables._arrays import as_text, di_codes
from apscores.tables._blocks import as_matrix
from apscores.tables._columnar import (
    Dictionaries,
    _drop_blank_lines,
    _fast_part,
    long_blocks,
    typed_records,
)
from apscores.tables._plan import Plan
from apscores.tables._rows import columns_of
from apscores.tables._schema import column_kind

__all__ = ["KeyedBlock", "keyed_blocks"]


@attrs.frozen
class KeyedBlock:
    """One block: its long rows (categories as plain text) and its records' keys."""

    rows: Any  # a pyarrow RecordBatch: the long table's columns
    ap_ids: Any  # a pyarrow string array: each record's AP ID, in file order
    di_codes: Any  # a pyarrow string array: each record's DI code


def _decoded(batch: Any) -> Any:
    """A record batch with its dictionary columns decoded to plain strings."""
    arrays = [
        column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _fast(piece: Block, plan: Plan, dictionaries: Dictionaries, schema: Any) -> KeyedBlock:
    """Read a block with numpy (raises UnsafeBlockError when the typed reader must)."""
    part = _fast_part(piece, plan, dictionaries)
    matrix = _drop_blank_lines(as_matrix(piece, plan), plan)
    rows = _decoded(dictionaries.batch(part, schema))
    ap_ids = as_text(matrix[:, plan.ap_id.slice])
    return KeyedBlock(rows, ap_ids, di_codes(matrix[:, plan.di.slice]))


def _typed(records: Iterable[ScoreReport], schema: Any) -> KeyedBlock:
    """A block's records read by the typed reader (its first error raised)."""
    records = list(records)
    _, columns = columns_of(records, True)
    types = {"str": pa.string(), "int": pa.int64(), "date": pa.date32()}
    arrays = [
        pa.array(columns[field.name], types.get(column_kind(field.name), pa.string()))
        for field in schema
    ]
    rows = pa.RecordBatch.from_arrays(arrays, names=schema.names)
    ap_ids = pa.array([record.ap_id for record in records], pa.string())
    return KeyedBlock(rows, ap_ids, pa.array([record.di_code for record in records], pa.string()))


def keyed_blocks(
    sources: Iterable[str | PathLike[str]],
    schema: Any,
    *,
    chunk_lines: int,
    layout: Layout | None = None,
) -> Iterator[KeyedBlock]:
    """Each TXT file's blocks in turn, as :class:`KeyedBlock`; ``schema`` is the long
    table's (categories are decoded). Errors are the typed reader's, naming the file."""
    dictionaries, fast = Dictionaries(), functools.partial(_fast, schema=schema)
    for source in sources:
        name = source_name(source)
        with open(source, "rb") as stream:
            for item in long_blocks(
                stream, dictionaries, chunk_lines=chunk_lines, name=name, layout=layout,
                fast=fast,
            ):  # fmt: skip
                if not isinstance(item, KeyedBlock):
                    told = dictionaries.unknown.told  # the file's warnings, each once
                    item = _typed(typed_records(item, name, layout, told), schema)
                yield item
