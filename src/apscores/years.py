"""Two-digit years and MMDDYY dates: the one place that decides which century.

The files store admin, award and previous-school years as ``YY`` and dates as ``MMDDYY``.
College Board documents no pivot, so we use one rule everywhere:

    ``YY`` below :data:`PIVOT` is ``20YY``; ``PIVOT`` and above is ``19YY``.

With ``PIVOT = 50`` an exam year ``19`` is 2019 and a birth year ``98`` is 1998. AP began
in 1955, and this rule stays right until 2050; change :data:`PIVOT` here, nowhere else.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "PIVOT",
    "ascii_digits",
    "expand_year",
    "format_mmddyy",
    "parse_mmddyy",
    "shorten_year",
]

PIVOT = 50


def expand_year(yy: int) -> int:
    """Turn a two-digit year into a four-digit one (see the module docstring)."""
    if not 0 <= yy <= 99:
        raise ValueError(f"a two-digit year must be 0-99, got {yy}")
    return 2000 + yy if yy < PIVOT else 1900 + yy


def shorten_year(year: int) -> int:
    """The inverse of :func:`expand_year`, for writers; refuses years the rule cannot hold."""
    yy = year % 100
    if expand_year(yy) != year:
        raise ValueError(f"year {year} cannot be written as YY under the pivot rule")
    return yy


def ascii_digits(text: str) -> bool:
    """Only ``0``-``9`` (``str.isdigit`` also lets ``²`` and ``١`` through, and ``int`` reads
    the Arabic-Indic ones): the one test of "a number" in files."""
    return text.isascii() and text.isdigit()


def parse_mmddyy(text: str) -> dt.date:
    """Parse ``MMDDYY`` (six digits) into a date; raises ``ValueError`` with the reason."""
    if len(text) != 6 or not ascii_digits(text):
        raise ValueError("expected a MMDDYY date of six digits")
    return dt.date(expand_year(int(text[4:6])), int(text[0:2]), int(text[2:4]))


def format_mmddyy(value: dt.date) -> str:
    """Write a date as ``MMDDYY``."""
    return f"{value.month:02d}{value.day:02d}{shorten_year(value.year):02d}"
