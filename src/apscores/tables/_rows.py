"""Score reports as flat rows: one per exam (long) or one per student (wide), streamed.

*Long* rows (the default) are one row per exam, which is what loaders and analysts want:
the 30 wide exam slots of the file become rows, and each exam is named from its own admin
year (exam 93 is "World History" up to 2019, "World History: Modern" after). *Wide* rows
are one row per student with ``exam_01_*``, ``exam_02_*``... columns, most recent first.

>>> from apscores.models import ExamScore, ScoreReport, Student
>>> report = ScoreReport("1234ABCD", Student("Doe", "Jane"), "1234",
...                      exams=(ExamScore("93", 2019, 4),))
>>> [(row["exam_name"], row["score"]) for row in to_rows([report])]
[('World History', 4)]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any

from apscores.models import ExamScore, ScoreReport
from apscores.tables._schema import (
    DATE_COLUMNS,
    EXAM_COLUMNS,
    EXAM_COLUMNS_KINDS,
    IRREGULARITY_SEPARATOR,
    STUDENT_COLUMNS,
    column_names,
    long_name,
)

__all__ = ["Row", "columns_of", "jsonable", "to_rows"]

Row = dict[str, Any]

_STUDENT = tuple((name, attrgetter(attribute)) for name, (_, attribute) in STUDENT_COLUMNS.items())
_DATES = tuple((name, attrgetter(attribute)) for name, (_, attribute) in DATE_COLUMNS.items())


def _cell(attribute: str) -> Callable[[ExamScore], Any]:
    get = attrgetter(attribute)
    if attribute == "status":
        return lambda exam: exam.status.value
    if attribute == "irregularity_codes":
        return lambda exam: IRREGULARITY_SEPARATOR.join(exam.irregularity_codes)
    return get


_EXAM = tuple((name, _cell(attribute)) for name, (_, attribute) in EXAM_COLUMNS_KINDS.items())
_LONG_EXAM = tuple((long_name(name), get) for name, get in _EXAM)


def to_rows(
    reports: Iterable[ScoreReport], *, long: bool = True, max_exams: int | None = None
) -> Iterator[Row]:
    """Flat dicts, streamed: one per exam (``long``) or one per student (wide).

    Dates stay :class:`datetime.date` and blanks stay ``None``. Wide rows carry the exams
    each student has; pass ``max_exams`` to give every row the same ``exam_NN_*`` columns
    (missing slots are ``None``), as a CSV header needs.
    """
    for report in reports:
        student = {name: get(report) for name, get in _STUDENT}
        dates = {name: get(report) for name, get in _DATES}
        if long:
            for exam in report.exams:
                yield {**student, **{name: get(exam) for name, get in _LONG_EXAM}, **dates}
            continue
        row = {**student, **dates}
        slots = len(report.exams) if max_exams is None else max_exams
        for index in range(slots):
            prefix = f"exam_{index + 1:02d}_"
            if index < len(report.exams):
                exam = report.exams[index]
                row.update({prefix + name: get(exam) for name, get in _EXAM})
            else:
                row.update(dict.fromkeys((prefix + name for name in EXAM_COLUMNS), None))
        yield row


def jsonable(row: Row) -> Row:
    """A row with dates as ISO strings, ready for ``json.dumps``."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


def columns_of(
    reports: Iterable[ScoreReport], long: bool
) -> tuple[list[str], dict[str, list[Any]]]:
    """Materialise rows column by column; wide rows are padded to the widest student."""
    reports = list(reports)
    max_exams = None if long else max((len(r.exams) for r in reports), default=0)
    names = column_names(long=long, max_exams=max_exams or 0)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for row in to_rows(reports, long=long, max_exams=max_exams):
        for name in names:
            columns[name].append(row[name])
    return names, columns
