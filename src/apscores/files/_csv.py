"""The CSV score file: read and write, mapping columns by header name.

Columns are matched by header name, never by position (:mod:`apscores.files._csv_columns`).

Rows are strict (a reader never guesses): a row with fewer cells than the header, more
cells with text in them, an unterminated quote at the end of the file, a CR inside an
unquoted cell, a cell longer than :data:`MAX_CELL` characters or anything else the ``csv``
module cannot parse is a :class:`~apscores.errors.ParseError` naming the row's first line.
A control character in any cell (C0 such as NUL or a line break, DEL, C1) is one too,
naming the cell, on every Python version; so is a code a spreadsheet turned into a number
(``1.23E+08``, ``90.0``).

Values are right-stripped and read leniently (see :mod:`apscores.files._records`): codes get
their leading zeros back (``7`` -> ``07``), the college code may be ``1234`` or ``001234``,
years may have four digits, dates may be ``MDDYY``, ``M/D/YYYY`` or ISO. Bytes are decoded
as UTF-8 (a BOM is dropped), falling back to Latin-1 for a line that is not UTF-8. A tab in
the header row (and no comma) makes it a tab-separated file.

:func:`write_csv` writes the canonical headers (K-12 2020 style, plus the TXT-only fields),
every value quoted as College Board does, UTF-8 without BOM. A text cell a spreadsheet
would run as a formula gets a leading ``'`` (:func:`apscores._rows_csv.neutralise`) unless
``raw=True``; written raw, reading it back, or reading the TXT written from the same
reports, gives equal records.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import attrs

from apscores._rows_csv import neutralise
from apscores.errors import EmptyFileError, ParseError, UnknownFormatError, UnwritableRecordError
from apscores.files._csv_columns import (
    CANONICAL_HEADERS,
    delimiter,
    map_columns,
    normalise_header,
)
from apscores.files._csv_rows import (
    MAX_CELL,
    NUL,
    check_cells,
    check_row,
    csv_error,
    decode,
)
from apscores.files._records import build_report
from apscores.files._sources import (
    Destination,
    ErrorMode,
    Opened,
    Reader,
    Source,
    binary_error,
    check_mode,
    is_binary,
    look_ahead,
    open_source,
    peek,
    write_lines,
)
from apscores.files._speed import Clock, compiled
from apscores.files._unknown import Unknown
from apscores.files._values import convert
from apscores.files._writing import report_values
from apscores.files.layout import FieldKind, Layout, chosen
from apscores.models import ScoreReport

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

__all__ = [
    "CANONICAL_HEADERS",
    "MAX_CELL",
    "Rows",
    "normalise_header",
    "open_rows",
    "read_csv",
    "write_csv",
]


def read_csv(
    source: Source, *, errors: ErrorMode = "raise", layout: Layout | None = None
) -> Reader:
    """Read a CSV score file. The header is read now: an empty or binary file, a header of
    another kind of file or one missing required columns raises here, in both error modes.
    ``layout`` names the fields to read (its field names are column names too); the 950
    layout's by default.
    """
    collect = check_mode(errors)
    if layout is not None:
        compiled(layout, lenient=True)  # a layout no builder is made for: say so now
    opened = open_source(source)
    look_ahead(opened)
    return open_reader(opened, collect, layout)


def open_reader(opened: Opened, collect: bool, layout: Layout | None = None) -> Reader:
    """The CSV :class:`Reader` over a source already opened; reads the header now."""
    rows = open_rows(opened, layout)
    found: list[ParseError] = []
    return Reader(_read(rows, collect, found), format="csv", errors=found, close=rows.close)


Item = tuple[int, "list[str] | ParseError"]


@attrs.define(eq=False)
class Rows:
    """A CSV file opened past its header: its non-blank rows (:meth:`items`), the columns
    they hold, and the reference reading of those rows (:meth:`records`).

    The CSV reader reads every item with :meth:`records`; the columnar path
    (:mod:`apscores.tables._csv_columnar`) takes the items in blocks, and hands each block
    it cannot vouch for to :meth:`records`, so both raise and collect the same errors.
    """

    reader: CsvReader
    columns: dict[str, int]
    cells: int
    close: Callable[[], None]
    name: str | None
    long_lines: list[ParseError]
    layout: Layout
    _build: Callable[[list[str]], ScoreReport] | None = None
    _clock: Clock = attrs.Factory(Clock)
    _unknown: Unknown = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._unknown = Unknown(self.name, self._clock)
        self._clock.seen = self._unknown.item

    @property
    def unknown(self) -> Unknown:
        """The unknown codes this file's read has warned about (the columnar path's too)."""
        return self._unknown

    def items(self) -> Iterator[Item]:
        """Each non-blank row with its first line, or the error of a line the ``csv``
        module refuses or that is too long to hold, in file order."""
        reader, long_lines, strip = self.reader, self.long_lines, str.strip
        start = reader.line_num + 1
        while True:
            line_no = start
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                start = reader.line_num + 1
                yield line_no, csv_error(error, line_no)
                continue
            start = reader.line_num + 1
            if long_lines:
                yield line_no, long_lines.pop(0)
            elif any(map(strip, row)):
                yield line_no, row

    def records(
        self, items: Iterable[Item], collect: bool, errors: list[ParseError]
    ) -> Iterator[ScoreReport]:
        """The reference reading of ``items``: each row is checked (its cells, its control
        characters), then built by the layout's generated CSV builder
        (:mod:`apscores.files._speed`), which looks the parts that repeat between rows up
        by their raw cells; a row the builder does not vouch for is read the reference
        way, which says precisely what is wrong. Errors name the file; with ``collect``
        they are appended to ``errors`` and the row skipped, else the first one raises."""
        build, clock, layout = self._builder(), self._clock, self.layout
        cells, columns, name = self.cells, self.columns, self.name
        blank = any(field not in columns for field in _named(layout))  # they read cell -1
        names_at = {index: field for field, index in columns.items()}
        personal = {columns[f.name] for f in layout.fields if f.personal and f.name in columns}
        for line_no, row in items:
            try:
                if isinstance(row, ParseError):
                    raise row.with_traceback(None) from None
                check_row(row, cells, line_no)
                check_cells(row, line_no, names_at, personal)
                if blank:
                    row.append("")
                clock.line = line_no
                try:
                    report = build(row)
                except ParseError:  # read again below, outside this handler: the
                    report = None  # builder's error (its frames hold the caches) not kept
                if report is None:
                    report = _parse_row_slowly(row, columns, line_no, layout)
                    self._unknown.report(report)
            except ParseError as error:
                if name is not None:
                    error.in_file(name)
                if collect:
                    errors.append(error.with_traceback(None))  # frames would keep rows
                    continue
                raise
            yield report

    def _builder(self) -> Callable[[list[str]], ScoreReport]:
        if self._build is None:
            builder = compiled(self.layout, lenient=True)
            self._build, _ = builder.make(self._clock, builder.getters(self.columns))
        return self._build


@functools.cache
def _named(layout: Layout) -> frozenset[str]:
    return frozenset(f.name for f in layout.fields if f.kind is not FieldKind.FILLER)


def open_rows(opened: Opened, layout: Layout | None = None) -> Rows:
    """Read the header of a source already opened (see :func:`read_csv` for what it
    refuses); the source is closed if it raises."""
    raw_lines, close, name = opened.as_lines(), opened.close, opened.name
    long_lines: list[ParseError] = []
    try:
        first, lines = peek(decode(raw_lines, long_lines))
        if first is None:
            raise EmptyFileError(file=name)
        assert isinstance(first, str)
        if is_binary(first.replace(NUL, "\x00")) or long_lines:
            raise binary_error(name)
        reader = csv.reader(lines, delimiter=delimiter(first), strict=True)  # type: ignore[arg-type]
        try:
            header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        except csv.Error as error:
            raise UnknownFormatError(
                f"line {reader.line_num} is not a CSV header: {csv_error(error, 1).reason}",
                file=name,
            ) from None
        if header is None:  # only blank cells: no header, no records
            raise EmptyFileError("the file has no header and no records", file=name)
        columns = map_columns(header, name, layout)
    except BaseException:
        close()
        raise
    return Rows(reader, columns, len(header), close, name, long_lines, chosen(layout))


def _read(rows: Rows, collect: bool, errors: list[ParseError]) -> Iterator[ScoreReport]:
    """Every record of the file (see :meth:`Rows.records`), closing it at the end."""
    try:
        yield from rows.records(rows.items(), collect, errors)
    finally:
        rows.close()


def _parse_row_slowly(
    row: list[str], columns: dict[str, int], line: int | None, layout: Layout | None = None
) -> ScoreReport:
    """Read one row field by field: the reference reading, with the precise error."""
    values = {field: row[index] if index < len(row) else "" for field, index in columns.items()}
    return build_report(values, line=line, lenient=True, layout=layout)


def _no_numbers(report: ScoreReport, layout: Layout) -> dict[str, str]:
    """The report's cells, refusing a code :func:`read_csv` reads otherwise than the TXT
    reader (the one value rule, leniently and strictly): one it takes for spreadsheet
    damage (``0.0``, ``1E+05``), or a digit code it pads (``7`` -> ``07``). So a written
    file always reads back equal."""
    values = report_values(report, layout)
    for field in layout.fields:
        text = values.get(field.name, "")
        if field.kind in _AS_WRITTEN or not text:
            continue
        try:
            strict = convert(field, text, None, False)
        except ParseError:
            continue  # the TXT reader refuses it too: not a matter of CSV
        try:
            lenient = convert(field, text, None, True)
        except ParseError:
            why = "reads as a number a spreadsheet made"
        else:
            if lenient == strict:
                continue
            why = f"reads back as {lenient!r}"
        shown = "" if field.personal else f" value {text!r}"
        raise UnwritableRecordError(
            f"cannot write the report for AP ID {report.ap_id!r} as CSV: field "
            f"{field.name!r}{shown} {why} (write it as TXT)"
        )
    return values


#: Kinds a CSV cell reads back as written (text is stripped alike, dates are ours).
_AS_WRITTEN = frozenset({FieldKind.TEXT, FieldKind.DATE, FieldKind.FILLER})


def write_csv(
    reports: Iterable[ScoreReport],
    dest: Destination,
    *,
    raw: bool = False,
    layout: Layout | None = None,
) -> int:
    """Write reports as a CSV file with the canonical header; returns the records written.

    A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
    a leading ``'`` so that a spreadsheet does not run it as a formula; ``raw=True`` keeps
    every value as it is (for files that programs, or ``apscores`` itself, read back).
    Values the TXT layout cannot hold either (a year outside the pivot, more than 30 exams...)
    raise :class:`~apscores.errors.UnwritableRecordError`; a path is then left untouched.
    ``layout`` writes that layout's fields (a field without a canonical header is headed
    by its name, which :func:`read_csv` with the same layout reads back).
    """
    target = chosen(layout)
    fields = [f.name for f in target.fields if f.kind is not FieldKind.FILLER]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def encode(cells: Iterable[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells if raw else map(neutralise, cells))
        return buffer.getvalue().encode("utf-8")

    header = encode(CANONICAL_HEADERS.get(field, field) for field in fields)
    rows = (
        encode(values.get(field, "") for field in fields)
        for values in (_no_numbers(report, target) for report in reports)
    )
    return write_lines(itertools.chain((header,), rows), dest) - 1
