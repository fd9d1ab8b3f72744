"""Records to plain dicts and JSON and back: their one wire shape.

Dates are ISO ``YYYY-MM-DD`` strings, tuples become lists, everything else is as in the
classes. Turning a record into data is :func:`attrs.asdict` with
:func:`apscores.models.plain_value` (so ``ScoreReport.to_dict()`` needs nothing from
here); turning data back into records uses a ``cattrs`` converter that is private and
built once, so nothing outside this module can change how records are read back (merge
relies on that for its tie-break).

>>> from apscores.models import ExamScore
>>> to_dict(ExamScore(code="93", admin_year=2019, score=4))["admin_year"]
2019
>>> from_json(to_json(ExamScore("93", 2019, 4)), ExamScore).score
4
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, TypeVar

import attrs
import cattrs

from apscores.models import ScoreReport, plain_value

__all__ = ["from_dict", "from_json", "to_dict", "to_json"]

T = TypeVar("T")


@functools.cache
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_structure_hook(dt.date, lambda value, _: dt.date.fromisoformat(value))
    return converter


def to_dict(record: object) -> dict[str, Any]:
    """Turn any apscores record into a plain dict."""
    result: dict[str, Any] = attrs.asdict(record, value_serializer=plain_value)  # type: ignore[arg-type]
    return result


def from_dict(data: dict[str, Any], cls: type[T] = ScoreReport) -> T:  # type: ignore[assignment]
    """Rebuild a record (a :class:`~apscores.models.ScoreReport` unless ``cls`` says)."""
    return _converter().structure(data, cls)


def to_json(record: object) -> str:
    """One record as a JSON string (one line, for JSON Lines files)."""
    return json.dumps(to_dict(record), ensure_ascii=False, separators=(",", ":"))


def from_json(text: str, cls: type[T] = ScoreReport) -> T:  # type: ignore[assignment]
    """The inverse of :func:`to_json`."""
    return from_dict(json.loads(text), cls)
