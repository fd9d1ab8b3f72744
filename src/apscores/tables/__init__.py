"""Score reports as flat rows, typed data frames and Arrow tables, for notebooks and pipelines.

- ``schema``: the columns, their kinds and the record attribute behind each;
- ``rows``: :func:`to_rows`, long (one row per exam) or wide (one per student);
- ``frames``: :func:`to_pandas`, :func:`to_polars`, :func:`to_arrow`, Parquet, and the
  TXT-to-Arrow fast path (:func:`txt_to_arrow`), built with numpy, with no Python loop
  per record.
"""

from __future__ import annotations

from apscores.tables.frames import (
    TXT_CHUNK_LINES,
    to_arrow,
    to_pandas,
    to_polars,
    txt_to_arrow,
    txt_to_pandas,
    txt_to_polars,
    write_parquet,
)
from apscores.tables.rows import Row, jsonable, to_rows
from apscores.tables.schema import (
    COLUMN_KINDS,
    EXAM_COLUMNS,
    IRREGULARITY_SEPARATOR,
    Kind,
    column_kind,
    column_names,
)

__all__ = [
    "COLUMN_KINDS",
    "EXAM_COLUMNS",
    "IRREGULARITY_SEPARATOR",
    "TXT_CHUNK_LINES",
    "Kind",
    "Row",
    "column_kind",
    "column_names",
    "jsonable",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "to_rows",
    "txt_to_arrow",
    "txt_to_pandas",
    "txt_to_polars",
    "write_parquet",
]
