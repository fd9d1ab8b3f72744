"""The TXT reader's fast path: framing in bulk, ``struct`` pieces, cached parts, twin records.

Framing. The file is read in blocks of about 1 MiB of whole lines. A block whose lines are
all 950 columns with one ending (LF or CRLF) is checked with a few C-level calls (its
length, every ending in place, no other line break) and cut into records by
``struct.Struct.iter_unpack``; any other block (trimmed, 910-column, blank or damaged
lines, a BOM, a last line without its ending) is framed line by line with the rule of
:mod:`apscores.files._framing`. Either way each record arrives as the ~25 ``bytes`` pieces
of :data:`PIECES`: the student's own fields, and the parts that repeat between students.

Values. Repeating parts (dates, exam blocks, the high school and college blocks, codes,
awards, previous schools, short texts) are looked up by their raw bytes in the bounded
caches of :mod:`apscores.files._caches`; a piece not seen before goes to a small exact
builder for that part, here. A builder that finds
a bad value does not explain it: the line goes to the reference reading
(:func:`apscores.files._txt.parse_line`), which raises the precise ``ParseError``. So the
records and errors are always the reference's; only their cost differs.

Records are built with the twins of :mod:`apscores.files._construct` (plain attribute
stores, then the frozen class).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import cast

from apscores._guard import guard
from apscores.files._construct import twin
from apscores.files._values import GRADES, YEARS, college_code_to_di
from apscores.files.layout import EXAM_BLOCK_COUNT, EXAM_BLOCK_WIDTH, LAYOUT_950, FieldKind
from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)

__all__ = ["BY_STRIDE", "PIECES", "RECORD", "Bad", "row_struct"]

#: The student's own fields, one piece each.
_OWN = (
    "ap_id", "last_name", "first_name", "middle_initial", "street_address_1",
    "street_address_2", "street_address_3", "state", "zip_code", "country_code", "gender",
    "birth_date",
)  # fmt: skip

#: The pieces of a record, in file order: (name, first field, last field). Fields between
#: pieces are fillers. The hot loop of :mod:`apscores.files._txt` unpacks them in this order.
PIECES: tuple[tuple[str, str, str], ...] = (
    *((name, name, name) for name in _OWN),
    ("codes", "education_level", "apply_sophomore_standing"),
    ("previous", "previous_ai_year_1", "previous_ai_code_2"),
    ("awards", "award_type_1", "award_year_6"),
    ("high_school", "hs_ai_code", "hs_zip_code"),
    ("college", "college_code", "college_zip_code"),
    ("exams", "admin_year_01", "class_section_code_30"),
    ("released", "date_grades_released_to_college", "date_grades_released_to_college"),
    ("updated", "date_of_last_student_update", "date_of_last_student_update"),
    ("reported", "date_of_this_report", "date_of_this_report"),
    ("service_type", "service_type", "service_type"),
    ("service_code", "service_code", "service_code"),
    ("order_key", "order_institution_key", "order_institution_key"),
    ("race", "race_ethnicity_student_response", "race_ethnicity_student_response"),
    ("derived", "derived_aggregate_race_ethnicity", "derived_aggregate_race_ethnicity"),
)


def row_struct(ending: int) -> struct.Struct:
    """The ``struct`` of a 950-column record and ``ending`` bytes of line ending, built
    from the layout: each piece an ``Ns``, every filler skipped, checked to cover all."""
    fields = LAYOUT_950.fields
    index = {f.name: i for i, f in enumerate(fields)}
    parts: list[str] = []
    at = 0
    for _, first, last in PIECES:
        start, stop = index[first], index[last]
        skipped = fields[at:start]
        if any(f.kind is not FieldKind.FILLER for f in skipped):  # pragma: no cover - layout guard
            raise AssertionError(f"fields before {first!r} belong to no piece")
        if skipped:
            parts.append(f"{sum(f.width for f in skipped)}x")
        parts.append(f"{sum(f.width for f in fields[start : stop + 1])}s")
        at = stop + 1
    tail = fields[at:]
    if any(f.kind is not FieldKind.FILLER for f in tail):  # pragma: no cover - layout guard
        raise AssertionError("fields after the last piece belong to no piece")
    parts.append(f"{sum(f.width for f in tail) + ending}x")
    made = struct.Struct("".join(parts))
    guard(made.size == LAYOUT_950.length + ending, "the record struct spans the record")
    return made


def _within(piece: str, name: str) -> slice:
    """Where field ``name`` sits in the bytes of ``piece``."""
    first = next(p for p in PIECES if p[0] == piece)[1]
    base = LAYOUT_950.field(first).start
    field = LAYOUT_950.field(name)
    return slice(field.start - base, field.start - base + field.width)


class Bad(Exception):  # noqa: N818 - a signal inside the reader, never raised out of it
    """A builder met a value it does not vouch for: read the line the reference way."""


YEAR_OF = {text.encode("ascii"): year for text, year in YEARS.items()}
_GRADES = {text.encode("ascii"): score for text, score in GRADES.items() if text}
_ADDRESS, _STUDENT, _REPORT = twin(Address), twin(Student), twin(ScoreReport)
_ORGANIZATION, _EXAM, _PREVIOUS = twin(Organization), twin(ExamScore), twin(PreviousSchool)
_AWARD = twin(Award)
_new = object.__new__

_BLOCK = tuple(
    _within("exams", f"{name}_01")
    for name in (
        "admin_year", "exam_code", "exam_grade", "irregularity_code_1", "irregularity_code_2",
        "exam_suppression_flag", "class_section_code",
    )
)  # fmt: skip
_SCHOOL = {  # the same shape for the high school and the college blocks
    key: _within("high_school", f"hs_{name}")
    for key, name in (
        ("code", "ai_code"), ("contact", "contact_name"), ("name", "institution_name"),
        ("street_1", "street_address_1"), ("street_2", "street_address_2"),
        ("street_3", "street_address_3"), ("state", "state"), ("zip", "zip_code"),
    )
}  # fmt: skip
guard(
    _within("college", "college_zip_code") == _SCHOOL["zip"],
    "the college block has the high school block's shape",
)
guard(_BLOCK[3].stop == _BLOCK[4].start, "the two irregularity codes sit side by side")
guard(
    _BLOCK[5].stop - _BLOCK[5].start == _BLOCK[6].stop - _BLOCK[6].start == 1,
    "the exam flag and section fields are one column each",
)
_PREVIOUS_AT = tuple(
    (_within("previous", f"previous_ai_year_{n}"), _within("previous", f"previous_ai_code_{n}"))
    for n in (1, 2)
)
_CODES_AT = tuple(
    _within("codes", name)
    for name in (
        "education_level", "expected_college_entrance", "ethnic_group", "student_search",
        "best_language", "apply_sophomore_standing",
    )
)  # fmt: skip


_CHAR = tuple(chr(byte).rstrip() for byte in range(256))  # one column, right-stripped


def _struct_of(slices: tuple[slice, ...]) -> struct.Struct:
    """A ``struct`` giving each of ``slices`` (contiguous, in order) as one ``bytes``."""
    guard(slices[0].start == 0, "the first slice starts the piece")
    guard(all(a.stop == b.start for a, b in itertools.pairwise(slices)), "slices are contiguous")
    return struct.Struct("".join(f"{s.stop - s.start}s" for s in slices))


#: An exam block as (year, code, grade, both irregularity codes, flag, section).
_EXAM_PIECES = _struct_of((*_BLOCK[:3], slice(_BLOCK[3].start, _BLOCK[4].stop), *_BLOCK[5:]))
guard(_EXAM_PIECES.size == EXAM_BLOCK_WIDTH, "the exam struct spans an exam block")
_FIRST, _SECOND = (
    slice(0, _BLOCK[3].stop - _BLOCK[3].start),
    slice(_BLOCK[4].start - _BLOCK[3].start, None),
)


def _irregularities(pair: bytes) -> tuple[str, ...]:
    """The non-blank irregularity codes of the 4 bytes of both codes, in order."""
    first = pair[_FIRST].decode("latin-1").rstrip()
    second = pair[_SECOND].decode("latin-1").rstrip()
    return tuple(code for code in (first, second) if code)


#: Entries the small-part caches of one read keep (few distinct values in any file).
PART_LIMIT = 4096


def exam(
    block: bytes, codes_seen: dict[bytes, str], pairs_seen: dict[bytes, tuple[str, ...]]
) -> ExamScore | None:
    """One exam block's 11 bytes; ``None`` when its code is blank (the exams end there).

    ``codes_seen`` and ``pairs_seen`` are the read's caches of exam codes and irregularity
    pairs (:class:`apscores.files._caches.Builders` owns them: one per read, never shared).
    """
    year_piece, code_piece, grade_piece, pair, flag, section = _EXAM_PIECES.unpack(block)
    code = codes_seen.get(code_piece)
    if code is None:
        code = code_piece.decode("latin-1").rstrip()
        if len(codes_seen) < PART_LIMIT:
            codes_seen[code_piece] = code
    if not code.strip():
        return None
    year = YEAR_OF.get(year_piece)
    grade = _GRADES.get(grade_piece, -1)
    if year is None or grade == -1:
        raise Bad
    codes = pairs_seen.get(pair)
    if codes is None:
        codes = _irregularities(pair)
        if len(pairs_seen) < PART_LIMIT:
            pairs_seen[pair] = codes
    made = _new(_EXAM)
    made.code = code
    made.admin_year = year
    made.score = grade
    made.irregularity_codes = codes
    made.suppression_flag = _CHAR[flag[0]]
    made.class_section = _CHAR[section[0]]
    made.__class__ = ExamScore
    return cast(ExamScore, made)


_SCHOOL_AT = tuple(
    _SCHOOL[key]
    for key in ("code", "contact", "name", "street_1", "street_2", "street_3", "state", "zip")
)


def _organization(text: str, code: str) -> Organization:
    _, contact, name, street_1, street_2, street_3, state, zip_code = _SCHOOL_AT
    address = _new(_ADDRESS)
    address.street_1 = text[street_1].rstrip()
    address.street_2 = text[street_2].rstrip()
    address.street_3 = text[street_3].rstrip()
    address.state = text[state].rstrip()
    address.zip_code = text[zip_code].rstrip()
    address.country_code = ""
    address.__class__ = Address
    made = _new(_ORGANIZATION)
    made.code = code
    made.name = text[name].rstrip()
    made.contact_name = text[contact].rstrip()
    made.address = address
    made.__class__ = Organization
    return cast(Organization, made)


def high_school(block: bytes) -> Organization:
    """The high-school block (text only: it never fails)."""
    text = block.decode("latin-1")
    return _organization(text, text[_SCHOOL_AT[0]].rstrip())


def college(block: bytes) -> tuple[str, Organization]:
    """The DI code and the college block, whose ``code`` is the DI code too."""
    text = block.decode("latin-1")
    di_code = college_code_to_di(text[_SCHOOL_AT[0]].rstrip())
    return di_code, _organization(text, di_code)


def previous(block: bytes) -> tuple[PreviousSchool, ...]:
    """Previous schools; a pair is skipped only when year and code are both blank."""
    text = block.decode("latin-1")
    found: list[PreviousSchool] = []
    for year_at, code_at in _PREVIOUS_AT:
        year_text, code = text[year_at].rstrip(), text[code_at].rstrip()
        if not (year_text.strip() or code.strip()):
            continue
        year = None
        if year_text.strip():
            year = YEAR_OF.get(block[year_at])
            if year is None:
                raise Bad
        made = _new(_PREVIOUS)
        made.year = year
        made.code = code
        made.__class__ = PreviousSchool
        found.append(made)
    return tuple(found)


def codes(block: bytes) -> tuple[str, ...]:
    """The six one-to-three-column codes of the student (education level...)."""
    text = block.decode("latin-1")
    return tuple(text[at].rstrip() for at in _CODES_AT)


_AWARDS_AT = tuple(
    (_within("awards", f"award_type_{n}"), _within("awards", f"award_year_{n}"))
    for n in range(1, 7)
)


def awards(block: bytes) -> tuple[Award, ...]:
    """Awards, most recent first; pairs with a blank type are skipped."""
    text = block.decode("latin-1")
    found: list[Award] = []
    for type_at, year_at in _AWARDS_AT:
        code = text[type_at].rstrip()
        if not code.strip():
            continue
        year = YEAR_OF.get(block[year_at])
        if year is None:
            raise Bad
        made = _new(_AWARD)
        made.code = code
        made.year = year
        made.__class__ = Award
        found.append(made)
    return tuple(found)


#: Right-stripped length of the exam columns -> the blocks that may hold exams.
_SLICES = tuple(
    slice(EXAM_BLOCK_WIDTH * n, EXAM_BLOCK_WIDTH * (n + 1)) for n in range(EXAM_BLOCK_COUNT)
)


def _first(count: int) -> Callable[[bytes], tuple[bytes, ...]]:
    if count == 0:
        return lambda exams: ()
    if count == 1:
        only = _SLICES[0]
        return lambda exams: (exams[only],)
    return itemgetter(*_SLICES[:count])


#: Blocks before the first all-blank one -> a function giving them as a tuple.
TAKE_BLOCKS = tuple(_first(count) for count in range(EXAM_BLOCK_COUNT + 1))


def blank_exams_at(exams: bytes, blank: bytes = b" " * EXAM_BLOCK_WIDTH) -> int:
    """How many blocks come before the first all-blank one (30 when none is blank)."""
    at = exams.find(blank)
    while at > 0 and at % EXAM_BLOCK_WIDTH:
        at = exams.find(blank, at + EXAM_BLOCK_WIDTH - at % EXAM_BLOCK_WIDTH)
    return at // EXAM_BLOCK_WIDTH if at >= 0 else EXAM_BLOCK_COUNT


Rows = Iterator[tuple[bytes, ...]]
#: The hot loop's view of the pieces, checked against :data:`PIECES` at import.
LOOP_ORDER = (
    "ap_id", "last_name", "first_name", "middle_initial", "street_address_1",
    "street_address_2", "street_address_3", "state", "zip_code", "country_code", "gender",
    "birth_date", "codes", "previous", "awards", "high_school", "college", "exams",
    "released", "updated", "reported", "service_type", "service_code", "order_key", "race",
    "derived",
)  # fmt: skip
guard(tuple(name for name, _, _ in PIECES) == LOOP_ORDER, "the hot loop reads the pieces in order")
TWINS = (_ADDRESS, _STUDENT, _REPORT)
#: A framed record's pieces, and a uniform block's by its stride (950 + LF or CRLF).
RECORD = row_struct(0)
BY_STRIDE = {LAYOUT_950.length + 1: row_struct(1), LAYOUT_950.length + 2: row_struct(2)}
