"""The never-rules, as properties over small crowded rosters (namesakes, twins, reused IDs).

Names, birth dates and AP IDs come from tiny pools, so that every draw is full of the
cases that break matchers: namesakes, twins, one student with two AP IDs, two students
claiming one AP ID.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from _students import report
from apscores.matching import MatchOutcome, match
from apscores.matching._tiers import FULL, first_level, person
from apscores.models import ScoreReport

LAST = ["Smith", "Nguyen", "Garcia-Lopez", "Garcia", "Müller", "Muller", "O'Brien", "Smith Jr"]
FIRST = ["Anna", "Emma", "John", "Mary", "Mary Ann", "Jürgen", "Jurgen"]
DAYS = [dt.date(2007, 3, 5), dt.date(2007, 5, 3), dt.date(2006, 3, 5), None]
AP_IDS = [f"A{n}" for n in range(8)]

roster_rows = st.lists(
    st.fixed_dictionaries(
        {
            "last_name": st.sampled_from(LAST),
            "first_name": st.sampled_from(FIRST),
            "birth_date": st.sampled_from([d.isoformat() if d else "" for d in DAYS]),
            "sex": st.sampled_from(["", "M", "F"]),
            "middle_name": st.sampled_from(["", "Q", "R"]),
            "ap_id": st.sampled_from(["", *AP_IDS[:3]]),
        }
    ),
    min_size=1,
    max_size=10,
)
ap_reports = st.lists(
    st.builds(
        lambda ap_id, last, first, born, sex, middle: report(
            ap_id, last.upper()[:15], first.upper()[:12], born, sex=sex, middle=middle
        ),
        st.sampled_from(AP_IDS),
        st.sampled_from(LAST),
        st.sampled_from(FIRST),
        st.sampled_from(DAYS),
        st.sampled_from(["", "M", "F"]),
        st.sampled_from(["", "Q", "R"]),
    ),
    min_size=1,
    max_size=10,
)


def numbered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [dict(r, sis_id=f"S{n}") for n, r in enumerate(rows)]


def newest(reports: list[ScoreReport]) -> dict[str, ScoreReport]:
    kept: dict[str, ScoreReport] = {}
    for item in reports:
        kept[item.ap_id] = item  # no dates: the last one read wins, as in match
    return kept


@settings(max_examples=200, deadline=None)
@given(roster_rows, ap_reports)
def test_the_never_rules(rows: list[dict[str, str]], reports: list[ScoreReport]) -> None:
    roster = numbered(rows)
    result = match(reports, roster)
    by_ap = newest(reports)
    # one row per AP ID, hence never one AP ID with two SIS IDs
    assert [s.ap_id for s in result] == list(by_ap)
    claimed = defaultdict(set)
    for entry in roster:
        if entry["ap_id"]:
            claimed[entry["ap_id"]].add(entry["sis_id"])
    by_sis: dict[str, list[str]] = defaultdict(list)
    for decided in result:
        ap = by_ap[decided.ap_id]
        if decided.outcome is MatchOutcome.MATCHED:
            assert decided.sis_id is not None
            assert decided.candidates == ()
            by_sis[decided.sis_id].append(decided.ap_id)
            assert len(claimed[decided.ap_id]) <= 1
            if decided.tier != 1:
                # never on names alone, never a twin: a birth date and a whole first name
                assert ap.student.date_of_birth is not None
                mine = person("", ap.student.last_name, ap.student.first_name, cut=True)
                rows_of = [r for r in roster if r["sis_id"] == decided.sis_id]
                assert any(
                    first_level(mine, person("", r["last_name"], r["first_name"])) >= FULL
                    for r in rows_of
                )
        else:
            assert decided.sis_id is None
            if decided.outcome is MatchOutcome.REVIEW:
                assert decided.candidates
    # two AP students on one SIS ID by rule only when they are the same person
    for ap_ids in by_sis.values():
        decided_by_rule = [a for a in ap_ids if result.students[list(by_ap).index(a)].tier != 1]
        if len(ap_ids) > 1 and decided_by_rule:
            folded = [
                person("", by_ap[a].student.last_name, by_ap[a].student.first_name) for a in ap_ids
            ]
            students = {
                (p.last, p.first, by_ap[a].student.date_of_birth)
                for p, a in zip(folded, ap_ids, strict=True)
            }
            assert len(students) == 1
            assert all(
                "second AP ID" in result.students[list(by_ap).index(a)].reason
                for a in decided_by_rule
            )


@settings(max_examples=100, deadline=None)
@given(roster_rows, ap_reports)
def test_decisions_do_not_depend_on_the_roster_order(
    rows: list[dict[str, str]], reports: list[ScoreReport]
) -> None:
    roster = numbered(rows)
    forward = match(reports, roster)
    backward = match(reports, list(reversed(roster)))
    assert [(s.outcome, s.sis_id, s.tier) for s in forward] == [
        (s.outcome, s.sis_id, s.tier) for s in backward
    ]
    assert [set(s.candidates) for s in forward] == [set(s.candidates) for s in backward]
