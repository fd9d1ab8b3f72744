"""``apscores export --roster/--crosswalk``: the SIS ID column, and suspense."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat
from pathlib import Path

import attrs
import pytest

from _students import report
from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.export import export_rows, load_map
from apscores.files import read, write_txt
from apscores.models import ExamScore, ScoreReport

MAP = '[columns]\nid = "sis_id"\nap = "ap_id"\ncode = "sis_test_code"\nscore = "score"\n'
ROSTER = "sis_id,last_name,first_name,birth_date\nS1,Smith,John,2007-03-15\n"


def scored(ap_id: str, last: str, first: str) -> ScoreReport:
    return attrs.evolve(
        report(ap_id, last, first),
        exams=(ExamScore("07", 2025, 4),),
        report_date=dt.date(2025, 7, 7),
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_txt([scored("A1", "SMITH", "JOHN"), scored("A2", "DOE", "JANE")], tmp_path / "s.txt")
    (tmp_path / "map.toml").write_text(MAP, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return tmp_path


def export(folder: Path, *extra: str, files: tuple[str, ...] = ("s.txt",)) -> int:
    return main(
        [
            "export",
            *(str(folder / name) for name in files),
            "--map",
            str(folder / "map.toml"),
            "-o",
            str(folder / "load.csv"),
            *extra,
        ]
    )


def load(folder: Path) -> list[dict[str, str]]:
    with (folder / "load.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_unmatched_students_wait_in_suspense_and_come_back(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = str(folder / "roster.csv")
    assert export(folder, "--roster", roster) == ExitCode.REVIEW
    assert "1 student(s) not matched, held in suspense" in capsys.readouterr().out
    assert load(folder) == [{"id": "S1", "ap": "A1", "code": "AP07", "score": "4"}]
    suspense = folder / "load.suspense.csv"
    assert [r.ap_id for r in read(suspense)] == ["A2"]
    assert stat.S_IMODE(os.stat(suspense).st_mode) == 0o600
    # Jane registers; the next run's files no longer hold her, the suspense file does.
    write_txt([scored("A1", "SMITH", "JOHN")], folder / "next.txt")
    with (folder / "roster.csv").open("a", encoding="utf-8") as handle:
        handle.write("S2,Doe,Jane,2007-03-15\n")
    assert export(folder, "--roster", roster, files=("next.txt",)) == ExitCode.OK
    assert {(r["id"], r["ap"]) for r in load(folder)} == {("S1", "A1"), ("S2", "A2")}
    assert not suspense.exists()


def test_the_crosswalk_alone_names_known_students(folder: Path) -> None:
    export(folder, "--roster", str(folder / "roster.csv"))
    crosswalk = folder / ".apscores-crosswalk.sqlite3"
    (folder / "load.suspense.csv").unlink()
    assert export(folder, "--crosswalk", str(crosswalk)) == ExitCode.REVIEW
    assert load(folder) == [{"id": "S1", "ap": "A1", "code": "AP07", "score": "4"}]


def test_a_missing_crosswalk_is_an_error(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert export(folder, "--crosswalk", str(folder / "none.sqlite3")) == ExitCode.USAGE
    assert "apscores: --crosswalk " in (err := capsys.readouterr().err)
    assert err.endswith("none.sqlite3: no such file\n")


def test_a_map_without_sis_id_gets_it_first(folder: Path) -> None:
    (folder / "map.toml").write_text('[columns]\nap = "ap_id"\n', encoding="utf-8")
    export(folder, "--roster", str(folder / "roster.csv"))
    assert load(folder) == [{"sis_id": "S1", "ap": "A1"}]


def test_without_the_options_nothing_changes(folder: Path) -> None:
    assert export(folder) == ExitCode.OK
    assert [r["id"] for r in load(folder)] == ["", ""]
    assert not (folder / "load.suspense.csv").exists()


def test_since_counts_a_released_student_as_new(folder: Path) -> None:
    (folder / "map.toml").write_text(MAP + '[include]\nchanges = ["new_exam"]\n', encoding="utf-8")
    roster = str(folder / "roster.csv")
    assert main(["merge", str(folder / "s.txt"), "-o", str(folder / "state.csv")]) == 0
    export(folder, "--roster", roster)  # Jane is held
    with (folder / "roster.csv").open("a", encoding="utf-8") as handle:
        handle.write("S2,Doe,Jane,2007-03-15\n")
    since = ("--since", str(folder / "state.csv"))
    assert export(folder, "--roster", roster, *since) == ExitCode.OK
    assert [r["id"] for r in load(folder)] == ["S2"]


def test_export_rows_leaves_out_students_without_a_sis_id(folder: Path) -> None:
    sis_map = load_map(folder / "map.toml")
    with read(folder / "s.txt") as reader:
        rows = list(export_rows(list(reader), sis_map, sis_ids={"A2": "S2"}))
    assert rows == [{"id": "S2", "ap": "A2", "code": "AP07", "score": 4}]
