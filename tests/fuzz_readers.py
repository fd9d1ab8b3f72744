"""A seeded fuzzer for the score-file readers: damaged input must only ever raise ours.

The suite runs a short, fixed-seed round of it (``tests/test_strict_reading.py``); for a
longer hunt run it by hand::

    python tests/fuzz_readers.py --seconds 600 --seed 7

Each case starts from a real-looking TXT or CSV file (the sandbox's synthetic students)
and applies a few mutations: lines cut at any length, bytes dropped or inserted (NUL, CR,
LF, BOMs, non-ASCII digits such as ``²`` and ``١``), huge cells, changed line endings, a
file cut anywhere, or plain random bytes. Every case is read by ``read``, ``read_txt`` and
``read_csv`` in both error modes. A failure is any exception that is not an
``APScoresError``, a TXT line cut below column 886 that is read without a word, or (issue
23) a TXT case where the columnar path (``txt_to_arrow``) and the typed path differ: a
table where the other raises, another table, or another error (line, field, message),
in either error mode.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from apscores.errors import APScoresError, ParseError, TruncatedRecordError
from apscores.files import read_csv, read_txt, write_csv, write_txt
from apscores.files._detect import read
from apscores.files._sources import Reader
from apscores.files.layout import LAYOUT_950
from apscores.sandbox import fake_reports

__all__ = ["Case", "Finding", "cases", "check_case", "main", "seed_files"]

ODD_BYTES = (
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n",
    b"\xef\xbb\xbf",
    "²".encode(),
    "١".encode(),
    b"\xb2",
    b'"',
    b",",
    b"\t",
    b"\x1a",
    b"\xff\xfe",
)


@attrs.frozen
class Case:
    """One fuzzed input, and the lines (1-based) cut below the required column."""

    name: str
    data: bytes
    truncated_lines: tuple[int, ...] = ()


@attrs.frozen
class Finding:
    """Something the readers must never do."""

    case: Case
    reader: str
    problem: str


def seed_files(seed: int) -> list[tuple[str, bytes]]:
    """Real-looking files: TXT (LF and CRLF) and CSV of a few synthetic students."""
    reports = fake_reports(6, seed=seed)
    files = []
    for newline in ("\n", "\r\n"):
        out = io.BytesIO()
        write_txt(reports, out, newline=newline)
        files.append((f"txt{'-crlf' if newline == chr(13) + chr(10) else ''}", out.getvalue()))
    out = io.BytesIO()
    write_csv(reports, out)
    files.append(("csv", out.getvalue()))
    return files


def _cut_line(rng: random.Random, data: bytes) -> tuple[bytes, int | None, int]:
    """Cut one random line at a random length; (data, its line number, new length)."""
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    line = lines[index].rstrip(b"\r")
    if len(line) < 2:
        return data, None, 0
    length = rng.randrange(1, len(line))
    ending = b"\r" if lines[index].endswith(b"\r") else b""
    lines[index] = line[:length] + ending
    return b"\n".join(lines), index + 1, length


def _mutate(rng: random.Random, data: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """One mutation; returns the data and any (line, length) cut below the required end."""
    kind = rng.randrange(10)
    cuts: list[tuple[int, int]] = []
    if kind == 0:
        data, line, length = _cut_line(rng, data)
        if line is not None:
            cuts.append((line, length))
    elif kind == 1 and data:
        at = rng.randrange(len(data))
        data = data[:at] + data[at + rng.randrange(1, 20) :]
    elif kind == 2:
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.choice(ODD_BYTES) * rng.randrange(1, 4) + data[at:]
    elif kind == 3:
        at = rng.randrange(len(data) + 1)
        data = data[:at] + b"9" * rng.choice((4096, 140_000)) + data[at:]
    elif kind == 4:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", rng.choice((b"\r", b"\r\n", b"\n")))
    elif kind == 5:
        data = data[: rng.randrange(len(data) + 1)]
    elif kind == 6:
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
    elif kind == 7 and data:
        at = rng.randrange(len(data))
        data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
    elif kind == 8:
        digits = [i for i, byte in enumerate(data) if 48 <= byte <= 57]
        if digits:
            at = rng.choice(digits)
            data = data[:at] + rng.choice(("²", "١", "٣", "½")).encode() + data[at + 1 :]
    else:
        data = rng.choice((b"\xef\xbb\xbf", b"", b"\n\n", b"foo,bar,baz\n1,2,3\n")) + data
    return data, cuts


def cases(seed: int) -> Iterator[Case]:
    """An endless, reproducible stream of fuzzed inputs."""
    rng = random.Random(seed)
    files = seed_files(seed)
    number = 0
    while True:
        name, data = rng.choice(files)
        cuts: list[tuple[int, int]] = []
        steps = rng.randrange(1, 4)
        for _ in range(steps):
            data, found = _mutate(rng, data)
            cuts.extend(found)
        # Only a lone cut of a TXT file keeps its line numbers meaningful.
        truncated = tuple(
            line for line, length in cuts if length < LAYOUT_950.min_length and steps == 1
        )
        number += 1
        yield Case(f"{name}#{number}", data, truncated if name.startswith("txt") else ())


READERS: dict[str, Callable[..., Reader]] = {
    "read": read,
    "read_txt": read_txt,
    "read_csv": read_csv,
}


def check_case(case: Case) -> list[Finding]:
    """Read ``case`` every way; what went wrong."""
    findings = []
    for label, reader in READERS.items():
        for mode in ("raise", "collect"):
            name = f"{label}({mode})"
            errors: list[ParseError] = []
            try:
                opened = reader(io.BytesIO(case.data), errors=mode)
                for _ in opened:
                    pass
                errors = list(opened.errors)
            except APScoresError as error:
                if isinstance(error, ParseError):
                    errors = [error]
            except Exception as error:
                findings.append(Finding(case, name, f"{type(error).__name__}: {error}"))
                continue
            if label != "read_csv" and case.truncated_lines and mode == "collect":
                reported = {e.line for e in errors if isinstance(e, TruncatedRecordError)}
                failed_whole = any(e.line is None or e.line == 1 for e in errors)
                for line in case.truncated_lines:
                    if line not in reported and not failed_whole:
                        findings.append(Finding(case, name, f"line {line} was cut but read"))
    if case.name.startswith("txt"):
        findings.extend(Finding(case, "txt_to_arrow", found) for found in differences(case.data))
    return findings


def _outcome(run: Callable[[], object]) -> tuple[str, object]:
    try:
        return "ok", run()
    except APScoresError as error:
        where = (getattr(error, "line", None), getattr(error, "field", None), str(error))
        return type(error).__name__, where


def differences(data: bytes) -> list[str]:
    """How ``txt_to_arrow`` and ``to_arrow(read_txt(...))`` disagree on ``data``."""
    from apscores.tables import to_arrow, txt_to_arrow

    found: list[str] = []
    for mode in ("raise", "collect"):

        def typed(mode: str = mode) -> tuple[object, list[tuple[object, ...]]]:
            with read_txt(io.BytesIO(data), errors=mode) as reader:  # type: ignore[arg-type]
                table = to_arrow(reader)
                return table, [(e.line, e.field, str(e)) for e in reader.errors]

        def columnar(mode: str = mode) -> tuple[object, list[tuple[object, ...]]]:
            problems: list[ParseError] = []
            table = txt_to_arrow(data, errors=mode, problems=problems, chunk_lines=3)  # type: ignore[arg-type]
            return table, [(e.line, e.field, str(e)) for e in problems]

        one, other = _outcome(typed), _outcome(columnar)
        if one[0] != other[0]:
            found.append(f"{mode}: typed {one[0]}, columnar {other[0]}")
        elif one[0] == "ok":
            mine: Any = one[1]
            theirs: Any = other[1]
            if not mine[0].equals(theirs[0]) or mine[1] != theirs[1]:
                found.append(f"{mode}: different tables or errors")
        elif one[1] != other[1]:
            found.append(f"{mode}: typed {one[1]}, columnar {other[1]}")
    return found


def main(argv: list[str] | None = None) -> int:
    """Fuzz for ``--seconds`` (or ``--cases``); exit 1 and print findings if any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cases", type=int, default=None)
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.seconds
    findings: list[Finding] = []
    count = 0
    for case in cases(args.seed):
        if (args.cases is not None and count >= args.cases) or time.monotonic() > deadline:
            break
        findings.extend(check_case(case))
        count += 1
    for finding in findings[:20]:
        print(f"{finding.case.name} {finding.reader}: {finding.problem}")
    print(f"{count} cases, {len(findings)} findings (seed {args.seed})")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
