"""Students are keyed by (DI code, AP ID); across_di=True / --across-di merges across DI codes."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores.changes import ChangeKind, compare, merge, student_key
from apscores.cli import main
from apscores.credit import CreditPolicy, DeltaKind
from apscores.errors import ConfigurationError
from apscores.export import export, export_rows, load_map
from apscores.files import read_csv, write_txt
from apscores.models import ExamScore, Organization, ScoreReport, Student

JUL, AUG = dt.date(2024, 7, 8), dt.date(2024, 8, 12)
EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


def student(n: int, di_code: str, *exams: ExamScore, when: dt.date = JUL) -> ScoreReport:
    return ScoreReport(
        f"A{n:07d}",
        Student("Doe", "Jo"),
        di_code,
        college=Organization(di_code, name=f"Campus {di_code}"),
        exams=exams or (ExamScore("36", 2024, 4),),
        date_released=when,
        date_updated=when,
        report_date=when,
        order_institution_key=f"K{di_code}",
    )


FIFTY_NORTH = [student(n, "1234") for n in range(50)]
FIFTY_SOUTH = [student(n, "5678") for n in range(50)]


class TestTwoDiCodes:
    def test_fifty_students_at_two_di_codes_stay_a_hundred(self) -> None:
        result = merge(FIFTY_NORTH, FIFTY_SOUTH)
        assert len(result.current) == 100
        assert sorted((r.di_code, r.ap_id) for r in result.current) == sorted(
            (r.di_code, r.ap_id) for r in FIFTY_NORTH + FIFTY_SOUTH
        )
        assert result.conflicts == ()
        assert result.current[:2] == (FIFTY_NORTH[0], FIFTY_SOUTH[0])  # AP ID, then DI code
        kinds = {c.kind for c in result.changes}
        assert kinds == {ChangeKind.NEW_STUDENT, ChangeKind.NEW_EXAM}
        assert sum(c.kind is ChangeKind.NEW_STUDENT for c in result.changes) == 100
        assert {c.di_code for c in result.changes_for("A0000000")} == {"1234", "5678"}
        assert [c.di_code for c in result.changes_for("A0000000", "5678")] == ["5678"] * 2
        assert not result.across_di

    def test_each_di_code_keeps_its_own_history(self) -> None:
        lowered = student(7, "5678", ExamScore("36", 2024, 2), when=AUG)
        result = merge(FIFTY_NORTH, FIFTY_SOUTH, [lowered])
        assert result.report_for("A0000007", "1234") == FIFTY_NORTH[7]
        assert result.report_for("A0000007", "5678") == lowered
        moved = [c for c in result.changes if c.kind is ChangeKind.SCORE_LOWERED]
        assert [(c.di_code, c.ap_id) for c in moved] == [("5678", "A0000007")]

    def test_report_for_refuses_to_pick_a_di_code(self) -> None:
        result = merge(FIFTY_NORTH[:1], FIFTY_SOUTH[:1])
        with pytest.raises(ValueError, match="AP ID A0000000 is at DI codes 1234, 5678"):
            result.report_for("A0000000")
        assert result.report_for("A0000000", "9999") is None
        assert merge(FIFTY_NORTH[:1]).report_for("A0000000") == FIFTY_NORTH[0]

    def test_across_di_makes_one_student_without_conflicts(self) -> None:
        result = merge(FIFTY_NORTH, FIFTY_SOUTH, across_di=True)
        assert result.across_di
        assert len(result.current) == 50
        assert result.conflicts == ()
        assert {r.ap_id for r in result.current} == {r.ap_id for r in FIFTY_NORTH}
        # the copy kept does not depend on the order the DI codes were read in
        assert merge(FIFTY_SOUTH, FIFTY_NORTH, across_di=True) == result

    def test_across_di_still_reports_what_really_differs(self) -> None:
        other = student(3, "5678", ExamScore("36", 2024, 2))
        result = merge(FIFTY_NORTH[3:4], [other], across_di=True)
        assert [(c.ap_id, c.exam_code) for c in result.conflicts] == [("A0000003", "36")]
        renamed = attrs.evolve(FIFTY_SOUTH[3], student=Student("Roe", "Jo"))
        details = merge(FIFTY_NORTH[3:4], [renamed], across_di=True).conflicts
        assert [(c.exam_code, "student or school details" in c.detail) for c in details] == [
            (None, True)
        ]

    def test_across_di_newest_record_wins_whatever_its_di_code(self) -> None:
        newer = student(1, "5678", ExamScore("36", 2024, 5), when=AUG)
        result = merge([FIFTY_NORTH[1]], [newer], across_di=True)
        assert result.current == (newer,)
        assert [c.kind for c in result.changes] == [
            ChangeKind.NEW_STUDENT,
            ChangeKind.NEW_EXAM,
            ChangeKind.SCORE_RAISED,
        ]
        assert {c.di_code for c in result.changes} == {"5678"}


_copies = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["1234", "5678"]), st.sampled_from([JUL, AUG])),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(_copies, st.booleans(), st.data())
def test_across_di_merge_does_not_depend_on_order(
    copies: list[tuple[int, str, dt.date]], across_di: bool, data: st.DataObject
) -> None:
    records = [student(n, di, when=when) for n, di, when in copies]
    expected = merge(records, across_di=across_di)
    assert merge(data.draw(st.permutations(records)), across_di=across_di) == expected
    keys = {student_key(r, across_di=across_di) for r in records}
    assert len(expected.current) == len(keys)
    assert expected.conflicts == ()


class TestViewsByDiCode:
    def test_compare_and_credit_delta_key_by_di_code(self) -> None:
        before = [FIFTY_NORTH[0], FIFTY_SOUTH[0]]
        lowered = student(0, "5678", ExamScore("36", 2024, 2), when=AUG)
        now = [FIFTY_NORTH[0], lowered]
        changes = list(compare(before, now))
        assert [(c.kind, c.di_code) for c in changes] == [(ChangeKind.SCORE_LOWERED, "5678")]
        policy = CreditPolicy.from_file(EXAMPLES / "credit-policy.csv")
        moved = policy.delta(before, now)
        assert [(d.kind, d.after.report.di_code) for d in moved] == [(DeltaKind.REVOKED, "5678")]
        merged_before = [FIFTY_NORTH[0]]
        assert [c.kind for c in compare(merged_before, [lowered], across_di=True)] == [
            ChangeKind.SCORE_LOWERED
        ]
        assert [d.kind for d in policy.delta(merged_before, [lowered], across_di=True)] == [
            DeltaKind.REVOKED
        ]

    def test_export_rows_refuse_a_student_twice_unless_merged(self) -> None:
        sis = load_map(EXAMPLES / "generic-map.toml")
        assert len(list(export_rows(FIFTY_NORTH + FIFTY_SOUTH, sis))) == 100
        with pytest.raises(ConfigurationError, match=r"AP ID A0000000 \(DI 1234\) appears twice"):
            list(export_rows([FIFTY_NORTH[0], FIFTY_NORTH[0]], sis))
        done = export(FIFTY_NORTH, FIFTY_SOUTH, sis_map=sis)
        assert len(done.rows) == 100
        assert done.conflicts == ()
        assert len(export(FIFTY_NORTH, FIFTY_SOUTH, sis_map=sis, across_di=True).rows) == 50

    def test_export_since_keys_changes_by_di_code(self) -> None:
        sis = load_map(EXAMPLES / "generic-map.toml")
        lowered = student(0, "5678", ExamScore("36", 2024, 2), when=AUG)
        done = export([lowered], sis_map=sis, since=[FIFTY_NORTH[0], FIFTY_SOUTH[0]])
        changes = {(row["di_code"], row["change"]) for row in done.rows}
        assert changes == {("1234", ""), ("5678", "score_lowered")}
        merged = merge([FIFTY_NORTH[0]], [lowered], across_di=True)
        rows = list(export_rows(merged, sis, since=[FIFTY_NORTH[0]]))
        assert [(row["di_code"], row["change"]) for row in rows] == [("5678", "score_lowered")]


def test_merge_command_across_di_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_txt(FIFTY_NORTH, tmp_path / "north.txt")
    write_txt(FIFTY_SOUTH, tmp_path / "south.txt")
    files = [str(tmp_path / "north.txt"), str(tmp_path / "south.txt")]
    out, changes = tmp_path / "current.csv", tmp_path / "changes.csv"
    assert main(["merge", *files, "-o", str(out), "--changes", str(changes), "--json"]) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert (summary["students"], summary["conflict_count"], summary["conflicts"]) == (100, 0, [])
    assert printed.err == ""
    with read_csv(out) as reader:
        assert len(list(reader)) == 100
    with changes.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["di_code"] for row in rows} == {"1234", "5678"}
    assert main(["merge", *files, "-o", str(out), "--across-di"]) == 0
    printed = capsys.readouterr()
    assert "100 record(s) read (0 exact duplicate(s)); 50 student(s) written" in printed.out
    assert printed.err == ""


def test_a_details_conflict_in_json_names_no_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    renamed = attrs.evolve(FIFTY_NORTH[0], student=Student("Secretname", "Jo"))
    write_txt([FIFTY_NORTH[0], renamed], tmp_path / "a.txt")
    argv = ["merge", str(tmp_path / "a.txt"), "-o", str(tmp_path / "o.csv"), "--json"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert summary["conflict_count"] == 1
    (conflict,) = summary["conflicts"]
    assert conflict["di_code"] == "1234"
    assert conflict["ap_id"] == "A0000000"
    assert conflict["exam_code"] is conflict["kept"] is conflict["not_kept"] is None
    assert "student or school details" in conflict["detail"]
    assert "Secretname" not in printed.out + printed.err
    assert "Doe" not in printed.out + printed.err
    assert "  DI 1234 AP ID A0000000: two records" in printed.err
