"""Synthetic score reports: invented people with realistic exam histories.

Every record comes from its own ``random.Random`` seeded with ``(seed, index)``, so the
output is deterministic, ``fake_reports(10)`` is a prefix of ``fake_reports(1000)``, and the
iterator needs constant memory. Values stay inside what both file formats can carry:
names fit the TXT widths and encode as latin-1, codes fill their columns, and fields that
only one format has (high-school contact, service type, suppression flag...) are left blank,
so a report written as TXT or CSV reads back equal.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from apscores.catalog import is_di_code
from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)

__all__ = ["FIRST_ADMIN_YEAR", "LAST_ADMIN_YEAR", "fake_reports", "iter_fake_reports"]

T = TypeVar("T")


class _Weighted(Generic[T]):
    """A weighted choice with the cumulative weights computed once (``choices`` redoes it)."""

    def __init__(self, values: Iterable[T], weights: Iterable[int]) -> None:
        self.values = tuple(values)
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.values[bisect.bisect(self._cumulative, rng.random() * self._total)]


FIRST_ADMIN_YEAR = 2017
LAST_ADMIN_YEAR = 2025

_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Muñoz", "Núñez", "Peña", "Ibáñez", "Sánchez", "Gómez", "Müller", "Østergaard",
    "Lefèvre", "Björk", "García-López", "O'Connor", "Van der Berg", "Castañeda",
    "Abernathy-Quill", "Featherstonehau",
)  # fmt: skip

_FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Olivia", "Liam", "Emma", "Noah", "Ava", "Sophia", "Mateo", "Isabella", "Aiden",
    "Mia", "Priya", "Wei", "Aaliyah", "Kwame", "Yuki", "Fatima", "Diego", "Hannah",
    "José", "Zoë", "Chloé", "Renée", "André", "Inés", "Noémie", "Søren", "François",
    "Björn", "Ángel", "Maximiliano", "Christabella",
)  # fmt: skip

_STREETS = (
    "Maple Ave", "Oak St", "Cedar Ln", "Elm St", "Pine Rd", "Washington Blvd", "Lake Dr",
    "Hillcrest Way", "Sunset Blvd", "River Rd", "Park Pl", "Willow Ct", "Calle Sombra",
    "Chestnut St", "Mountain View Rd",
)  # fmt: skip

_CITIES = (
    ("Springfield", "IL", "627"), ("Riverside", "CA", "925"), ("Fairview", "TX", "750"),
    ("Franklin", "TN", "370"), ("Greenville", "SC", "296"), ("Madison", "WI", "537"),
    ("Georgetown", "KY", "403"), ("Salem", "OR", "973"), ("Arlington", "VA", "222"),
    ("Clinton", "NY", "133"), ("Santa Fe", "NM", "875"), ("Española", "NM", "875"),
)  # fmt: skip

_SCHOOL_NAMES = (
    "Lincoln High School", "Jefferson Senior High", "Roosevelt Academy",
    "Central High School", "Westview High School", "St. Mary's Preparatory",
    "Lakeside Magnet School", "Escuela Secundaria Peñasco", "Northside College Prep",
    "Valley Early College High",
)  # fmt: skip

# Exam codes with rough popularity weights (English Language and US History lead; art,
# languages and Capstone are rare). Subscores (69, 76, 77) are added with their parent.
_EXAM_WEIGHTS: dict[str, int] = {
    "36": 55, "07": 45, "37": 35, "85": 30, "66": 28, "53": 26, "57": 30, "93": 30,
    "90": 22, "20": 20, "40": 16, "68": 14, "25": 15, "83": 14, "32": 14, "31": 10,
    "35": 10, "34": 8, "87": 12, "43": 8, "84": 4, "80": 5, "82": 3, "13": 3, "14": 2,
    "15": 3, "16": 1, "75": 2, "22": 5, "23": 2, "89": 3, "48": 3, "28": 2, "55": 1,
    "62": 1, "64": 1, "60": 1, "58": 2, "10": 4, "65": 12,
}  # fmt: skip
_FROM_2024 = frozenset({"10", "65"})  # on college reports only from July 2024
_SUBSCORES = {"68": "69", "75": "76"}  # "75" also gets "77"

_LAST_YEAR = _Weighted(
    range(FIRST_ADMIN_YEAR, LAST_ADMIN_YEAR + 1), (5, 6, 7, 8, 9, 10, 12, 14, 16)
)
_SCORE = _Weighted(range(1, 6), (15, 21, 27, 22, 15))  # grades 1-5, the national spread
_EXAM_COUNT = _Weighted(range(1, 9), (12, 18, 22, 20, 13, 8, 5, 2))
_GENDER = _Weighted("MFUA", (48, 49, 2, 1))
_BEST_LANGUAGE = _Weighted("1340", (80, 14, 3, 3))
_HISPANIC = _Weighted(range(5), (2, 12, 3, 4, 79))  # position 5: not Hispanic or Latino
_RACE_COUNT = _Weighted((1, 2), (92, 8))
_EXAM_ANY_YEAR = _Weighted(_EXAM_WEIGHTS, _EXAM_WEIGHTS.values())
_EXAM_BEFORE_2024 = _Weighted(
    (c for c in _EXAM_WEIGHTS if c not in _FROM_2024),
    (w for c, w in _EXAM_WEIGHTS.items() if c not in _FROM_2024),
)
_NOTE_CODES = ("20", "34", "39", "40", "44", "51", "57", "66")
_CANCEL_CODES = ("19", "94")


def fake_reports(n: int, *, seed: int = 0, di_code: str = "1234") -> list[ScoreReport]:
    """``n`` synthetic score reports for ``di_code``; the same seed gives the same list."""
    return list(iter_fake_reports(n, seed=seed, di_code=di_code))


def iter_fake_reports(
    n: int | None, *, seed: int = 0, di_code: str = "1234", start: int = 0
) -> Iterator[ScoreReport]:
    """Yield synthetic reports one at a time (constant memory); ``n=None`` never stops.

    ``start`` skips ahead: record ``i`` is the same whatever ``start`` and ``n`` are.
    """
    if n is not None and n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not is_di_code(di_code):
        raise ValueError(f"a DI code is 4 digits, got {di_code!r}")
    schools = _high_schools(seed)
    college = _college(di_code)
    index = start
    while n is None or index < start + n:
        yield _report(index, seed, di_code, college, schools)
        index += 1


def _college(di_code: str) -> Organization:
    return Organization(
        code=di_code,
        name="Sandbox State University",
        contact_name="Office of Admissions",
        address=Address("100 University Ave", "Welcome Center", "College Park", "MD", "20742"),
    )


def _high_schools(seed: int) -> tuple[Organization, ...]:
    rng = random.Random(f"apscores-sandbox-schools:{seed}")
    schools = []
    for number, name in enumerate(rng.sample(_SCHOOL_NAMES, 6)):
        city, state, zip3 = rng.choice(_CITIES)
        schools.append(
            Organization(
                code=f"{rng.randrange(10, 99):02d}{rng.randrange(10000):04d}",
                name=name,
                address=Address(
                    f"{100 * (number + 1) + rng.randrange(99)} {rng.choice(_STREETS)}",
                    "",
                    city,
                    state,
                    f"{zip3}{rng.randrange(100):02d}",
                ),
            )
        )
    return tuple(schools)


def _ap_id(index: int, seed: int, rng: random.Random, grad_year: int) -> str:
    """Unique within a seed: an affine bijection of the index, numeric before 2020's AP IDs."""
    salt = seed % 1_000_003
    if grad_year <= 2020 and rng.random() < 0.7:
        return f"{(index * 7_919_113 + salt * 31 + 17) % 10**8:08d}"  # old-style AP number
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value = (index * 2_147_483_647 + salt * 97 + 11) % 36**7
    tail = ""
    for _ in range(7):
        value, digit = divmod(value, 36)
        tail = alphabet[digit] + tail
    return "ABCDEFGHJKLMNPRSTUVWXYZ"[index % 23] + tail  # a letter first: never all digits


def _report(
    index: int,
    seed: int,
    di_code: str,
    college: Organization,
    schools: tuple[Organization, ...],
) -> ScoreReport:
    rng = random.Random(f"apscores-sandbox:{seed}:{index}")
    # Most reports a college gets are for recent exams, but older ones keep coming.
    last_year = _LAST_YEAR(rng)
    grad_year = last_year + rng.choice((0, 0, 0, 1, 1, 2))
    exams = _exams(rng, last_year, grad_year)
    high_school = rng.choice(schools)
    released = _date_between(rng, dt.date(last_year, 7, 1), dt.date(last_year, 7, 20))
    updated = released + dt.timedelta(days=rng.choice((0, 0, 0, rng.randrange(1, 120))))
    reported = updated + dt.timedelta(days=rng.choice((0, 0, rng.randrange(1, 60))))
    return ScoreReport(
        ap_id=_ap_id(index, seed, rng, grad_year),
        student=_student(rng, grad_year, high_school),
        di_code=di_code,
        college=college,
        high_school=high_school,
        exams=exams,
        awards=_awards(rng, exams),
        previous_schools=_previous_schools(rng, exams, high_school),
        date_released=released,
        date_updated=updated,
        report_date=reported,
    )


def _date_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def _student(rng: random.Random, grad_year: int, high_school: Organization) -> Student:
    city, state, zip3 = rng.choice(_CITIES)
    if rng.random() < 0.35:  # many students live near their school
        city, state = high_school.address.street_3, high_school.address.state
        zip3 = high_school.address.zip_code[:3]
    race, aggregate = _race(rng)
    born = _date_between(rng, dt.date(grad_year - 19, 9, 1), dt.date(grad_year - 18, 8, 31))
    return Student(
        last_name=rng.choice(_LAST_NAMES),
        first_name=rng.choice(_FIRST_NAMES),
        middle_initial=rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.7 else "",
        date_of_birth=born,
        gender=_GENDER(rng),
        address=Address(
            f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)}",
            f"Apt {rng.randrange(1, 40)}{rng.choice('ABCD')}" if rng.random() < 0.2 else "",
            city,
            state,
            f"{zip3}{rng.randrange(100):02d}{rng.randrange(10000):04d}",
        ),
        education_level=rng.choice("67"),
        best_language=_BEST_LANGUAGE(rng),
        race_ethnicity_response="".join(race),
        derived_aggregate_race_ethnicity=aggregate,
    )


# Positions 6-11 of the response (American Indian ... Other) and their aggregate codes.
_RACE_CODES = ("01", "02", "03", "08", "09", "10")


def _race(rng: random.Random) -> tuple[str, str]:
    """The 11 Y/N flags (one Hispanic-origin answer, one or two races) and the aggregate."""
    flags = ["N"] * 11
    hispanic = _HISPANIC(rng)
    flags[hispanic] = "Y"
    races = rng.sample(range(6), _RACE_COUNT(rng))
    for race in races:
        flags[5 + race] = "Y"
    if hispanic < 4:
        aggregate = "04"
    elif len(races) > 1:
        aggregate = "12"
    else:
        aggregate = _RACE_CODES[races[0]]
    return "".join(flags), aggregate


def _exams(rng: random.Random, last_year: int, grad_year: int) -> tuple[ExamScore, ...]:
    years = list(range(max(FIRST_ADMIN_YEAR, grad_year - 3), last_year + 1))
    count = _EXAM_COUNT(rng)
    taken: dict[str, int] = {}
    # The last year always has an exam (it is why the report was sent); earlier years vary.
    plan = [last_year] + [rng.choice(years) for _ in range(count - 1)]
    for year in plan:
        pick = _EXAM_ANY_YEAR if year >= 2024 else _EXAM_BEFORE_2024
        code = pick(rng)
        while code in taken:  # at most 10 of 40 codes are taken: this ends quickly
            code = pick(rng)
        taken[code] = year
        if code in _SUBSCORES:
            taken[_SUBSCORES[code]] = year
            if code == "75":
                taken["77"] = year
    exams = [_exam(rng, code, year, last_year) for code, year in taken.items()]
    exams.sort(key=lambda exam: exam.admin_year, reverse=True)  # most recent first (stable)
    return tuple(exams)


def _exam(rng: random.Random, code: str, year: int, last_year: int) -> ExamScore:
    roll = rng.random()
    if year == last_year and roll < 0.03:
        return ExamScore(code, year, None, ("96",))  # score not yet available
    if 0.03 <= roll < 0.04:
        return ExamScore(code, year, None, ("98",))  # withheld at the student's request
    if 0.04 <= roll < 0.045:
        return ExamScore(code, year, None, (rng.choice(_CANCEL_CODES),))
    score = _SCORE(rng)
    if 0.045 <= roll < 0.07:
        notes = tuple(rng.sample(_NOTE_CODES, rng.choice((1, 1, 1, 2))))
        return ExamScore(code, year, score, notes)
    return ExamScore(code, year, score)


def _awards(rng: random.Random, exams: tuple[ExamScore, ...]) -> tuple[Award, ...]:
    """AP Scholar awards from the scores so far, each in the year it was first earned."""
    awards: list[Award] = []
    earned: set[str] = set()
    for year in sorted({exam.admin_year for exam in exams}):
        passed = [e for e in exams if e.admin_year <= year and e.score is not None]
        good = [e.score for e in passed if e.score is not None and e.score >= 3]
        average = sum(e.score for e in passed if e.score is not None) / max(len(passed), 1)
        levels = []
        if len(good) >= 3:
            levels.append("01")
        if len(good) >= 4 and average >= 3.25:
            levels.append("02")
        if len(good) >= 5 and average >= 3.5:
            levels.append("03")
        codes = {e.code for e in passed if e.admin_year <= year and (e.score or 0) >= 3}
        if {"22", "23"} <= codes:
            levels.append("14")
        for code in levels:
            if code not in earned:
                earned.add(code)
                awards.append(Award(code, year))
    if awards and rng.random() < 0.05:
        awards.append(Award("04", awards[-1].year))  # the odd State AP Scholar
    awards.sort(key=lambda award: award.year, reverse=True)
    return tuple(awards[:6])


def _previous_schools(
    rng: random.Random, exams: tuple[ExamScore, ...], high_school: Organization
) -> tuple[PreviousSchool, ...]:
    if rng.random() > 0.12:
        return ()
    year = min(exam.admin_year for exam in exams)
    code = f"{rng.randrange(10, 99):02d}{rng.randrange(10000):04d}"
    if code == high_school.code:
        return ()
    return (PreviousSchool(year, code),)
