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
from pathlib import Path

from apscores._atomic import atomic_write
from apscores.cli import _suspense
from apscores.cli._output import fail
from apscores.cli._previous import read_previous
from apscores.cli.exitcodes import ExitCode
from apscores.cli.match_cmd import add_roster_arguments
from apscores.errors import APScoresError, ConfigurationError
from apscores.export import export_rows, load_map, write_export_csv

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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export; exit 0, or 2 when the map, a file or an exam code cannot be used."""
    from apscores.merging import merge

    try:
        for path in [*args.files, *([args.since] if args.since else [])]:
            if not path.is_file():
                raise ConfigurationError(f"{path} is not a file")
        sis_map = load_map(args.map)
        previous = None if args.since is None else read_previous(args.since)
        held = _suspense.held_reports(args)  # last run's unmatched students, offered again
        if previous is not None and held:
            previous = [r for r in previous if r.ap_id not in {h.ap_id for h in held}]
        result = merge(*([previous] if previous else []), *args.files, *([held] if held else []))
        who = _suspense.identify(args, result.current) if _suspense.wanted(args) else None
        if who is not None:
            sis_map = _suspense.with_sis_column(sis_map)
        sis_ids = None if who is None else who.sis_ids
        rows = export_rows(result, sis_map, since=previous, sis_ids=sis_ids)
        with atomic_write(args.output) as handle:
            count = write_export_csv(rows, sis_map, handle)
        suspense = None if who is None else _suspense.write_suspense(args, who.held)
    except (APScoresError, OSError) as exc:
        fail(str(exc))
        return ExitCode.USAGE
    print(
        f"{result.records_read} record(s) read, {len(result.current)} student(s); "
        f"{count} exam row(s) written to {args.output}"
    )
    if who is not None and who.held:
        print(f"{len(who.held)} student(s) not matched, held in suspense: {suspense}")
        return ExitCode.REVIEW
    return ExitCode.OK
