"""Credit deltas: what to post, take back or correct since the previous run.

Credit already granted must be revisited when a rescore drops a score below a threshold,
when a score is withheld or canceled, and when a withheld or pending score arrives. The
same policy is applied to both views and only the decisions that differ are kept, so a
policy edit is not a delta (run ``apscores credit`` without ``--since`` for that).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import attrs

from apscores._rows_csv import write_rows_csv
from apscores.changes import ChangeKind, classify, describe, score_text, student_key
from apscores.credit._results import CreditOutcome, CreditResult
from apscores.models import ExamScore, ScoreReport

__all__ = ["DELTA_COLUMNS", "CreditDelta", "DeltaKind", "deltas", "write_delta_csv"]


class DeltaKind(str, enum.Enum):
    """How the credit for one exam moved between two views."""

    GRANTED = "granted"  # credit now, none before (a new, released, pending or raised score)
    REVOKED = "revoked"  # credit before, none now (lowered below the minimum, withheld...)
    CHANGED = "changed"  # credit before and now, by another rule (another course or hours)


@attrs.frozen
class CreditDelta:
    """One exam whose credit moved: the decisions before and after, and why."""

    kind: DeltaKind
    before: CreditResult | None  # None: the exam was not in the previous view
    after: CreditResult

    @property
    def ap_id(self) -> str:
        return self.after.ap_id

    @property
    def exam(self) -> ExamScore:
        """The exam as it is now."""
        return self.after.exam

    @property
    def change(self) -> ChangeKind:
        """What happened to the exam (``new_exam``, ``score_lowered``, ``released``...)."""
        if self.before is None:
            return ChangeKind.NEW_EXAM
        return classify(self.before.exam, self.after.exam)

    @property
    def detail(self) -> str:
        """The score change and the rules, for people."""
        before, after = self.before, self.after
        moved = "new exam" if before is None else describe(before.exam, after.exam)
        if self.kind is DeltaKind.GRANTED:
            return f"{moved}; granted {after.course} by {_rule_text(after)}"
        assert before is not None  # only a grant can have no earlier decision
        if self.kind is DeltaKind.CHANGED:
            return (
                f"{moved}; {before.course} ({_rule_text(before)}) -> "
                f"{after.course} ({_rule_text(after)})"
            )
        why = after.detail or after.outcome.value
        return f"{moved}; revoked {before.course} ({_rule_text(before)}): {why}"

    def as_row(self) -> dict[str, str]:
        """A flat row for :data:`DELTA_COLUMNS`."""
        before, after = self.before, self.after
        student = after.report.student
        old_rule = before.rule if before is not None else None
        new_rule = after.rule
        return {
            "delta": self.kind.value,
            "ap_id": self.ap_id,
            "last_name": student.last_name,
            "first_name": student.first_name,
            "di_code": after.report.di_code,
            "admin_year": str(self.exam.admin_year),
            "exam_code": self.exam.code,
            "exam_name": self.exam.name,
            "change": self.change.value,
            "old_score": score_text(before.exam if before else None),
            "old_status": before.exam.status.value if before else "",
            "new_score": score_text(after.exam),
            "new_status": after.exam.status.value,
            "outcome": after.outcome.value,
            "old_course": before.course if before else "",
            "old_credit_hours": str(old_rule.credit_hours) if old_rule else "",
            "old_rule_line": _line(old_rule.line if old_rule else None),
            "new_course": after.course,
            "new_credit_hours": str(new_rule.credit_hours) if new_rule else "",
            "new_rule_line": _line(new_rule.line if new_rule else None),
            "detail": self.detail,
        }


#: Columns of the delta CSV (``apscores credit --since``), in order.
DELTA_COLUMNS: tuple[str, ...] = (
    "delta",
    "ap_id",
    "last_name",
    "first_name",
    "di_code",
    "admin_year",
    "exam_code",
    "exam_name",
    "change",
    "old_score",
    "old_status",
    "new_score",
    "new_status",
    "outcome",
    "old_course",
    "old_credit_hours",
    "old_rule_line",
    "new_course",
    "new_credit_hours",
    "new_rule_line",
    "detail",
)


def _line(line: int | None) -> str:
    return "" if line is None else str(line)


def _rule_text(result: CreditResult) -> str:
    rule = result.rule
    assert rule is not None  # only awarded decisions are described by their rule
    where = f"rule line {rule.line}" if rule.line is not None else "a rule"
    return f"{where}: min score {rule.min_score}, {rule.credit_hours} hour(s)"


def _keyed(report: ScoreReport) -> dict[tuple[int, str], ExamScore]:
    exams: dict[tuple[int, str], ExamScore] = {}
    for exam in report.exams:
        exams.setdefault((exam.admin_year, exam.code), exam)  # first block wins, as in merge
    return exams


def _kind(before: CreditResult | None, after: CreditResult) -> DeltaKind | None:
    had = before is not None and before.outcome is CreditOutcome.AWARDED
    has = after.outcome is CreditOutcome.AWARDED
    if has and not had:
        return DeltaKind.GRANTED
    if had and not has:
        return DeltaKind.REVOKED
    if had and before is not None and before.rule != after.rule:
        return DeltaKind.CHANGED
    return None


def deltas(
    decide: Callable[[ScoreReport, ExamScore], CreditResult],
    previous: Iterable[ScoreReport],
    current: Iterable[ScoreReport],
    *,
    across_di: bool = False,
) -> Iterator[CreditDelta]:
    """The exams of ``current`` whose decision differs from the one in ``previous``."""
    before = {student_key(report, across_di=across_di): report for report in previous}
    for report in current:
        old_report = before.get(student_key(report, across_di=across_di))
        old_exams = _keyed(old_report) if old_report is not None else {}
        for key, exam in _keyed(report).items():
            after = decide(report, exam)
            old_exam = old_exams.get(key)
            earlier = None
            if old_report is not None and old_exam is not None:
                earlier = decide(old_report, old_exam)
            kind = _kind(earlier, after)
            if kind is not None:
                yield CreditDelta(kind, earlier, after)


def write_delta_csv(
    deltas: Iterable[CreditDelta], dest: str | os.PathLike[str] | BinaryIO, *, raw: bool = False
) -> int:
    """Write deltas as a UTF-8 CSV (:data:`DELTA_COLUMNS`); returns rows written.

    Text cells that a spreadsheet would run as formulas get a leading ``'`` unless ``raw``.
    """
    return write_rows_csv((delta.as_row() for delta in deltas), DELTA_COLUMNS, dest, raw=raw)
