"""Value rules: how field texts become values, checked, with the error that says why.

Shared by the TXT and CSV readers. ``lenient`` (CSV) also accepts what spreadsheets do to
values: digit codes that lost their leading zeros (padded back), four-digit years, and
dates as ``MDDYY``, ``M/D/YYYY`` or ``YYYY-MM-DD``. Digits are ASCII only everywhere.
Which fields are digit codes, years or dates is the layout's
:class:`~apscores.files.layout.FieldKind`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from apscores.errors import ParseError
from apscores.files.layout import Field, FieldKind
from apscores.years import ascii_digits, expand_year, parse_mmddyy

__all__ = [
    "GRADES",
    "KNOWN_TEXTS",
    "MISSING",
    "YEARS",
    "college_code_to_di",
    "convert",
    "parse_date",
    "parse_score",
    "parse_year",
    "refuse_spreadsheet_number",
    "required_blank",
    "unshown",
]

#: Every two-digit year text and its four-digit year (the pivot rule lives in years.py).
YEARS: dict[str, int] = {f"{yy:02d}": expand_year(yy) for yy in range(100)}
#: Exam grade text (one column) -> score.
GRADES: dict[str, int | None] = {" ": None, "": None, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
#: What a cache holds when a key is absent (``None`` is a valid cached value: a blank date).
MISSING: Any = object()


def college_code_to_di(text: str, *, lenient: bool = False) -> str:
    """``001234`` -> ``1234``; other shapes are kept (stripped). ``lenient`` pads ``234``."""
    code = text.strip()
    if ascii_digits(code):
        if len(code) == 6 and code.startswith("00"):
            return code[2:]
        if lenient and len(code) < 4:
            return code.zfill(4)
    return code


#: What a spreadsheet makes of a code it took for a number: ``1.23E+08``, ``1E+05``, ``90.0``.
_AS_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?[Ee][+-][0-9]+|[0-9]+\.[0-9]+")


def refuse_spreadsheet_number(name: str, value: str, line: int | None) -> None:
    """Refuse a code a spreadsheet turned into a number (``1.23E+08``, ``90.0``): its
    digits are lost or changed, so reading it as it is would be silently wrong."""
    suspect = "." in value or "E" in value or "e" in value
    if suspect and _AS_NUMBER.fullmatch(value.strip()):
        raise ParseError(
            "a spreadsheet turned this code into a number (scientific notation or "
            "a decimal point): format the column as text and export the file again",
            line=line,
            field=name,
            raw=value,
        )


def parse_year(name: str, text: str, line: int | None, lenient: bool) -> int | None:
    """A YY year (blank -> None); ``lenient`` also takes ``YYYY`` and a lone digit."""
    if not text.strip():
        return None
    found = YEARS.get(text)
    if found is not None:
        return found
    if lenient and ascii_digits(text):
        if len(text) == 4:
            return int(text)
        if len(text) == 1:
            return YEARS[text.zfill(2)]
    raise ParseError("not a two-digit year", line=line, field=name, raw=text)


_SLASHED = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(name: str, text: str, line: int | None, lenient: bool) -> dt.date | None:
    """A MMDDYY date (blank -> None); ``lenient`` also takes MDDYY, M/D/Y and ISO dates.

    Digits are ASCII only, and every shape is matched whole, so nothing a spreadsheet did
    not plausibly write (``²``, ``1_0``, a 20-digit year) is read as a date.
    """
    raw = text.strip()
    if not raw:
        return None
    try:
        if lenient:
            slashed = _SLASHED.fullmatch(raw)
            if slashed:
                month, day, year = slashed.groups()
                full = int(year) if len(year) == 4 else expand_year(int(year))
                return dt.date(full, int(month), int(day))
            if _ISO.fullmatch(raw):
                return dt.date.fromisoformat(raw)
            if len(raw) == 5 and ascii_digits(raw):
                raw = raw.zfill(6)
            if "/" in raw or "-" in raw:
                raise ValueError("expected MMDDYY, M/D/YYYY or YYYY-MM-DD")
        return parse_mmddyy(raw if lenient else text)
    except (ValueError, OverflowError) as exc:
        reason = f"not a valid MMDDYY date ({exc})"
        raise ParseError(reason, line=line, field=name, raw=text) from None


def parse_score(name: str, text: str, line: int | None) -> int | None:
    if text in GRADES:
        return GRADES[text]
    raise ParseError("an exam grade must be 1-5 or blank", line=line, field=name, raw=text)


def required_blank(field: Field, text: str, line: int | None) -> ParseError:
    """The error for a blank field every record carries (``Field.required``)."""
    if field.name == "ap_id":
        return ParseError("the AP ID is blank", line=line, field=field.name, raw=text)
    label = field.name.replace("_", " ").capitalize()
    return ParseError(
        f"the {label} is blank: every record carries it", line=line, field=field.name, raw=text
    )


def convert(field: Field, text: str, line: int | None, lenient: bool) -> Any:
    """One field's raw text (as sliced or as the cell holds it) -> its value: the one
    value rule of both readers, by the field's :class:`FieldKind`.

    Text is right-stripped (a grade of spaces only: any other blank is refused), a
    required field must not be blank, and ``lenient`` (CSV) refuses what a spreadsheet
    made a number of and pads digit codes back to their width.
    """
    kind = field.kind
    text = text.rstrip(" ") if kind is FieldKind.GRADE else text.rstrip()
    if field.required and not text.strip():
        raise required_blank(field, text, line)
    try:
        # A spreadsheet may make a number of any code, year or grade (not text or a date).
        if lenient and kind is not FieldKind.TEXT and kind is not FieldKind.DATE:
            refuse_spreadsheet_number(field.name, text, line)
            if kind is FieldKind.DIGITS and text and len(text) < field.width and ascii_digits(text):
                text = text.zfill(field.width)
        if kind is FieldKind.YEAR:
            return parse_year(field.name, text, line, lenient)
        if kind is FieldKind.DATE:
            return parse_date(field.name, text, line, lenient)
        if kind is FieldKind.GRADE:
            return parse_score(field.name, text, line)
    except ParseError as error:
        if not field.personal:
            raise
        raise unshown(error) from None  # a birth date or a ZIP code never in a message
    if kind is FieldKind.DI:
        return college_code_to_di(text, lenient=lenient)
    return text


def unshown(error: ParseError) -> ParseError:
    """The same error, its message without the text found (``raw`` keeps it): for a
    field of a student's own details (:attr:`Field.personal`), which may reach a log."""
    return ParseError(
        error.reason, line=error.line, field=error.field, raw=error.raw, show_raw=False
    )


def _known(width: int, texts: dict[str, Any]) -> dict[str, Any]:
    """Raw texts -> values for a kind with few texts: the rule's own table, plus the
    blank text as a fixed-width field and a CSV cell hold it."""
    return {**texts, "": None, " " * width: None}


#: Kind -> every raw text (as sliced, or as a cell holds it) whose value is the same read
#: strictly or leniently -> that value: what a builder may look up instead of calling
#: :func:`convert` (never for a required field; a test checks each entry against it).
KNOWN_TEXTS: dict[FieldKind, dict[str, Any]] = {
    FieldKind.YEAR: _known(2, YEARS),
    FieldKind.GRADE: _known(1, {t: v for t, v in GRADES.items() if t.strip()}),
}


#: ``MMDD`` of a month 01-12 and a day 01-31 -> (month, day); the year decides the rest.
_MONTH_DAY = {f"{m:02d}{d:02d}": (m, d) for m in range(1, 13) for d in range(1, 32)}


def quick_date(text: str) -> Any:
    """The date of a plain ``MMDDYY`` text (six ASCII digits of a real day), as
    :func:`parse_date` reads it in both modes, at a fraction of its cost; :data:`MISSING`
    for any other text, which :func:`convert` then decides (a test compares the two)."""
    month_day = _MONTH_DAY.get(text[:4])
    year = YEARS.get(text[4:])
    if month_day is None or year is None:
        return MISSING
    try:
        return dt.date(year, *month_day)
    except ValueError:  # the 30th of February
        return MISSING
