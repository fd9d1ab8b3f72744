"""The jobs built on the client and the files: the exactly-once fetch, its ledger and locks.

- ``fetch``: :func:`fetch`, many DI codes at once, crash-safe, as a Python API;
- ``ledger``: the SQLite download ledger (generated -> saved -> recorded, and the
  hand-off: pending -> delivered);
- ``lock``: per-DI-code locks that cover the ledger and the destination;
- what a run reports (:class:`FetchSummary`, :class:`DiResult`), what ``on_new`` gets
  (:data:`HOOK_VARIABLES` for a command, :class:`NewFile` for a Python callable) and the
  ledger observer, from private modules.
"""

from __future__ import annotations

from apscores.jobs._hook import HOOK_VARIABLES, NewFile, OnNew
from apscores.jobs._observer import LedgerObserver
from apscores.jobs._results import DiResult, FetchEvents, FetchSummary, Outcome, SavedFile
from apscores.jobs.fetch import FetchOptions, fetch
from apscores.jobs.ledger import (
    DEFAULT_LEDGER_NAME,
    Delivery,
    Entry,
    Ledger,
    State,
    default_ledger_path,
)

__all__ = [
    "DEFAULT_LEDGER_NAME",
    "HOOK_VARIABLES",
    "Delivery",
    "DiResult",
    "Entry",
    "FetchEvents",
    "FetchOptions",
    "FetchSummary",
    "Ledger",
    "LedgerObserver",
    "NewFile",
    "OnNew",
    "Outcome",
    "SavedFile",
    "State",
    "default_ledger_path",
    "fetch",
]
