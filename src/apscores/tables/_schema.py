"""The columns of the tables: their names, their kinds, and the record attribute behind each.

Declared once: the row builder (:mod:`apscores.tables._rows`), the typed frames and the
columnar fast path (which finds each column's field in the TXT layout through the same
attribute, :meth:`apscores.files.layout.Layout.by_attribute`) all read these tables.
Dates are dates, years and scores are nullable integers, exam names and statuses are
categorical; everything else is text.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "COLUMN_KINDS",
    "DATE_COLUMNS",
    "EXAM_COLUMNS",
    "IRREGULARITY_SEPARATOR",
    "STUDENT_COLUMNS",
    "ColumnKind",
    "column_kind",
    "column_names",
    "long_name",
]

ColumnKind = Literal["str", "int", "date", "category"]

#: Irregularity codes of one exam are joined into one cell with this separator.
IRREGULARITY_SEPARATOR = ";"

#: Per-student columns: name -> (kind, the ScoreReport attribute it shows).
STUDENT_COLUMNS: dict[str, tuple[ColumnKind, str]] = {
    "ap_id": ("str", "ap_id"),
    "last_name": ("str", "student.last_name"),
    "first_name": ("str", "student.first_name"),
    "middle_initial": ("str", "student.middle_initial"),
    "date_of_birth": ("date", "student.date_of_birth"),
    "gender": ("str", "student.gender"),
    "di_code": ("str", "di_code"),
    "high_school_code": ("str", "high_school.code"),
    "high_school_name": ("str", "high_school.name"),
}
#: Per-exam columns: name -> (kind, the ExamScore attribute or property it shows).
EXAM_COLUMNS_KINDS: dict[str, tuple[ColumnKind, str]] = {
    "code": ("str", "code"),
    "name": ("category", "name"),  # a property: named by the exam's own admin year
    "admin_year": ("int", "admin_year"),
    "score": ("int", "score"),
    "status": ("category", "status"),  # a property, from the irregularity codes
    "irregularity_codes": ("str", "irregularity_codes"),
    "class_section": ("str", "class_section"),
}
#: The report's three dates: name -> (kind, attribute).
DATE_COLUMNS: dict[str, tuple[ColumnKind, str]] = {
    "date_released": ("date", "date_released"),
    "date_updated": ("date", "date_updated"),
    "report_date": ("date", "report_date"),
}

#: The per-exam fields; long rows call them ``exam_code``, ``exam_name``... (``admin_year``,
#: ``score``, ``status``, ``irregularity_codes`` and ``class_section`` keep their names).
EXAM_COLUMNS: tuple[str, ...] = tuple(EXAM_COLUMNS_KINDS)

_LONG_NAMES = {"code": "exam_code", "name": "exam_name"}


def long_name(exam_column: str) -> str:
    """The long table's name for a per-exam column (``code`` -> ``exam_code``)."""
    return _LONG_NAMES.get(exam_column, exam_column)


#: Every long column and its kind, in column order.
COLUMN_KINDS: dict[str, ColumnKind] = {
    **{name: kind for name, (kind, _) in STUDENT_COLUMNS.items()},
    **{long_name(name): kind for name, (kind, _) in EXAM_COLUMNS_KINDS.items()},
    **{name: kind for name, (kind, _) in DATE_COLUMNS.items()},
}


def column_kind(column: str) -> ColumnKind:
    """The kind of a long or wide column (``exam_07_score`` is an ``int``)."""
    if column in COLUMN_KINDS:
        return COLUMN_KINDS[column]
    if column.startswith("exam_") and column[5:7].isdigit():
        found = EXAM_COLUMNS_KINDS.get(column[8:])
        return found[0] if found else "str"
    return "str"


def column_names(*, long: bool = True, max_exams: int = 0) -> list[str]:
    """The columns of long rows, or of wide rows with ``max_exams`` exam slots."""
    if long:
        return list(COLUMN_KINDS)
    names = [*STUDENT_COLUMNS, *DATE_COLUMNS]
    for index in range(max_exams):
        names += [f"exam_{index + 1:02d}_{key}" for key in EXAM_COLUMNS]
    return names
