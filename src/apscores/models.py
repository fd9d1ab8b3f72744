"""The typed, immutable records a score file turns into.

Every record is a frozen, slotted ``attrs`` class, so records hash, compare by value and can
be shared between threads. Codes stay strings (leading zeros matter); years are four-digit
ints (see :mod:`apscores.years`); dates are :class:`datetime.date` or ``None`` when blank.
Their wire shape (:func:`plain_value`) is used by :mod:`apscores.serialize`.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import attrs

from apscores import catalog

__all__ = [
    "RACE_ETHNICITY_CATEGORIES",
    "Address",
    "Award",
    "ExamScore",
    "Organization",
    "PreviousSchool",
    "ScoreReport",
    "Student",
    "plain_value",
]

#: The 11 Y/N positions of the race/ethnicity response, in file order.
RACE_ETHNICITY_CATEGORIES: tuple[str, ...] = (
    "Cuban",
    "Mexican",
    "Puerto Rican",
    "Other Hispanic or Latino",
    "Non-Hispanic or Latino",
    "American Indian or Alaska Native",
    "Asian",
    "Black or African American",
    "Native Hawaiian or Other Pacific Islander",
    "White",
    "Other",
)


def plain_value(instance: object, field: object, value: Any) -> Any:
    """The wire shape of one value: a date as its ISO text, a tuple as a list."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


@attrs.frozen
class Address:
    """A postal address as the file gives it: three free lines, state, ZIP, country.

    Attributes:
        street_1: The first address line (right-stripped, as every text field).
        street_2: The second line (an apartment, a suite), often blank.
        street_3: The third line; US files put the city here.
        state: The two-letter state or territory code.
        zip_code: The ZIP code as given: up to 9 digits for students (ZIP+4), 5 for schools.
        country_code: The country code the file gives (``"USA"``...), blank for schools.
    """

    # A student's street and ZIP stay out of repr (logs, tracebacks); the values are here.
    street_1: str = attrs.field(default="", repr=False)
    street_2: str = attrs.field(default="", repr=False)
    street_3: str = attrs.field(default="", repr=False)
    state: str = ""
    zip_code: str = attrs.field(default="", repr=False)
    country_code: str = ""


@attrs.frozen
class Organization:
    """A school or college: its code (AI code, or the 4-digit DI code), name and contact.

    Attributes:
        code: The high school's 6-digit AI code, or the college's DI code (as ``di_code``).
        name: The institution's name.
        contact_name: The counselor or admissions contact the file names.
        address: The institution's :class:`Address`.
    """

    code: str = ""
    name: str = ""
    contact_name: str = ""
    address: Address = Address()


@attrs.frozen
class Student:
    """The person the report is about. Codes are kept raw (the code lists vary by year).

    Attributes:
        last_name: Surname (15 columns in the TXT file, longer in CSV files).
        first_name: Given name.
        middle_initial: One letter, or blank.
        date_of_birth: The birth date, ``None`` when blank.
        gender: The code the file gives (``M``, ``F``, ``X``...).
        address: The student's mailing :class:`Address`.
        education_level: The grade code at the time of the exam.
        expected_college_entrance: Term and year the student expects to start (``F24``).
        ethnic_group: A 1-character code in files before July 2016, blank after.
        student_search: ``Y``/``N``: opted in to the Student Search Service.
        best_language: The code of the language the student knows best.
        applying_sophomore_standing: ``Y``/``N``: applying for sophomore standing.
        race_ethnicity_response: 11 ``Y``/``N`` flags (see ``RACE_ETHNICITY_CATEGORIES``).
        derived_aggregate_race_ethnicity: College Board's 2-digit aggregate code.
    """

    # Names, the birth date and the address stay out of repr, so a record that reaches a
    # log line or a traceback carries no student's identity; the values are all here.
    last_name: str = attrs.field(repr=False)
    first_name: str = attrs.field(repr=False)
    middle_initial: str = attrs.field(default="", repr=False)
    date_of_birth: dt.date | None = attrs.field(default=None, repr=False)
    gender: str = ""
    address: Address = attrs.field(default=Address(), repr=False)
    education_level: str = ""
    expected_college_entrance: str = ""
    ethnic_group: str = ""  # 1-character code in files before July 2016, blank after
    student_search: str = ""
    best_language: str = ""
    applying_sophomore_standing: str = ""
    race_ethnicity_response: str = ""  # 11 Y/N flags, see RACE_ETHNICITY_CATEGORIES
    derived_aggregate_race_ethnicity: str = ""

    @property
    def full_name(self) -> str:
        """``First M. Last``, skipping blank parts."""
        middle = f"{self.middle_initial}." if self.middle_initial else ""
        return " ".join(part for part in (self.first_name, middle, self.last_name) if part)

    @property
    def race_ethnicity(self) -> tuple[str, ...]:
        """The categories the student marked ``Y``."""
        flags = self.race_ethnicity_response
        pairs = zip(flags, RACE_ETHNICITY_CATEGORIES, strict=False)
        return tuple(name for flag, name in pairs if flag == "Y")


@attrs.frozen
class ExamScore:
    """One exam block: what was taken, when, and the score or the reason there is none.

    Attributes:
        code: The 2-digit exam code (a string: ``"07"`` is not ``"7"``); see :attr:`name`.
        admin_year: The four-digit year the exam was taken; the name depends on it.
        score: 1 to 5, or ``None`` when there is none (pending, withheld, canceled).
        irregularity_codes: Up to two 2-digit codes explaining a missing or held score.
        suppression_flag: The exam-suppression flag as the file gives it, usually blank.
        class_section: The class section code, usually blank.
    """

    code: str
    admin_year: int
    score: int | None
    irregularity_codes: tuple[str, ...] = ()
    suppression_flag: str = ""
    class_section: str = ""

    @property
    def name(self) -> str:
        """The exam's name for the year it was taken (exam 93 and the art exams differ)."""
        return catalog.exam_name(self.code, self.admin_year)

    @property
    def status(self) -> catalog.ExamStatus:
        """Scored, scored with a note, pending, canceled, withheld or unknown."""
        return catalog.exam_status(self.score, self.irregularity_codes)

    @property
    def is_known(self) -> bool:
        """False for exam codes missing from the catalog (kept, never dropped)."""
        return catalog.is_known_exam(self.code)

    def _repr_html_(self) -> str:
        """A one-row table for notebooks."""
        return _exam_table((self,))


@attrs.frozen
class Award:
    """An AP award (AP Scholar...) and the year it was given.

    Attributes:
        code: The 2-digit award code; see :attr:`name`.
        year: The four-digit year of the award.
    """

    code: str
    year: int

    @property
    def name(self) -> str:
        """The award's name, or a placeholder for undocumented codes."""
        return catalog.award_name(self.code)


@attrs.frozen
class PreviousSchool:
    """A previous high school (AI code) and the year the student attended it.

    Attributes:
        year: The four-digit year, ``None`` when blank.
        code: The school's 6-digit AI code.
    """

    year: int | None
    code: str


@attrs.frozen
class ScoreReport:
    """One student's score report for one college (one line of the TXT file).

    Attributes:
        ap_id: The student's AP ID (8 letters or digits), the key across files.
        student: The :class:`Student`.
        di_code: The DI code of the college the report was sent to.
        college: The receiving college as an :class:`Organization`.
        high_school: The student's current high school.
        exams: Every exam taken, most recent first (blank blocks omitted).
        awards: AP awards, most recent first.
        previous_schools: Up to two earlier high schools.
        date_released: When grades were released to the college, or ``None``.
        date_updated: When the student's record last changed, or ``None``.
        report_date: The date of this report, or ``None``.
        service_type: The kind of report (the file's service type code).
        service_code: The service code the file gives.
        order_institution_key: The key of the score-send order, as given.

    ``date_updated`` and ``report_date`` may be ``None`` in a record built in Python, but
    never in one read from a file: College Board's 2023 layout marks both dates "Optional:
    No", so the readers refuse a record where either is blank and the writers a report
    without them (``docs/reference/file-layout.md`` §1.6).
    """

    ap_id: str
    student: Student
    di_code: str
    college: Organization = Organization()
    high_school: Organization = Organization()
    exams: tuple[ExamScore, ...] = ()  # most recent first, blank blocks omitted
    awards: tuple[Award, ...] = ()  # most recent first
    previous_schools: tuple[PreviousSchool, ...] = ()
    date_released: dt.date | None = None  # date grades released to the college
    date_updated: dt.date | None = None  # date of last student update
    report_date: dt.date | None = None  # date of this report
    service_type: str = ""
    service_code: str = ""
    order_institution_key: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data (dates as ISO strings); see :mod:`apscores.serialize`."""
        data: dict[str, Any] = attrs.asdict(self, value_serializer=plain_value)
        return data

    def __repr__(self) -> str:
        """Compact, and without the student's name (reprs reach logs and tracebacks):
        ``<ScoreReport AP_ID DI 1234: N exams>``."""
        count = len(self.exams)
        plural = "" if count == 1 else "s"
        return f"<ScoreReport {self.ap_id} DI {self.di_code}: {count} exam{plural}>"

    def _repr_html_(self) -> str:
        """The student, then the exams as a small table, for notebooks."""
        born = self.student.date_of_birth.isoformat() if self.student.date_of_birth else ""
        head = (
            f"<p><strong>{html.escape(self.student.full_name)}</strong>"
            f" &middot; AP ID {html.escape(self.ap_id)}"
            + (f" &middot; born {born}" if born else "")
            + f" &middot; DI {html.escape(self.di_code)}</p>"
        )
        return head + _exam_table(self.exams)


def _exam_table(exams: tuple[ExamScore, ...]) -> str:
    """Exams as an HTML table; every value is escaped (names come from files)."""
    header = "".join(
        f"<th>{h}</th>" for h in ("Exam", "Code", "Year", "Score", "Status", "Irregularities")
    )
    rows = []
    for exam in exams:
        cells = (
            exam.name,
            exam.code,
            str(exam.admin_year),
            "" if exam.score is None else str(exam.score),
            exam.status.value,
            " ".join(exam.irregularity_codes),
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
