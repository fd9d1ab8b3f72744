"""The hand-off to the student system: a file counts as delivered only when ``on_new``
succeeded for it; until then every run hands it off again, oldest first, with the same
values as the first time."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from apscores.jobs import (
    Delivery,
    Entry,
    FetchOptions,
    FetchOutcome,
    FetchSummary,
    Ledger,
    NewFile,
    OnNew,
    default_ledger_path,
    fetch,
)
from apscores.sandbox import SandboxService, fake_reports, sandbox_async_client

pytestmark = pytest.mark.anyio
DI = "1234"


@pytest.fixture
def service() -> SandboxService:
    return SandboxService.default(di_codes=(DI,), reports=3)


async def run(service: SandboxService, dest: Path, on_new: OnNew | None = None) -> FetchSummary:
    options = FetchOptions(on_new=on_new)
    async with sandbox_async_client(service, retry_base_delay=0) as client:
        return await fetch(client, [DI], dest, options=options)


def ledger_entries(dest: Path) -> list[Entry]:
    with Ledger(default_ledger_path(dest)) as ledger:
        return list(ledger.entries())


class Receiver:
    """A student system that fails while ``broken`` and remembers what it got."""

    def __init__(self) -> None:
        self.broken = True
        self.got: list[NewFile] = []

    def __call__(self, new_file: NewFile) -> None:
        if self.broken:
            raise ConnectionError("the SIS is down")
        self.got.append(new_file)


async def test_a_failed_hand_off_is_retried_by_every_run_until_it_succeeds(
    service: SandboxService, tmp_path: Path
) -> None:
    receiver = Receiver()
    first = await run(service, tmp_path, receiver)
    (result,) = first.results
    assert result.outcome is FetchOutcome.UNDELIVERED  # exit 5: someone must look
    assert result.undelivered == 1
    assert "every run retries" in result.message
    assert service.pending(DI) == []  # recorded with the service all the same

    again = await run(service, tmp_path, receiver)  # nothing new, still not delivered
    assert again.results[0].outcome is FetchOutcome.UNDELIVERED
    assert again.results[0].undelivered == 1

    receiver.broken = False
    fixed = await run(service, tmp_path, receiver)
    (result,) = fixed.results
    assert result.outcome is FetchOutcome.OK  # an earlier file reached the student system
    assert (result.delivered, result.redelivered, result.undelivered) == (1, 1, 0)
    assert len(receiver.got) == 1
    (entry,) = ledger_entries(tmp_path)
    assert entry.delivery is Delivery.DELIVERED
    assert entry.delivery_attempts == 3

    done = await run(service, tmp_path, receiver)
    assert done.results[0].outcome is FetchOutcome.NOTHING_NEW
    assert len(receiver.got) == 1  # never handed off twice once it succeeded


async def test_files_are_handed_off_oldest_first_and_never_past_a_failure(
    service: SandboxService, tmp_path: Path
) -> None:
    receiver = Receiver()
    await run(service, tmp_path, receiver)  # file 1: recorded, not delivered
    service.add_reports(DI, fake_reports(2, seed=7))
    second = await run(service, tmp_path, receiver)  # file 2: recorded, not delivered
    assert second.results[0].undelivered == 2
    assert len(second.results[0].files) == 1  # the new file was saved all the same
    assert receiver.got == []

    receiver.broken = False
    await run(service, tmp_path, receiver)
    ids = [int(new_file.download_id) for new_file in receiver.got]
    assert len(ids) == 2
    assert ids == sorted(ids)  # in the order they were downloaded


async def test_a_retry_gets_the_values_of_the_first_hand_off(
    service: SandboxService, tmp_path: Path
) -> None:
    out = tmp_path / "calls.jsonl"
    script = tmp_path / "hook.py"
    script.write_text(
        "import json, os, sys\n"
        f"with open({str(out)!r}, 'a') as f:\n"
        "    env = {k: v for k, v in os.environ.items() if k.startswith('APSCORES_')}\n"
        "    f.write(json.dumps({'argv': sys.argv[1:], 'env': env}) + '\\n')\n"
        f"sys.exit(0 if os.path.exists({str(tmp_path / 'up')!r}) else 9)\n"
    )
    dest = tmp_path / "d"
    command = f"{sys.executable} {script}"
    assert (await run(service, dest, command)).results[0].outcome is FetchOutcome.UNDELIVERED
    (tmp_path / "up").touch()
    assert (await run(service, dest, command)).results[0].outcome is FetchOutcome.OK
    first, second = (json.loads(line) for line in out.read_text().splitlines())
    assert first == second
    env = first["env"]
    saved = Path(env["APSCORES_FILE"])
    assert env["APSCORES_SHA256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert env["APSCORES_RECORDS"] == "3"
    assert first["argv"] == [str(saved)]


async def test_an_async_callable_is_awaited(service: SandboxService, tmp_path: Path) -> None:
    got: list[NewFile] = []

    async def receive(new_file: NewFile) -> None:
        got.append(new_file)

    summary = await run(service, tmp_path, receive)
    assert summary.results[0].outcome is FetchOutcome.OK
    (new_file,) = got
    assert new_file.students == 3
    assert new_file.di_code == DI
    assert new_file.path.is_file()


async def test_a_run_without_a_hand_off_reports_what_earlier_runs_left(
    service: SandboxService, tmp_path: Path
) -> None:
    await run(service, tmp_path, Receiver())
    summary = await run(service, tmp_path, None)
    (result,) = summary.results
    assert result.outcome is FetchOutcome.UNDELIVERED
    assert "no --on-new" in result.message
    assert result.undelivered == 1


async def test_a_run_without_a_hand_off_promises_none(
    service: SandboxService, tmp_path: Path
) -> None:
    summary = await run(service, tmp_path, None)
    assert summary.results[0].outcome is FetchOutcome.OK
    (entry,) = ledger_entries(tmp_path)
    assert entry.delivery is None


@pytest.mark.parametrize("damage", ["removed", "changed"])
async def test_a_file_that_is_gone_or_changed_is_never_handed_off(
    service: SandboxService, tmp_path: Path, damage: str
) -> None:
    receiver = Receiver()
    await run(service, tmp_path, receiver)
    (saved,) = tmp_path.glob("AP_*")
    if damage == "removed":
        saved.unlink()
    else:
        saved.write_bytes(saved.read_bytes().replace(b"1", b"2", 1))
    receiver.broken = False
    summary = await run(service, tmp_path, receiver)
    (result,) = summary.results
    assert result.outcome is FetchOutcome.UNDELIVERED
    assert ("missing" if damage == "removed" else "changed after it was saved") in result.message
    assert receiver.got == []
    (entry,) = ledger_entries(tmp_path)
    assert entry.delivery is Delivery.PENDING
    assert entry.delivery_error


def test_a_ledger_of_schema_1_gains_the_delivery_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE downloads (
                id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,
                di_code TEXT NOT NULL, download_id TEXT NOT NULL,
                download_id_is_int INTEGER NOT NULL DEFAULT 0, format TEXT NOT NULL,
                kind TEXT NOT NULL, file_name TEXT NOT NULL, path TEXT, size INTEGER,
                sha256 TEXT, state TEXT NOT NULL, generated_at TEXT NOT NULL,
                saved_at TEXT, recorded_at TEXT, updated_at TEXT NOT NULL);
            INSERT INTO downloads (account, di_code, download_id, format, kind, file_name,
                state, generated_at, updated_at) VALUES ('a@x.edu', '1234', '7', 'txt',
                'new', 'f.txt', 'recorded', '2026-01-01T00:00:00+00:00',
                '2026-01-01T00:00:00+00:00');
            PRAGMA user_version=1;
            """
        )
    db.close()
    with Ledger(path) as ledger:
        (entry,) = ledger.entries()
        assert entry.delivery is None  # an old file: no hand-off was promised
        assert ledger.undelivered() == []
        fresh = ledger.start(
            "a@x.edu", "1234", 8, fmt="txt", kind="new", file_name="g", deliver=True
        )
        assert fresh.delivery is Delivery.PENDING
    with Ledger(path) as again:  # reopening does not migrate twice
        assert len(again.entries()) == 2
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()


def test_only_a_recorded_pending_file_can_be_marked_delivered(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        entry = ledger.start("a@x.edu", "1", 1, fmt="txt", kind="new", file_name="f", deliver=True)
        with pytest.raises(ValueError, match="expected a recorded file pending delivery"):
            ledger.mark_delivered(entry.id)
        ledger.mark_saved(entry.id, path=tmp_path / "f", size=1, sha256="x")
        ledger.mark_recorded(entry.id)
        attempt = ledger.delivery_attempt(entry.id, {"APSCORES_FILE": "f"})
        assert attempt.delivery_env == {"APSCORES_FILE": "f"}
        again = ledger.delivery_attempt(entry.id, {"APSCORES_FILE": "other"})
        assert again.delivery_env == {"APSCORES_FILE": "f"}  # the first one stays
        assert again.delivery_attempts == 2
        done = ledger.mark_delivered(entry.id)
        assert done.delivery is Delivery.DELIVERED
        assert done.delivered_at is not None
        with pytest.raises(ValueError, match="delivery delivered"):
            ledger.mark_delivered(entry.id)


def test_a_damaged_hand_off_environment_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as ledger:
        entry = ledger.start("a@x.edu", "1", 1, fmt="txt", kind="new", file_name="f", deliver=True)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE downloads SET delivery_env = '[1, 2]' WHERE id = ?", (entry.id,))
    db.close()
    with Ledger(path) as ledger, pytest.raises(sqlite3.DataError, match="delivery_env"):
        ledger.entries()
