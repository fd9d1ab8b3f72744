"""What a fetch run reports: per DI code, its outcome and the files it saved."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, Protocol

import attrs

__all__ = ["DiResult", "FetchEvents", "FetchOutcome", "FetchSummary", "SavedFile"]


class FetchOutcome(str, enum.Enum):
    """How one DI code ended."""

    OK = "ok"  # at least one file saved and recorded, or handed off
    NOTHING_NEW = "nothing_new"  # the service had nothing to deliver
    FAILED = "failed"  # this code failed (the others went on); re-running is safe
    AUTH = "auth"  # the login, or a fresh token, was refused
    LOCKED = "locked"  # another run holds this code's lock; skipped
    STORAGE = "storage"  # a local file or folder (or the ledger) cannot be written or read
    UNDELIVERED = "undelivered"  # files are saved and recorded; their hand-off failed


#: The most serious outcome wins the run's: STORAGE, AUTH, FAILED, UNDELIVERED, LOCKED, OK,
#: NOTHING_NEW.
_SEVERITY = (
    FetchOutcome.NOTHING_NEW,
    FetchOutcome.OK,
    FetchOutcome.LOCKED,
    FetchOutcome.UNDELIVERED,
    FetchOutcome.FAILED,
    FetchOutcome.AUTH,
    FetchOutcome.STORAGE,
)


@attrs.define
class SavedFile:
    """A file this run saved (or finished from an earlier run).

    ``students`` and ``exams`` come from the file check of the download (or a read of the
    file when it was not checked); ``account`` is who generated and recorded it.
    """

    path: Path
    download_id: str
    size: int
    sha256: str
    account: str = ""
    students: int = 0
    exams: int = 0
    recovered: bool = False
    parse_errors: int = 0
    counted: bool = False

    def as_json(self) -> dict[str, Any]:
        """For ``apscores fetch --json``."""
        return {
            "path": str(self.path),
            "download_id": self.download_id,
            "account": self.account,
            "size": self.size,
            "sha256": self.sha256,
            "students": self.students,
            "exams": self.exams,
            "recovered": self.recovered,
            "parse_errors": self.parse_errors,
        }


@attrs.define
class DiResult:
    """How one DI code ended, the files it saved and, on failure, why (one line)."""

    di_code: str
    outcome: FetchOutcome = FetchOutcome.NOTHING_NEW
    files: list[SavedFile] = attrs.Factory(list)
    message: str = ""
    #: Files this run handed to ``on_new`` (this run's and earlier runs').
    delivered: int = 0
    #: Of those, files earlier runs saved and recorded but could not hand off.
    redelivered: int = 0
    #: Recorded files whose hand-off to ``on_new`` has not succeeded yet (all runs').
    undelivered: int = 0

    @property
    def students(self) -> int:
        """Students in this run's files."""
        return sum(f.students for f in self.files)

    @property
    def exams(self) -> int:
        """Exams in this run's files."""
        return sum(f.exams for f in self.files)

    def fail(self, outcome: FetchOutcome, message: str) -> None:
        """Note a failure (the more serious of two failures stays)."""
        if _SEVERITY.index(outcome) >= _SEVERITY.index(self.outcome):
            self.outcome = outcome
        self.message = message

    def as_json(self) -> dict[str, Any]:
        """For ``apscores fetch --json`` (``exit_code`` is added by the command)."""
        return {
            "di_code": self.di_code,
            "status": self.outcome.value,
            "files": [f.as_json() for f in self.files],
            "students": self.students,
            "exams": self.exams,
            "delivered": self.delivered,
            "redelivered": self.redelivered,
            "undelivered": self.undelivered,
            "message": self.message,
        }


@attrs.frozen
class FetchSummary:
    """The whole run: one :class:`DiResult` per DI code, in the order asked."""

    results: tuple[DiResult, ...]

    @property
    def outcome(self) -> FetchOutcome:
        """The most serious outcome of any DI code (nothing new when there were none)."""
        return max(
            (r.outcome for r in self.results), key=_SEVERITY.index, default=FetchOutcome.NOTHING_NEW
        )

    @property
    def files(self) -> list[SavedFile]:
        """Every file saved, in DI-code order."""
        return [f for result in self.results for f in result.files]


class FetchEvents(Protocol):
    """What a progress display is told while the job runs (all optional to act on)."""

    def step(self, di_code: str, label: str) -> None:
        """A DI code moved on: ``generating``, ``downloading``, ``recorded``, ``nothing new``..."""

    def received(self, di_code: str, size: int, total: int | None) -> None:
        """Bytes of the current download so far, and its announced size."""

    def finished(self, result: DiResult) -> None:
        """A DI code is done."""


class NoEvents:
    """A :class:`FetchEvents` that shows nothing (cron, pipes, ``--quiet``)."""

    def step(self, di_code: str, label: str) -> None:
        """Shows nothing."""

    def received(self, di_code: str, size: int, total: int | None) -> None:
        """Shows nothing."""

    def finished(self, result: DiResult) -> None:
        """Shows nothing."""
