"""``apscores merge FILE... -o current.csv [--changes changes.csv]``.

Merges re-sent score files into one current record per student, (DI code, AP ID) or with
``--across-di`` AP ID (see :mod:`apscores.merging`), and writes it as a score CSV; the
optional changes file is a flat CSV a registrar can filter. Outputs are written to a
temporary file and renamed, so a failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from apscores._atomic import atomic_write
from apscores.changes import ChangeKind, merge, write_changes_csv
from apscores.cli._common import (
    add_across_di_argument,
    add_json_argument,
    add_raw_csv_argument,
    conflict_json,
    require_files,
    warn_conflicts,
)
from apscores.cli.exitcodes import ExitCode

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores merge``."""
    parser = subparsers.add_parser(
        "merge",
        help="merge re-sent score files into one current record per student",
        description=(
            "Read score files (TXT or CSV, any order), keep the newest record of each "
            "student (DI code and AP ID; by date of last student update, then report date) "
            "and write it as CSV. Exams "
            "missing from the newest record are kept; records with the same dates but "
            "different content are reported as conflicts."
        ),
    )
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="score files, TXT or CSV (one or more)"
    )
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="CSV", help="current view (CSV)"
    )
    parser.add_argument(
        "--changes", type=Path, metavar="CSV", help="also write every change as a flat CSV"
    )
    add_across_di_argument(parser)
    add_raw_csv_argument(parser)
    add_json_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Do the merge; exit 0 (conflicts are warned about), 2 when a file cannot be read."""
    from apscores.files import write_csv

    require_files(args.files)  # a bad file is exit 2, an output that cannot be written 7
    result = merge(*args.files, across_di=args.across_di)
    with atomic_write(args.output) as handle:
        write_csv(result.current, handle, raw=args.raw_csv)
    if args.changes is not None:
        with atomic_write(args.changes) as handle:
            write_changes_csv(result.changes, handle, raw=args.raw_csv)
    counts = dict.fromkeys(ChangeKind, 0)
    for change in result.changes:
        counts[change.kind] += 1
    conflicts = result.conflicts
    if args.json:
        summary = {
            "records_read": result.records_read,
            "duplicates": result.duplicates,
            "students": len(result.current),
            "output": str(args.output),
            "changes": {kind.value: n for kind, n in counts.items() if n},
            "conflict_count": len(conflicts),
            "conflicts": [conflict_json(change) for change in conflicts],
        }
        print(json.dumps(summary))
    else:
        print(
            f"{result.records_read} record(s) read ({result.duplicates} exact duplicate(s)); "
            f"{len(result.current)} student(s) written to {args.output}"
        )
        print(", ".join(f"{kind.value}: {n}" for kind, n in counts.items() if n) or "no changes")
    review = f"the 'conflict' rows of {args.changes}" if args.changes else "them with --changes"
    warn_conflicts("merge", conflicts, review)
    return ExitCode.OK
