"""Handing recorded files to the student system, in order, until each hand-off succeeds.

Recording a file with College Board moves the account's ``new`` watermark: from then on
the service will not offer it again, so the ledger is what remembers that the student
system has not got it yet. A file is ``pending`` delivery from the moment it is generated
(when the run has an ``on_new`` hand-off) until the hand-off succeeds. Every run hands off
the pending files of a DI code oldest first and stops at the first failure, so the
student system never gets a newer file before an older one; the failed file and those
after it stay pending for the next run. Delivery is therefore at least once: a run killed
during the hand-off gives the file again next time, never zero times.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from apscores.errors import APScoresError
from apscores.files import read
from apscores.jobs._hook import HookOutcome, NewFile, OnNew, hand_off
from apscores.jobs._ledger import Entry, Ledger
from apscores.jobs._observer import checkpoint, in_thread, log

__all__ = ["Counts", "Deliveries", "count_file", "sha256_of"]

LOGGER = logging.getLogger("apscores.jobs")

#: Students and exams of a file this run counted, by download id.
Counts = dict[str, tuple[int, int]]


def sha256_of(path: Path) -> tuple[int, str]:
    """The size and SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def count_file(path: Path) -> tuple[int, int, int]:
    """Students, exams and unreadable lines of a file (one that was saved unchecked)."""
    students = exams = 0
    with read(path, errors="collect") as reader:
        for report in reader:
            students += 1
            exams += len(report.exams)
        return students, exams, len(reader.errors)


class Deliveries:
    """The hand-offs of one run for one (account, DI code)."""

    def __init__(self, ledger: Ledger, account: str, di_code: str, on_new: OnNew | None) -> None:
        self.ledger = ledger
        self.account = account
        self.di_code = di_code
        self.on_new = on_new

    async def pending(self) -> list[Entry]:
        """Recorded files not handed off yet, oldest first."""
        entries: list[Entry] = await in_thread(self.ledger.undelivered, self.account, self.di_code)
        return entries

    async def run(self, counts: Counts) -> tuple[list[str], str]:
        """Hand off every pending file in order: the download ids handed off, and ``""``
        when none is left (else one line saying why not)."""
        pending = await self.pending()
        if not pending:
            return [], ""
        if self.on_new is None:
            return [], (
                f"{_files(len(pending))} recorded but not handed to the student system"
                " (this run has no --on-new); `apscores ledger --undelivered` lists them"
            )
        earlier = [entry for entry in pending if entry.download_id not in counts]
        if earlier:
            log(
                self.di_code,
                "redeliver",
                "handing off %s an earlier run left undelivered",
                _files(len(earlier)),
            )
        for done, entry in enumerate(pending):
            problem = await self._deliver(entry, counts.get(entry.download_id))
            if problem:
                left = len(pending) - done - 1
                after = f"; {_files(left)} after it wait" if left else ""
                handed = [e.download_id for e in pending[:done]]
                return handed, f"{problem}{after}; every run retries until the hand-off succeeds"
        return [e.download_id for e in pending], ""

    async def _deliver(self, entry: Entry, counted: tuple[int, int] | None) -> str:
        """One hand-off; ``""`` when it succeeded, else one line saying why not."""
        assert self.on_new is not None
        if entry.path is None or not entry.path.is_file():
            return await self._failed(entry, f"{entry.path or entry.file_name} is missing")
        size, digest = await in_thread(sha256_of, entry.path)
        if entry.sha256 and (digest != entry.sha256 or size != entry.size):
            return await self._failed(entry, f"{entry.path} changed after it was saved")
        if entry.delivery_env is not None:
            new_file = NewFile.from_variables(entry.delivery_env)
        else:
            new_file = await in_thread(self._describe, entry, digest, counted)
        entry = await in_thread(self.ledger.delivery_attempt, entry.id, new_file.variables())
        checkpoint("deliver")
        outcome: HookOutcome = await hand_off(self.on_new, new_file)
        if not outcome.ok:
            why = (
                "could not start" if outcome.returncode is None else f"exited {outcome.returncode}"
            )
            LOGGER.error(
                "%s: --on-new %s for %s%s",
                self.di_code,
                why,
                entry.path,
                f": {outcome.output}" if outcome.output else "",
                extra={"di_code": self.di_code, "event": "hand_off_failed"},
            )
            return await self._failed(entry, f"--on-new {why} for {entry.path}")
        await in_thread(self.ledger.mark_delivered, entry.id)
        checkpoint("delivered")
        log(self.di_code, "delivered", "--on-new done for %s", entry.path)
        if outcome.output:
            LOGGER.info("%s: --on-new said: %s", self.di_code, outcome.output)
        return ""

    def _describe(self, entry: Entry, digest: str, counted: tuple[int, int] | None) -> NewFile:
        """What the first hand-off of ``entry`` gets (counted now if this run did not)."""
        assert entry.path is not None
        students: int | None = None
        exams: int | None = None
        if counted is None:
            try:
                counted = count_file(entry.path)[:2]
            except APScoresError as error:  # the hand-off still happens, uncounted
                LOGGER.warning("%s: cannot read %s: %s", self.di_code, entry.path, error)
        if counted is not None:
            students, exams = counted
        return NewFile(
            path=entry.path,
            di_code=entry.di_code,
            download_id=entry.download_id,
            format=entry.format,
            sha256=entry.sha256 or digest,
            students=students,
            exams=exams,
        )

    async def _failed(self, entry: Entry, why: str) -> str:
        await in_thread(self.ledger.delivery_failed, entry.id, why)
        return why


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"
