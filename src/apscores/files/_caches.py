"""The bounded caches of one TXT read, and the miss paths that fill them.

Each repeating part of a record (a date, an exam block, the high-school and college
blocks, the student's codes, previous schools, awards, short texts) is looked up by its
raw bytes; a miss is built once by the part's builder in :mod:`apscores.files._txt_fast`.
Every cache is bounded: a full one is emptied, so memory stays constant in file size and a
cleared cache only costs first-seen values again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from apscores.errors import ParseError
from apscores.files._txt_fast import (
    YEAR_OF,
    Bad,
    awards,
    codes,
    college,
    exam,
    high_school,
    previous,
)
from apscores.files.layout import EXAM_BLOCK_COUNT
from apscores.models import Award, ExamScore, Organization, PreviousSchool

__all__ = ["SMALL_LIMIT", "Builders"]

_date = dt.date
_BLANK_DATE = b" " * 6
#: ``MMDD`` of a month 01-12 and a day 01-31 -> (month, day); the year decides the rest.
_MONTH_DAY = {
    f"{month:02d}{day:02d}".encode("ascii"): (month, day)
    for month in range(1, 13)
    for day in range(1, 32)
}


#: Entries a cache keeps once it has missed on most lines: enough for a file's repeats
#: (exam codes, dates, schools) to come back, small enough to cost the collector nothing.
SMALL_LIMIT = 1024


class Builders:
    """The bounded caches of one read and the miss paths that fill them.

    ``limit`` entries per cache at most: a full cache is emptied (memory stays constant in
    file size, and a cleared cache only costs first-seen values again). A cache that
    filled up with fewer hits than misses (more entries than half the lines read since it
    was last emptied: every student distinct) holds :data:`SMALL_LIMIT` entries from then
    on, since its entries only cost memory and collector time; one that fills slowly gets
    ``limit`` back. The reading loop sets :attr:`line` at each block.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.line = 0
        self.dates: dict[bytes, Any] = {}
        self.exams: dict[bytes, ExamScore] = {}
        self.schools: dict[bytes, Organization] = {}
        self.colleges: dict[bytes, tuple[str, Organization]] = {}
        self.codes: dict[bytes, tuple[str, ...]] = {}
        self.previous: dict[bytes, tuple[PreviousSchool, ...]] = {}
        self.awards: dict[bytes, tuple[Award, ...]] = {}
        self.texts: dict[bytes, str] = {}
        self.exam_codes: dict[bytes, str] = {}  # small parts of exam blocks (PART_LIMIT)
        self.irregular_pairs: dict[bytes, tuple[str, ...]] = {b"    ": ()}
        self._limits: dict[int, int] = {}  # id(cache) -> its limit now
        self._emptied: dict[int, int] = {}  # id(cache) -> the line it was last emptied at

    def limit_of(self, cache: dict[bytes, Any]) -> int:
        """How many entries ``cache`` may hold now."""
        return self._limits.get(id(cache), self.limit)

    def _empty(self, cache: dict[bytes, Any]) -> None:
        """Empty a full cache, and choose its next limit by how well it did."""
        key = id(cache)
        lines = self.line - self._emptied.get(key, 0)
        self._limits[key] = SMALL_LIMIT if 2 * len(cache) > lines else self.limit
        self._emptied[key] = self.line
        cache.clear()

    def _keep(self, cache: dict[bytes, Any], key: bytes, value: Any) -> Any:
        if len(cache) >= self._limits.get(id(cache), self.limit):
            self._empty(cache)
        cache[key] = value
        return value

    def text(self, piece: bytes) -> str:
        """A short text piece (state, gender...), decoded once."""
        return self._keep(self.texts, piece, piece.decode("latin-1").rstrip())  # type: ignore[no-any-return]

    def date(self, piece: bytes, parse: Callable[[str], Any]) -> Any:
        """A MMDDYY piece: six ASCII digits of a real date, or blank (``None``); anything
        else goes to the reference parser, which decides (and explains a bad date)."""
        value: Any = None
        if piece != _BLANK_DATE:
            year = YEAR_OF.get(piece[4:6])
            month_day = _MONTH_DAY.get(piece[:4])
            if year is None or month_day is None:
                try:
                    value = parse(piece.decode("latin-1").rstrip())
                except ParseError:
                    raise Bad from None
            else:
                try:
                    value = _date(year, *month_day)
                except ValueError:  # the 30th of February...
                    raise Bad from None
        return self._keep(self.dates, piece, value)

    def exam_list(self, blocks: tuple[bytes, ...]) -> tuple[ExamScore, ...]:
        """The exams of a line with a block not seen before (ends at a blank code)."""
        found: list[ExamScore] = []
        cache = self.exams
        if len(cache) > self.limit_of(cache) - EXAM_BLOCK_COUNT:
            self._empty(cache)
        for block in blocks:
            made = cache.get(block)
            if made is None:
                made = exam(block, self.exam_codes, self.irregular_pairs)
                if made is None:
                    break
                cache[block] = made
            found.append(made)
        return tuple(found)

    def school(self, block: bytes) -> Organization:
        return self._keep(self.schools, block, high_school(block))  # type: ignore[no-any-return]

    def college(self, block: bytes) -> tuple[str, Organization]:
        return self._keep(self.colleges, block, college(block))  # type: ignore[no-any-return]

    def student_codes(self, block: bytes) -> tuple[str, ...]:
        return self._keep(self.codes, block, codes(block))  # type: ignore[no-any-return]

    def previous_schools(self, block: bytes) -> tuple[PreviousSchool, ...]:
        return self._keep(self.previous, block, previous(block))  # type: ignore[no-any-return]

    def award_list(self, block: bytes) -> tuple[Award, ...]:
        return self._keep(self.awards, block, awards(block))  # type: ignore[no-any-return]
