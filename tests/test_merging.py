"""merge(): one current record per AP ID, a change log, and conflicts that are never hidden."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores.catalog import ExamStatus
from apscores.changes import (
    CHANGE_COLUMNS,
    Change,
    ChangeKind,
    MergeResult,
    merge,
    write_changes_csv,
)
from apscores.cli import main
from apscores.files import read_csv, write_csv, write_txt
from apscores.models import ExamScore, ScoreReport, Student

JUL = dt.date(2021, 7, 8)
AUG = dt.date(2021, 8, 2)
SEP = dt.date(2021, 9, 15)


def report(
    ap_id: str = "A0000001",
    *exams: ExamScore,
    updated: dt.date | None = None,
    reported: dt.date | None = None,
    last_name: str = "Doe",
) -> ScoreReport:
    return ScoreReport(
        ap_id,
        Student(last_name, "Jo"),
        "1234",
        exams=exams,
        date_updated=updated,
        report_date=reported,
    )


def kinds(result: MergeResult, ap_id: str = "A0000001") -> list[str]:
    return [c.kind.value for c in result.changes_for(ap_id)]


WITHHELD_93 = ExamScore("93", 2021, None, ("98",))
RELEASED_93 = ExamScore("93", 2021, 5)
USH_3 = ExamScore("07", 2021, 3)
USH_4 = ExamScore("07", 2021, 4)
BIO_2020 = ExamScore("20", 2020, 4)


def three_files() -> tuple[list[ScoreReport], list[ScoreReport], list[ScoreReport]]:
    """July: 93 withheld, 07 scored 3. August: 07 corrected to 4. September: 93 released."""
    july = [report("A0000001", WITHHELD_93, USH_3, BIO_2020, updated=JUL, reported=JUL)]
    august = [report("A0000001", WITHHELD_93, USH_4, BIO_2020, updated=AUG, reported=AUG)]
    september = [
        report("A0000001", RELEASED_93, USH_4, BIO_2020, updated=SEP, reported=SEP),
        report("B0000002", ExamScore("36", 2021, 2), updated=SEP, reported=SEP),
    ]
    return july, august, september


class TestThreeFiles:
    def test_current_view_is_the_newest_record(self) -> None:
        july, august, september = three_files()
        result = merge(september, july, august)
        assert [r.ap_id for r in result.current] == ["A0000001", "B0000002"]
        assert result.current[0] == september[0]
        assert result.records_read == 4
        assert result.duplicates == 0
        assert result.conflicts == ()

    def test_changes_in_chronological_order(self) -> None:
        july, august, september = three_files()
        result = merge(september, august, july)
        assert kinds(result) == [
            "new_student",
            "new_exam",
            "new_exam",
            "new_exam",
            "score_raised",
            "released",
        ]
        corrected, released = result.changes_for("A0000001")[-2:]
        assert (corrected.old, corrected.new) == (USH_3, USH_4)
        assert corrected.report_date == AUG
        assert corrected.detail == "score 3 -> 4"
        assert (released.old, released.new) == (WITHHELD_93, RELEASED_93)
        assert released.date_updated == SEP
        assert WITHHELD_93.status is ExamStatus.WITHHELD
        assert RELEASED_93.status is ExamStatus.SCORED
        assert "status withheld -> scored" in released.detail
        assert "irregularity codes 98 -> none" in released.detail
        assert kinds(result, "B0000002") == ["new_student", "new_exam"]

    def test_changes_csv(self, tmp_path: Path) -> None:
        july, august, september = three_files()
        result = merge(july, august, september)
        target = tmp_path / "changes.csv"
        assert write_changes_csv(result.changes, target) == len(result.changes)
        with target.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert tuple(rows[0]) == CHANGE_COLUMNS
        released = rows[5]
        assert released["kind"] == "released"
        assert released["exam_name"] == "World History: Modern"
        assert (released["old_score"], released["old_irregularity_codes"]) == ("", "98")
        assert (released["old_status"], released["new_status"]) == ("withheld", "scored")
        assert released["new_score"] == "5"
        assert released["report_date"] == "2021-09-15"
        assert rows[0]["kind"] == "new_student"
        assert rows[0]["exam_name"] == rows[0]["admin_year"] == ""

    def test_changes_csv_to_binary_handle_leaves_it_open(self) -> None:
        buffer = io.BytesIO()
        assert write_changes_csv([], buffer) == 0
        assert buffer.getvalue().decode().startswith("kind,ap_id,")
        buffer.write(b"more")  # still open


class TestConflicts:
    def test_same_dates_different_scores_is_reported(self) -> None:
        one = report("A0000001", USH_3, updated=AUG, reported=AUG)
        other = report("A0000001", USH_4, updated=AUG, reported=AUG)
        forward, backward = merge([one, other]), merge([other], [one])
        assert forward == backward
        (conflict,) = forward.conflicts
        assert conflict.kind is ChangeKind.CONFLICT
        assert (conflict.admin_year, conflict.exam_code) == (2021, "07")
        assert {conflict.old, conflict.new} == {USH_3, USH_4}
        assert forward.current[0].exams == (conflict.new,)
        assert "review by hand" in conflict.detail

    def test_conflict_in_an_older_version_is_reported_too(self) -> None:
        one = report("A0000001", USH_3, updated=JUL, reported=JUL)
        other = report("A0000001", USH_4, updated=JUL, reported=JUL)
        newest = report("A0000001", USH_4, RELEASED_93, updated=SEP, reported=SEP)
        result = merge([newest, other, one])
        assert len(result.conflicts) == 1
        assert result.conflicts[0].report_date == JUL
        assert result.current == (newest,)

    def test_exam_only_in_one_of_two_same_date_records(self) -> None:
        one = report("A0000001", USH_3, updated=AUG, reported=AUG)
        other = report("A0000001", USH_3, RELEASED_93, updated=AUG, reported=AUG)
        (conflict,) = merge([one, other]).conflicts
        assert conflict.exam_code == "93"
        assert None in (conflict.old, conflict.new)

    def test_details_only_conflict(self) -> None:
        one = report("A0000001", USH_3, updated=AUG, reported=AUG, last_name="Doe")
        other = report("A0000001", USH_3, updated=AUG, reported=AUG, last_name="Roe")
        result = merge([one, other])
        (conflict,) = result.conflicts
        assert conflict.exam_code is None
        assert "student or school details" in conflict.detail
        assert merge([other, one]) == result

    def test_exam_only_in_the_record_not_kept_stays_in_the_current_view(self) -> None:
        for name in ("Doe", "Roe", "Poe", "Moe", "Zoe", "Loe"):
            without = report("A0000001", USH_3, updated=JUL, reported=JUL, last_name=name)
            with_bio = report("A0000001", USH_3, BIO_2020, updated=JUL, reported=JUL, last_name="X")
            if merge([without, with_bio]).current[0].student.last_name == name:
                break
        else:  # pragma: no cover - six tries make this vanishingly unlikely
            pytest.fail("no name made merge keep the record without Biology")
        result = merge([without, with_bio])
        assert result.current[0].exams == (USH_3, BIO_2020)
        (conflict,) = result.conflicts
        assert (conflict.old, conflict.new) == (BIO_2020, None)
        later = report("A0000001", USH_3, BIO_2020, updated=AUG, reported=AUG)
        confirmed = merge([later, with_bio, without]).changes[-1]
        assert confirmed.kind is ChangeKind.NEW_EXAM
        assert confirmed.detail == "earlier only in a conflicting record"

    def test_exam_listed_twice_in_one_record(self) -> None:
        twice = report("A0000001", USH_4, USH_3, USH_4, updated=AUG, reported=AUG)
        result = merge([twice])
        (conflict,) = result.conflicts
        assert (conflict.old, conflict.new) == (USH_3, USH_4)
        assert result.current[0].exams == (USH_4,)


class TestVersions:
    def test_identical_copies_collapse(self) -> None:
        copy = report("A0000001", USH_3, updated=AUG, reported=AUG)
        result = merge([copy, copy], [copy])
        assert result.records_read == 3
        assert result.duplicates == 2
        assert kinds(result) == ["new_student", "new_exam"]

    def test_identical_older_copies_collapse(self) -> None:
        old = report("A0000001", USH_3, updated=JUL, reported=JUL)
        new = report("A0000001", USH_4, updated=AUG, reported=AUG)
        result = merge([new, old, old])
        assert result.duplicates == 1
        assert kinds(result) == ["new_student", "new_exam", "score_raised"]

    def test_update_date_wins_over_report_date(self) -> None:
        updated_later = report("A0000001", USH_4, updated=SEP, reported=JUL)
        reported_later = report("A0000001", USH_3, updated=AUG, reported=SEP)
        assert merge([updated_later, reported_later]).current == (updated_later,)

    def test_report_date_breaks_ties(self) -> None:
        first = report("A0000001", USH_3, updated=AUG, reported=AUG)
        second = report("A0000001", USH_4, updated=AUG, reported=SEP)
        assert merge([second, first]).current == (second,)

    def test_missing_dates_are_oldest(self) -> None:
        undated = report("A0000001", USH_3)
        half_dated = report("A0000001", USH_4, reported=dt.date(1999, 1, 1))
        dated = report("A0000001", RELEASED_93, USH_4, updated=dt.date(2000, 1, 1))
        result = merge([dated, undated, half_dated])
        assert result.current == (dated,)
        changes = result.changes_for("A0000001")
        assert (changes[0].date_updated, changes[0].report_date) == (None, None)
        assert [c.kind for c in changes][-2:] == [ChangeKind.SCORE_RAISED, ChangeKind.NEW_EXAM]

    def test_missing_exam_is_kept_and_reported(self) -> None:
        before = report("A0000001", USH_4, BIO_2020, updated=JUL, reported=JUL)
        after = report("A0000001", RELEASED_93, USH_4, updated=AUG, reported=AUG)
        result = merge([after, before])
        assert result.current[0].exams == (RELEASED_93, USH_4, BIO_2020)
        missing = result.changes_for("A0000001")[-1]
        assert missing.kind is ChangeKind.EXAM_MISSING
        assert (missing.old, missing.new) == (BIO_2020, None)
        assert missing.exam_name == "Biology"

    def test_exam_that_returns(self) -> None:
        first = report("A0000001", USH_3, BIO_2020, updated=JUL, reported=JUL)
        gone = report("A0000001", USH_3, updated=AUG, reported=AUG)
        back = report("A0000001", USH_3, attrs.evolve(BIO_2020, score=5), updated=SEP)
        same_back = report("A0000001", USH_3, BIO_2020, updated=SEP, reported=SEP)
        result = merge([back, gone, first])
        returned = result.changes_for("A0000001")[-1]
        assert returned.kind is ChangeKind.EXAM_RETURNED
        assert returned.detail == "back after missing; score 4 -> 5"
        assert merge([first, gone, same_back]).changes[-1].detail == "back after missing"
        assert result.current == (back,)

    def test_flag_and_section_changes_are_described(self) -> None:
        old = report("A0000001", USH_3, updated=JUL)
        changed = attrs.evolve(USH_3, suppression_flag="Y", class_section="B")
        new = report("A0000001", changed, updated=AUG)
        (change,) = [c for c in merge([old, new]).changes if c.kind is ChangeKind.SCORE_CHANGED]
        assert change.detail == "suppression flag '' -> 'Y'; class section '' -> 'B'"

    def test_a_single_report_and_helpers(self) -> None:
        one = report("A0000001", USH_3, updated=JUL)
        result = merge(one)
        assert result.report_for("A0000001") == one
        assert result.report_for("nobody") is None
        assert merge() == MergeResult((), ())

    def test_row_of_a_student_level_change(self) -> None:
        row = Change(ChangeKind.NEW_STUDENT, "A0000001", detail="1 exam(s)").as_row()
        assert row["exam_code"] == row["old_status"] == row["date_updated"] == ""


# --- order independence -------------------------------------------------------------

_exams = st.builds(
    ExamScore,
    code=st.sampled_from(["93", "07", "14"]),
    admin_year=st.sampled_from([2019, 2021]),
    score=st.one_of(st.none(), st.integers(1, 5)),
    irregularity_codes=st.sampled_from([(), ("98",), ("02",), ("20",)]),
)
_dates = st.one_of(st.none(), st.sampled_from([JUL, AUG, SEP]))
_reports = st.builds(
    lambda ap_id, exams, updated, reported, name: report(
        ap_id, *exams, updated=updated, reported=reported, last_name=name
    ),
    st.sampled_from(["A0000001", "A0000002", "B0000003"]),
    st.lists(_exams, max_size=4).map(tuple),
    _dates,
    _dates,
    st.sampled_from(["Doe", "Roe"]),
)
_sources = st.lists(st.lists(_reports, max_size=6), max_size=4)


@settings(max_examples=150, deadline=None)
@given(sources=_sources, data=st.data())
def test_result_does_not_depend_on_input_order(
    sources: list[list[ScoreReport]], data: st.DataObject
) -> None:
    expected = merge(*sources)
    shuffled = [
        data.draw(st.permutations(source)) for source in data.draw(st.permutations(sources))
    ]
    assert merge(*shuffled) == expected
    flat = [record for source in sources for record in source]
    assert merge(data.draw(st.permutations(flat))) == expected


@settings(max_examples=150, deadline=None)
@given(sources=_sources)
def test_nothing_is_lost(sources: list[list[ScoreReport]]) -> None:
    result = merge(*sources)
    records = [record for source in sources for record in source]
    assert [r.ap_id for r in result.current] == sorted({r.ap_id for r in records})
    for current in result.current:
        seen = {
            (e.admin_year, e.code) for r in records if r.ap_id == current.ap_id for e in r.exams
        }
        keys = [(e.admin_year, e.code) for e in current.exams]
        assert sorted(keys) == sorted(seen)  # every exam ever seen, each exactly once
    assert [c.ap_id for c in result.changes] == sorted(c.ap_id for c in result.changes)


def test_paths_are_read_with_the_readers(tmp_path: Path) -> None:
    july, august, september = three_files()
    paths = []
    for index, records in enumerate((july, august, september)):
        path = tmp_path / f"scores-{index}.csv"
        write_csv(records, path)
        paths.append(path)
    from_files = merge(str(paths[2]), paths[0], paths[1])
    assert kinds(from_files) == kinds(merge(july, august, september))
    assert [r.ap_id for r in from_files.current] == ["A0000001", "B0000002"]
    assert from_files.current[0].exams == (RELEASED_93, USH_4, BIO_2020)


# --- command line ---------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    assert argv[0] == "merge"
    return main(list(argv))  # the whole command: its messages and exit codes


class TestCommand:
    def test_merge_txt_and_csv_files(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        july, august, september = three_files()
        write_txt(july, tmp_path / "july.txt")
        write_csv(august, tmp_path / "august.csv")
        write_txt(september, tmp_path / "september.txt")
        out, changes = tmp_path / "current.csv", tmp_path / "changes.csv"
        files = [str(tmp_path / n) for n in ("september.txt", "july.txt", "august.csv")]
        assert run_cli("merge", *files, "-o", str(out), "--changes", str(changes)) == 0
        with read_csv(out) as reader:
            current = list(reader)
        assert [r.ap_id for r in current] == ["A0000001", "B0000002"]
        assert current[0].exams == (RELEASED_93, USH_4, BIO_2020)
        with changes.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [r["kind"] for r in rows][-4:-2] == ["score_raised", "released"]
        printed = capsys.readouterr()
        assert "4 record(s) read (0 exact duplicate(s)); 2 student(s) written" in printed.out
        assert "new_student: 2, new_exam: 4, score_raised: 1, released: 1\n" in printed.out
        assert printed.err == ""
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "august.csv",
            "changes.csv",
            "current.csv",
            "july.txt",
            "september.txt",
        ]

    def test_conflicts_are_warned_about(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_csv([report("A0000001", USH_3, updated=AUG, reported=AUG)], tmp_path / "a.csv")
        write_csv([report("A0000001", USH_4, updated=AUG, reported=AUG)], tmp_path / "b.csv")
        files = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
        assert run_cli("merge", *files, "-o", str(tmp_path / "out.csv")) == 0
        err = capsys.readouterr().err
        assert "1 conflict(s)" in err
        assert "Review them with --changes" in err
        assert "AP ID A0000001 exam 07 (2021)" in err
        changes = tmp_path / "changes.csv"
        argv = ("merge", *files, "-o", str(tmp_path / "o.csv"), "--changes", str(changes))
        assert run_cli(*argv) == 0
        assert f"the 'conflict' rows of {changes}" in capsys.readouterr().err

    def test_details_only_conflict_is_listed_without_an_exam(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        one = report("A0000001", USH_3, updated=AUG, reported=AUG, last_name="Doe")
        other = report("A0000001", USH_3, updated=AUG, reported=AUG, last_name="Roe")
        write_csv([one, other], tmp_path / "a.csv")
        assert run_cli("merge", str(tmp_path / "a.csv"), "-o", str(tmp_path / "o.csv")) == 0
        assert "  DI 1234 AP ID A0000001: two records" in capsys.readouterr().err

    def test_unreadable_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "current.csv"
        assert run_cli("merge", str(tmp_path / "missing.txt"), "-o", str(out)) == 2
        assert capsys.readouterr().err == f"apscores: {tmp_path / 'missing.txt'}: no such file\n"
        assert list(tmp_path.iterdir()) == []
        cut = tmp_path / "cut.txt"
        cut.write_bytes(b"")
        assert run_cli("merge", str(cut), "-o", str(out)) == 2
        assert capsys.readouterr().err == f"apscores: {cut}: the file is empty: " + (
            "College Board never sends an empty score file\n"
        )
        cut.unlink()
