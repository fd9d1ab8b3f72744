"""Shared helpers for the benchmark scripts: data paths, machine facts, timing, formatting.

Not part of the package and not imported by the tests. The scripts put this folder on
``sys.path`` by being run as ``python benchmarks/<script>.py``.
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

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
DEFAULT_SEED = 20240707
DEFAULT_DI_CODE = "1234"


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


def best_of(repeat: int, func: Callable[[], int]) -> tuple[float, int]:
    """Run ``func`` ``repeat`` times; return the best wall time and the count it returned.

    A full collection before each run keeps one benchmark's garbage out of the next one's
    time; the collector stays enabled while timing, as it is for users.
    """
    best = float("inf")
    count = 0
    for _ in range(max(1, repeat)):
        gc.collect()
        start = time.perf_counter()
        count = func()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
    return best, count


def flush() -> None:
    """Flush stdout so progress shows up when the output is piped to a file."""
    sys.stdout.flush()
