"""Load-file rows: one per exam, in the map's columns, with SIS codes and test dates."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from apscores._rows_csv import neutralise, write_rows_csv
from apscores.changes import MergeResult, compare, student_key
from apscores.errors import ConfigurationError, UnmappedExamError
from apscores.export._map import SisMap
from apscores.models import ExamScore, ScoreReport

__all__ = ["export_rows", "write_export_csv"]

_Key = tuple[str, str, int, str]  # (DI code, AP ID, admin year, exam code)


def _changes(
    current: MergeResult | Iterable[ScoreReport],
    since: Iterable[ScoreReport] | None,
    sis_map: SisMap,
) -> tuple[Iterable[ScoreReport], dict[_Key, str] | None]:
    """The reports, and each exam's latest change kind when it can be known."""
    across_di = isinstance(current, MergeResult) and current.across_di
    reports: Iterable[ScoreReport]
    reports = current.current if isinstance(current, MergeResult) else _unique(current)
    if since is not None:
        reports = list(reports)
        changes = compare(since, reports, across_di=across_di)
    elif isinstance(current, MergeResult):
        changes = iter(current.changes)
    elif sis_map.changes is not None:
        raise ConfigurationError(
            "the map includes only some changes ([include] changes): pass a merge result, "
            "or since= the previous view, so that the changes can be known"
        )
    else:
        return reports, None
    kinds: dict[_Key, str] = {}
    for change in changes:  # oldest first: the last one for each exam wins
        if change.exam_code is not None and change.admin_year is not None:
            key = (change.di_code, change.ap_id, change.admin_year, change.exam_code)
            kinds[key] = change.kind.value
    return reports, kinds


def _unique(reports: Iterable[ScoreReport]) -> Iterator[ScoreReport]:
    """The reports, refusing a student (DI code, AP ID) seen twice: that needs a merge."""
    seen: set[tuple[str, str]] = set()
    for report in reports:
        key = student_key(report)
        if key in seen:
            raise ConfigurationError(
                f"AP ID {report.ap_id} (DI {report.di_code}) appears twice: merge the "
                "reports first (apscores.export.export or apscores.merge), so that the "
                "duplicates are resolved and their conflicts reported"
            )
        seen.add(key)
        yield report


def _values(
    report: ScoreReport, exam: ExamScore, sis: str, change: str, sis_map: SisMap, sis_id: str
) -> dict[str, Any]:
    student = report.student
    return {
        "sis_id": sis_id,
        "ap_id": report.ap_id,
        "last_name": student.last_name,
        "first_name": student.first_name,
        "middle_initial": student.middle_initial,
        "date_of_birth": student.date_of_birth,
        "gender": student.gender,
        "di_code": report.di_code,
        "high_school_code": report.high_school.code,
        "exam_code": exam.code,
        "exam_name": exam.name,
        "sis_test_code": sis,
        "score": exam.score,
        "test_date": sis_map.test_date(exam),
        "admin_year": exam.admin_year,
        "status": exam.status.value,
        "irregularity_codes": ";".join(exam.irregularity_codes),
        "change": change,
        "date_released": report.date_released,
        "date_updated": report.date_updated,
        "report_date": report.report_date,
    }


def export_rows(
    current: MergeResult | Iterable[ScoreReport],
    sis_map: SisMap,
    *,
    since: Iterable[ScoreReport] | None = None,
    sis_ids: Mapping[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """One row per exam the map includes, keyed by the map's headers; values stay typed.

    ``current`` is a :func:`~apscores.merge` result (each exam's ``change`` is its latest
    change there) or reports, one per student (a (DI code, AP ID) seen twice is a
    :class:`~apscores.errors.ConfigurationError`: use :func:`apscores.export.export`, which
    merges). ``since``, the previous view, makes ``change`` what changed from it instead
    (blank: unchanged). Dates stay
    :class:`datetime.date`, scores and years ints. Exams the map has no test code for are
    counted, and when the rows run out :class:`~apscores.errors.UnmappedExamError` lists
    them all: a load file that silently lacks new exams is worse than none.

    ``sis_ids`` (AP ID -> the student system's ID, e.g. :attr:`MatchResult.sis_ids
    <apscores.matching.MatchResult.sis_ids>`) fills the ``sis_id`` field and leaves out
    the students it lacks: hold those in suspense, never drop them.
    """
    reports, kinds = _changes(current, since, sis_map)
    unmapped: dict[str, Counter[int]] = {}
    for report in reports:
        if sis_ids is not None and report.ap_id not in sis_ids:
            continue  # not matched: the caller holds the student in suspense
        sis_id = "" if sis_ids is None else sis_ids[report.ap_id]
        seen: set[tuple[int, str]] = set()
        for exam in report.exams:
            key = (exam.admin_year, exam.code)
            if key in seen:
                continue  # a repeated block: the first one counts, as in merge
            seen.add(key)
            who = (report.di_code, report.ap_id)
            change = "" if kinds is None else kinds.get((*who, *key), "")
            if not sis_map.wants(exam, change):
                continue
            sis = sis_map.sis_code(exam)
            if sis is None:
                unmapped.setdefault(exam.code, Counter())[exam.admin_year] += 1
                continue
            values = _values(report, exam, sis, change, sis_map, sis_id)
            yield {
                column.header: column.text if column.value is None else values[column.value]
                for column in sis_map.columns
            }
    if unmapped:
        raise UnmappedExamError({code: dict(years) for code, years in unmapped.items()})


def _text(value: Any, date_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime(date_format)
    return str(value)


def write_export_csv(
    rows: Iterable[dict[str, Any]],
    sis_map: SisMap,
    dest: str | os.PathLike[str] | BinaryIO,
    *,
    raw: bool = False,
) -> int:
    """Write :func:`export_rows` as a UTF-8 CSV, dates in the map's format; returns rows.

    A path is written atomically: if the rows end in an error (an unmapped exam), the
    file is not there at all. Text values that a spreadsheet would run as formulas get a
    leading ``'`` unless ``raw`` (numbers and dates are never changed).
    """
    fmt = sis_map.date_format
    texts = (
        {name: _text(value if raw else neutralise(value), fmt) for name, value in row.items()}
        for row in rows
    )
    return write_rows_csv(texts, sis_map.headers, dest, raw=True)  # neutralised above
