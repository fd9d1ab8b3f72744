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

from apscores.errors import StorageError

__all__ = [
    "PART_MARKER",
    "AtomicFile",
    "atomic_write",
    "create_private",
    "describe_os_error",
    "fsync_directory",
    "make_folder",
]

#: Temporary files are named ``.<final name>.part-<random>``; a crash can leave one behind,
#: and ``apscores fetch`` removes them on its next run.
PART_MARKER = ".part-"


def describe_os_error(error: OSError) -> str:
    """An operating-system failure in one line: the path, and the reason (no traceback)."""
    where = error.filename or ""
    reason = error.strerror or str(error) or type(error).__name__
    return f"{where}: {reason}" if where else reason


def named(error: OSError, path: Path) -> OSError:
    """``error`` itself if it names a file, else the same error naming ``path``."""
    if error.filename:
        return error
    return OSError(error.errno, error.strerror or str(error), str(path))


def make_folder(folder: Path, what: str) -> None:
    """Create ``folder`` (parents too) or raise a :class:`StorageError` naming it:
    ``FOLDER: cannot create WHAT (reason)``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # read-only, no permission, a file in the way
        reason = error.strerror or type(error).__name__
        raise StorageError(error.errno, f"cannot create {what} ({reason})", str(folder)) from None


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (a database about to be opened
    on it that holds student data or an account)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


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
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.target.name}{PART_MARKER}", dir=directory)
        except OSError as error:  # name the file asked for, not the hidden temporary one
            raise OSError(error.errno, error.strerror, str(self.target)) from None
        self.temp_path = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.committed = False

    def write(self, chunk: bytes) -> None:
        """Append bytes to the temporary file."""
        try:
            self.file.write(chunk)
        except OSError as error:
            raise named(error, self.target) from error

    def sync(self) -> None:
        """Flush and fsync the temporary file, then close it (a full disk says so here)."""
        if self.file.closed:
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        except OSError as error:
            raise named(error, self.target) from error

    def commit(self) -> None:
        """Flush, fsync, rename over the target and fsync the directory."""
        self.sync()
        os.replace(self.temp_path, self.target)
        self.committed = True
        fsync_directory(self.temp_path.parent)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # close() flushes the write buffer, so on a full disk (ENOSPC) or past a file-size
        # limit (EFBIG) it raises again: the temporary file is removed all the same.
        try:
            self.file.close()
        finally:
            if not self.committed:
                self.temp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``target``, renamed over it on success.

    An operating-system error while writing names ``target`` (a full disk says which file).
    """
    with AtomicFile(target) as atomic:
        try:
            yield atomic.file
            atomic.commit()
        except OSError as error:
            if error.filename:
                raise
            raise named(error, atomic.target) from error
