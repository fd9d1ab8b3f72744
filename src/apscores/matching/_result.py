"""What matching decided, per AP student, and the review file a person answers.

The CSV (``apscores match -o``) has one row per AP student: :data:`MATCH_COLUMNS`. The
last column, ``decision``, is left blank for a person to fill in on ``review`` rows (or
any row): one of the SIS IDs (usually from ``candidates``), or ``new`` for a student the
student system does not hold yet. ``apscores match --accept FILE`` records those answers
in the crosswalk, and the next run honours them.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import os
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from apscores._rows_csv import write_rows_csv
from apscores.errors import RosterError
from apscores.matching._sources import decode

__all__ = ["MATCH_COLUMNS", "Answer", "MatchOutcome", "MatchResult", "StudentMatch", "read_answers"]

#: The columns of the match file, in order.
MATCH_COLUMNS = (
    "ap_id",
    "last_name",
    "first_name",
    "birth_date",
    "outcome",
    "sis_id",
    "tier",
    "candidates",
    "reason",
    "decision",
)
_NEW = frozenset({"new", "new student"})


class MatchOutcome(str, enum.Enum):
    """``matched`` (a SIS ID), ``review`` (a person decides) or ``unmatched`` (none)."""

    MATCHED = "matched"
    REVIEW = "review"
    UNMATCHED = "unmatched"


@attrs.frozen
class StudentMatch:
    """The decision for one AP student (one AP ID).

    Attributes:
        ap_id: The AP ID of the score files.
        last_name: The last name as the score file gives it.
        first_name: The first name as the score file gives it.
        birth_date: The birth date the score file gives, or None.
        outcome: matched, review or unmatched.
        sis_id: The student system's ID, only when matched.
        tier: The rule that decided (1 known AP ID, 2, 3, 4), None when no tier did.
        candidates: The SIS IDs a person should choose from (review).
        reason: Why, in a few words (no names, no dates).
        made_by: ``rule`` or ``person`` (a decision recorded from a review file).
    """

    ap_id: str
    last_name: str = attrs.field(repr=False)  # names and dates stay out of repr and logs
    first_name: str = attrs.field(repr=False)
    birth_date: dt.date | None = attrs.field(repr=False)
    outcome: MatchOutcome
    sis_id: str | None = None
    tier: int | None = None
    candidates: tuple[str, ...] = ()
    reason: str = ""
    made_by: str = "rule"

    def row(self) -> dict[str, str]:
        """The student's row of the match file (text)."""
        return {
            "ap_id": self.ap_id,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else "",
            "outcome": self.outcome.value,
            "sis_id": self.sis_id or "",
            "tier": "" if self.tier is None else str(self.tier),
            "candidates": ";".join(self.candidates),
            "reason": self.reason,
            "decision": "",
        }


@attrs.frozen
class MatchResult:
    """Every AP student's decision, in the order the score files first named them.

    Attributes:
        students: One :class:`StudentMatch` per AP ID.
        recorded: Decisions newly written to the crosswalk by this run.
    """

    students: tuple[StudentMatch, ...]
    recorded: int = 0

    def __len__(self) -> int:
        return len(self.students)

    def __iter__(self) -> Iterator[StudentMatch]:
        return iter(self.students)

    def __repr__(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{counts[outcome]} {outcome.value}" for outcome in MatchOutcome)
        return f"<MatchResult {len(self.students)} student(s): {parts}>"

    def counts(self) -> Counter[MatchOutcome]:
        """Students by outcome (every outcome present, zero or not)."""
        found = Counter(dict.fromkeys(MatchOutcome, 0))
        found.update(student.outcome for student in self.students)
        return found

    def by_tier(self) -> dict[int, int]:
        """Matched students by the tier that matched them."""
        found = Counter(s.tier for s in self.students if s.outcome is MatchOutcome.MATCHED)
        return {tier: found[tier] for tier in sorted(t for t in found if t is not None)}

    @property
    def sis_ids(self) -> dict[str, str]:
        """AP ID -> SIS ID of every matched student."""
        return {s.ap_id: s.sis_id for s in self.students if s.sis_id is not None}

    @property
    def complete(self) -> bool:
        """True when nothing waits for a person: every student is matched, or a person
        said "new student" (held until the student system has the student)."""
        return all(
            s.outcome is MatchOutcome.MATCHED
            or (s.outcome is MatchOutcome.UNMATCHED and s.made_by == "person")
            for s in self.students
        )

    def write_csv(self, dest: str | os.PathLike[str] | BinaryIO) -> int:
        """Write the match file (:data:`MATCH_COLUMNS`), atomically to a path (mode 0600)."""
        return write_rows_csv((s.row() for s in self.students), MATCH_COLUMNS, dest)

    def summary(self) -> dict[str, Any]:
        """Counts for a JSON summary: students, each outcome, matched by tier, recorded."""
        counts = self.counts()
        return {
            "students": len(self.students),
            **{outcome.value: counts[outcome] for outcome in MatchOutcome},
            "by_tier": {str(tier): n for tier, n in self.by_tier().items()},
            "recorded": self.recorded,
        }


@attrs.frozen
class Answer:
    """A person's decision from a review file: a SIS ID, or None for a new student."""

    ap_id: str
    sis_id: str | None
    rejected: tuple[str, ...] = ()
    line: int | None = attrs.field(default=None, eq=False)


def read_answers(
    path: str | os.PathLike[str], *, sis_ids: Collection[str] | None = None
) -> list[Answer]:
    """The filled-in ``decision`` cells of a match file (blank ones are skipped).

    A decision is a SIS ID (checked against ``sis_ids`` when given) or ``new``. A file
    without ``ap_id`` and ``decision`` columns, or a SIS ID the roster does not hold, is a
    :class:`~apscores.errors.RosterError` naming the line and column.
    """
    name = str(path)
    text = decode(Path(path).read_bytes(), None, name)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [header.strip().lower() for header in reader.fieldnames or []]
    for needed in ("ap_id", "decision"):
        if needed not in headers:
            raise RosterError(
                "not a review file: no such column (write decisions into the match file)",
                line=1,
                field=needed,
                raw="",
                file=name,
            )
    reader.fieldnames = headers
    answers: list[Answer] = []
    for row in reader:
        decision = (row.get("decision") or "").strip()
        ap_id = (row.get("ap_id") or "").strip()
        if not decision:
            continue
        line = reader.line_num
        if not ap_id:
            raise RosterError(
                "a decision without an AP ID", line=line, field="ap_id", raw="", file=name
            )
        offered = tuple(
            part
            for part in [*(row.get("candidates") or "").split(";"), row.get("sis_id") or ""]
            if part.strip()
        )
        if decision.lower() in _NEW:
            answers.append(Answer(ap_id, None, tuple(p.strip() for p in offered), line))
        elif sis_ids is not None and decision not in sis_ids:
            raise RosterError(
                "not a SIS ID of the roster (write one of the candidates, or 'new')",
                line=line,
                field="decision",
                raw="",
                file=name,
            )
        else:
            answers.append(Answer(ap_id, decision, (), line))
    return answers
