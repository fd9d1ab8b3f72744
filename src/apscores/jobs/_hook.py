"""The ``on_new`` hand-off: give each new file to the student system, at least once.

``on_new`` is a command (run without a shell, the file's path as its last argument) or,
from Python, a callable taking a :class:`NewFile` (plain or ``async``; it fails by
raising). The command's environment is the job's own minus every ``APSCORES_*`` variable
the job was given (the password among them), plus the documented variables about the file:

========================  ============================================
``APSCORES_FILE``         the saved file's path
``APSCORES_DI_CODE``      the DI code
``APSCORES_DOWNLOAD_ID``  the download id the service gave the file
``APSCORES_FORMAT``       ``txt`` or ``csv``
``APSCORES_RECORDS``      students in the file (empty when not counted)
``APSCORES_EXAMS``        exams in the file (empty when not counted)
``APSCORES_SHA256``       the SHA-256 of the file as saved
========================  ============================================

A hand-off is retried on every run until it succeeds, with the same values as the first
time; the download id and the SHA-256 let the receiving side make it idempotent.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeAlias

import attrs

__all__ = ["HOOK_VARIABLES", "HookOutcome", "NewFile", "OnNew", "hand_off", "hook_environment"]

HOOK_VARIABLES = (
    "APSCORES_FILE",
    "APSCORES_DI_CODE",
    "APSCORES_DOWNLOAD_ID",
    "APSCORES_FORMAT",
    "APSCORES_RECORDS",
    "APSCORES_EXAMS",
    "APSCORES_SHA256",
)


@attrs.frozen
class NewFile:
    """A file handed to ``on_new``: what an idempotent import needs, never a secret.

    Attributes:
        path: where the file was saved.
        di_code: the DI code it was sent to.
        download_id: the service's id for this download (unique per file).
        format: ``"txt"`` or ``"csv"``.
        sha256: the SHA-256 of the file as saved (hex).
        students: students in the file, ``None`` when not counted.
        exams: exams in the file, ``None`` when not counted.
    """

    path: Path
    di_code: str
    download_id: str
    format: str
    sha256: str
    students: int | None = None
    exams: int | None = None

    def variables(self) -> dict[str, str]:
        """The ``APSCORES_*`` variables a command gets (see :data:`HOOK_VARIABLES`)."""
        return {
            "APSCORES_FILE": str(self.path),
            "APSCORES_DI_CODE": self.di_code,
            "APSCORES_DOWNLOAD_ID": self.download_id,
            "APSCORES_FORMAT": self.format,
            "APSCORES_RECORDS": "" if self.students is None else str(self.students),
            "APSCORES_EXAMS": "" if self.exams is None else str(self.exams),
            "APSCORES_SHA256": self.sha256,
        }

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> NewFile:
        """The inverse of :meth:`variables` (the ledger keeps the first hand-off's)."""
        records = variables.get("APSCORES_RECORDS", "")
        exams = variables.get("APSCORES_EXAMS", "")
        return cls(
            path=Path(variables["APSCORES_FILE"]),
            di_code=variables["APSCORES_DI_CODE"],
            download_id=variables["APSCORES_DOWNLOAD_ID"],
            format=variables["APSCORES_FORMAT"],
            sha256=variables.get("APSCORES_SHA256", ""),
            students=int(records) if records else None,
            exams=int(exams) if exams else None,
        )


#: What ``on_new`` may be: a command line, or a callable (plain or ``async``) that raises
#: when it fails.
OnNew: TypeAlias = "str | Callable[[NewFile], object]"


@attrs.frozen
class HookOutcome:
    """How the hand-off ended: ``returncode`` (0 when it worked; ``None`` if it could not
    start) and ``output``, one short line for the log."""

    returncode: int | None
    output: str

    @property
    def ok(self) -> bool:
        """True when it ran and succeeded."""
        return self.returncode == 0


def hook_environment(
    about: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The command's environment: ours without any ``APSCORES_*``, plus ``about``."""
    base = os.environ if environ is None else environ
    kept = {key: value for key, value in base.items() if not key.upper().startswith("APSCORES_")}
    return {**kept, **about}


async def hand_off(on_new: OnNew, new_file: NewFile) -> HookOutcome:
    """Give ``new_file`` to ``on_new``; every failure is an outcome, never an exception."""
    if isinstance(on_new, str):
        return await _run_command(on_new, new_file)
    try:
        returned = on_new(new_file)
        if inspect.isawaitable(returned):
            await returned
    except Exception as error:  # the caller's code: its failure is this file's failure
        return HookOutcome(1, f"raised {type(error).__name__}")
    return HookOutcome(0, "")


async def _run_command(command: str, new_file: NewFile) -> HookOutcome:
    """Run ``command`` with the path as its last argument (no shell), stdin closed."""
    argv = [*shlex.split(command), str(new_file.path)]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=hook_environment(new_file.variables()),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as error:
        return HookOutcome(None, f"cannot run it: {error.strerror or error}")
    output, _ = await process.communicate()
    return HookOutcome(process.returncode, output.decode(errors="replace").strip()[-500:])
