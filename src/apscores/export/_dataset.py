"""A Hive-style partitioned Parquet dataset (``di_code=0789/admin_year=2024/...``).

For a state system or a consortium with hundreds of DI codes: one dataset its own engine
(DuckDB, Spark) reads and prunes by partition. Written in one streaming pass: reports are
turned into Arrow tables a batch at a time and handed to ``pyarrow.dataset``, so memory
holds one batch, whatever the number of input files.

Partition values live in the directory names, not in the files, so an engine must be told
their types, or ``0789`` comes back as the number 789: DuckDB ``hive_types``, pyarrow a
partitioning schema, Spark ``partitionColumnTypeInference.enabled=false``.
"""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from apscores._atomic import fsync_directory
from apscores._extras import optional_module
from apscores.errors import ConfigurationError
from apscores.files.layout import Layout
from apscores.models import ScoreReport
from apscores.tables import to_arrow, txt_files_to_batches

__all__ = ["BATCH_REPORTS", "PARTITION_COLUMNS", "txt_files_to_partitioned", "write_partitioned"]

#: Long-table columns a dataset can be partitioned by (few distinct values each).
PARTITION_COLUMNS: tuple[str, ...] = ("di_code", "admin_year", "exam_code", "high_school_code")
#: Reports turned into one Arrow batch: the writer's working memory.
BATCH_REPORTS = 20_000


def _dataset_module() -> Any:
    module = optional_module("pyarrow.dataset", "arrow")
    if "preserve_order" in inspect.signature(module.write_dataset).parameters:
        _IN_ORDER["preserve_order"] = True  # rows in input order (recent pyarrow), else any
    return module


#: ``write_dataset`` keeps the rows of a partition in input order where it can.
_IN_ORDER: dict[str, bool] = {}


def _batches(reports: Iterable[ScoreReport], size: int) -> Iterator[Any]:
    batch: list[ScoreReport] = []
    for report in reports:
        batch.append(report)
        if len(batch) >= size:
            yield from to_arrow(batch).to_batches()
            batch = []
    if batch:
        yield from to_arrow(batch).to_batches()


def _private(tree: Path) -> None:
    """Files 0600 and directories 0700: the dataset holds student data."""
    for root, directories, files in os.walk(tree):
        for name in directories:
            os.chmod(os.path.join(root, name), 0o700)
        for name in files:
            os.chmod(os.path.join(root, name), 0o600)


def write_partitioned(
    reports: Iterable[ScoreReport],
    directory: str | os.PathLike[str],
    *,
    partition_by: Sequence[str] = ("di_code", "admin_year"),
    batch_reports: int = BATCH_REPORTS,
) -> int:
    """Write the long table (as :func:`~apscores.to_arrow`) as a partitioned dataset.

    ``directory`` must not exist yet (or be empty): the dataset is built in a hidden
    directory beside it and renamed into place, so it is complete or absent. Returns the
    rows written. Needs pyarrow (the ``arrow`` extra).
    """
    if batch_reports < 1:
        raise ConfigurationError(f"batch_reports must be at least 1, not {batch_reports}")
    return _write_batches(_batches(reports, batch_reports), directory, partition_by)


def txt_files_to_partitioned(
    sources: Iterable[str | os.PathLike[str]],
    directory: str | os.PathLike[str],
    *,
    partition_by: Sequence[str] = ("di_code", "admin_year"),
    layout: Layout | None = None,
) -> int:
    """:func:`write_partitioned` of TXT (or CSV) files, read by the columnar path a block at a time
    (``apscores convert --to parquet --partition``): the same dataset as over
    ``read(...)`` of the files in turn, and the same first error. Records follow
    ``layout`` as :func:`~apscores.tables.txt_to_arrow`'s do. Needs pyarrow and numpy."""
    return _write_batches(txt_files_to_batches(sources, layout=layout), directory, partition_by)


def _write_batches(
    batches: Iterator[Any], directory: str | os.PathLike[str], partition_by: Sequence[str]
) -> int:
    unknown = [name for name in partition_by if name not in PARTITION_COLUMNS]
    if unknown or not partition_by or len(set(partition_by)) != len(partition_by):
        raise ConfigurationError(
            f"cannot partition by {', '.join(partition_by) or 'nothing'}: "
            f"choose distinct columns among {', '.join(PARTITION_COLUMNS)}"
        )
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigurationError(
            f"{target} already exists; write the dataset to a new directory "
            "(apscores never overwrites one)"
        )
    dataset = _dataset_module()
    parent = target.parent if str(target.parent) else Path()
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.part-", dir=parent))
    rows = 0

    def counted(batches: Iterator[Any]) -> Iterator[Any]:
        nonlocal rows
        for batch in batches:
            rows += batch.num_rows
            yield batch

    try:
        dataset.write_dataset(
            counted(batches),
            staging,
            schema=to_arrow([]).schema,
            format="parquet",
            partitioning=list(partition_by),
            partitioning_flavor="hive",
            basename_template="part-{i}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            max_partitions=1 << 20,
            use_threads=False,
            **_IN_ORDER,
        )
        _private(staging)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
        fsync_directory(parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return rows
