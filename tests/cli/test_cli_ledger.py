"""``apscores ledger``: what the ledger holds, with the account that recorded each file."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.sandbox import DEFAULT_EMAIL


def test_lists_each_download_with_its_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "demo"
    fetch = ["fetch", "--sandbox", "--di", "1234", "--di", "5678", "--dest", str(dest), "--json"]
    assert main(fetch) == 0
    fetched = json.loads(capsys.readouterr().out)
    in_fetch = {i["di_code"]: i["files"][0]["download_id"] for i in fetched["institutions"]}
    assert main(["ledger", "--dest", str(dest)]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("recorded") and DEFAULT_EMAIL.lower() in line for line in lines)
    assert sorted(line.split("DI ")[1].split()[0] for line in lines) == ["1234", "5678"]

    assert main(["ledger", "--dest", str(dest), "--di", "5678", "--json"]) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    (entry,) = document["entries"]
    assert entry["download_id"] == in_fetch["5678"]  # the same text in every JSON output
    assert isinstance(entry["download_id"], str)
    assert entry["account"] == DEFAULT_EMAIL.lower()
    assert entry["di_code"] == "5678"
    assert entry["state"] == "recorded"
    assert entry["recorded_at"]
    assert Path(entry["path"]).is_file()

    assert main(["ledger", "--dest", str(dest), "--account", "someone@else.edu"]) == 0
    assert "no downloads" in capsys.readouterr().out


def test_a_missing_ledger_is_an_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "--dest", str(tmp_path)]) == ExitCode.USAGE
    assert "no ledger at" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _damage(dest: Path, column: str, value: object) -> None:
    with contextlib.closing(sqlite3.connect(dest / ".apscores-ledger.sqlite3")) as db:
        db.execute(f"UPDATE downloads SET {column} = ? WHERE id = 1", (value,))  # noqa: S608
        db.commit()


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("generated_at", "not a date", "generated_at is not a date and time: 'not a date'"),
        ("recorded_at", "2026-13-45T99:00:00", "recorded_at is not a date and time"),
        ("saved_at", 12, "saved_at is not a date and time: '12'"),
        ("updated_at", "", "updated_at is missing"),
    ],
)
def test_a_row_with_a_bad_date_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, value: object, why: str
) -> None:
    dest = tmp_path / "demo"
    assert main(["fetch", "--sandbox", "--di", "1234", "--dest", str(dest), "--quiet"]) == 0
    capsys.readouterr()
    _damage(dest, column, value)

    assert main(["ledger", "--dest", str(dest)]) == ExitCode.STORAGE
    err = capsys.readouterr().err
    ledger = dest / ".apscores-ledger.sqlite3"
    assert err.startswith(f"apscores: {ledger}: cannot read the ledger: entry 1: {why}")
    assert err.count("\n") == 1
    assert "Traceback" not in err

    # fetch, which reads the entries it must finish, fails that DI code with the same reason
    # and exit code (the ledger is a local file that cannot be read), not as a bug.
    _damage(dest, "state", "saved")
    code = main(["fetch", "--sandbox", "--di", "1234", "--dest", str(dest), "--quiet"])
    assert code == ExitCode.STORAGE
    err = capsys.readouterr().err
    assert f"the ledger {ledger} failed: entry 1: {why}" in err
    assert "unexpected" not in err
