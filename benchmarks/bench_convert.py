"""``apscores convert`` end to end, and the inputs that used to be quadratic (issue 23).

    python benchmarks/bench_convert.py [--records 100k] [--shape real] [--rounds 2]
                                       [--pathological] [--scratch-mb 200]

Each contender runs as its own process, timed from process start to the file written
(interpreter start and imports included); its peak RSS is the child's own ``VmHWM``
(``/proc/self/status``) read as it ends, and "growth" subtracts the peak of a process that
only imports the same libraries. (``ru_maxrss`` from ``wait4`` would count the pages of
this parent, inherited at fork.) Rounds interleave the contenders; the best round counts.

- ``apscores convert FILE -o OUT.parquet``, ``.csv`` and ``.jsonl`` (the columnar path
  since issue 23), against the object path (``write_parquet(read(FILE))``, and the rows
  of ``to_rows(read(FILE))`` through the command's own CSV and JSON Lines writers: what
  ``convert`` ran before), ``pandas.read_fwf`` (the layout's colspecs, ``dtype=str``,
  Latin-1) followed by ``to_parquet`` / ``to_csv`` / ``to_json(lines=True)``, and for
  CSV the other columnar designs measured (``_text_out.write_long_text(design=...)``).
- ``--pathological``: a file holding one line of ``--scratch-mb`` MB, a CR-only file of
  half that, and 32 MB of NUL bytes, each through ``read_txt`` (every record), ``read``,
  ``txt_to_arrow`` and ``check_file``: time and peak-RSS growth. The files go to a
  temporary folder under ``benchmarks/data/`` and are deleted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import COLSPECS, DATA_DIR, DEFAULT_SEED, NAMES, human_count, parse_sizes

SRC = str(Path(__file__).resolve().parents[1] / "src")

#: What each contender imports before it works: its baseline for the RSS growth.
IMPORTS = {
    "apscores": "import apscores.cli, apscores.tables._columnar, pyarrow.parquet",
    "apscores-text": "import apscores.cli, apscores.tables._text_out",
    "pandas": "import pandas, pyarrow.parquet",
}

#: How the pandas contenders write ``frame`` (read by the lines before) to ``out``.
PANDAS_WRITES = """
if target == "parquet":
    frame.to_parquet(out)
elif target == "csv":
    frame.to_csv(out, index=False)
else:
    frame.to_json(out, orient="records", lines=True, force_ascii=False)
"""
PANDAS = """
import sys, pandas as pd
path, out, target = sys.argv[1:4]
frame = pd.read_fwf(path, colspecs={colspecs!r}, names={names!r}, dtype=str,
                    encoding="latin-1", header=None)
""" + PANDAS_WRITES.replace("{", "{{").replace("}", "}}")

#: What ``convert`` ran before issue 23: the rows of ``to_rows(read(path))``, written by
#: the command's own writers (CSV neutralised), atomically.
OBJECT_PATH = """
import sys
from pathlib import Path
from apscores import read
from apscores.cli import _files
from apscores.cli._files import _open_text, _write_csv, _write_jsonl
from apscores.tables import write_parquet
_files._columnar = lambda paths: False  # the object path, as convert ran it before
path, out, target = sys.argv[1:4]
if target == "parquet":
    write_parquet(read(path), out)
else:
    with _open_text(out) as handle:
        (_write_csv if target == "csv" else _write_jsonl)([Path(path)], handle, True, False)
"""

#: The other designs of the columnar CSV writer, measured against the one ``convert``
#: runs (b: cells by pyarrow.compute joined into lines): each replaces how a block's
#: record batch becomes bytes. (a) Arrow's CSV writer (C++) over the cells neutralised by
#: pyarrow.compute, unquoted: it quotes every text cell when asked to quote, so a block
#: with a cell that needs quotes falls back to (b); its ``eol`` option needs a recent
#: pyarrow. (c) polars' ``write_csv`` (``quote_style="necessary"``, CRLF) over the same
#: cells, empty text made null (polars quotes an empty string). Their bytes are compared
#: with the object path's below.
DESIGN = """
import io, sys
import pyarrow as pa, pyarrow.compute as pc
from apscores.cli._files import _open_text
from apscores.tables import _frames, _text_out as t
from apscores.tables._schema import column_kind
path, design, chunk, out = sys.argv[1:5]
default = t.block_bytes

def cells(batch, raw):
    columns = []
    for name, column in zip(batch.schema.names, batch.columns):
        kind = column_kind(name)
        if kind in ("str", "category"):
            column = t._as_text(column, kind)
            if not raw and t._starts(column, t._TRIGGER):
                column = pc.replace_substring_regex(column, t._TRIGGERS_RE, "'\\\\1")
            if t._found(column, t._CSV_SPECIAL):
                return None
        columns.append(column)
    return pa.Table.from_arrays(columns, names=batch.schema.names)

def arrow(batch, how, raw):
    import pyarrow.csv as pa_csv
    table = cells(batch, raw) if how == "csv" else None
    if table is None:
        return default(batch, how, raw)
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none", eol="\\r\\n")
    pa_csv.write_csv(table, sink, options)
    return sink.getvalue()

def polars(batch, how, raw):
    import polars as pl
    table = cells(batch, raw) if how == "csv" else None
    if table is None:
        return default(batch, how, raw)
    blank = pa.scalar(None, pa.string())  # polars quotes an empty string, never a null
    table = pa.table({
        name: pc.if_else(pc.equal(column, ""), blank, column)
        if pa.types.is_string(column.type) else column
        for name, column in zip(table.column_names, table.columns)
    })
    sink = io.BytesIO()
    pl.from_arrow(table).write_csv(
        sink, include_header=False, line_terminator="\\r\\n", quote_style="necessary"
    )
    return sink.getbuffer()

t.block_bytes = {"a": arrow, "b": default, "c": polars}[design]
with _open_text(out) as handle:
    _frames.txt_files_to_text([path], handle, "csv", chunk_lines=int(chunk))
"""

PATHOLOGICAL = """
import sys, io
from apscores import read
from apscores.files import read_txt
from apscores.files._check import check_file
from apscores.tables import txt_to_arrow
import apscores.tables._columnar  # every child imports the same: one baseline
how, path = sys.argv[1:3]
try:
    if how == "baseline":
        pass
    elif how == "read_txt":
        for _ in read_txt(path, errors="collect"):
            pass
    elif how == "read":
        for _ in read(path, errors="collect"):
            pass
    elif how == "txt_to_arrow":
        txt_to_arrow(path, errors="collect", problems=[])
    else:
        check_file(path)
    print("read")
except Exception as error:
    print(type(error).__name__ + ": " + str(error)[:90])
"""


#: Runs a script or a module, then prints the process's peak RSS (VmHWM, KiB) last.
WRAPPER = """
import runpy, sys
kind, what, *rest = sys.argv[1:]
sys.argv = [what, *rest]
try:
    if kind == "-m":
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    else:
        exec(compile(what, "<bench>", "exec"), {"__name__": "__main__"})
except SystemExit as done:
    if done.code:
        raise
finally:
    sys.stdout.flush()
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print("VmHWM", peak)
"""


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, last line of output before the peak) of one child."""
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", WRAPPER, *args], capture_output=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    output = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode or not output or not output[-1].startswith("VmHWM"):
        raise SystemExit(f"{args[:2]} failed: {done.stderr.decode()[-400:]}")
    said = output[-2] if len(output) > 1 else ""
    return elapsed, int(output[-1].split()[1]) / 1024, said


def heading(
    path: Path, title: str, rounds: int, env: dict[str, str], *, make: str, versus: str
) -> dict[str, float]:
    """Print a convert benchmark's heading (its file, rounds, the peak RSS of a process that
    only imports what each contender imports, the table's head, ratios ``x versus``);
    return those baselines, by key. A missing file: run ``make_data.py make``."""
    if not path.exists():
        raise SystemExit(f"missing {path}: run make_data.py {make} first")
    bases = {
        key: min(_child(["-c", code], env)[1] for _ in range(2)) for key, code in IMPORTS.items()
    }
    print(f"### {title}\n")
    print(f"- file: {path.name} ({path.stat().st_size / 1e6:.1f} MB); best of {rounds}")
    print(
        f"- baselines (a process that only imports): apscores {bases['apscores']:.0f} MB "
        f"(with Parquet; {bases['apscores-text']:.0f} MB without), "
        f"pandas {bases['pandas']:.0f} MB\n"
    )
    print(f"| target | contender | seconds | peak RSS MB | growth MB | x {versus} |")
    print("|---|---|---:|---:|---:|---:|")
    return bases


def convert(records: int, shape: str, rounds: int, env: dict[str, str]) -> None:
    path = DATA_DIR / f"ap950-{shape}-{human_count(records)}-seed{DEFAULT_SEED}-lf.txt"
    title = f"apscores convert, end to end ({shape}, {human_count(records)} records)"
    bases = heading(path, title, rounds, env, make=f"--shapes {shape}", versus="pandas")
    same: dict[str, str] = {}
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as scratch:
        for target in ("parquet", "csv", "jsonl"):
            outs = {
                name: str(Path(scratch) / f"{index}.{target}")
                for index, name in enumerate(("convert", "a", "b", "c", "object", "pandas"))
            }
            pandas_code = PANDAS.format(colspecs=COLSPECS, names=NAMES)
            contenders = {
                "apscores convert": ["-m", "apscores", "convert", str(path), "-o", outs["convert"]],
                **_designs(target, str(path), outs),
                "object path (convert before)": [
                    "-c",
                    OBJECT_PATH,
                    str(path),
                    outs["object"],
                    target,
                ],
                "pandas.read_fwf + to_" + target.replace("jsonl", "json(lines=True)"): [
                    "-c",
                    pandas_code,
                    str(path),
                    outs["pandas"],
                    target,
                ],
            }
            best: dict[str, tuple[float, float]] = {}
            for _ in range(rounds):
                for name, args in contenders.items():
                    seconds, peak, _ = _child(args, env)
                    old = best.get(name)
                    best[name] = (
                        (min(seconds, old[0]), min(peak, old[1])) if old else (seconds, peak)
                    )
            reference = Path(outs["object"]).read_bytes() if target != "parquet" else b""
            for name, args in contenders.items():
                if reference and not name.startswith(("pandas", "object")):
                    equal = Path(args[-1] if name != "apscores convert" else outs["convert"])
                    verdict = "identical" if equal.read_bytes() == reference else "DIFFERENT"
                    same[f"{target}: {name}"] = verdict
            pandas = next(v[0] for k, v in best.items() if k.startswith("pandas"))
            for name, (seconds, peak) in best.items():
                base = bases[
                    "pandas"
                    if name.startswith("pandas")
                    else "apscores"
                    if target == "parquet"
                    else "apscores-text"
                ]
                print(
                    f"| {target} | {name} | {seconds:.2f} | {peak:.0f} | {peak - base:.0f} "
                    f"| {pandas / seconds:.1f} |"
                )
    print()
    for name, verdict in same.items():
        print(f"- bytes against the object path's, {name}: {verdict}")
    print()


def _designs(target: str, path: str, outs: dict[str, str]) -> dict[str, list[str]]:
    """The other columnar CSV designs (see ``DESIGN``); the last argument is the output."""
    if target != "csv":
        return {}
    return {
        "design (a): Arrow's CSV writer over the cells": [
            "-c",
            DESIGN,
            path,
            "a",
            "2500",
            outs["a"],
        ],
        "design (b) with blocks of 1,000 lines": ["-c", DESIGN, path, "b", "1000", outs["b"]],
        "design (c): polars' write_csv over the cells": [
            "-c",
            DESIGN,
            path,
            "c",
            "2500",
            outs["c"],
        ],
    }


def pathological(megabytes: int, env: dict[str, str]) -> None:
    base = min(_child(["-c", PATHOLOGICAL, "baseline", "-"], env)[1] for _ in range(2))
    print("### Pathological inputs (each refused or read in linear time)\n")
    print("| input | path | seconds | growth MB | outcome |")
    print("|---|---|---:|---:|---|")
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as scratch:
        record = _record()
        files = {
            f"one line of {megabytes} MB": lambda: b"A" * (megabytes << 20) + b"\n",
            f"CR-only, {megabytes // 2} MB": lambda: (record + b"\r") * ((megabytes << 19) // 951),
            "CR-only, 3.8 MB (the audit's)": lambda: (record + b"\r") * 4000,
            "32 MB of NUL bytes": lambda: b"\0" * (32 << 20),
        }
        for label, make in files.items():
            path = Path(scratch) / "input.txt"
            path.write_bytes(make())  # never held by this process while a child runs
            for how in ("read_txt", "read", "txt_to_arrow", "check_file"):
                seconds, peak, said = _child(["-c", PATHOLOGICAL, how, str(path)], env)
                print(f"| {label} | {how} | {seconds:.2f} | {peak - base:.0f} | {said} |")
            path.unlink()
    print()


def _record() -> bytes:
    """One valid 950-column record (the sandbox's first synthetic student)."""
    import io

    sys.path.insert(0, SRC)
    from apscores.files import write_txt
    from apscores.sandbox import fake_reports

    out = io.BytesIO()
    write_txt(fake_reports(1, seed=1), out)
    return out.getvalue().rstrip(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="100k")
    parser.add_argument("--shape", default="real")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pathological", action="store_true")
    parser.add_argument("--scratch-mb", type=int, default=200)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    DATA_DIR.mkdir(exist_ok=True)
    for records in parse_sizes(args.records):
        convert(records, args.shape, args.rounds, env)
    if args.pathological:
        pathological(args.scratch_mb, env)


if __name__ == "__main__":
    main()
