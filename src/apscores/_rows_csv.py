"""Write flat rows (credit results, merge changes) as a UTF-8 CSV with a header."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import BinaryIO

from apscores._atomic import atomic_write

__all__ = ["write_rows_csv"]


def write_rows_csv(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str],
    dest: str | os.PathLike[str] | BinaryIO,
) -> int:
    """Write ``rows`` under ``columns``; returns the rows written.

    A path is written atomically (see :mod:`apscores._atomic`); a binary handle is written
    to and left open for its owner.
    """
    if isinstance(dest, (str, os.PathLike)):
        with atomic_write(dest) as handle:
            return write_rows_csv(rows, columns, handle)
    text = io.TextIOWrapper(dest, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.DictWriter(text, fieldnames=list(columns))
        writer.writeheader()
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
        text.flush()
        return count
    finally:
        text.detach()  # leave the caller's binary handle open
