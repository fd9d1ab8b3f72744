"""export and credit resolve duplicates as merge does and report every conflict (issue 21).

Two files with the same 10,000 students and a differing score: one row / one decision per
exam, and 10,000 conflicts said on stderr and listed by --json (DI code, AP ID, exam and
the values, never a name or a birth date), or carried by the Python result objects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from apscores.changes import merge
from apscores.cli import main
from apscores.credit import CreditOutcome, CreditPolicy
from apscores.export import export, load_map
from apscores.files import write_csv, write_txt
from apscores.models import ExamScore, ScoreReport, Student

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
STUDENTS = 10_000
JUL = dt.date(2024, 7, 8)
NAME, BIRTH = "Zyxwvut", dt.date(2006, 3, 4)


def reports(score: int) -> list[ScoreReport]:
    jo = Student(NAME, "Jo", date_of_birth=BIRTH)
    exams = (ExamScore("36", 2024, score), ExamScore("66", 2024, 3))
    return [
        ScoreReport(f"A{n:07d}", jo, "1234", exams=exams, date_updated=JUL, report_date=JUL)
        for n in range(STUDENTS)
    ]


@pytest.fixture(scope="module")
def two_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("conflicts")
    first, second = folder / "first.txt", folder / "second.csv"
    write_txt(reports(4), first)
    write_csv(reports(2), second, raw=True)
    return str(first), str(second)


def check_listed(conflicts: list[dict[str, object]]) -> None:
    assert len(conflicts) == STUDENTS
    assert conflicts[0] == {
        "di_code": "1234",
        "ap_id": "A0000000",
        "exam_code": "36",
        "admin_year": 2024,
        "kept": conflicts[0]["kept"],
        "not_kept": conflicts[0]["not_kept"],
        "detail": "two records with the same dates disagree on this exam; merge kept 'new' "
        "by a fixed rule, review by hand",
    }
    scores = {
        (item["kept"]["score"], item["not_kept"]["score"])  # type: ignore[index]
        for item in conflicts
    }
    assert scores <= {(4, 2), (2, 4)}
    assert len({item["ap_id"] for item in conflicts}) == STUDENTS


def check_private(text: str) -> None:
    for private in (NAME, "2006-03-04", "030406"):
        assert private not in text


@pytest.mark.slow
class TestExport:
    def test_command(
        self, two_files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "load.csv"
        argv = ["export", *two_files, "--map", str(EXAMPLES / "generic-map.toml"), "-o", str(out)]
        assert main(argv) == 0
        printed = capsys.readouterr()
        assert f"{2 * STUDENTS} record(s) read, {STUDENTS} student(s); " in printed.out
        assert f"{2 * STUDENTS} exam row(s)" in printed.out
        assert f"apscores export: warning: {STUDENTS} conflict(s)" in printed.err
        assert printed.err.count("\n") == 1 + 5  # the count line and the first five
        check_private(printed.err)
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1 + 2 * STUDENTS  # one row per exam, not one per copy
        assert main([*argv, "--json"]) == 0
        printed = capsys.readouterr()
        summary = json.loads(printed.out)
        assert summary["conflict_count"] == STUDENTS
        assert (summary["rows"], summary["students"]) == (2 * STUDENTS, STUDENTS)
        check_listed(summary["conflicts"])
        check_private(printed.out + printed.err)

    def test_python(self, two_files: tuple[str, str]) -> None:
        done = export(*two_files, sis_map=load_map(EXAMPLES / "generic-map.toml"))
        assert len(done.rows) == 2 * STUDENTS
        assert len(done.conflicts) == STUDENTS
        assert {c.kind.value for c in done.conflicts} == {"conflict"}
        assert repr(done) == f"<ExportResult {2 * STUDENTS} row(s), {STUDENTS} student(s), " + (
            f"{STUDENTS} conflict(s)>"
        )


@pytest.mark.slow
class TestCredit:
    def test_command(
        self, two_files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "credit.csv"
        policy = str(EXAMPLES / "credit-policy.csv")
        argv = ["credit", *two_files, "--policy", policy, "-o", str(out)]
        assert main(argv) == 0
        printed = capsys.readouterr()
        assert f"{2 * STUDENTS} exam(s) evaluated" in printed.out
        assert f"apscores credit: warning: {STUDENTS} conflict(s)" in printed.err
        check_private(printed.err)
        rows = out.read_text(encoding="utf-8").splitlines()[1:]
        assert len(rows) == 2 * STUDENTS
        per_exam = Counter((row.split(",")[0], row.split(",")[5]) for row in rows)
        assert set(per_exam.values()) == {1}  # one decision per exam, never two
        assert main([*argv, "--json"]) == 0
        printed = capsys.readouterr()
        summary = json.loads(printed.out)
        assert (summary["exams"], summary["conflict_count"]) == (2 * STUDENTS, STUDENTS)
        outcomes = summary["outcomes"]
        assert outcomes["awarded"] + outcomes["below_minimum"] == 2 * STUDENTS
        check_listed(summary["conflicts"])
        check_private(printed.out + printed.err)

    def test_python(self, two_files: tuple[str, str]) -> None:
        policy = CreditPolicy.from_file(EXAMPLES / "credit-policy.csv")
        done = policy.apply(*two_files)
        assert len(done.results) == 2 * STUDENTS
        assert len(done.conflicts) == STUDENTS
        english = [r for r in done.results if r.exam.code == "36"]
        assert len(english) == STUDENTS
        assert {r.outcome for r in english} <= {CreditOutcome.AWARDED, CreditOutcome.BELOW_MINIMUM}
        assert len({r.ap_id for r in english}) == STUDENTS
        assert repr(done).endswith(f"{STUDENTS} conflict(s)>")
        check_private(repr(done))


def test_credit_since_reports_the_conflicts_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, one, other = tmp_path / "state.txt", tmp_path / "one.txt", tmp_path / "other.txt"
    write_txt(reports(4)[:3], state)
    write_txt(reports(4)[:3], one)
    write_txt(reports(2)[:3], other)
    policy = str(EXAMPLES / "credit-policy.csv")
    out = tmp_path / "delta.csv"
    argv = ["credit", str(one), str(other), "--policy", policy, "--since", str(state)]
    assert main([*argv, "-o", str(out), "--json"]) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert summary["conflict_count"] == 3 == len(summary["conflicts"])
    assert summary["students"] == 3
    # each student's kept copy decides: a 2 revokes the 4's credit, a 4 moves nothing
    assert summary["deltas"]["granted"] == summary["deltas"]["changed"] == 0
    assert summary["deltas"]["revoked"] <= 3
    assert "apscores credit: warning: 3 conflict(s)" in printed.err


def test_no_conflict_no_word(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.txt"
    write_txt(reports(4)[:2], path)
    assert merge(str(path), str(path)).conflicts == ()
    policy = str(EXAMPLES / "credit-policy.csv")
    assert (
        main(["credit", str(path), str(path), "--policy", policy, "-o", str(tmp_path / "c")]) == 0
    )
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "4 exam(s) evaluated" in printed.out
