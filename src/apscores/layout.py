"""The fixed-width TXT layouts, declared once as data and checked at import.

A :class:`Layout` is a tuple of :class:`Field` (name, 1-based start, width, kind, required).
Readers and writers are built from these tables; nothing else in the package knows a byte
offset. :func:`check_layout` runs at import: fields must be contiguous, never overlap, and
add up to the record length, so a typo in a table fails loudly before any file is read.

Framing (``file-layout.md`` §1.6, decided here once). After its line ending is removed, a
line is a complete record when it has the layout's length, or is shorter but still reaches
:attr:`Layout.min_length`: the end of the last *required* field (*Date of this report*,
column 886; College Board's 2023 layout marks it and *Date of last student update* as not
optional). Such a line had its trailing blanks trimmed and is padded back. A shorter line
is a truncated record (a cut download or a damaged copy); :meth:`Layout.first_cut_field`
names the first field it does not reach.

Positions come from ``file-layout.md`` (PY950 and PSFIX agree on 1-900; 901-950 rest on
PY950 alone). The May 2024 layout change is unknown: if a real file shows moved fields,
add a new ``Layout`` here and select it in :func:`layout_for_length`.
"""

from __future__ import annotations

import enum

import attrs

__all__ = [
    "EXAM_BLOCK_COUNT",
    "EXAM_BLOCK_FIELDS",
    "LAYOUTS",
    "LAYOUT_910",
    "LAYOUT_950",
    "REQUIRED_FIELDS",
    "Field",
    "Kind",
    "Layout",
    "check_layout",
    "layout_for_length",
]


class Kind(enum.Enum):
    """How a field's bytes are interpreted."""

    TEXT = "text"  # free text, trailing blanks stripped
    CODE = "code"  # digits or letters kept as a string (leading zeros matter)
    YEAR = "yy"  # two-digit year, expanded by apscores.years
    DATE = "date"  # MMDDYY
    GRADE = "grade"  # one digit 1-5, or blank
    FILLER = "filler"  # ignored


@attrs.frozen
class Field:
    """One field: ``start`` is 1-based as in College Board's tables; ``required`` fields
    are present in every record, so a line must reach the end of the last of them."""

    name: str
    start: int
    width: int
    kind: Kind
    required: bool = False

    @property
    def end(self) -> int:
        """The last column, 1-based and inclusive."""
        return self.start + self.width - 1

    @property
    def slice(self) -> slice:
        """The 0-based slice of a record's bytes that holds this field."""
        return slice(self.start - 1, self.start - 1 + self.width)


@attrs.frozen
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

    @property
    def last_required(self) -> Field:
        """The required field that ends last (*Date of this report*); the last field of a
        layout that marks none (then only full-length lines are records)."""
        return max(
            (f for f in self.fields if f.required), key=lambda f: f.end, default=self.fields[-1]
        )

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

#: The seven fields of one exam block: (name, width, kind); the suffix ``_NN`` is added.
EXAM_BLOCK_FIELDS: tuple[tuple[str, int, Kind], ...] = (
    ("admin_year", 2, Kind.YEAR),
    ("exam_code", 2, Kind.CODE),
    ("exam_grade", 1, Kind.GRADE),
    ("irregularity_code_1", 2, Kind.CODE),
    ("irregularity_code_2", 2, Kind.CODE),
    ("exam_suppression_flag", 1, Kind.CODE),
    ("class_section_code", 1, Kind.CODE),
)

T, C, Y, D, F = Kind.TEXT, Kind.CODE, Kind.YEAR, Kind.DATE, Kind.FILLER

#: Fields every record carries: the AP ID, and the two dates College Board's 2023 layout
#: marks "Optional: No" (file-layout.md §1.6). The last of them ends the shortest record.
REQUIRED_FIELDS = frozenset({"ap_id", "date_of_last_student_update", "date_of_this_report"})

_HEAD: tuple[tuple[str, int, Kind], ...] = (
    ("ap_id", 8, C),
    ("last_name", 15, T),
    ("first_name", 12, T),
    ("middle_initial", 1, T),
    ("street_address_1", 30, T),
    ("street_address_2", 30, T),
    ("street_address_3", 30, T),
    ("state", 2, T),
    ("zip_code", 9, C),
    ("country_code", 3, C),
    ("gender", 1, C),
    ("birth_date", 6, D),
    ("ssn_filler", 9, F),  # SSNs before July 2018: never read, never kept
    ("education_level", 1, C),
    ("expected_college_entrance", 3, C),
    ("ethnic_group", 1, C),
    ("student_search", 1, C),
    ("best_language", 1, C),
    ("apply_sophomore_standing", 1, C),
    ("filler_165", 8, F),
    ("previous_ai_year_1", 2, Y),
    ("previous_ai_code_1", 6, C),
    ("previous_ai_year_2", 2, Y),
    ("previous_ai_code_2", 6, C),
    *(item for n in range(1, 7) for item in ((f"award_type_{n}", 2, C), (f"award_year_{n}", 2, Y))),
    ("hs_ai_code", 6, C),
    ("hs_contact_name", 30, T),
    ("hs_institution_name", 30, T),
    ("hs_street_address_1", 30, T),
    ("hs_street_address_2", 30, T),
    ("hs_street_address_3", 30, T),
    ("hs_state", 2, T),
    ("hs_zip_code", 5, C),
    ("college_code", 6, C),
    ("college_contact_name", 30, T),
    ("college_institution_name", 30, T),
    ("college_street_address_1", 30, T),
    ("college_street_address_2", 30, T),
    ("college_street_address_3", 30, T),
    ("college_state", 2, T),
    ("college_zip_code", 5, C),
)

_EXAMS: tuple[tuple[str, int, Kind], ...] = tuple(
    (f"{name}_{block:02d}", width, kind)
    for block in range(1, EXAM_BLOCK_COUNT + 1)
    for name, width, kind in EXAM_BLOCK_FIELDS
)

_TRAILER: tuple[tuple[str, int, Kind], ...] = (
    ("date_grades_released_to_college", 6, D),
    ("date_of_last_student_update", 6, D),
    ("date_of_this_report", 6, D),
    ("service_type", 2, C),
    ("service_code", 4, C),
    ("order_institution_key", 8, C),
)

_RACE_950: tuple[tuple[str, int, Kind], ...] = (
    ("race_ethnicity_student_response", 11, C),
    ("filler_912", 22, F),
    ("derived_aggregate_race_ethnicity", 2, C),
    ("filler_936", 15, F),
)

_FILLER_910: tuple[tuple[str, int, Kind], ...] = (("filler_901", 10, F),)


def _build(name: str, length: int, specs: tuple[tuple[str, int, Kind], ...]) -> Layout:
    """Lay fields end to end from column 1, then check the result."""
    fields: list[Field] = []
    start = 1
    for field_name, width, kind in specs:
        fields.append(Field(field_name, start, width, kind, field_name in REQUIRED_FIELDS))
        start += width
    layout = Layout(name, length, tuple(fields))
    check_layout(layout)
    return layout


def check_layout(layout: Layout) -> None:
    """Refuse a layout with gaps, overlaps, duplicate names or the wrong total length."""
    expected_start = 1
    seen: set[str] = set()
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
    if expected_start - 1 != layout.length:
        raise ValueError(
            f"{layout.name}: fields cover {expected_start - 1} columns, "
            f"layout length is {layout.length}"
        )


LAYOUT_950 = _build("950", 950, _HEAD + _EXAMS + _TRAILER + _RACE_950)
"""The college TXT record since July 1, 2016."""

LAYOUT_910 = _build("910", 910, _HEAD + _EXAMS + _TRAILER + _FILLER_910)
"""The college TXT record before July 2016 (1-900 identical, then filler)."""

LAYOUTS: dict[int, Layout] = {layout.length: layout for layout in (LAYOUT_950, LAYOUT_910)}


def exam_block_start(block: int) -> int:
    """1-based first column of exam block ``block`` (1..30)."""
    return EXAM_BLOCK_START + EXAM_BLOCK_WIDTH * (block - 1)


def layout_for_length(length: int) -> Layout:
    """Choose the layout for a record of ``length`` bytes (line ending removed).

    Exactly 910 bytes is the pre-2016 layout. Anything else is read as the 950 layout:
    a line whose trailing blanks were stripped reads the same under either, because the
    columns they differ in (901-950) are then blank.
    """
    return LAYOUT_910 if length == LAYOUT_910.length else LAYOUT_950


assert LAYOUT_950.field("admin_year_01").start == exam_block_start(1)
assert LAYOUT_950.field("class_section_code_30").end == exam_block_start(31) - 1
assert LAYOUT_950.field("date_grades_released_to_college").start == 869
assert LAYOUT_950.field("race_ethnicity_student_response").start == 901
assert LAYOUT_950.min_length == LAYOUT_910.min_length == 886  # Date of this report, 881-886
