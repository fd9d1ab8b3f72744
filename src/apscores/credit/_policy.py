"""Decisions: what a policy grants for one exam, and the credit CSV."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from apscores.catalog import exam_name
from apscores.changes import MergeSource, merge
from apscores.credit._delta import CreditDelta, deltas
from apscores.credit._results import CreditOutcome, CreditResult, CreditRun
from apscores.credit._rules import CreditRule, check_overlaps, read_rules
from apscores.errors import ParseError, PolicyError
from apscores.models import ExamScore, ScoreReport

__all__ = ["CreditPolicy"]


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

        Raises :class:`PolicyError` (a :class:`~apscores.errors.ParseError`) naming the file,
        the row and the column of the first problem (a file that is not UTF-8 text, such as
        one Excel saved as cp1252, says so), or
        :class:`~apscores.errors.MissingColumnsError`; ``OSError`` if it cannot be opened.
        """
        try:
            rules = read_rules(Path(path))
            if not rules:
                raise PolicyError("the policy has no rules", line=None, field=None, raw="")
            return cls(tuple(rules))
        except ParseError as error:
            raise error.in_file(os.fspath(path)) from None

    def rules_for(self, exam_code: str, admin_year: int) -> tuple[CreditRule, ...]:
        """The rules that apply to an exam, highest ``min_score`` first."""
        return tuple(r for r in self._by_code.get(exam_code, ()) if r.covers_year(admin_year))

    def decide(self, report: ScoreReport, exam: ExamScore) -> CreditResult:
        """The decision for one exam of ``report``."""
        status = exam.status
        if not status.earns_credit or exam.score is None:
            return CreditResult(
                report,
                exam,
                CreditOutcome.NOT_ELIGIBLE,
                detail=f"{status.value}: never earns credit",
            )
        year = exam.admin_year
        rules = [r for r in self._by_code.get(exam.code, ()) if r.covers_year(year)]
        if not rules:
            name = exam_name(exam.code, exam.admin_year)
            return CreditResult(
                report,
                exam,
                CreditOutcome.NO_RULE,
                detail=f"no rule for exam {exam.code} ({name}) taken in {exam.admin_year}",
            )
        for rule in rules:
            if exam.score >= rule.min_score:
                return CreditResult(report, exam, CreditOutcome.AWARDED, rule)
        lowest = rules[-1].min_score
        return CreditResult(
            report,
            exam,
            CreditOutcome.BELOW_MINIMUM,
            detail=f"score {exam.score} is below the minimum {lowest}",
        )

    def evaluate(self, report: ScoreReport) -> tuple[CreditResult, ...]:
        """One result per exam of ``report``, in the report's exam order."""
        return tuple(self.decide(report, exam) for exam in report.exams)

    def evaluate_many(self, reports: Iterable[ScoreReport]) -> Iterator[CreditResult]:
        """Results for every exam of every report, lazily (constant memory)."""
        for report in reports:
            yield from self.evaluate(report)

    def apply(self, *sources: MergeSource, across_di: bool = False) -> CreditRun:
        """Merge ``sources`` (as :func:`~apscores.merge` does) and decide every exam once.

        Re-sent copies of a student collapse into the newest record, so an exam gets one
        decision, never one per copy; records merge cannot order (same dates, different
        content) are in the run's ``conflicts``. Students are keyed by (DI code, AP ID)
        unless ``across_di``.
        """
        merged = merge(*sources, across_di=across_di)
        return CreditRun(tuple(self.evaluate_many(merged.current)), merged)

    def delta(
        self,
        previous: Iterable[ScoreReport],
        current: Iterable[ScoreReport],
        *,
        across_di: bool = False,
    ) -> tuple[CreditDelta, ...]:
        """Credit granted, revoked and changed from ``previous`` to ``current``.

        Both are views with one report per student, (DI code, AP ID) or, with
        ``across_di``, AP ID, such as two :func:`~apscores.merge` results' ``current``
        (last run's and today's). Each exam of ``current`` is decided
        under this policy in both views; only the decisions that differ come back, in
        ``current``'s order. An exam (or student) missing from ``current`` is no news: merge
        keeps exams that vanish from a re-sent record, so pass merged views.
        """
        return tuple(deltas(self.decide, previous, current, across_di=across_di))
