"""Peak memory of the streaming paths: parsing 1M records, downloading a 1 GB body.

    python benchmarks/bench_memory.py [--records 1M] [--shape real] [--download-mb 1024]
                                      [--only parse|download]

Each measurement runs in a fresh interpreter (this script re-run with ``--child``), so one
measurement's heap never inflates the next. The child imports what it needs, resets the
kernel's peak-RSS mark (``echo 5 > /proc/self/clear_refs``; when that is refused the peak
after imports is the baseline), does the work, and reports ``VmHWM`` minus the RSS at the
start: the growth the work itself caused. Targets (issue 6): both < 50 MB.

- ``parse``: ``apscores.read_txt`` over the 1M-record TXT of ``--shape`` (default
  ``real``, the real-shaped data; ``sandbox`` and ``worst`` too) from ``make_data.py``,
  every ``ScoreReport`` built and dropped.
- ``download``: ``Client.institution("1234").download()`` (login, generate, GET, record)
  against the in-process sandbox (``apscores.sandbox.sandbox_client``), whose service
  serves a 1 GiB file of valid 950-column TXT records through
  ``apscores.sandbox.bulk_renderer``: 256 synthetic reports written once and repeated with
  fresh AP IDs, streamed by the sandbox transport in 64 KiB chunks. The growth counts both
  sides, the fake service making the body and the client saving and hashing it. The file
  goes to a temporary folder under ``benchmarks/data/`` and is deleted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DATA_DIR, DEFAULT_SEED, SHAPES, Case, human_count, machine_summary, parse_sizes

TARGET_MB = 50.0
BULK_REPORTS = 256  # distinct reports in the repeating round of the 1 GiB file


# --- measuring inside the child ----------------------------------------------------------


def _status_kb(key: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in KiB (None off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if the kernel refused."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


class Meter:
    """RSS at the start of the work, and the peak since then."""

    def __init__(self) -> None:
        self.reset = _reset_peak()
        self.start_kb = _status_kb("VmRSS") or _maxrss_kb()
        if not self.reset:  # the baseline is the peak so far (imports included)
            self.start_kb = max(self.start_kb, _status_kb("VmHWM") or _maxrss_kb())

    def growth(self) -> dict[str, Any]:
        peak = _status_kb("VmHWM") or _maxrss_kb()
        return {
            "start_mb": self.start_kb / 1024,
            "peak_mb": peak / 1024,
            "growth_mb": max(0, peak - self.start_kb) / 1024,
            "peak_reset": self.reset,
        }


def _maxrss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def child_parse(path: Path) -> dict[str, Any]:
    from apscores import read_txt

    meter = Meter()
    started = time.perf_counter()
    count = 0
    for _ in read_txt(path):
        count += 1
    seconds = time.perf_counter() - started
    return {"records": count, "seconds": seconds, **meter.growth()}


def child_control(megabytes: int) -> dict[str, Any]:
    """Allocate and touch ``megabytes``: shows the meter sees what it should."""
    meter = Meter()
    started = time.perf_counter()
    block = bytearray(megabytes * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])
    seconds = time.perf_counter() - started
    del block
    return {"bytes": megabytes * 1024 * 1024, "seconds": seconds, **meter.growth()}


def child_download(total: int, seed: int) -> dict[str, Any]:
    import hashlib

    from apscores import read_txt  # noqa: F401 - imported before the meter starts, as the client is
    from apscores.sandbox import SandboxService, bulk_renderer, sandbox_client

    service = SandboxService.default(reports=BULK_REPORTS, seed=seed, renderer=bulk_renderer(total))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="download-") as folder:
        with sandbox_client(service) as client:
            meter = Meter()
            started = time.perf_counter()
            result = client.institution("1234").download(dest=folder)
            seconds = time.perf_counter() - started
            growth = meter.growth()
        assert result is not None, "the sandbox had nothing to deliver"
        on_disk = result.path.stat().st_size
        digest = hashlib.sha256()
        with result.path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    if on_disk != result.size or digest.hexdigest() != result.sha256:
        raise SystemExit(f"download mismatch: {on_disk} bytes on disk, {result.size} reported")
    return {
        "bytes": result.size,
        "seconds": seconds,
        "requests": [f"{call.method} {call.endpoint}" for call in service.calls()],
        "recorded": service.recorded_ids == [result.download_id],
        **growth,
    }


# --- the parent: one fresh interpreter per measurement ------------------------------------


def run_child(*args: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        return {"error": f"exit {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(name: str, result: dict[str, Any], amount: str, rate: str) -> str:
    if "error" in result:
        print(f"- {name}: failed\n\n```\n{result['error']}\n```\n")
        return f"- {name}: n/a (failed)"
    growth = result["growth_mb"]
    flag = "PASS" if growth < TARGET_MB else "MISS"
    note = "" if result["peak_reset"] else " (peak not reset: baseline = peak after imports)"
    print(
        f"| {name} | {amount} | {result['seconds']:.1f} | {rate} | {result['start_mb']:.1f} | "
        f"{result['peak_mb']:.1f} | **{growth:.1f}** |{note}"
    )
    return f"- {name}: peak RSS grew {growth:.1f} MB (target < {TARGET_MB:g} MB) {flag}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1M", help="records to parse (default 1M)")
    parser.add_argument("--shape", default="real", choices=list(SHAPES), help="data to parse")
    parser.add_argument("--download-mb", type=int, default=1024, help="body size in MiB")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--only", choices=("parse", "download"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, value = args.child[0], args.child[1]
        if kind == "parse":
            result = child_parse(Path(value))
        elif kind == "download":
            result = child_download(int(value), args.seed)
        else:
            result = child_control(int(value))
        print(json.dumps(result))
        return 0

    from make_data import ensure

    print("## Peak memory (fresh interpreter per row)\n")
    print(f"- machine: {machine_summary()}")
    print()
    print("| measurement | amount | time (s) | rate | RSS start (MB) | peak (MB) | growth (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    sys.stdout.flush()
    verdicts: list[str] = []
    control = run_child("control", "64")
    if "error" not in control:
        print(
            f"| meter check: allocate 64 MiB | 64 MiB | {control['seconds']:.1f} | | "
            f"{control['start_mb']:.1f} | {control['peak_mb']:.1f} | {control['growth_mb']:.1f} |"
        )
    if args.only in (None, "parse"):
        case = Case(args.shape, parse_sizes(args.records)[0], "lf")
        path = ensure(case, seed=args.seed)
        res = run_child("parse", str(path))
        rate = f"{res.get('records', 0) / res.get('seconds', 1):,.0f} rec/s" if res else ""
        name = f"read_txt, parse ({SHAPES[case.shape]})"
        verdicts.append(report(name, res, f"{human_count(case.n)} records", rate))
        sys.stdout.flush()
    if args.only in (None, "download"):
        total = args.download_mb * 1024 * 1024
        res = run_child("download", str(total))
        rate = f"{res.get('bytes', 0) / res.get('seconds', 1) / 1e6:,.0f} MB/s"
        size = f"{res.get('bytes', total) / 2**20:,.0f} MiB"
        name = "Client download via sandbox (bulk_renderer)"
        verdicts.append(report(name, res, size, rate))
        if "requests" in res:
            print(f"\nrequests the sandbox saw: {', '.join(res['requests'])}", end="")
            print(f" (recorded: {'yes' if res.get('recorded') else 'NO'})")
    print("\n### Targets\n")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
