"""The operating system's bad days: a full disk, a file-size limit, a path that cannot be used.

The file-size limit is a real one (``RLIMIT_FSIZE`` in a child process, so writes past it
fail with ``EFBIG`` as on a full disk), not a patched function.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apscores._atomic import PART_MARKER, AtomicFile, atomic_write
from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.files import write_txt
from apscores.sandbox import fake_reports

unix_only = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")

# A child that fetches 400 sandbox reports (~380 kB) for two DI codes under a 200 kB limit.
CHILD = textwrap.dedent(
    """
    import asyncio, json, resource, signal, sys
    from pathlib import Path
    from apscores.jobs import Ledger, fetch
    from apscores.sandbox import SandboxService, sandbox_async_client

    dest = Path(sys.argv[1])
    service = SandboxService.default(di_codes=("1234", "5678"), reports=400)
    ledger = Ledger(dest / "ledger.sqlite3")  # opened before the limit: it stays small
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    async def run():
        async with sandbox_async_client(service, retry_base_delay=0) as client:
            return await fetch(client, ["1234", "5678"], dest, ledger=ledger)

    summary = asyncio.run(run())
    print(json.dumps({
        "results": [r.as_json() for r in summary.results],
        "pending": {code: len(service.pending(code)) for code in ("1234", "5678")},
    }))
    """
)


@unix_only
def test_a_file_size_limit_fails_each_code_alone_and_records_nothing(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    for result in answer["results"]:
        assert result["status"] == "storage"  # a disk limit, not the service: exit 7
        assert "File too large" in result["message"]
        assert str(tmp_path) in result["message"]  # names the path
        assert "Traceback" not in result["message"]
    assert answer["pending"] == {"1234": 400, "5678": 400}  # nothing recorded
    kept = ("ledger.sqlite3", ".ledger.sqlite3.", ".apscores-")  # the ledger, the locks
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(kept)] == []


class FullDisk(io.BufferedWriter):
    """A file whose buffered bytes cannot be written out: flush() and close() fail."""

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        try:
            super().flush()
        finally:
            super().close()
        raise OSError(errno.ENOSPC, "No space left on device")


def full_disk_file(target: Path) -> AtomicFile:
    atomic = AtomicFile(target)
    atomic.file.close()
    atomic.file = FullDisk(io.FileIO(atomic.temp_path, "wb"))
    atomic.write(b"x" * 10)  # stays in the write buffer
    return atomic


def test_a_full_disk_at_close_still_removes_the_temporary_file(tmp_path: Path) -> None:
    atomic = full_disk_file(tmp_path / "out.txt")
    with pytest.raises(OSError, match="No space left"), atomic:
        atomic.commit()
    assert list(tmp_path.iterdir()) == []
    abandoned = full_disk_file(tmp_path / "out.txt")
    with pytest.raises(OSError, match="No space left"), abandoned:
        pass  # leaving without commit: close() raises, the unlink runs all the same
    assert list(tmp_path.iterdir()) == []


def test_write_errors_name_the_target_not_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "merged.csv"
    with pytest.raises(OSError, match="No space") as raised, atomic_write(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.filename == str(target)
    assert raised.value.errno == errno.ENOSPC
    with pytest.raises(FileNotFoundError) as missing:
        AtomicFile(tmp_path / "no" / "such" / "dir.csv")
    assert missing.value.filename == str(tmp_path / "no" / "such" / "dir.csv")
    assert PART_MARKER not in str(missing.value)


def test_an_unwritable_output_is_one_line_and_exit_7(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_txt = tmp_path / "scores.txt"
    write_txt(fake_reports(5), sandbox_txt)
    out = tmp_path / "missing" / "out.csv"
    (tmp_path / "missing").write_text("a file, not a folder")
    code = main(["convert", str(sandbox_txt), "-o", str(out)])
    assert code == ExitCode.STORAGE
    assert int(ExitCode.STORAGE) == 7
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"apscores: {out}: ")
    assert "Traceback" not in err


def test_a_ledger_that_cannot_be_opened_is_one_line_and_exit_7(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger"
    ledger.mkdir()  # a folder where the SQLite file should be
    code = main(["fetch", "--sandbox", "--dest", str(tmp_path / "d"), "--ledger", str(ledger)])
    assert code == ExitCode.STORAGE
    err = capsys.readouterr().err
    assert f"apscores: {ledger}: cannot open the ledger" in err
    assert "Traceback" not in err


def _read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` read-only for this process, as root too (root ignores ``chmod``).

    The folder is ``chmod 555`` (enough for any other user) and every call that creates,
    links or renames something inside it fails as the kernel would fail it, with ``EACCES``.
    """
    folder.chmod(0o555)
    inside = str(folder.resolve()) + os.sep

    def refused(path: Any) -> bool:
        return isinstance(path, (str, os.PathLike)) and os.path.abspath(path).startswith(inside)

    def deny(path: Any) -> PermissionError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))

    real_open, real_mkdir = os.open, os.mkdir
    real_replace, real_rename, real_link = os.replace, os.rename, os.link
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & writes and refused(path):
            raise deny(path)
        return real_open(path, flags, *args, **kwargs)

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if refused(path):
            raise deny(path)
        real_mkdir(path, *args, **kwargs)

    def moving(real: Callable[..., None]) -> Callable[..., None]:
        def move(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            if refused(dst):
                raise deny(dst)
            real(src, dst, *args, **kwargs)

        return move

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "replace", moving(real_replace))
    monkeypatch.setattr(os, "rename", moving(real_rename))
    monkeypatch.setattr(os, "link", moving(real_link))


def test_a_read_only_destination_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "ro"
    dest.mkdir()
    _read_only(monkeypatch, dest)
    code = main(["fetch", "--sandbox", "--dest", str(dest), "--ledger", str(tmp_path / "l.db")])
    monkeypatch.undo()
    assert code == ExitCode.STORAGE
    err = capsys.readouterr().err
    assert f"{dest}{os.sep}" in err
    assert "Permission denied" in err
    assert "Traceback" not in err
    assert list(dest.iterdir()) == []
