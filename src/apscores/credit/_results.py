"""What a policy decided for one exam, and the credit CSV of those decisions."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO

import attrs

from apscores._rows_csv import write_rows_csv
from apscores.catalog import ExamStatus
from apscores.changes import Change, MergeResult
from apscores.credit._rules import CreditRule
from apscores.models import ExamScore, ScoreReport

__all__ = ["CREDIT_COLUMNS", "CreditOutcome", "CreditResult", "CreditRun", "write_credit_csv"]


class CreditOutcome(str, enum.Enum):
    """What a policy decided for one exam."""

    AWARDED = "awarded"  # a rule matched: credit or placement granted
    NO_RULE = "no_rule"  # no rule for this exam code in this admin year
    NOT_ELIGIBLE = "not_eligible"  # pending, canceled, withheld or unknown: never credit
    BELOW_MINIMUM = "below_minimum"  # rules exist for the exam and year, the score is too low


@attrs.frozen
class CreditResult:
    """The decision for one exam of one report."""

    report: ScoreReport = attrs.field(repr=False)
    exam: ExamScore
    outcome: CreditOutcome
    rule: CreditRule | None = None  # the rule that matched (only when awarded)
    detail: str = ""

    @property
    def ap_id(self) -> str:
        return self.report.ap_id

    @property
    def status(self) -> ExamStatus:
        return self.exam.status

    @property
    def credit_hours(self) -> Decimal:
        """Hours granted (0 unless awarded)."""
        return self.rule.credit_hours if self.rule is not None else Decimal(0)

    @property
    def course(self) -> str:
        """Course or placement granted ("" unless awarded)."""
        return self.rule.course if self.rule is not None else ""

    def as_row(self) -> dict[str, str]:
        """A flat row for :data:`CREDIT_COLUMNS`."""
        rule = self.rule
        student = self.report.student
        return {
            "ap_id": self.report.ap_id,
            "last_name": student.last_name,
            "first_name": student.first_name,
            "di_code": self.report.di_code,
            "admin_year": str(self.exam.admin_year),
            "exam_code": self.exam.code,
            "exam_name": self.exam.name,
            "score": "" if self.exam.score is None else str(self.exam.score),
            "status": self.exam.status.value,
            "outcome": self.outcome.value,
            "course": self.course,
            "credit_hours": str(self.credit_hours) if rule is not None else "",
            "rule_min_score": str(rule.min_score) if rule is not None else "",
            "rule_years": rule.years if rule is not None else "",
            "rule_line": "" if rule is None or rule.line is None else str(rule.line),
            "note": rule.note if rule is not None else "",
            "detail": self.detail,
        }


#: Columns of the credit CSV written by :func:`write_credit_csv`, in order.
CREDIT_COLUMNS: tuple[str, ...] = (
    "ap_id",
    "last_name",
    "first_name",
    "di_code",
    "admin_year",
    "exam_code",
    "exam_name",
    "score",
    "status",
    "outcome",
    "course",
    "credit_hours",
    "rule_min_score",
    "rule_years",
    "rule_line",
    "note",
    "detail",
)


def write_credit_csv(
    results: Iterable[CreditResult], dest: str | os.PathLike[str] | BinaryIO, *, raw: bool = False
) -> int:
    """Write results as a UTF-8 CSV (:data:`CREDIT_COLUMNS`); returns rows written.

    Text cells that a spreadsheet would run as formulas get a leading ``'`` unless ``raw``.
    """
    rows = (result.as_row() for result in results)
    return write_rows_csv(rows, CREDIT_COLUMNS, dest, raw=raw)


@attrs.frozen(repr=False)
class CreditRun:
    """The decisions for every exam of a merged view, and the merge's conflicts.

    Made by :meth:`CreditPolicy.apply <apscores.credit.CreditPolicy.apply>`: one decision
    per exam of each student, never two for one exam. ``conflicts`` are the records merge
    could not order by date (same dates, different content): one of each was kept by a
    fixed rule, so review them before posting credit.
    """

    results: tuple[CreditResult, ...]
    merged: MergeResult

    @property
    def conflicts(self) -> tuple[Change, ...]:
        """The ``conflict`` changes of the merge: resolved by a fixed rule, to review."""
        return self.merged.conflicts

    def write_csv(self, dest: str | os.PathLike[str] | BinaryIO, *, raw: bool = False) -> int:
        """Write the decisions as the credit CSV (:func:`write_credit_csv`); returns rows."""
        return write_credit_csv(self.results, dest, raw=raw)

    def __repr__(self) -> str:  # counts only: the reports hold names and birth dates
        return (
            f"<CreditRun {len(self.results)} decision(s), {len(self.merged.current)} "
            f"student(s), {len(self.conflicts)} conflict(s)>"
        )
