"""Layout field texts -> records: the reference reading, shared by both formats.

Both file formats are reduced to the same thing: a mapping from the layout's field names
(:mod:`apscores.files.layout`) to right-stripped text. :func:`build_report` turns such a
mapping into a :class:`~apscores.models.ScoreReport`, checking every value and raising a
precise :class:`~apscores.errors.ParseError` (line, field, raw text). The fast readers
build the same records their own way and come here only to explain a bad line, so both
must agree (the tests check it on generated and damaged files).

Decisions that are ours, not College Board's (see ``docs/reference/file-layout.md`` §1.6, §4.6):

- Exam blocks end at the first block whose exam code is blank; later blocks are ignored.
- Award pairs with a blank type are skipped; a type without a year is an error.
- Previous-school pairs are skipped only when both year and code are blank.
- The college code ``00####`` becomes the 4-digit DI code; any other shape is kept as is
  (stripped), so nothing is lost and the writer can put it back.

College Board's: a field the layout marks ``required`` (the AP ID, *Date of last student
update*, *Date of this report*: "Optional: No" in the 2023 layout) is never blank
(:func:`blank_required`); it is checked before any other value of the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypeAlias

from apscores.errors import ParseError
from apscores.files._values import college_code_to_di, parse_date, parse_score, parse_year
from apscores.files.layout import EXAM_BLOCK_COUNT, LAYOUT_950
from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)

__all__ = [
    "AWARD_SLOTS",
    "PREVIOUS_SCHOOL_SLOTS",
    "REQUIRED",
    "TRAILER_DATES",
    "Trailer",
    "blank_required",
    "build_awards",
    "build_college",
    "build_exam",
    "build_high_school",
    "build_previous",
    "build_report",
    "build_trailer",
]

AWARD_SLOTS = 6
PREVIOUS_SCHOOL_SLOTS = 2

#: Released, updated and report dates, then service type, service code, order key.
Trailer: TypeAlias = tuple[dt.date | None, dt.date | None, dt.date | None, str, str, str]

#: The trailer's three dates, in file order.
TRAILER_DATES = (
    "date_grades_released_to_college",
    "date_of_last_student_update",
    "date_of_this_report",
)


#: The fields every record carries, in file order (``required`` in the layout).
REQUIRED = tuple(field.name for field in LAYOUT_950.fields if field.required)


def blank_required(name: str, line: int | None, raw: str = "") -> ParseError:
    """The error for a record whose required field ``name`` is blank."""
    if name == "ap_id":
        return ParseError("the AP ID is blank", line=line, field=name, raw=raw)
    label = name.replace("_", " ").capitalize()  # "Date of this report"
    return ParseError(
        f"the {label} is blank: every record carries it", line=line, field=name, raw=raw
    )


def _address(values: Mapping[str, str], prefix: str, *, country: str = "") -> Address:
    get = values.get
    return Address(
        street_1=get(f"{prefix}street_address_1", ""),
        street_2=get(f"{prefix}street_address_2", ""),
        street_3=get(f"{prefix}street_address_3", ""),
        state=get(f"{prefix}state", ""),
        zip_code=get(f"{prefix}zip_code", ""),
        country_code=country,
    )


def build_exam(values: Mapping[str, str], block: int, line: int | None, lenient: bool) -> ExamScore:
    """Exam block ``block`` (1-based); the caller has checked its code is not blank."""
    get = values.get
    suffix = f"_{block:02d}"
    year_field = "admin_year" + suffix
    year = parse_year(year_field, get(year_field, ""), line, lenient)
    if year is None:
        raise ParseError(
            "the admin year is blank but the exam code is not", line=line, field=year_field, raw=""
        )
    codes = (get("irregularity_code_1" + suffix, ""), get("irregularity_code_2" + suffix, ""))
    return ExamScore(
        code=get("exam_code" + suffix, ""),
        admin_year=year,
        score=parse_score("exam_grade" + suffix, get("exam_grade" + suffix, ""), line),
        irregularity_codes=tuple(code for code in codes if code),
        suppression_flag=get("exam_suppression_flag" + suffix, ""),
        class_section=get("class_section_code" + suffix, ""),
    )


def build_previous(
    values: Mapping[str, str], line: int | None, lenient: bool
) -> tuple[PreviousSchool, ...]:
    """Previous high schools; a pair is skipped only when year and code are both blank."""
    get = values.get
    previous: list[PreviousSchool] = []
    for n in range(1, PREVIOUS_SCHOOL_SLOTS + 1):
        year_text, code = get(f"previous_ai_year_{n}", ""), get(f"previous_ai_code_{n}", "")
        if year_text.strip() or code.strip():
            year = parse_year(f"previous_ai_year_{n}", year_text, line, lenient)
            previous.append(PreviousSchool(year=year, code=code))
    return tuple(previous)


def build_awards(values: Mapping[str, str], line: int | None, lenient: bool) -> tuple[Award, ...]:
    """Awards, most recent first; pairs with a blank type are skipped."""
    get = values.get
    awards: list[Award] = []
    for n in range(1, AWARD_SLOTS + 1):
        award_type = get(f"award_type_{n}", "")
        if not award_type.strip():
            continue
        year_field = f"award_year_{n}"
        year = parse_year(year_field, get(year_field, ""), line, lenient)
        if year is None:
            raise ParseError("an award type without a year", line=line, field=year_field, raw="")
        awards.append(Award(code=award_type, year=year))
    return tuple(awards)


def build_high_school(values: Mapping[str, str]) -> Organization:
    """The high school (AI) block; text only, never fails."""
    get = values.get
    return Organization(
        code=get("hs_ai_code", ""),
        name=get("hs_institution_name", ""),
        contact_name=get("hs_contact_name", ""),
        address=_address(values, "hs_"),
    )


def build_college(values: Mapping[str, str], lenient: bool) -> tuple[str, Organization]:
    """The DI code and the college block (whose ``code`` is the DI code too)."""
    get = values.get
    di_code = college_code_to_di(get("college_code", ""), lenient=lenient)
    college = Organization(
        code=di_code,
        name=get("college_institution_name", ""),
        contact_name=get("college_contact_name", ""),
        address=_address(values, "college_"),
    )
    return di_code, college


def build_trailer(values: Mapping[str, str], line: int | None, lenient: bool) -> Trailer:
    """The three trailer dates and the three service fields, in file order."""
    get = values.get
    return (
        parse_date(TRAILER_DATES[0], get(TRAILER_DATES[0], ""), line, lenient),
        parse_date(TRAILER_DATES[1], get(TRAILER_DATES[1], ""), line, lenient),
        parse_date(TRAILER_DATES[2], get(TRAILER_DATES[2], ""), line, lenient),
        get("service_type", ""),
        get("service_code", ""),
        get("order_institution_key", ""),
    )


def build_report(values: Mapping[str, str], *, line: int | None, lenient: bool) -> ScoreReport:
    """Check and convert one record's field texts (trailing blanks already stripped)."""
    get = values.get
    for name in REQUIRED:  # the AP ID first, then the two dates
        text = get(name, "")
        if not text.strip():
            raise blank_required(name, line, text)
    ap_id = get("ap_id", "")
    exams: list[ExamScore] = []
    for block in range(1, EXAM_BLOCK_COUNT + 1):
        if not get(f"exam_code_{block:02d}", "").strip():
            break  # the first blank block ends the exams (docs/reference/file-layout.md §1.3)
        exams.append(build_exam(values, block, line, lenient))
    di_code, college = build_college(values, lenient)
    released, updated, reported, service_type, service_code, order_key = build_trailer(
        values, line, lenient
    )
    student = Student(
        last_name=get("last_name", ""),
        first_name=get("first_name", ""),
        middle_initial=get("middle_initial", ""),
        date_of_birth=parse_date("birth_date", get("birth_date", ""), line, lenient),
        gender=get("gender", ""),
        address=_address(values, "", country=get("country_code", "")),
        education_level=get("education_level", ""),
        expected_college_entrance=get("expected_college_entrance", ""),
        ethnic_group=get("ethnic_group", ""),
        student_search=get("student_search", ""),
        best_language=get("best_language", ""),
        applying_sophomore_standing=get("apply_sophomore_standing", ""),
        race_ethnicity_response=get("race_ethnicity_student_response", ""),
        derived_aggregate_race_ethnicity=get("derived_aggregate_race_ethnicity", ""),
    )
    return ScoreReport(
        ap_id=ap_id,
        student=student,
        di_code=di_code,
        college=college,
        high_school=build_high_school(values),
        exams=tuple(exams),
        awards=build_awards(values, line, lenient),
        previous_schools=build_previous(values, line, lenient),
        date_released=released,
        date_updated=updated,
        report_date=reported,
        service_type=service_type,
        service_code=service_code,
        order_institution_key=order_key,
    )
