"""Damaged TXT score files for the differential tests (issues 15 and 23): good lines of the
sandbox, some cut short, a field overwritten, too long, blank or junk lines between them,
stray CRs, ``\\r\\r\\n``, two records joined by a CR; LF, CRLF or CR-only."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import strategies as st

from apscores.files import write_txt
from apscores.files.layout import LAYOUT_950
from apscores.sandbox import fake_reports

__all__ = ["BAD_VALUES", "FIELDS", "LINES", "damaged_files", "good_and_bad"]


def _good_lines() -> list[bytes]:
    out = io.BytesIO()
    write_txt(fake_reports(40, seed=15), out)
    return out.getvalue().splitlines()


LINES = _good_lines()
FIELDS = [f for f in LAYOUT_950.fields if f.kind.name != "FILLER"]
BAD_VALUES = ["X", "99", "0231", "AB", "7", "\xa0", "13", "  1", "2X", "\x00", "\t", "\x92", "\x85"]


def _put(line: bytes, start: int, value: bytes) -> bytes:
    return line[:start] + value + line[start + len(value) :]


@st.composite
def damaged_files(draw: st.DrawFn) -> bytes:
    """Good lines, some damaged: cut short, a field overwritten, too long, blank or junk
    lines between them, CRLF or LF."""
    count = draw(st.integers(1, 12))
    picked = [LINES[draw(st.integers(0, len(LINES) - 1))] for _ in range(count)]
    out: list[bytes] = []
    for line in picked:
        damage = draw(
            st.sampled_from(
                ["none", "none", "cut", "field", "long", "trim", "blank", "cr", "rrn", "join"]
            )
        )
        if damage == "cut":
            line = line[: draw(st.integers(1, len(line) - 1))]
        elif damage == "field":
            field = draw(st.sampled_from(FIELDS))
            value = draw(st.sampled_from(BAD_VALUES)).encode("latin-1")[: field.width]
            line = _put(line, field.start - 1, value.ljust(field.width))
        elif damage == "long":
            line = line + b"Z"
        elif damage == "trim":
            line = line.rstrip(b" ")
        elif damage == "blank":
            out.append(b"   ")
        elif damage == "cr":  # a stray CR anywhere
            at = draw(st.integers(0, len(line)))
            line = line[:at] + b"\r" + line[at:]
        elif damage == "rrn":
            line = line + b"\r\r"
        elif damage == "join":  # two records joined by a CR
            line = line + b"\r" + LINES[draw(st.integers(0, len(LINES) - 1))]
        out.append(line)
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    last = draw(st.sampled_from([newline, b""]))
    return newline.join(out) + last


def good_and_bad(folder: Path) -> list[Path]:
    """Two TXT files in ``folder``: ``good.txt`` (30 records), and ``bad.txt``, the same
    with a control byte in line 21."""
    good = folder / "good.txt"
    write_txt(fake_reports(30, seed=8), good)
    lines = good.read_bytes().splitlines(keepends=True)
    bad = folder / "bad.txt"
    bad.write_bytes(b"".join(lines[:20]) + lines[20][:100] + b"\x01" + lines[20][101:])
    return [good, bad]
