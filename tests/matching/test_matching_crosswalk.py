"""The crosswalk: decisions that stick, a person over a rule, mode 0600, bad files."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from _students import report, row
from apscores.errors import ConfigurationError, RosterError
from apscores.matching import Crosswalk, MatchOutcome, accept, match, read_answers

ROSTER = [row("S1", "Smith", "John"), row("S2", "Nguyen", "Anna"), row("S3", "Nguyen", "Emma")]


def test_rule_matches_are_recorded_and_come_back_at_tier_1(tmp_path: Path) -> None:
    path = tmp_path / "cw.sqlite3"
    first = match([report("A1", "SMITH", "JOHN")], ROSTER, crosswalk=path)
    assert (first.students[0].tier, first.recorded) == (2, 1)
    again = match([report("A1", "SOMEONE", "ELSE", None)], ROSTER, crosswalk=path)
    assert (again.students[0].sis_id, again.students[0].tier, again.recorded) == ("S1", 1, 0)
    assert again.students[0].reason.startswith("AP ID known: the crosswalk (tier 2, ")
    with Crosswalk(path) as crosswalk:
        link = crosswalk.get("A1")
        assert link is not None
        assert (link.sis_id, link.tier, link.made_by) == ("S1", 2, "rule")
        assert len(crosswalk) == 1
        assert crosswalk.get("nope") is None
        assert repr(crosswalk) == f"<Crosswalk {str(path)!r}>"


def test_without_record_nothing_is_written(tmp_path: Path) -> None:
    with Crosswalk(tmp_path / "cw.sqlite3") as crosswalk:
        result = match([report("A1", "SMITH", "JOHN")], ROSTER, crosswalk=crosswalk, record=False)
        assert result.recorded == 0
        assert len(crosswalk) == 0


def test_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cw.sqlite3"
    Crosswalk(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_person_overrides_a_rule_and_a_rule_never_a_person(tmp_path: Path) -> None:
    with Crosswalk(tmp_path / "cw.sqlite3") as crosswalk:
        assert crosswalk.record([("A1", "S1", 2)], made_by="rule") == 1
        assert crosswalk.record([("A1", "S9", 2)], made_by="rule") == 0
        assert crosswalk.record([("A1", "S2", None)], made_by="person") == 1
        assert crosswalk.record([("A1", "S1", 2)], made_by="rule") == 0
        link = crosswalk.get("A1")
        assert link is not None
        assert (link.sis_id, link.made_by) == ("S2", "person")
        with pytest.raises(ValueError, match="made_by"):
            crosswalk.record([], made_by="robot")


def test_a_student_may_have_several_ap_ids(tmp_path: Path) -> None:
    with Crosswalk(tmp_path / "cw.sqlite3") as crosswalk:
        crosswalk.record([("A1", "S1", 2), ("B1", "S1", 2)], made_by="rule")
        assert crosswalk.ap_ids_of("S1") == ["A1", "B1"]
        result = match(
            [report("A1", "X", "Y", None), report("B1", "X", "Y", None)],
            ROSTER,
            crosswalk=crosswalk,
        )
        assert result.sis_ids == {"A1": "S1", "B1": "S1"}


def test_a_failed_write_leaves_nothing_half_done(tmp_path: Path) -> None:
    with Crosswalk(tmp_path / "cw.sqlite3") as crosswalk:

        def links() -> object:
            yield ("A1", "S1", 2)
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError):
            crosswalk.record(links(), made_by="rule")  # type: ignore[arg-type]
        assert len(crosswalk) == 0


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cw.sqlite3"
    Crosswalk(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(ConfigurationError, match="newer apscores"):
        Crosswalk(path)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "cw.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(OSError, match="not a crosswalk database"):
        Crosswalk(path)


def _review_file(tmp_path: Path, decisions: dict[str, str]) -> Path:
    result = match(
        [report("A1", "NGUYEN", "LILY"), report("A2", "SMITH", "JOHN"), report("A3", "ZED", "Z")],
        ROSTER,
    )
    path = tmp_path / "review.csv"
    result.write_csv(path)
    text = path.read_text(encoding="utf-8").splitlines()
    lines = [text[0]]
    for line in text[1:]:
        ap_id = line.split(",")[0]
        lines.append(line + decisions.get(ap_id, ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_accepted_decisions_are_honoured_next_run(tmp_path: Path) -> None:
    review = _review_file(tmp_path, {"A1": "S3", "A3": "new"})
    crosswalk = tmp_path / "cw.sqlite3"
    assert accept(review, crosswalk, roster=ROSTER) == 2
    reports = [report("A1", "NGUYEN", "LILY"), report("A3", "ZED", "Z")]
    result = match(reports, ROSTER, crosswalk=crosswalk)
    lily, zed = result.students
    assert (lily.outcome, lily.sis_id, lily.tier, lily.made_by) == (
        MatchOutcome.MATCHED,
        "S3",
        1,
        "person",
    )
    assert (zed.outcome, zed.reason, zed.made_by) == (
        MatchOutcome.UNMATCHED,
        "a person said: new student",
        "person",
    )
    assert result.complete  # nothing waits for a person


def test_new_student_rejects_the_candidates_but_not_a_later_roster_row(tmp_path: Path) -> None:
    review = _review_file(tmp_path, {"A1": "new"})
    crosswalk = tmp_path / "cw.sqlite3"
    accept(review, crosswalk)
    again = match([report("A1", "NGUYEN", "LILY")], ROSTER, crosswalk=crosswalk)
    assert again.students[0].outcome is MatchOutcome.UNMATCHED
    registered = [*ROSTER, row("S4", "Nguyen", "Lily")]
    later = match([report("A1", "NGUYEN", "LILY")], registered, crosswalk=crosswalk)
    assert later.students[0].sis_id == "S4"


def test_a_decision_naming_no_roster_student_is_refused(tmp_path: Path) -> None:
    review = _review_file(tmp_path, {"A1": "S99"})
    with pytest.raises(RosterError, match=r"review.csv: line 2, field 'decision'"):
        accept(review, tmp_path / "cw.sqlite3", roster=ROSTER)


def test_a_file_that_is_not_a_review_file(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("ap_id,sis_id\nA1,S1\n", encoding="utf-8")
    with pytest.raises(RosterError, match="field 'decision': not a review file"):
        read_answers(path)


def test_a_decision_without_an_ap_id(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("AP_ID,Decision\n,S1\nA2,\n", encoding="utf-8-sig")
    with pytest.raises(RosterError, match="line 2, field 'ap_id'"):
        read_answers(path)


def test_no_decisions_record_nothing(tmp_path: Path) -> None:
    review = _review_file(tmp_path, {})
    with Crosswalk(tmp_path / "cw.sqlite3") as crosswalk:
        assert accept(review, crosswalk) == 0
        assert len(crosswalk) == 0
