"""The fixed-width TXT score file (950 columns, or 910 before July 2016): read and write.

Both directions are built from :mod:`apscores.layout`; no byte offset is written here.

Reading. Each line is decoded as Latin-1 once: Latin-1 maps every byte to exactly one
character, so slicing the decoded line is slicing bytes (one byte = one column) and an
accented name (``Muñoz`` with ``ñ`` as byte ``0xF1``) never shifts a column. Values are
right-stripped. LF and CRLF endings, a UTF-8 BOM on the first line, blank lines and lines
whose trailing blanks were stripped are all accepted; a line longer than 950 columns is a
:class:`~apscores.errors.ParseError`. A line of exactly 910 columns uses the 910 layout
(its columns 901-910 are filler and ignored).

Speed. The hot loop only slices and looks things up. Sub-records that repeat across lines
(the college, the high school, exam blocks, awards, previous schools, the trailer, birth
dates) are cached by their raw text in small bounded dicts, so most lines build only the
``Student`` and the ``ScoreReport``. A cache miss is parsed field by field by the shared
builders of :mod:`apscores._read_records`, which check every value and raise a
``ParseError`` naming the line, the layout field and the raw text; errors are never cached.

Exams end at the first block whose exam code is blank (see :mod:`apscores._read_records`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

from apscores import _read_records as rec
from apscores._read_source import (
    Destination,
    ErrorMode,
    Line,
    Reader,
    Source,
    check_mode,
    open_lines,
    write_lines,
)
from apscores.errors import ConfigurationError, ParseError
from apscores.layout import EXAM_BLOCK_COUNT, LAYOUT_910, LAYOUT_950, Field, Kind, Layout
from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)

__all__ = ["read_txt", "write_txt"]

_CACHE_LIMIT = 4096
_LENGTH = LAYOUT_950.length
_SHARED = 900  # columns 1-900 are the same in both layouts
_BLANK = " \t\x1a\x0c"  # what an empty line may hold (\x1a: the old DOS end-of-file mark)


def _span(first: str, last: str) -> slice:
    """The 0-based slice from the start of field ``first`` to the end of field ``last``."""
    return slice(LAYOUT_950.field(first).start - 1, LAYOUT_950.field(last).end)


def _fields_in(span: slice) -> tuple[Field, ...]:
    """The non-filler fields that start inside ``span``."""
    return tuple(
        f
        for f in LAYOUT_950.fields
        if span.start <= f.start - 1 < span.stop and f.kind is not Kind.FILLER
    )


def _values(line: str, fields: tuple[Field, ...]) -> dict[str, str]:
    """Field name -> right-stripped text, for the builders of ``_read_records``."""
    return {f.name: line[f.slice].rstrip() for f in fields}


_STUDENT_NAMES = (
    "ap_id",
    "last_name",
    "first_name",
    "middle_initial",
    "street_address_1",
    "street_address_2",
    "street_address_3",
    "state",
    "zip_code",
    "country_code",
)
_student_texts = itemgetter(*(LAYOUT_950.field(name).slice for name in _STUDENT_NAMES))
_GENDER = LAYOUT_950.field("gender").slice
_BIRTH_DATE = LAYOUT_950.field("birth_date").slice
_CODES = _span("education_level", "apply_sophomore_standing")  # six 1-3 column codes
_CODE_FIELDS = _fields_in(_CODES)
_RACE = _span("race_ethnicity_student_response", "derived_aggregate_race_ethnicity")
_RACE_FIELDS = _fields_in(_RACE)

_PREVIOUS = _span("previous_ai_year_1", "previous_ai_code_2")
_AWARDS = _span("award_type_1", "award_year_6")
_HIGH_SCHOOL = _span("hs_ai_code", "hs_zip_code")
_COLLEGE = _span("college_code", "college_zip_code")
_TRAILER = _span("date_grades_released_to_college", "order_institution_key")
_PREVIOUS_FIELDS = _fields_in(_PREVIOUS)
_AWARD_FIELDS = _fields_in(_AWARDS)
_HIGH_SCHOOL_FIELDS = _fields_in(_HIGH_SCHOOL)
_COLLEGE_FIELDS = _fields_in(_COLLEGE)
_TRAILER_FIELDS = _fields_in(_TRAILER)

_BLOCK_SPANS = tuple(
    _span(f"admin_year_{block:02d}", f"class_section_code_{block:02d}")
    for block in range(1, EXAM_BLOCK_COUNT + 1)
)
_CODE = LAYOUT_950.field("exam_code_01").slice
_CODE_IN_BLOCK = slice(_CODE.start - _BLOCK_SPANS[0].start, _CODE.stop - _BLOCK_SPANS[0].start)
#: (block number, its slice, its fields) for the 30 exam blocks, in file order.
_BLOCKS = tuple((block, span, _fields_in(span)) for block, span in enumerate(_BLOCK_SPANS, start=1))


def read_txt(source: Source, *, errors: ErrorMode = "raise") -> Reader:
    """Read a 950- or 910-column TXT score file; see the module docstring for the rules."""
    collect = check_mode(errors)
    lines, close = open_lines(source)
    return open_reader(lines, close, collect)


def open_reader(lines: Iterator[Line], close: Callable[[], None], collect: bool) -> Reader:
    """The TXT :class:`Reader` over lines already opened (``apscores.read`` sniffs first)."""
    found: list[ParseError] = []
    return Reader(_parse(lines, collect, found, close), format="txt", errors=found, close=close)


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


def _parse(
    lines: Iterator[Line],
    collect: bool,
    errors: list[ParseError],
    close: Callable[[], None],
) -> Iterator[ScoreReport]:
    """The reading loop: one line in, one :class:`ScoreReport` out (or one ParseError)."""
    exam_cache: dict[str, ExamScore] = {}
    person_cache: dict[str, tuple[str, dt.date | None]] = {}
    codes_cache: dict[str, tuple[str, ...]] = {}
    race_cache: dict[str, tuple[str, ...]] = {}
    previous_cache: dict[str, tuple[PreviousSchool, ...]] = {}
    award_cache: dict[str, tuple[Award, ...]] = {}
    school_cache: dict[str, Organization] = {}
    college_cache: dict[str, tuple[str, Organization]] = {}
    trailer_cache: dict[str, rec.Trailer] = {}
    student_texts = _student_texts
    blocks = _BLOCKS
    code_in_block = _CODE_IN_BLOCK
    limit = _CACHE_LIMIT
    length = _LENGTH
    try:
        for line_no, raw in enumerate(_strip_bom(lines), start=1):
            text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
            line = text.rstrip("\r\n")
            if len(line) != length:
                if not line.strip(_BLANK):
                    continue
                if len(line) > length:
                    error = ParseError(
                        f"the line has {len(line)} columns, more than the {length} of the layout",
                        line=line_no,
                        field=None,
                        raw=line,
                    )
                    if collect:
                        errors.append(error)
                        continue
                    raise error
                if len(line) == LAYOUT_910.length:
                    line = line[:_SHARED]
                line = line.ljust(length)
            try:
                (
                    ap_id,
                    last_name,
                    first_name,
                    middle_initial,
                    street_1,
                    street_2,
                    street_3,
                    state,
                    zip_code,
                    country_code,
                ) = map(str.rstrip, student_texts(line))
                if not ap_id:
                    if not line.strip(_BLANK):
                        continue
                    raise ParseError("the AP ID is blank", line=line_no, field="ap_id", raw=ap_id)

                key = line[_GENDER.start : _BIRTH_DATE.stop]
                try:
                    gender, date_of_birth = person_cache[key]
                except KeyError:
                    gender = line[_GENDER].rstrip()
                    birth_date = line[_BIRTH_DATE].rstrip()
                    date_of_birth = rec.parse_date("birth_date", birth_date, line_no, False)
                    if len(person_cache) >= limit:
                        person_cache.clear()
                    person_cache[key] = (gender, date_of_birth)

                key = line[_CODES]
                try:
                    codes = codes_cache[key]
                except KeyError:
                    codes = tuple(_values(line, _CODE_FIELDS).values())
                    if len(codes_cache) >= limit:
                        codes_cache.clear()
                    codes_cache[key] = codes

                key = line[_RACE]
                try:
                    race = race_cache[key]
                except KeyError:
                    race = tuple(_values(line, _RACE_FIELDS).values())
                    if len(race_cache) >= limit:
                        race_cache.clear()
                    race_cache[key] = race

                exams: list[ExamScore] = []
                for block, span, fields in blocks:
                    raw_block = line[span]
                    if raw_block[code_in_block].isspace():
                        break
                    try:
                        exam = exam_cache[raw_block]
                    except KeyError:
                        exam = rec.build_exam(_values(line, fields), block, line_no, False)
                        if len(exam_cache) >= limit:
                            exam_cache.clear()
                        exam_cache[raw_block] = exam
                    exams.append(exam)

                key = line[_PREVIOUS]
                try:
                    previous = previous_cache[key]
                except KeyError:
                    values = _values(line, _PREVIOUS_FIELDS)
                    previous = rec.build_previous(values, line_no, False)
                    if len(previous_cache) >= limit:
                        previous_cache.clear()
                    previous_cache[key] = previous

                key = line[_AWARDS]
                try:
                    awards = award_cache[key]
                except KeyError:
                    awards = rec.build_awards(_values(line, _AWARD_FIELDS), line_no, False)
                    if len(award_cache) >= limit:
                        award_cache.clear()
                    award_cache[key] = awards

                key = line[_HIGH_SCHOOL]
                try:
                    high_school = school_cache[key]
                except KeyError:
                    high_school = rec.build_high_school(_values(line, _HIGH_SCHOOL_FIELDS))
                    if len(school_cache) >= limit:
                        school_cache.clear()
                    school_cache[key] = high_school

                key = line[_COLLEGE]
                try:
                    di_code, college = college_cache[key]
                except KeyError:
                    di_code, college = rec.build_college(_values(line, _COLLEGE_FIELDS), False)
                    if len(college_cache) >= limit:
                        college_cache.clear()
                    college_cache[key] = (di_code, college)

                key = line[_TRAILER]
                try:
                    trailer = trailer_cache[key]
                except KeyError:
                    trailer = rec.build_trailer(_values(line, _TRAILER_FIELDS), line_no, False)
                    if len(trailer_cache) >= limit:
                        trailer_cache.clear()
                    trailer_cache[key] = trailer

                report = ScoreReport(
                    ap_id,
                    Student(
                        last_name,
                        first_name,
                        middle_initial,
                        date_of_birth,
                        gender,
                        Address(street_1, street_2, street_3, state, zip_code, country_code),
                        *codes,
                        *race,
                    ),
                    di_code,
                    college,
                    high_school,
                    tuple(exams),
                    awards,
                    previous,
                    *trailer,
                )
            except ParseError as error:
                if collect:
                    errors.append(error)
                    continue
                raise
            yield report
    finally:
        close()


def _parse_line_slowly(line: str, line_no: int | None = None) -> ScoreReport:
    """Read one line field by field through the shared builder (the reference reading).

    The fast loop must agree with this; the tests check it. Useful to explain a line too.
    """
    text = line.rstrip("\r\n")
    if len(text) > _LENGTH:
        raise ParseError("the line is longer than the layout", line=line_no, field=None, raw=text)
    layout = LAYOUT_910 if len(text) == LAYOUT_910.length else LAYOUT_950
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
    layout) raises :class:`~apscores.errors.ConfigurationError` naming the AP ID and the
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


def _refuse(report: ScoreReport, field: str, value: str, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"cannot write the report for AP ID {report.ap_id!r}: field {field!r} value {value!r} {why}"
    )
