"""Read throughput of apscores against pandas and two floors, per data shape, in one run.

    python benchmarks/bench_read.py [--shapes real,worst,sandbox] [--sizes 10k,100k]
                                    [--newlines lf,crlf] [--cases real:10k:lf,...]
                                    [--rounds 3 | --rounds 10k=7,100k=3] [--csv]

For each file (shape, size, line ending; ``make_data.py`` writes and caches them) the
contenders run round-robin, once per round, the best round counting:

- typed stream: ``list(apscores.read_txt(path))``, every ``ScoreReport`` built and kept
  (the target's figure), and the same stream with each record dropped as it comes
  (``for report in ...``), which shows what keeping them costs the garbage collector;
- columnar long export: ``apscores.tables.txt_to_arrow(path)``;
- ``pandas.read_fwf`` with the colspecs of every non-filler field, ``dtype=str``;
- floor: ``struct.Struct.iter_unpack`` over 1 MiB blocks, 22 fields a record as bytes and
  no object built, a lower bound on any pure-Python record reader;
- floor: read the file and split it into lines.

Prints records/s, µs per record and each contender's ratio to ``read_fwf`` on the same
file in the same run, then the targets of issue 15 with PASS/MISS. ``read_fwf`` builds the
whole frame, so on files above ``--pandas-max`` records (default 100,000) it reads that
many rows of the same file (``nrows``), marked ``*``. ``--csv`` adds ``apscores.read_csv``
against ``csv.DictReader``, ``csv.reader`` and ``pandas.read_csv`` on the real-shaped
reports of each size (the CSV writer always ends rows with CRLF).
"""

from __future__ import annotations

import argparse
import csv
import io
import struct
import sys
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from _common import (
    COLSPECS,
    DEFAULT_SEED,
    LAYOUT_950,
    NAMES,
    NEWLINES,
    SHAPES,
    Case,
    human_count,
    interleaved,
    machine_summary,
    package_versions,
    parse_cases,
    parse_sizes,
)
from make_data import data_path, ensure_cases, meta

import apscores

#: Targets of issue 15: ratio to ``pandas.read_fwf``, per (shape, size).
TARGETS: dict[str, dict[tuple[str, int], float]] = {
    "typed": {("real", 10_000): 15.0, ("real", 100_000): 20.0, ("worst", 100_000): 12.0},
    "arrow": {("real", 10_000): 40.0, ("real", 100_000): 60.0, ("worst", 100_000): 50.0},
}
TARGET_CSV = 0.7  # issue 6: apscores.read_csv against csv.DictReader
TARGET_NAMES = {
    "typed": "typed stream, every value checked eagerly",
    "arrow": "columnar long export (`txt_to_arrow`)",
}
LABELS = {
    "typed": "typed stream: list(apscores.read_txt(path))",
    "dropped": "typed stream, each record dropped: for r in read_txt(path)",
    "arrow": "columnar long: apscores.tables.txt_to_arrow(path)",
    "fwf": "pandas.read_fwf (same colspecs, dtype=str)",
    "struct": "floor: struct.Struct.iter_unpack, 22 fields as bytes",
    "lines": "floor: read + split lines",
}
#: The fields the struct floor unpacks: a student's own, one exam block, the trailer.
STRUCT_FIELDS = (
    "ap_id", "last_name", "first_name", "middle_initial", "street_address_1",
    "street_address_2", "street_address_3", "state", "zip_code", "country_code", "gender",
    "birth_date", "hs_ai_code", "college_code", "admin_year_01", "exam_code_01",
    "exam_grade_01", "date_grades_released_to_college", "date_of_last_student_update",
    "date_of_this_report", "order_institution_key", "race_ethnicity_student_response",
)  # fmt: skip
BLOCK = 1 << 20


class Result(NamedTuple):
    case: Case
    key: str
    seconds: float  # best round
    records: int  # records read in that time (pandas may read a prefix)
    partial: bool
    note: str = ""

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def micros(self) -> float:
        return self.seconds / self.records * 1e6 if self.records else 0.0


# --- contenders: each reads a path and returns what it counted ---------------------------


def typed_stream(path: Path) -> int:
    return len(list(apscores.read_txt(path)))


def typed_dropped(path: Path) -> int:
    count = 0
    for _ in apscores.read_txt(path):
        count += 1
    return count


def columnar_long(path: Path) -> int:
    from apscores import tables

    return int(tables.txt_to_arrow(path).num_rows)  # one row per exam


def pandas_fwf(source: Path | io.BytesIO, nrows: int | None) -> int:
    import pandas as pd

    frame = pd.read_fwf(
        source, colspecs=COLSPECS, names=NAMES, header=None, dtype=str, encoding="latin-1",
        nrows=nrows,
    )  # fmt: skip
    return len(frame)


def record_struct(newline: str) -> struct.Struct:
    """The 22 ``STRUCT_FIELDS`` as ``Ns`` codes, every other byte of the line skipped."""
    fields = sorted((LAYOUT_950.field(name) for name in STRUCT_FIELDS), key=lambda f: f.start)
    codes, at = [], 0
    for field in fields:
        gap = field.start - 1 - at
        codes.append(f"{gap}x{field.width}s" if gap else f"{field.width}s")
        at = field.start - 1 + field.width
    codes.append(f"{LAYOUT_950.length - at + len(NEWLINES[newline])}x")
    return struct.Struct("".join(codes))


def struct_floor(path: Path, record: struct.Struct) -> int:
    count = 0
    with open(path, "rb", buffering=0) as fh:
        while block := fh.read(BLOCK // record.size * record.size):
            for _ in record.iter_unpack(block):
                count += 1
    return count


def lines_floor(path: Path) -> int:
    count = 0
    with open(path, "rb", buffering=BLOCK) as fh:
        for _ in fh:
            count += 1
    return count


def warm_up(path: Path) -> None:
    """Import and run each library once on a few lines, so no timed run pays for imports."""
    with open(path, "rb") as fh:
        head = b"".join(islice(fh, 200))
    list(apscores.read_txt(io.BytesIO(head)))
    from apscores import tables

    tables.txt_to_arrow(io.BytesIO(head))
    pandas_fwf(io.BytesIO(head), None)


# --- running -----------------------------------------------------------------------------


def bench_case(case: Case, *, seed: int, rounds: int, pandas_max: int) -> list[Result]:
    path = data_path(case.shape, case.n, seed, case.newline)
    info = meta(path)
    print(f"- {case}: {path.name} ({info['bytes'] / 1e6:,.1f} MB, {info['exams']:,} exams)")
    lines_floor(path)  # warm the page cache so the first contender is not penalised
    warm_up(path)
    rows = min(case.n, pandas_max)
    partial = rows < case.n
    record = record_struct(case.newline)
    contenders: dict[str, Callable[[], Any]] = {
        "typed": lambda: typed_stream(path),
        "dropped": lambda: typed_dropped(path),
        "arrow": lambda: columnar_long(path),
        "fwf": lambda: pandas_fwf(path, rows if partial else None),
        "struct": lambda: struct_floor(path, record),
        "lines": lambda: lines_floor(path),
    }
    expected = {"arrow": info["exams"], "fwf": rows}
    best, counted = interleaved(contenders, rounds, progress=True)
    results = []
    for key, seconds in best.items():
        want = expected.get(key, case.n)
        note = "" if counted[key] == want else f"counted {counted[key]:,}, expected {want:,}"
        records = rows if key == "fwf" else case.n
        results.append(Result(case, key, seconds, records, key == "fwf" and partial, note))
    return results


def ratio(results: list[Result], case: Case, key: str) -> float | None:
    found = {r.key: r for r in results if r.case == case}
    if key not in found or "fwf" not in found or not found["fwf"].rate:
        return None
    return found[key].rate / found["fwf"].rate


def print_tables(results: list[Result]) -> None:
    groups = dict.fromkeys((r.case.shape, r.case.n) for r in results)
    for shape, n in groups:
        print(f"\n### {SHAPES[shape]}, {human_count(n)} records\n")
        print("| reader | newline | records/s | µs / record | x read_fwf |")
        print("|---|---|---:|---:|---:|")
        rows = [r for r in results if (r.case.shape, r.case.n) == (shape, n)]
        for key in LABELS:
            for res in (r for r in rows if r.key == key):
                star = "*" if res.partial else ""
                times = ratio(results, res.case, key)
                note = f" ({res.note})" if res.note else ""
                print(
                    f"| {LABELS[key]}{note} | {res.case.newline.upper()} | {res.rate:,.0f}{star} "
                    f"| {res.micros:,.2f} | {times:,.1f} |"
                )
        if any(r.partial for r in rows):
            fwf_rows = next(r.records for r in rows if r.key == "fwf")
            print(f"\n\\* pandas read the first {fwf_rows:,} rows of the file (nrows)")


def print_targets(results: list[Result]) -> None:
    columns = list(TARGETS["typed"])
    print("\n### Targets (issue 15): ratio to pandas.read_fwf\n")
    heads = " | ".join(f"{SHAPES[shape]} {human_count(n)}" for shape, n in columns)
    print(f"| what | newline | {heads} |")
    print("|---|---|" + "---|" * len(columns))
    newlines = dict.fromkeys(r.case.newline for r in results)
    for key, targets in TARGETS.items():
        for newline in newlines:
            cells = []
            for (shape, n), target in targets.items():
                found = ratio(results, Case(shape, n, newline), key)
                verdict = "not run" if found is None else f"{found:.1f}x"
                if found is not None:
                    verdict += " PASS" if found >= target else " MISS"
                cells.append(f"{verdict} (>= {target:g}x)")
            print(f"| {TARGET_NAMES[key]} | {newline.upper()} | " + " | ".join(cells) + " |")


def print_shapes(results: list[Result]) -> None:
    """The typed stream's µs a record by shape, next to the sandbox's."""
    typed = {r.case: r for r in results if r.key == "typed"}
    base = {(c.n, c.newline): r.micros for c, r in typed.items() if c.shape == "sandbox"}
    print("\n### Typed stream by shape (µs a record; x the same size on sandbox data)\n")
    print("| shape | size | newline | typed µs / record | x sandbox | read_fwf µs / record |")
    print("|---|---|---|---:|---:|---:|")
    fwf = {r.case: r for r in results if r.key == "fwf"}
    for case, res in typed.items():
        sandbox = base.get((case.n, case.newline))
        slower = f"{res.micros / sandbox:.2f}" if sandbox else "n/a"
        print(
            f"| {SHAPES[case.shape]} | {human_count(case.n)} | {case.newline.upper()} "
            f"| {res.micros:.2f} | {slower} | {fwf[case].micros:.2f} |"
        )


# --- CSV (optional) ----------------------------------------------------------------------


def bench_csv(shape: str, n: int, *, seed: int, rounds: int, pandas_max: int) -> None:
    import pandas as pd

    path = data_path(shape, n, seed, "csv")
    rows = min(n, pandas_max)

    def dict_reader() -> int:
        with open(path, encoding="utf-8", newline="") as fh:
            return sum(1 for _ in csv.DictReader(fh))

    def plain_reader() -> int:
        with open(path, encoding="utf-8", newline="") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1

    contenders: dict[str, Callable[[], Any]] = {
        "apscores.read_csv (typed ScoreReport)": lambda: len(list(apscores.read_csv(path))),
        "csv.DictReader": dict_reader,
        "csv.reader (floor)": plain_reader,
        "pandas.read_csv (dtype=str)": lambda: len(
            pd.read_csv(path, dtype=str, nrows=rows if rows < n else None)
        ),
    }
    print(f"\n### CSV, {SHAPES[shape]}, {human_count(n)} records: {path.name}\n")
    best, _ = interleaved(contenders, rounds, progress=True)
    base = n / best["csv.DictReader"]
    print("\n| reader | records/s | µs / record | x DictReader |")
    print("|---|---:|---:|---:|")
    for label, seconds in best.items():
        count = rows if label.startswith("pandas") else n
        star = "*" if count < n else ""
        print(
            f"| {label} | {count / seconds:,.0f}{star} | {seconds / count * 1e6:.2f} "
            f"| {count / seconds / base:.1f} |"
        )
    typed = n / best["apscores.read_csv (typed ScoreReport)"] / base
    flag = "PASS" if typed >= TARGET_CSV else "MISS"
    print(f"\n- read_csv vs csv.DictReader: {typed:.1f}x (issue 6: >= {TARGET_CSV:g}x) {flag}")


def parse_rounds(text: str) -> Callable[[int], int]:
    """``"3"`` -> 3 for every size; ``"10k=7,100k=3"`` -> by size (1 for the others)."""
    if "=" not in text:
        return lambda n: int(text)
    pairs = (part.split("=") for part in text.split(","))
    table = {parse_sizes(size)[0]: int(count) for size, count in pairs}
    return lambda n: table.get(n, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="real,worst,sandbox")
    parser.add_argument("--sizes", default="10k", help="record counts, e.g. 10k,100k")
    parser.add_argument("--newlines", default="lf,crlf")
    parser.add_argument("--cases", help="explicit shape:size:newline list instead")
    parser.add_argument("--rounds", default="3", help="N, or by size: 10k=7,100k=3")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--csv", action="store_true", help="also the CSV readers (real shape)")
    parser.add_argument(
        "--pandas-max", type=int, default=100_000, help="read_fwf reads at most this many rows"
    )
    args = parser.parse_args(argv)
    cases = parse_cases(args.shapes, args.sizes, args.newlines, args.cases)
    rounds = parse_rounds(args.rounds)
    ensure_cases(cases, seed=args.seed)
    sizes = dict.fromkeys(case.n for case in cases)
    if args.csv:
        ensure_cases([Case("real", n, "lf") for n in sizes], seed=args.seed, csv=True)
    print("## Read throughput\n")
    print(f"- machine: {machine_summary()}")
    print(f"- libraries: {package_versions()}")
    print(
        "- best of "
        + ", ".join(f"{rounds(n)} round{'s' * (rounds(n) > 1)} at {human_count(n)}" for n in sizes)
        + "; contenders interleaved round-robin; ratios are records/s over read_fwf's on the"
        " same file in the same run, higher is faster\n"
    )
    results: list[Result] = []
    for case in cases:
        opts = {"seed": args.seed, "rounds": rounds(case.n), "pandas_max": args.pandas_max}
        results += bench_case(case, **opts)
    print_tables(results)
    print_targets(results)
    print_shapes(results)
    if args.csv:
        for n in sizes:
            bench_csv("real", n, seed=args.seed, rounds=rounds(n), pandas_max=args.pandas_max)
    return 0


if __name__ == "__main__":
    sys.exit(main())
