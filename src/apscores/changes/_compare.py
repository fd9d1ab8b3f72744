"""What changed between two versions of an exam, said as the action it needs.

Scores move both ways after a rescore, get withheld at the student's request (for one
college, until released), canceled, or arrive after being pending. A loader that keeps the
highest score per exam, or that only looks for "new" rows, gets these wrong, so every
change between two versions of the same exam (AP ID, admin year, exam code) is given one
:class:`ChangeKind` by :func:`classify`, from the exam's status
(:class:`~apscores.catalog.ExamStatus`, derived from the irregularity codes):

==================  =========================================================
``withheld``        now withheld (code 98), and was not before
``canceled``        now canceled (codes 04, 16, 17, 19, 87, 92, 94, 95)
``released``        was withheld, is not any more (code 98 gone)
``scored``          a score where there was none (pending, unknown or canceled)
``score_removed``   a reported score is gone: pending or unavailable again
``score_raised``    scored before and after, the score went up
``score_lowered``   scored before and after, the score went down
``score_changed``   anything else: the same score with other codes or flags
==================  =========================================================

The kinds in that order are checked first to last, so a withheld exam whose score also
changed is ``withheld``. :func:`compare` gives the same changes between two *views* (the
state you loaded last time and the one you have now) instead of along a merge history.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import attrs

from apscores._rows_csv import write_rows_csv
from apscores.catalog import ExamStatus, exam_name
from apscores.models import ExamScore, ScoreReport

__all__ = [
    "CHANGE_COLUMNS",
    "EXAM_CHANGES",
    "Change",
    "ChangeKind",
    "classify",
    "compare",
    "describe",
    "score_text",
    "student_key",
    "write_changes_csv",
]

#: Who a record belongs to: (DI code, AP ID), or ("", AP ID) when merging across DI codes.
StudentKey = tuple[str, str]


def student_key(report: ScoreReport, *, across_di: bool = False) -> StudentKey:
    """The key that makes two records the same student's.

    A student sent to two DI codes (two campuses, or a college and its scholarship office)
    is two students unless ``across_di``: each DI code has its own history of that student.
    """
    return ("" if across_di else report.di_code, report.ap_id)


class ChangeKind(str, enum.Enum):
    """What happened between two versions of a student's record."""

    NEW_STUDENT = "new_student"
    NEW_EXAM = "new_exam"
    SCORE_RAISED = "score_raised"  # scored both times, higher now (a rescore)
    SCORE_LOWERED = "score_lowered"  # scored both times, lower now: revisit credit
    WITHHELD = "withheld"  # code 98 appeared: the student withheld it from this college
    RELEASED = "released"  # code 98 gone: the student released it
    CANCELED = "canceled"  # a cancel code appeared (the score, if any, is void)
    SCORED = "scored"  # a score arrived where there was none (pending, unknown, canceled)
    SCORE_REMOVED = "score_removed"  # a reported score is pending or unavailable again
    SCORE_CHANGED = "score_changed"  # same score, other irregularity codes or flags
    EXAM_MISSING = "exam_missing"  # in an older version, absent from a newer one (kept)
    EXAM_RETURNED = "exam_returned"  # missing from a version, back in a later one
    CONFLICT = "conflict"  # same dates, different content: merge picked one, review it


#: The kinds :func:`classify` gives: a known exam whose value changed between two versions
#: (before these kinds existed, all of them were ``score_changed``).
EXAM_CHANGES: frozenset[ChangeKind] = frozenset(
    {
        ChangeKind.SCORE_RAISED,
        ChangeKind.SCORE_LOWERED,
        ChangeKind.WITHHELD,
        ChangeKind.RELEASED,
        ChangeKind.CANCELED,
        ChangeKind.SCORED,
        ChangeKind.SCORE_REMOVED,
        ChangeKind.SCORE_CHANGED,
    }
)


def _usable_score(exam: ExamScore) -> int | None:
    """The score when the exam is scored (with or without a note), else None."""
    return exam.score if exam.status.earns_credit else None


def classify(old: ExamScore, new: ExamScore) -> ChangeKind:
    """The kind of change from ``old`` to ``new`` (two versions of one exam).

    >>> from apscores.models import ExamScore
    >>> classify(ExamScore("93", 2021, 4), ExamScore("93", 2021, 2))
    <ChangeKind.SCORE_LOWERED: 'score_lowered'>
    >>> classify(ExamScore("93", 2021, None, ("98",)), ExamScore("93", 2021, 5)).value
    'released'
    >>> classify(ExamScore("07", 2024, None, ("96",)), ExamScore("07", 2024, 3)).value
    'scored'
    """
    before, after = old.status, new.status
    if after is ExamStatus.WITHHELD and before is not ExamStatus.WITHHELD:
        return ChangeKind.WITHHELD
    if after is ExamStatus.CANCELED and before is not ExamStatus.CANCELED:
        return ChangeKind.CANCELED
    if before is ExamStatus.WITHHELD and after is not ExamStatus.WITHHELD:
        return ChangeKind.RELEASED
    had, has = _usable_score(old), _usable_score(new)
    if had is None:
        return ChangeKind.SCORE_CHANGED if has is None else ChangeKind.SCORED
    if has is None:
        return ChangeKind.SCORE_REMOVED
    if has != had:
        return ChangeKind.SCORE_RAISED if has > had else ChangeKind.SCORE_LOWERED
    return ChangeKind.SCORE_CHANGED


@attrs.frozen
class Change:
    """One change (or conflict) for one student, at the version where it was seen."""

    kind: ChangeKind
    ap_id: str
    admin_year: int | None = None
    exam_code: str | None = None
    old: ExamScore | None = None  # before; for a conflict, the version merge did not keep
    new: ExamScore | None = None  # after; for a conflict, the version merge kept
    date_updated: dt.date | None = None  # dates of the version where the change appears
    report_date: dt.date | None = None
    detail: str = ""
    di_code: str = ""  # the DI code of the student's record ("" when not known)

    @property
    def exam_name(self) -> str:
        """The exam's name for its own admin year ("" for student-level changes)."""
        if self.exam_code is None or self.admin_year is None:
            return ""
        return exam_name(self.exam_code, self.admin_year)

    def as_row(self) -> dict[str, str]:
        """A flat row for :data:`CHANGE_COLUMNS` (blank where not applicable)."""
        return {
            "kind": self.kind.value,
            "ap_id": self.ap_id,
            "di_code": self.di_code,
            "admin_year": "" if self.admin_year is None else str(self.admin_year),
            "exam_code": self.exam_code or "",
            "exam_name": self.exam_name,
            "old_score": score_text(self.old),
            "old_irregularity_codes": codes_text(self.old),
            "old_status": "" if self.old is None else self.old.status.value,
            "new_score": score_text(self.new),
            "new_irregularity_codes": codes_text(self.new),
            "new_status": "" if self.new is None else self.new.status.value,
            "date_updated": _date_text(self.date_updated),
            "report_date": _date_text(self.report_date),
            "detail": self.detail,
        }


#: Columns of the flat changes CSV, in order.
CHANGE_COLUMNS: tuple[str, ...] = (
    "kind",
    "ap_id",
    "di_code",
    "admin_year",
    "exam_code",
    "exam_name",
    "old_score",
    "old_irregularity_codes",
    "old_status",
    "new_score",
    "new_irregularity_codes",
    "new_status",
    "date_updated",
    "report_date",
    "detail",
)


def score_text(exam: ExamScore | None) -> str:
    """The score as text; "" when there is no exam or no score."""
    return "" if exam is None or exam.score is None else str(exam.score)


def codes_text(exam: ExamScore | None) -> str:
    """The irregularity codes joined with spaces."""
    return "" if exam is None else " ".join(exam.irregularity_codes)


def _date_text(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def describe(old: ExamScore, new: ExamScore) -> str:
    """What differs, for people: ``score 4 -> 2; status scored -> withheld``..."""
    parts: list[str] = []
    if old.score != new.score:
        parts.append(f"score {score_text(old) or 'blank'} -> {score_text(new) or 'blank'}")
    if old.status != new.status:
        parts.append(f"status {old.status.value} -> {new.status.value}")
    if old.irregularity_codes != new.irregularity_codes:
        parts.append(
            f"irregularity codes {codes_text(old) or 'none'} -> {codes_text(new) or 'none'}"
        )
    if old.suppression_flag != new.suppression_flag:
        parts.append(f"suppression flag {old.suppression_flag!r} -> {new.suppression_flag!r}")
    if old.class_section != new.class_section:
        parts.append(f"class section {old.class_section!r} -> {new.class_section!r}")
    return "; ".join(parts)


def _exams_by_key(report: ScoreReport) -> dict[tuple[int, str], ExamScore]:
    keyed: dict[tuple[int, str], ExamScore] = {}
    for exam in report.exams:
        keyed.setdefault((exam.admin_year, exam.code), exam)  # first block wins, as in merge
    return keyed


def compare(
    previous: Iterable[ScoreReport], current: Iterable[ScoreReport], *, across_di: bool = False
) -> Iterator[Change]:
    """The changes from one view to the next (e.g. last run's merged file and today's).

    Both are views with one report per student: per (DI code, AP ID), or per AP ID with
    ``across_di`` (:func:`student_key`; later ones replace earlier ones). Yields, per
    student of ``current`` in its order: ``new_student`` and a ``new_exam`` per exam for a
    student ``previous`` lacks; otherwise a :func:`classify` kind per exam that differs, a
    ``new_exam`` per exam ``previous`` lacked and an ``exam_missing`` per exam that is gone.
    A student absent from ``current`` is no news, not a change: pass whole views (a
    :func:`~apscores.changes.merge` of the old state and the new files is one).
    """
    before = {student_key(report, across_di=across_di): report for report in previous}
    for report in current:
        now = _exams_by_key(report)
        old_report = before.get(student_key(report, across_di=across_di))
        if old_report is None:
            yield _change(ChangeKind.NEW_STUDENT, report, detail=f"{len(now)} exam(s)")
        then = {} if old_report is None else _exams_by_key(old_report)
        for key, exam in now.items():
            old = then.get(key)
            if old is None:
                yield _change(ChangeKind.NEW_EXAM, report, key, new=exam)
            elif old != exam:
                yield _change(classify(old, exam), report, key, old, exam, describe(old, exam))
        for key, old in then.items():
            if key not in now:
                detail = "in the previous view, absent from the current one"
                yield _change(ChangeKind.EXAM_MISSING, report, key, old=old, detail=detail)


def _change(
    kind: ChangeKind,
    report: ScoreReport,
    key: tuple[int, str] | None = None,
    old: ExamScore | None = None,
    new: ExamScore | None = None,
    detail: str = "",
) -> Change:
    year, code = key if key is not None else (None, None)
    updated, reported = report.date_updated, report.report_date
    return Change(
        kind, report.ap_id, year, code, old, new, updated, reported, detail, report.di_code
    )


def write_changes_csv(
    changes: Iterable[Change], dest: str | os.PathLike[str] | BinaryIO, *, raw: bool = False
) -> int:
    """Write changes as a flat UTF-8 CSV (:data:`CHANGE_COLUMNS`); returns rows written.

    Text cells that a spreadsheet would run as formulas get a leading ``'`` unless ``raw``.
    """
    return write_rows_csv((item.as_row() for item in changes), CHANGE_COLUMNS, dest, raw=raw)
