"""``apscores convert`` of a CSV score file end to end: the columnar path against the object
path it replaced (issue 23, item 5).

    python benchmarks/bench_convert_csv.py [--records 100k] [--shapes real,worst] [--rounds 2]

Each contender runs as its own process (``bench_convert``'s wrapper), timed from process
start to the file written; peak RSS is the child's ``VmHWM``, growth subtracts a process
that only imports the same libraries. Rounds interleave the contenders; the best counts.

- ``apscores convert FILE.csv -o OUT.parquet|.csv|.jsonl``: the columnar path (each block
  of CSV rows made fixed-width records for the TXT engine);
- the object path (``read`` record by record, then ``write_parquet`` or the command's
  CSV and JSON Lines writers: what ``convert`` ran for CSV input before);
- ``pandas.read_csv`` (``dtype=str``, no NA parsing) then ``to_parquet`` / ``to_csv`` /
  ``to_json(lines=True)``: a reference point (it converts no value, checks nothing).

The outputs of the first two are compared: CSV and JSON Lines byte for byte, Parquet as
tables.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from _common import DATA_DIR, DEFAULT_SEED, human_count, parse_sizes
from bench_convert import OBJECT_PATH, PANDAS_WRITES, SRC, _child, heading

PANDAS = (
    """
import sys, pandas as pd
path, out, target = sys.argv[1:4]
frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
"""
    + PANDAS_WRITES
)


def _same(target: str, one: Path, other: Path) -> str:
    if target != "parquet":
        return "identical" if one.read_bytes() == other.read_bytes() else "DIFFERENT"
    import pyarrow as pa
    import pyarrow.parquet as pq

    def table(path: Path) -> Any:
        found = pq.read_table(path)
        schema = pa.schema(
            [
                pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
                for f in found.schema
            ]
        )
        return found.cast(schema)

    return "equal tables" if table(one).equals(table(other)) else "DIFFERENT"


def convert(records: int, shape: str, rounds: int, env: dict[str, str]) -> None:
    path = DATA_DIR / f"ap950-{shape}-{human_count(records)}-seed{DEFAULT_SEED}.csv"
    title = f"apscores convert of a CSV file, end to end ({shape}, {human_count(records)})"
    make = f"--shapes {shape} --csv"
    bases = heading(path, title, rounds, env, make=make, versus="object path")
    verdicts = []
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as scratch:
        for target in ("parquet", "csv", "jsonl"):
            outs = {name: Path(scratch) / f"{name}.{target}" for name in ("new", "old", "pd")}
            contenders = {
                "apscores convert (columnar)": [
                    "-m", "apscores", "convert", str(path), "-o", str(outs["new"]),
                ],
                "object path (convert before)": [
                    "-c", OBJECT_PATH, str(path), str(outs["old"]), target,
                ],
                "pandas.read_csv + to_" + target.replace("jsonl", "json(lines=True)"): [
                    "-c", PANDAS, str(path), str(outs["pd"]), target,
                ],
            }  # fmt: skip
            best: dict[str, tuple[float, float]] = {}
            for _ in range(rounds):
                for name, args in contenders.items():
                    seconds, peak, _ = _child(args, env)
                    old = best.get(name)
                    if old:
                        seconds, peak = min(seconds, old[0]), min(peak, old[1])
                    best[name] = (seconds, peak)
            verdicts.append(f"- {target}: {_same(target, outs['new'], outs['old'])}")
            reference = best["object path (convert before)"][0]
            for name, (seconds, peak) in best.items():
                key = "pandas" if name.startswith("pandas") else "apscores"
                if key == "apscores" and target != "parquet":
                    key = "apscores-text"
                print(
                    f"| {target} | {name} | {seconds:.2f} | {peak:.0f} | {peak - bases[key]:.0f} "
                    f"| {reference / seconds:.1f} |"
                )
    print("\nOutput of the columnar path against the object path's:\n")
    print("\n".join(verdicts))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="100k")
    parser.add_argument("--shapes", default="real,worst")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for records in parse_sizes(args.records):
        for shape in args.shapes.split(","):
            convert(records, shape, args.rounds, env)


if __name__ == "__main__":
    main()
