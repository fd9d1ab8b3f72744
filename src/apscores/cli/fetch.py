"""``apscores fetch``: the scheduled job. Download new score files for several DI codes.

For each DI code, concurrently, under that code's lock:

1. finish what an earlier run left: a file that was saved but never recorded is recorded
   (never downloaded again); a generated file that never reached the disk is abandoned and
   its partial temp file removed; a file that reached the disk just before a crash is
   adopted (an empty one is removed and abandoned instead, as the client never records
   an empty file);
2. ``AsyncInstitution.download`` with a :class:`LedgerObserver`, which writes each step to
   the ledger as the client reaches it: generated -> saved -> recorded (or abandoned when
   the file never reached the disk, e.g. an expired URL, which the client replaces);
3. read the saved file for the summary, and run the ``--on-new`` command with its path.

Every ledger transition is one transaction, so a run killed anywhere is finished by the
next one: each score order ends up saved exactly once and recorded.

File names come from the client, which never replaces an existing file (a taken name gets
the download id). It checks the disk only, not the ledger: a ledger entry whose file was
moved away (say by an ``--on-new`` hook) no longer holds its name, and that is harmless
because entries are keyed by id and every unfinished entry of a DI code is finished
before its next file is generated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shlex
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TextIO, cast

import attrs

from apscores._atomic import PART_MARKER
from apscores.cli._output import LOGGER, Progress
from apscores.cli.credentials import find_credentials
from apscores.cli.exitcodes import ExitCode, worst
from apscores.cli.lock import DiLock, lock_path
from apscores.errors import (
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    DownloadURLExpired,
    ParseError,
    RecordError,
)
from apscores.files.check import check_file
from apscores.ledger import Entry, Ledger, State, default_ledger_path
from apscores.service import (
    AsyncClient,
    BaseDownloadObserver,
    DownloadResult,
    GeneratedFile,
)
from apscores.service._settings import Format, Kind

__all__ = [
    "KILL_AT_ENV",
    "DiResult",
    "FetchOptions",
    "Fetcher",
    "LedgerObserver",
    "SavedFile",
    "add_arguments",
    "checkpoint",
    "run_fetch",
    "summarise_file",
]

#: Test hook: when this variable names a step boundary, the process kills itself with
#: SIGKILL right there. Read only by :func:`checkpoint`; the crash test uses it. The
#: boundaries: ``generate`` (a file was generated, the ledger does not know it yet),
#: ``generated`` (ledger: generated), ``download`` (the file is saved, the ledger does not
#: know it yet), ``saved`` (ledger: saved), ``record`` (the service was told, the ledger
#: does not know it yet) and ``recorded`` (ledger: recorded).
KILL_AT_ENV = "APSCORES_TEST_KILL_AT"

STEPS_PER_DI = 3  # generate, download, record: the progress bar's unit


def checkpoint(step: str) -> None:
    """Step boundary; dies here (SIGKILL, no cleanup) if the test hook asks for it."""
    if os.environ.get(KILL_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


@attrs.frozen
class FetchOptions:
    """What ``fetch`` was asked to do."""

    di_codes: tuple[str, ...]
    dest: Path
    kind: str = "new"
    fmt: str = "txt"
    wait_lock: bool = False
    on_new: str | None = None
    check: bool = True


@attrs.define
class SavedFile:
    """A file this run saved (or finished from an earlier run), with its contents' size."""

    path: Path
    download_id: str
    size: int
    sha256: str
    students: int = 0
    exams: int = 0
    recovered: bool = False
    parse_errors: int = 0
    counted: bool = False  # students and exams came from the download's file check

    def as_json(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "path": str(self.path),
            "download_id": self.download_id,
            "size": self.size,
            "sha256": self.sha256,
            "students": self.students,
            "exams": self.exams,
            "recovered": self.recovered,
            "parse_errors": self.parse_errors,
        }


@attrs.define
class DiResult:
    """How one DI code ended."""

    di_code: str
    exit_code: ExitCode = ExitCode.NOTHING_NEW
    files: list[SavedFile] = attrs.Factory(list)
    message: str = ""

    @property
    def students(self) -> int:
        """Students in this run's files."""
        return sum(f.students for f in self.files)

    @property
    def exams(self) -> int:
        """Exams in this run's files."""
        return sum(f.exams for f in self.files)

    def as_json(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "di_code": self.di_code,
            "status": self.exit_code.name.lower(),
            "exit_code": int(self.exit_code),
            "files": [f.as_json() for f in self.files],
            "students": self.students,
            "exams": self.exams,
            "message": self.message,
        }


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def summarise_file(path: Path) -> tuple[int, int, int]:
    """Students, exams and unreadable lines in a saved file (read, never loaded whole)."""
    from apscores.files.detect import read

    students = exams = 0
    with read(path, errors="collect") as reader:
        for report in reader:
            students += 1
            exams += len(report.exams)
        return students, exams, len(reader.errors)


def _remove_partials(target: Path) -> None:
    """Delete the temp files a killed download of ``target`` may have left."""
    for stray in target.parent.glob(f".{target.name}{PART_MARKER}*"):
        LOGGER.info("removing partial download %s", stray, extra={"path": stray})
        stray.unlink(missing_ok=True)


class LedgerObserver(BaseDownloadObserver):
    """Writes each step of ``Institution.download`` to the ledger as the client reaches it.

    ``entry`` is the ledger entry of the current file. An empty file is not recorded by
    the client, so it is removed and its entry abandoned: the next run asks for it again.
    """

    def __init__(self, fetcher: Fetcher, di_code: str) -> None:
        self.fetcher = fetcher
        self.di_code = di_code
        self.entry: Entry | None = None

    def _current(self) -> Entry:
        assert self.entry is not None, "the client reports generated() first"
        return self.entry

    def generated(self, generated: GeneratedFile, target: Path) -> None:
        """Ledger: generated, with the path the file is about to get."""
        checkpoint("generate")
        first = self.entry is None
        fetcher = self.fetcher
        self.entry = fetcher.ledger.start(
            fetcher.account,
            self.di_code,
            generated.download_id,
            fmt=generated.format,
            kind=generated.kind,
            file_name=generated.file_name,
            path=target,
        )
        checkpoint("generated")
        if first:
            fetcher.progress.advance(f"{self.di_code}: generated")
        fetcher._log(self.di_code, "generated", "generated %s", generated.file_name)

    def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """Ledger: abandoned (the client removed its temp file; nothing reached the disk)."""
        self.fetcher.ledger.mark_abandoned(self._current().id)
        event = "expired" if isinstance(error, DownloadURLExpired) else "abandoned"
        self.fetcher._log(
            self.di_code, event, "download %s abandoned: %s", generated.download_id, error
        )

    def saved(self, result: DownloadResult) -> None:
        """Ledger: saved, with the size and hash computed while the file streamed."""
        checkpoint("download")
        fetcher, entry = self.fetcher, self._current()
        if not result.recorded:
            result.path.unlink(missing_ok=True)
            self.entry = fetcher.ledger.mark_abandoned(entry.id)
            LOGGER.warning(
                "%s: download %s was empty; removed and not recorded, the next run asks again",
                self.di_code,
                result.download_id,
                extra={"di_code": self.di_code, "event": "empty"},
            )
            return
        self.entry = fetcher.ledger.mark_saved(
            entry.id, path=result.path, size=result.size, sha256=result.sha256
        )
        checkpoint("saved")
        fetcher.progress.advance(f"{self.di_code}: downloaded")
        fetcher._log(
            self.di_code,
            "saved",
            "saved %s (%d bytes)",
            result.path,
            result.size,
            path=result.path,
        )

    def recorded(self, result: DownloadResult) -> None:
        """Ledger: recorded."""
        checkpoint("record")
        self.entry = self.fetcher.ledger.mark_recorded(self._current().id)
        checkpoint("recorded")
        self.fetcher._recorded(self.entry)


class Fetcher:
    """Runs ``fetch`` for several DI codes with one logged-in client and one ledger."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        account: str,
        ledger: Ledger,
        options: FetchOptions,
        progress: Progress,
    ) -> None:
        self.client = client
        self.account = account.lower()
        self.ledger = ledger
        self.options = options
        self.progress = progress

    async def run(self) -> list[DiResult]:
        """Fetch every DI code concurrently; one code's failure never stops the others."""
        results = await asyncio.gather(*(self._guarded(di) for di in self.options.di_codes))
        return list(results)

    async def _guarded(self, di_code: str) -> DiResult:
        result = DiResult(di_code)
        lock = DiLock(lock_path(self.options.dest, di_code))
        if self.options.wait_lock:
            await asyncio.to_thread(lock.acquire, wait=True)
        elif not lock.acquire(wait=False):
            result.exit_code = ExitCode.LOCKED
            result.message = "another apscores run is fetching this DI code; skipped"
            LOGGER.warning("%s: %s", di_code, result.message, extra={"di_code": di_code})
            self.progress.advance(f"{di_code}: locked", STEPS_PER_DI)
            return result
        try:
            await self._fetch(result)
        except AuthenticationError as error:
            result.exit_code = ExitCode.AUTH
            result.message = str(error)
        except RecordError as error:
            result.exit_code = ExitCode.PARTIAL
            result.message = str(error)
        except APScoresError as error:
            result.exit_code = ExitCode.PARTIAL
            result.message = f"{type(error).__name__}: {error}"
        finally:
            lock.release()
        if result.exit_code in (ExitCode.AUTH, ExitCode.PARTIAL):
            LOGGER.error("%s: %s", di_code, result.message, extra={"di_code": di_code})
        return result

    def _log(self, di_code: str, event: str, message: str, *args: object, **extra: Any) -> None:
        LOGGER.info(
            "%s: " + message, di_code, *args, extra={"di_code": di_code, "event": event, **extra}
        )

    async def _fetch(self, result: DiResult) -> None:
        di_code = result.di_code
        for entry in self.ledger.unfinished(self.account, di_code):
            saved = await self._finish(entry)
            if saved is not None:
                await self._after_save(result, saved)
        self.progress.advance(f"{di_code}: generating", 0)
        observer = LedgerObserver(self, di_code)
        downloaded = await self.client.institution(di_code).download(
            kind=cast(Kind, self.options.kind),
            format=cast(Format, self.options.fmt),
            dest=self.options.dest,
            observer=observer,
            check=self.options.check,
        )
        if downloaded is None:
            self._log(di_code, "nothing_new", "no new score orders")
            self.progress.advance(f"{di_code}: nothing new", STEPS_PER_DI)
            return
        if not downloaded.recorded:  # an empty file: removed, asked for again next run
            result.exit_code = ExitCode.PARTIAL
            result.message = (
                f"download {downloaded.download_id} was empty; not recorded, re-run to fetch it"
            )
            return
        saved = SavedFile(
            downloaded.path, str(downloaded.download_id), downloaded.size, downloaded.sha256
        )
        if downloaded.records is not None and downloaded.exams is not None:
            saved.students, saved.exams, saved.counted = downloaded.records, downloaded.exams, True
        await self._after_save(result, saved)

    def _recorded(self, entry: Entry) -> None:
        self.progress.advance(f"{entry.di_code}: recorded")
        self._log(entry.di_code, "recorded", "recorded download %s", entry.download_id)

    async def _record(self, entry: Entry, generated: GeneratedFile) -> Entry:
        """Record a file an earlier run saved (the client's download records its own)."""
        try:
            await self.client.files.record(generated)
        except (RecordError, AuthenticationError):
            raise
        except APScoresError as error:
            raise RecordError(
                f"recording failed ({type(error).__name__}: {error})",
                download_id=entry.download_id,
                path=entry.path,
            ) from error
        checkpoint("record")
        entry = self.ledger.mark_recorded(entry.id)
        checkpoint("recorded")
        self._recorded(entry)
        return entry

    async def _finish(self, entry: Entry) -> SavedFile | None:
        """Finish an entry an earlier run left; the file is never downloaded again."""
        if entry.state is State.GENERATED:
            target = entry.path
            if target is not None:
                _remove_partials(target)
            if target is None or not target.exists():
                self.ledger.mark_abandoned(entry.id)
                self._log(
                    entry.di_code,
                    "abandoned",
                    "download %s never reached the disk; a new file replaces it",
                    entry.download_id,
                )
                return None
            size, sha256 = await asyncio.to_thread(_hash_file, target)
            problem = await asyncio.to_thread(self._check_adopted, target, entry)
            if size == 0 or problem:  # never recorded: remove it, and ask for it again
                target.unlink()
                self.ledger.mark_abandoned(entry.id)
                self._log(
                    entry.di_code,
                    "abandoned",
                    "download %s left %s; a new file replaces it",
                    entry.download_id,
                    "an empty file" if size == 0 else f"a file that is not whole ({problem})",
                )
                return None
            entry = self.ledger.mark_saved(entry.id, path=target, size=size, sha256=sha256)
            self._log(entry.di_code, "adopted", "found %s saved by an earlier run", target)
        assert entry.path is not None
        if not entry.path.exists():
            LOGGER.warning(
                "%s: %s was moved away before it was recorded; recording it anyway",
                entry.di_code,
                entry.path,
                extra={"di_code": entry.di_code},
            )
        generated = GeneratedFile(
            url="",
            file_name=entry.file_name,
            download_id=entry.download_id_value,
            format=cast(Format, entry.format),
            kind=cast(Kind, entry.kind),
        )
        self._log(entry.di_code, "resume", "recording %s left by an earlier run", entry.path)
        entry = await self._record(entry, generated)
        return SavedFile(
            entry.path or Path(entry.file_name),
            entry.download_id,
            entry.size or 0,
            entry.sha256 or "",
            recovered=True,
        )

    def _check_adopted(self, target: Path, entry: Entry) -> str:
        """Why a file a crashed run left is not a whole score file ("" when it is)."""
        if not self.options.check:
            return ""
        try:
            check_file(target, entry.format, name=entry.file_name)
        except ParseError as problem:
            return str(problem)
        return ""

    async def _after_save(self, result: DiResult, saved: SavedFile) -> None:
        if result.exit_code is ExitCode.NOTHING_NEW:
            result.exit_code = ExitCode.OK
        result.files.append(saved)
        if saved.path.exists() and not saved.counted:
            try:
                counts = await asyncio.to_thread(summarise_file, saved.path)
            except APScoresError as error:
                LOGGER.warning("%s: cannot read %s: %s", result.di_code, saved.path, error)
            else:
                saved.students, saved.exams, saved.parse_errors = counts
        if self.options.on_new and not await self._run_hook(result.di_code, saved):
            result.exit_code = ExitCode.PARTIAL
            result.message = f"--on-new command failed for {saved.path}"

    async def _run_hook(self, di_code: str, saved: SavedFile) -> bool:
        """Run ``--on-new`` with the file's path as its last argument (no shell)."""
        assert self.options.on_new is not None
        argv = [*shlex.split(self.options.on_new), str(saved.path)]
        env = {**os.environ, "APSCORES_DI_CODE": di_code, "APSCORES_DOWNLOAD_ID": saved.download_id}
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as error:
            LOGGER.error("%s: cannot run --on-new command: %s", di_code, error)
            return False
        output, _ = await process.communicate()
        text = output.decode(errors="replace").strip()
        if process.returncode != 0:
            LOGGER.error(
                "%s: --on-new command exited %s for %s%s",
                di_code,
                process.returncode,
                saved.path,
                f": {text[-500:]}" if text else "",
            )
            return False
        self._log(di_code, "hook", "--on-new command done for %s", saved.path)
        if text:
            LOGGER.info("%s: --on-new said: %s", di_code, text[-500:])
        return True


def overall(results: list[DiResult]) -> ExitCode:
    """The run's exit status (see :mod:`apscores.cli.exitcodes`)."""
    return worst([r.exit_code for r in results])


@contextlib.asynccontextmanager
async def _real_session(di_codes: tuple[str, ...]) -> AsyncIterator[tuple[AsyncClient, str]]:
    credentials, notes = find_credentials()
    if credentials is None:
        raise ConfigurationError(
            "no College Board credentials found (" + "; ".join(notes) + "). Set "
            "APSCORES_EMAIL and APSCORES_PASSWORD, or store the password in the keyring: "
            "keyring set apscores you@college.edu. Try the demo with --sandbox."
        )
    async with AsyncClient(email=credentials.email, password=credentials.password) as client:
        yield client, credentials.email


async def _fetch_all(
    args: argparse.Namespace, options: FetchOptions, progress: Progress
) -> list[DiResult]:
    if args.sandbox:
        from apscores.cli.demo import default_state_path, sandbox_session

        state = args.sandbox_state or default_state_path(options.dest)
        session = sandbox_session(state, options.di_codes)
    else:
        session = _real_session(options.di_codes)
    ledger_path = args.ledger or default_ledger_path(options.dest)
    async with session as (client, account):
        try:
            await client.session.login()
        except AuthenticationError as error:
            return [DiResult(di, ExitCode.AUTH, message=str(error)) for di in options.di_codes]
        with Ledger(ledger_path) as ledger:
            fetcher = Fetcher(
                client, account=account, ledger=ledger, options=options, progress=progress
            )
            return await fetcher.run()


def _print_summary(results: list[DiResult], out: TextIO) -> None:
    for result in results:
        if result.files:
            files = len(result.files)
            recovered = sum(f.recovered for f in result.files)
            line = (
                f"DI {result.di_code}: {files} file{'s' if files != 1 else ''}, "
                f"{result.students} students, {result.exams} exams"
            )
            if recovered:
                line += f" ({recovered} finished from an earlier run)"
            out.write(line + "\n")
            for saved in result.files:
                out.write(f"  {saved.path}\n")
        elif result.exit_code is ExitCode.NOTHING_NEW:
            out.write(f"DI {result.di_code}: nothing new\n")
        if result.message:
            out.write(f"DI {result.di_code}: {result.exit_code.name.lower()}: {result.message}\n")


def run_fetch(args: argparse.Namespace) -> int:
    """``apscores fetch``: returns an :class:`ExitCode`."""
    di_codes: tuple[str, ...] = tuple(dict.fromkeys(args.di or ()))
    if not di_codes:
        if not args.sandbox:
            raise ConfigurationError("give at least one --di CODE (a 4-digit DI code)")
        from apscores.cli.demo import DEMO_DI_CODES

        di_codes = DEMO_DI_CODES
    bad = [code for code in di_codes if not (len(code) == 4 and code.isdigit())]
    if bad:
        raise ConfigurationError(f"a DI code has 4 digits: {', '.join(bad)}")
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    options = FetchOptions(
        di_codes=di_codes,
        dest=dest,
        kind=args.kind,
        fmt=args.format,
        wait_lock=args.wait_lock,
        on_new=args.on_new,
        check=args.check,
    )
    show_bar = not args.quiet and not args.json and sys.stderr.isatty()
    progress = Progress(sys.stderr, STEPS_PER_DI * len(di_codes), enabled=show_bar)
    try:
        results = asyncio.run(_fetch_all(args, options, progress))
    finally:
        progress.close()
    code = overall(results)
    if args.json:
        summary = {
            "exit_code": int(code),
            "status": code.name.lower(),
            "dest": str(dest),
            "institutions": [r.as_json() for r in results],
        }
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    elif not args.quiet:
        _print_summary(results, sys.stdout)
    LOGGER.info("fetch finished: %s", code.name.lower(), extra={"exit_code": int(code)})
    return code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores fetch``."""
    parser.add_argument(
        "--di",
        action="append",
        metavar="CODE",
        help="a DI code to fetch (repeat for several; with --sandbox default 1234 and 5678)",
    )
    parser.add_argument(
        "--kind",
        choices=("new", "full"),
        default="new",
        help="new: scores since this account last recorded a download (default); "
        "full: everything since July 1",
    )
    parser.add_argument("--format", choices=("txt", "csv"), default="txt", help="default txt")
    parser.add_argument("--dest", required=True, type=Path, metavar="DIR", help="where files go")
    parser.add_argument(
        "--ledger",
        type=Path,
        metavar="PATH",
        help="download ledger (default DIR/.apscores-ledger.sqlite3)",
    )
    parser.add_argument(
        "--on-new",
        metavar="CMD",
        help="run CMD with each new file's path as its last argument (no shell)",
    )
    waiting = parser.add_mutually_exclusive_group()
    waiting.add_argument(
        "--wait-lock",
        action="store_true",
        help="wait for another run that holds a DI code's lock",
    )
    waiting.add_argument(
        "--no-wait",
        dest="wait_lock",
        action="store_false",
        help="skip a locked DI code and exit 6 (default)",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="record downloads without checking they are whole score files (only while "
        "apscores is updated for a changed College Board layout)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the built-in sandbox with synthetic data (no account needed)",
    )
    parser.add_argument(
        "--sandbox-state",
        type=Path,
        metavar="PATH",
        help="the sandbox's saved state (default DIR/.apscores-sandbox.json)",
    )
    parser.set_defaults(func=run_fetch)
