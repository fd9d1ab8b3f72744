"""Code tables: exam names by admin year, awards, irregularity codes and exam status.

The tables are package data (``apscores/data/*.csv``), so a new exam or a rename is a
one-line data change. Names always come from the exam's own admin year: code 93 is
"World History" for 2019 and earlier and "World History: Modern" from 2020, and the art
exams 14/15/16 were renamed the same year (the 2019/2020 cutoff is inferred from College
Board's layouts; change it in ``exam-names.csv``). Unknown codes are never dropped: they get
a placeholder name and :func:`is_known_exam` says so.

A row's ``status`` says what the code meant in those years: ``active``; ``renamed`` (a later
row has the new name); ``revised`` (same code, new course content from that admin year:
Physics 1, 2 and both Physics C from 2025, Computer Science A from 2026, so a college may
grant different credit by admin year); ``pilot`` (the AP Career Kickstart courses, 70
Networking and 71 Cybersecurity, in College Board's 2025-26 datafiles; Cybersecurity's
first national exam is May 2027); ``discontinued``; ``subscore``. The facts and their
sources are in ``docs/reference/exam-codes.csv``. An exam code is two digits; ``7`` (a
spreadsheet dropped the zero) is the same exam as ``07`` (:func:`normalize_exam_code`).
"""

from __future__ import annotations

import csv
import enum
import functools
import io
from importlib import resources

import attrs

__all__ = [
    "ExamName",
    "ExamStatus",
    "Irregularity",
    "IrregularityCategory",
    "UnknownCodeWarning",
    "award_name",
    "exam_entry",
    "exam_name",
    "exam_names",
    "exam_status",
    "irregularity",
    "is_di_code",
    "is_known_award",
    "is_known_exam",
    "is_known_irregularity",
    "normalize_exam_code",
]


class IrregularityCategory(str, enum.Enum):
    """Our grouping of irregularity codes (inferred from College Board's descriptions)."""

    PENDING = "pending"
    PENDING_OR_NOT_AVAILABLE = "pending_or_not_available"
    CANCELED = "canceled"
    NO_SCORE = "no_score"
    WITHHELD = "withheld_at_student_request"
    SCORED_WITH_NOTE = "scored_with_note"
    UNKNOWN = "unknown"


class ExamStatus(str, enum.Enum):
    """What a score line means, derived from the grade and the irregularity codes."""

    SCORED = "scored"
    SCORED_WITH_NOTE = "scored_with_note"
    PENDING = "pending"
    CANCELED = "canceled"
    WITHHELD = "withheld"
    UNKNOWN = "unknown"

    @property
    def earns_credit(self) -> bool:
        """Only a reported score can earn credit; pending, canceled and withheld never do."""
        return self in (ExamStatus.SCORED, ExamStatus.SCORED_WITH_NOTE)


@attrs.frozen
class ExamName:
    """One name an exam code had, and the admin years it was valid (inclusive; None = open)."""

    code: str
    name: str
    first_admin_year: int | None
    last_admin_year: int | None
    status: str

    def covers(self, admin_year: int) -> bool:
        """Whether this name applies to an exam taken in ``admin_year``."""
        if self.first_admin_year is not None and admin_year < self.first_admin_year:
            return False
        return self.last_admin_year is None or admin_year <= self.last_admin_year


@attrs.frozen
class Irregularity:
    """An irregularity code with its latest description and our category."""

    code: str
    description: str
    category: IrregularityCategory


def _read_data(name: str) -> list[dict[str, str]]:
    text = resources.files("apscores").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _year(text: str) -> int | None:
    return int(text) if text else None


@functools.cache
def exam_names() -> dict[str, tuple[ExamName, ...]]:
    """Every known exam code with all its names, oldest first."""
    table: dict[str, list[ExamName]] = {}
    for row in _read_data("exam-names.csv"):
        entry = ExamName(
            row["code"],
            row["name"],
            _year(row["first_admin_year"]),
            _year(row["last_admin_year"]),
            row["status"],
        )
        table.setdefault(entry.code, []).append(entry)
    return {code: tuple(names) for code, names in table.items()}


@functools.cache
def _awards() -> dict[str, str]:
    return {row["code"]: row["name"] for row in _read_data("award-codes.csv")}


@functools.cache
def _irregularities() -> dict[str, Irregularity]:
    return {
        row["code"]: Irregularity(
            row["code"], row["description_latest"], IrregularityCategory(row["category_inferred"])
        )
        for row in _read_data("irregularity-codes.csv")
    }


def normalize_exam_code(code: str) -> str:
    """The exam code as College Board writes it: ``"7"`` and ``" 07 "`` are ``"07"``.

    Only one ASCII digit gains the zero; anything else is returned stripped, as it was.

    >>> normalize_exam_code("7"), normalize_exam_code("07"), normalize_exam_code("93")
    ('07', '07', '93')
    """
    text = code.strip()
    if len(text) == 1 and text in "0123456789":
        return "0" + text
    return text


def is_di_code(text: object) -> bool:
    """Whether ``text`` is a DI code: a string of exactly four ASCII digits, like ``"0042"``.

    The one rule every part of the package checks DI codes by. ``str.isdigit`` is not it:
    it also takes Arabic-Indic (``"١٢٣٤"``) and superscript digits, which no DI code has.

    >>> [is_di_code(text) for text in ("1234", "0042", "123", "١٢٣٤", " 1234", 1234)]
    [True, True, False, False, False, False]
    """
    return isinstance(text, str) and len(text) == 4 and text.isascii() and text.isdigit()


def is_known_exam(code: str) -> bool:
    """Whether ``code`` is in the exam table (``"7"`` is ``"07"``)."""
    return normalize_exam_code(code) in exam_names()


def exam_entry(code: str, admin_year: int) -> ExamName | None:
    """The catalog row for an exam taken in ``admin_year`` (its name, status, first year);
    ``None`` for an unknown code.

    >>> exam_entry("71", 2026).status, exam_entry("71", 2027).status
    ('pilot', 'active')
    >>> exam_entry("83", 2024).status, exam_entry("83", 2025).status
    ('active', 'revised')
    """
    names = exam_names().get(normalize_exam_code(code))
    if not names:
        return None
    for entry in names:
        if entry.covers(admin_year):
            return entry
    # A year outside every range (should not happen with open-ended tables): nearest row.
    return names[0] if admin_year < (names[0].first_admin_year or 0) else names[-1]


@functools.lru_cache(maxsize=1024)
def exam_name(code: str, admin_year: int) -> str:
    """The exam's name for the year it was taken, e.g. ``exam_name("93", 2019)``.

    >>> exam_name("93", 2019), exam_name("93", 2021)
    ('World History', 'World History: Modern')
    >>> exam_name("14", 2019)
    'Studio Art: Drawing Portfolio'
    >>> exam_name("83", 2024), exam_name("83", 2025)
    ('Physics 1', 'Physics 1')
    >>> exam_name("XY", 2024)
    'Unknown exam XY'
    """
    entry = exam_entry(code, admin_year)
    return f"Unknown exam {code}" if entry is None else entry.name


class UnknownCodeWarning(UserWarning):
    """A score file holds an exam, award or irregularity code the catalog does not know.

    The record keeps the code as it is (never dropped, never an error): College Board adds
    codes without changing the layout (exams 10 and 65 in 2024), and a newer apscores may
    name it. The readers warn once per code and read; filter it with :mod:`warnings`.
    """


def is_known_award(code: str) -> bool:
    """Whether ``code`` is an award the catalog names."""
    return not award_name(code).startswith("Unknown award")


def is_known_irregularity(code: str) -> bool:
    """Whether ``code`` is an irregularity code the catalog describes."""
    return irregularity(code).category is not IrregularityCategory.UNKNOWN


def award_name(code: str) -> str:
    """The award's name, or a placeholder for codes no source describes (10, 11, new ones)."""
    name = _awards().get(code, "")
    return name if name and not name.startswith("(") else f"Unknown award {code}"


def irregularity(code: str) -> Irregularity:
    """Describe an irregularity code; unknown codes get the ``UNKNOWN`` category."""
    found = _irregularities().get(code)
    if found is None:
        return Irregularity(code, f"Unknown irregularity code {code}", IrregularityCategory.UNKNOWN)
    return found


_CANCELED = frozenset({IrregularityCategory.CANCELED, IrregularityCategory.NO_SCORE})
_PENDING = frozenset({IrregularityCategory.PENDING, IrregularityCategory.PENDING_OR_NOT_AVAILABLE})


def exam_status(score: int | None, irregularity_codes: tuple[str, ...]) -> ExamStatus:
    """Derive a status: withheld, then canceled win over anything; then a score is scored
    (with a note if any code is present); a blank score is pending or unknown.
    """
    categories = {irregularity(code).category for code in irregularity_codes}
    if IrregularityCategory.WITHHELD in categories:
        return ExamStatus.WITHHELD
    if categories & _CANCELED:
        return ExamStatus.CANCELED
    if score is not None:
        return ExamStatus.SCORED_WITH_NOTE if categories else ExamStatus.SCORED
    if categories & _PENDING:
        return ExamStatus.PENDING
    return ExamStatus.UNKNOWN
