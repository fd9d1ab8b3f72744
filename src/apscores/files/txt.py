"""Reading the fixed-width TXT score file (950 columns, or 910 before July 2016).

One byte is one column: fields are sliced from bytes and decoded as Latin-1, so an
accented name (``Muñoz`` with ``ñ`` as byte ``0xF1``) never shifts a column. Values are
right-stripped. LF, CRLF (and CR-only) endings, a UTF-8 BOM on the first line and blank
lines are accepted. Framing follows the one rule of :mod:`apscores.files.layout`: a line
shorter than the layout is a record whose trailing blanks were trimmed only if it reaches
the end of *Date of this report* (column 886); a shorter one is a
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

import io
from collections.abc import Callable, Iterator
from typing import Any

from apscores.errors import ParseError, TruncatedRecordError
from apscores.files import _txt_fast as fast
from apscores.files.layout import LAYOUT_910, LAYOUT_950, Kind
from apscores.files.records import build_report
from apscores.files.sources import (
    BLOCK,
    ErrorMode,
    Line,
    Opened,
    Reader,
    Source,
    check_mode,
    look_ahead,
    open_source,
    split_lines,
)
from apscores.files.values import parse_date
from apscores.models import Address, ScoreReport, Student

__all__ = [
    "frame_lines",
    "open_reader",
    "parse_line",
    "plausible_record",
    "read_lines",
    "read_txt",
]

#: Entries each cache holds before it is emptied (bounded, so memory stays constant).
CACHE_LIMIT = 32768
_LENGTH = LAYOUT_950.length
_SHARED = 900  # columns 1-900 are the same in both layouts
_BLANK = " \t\x1a\x0c"  # what an empty line may hold (\x1a: the old DOS end-of-file mark)
_MIN_LENGTH = LAYOUT_950.min_length  # the same in both layouts (a layout check says so)
_LF, _CRLF = fast.row_struct(1), fast.row_struct(2)
_RECORD = fast.row_struct(0)
_NL = b"\n"


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


def plausible_record(line: Line) -> bool:
    """Whether a line's length fits the framing rule (950 or 910 columns, or trimmed)."""
    size = len(line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n"))
    return _MIN_LENGTH <= size <= _LENGTH


def open_reader(opened: Opened, collect: bool) -> Reader:
    """The TXT :class:`Reader` over a source already opened (``apscores.read`` looks first)."""
    found: list[ParseError] = []
    if opened.read is not None:
        records = _read(_bulk(opened.read), collect, found, opened.close, opened.name)
    else:
        assert opened.lines is not None
        records = _read(_framed(_numbered(opened.lines)), collect, found, opened.close, opened.name)
    return Reader(records, format="txt", errors=found, close=opened.close)


def read_lines(
    lines: Iterator[Line], *, first_line_no: int, collect: bool, problems: list[ParseError]
) -> Iterator[ScoreReport]:
    """The records of lines from the middle of a file (the columnar path's slow blocks):
    numbered from ``first_line_no``, errors collected into ``problems`` or raised."""
    items = _framed(_numbered(lines, first_line_no))
    return _read(items, collect, problems, _nothing, None)


def _nothing() -> None:
    """Close nothing: the caller owns the lines."""


# --- framing ------------------------------------------------------------------------------


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


def _frame(raw: bytes, line_no: int | None) -> bytes | None:
    """One line without its ending, made 950 columns long by the framing rule.

    ``None`` for a blank line; a ParseError for a line longer than the layout, and a
    TruncatedRecordError for one that ends before the last required field.
    """
    size = len(raw)
    if size == _LENGTH:
        return raw
    if not raw.strip(_BLANK.encode("ascii")):
        return None
    if size > _LENGTH:
        text = raw.decode("latin-1")
        raise ParseError(
            f"the line has {size} columns, more than the {_LENGTH} of the layout",
            line=line_no,
            field=None,
            raw=text,
        )
    if size == LAYOUT_910.length:
        return raw[:_SHARED].ljust(_LENGTH)
    if size < _MIN_LENGTH:
        raise truncated_record(size, line_no, raw.decode("latin-1"))
    return raw.ljust(_LENGTH)


#: One framed line: its number, and its 950 columns (or the reason it has none).
Framed = tuple[int, bytes | ParseError]


def _numbered(lines: Iterator[Line], first: int = 1) -> Iterator[tuple[int, bytes]]:
    """Lines as bytes without their endings, numbered; a BOM is dropped from line 1."""
    for number, line in enumerate(lines, start=first):
        raw = line.encode("latin-1", "replace") if isinstance(line, str) else line
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
            if isinstance(line, str):
                raw = line.removeprefix("\ufeff").encode("latin-1", "replace")
        yield number, raw.rstrip(b"\r\n")


def _framed(lines: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, Any]]:
    """Line by line: each non-blank line's pieces, or its framing error."""
    unpack = _RECORD.unpack
    for number, raw in lines:
        try:
            line = _frame(raw, number)
        except ParseError as error:
            yield number, error
            continue
        if line is not None:
            yield number, (line, unpack(line))


def _bulk(read: Callable[[int], bytes]) -> Iterator[tuple[int, Any]]:
    """Whole blocks of uniform lines through ``iter_unpack``; the others line by line.

    Once the first line shows the file's stride (950 columns and LF or CRLF), blocks are
    read as a whole number of lines, so a block is never copied to carry a cut line over:
    on a uniform file the only work per block is a few C-level checks.
    """
    head = read(BLOCK)
    if head.startswith(b"\xef\xbb\xbf") or _ending(head) == b"\r":
        # A BOM or CR-only endings: frame every line (rare files; correct, not fast).
        stream = io.BytesIO(head)
        lines = split_lines(lambda size: stream.read(size) or read(size))
        yield from _framed(_numbered(lines))
        return
    stride = _stride(head)
    size = stride * (BLOCK // stride) if stride else BLOCK
    number = 1
    rest = b""
    data = head
    while data:
        chunk = rest + data if rest else data
        cut = chunk.rfind(_NL) + 1
        if cut == len(chunk):
            whole, rest = chunk, b""
        else:
            whole, rest = chunk[:cut], chunk[cut:]
        if whole:
            count = len(whole) - len(whole.replace(_NL, b""))
            yield from _block(whole, number, count)
            number += count
        # Finish a cut line with a small read, so that every later block is whole lines.
        data = read(stride - len(rest)) if stride and 0 < len(rest) < stride else read(size)
    if rest:
        yield from _framed(iter(((number, rest.rstrip(b"\r")),)))


def _stride(head: bytes) -> int:
    """Bytes per line if the first line is a full record (950 columns + LF or CRLF), else 0."""
    if head[_LENGTH : _LENGTH + 1] == _NL:
        return _LENGTH + 1
    if head[_LENGTH : _LENGTH + 2] == b"\r\n":
        return _LENGTH + 2
    return 0


def _ending(head: bytes) -> bytes:
    cr, lf = head.find(b"\r"), head.find(b"\n")
    return b"\r" if cr >= 0 and (lf < 0 or cr < lf) and head[cr + 1 : cr + 2] != b"\n" else b"\n"


def _block(whole: bytes, first: int, lines: int) -> Iterator[tuple[int, Any]]:
    """The records of ``lines`` whole lines starting at line ``first``."""
    size = len(whole)
    for stride, layout in ((_LENGTH + 1, _LF), (_LENGTH + 2, _CRLF)):
        if size == stride * lines and whole[stride - 1 :: stride] == _NL * lines:
            if stride == _LENGTH + 2 and whole[_LENGTH::stride] != b"\r" * lines:
                break
            yield first, (whole, stride, layout.iter_unpack(whole))
            return
    yield from _framed(
        (number, raw.rstrip(b"\r")) for number, raw in enumerate(whole.split(_NL)[:-1], first)
    )


# --- the reading loop ---------------------------------------------------------------------


def parse_line(line: bytes | str, line_no: int | None = None) -> ScoreReport:
    """Read one line field by field, framing it first: the reference reading.

    The fast loop must agree with this (the tests check it), and asks it about every line
    it does not vouch for. Useful to explain a line too. A blank line is a ParseError.
    """
    raw = line.encode("latin-1", "replace") if isinstance(line, str) else line
    framed = _frame(raw.rstrip(b"\r\n"), line_no)
    if framed is None:
        raise ParseError("the line is blank", line=line_no, field=None, raw="")
    text = framed.decode("latin-1")
    values = {
        f.name: text[f.slice].rstrip() for f in LAYOUT_950.fields if f.kind is not Kind.FILLER
    }
    return build_report(values, line=line_no, lenient=False)


def _is_blank(line: bytes) -> bool:
    return not line.strip(_BLANK.encode("ascii"))


def _read(
    items: Iterator[tuple[int, Any]],
    collect: bool,
    errors: list[ParseError],
    close: Callable[[], None],
    name: str | None,
) -> Iterator[ScoreReport]:
    """Records from framed items: whole uniform blocks, single lines, or framing errors."""
    build = fast.Builders(CACHE_LIMIT)
    try:
        for number, item in items:
            if isinstance(item, ParseError):
                made: Iterator[Any] = iter(((number, item),))
            elif len(item) == 3:  # a uniform block: (its bytes, line stride, its rows)
                whole, stride, rows = item
                made = _records(rows, number, _cutter(whole, stride, number), build)
            else:  # one framed line: (its 950 columns, its pieces)
                line, pieces = item
                made = _records(iter((pieces,)), number, _same(line), build)
            for report in made:
                if report.__class__ is tuple:  # (line number, a ParseError)
                    error = report[1]
                    if name is not None:
                        error.in_file(name)
                    if not collect:
                        raise error
                    errors.append(error)
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
    build: fast.Builders,
) -> Iterator[Any]:
    """The hot loop: the pieces of each record in, a ScoreReport out.

    Every part is a dict look-up by its raw bytes; a miss is built by the part's builder;
    anything a builder will not vouch for sends the line to :func:`parse_line`. Yields a
    ScoreReport, or ``(line number, ParseError)`` for a line the reference refused.
    """
    number = first - 1
    new = object.__new__
    address_twin, student_twin, report_twin = fast.TWINS
    dget, tget = build.dates.get, build.texts.get
    exam_get = build.exams.__getitem__
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
            try:
                exam_list = tuple(map(exam_get, blocks))
            except KeyError:
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


def frame_lines(lines: Iterator[Line], name: str | None = None) -> tuple[int, int]:
    """Check every line against the framing rule only; returns (records, exams).

    The check a download gets before it is recorded: it raises the reader's own
    ParseError for a line too long or cut short, and reads no value, so a file that
    passes is whole (its values are the reader's business).
    """
    records = exams = 0
    for _number, item in _framed(_numbered(lines)):
        if isinstance(item, ParseError):
            raise item.in_file(name) if name else item
        records += 1
        exams += fast.exam_count(item[1][_EXAMS_AT])
    return records, exams


_EXAMS_AT = fast.LOOP_ORDER.index("exams")
