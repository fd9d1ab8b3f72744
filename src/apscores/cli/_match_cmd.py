"""``apscores match FILE... --roster ROSTER -o OUT.csv [--accept REVIEW.csv]``.

Matches the students of score files to the student system's roster (see
:mod:`apscores.matching`) and writes one row per AP student: matched (with the SIS ID and
the tier), review (with the candidates) or unmatched. Decisions are kept in a crosswalk,
by default ``.apscores-crosswalk.sqlite3`` beside the output file. A person writes
decisions into the ``decision`` column of the output and passes it back with
``--accept``; the next run honours them. Exit 0 when every student is matched, 8 when
some wait for review or have no match, 2 for a bad roster, map or score file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from apscores.cli._common import require_file, require_files
from apscores.cli.exitcodes import ExitCode

__all__ = ["add_roster_arguments", "crosswalk_path", "load_roster", "register", "run"]


def add_roster_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--roster``, ``--roster-map``, ``--encoding`` and ``--crosswalk`` (match, export)."""
    parser.add_argument(
        "--roster",
        required=required,
        type=Path,
        metavar="ROSTER",
        help="the student system's students (CSV or XLSX): sis_id, last_name, first_name, "
        "birth_date... (see docs: matching students)",
    )
    parser.add_argument(
        "--roster-map",
        type=Path,
        metavar="TOML",
        help="[columns] field = 'their header', for rosters with other column names",
    )
    parser.add_argument(
        "--encoding",
        metavar="ENC",
        help="the roster's encoding when it has no byte-order mark (default UTF-8; Excel "
        "'CSV' exports are often cp1252)",
    )
    parser.add_argument(
        "--crosswalk",
        type=Path,
        metavar="PATH",
        help="the SQLite crosswalk of AP ID -> SIS ID decisions (default: "
        ".apscores-crosswalk.sqlite3 beside the output)",
    )


def crosswalk_path(args: argparse.Namespace) -> Path:
    """``--crosswalk``, or the default file beside the output."""
    from apscores.matching import DEFAULT_CROSSWALK_NAME

    if args.crosswalk is not None:
        return Path(args.crosswalk)
    return Path(args.output).parent / DEFAULT_CROSSWALK_NAME


def load_roster(args: argparse.Namespace) -> object:
    """The checked roster of ``--roster`` (with ``--roster-map`` and ``--encoding``)."""
    from apscores.matching import load_roster_map, read_roster

    require_file(args.roster, "--roster")
    require_file(args.roster_map, "--roster-map")
    columns = load_roster_map(args.roster_map) if args.roster_map is not None else None
    return read_roster(args.roster, columns=columns, encoding=args.encoding)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores match``."""
    parser = subparsers.add_parser(
        "match",
        help="match the students of score files to the student system's own IDs",
        description=(
            "Match each AP student of the score files (TXT or CSV) to the roster of the "
            "student system, by deterministic tiers: 1 a known AP ID, 2 birth date + "
            "surname, 3 birth date + a surname word + first initial, 4 full name + birth "
            "date with one slip. Write one row per student: matched (SIS ID, tier), review "
            "(candidates) or unmatched, with the reason. Fill in the 'decision' column of "
            "review rows (a SIS ID, or 'new') and pass the file back with --accept. "
            "Exit 0 when every student is matched (or marked 'new' by a person), 8 when "
            "some wait for review or have no match, 2 for a bad roster or file."
        ),
    )
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="score files, TXT or CSV (one or more)"
    )
    add_roster_arguments(parser, required=True)
    parser.add_argument(
        "--accept",
        type=Path,
        metavar="REVIEW",
        help="record a person's decisions from this filled-in match file first",
    )
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="CSV", help="the match file (CSV)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Match; exit 0 when all matched, 8 when some wait, 2 for bad input."""
    from apscores.matching import Crosswalk, Roster, accept, match

    require_files(args.files)
    require_file(args.accept, "--accept")
    roster = load_roster(args)
    assert isinstance(roster, Roster)
    path = crosswalk_path(args)
    with Crosswalk(path) as crosswalk:
        accepted = 0
        if args.accept is not None:
            accepted = accept(args.accept, crosswalk, roster=roster)
        result = match(args.files, roster, crosswalk=crosswalk)
    result.write_csv(args.output)
    code = ExitCode.OK if result.complete else ExitCode.REVIEW
    summary = result.summary()
    if args.json:
        document = {
            "exit_code": int(code),
            "status": code.name.lower(),
            "output": str(args.output),
            "crosswalk": str(path),
            "accepted": accepted,
            **summary,
        }
        print(json.dumps(document, ensure_ascii=False))
        return code
    tiers = ", ".join(f"tier {tier}: {n}" for tier, n in summary["by_tier"].items())
    print(
        f"{summary['students']} student(s): {summary['matched']} matched"
        + (f" ({tiers})" if tiers else "")
        + f", {summary['review']} to review, {summary['unmatched']} unmatched; "
        f"written to {args.output}"
    )
    print(
        f"crosswalk {path}: {accepted} decision(s) accepted, {result.recorded} rule match(es) "
        "recorded"
    )
    if code is ExitCode.REVIEW:
        print(
            f"apscores match: {summary['review'] + summary['unmatched']} student(s) not "
            f"matched: write a SIS ID (or 'new') in the 'decision' column of {args.output} "
            f"and run again with --accept {args.output}",
            file=sys.stderr,
        )
    return code
