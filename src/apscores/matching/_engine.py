"""``match()`` and ``accept()``: tier 1 (known AP IDs), the tiers, the never-rules, the
crosswalk.

After every AP student has a decision, one pass makes sure no SIS ID went to two
different students by rule: two AP records matched to one SIS ID stay matched only when
they are the same person (the same folded names and birth date: a second College Board
account), and say so; otherwise both go to review.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from apscores.matching._crosswalk import Crosswalk, Link
from apscores.matching._result import MatchOutcome, MatchResult, StudentMatch, read_answers
from apscores.matching._roster import Roster, read_roster
from apscores.matching._sources import bulk
from apscores.matching._tiers import Decision, Index, Person, clear_caches, decide, person
from apscores.models import ScoreReport

__all__ = ["Reports", "accept", "match"]

_OUTCOMES = {outcome.value: outcome for outcome in MatchOutcome}

#: What ``match`` reads: score reports, or paths of score files (TXT or CSV).
Reports = Iterable[ScoreReport | str | os.PathLike[str]] | str | os.PathLike[str]
RosterSource = str | os.PathLike[str] | Iterable[Mapping[str, object]] | Roster


def _reports(source: Reports) -> Iterator[ScoreReport]:
    from apscores.files import read

    items = [source] if isinstance(source, (str, os.PathLike)) else source
    for item in items:
        if isinstance(item, ScoreReport):
            yield item
        else:
            with read(item) as reader:
                yield from reader


def _newest(reports: Iterable[ScoreReport]) -> list[ScoreReport]:
    """One report per AP ID (the newest, as merging keeps it); blank AP IDs each count."""
    kept: dict[str, ScoreReport] = {}
    blank: list[ScoreReport] = []
    for report in reports:
        if not report.ap_id:
            blank.append(report)
            continue
        old = kept.get(report.ap_id)
        if old is None or _when(report) >= _when(old):
            kept[report.ap_id] = report
    return [*kept.values(), *blank]


def _when(report: ScoreReport) -> tuple[str, str]:
    return (
        report.date_updated.isoformat() if report.date_updated else "",
        report.report_date.isoformat() if report.report_date else "",
    )


def _ap_person(report: ScoreReport) -> Person:
    student = report.student
    return person(
        report.ap_id,
        student.last_name,
        student.first_name,
        middle=student.middle_initial,
        dob=student.date_of_birth,
        sex=student.gender,
        zip_code=student.address.zip_code,
        hs=report.high_school.code,
        cut=True,
    )


def _index(roster: Roster) -> Index:
    return Index(
        person(
            entry.sis_id,
            entry.last_name,
            entry.first_name,
            middle=entry.middle_name,
            dob=entry.birth_date,
            sex=entry.sex,
            zip_code=entry.zip,
            hs=entry.hs_code,
        )
        for entry in roster.entries
    )


def _known(ap_id: str, roster: Roster, link: Link | None) -> Decision | None:
    """Tier 1: the AP ID is known (the roster's ap_id column, the crosswalk)."""
    if link is not None and link.sis_id is not None and link.made_by == "person":
        return Decision(
            "matched", link.sis_id, 1, (), f"a person's decision ({link.decided_at:%Y-%m-%d})"
        )
    known = dict.fromkeys(sorted(roster.ap_ids.get(ap_id, ())), "the roster")
    if link is not None and link.sis_id is not None:
        known.setdefault(
            link.sis_id, f"the crosswalk (tier {link.tier}, {link.decided_at:%Y-%m-%d})"
        )
    if len(known) > 1:
        return Decision(
            "review", None, 1, tuple(known), f"the AP ID is given to {len(known)} students"
        )
    for sis_id, where in known.items():
        return Decision("matched", sis_id, 1, (), f"AP ID known: {where}")
    return None


def _same_person(people: list[Person]) -> bool:
    """The same folded names and birth date, and no two different middle initials."""
    names = {(ap.last, ap.first, ap.dob) for ap in people}
    return len(names) == 1 and len({ap.middle for ap in people if ap.middle}) <= 1


def _never_shared(
    decisions: list[Decision], people: list[Person], others: Mapping[str, list[str]]
) -> list[Decision]:
    """No SIS ID goes to two different AP students by rule (see the module docstring)."""
    groups: dict[str, list[int]] = {}
    for number, decision in enumerate(decisions):
        if decision.outcome == "matched" and decision.sis_id is not None:
            groups.setdefault(decision.sis_id, []).append(number)
    fixed = list(decisions)
    for sis_id, numbers in groups.items():
        by_rule = [n for n in numbers if decisions[n].tier != 1]
        if len(numbers) < 2 or not by_rule:
            continue  # every AP ID of the student is known: several accounts, decided
        same = _same_person([people[n] for n in numbers])
        for n in by_rule:
            also = [people[m].key for m in numbers if m != n]
            if same:
                note = f"; a second AP ID of the student (also {', '.join(also)})"
                fixed[n] = decisions[n]._replace(reason=decisions[n].reason + note)
            else:
                fixed[n] = Decision(
                    "review",
                    None,
                    decisions[n].tier,
                    (sis_id,),
                    f"another AP student ({', '.join(also)}) matched the same SIS ID",
                )
    for n, decision in enumerate(fixed):
        earlier = [a for a in others.get(decision.sis_id or "", []) if a != people[n].key]
        if decision.outcome == "matched" and decision.tier != 1 and earlier:
            note = f"; the student also has AP ID {', '.join(earlier)}"
            fixed[n] = decision._replace(reason=decision.reason + note)
    return fixed


@bulk
def match(
    reports: Reports,
    roster: RosterSource,
    *,
    crosswalk: Crosswalk | str | os.PathLike[str] | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    record: bool = True,
) -> MatchResult:
    """Match the students of score reports to a student system's roster.

    ``reports``: :class:`~apscores.ScoreReport` objects or paths of score files (one
    decision per AP ID, from its newest report). ``roster``: a CSV or XLSX path, mappings,
    or a :class:`Roster` (``columns`` and ``encoding``: see :func:`read_roster`).
    ``crosswalk``: a :class:`Crosswalk` or its path; its decisions come first (tier 1)
    and, with ``record``, the new rule matches are added to it.

    Tiers, in order: 1 a known AP ID; 2 birth date + surname (folded; a cut TXT surname
    may begin the roster's); 3 birth date + a surname word + first initial; 4 full name +
    birth date with one slip. A match needs the first names to agree in full; ties are
    broken by first name, middle initial, ZIP and high school; anything uncertain goes to
    review with its candidates. Never a match without a birth date.
    """
    roster = read_roster(roster, columns=columns, encoding=encoding)
    owned = crosswalk is not None and not isinstance(crosswalk, Crosswalk)
    store = Crosswalk(crosswalk) if owned else crosswalk  # type: ignore[arg-type]
    assert store is None or isinstance(store, Crosswalk)
    try:
        links = store.links() if store is not None else {}
        index = _index(roster)
        kept = _newest(_reports(reports))
        people = [_ap_person(report) for report in kept]
        decisions = []
        for ap in people:
            link = links.get(ap.key) if ap.key else None
            decision = _known(ap.key, roster, link) if ap.key else None
            if decision is None:
                rejected = frozenset(link.rejected) if link is not None else frozenset()
                decision = decide(ap, index, rejected)
                if link is not None and decision.outcome == "unmatched":
                    decision = decision._replace(reason="a person said: new student")
            decisions.append(decision)
        others: dict[str, list[str]] = {}
        for ap_id, sis_ids in roster.ap_ids.items():
            for sis_id in sis_ids:
                others.setdefault(sis_id, []).append(ap_id)
        for ap_id, link in links.items():
            if link.sis_id is not None:
                others.setdefault(link.sis_id, []).append(ap_id)
        decisions = _never_shared(decisions, people, others)
        recorded = 0
        if store is not None and record:
            new = [
                (ap.key, d.sis_id, d.tier)
                for ap, d in zip(people, decisions, strict=True)
                if ap.key and d.outcome == "matched" and d.tier != 1
            ]
            recorded = store.record(new, made_by="rule") if new else 0
    finally:
        clear_caches()  # the caches hold names: not kept past the call
        if owned and store is not None:
            store.close()
    students = tuple(
        StudentMatch(
            ap_id=report.ap_id,
            last_name=report.student.last_name,
            first_name=report.student.first_name,
            birth_date=report.student.date_of_birth,
            outcome=_OUTCOMES[decision.outcome],
            sis_id=decision.sis_id,
            tier=decision.tier,
            candidates=decision.candidates,
            reason=decision.reason,
            made_by="person" if decision.reason.startswith("a person") else "rule",
        )
        for report, decision in zip(kept, decisions, strict=True)
    )
    return MatchResult(students=students, recorded=recorded)


def accept(
    review: str | os.PathLike[str],
    crosswalk: Crosswalk | str | os.PathLike[str],
    *,
    roster: RosterSource | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> int:
    """Record a person's decisions from a filled-in match file; returns how many.

    Each filled ``decision`` cell is a SIS ID (checked against ``roster`` when given) or
    ``new``; they replace whatever the crosswalk held for those AP IDs, and the next
    :func:`match` honours them.
    """
    sis_ids = None
    if roster is not None:
        sis_ids = read_roster(roster, columns=columns, encoding=encoding).sis_ids
    answers = read_answers(Path(review), sis_ids=sis_ids)
    store = crosswalk if isinstance(crosswalk, Crosswalk) else Crosswalk(crosswalk)
    try:
        if not answers:
            return 0
        return store.record(
            [(answer.ap_id, answer.sis_id, None) for answer in answers],
            made_by="person",
            rejected={answer.ap_id: answer.rejected for answer in answers},
        )
    finally:
        if store is not crosswalk:
            store.close()
