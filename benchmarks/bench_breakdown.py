"""What one typed record costs, step by step, against the ``read_fwf`` budgets of issue 15.

    python benchmarks/bench_breakdown.py [--shape real] [--records 20000] [--rounds 5]
                                         [--pandas-max 20000]

Over the first ``--records`` lines of a cached file, held in memory (no disk I/O), times
per record the work any typed reader of these files does, whatever its design: loop over
the lines, decode them, unpack 22 fields as bytes (the floor of ``bench_read.py``), slice
and right-strip the fields a record holds (every non-exam field and the 7 fields of each
exam present, with one ``itemgetter`` of slices a line), and build the frozen records
through the models' own ``__init__`` (every object of a record; or only the three that are
new on each line: ``Address``, ``Student``, ``ScoreReport``). Then the whole
``apscores.read_txt`` (each record dropped as it comes) and ``pandas.read_fwf`` on the same
lines, and what 15x and 20x ``read_fwf`` leave for one record. The objects the setup keeps
(the lines, and the records read once to take the constructors' arguments from) are frozen
out of the collector's way (``gc.freeze``).

Only the public API is used (``apscores.read_txt``, ``apscores.models``), so the figures
hold for any reader. Steps run once per round, rounds interleaved, the best round counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
from collections.abc import Callable
from itertools import islice
from operator import itemgetter
from typing import Any

import attrs
from _common import (
    DEFAULT_SEED,
    FIELDS,
    LAYOUT_950,
    SHAPES,
    Case,
    interleaved,
    machine_summary,
    package_versions,
)
from bench_read import pandas_fwf, record_struct
from make_data import ensure

import apscores
from apscores.models import Address, Award, ExamScore, Organization, PreviousSchool, Student

READER = "apscores.read_txt, whole"
FWF = "pandas.read_fwf (same colspecs, dtype=str)"
BUILD_ALL = "build every object of a record (models' __init__)"
BUILD_NEW = "build Address, Student, ScoreReport only"
EXAMS = range(
    LAYOUT_950.field("admin_year_01").start, LAYOUT_950.field("class_section_code_30").end
)
BLOCK_FIELDS = [f for f in FIELDS if f.start in EXAMS and f.name.endswith("_01")]
OTHER_FIELDS = [f for f in FIELDS if f.start not in EXAMS]


def _plan(report: Any) -> tuple[Any, ...]:
    """A record's constructor arguments, so the timed loop only constructs."""

    def fields(obj: Any) -> tuple[Any, ...]:
        return attrs.astuple(obj, recurse=False)

    def ymd(day: dt.date | None) -> tuple[int, int, int] | None:
        return None if day is None else (day.year, day.month, day.day)

    student, school, college = report.student, report.high_school, report.college
    dates = (student.date_of_birth, report.date_released, report.date_updated, report.report_date)
    return (
        fields(student.address),
        fields(student),
        fields(school),
        fields(school.address),
        fields(college),
        fields(college.address),
        [fields(exam) for exam in report.exams],
        [fields(award) for award in report.awards],
        [fields(school) for school in report.previous_schools],
        fields(report),
        [ymd(day) for day in dates],
    )


def _steps(lines: list[bytes], pandas_max: int, newline: str) -> dict[str, Callable[[], Any]]:
    texts = [line.decode("latin-1") for line in lines]
    data = b"".join(lines)
    record = record_struct(newline)
    width = sum(f.width for f in BLOCK_FIELDS)
    slices = [f.slice for f in OTHER_FIELDS]
    getters = [itemgetter(*slices)]  # one C-level getter per exam count: 0 to 30 exams
    for k in range(30):
        slices += [slice(f.start - 1 + width * k, f.end + width * k) for f in BLOCK_FIELDS]
        getters.append(itemgetter(*slices))
    rstrip = str.rstrip
    reports = list(apscores.read_txt(io.BytesIO(data)))
    plans = [_plan(report) for report in reports]
    counts = [len(report.exams) for report in reports]
    make = apscores.ScoreReport
    date = dt.date

    def loop() -> None:
        for _ in lines:
            pass

    def decode() -> None:
        for line in lines:
            line.decode("latin-1")

    def unpack() -> None:
        for _ in record.iter_unpack(data):
            pass

    def slice_fields() -> None:
        for text, exams in zip(texts, counts, strict=True):
            tuple(map(rstrip, getters[exams](text)))

    def build_all() -> None:
        for addr, stu, hs, hs_addr, col, col_addr, exams, awards, previous, rep, days in plans:
            born, released, updated, reported = [day and date(*day) for day in days]
            make(
                rep[0],
                Student(*stu[:3], born, stu[4], Address(*addr), *stu[6:]),
                rep[2],
                Organization(*col[:3], Address(*col_addr)),
                Organization(*hs[:3], Address(*hs_addr)),
                tuple([ExamScore(*exam) for exam in exams]),
                tuple([Award(*award) for award in awards]),
                tuple([PreviousSchool(*school) for school in previous]),
                released,
                updated,
                reported,
                *rep[11:],
            )

    def build_new() -> None:
        for addr, stu, *_, rep, _days in plans:
            make(rep[0], Student(*stu[:5], Address(*addr), *stu[6:]), *rep[2:])

    def whole_reader() -> None:
        for _ in apscores.read_txt(io.BytesIO(data)):
            pass

    def read_fwf() -> None:
        pandas_fwf(io.BytesIO(b"".join(lines[:pandas_max])), None)

    return {
        "loop over the lines": loop,
        "decode each line (latin-1)": decode,
        "unpack 22 fields as bytes (struct floor)": unpack,
        f"slice + rstrip the fields a record holds ({_average(counts)})": slice_fields,
        BUILD_ALL: build_all,
        BUILD_NEW: build_new,
        READER: whole_reader,
        FWF: read_fwf,
    }


def _average(counts: list[int]) -> str:
    exams = sum(counts) / len(counts)
    return f"{len(OTHER_FIELDS) + 7 * exams:.0f} a record, {exams:.1f} exams"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="real", choices=list(SHAPES))
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--pandas-max", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()

    size = 10_000 if args.records <= 10_000 else 100_000
    path = ensure(Case(args.shape, size, "lf"), seed=args.seed)
    with open(path, "rb") as handle:
        lines = list(islice(handle, args.records))
    steps = _steps(lines, args.pandas_max, "lf")
    gc.freeze()  # the setup's reports and arguments: kept, but never scanned by the timed runs
    rows = {name: len(lines) for name in steps} | {FWF: min(len(lines), args.pandas_max)}
    print(f"## What one typed record costs, step by step ({SHAPES[args.shape]})\n")
    print(f"- machine: {machine_summary()}")
    print(f"- libraries: {package_versions(('apscores', 'pandas'))}")
    print(f"- the first {len(lines):,} lines of {path.name}, in memory (read_fwf: the first")
    print(f"  {rows[FWF]:,}); best of {args.rounds} interleaved rounds; nothing is kept\n")
    best, _ = interleaved(steps, args.rounds)
    micros = {name: best[name] / rows[name] * 1e6 for name in steps}
    whole, fwf = micros[READER], micros[FWF]
    print("| step | µs / record | x read_txt |")
    print("|---|---:|---:|")
    for name, value in micros.items():
        print(f"| {name} | {value:.2f} | {value / whole:.2f} |")
    print()
    print(f"- read_txt is {fwf / whole:.1f}x read_fwf here")
    for target in (15, 20):
        print(f"- {target}x read_fwf leaves {fwf / target:.2f} µs a record")


if __name__ == "__main__":
    main()
