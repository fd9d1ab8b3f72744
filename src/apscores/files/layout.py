"""The fixed-width TXT layouts, declared once as data and checked at import.

A :class:`Layout` is a tuple of :class:`Field`: name, 1-based start, width, :class:`FieldKind`
(how its text becomes a value), the model attribute it fills (``student.last_name``,
``exams[3].score``: the one mapping between the file and the records) and whether every
record carries it. The readers, the writers, the CSV column map and the columnar path are
built from these tables; nothing else in the package knows a byte offset or which field
fills which attribute. :func:`check_layout` runs at import: fields must be contiguous,
never overlap, add up to the record length, and name attributes the records really have.

Positions come from ``docs/reference/file-layout.md`` and its ``layout-950.csv`` (that page's
sources PY950 and PSFIX agree on 1-900; 901-950 rest on PY950 alone). The May 2024 layout
change is unknown (§6 of that page): if a real file shows moved fields, add a new ``Layout``
here and select it in :func:`layout_for_length`.

Framing (``docs/reference/file-layout.md`` §1.6, decided here once). After its line ending is
removed, a line is a complete record when it has the layout's length, or is shorter but still
reaches :attr:`Layout.min_length`: the end of the last *required* field (*Date of this report*,
column 886; College Board's 2023 layout marks it and *Date of last student update* as not
optional). Such a line had its trailing blanks trimmed and is padded back. A shorter line is a
truncated record (a cut download or a damaged copy); :meth:`Layout.first_cut_field` names the
first field it does not reach."""

from __future__ import annotations

import enum
import functools
import re
import typing
from collections.abc import Collection, Iterable
from typing import Any

import attrs

from apscores import models
from apscores._guard import guard
from apscores._public import deprecated_alias

__all__ = [
    "EXAM_BLOCK_COUNT",
    "EXAM_BLOCK_FIELDS",
    "EXAM_BLOCK_WIDTH",
    "LAYOUTS",
    "LAYOUT_910",
    "LAYOUT_950",
    "REQUIRED_FIELDS",
    "Field",
    "FieldKind",
    "Layout",
    "attribute_type",
    "build_layout",
    "check_layout",
    "chosen",
    "exam_block_start",
    "exams_in",
    "layout_for_length",
]


class FieldKind(enum.Enum):
    """How a field's text becomes a value (and back)."""

    TEXT = "text"  # free text, trailing blanks stripped
    CODE = "code"  # letters or digits kept as a string
    DIGITS = "digits"  # a digit code whose leading zeros matter (a spreadsheet drops them)
    YEAR = "yy"  # two-digit year, expanded by apscores.years
    DATE = "date"  # MMDDYY
    GRADE = "grade"  # one digit 1-5, or blank
    DI = "di"  # the college code 00####, the 4-digit DI code in the records
    FILLER = "filler"  # ignored, never kept


@attrs.frozen
class Field:
    """One field of a record layout.

    Attributes:
        name: The field's name (also its CSV column name in snake case).
        start: First column, 1-based as in College Board's tables.
        width: Columns.
        kind: How its text becomes a value.
        attribute: The :class:`~apscores.models.ScoreReport` attribute it fills, as a
            path (``student.address.zip_code``, ``exams[0].score``); ``""`` for fillers.
        required: Present in every record, so a line must reach the end of the last one,
            and a record where it is blank is refused (a ``ParseError`` naming it).
    """

    name: str
    start: int
    width: int
    kind: FieldKind
    attribute: str = ""
    required: bool = False

    @property
    def end(self) -> int:
        """The last column, 1-based and inclusive."""
        return self.start + self.width - 1

    @property
    def slice(self) -> slice:
        """The 0-based slice of a record's bytes that holds this field."""
        return slice(self.start - 1, self.start - 1 + self.width)

    @property
    def personal(self) -> bool:
        """A student's own details (name, address, birth date...): never in a message."""
        return self.attribute.startswith("student.")


@attrs.frozen(cache_hash=True)  # a key of the readers' per-layout caches, looked up per block
class Layout:
    """A record layout: its name, its total length and its fields in order."""

    name: str
    length: int
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        """Look a field up by name (raises ``KeyError`` naming it)."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"layout {self.name} has no field {name!r}")

    def by_attribute(self, attribute: str) -> Field:
        """The field that fills ``attribute`` (raises ``KeyError`` naming it)."""
        for candidate in self.fields:
            if candidate.attribute == attribute:
                return candidate
        raise KeyError(f"layout {self.name} has no field for {attribute!r}")

    @property
    def last_required(self) -> Field:
        """The required field that ends last (*Date of this report*); the last field of a
        layout that marks none (then only full-length lines are records)."""
        required = [f for f in self.fields if f.required]
        return max(required, key=lambda f: f.end) if required else self.fields[-1]

    @property
    def min_length(self) -> int:
        """The shortest line that is still a whole record (trailing blanks trimmed)."""
        return self.last_required.end

    def first_cut_field(self, length: int) -> Field:
        """The first field a line of ``length`` columns does not hold in full."""
        for candidate in self.fields:
            if candidate.end > length:
                return candidate
        raise ValueError(f"a line of {length} columns holds every field of layout {self.name}")


EXAM_BLOCK_COUNT = 30
EXAM_BLOCK_START = 539
EXAM_BLOCK_WIDTH = 11

T, C, D9, Y, D, G, F = (
    FieldKind.TEXT,
    FieldKind.CODE,
    FieldKind.DIGITS,
    FieldKind.YEAR,
    FieldKind.DATE,
    FieldKind.GRADE,
    FieldKind.FILLER,
)

#: The seven fields of one exam block: (name, width, kind, attribute of the exam); the
#: suffix ``_NN`` is added to the name, and ``exams[NN-1].`` to the attribute.
EXAM_BLOCK_FIELDS: tuple[tuple[str, int, FieldKind, str], ...] = (
    ("admin_year", 2, Y, "admin_year"),
    ("exam_code", 2, D9, "code"),
    ("exam_grade", 1, G, "score"),
    ("irregularity_code_1", 2, D9, "irregularity_codes[0]"),
    ("irregularity_code_2", 2, D9, "irregularity_codes[1]"),
    ("exam_suppression_flag", 1, C, "suppression_flag"),
    ("class_section_code", 1, C, "class_section"),
)

_Spec = tuple[str, int, FieldKind, str]


def _address(prefix: str, owner: str) -> tuple[_Spec, ...]:
    """The three street lines and the state of an address (ZIP widths differ by owner)."""
    return (
        (f"{prefix}street_address_1", 30, T, f"{owner}.address.street_1"),
        (f"{prefix}street_address_2", 30, T, f"{owner}.address.street_2"),
        (f"{prefix}street_address_3", 30, T, f"{owner}.address.street_3"),
        (f"{prefix}state", 2, T, f"{owner}.address.state"),
    )


_HEAD: tuple[_Spec, ...] = (
    ("ap_id", 8, C, "ap_id"),
    ("last_name", 15, T, "student.last_name"),
    ("first_name", 12, T, "student.first_name"),
    ("middle_initial", 1, T, "student.middle_initial"),
    *_address("", "student"),
    ("zip_code", 9, C, "student.address.zip_code"),
    ("country_code", 3, C, "student.address.country_code"),
    ("gender", 1, C, "student.gender"),
    ("birth_date", 6, D, "student.date_of_birth"),
    ("ssn_filler", 9, F, ""),  # SSNs before July 2018: never read, never kept
    ("education_level", 1, C, "student.education_level"),
    ("expected_college_entrance", 3, C, "student.expected_college_entrance"),
    ("ethnic_group", 1, C, "student.ethnic_group"),
    ("student_search", 1, C, "student.student_search"),
    ("best_language", 1, C, "student.best_language"),
    ("apply_sophomore_standing", 1, C, "student.applying_sophomore_standing"),
    ("filler_165", 8, F, ""),
    ("previous_ai_year_1", 2, Y, "previous_schools[0].year"),
    ("previous_ai_code_1", 6, D9, "previous_schools[0].code"),
    ("previous_ai_year_2", 2, Y, "previous_schools[1].year"),
    ("previous_ai_code_2", 6, D9, "previous_schools[1].code"),
    *(
        item
        for n in range(1, 7)
        for item in (
            (f"award_type_{n}", 2, D9, f"awards[{n - 1}].code"),
            (f"award_year_{n}", 2, Y, f"awards[{n - 1}].year"),
        )
    ),
    ("hs_ai_code", 6, D9, "high_school.code"),
    ("hs_contact_name", 30, T, "high_school.contact_name"),
    ("hs_institution_name", 30, T, "high_school.name"),
    *_address("hs_", "high_school"),
    ("hs_zip_code", 5, C, "high_school.address.zip_code"),
    ("college_code", 6, FieldKind.DI, "di_code"),
    ("college_contact_name", 30, T, "college.contact_name"),
    ("college_institution_name", 30, T, "college.name"),
    *_address("college_", "college"),
    ("college_zip_code", 5, C, "college.address.zip_code"),
)

_EXAMS: tuple[_Spec, ...] = tuple(
    (f"{name}_{block:02d}", width, kind, f"exams[{block - 1}].{attribute}")
    for block in range(1, EXAM_BLOCK_COUNT + 1)
    for name, width, kind, attribute in EXAM_BLOCK_FIELDS
)

_TRAILER: tuple[_Spec, ...] = (
    ("date_grades_released_to_college", 6, D, "date_released"),
    ("date_of_last_student_update", 6, D, "date_updated"),
    ("date_of_this_report", 6, D, "report_date"),
    ("service_type", 2, C, "service_type"),
    ("service_code", 4, C, "service_code"),
    ("order_institution_key", 8, C, "order_institution_key"),
)

_RACE_950: tuple[_Spec, ...] = (
    ("race_ethnicity_student_response", 11, C, "student.race_ethnicity_response"),
    ("filler_912", 22, F, ""),
    ("derived_aggregate_race_ethnicity", 2, C, "student.derived_aggregate_race_ethnicity"),
    ("filler_936", 15, F, ""),
)

_FILLER_910: tuple[_Spec, ...] = (("filler_901", 10, F, ""),)

#: Fields every record carries: the AP ID, and the two dates College Board's 2023 layout
#: marks "Optional: No" (docs/reference/file-layout.md §1.6). The last of them ends the
#: shortest record.
REQUIRED_FIELDS = frozenset({"ap_id", "date_of_last_student_update", "date_of_this_report"})


def build_layout(
    name: str,
    specs: Iterable[tuple[str, int, FieldKind, str]],
    *,
    required: Collection[str] = REQUIRED_FIELDS,
) -> Layout:
    """A layout from ``(name, width, kind, attribute)`` specs, laid end to end from column
    1 (the record is as long as they add up to), checked by :func:`check_layout`.

    ``required`` names the fields every record carries. This is how the built-in layouts
    are declared, and how a new one is (``docs/reading-files.md``, *A new layout*).
    """
    fields: list[Field] = []
    start = 1
    for field_name, width, kind, attribute in specs:
        fields.append(Field(field_name, start, width, kind, attribute, field_name in required))
        start += width
    layout = Layout(name, start - 1, tuple(fields))
    check_layout(layout)
    return layout


_STEP = re.compile(r"(?P<name>[a-z_0-9]+)(?:\[(?P<index>\d+)\])?")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A record class's resolved annotations (resolving them is slow: once per class)."""
    return typing.get_type_hints(cls)


def attribute_type(path: str) -> type | object:
    """The type an attribute path of :class:`~apscores.models.ScoreReport` holds.

    ``exams[2].score`` walks ``ScoreReport.exams`` (a tuple of ``ExamScore``), then
    ``ExamScore.score``. Raises ``ValueError`` for a path the records do not have.
    """
    current: object = models.ScoreReport
    for step in path.split("."):
        match = _STEP.fullmatch(step)
        if match is None or not (isinstance(current, type) and attrs.has(current)):
            raise ValueError(f"not an attribute path of ScoreReport: {path!r}")
        hints = _hints(current)
        if match["name"] not in hints:
            raise ValueError(f"{current.__name__} has no attribute {match['name']!r} ({path!r})")
        current = hints[match["name"]]
        if match["index"] is not None:  # tuple[X, ...] -> X
            arguments = typing.get_args(current)
            if typing.get_origin(current) is not tuple or not arguments:
                raise ValueError(f"{step!r} in {path!r} is not a tuple of records")
            current = arguments[0]
    return current


def check_layout(layout: Layout) -> None:
    """Refuse a layout with gaps, overlaps, duplicate names or attributes, the wrong total
    length, or an attribute path the records do not have."""
    expected_start = 1
    seen, filled = set[str](), set[str]()
    for field in layout.fields:
        if field.name in seen:
            raise ValueError(f"{layout.name}: field {field.name!r} is declared twice")
        seen.add(field.name)
        if field.width < 1:
            raise ValueError(f"{layout.name}: field {field.name!r} has width {field.width}")
        if field.start != expected_start:
            gap_or_overlap = "gap" if field.start > expected_start else "overlap"
            raise ValueError(
                f"{layout.name}: {gap_or_overlap} before field {field.name!r}: "
                f"starts at {field.start}, expected {expected_start}"
            )
        expected_start = field.end + 1
        if (field.kind is FieldKind.FILLER) != (not field.attribute):
            raise ValueError(
                f"{layout.name}: field {field.name!r}: fillers, and only fillers, fill no attribute"
            )
        if field.attribute:
            if field.attribute in filled:
                raise ValueError(f"{layout.name}: two fields fill {field.attribute!r}")
            filled.add(field.attribute)
            attribute_type(field.attribute)
    if expected_start - 1 != layout.length:
        raise ValueError(
            f"{layout.name}: fields cover {expected_start - 1} columns, "
            f"layout length is {layout.length}"
        )


LAYOUT_950 = build_layout("950", _HEAD + _EXAMS + _TRAILER + _RACE_950)
"""The college TXT record since July 1, 2016."""

LAYOUT_910 = build_layout("910", _HEAD + _EXAMS + _TRAILER + _FILLER_910)
"""The college TXT record before July 2016 (1-900 identical, then filler)."""

LAYOUTS: dict[int, Layout] = {layout.length: layout for layout in (LAYOUT_950, LAYOUT_910)}


def exam_block_start(block: int) -> int:
    """1-based first column of exam block ``block`` (1..30)."""
    return EXAM_BLOCK_START + EXAM_BLOCK_WIDTH * (block - 1)


def exams_in(record: bytes, layout: Layout = LAYOUT_950) -> int:
    """How many exams a framed record holds: the exam blocks whose exam code is not blank
    (``docs/reference/file-layout.md`` §1.3). The one exam rule: the readers, the check and
    the columnar path all skip a block with a blank code, wherever it is."""
    first = layout.field("exam_code_01").start - 1
    codes = (first + EXAM_BLOCK_WIDTH * block for block in range(EXAM_BLOCK_COUNT))
    return sum(bool(record[at : at + 2].decode("latin-1").strip()) for at in codes)


def chosen(layout: Layout | None) -> Layout:
    """The layout a reader, writer or check works with: ``layout``, else the default
    (the 950 layout; its records of 910 columns are the 910 layout's,
    :func:`layout_for_length`). The one place the default is named."""
    return LAYOUT_950 if layout is None else layout


def layout_for_length(length: int, layout: Layout | None = None) -> Layout:
    """Choose the layout for a record of ``length`` bytes (line ending removed).

    A ``layout`` given (other than the default) reads every record. Under the default,
    exactly 910 bytes is the pre-2016 layout, and anything else the 950 layout: a line
    whose trailing blanks were stripped reads the same under either, because the columns
    they differ in (901-950) are then blank.
    """
    if chosen(layout) != LAYOUT_950:
        return chosen(layout)
    return LAYOUT_910 if length == LAYOUT_910.length else LAYOUT_950


guard(
    LAYOUT_950.field("admin_year_01").start == exam_block_start(1),
    "the first exam block starts where exam_block_start(1) says",
)
guard(
    LAYOUT_950.field("class_section_code_30").end == exam_block_start(31) - 1,
    "the thirty exam blocks end where exam_block_start(31) says",
)
guard(
    LAYOUT_950.field("date_grades_released_to_college").start == 869,
    "the trailer starts at column 869",
)
guard(
    LAYOUT_950.field("race_ethnicity_student_response").start == 901,
    "the race fields start at column 901",
)
guard(  # Date of this report, 881-886
    LAYOUT_950.min_length == LAYOUT_910.min_length == 886,
    "the shortest complete record ends at column 886 in both layouts",
)
guard(
    LAYOUT_950.field("exam_code_02").start - LAYOUT_950.field("exam_code_01").start
    == EXAM_BLOCK_WIDTH,
    "exam codes are an exam block apart (exams_in reads them so)",
)
guard(LAYOUT_950.field("exam_code_01").width == 2, "an exam code is two columns")


#: ``Kind`` was this module's name for :class:`FieldKind` (one name, one meaning: a field
#: kind is not a download kind or a column kind); it works for a release, with a warning.
__getattr__ = deprecated_alias(__name__, {"Kind": (__name__, "FieldKind")})
