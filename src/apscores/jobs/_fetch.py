"""The scheduled job as a Python API: fetch new score files for several DI codes, exactly once.

    async with AsyncClient() as client:
        summary = await fetch(client, ["1234", "5678"], "/srv/ap-scores")

For each DI code, concurrently, under that code's locks (:func:`~apscores.jobs._lock.lock_paths`):

1. finish what an earlier run left: a file that was saved but never recorded is recorded
   (never downloaded again); a generated file that never reached the disk is abandoned and
   its partial temp file removed; a file that reached the disk just before a crash is
   checked and adopted (one that is empty or not whole is removed and abandoned instead:
   it was never recorded, so the service delivers it again);
2. ``AsyncInstitution.download`` with a :class:`~apscores.jobs._observer.LedgerObserver`,
   which writes each step to the ledger as the client reaches it: generated -> saved ->
   recorded (or abandoned when the file never reached its name);
3. hand every recorded file not yet delivered to ``on_new`` (the command, or a Python
   callable), oldest first, until one fails (see :mod:`apscores.jobs._delivery`).

Every ledger transition is one transaction, so a run killed anywhere is finished by the
next one: each score order ends up saved exactly once and recorded, and handed to the
student system at least once. One DI code's failure,
whatever it is (the service, a full disk, the ledger), is that code's failure: the others
go on, and the summary says which failed and why in one line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import warnings
from collections.abc import Iterable
from pathlib import Path

import attrs

from apscores._atomic import PART_MARKER, describe_os_error, make_folder
from apscores.errors import (
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    ParseError,
    RecordError,
)
from apscores.files import check_file
from apscores.jobs._delivery import Counts, Deliveries, count_file, sha256_of
from apscores.jobs._hook import OnNew
from apscores.jobs._ledger import Entry, Ledger, State, default_ledger_path
from apscores.jobs._lock import DiLock, lock_paths
from apscores.jobs._observer import LedgerObserver, checkpoint, in_thread, log
from apscores.jobs._results import (
    DiResult,
    FetchEvents,
    FetchOutcome,
    FetchSummary,
    NoEvents,
    SavedFile,
)
from apscores.service import (
    AsyncClient,
    DownloadKind,
    Format,
    GeneratedFile,
    check_di_code,
    check_format,
    check_kind,
)

__all__ = ["FetchOptions", "fetch"]

LOGGER = logging.getLogger("apscores.jobs")


@attrs.frozen
class FetchOptions:
    """What a run does for every DI code (checked when the job starts)."""

    kind: DownloadKind = "new"
    format: Format = "txt"
    wait_lock: bool = False
    on_new: OnNew | None = None
    check: bool = True


async def fetch(
    client: AsyncClient,
    di_codes: Iterable[str],
    dest: str | os.PathLike[str],
    *,
    ledger: Ledger | None = None,
    options: FetchOptions | None = None,
    events: FetchEvents | None = None,
    account: str | None = None,
) -> FetchSummary:
    """Fetch, save, check and record the next file of each DI code, exactly once.

    Each DI code runs on its own (one code's failure, whatever its kind, is that code's
    :class:`DiResult`); a file is recorded with the service only once it is on disk and
    checked, and the ledger lets an interrupted run resume without fetching twice.

    The ledger keys entries by the account the client logs in with
    (:attr:`AsyncClient.account <apscores.service.AsyncClient.account>`), as College Board
    tracks downloads per account. ``account=`` is deprecated (the client knows it): it
    warns, and one that is not the client's is refused. ``ledger`` defaults to
    ``<dest>/.apscores-ledger.sqlite3``, opened and closed here. The destination folder is
    created if it is missing.
    """
    if account is not None:
        warnings.warn(
            "fetch(account=...) is deprecated: the client's own account is used",
            DeprecationWarning,
            stacklevel=2,
        )
        if account.lower() != client.account.lower():
            raise ConfigurationError(
                f"account={account!r} is not the account the client logs in with"
            )
    codes = tuple(dict.fromkeys(check_di_code(code) for code in di_codes))
    chosen = options or FetchOptions()
    chosen = attrs.evolve(chosen, kind=check_kind(chosen.kind), format=check_format(chosen.format))
    folder = Path(dest)
    make_folder(folder, "the destination")
    owned = ledger is None
    book = Ledger(default_ledger_path(folder)) if ledger is None else ledger
    try:
        job = _Job(client, client.account.lower(), book, folder, chosen, events or NoEvents())
        results = await asyncio.gather(*(job.run(code) for code in codes))
    finally:
        if owned:
            book.close()
    return FetchSummary(tuple(results))


def _remove_partials(target: Path) -> None:
    """Delete the temp files a killed download of ``target`` may have left."""
    for stray in target.parent.glob(f".{target.name}{PART_MARKER}*"):
        LOGGER.info("removing partial download %s", stray, extra={"path": stray})
        stray.unlink(missing_ok=True)


class _Job:
    """One run: a client, a ledger, a destination and the options, for many DI codes."""

    def __init__(
        self,
        client: AsyncClient,
        account: str,
        ledger: Ledger,
        dest: Path,
        options: FetchOptions,
        events: FetchEvents,
    ) -> None:
        self.client = client
        self.account = account
        self.ledger = ledger
        self.dest = dest
        self.options = options
        self.events = events

    async def run(self, di_code: str) -> DiResult:
        """One DI code, under its locks; every failure ends here, as this code's."""
        result = DiResult(di_code)
        locks = [DiLock(path) for path in lock_paths(self.ledger.path, self.dest, di_code)]
        held: list[DiLock] = []
        try:
            for lock in locks:
                if self.options.wait_lock:
                    await in_thread(lambda lock=lock: lock.acquire(wait=True))
                elif not lock.acquire(wait=False):
                    result.fail(
                        FetchOutcome.LOCKED,
                        "another apscores run is fetching this DI code; skipped",
                    )
                    LOGGER.warning("%s: %s", di_code, result.message, extra={"di_code": di_code})
                    return result
                held.append(lock)
            await self._fetch(result)
        except AuthenticationError as error:
            result.fail(FetchOutcome.AUTH, str(error))
        except OSError as error:  # StorageError too: a disk or folder problem, not the service
            result.fail(FetchOutcome.STORAGE, f"cannot write {describe_os_error(error)}")
        except sqlite3.Error as error:
            result.fail(FetchOutcome.STORAGE, f"the ledger {self.ledger.path} failed: {error}")
        except RecordError as error:
            result.fail(FetchOutcome.FAILED, str(error))
        except APScoresError as error:
            result.fail(FetchOutcome.FAILED, f"{type(error).__name__}: {error}")
        except Exception as error:  # a bug must not stop the other DI codes either
            LOGGER.debug("%s: unexpected error", di_code, exc_info=True)
            result.fail(FetchOutcome.FAILED, f"unexpected {type(error).__name__}: {error}")
        finally:
            for lock in reversed(held):
                lock.release()
            self.events.finished(result)
        if result.outcome in (FetchOutcome.AUTH, FetchOutcome.FAILED, FetchOutcome.STORAGE):
            LOGGER.error("%s: %s", di_code, result.message, extra={"di_code": di_code})
        return result

    async def _fetch(self, result: DiResult) -> None:
        di_code = result.di_code
        deliveries = Deliveries(self.ledger, self.account, di_code, self.options.on_new)
        counts: Counts = {}
        # Files are handed off oldest first and never past one that failed: those recorded
        # by earlier runs, then those an earlier run left unrecorded, then the new one.
        handed, stuck = await deliveries.run(counts)
        unfinished = await in_thread(self.ledger.unfinished, self.account, di_code)
        for entry in unfinished:
            saved = await self._finish(entry)
            if saved is not None:
                await self._after_save(result, saved, counts)
        if unfinished and not stuck:
            more, stuck = await deliveries.run(counts)
            handed += more
        self.events.step(di_code, "generating")
        observer = LedgerObserver(
            self.ledger, self.account, di_code, self.events, deliver=self.options.on_new is not None
        )
        downloaded = await self.client.institution(di_code).download(
            kind=self.options.kind,
            format=self.options.format,
            dest=self.dest,
            observer=observer,
            check=self.options.check,
        )
        if downloaded is None:
            log(di_code, "nothing_new", "no new score orders")
            self.events.step(di_code, "nothing new")
        elif not downloaded.recorded:  # an empty file, unchecked: removed, asked again next run
            result.fail(
                FetchOutcome.FAILED,
                f"download {downloaded.download_id} was empty; not recorded, re-run to fetch it",
            )
        else:
            saved = SavedFile(
                downloaded.path,
                str(downloaded.download_id),
                downloaded.size,
                downloaded.sha256,
                account=self.account,
            )
            if downloaded.records is not None and downloaded.exams is not None:
                saved.students, saved.exams = downloaded.records, downloaded.exams
                saved.counted = True
            await self._after_save(result, saved, counts)
            if not stuck:  # never hand off a newer file before an older one
                more, stuck = await deliveries.run(counts)
                handed += more
        mine = {saved.download_id for saved in result.files}
        result.delivered = len(handed)
        result.redelivered = sum(download_id not in mine for download_id in handed)
        result.undelivered = len(await deliveries.pending())
        if handed and result.outcome is FetchOutcome.NOTHING_NEW:
            result.outcome = FetchOutcome.OK  # earlier files reached the student system
        if stuck:  # the files are safe; only their hand-off waits (logged where it failed)
            result.fail(FetchOutcome.UNDELIVERED, stuck)

    def _not_whole(self, target: Path, entry: Entry) -> str:
        """Why a file a crashed run left is not a whole score file (``""`` when it is)."""
        if not self.options.check:
            return ""
        try:
            check_file(target, entry.format, name=entry.file_name)
        except ParseError as problem:
            return str(problem)
        return ""

    async def _record(self, entry: Entry) -> Entry:
        """Record a file an earlier run saved (the client's download records its own)."""
        generated = GeneratedFile(
            url="",
            file_name=entry.file_name,
            download_id=entry.download_id_value,
            format=check_format(entry.format),
            kind=check_kind(entry.kind),
        )
        try:
            await self.client.files.record(generated)
        except AuthenticationError:
            raise
        except APScoresError as error:
            raise RecordError(
                f"recording failed ({type(error).__name__}: {error})",
                download_id=entry.download_id,
                path=entry.path,
            ) from error
        checkpoint("record")
        entry = await in_thread(self.ledger.mark_recorded, entry.id)
        checkpoint("recorded")
        self.events.step(entry.di_code, "recorded")
        log(entry.di_code, "recorded", "recorded download %s", entry.download_id)
        return entry

    async def _finish(self, entry: Entry) -> SavedFile | None:
        """Finish an entry an earlier run left; the file is never downloaded again."""
        if entry.state is State.GENERATED:
            target = entry.path
            if target is not None:
                _remove_partials(target)
            if target is None or not target.exists():
                await in_thread(self.ledger.mark_abandoned, entry.id)
                log(
                    entry.di_code,
                    "abandoned",
                    "download %s never reached the disk; a new file replaces it",
                    entry.download_id,
                )
                return None
            size, sha256 = await in_thread(sha256_of, target)
            problem = "" if size == 0 else await in_thread(self._not_whole, target, entry)
            if size == 0 or problem:  # never recorded: remove it, and ask for it again
                target.unlink()
                await in_thread(self.ledger.mark_abandoned, entry.id)
                why = "an empty file" if size == 0 else f"a file that is not whole ({problem})"
                log(
                    entry.di_code,
                    "abandoned",
                    "download %s left %s; a new file replaces it",
                    entry.download_id,
                    why,
                )
                return None
            entry = await in_thread(
                lambda: self.ledger.mark_saved(entry.id, path=target, size=size, sha256=sha256)
            )
            log(entry.di_code, "adopted", "found %s saved by an earlier run", target)
        if self.options.on_new is not None and entry.delivery is None:
            entry = await in_thread(self.ledger.expect_delivery, entry.id)
        if entry.path is None:
            raise AssertionError(f"ledger entry {entry.id} is saved without a path")
        if not entry.path.exists():
            LOGGER.warning(
                "%s: %s was moved away before it was recorded; recording it anyway",
                entry.di_code,
                entry.path,
                extra={"di_code": entry.di_code},
            )
        log(entry.di_code, "resume", "recording %s left by an earlier run", entry.path)
        entry = await self._record(entry)
        return SavedFile(
            entry.path or Path(entry.file_name),
            entry.download_id,
            entry.size or 0,
            entry.sha256 or "",
            account=entry.account,
            recovered=True,
        )

    async def _after_save(self, result: DiResult, saved: SavedFile, counts: Counts) -> None:
        """A file is saved and recorded: count it for the summary and the hand-off."""
        if result.outcome is FetchOutcome.NOTHING_NEW:
            result.outcome = FetchOutcome.OK
        result.files.append(saved)
        if saved.path.exists() and not saved.counted:
            try:
                saved.students, saved.exams, saved.parse_errors = await in_thread(
                    count_file, saved.path
                )
                saved.counted = saved.parse_errors == 0
            except APScoresError as error:
                LOGGER.warning("%s: cannot read %s: %s", result.di_code, saved.path, error)
        if saved.counted:
            counts[saved.download_id] = (saved.students, saved.exams)
