"""``apscores match``: the review loop end to end, exit codes, JSON, one-line errors."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest

from _students import report
from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.files import write_txt
from apscores.matching import DEFAULT_CROSSWALK_NAME, MATCH_COLUMNS

ROSTER = (
    "Student ID,Last Name,First Name,DOB,Sex\n"
    "S1,Smith,John,3/15/2007,M\n"
    "S2,Nguyen,Anna,3/15/2007,F\n"
    "S3,Nguyen,Emma,3/15/2007,F\n"
)
MAP = '[columns]\nsis_id = "Student ID"\nbirth_date = "DOB"\n'


@pytest.fixture
def files(tmp_path: Path) -> Path:
    write_txt(
        [
            report("A1", "SMITH", "JOHN", sex="M"),
            report("A2", "NGUYEN", "LILY", sex="F"),
            report("A3", "DOE", "JANE", sex="F"),
        ],
        tmp_path / "scores.txt",
    )
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "map.toml").write_text(MAP, encoding="utf-8")
    return tmp_path


def run(folder: Path, *extra: str) -> int:
    return main(
        [
            "match",
            str(folder / "scores.txt"),
            "--roster",
            str(folder / "roster.csv"),
            "--roster-map",
            str(folder / "map.toml"),
            "-o",
            str(folder / "out.csv"),
            *extra,
        ]
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_review_loop_end_to_end(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(files) == ExitCode.REVIEW
    out = capsys.readouterr()
    assert "3 student(s): 1 matched (tier 2: 1), 1 to review, 1 unmatched" in out.out
    assert "--accept" in out.err
    found = rows(files / "out.csv")
    assert list(found[0]) == list(MATCH_COLUMNS)
    by_id = {r["ap_id"]: r for r in found}
    assert (by_id["A1"]["outcome"], by_id["A1"]["sis_id"], by_id["A1"]["tier"]) == (
        "matched",
        "S1",
        "2",
    )
    assert (by_id["A2"]["outcome"], by_id["A2"]["candidates"]) == ("review", "S2;S3")
    assert by_id["A3"]["outcome"] == "unmatched"
    # A person decides: A2 is Emma's second name on file; A3 has not enrolled yet.
    by_id["A2"]["decision"] = "S3"
    by_id["A3"]["decision"] = "new"
    with (files / "out.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(MATCH_COLUMNS))
        writer.writeheader()
        writer.writerows(by_id.values())
    assert run(files, "--accept", str(files / "out.csv")) == ExitCode.OK
    assert "2 decision(s) accepted" in capsys.readouterr().out
    again = {r["ap_id"]: r for r in rows(files / "out.csv")}
    assert (again["A2"]["sis_id"], again["A2"]["tier"]) == ("S3", "1")
    assert again["A3"]["reason"] == "a person said: new student"
    assert all(r["decision"] == "" for r in again.values())
    assert run(files) == ExitCode.OK  # the decisions stick without --accept


def test_the_crosswalk_sits_beside_the_output_and_is_private(files: Path) -> None:
    run(files)
    path = files / DEFAULT_CROSSWALK_NAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(files / "out.csv").st_mode) == 0o600


def test_an_explicit_crosswalk(files: Path) -> None:
    run(files, "--crosswalk", str(files / "state" / "cw.sqlite3"))
    assert (files / "state" / "cw.sqlite3").is_file()
    assert not (files / DEFAULT_CROSSWALK_NAME).exists()


def test_json_summary(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(files, "--json") == ExitCode.REVIEW
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "exit_code": 8,
        "status": "review",
        "output": str(files / "out.csv"),
        "crosswalk": str(files / DEFAULT_CROSSWALK_NAME),
        "accepted": 0,
        "students": 3,
        "matched": 1,
        "review": 1,
        "unmatched": 1,
        "by_tier": {"2": 1},
        "recorded": 1,
    }


@pytest.mark.parametrize(
    ("roster", "expected"),
    [
        (
            "Name,DOB\nSmith,3/15/2007\n",
            r"roster.csv: line 1, field 'Student ID': no sis_id column",
        ),
        (
            "Student ID,Last Name,DOB\nS1,Smith,31/12/2007\n",
            r"roster.csv: line 2, field 'DOB': not a date",
        ),
        (
            "Student ID,DOB\nS1,2007-01-01\nS1,2007-01-02\n",
            r"roster.csv: line 3, field 'DOB': SIS ID S1 has another birth date on line 2",
        ),
        ("Student ID,DOB\n", r"roster.csv: line 1: the roster has no student rows"),
    ],
)
def test_bad_rosters_are_one_line_and_exit_2(
    files: Path, capsys: pytest.CaptureFixture[str], roster: str, expected: str
) -> None:
    (files / "roster.csv").write_text(roster, encoding="utf-8")
    assert run(files) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert expected in err
    assert not (files / "out.csv").exists()


def test_a_cp1252_roster_needs_encoding(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "roster.csv").write_bytes((ROSTER + "S4,Müller,Jörg,1/1/2007,M\n").encode("cp1252"))
    assert run(files) == ExitCode.USAGE
    assert "line 5: byte 0xfc" in capsys.readouterr().err
    assert run(files, "--encoding", "cp1252") == ExitCode.REVIEW


def test_missing_files_exit_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "roster.csv").unlink()
    assert run(files) == ExitCode.USAGE
    assert "roster.csv: no such file" in capsys.readouterr().err


def test_a_bad_decision_exits_2_naming_the_line(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(files)
    review = files / "out.csv"
    text = review.read_text(encoding="utf-8").replace(
        "review,,2,S2;S3,tier 2: the first name differs,", "review,,2,S2;S3,x,S9"
    )
    review.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert run(files, "--accept", str(review)) == ExitCode.USAGE
    assert "out.csv: line 3, field 'decision'" in capsys.readouterr().err
