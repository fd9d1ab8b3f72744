"""TOML files (credit policies, student-system maps): ``tomllib`` on 3.11+, ``tomli`` on 3.10."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["loads"]


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error is a :class:`ValueError` naming the line and column.

    Arrays or tables nested deeper than Python's recursion limit are a :class:`ValueError`
    too, not a :class:`RecursionError`.
    """
    try:
        module = importlib.import_module("tomllib")
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10 (tomli is a dependency there)
        module = importlib.import_module("tomli")
    try:
        data: dict[str, Any] = module.loads(text)
    except RecursionError:
        raise ValueError("arrays or tables are nested too deeply") from None
    return data
