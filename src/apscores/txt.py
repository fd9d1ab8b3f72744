"""The fixed-width TXT score file (950 columns, or 910 before July 2016): read and write.

Both directions are built from :mod:`apscores.layout`; no byte offset is written here.

Reading. Each line is decoded as Latin-1 once: Latin-1 maps every byte to exactly one
character, so slicing the decoded line is slicing bytes (one byte = one column) and an
accented name (``Muñoz`` with ``ñ`` as byte ``0xF1``) never shifts a column. Values are
right-stripped. LF, CRLF (and CR-only) endings, a UTF-8 BOM on the first line and blank
lines are accepted. Framing follows the one rule of :mod:`apscores.layout`: a line shorter
than the layout is a record whose trailing blanks were trimmed only if it reaches the end
of *Date of this report* (column 886); a shorter one is a
:class:`~apscores.errors.TruncatedRecordError` naming the line, its length and the first
field it cuts, never a padded record. A line longer than 950 columns is a
:class:`~apscores.errors.ParseError`. A line of exactly 910 columns uses the 910 layout
(its columns 901-910 are filler and ignored).

Speed. Per line the reader does a handful of C-level operations: one ``itemgetter`` pulls
the student's own fields, and every other part of the record (the trailer, birth dates,
codes, awards, previous schools, the college and high-school blocks, each exam block) is
looked up by its raw text in a small bounded dict, since those repeat from line to line.
Only a line with some text not seen before takes the slow path, where the shared builders
of :mod:`apscores._read_records` check every value and raise a ``ParseError`` naming the
line, the layout field and the raw text; errors are never cached.

Exams end at the first block whose exam code is blank (see :mod:`apscores._read_records`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from apscores import _read_records as rec
from apscores._read_source import (
    Destination,
    ErrorMode,
    Line,
    Reader,
    Source,
    check_mode,
    first_line,
    open_lines,
    source_name,
    write_lines,
)
from apscores.errors import (
    ConfigurationError,
    ParseError,
    TruncatedRecordError,
    UnwritableRecordError,
)
from apscores.layout import (
    EXAM_BLOCK_COUNT,
    EXAM_BLOCK_FIELDS,
    LAYOUT_910,
    LAYOUT_950,
    Kind,
    Layout,
)
from apscores.models import Award, ExamScore, Organization, PreviousSchool, ScoreReport

__all__ = ["read_txt", "write_txt"]

#: Entries each cache holds before it is emptied (bounded, so memory stays constant).
_CACHE_LIMIT = 16384
_LENGTH = LAYOUT_950.length
_SHARED = 900  # columns 1-900 are the same in both layouts
_BLANK = " \t\x1a\x0c"  # what an empty line may hold (\x1a: the old DOS end-of-file mark)
_ENDINGS = ("\n", "\r\n", "\r")  # what follows column 950 on a full line
_MIN_LENGTH = LAYOUT_950.min_length  # the same in both layouts (a layout check says so)


def _field(name: str) -> slice:
    return LAYOUT_950.field(name).slice


def _span(first: str, last: str) -> slice:
    """The 0-based slice from the start of field ``first`` to the end of field ``last``."""
    return slice(LAYOUT_950.field(first).start - 1, LAYOUT_950.field(last).end)


def _part(first: str, last: str) -> tuple[slice, tuple[tuple[str, slice], ...]]:
    """A run of fields: its slice of the line, and each non-filler field's slice of it."""
    span = _span(first, last)
    fields = tuple(
        (f.name, slice(f.start - 1 - span.start, f.start - 1 - span.start + f.width))
        for f in LAYOUT_950.fields
        if span.start <= f.start - 1 < span.stop and f.kind is not Kind.FILLER
    )
    return span, fields


def _values(text: str, fields: tuple[tuple[str, slice], ...]) -> dict[str, str]:
    """Field name -> right-stripped text, for the builders of ``_read_records``."""
    return {name: text[where].rstrip() for name, where in fields}


def _texts(text: str, fields: tuple[tuple[str, slice], ...]) -> tuple[str, ...]:
    return tuple(text[where].rstrip() for _, where in fields)


#: The student's own fields, unique to each line: sliced and right-stripped every time.
_HEAD = itemgetter(*(_field(name) for name in rec.HEAD_FIELDS))

_AWARDS, _AWARD_FIELDS = _part("award_type_1", "award_year_6")
_PREVIOUS, _PREVIOUS_FIELDS = _part("previous_ai_year_1", "previous_ai_code_2")
_CODES, _CODE_FIELDS = _part("education_level", "apply_sophomore_standing")
_RACE, _RACE_FIELDS = _part("race_ethnicity_student_response", "filler_936")
_SCHOOLS, _SCHOOL_FIELDS = _part("hs_ai_code", "college_zip_code")
_SERVICE, _SERVICE_FIELDS = _part("service_type", "order_institution_key")


def _date(name: str) -> Callable[[str, int | None], dt.date | None]:
    def build(text: str, line: int | None) -> dt.date | None:
        return rec.parse_date(name, text.rstrip(), line, False)

    return build


def _awards(text: str, line: int | None) -> tuple[Award, ...]:
    return rec.build_awards(_values(text, _AWARD_FIELDS), line, False)


def _previous(text: str, line: int | None) -> tuple[PreviousSchool, ...]:
    return rec.build_previous(_values(text, _PREVIOUS_FIELDS), line, False)


def _codes(text: str, line: int | None) -> tuple[str, ...]:
    return _texts(text, _CODE_FIELDS)


def _race(text: str, line: int | None) -> tuple[str, ...]:
    return _texts(text, _RACE_FIELDS)


def _schools(text: str, line: int | None) -> tuple[Organization, str, Organization]:
    values = _values(text, _SCHOOL_FIELDS)
    return (rec.build_high_school(values), *rec.build_college(values, False))


def _service(text: str, line: int | None) -> tuple[str, ...]:
    return _texts(text, _SERVICE_FIELDS)


#: The cached parts of a line, in the order ``build_report`` checks them (so the first
#: error of a line is the same on both paths): (slice, cache name, builder).
_PARTS: tuple[tuple[slice, str, Callable[[str, int | None], object]], ...] = (
    *((_field(name), "date", _date(name)) for name in rec.TRAILER_DATES),
    (_field("birth_date"), "date", _date("birth_date")),
    (_AWARDS, "awards", _awards),
    (_PREVIOUS, "previous", _previous),
    (_CODES, "codes", _codes),
    (_RACE, "race", _race),
    (_SCHOOLS, "schools", _schools),
    (_SERVICE, "service", _service),
)
_PART_TEXTS = itemgetter(*(where for where, _, _ in _PARTS))
_PART_BUILDERS = tuple(build for _, _, build in _PARTS)

_EXAMS = _span("admin_year_01", "class_section_code_30")
_BLOCK_SLICES = tuple(
    _span(f"admin_year_{block:02d}", f"class_section_code_{block:02d}")
    for block in range(1, EXAM_BLOCK_COUNT + 1)
)
_BLOCK = _BLOCK_SLICES[0].stop - _BLOCK_SLICES[0].start
_CODE_IN_BLOCK = slice(
    _field("exam_code_01").start - _EXAMS.start, _field("exam_code_01").stop - _EXAMS.start
)
#: (block number, its slice of the line, its fields' slices of the block), in file order.
_BLOCKS = tuple(
    (block, where, _part(f"admin_year_{block:02d}", f"class_section_code_{block:02d}")[1])
    for block, where in enumerate(_BLOCK_SLICES, start=1)
)

#: Where each field of a block sits in the block's text (the same for every block).
(
    _AT_YEAR,
    _AT_CODE,
    _AT_GRADE,
    _AT_IRREGULARITY_1,
    _AT_IRREGULARITY_2,
    _AT_SUPPRESSION,
    _AT_SECTION,
) = (where for _, where in _BLOCKS[0][2])
assert [name for name, _ in _BLOCKS[0][2]] == [f"{n}_01" for n, _, _ in EXAM_BLOCK_FIELDS]


def _first_blocks(count: int) -> Callable[[str], tuple[str, ...]]:
    """The texts of the first ``count`` exam blocks of a line, as a tuple."""
    if count == 0:
        return lambda line: ()
    if count == 1:
        first = _BLOCK_SLICES[0]
        return lambda line: (line[first],)
    return itemgetter(*_BLOCK_SLICES[:count])


#: Right-stripped length of the exam columns -> the blocks that may hold exams.
_BLOCKS_FOR_LENGTH = tuple(
    _first_blocks(-(-length // _BLOCK)) for length in range(_EXAMS.stop - _EXAMS.start + 1)
)


def read_txt(source: Source, *, errors: ErrorMode = "raise") -> Reader:
    """Read a 950- or 910-column TXT score file; see the module docstring for the rules.

    An empty or binary input raises :class:`~apscores.errors.UnknownFormatError` (or its
    :class:`~apscores.errors.EmptyFileError`) at once, in both error modes.
    """
    collect = check_mode(errors)
    lines, close = open_lines(source)
    name = source_name(source)
    _, lines = first_line(lines, close, name, plausible_record)
    return open_reader(lines, close, collect, name)


def plausible_record(line: Line) -> bool:
    """Whether a line's length fits the framing rule (950 or 910 columns, or trimmed)."""
    size = len(line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n"))
    return _MIN_LENGTH <= size <= _LENGTH


def open_reader(
    lines: Iterator[Line],
    close: Callable[[], None],
    collect: bool,
    name: str | None = None,
    *,
    first_line_no: int = 1,
) -> Reader:
    """The TXT :class:`Reader` over lines already opened (``apscores.read`` sniffs first).

    ``first_line_no`` is the number of the first line given (the columnar path reads a
    block from the middle of a file); a BOM is removed only from line 1.
    """
    found: list[ParseError] = []
    records = _parse(lines, collect, found, close, name, first_line_no)
    return Reader(records, format="txt", errors=found, close=close)


def _strip_bom(lines: Iterator[Line]) -> Iterator[Line]:
    """Drop a UTF-8 byte-order mark from the first line (it would shift every column)."""
    first = next(lines, None)
    if first is None:
        return lines
    if isinstance(first, bytes):
        first = first.removeprefix(b"\xef\xbb\xbf")
    else:
        first = first.removeprefix("\ufeff")
    return itertools.chain((first,), lines)


def _full_line(text: str, line_no: int) -> str | None:
    """A line that is not exactly 950 columns plus its ending, made 950 columns long.

    None for a blank line; a ParseError for a line longer than the layout, and a
    TruncatedRecordError for one that ends before the last required field.
    """
    line = text.rstrip("\r\n")
    if len(line) == _LENGTH:
        return line
    if not line.strip(_BLANK):
        return None
    if len(line) > _LENGTH:
        raise ParseError(
            f"the line has {len(line)} columns, more than the {_LENGTH} of the layout",
            line=line_no,
            field=None,
            raw=line,
        )
    if len(line) == LAYOUT_910.length:
        return line[:_SHARED].ljust(_LENGTH)
    if len(line) < _MIN_LENGTH:
        raise truncated_record(len(line), line_no, line)
    return line.ljust(_LENGTH)


def truncated_record(length: int, line_no: int | None, raw: str = "") -> TruncatedRecordError:
    """The error for a line of ``length`` columns that ends before the last required field."""
    cut = LAYOUT_950.first_cut_field(length)
    last = LAYOUT_950.last_required
    label = last.name.replace("_", " ").capitalize()
    return TruncatedRecordError(
        f"a truncated record (cut in field {cut.name!r}; {label}, columns "
        f"{last.start}-{last.end}, missing)",
        line=line_no,
        field=cut.name,
        raw=raw,
        length=length,
    )


def _exam(text: str, block: int, fields: tuple[tuple[str, slice], ...], line_no: int) -> ExamScore:
    """One exam block's 11 columns; the shared builder explains anything unusual."""
    year = rec.YEARS.get(text[_AT_YEAR])
    score = rec.GRADES.get(text[_AT_GRADE], rec.MISSING)
    if year is None or score is rec.MISSING:
        return rec.build_exam(_values(text, fields), block, line_no, False)
    return ExamScore(
        text[_AT_CODE].rstrip(),
        year,
        score,
        tuple(filter(None, (text[_AT_IRREGULARITY_1].rstrip(), text[_AT_IRREGULARITY_2].rstrip()))),
        text[_AT_SUPPRESSION].rstrip(),
        text[_AT_SECTION].rstrip(),
    )


def _exams_slowly(
    line: str, line_no: int, cache: dict[str, ExamScore], limit: int
) -> tuple[ExamScore, ...]:
    """Exam blocks up to the first blank code, building (and caching) unseen blocks."""
    exams: list[ExamScore] = []
    for block, where, fields in _BLOCKS:
        text = line[where]
        if text[_CODE_IN_BLOCK].isspace():
            break
        exam = cache.get(text)
        if exam is None:
            exam = _exam(text, block, fields, line_no)
            if len(cache) >= limit:
                cache.clear()
            cache[text] = exam
        exams.append(exam)
    return tuple(exams)


def _parse(
    lines: Iterator[Line],
    collect: bool,
    errors: list[ParseError],
    close: Callable[[], None],
    name: str | None = None,
    first_line_no: int = 1,
) -> Iterator[ScoreReport]:
    """The reading loop: one line in, one :class:`ScoreReport` out (or one ParseError)."""
    limit = _CACHE_LIMIT
    exam_cache: dict[str, ExamScore] = {}
    named: dict[str, dict[str, Any]] = {name: {} for _, name, _ in _PARTS}
    caches = tuple(named[name] for _, name, _ in _PARTS)
    assemble = rec.make_assembler(caches, _PART_BUILDERS, limit)
    exam_get = exam_cache.__getitem__
    head = _HEAD
    part_texts = _PART_TEXTS
    blocks_for = _BLOCKS_FOR_LENGTH
    exam_span = _EXAMS
    endings = _ENDINGS
    rstrip = str.rstrip
    try:
        numbered = _strip_bom(lines) if first_line_no == 1 else lines
        for line_no, raw in enumerate(numbered, start=first_line_no):
            line = raw.decode("latin-1") if isinstance(raw, bytes) else raw
            try:
                if line[_LENGTH:] not in endings:
                    full = _full_line(line, line_no)
                    if full is None:
                        continue
                    line = full
                student = tuple(map(rstrip, head(line)))
                ap_id = student[0]
                if not ap_id:
                    if not line.rstrip("\r\n").strip(_BLANK):
                        continue
                    raise ParseError("the AP ID is blank", line=line_no, field="ap_id", raw=ap_id)
                blocks = blocks_for[len(line[exam_span].rstrip())](line)
                try:
                    exams = tuple(map(exam_get, blocks))
                except KeyError:
                    exams = _exams_slowly(line, line_no, exam_cache, limit)
                report = assemble(student, exams, part_texts(line), line_no)
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


def frame_lines(lines: Iterator[Line], name: str | None = None) -> tuple[int, int]:
    """Check every line against the framing rule only; returns (records, exams).

    The check a download gets before it is recorded: it raises the reader's own
    ParseError for a line too long or cut short, and reads no value, so a file that
    passes is whole (its values are the reader's business).
    """
    records = exams = 0
    blocks = [where for _, where, _ in _BLOCKS]
    code = _CODE_IN_BLOCK
    for line_no, raw in enumerate(_strip_bom(lines), start=1):
        line = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        if line[_LENGTH:] not in _ENDINGS:
            try:
                full = _full_line(line, line_no)
            except ParseError as error:
                raise error.in_file(name) if name else error from None
            if full is None:
                continue
            line = full
        records += 1
        for where in blocks:
            if line[where][code].isspace():
                break
            exams += 1
    return records, exams


def _parse_line_slowly(line: str, line_no: int | None = None) -> ScoreReport:
    """Read one line field by field through the shared builder (the reference reading).

    The fast loop must agree with this; the tests check it. Useful to explain a line too.
    """
    text = line.rstrip("\r\n")
    if len(text) > _LENGTH:
        raise ParseError("the line is longer than the layout", line=line_no, field=None, raw=text)
    layout = LAYOUT_910 if len(text) == LAYOUT_910.length else LAYOUT_950
    if len(text) < layout.min_length:
        raise truncated_record(len(text), line_no, text)
    text = text.ljust(layout.length)
    values = {f.name: text[f.slice].rstrip() for f in layout.fields if f.kind is not Kind.FILLER}
    return rec.build_report(values, line=line_no, lenient=False)


def write_txt(
    reports: Iterable[ScoreReport],
    dest: Destination,
    *,
    layout: Layout = LAYOUT_950,
    newline: str = "\n",
) -> int:
    """Write reports as fixed-width lines (Latin-1, padded to the full layout length).

    Returns the number of records written. A value that does not fit its field (too wide,
    not Latin-1, a line break, a field the layout lacks such as race/ethnicity in the 910
    layout) raises :class:`~apscores.errors.UnwritableRecordError` naming the AP ID and the
    field; a path destination is then left untouched (files are written atomically).
    """
    if newline not in ("\n", "\r\n"):
        raise ConfigurationError(f"newline must be '\\n' or '\\r\\n', not {newline!r}")
    fields = tuple((f.name, f.width, f.kind is Kind.FILLER) for f in layout.fields)
    known = {f.name for f in layout.fields if f.kind is not Kind.FILLER}
    end = newline.encode("ascii")

    def encode(report: ScoreReport) -> bytes:
        values = rec.report_values(report)
        for name, value in values.items():
            if value and name not in known:
                raise _refuse(report, name, value, f"the {layout.name} layout has no such field")
        parts: list[str] = []
        for name, width, filler in fields:
            value = "" if filler else values.get(name, "")
            if len(value) > width:
                raise _refuse(report, name, value, f"longer than the field's {width} columns")
            if "\n" in value or "\r" in value:
                raise _refuse(report, name, value, "contains a line break")
            parts.append(value.ljust(width))
        text = "".join(parts)
        try:
            return text.encode("latin-1") + end
        except UnicodeEncodeError:
            name = next(name for name, _, _ in fields if not _latin1(values.get(name, "")))
            raise _refuse(
                report, name, values[name], "has characters Latin-1 cannot hold"
            ) from None

    return write_lines(map(encode, reports), dest)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _refuse(report: ScoreReport, field: str, value: str, why: str) -> UnwritableRecordError:
    return UnwritableRecordError(
        f"cannot write the report for AP ID {report.ap_id!r}: field {field!r} value {value!r} {why}"
    )
