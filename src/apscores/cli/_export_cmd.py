"""``apscores export FILE... --map sis.toml -o load.csv [--since previous.csv]``.

Merges the score files (so each exam appears once, with its newest score, whether higher
or lower) and writes a load file for a student system as the map says: its columns, the
SIS test code of each exam, the test date, and which statuses and changes to include
(see :mod:`apscores.export`). An exam the map has no code for stops the export with the
list of such codes, and no file is written.

With ``--crosswalk`` (or ``--roster``), the load file gets the student system's ID
(``sis_id``) and students without one are held in a suspense file beside it, offered
again next run (see :mod:`apscores.cli._suspense`); exit 8 while any is held.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from apscores.cli import _suspense
from apscores.cli._common import (
    add_across_di_argument,
    add_json_argument,
    add_raw_csv_argument,
    conflict_json,
    require_file,
    require_files,
    warn_conflicts,
)
from apscores.cli._match_cmd import add_roster_arguments
from apscores.cli._previous import read_previous
from apscores.cli.exitcodes import ExitCode
from apscores.export import SisMap, export, load_map
from apscores.models import ScoreReport

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores export``."""
    parser = subparsers.add_parser(
        "export",
        help="write a load file for a student system (SIS test codes, test dates)",
        description=(
            "Merge score files (TXT or CSV, any order) and write one CSV row per exam in "
            "the columns a student system loads, as a TOML map says: SIS test codes "
            "(default AP + exam code), a test date in the admin year (default 05/15), and "
            "which statuses and changes to include. With --since, 'change' is what changed "
            "from that earlier merged file. An exam with no SIS code is an error."
        ),
    )
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="score files, TXT or CSV (one or more)"
    )
    parser.add_argument("--map", required=True, type=Path, metavar="TOML", help="the SIS map")
    parser.add_argument(
        "--since",
        type=Path,
        metavar="PREVIOUS",
        help="last run's merged score file (apscores merge -o): changes are counted from it",
    )
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="CSV", help="the load file (CSV)"
    )
    add_roster_arguments(parser, required=False)  # --roster/--crosswalk: the SIS ID column
    add_across_di_argument(parser)
    add_raw_csv_argument(parser)
    add_json_argument(parser)
    parser.set_defaults(func=run)


def _columnar(args: argparse.Namespace) -> bool:
    """Whether the columnar path runs: TXT files only, the ``arrow`` extra installed, no
    ``--roster``/``--crosswalk`` (matching needs every merged record)."""
    if _suspense.wanted(args):
        return False
    from apscores.files import format_of

    arrow = all(importlib.util.find_spec(name) for name in ("pyarrow", "numpy"))
    return arrow and all(format_of(path) == "txt" for path in args.files)


def _fast(args: argparse.Namespace, sis_map: SisMap, previous: list[ScoreReport] | None) -> int:
    """Export TXT files on the columnar path: the same file, output and exit status."""
    from apscores.export._columnar import export_txt_files

    done = export_txt_files(
        args.files,
        sis_map,
        args.output,
        since=previous,
        across_di=args.across_di,
        raw=args.raw_csv,
    )
    if args.json:
        summary = {
            "records_read": done.records_read,
            "students": done.students,
            "rows": done.rows,
            "output": str(args.output),
            "held": 0,
            "conflict_count": len(done.conflicts),
            "conflicts": [conflict_json(change) for change in done.conflicts],
        }
        print(json.dumps(summary))
    else:
        print(
            f"{done.records_read} record(s) read, {done.students} student(s); "
            f"{done.rows} exam row(s) written to {args.output}"
        )
    warn_conflicts("export", done.conflicts, "them with --json, or apscores merge --changes")
    return ExitCode.OK


def run(args: argparse.Namespace) -> int:
    """Export; exit 0 (conflicts are warned about), 2 when a map, file or code is unusable."""
    require_file(args.map, "--map")
    require_files(args.files)
    require_file(args.since, "--since")
    sis_map = load_map(args.map)
    previous = None if args.since is None else read_previous(args.since)
    if _columnar(args):
        return _fast(args, sis_map, previous)
    held = _suspense.held_reports(args)  # last run's unmatched students, offered again
    if previous is not None and held:
        previous = [r for r in previous if r.ap_id not in {h.ap_id for h in held}]
    identify: Callable[[Sequence[ScoreReport]], Mapping[str, str]] | None = None
    if _suspense.wanted(args):
        sis_map = _suspense.with_sis_column(sis_map)

        def identify(students: Sequence[ScoreReport]) -> Mapping[str, str]:
            return _suspense.identify(args, students).sis_ids

    done = export(
        *args.files,
        *([held] if held else []),
        sis_map=sis_map,
        since=previous,
        across_di=args.across_di,
        identify=identify,
    )
    count = done.write_csv(args.output, raw=args.raw_csv)
    suspense = _suspense.write_suspense(args, list(done.held)) if identify else None
    result, conflicts = done.merged, done.conflicts
    if args.json:
        summary = {
            "records_read": result.records_read,
            "students": len(result.current),
            "rows": count,
            "output": str(args.output),
            "held": len(done.held),
            "conflict_count": len(conflicts),
            "conflicts": [conflict_json(change) for change in conflicts],
        }
        print(json.dumps(summary))
    else:
        print(
            f"{result.records_read} record(s) read, {len(result.current)} student(s); "
            f"{count} exam row(s) written to {args.output}"
        )
        if done.held:
            print(f"{len(done.held)} student(s) not matched, held in suspense: {suspense}")
    warn_conflicts("export", conflicts, "them with --json, or apscores merge --changes")
    if done.held:
        return ExitCode.REVIEW
    return ExitCode.OK
