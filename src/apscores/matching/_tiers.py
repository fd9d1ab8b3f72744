"""The deterministic tiers 2 to 4, on blocks found by hashed keys (never every pair).

Every roster row is indexed under a few integer hashes of (birth date, name key); an AP
record looks up only its own keys and checks each candidate for real, so a hash collision
costs a comparison, never a wrong match. Tier 1 (a known AP ID) is decided before these,
by :mod:`apscores.matching._engine`.

Names agree in four degrees (:data:`EXACT` > :data:`FULL` > :data:`INITIAL` > none): a
match needs ``FULL`` first names at least; anything less goes to review with its
candidates, so that a twin is never taken for the other.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from apscores.matching._fold import FIRST_WIDTH, LAST_WIDTH, SUFFIXES, fold

__all__ = [
    "EXACT",
    "FULL",
    "INITIAL",
    "Decision",
    "Index",
    "Person",
    "clear_caches",
    "decide",
    "person",
]

EXACT, FULL, INITIAL, NONE = 3, 2, 1, 0
_PREFIX = 8  # a cut surname is looked up by its first letters


class Person:
    """One side of a comparison, folded once: an AP record or a roster row."""

    __slots__ = (
        "dob",
        "first",
        "first_cut",
        "first_words",
        "hs",
        "key",
        "last",
        "last_cut",
        "last_key",
        "middle",
        "sex",
        "tokens",
        "zip",
    )

    def __init__(
        self,
        key: str,
        last: tuple[str, str, frozenset[str]],
        first: tuple[str, tuple[str, ...]],
        cut: tuple[bool, bool],
        others: tuple[str, dt.date | None, str, str, str],
    ) -> None:
        self.key = key
        self.last, self.last_key, self.tokens = last
        self.first, self.first_words = first
        self.last_cut, self.first_cut = cut
        self.middle, self.dob, self.sex, self.zip, self.hs = others


@functools.lru_cache(maxsize=1 << 16)
def _surname(last: str) -> tuple[str, str, frozenset[str]]:
    """A surname's compact form, its key (no suffix) and its words (names repeat: cached)."""
    words = fold(last).split()
    kept = [word for word in words if word not in SUFFIXES] or words
    tokens = frozenset(word for word in kept if len(word) > 1) or frozenset(kept)
    return "".join(words), "".join(kept), tokens


@functools.lru_cache(maxsize=1 << 16)
def _given(first: str) -> tuple[str, tuple[str, ...]]:
    words = tuple(fold(first).split())
    return "".join(words), words


def clear_caches() -> None:
    """Forget the folded names (they are student data)."""
    _surname.cache_clear()
    _given.cache_clear()


def person(
    key: str,
    last: str,
    first: str,
    *,
    middle: str = "",
    dob: dt.date | None = None,
    sex: str = "",
    zip_code: str = "",
    hs: str = "",
    cut: bool = False,
) -> Person:
    """Fold a person's names; ``cut``: names at the TXT field width may be cut there."""
    cuts = (cut and len(last.rstrip()) >= LAST_WIDTH, cut and len(first.rstrip()) >= FIRST_WIDTH)
    sex = sex[:1].upper()
    others = (
        fold(middle[:2])[:1] if middle else "",
        dob,
        sex if sex in {"M", "F"} else "",
        zip_code[:5] if len(zip_code) >= 5 else "",
        hs.strip(),
    )
    return Person(key, _surname(last), _given(first), cuts, others)


def first_level(ap: Person, row: Person) -> int:
    """How well the first names agree (a cut or one-word name may begin the other)."""
    if not ap.first or not row.first:
        return NONE
    if ap.first == row.first:
        return EXACT
    if ap.first_cut and row.first.startswith(ap.first):
        return FULL
    shorter, longer = sorted((ap.first_words, row.first_words), key=len)
    if len(shorter) == 1 and len(longer) > 1 and longer[0] == shorter[0]:
        return FULL  # MARY and MARY ANN: a second given name on one side only
    return INITIAL if ap.first[0] == row.first[0] else NONE


def last_agrees(ap: Person, row: Person) -> bool:
    """Folded surnames agree, or the file's cut surname begins the roster's."""
    if ap.last_key == row.last_key or ap.last == row.last:
        return True
    return ap.last_cut and len(ap.last) >= _PREFIX and row.last.startswith(ap.last)


def _near(one: str, two: str) -> bool:
    """Surnames one or two edits apart, or sharing their first three letters."""
    if one[:3] == two[:3]:
        return True
    if abs(len(one) - len(two)) > 2:
        return False
    previous = list(range(len(two) + 1))
    for i, char in enumerate(one, start=1):
        current = [i]
        for j, other in enumerate(two, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1] <= 2


def slips(born: dt.date) -> Iterator[dt.date]:
    """The birth dates one slip away: day and month swapped, the year off by one."""
    if born.day <= 12 and born.day != born.month:
        yield born.replace(month=born.day, day=born.month)
    for year in (born.year - 1, born.year + 1):
        try:
            yield born.replace(year=year)
        except ValueError:  # February 29
            continue


class Decision(NamedTuple):
    """What a tier decided for one AP record."""

    outcome: str  # matched, review, unmatched
    sis_id: str | None
    tier: int | None
    candidates: tuple[str, ...]
    reason: str


class Index:
    """Roster rows in blocks, each under a hash of (birth date, a key): the folded surname
    (tier 2, the bulk), its first letters (cut surnames), the first initial (tier 3 and
    review). A record reads only its own blocks, a handful of rows each.
    """

    def __init__(self, rows: Iterable[Person]) -> None:
        self.by_last: dict[int, list[Person]] = {}
        self.by_prefix: dict[int, list[Person]] = {}
        self.by_initial: dict[int, list[Person]] = {}
        by_last, by_prefix, by_initial = self.by_last, self.by_prefix, self.by_initial
        for row in rows:
            if row.dob is None or not row.last or not row.first:
                continue  # never matched on part of a name
            day = row.dob.toordinal()
            by_last.setdefault(hash((day, row.last_key)), []).append(row)
            by_initial.setdefault(hash((day, row.first[:1])), []).append(row)
            if len(row.last) >= _PREFIX:
                by_prefix.setdefault(hash((day, row.last[:_PREFIX])), []).append(row)

    def surname(self, ap: Person, born: dt.date) -> list[Person]:
        """Rows born on ``born`` whose surname agrees (tiers 2 and 4)."""
        day = born.toordinal()
        found = self.by_last.get(hash((day, ap.last_key)), [])
        if ap.last_cut and len(ap.last) >= _PREFIX:
            found = found + self.by_prefix.get(hash((day, ap.last[:_PREFIX])), [])
        return [row for row in found if row.dob == born and last_agrees(ap, row)]

    def _initial(self, ap: Person, born: dt.date) -> list[Person]:
        found = self.by_initial.get(hash((born.toordinal(), ap.first[:1])), [])
        return [row for row in found if row.dob == born and row.first[:1] == ap.first[:1]]

    def tokens(self, ap: Person, born: dt.date) -> list[Person]:
        """Rows born on ``born`` sharing a surname word and the first initial (tier 3)."""
        return [row for row in self._initial(ap, born) if ap.tokens & row.tokens]

    def near(self, ap: Person, born: dt.date) -> list[Person]:
        """Rows born on ``born`` with the same first name and a close surname (review)."""
        return [
            row
            for row in self._initial(ap, born)
            if row.first == ap.first and _near(ap.last, row.last)
        ]


def _review(reason: str, tier: int | None, candidates: Iterable[str]) -> Decision:
    return Decision("review", None, tier, tuple(dict.fromkeys(candidates)), reason)


def _choose(ap: Person, rows: list[Person], tier: int, rejected: frozenset[str]) -> Decision | None:
    """A tier's decision among its candidate rows (None when a person rejected them all)."""
    best: dict[str, tuple[int, Person]] = {}
    for row in rows:
        if row.key in rejected:
            continue
        level = first_level(ap, row)
        if row.key not in best or level > best[row.key][0]:
            best[row.key] = (level, row)
    if not best:
        return None
    ranked = sorted(best, key=lambda sis: -best[sis][0])
    full = [sis for sis in ranked if best[sis][0] >= FULL]
    if not full:
        return _review(f"tier {tier}: {_DIFFERENT_FIRST}", tier, ranked)
    narrowed = [sis for sis in full if best[sis][0] == EXACT] or full
    for attribute in ("middle", "zip", "hs"):
        mine = getattr(ap, attribute)
        agree = [sis for sis in narrowed if mine and getattr(best[sis][1], attribute) == mine]
        if 0 < len(agree) < len(narrowed):
            narrowed = agree
    if len(narrowed) > 1:
        return _review(
            f"tier {tier}: {len(narrowed)} students agree as well", tier, [*narrowed, *ranked]
        )
    chosen = narrowed[0]
    row = best[chosen][1]
    problem = _conflict(ap, row, tier)
    if problem:
        return _review(f"tier {tier}: {problem}", tier, ranked)
    return Decision("matched", chosen, tier, (), _REASONS[tier])


def _conflict(ap: Person, row: Person, tier: int) -> str:
    """Why a single candidate still needs a person ("" when it does not)."""
    if ap.sex and row.sex and ap.sex != row.sex:
        return "the sex differs"
    if ap.middle and row.middle and ap.middle != row.middle:
        return "the middle initial differs"
    known = [
        (mine, theirs) for mine, theirs in ((ap.zip, row.zip), (ap.hs, row.hs)) if mine and theirs
    ]
    agree = any(mine == theirs for mine, theirs in known)
    if tier == 2 and len(known) == 2 and not agree:
        return "the ZIP code and the high school both differ"
    if tier > 2 and not agree and not (ap.middle and ap.middle == row.middle):
        return "nothing else agrees (middle initial, ZIP code, high school)"
    return ""


_DIFFERENT_FIRST = "the first name differs"
_REASONS = {
    2: "birth date and surname",
    3: "birth date, a surname word and the first name",
    4: "full name, birth date with one slip (day/month swapped or year off by one)",
}


def decide(ap: Person, index: Index, rejected: frozenset[str] = frozenset()) -> Decision:
    """Tiers 2, 3 and 4 in order: the first tier with a candidate of the same first name
    decides; candidates of another first name (a twin, a sibling) go to review only
    when no later tier finds the student."""
    born = ap.dob
    if born is None:
        return Decision("unmatched", None, None, (), "no birth date: never matched on names alone")
    if not ap.last or not ap.first:
        return Decision("unmatched", None, None, (), "no last or first name in the score file")
    same_surname = index.surname(ap, born)
    if len(same_surname) == 1:  # the common case, decided without ranking
        row = same_surname[0]
        if row.key not in rejected and row.first == ap.first and not _conflict(ap, row, 2):
            return Decision("matched", row.key, 2, (), _REASONS[2])
    tiers: tuple[tuple[int, Callable[[], list[Person]]], ...] = (
        (2, lambda: same_surname),
        (3, lambda: index.tokens(ap, born)),
        (4, lambda: [r for d in slips(born) for r in index.surname(ap, d) if _full(ap, r)]),
    )
    weak: Decision | None = None  # candidates whose first name differs: a sibling?
    for tier, rows in tiers:
        decision = _choose(ap, rows(), tier, rejected)
        if decision is None:
            continue
        if not decision.reason.endswith(_DIFFERENT_FIRST):
            return decision
        weak = weak or decision  # a later tier may still find the student
    if weak is not None:
        return weak
    near = [row.key for row in index.near(ap, born) if row.key not in rejected]
    if near:
        return _review("same birth date and first name; the surname differs", None, near)
    if rejected:
        return Decision("unmatched", None, None, (), "a person said: new student")
    return Decision("unmatched", None, None, (), "no student of the roster agrees")


def _full(ap: Person, row: Person) -> bool:
    return first_level(ap, row) >= FULL
