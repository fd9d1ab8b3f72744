"""One lock file per DI code, so overlapping scheduled runs never fetch the same code twice.

``fcntl.flock`` locks belong to the open file: the kernel releases them when the process
ends, even on ``SIGKILL``, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

__all__ = ["DiLock", "lock_path"]


def lock_path(dest: Path, di_code: str) -> Path:
    """``<dest>/.apscores-<di>.lock``."""
    return dest / f".apscores-{di_code}.lock"


class DiLock:
    """An exclusive lock on one DI code's lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, wait: bool) -> bool:
        """Take the lock; without ``wait``, return False at once if another run holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the next run in (closing the file drops the lock)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DiLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
