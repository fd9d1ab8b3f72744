"""Read throughput of apscores against the usual tools, on the same files, in one run.

    python benchmarks/bench_read.py [--sizes 10000,100000] [--repeat N] [--only txt|csv]

For each size, on one 950-column TXT file and the same records as CSV (``make_data.py``
writes and caches them), print records/s, MB/s and each contender's ratio to the slowest
usual tool, then the issue's targets with PASS/MISS:

- typed TXT stream (``apscores.txt.read_txt``, every ``ScoreReport`` built) >= 15x read_fwf
- columnar long export (``apscores.tables``) >= 30x read_fwf
- ``apscores.csvfile.read_csv`` >= 0.7x ``csv.DictReader`` (both consumed fully)

Times are the best of ``--repeat`` runs. pandas materialises the whole file, so above
``--pandas-max`` records it reads the first ``--pandas-max`` rows of the same file
(``nrows``) and its rate is marked ``*``; everything else streams the whole file.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from _common import (
    DEFAULT_SEED,
    best_of,
    flush,
    human_count,
    machine_summary,
    package_versions,
    parse_sizes,
)
from apscores.layout import LAYOUT_950, Kind
from make_data import ensure

#: Every field apscores reads (fillers are skipped by apscores, so pandas skips them too:
#: fewer columns only makes pandas faster, which keeps the ratios conservative).
FIELDS = [f for f in LAYOUT_950.fields if f.kind is not Kind.FILLER]
COLSPECS = [(f.start - 1, f.start - 1 + f.width) for f in FIELDS]
NAMES = [f.name for f in FIELDS]

TARGET_TYPED = 15.0
TARGET_COLUMNAR = 30.0
TARGET_CSV = 0.7


class Result(NamedTuple):
    label: str
    seconds: float  # best time for ``records`` records
    records: int  # records processed in that time
    nbytes: int  # bytes those records take in the file
    partial: bool  # True when only a prefix of the file was read
    note: str = ""

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def mbps(self) -> float:
        return self.nbytes / self.seconds / 1e6 if self.seconds else 0.0


# --- contenders: each takes a path and returns the number of records it produced ---------


def floor_lines(path: Path) -> int:
    """The floor: read the file and split it into lines, nothing else."""
    count = 0
    with open(path, "rb", buffering=1 << 20) as fh:
        for _ in fh:
            count += 1
    return count


def plain_slices(path: Path) -> int:
    """What a hand-written script does: decode each line, slice and strip every field."""
    specs = [(f.name, f.slice) for f in FIELDS]
    count = 0
    with open(path, encoding="latin-1", newline="") as fh:
        for line in fh:
            record = {name: line[where].strip() for name, where in specs}
            count += bool(record)
    return count


def pandas_fwf(path: Path, nrows: int | None) -> int:
    import pandas as pd

    frame = pd.read_fwf(
        path,
        colspecs=COLSPECS,
        names=NAMES,
        header=None,
        dtype=str,
        encoding="latin-1",
        nrows=nrows,
    )
    return len(frame)


def apscores_typed(path: Path) -> int:
    from apscores.txt import read_txt

    count = 0
    with read_txt(path) as reader:
        for _ in reader:
            count += 1
    return count


def _columnar(name: str) -> Callable[[Path], int]:
    """``apscores.tables.<name>(path, long=True)``: the numpy fast path straight from TXT.

    The libraries it needs are imported here, before any timing, so that the first timed
    run measures parsing rather than importing numpy, pyarrow and polars.
    """
    import numpy  # noqa: F401
    import polars  # noqa: F401
    import pyarrow  # noqa: F401

    from apscores import _columnar, tables  # noqa: F401

    func = getattr(tables, name)

    def run(path: Path) -> int:
        return _table_records(func(path, long=True))

    return run


def typed_to_arrow(path: Path) -> int:
    """The slow columnar path for comparison: ``to_arrow`` over typed ``read_txt`` records."""
    from apscores.txt import read_txt

    from apscores.tables import to_arrow

    with read_txt(path) as reader:
        return _table_records(to_arrow(reader, long=True))


def _table_records(table: Any) -> int:
    """Students in a long table (one row per exam): distinct ap_id values, else rows."""
    columns = getattr(table, "column_names", None) or getattr(table, "columns", [])
    if "ap_id" in columns:
        column = table["ap_id"]
        unique = getattr(column, "n_unique", None)  # polars
        if unique is not None:
            return int(unique())
        import pyarrow.compute as pc

        return len(pc.unique(column))
    return int(getattr(table, "num_rows", None) or len(table))


def apscores_csv(path: Path) -> int:
    from apscores.csvfile import read_csv

    count = 0
    with read_csv(path) as reader:
        for _ in reader:
            count += 1
    return count


def csv_dictreader(path: Path) -> int:
    count = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for _ in csv.DictReader(fh):
            count += 1
    return count


def csv_reader_floor(path: Path) -> int:
    count = 0
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        next(rows, None)
        for _ in rows:
            count += 1
    return count


def pandas_csv(path: Path, nrows: int | None) -> int:
    import pandas as pd

    return len(pd.read_csv(path, dtype=str, nrows=nrows))


# --- running -----------------------------------------------------------------------------


def measure(
    label: str,
    func: Callable[[], int],
    *,
    repeat: int,
    records: int,
    nbytes: int,
    partial: bool = False,
) -> Result:
    print(f"    {label} ...", end="", flush=True)
    try:
        seconds, produced = best_of(repeat, func)
    except Exception as exc:  # a contender under construction must not stop the others
        print(f" failed: {type(exc).__name__}: {exc}")
        return Result(label, 0.0, 0, 0, partial, note=f"failed: {type(exc).__name__}")
    note = ""
    if produced != records:
        note = f"produced {produced:,} of {records:,} records"
    print(f" {seconds:.2f} s{'  (' + note + ')' if note else ''}", flush=True)
    return Result(label, seconds, records, nbytes, partial, note)


def missing(label: str, why: str) -> Result:
    print(f"    {label}: skipped ({why})")
    return Result(label, 0.0, 0, 0, False, note=why)


def prefix_bytes(path: Path, rows: int, *, header: bool) -> int:
    """Bytes taken by the first ``rows`` records (after the header line if ``header``)."""
    total = 0
    with open(path, "rb") as fh:
        if header:
            total += len(fh.readline())
        for index, line in enumerate(fh):
            if index >= rows:
                break
            total += len(line)
    return total


def table(results: list[Result], baseline: Result | None, base_name: str) -> None:
    """Print a Markdown table; ratios are against ``baseline`` (higher is faster)."""
    print(f"\n| reader | records/s | MB/s | x {base_name} | time (s) |")
    print("|---|---:|---:|---:|---:|")
    for res in results:
        if not res.seconds:
            print(f"| {res.label} | n/a | n/a | n/a | {res.note} |")
            continue
        ratio = f"{res.rate / baseline.rate:.1f}" if baseline and baseline.seconds else "n/a"
        star = "*" if res.partial else ""
        print(
            f"| {res.label} | {res.rate:,.0f}{star} | {res.mbps:,.1f}{star} | {ratio} | "
            f"{res.seconds:.2f} |"
        )
    if any(res.partial for res in results):
        print("\n\\* pandas read only the first --pandas-max records of this file")
    print()


def verdict(name: str, value: Result, base: Result | None, target: float) -> str:
    if not value.seconds or base is None or not base.seconds:
        return f"- {name}: n/a (target >= {target:g}x)"
    ratio = value.rate / base.rate
    flag = "PASS" if ratio >= target else "MISS"
    return f"- {name}: {ratio:.1f}x (target >= {target:g}x) {flag}"


def bench_txt(n: int, *, seed: int, repeat: int, pandas_max: int) -> list[str]:
    path = ensure(n, seed=seed, fmt="txt")
    size = path.stat().st_size
    print(f"\n### TXT, {human_count(n)} records: {path.name} ({size / 1e6:,.1f} MB)\n")
    floor_lines(path)  # warm the page cache so the first contender is not penalised
    res: dict[str, Result] = {}

    def add(key: str, label: str, func: Callable[[], int], **kw: Any) -> None:
        kw.setdefault("records", n)
        kw.setdefault("nbytes", size)
        res[key] = measure(label, func, repeat=repeat, **kw)

    add("floor", "floor: read + split lines", lambda: floor_lines(path))
    try:
        import apscores.txt  # noqa: F401

        add("typed", "apscores.read_txt (typed ScoreReport)", lambda: apscores_typed(path))
    except ImportError:
        res["typed"] = missing("apscores.read_txt (typed ScoreReport)", "apscores.txt missing")
    for name in ("txt_to_arrow", "txt_to_polars"):
        run = _columnar(name)
        add(name, f"apscores.tables.{name} (long)", lambda run=run: run(path))  # type: ignore[misc]
    add("typed_arrow", "to_arrow(read_txt(...)) (long)", lambda: typed_to_arrow(path))
    add("plain", "plain Python: slice every field", lambda: plain_slices(path))
    rows = min(n, pandas_max)
    partial = rows < n
    add(
        "fwf",
        "pandas.read_fwf (same colspecs, dtype=str)",
        lambda: pandas_fwf(path, rows if partial else None),
        records=rows,
        nbytes=prefix_bytes(path, rows, header=False) if partial else size,
        partial=partial,
    )
    order = ("typed", "txt_to_arrow", "txt_to_polars", "typed_arrow", "plain", "fwf", "floor")
    table([res[k] for k in order], res["fwf"], "read_fwf")
    best_columnar = max((res["txt_to_arrow"], res["txt_to_polars"]), key=lambda r: r.rate)
    return [
        f"TXT {human_count(n)}:",
        verdict("typed read_txt vs read_fwf", res["typed"], res["fwf"], TARGET_TYPED),
        verdict(
            f"columnar long ({best_columnar.label.split('.')[-1].split()[0]}) vs read_fwf",
            best_columnar,
            res["fwf"],
            TARGET_COLUMNAR,
        ),
    ]


def bench_csv(n: int, *, seed: int, repeat: int, pandas_max: int) -> list[str]:
    path = ensure(n, seed=seed, fmt="csv")
    size = path.stat().st_size
    print(f"\n### CSV, {human_count(n)} records: {path.name} ({size / 1e6:,.1f} MB)\n")
    floor_lines(path)
    res: dict[str, Result] = {}

    def add(key: str, label: str, func: Callable[[], int], **kw: Any) -> None:
        kw.setdefault("records", n)
        kw.setdefault("nbytes", size)
        res[key] = measure(label, func, repeat=repeat, **kw)

    try:
        import apscores.csvfile  # noqa: F401

        add("apscores", "apscores.read_csv (typed ScoreReport)", lambda: apscores_csv(path))
    except ImportError:
        res["apscores"] = missing("apscores.read_csv (typed ScoreReport)", "csvfile missing")
    add("dict", "csv.DictReader", lambda: csv_dictreader(path))
    add("reader", "csv.reader (floor)", lambda: csv_reader_floor(path))
    rows = min(n, pandas_max)
    partial = rows < n
    add(
        "pandas",
        "pandas.read_csv (dtype=str)",
        lambda: pandas_csv(path, rows if partial else None),
        records=rows,
        nbytes=prefix_bytes(path, rows, header=True) if partial else size,
        partial=partial,
    )
    table([res[k] for k in ("apscores", "dict", "reader", "pandas")], res["dict"], "DictReader")
    return [
        f"CSV {human_count(n)}:",
        verdict("read_csv vs csv.DictReader", res["apscores"], res["dict"], TARGET_CSV),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="record counts, e.g. 10k,100k,1M")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--only", choices=("txt", "csv"), help="run one format only")
    parser.add_argument(
        "--pandas-max",
        type=int,
        default=200_000,
        help="pandas reads at most this many rows of a bigger file (default 200000)",
    )
    args = parser.parse_args(argv)
    print("## Read throughput\n")
    print(f"- machine: {machine_summary()}")
    print(f"- libraries: {package_versions()}")
    print(
        f"- best of {args.repeat} runs; ratios are records/s over the baseline's, higher is faster"
    )
    flush()
    verdicts: list[str] = []
    for n in parse_sizes(args.sizes):
        opts = {"seed": args.seed, "repeat": args.repeat, "pandas_max": args.pandas_max}
        if args.only in (None, "txt"):
            verdicts += bench_txt(n, **opts)
        if args.only in (None, "csv"):
            verdicts += bench_csv(n, **opts)
    print("### Targets")
    print("\n".join(_indent(verdicts)))
    return 0


def _indent(lines: Iterable[str]) -> list[str]:
    return [line if line.startswith("-") else f"\n{line}" for line in lines]


if __name__ == "__main__":
    sys.exit(main())
