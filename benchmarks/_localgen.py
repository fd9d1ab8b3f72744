"""A stand-in generator of 950-column records, built from :mod:`apscores.layout` alone.

``make_data.py`` prefers the sandbox (``apscores.sandbox.iter_fake_reports`` written out by
``apscores.txt.write_txt`` / ``apscores.csvfile.write_csv``). This module is the fallback
for checkouts where those modules are missing, so the baselines (pandas, csv, plain Python)
can still be measured; files it writes are named ``*-local.*`` and are replaced by sandbox
files as soon as the sandbox is importable.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from typing import BinaryIO

from apscores.layout import LAYOUT_950, Kind

_LAST = ("Smith", "Garcia", "Nguyen", "Johnson", "O'Brien", "Kowalski", "Okafor", "Lee", "Patel")
_FIRST = ("Maria", "James", "Aisha", "Wei", "Olivia", "Mateo", "Noah", "Priya", "Sofia", "Liam")
_STREETS = ("Main St", "Oak Ave", "Maple Dr", "College Rd", "Pine Ct", "Elm St", "Lake Blvd")
_STATES = ("CA", "TX", "NY", "FL", "IL", "PA", "OH", "GA", "NC", "MI")
_EXAMS = ("07", "13", "20", "25", "31", "36", "43", "53", "55", "57", "66", "68", "69", "78", "93")
_IRREG = ("", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "11", "01")

_FIELDS = [(f.name, f.start - 1, f.width) for f in LAYOUT_950.fields if f.kind is not Kind.FILLER]
_CSV_HEADER = [name for name, _, _ in _FIELDS]


def _record(rng: random.Random, index: int, di_code: str) -> dict[str, str]:
    """One student's fields as strings (unset fields are blank)."""
    values: dict[str, str] = {
        "ap_id": f"{10_000_000 + index * 7 % 89_999_999:08d}",
        "last_name": rng.choice(_LAST),
        "first_name": rng.choice(_FIRST),
        "middle_initial": rng.choice("ABCDEJKLMR "),
        "street_address_1": f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
        "state": rng.choice(_STATES),
        "zip_code": f"{rng.randint(10000, 99999)}",
        "country_code": "",
        "gender": rng.choice("MF"),
        "birth_date": f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(4, 8):02d}",
        "education_level": rng.choice("3456"),
        "student_search": rng.choice("YN"),
        "best_language": rng.choice("12"),
        "apply_sophomore_standing": rng.choice(" Y"),
        "hs_ai_code": f"{rng.randint(0, 999999):06d}",
        "hs_institution_name": f"{rng.choice(_STREETS).split()[0]} High School",
        "hs_state": rng.choice(_STATES),
        "hs_zip_code": f"{rng.randint(10000, 99999)}",
        "college_code": di_code,
        "college_institution_name": "Sandbox University",
        "date_grades_released_to_college": "070724",
        "date_of_last_student_update": "070124",
        "date_of_this_report": "070824",
        "service_type": "01",
        "service_code": "0001",
        "order_institution_key": f"{rng.randint(0, 99_999_999):08d}",
        "race_ethnicity_student_response": "".join(rng.choice("NNNNY") for _ in range(11)),
        "derived_aggregate_race_ethnicity": f"{rng.randint(1, 12):02d}",
    }
    exams = rng.choice((3, 3, 4, 4, 4, 2, 5))
    for block, code in enumerate(rng.sample(_EXAMS, exams), start=1):
        suffix = f"_{block:02d}"
        values["admin_year" + suffix] = f"{rng.choice((22, 23, 24)):02d}"
        values["exam_code" + suffix] = code
        values["exam_grade" + suffix] = str(rng.randint(1, 5))
        values["irregularity_code_1" + suffix] = rng.choice(_IRREG)
    if rng.random() < 0.3:
        values["award_type_1"] = rng.choice(("01", "02", "03"))
        values["award_year_1"] = "24"
    return values


def iter_records(n: int, *, seed: int, di_code: str = "1234") -> Iterator[dict[str, str]]:
    """``n`` deterministic records for ``seed``."""
    rng = random.Random(seed)
    for index in range(n):
        yield _record(rng, index, di_code)


def write_txt(n: int, dest: BinaryIO, *, seed: int, di_code: str = "1234") -> int:
    """Write ``n`` 950-byte CRLF records to ``dest``."""
    blank = b" " * LAYOUT_950.length
    out = io.BytesIO()
    for count, values in enumerate(iter_records(n, seed=seed, di_code=di_code), start=1):
        line = bytearray(blank)
        for name, start, width in _FIELDS:
            value = values.get(name)
            if value:
                line[start : start + width] = value.encode("ascii")[:width].ljust(width)
        out.write(line)
        out.write(b"\r\n")
        if count % 10_000 == 0:
            dest.write(out.getvalue())
            out = io.BytesIO()
    dest.write(out.getvalue())
    return n


def write_csv(n: int, dest: BinaryIO, *, seed: int, di_code: str = "1234") -> int:
    """Write the same records as a CSV with one column per non-filler layout field."""
    text = io.TextIOWrapper(dest, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(_CSV_HEADER)
    for values in iter_records(n, seed=seed, di_code=di_code):
        writer.writerow([values.get(name, "") for name in _CSV_HEADER])
    text.flush()
    text.detach()
    return n
