"""Write a file so that it is either complete under its final name or not there at all.

The one implementation behind every file apscores writes (downloads, converted tables,
merged files, the sandbox demo state): a hidden temporary file in the destination
directory, flushed and fsynced, renamed over the target with :func:`os.replace`, and the
directory fsynced so the rename survives a power cut. On any exception the temporary file
is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from typing_extensions import Self

__all__ = ["PART_MARKER", "AtomicFile", "atomic_write", "fsync_directory"]

#: Temporary files are named ``.<final name>.part-<random>``; a crash can leave one behind,
#: and ``apscores fetch`` removes them on its next run.
PART_MARKER = ".part-"


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    if os.name == "nt":  # pragma: no cover - Windows cannot open a directory
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicFile:
    """A hidden ``.<name>.part-<random>`` file beside ``target``, renamed only by commit().

    Leaving the ``with`` block without :meth:`commit` (an exception, or a caller that found
    the content wrong) removes the temporary file and leaves ``target`` untouched.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = Path(target)
        directory = self.target.parent if str(self.target.parent) else Path()
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}{PART_MARKER}", dir=directory)
        self.temp_path = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.committed = False

    def write(self, chunk: bytes) -> None:
        """Append bytes to the temporary file."""
        self.file.write(chunk)

    def commit(self) -> None:
        """Flush, fsync, rename over the target and fsync the directory."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp_path, self.target)
        self.committed = True
        fsync_directory(self.temp_path.parent)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()
        if not self.committed:
            self.temp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``target``, renamed over it on success."""
    with AtomicFile(target) as atomic:
        yield atomic.file
        atomic.commit()
