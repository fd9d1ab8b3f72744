"""The one ``cattrs`` converter: records to plain dicts/JSON and back.

This module is the only place that knows the wire shape of a record: dates are ISO
``YYYY-MM-DD`` strings, tuples become lists, everything else is as in the classes.

>>> from apscores.models import ExamScore
>>> to_dict(ExamScore(code="93", admin_year=2019, score=4))["admin_year"]
2019
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TypeVar

import cattrs

from apscores.models import ScoreReport

__all__ = ["converter", "from_dict", "from_json", "to_dict", "to_json"]

T = TypeVar("T")

converter = cattrs.Converter()
converter.register_unstructure_hook(dt.date, dt.date.isoformat)
converter.register_structure_hook(dt.date, lambda value, _: dt.date.fromisoformat(value))


def to_dict(record: object) -> dict[str, Any]:
    """Turn any apscores record into a plain dict."""
    result: dict[str, Any] = converter.unstructure(record)
    return result


def from_dict(data: dict[str, Any], cls: type[T] = ScoreReport) -> T:  # type: ignore[assignment]
    """Rebuild a record (a :class:`ScoreReport` unless ``cls`` says otherwise)."""
    return converter.structure(data, cls)


def to_json(record: object) -> str:
    """One record as a JSON string (one line, for JSON Lines files)."""
    return json.dumps(to_dict(record), ensure_ascii=False, separators=(",", ":"))


def from_json(text: str, cls: type[T] = ScoreReport) -> T:  # type: ignore[assignment]
    """The inverse of :func:`to_json`."""
    return from_dict(json.loads(text), cls)
