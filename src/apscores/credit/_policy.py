"""Decisions: what a policy grants for one exam, and the credit CSV."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import attrs

from apscores._rows_csv import write_rows_csv
from apscores.catalog import ExamStatus, exam_name
from apscores.credit._rules import CreditRule, check_overlaps, read_rules
from apscores.errors import PolicyError
from apscores.models import ExamScore, ScoreReport

if TYPE_CHECKING:
    from apscores.credit._delta import CreditDelta

__all__ = ["CREDIT_COLUMNS", "CreditPolicy", "CreditResult", "Outcome", "write_credit_csv"]


class Outcome(str, enum.Enum):
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
    outcome: Outcome
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


@attrs.frozen
class CreditPolicy:
    """A validated set of :class:`CreditRule`; build it with :meth:`from_file`."""

    rules: tuple[CreditRule, ...]
    _by_code: dict[str, tuple[CreditRule, ...]] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        check_overlaps(self.rules)
        by_code: dict[str, list[CreditRule]] = {}
        for rule in self.rules:
            by_code.setdefault(rule.exam_code, []).append(rule)
        index = {
            code: tuple(sorted(found, key=lambda r: -r.min_score))
            for code, found in by_code.items()
        }
        object.__setattr__(self, "_by_code", index)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> CreditPolicy:
        """Load and check a policy: CSV, or TOML (``.toml``).

        Raises :class:`PolicyError` (a :class:`~apscores.errors.ParseError`) naming the row
        and column of the first problem, or :class:`~apscores.errors.MissingColumnsError`.
        """
        rules = read_rules(Path(path))
        if not rules:
            raise PolicyError("the policy has no rules", line=None, field=None, raw="")
        return cls(tuple(rules))

    def rules_for(self, exam_code: str, admin_year: int) -> tuple[CreditRule, ...]:
        """The rules that apply to an exam, highest ``min_score`` first."""
        return tuple(r for r in self._by_code.get(exam_code, ()) if r.covers_year(admin_year))

    def decide(self, report: ScoreReport, exam: ExamScore) -> CreditResult:
        """The decision for one exam of ``report``."""
        status = exam.status
        if not status.earns_credit or exam.score is None:
            return CreditResult(
                report, exam, Outcome.NOT_ELIGIBLE, detail=f"{status.value}: never earns credit"
            )
        year = exam.admin_year
        rules = [r for r in self._by_code.get(exam.code, ()) if r.covers_year(year)]
        if not rules:
            name = exam_name(exam.code, exam.admin_year)
            return CreditResult(
                report,
                exam,
                Outcome.NO_RULE,
                detail=f"no rule for exam {exam.code} ({name}) taken in {exam.admin_year}",
            )
        for rule in rules:
            if exam.score >= rule.min_score:
                return CreditResult(report, exam, Outcome.AWARDED, rule)
        lowest = rules[-1].min_score
        return CreditResult(
            report,
            exam,
            Outcome.BELOW_MINIMUM,
            detail=f"score {exam.score} is below the minimum {lowest}",
        )

    def evaluate(self, report: ScoreReport) -> tuple[CreditResult, ...]:
        """One result per exam of ``report``, in the report's exam order."""
        return tuple(self.decide(report, exam) for exam in report.exams)

    def evaluate_many(self, reports: Iterable[ScoreReport]) -> Iterator[CreditResult]:
        """Results for every exam of every report, lazily (constant memory)."""
        for report in reports:
            yield from self.evaluate(report)

    def delta(
        self, previous: Iterable[ScoreReport], current: Iterable[ScoreReport]
    ) -> tuple[CreditDelta, ...]:
        """Credit granted, revoked and changed from ``previous`` to ``current``.

        Both are views with one report per AP ID, such as two :func:`~apscores.merge`
        results' ``current`` (last run's and today's). Each exam of ``current`` is decided
        under this policy in both views; only the decisions that differ come back, in
        ``current``'s order. An exam (or student) missing from ``current`` is no news: merge
        keeps exams that vanish from a re-sent record, so pass merged views.
        """
        from apscores.credit._delta import deltas

        return tuple(deltas(self, previous, current))


def write_credit_csv(
    results: Iterable[CreditResult], dest: str | os.PathLike[str] | BinaryIO
) -> int:
    """Write results as a UTF-8 CSV (:data:`CREDIT_COLUMNS`); returns rows written."""
    return write_rows_csv((result.as_row() for result in results), CREDIT_COLUMNS, dest)
