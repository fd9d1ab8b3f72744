"""Reading the fixed-width TXT score file (950 columns, or 910 before July 2016).

One byte is one column: fields are sliced from bytes and decoded as Latin-1, so an
accented name (``Muñoz`` with ``ñ`` as byte ``0xF1``) never shifts a column. Values are
right-stripped. LF, CRLF (and CR-only) endings, a UTF-8 BOM on the first line and blank
lines are accepted. Lines are framed by :mod:`apscores.files._framing`: a line shorter than
the layout is a record whose trailing blanks were trimmed only if it reaches the end of
*Date of this report* (column 886); a shorter one is a
:class:`~apscores.errors.TruncatedRecordError` naming the line, its length and the first
field it cuts, never a padded record. A line longer than 950 columns is a
:class:`~apscores.errors.ParseError`. A line of exactly 910 columns uses the 910 layout
(its columns 901-910 are filler and ignored). Exams end at the first block whose exam code
is blank.

:func:`parse_line` is the reference reading of one line, field by field; the fast loop
(:mod:`apscores.files._txt_fast`) builds the same records and, for any line it does not
vouch for, asks :func:`parse_line`, so records and errors are always the reference's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from apscores.errors import ParseError
from apscores.files import _txt_fast as fast
from apscores.files._caches import Builders
from apscores.files._framing import (
    BLANK,
    bulk,
    control_error,
    frame,
    frame_lines,
    framed,
    numbered,
    plausible_record,
    strip_ending,
)
from apscores.files._records import build_report
from apscores.files._sources import (
    ErrorMode,
    Opened,
    Reader,
    Source,
    check_mode,
    look_ahead,
    open_source,
)
from apscores.files._values import parse_date
from apscores.files.blocks import Piece
from apscores.files.layout import LAYOUT_950, LAYOUTS, FieldKind, Layout
from apscores.models import Address, ScoreReport, Student

__all__ = [
    "frame_lines",
    "open_reader",
    "parse_line",
    "plausible_record",
    "read_pieces",
    "read_txt",
]

#: Entries each cache holds before it is emptied (bounded, so memory stays constant).
CACHE_LIMIT = 32768
_LENGTH = LAYOUT_950.length
_BLANK_BYTES = BLANK.encode("ascii")


def read_txt(source: Source, *, errors: ErrorMode = "raise") -> Reader:
    """Read a 950- or 910-column TXT score file, streamed, every value checked.

    ``source`` is a path, a binary file object, bytes, or an iterable of lines. Fields are
    sliced from bytes and decoded as Latin-1; LF, CRLF and CR endings, a UTF-8 BOM and
    blank lines are accepted. A line cut before column 886 (*Date of this report*) is a
    :class:`~apscores.errors.TruncatedRecordError`, never a padded record; a bad value is
    a :class:`~apscores.errors.ParseError` naming the file, line and field. With
    ``errors="collect"`` bad lines are skipped and listed in the reader's ``errors``.
    An empty or binary input raises :class:`~apscores.errors.UnknownFormatError` (or its
    :class:`~apscores.errors.EmptyFileError`) at once, in both error modes.
    """
    collect = check_mode(errors)
    opened = open_source(source)
    look_ahead(opened, plausible_record)
    return open_reader(opened, collect)


def open_reader(opened: Opened, collect: bool) -> Reader:
    """The TXT :class:`Reader` over a source already opened (``apscores.read`` looks first)."""
    found: list[ParseError] = []
    if opened.lines is None:
        records = _read(bulk(opened.blocks()), collect, found, opened.close, opened.name)
    else:
        records = _read(framed(numbered(opened.lines)), collect, found, opened.close, opened.name)
    return Reader(records, format="txt", errors=found, close=opened.close)


def read_pieces(
    pieces: Iterable[Piece],
    *,
    collect: bool,
    problems: list[ParseError],
    name: str | None,
    layout: Layout | None = None,
) -> Iterator[ScoreReport]:
    """The records of the block reader's pieces from the middle of a file (the columnar
    path's slow blocks); errors collected into ``problems`` or raised. ``layout``: the
    records' layout (None: 950 columns, 910-column lines read as today); this reader
    reads the built-in layouts only so far (a 910 or 950 line under either)."""
    if layout is not None and layout not in LAYOUTS.values():
        raise NotImplementedError(f"the typed reader does not read layout {layout.name} yet")
    return _read(bulk(pieces), collect, problems, _nothing, name)


def _nothing() -> None:
    """Close nothing: the caller owns the lines."""


# --- the reading loop ---------------------------------------------------------------------


def parse_line(line: bytes | str, line_no: int | None = None) -> ScoreReport:
    """Read one line field by field, framing it first: the reference reading.

    The fast loop must agree with this (the tests check it), and asks it about every line
    it does not vouch for. Useful to explain a line too. A blank line is a ParseError.
    """
    raw = line.encode("latin-1", "replace") if isinstance(line, str) else line
    record = frame(strip_ending(raw), line_no)
    if record is None:
        raise ParseError("the line is blank", line=line_no, field=None, raw="")
    problem = control_error(record, line_no)
    if problem is not None:
        raise problem
    text = record.decode("latin-1")
    values = {  # a grade is a digit or a space, never whitespace of another kind
        f.name: text[f.slice].rstrip(" " if f.kind is FieldKind.GRADE else None)
        for f in LAYOUT_950.fields
        if f.kind is not FieldKind.FILLER
    }
    return build_report(values, line=line_no, lenient=False)


def _is_blank(line: bytes) -> bool:
    return not line.strip(_BLANK_BYTES)


def _read(
    items: Iterator[tuple[int, Any]],
    collect: bool,
    errors: list[ParseError],
    close: Callable[[], None],
    name: str | None,
) -> Iterator[ScoreReport]:
    """Records from framed items: whole uniform blocks, single lines, or framing errors."""
    build = Builders(CACHE_LIMIT)
    unpack = fast.RECORD.unpack
    try:
        for number, item in items:
            if isinstance(item, ParseError):
                made: Iterator[Any] = iter(((number, item),))
            elif isinstance(item, bytes):  # one framed line: its 950 columns
                made = _records(iter((unpack(item),)), number, _same(item), build)
            else:  # a uniform block: (its bytes, line stride)
                whole, stride = item
                rows = fast.BY_STRIDE[stride].iter_unpack(whole)
                made = _records(rows, number, _cutter(whole, stride, number), build)
            for report in made:
                if report.__class__ is tuple:  # (line number, a ParseError)
                    error = report[1]
                    if name is not None:
                        error.in_file(name)
                    if not collect:
                        raise error
                    errors.append(error.with_traceback(None))  # frames would keep blocks
                    continue
                yield report
    finally:
        close()


def _same(line: bytes) -> Callable[[int], bytes]:
    """The one framed line, whatever its number."""
    return lambda _number: line


def _cutter(whole: bytes, stride: int, first: int) -> Callable[[int], bytes]:
    """Line ``number``'s 950 columns inside a uniform block."""

    def line(number: int) -> bytes:
        at = (number - first) * stride
        return whole[at : at + _LENGTH]

    return line


_UNSEEN: Any = object()


def _date(text: str) -> Any:
    return parse_date("date", text, None, False)


def _records(
    rows: Iterator[tuple[bytes, ...]],
    first: int,
    line_of: Callable[[int], bytes],
    build: Builders,
) -> Iterator[Any]:
    """The hot loop: the pieces of each record in, a ScoreReport out.

    Every part is a dict look-up by its raw bytes; a miss is built by the part's builder;
    anything a builder will not vouch for sends the line to :func:`parse_line`. Yields a
    ScoreReport, or ``(line number, ParseError)`` for a line the reference refused.
    """
    number = first - 1
    build.line = number
    new = object.__new__
    address_twin, student_twin, report_twin = fast.TWINS
    dget, tget = build.dates.get, build.texts.get
    exam_get = build.exams.get
    school_get, college_get = build.schools.get, build.colleges.get
    codes_get, previous_get, awards_get = build.codes.get, build.previous.get, build.awards.get
    take, blank_at = fast.TAKE_BLOCKS, fast.blank_exams_at
    text, date, unseen = build.text, build.date, _UNSEEN
    for (
        ap, last, first_name, middle, street_1, street_2, street_3, state, zip_code, country,
        gender, born, codes, previous, awards, school, college, exams, released, updated,
        reported, service_type, service_code, order_key, race, derived,
    ) in rows:  # fmt: skip
        number += 1
        try:
            ap_id = ap.decode("latin-1").rstrip()
            if not ap_id.strip():
                raise fast.Bad
            blocks = take[blank_at(exams)](exams)
            exam_list = tuple(map(exam_get, blocks))
            if not all(exam_list):  # a block not seen before (None)
                exam_list = build.exam_list(blocks)
            day_released = dget(released, unseen)
            if day_released is unseen:
                day_released = date(released, _date)
            day_updated = dget(updated, unseen)
            if day_updated is unseen:
                day_updated = date(updated, _date)
            day_reported = dget(reported, unseen)
            if day_reported is unseen:
                day_reported = date(reported, _date)
            day_born = dget(born, unseen)
            if day_born is unseen:
                day_born = date(born, _date)
            high_school = school_get(school) or build.school(school)
            di_code, college_org = college_get(college) or build.college(college)
            student_codes = codes_get(codes) or build.student_codes(codes)
            previous_list = previous_get(previous)
            if previous_list is None:
                previous_list = build.previous_schools(previous)
            award_list = awards_get(awards)
            if award_list is None:
                award_list = build.award_list(awards)
            address = new(address_twin)
            address.street_1 = street_1.decode("latin-1").rstrip()
            _street_2 = tget(street_2)
            if _street_2 is None:
                _street_2 = text(street_2)
            address.street_2 = _street_2
            address.street_3 = street_3.decode("latin-1").rstrip()
            _state = tget(state)
            if _state is None:
                _state = text(state)
            address.state = _state
            address.zip_code = zip_code.decode("latin-1").rstrip()
            _country = tget(country)
            if _country is None:
                _country = text(country)
            address.country_code = _country
            address.__class__ = Address
            student = new(student_twin)
            student.last_name = last.decode("latin-1").rstrip()
            student.first_name = first_name.decode("latin-1").rstrip()
            _middle = tget(middle)
            if _middle is None:
                _middle = text(middle)
            student.middle_initial = _middle
            student.date_of_birth = day_born
            _gender = tget(gender)
            if _gender is None:
                _gender = text(gender)
            student.gender = _gender
            student.address = address
            (
                student.education_level,
                student.expected_college_entrance,
                student.ethnic_group,
                student.student_search,
                student.best_language,
                student.applying_sophomore_standing,
            ) = student_codes
            student.race_ethnicity_response = race.decode("latin-1").rstrip()
            _derived = tget(derived)
            if _derived is None:
                _derived = text(derived)
            student.derived_aggregate_race_ethnicity = _derived
            student.__class__ = Student
            report = new(report_twin)
            report.ap_id = ap_id
            report.student = student
            report.di_code = di_code
            report.college = college_org
            report.high_school = high_school
            report.exams = exam_list
            report.awards = award_list
            report.previous_schools = previous_list
            report.date_released = day_released
            report.date_updated = day_updated
            report.report_date = day_reported
            _service_type = tget(service_type)
            if _service_type is None:
                _service_type = text(service_type)
            report.service_type = _service_type
            _service_code = tget(service_code)
            if _service_code is None:
                _service_code = text(service_code)
            report.service_code = _service_code
            report.order_institution_key = order_key.decode("latin-1").rstrip()
            report.__class__ = ScoreReport
        except fast.Bad:
            line = line_of(number)
            if _is_blank(line):
                continue
            try:
                yield parse_line(line, number)
            except ParseError as error:
                yield number, error
            continue
        yield report
