"""apscores: get and read the AP score reports College Board sends to colleges.

The names below are the everyday surface; each lives in its own layer (``service``,
``files``, ``tables``...) and is imported on first use (PEP 562), so ``import apscores``
and the pytest plugin cost next to nothing. Everything else is in the submodules:
``apscores.errors`` (the whole exception tree), ``apscores.sandbox``, ``apscores.jobs``...
What is public is written in ``docs/api.md`` ("What is public").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscores.catalog import UnknownCodeWarning
    from apscores.changes import merge
    from apscores.credit import CreditPolicy
    from apscores.errors import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APScoresError,
        AuthenticationError,
        ConfigurationError,
        DownloadError,
        ParseError,
        RecordError,
        RosterError,
    )
    from apscores.files import check_file, read, read_csv, read_txt, write_csv, write_txt
    from apscores.matching import MatchResult, match
    from apscores.models import ExamScore, ScoreReport, Student
    from apscores.service import AsyncClient, Client, DownloadResult, GeneratedFile
    from apscores.tables import to_arrow, to_pandas, to_polars, to_rows

#: Public name -> the public package that exports it. ``tests/test_exported_members.py``
#: checks that this, ``__all__`` and the ``TYPE_CHECKING`` imports above name the same things.
_HOMES: dict[str, str] = {
    name: home
    for home, names in {
        "apscores.service": ("Client", "AsyncClient", "DownloadResult", "GeneratedFile"),
        "apscores.files": ("read", "read_txt", "read_csv", "write_txt", "write_csv", "check_file"),
        "apscores.models": ("ScoreReport", "ExamScore", "Student"),
        "apscores.tables": ("to_rows", "to_pandas", "to_polars", "to_arrow"),
        "apscores.changes": ("merge",),
        "apscores.catalog": ("UnknownCodeWarning",),
        "apscores.matching": ("match", "MatchResult"),
        "apscores.credit": ("CreditPolicy",),
        "apscores.errors": (
            "APScoresError",
            "APIError",
            "APIConnectionError",
            "APIStatusError",
            "AuthenticationError",
            "ConfigurationError",
            "ParseError",
            "DownloadError",
            "RecordError",
            "RosterError",
        ),
    }.items()
    for name in names
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APScoresError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "CreditPolicy",
    "DownloadError",
    "DownloadResult",
    "ExamScore",
    "GeneratedFile",
    "MatchResult",
    "ParseError",
    "RecordError",
    "RosterError",
    "ScoreReport",
    "Student",
    "UnknownCodeWarning",
    "__version__",
    "check_file",
    "match",
    "merge",
    "read",
    "read_csv",
    "read_txt",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "to_rows",
    "write_csv",
    "write_txt",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    else:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'apscores' has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def _version() -> str:
    """The installed distribution's version (written once, in ``pyproject.toml``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("apscores")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree, not installed
        return "0+unknown"


def __dir__() -> list[str]:
    return sorted(__all__)
