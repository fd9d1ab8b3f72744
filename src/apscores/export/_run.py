"""``export``: merge score files and make the load file, with the conflicts it resolved."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, BinaryIO

import attrs

from apscores.changes import Change, MergeResult, MergeSource, merge
from apscores.export._map import SisMap
from apscores.export._rows import export_rows, write_export_csv
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
    #: AP ID -> SIS ID when ``identify`` was given (students it lacks have no rows).
    sis_ids: Mapping[str, str] | None = None

    @property
    def held(self) -> tuple[ScoreReport, ...]:
        """Students left out because ``identify`` had no SIS ID for them (hold them)."""
        if self.sis_ids is None:
            return ()
        return tuple(r for r in self.merged.current if r.ap_id not in self.sis_ids)

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
    identify: Callable[[Sequence[ScoreReport]], Mapping[str, str]] | None = None,
) -> ExportResult:
    """Merge ``sources`` (as :func:`~apscores.merge` does) and make the load file's rows.

    ``since``, the previous view, is merged in too, and each row's ``change`` is what
    changed from it. Students are keyed by (DI code, AP ID) unless ``across_di``.
    ``identify`` gets the merged students and answers AP ID -> the student system's ID
    (e.g. ``lambda students: apscores.match(students, roster).sis_ids``): its IDs fill the
    ``sis_id`` field and the students it lacks are left out, for the caller to hold in
    suspense. Raises :class:`~apscores.errors.UnmappedExamError` when the map cannot name
    an exam.
    """
    previous = None if since is None else list(since)
    merged = merge(*([previous] if previous else []), *sources, across_di=across_di)
    sis_ids = None if identify is None else identify(merged.current)
    rows = tuple(export_rows(merged, sis_map, since=previous, sis_ids=sis_ids))
    return ExportResult(rows, sis_map, merged, sis_ids)
