"""The benchmark's own score reports: ``real`` (real-shaped) and ``worst`` (worst case).

The sandbox's reports (``apscores.sandbox.iter_fake_reports``) come from six high schools,
one college and popular exams, so most parts of a line repeat from line to line; a reader
that caches repeated parts looks faster on them than on a real file. These two shapes do
not:

- ``real``: every student is their own (last name unique by construction, first name,
  middle initial, street, apartment, city, 9-digit ZIP, AP ID, birth date, order key,
  previous schools, race flags and awards drawn per student); high schools come from a
  pool of one per five students, each with its own code, name, contact and address; one
  college block (one DI code) for the file, with the odd other contact; 1-8 exams a
  student (mean ~3.5) from the real exam list by popularity, admin years over the last
  four years, scores 1-5, a few % with irregularity codes, a few with class sections;
  trailer dates vary with the admin year.
- ``worst``: everything that can vary does: a high school and a college block of its own
  per student, every exam block distinct (a counter spread over the irregularity pair,
  class section, suppression flag, year, code and grade), 1-12 exams and 30 for one
  student in twenty, all six awards and both previous schools, text fields near their
  widths, and dates that walk every day of 1950-2049 so that no date repeats within
  9,000 records.

Both are generators (constant memory) seeded from ``seed``; only values the 950 layout
holds: names 15/12 characters in Latin-1, addresses 30, state 2, ZIP 9 digits (5 for
schools), AP ID 8 letters or digits, years and dates within the two-digit-year pivot
(1950-2049).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator

from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)

#: Exam codes of the real list, with rough popularity weights.
EXAMS: dict[str, int] = {
    "36": 55, "07": 45, "37": 35, "85": 30, "57": 30, "93": 30, "66": 28, "53": 26,
    "90": 22, "20": 20, "40": 16, "25": 15, "68": 14, "83": 14, "32": 14, "87": 12,
    "65": 12, "31": 10, "35": 10, "34": 8, "43": 8, "22": 5, "80": 5, "10": 4, "84": 4,
    "69": 3, "82": 3, "13": 3, "15": 3, "89": 3, "48": 3, "14": 2, "75": 2, "23": 2,
    "28": 2, "58": 2, "16": 1, "55": 1, "62": 1, "64": 1, "60": 1, "76": 1, "77": 1,
}  # fmt: skip
EXAM_CODES = tuple(EXAMS)
IRREGULARITY_CODES = (
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
    "15", "16", "17", "18", "19", "20", "34", "37", "38", "39", "40", "42", "44", "51",
    "57", "66", "78", "79", "94", "96", "98",
)  # fmt: skip
AWARD_CODES = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "12", "13", "14")
STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR",
)  # fmt: skip
_SYLLABLES = (
    "ba", "be", "bo", "ca", "ce", "da", "de", "do", "el", "fa", "fe", "ga", "go", "ha",
    "he", "in", "ja", "jo", "ka", "ki", "ko", "la", "le", "li", "lo", "ma", "me", "mi",
    "mo", "na", "ne", "ni", "no", "ña", "or", "pa", "pe", "ra", "re", "ri", "ro", "sa",
    "se", "si", "so", "ta", "te", "ti", "to", "va", "vi", "wa", "ya", "za", "zé", "ü",
    "son", "ley", "ton", "man", "ez", "ski", "berg", "sh", "th",
)  # fmt: skip
_STREET_KINDS = ("St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way", "Pl", "Ter")
_SCHOOL_KINDS = ("High School", "Senior High", "Academy", "Prep", "Magnet School")
_NOTE_CODES = ("20", "34", "39", "40", "44", "51", "57", "66")  # scored, with a note
_NO_SCORE_CODES = ("96", "98", "19", "94", "01")  # pending, withheld, canceled
LAST_ADMIN_YEAR = 2025
FIRST_ADMIN_YEAR = LAST_ADMIN_YEAR - 3  # the last four admin years
_EPOCH, _DAYS = dt.date(1950, 1, 1), (dt.date(2050, 1, 1) - dt.date(1950, 1, 1)).days


def _word(rng: random.Random, low: int, high: int, width: int) -> str:
    """A made-up capitalised word of ``low``-``high`` syllables, at most ``width`` long."""
    text = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(low, high)))
    return text[:width].capitalize()


_PAIRS = tuple(s for s in _SYLLABLES if len(s) == 2)  # fixed width: a word parses one way


def _unique_word(index: int, rng: random.Random) -> str:
    """A surname only ``index`` gives: an affine bijection of the index written in four
    two-letter syllables (9M before one repeats), then an optional ending."""
    value = (index * 1_000_003 + 12_345) % len(_PAIRS) ** 4
    letters = []
    for _ in range(4):
        value, digit = divmod(value, len(_PAIRS))
        letters.append(_PAIRS[digit])
    return "".join(letters).capitalize() + rng.choice(("", "", "son", "ez", "ski", "ley"))


def _ap_id(index: int, seed: int) -> str:
    """8 letters or digits, distinct for every index (the multiplier is prime to 36)."""
    value = (index * 2_147_483_647 + seed * 97 + 11) % 36**8
    digits = []
    for _ in range(8):
        value, digit = divmod(value, 36)
        digits.append("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit])
    return "".join(digits)


def _street(rng: random.Random) -> str:
    return f"{rng.randrange(1, 99999)} {_word(rng, 2, 4, 14)} {rng.choice(_STREET_KINDS)}"


def _race(rng: random.Random) -> tuple[str, str]:
    flags = ["Y" if rng.random() < 0.15 else "N" for _ in range(11)]
    return "".join(flags), f"{rng.choice((1, 2, 3, 4, 8, 9, 10, 12)):02d}"


# --- real-shaped ---------------------------------------------------------------------------


def _school(seed: int, number: int) -> Organization:
    """High school ``number`` of the pool: the same school whenever it is drawn."""
    rng = random.Random(f"school:{seed}:{number}")
    code = f"{(number * 7_919 + 100_003) % 1_000_000:06d}"
    return Organization(
        code=code,
        name=f"{_word(rng, 2, 4, 14)} {rng.choice(_SCHOOL_KINDS)}",
        contact_name=f"{_word(rng, 2, 3, 10)} {_word(rng, 2, 4, 15)}",
        address=Address(
            _street(rng),
            "",
            _word(rng, 2, 4, 20),
            rng.choice(STATES),
            f"{rng.randrange(10**5):05d}",
        ),
    )


def _colleges(di_code: str) -> tuple[Organization, ...]:
    """The file's college block: one DI code, the usual contact, and two rarer ones."""
    address = Address("100 University Ave", "Welcome Center", "College Park", "MD", "20742")
    return tuple(
        Organization(code=di_code, name="State University", contact_name=contact, address=address)
        for contact in ("Office of Admissions", "Registrar", "Dean of Admissions")
    )


def _weighted(rng: random.Random, values: tuple[str, ...], weights: tuple[int, ...]) -> str:
    return rng.choices(values, weights)[0]


_EXAM_CUMULATIVE = tuple(itertools.accumulate(EXAMS.values()))
_SCORES, _SCORE_CUMULATIVE = (1, 2, 3, 4, 5), (15, 36, 63, 85, 100)
_COUNTS = (1, 2, 3, 4, 5, 6, 7, 8)
_COUNT_WEIGHTS = (12, 18, 22, 20, 13, 8, 5, 2)  # mean 3.6


def _real_exams(rng: random.Random, last_year: int) -> tuple[ExamScore, ...]:
    count = rng.choices(_COUNTS, _COUNT_WEIGHTS)[0]
    codes: list[str] = []
    while len(codes) < count:
        code = rng.choices(EXAM_CODES, cum_weights=_EXAM_CUMULATIVE)[0]
        if code not in codes:
            codes.append(code)
    years = [last_year] + [rng.randint(FIRST_ADMIN_YEAR, last_year) for _ in codes[1:]]
    exams = []
    for code, year in zip(codes, sorted(years, reverse=True), strict=True):
        score: int | None = rng.choices(_SCORES, cum_weights=_SCORE_CUMULATIVE)[0]
        irregular: tuple[str, ...] = ()
        roll = rng.random()
        if roll < 0.015:
            score, irregular = None, (rng.choice(_NO_SCORE_CODES),)
        elif roll < 0.04:
            irregular = tuple(rng.sample(_NOTE_CODES, 1 if rng.random() < 0.9 else 2))
        section = rng.choice("ABCDEF") if rng.random() < 0.05 else ""
        exams.append(ExamScore(code, year, score, irregular, "", section))
    return tuple(exams)


def _real_awards(
    rng: random.Random, exams: tuple[ExamScore, ...], last_year: int
) -> tuple[Award, ...]:
    """AP Scholar levels by the number of scores of 3+, each earned in a year of its own."""
    good = sum(1 for exam in exams if (exam.score or 0) >= 3)
    codes = ["01", "02", "03"][: min(3, good // 2)]
    if codes and rng.random() < 0.05:
        codes.append("04")
    years = sorted((rng.randint(FIRST_ADMIN_YEAR, last_year) for _ in codes), reverse=True)
    return tuple(Award(code, year) for code, year in zip(reversed(codes), years, strict=True))


def iter_real(n: int, seed: int, di_code: str) -> Iterator[ScoreReport]:
    """``n`` real-shaped reports (see the module docstring)."""
    rng = random.Random(f"real:{seed}")
    colleges = _colleges(di_code)
    pool = max(1, n // 5)
    for index in range(n):
        last_year = rng.choices(range(FIRST_ADMIN_YEAR, LAST_ADMIN_YEAR + 1), (1, 2, 3, 4))[0]
        exams = _real_exams(rng, last_year)
        school = _school(seed, rng.randrange(pool))
        near = rng.random() < 0.4  # many students live in their school's town
        race, aggregate = _race(rng)
        released = dt.date(last_year, 7, 1) + dt.timedelta(days=rng.randrange(20))
        updated = released + dt.timedelta(days=rng.choice((0, 0, rng.randrange(1, 200))))
        awards = _real_awards(rng, exams, last_year)
        previous = [
            PreviousSchool(rng.randint(2019, last_year), f"{rng.randrange(10**6):06d}")
            for _ in range(rng.choices((0, 1, 2), (86, 12, 2))[0])
        ]
        yield ScoreReport(
            ap_id=_ap_id(index, seed),
            student=Student(
                last_name=_unique_word(index, rng),
                first_name=_word(rng, 2, 3, 12),
                middle_initial=rng.choice("ABCDEFGHIJKLMNOPRSTW") if rng.random() < 0.7 else "",
                date_of_birth=dt.date(last_year - 18, 1, 1)
                + dt.timedelta(days=rng.randrange(-400, 700)),
                gender=_weighted(rng, ("M", "F", "U", "A"), (48, 49, 2, 1)),
                address=Address(
                    _street(rng),
                    f"Apt {rng.randrange(1, 400)}{rng.choice('ABCD ')}".rstrip()
                    if rng.random() < 0.2
                    else "",
                    school.address.street_3 if near else _word(rng, 2, 4, 20),
                    school.address.state if near else rng.choice(STATES),
                    f"{rng.randrange(10**9):09d}",
                ),
                education_level=rng.choice("67"),
                student_search=rng.choice("YN"),
                best_language=_weighted(rng, ("1", "3", "4", "0"), (80, 14, 3, 3)),
                applying_sophomore_standing=rng.choice(("", "", "", "Y")),
                race_ethnicity_response=race,
                derived_aggregate_race_ethnicity=aggregate,
            ),
            di_code=di_code,
            college=colleges[rng.choices((0, 1, 2), (96, 3, 1))[0]],
            high_school=school,
            exams=exams,
            awards=awards,
            previous_schools=tuple(previous),
            date_released=released,
            date_updated=updated,
            report_date=updated + dt.timedelta(days=rng.choice((0, 0, rng.randrange(1, 60)))),
            service_type="01",
            service_code=rng.choice(("0001", "0001", "0001", "0002")),
            order_institution_key=f"{rng.randrange(10**8):08d}",
        )


# --- worst case ----------------------------------------------------------------------------

_SECTIONS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_FLAGS = "YN01"
_GRADES = (None, 1, 2, 3, 4, 5)


def _walk_date(step: int) -> dt.date:
    """Step ``step`` of a walk over every day of 1950-2049 (7,919 is prime to 36,525)."""
    return _EPOCH + dt.timedelta(days=step * 7_919 % _DAYS)


def _worst_exam(counter: int) -> ExamScore:
    """Exam block number ``counter``: no two blocks of a file alike (mixed-radix digits)."""
    value, first = divmod(counter, len(IRREGULARITY_CODES))
    value, second = divmod(value, len(IRREGULARITY_CODES))
    value, section = divmod(value, len(_SECTIONS))
    value, flag = divmod(value, len(_FLAGS))
    value, year = divmod(value, 100)
    value, code = divmod(value, len(EXAM_CODES))
    grade = _GRADES[value % len(_GRADES)]
    return ExamScore(
        EXAM_CODES[code],
        1950 + (year * 37 % 100),
        grade,
        (IRREGULARITY_CODES[first], IRREGULARITY_CODES[second]),
        _FLAGS[flag],
        _SECTIONS[section],
    )


def _full(rng: random.Random, width: int) -> str:
    """Text that fills most of a ``width`` field."""
    words = []
    while sum(len(w) + 1 for w in words) < width - 4:
        words.append(_word(rng, 1, 3, 8))
    return " ".join(words)[:width].rstrip()


def _worst_address(rng: random.Random, zip_width: int) -> Address:
    return Address(
        _full(rng, 30),
        _full(rng, 30),
        _full(rng, 30),
        rng.choice(STATES),
        f"{rng.randrange(10**zip_width):0{zip_width}d}",
    )


def iter_worst(n: int, seed: int, di_code: str) -> Iterator[ScoreReport]:
    """``n`` worst-case reports (see the module docstring); ``di_code`` is not used."""
    rng = random.Random(f"worst:{seed}")
    blocks = seed % 1_000  # the exam-block counter
    for index in range(n):
        count = 30 if rng.random() < 0.05 else rng.randint(1, 12)
        exams = tuple(_worst_exam(blocks + k) for k in range(count))
        blocks += count
        day = index * 4 + seed
        race, aggregate = _race(rng)
        yield ScoreReport(
            ap_id=_ap_id(index, seed),
            student=Student(
                last_name=_unique_word(index, rng),
                first_name=_word(rng, 3, 4, 12),
                middle_initial=rng.choice(_SECTIONS[:26]),
                date_of_birth=_walk_date(day),
                gender=rng.choice("MFUA"),
                address=Address(
                    _full(rng, 30),
                    _full(rng, 30),
                    _full(rng, 30),
                    rng.choice(STATES),
                    f"{rng.randrange(10**9):09d}",
                    f"{rng.randrange(1000):03d}",
                ),
                education_level=rng.choice("0123456789"),
                expected_college_entrance=f"{rng.randrange(1000):03d}",
                ethnic_group=rng.choice("0123456789"),
                student_search=rng.choice("YN"),
                best_language=rng.choice("01234"),
                applying_sophomore_standing=rng.choice("YN"),
                race_ethnicity_response=race,
                derived_aggregate_race_ethnicity=aggregate,
            ),
            di_code=f"{(index * 7 + seed) % 10_000:04d}",
            college=Organization(
                code=f"{(index * 7 + seed) % 10_000:04d}",
                name=_full(rng, 30),
                contact_name=_full(rng, 30),
                address=_worst_address(rng, 5),
            ),
            high_school=Organization(
                code=f"{(index * 7_919 + seed) % 10**6:06d}",
                name=_full(rng, 30),
                contact_name=_full(rng, 30),
                address=_worst_address(rng, 5),
            ),
            exams=exams,
            awards=tuple(
                Award(AWARD_CODES[(index + k) % len(AWARD_CODES)], 1950 + (index * 6 + k) % 100)
                for k in range(6)
            ),
            previous_schools=tuple(
                PreviousSchool(1950 + (index * 2 + k) * 31 % 100, f"{rng.randrange(10**6):06d}")
                for k in range(2)
            ),
            date_released=_walk_date(day + 1),
            date_updated=_walk_date(day + 2),
            report_date=_walk_date(day + 3),
            service_type=f"{rng.randrange(100):02d}",
            service_code=f"{rng.randrange(10_000):04d}",
            order_institution_key=f"{rng.randrange(10**8):08d}",
        )
