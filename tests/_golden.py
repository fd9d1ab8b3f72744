"""Golden fixtures built from the public layout table, independent of the package.

``txt_line`` places each value at the columns that ``tests/data/layout-950.csv`` (a copy of
the reference table, file-layout.md §1) gives, not at positions computed by ``LAYOUT_950``;
``k12_csv`` lays values out under the K-12 244-column header (file-layout.md §2.2). The
synthetic people here are invented. ``reports()`` is a hypothesis strategy for score
reports the files can hold.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from hypothesis import strategies as st

from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)

EXAM_STEMS = (
    "admin_year",
    "exam_code",
    "exam_grade",
    "irregularity_code_1",
    "irregularity_code_2",
    "exam_suppression_flag",
    "class_section_code",
)


def exam(
    block: int,
    year: str,
    code: str,
    grade: str = "",
    irregularity_1: str = "",
    irregularity_2: str = "",
    suppression: str = "",
    section: str = "",
) -> dict[str, str]:
    """The seven fields of exam block ``block`` as layout field names -> text."""
    texts = (year, code, grade, irregularity_1, irregularity_2, suppression, section)
    return {f"{stem}_{block:02d}": text for stem, text in zip(EXAM_STEMS, texts, strict=True)}


PUBLIC_LAYOUT = Path(__file__).with_name("data") / "layout-950.csv"
# Our names for the two fields the public table spells otherwise.
PUBLIC_NAMES = {
    "apply_soph_standing": "apply_sophomore_standing",
    "ethnic_group_filler": "ethnic_group",
}


def public_columns() -> dict[str, tuple[int, int]]:
    """Field name -> (first, last) column, 1-based and inclusive, from the public table."""
    with PUBLIC_LAYOUT.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        PUBLIC_NAMES.get(row["field"], row["field"]): (int(row["start"]), int(row["end"]))
        for row in rows
    }


COLUMNS = public_columns()


def txt_line(
    values: Mapping[str, str],
    *,
    width: int = 950,
    strip: bool = False,
    newline: bytes = b"\n",
) -> bytes:
    """One fixed-width record: each value at its public columns, encoded as Latin-1.

    ``width=910`` gives the older 910-column record: the 950 record's first 910 columns
    (its last 40 columns only hold the race fields and fillers added later).
    """
    line = [" "] * 950
    for name, value in values.items():
        first, last = COLUMNS[name]
        assert len(value) <= last - first + 1, (name, value)
        line[first - 1 : first - 1 + len(value)] = value
    data = "".join(line)[:width].encode("latin-1")
    return (data.rstrip(b" ") if strip else data) + newline


ANA: dict[str, str] = {
    "ap_id": "A1B2C3D4",
    "last_name": "Muñoz",
    "first_name": "Ana",
    "middle_initial": "L",
    "street_address_1": "12 Calle Mayor",
    "street_address_2": "Apt 4",
    "street_address_3": "Springfield",
    "state": "IL",
    "zip_code": "627011234",
    "country_code": "USA",
    "gender": "F",
    "birth_date": "031506",
    "ssn_filler": "123456789",
    "education_level": "7",
    "expected_college_entrance": "F24",
    "student_search": "Y",
    "best_language": "3",
    "apply_sophomore_standing": "N",
    "previous_ai_year_1": "21",
    "previous_ai_code_1": "141234",
    "award_type_1": "02",
    "award_year_1": "24",
    "award_type_3": "13",
    "award_year_3": "23",
    "hs_ai_code": "140001",
    "hs_contact_name": "Pat Counselor",
    "hs_institution_name": "Lincoln High School",
    "hs_street_address_1": "1 School Rd",
    "hs_state": "IL",
    "hs_zip_code": "62701",
    "college_code": "001234",
    "college_contact_name": "Office of Admissions",
    "college_institution_name": "Example State University",
    "college_street_address_1": "100 College Ave",
    "college_state": "NY",
    "college_zip_code": "10001",
    **exam(1, "24", "10", "5"),
    **exam(2, "24", "65", "", "96"),
    **exam(3, "24", "XY", "3"),
    **exam(4, "21", "93", "4", "", "", "S", "A"),
    **exam(5, "19", "93", "3"),
    "date_grades_released_to_college": "070824",
    "date_of_last_student_update": "070124",
    "date_of_this_report": "070924",
    "service_type": "01",
    "service_code": "ABCD",
    "order_institution_key": "KEY00001",
    "race_ethnicity_student_response": "NYNNNNNNNYN",
    "filler_912": "ZZZ",
    "derived_aggregate_race_ethnicity": "12",
}

ANA_REPORT = ScoreReport(
    ap_id="A1B2C3D4",
    student=Student(
        last_name="Muñoz",
        first_name="Ana",
        middle_initial="L",
        date_of_birth=dt.date(2006, 3, 15),
        gender="F",
        address=Address("12 Calle Mayor", "Apt 4", "Springfield", "IL", "627011234", "USA"),
        education_level="7",
        expected_college_entrance="F24",
        student_search="Y",
        best_language="3",
        applying_sophomore_standing="N",
        race_ethnicity_response="NYNNNNNNNYN",
        derived_aggregate_race_ethnicity="12",
    ),
    di_code="1234",
    college=Organization(
        "1234",
        "Example State University",
        "Office of Admissions",
        Address("100 College Ave", "", "", "NY", "10001"),
    ),
    high_school=Organization(
        "140001",
        "Lincoln High School",
        "Pat Counselor",
        Address("1 School Rd", "", "", "IL", "62701"),
    ),
    exams=(
        ExamScore("10", 2024, 5),
        ExamScore("65", 2024, None, ("96",)),
        ExamScore("XY", 2024, 3),
        ExamScore("93", 2021, 4, (), "S", "A"),
        ExamScore("93", 2019, 3),
    ),
    awards=(Award("02", 2024), Award("13", 2023)),
    previous_schools=(PreviousSchool(2021, "141234"),),
    date_released=dt.date(2024, 7, 8),
    date_updated=dt.date(2024, 7, 1),
    report_date=dt.date(2024, 7, 9),
    service_type="01",
    service_code="ABCD",
    order_institution_key="KEY00001",
)

BEN: dict[str, str] = {
    "ap_id": "00000042",
    "last_name": "Okafor",
    "first_name": "Ben",
    "college_code": "001234",
    "date_of_last_student_update": "070124",
    "date_of_this_report": "070924",
}

BEN_REPORT = ScoreReport(
    ap_id="00000042",
    student=Student(last_name="Okafor", first_name="Ben"),
    di_code="1234",
    college=Organization(code="1234"),
    date_updated=dt.date(2024, 7, 1),
    report_date=dt.date(2024, 7, 9),
)

#: Thirty exams, one per block: codes cycle through a few, years 2000-2029.
ALL_CODES = ("07", "20", "25", "36", "66", "90")
CARLA: dict[str, str] = {
    "ap_id": "C0000030",
    "last_name": "Lindqvist",
    "first_name": "Carla",
    "college_code": "005678",
    "date_of_last_student_update": "063024",
    "date_of_this_report": "070924",
    **{
        key: value
        for block in range(1, 31)
        for key, value in exam(
            block, f"{block - 1:02d}", ALL_CODES[block % 6], str(block % 5 + 1)
        ).items()
    },
}
CARLA_EXAMS = tuple(
    ExamScore(ALL_CODES[block % 6], 2000 + block - 1, block % 5 + 1) for block in range(1, 31)
)

#: K-12 2020+ CSV header (244 columns) as (label, layout field or "" for columns we ignore).
K12_HEADER: tuple[tuple[str, str], ...] = (
    ("AP Number / AP ID", "ap_id"),
    ("Last Name", "last_name"),
    ("First Name", "first_name"),
    ("Middle Initial", "middle_initial"),
    ("Student Street Address 1", "street_address_1"),
    ("Student Street Address 2", "street_address_2"),
    ("Student Street Address 3", "street_address_3"),
    ("Student State", "state"),
    ("Student Zip Code", "zip_code"),
    ("Student Province", ""),
    ("Student International Postal Code", ""),
    ("Student Country Code", "country_code"),
    ("Gender", "gender"),
    ("Date of Birth", "birth_date"),
    ("Filler", ""),
    ("School ID", ""),
    ("Grade Level", "education_level"),
    ("Filler", ""),
    ("Ethnic Group 2015 and Prior", "ethnic_group"),
    ("Filler", ""),
    ("Best Language", "best_language"),
    ("Previous AI Year 1", "previous_ai_year_1"),
    ("Previous AI Code 1", "previous_ai_code_1"),
    ("Previous AI Year 2", "previous_ai_year_2"),
    ("Previous AI Code 2", "previous_ai_code_2"),
    *(
        pair
        for n in range(1, 7)
        for pair in ((f"Award Type {n}", f"award_type_{n}"), (f"Award Year {n}", f"award_year_{n}"))
    ),
    ("AI Code", "hs_ai_code"),
    ("AI Institution Name", "hs_institution_name"),
    ("AI Street Address 1", "hs_street_address_1"),
    ("AI Street Address 2", "hs_street_address_2"),
    ("AI Street Address 3", "hs_street_address_3"),
    ("AI State", "hs_state"),
    ("AI Zip Code", "hs_zip_code"),
    ("AI Province", ""),
    ("AI International Postal Code", ""),
    ("AI Country Code", ""),
    ("College Code", "college_code"),
    ("Contact Name", "college_contact_name"),
    ("DI Institution Name", "college_institution_name"),
    ("DI Street Address 1", "college_street_address_1"),
    ("DI Street Address 2", "college_street_address_2"),
    ("DI Street Address 3", "college_street_address_3"),
    ("DI State", "college_state"),
    ("DI Zip Code", "college_zip_code"),
    ("DI Province", ""),
    ("DI International Postal Code", ""),
    ("DI Country Code", ""),
    *(
        (f"{label} {block:02d}", f"{stem}_{block:02d}")
        for block in range(1, 31)
        for label, stem in (
            ("Admin Year", "admin_year"),
            ("Exam Code", "exam_code"),
            ("Exam Grade", "exam_grade"),
            ("Irregularity Code #1", "irregularity_code_1"),
            ("Irregularity Code #2", "irregularity_code_2"),
            ("Class Section Code", "class_section_code"),
        )
    ),
    ("Date Grades Released to College", "date_grades_released_to_college"),
    ("Date of Last Student Update", "date_of_last_student_update"),
    ("Date of this report", "date_of_this_report"),
    ("Student Identifier", ""),
    ("Race Ethnicity Student Response 2016 and Forward", "race_ethnicity_student_response"),
    ("Derived Aggregate Race Ethnicity 2016 and Forward", "derived_aggregate_race_ethnicity"),
)
assert len(K12_HEADER) == 244

#: The TXT-only fields, which a K-12 file lacks; golden CSVs add them as extra columns.
TXT_ONLY: tuple[tuple[str, str], ...] = (
    ("High School Contact Name", "hs_contact_name"),
    ("Expected College Entrance", "expected_college_entrance"),
    ("Student Search Indicator", "student_search"),
    ("Applying for Sophomore Standing", "apply_sophomore_standing"),
    ("Service Type", "service_type"),
    ("Service Code", "service_code"),
    ("Order Institution Key", "order_institution_key"),
    *((f"Exam Suppression Flag {n:02d}", f"exam_suppression_flag_{n:02d}") for n in range(1, 31)),
)


def k12_csv(
    people: Iterable[Mapping[str, str]],
    *,
    header: tuple[tuple[str, str], ...] = K12_HEADER + TXT_ONLY,
    filler: str = "x",
) -> str:
    """A quoted CSV with ``header``; ignored columns get ``filler`` to prove they are ignored."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(label for label, _ in header)
    for person in people:
        writer.writerow(person.get(field, "") if field else filler for _, field in header)
    return out.getvalue()


# --- hypothesis -------------------------------------------------------------------------

_LATIN1 = st.characters(min_codepoint=32, max_codepoint=255, exclude_categories=["Cc"])


def text(width: int) -> st.SearchStrategy[str]:
    """Latin-1 text that fits ``width`` columns and survives right-stripping."""
    return st.text(_LATIN1, max_size=width).map(str.rstrip)


def digits(width: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=width, max_size=width)


_YEARS = st.integers(1950, 2049)
_DATES = st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31))
_EXAM_CODES = st.sampled_from(("07", "10", "14", "65", "93", "XY", "99", "A7"))
_IRREGULARITY = st.sampled_from(("01", "04", "20", "96", "98", "ZZ"))


def addresses(zip_width: int, *, country: bool) -> st.SearchStrategy[Address]:
    return st.builds(
        Address,
        street_1=text(30),
        street_2=text(30),
        street_3=text(30),
        state=text(2),
        zip_code=text(zip_width),
        country_code=text(3) if country else st.just(""),
    )


exams = st.builds(
    ExamScore,
    code=_EXAM_CODES,
    admin_year=_YEARS,
    score=st.none() | st.integers(1, 5),
    irregularity_codes=st.lists(_IRREGULARITY, max_size=2).map(tuple),
    suppression_flag=text(1),
    class_section=text(1),
)

students = st.builds(
    Student,
    last_name=text(15),
    first_name=text(12),
    middle_initial=text(1),
    date_of_birth=st.none() | _DATES,
    gender=text(1),
    address=addresses(9, country=True),
    education_level=text(1),
    expected_college_entrance=text(3),
    ethnic_group=text(1),
    student_search=text(1),
    best_language=text(1),
    applying_sophomore_standing=text(1),
    race_ethnicity_response=text(11),
    derived_aggregate_race_ethnicity=text(2),
)


@st.composite
def reports(draw: st.DrawFn) -> ScoreReport:
    """Score reports that both file formats can hold exactly."""
    di_code = draw(st.just("") | digits(4))
    return ScoreReport(
        ap_id=draw(text(8).filter(bool)),
        student=draw(students),
        di_code=di_code,
        college=Organization(
            code=di_code,
            name=draw(text(30)),
            contact_name=draw(text(30)),
            address=draw(addresses(5, country=False)),
        ),
        high_school=Organization(
            code=draw(st.just("") | digits(6)),
            name=draw(text(30)),
            contact_name=draw(text(30)),
            address=draw(addresses(5, country=False)),
        ),
        exams=tuple(draw(st.lists(exams, max_size=30))),
        awards=tuple(draw(st.lists(st.builds(Award, code=digits(2), year=_YEARS), max_size=6))),
        previous_schools=tuple(
            draw(
                st.lists(
                    st.builds(PreviousSchool, year=st.none() | _YEARS, code=digits(6)),
                    max_size=2,
                )
            )
        ),
        date_released=draw(st.none() | _DATES),
        date_updated=draw(_DATES),  # in every record of a file
        report_date=draw(_DATES),
        service_type=draw(text(2)),
        service_code=draw(text(4)),
        order_institution_key=draw(text(8)),
    )
