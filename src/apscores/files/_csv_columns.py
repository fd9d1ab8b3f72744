"""CSV columns by header name: the alias table, and which columns a header holds.

No source gives the college CSV header, so columns are matched by name through one alias
table (``docs/reference/file-layout.md`` §2.4), never by position. A header is normalised
before matching (case folded; ``#``, ``.``, ``/``, spaces, underscores and all other
punctuation dropped), so ``Irregularity Code #1 01``, ``Irregularity Code .1 01`` and
``irregularity_code_1_01`` are the same column. The table holds the K-12 2020+ headers, the
pre-2020 labels (``AP Number``, ``Sex``, ``Education Level``...), the physical names of
source PSFIX (``CONTACT NAME (HIGH SCHOOL)``...; source ids as in that page's *Sources*
table), snake_case names (the layout's field names and the TEAMSchools model's), and names
for the TXT-only fields. Exam columns are recognised by name plus a two-digit suffix
``01``-``30``. Two columns both called ``Institution Name`` are the high school, then the
college. Unknown columns are ignored; the first of two columns with the same meaning wins.
PSFIX's student address names (numbered 0-2) are left out: they collide with the K-12 names
(numbered 1-3). A header naming none of the known columns is
:class:`~apscores.errors.UnknownFormatError`; one naming some but not the required ones
(the AP ID, the first exam group, *Date of last student update* and *Date of this report*)
is :class:`~apscores.errors.MissingColumnsError`.
"""

from __future__ import annotations

import csv
import re

from apscores.errors import MissingColumnsError, UnknownFormatError
from apscores.files.layout import EXAM_BLOCK_COUNT, FieldKind, Layout, chosen

__all__ = [
    "CANONICAL_HEADERS",
    "WRITTEN_FIELDS",
    "delimiter",
    "header_cells",
    "looks_like_header",
    "map_columns",
    "names_score_columns",
    "normalise_header",
]

_DROP = re.compile(r"[^0-9a-z]+")
#: Award slots of the layout (each a type and a year).
AWARD_SLOTS = sum(f.attribute.startswith("awards[") for f in chosen(None).fields) // 2


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
        for n in range(1, AWARD_SLOTS + 1)
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

WRITTEN_FIELDS = tuple(f.name for f in chosen(None).fields if f.kind is not FieldKind.FILLER)


def _canonical(field: str) -> str:
    if field in _HEAD_LABELS:
        return _HEAD_LABELS[field][0]
    stem, block = field.rsplit("_", 1)
    return f"{_EXAM_LABELS[stem][0]} {block}"


#: The header :func:`write_csv` writes, in layout order (layout field name -> header).
CANONICAL_HEADERS: dict[str, str] = {field: _canonical(field) for field in WRITTEN_FIELDS}
#: Columns a score CSV must have: the first exam group, and the fields every record
#: carries (``required`` in the layout: the AP ID and two trailer dates), in layout order.
_REQUIRED = tuple(
    field.name
    for field in chosen(None).fields
    if field.required or field.name in ("admin_year_01", "exam_code_01", "exam_grade_01")
)


def _field_for(key: str) -> str | None:
    """The layout field a normalised header means, or None for columns we ignore."""
    field = _HEAD_ALIASES.get(key)
    if field is not None:
        return field
    stem, digits = key[:-2], key[-2:]
    if digits.isdigit() and stem in _EXAM_STEMS and 1 <= int(digits) <= EXAM_BLOCK_COUNT:
        return f"{_EXAM_STEMS[stem]}_{digits}"
    return None


def map_columns(
    header: list[str], file: str | None = None, layout: Layout | None = None
) -> dict[str, int]:
    """Layout field name -> column index.

    A ``layout`` other than the 950 one adds its own field names to the labels (a field
    the alias table does not know is read from a column named like it).

    Raises :class:`UnknownFormatError` when no column is one of a score file, and
    :class:`MissingColumnsError` when some are but required ones are missing.
    """
    columns: dict[str, int] = {}
    own = {} if layout is None else {normalise_header(f.name): f.name for f in layout.fields}
    institutions = 0
    for index, label in enumerate(header):
        key = normalise_header(label)
        if key == "institutionname":  # the K-12 PDF label, used for both schools
            field: str | None = ("hs_institution_name", "college_institution_name")[
                min(institutions, 1)
            ]
            institutions += 1
        else:
            field = _field_for(key) or own.get(key)
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
    separator = delimiter(line)
    if separator not in line:
        return None
    try:
        return next(csv.reader([line], delimiter=separator, strict=True), [])
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


def delimiter(line: str) -> str:
    return "\t" if line.count("\t") > line.count(",") else ","
