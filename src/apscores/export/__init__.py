"""From score files to a student system: load files, Excel, and a dataset for an engine.

- :func:`load_map` reads a small TOML *map* (columns, SIS test codes, the test-date rule,
  what to include) and :func:`export` merges score files and makes the load file's rows
  (``apscores export``), with the merge's conflicts (:class:`ExportResult`);
  :func:`export_rows` / :func:`write_export_csv` are the steps. An exam the map cannot
  name is an error that lists every such code
  (:class:`~apscores.errors.UnmappedExamError`), never a silent skip.
- :func:`write_xlsx` writes Excel with codes and IDs as text cells (DI ``0789``, exam
  ``07`` keep their zeros) and dates as dates (``apscores convert --to xlsx``).
- :func:`write_partitioned` writes a Hive-style partitioned Parquet dataset in one
  streaming pass, for DuckDB or Spark; :func:`txt_files_to_partitioned` writes the same
  from TXT files by the columnar path (``apscores convert --to parquet --partition``).

Every file is written atomically: complete under its name, or absent (mode 0600).
"""

from __future__ import annotations

from apscores._public import publish
from apscores.export._dataset import PARTITION_COLUMNS, txt_files_to_partitioned, write_partitioned
from apscores.export._map import (
    CHANGE_FILTERS,
    DEFAULT_TEST_DATE,
    FIELDS,
    Column,
    SisMap,
    TestCode,
    load_map,
)
from apscores.export._rows import export_rows, write_export_csv
from apscores.export._run import ExportResult, export
from apscores.export._xlsx import write_xlsx

__all__ = [
    "CHANGE_FILTERS",
    "DEFAULT_TEST_DATE",
    "FIELDS",
    "PARTITION_COLUMNS",
    "Column",
    "ExportResult",
    "SisMap",
    "TestCode",
    "export",
    "export_rows",
    "load_map",
    "txt_files_to_partitioned",
    "write_export_csv",
    "write_partitioned",
    "write_xlsx",
]

publish(__name__, globals())
