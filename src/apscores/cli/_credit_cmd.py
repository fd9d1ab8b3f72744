"""``apscores credit FILE... --policy rules.csv [--since previous.csv] -o out.csv``.

Without ``--since``: merges the score files as ``apscores merge`` does (re-sent copies
collapse, conflicts are reported), applies a credit policy (see :mod:`apscores.credit`)
to every exam of the merged view and writes one row per exam: what was granted, by which
rule, or why nothing was.

With ``--since PREVIOUS`` (the score file ``apscores merge -o`` wrote last run): merges
PREVIOUS with the files and writes only the credit that moved, granted, revoked or
changed, with the score change and the rules behind each row (:data:`DELTA_COLUMNS`).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from apscores._atomic import atomic_write
from apscores.changes import Change
from apscores.cli._common import (
    add_across_di_argument,
    add_json_argument,
    add_raw_csv_argument,
    conflict_json,
    require_file,
    require_files,
    warn_conflicts,
)
from apscores.cli._previous import read_previous
from apscores.cli.exitcodes import ExitCode
from apscores.credit import (
    CreditOutcome,
    CreditPolicy,
    DeltaKind,
    write_delta_csv,
)

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores credit``."""
    parser = subparsers.add_parser(
        "credit",
        help="turn scores into course credit or placement by a rules file",
        description=(
            "Merge score files (TXT or CSV) as apscores merge does and evaluate every exam "
            "against a credit policy "
            "(CSV: exam_code, min_score, admin_year_from, admin_year_to, course, "
            "credit_hours, note) and write one row per exam. Pending, canceled and "
            "withheld scores never earn credit. With --since, write only the credit "
            "granted, revoked or changed since that earlier merged file."
        ),
    )
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="score files, TXT or CSV (one or more)"
    )
    parser.add_argument(
        "--policy", required=True, type=Path, metavar="RULES", help="policy (CSV or TOML)"
    )
    parser.add_argument(
        "--since",
        type=Path,
        metavar="PREVIOUS",
        help="last run's merged score file (apscores merge -o): write only what moved",
    )
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="CSV", help="results (CSV)"
    )
    add_across_di_argument(parser)
    add_raw_csv_argument(parser)
    add_json_argument(parser)
    parser.set_defaults(func=run)


_Outcome = tuple[str, dict[str, Any], tuple[Change, ...]]  # summary line, JSON, conflicts


def _evaluate(policy: CreditPolicy, args: argparse.Namespace) -> _Outcome:
    done = policy.apply(*args.files, across_di=args.across_di)
    done.write_csv(args.output, raw=args.raw_csv)
    outcomes = Counter(result.outcome for result in done.results)
    hours = sum((result.credit_hours for result in done.results), start=Decimal(0))
    parts = ", ".join(f"{outcome.value}: {outcomes[outcome]}" for outcome in CreditOutcome)
    line = f"{len(done.results)} exam(s) evaluated, {hours} credit hour(s) awarded; {parts}"
    summary = {
        "students": len(done.merged.current),
        "exams": len(done.results),
        "credit_hours": str(hours),
        "outcomes": {outcome.value: outcomes[outcome] for outcome in CreditOutcome},
    }
    return line, summary, done.conflicts


def _delta(policy: CreditPolicy, args: argparse.Namespace) -> _Outcome:
    from apscores.changes import merge

    previous = read_previous(args.since)
    merged = merge(previous, *args.files, across_di=args.across_di)
    moved = policy.delta(previous, merged.current, across_di=args.across_di)
    with atomic_write(args.output) as handle:
        write_delta_csv(moved, handle, raw=args.raw_csv)
    counts = Counter(delta.kind for delta in moved)
    parts = ", ".join(f"{kind.value}: {counts[kind]}" for kind in DeltaKind)
    line = f"{len(merged.current)} student(s) compared with {args.since}; {parts}"
    summary = {
        "students": len(merged.current),
        "since": str(args.since),
        "deltas": {kind.value: counts[kind] for kind in DeltaKind},
    }
    return line, summary, merged.conflicts


def run(args: argparse.Namespace) -> int:
    """Evaluate; exit 0, or 2 when the policy or a score file cannot be used."""
    require_file(args.policy, "--policy")
    policy = CreditPolicy.from_file(args.policy)  # a PolicyError names the file and line
    require_files(args.files)
    require_file(args.since, "--since")
    line, summary, conflicts = (_evaluate if args.since is None else _delta)(policy, args)
    if args.json:
        summary["output"] = str(args.output)
        summary["conflict_count"] = len(conflicts)
        summary["conflicts"] = [conflict_json(change) for change in conflicts]
        print(json.dumps(summary))
    else:
        print(line)
        print(f"written to {args.output}")
    warn_conflicts("credit", conflicts, "them with --json, or apscores merge --changes")
    return ExitCode.OK
