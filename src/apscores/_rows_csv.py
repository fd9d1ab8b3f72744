"""The one place CSV outputs are made safe to open in a spreadsheet, and the flat-row writer.

Every CSV ``apscores`` writes (``export``, ``credit``, ``merge``, ``convert --to csv`` and
their Python functions) passes its cells through :func:`neutralise` unless the caller
asks for raw values (``raw=True``, ``--raw-csv``). The rule is OWASP's for CSV injection:
a **text** cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote, so a spreadsheet shows it as text instead of running
it as a formula (a name such as ``=1+2`` or ``@SUM(A1)``). Numbers, dates and empty cells
are never changed. The readers do not undo it: a neutralised file read back gives the
value with its quote, so files meant for programs (including ``apscores`` itself) are
written raw.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import BinaryIO, TextIO, TypeVar

from apscores._atomic import atomic_write

__all__ = ["FORMULA_TRIGGERS", "neutralise", "write_rows_csv", "write_rows_text"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

_T = TypeVar("_T")


def neutralise(value: _T) -> _T:
    """``value`` with a leading ``'`` if it is text that begins with a formula trigger.

    Anything that is not a ``str`` (a number, a date, None) comes back as it is.

    >>> neutralise("=1+2"), neutralise("@SUM(A1)"), neutralise("Doe"), neutralise(-3)
    ("'=1+2", "'@SUM(A1)", 'Doe', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value  # type: ignore[return-value]  # str in, str out
    return value


def _keep(value: _T) -> _T:
    return value


def write_rows_text(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str],
    out: TextIO,
    *,
    raw: bool = False,
    header: bool = True,
) -> int:
    """Write a header (unless ``header`` is false) and ``rows`` to a text stream; returns
    the rows written.

    A row's missing keys are blank cells, None is blank, and every text cell (the header's
    too) is neutralised unless ``raw``.
    """
    safe = _keep if raw else neutralise
    writer = csv.writer(out)
    if header:
        writer.writerow([safe(name) for name in columns])
    count = 0
    for row in rows:
        writer.writerow([safe(row.get(name, "")) for name in columns])
        count += 1
    return count


def write_rows_csv(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str],
    dest: str | os.PathLike[str] | BinaryIO,
    *,
    raw: bool = False,
) -> int:
    """Write ``rows`` under ``columns`` as UTF-8; returns the rows written.

    Text cells are neutralised (:func:`neutralise`) unless ``raw``. A path is written
    atomically (see :mod:`apscores._atomic`); a binary handle is written to and left open
    for its owner.
    """
    if isinstance(dest, (str, os.PathLike)):
        with atomic_write(dest) as handle:
            return write_rows_csv(rows, columns, handle, raw=raw)
    text = io.TextIOWrapper(dest, encoding="utf-8", newline="", write_through=True)
    try:
        count = write_rows_text(rows, columns, text, raw=raw)
        text.flush()
        return count
    finally:
        text.detach()  # leave the caller's binary handle open
