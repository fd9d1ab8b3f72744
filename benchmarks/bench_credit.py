"""How fast a credit policy turns a 10k-student score file into decisions.

Run: ``python benchmarks/bench_credit.py [--students 10000] [--policy FILE]``. Writes a
synthetic TXT file (sandbox data) to a temporary folder, then times reading it, applying
the example policy (``docs/examples/credit-policy.csv``) and writing ``credit.csv``, and
prints the figures. Not a test: the test suite never asserts on time.
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
import tempfile
import time
from pathlib import Path

from apscores import read_txt, write_txt
from apscores.credit import CreditPolicy, Outcome, write_credit_csv
from apscores.sandbox import iter_fake_reports

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "docs/examples/credit-policy.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--policy", type=Path, default=EXAMPLE_POLICY)
    args = parser.parse_args(argv)

    policy = CreditPolicy.from_file(args.policy)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scores.txt"
        write_txt(iter_fake_reports(args.students, seed=20240707), path)
        size = path.stat().st_size

        start = time.perf_counter()
        with read_txt(path) as reader:
            reports = list(reader)
        read_seconds = time.perf_counter() - start

        start = time.perf_counter()
        results = [result for report in reports for result in policy.evaluate(report)]
        evaluate_seconds = time.perf_counter() - start

        start = time.perf_counter()
        write_credit_csv(results, io.BytesIO())
        write_seconds = time.perf_counter() - start

    outcomes = dict.fromkeys(Outcome, 0)
    for result in results:
        outcomes[result.outcome] += 1
    exams = len(results)
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"file: {len(reports)} students, {exams} exams, {size / 1e6:.1f} MB TXT")
    print(f"policy: {len(policy.rules)} rules from {args.policy.name}")
    print(
        f"read TXT:      {read_seconds:8.3f} s  ({len(reports) / read_seconds:10,.0f} students/s)"
    )
    print(f"evaluate:      {evaluate_seconds:8.3f} s  ({exams / evaluate_seconds:10,.0f} exams/s)")
    print(f"write CSV:     {write_seconds:8.3f} s  ({exams / write_seconds:10,.0f} rows/s)")
    print("outcomes: " + ", ".join(f"{o.value} {n}" for o, n in outcomes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
