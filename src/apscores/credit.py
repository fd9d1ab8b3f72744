"""Turn AP scores into course credit or placement, by an institution's own rules.

A policy is a table a registrar keeps in a spreadsheet, one rule per row::

    exam_code,min_score,admin_year_from,admin_year_to,course,credit_hours,note
    93,4,,2019,HIST 110 World History,3,old World History course
    93,4,2020,,HIST 112 Modern World,3,World History: Modern

Rules are checked when the file is loaded, and a bad row is refused with its row and
column (:class:`PolicyError`): unknown exam codes, numbers that are not numbers, scores
outside 1-5, year ranges that end before they start, and rules that overlap.

How a score is matched:

- A rule applies to an exam when the codes are equal and the exam's **own admin year** is
  in the rule's year range (both ends inclusive, blank = open). That is how exam 93 (World
  History until 2019, World History: Modern from 2020) and the renamed art exams 14/15/16
  get different rules under the same code.
- When several rules apply, the one with the **highest** ``min_score`` the score reaches
  wins, so a tiered policy (3 -> 3 hours, 4 -> 6 hours) is two rows.
- Two rules for the same exam with the same ``min_score`` and overlapping year ranges
  would be ambiguous, so they are refused. To grant two courses for one score, name both in
  ``course`` (for example ``MATH 101 + MATH 102``).
- Pending, canceled, withheld (and unknown-status) scores never earn credit, whatever the
  rules say: they come out as ``not_eligible``.
"""

from __future__ import annotations

import csv
import enum
import importlib
import os
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from apscores._rows_csv import write_rows_csv
from apscores.catalog import ExamStatus, exam_name, is_known_exam
from apscores.errors import ConfigurationError, MissingColumnsError, PolicyError
from apscores.models import ExamScore, ScoreReport

__all__ = [
    "CREDIT_COLUMNS",
    "POLICY_COLUMNS",
    "CreditPolicy",
    "CreditResult",
    "CreditRule",
    "Outcome",
    "write_credit_csv",
]

#: Columns a CSV policy must have.
REQUIRED_POLICY_COLUMNS: tuple[str, ...] = ("exam_code", "min_score", "course", "credit_hours")
#: Every column a CSV policy may have (``exam_name`` is for people and is ignored).
POLICY_COLUMNS: tuple[str, ...] = (
    "exam_code",
    "min_score",
    "admin_year_from",
    "admin_year_to",
    "course",
    "credit_hours",
    "note",
    "exam_name",
)


class Outcome(str, enum.Enum):
    """What a policy decided for one exam."""

    AWARDED = "awarded"  # a rule matched: credit or placement granted
    NO_RULE = "no_rule"  # no rule for this exam code in this admin year
    NOT_ELIGIBLE = "not_eligible"  # pending, canceled, withheld or unknown: never credit
    BELOW_MINIMUM = "below_minimum"  # rules exist for the exam and year, the score is too low


@attrs.frozen
class CreditRule:
    """One row of a policy: a score of at least ``min_score`` on ``exam_code`` earns ``course``.

    ``admin_year_from`` / ``admin_year_to`` bound the exam's admin year, inclusive; None is
    open. ``line`` is where the rule came from (for messages); it is not part of equality.
    """

    exam_code: str
    min_score: int
    course: str
    credit_hours: Decimal
    admin_year_from: int | None = None
    admin_year_to: int | None = None
    note: str = ""
    line: int | None = attrs.field(default=None, eq=False)

    def covers_year(self, admin_year: int) -> bool:
        """Whether the rule applies to an exam taken in ``admin_year``."""
        if self.admin_year_from is not None and admin_year < self.admin_year_from:
            return False
        return self.admin_year_to is None or admin_year <= self.admin_year_to

    def overlaps(self, other: CreditRule) -> bool:
        """Whether both rules could match the same (exam code, score, admin year)."""
        if self.exam_code != other.exam_code or self.min_score != other.min_score:
            return False
        low = max(_lo(self.admin_year_from), _lo(other.admin_year_from))
        high = min(_hi(self.admin_year_to), _hi(other.admin_year_to))
        return low <= high

    @property
    def years(self) -> str:
        """The year range as people write it: ``2020-``, ``-2019``, ``2015-2019``, ``all``."""
        if self.admin_year_from is None and self.admin_year_to is None:
            return "all years"
        return f"{self.admin_year_from or ''}-{self.admin_year_to or ''}"


def _lo(year: int | None) -> int:
    return year if year is not None else -(10**9)


def _hi(year: int | None) -> int:
    return year if year is not None else 10**9


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


def _normalise_header(name: str) -> str:
    """``Exam Code`` / ``exam-code`` / `` exam_code `` all mean ``exam_code``."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


class _RowReader:
    """Turns one raw row (column -> text) into a rule, raising PolicyError at the first fault."""

    def __init__(self, row: Mapping[str, object], line: int | None, where: str) -> None:
        self.row = row
        self.line = line
        self.where = where  # "" for CSV (line says it), "rule 3: " for TOML

    def text(self, column: str) -> str:
        value = self.row.get(column)
        return "" if value is None else str(value).strip()

    def fail(self, column: str, reason: str) -> PolicyError:
        return PolicyError(
            f"{self.where}{reason}", line=self.line, field=column, raw=self.text(column)
        )

    def exam_code(self) -> str:
        code = self.text("exam_code")
        if not code:
            raise self.fail("exam_code", "exam_code is required")
        if code.isdigit() and len(code) == 1:
            code = "0" + code  # spreadsheets drop the leading zero of 07
        if not is_known_exam(code):
            raise self.fail("exam_code", f"unknown exam code {code!r} (see apscores.catalog)")
        return code

    def integer(self, column: str, *, required: bool) -> int | None:
        text = self.text(column)
        if not text:
            if required:
                raise self.fail(column, f"{column} is required")
            return None
        if not (text.isascii() and text.isdigit()):
            raise self.fail(column, f"{column} must be a whole number")
        return int(text)

    def year(self, column: str) -> int | None:
        value = self.integer(column, required=False)
        if value is not None and not 1950 <= value <= 2100:
            raise self.fail(column, f"{column} must be a four-digit admin year, like 2019")
        return value

    def rule(self) -> CreditRule:
        code = self.exam_code()
        min_score = self.integer("min_score", required=True)
        assert min_score is not None
        if not 1 <= min_score <= 5:
            raise self.fail("min_score", "min_score must be an AP score from 1 to 5")
        year_from = self.year("admin_year_from")
        year_to = self.year("admin_year_to")
        if year_from is not None and year_to is not None and year_from > year_to:
            raise self.fail(
                "admin_year_to", f"admin_year_to is before admin_year_from ({year_from})"
            )
        course = self.text("course")
        if not course:
            raise self.fail("course", "course is required (the course or placement granted)")
        hours_text = self.text("credit_hours")
        if not hours_text:
            raise self.fail("credit_hours", "credit_hours is required (0 for placement only)")
        try:
            hours = Decimal(hours_text)
        except InvalidOperation:
            raise self.fail("credit_hours", "credit_hours must be a number") from None
        if not hours.is_finite() or hours < 0:
            raise self.fail("credit_hours", "credit_hours must be a number, 0 or more")
        return CreditRule(
            code,
            min_score,
            course,
            hours,
            year_from,
            year_to,
            self.text("note"),
            line=self.line,
        )


def _read_csv_rules(path: Path) -> list[CreditRule]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise PolicyError("the policy file is empty", line=1, field=None, raw="") from None
        columns = [_normalise_header(name) for name in header]
        missing = [name for name in REQUIRED_POLICY_COLUMNS if name not in columns]
        if missing:
            raise MissingColumnsError(missing, columns)
        for index, name in enumerate(columns):
            if name not in POLICY_COLUMNS:
                raise PolicyError(
                    f"unknown column {header[index]!r}; "
                    f"expected some of {', '.join(POLICY_COLUMNS)}",
                    line=1,
                    field=header[index],
                    raw=header[index],
                )
            if columns.index(name) != index:
                raise PolicyError(
                    f"column {name!r} appears twice", line=1, field=header[index], raw=name
                )
        rules: list[CreditRule] = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # blank spreadsheet rows
            line = reader.line_num
            if len(values) > len(columns):
                raise PolicyError(
                    f"row has {len(values)} values but the header has {len(columns)} columns",
                    line=line,
                    field=None,
                    raw=",".join(values),
                )
            row = dict(zip(columns, values, strict=False))
            rules.append(_RowReader(row, line, "").rule())
    return rules


def _read_toml_rules(path: Path) -> list[CreditRule]:
    try:
        tomllib = importlib.import_module("tomllib")  # Python 3.11+; keeps 3.10 importable
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        raise ConfigurationError(
            "TOML credit policies need Python 3.11 or later; save the policy as CSV"
        ) from None
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"not valid TOML: {exc}", line=None, field=None, raw="") from None
    table = data.get("rule")
    if not isinstance(table, list):
        raise PolicyError(
            "a TOML policy needs [[rule]] tables", line=None, field="rule", raw=str(table or "")
        )
    rules: list[CreditRule] = []
    for number, entry in enumerate(table, start=1):
        where = f"[[rule]] number {number}: "
        if not isinstance(entry, dict):
            raise PolicyError(f"{where}not a table", line=None, field=None, raw=str(entry))
        for key in entry:
            if key not in POLICY_COLUMNS:
                raise PolicyError(
                    f"{where}unknown key {key!r}", line=None, field=key, raw=str(entry[key])
                )
        for key in REQUIRED_POLICY_COLUMNS:
            if key not in entry:
                raise PolicyError(f"{where}{key} is required", line=None, field=key, raw="")
        rules.append(_RowReader(entry, None, where).rule())
    return rules


def _check_overlaps(rules: Iterable[CreditRule]) -> None:
    seen: dict[tuple[str, int], list[CreditRule]] = {}
    for rule in rules:
        same = seen.setdefault((rule.exam_code, rule.min_score), [])
        for earlier in same:
            if rule.overlaps(earlier):
                where = f"the rule on line {earlier.line}" if earlier.line else "an earlier rule"
                raise PolicyError(
                    f"overlaps {where} (exam {rule.exam_code}, min score {rule.min_score}, "
                    f"years {earlier.years} and {rule.years}): both could match the same "
                    "score; give them year ranges that do not meet",
                    line=rule.line,
                    field="admin_year_from",
                    raw=str(rule.admin_year_from or ""),
                )
        same.append(rule)


@attrs.frozen
class CreditPolicy:
    """A validated set of :class:`CreditRule`; build it with :meth:`from_file`."""

    rules: tuple[CreditRule, ...]
    _by_code: dict[str, tuple[CreditRule, ...]] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        _check_overlaps(self.rules)
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
        """Load and check a policy: CSV, or TOML (``.toml``, Python 3.11+).

        Raises :class:`PolicyError` (a :class:`~apscores.errors.ParseError`) naming the row
        and column of the first problem, or :class:`~apscores.errors.MissingColumnsError`.
        """
        file = Path(path)
        is_toml = file.suffix.lower() == ".toml"
        rules = _read_toml_rules(file) if is_toml else _read_csv_rules(file)
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


def write_credit_csv(
    results: Iterable[CreditResult], dest: str | os.PathLike[str] | BinaryIO
) -> int:
    """Write results as a UTF-8 CSV (:data:`CREDIT_COLUMNS`); returns rows written."""
    return write_rows_csv((result.as_row() for result in results), CREDIT_COLUMNS, dest)
