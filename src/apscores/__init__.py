"""apscores: get and read the AP score reports College Board sends to colleges.

The names below are the everyday surface; each lives in its own layer (``service``,
``files``, ``tables``...) and is imported on first use (PEP 562), so ``import apscores``
and the pytest plugin cost next to nothing. Everything else is in the submodules:
``apscores.errors`` (the whole exception tree), ``apscores.sandbox``, ``apscores.jobs``...
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from apscores.merging import merge
    from apscores.models import ExamScore, ScoreReport, Student
    from apscores.service import AsyncClient, Client, DownloadResult, GeneratedFile
    from apscores.tables import to_arrow, to_pandas, to_polars, to_rows

__version__ = "0.1.0.dev0"

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    "Client": "apscores.service",
    "AsyncClient": "apscores.service",
    "DownloadResult": "apscores.service",
    "GeneratedFile": "apscores.service",
    "read": "apscores.files",
    "read_txt": "apscores.files",
    "read_csv": "apscores.files",
    "write_txt": "apscores.files",
    "write_csv": "apscores.files",
    "check_file": "apscores.files",
    "ScoreReport": "apscores.models",
    "ExamScore": "apscores.models",
    "Student": "apscores.models",
    "to_rows": "apscores.tables",
    "to_pandas": "apscores.tables",
    "to_polars": "apscores.tables",
    "to_arrow": "apscores.tables",
    "merge": "apscores.merging",
    "match": "apscores.matching",
    "MatchResult": "apscores.matching",
    "CreditPolicy": "apscores.credit",
    "APScoresError": "apscores.errors",
    "APIError": "apscores.errors",
    "APIConnectionError": "apscores.errors",
    "APIStatusError": "apscores.errors",
    "AuthenticationError": "apscores.errors",
    "ConfigurationError": "apscores.errors",
    "ParseError": "apscores.errors",
    "DownloadError": "apscores.errors",
    "RecordError": "apscores.errors",
    "RosterError": "apscores.errors",
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
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'apscores' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
