"""Reproduce every benchmark figure with one command.

    python benchmarks/run.py                 # full: 3 shapes x 10k/100k x LF/CRLF, 1M memory
    python benchmarks/run.py --quick         # about two minutes: the targets' cells, best of 1
    python benchmarks/run.py --update-readme # also paste the output into benchmarks/README.md

Writes the data first (``make_data.py``, cached in ``benchmarks/data/``), then runs
``bench_read.py``, ``bench_breakdown.py``, ``bench_memory.py``, ``bench_convert.py`` and
``bench_convert_csv.py``, each in its own interpreter, and saves their combined output to
``benchmarks/data/latest.md`` (``latest-quick.md`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from _common import DATA_DIR, HERE

README = HERE / "README.md"
#: What ``--quick`` reads: every cell of the targets table, and 10k of each shape.
QUICK_CASES = "real:10k:lf,real:10k:crlf,worst:10k:lf,sandbox:10k:lf,real:100k:lf,worst:100k:lf"
START = "<!-- results:start -->"
END = "<!-- results:end -->"


def run(script: str, *args: str) -> str:
    """Run ``benchmarks/<script>``, echoing its output as it comes; return that output."""
    command = [sys.executable, "-u", str(HERE / script), *args]
    print(f"$ python benchmarks/{script} {' '.join(args)}".rstrip(), flush=True)
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:  # noqa: S603
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if proc.returncode:
        raise SystemExit(f"benchmarks/{script} failed with exit code {proc.returncode}")
    return "".join(lines)


def _markdown(output: str) -> str:
    """A script's output as a README section: no progress lines, headings one level down."""
    lines = []
    for line in output.splitlines():
        if "..." in line or line.startswith("  wrote ") or line.startswith("  reading "):
            continue
        lines.append("#" + line if line.startswith("#") else line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def update_readme(text: str) -> None:
    """Replace what sits between the results markers in README.md."""
    readme = README.read_text(encoding="utf-8")
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    if not tail and END not in readme:
        raise SystemExit(f"{README} has no {START} ... {END} markers")
    README.write_text(f"{head}{START}\n{text.strip()}\n{END}{tail}", encoding="utf-8")
    print(f"updated {README}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the targets' cells, best of 1")
    parser.add_argument("--update-readme", action="store_true", help="paste into README.md")
    args = parser.parse_args(argv)
    if args.quick:
        run("make_data.py", "--cases", QUICK_CASES)
        outputs = [run("bench_read.py", "--cases", QUICK_CASES, "--rounds", "1")]
        outputs.append(run("bench_breakdown.py", "--records", "10000", "--rounds", "2"))
        outputs.append(run("bench_memory.py", "--records", "100k", "--download-mb", "128"))
        outputs.append(run("bench_convert.py", "--records", "100k", "--rounds", "1"))
    else:
        run("make_data.py", "--sizes", "10k,100k")
        run("make_data.py", "--shapes", "real,worst", "--sizes", "100k", "--newlines", "lf",
            "--csv")  # fmt: skip
        run("make_data.py", "--cases", "real:1M:lf")
        outputs = [
            # More rounds where a round is cheap: on a shared machine the best of a few is
            # the figure least disturbed by neighbours (every contender gets the same count).
            run("bench_read.py", "--sizes", "10k,100k", "--rounds", "10k=7,100k=3", "--csv"),
            run("bench_breakdown.py"),
            run("bench_memory.py", "--records", "1M"),
            run("bench_convert.py", "--records", "100k,1M", "--rounds", "2", "--pathological"),
            run("bench_convert_csv.py", "--records", "100k", "--rounds", "2"),
        ]
    text = "\n\n".join(_markdown(out) for out in outputs)
    DATA_DIR.mkdir(exist_ok=True)
    latest = Path(DATA_DIR / ("latest-quick.md" if args.quick else "latest.md"))
    latest.write_text(text + "\n", encoding="utf-8")
    print(f"\nsaved {latest}")
    if args.update_readme:
        update_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
