"""Excel workbooks that keep leading zeros: codes and IDs are text cells, dates are dates.

Opening a CSV in Excel turns DI code ``0789`` into 789, exam ``07`` into 7 and long AP IDs
into numbers. A workbook written here types every cell from the value itself: text stays
text, scores and years are numbers, dates are date cells.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from apscores._atomic import atomic_write
from apscores._extras import optional_module
from apscores.errors import ConfigurationError
from apscores.models import ScoreReport
from apscores.tables import column_names, to_rows

__all__ = ["MAX_SHEET_ROWS", "write_xlsx"]

#: Rows one Excel sheet holds, header included.
MAX_SHEET_ROWS = 1_048_576


def _xlsxwriter() -> ModuleType:
    return optional_module("xlsxwriter", "excel")


class _Sheet:
    """One worksheet written row by row (XlsxWriter's constant-memory mode)."""

    def __init__(self, workbook: Any, name: str, columns: list[str]) -> None:
        self.sheet = workbook.add_worksheet(name)
        self.columns = columns
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.rows = 0
        bold = workbook.add_format({"bold": True})
        for index, column in enumerate(columns):
            self.sheet.set_column(index, index, max(10, len(column) + 2))
            self.sheet.write_string(0, index, column, bold)
        self.sheet.freeze_panes(1, 0)

    def add(self, row: dict[str, Any]) -> None:
        self.rows += 1
        if self.rows >= MAX_SHEET_ROWS:
            raise ConfigurationError(
                f"more than {MAX_SHEET_ROWS - 1} rows do not fit one Excel sheet; "
                "write CSV or Parquet instead"
            )
        for index, column in enumerate(self.columns):
            value = row[column]
            if value is None or value == "":
                continue  # a blank cell
            if isinstance(value, dt.date):
                self.sheet.write_datetime(self.rows, index, value, self.date)
            elif isinstance(value, int):
                self.sheet.write_number(self.rows, index, value)
            else:
                self.sheet.write_string(self.rows, index, str(value))

    def finish(self) -> None:
        self.sheet.autofilter(0, 0, self.rows, len(self.columns) - 1)


def write_xlsx(
    reports: Iterable[ScoreReport], dest: str | os.PathLike[str], *, students: bool = False
) -> int:
    """Write an ``Exams`` sheet (one row per exam, as :func:`~apscores.to_rows`) and, with
    ``students``, a ``Students`` sheet (one row per report); returns the exam rows.

    One pass, constant memory; the file is written atomically (complete or absent, mode
    0600). Needs XlsxWriter (the ``excel`` extra).
    """
    xlsxwriter = _xlsxwriter()
    with atomic_write(dest) as handle:
        workbook = xlsxwriter.Workbook(handle, {"constant_memory": True})
        try:
            exams = _Sheet(workbook, "Exams", column_names(long=True))
            people = _Sheet(workbook, "Students", column_names(long=False)) if students else None
            for report in reports:
                for row in to_rows([report], long=True):
                    exams.add(row)
                if people is not None:
                    for row in to_rows([report], long=False, max_exams=0):
                        people.add(row)
            exams.finish()
            if people is not None:
                people.finish()
        finally:
            workbook.close()
    return exams.rows
