"""``apscores credit FILE... --policy rules.csv [--since previous.csv] -o out.csv``.

Without ``--since``: applies a credit policy (see :mod:`apscores.credit`) to every exam of
the score files and writes one row per exam: what was granted, by which rule, or why
nothing was. Merge re-sent files first (``apscores merge``) so a student's exams are
counted once.

With ``--since PREVIOUS`` (the score file ``apscores merge -o`` wrote last run): merges
PREVIOUS with the files and writes only the credit that moved, granted, revoked or
changed, with the score change and the rules behind each row (:data:`DELTA_COLUMNS`).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from apscores._atomic import atomic_write
from apscores.cli._output import fail
from apscores.cli._previous import read_previous
from apscores.cli.exitcodes import ExitCode
from apscores.credit import (
    CreditPolicy,
    CreditResult,
    DeltaKind,
    Outcome,
    write_credit_csv,
    write_delta_csv,
)
from apscores.errors import APScoresError, ConfigurationError, ParseError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores credit``."""
    parser = subparsers.add_parser(
        "credit",
        help="turn scores into course credit or placement by a rules file",
        description=(
            "Evaluate every exam of score files (TXT or CSV) against a credit policy "
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
    parser.set_defaults(func=run)


class _Tally:
    """Counts outcomes and hours while the results stream to the file."""

    def __init__(self) -> None:
        self.outcomes: Counter[Outcome] = Counter()
        self.hours = Decimal(0)

    def count(self, results: Iterable[CreditResult]) -> Iterator[CreditResult]:
        for result in results:
            self.outcomes[result.outcome] += 1
            self.hours += result.credit_hours
            yield result


def _results(policy: CreditPolicy, paths: list[Path]) -> Iterator[CreditResult]:
    from apscores.files import read

    for path in paths:
        with read(path) as reader:
            yield from policy.evaluate_many(reader)


def _evaluate(policy: CreditPolicy, args: argparse.Namespace) -> str:
    tally = _Tally()
    with atomic_write(args.output) as handle:
        write_credit_csv(tally.count(_results(policy, args.files)), handle)
    total = sum(tally.outcomes.values())
    parts = ", ".join(f"{outcome.value}: {tally.outcomes[outcome]}" for outcome in Outcome)
    return f"{total} exam(s) evaluated, {tally.hours} credit hour(s) awarded; {parts}"


def _delta(policy: CreditPolicy, args: argparse.Namespace) -> str:
    from apscores.merging import merge

    previous = read_previous(args.since)
    current = merge(previous, *args.files).current
    moved = policy.delta(previous, current)
    with atomic_write(args.output) as handle:
        write_delta_csv(moved, handle)
    counts = Counter(delta.kind for delta in moved)
    parts = ", ".join(f"{kind.value}: {counts[kind]}" for kind in DeltaKind)
    return f"{len(current)} student(s) compared with {args.since}; {parts}"


def run(args: argparse.Namespace) -> int:
    """Evaluate; exit 0, or 2 when the policy or a score file cannot be used."""
    try:
        policy = CreditPolicy.from_file(args.policy)
    except (APScoresError, OSError) as exc:  # a ParseError names the file itself
        fail(str(exc) if isinstance(exc, ParseError) else f"policy {args.policy}: {exc}")
        return ExitCode.USAGE
    try:
        for path in [*args.files, *([args.since] if args.since else [])]:
            if not path.is_file():
                raise ConfigurationError(f"{path} is not a file")
        summary = _evaluate(policy, args) if args.since is None else _delta(policy, args)
    except (APScoresError, OSError) as exc:
        fail(str(exc))  # a ParseError names the file and line
        return ExitCode.USAGE
    print(summary)
    print(f"written to {args.output}")
    return ExitCode.OK
