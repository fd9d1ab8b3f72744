"""Where the time of one typed TXT record goes, against the 15x ``read_fwf`` budget.

    python benchmarks/bench_breakdown.py [--records 100000] [--rounds 9] [--pandas-max 20000]

Times, per record, the steps ``apscores.txt.read_txt`` takes for each line, each on its
own over the same lines held in memory (no disk I/O): decoding, the 11 fields unique to
each student (sliced and right-stripped), the repeating parts and exam blocks (sliced and
looked up in warm dicts, as the reader's caches do), and building the three frozen
records (``Address``, ``Student``, ``ScoreReport``) through the reader's own constructors.
Then the whole ``read_txt`` and ``pandas.read_fwf`` on the same lines, and what 15x
``read_fwf`` leaves for one record.

Every step runs once per round, rounds interleaved, and the best round counts: on a shared
machine that is the figure least disturbed by neighbours. The steps import the reader's
private slices (``apscores.txt``) on purpose: this script explains that reader.
"""

from __future__ import annotations

import argparse
import gc
import io
import time
from collections.abc import Callable
from itertools import islice

import attrs
from _common import DEFAULT_SEED, flush, machine_summary, package_versions
from apscores.txt import read_txt
from bench_read import COLSPECS, NAMES, TARGET_TYPED
from make_data import ensure

from apscores import _read_records as rec
from apscores import txt

#: The steps a record is made of (their sum is compared with the budget), then the wholes.
PARTS = (
    "decode each line (latin-1)",
    "11 student fields: slice + rstrip",
    "10 repeating parts: slice + dict lookup",
    "exam blocks: slice + dict lookup",
    "3 frozen attrs records: construct",
)
READER = "apscores.read_txt, whole"
FWF = "pandas.read_fwf (same colspecs, dtype=str)"


def _steps(lines: list[bytes], pandas_max: int) -> dict[str, Callable[[], None]]:
    """Each step as a function over every line; the reader's own slices and builders."""
    texts = [line.decode("latin-1") for line in lines]
    first = next(iter(read_txt(lines[:1])))
    head, part_texts, rstrip = txt._HEAD, txt._PART_TEXTS, str.rstrip
    blocks_for, exam_span = txt._BLOCKS_FOR_LENGTH, txt._EXAMS

    parts: list[dict[str, bool]] = [{} for _ in txt._PARTS]
    exams: dict[str, bool] = {}
    for text in texts:  # warm every cache, so the step times hits only
        for cache, key in zip(parts, part_texts(text), strict=True):
            cache[key] = True
        exams.update(dict.fromkeys(blocks_for[len(text[exam_span].rstrip())](text), True))
    exam_get = exams.__getitem__

    def loop() -> None:
        for _ in texts:
            pass

    def decode() -> None:
        for line in lines:
            line.decode("latin-1")

    def student_fields() -> None:
        for text in texts:
            tuple(map(rstrip, head(text)))

    def repeating_parts() -> None:
        for text in texts:
            list(map(dict.__getitem__, parts, part_texts(text)))

    def exam_blocks() -> None:
        for text in texts:
            tuple(map(exam_get, blocks_for[len(text[exam_span].rstrip())](text)))

    student, address = first.student, first.student.address
    student_values = [getattr(student, name) for name in attrs.fields_dict(type(student))]
    report_values = [getattr(first, name) for name in attrs.fields_dict(type(first))]
    address_values = [getattr(address, name) for name in attrs.fields_dict(type(address))]

    def three_records() -> None:
        make_address, make_student, make_report = (
            rec.make_address,
            rec.make_student,
            rec.make_report,
        )
        for _ in texts:
            student_values[5] = make_address(*address_values)
            report_values[1] = make_student(*student_values)
            make_report(*report_values)

    def whole_reader() -> None:
        for _ in read_txt(lines):
            pass

    def pandas_read_fwf() -> None:
        import pandas as pd

        data = io.BytesIO(b"".join(lines[:pandas_max]))
        pd.read_fwf(data, colspecs=COLSPECS, names=NAMES, dtype=str, encoding="latin-1")

    functions = (decode, student_fields, repeating_parts, exam_blocks, three_records)
    return {
        "loop over the lines": loop,
        **dict(zip(PARTS, functions, strict=True)),
        READER: whole_reader,
        FWF: pandas_read_fwf,
    }


def measure(
    steps: dict[str, Callable[[], None]], rounds: int, counts: dict[str, int]
) -> dict[str, float]:
    """Best microseconds per record of each step, rounds interleaved."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            gc.collect()
            start = time.perf_counter()
            step()
            best[name] = min(best[name], (time.perf_counter() - start) / counts[name] * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pandas-max", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()

    path = ensure(100_000, seed=args.seed)
    with open(path, "rb") as handle:
        lines = list(islice(handle, args.records))
    steps = _steps(lines, args.pandas_max)
    counts = dict.fromkeys(steps, len(lines)) | {FWF: min(len(lines), args.pandas_max)}
    print("## Where one typed record's time goes (read_txt)\n")
    print(f"- machine: {machine_summary()}")
    print(f"- libraries: {package_versions(('apscores', 'pandas'))}")
    print(f"- the first {len(lines):,} lines of {path.name}, in memory (pandas: the first")
    print(f"  {counts[FWF]:,}); best of {args.rounds} interleaved rounds; nothing is kept\n")
    flush()
    times = measure(steps, args.rounds, counts)
    whole, fwf = times[READER], times[FWF]
    print("| step | µs / record | share of read_txt |")
    print("|---|---:|---:|")
    for name, micro in times.items():
        print(f"| {name} | {micro:.2f} | {micro / whole:.0%} |")
    summed = sum(times[name] for name in PARTS)
    budget = fwf / TARGET_TYPED
    print()
    print(f"- sum of the five steps (decode to records): {summed:.2f} µs a record")
    print(f"- read_txt is {fwf / whole:.1f}x read_fwf here; {TARGET_TYPED:.0f}x leaves")
    print(f"  {budget:.2f} µs a record, {budget / summed:.0%} of the five steps alone")


if __name__ == "__main__":
    main()
