"""The ``on_new`` command: run something with each new file, without a shell or a secret.

The command gets the file's path as its last argument and an environment that is the
job's own, minus every ``APSCORES_*`` variable the job was given (the password among
them), plus the documented variables about the file:

=======================  ============================================
``APSCORES_FILE``        the saved file's path
``APSCORES_DI_CODE``     the DI code
``APSCORES_DOWNLOAD_ID`` the download id the service gave the file
``APSCORES_FORMAT``      ``txt`` or ``csv``
``APSCORES_RECORDS``     students in the file (empty when not counted)
``APSCORES_EXAMS``       exams in the file (empty when not counted)
=======================  ============================================
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Mapping

import attrs

__all__ = ["HOOK_VARIABLES", "HookOutcome", "hook_environment", "run_hook"]

HOOK_VARIABLES = (
    "APSCORES_FILE",
    "APSCORES_DI_CODE",
    "APSCORES_DOWNLOAD_ID",
    "APSCORES_FORMAT",
    "APSCORES_RECORDS",
    "APSCORES_EXAMS",
)


@attrs.frozen
class HookOutcome:
    """How the command ended: its exit status (``None`` if it could not start) and the
    last of what it printed."""

    returncode: int | None
    output: str

    @property
    def ok(self) -> bool:
        """True when it ran and exited 0."""
        return self.returncode == 0


def hook_environment(
    about: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The command's environment: ours without any ``APSCORES_*``, plus ``about``."""
    base = os.environ if environ is None else environ
    kept = {key: value for key, value in base.items() if not key.upper().startswith("APSCORES_")}
    return {**kept, **about}


async def run_hook(command: str, path: str, about: Mapping[str, str]) -> HookOutcome:
    """Run ``command`` with ``path`` as its last argument (no shell), stdin closed."""
    argv = [*shlex.split(command), path]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=hook_environment(about),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as error:
        return HookOutcome(None, f"cannot run it: {error.strerror or error}")
    output, _ = await process.communicate()
    return HookOutcome(process.returncode, output.decode(errors="replace").strip()[-500:])
