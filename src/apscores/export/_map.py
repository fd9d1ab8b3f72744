"""The student-system map: a small TOML file that says what a load file looks like.

Every key is checked on load; a bad one is refused with its line and key
(:class:`~apscores.errors.MapError`), so a typo never turns into a silent skip.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from apscores import _toml
from apscores._textfile import TextFileError, read_text_file
from apscores.catalog import ExamStatus, normalize_exam_code
from apscores.changes import ChangeKind
from apscores.errors import MapError
from apscores.models import ExamScore

__all__ = [
    "CHANGE_FILTERS",
    "DEFAULT_TEST_DATE",
    "FIELDS",
    "Column",
    "SisMap",
    "TestCode",
    "load_map",
]

#: The values a ``[columns]`` entry can name, and what each holds.
FIELDS: dict[str, str] = {
    "ap_id": "the student's AP ID (text: leading zeros kept)",
    "last_name": "last name",
    "first_name": "first name",
    "middle_initial": "middle initial",
    "date_of_birth": "date of birth (a date)",
    "gender": "gender code as in the file (M, F, A, U)",
    "di_code": "the 4-digit DI code the report was sent to (text)",
    "high_school_code": "the high school's AI code (text)",
    "exam_code": "the 2-digit exam code (text: 07 stays 07)",
    "exam_name": "the exam's name for its own admin year",
    "sis_test_code": "the student system's test code, from [tests]",
    "score": "the AP score 1-5 (blank when there is none)",
    "test_date": "the date from [test_date] in the exam's admin year",
    "admin_year": "the four-digit admin year",
    "status": "scored, scored_with_note, pending, canceled, withheld or unknown",
    "irregularity_codes": "the irregularity codes, joined with ';'",
    "change": "what changed since the previous view (score_lowered, released...; blank if none)",
    "date_released": "date grades were released to the college",
    "date_updated": "date of the student's last update",
    "report_date": "date of this report",
    "sis_id": "the student system's ID (export --crosswalk or --roster; blank otherwise)",
}

#: The month and day of the admin year used as test date when the map does not say.
DEFAULT_TEST_DATE: tuple[int, int] = (5, 15)

#: What ``include.changes`` accepts: exam-level change kinds, and ``unchanged``.
CHANGE_FILTERS: frozenset[str] = frozenset(
    {kind.value for kind in ChangeKind if kind is not ChangeKind.NEW_STUDENT} | {"unchanged"}
)

_CODE_KEYS = frozenset({"code", "admin_year_from", "admin_year_to"})
_SECTIONS = {
    "columns": "",
    "tests": "prefix, require_mapping, codes",
    "test_date": "month, day",
    "include": "statuses, changes",
    "output": "date_format",
}


@attrs.frozen
class Column:
    """One output column: its header, and the value (a :data:`FIELDS` name) or fixed text."""

    header: str
    value: str | None  # None: the column holds ``text`` on every row
    text: str = ""


@attrs.frozen
class TestCode:
    """The student system's code for an exam code, for admin years in a range (inclusive)."""

    __test__ = False  # not a pytest test class, despite the name

    exam_code: str
    sis_code: str
    admin_year_from: int | None = None
    admin_year_to: int | None = None
    line: int | None = attrs.field(default=None, eq=False)

    def covers(self, admin_year: int) -> bool:
        """Whether this code applies to an exam taken in ``admin_year``."""
        if self.admin_year_from is not None and admin_year < self.admin_year_from:
            return False
        return self.admin_year_to is None or admin_year <= self.admin_year_to


@attrs.frozen
class SisMap:
    """A checked student-system map; build it with :func:`load_map`."""

    columns: tuple[Column, ...]
    codes: tuple[TestCode, ...] = ()
    prefix: str = "AP"
    require_mapping: bool = False
    test_month: int = DEFAULT_TEST_DATE[0]
    test_day: int = DEFAULT_TEST_DATE[1]
    statuses: frozenset[ExamStatus] | None = None  # None: every status
    changes: frozenset[str] | None = None  # None: every change (and unchanged)
    date_format: str = "%Y-%m-%d"
    _by_code: dict[str, tuple[TestCode, ...]] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        by_code: dict[str, list[TestCode]] = {}
        for entry in self.codes:
            by_code.setdefault(entry.exam_code, []).append(entry)
        index = {code: tuple(found) for code, found in by_code.items()}
        object.__setattr__(self, "_by_code", index)

    @property
    def headers(self) -> list[str]:
        """The output header, in order."""
        return [column.header for column in self.columns]

    def sis_code(self, exam: ExamScore) -> str | None:
        """The test code for ``exam``; None when the map has none (an error for the load)."""
        listed = self._by_code.get(exam.code, ())
        for entry in listed:
            if entry.covers(exam.admin_year):
                return entry.sis_code
        if listed or self.require_mapping:
            return None
        return self.prefix + exam.code

    def test_date(self, exam: ExamScore) -> dt.date:
        """The test date of ``exam``: the map's month and day in its admin year."""
        return dt.date(exam.admin_year, self.test_month, self.test_day)

    def wants(self, exam: ExamScore, change: str) -> bool:
        """Whether ``[include]`` lets the exam in (``change`` "" means unchanged)."""
        if self.statuses is not None and exam.status not in self.statuses:
            return False
        return self.changes is None or (change or "unchanged") in self.changes


class _Reader:
    """Checks one parsed map, raising MapError with the key and its line at the first fault."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line_of(self, section: str, key: str | None = None) -> int | None:
        """The line of ``[section]`` (or of ``key`` inside it), found by a plain scan."""
        head = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]")
        inside = False
        for number, raw in enumerate(self.lines, start=1):
            if raw.lstrip().startswith("["):
                inside = bool(head.match(raw))
                if inside and key is None:
                    return number
                continue
            if inside and key is not None:
                name = re.match(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""", raw)
                if name and key in name.groups():
                    return number
        return None

    def fail(self, section: str, key: str | None, reason: str, raw: object = "") -> MapError:
        field = f"{section}.{key}" if key is not None else section
        line = self.line_of(section, key) or self.line_of(section)
        return MapError(reason, line=line, field=field, raw=str(raw))

    def table(self, data: Mapping[str, Any], section: str) -> dict[str, Any]:
        value = data.get(section, {})
        if not isinstance(value, dict):
            raise self.fail(section, None, f"[{section}] must be a table", value)
        allowed = _SECTIONS.get(section)
        if allowed:
            for key in value:
                if key not in allowed.split(", "):
                    why = f"unknown key {key!r} in [{section}]; expected some of {allowed}"
                    raise self.fail(section, key, why, value[key])
        return value

    def integer(self, section: str, key: str, value: object, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            why = f"{key} must be a whole number from {low} to {high}"
            raise self.fail(section, key, why, value)
        return value

    def columns(self, table: dict[str, Any]) -> tuple[Column, ...]:
        if not table:
            raise self.fail("columns", None, "[columns] is required: header = value, one a line")
        columns = []
        for header, value in table.items():
            if isinstance(value, str) and value in FIELDS:
                columns.append(Column(header, value))
            elif (
                isinstance(value, dict)
                and list(value) == ["text"]
                and isinstance(value["text"], (str, int))
                and not isinstance(value["text"], bool)
            ):
                columns.append(Column(header, None, str(value["text"])))
            else:
                raise self.fail(
                    "columns",
                    header,
                    f'unknown value for column {header!r}; use {{ text = "..." }} for fixed '
                    f"text, or one of {', '.join(FIELDS)}",
                    value,
                )
        return tuple(columns)

    def codes(self, table: dict[str, Any]) -> tuple[TestCode, ...]:
        codes: list[TestCode] = []
        for key, value in table.items():
            code = normalize_exam_code(key)
            if not (len(code) == 2 and code.isascii() and code.isdigit()):
                raise self.fail("tests.codes", key, 'exam codes are two digits, like "07"', key)
            if any(entry.exam_code == code for entry in codes):
                why = f"exam {code} is listed twice (as {code!r} and {key!r})"
                raise self.fail("tests.codes", key, why, key)
            entries = value if isinstance(value, list) else [{"code": value}]
            line = self.line_of("tests.codes", key)
            mine: list[TestCode] = []
            for entry in entries:
                mine.append(self.code_entry(key, code, entry, line))
            for index, entry in enumerate(mine):
                for other in mine[:index]:
                    if _overlap(entry, other):
                        why = f"two codes for exam {code} cover the same admin years"
                        raise self.fail("tests.codes", key, why, value)
            codes.extend(mine)
        return tuple(codes)

    def code_entry(self, key: str, code: str, entry: object, line: int | None) -> TestCode:
        where = "tests.codes"
        if not isinstance(entry, dict) or not set(entry) <= _CODE_KEYS:
            why = "a test code is text, or a list of { code, admin_year_from, admin_year_to }"
            raise self.fail(where, key, why, entry)
        sis = entry.get("code")
        if not isinstance(sis, str) or not sis.strip():
            raise self.fail(where, key, f"the SIS test code for exam {code} must be text", sis)
        years = [entry.get(name) for name in ("admin_year_from", "admin_year_to")]
        first, last = (
            None if year is None else self.integer(where, key, year, 1950, 2100) for year in years
        )
        if first is not None and last is not None and first > last:
            raise self.fail(where, key, "admin_year_to is before admin_year_from", entry)
        return TestCode(code, sis.strip(), first, last, line)

    def read(self, data: dict[str, Any]) -> SisMap:
        for section in data:
            if section not in _SECTIONS:
                why = f"unknown table [{section}]; expected some of {', '.join(_SECTIONS)}"
                raise self.fail(section, None, why, section)
        columns = self.columns(self.table(data, "columns"))
        tests = self.table(data, "tests")
        prefix = tests.get("prefix", "AP")
        if not isinstance(prefix, str):
            raise self.fail("tests", "prefix", 'prefix must be text, like "AP"', prefix)
        required = tests.get("require_mapping", False)
        if not isinstance(required, bool):
            why = "require_mapping is true or false"
            raise self.fail("tests", "require_mapping", why, required)
        codes = tests.get("codes", {})
        if not isinstance(codes, dict):
            raise self.fail("tests", "codes", "[tests.codes] must be a table", codes)
        date = self.table(data, "test_date")
        month = self.integer("test_date", "month", date.get("month", DEFAULT_TEST_DATE[0]), 1, 12)
        day = self.integer("test_date", "day", date.get("day", DEFAULT_TEST_DATE[1]), 1, 31)
        try:
            dt.date(2001, month, day)  # a day that exists in every year (not February 29)
        except ValueError:
            why = f"{month:02d}/{day:02d} is not a date in every year"
            raise self.fail("test_date", "day", why, day) from None
        include = self.table(data, "include")
        statuses = self.names(include, "statuses", frozenset(s.value for s in ExamStatus))
        output = self.table(data, "output")
        date_format = output.get("date_format", "%Y-%m-%d")
        if not isinstance(date_format, str) or "%" not in date_format:
            why = 'date_format is a strftime pattern, like "%m/%d/%Y"'
            raise self.fail("output", "date_format", why, date_format)
        return SisMap(
            columns,
            self.codes(codes),
            prefix,
            required,
            month,
            day,
            None if statuses is None else frozenset(ExamStatus(name) for name in statuses),
            self.names(include, "changes", CHANGE_FILTERS),
            date_format,
        )

    def names(
        self, include: dict[str, Any], key: str, allowed: frozenset[str]
    ) -> frozenset[str] | None:
        if key not in include:
            return None
        values = include[key]
        if not isinstance(values, list) or not values:
            raise self.fail("include", key, f'{key} is a list, like ["scored"]', values)
        for value in values:
            if value not in allowed:
                what = "status" if key == "statuses" else "change"
                why = f"unknown {what} {value!r}; expected some of {', '.join(sorted(allowed))}"
                raise self.fail("include", key, why, value)
        return frozenset(values)


def _overlap(one: TestCode, other: TestCode) -> bool:
    low = max(one.admin_year_from or -(10**9), other.admin_year_from or -(10**9))
    high = min(one.admin_year_to or 10**9, other.admin_year_to or 10**9)
    return low <= high


def load_map(path: str | os.PathLike[str]) -> SisMap:
    """Load and check a student-system map (TOML); raises MapError naming the line and key.

    A file that is not UTF-8 text (cp1252, UTF-16, a PDF) is a MapError saying what it is; a
    UTF-8 byte-order mark is accepted.
    """
    try:
        text = read_text_file(Path(path), what="a student-system map (TOML)")
    except TextFileError as error:
        raise MapError(
            f"the map {error.reason}", line=error.line, field=None, raw=error.raw
        ).in_file(str(path)) from None
    try:
        data = _toml.loads(text)
    except ValueError as exc:
        raise MapError(f"not valid TOML: {exc}", line=None, field=None, raw="").in_file(
            str(path)
        ) from None
    try:
        return _Reader(text).read(data)
    except MapError as error:
        raise error.in_file(str(path)) from None
