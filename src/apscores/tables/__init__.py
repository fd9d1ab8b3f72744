"""Score reports as flat rows, typed data frames and Arrow tables, for notebooks and pipelines.

Everything public is re-exported here; the modules are private: ``_schema`` (the
columns, their kinds and the record attribute behind each), ``_rows`` (:func:`to_rows`,
long or wide), ``_frames`` (:func:`to_pandas`, :func:`to_polars`, :func:`to_arrow`,
Parquet, and the TXT-to-Arrow fast path :func:`txt_to_arrow`, built with numpy, with no
Python loop per record, for any TXT layout; ``_plan``, ``_blocks``, ``_arrays``,
``_columnar`` under it).
"""

from __future__ import annotations

from apscores._public import deprecated_alias, publish
from apscores.tables._frames import (
    TXT_CHUNK_LINES,
    to_arrow,
    to_pandas,
    to_polars,
    txt_files_to_batches,
    txt_files_to_parquet,
    txt_files_to_text,
    txt_to_arrow,
    txt_to_pandas,
    txt_to_polars,
    write_parquet,
)
from apscores.tables._rows import Row, jsonable, to_rows
from apscores.tables._schema import (
    COLUMN_KINDS,
    EXAM_COLUMNS,
    IRREGULARITY_SEPARATOR,
    ColumnKind,
    column_kind,
    column_names,
)

__all__ = [
    "COLUMN_KINDS",
    "EXAM_COLUMNS",
    "IRREGULARITY_SEPARATOR",
    "TXT_CHUNK_LINES",
    "ColumnKind",
    "Row",
    "column_kind",
    "column_names",
    "jsonable",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "to_rows",
    "txt_files_to_batches",
    "txt_files_to_parquet",
    "txt_files_to_text",
    "txt_to_arrow",
    "txt_to_pandas",
    "txt_to_polars",
    "write_parquet",
]

publish(__name__, globals())
#: ``Kind`` was the name of :data:`ColumnKind`; it works for a release, with a warning.
__getattr__ = deprecated_alias(__name__, {"Kind": (__name__, "ColumnKind")})
