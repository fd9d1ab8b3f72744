"""Credit rules: one row of a policy, and reading a CSV or TOML policy with row/column errors."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from apscores import _toml
from apscores._textfile import TextFileError, read_text_file, semicolon_header
from apscores.catalog import is_known_exam, normalize_exam_code
from apscores.errors import MissingColumnsError, PolicyError

__all__ = [
    "POLICY_COLUMNS",
    "REQUIRED_POLICY_COLUMNS",
    "CreditRule",
    "check_overlaps",
    "read_rules",
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
        code = normalize_exam_code(code)  # spreadsheets drop the leading zero of 07
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


def _policy_text(path: Path) -> str:
    """The policy's text; a file that is not UTF-8 text is a PolicyError saying what it is."""
    try:
        return read_text_file(path, what="a credit policy (CSV or TOML)")
    except TextFileError as error:
        raise PolicyError(
            f"the policy {error.reason}", line=error.line, field=None, raw=error.raw
        ) from None


#: The TOML type of each policy key: text, or a number written as a number or as text.
_TEXT_KEYS = frozenset({"exam_code", "exam_name", "course", "note"})


def _toml_type(value: object) -> str | None:
    """``None`` for a value a rule may hold (text or a number), else what it is."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (str, int, float)):
        return None
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a TOML {type(value).__name__}"  # dates and times


def _toml_line(text: str, number: int, key: str) -> int | None:
    """The line of ``key`` in the ``number``-th ``[[rule]]`` table, by a plain scan."""
    seen = 0
    for line_number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*\[\[\s*rule\s*\]\]", line):
            seen += 1
        elif seen == number and re.match(rf"""^\s*["']?{re.escape(key)}["']?\s*=""", line):
            return line_number
    return None


def _read_csv_rules(path: Path) -> list[CreditRule]:
    with io.StringIO(_policy_text(path), newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise PolicyError("the policy file is empty", line=1, field=None, raw="") from None
        columns = [_normalise_header(name) for name in header]
        missing = [name for name in REQUIRED_POLICY_COLUMNS if name not in columns]
        if missing and (why := semicolon_header(header)):
            raise PolicyError(why, line=1, field=None, raw="")
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
    text = _policy_text(path)
    try:
        data = _toml.loads(text)
    except ValueError as exc:
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
        for key, value in entry.items():
            line = _toml_line(text, number, key)
            source = text.splitlines()[line - 1].strip() if line else key
            if key not in POLICY_COLUMNS:
                raise PolicyError(f"{where}unknown key {key!r}", line=line, field=key, raw=source)
            kind = _toml_type(value)
            if kind is not None or (key in _TEXT_KEYS and isinstance(value, float)):
                wanted = "text" if key in _TEXT_KEYS else "a number"
                raise PolicyError(
                    f"{where}{key} must be {wanted}, not {kind or 'a decimal number'}",
                    line=line,
                    field=key,
                    raw=source,
                )
        for key in REQUIRED_POLICY_COLUMNS:
            if key not in entry:
                raise PolicyError(f"{where}{key} is required", line=None, field=key, raw="")
        rules.append(_RowReader(entry, None, where).rule())
    return rules


def check_overlaps(rules: Iterable[CreditRule]) -> None:
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


def read_rules(path: Path) -> list[CreditRule]:
    """The rules of a CSV policy, or a TOML one (``.toml``), checked row by row."""
    is_toml = path.suffix.lower() == ".toml"
    return _read_toml_rules(path) if is_toml else _read_csv_rules(path)
