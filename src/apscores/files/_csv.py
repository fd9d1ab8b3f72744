"""The CSV score file: read and write, mapping columns by header name.

Columns are matched by header name, never by position (:mod:`apscores.files._csv_columns`).

Rows are strict (a reader never guesses): a row with fewer cells than the header, more
cells with text in them, an unterminated quote at the end of the file, a CR inside an
unquoted cell, a cell longer than :data:`MAX_CELL` characters or anything else the ``csv``
module cannot parse is a :class:`~apscores.errors.ParseError` naming the row's first line.
A control character in any cell (C0 such as NUL or a line break, DEL, C1) is one too,
naming the cell, on every Python version; so is a code a spreadsheet turned into a number
(``1.23E+08``, ``90.0``). So is a row whose AP ID, *Date of last student update* or
*Date of this report* is blank: every record carries them (``docs/reference/file-layout.md``
§1.6).

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
import datetime as dt
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from apscores._rows_csv import neutralise
from apscores.errors import EmptyFileError, ParseError, UnknownFormatError
from apscores.files import _records as rec
from apscores.files._assemble import HEAD_FIELDS, make_assembler
from apscores.files._csv_columns import (
    CANONICAL_HEADERS,
    WRITTEN_FIELDS,
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
from apscores.files._values import pad_codes, parse_date, refuse_spreadsheet_numbers
from apscores.files._writing import report_values
from apscores.files.layout import EXAM_BLOCK_COUNT, EXAM_BLOCK_FIELDS
from apscores.models import Award, ExamScore, Organization, PreviousSchool, ScoreReport

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

__all__ = ["CANONICAL_HEADERS", "MAX_CELL", "normalise_header", "read_csv", "write_csv"]


def read_csv(source: Source, *, errors: ErrorMode = "raise") -> Reader:
    """Read a CSV score file. The header is read now: an empty or binary file, a header of
    another kind of file or one missing required columns raises here, in both error modes.
    """
    collect = check_mode(errors)
    opened = open_source(source)
    look_ahead(opened)
    return open_reader(opened, collect)


def open_reader(opened: Opened, collect: bool) -> Reader:
    """The CSV :class:`Reader` over a source already opened; reads the header now."""
    raw_lines, close, name = opened.as_lines(), opened.close, opened.name
    long_lines: list[ParseError] = []
    try:
        first, lines = peek(decode(raw_lines, long_lines))
        found: list[ParseError] = []
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
        columns = map_columns(header, name)
    except BaseException:
        close()
        raise
    records = _parse(reader, columns, len(header), collect, found, close, name, long_lines)
    return Reader(records, format="csv", errors=found, close=close)


#: Entries each cache holds before it is emptied (bounded, so memory stays constant).
_CACHE_LIMIT = 16384


def _run(first: str, last: str) -> tuple[str, ...]:
    """The non-filler layout fields from ``first`` to ``last``, in layout order."""
    names = WRITTEN_FIELDS
    return names[names.index(first) : names.index(last) + 1]


def _stripped(
    names: tuple[str, ...], cells: tuple[str, ...], line: int | None = None
) -> dict[str, str]:
    """Field name -> right-stripped cell, with spreadsheet-shortened codes padded back;
    a code a spreadsheet made a number of is refused. A grade keeps any blank but a space
    (``str.rstrip`` would strip a no-break space), so it is refused too."""
    values = {
        name: cell.rstrip(" " if name.startswith("exam_grade") else None)
        for name, cell in zip(names, cells, strict=True)
    }
    refuse_spreadsheet_numbers(values, line)
    pad_codes(values)
    return values


def _date(name: str) -> Callable[[str, int | None], dt.date | None]:
    def build(cell: str, line: int | None) -> dt.date | None:
        return parse_date(name, cell.rstrip(), line, True)

    return build


_AWARD_FIELDS = _run("award_type_1", "award_year_6")
_PREVIOUS_FIELDS = _run("previous_ai_year_1", "previous_ai_code_2")
_CODE_FIELDS = _run("education_level", "apply_sophomore_standing")
_RACE_FIELDS = ("race_ethnicity_student_response", "derived_aggregate_race_ethnicity")
_SCHOOL_FIELDS = _run("hs_ai_code", "college_zip_code")
_SERVICE_FIELDS = _run("service_type", "order_institution_key")


def _awards(cells: tuple[str, ...], line: int | None) -> tuple[Award, ...]:
    return rec.build_awards(_stripped(_AWARD_FIELDS, cells, line), line, True)


def _previous(cells: tuple[str, ...], line: int | None) -> tuple[PreviousSchool, ...]:
    return rec.build_previous(_stripped(_PREVIOUS_FIELDS, cells, line), line, True)


def _strip_all(cells: tuple[str, ...], line: int | None) -> tuple[str, ...]:
    return tuple(map(str.rstrip, cells))


def _schools(cells: tuple[str, ...], line: int | None) -> tuple[Organization, str, Organization]:
    values = _stripped(_SCHOOL_FIELDS, cells, line)
    return (rec.build_high_school(values), *rec.build_college(values, True))


#: The cached parts of a row, in the order ``build_report`` checks them (so the first
#: error of a row is the same as the reference's): (fields, cache name, builder).
_PARTS: tuple[tuple[tuple[str, ...], str, Callable[[Any, int | None], object]], ...] = (
    *(((name,), "date", _date(name)) for name in rec.TRAILER_DATES),
    (("birth_date",), "date", _date("birth_date")),
    (_AWARD_FIELDS, "awards", _awards),
    (_PREVIOUS_FIELDS, "previous", _previous),
    (_CODE_FIELDS, "codes", _strip_all),
    (_RACE_FIELDS, "race", _strip_all),
    (_SCHOOL_FIELDS, "schools", _schools),
    (_SERVICE_FIELDS, "service", _strip_all),
)
_BUILDERS = tuple(build for _, _, build in _PARTS)


#: Each exam block's field names, in the order of ``EXAM_BLOCK_FIELDS``.
_BLOCK_NAMES = tuple(
    tuple(f"{name}_{block:02d}" for name, _, _, _ in EXAM_BLOCK_FIELDS)
    for block in range(1, EXAM_BLOCK_COUNT + 1)
)


def _parse(
    reader: CsvReader,
    columns: dict[str, int],
    cells: int,
    collect: bool,
    errors: list[ParseError],
    close: Callable[[], None],
    name: str | None = None,
    long_lines: list[ParseError] | None = None,
) -> Iterator[ScoreReport]:
    """The reading loop: each row's cells are pulled in a few ``itemgetter`` calls, and
    the parts that repeat between rows are looked up by their raw cells in bounded caches
    (see :mod:`apscores.files._txt`); unseen cells go through the shared, precise builders.
    """
    limit = _CACHE_LIMIT
    blank = -1 if any(f not in columns for f in WRITTEN_FIELDS) else None

    def cells_of(names: tuple[str, ...]) -> Callable[[list[str]], Any]:
        """Cells by field name, as one tuple (one cell alone for a single name);
        a missing column reads the blank cell appended to each row."""
        return itemgetter(*(columns.get(name, -1) for name in names))

    head = cells_of(HEAD_FIELDS)
    part_cells = tuple(cells_of(names) for names, _, _ in _PARTS)
    named: dict[str, dict[Any, Any]] = {name: {} for _, name, _ in _PARTS}
    caches = tuple(named[name] for _, name, _ in _PARTS)
    assemble = make_assembler(caches, _BUILDERS, limit)
    exam_cache: dict[tuple[str, ...], ExamScore] = {}
    blocks = tuple(
        (block, names, columns.get(f"exam_code_{block:02d}", -1), cells_of(names))
        for block, names in enumerate(_BLOCK_NAMES, start=1)
    )
    rstrip = str.rstrip
    strip = str.strip
    names_at = {index: field for field, index in columns.items()}
    required = tuple((f, columns.get(f, -1)) for f in rec.REQUIRED if f != "ap_id")
    pending = long_lines if long_lines is not None else []
    try:
        start = reader.line_num + 1
        while True:
            line_no = start
            try:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise csv_error(error, line_no) from None
                finally:
                    start = reader.line_num + 1
                if pending:
                    raise pending.pop(0)
                if not any(map(strip, row)):
                    continue
                check_row(row, cells, line_no)
                check_cells(row, line_no, names_at)
                if blank is not None:
                    row.append("")
                student = tuple(map(rstrip, head(row)))
                ap_id = student[0]
                if not ap_id.strip():
                    raise ParseError("the AP ID is blank", line=line_no, field="ap_id", raw=ap_id)
                if "." in ap_id or "+" in ap_id:
                    refuse_spreadsheet_numbers({"ap_id": ap_id}, line_no)
                for field, at in required:  # the dates every record carries
                    if not row[at].strip():
                        raise rec.blank_required(field, line_no, row[at].rstrip())
                exams: list[ExamScore] = []
                for block, names, code_at, block_cells in blocks:
                    if not row[code_at].strip():
                        # The first blank block ends the exams (docs/reference/file-layout.md
                        # §1.3).
                        break
                    key = block_cells(row)
                    exam = exam_cache.get(key)
                    if exam is None:
                        exam = rec.build_exam(_stripped(names, key, line_no), block, line_no, True)
                        if len(exam_cache) >= limit:
                            exam_cache.clear()
                        exam_cache[key] = exam
                    exams.append(exam)
                keys = [get(row) for get in part_cells]
                report = assemble(student, tuple(exams), keys, line_no)
            except ParseError as error:
                if name is not None:
                    error.in_file(name)
                if collect:
                    errors.append(error.with_traceback(None))  # frames would keep rows
                    continue
                raise
            yield report
    finally:
        close()


def _parse_row_slowly(row: list[str], columns: dict[str, int], line: int | None) -> ScoreReport:
    """Read one row field by field through the shared builder (the reference reading)."""
    values = {
        field: (row[index] if index < len(row) else "").rstrip() for field, index in columns.items()
    }
    refuse_spreadsheet_numbers(values, line)
    pad_codes(values)
    return rec.build_report(values, line=line, lenient=True)


def write_csv(reports: Iterable[ScoreReport], dest: Destination, *, raw: bool = False) -> int:
    """Write reports as a CSV file with the canonical header; returns the records written.

    A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
    a leading ``'`` so that a spreadsheet does not run it as a formula; ``raw=True`` keeps
    every value as it is (for files that programs, or ``apscores`` itself, read back).
    Values the TXT layout cannot hold either (a year outside the pivot, more than 30 exams,
    no ``date_updated`` or ``report_date``...) raise
    :class:`~apscores.errors.UnwritableRecordError`; a path is then left untouched.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def encode(cells: Iterable[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells if raw else map(neutralise, cells))
        return buffer.getvalue().encode("utf-8")

    header = encode(CANONICAL_HEADERS.values())
    rows = (
        encode(values.get(field, "") for field in WRITTEN_FIELDS)
        for values in map(report_values, reports)
    )
    return write_lines(itertools.chain((header,), rows), dest) - 1
