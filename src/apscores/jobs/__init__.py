"""The jobs built on the client and the files: the exactly-once fetch, its ledger and locks.

- :func:`fetch`: many DI codes at once, crash-safe, as a Python API (``_fetch``);
- :class:`Ledger`: the SQLite download ledger (generated -> saved -> recorded, and the
  hand-off: pending -> delivered) (``_ledger``, ``_delivery``);
- :class:`DiLock` / :func:`lock_paths`: per-DI-code locks that cover the ledger and the
  destination (``_lock``);
- what a run reports (:class:`FetchSummary`, :class:`DiResult`, :class:`FetchOutcome`),
  what ``on_new`` gets (:data:`HOOK_VARIABLES` for a command, :class:`NewFile` for a
  Python callable) and the ledger observer.
"""

from __future__ import annotations

from apscores._public import deprecated_alias, publish
from apscores.jobs._fetch import FetchOptions, fetch
from apscores.jobs._hook import HOOK_VARIABLES, NewFile, OnNew
from apscores.jobs._ledger import (
    DEFAULT_LEDGER_NAME,
    Delivery,
    Entry,
    Ledger,
    State,
    default_ledger_path,
)
from apscores.jobs._lock import DiLock, lock_paths
from apscores.jobs._observer import LedgerObserver
from apscores.jobs._results import DiResult, FetchEvents, FetchOutcome, FetchSummary, SavedFile

__all__ = [
    "DEFAULT_LEDGER_NAME",
    "HOOK_VARIABLES",
    "Delivery",
    "DiLock",
    "DiResult",
    "Entry",
    "FetchEvents",
    "FetchOptions",
    "FetchOutcome",
    "FetchSummary",
    "Ledger",
    "LedgerObserver",
    "NewFile",
    "OnNew",
    "SavedFile",
    "State",
    "default_ledger_path",
    "fetch",
    "lock_paths",
]

publish(__name__, globals())
__getattr__ = deprecated_alias(__name__, {"Outcome": (__name__, "FetchOutcome")})
