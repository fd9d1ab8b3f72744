"""Write the synthetic score files the benchmarks read, cached by size and seed.

    python benchmarks/make_data.py --sizes 10k,100k,1M [--seed N] [--formats txt,csv] [--force]

Records come from the sandbox (``apscores.sandbox.iter_fake_reports``: realistic students
with ~3-4 exams each) and are streamed straight into ``apscores.txt.write_txt`` (950-column
TXT) and ``apscores.csvfile.write_csv`` (CSV) chunk by chunk, so memory stays flat even
for 1M records. Both formats missing: one generation feeds both writers. Only the CSV
missing: its records are read back from the cached TXT of the same size and seed (the
same reports, several times faster than generating them again).

Files land in ``benchmarks/data/`` (gitignored) as ``ap950-<size>-seed<seed>-<source>.txt``
and ``.csv``, written to a temporary name and renamed, so an interrupted run never leaves a
file that looks cached. ``<source>`` is ``sandbox``, or ``local`` when the sandbox or the
writers are not importable (then ``_localgen`` writes look-alike records from the layout).
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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from _common import DATA_DIR, DEFAULT_DI_CODE, DEFAULT_SEED, human_count, parse_sizes

FORMATS = ("txt", "csv")
CHUNK = 10_000
Writer = Callable[[Iterable[Any], BinaryIO], int]
_why_local: list[str] = []  # why the sandbox path was not taken, shown when falling back


def _sandbox_reports() -> Callable[[int, int], Iterable[Any]] | None:
    """A streaming ``(n, seed) -> reports`` from the sandbox, or None if it is missing."""
    try:
        from apscores import sandbox
    except ImportError as exc:
        _why_local.append(f"apscores.sandbox: {exc}")
        return None
    iter_fake = getattr(sandbox, "iter_fake_reports", None)
    if iter_fake is not None:

        def streamed(n: int, seed: int) -> Iterable[Any]:
            return iter_fake(n, seed=seed, di_code=DEFAULT_DI_CODE)  # type: ignore[no-any-return]

        return streamed
    fake = getattr(sandbox, "fake_reports", None)
    if fake is None:
        _why_local.append("apscores.sandbox has neither iter_fake_reports nor fake_reports")
        return None

    def chunked(n: int, seed: int) -> Iterator[Any]:
        # fake_reports returns a list: ask for it chunk by chunk to keep memory flat.
        for index, start in enumerate(range(0, n, CHUNK)):
            yield from fake(
                min(CHUNK, n - start), seed=seed * 1_000 + index, di_code=DEFAULT_DI_CODE
            )

    return chunked


def _writers() -> dict[str, Writer]:
    """The package's writers that are importable, by format."""
    found: dict[str, Writer] = {}
    try:
        from apscores.txt import write_txt

        found["txt"] = write_txt
    except ImportError as exc:
        _why_local.append(f"apscores.txt: {exc}")
    try:
        from apscores.csvfile import write_csv

        found["csv"] = write_csv
    except ImportError as exc:
        _why_local.append(f"apscores.csvfile: {exc}")
    return found


def source_for(fmt: str) -> str:
    """``sandbox`` if this format can be written from sandbox reports, else ``local``."""
    return "sandbox" if _sandbox_reports() is not None and fmt in _writers() else "local"


def data_path(n: int, seed: int, fmt: str, source: str | None = None) -> Path:
    """Where the file for ``n`` records, ``seed`` and ``fmt`` lives."""
    source = source or source_for(fmt)
    return DATA_DIR / f"ap950-{human_count(n)}-seed{seed}-{source}.{fmt}"


def _sandbox_pass(
    n: int, seed: int, outputs: dict[str, BinaryIO], writers: dict[str, Writer]
) -> int:
    """Generate the reports once and write every format, chunk by chunk (flat memory).

    Each writer is called once per chunk on the same open file; the CSV writer's header
    is kept from the first chunk only.
    """
    txt = data_path(n, seed, "txt", "sandbox")
    if "txt" not in outputs and txt.exists():
        # The TXT of the same size and seed holds these very reports: reading it back is
        # several times faster than generating them again.
        from apscores.txt import read_txt

        print(f"  reading the reports back from {txt.name}", flush=True)
        stream: Iterator[Any] = iter(read_txt(txt))
    else:
        reports = _sandbox_reports()
        assert reports is not None
        stream = iter(reports(n, seed))
    written = 0
    first = True
    while first or written < n:
        chunk = list(itertools.islice(stream, min(CHUNK, n - written)))
        for fmt, dest in outputs.items():
            if fmt == "csv":
                buffer = io.BytesIO()
                writers[fmt](chunk, buffer)
                data = buffer.getvalue()
                dest.write(data if first else data.split(b"\n", 1)[1])
            else:
                writers[fmt](chunk, dest)
        written += len(chunk)
        first = False
        if not chunk:
            break
    return written


def _local_pass(n: int, seed: int, fmt: str, dest: BinaryIO) -> int:
    import _localgen

    why = "; ".join(dict.fromkeys(_why_local))
    print(f"  falling back to _localgen for {fmt}: {why}", flush=True)
    local = _localgen.write_txt if fmt == "txt" else _localgen.write_csv
    return local(n, dest, seed=seed, di_code=DEFAULT_DI_CODE)


def ensure_all(
    n: int, *, seed: int = DEFAULT_SEED, formats: Iterable[str] = FORMATS, force: bool = False
) -> dict[str, Path]:
    """The cached files for ``n`` records, writing the missing ones (all of them if ``force``).

    Formats the sandbox and the package writers can produce are written in one pass over
    one stream of reports; the others come from ``_localgen``.
    """
    paths = {fmt: data_path(n, seed, fmt) for fmt in formats}
    todo = {fmt: path for fmt, path in paths.items() if force or not path.exists()}
    if not todo:
        return paths
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmps = {fmt: path.with_name(f".{path.name}.{os.getpid()}.tmp") for fmt, path in todo.items()}
    writers = _writers()
    sandbox = [fmt for fmt in todo if source_for(fmt) == "sandbox"]
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            handles = {
                fmt: stack.enter_context(open(tmp, "wb", buffering=1 << 20))
                for fmt, tmp in tmps.items()
            }
            counts = dict.fromkeys(todo, 0)
            if sandbox:
                written = _sandbox_pass(n, seed, {f: handles[f] for f in sandbox}, writers)
                counts.update(dict.fromkeys(sandbox, written))
            for fmt in todo:
                if fmt not in sandbox:
                    counts[fmt] = _local_pass(n, seed, fmt, handles[fmt])
        for fmt, tmp in tmps.items():
            os.replace(tmp, todo[fmt])
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
    elapsed = time.perf_counter() - started
    for fmt, path in todo.items():
        size = path.stat().st_size
        meta: dict[str, object] = {
            "records": counts[fmt],
            "bytes": size,
            "seed": seed,
            "format": fmt,
            "source": "sandbox" if fmt in sandbox else "local",
            "seconds_to_write_all": round(elapsed, 2),
        }
        path.with_name(path.name + ".json").write_text(json.dumps(meta, indent=2) + "\n")
        print(
            f"  wrote benchmarks/data/{path.name}: {counts[fmt]:,} records, "
            f"{size / 1e6:,.1f} MB ({meta['source']}; {elapsed:.1f} s for this pass)",
            flush=True,
        )
    return paths


def ensure(n: int, *, seed: int = DEFAULT_SEED, fmt: str = "txt", force: bool = False) -> Path:
    """The cached file for ``n`` records in ``fmt``, written first if missing."""
    return ensure_all(n, seed=seed, formats=(fmt,), force=force)[fmt]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="record counts (10k,100k,1M)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--formats", default="txt,csv", help="txt, csv or both")
    parser.add_argument("--force", action="store_true", help="rewrite cached files")
    args = parser.parse_args(argv)
    formats = [fmt.strip() for fmt in args.formats.split(",") if fmt.strip()]
    unknown = set(formats) - set(FORMATS)
    if unknown:
        parser.error(f"unknown format(s): {', '.join(sorted(unknown))}")
    for n in parse_sizes(args.sizes):
        paths = ensure_all(n, seed=args.seed, formats=formats, force=args.force)
        for fmt, path in paths.items():
            print(f"{fmt} {human_count(n):>5}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
