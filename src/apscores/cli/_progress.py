"""The fetch progress display: bytes, speed and time left per DI code, with ``rich``.

Shown only when stderr is a terminal and neither ``--quiet`` nor ``--json`` is given, so
cron mail and pipes get log lines only. One row per DI code, all at once (the codes are
fetched concurrently); the row says the step (generating, downloading, recording...) and,
while a file streams, its bytes, speed and time left.
"""

from __future__ import annotations

from typing import IO, Any

from apscores.jobs import DiResult, FetchOutcome

__all__ = ["FetchProgress"]


class FetchProgress:
    """A :class:`~apscores.jobs.FetchEvents` that draws ``rich`` progress bars on ``stream``."""

    def __init__(self, stream: IO[str], di_codes: tuple[str, ...]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("DI {task.fields[di]}"),
            TextColumn("{task.description:<12}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._tasks: dict[str, Any] = {
            code: self._progress.add_task("waiting", di=code, total=None) for code in di_codes
        }

    def __enter__(self) -> FetchProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def step(self, di_code: str, label: str) -> None:
        """Show the DI code's current step."""
        self._progress.update(self._tasks[di_code], description=label)

    def received(self, di_code: str, size: int, total: int | None) -> None:
        """Bytes of the current download so far."""
        self._progress.update(self._tasks[di_code], completed=size, total=total)

    def finished(self, result: DiResult) -> None:
        """The DI code is done: its outcome, bar full."""
        labels = {FetchOutcome.OK: "done", FetchOutcome.NOTHING_NEW: "nothing new"}
        task = self._tasks[result.di_code]
        total = self._progress.tasks[task].total or 1
        label = labels.get(result.outcome, result.outcome.value)
        self._progress.update(task, description=label, completed=total, total=total)
