"""Shared helpers for the benchmark scripts: layout, data cases, machine facts, timing.

Not part of the package and not imported by the tests. The scripts put this folder on
``sys.path`` by being run as ``python benchmarks/<script>.py``. The layout table is
imported here and nowhere else: it is moving from ``apscores.layout`` to
``apscores.files.layout``, and this file takes whichever exists.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

try:
    from apscores.files.layout import LAYOUT_950
    from apscores.files.layout import FieldKind as Kind
except ImportError:  # before the package restructure
    from apscores.layout import LAYOUT_950, Kind

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
DEFAULT_SEED = 20240707
DEFAULT_DI_CODE = "1234"

#: Every field a reader of the 950 layout reads (fillers skipped), as ``read_fwf`` colspecs.
FIELDS = [f for f in LAYOUT_950.fields if f.kind is not Kind.FILLER]
COLSPECS = [(f.start - 1, f.start - 1 + f.width) for f in FIELDS]
NAMES = [f.name for f in FIELDS]

#: The data shapes (see make_data.py), in the order tables list them.
SHAPES = {
    "real": "real-shaped",
    "worst": "worst case",
    "sandbox": "sandbox (cache-friendly)",
}
NEWLINES = {"lf": "\n", "crlf": "\r\n"}


class Case(NamedTuple):
    """One data file: shape, record count and line ending (``lf`` or ``crlf``)."""

    shape: str
    n: int
    newline: str

    def __str__(self) -> str:
        return f"{SHAPES[self.shape]}, {human_count(self.n)}, {self.newline.upper()}"


def parse_cases(shapes: str, sizes: str, newlines: str, cases: str | None = None) -> list[Case]:
    """The cross product of ``shapes``, ``sizes`` and ``newlines``, or the explicit
    ``cases`` (``"real:10k:lf,worst:100k:crlf"``) when given."""
    if cases:
        items = [part.strip().split(":") for part in cases.split(",") if part.strip()]
        found = [Case(shape, parse_sizes(size)[0], nl) for shape, size, nl in items]
    else:
        found = [
            Case(shape.strip(), n, nl.strip())
            for shape in shapes.split(",")
            for n in parse_sizes(sizes)
            for nl in newlines.split(",")
        ]
    for case in found:
        if case.shape not in SHAPES or case.newline not in NEWLINES:
            raise SystemExit(f"unknown shape or newline in {case!r}: {sorted(SHAPES)}, lf|crlf")
    return found


def parse_sizes(text: str) -> list[int]:
    """``"10000,100k,1M"`` -> ``[10000, 100000, 1000000]``."""
    sizes: list[int] = []
    for part in text.split(","):
        item = part.strip().lower().replace("_", "")
        if not item:
            continue
        scale = 1
        if item.endswith("k"):
            scale, item = 1_000, item[:-1]
        elif item.endswith("m"):
            scale, item = 1_000_000, item[:-1]
        sizes.append(int(float(item) * scale))
    return sizes


def human_count(n: int) -> str:
    """``1000000`` -> ``1M``, ``100000`` -> ``100k``."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mem_total_mb() -> int | None:
    """Total RAM in MB from /proc/meminfo (Linux only)."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def machine_summary() -> str:
    """One line that says where the figures came from."""
    mem = mem_total_mb()
    parts = [
        f"date {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"nproc {os.cpu_count()}",
        f"CPU {cpu_model()}",
        f"RAM {mem} MB" if mem else "",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"{platform.system()} {platform.release()}",
    ]
    return " | ".join(part for part in parts if part)


def package_versions(names: tuple[str, ...] = ("apscores", "pandas", "pyarrow", "polars")) -> str:
    """Versions of the libraries a figure depends on."""
    from importlib import metadata

    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def interleaved(
    contenders: dict[str, Callable[[], Any]], rounds: int, progress: bool = False
) -> tuple[dict[str, float], dict[str, Any]]:
    """Run every contender once per round, round-robin; best wall time of each, and what
    each returned in its last round.

    Interleaving spreads a neighbour's burst of load over all contenders instead of one;
    the best round is the figure least disturbed. A full collection before each run keeps
    one contender's garbage out of the next one's time; the collector stays enabled while
    timing, as it is for users. What a contender builds is dropped inside its time.
    """
    best = dict.fromkeys(contenders, float("inf"))
    returned: dict[str, Any] = {}
    for number in range(1, max(1, rounds) + 1):
        if progress:
            print(f"    round {number}/{rounds} ...", end="", flush=True)
        for key, func in contenders.items():
            gc.collect()
            start = time.perf_counter()
            returned[key] = func()
            best[key] = min(best[key], time.perf_counter() - start)
        if progress:
            print(" done", flush=True)
    return best, returned


def flush() -> None:
    """Flush stdout so progress shows up when the output is piped to a file."""
    sys.stdout.flush()
