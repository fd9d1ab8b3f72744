"""The download ledger: states move forward only, survive a reopen, and stay per account."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from apscores.jobs import DEFAULT_LEDGER_NAME, Ledger, State, default_ledger_path


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "sub" / "ledger.sqlite3")


def start(ledger: Ledger, account: str = "a@x.edu", di: str = "1234", did: str = "7") -> int:
    entry = ledger.start(account, di, did, fmt="txt", kind="new", file_name=f"f{did}.txt")
    return entry.id


def test_default_path_is_in_the_destination(tmp_path: Path) -> None:
    assert default_ledger_path(tmp_path) == tmp_path / DEFAULT_LEDGER_NAME


def test_full_life_of_a_download(ledger: Ledger, tmp_path: Path) -> None:
    entry = ledger.start(
        "a@x.edu", "1234", 99, fmt="csv", kind="full", file_name="f.csv", path=tmp_path / "f.csv"
    )
    assert entry.state is State.GENERATED
    assert entry.download_id == "99"  # kept as text...
    assert entry.download_id_value == 99  # ...and sent back as it came
    assert entry.path == tmp_path / "f.csv"
    assert entry.saved_at is None
    assert entry.size is None
    saved = ledger.mark_saved(entry.id, path=tmp_path / "g.csv", size=12, sha256="abc")
    assert (saved.state, saved.path, saved.size, saved.sha256) == (
        State.SAVED,
        tmp_path / "g.csv",
        12,
        "abc",
    )
    assert saved.saved_at is not None
    assert saved.saved_at >= entry.generated_at
    recorded = ledger.mark_recorded(entry.id)
    assert recorded.state is State.RECORDED
    assert recorded.recorded_at is not None
    assert recorded.updated_at >= saved.updated_at
    assert ledger.unfinished("a@x.edu", "1234") == []
    assert ledger.get(start(ledger, did="x7")).download_id_value == "x7"


def test_transitions_only_go_forward(ledger: Ledger, tmp_path: Path) -> None:
    entry_id = start(ledger)
    with pytest.raises(ValueError, match="is generated, expected saved"):
        ledger.mark_recorded(entry_id)
    ledger.mark_saved(entry_id, path=tmp_path / "x", size=1, sha256="s")
    with pytest.raises(ValueError, match="is saved, expected generated"):
        ledger.mark_saved(entry_id, path=tmp_path / "x", size=1, sha256="s")
    with pytest.raises(ValueError, match="expected generated"):
        ledger.mark_abandoned(entry_id)
    with pytest.raises(KeyError):
        ledger.mark_recorded(12345)
    with pytest.raises(KeyError):
        ledger.get(12345)


def test_unfinished_is_per_account_and_di_code(ledger: Ledger, tmp_path: Path) -> None:
    first = start(ledger, did="1")
    second = start(ledger, did="2")
    start(ledger, account="b@x.edu", did="3")
    start(ledger, di="5678", did="4")
    done = start(ledger, did="5")
    ledger.mark_saved(second, path=tmp_path / "2", size=1, sha256="s")
    ledger.mark_saved(done, path=tmp_path / "5", size=1, sha256="s")
    ledger.mark_recorded(done)
    gone = start(ledger, did="6")
    ledger.mark_abandoned(gone)
    unfinished = ledger.unfinished("a@x.edu", "1234")
    assert [(e.id, e.state) for e in unfinished] == [
        (first, State.GENERATED),
        (second, State.SAVED),
    ]
    assert [e.download_id for e in ledger.entries()] == ["1", "2", "3", "4", "5", "6"]
    assert [e.download_id for e in ledger.entries(account="b@x.edu")] == ["3"]
    assert [e.download_id for e in ledger.entries(di_code="5678")] == ["4"]
    assert ledger.get(gone).state is State.ABANDONED


def test_find_path_ignores_abandoned(ledger: Ledger, tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    entry = ledger.start("a", "1", "1", fmt="txt", kind="new", file_name="f.txt", path=target)
    assert ledger.find_path(target) == entry
    ledger.mark_abandoned(entry.id)
    assert ledger.find_path(target) is None


def test_survives_reopen_and_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as ledger:
        entry_id = start(ledger)
        assert "l.sqlite3" in repr(ledger)
    with Ledger(path) as again:
        assert again.get(entry_id).state is State.GENERATED
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(ValueError, match="newer apscores"):
        Ledger(path)


def test_two_connections_see_each_other(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as one, Ledger(path) as two:
        entry_id = start(one)
        two.mark_saved(entry_id, path=tmp_path / "f", size=1, sha256="s")
        assert one.get(entry_id).state is State.SAVED


def test_a_new_ledger_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    import stat

    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.start("a@x.edu", "1234", 1, fmt="txt", kind="new", file_name="f")
    assert stat.S_IMODE((tmp_path / "l.sqlite3").stat().st_mode) == 0o600  # it names the account
