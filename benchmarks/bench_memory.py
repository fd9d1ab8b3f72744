"""Peak memory of the streaming paths: parsing 1M records, downloading a 1 GB body.

    python benchmarks/bench_memory.py [--records 1M] [--download-mb 1024] [--only parse|download]

Each measurement runs in a fresh interpreter (this script re-run with ``--child``), so one
measurement's heap never inflates the next. The child imports what it needs, resets the
kernel's peak-RSS mark (``echo 5 > /proc/self/clear_refs``; when that is refused the peak
after imports is the baseline), does the work, and reports ``VmHWM`` minus the RSS at the
start: the growth the work itself caused. Targets (issue 6): both < 50 MB.

- ``parse``: ``apscores.txt.read_txt`` over the 1M-record TXT from ``make_data.py``,
  every ``ScoreReport`` built and dropped.
- ``download``: ``apscores.client.Client.files.download`` of a ``GeneratedFile`` whose URL
  a tiny custom httpx transport (:class:`StreamingBody`, below) answers with 1 GB of
  synthetic 950-column TXT lines, streamed in 64 KiB chunks, never held whole. The body is
  made up in the benchmark because the sandbox builds its files from ``ScoreReport``s,
  which would take minutes for 1 GB and would measure the fake server, not the client.
  The downloaded file goes to a temporary folder under ``benchmarks/data/`` and is deleted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from _common import DATA_DIR, DEFAULT_SEED, human_count, machine_summary, parse_sizes

TARGET_MB = 50.0
CHUNK = 64 * 1024
DOWNLOAD_URL = "https://bench-bucket.invalid/scores/bench.txt?X-Amz-Signature=not-a-secret"


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
    from apscores.txt import read_txt

    meter = Meter()
    started = time.perf_counter()
    count = 0
    with read_txt(path) as reader:
        for _ in reader:
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


class StreamingBody(httpx.BaseTransport):
    """Answers every request with ``total`` bytes of TXT lines, made up chunk by chunk."""

    def __init__(self, total: int, lines: list[bytes]) -> None:
        self.total = total
        block = b"".join(lines)
        # One reusable chunk-sized buffer of whole lines, repeated: no per-chunk allocation
        # beyond the bytes object httpx hands on.
        self.block = (block * (CHUNK // len(block) + 1))[:CHUNK]
        self.requests: list[str] = []

    def _chunks(self) -> Iterator[bytes]:
        left = self.total
        while left > 0:
            piece = self.block if left >= CHUNK else self.block[:left]
            left -= len(piece)
            yield piece

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.host}{request.url.path}")
        headers = {"content-type": "text/plain", "content-length": str(self.total)}
        return httpx.Response(200, headers=headers, stream=_Stream(self._chunks()))


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


def _sample_lines() -> list[bytes]:
    """A few real 950-column lines from the sandbox writer (or the local generator)."""
    import io

    buffer = io.BytesIO()
    try:
        from apscores.sandbox import iter_fake_reports
        from apscores.txt import write_txt

        write_txt(iter_fake_reports(64, seed=DEFAULT_SEED), buffer)
    except ImportError:
        import _localgen

        _localgen.write_txt(64, buffer, seed=DEFAULT_SEED)
    return buffer.getvalue().splitlines(keepends=True)


def child_download(total: int) -> dict[str, Any]:
    from apscores.client import Client, GeneratedFile

    transport = StreamingBody(total, _sample_lines())
    http = httpx.Client(transport=transport)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="download-") as folder:
        client = Client(
            email="bench@example.org",
            password="not-a-secret",  # noqa: S106 - the transport never checks it
            base_url="https://bench-api.invalid",
            http_client=http,
        )
        generated = GeneratedFile(
            url=DOWNLOAD_URL,
            file_name="bench.txt",
            download_id="1",
            format="txt",
            kind="full",
        )
        meter = Meter()
        started = time.perf_counter()
        with client:
            path = client.files.download(generated, Path(folder))
        seconds = time.perf_counter() - started
        growth = meter.growth()
        size = path.stat().st_size
    return {
        "bytes": size,
        "seconds": seconds,
        "requests": transport.requests,
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
            result = child_download(int(value))
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
        n = parse_sizes(args.records)[0]
        path = ensure(n, seed=args.seed, fmt="txt")
        res = run_child("parse", str(path))
        rate = f"{res.get('records', 0) / res.get('seconds', 1):,.0f} rec/s" if res else ""
        verdicts.append(report("read_txt, parse", res, f"{human_count(n)} records", rate))
        sys.stdout.flush()
    if args.only in (None, "download"):
        total = args.download_mb * 1024 * 1024
        res = run_child("download", str(total))
        rate = f"{res.get('bytes', 0) / res.get('seconds', 1) / 1e6:,.0f} MB/s"
        size = f"{res.get('bytes', total) / 2**20:,.0f} MiB"
        verdicts.append(report("Client.files.download", res, size, rate))
        if "requests" in res:
            print(f"\nrequests the transport saw: {', '.join(res['requests'])}")
    print("\n### Targets\n")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
