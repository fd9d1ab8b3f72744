"""Small builders for the matching tests: AP reports and roster rows, by keyword."""

from __future__ import annotations

import datetime as dt

from apscores.models import Address, Organization, ScoreReport, Student

BORN = dt.date(2007, 3, 15)
#: The two dates every record of a file carries (the writers refuse a report without them).
UPDATED, REPORTED = dt.date(2024, 7, 1), dt.date(2024, 7, 9)


def report(
    ap_id: str,
    last: str,
    first: str,
    born: dt.date | None = BORN,
    *,
    middle: str = "",
    sex: str = "",
    zip_code: str = "",
    school: str = "",
    updated: dt.date | None = UPDATED,
    reported: dt.date | None = REPORTED,
) -> ScoreReport:
    """A score report with just what matching reads."""
    return ScoreReport(
        ap_id=ap_id,
        student=Student(
            last_name=last,
            first_name=first,
            middle_initial=middle,
            date_of_birth=born,
            gender=sex,
            address=Address(zip_code=zip_code),
        ),
        di_code="1234",
        high_school=Organization(code=school),
        date_updated=updated,
        report_date=reported,
    )


def row(
    sis_id: str, last: str, first: str, born: str = "2007-03-15", **more: str
) -> dict[str, str]:
    """A roster row (birth_date as text, as an export holds it)."""
    return {"sis_id": sis_id, "last_name": last, "first_name": first, "birth_date": born, **more}
