"""CSV score files for the differential tests of the columnar path (issue 23, item 5): good
rows of the sandbox and the awkward records, and the damage real CSV files show: what a
spreadsheet does to codes and dates, control bytes and foreign characters in a cell, cells
too long for their field, rows cut short or too long, blank rows, line breaks in quoted
cells, header variants (other labels, a missing optional column, an unknown or doubled
one, tabs), a BOM, LF, CRLF or CR-only endings, a DOS end-of-file mark, a cut last line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from hypothesis import strategies as st

from _awkward import AWKWARD
from apscores.files import write_csv
from apscores.files._csv_columns import CANONICAL_HEADERS
from apscores.files.layout import LAYOUT_950, FieldKind
from apscores.models import ScoreReport
from apscores.sandbox import fake_reports

__all__ = ["CELL_DAMAGE", "FIELDS", "HEADER", "ROWS", "csv_bytes", "damaged_csv_files", "rows_of"]


def rows_of(reports: Iterable[ScoreReport], *, raw: bool = False) -> list[list[str]]:
    """The header and rows ``write_csv`` writes for ``reports``."""
    out = io.BytesIO()
    write_csv(reports, out, raw=raw)
    return list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"), newline="")))


_GOOD = rows_of([*fake_reports(30, seed=15), *AWKWARD])
HEADER, ROWS = _GOOD[0], _GOOD[1:]
FIELDS = [f for f in LAYOUT_950.fields if f.kind is not FieldKind.FILLER]
#: Cell texts that a spreadsheet or a foreign encoding leaves, or the rules refuse.
CELL_DAMAGE = [
    "1.23E+08", "1E+05", "90.0", "0.5", "7", " 7", "7 ", "123", "001234", "2024", "24",
    "7/9/2024", "70924", "2024-07-09", "133124", "", " ", "\xa0", "\xa07", "-", "+1",
    "X", "AB", "Nguyễn", "Muñoz", "x" * 40, "=1+2", "\x00", "\x01", "\x7f", "\x85",
    "\x92", "a\nb", "a\rb", 'say "hi"', "a,b",
]  # fmt: skip
_OPTIONAL = [f.name for f in FIELDS if not f.required and not f.name.endswith("_01")]


def csv_bytes(
    header: list[str],
    rows: Iterable[list[str]],
    *,
    ending: str = "\r\n",
    delimiter: str = ",",
    quote_all: bool = True,
    encoding: str = "utf-8",
) -> bytes:
    """A CSV file of ``header`` and ``rows`` (Latin-1 falls back to UTF-8). A NUL is
    written as it is, though Python 3.10's ``csv`` writer refuses it (3.11+ writes it)."""
    out = io.StringIO(newline="")
    writer = csv.writer(
        out,
        delimiter=delimiter,
        lineterminator=ending,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(header)
    writer.writerows([[cell.replace("\x00", _NUL) for cell in row] for row in rows])
    text = out.getvalue().replace(_NUL, "\x00")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


_NUL = "\ufdd1"  # a noncharacter no test writes: what a NUL is while the writer writes


def _header(draw: st.DrawFn) -> tuple[list[str], list[int]]:
    """A header variant, and for each of its columns the column of :data:`HEADER` it
    takes its cells from (-1: a column of its own)."""
    header, source = list(HEADER), list(range(len(HEADER)))
    variant = draw(
        st.sampled_from(["as is", "as is", "snake", "lower", "drop", "unknown", "twice", "no id"])
    )
    names = [f.name for f in FIELDS]
    if variant == "snake":
        header = [names[i] if i < len(names) else label for i, label in enumerate(header)]
    elif variant == "lower":
        header = [label.lower().replace(" ", "_") for label in header]
    elif variant == "drop":
        label = CANONICAL_HEADERS[draw(st.sampled_from(_OPTIONAL))]
        at = header.index(label)
        del header[at], source[at]
    elif variant == "unknown":
        at = draw(st.integers(0, len(header)))
        header.insert(at, "Notes")
        source.insert(at, -1)
    elif variant == "twice":
        at = draw(st.integers(0, len(header) - 1))
        header.append(header[at])
        source.append(-1)
    elif variant == "no id":  # a required column missing: the file is refused
        del header[0], source[0]
    return header, source


def _damaged_row(draw: st.DrawFn, row: list[str]) -> list[list[str]]:
    """A row with at most one kind of damage (a blank row may come before it)."""
    row = list(row)
    damage = draw(
        st.sampled_from(["none", "none", "none", "cell", "cell", "cut", "more", "blank", "id"])
    )
    if damage == "cell":
        field = draw(st.sampled_from(FIELDS))
        row[FIELDS.index(field)] = draw(st.sampled_from(CELL_DAMAGE))
    elif damage == "cut":
        row = row[: draw(st.integers(1, len(row) - 1))]
    elif damage == "more":
        row = [*row, draw(st.sampled_from(["", " ", "extra"]))]
    elif damage == "blank":
        return [[""] * len(row), row]
    elif damage == "id":
        row[0] = ""
    return [row]


@st.composite
def damaged_csv_files(draw: st.DrawFn) -> bytes:
    """Good rows, some damaged, under a header variant, written in one of the shapes a
    CSV file comes in."""
    header, source = _header(draw)
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(1, 10))):
        good = ROWS[draw(st.integers(0, len(ROWS) - 1))]
        for row in _damaged_row(draw, good):
            cells = [row[i] if 0 <= i < len(row) else "" for i in source]
            rows.append(cells if len(row) == len(good) else row)
    data = csv_bytes(
        header,
        rows,
        ending=draw(st.sampled_from(["\r\n", "\n", "\r"])),
        delimiter=draw(st.sampled_from([",", ",", "\t"])),
        quote_all=draw(st.booleans()),
        encoding=draw(st.sampled_from(["utf-8", "utf-8", "latin-1"])),
    )
    end = draw(st.sampled_from(["as is", "as is", "bom", "ctrl-z", "cut", "no ending"]))
    if end == "bom":
        data = b"\xef\xbb\xbf" + data
    elif end == "ctrl-z":
        data += b"\x1a"
    elif end == "cut":
        data = data[: draw(st.integers(len(data) // 2, len(data) - 1))]
    elif end == "no ending":
        data = data.rstrip(b"\r\n")
    return data
