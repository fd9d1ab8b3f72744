"""The client's local side, shared by both clients: where a download goes, how it gets its
final name without replacing anything, the file check, and keeping signatures out of logs.

A download never replaces an existing file (file names repeat for two files generated in
the same minute, and the earlier one is already recorded): a taken name becomes
``<stem>-<download id><suffix>`` (then ``-2``, ``-3``...). The name is chosen before the
GET and claimed with :func:`os.link`, which fails if another process created that name
meanwhile (the next free name is then taken). Where hard links are not supported the
claim falls back to a check and :func:`os.replace`, which leaves a tiny window in which a
file created by another process at that instant could be replaced. Only
``Files.download`` given an explicit file path replaces what is there: the caller named
that file.
"""

from __future__ import annotations

import errno
import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

from apscores._atomic import AtomicFile, fsync_directory, make_folder
from apscores.errors import ParseError, StorageError
from apscores.files import FileCheck, check_file
from apscores.service import _download as dl
from apscores.service._models import GeneratedFile
from apscores.service._retry import FailedAttempt

__all__ = [
    "Dest",
    "claim",
    "file_check",
    "install_redactor",
    "placement",
    "prepare_destination",
    "run_inline",
]

logger = logging.getLogger("apscores")
T = TypeVar("T")
Dest = str | os.PathLike[str]


class _RedactSignedURLs(logging.Filter):
    """httpx logs every full URL at INFO; keep a presigned URL's signature out of that."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, httpx.URL) for a in args):
            record.args = tuple(dl.redact_url(a) if isinstance(a, httpx.URL) else a for a in args)
        return True


_REDACTOR = _RedactSignedURLs()


def install_redactor() -> None:
    """Add the filter to the ``httpx`` logger once."""
    httpx_logger = logging.getLogger("httpx")
    if _REDACTOR not in httpx_logger.filters:
        httpx_logger.addFilter(_REDACTOR)


def _names_directory(dest: Dest) -> bool:
    """A path that ends with a separator, or has no suffix, names a directory."""
    text = os.fspath(dest)
    return text.endswith(("/", os.sep)) or not Path(text).suffix


def prepare_destination(dest: Dest) -> None:
    """Make sure a download can be saved where asked, before anything is generated.

    A directory that does not exist yet is created, parents too (as ``apscores fetch
    --dest`` does); so is the folder of a file path. A path that cannot be used is a
    :class:`~apscores.errors.StorageError` naming it and the reason.
    """
    path = Path(dest)
    if path.is_dir():
        return
    folder = path if _names_directory(dest) and not path.exists() else path.parent
    make_folder(folder, "the destination folder")
    if path.exists() and not path.is_file() and not path.is_dir():
        raise StorageError(
            errno.ENOTDIR, "the destination is neither a directory nor a file", str(path)
        )


def _taken(directory: Path) -> Callable[[str], bool]:
    return lambda name: os.path.lexists(directory / name)


def placement(dest: Dest, generated: GeneratedFile, *, replace_named: bool) -> dl.Placement:
    """A directory gets the service's (sanitised) file name; anything else is the file.

    Either way a taken name is swapped for a free one, except that ``replace_named`` lets
    an explicitly named file be replaced (``Files.download`` only).
    """
    prepare_destination(dest)
    path = Path(dest)
    if path.is_dir():
        directory, wanted, replace = path, dl.safe_file_name(generated.file_name), False
    else:
        directory, wanted, replace = path.parent, path.name, replace_named
    return dl.place_file(
        directory, wanted, generated.download_id, taken=_taken(directory), replace=replace
    )


MAX_CLAIMS = 100


def claim(out: AtomicFile, where: dl.Placement) -> Path:
    """Give the finished temp file its final name, never replacing a file (module docstring)."""
    if where.replace:
        out.commit()
        return where.path
    out.sync()
    path = where.path
    for _claim in range(MAX_CLAIMS):
        try:
            os.link(out.temp_path, path)
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system: check, then rename
            if not os.path.lexists(path):
                os.replace(out.temp_path, path)
                break
        else:
            out.temp_path.unlink()
            break
        logger.info("%s appeared while downloading; choosing another name", path.name)
        directory = where.directory
        path = directory / dl.free_file_name(where.wanted, where.download_id, _taken(directory))
    else:
        raise StorageError(
            errno.EEXIST,
            f"could not claim a free file name for {where.wanted!r}",
            str(where.directory),
        )
    out.committed = True
    fsync_directory(path.parent)
    return path


def file_check(
    path: Path, generated: GeneratedFile, verified: bool = False
) -> FileCheck | FailedAttempt:
    """The saved body checked as a whole score file (see :mod:`apscores.files._check`);
    ``verified`` when its MD5 matched the storage host's ETag (the body is complete)."""
    try:
        return check_file(path, generated.format, name=generated.file_name, verified=verified)
    except ParseError as problem:
        return dl.incomplete_file(problem, generated)


def run_inline(function: Callable[..., T], *args: object) -> T:
    """The sync client's twin of running ``function`` in a worker thread: just call it."""
    return function(*args)


def settle(value: T) -> T:
    """The sync client's twin of :func:`asettle`: an observer's answer, as it is."""
    return value


async def asettle(value: object) -> object:
    """An observer's answer, awaited when it is awaitable (async or plain observers)."""
    if inspect.isawaitable(value):
        return await value
    return value
