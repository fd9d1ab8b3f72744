"""``Institution.download`` as a generator of steps, written once for both clients.

The flow decides (generate, save, check, record, generate again after an expired URL or a
file that is not whole, tell the observer); the client performs each yielded step and
sends back its outcome, or throws its exception in. So the sequence, and the rule that a
file is recorded only once it is saved and checked, exist in one place (:func:`download_flow`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Protocol

import attrs

from apscores.errors import APScoresError, DownloadURLExpired, IncompleteFileError, RecordError
from apscores.service import _guesses as guess
from apscores.service._download import BodyCheck, Placement, make_result
from apscores.service._models import DownloadResult, GeneratedFile
from apscores.service._settings import DownloadKind, Format

__all__ = [
    "AsyncBaseDownloadObserver",
    "AsyncDownloadObserver",
    "AsyncObserver",
    "BaseDownloadObserver",
    "DownloadFlow",
    "DownloadObserver",
    "Fetch",
    "FlowRunner",
    "Generate",
    "Notify",
    "Progress",
    "Record",
    "Saved",
    "Step",
    "SyncObserver",
    "download_flow",
    "notify",
]

logger = logging.getLogger("apscores")


class DownloadObserver(Protocol):
    """Told at each step of ``Institution.download``, in order.

    A run is ``generated`` then either ``abandoned`` (and, for an expired URL or a file that
    failed the check with tries left, ``generated`` again for a fresh file) or ``saved``
    then ``recorded``. ``recorded`` is missing when recording failed (``RecordError``) or
    the file is empty and unchecked. The observer's own exceptions propagate to the caller:
    raising in ``generated`` stops before the download, in ``saved`` before recording.
    Errors that are not apscores errors (a full disk, cancellation) propagate without
    ``abandoned``.
    """

    def generated(self, generated: GeneratedFile, target: Path) -> None:
        """The service generated a file; ``target`` is where it is about to be saved."""

    def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """That file never reached its final name (expired URL, broken or incomplete
        download); nothing was recorded."""

    def saved(self, result: DownloadResult) -> None:
        """The file is complete and checked under ``result.path`` (which may differ from
        ``target`` if another process took that name meanwhile); recording comes next."""

    def recorded(self, result: DownloadResult) -> None:
        """The service was told the download succeeded."""

    # Optional: ``received(generated, size, total)`` for every chunk of the body (bytes so
    # far, and the announced size or None); a progress bar uses it. It is not awaited.


class AsyncDownloadObserver(Protocol):
    """:class:`DownloadObserver` for ``AsyncClient``: the same calls, awaited, so an
    observer can do its I/O (a database write) without blocking the event loop.
    ``AsyncClient`` accepts a plain :class:`DownloadObserver` too."""

    async def generated(self, generated: GeneratedFile, target: Path) -> None:
        """See :meth:`DownloadObserver.generated`."""

    async def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """See :meth:`DownloadObserver.abandoned`."""

    async def saved(self, result: DownloadResult) -> None:
        """See :meth:`DownloadObserver.saved`."""

    async def recorded(self, result: DownloadResult) -> None:
        """See :meth:`DownloadObserver.recorded`."""


class BaseDownloadObserver:
    """A :class:`DownloadObserver` to subclass: override only the calls you need."""

    def generated(self, generated: GeneratedFile, target: Path) -> None:
        """Does nothing."""

    def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """Does nothing."""

    def saved(self, result: DownloadResult) -> None:
        """Does nothing."""

    def recorded(self, result: DownloadResult) -> None:
        """Does nothing."""


class AsyncBaseDownloadObserver:
    """An :class:`AsyncDownloadObserver` to subclass: override only the calls you need."""

    async def generated(self, generated: GeneratedFile, target: Path) -> None:
        """Does nothing."""

    async def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """Does nothing."""

    async def saved(self, result: DownloadResult) -> None:
        """Does nothing."""

    async def recorded(self, result: DownloadResult) -> None:
        """Does nothing."""


@attrs.frozen
class Generate:
    """Step: call ``fileGeneration``; the outcome is a :class:`GeneratedFile` or ``None``."""

    di_code: str
    format: Format
    kind: DownloadKind


@attrs.frozen
class Fetch:
    """Step: download into ``placement`` atomically (checking the file first when
    ``check``); the outcome is :class:`Saved`."""

    generated: GeneratedFile
    placement: Placement
    check: bool = True


@attrs.frozen
class Record:
    """Step: call ``webServiceDownloaded``; the outcome is ``None``."""

    generated: GeneratedFile


@attrs.frozen
class Notify:
    """Step: tell the observer ``event`` (a :class:`DownloadObserver` method) with ``args``."""

    event: str
    args: tuple[object, ...]


@attrs.frozen
class Saved:
    """A complete file under its final name: its size and hash from the stream, and what
    the file check counted (``None`` when it was not asked for)."""

    path: Path
    body: BodyCheck
    records: int | None = None
    exams: int | None = None


#: An observer's optional ``received(generated, bytes so far, bytes announced or None)``,
#: called for every chunk of a download as it streams (keep it quick: it must not block).
Progress = Callable[[GeneratedFile, int, "int | None"], object]

#: What each client accepts as an observer (``AsyncClient`` awaits what needs awaiting).
AsyncObserver = AsyncDownloadObserver | DownloadObserver
SyncObserver = DownloadObserver

Step = Generate | Fetch | Record | Notify
DownloadFlow = Generator[Step, object, DownloadResult | None]


def download_flow(
    di_code: str,
    format: Format,
    kind: DownloadKind,
    *,
    place: Callable[[GeneratedFile], Placement],
    check: bool = True,
) -> DownloadFlow:
    """Generate -> save (and check) -> record as one safe unit.

    A step that fails is thrown back in: an expired URL or a file that fails the check
    abandons the file and generates a fresh one (at most ``MAX_REGENERATIONS`` times); a
    failed record becomes :class:`RecordError` naming the saved file. Returns ``None``
    when there is nothing new.
    """
    regenerated = 0
    while True:
        generated = yield Generate(di_code, format, kind)
        if generated is None:
            return None
        assert isinstance(generated, GeneratedFile)
        placement = place(generated)
        yield Notify("generated", (generated, placement.path))
        try:
            saved = yield Fetch(generated, placement, check)
        except APScoresError as error:
            yield Notify("abandoned", (generated, error))
            again = isinstance(error, (DownloadURLExpired, IncompleteFileError))
            if not again or regenerated >= guess.MAX_REGENERATIONS:
                raise
            regenerated += 1
            logger.info("%s; generating again (%d)", error, regenerated)
            continue
        assert isinstance(saved, Saved)
        result = make_result(generated, saved.path, saved.body, saved.records, saved.exams)
        if not result.recorded:
            logger.warning(
                "%s is empty: saved but not recorded (it may be a failed transfer)", result.path
            )
        yield Notify("saved", (result,))
        if not result.recorded:
            return result
        try:
            yield Record(generated)
        except APScoresError as error:
            raise RecordError(
                f"the file was saved but recording the download failed ({error})",
                download_id=str(generated.download_id),
                path=result.path,
            ) from error
        yield Notify("recorded", (result,))
        return result


class FlowRunner:
    """Drives a :data:`DownloadFlow` for a client: ``step`` is what to perform next
    (``None`` once ``result`` is set); report each outcome with :meth:`send` or the
    step's exception with :meth:`throw`.
    """

    def __init__(self, flow: DownloadFlow) -> None:
        self._flow = flow
        self.result: DownloadResult | None = None
        self.step: Step | None = self._advance(lambda: next(flow))

    def _advance(self, move: Callable[[], Step]) -> Step | None:
        try:
            return move()
        except StopIteration as stop:
            self.result = stop.value
            return None

    def send(self, outcome: object) -> None:
        self.step = self._advance(lambda: self._flow.send(outcome))

    def throw(self, error: Exception) -> None:
        self.step = self._advance(lambda: self._flow.throw(error))


def notify(observer: object, step: Notify) -> object:
    """Call the observer's method for ``step`` (its result may be awaitable)."""
    if observer is None:
        return None
    method: Callable[..., object | Awaitable[object]] = getattr(observer, step.event)
    return method(*step.args)
