"""``apscores credit FILE --policy rules.csv -o credit.csv``.

Applies a credit policy (see :mod:`apscores.credit`) to every exam in a score file and
writes one row per exam: what was granted, by which rule, or why nothing was. Merge re-sent
files first (``apscores merge``) so a student's exams are counted once.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from apscores._atomic import atomic_write
from apscores.cli._output import fail
from apscores.cli.exitcodes import ExitCode
from apscores.credit import CreditPolicy, CreditResult, Outcome, write_credit_csv
from apscores.errors import APScoresError, ParseError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores credit``."""
    parser = subparsers.add_parser(
        "credit",
        help="turn scores into course credit or placement by a rules file",
        description=(
            "Evaluate every exam of a score file (TXT or CSV) against a credit policy "
            "(CSV: exam_code, min_score, admin_year_from, admin_year_to, course, "
            "credit_hours, note) and write one row per exam. Pending, canceled and "
            "withheld scores never earn credit."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="score file (TXT or CSV)")
    parser.add_argument(
        "--policy", required=True, type=Path, metavar="RULES", help="policy (CSV or TOML)"
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


def run(args: argparse.Namespace) -> int:
    """Evaluate; exit 0, or 2 when the policy or the score file cannot be used."""
    from apscores.files.detect import read

    tally = _Tally()
    try:
        policy = CreditPolicy.from_file(args.policy)
    except (APScoresError, OSError) as exc:
        fail(f"policy {args.policy}: {exc}")
        return ExitCode.USAGE
    try:
        with read(args.file) as reader, atomic_write(args.output) as handle:
            write_credit_csv(tally.count(policy.evaluate_many(reader)), handle)
    except (APScoresError, OSError) as exc:
        fail(str(exc) if isinstance(exc, ParseError) else f"{args.file}: {exc}")
        return ExitCode.USAGE
    total = sum(tally.outcomes.values())
    parts = ", ".join(f"{outcome.value}: {tally.outcomes[outcome]}" for outcome in Outcome)
    print(f"{total} exam(s) evaluated, {tally.hours} credit hour(s) awarded; {parts}")
    print(f"written to {args.output}")
    return ExitCode.OK
