"""From AP record to the college's own student: identity matching with a review queue.

A score file names a student by AP ID, name and birth date; the student system knows its
own ID. :func:`match` links the two by deterministic tiers, each decision explained:

1. an AP ID already known (the roster's ``ap_id`` column, or the :class:`Crosswalk`);
2. birth date + surname, folded (case, accents, punctuation) as College Board's ASCII
   writes it, a TXT surname cut at 15 letters beginning the roster's;
3. birth date + a surname word (hyphenated and two-part surnames, Jr/II/III) + first
   initial;
4. full name + birth date with one slip (day and month swapped, the year off by one).

A match needs the first names to agree in full; ties are broken by first name, middle
initial, ZIP and high school; a sex or middle-initial conflict, or more than one candidate
left, goes to **review** with the candidates. Never: a match on names without a birth
date, one AP ID to two SIS IDs, two different students given one SIS ID, twins confused.

Decisions stick: rule matches are recorded in the crosswalk (SQLite, mode 0600) and a
person's answers to the review file are recorded by :func:`accept`; the next run honours
both at tier 1.
"""

from __future__ import annotations

from apscores._public import deprecated_alias, publish
from apscores.matching._crosswalk import DEFAULT_CROSSWALK_NAME, Crosswalk, Link
from apscores.matching._engine import accept, match
from apscores.matching._fold import fold
from apscores.matching._result import (
    MATCH_COLUMNS,
    Answer,
    MatchOutcome,
    MatchResult,
    StudentMatch,
    read_answers,
)
from apscores.matching._roster import (
    ROSTER_FIELDS,
    Roster,
    RosterEntry,
    load_roster_map,
    read_roster,
)

__all__ = [
    "DEFAULT_CROSSWALK_NAME",
    "MATCH_COLUMNS",
    "ROSTER_FIELDS",
    "Answer",
    "Crosswalk",
    "Link",
    "MatchOutcome",
    "MatchResult",
    "Roster",
    "RosterEntry",
    "StudentMatch",
    "accept",
    "fold",
    "load_roster_map",
    "match",
    "read_answers",
    "read_roster",
]

publish(__name__, globals())
__getattr__ = deprecated_alias(__name__, {"Outcome": (__name__, "MatchOutcome")})
