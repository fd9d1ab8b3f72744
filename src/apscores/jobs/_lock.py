"""One lock file per DI code, so overlapping scheduled runs never fetch the same code twice.

``fcntl.flock`` locks belong to the open file: the kernel releases them when the process
ends, even on ``SIGKILL``, so a crashed run never leaves a stale lock behind. On Windows
the same holds for ``msvcrt.locking`` on the file's first byte.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from apscores._closing import Closing

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _lock(fd: int, *, wait: bool) -> bool:
        while not _try_lock(fd):
            if not wait:
                return False
            time.sleep(0.5)
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, *, wait: bool) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


__all__ = ["DiLock", "lock_path", "lock_paths"]


def _still_named(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def lock_path(dest: Path, di_code: str) -> Path:
    """``<dest>/.apscores-<di>.lock``."""
    return dest / f".apscores-{di_code}.lock"


def lock_paths(ledger: Path, dest: Path, di_code: str) -> tuple[Path, ...]:
    """The locks a fetch of ``di_code`` holds: one beside the ledger, which covers every
    run that shares the ledger whatever its destination, and one in the destination, which
    covers the files (and their ``.part`` temporaries) of runs with other ledgers. Always
    taken in this order, so two runs cannot wait for each other."""
    beside = ledger.parent / f".{ledger.name.lstrip('.')}.{di_code}.lock"
    inside = lock_path(dest, di_code)
    return (beside,) if beside.resolve() == inside.resolve() else (beside, inside)


class DiLock(Closing):
    """An exclusive lock on one DI code's lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, wait: bool) -> bool:
        """Take the lock; without ``wait``, return False at once if another run holds it."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if not _lock(fd, wait=wait):
                os.close(fd)
                return False
            if _still_named(fd, self.path):
                break
            # The holder we waited for removed the file as it let go: lock the new one.
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the next run in, and remove the lock file (while still holding it, so a
        run that opened the old file sees it is gone and opens a new one)."""
        if self._fd is not None:
            if sys.platform != "win32":  # an open file cannot be removed there
                self.path.unlink(missing_ok=True)
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        """``with lock:`` releases it on the way out (:class:`Closing`)."""
        self.release()
