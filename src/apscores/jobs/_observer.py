"""Writing each step of a download to the ledger, as the client reaches it.

An :class:`~apscores.service.AsyncDownloadObserver`: every ledger write runs in a worker
thread, so the SQLite ``fsync`` of one DI code never stalls the downloads of the others.
The test hook :func:`checkpoint` lets the crash test kill the process at each boundary.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread

from apscores.errors import APScoresError, DownloadURLExpired
from apscores.jobs._ledger import Entry, Ledger
from apscores.jobs._results import FetchEvents
from apscores.service import DownloadResult, GeneratedFile

__all__ = ["KILL_AT_ENV", "LedgerObserver", "checkpoint"]

LOGGER = logging.getLogger("apscores.jobs")

#: Test seam (private, not public API; the crash tests use it): when this variable names a
#: step boundary, the process kills itself with
#: SIGKILL right there (no cleanup). The boundaries: ``generate`` (a file was generated,
#: the ledger does not know it yet), ``generated`` (ledger: generated), ``download`` (the
#: file is saved, the ledger does not know it yet), ``saved`` (ledger: saved), ``record``
#: (the service was told, the ledger does not know it yet), ``recorded`` (ledger: recorded),
#: ``deliver`` (the hand-off is about to start) and ``delivered`` (ledger: delivered).
KILL_AT_ENV = "APSCORES_TEST_KILL_AT"


def checkpoint(step: str) -> None:
    """A step boundary; dies here (SIGKILL) if the test hook asks for it."""
    if os.environ.get(KILL_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def log(di_code: str, event: str, message: str, *args: object, **extra: Any) -> None:
    """One INFO line for a DI code, with ``event`` for JSON logs."""
    LOGGER.info(
        "%s: " + message, di_code, *args, extra={"di_code": di_code, "event": event, **extra}
    )


async def in_thread(function: Callable[..., Any], *args: object) -> Any:
    """Run a blocking call (SQLite, hashing a file) without blocking the event loop."""
    return await anyio.to_thread.run_sync(function, *args)


class LedgerObserver:
    """Ledger entries for the files of one DI code: generated -> saved -> recorded.

    ``entry`` is the current file's entry. An empty file (only possible without the file
    check) is removed and its entry abandoned: the next run asks for it again.
    """

    def __init__(
        self,
        ledger: Ledger,
        account: str,
        di_code: str,
        events: FetchEvents,
        *,
        deliver: bool = False,
    ) -> None:
        self.ledger = ledger
        self.deliver = deliver
        self.account = account
        self.di_code = di_code
        self.events = events
        self.entry: Entry | None = None

    def _current(self) -> Entry:
        assert self.entry is not None, "the client reports generated() first"
        return self.entry

    async def generated(self, generated: GeneratedFile, target: Path) -> None:
        """Ledger: generated, with the path the file is about to get."""
        checkpoint("generate")
        self.entry = await in_thread(
            lambda: self.ledger.start(
                self.account,
                self.di_code,
                generated.download_id,
                fmt=generated.format,
                kind=generated.kind,
                file_name=generated.file_name,
                path=target,
                deliver=self.deliver,
            )
        )
        checkpoint("generated")
        self.events.step(self.di_code, "downloading")
        log(self.di_code, "generated", "generated %s", generated.file_name)

    async def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """Ledger: abandoned (the client removed its temp file; nothing reached the disk)."""
        await in_thread(self.ledger.mark_abandoned, self._current().id)
        event = "expired" if isinstance(error, DownloadURLExpired) else "abandoned"
        log(self.di_code, event, "download %s abandoned: %s", generated.download_id, error)

    async def saved(self, result: DownloadResult) -> None:
        """Ledger: saved, with the size and hash computed while the file streamed."""
        checkpoint("download")
        entry = self._current()
        if not result.recorded:
            result.path.unlink(missing_ok=True)
            self.entry = await in_thread(self.ledger.mark_abandoned, entry.id)
            LOGGER.warning(
                "%s: download %s was empty; removed and not recorded, the next run asks again",
                self.di_code,
                result.download_id,
                extra={"di_code": self.di_code, "event": "empty"},
            )
            return
        self.entry = await in_thread(
            lambda: self.ledger.mark_saved(
                entry.id, path=result.path, size=result.size, sha256=result.sha256
            )
        )
        checkpoint("saved")
        self.events.step(self.di_code, "recording")
        log(
            self.di_code, "saved", "saved %s (%d bytes)", result.path, result.size, path=result.path
        )

    async def recorded(self, result: DownloadResult) -> None:
        """Ledger: recorded."""
        checkpoint("record")
        self.entry = await in_thread(self.ledger.mark_recorded, self._current().id)
        checkpoint("recorded")
        self.events.step(self.di_code, "recorded")
        log(self.di_code, "recorded", "recorded download %s", result.download_id)

    def received(self, generated: GeneratedFile, size: int, total: int | None) -> None:
        """Bytes so far, for a progress bar."""
        self.events.received(self.di_code, size, total)
