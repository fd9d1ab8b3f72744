"""Every exit status of the ``apscores`` command, in one place, for schedulers to act on.

=====  ==============  ===============================================================
code   name            meaning
=====  ==============  ===============================================================
0      OK              done; at least one file was saved and recorded (or checks passed)
1      ERROR           an unexpected error (a bug: please report it with the log)
2      USAGE           bad options or configuration, or a file that is not a whole score file
3      NOTHING_NEW     every DI code ran fine and there was nothing new to download
4      AUTH            login refused: see ``apscores doctor`` for the checklist
5      PARTIAL         one or more DI codes failed; the others finished. Re-running is safe
6      LOCKED          another run holds the lock of a DI code; that code was skipped
7      STORAGE         a local file or folder cannot be written or read (full disk, read-only,
                       no permission, too large): nothing was recorded with the service
8      REVIEW          some students wait for a person's review or match no student of the
                       roster (``match``; ``export`` with ``--roster`` or ``--crosswalk``)
130    INTERRUPTED     stopped with Ctrl-C; re-running is safe
141    PIPE_CLOSED     the program reading the output stopped reading (``| head``): the
                       output is cut short, quietly, as SIGPIPE ends other tools (128 + 13)
143    TERMINATED      stopped by SIGTERM (systemd, a cron or CI timeout, ``kill``): the
                       same clean stop as Ctrl-C; re-running is safe (128 + 15)
=====  ==============  ===============================================================

When DI codes end differently, the most serious wins: STORAGE, AUTH, PARTIAL, LOCKED, OK,
NOTHING_NEW (in that order).
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode", "worst"]


class ExitCode(enum.IntEnum):
    """The exit statuses of ``apscores`` (see the module docstring)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    NOTHING_NEW = 3
    AUTH = 4
    PARTIAL = 5
    LOCKED = 6
    STORAGE = 7
    REVIEW = 8
    INTERRUPTED = 130
    PIPE_CLOSED = 141
    TERMINATED = 143


_SEVERITY = (
    ExitCode.NOTHING_NEW,
    ExitCode.OK,
    ExitCode.LOCKED,
    ExitCode.PARTIAL,
    ExitCode.AUTH,
    ExitCode.STORAGE,
    ExitCode.USAGE,
    ExitCode.ERROR,
)


def worst(codes: list[ExitCode]) -> ExitCode:
    """The exit status of a run whose DI codes ended with ``codes`` (none: nothing new)."""
    return max(codes, key=_SEVERITY.index, default=ExitCode.NOTHING_NEW)
