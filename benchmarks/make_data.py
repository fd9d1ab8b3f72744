"""Write the score files the benchmarks read, cached by shape, size, seed and newline.

    python benchmarks/make_data.py [--shapes real,worst,sandbox] [--sizes 10k,100k,1M]
                                   [--newlines lf,crlf] [--cases real:1M:lf,...]
                                   [--csv] [--seed N] [--force]

Three shapes (``_shapes.py`` says what each holds):

- ``sandbox``: ``apscores.sandbox.iter_fake_reports``, the sandbox's cache-friendly data
  (six high schools, one college, popular exams: most parts of a line repeat).
- ``real``: real-shaped, every student distinct, a high school per five students.
- ``worst``: worst case, every field that can vary does.

Reports are built one at a time with a seeded ``random.Random`` and written by the
package's own writers (``apscores.write_txt``, ``apscores.write_csv``) ``CHUNK`` reports
at a time, so 1M records take constant memory; one pass over the reports writes every
missing file of a shape and size (LF and CRLF TXT, and the CSV with ``--csv``).

Files land in ``benchmarks/data/`` (gitignored) as
``ap950-<shape>-<size>-seed<seed>-<lf|crlf>.txt`` and ``ap950-<shape>-<size>-seed<seed>.csv``
(the CSV writer always ends rows with CRLF), each with a ``.json`` beside it (records,
exams, bytes, generator version). They are written to a temporary name and renamed, so an
interrupted run never leaves a file that looks cached; a file from another generator
version is written again.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import _shapes
from _common import (
    DATA_DIR,
    DEFAULT_DI_CODE,
    DEFAULT_SEED,
    NEWLINES,
    Case,
    human_count,
    parse_cases,
)

import apscores

CHUNK = 10_000
VERSION = 2  # bump when a shape's generator changes: cached files are then rewritten


def reports(shape: str, n: int, seed: int) -> Iterator[Any]:
    """``n`` reports of ``shape``, one at a time."""
    if shape == "sandbox":
        from apscores.sandbox import iter_fake_reports

        return iter(iter_fake_reports(n, seed=seed, di_code=DEFAULT_DI_CODE))
    make = _shapes.iter_real if shape == "real" else _shapes.iter_worst
    return make(n, seed, DEFAULT_DI_CODE)


def data_path(shape: str, n: int, seed: int, output: str) -> Path:
    """Where a file lives; ``output`` is ``lf`` or ``crlf`` (TXT) or ``csv``."""
    stem = f"ap950-{shape}-{human_count(n)}-seed{seed}"
    return DATA_DIR / (f"{stem}.csv" if output == "csv" else f"{stem}-{output}.txt")


def meta(path: Path) -> dict[str, Any]:
    """What ``make_data`` recorded about a cached file ({} if nothing or stale)."""
    try:
        found: dict[str, Any] = json.loads(path.with_name(path.name + ".json").read_text())
    except (OSError, ValueError):
        return {}
    return found if found.get("version") == VERSION and path.exists() else {}


def _write_chunk(output: str, chunk: list[Any], dest: BinaryIO, first: bool) -> None:
    if output == "csv":
        buffer = io.BytesIO()
        apscores.write_csv(chunk, buffer)
        data = buffer.getvalue()
        dest.write(data if first else data.split(b"\n", 1)[1])  # one header, at the top
    else:
        apscores.write_txt(chunk, dest, newline=NEWLINES[output])


def ensure_all(
    shape: str, n: int, outputs: Iterable[str], *, seed: int = DEFAULT_SEED, force: bool = False
) -> dict[str, Path]:
    """The cached files of ``shape`` and ``n`` for each of ``outputs``, the missing ones
    written in one pass over one stream of reports."""
    paths = {output: data_path(shape, n, seed, output) for output in outputs}
    todo = {out: path for out, path in paths.items() if force or not meta(path)}
    if not todo:
        return paths
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmps = {out: path.with_name(f".{path.name}.{os.getpid()}.tmp") for out, path in todo.items()}
    print(f"  writing {shape} {human_count(n)} ({', '.join(todo)}) ...", flush=True)
    started = time.perf_counter()
    written = exams = 0
    try:
        with contextlib.ExitStack() as stack:
            handles = {
                out: stack.enter_context(open(tmp, "wb", buffering=1 << 20))
                for out, tmp in tmps.items()
            }
            stream = reports(shape, n, seed)
            while chunk := list(itertools.islice(stream, CHUNK)):
                for out, handle in handles.items():
                    _write_chunk(out, chunk, handle, first=written == 0)
                written += len(chunk)
                exams += sum(len(report.exams) for report in chunk)
        for out, tmp in tmps.items():
            os.replace(tmp, todo[out])
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
    elapsed = time.perf_counter() - started
    for out, path in todo.items():
        info = {
            "shape": shape,
            "records": written,
            "exams": exams,
            "bytes": path.stat().st_size,
            "seed": seed,
            "output": out,
            "version": VERSION,
            "seconds_to_write_all": round(elapsed, 1),
        }
        path.with_name(path.name + ".json").write_text(json.dumps(info, indent=2) + "\n")
        print(
            f"  wrote benchmarks/data/{path.name}: {written:,} records, {exams:,} exams, "
            f"{info['bytes'] / 1e6:,.1f} MB ({elapsed:.1f} s for this pass)",
            flush=True,
        )
    return paths


def ensure(case: Case, *, seed: int = DEFAULT_SEED) -> Path:
    """The cached TXT file of ``case``, written first if missing."""
    return ensure_all(case.shape, case.n, (case.newline,), seed=seed)[case.newline]


def ensure_cases(
    cases: Iterable[Case], *, seed: int, csv: bool = False, force: bool = False
) -> None:
    """Every file ``cases`` need; one pass per shape and size."""
    wanted: dict[tuple[str, int], list[str]] = {}
    for case in cases:
        outputs = wanted.setdefault((case.shape, case.n), [])
        for out in (case.newline, "csv") if csv else (case.newline,):
            if out not in outputs:
                outputs.append(out)
    for (shape, n), outputs in wanted.items():
        ensure_all(shape, n, outputs, seed=seed, force=force)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="real,worst,sandbox")
    parser.add_argument("--sizes", default="10k,100k", help="record counts (10k,100k,1M)")
    parser.add_argument("--newlines", default="lf,crlf")
    parser.add_argument("--cases", help="explicit shape:size:newline list instead")
    parser.add_argument("--csv", action="store_true", help="also write the CSV")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="rewrite cached files")
    args = parser.parse_args(argv)
    cases = parse_cases(args.shapes, args.sizes, args.newlines, args.cases)
    ensure_cases(cases, seed=args.seed, csv=args.csv, force=args.force)
    for case in cases:
        print(f"{case}: {data_path(case.shape, case.n, args.seed, case.newline)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
