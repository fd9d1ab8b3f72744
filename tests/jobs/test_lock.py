"""The per-DI-code locks: one name per lock, removed when released, never two holders."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from apscores.jobs import DiLock, default_ledger_path, lock_paths


def test_the_lock_beside_the_default_ledger_has_one_leading_dot(tmp_path: Path) -> None:
    beside, inside = lock_paths(default_ledger_path(tmp_path / "l"), tmp_path / "d", "1234")
    assert beside.name == ".apscores-ledger.sqlite3.1234.lock"
    assert inside.name == ".apscores-1234.lock"


def test_a_released_lock_leaves_no_file(tmp_path: Path) -> None:
    lock = DiLock(tmp_path / ".x.lock")
    assert lock.acquire(wait=False)
    assert (tmp_path / ".x.lock").read_text().strip().isdigit()  # the holder's pid
    assert not DiLock(tmp_path / ".x.lock").acquire(wait=False)
    lock.release()
    assert not (tmp_path / ".x.lock").exists()
    lock.release()  # twice is harmless


def test_a_waiter_whose_file_was_removed_locks_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / ".x.lock"
    first = DiLock(path)
    assert first.acquire(wait=False)
    waiter = DiLock(path)
    got = threading.Event()

    def wait_for_it() -> None:
        waiter.acquire(wait=True)
        got.set()

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    time.sleep(0.2)  # the waiter has opened the file and blocks on it
    assert not got.is_set()
    first.release()  # removes the file the waiter opened
    assert got.wait(5)
    thread.join()
    # The waiter holds a lock on the file that now has the name: a third run is kept out.
    assert path.exists()
    assert not DiLock(path).acquire(wait=False)
    waiter.release()


def test_lock_is_exclusive(tmp_path: Path) -> None:
    path = lock_paths(default_ledger_path(tmp_path), tmp_path, "1234")[-1]
    assert path.name == ".apscores-1234.lock"
    with DiLock(path) as first:
        assert first.acquire(wait=False)
        assert path.read_text().strip().isdigit()
        assert not DiLock(path).acquire(wait=False)
    second = DiLock(path)
    assert second.acquire(wait=True)
    second.release()
    second.release()  # twice is harmless
