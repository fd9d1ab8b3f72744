"""``export``: merge score files and make the load file, with the conflicts it resolved."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, BinaryIO

import attrs

from apscores.changes import Change
from apscores.export._map import SisMap
from apscores.export._rows import export_rows, write_export_csv
from apscores.merging import MergeResult, MergeSource, merge
from apscores.models import ScoreReport

__all__ = ["ExportResult", "export"]


@attrs.frozen(repr=False)
class ExportResult:
    """The load file's rows, and the merge behind them with its conflicts.

    ``rows`` are :func:`export_rows` rows (typed values, keyed by the map's headers).
    ``conflicts`` are the records merge could not order by date (same dates, different
    content): one of each was kept by a fixed rule, so review them before loading.
    """

    rows: tuple[dict[str, Any], ...]
    sis_map: SisMap
    merged: MergeResult

    @property
    def conflicts(self) -> tuple[Change, ...]:
        """The ``conflict`` changes of the merge: resolved by a fixed rule, to review."""
        return self.merged.conflicts

    def write_csv(self, dest: str | os.PathLike[str] | BinaryIO, *, raw: bool = False) -> int:
        """Write the rows as the load file (:func:`write_export_csv`); returns rows."""
        return write_export_csv(self.rows, self.sis_map, dest, raw=raw)

    def __repr__(self) -> str:  # counts only: rows hold names and birth dates
        return (
            f"<ExportResult {len(self.rows)} row(s), {len(self.merged.current)} student(s), "
            f"{len(self.conflicts)} conflict(s)>"
        )


def export(
    *sources: MergeSource,
    sis_map: SisMap,
    since: Iterable[ScoreReport] | None = None,
    across_di: bool = False,
) -> ExportResult:
    """Merge ``sources`` (as :func:`~apscores.merge` does) and make the load file's rows.

    ``since``, the previous view, is merged in too, and each row's ``change`` is what
    changed from it. Students are keyed by (DI code, AP ID) unless ``across_di``. Raises
    :class:`~apscores.errors.UnmappedExamError` when the map cannot name an exam.
    """
    previous = None if since is None else list(since)
    merged = merge(*([previous] if previous else []), *sources, across_di=across_di)
    rows = tuple(export_rows(merged, sis_map, since=previous))
    return ExportResult(rows, sis_map, merged)
