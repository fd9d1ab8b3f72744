"""The CSV score file: read and write, mapping columns by header name.

No source gives the college CSV header, so columns are matched by name through one alias
table (``file-layout.md`` §2.4), never by position. A header is normalised before matching
(case folded; ``#``, ``.``, ``/``, spaces, underscores and all other punctuation dropped), so
``Irregularity Code #1 01``, ``Irregularity Code .1 01`` and ``irregularity_code_1_01`` are
the same column. The table holds the K-12 2020+ headers, the pre-2020 labels (``AP Number``,
``Sex``, ``Education Level``...), the PSFIX physical names (``CONTACT NAME (HIGH SCHOOL)``...),
snake_case names (the layout's field names and the TEAMSchools model's), and names for the
TXT-only fields. Exam columns are recognised by name plus a two-digit suffix ``01``-``30``.
Two columns both called ``Institution Name`` are the high school, then the college. Unknown
columns are ignored; the first of two columns with the same meaning wins. PSFIX's student
address names (numbered 0-2) are left out: they collide with the K-12 names (numbered 1-3).
A header naming none of the known columns is :class:`~apscores.errors.UnknownFormatError`;
one naming some but not the required ones is :class:`~apscores.errors.MissingColumnsError`.

Rows are strict (a reader never guesses): a row with fewer cells than the header, more
cells with text in them, an unterminated quote at the end of the file, a CR inside an
unquoted cell, a cell longer than :data:`MAX_CELL` characters or anything else the ``csv``
module cannot parse is a :class:`~apscores.errors.ParseError` naming the row's first line.

Values are right-stripped and read leniently (see :mod:`apscores._read_records`): codes get
their leading zeros back (``7`` -> ``07``), the college code may be ``1234`` or ``001234``,
years may have four digits, dates may be ``MDDYY``, ``M/D/YYYY`` or ISO. Bytes are decoded
as UTF-8 (a BOM is dropped), falling back to Latin-1 for a line that is not UTF-8. A tab in
the header row (and no comma) makes it a tab-separated file.

:func:`write_csv` writes the canonical headers (K-12 2020 style, plus the TXT-only fields),
every value quoted as College Board does, UTF-8 without BOM, so that reading it back, or
reading the TXT written from the same reports, gives equal records.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from apscores import _read_records as rec
from apscores._read_source import (
    Destination,
    ErrorMode,
    Line,
    Reader,
    Source,
    binary_error,
    check_mode,
    first_line,
    is_binary,
    open_lines,
    peek,
    source_name,
    write_lines,
)
from apscores.errors import EmptyFileError, MissingColumnsError, ParseError, UnknownFormatError
from apscores.layout import EXAM_BLOCK_COUNT, EXAM_BLOCK_FIELDS, LAYOUT_950, Kind
from apscores.models import Award, ExamScore, Organization, PreviousSchool, ScoreReport

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

__all__ = ["CANONICAL_HEADERS", "MAX_CELL", "normalise_header", "read_csv", "write_csv"]

#: The longest cell a score file may hold. Real values are at most 50 characters (a
#: 2020+ K-12 last name); anything this long is a damaged or foreign file.
MAX_CELL = 4096

_DROP = re.compile(r"[^0-9a-z]+")


def normalise_header(text: str) -> str:
    """Fold case, keep only letters and digits: ``AP Number / AP ID`` -> ``apnumberapid``."""
    return _DROP.sub("", text.casefold())


def _numbered(field: str, *labels: str) -> dict[str, tuple[str, ...]]:
    """Aliases for fields numbered 1..3 (``{n}`` in a label is the number)."""
    return {field.format(n=n): tuple(label.format(n=n) for label in labels) for n in range(1, 4)}


#: Layout field name -> header labels; the first label is the one :func:`write_csv` writes.
_HEAD_LABELS: dict[str, tuple[str, ...]] = {
    "ap_id": ("AP Number / AP ID", "AP ID", "AP Number", "AP Number AP ID"),
    "last_name": ("Last Name", "Student Last Name"),
    "first_name": ("First Name", "Student First Name"),
    "middle_initial": ("Middle Initial", "Student Middle Initial"),
    **_numbered("street_address_{n}", "Student Street Address {n}", "Student Address {n}"),
    "state": ("Student State",),
    "zip_code": ("Student Zip Code", "Student ZIP"),
    "country_code": ("Student Country Code",),
    "gender": ("Gender", "Sex"),
    "birth_date": ("Date of Birth", "DOB"),
    "education_level": ("Grade Level", "Education Level"),
    "expected_college_entrance": ("Expected College Entrance",),
    "ethnic_group": ("Ethnic Group 2015 and Prior", "Ethnic Group"),
    "student_search": ("Student Search Indicator", "Student Search"),
    "best_language": ("Best Language",),
    "apply_sophomore_standing": ("Applying for Sophomore Standing", "Sophomore Standing"),
    **{
        f"previous_ai_{kind}_{n}": (f"Previous AI {kind.title()} {n}",)
        for n in (1, 2)
        for kind in ("year", "code")
    },
    **{
        f"award_{kind}_{n}": (f"Award {kind.title()} {n}",)
        for n in range(1, rec.AWARD_SLOTS + 1)
        for kind in ("type", "year")
    },
    "hs_ai_code": ("AI Code", "School Code", "High School Code", "HS AI Code"),
    "hs_contact_name": (
        "High School Contact Name",
        "Contact Name (High School)",
        "AI Contact Name",
        "HS Contact Name",
    ),
    "hs_institution_name": (
        "AI Institution Name",
        "Institution Name (High School)",
        "High School Name",
        "School Name",
    ),
    **_numbered(
        "hs_street_address_{n}", "AI Street Address {n}", "Street Address #{n} (High School)"
    ),
    "hs_state": ("AI State", "State (High School)"),
    "hs_zip_code": ("AI Zip Code", "Zip Code (High School)"),
    "college_code": ("College Code", "DI Code"),
    "college_contact_name": ("Contact Name", "Contact Name (College)", "DI Contact Name"),
    "college_institution_name": (
        "DI Institution Name",
        "Institution Name (College)",
        "College Name",
    ),
    **_numbered(
        "college_street_address_{n}", "DI Street Address {n}", "Street Address #{n} (College)"
    ),
    "college_state": ("DI State", "State (College)"),
    "college_zip_code": ("DI Zip Code", "Zip Code (College)"),
    "date_grades_released_to_college": ("Date Grades Released to College",),
    "date_of_last_student_update": ("Date of Last Student Update",),
    "date_of_this_report": ("Date of this report",),
    "service_type": ("Service Type",),
    "service_code": ("Service Code",),
    "order_institution_key": ("Order Institution Key",),
    "race_ethnicity_student_response": (
        "Race Ethnicity Student Response 2016 and Forward",
        "Race Ethnicity Student Response",
    ),
    "derived_aggregate_race_ethnicity": (
        "Derived Aggregate Race Ethnicity 2016 and Forward",
        "Derived Aggregate Race Ethnicity",
    ),
}

#: Exam field (without ``_NN``) -> header labels (without `` NN``); first one is written.
_EXAM_LABELS: dict[str, tuple[str, ...]] = {
    "admin_year": ("Admin Year", "Administration Year"),
    "exam_code": ("Exam Code",),
    "exam_grade": ("Exam Grade", "Exam Score"),
    "irregularity_code_1": ("Irregularity Code #1",),
    "irregularity_code_2": ("Irregularity Code #2",),
    "exam_suppression_flag": ("Exam Suppression Flag", "Suppression Flag"),
    "class_section_code": ("Class Section Code", "Class Section"),
}


def _build_aliases() -> tuple[dict[str, str], dict[str, str]]:
    """Normalised label -> field name, for head fields and for exam-field stems."""
    head: dict[str, str] = {}
    for field, labels in _HEAD_LABELS.items():
        for label in (*labels, field):
            key = normalise_header(label)
            if head.setdefault(key, field) != field:
                raise AssertionError(f"header alias {label!r} means two fields")
    stems: dict[str, str] = {}
    for field, labels in _EXAM_LABELS.items():
        for label in (*labels, field):
            stems[normalise_header(label)] = field
    return head, stems


_HEAD_ALIASES, _EXAM_STEMS = _build_aliases()
_AP_ID_ALIASES = frozenset(key for key, field in _HEAD_ALIASES.items() if field == "ap_id")

_WRITTEN_FIELDS = tuple(f.name for f in LAYOUT_950.fields if f.kind is not Kind.FILLER)


def _canonical(field: str) -> str:
    if field in _HEAD_LABELS:
        return _HEAD_LABELS[field][0]
    stem, block = field.rsplit("_", 1)
    return f"{_EXAM_LABELS[stem][0]} {block}"


#: The header :func:`write_csv` writes, in layout order (layout field name -> header).
CANONICAL_HEADERS: dict[str, str] = {field: _canonical(field) for field in _WRITTEN_FIELDS}
_REQUIRED = ("ap_id", "admin_year_01", "exam_code_01", "exam_grade_01")


def _field_for(key: str) -> str | None:
    """The layout field a normalised header means, or None for columns we ignore."""
    field = _HEAD_ALIASES.get(key)
    if field is not None:
        return field
    stem, digits = key[:-2], key[-2:]
    if digits.isdigit() and stem in _EXAM_STEMS and 1 <= int(digits) <= EXAM_BLOCK_COUNT:
        return f"{_EXAM_STEMS[stem]}_{digits}"
    return None


def map_columns(header: list[str], file: str | None = None) -> dict[str, int]:
    """Layout field name -> column index.

    Raises :class:`UnknownFormatError` when no column is one of a score file, and
    :class:`MissingColumnsError` when some are but required ones are missing.
    """
    columns: dict[str, int] = {}
    institutions = 0
    for index, label in enumerate(header):
        key = normalise_header(label)
        if key == "institutionname":  # the K-12 PDF label, used for both schools
            field: str | None = ("hs_institution_name", "college_institution_name")[
                min(institutions, 1)
            ]
            institutions += 1
        else:
            field = _field_for(key)
        if field is not None:
            columns.setdefault(field, index)
    found = [label for label in header if label.strip()]
    if not columns:
        shown = ", ".join(repr(label[:40]) for label in found[:5]) or "no labels"
        raise UnknownFormatError(
            f"line 1 is not a CSV header of an AP score file: none of its columns "
            f"({shown}{', ...' if len(found) > 5 else ''}) is a score-file column",
            file=file,
        )
    missing = [CANONICAL_HEADERS[field] for field in _REQUIRED if field not in columns]
    if missing:
        raise MissingColumnsError(missing, found, file=file)
    return columns


def header_cells(line: str) -> list[str] | None:
    """A first line's cells if it is delimited (comma or tab) and parses as CSV, else None."""
    delimiter = _delimiter(line)
    if delimiter not in line:
        return None
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return None


def looks_like_header(line: str) -> bool:
    """Whether a first line is a CSV header: a comma or tab, and a cell naming the AP ID."""
    cells = header_cells(line)
    return cells is not None and any(normalise_header(cell) in _AP_ID_ALIASES for cell in cells)


def names_score_columns(line: str) -> bool:
    """Whether a delimited first line names at least one column a score file has."""
    cells = header_cells(line)
    return cells is not None and any(_field_for(normalise_header(cell)) for cell in cells)


def _delimiter(line: str) -> str:
    return "\t" if line.count("\t") > line.count(",") else ","


def _decode(lines: Iterable[Line]) -> Iterator[str]:
    """Text lines: UTF-8 (BOM dropped), or Latin-1 for a line that is not valid UTF-8."""
    lines = iter(lines)
    for raw in lines:
        yield _text(raw).removeprefix("\ufeff")
        break
    for raw in lines:
        if isinstance(raw, bytes):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                yield raw.decode("latin-1")
        else:
            yield raw


def _text(raw: Line) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_csv(source: Source, *, errors: ErrorMode = "raise") -> Reader:
    """Read a CSV score file. The header is read now: an empty or binary file, a header of
    another kind of file or one missing required columns raises here, in both error modes.
    """
    collect = check_mode(errors)
    raw_lines, close = open_lines(source)
    name = source_name(source)
    _, raw_lines = first_line(raw_lines, close, name)
    return open_reader(raw_lines, close, collect, name)


def _csv_error(error: csv.Error, line: int) -> ParseError:
    text = str(error)
    if "new-line character" in text:
        reason = "a line break (CR) inside an unquoted cell"
    elif "unexpected end of data" in text:
        reason = "a quoted cell is not closed before the end of the file"
    elif "field larger than field limit" in text:
        reason = f"a cell longer than {MAX_CELL} characters"
    else:
        reason = f"not valid CSV ({text})"
    return ParseError(reason, line=line, field=None, raw="")


def open_reader(
    raw_lines: Iterator[Line], close: Callable[[], None], collect: bool, name: str | None = None
) -> Reader:
    """The CSV :class:`Reader` over lines already opened; reads the header now."""
    try:
        first, lines = peek(_decode(raw_lines))
        found: list[ParseError] = []
        if first is None:
            raise EmptyFileError(file=name)
        assert isinstance(first, str)
        if is_binary(first):
            raise binary_error(name)
        reader = csv.reader(lines, delimiter=_delimiter(first), strict=True)  # type: ignore[arg-type]
        try:
            header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        except csv.Error as error:
            raise UnknownFormatError(
                f"line {reader.line_num} is not a CSV header: {_csv_error(error, 1).reason}",
                file=name,
            ) from None
        if header is None:  # only blank cells: no header, no records
            raise EmptyFileError("the file has no header and no records", file=name)
        columns = map_columns(header, name)
    except BaseException:
        close()
        raise
    records = _parse(reader, columns, len(header), collect, found, close, name)
    return Reader(records, format="csv", errors=found, close=close)


#: Entries each cache holds before it is emptied (bounded, so memory stays constant).
_CACHE_LIMIT = 16384


def _run(first: str, last: str) -> tuple[str, ...]:
    """The non-filler layout fields from ``first`` to ``last``, in layout order."""
    names = _WRITTEN_FIELDS
    return names[names.index(first) : names.index(last) + 1]


def _stripped(names: tuple[str, ...], cells: tuple[str, ...]) -> dict[str, str]:
    """Field name -> right-stripped cell, with spreadsheet-shortened codes padded back."""
    values = dict(zip(names, map(str.rstrip, cells), strict=True))
    rec.pad_codes(values)
    return values


def _date(name: str) -> Callable[[str, int | None], dt.date | None]:
    def build(cell: str, line: int | None) -> dt.date | None:
        return rec.parse_date(name, cell.rstrip(), line, True)

    return build


_AWARD_FIELDS = _run("award_type_1", "award_year_6")
_PREVIOUS_FIELDS = _run("previous_ai_year_1", "previous_ai_code_2")
_CODE_FIELDS = _run("education_level", "apply_sophomore_standing")
_RACE_FIELDS = ("race_ethnicity_student_response", "derived_aggregate_race_ethnicity")
_SCHOOL_FIELDS = _run("hs_ai_code", "college_zip_code")
_SERVICE_FIELDS = _run("service_type", "order_institution_key")


def _awards(cells: tuple[str, ...], line: int | None) -> tuple[Award, ...]:
    return rec.build_awards(_stripped(_AWARD_FIELDS, cells), line, True)


def _previous(cells: tuple[str, ...], line: int | None) -> tuple[PreviousSchool, ...]:
    return rec.build_previous(_stripped(_PREVIOUS_FIELDS, cells), line, True)


def _strip_all(cells: tuple[str, ...], line: int | None) -> tuple[str, ...]:
    return tuple(map(str.rstrip, cells))


def _schools(cells: tuple[str, ...], line: int | None) -> tuple[Organization, str, Organization]:
    values = _stripped(_SCHOOL_FIELDS, cells)
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
    tuple(f"{name}_{block:02d}" for name, _, _ in EXAM_BLOCK_FIELDS)
    for block in range(1, EXAM_BLOCK_COUNT + 1)
)


def _check_row(row: list[str], cells: int, line: int) -> None:
    """Refuse a row that does not fit the header, or holds a cell no score file holds."""
    if len(row) != cells:
        if len(row) < cells:
            raise ParseError(
                f"the row has {len(row)} cells, the header {cells}: a row cut short",
                line=line,
                field=None,
                raw="",
            )
        if any(cell.strip() for cell in row[cells:]):
            raise ParseError(
                f"the row has {len(row)} cells, the header {cells}: text beyond the last column",
                line=line,
                field=None,
                raw="",
            )
    if max(map(len, row)) > MAX_CELL:
        raise ParseError(
            f"a cell longer than {MAX_CELL} characters: not a score-file value",
            line=line,
            field=None,
            raw="",
        )


def _parse(
    reader: CsvReader,
    columns: dict[str, int],
    cells: int,
    collect: bool,
    errors: list[ParseError],
    close: Callable[[], None],
    name: str | None = None,
) -> Iterator[ScoreReport]:
    """The reading loop: each row's cells are pulled in a few ``itemgetter`` calls, and
    the parts that repeat between rows are looked up by their raw cells in bounded caches
    (see :mod:`apscores.txt`); unseen cells go through the shared, precise builders.
    """
    limit = _CACHE_LIMIT
    blank = -1 if any(f not in columns for f in _WRITTEN_FIELDS) else None

    def cells_of(names: tuple[str, ...]) -> Callable[[list[str]], Any]:
        """Cells by field name, as one tuple (one cell alone for a single name);
        a missing column reads the blank cell appended to each row."""
        return itemgetter(*(columns.get(name, -1) for name in names))

    head = cells_of(rec.HEAD_FIELDS)
    part_cells = tuple(cells_of(names) for names, _, _ in _PARTS)
    named: dict[str, dict[Any, Any]] = {name: {} for _, name, _ in _PARTS}
    caches = tuple(named[name] for _, name, _ in _PARTS)
    assemble = rec.make_assembler(caches, _BUILDERS, limit)
    exam_cache: dict[tuple[str, ...], ExamScore] = {}
    blocks = tuple(
        (block, names, columns.get(f"exam_code_{block:02d}", -1), cells_of(names))
        for block, names in enumerate(_BLOCK_NAMES, start=1)
    )
    rstrip = str.rstrip
    strip = str.strip
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
                    raise _csv_error(error, line_no) from None
                finally:
                    start = reader.line_num + 1
                if not any(map(strip, row)):
                    continue
                _check_row(row, cells, line_no)
                if blank is not None:
                    row.append("")
                student = tuple(map(rstrip, head(row)))
                ap_id = student[0]
                if not ap_id.strip():
                    raise ParseError("the AP ID is blank", line=line_no, field="ap_id", raw=ap_id)
                exams: list[ExamScore] = []
                for block, names, code_at, block_cells in blocks:
                    if not row[code_at].strip():
                        break  # the first blank block ends the exams (file-layout.md §1.3)
                    key = block_cells(row)
                    exam = exam_cache.get(key)
                    if exam is None:
                        exam = rec.build_exam(_stripped(names, key), block, line_no, True)
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
                    errors.append(error)
                    continue
                raise
            yield report
    finally:
        close()


def frame_rows(raw_lines: Iterator[Line], name: str | None = None) -> tuple[int, int]:
    """Check the header and that every row is complete (no value is read); returns
    (records, exams). The check a download gets before it is recorded."""
    first, lines = peek(_decode(raw_lines))
    if first is None:
        raise EmptyFileError(file=name)
    assert isinstance(first, str)
    reader = csv.reader(lines, delimiter=_delimiter(first), strict=True)  # type: ignore[arg-type]
    records = exams = 0
    header: list[str] | None = None
    codes: list[int] = []
    while True:
        line_no = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problem = _csv_error(error, line_no)
            raise problem.in_file(name) if name else problem from None
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = row
            columns = map_columns(header, name)
            codes = [
                columns[f"exam_code_{block:02d}"]
                for block in range(1, EXAM_BLOCK_COUNT + 1)
                if f"exam_code_{block:02d}" in columns
            ]
            continue
        try:
            _check_row(row, len(header), line_no)
        except ParseError as problem:
            raise problem.in_file(name) if name else problem from None
        records += 1
        for at in codes:
            if not row[at].strip():
                break
            exams += 1
    if header is None:
        raise EmptyFileError("the file has no header and no records", file=name)
    return records, exams


def _parse_row_slowly(row: list[str], columns: dict[str, int], line: int | None) -> ScoreReport:
    """Read one row field by field through the shared builder (the reference reading)."""
    values = {
        field: (row[index] if index < len(row) else "").rstrip() for field, index in columns.items()
    }
    rec.pad_codes(values)
    return rec.build_report(values, line=line, lenient=True)


def write_csv(reports: Iterable[ScoreReport], dest: Destination) -> int:
    """Write reports as a CSV file with the canonical header; returns the records written.

    Values the TXT layout cannot hold either (a year outside the pivot, more than 30 exams...)
    raise :class:`~apscores.errors.UnwritableRecordError`; a path is then left untouched.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def encode(cells: Iterable[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue().encode("utf-8")

    header = encode(CANONICAL_HEADERS.values())
    rows = (
        encode(values.get(field, "") for field in _WRITTEN_FIELDS)
        for values in map(rec.report_values, reports)
    )
    return write_lines(itertools.chain((header,), rows), dest) - 1
