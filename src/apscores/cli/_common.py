"""Options, checks and words shared by the commands that read files the user names.

- Every file a user names is checked the same way before anything is read
  (:func:`require_file`): ``apscores: --policy p.csv: no such file``, exit 2.

- ``--raw-csv``: CSV cells as they are, without the formula neutralisation
  (:func:`apscores._rows_csv.neutralise`) that makes outputs safe to open in a spreadsheet.
- ``--across-di``: one student per AP ID even when several DI codes received them
  (by default a student is keyed by DI code and AP ID).
- Conflicts: a count line (and the first few) on stderr, and every conflict in ``--json``.
  A conflict names the DI code, the AP ID, the exam and the values that differ, never the
  student's name or birth date.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from apscores.changes import Change
from apscores.errors import ConfigurationError
from apscores.models import ExamScore

__all__ = [
    "SHOWN_CONFLICTS",
    "add_across_di_argument",
    "add_json_argument",
    "add_raw_csv_argument",
    "conflict_json",
    "require_file",
    "require_files",
    "warn_conflicts",
]

#: Conflicts listed on stderr (all are counted, and all are in ``--json``).
SHOWN_CONFLICTS = 5


def require_file(path: Path | None, option: str = "") -> None:
    """A file the user named must be a readable file: else a :class:`ConfigurationError`
    worded ``[OPTION ]PATH: why`` (exit 2), before anything is read or written."""
    if path is None:
        return
    label = f"{option} {path}" if option else str(path)
    if not path.exists():
        why = "no such file"
    elif path.is_dir():
        why = "is a folder, not a file"
    elif not path.is_file():
        why = "is not a regular file"
    elif not os.access(path, os.R_OK):
        why = "cannot be read (permission denied)"
    else:
        return
    raise ConfigurationError(f"{label}: {why}")


def require_files(paths: Iterable[Path], option: str = "") -> None:
    """:func:`require_file` for each of ``paths``."""
    for path in paths:
        require_file(path, option)


def add_raw_csv_argument(parser: argparse.ArgumentParser) -> None:
    """``--raw-csv``: keep text cells that begin with = + - @ tab or CR as they are."""
    parser.add_argument(
        "--raw-csv",
        action="store_true",
        help="write CSV cells as they are: no leading ' before a cell that begins with "
        "= + - @, a tab or a carriage return (for programs, not spreadsheets)",
    )


def add_across_di_argument(parser: argparse.ArgumentParser) -> None:
    """``--across-di``: merge a student's records from several DI codes into one."""
    parser.add_argument(
        "--across-di",
        action="store_true",
        help="one student per AP ID even when several DI codes received them (by "
        "default a student is keyed by DI code and AP ID)",
    )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    """``--json``, for commands that do not take the common options."""
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary on stdout, conflicts included"
    )


def _exam_json(exam: ExamScore | None) -> dict[str, Any] | None:
    if exam is None:
        return None
    return {
        "score": exam.score,
        "status": exam.status.value,
        "irregularity_codes": list(exam.irregularity_codes),
    }


def conflict_json(change: Change) -> dict[str, Any]:
    """One conflict for ``--json``: who, which exam, the values kept and not kept.

    A conflict in the student's details (not in an exam) names no values: they would be
    names or birth dates.
    """
    return {
        "di_code": change.di_code,
        "ap_id": change.ap_id,
        "exam_code": change.exam_code,
        "admin_year": change.admin_year,
        "kept": _exam_json(change.new),
        "not_kept": _exam_json(change.old),
        "detail": change.detail,
    }


def warn_conflicts(command: str, conflicts: Sequence[Change], review: str) -> None:
    """The count line and the first :data:`SHOWN_CONFLICTS` conflicts, on stderr."""
    if not conflicts:
        return
    print(
        f"apscores {command}: warning: {len(conflicts)} conflict(s): records with the same "
        f"dates but different content; one of each was kept by a fixed rule. Review {review}",
        file=sys.stderr,
    )
    for change in conflicts[:SHOWN_CONFLICTS]:
        exam = f" exam {change.exam_code} ({change.admin_year})" if change.exam_code else ""
        print(f"  DI {change.di_code} AP ID {change.ap_id}{exam}: {change.detail}", file=sys.stderr)
