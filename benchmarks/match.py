"""Identity matching against a known truth: per tier matched / review / unmatched,
precision and recall, and time (issue 22).

Generates a roster (the student system's students) and AP records whose true SIS ID is
known, with the troubles of real files: accented names in the roster and ASCII in the
file, hyphenated and two-part surnames, names cut at the TXT widths (15/12), suffixes,
nicknames, second AP IDs, twins (both in the file, or only one), birth dates with day and
month swapped or the year off by one, typos in the roster, AP IDs the roster already
knows, students absent from the roster, a few records without a birth date, and students
who moved (another ZIP code) or changed schools since the roster was written.

    python benchmarks/match.py                      # 100k AP records, 300k roster rows
    python benchmarks/match.py --records 10000 --roster 30000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

from apscores.matching import match, read_roster
from apscores.models import Address, Organization, ScoreReport, Student

LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kim",
    "Patel",
    "Chen",
    "Wang",
    "Singh",
    "Cohen",
    "O'Brien",
    "O'Connor",
    "McDonald",
]
ACCENTED = [
    "Müller",
    "Gómez",
    "Muñoz",
    "Peña",
    "Núñez",
    "Ibáñez",
    "Løkke",
    "Østergaard",
    "Strauß",
    "Łukasik",
    "Çelik",
    "Dvořák",
    "Ðorđević",
    "Æbelø",
    "Grønbæk",
    "Jiménez",
    "Sørensen",
    "Šimić",
    "Wójcik",
    "Nowakowská",
]
LONG = [
    "Vanderwesthuizen",
    "Papadopoulopoulos",
    "Montgomery-Whitfield",
    "Christodoulopoulos",
    "Bartholomew-Smythe",
    "Wojciechowskiewicz",
]
PARTICLES = ("De la", "Van der", "Del", "Di", "Mc")
FIRST_F = [
    "Emma",
    "Olivia",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Emily",
    "Elizabeth",
    "Sofia",
    "Avery",
    "Ella",
    "Scarlett",
    "Grace",
    "Chloe",
    "Victoria",
    "Riley",
    "Aria",
    "Lily",
    "Zoë",
    "Inés",
    "Anaïs",
    "Chloé",
    "Maëlle",
    "Bérénice",
    "Mary",
    "Anna",
    "Maria",
    "Katherine",
    "Alexandra",
    "Christabella",
    "Jacqueline",
]
FIRST_M = [
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Alexander",
    "Mason",
    "Michael",
    "Ethan",
    "Daniel",
    "Jacob",
    "Logan",
    "Jackson",
    "Levi",
    "Sebastian",
    "Mateo",
    "José",
    "François",
    "Björn",
    "Søren",
    "Łukasz",
    "Jürgen",
    "Robert",
    "Christopher",
    "Maximilian",
    "Bartholomew",
    "Nathaniel",
]
NICKNAMES = {"Robert": "Bob", "Elizabeth": "Liz", "Katherine": "Kate", "William": "Bill"}
SPECIAL = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l"})
SPECIAL_MORE = str.maketrans({"Ł": "L", "đ": "d", "Đ": "D"})


def ascii_name(name: str, width: int) -> str:
    """The file's spelling: College Board's ASCII, cut at the TXT field width."""
    name = name.translate(SPECIAL).translate(SPECIAL_MORE)
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    return name.upper()[:width]


def typo(rng: random.Random, name: str) -> str:
    """One letter changed (not the first)."""
    if len(name) < 3:
        return name
    at = rng.randrange(1, len(name))
    return name[:at] + rng.choice("aeioulnrst") + name[at + 1 :]


def surname(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.10:
        return rng.choice(ACCENTED)
    if roll < 0.14:
        return rng.choice(LONG)
    if roll < 0.20:
        return f"{rng.choice(LAST)}-{rng.choice(LAST + ACCENTED)}"
    if roll < 0.24:
        return f"{rng.choice(PARTICLES)} {rng.choice(LAST)}"
    return rng.choice(LAST) + (
        rng.choice(("", "s", "son", "er", "ley")) if rng.random() < 0.5 else ""
    )


def make_roster(rng: random.Random, size: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    start = dt.date(2004, 1, 1).toordinal()
    while len(rows) < size:
        sex = rng.choice("MF")
        first = rng.choice(FIRST_M if sex == "M" else FIRST_F)
        row = {
            "sis_id": f"S{len(rows):07d}",
            "last_name": surname(rng),
            "first_name": first,
            "middle_name": rng.choice("ABCDEFGHJKLMNPRST") if rng.random() < 0.7 else "",
            "birth_date": dt.date.fromordinal(start + rng.randrange(6 * 365)).isoformat(),
            "sex": sex,
            "zip": f"{rng.randrange(10000, 99999)}",
            "hs_code": f"{rng.randrange(100000, 999999)}",
            "ap_id": "",
        }
        rows.append(row)
        if rng.random() < 0.015:  # a twin: same surname, birth date, address, school
            sex = rng.choice("MF")
            twin = dict(row, sis_id=f"S{len(rows):07d}", sex=sex)
            names = [n for n in (FIRST_M if sex == "M" else FIRST_F) if n != first]
            twin["first_name"] = rng.choice(names)
            rows.append(twin)
    return rows[:size]


def ap_record(rng: random.Random, row: dict[str, str], ap_id: str) -> ScoreReport:
    born = dt.date.fromisoformat(row["birth_date"])
    last, first = row["last_name"], row["first_name"]
    roll = rng.random()
    if roll < 0.02 and born.day <= 12 and born.day != born.month:
        born = born.replace(month=born.day, day=born.month)
    elif roll < 0.03:
        born = born.replace(year=born.year + rng.choice((-1, 1))) if born.day != 29 else born
    roll = rng.random()
    if roll < 0.02 and "-" in last:
        last = last.split("-")[0]  # the file has one part of a hyphenated surname
    elif roll < 0.03:
        last = f"{last} Jr"
    if rng.random() < 0.01 and first in NICKNAMES:
        first = NICKNAMES[first]
    zip_code = row["zip"] if rng.random() < 0.9 else f"{rng.randrange(10000, 99999)}"  # moved
    school = row["hs_code"] if rng.random() < 0.95 else f"{rng.randrange(100000, 999999)}"
    middle = row["middle_name"][:1] if rng.random() < 0.85 else ""
    return ScoreReport(
        ap_id=ap_id,
        student=Student(
            last_name=ascii_name(last, 15),
            first_name=ascii_name(first, 12),
            middle_initial=middle,
            date_of_birth=None if rng.random() < 0.002 else born,
            gender=row["sex"],
            address=Address(zip_code=zip_code),
        ),
        di_code="1234",
        high_school=Organization(code=school),
    )


def make_case(
    rng: random.Random, records: int, roster_size: int
) -> tuple[list[dict[str, str]], list[ScoreReport], dict[str, str | None]]:
    students = make_roster(rng, roster_size + records // 10)
    roster, absent = students[:roster_size], students[roster_size:]
    truth: dict[str, str | None] = {}
    reports: list[ScoreReport] = []
    chosen = rng.sample(range(len(roster)), k=min(len(roster), records))
    by_twin = {}
    for number, row in enumerate(roster):
        key = (row["last_name"], row["birth_date"], row["zip"])
        by_twin.setdefault(key, []).append(number)
    for number in chosen:
        if len(reports) >= records * 0.95:
            break
        row = roster[number]
        ap_id = f"A{len(reports):07d}"
        reports.append(ap_record(rng, row, ap_id))
        truth[ap_id] = row["sis_id"]
        if rng.random() < 0.10:
            row["ap_id"] = ap_id  # the student system already knows this AP ID
        if rng.random() < 0.02:  # a second College Board account
            second = f"B{len(reports):07d}"
            reports.append(ap_record(rng, row, second))
            truth[second] = row["sis_id"]
    while len(reports) < records:  # students the roster does not hold
        row = absent[len(reports) % len(absent)]
        ap_id = f"X{len(reports):07d}"
        reports.append(ap_record(rng, row, ap_id))
        truth[ap_id] = None
    for row in rng.sample(roster, k=len(roster) // 100):  # typos in the roster
        if rng.random() < 0.5:
            row["last_name"] = typo(rng, row["last_name"])
        else:
            row["first_name"] = typo(rng, row["first_name"])
    rng.shuffle(reports)
    return roster, reports, truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="AP records")
    parser.add_argument("--roster", type=int, default=300_000, help="roster rows")
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    roster_rows, reports, truth = make_case(rng, args.records, args.roster)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(roster_rows[0]))
            writer.writeheader()
            writer.writerows(roster_rows)
        started, cpu = time.perf_counter(), time.process_time()
        roster = read_roster(path)
        read_time = (time.perf_counter() - started, time.process_time() - cpu)
    started, cpu = time.perf_counter(), time.process_time()
    result = match(reports, roster)
    match_time = (time.perf_counter() - started, time.process_time() - cpu)
    rows: Counter[tuple[str, str]] = Counter()
    right: Counter[str] = Counter()
    for student in result:
        tier = "-" if student.tier is None else str(student.tier)
        rows[(tier, student.outcome.value)] += 1
        if student.outcome.value == "matched" and student.sis_id == truth[student.ap_id]:
            right[tier] += 1
    present = sum(1 for sis in truth.values() if sis is not None)
    matched = sum(n for (_, outcome), n in rows.items() if outcome == "matched")
    correct = sum(right.values())
    print(f"{len(reports):,} AP records ({present:,} in the roster), {len(roster):,} roster rows")
    print(
        f"read the roster CSV: {read_time[0]:.2f} s ({read_time[1]:.2f} s CPU); "
        f"match: {match_time[0]:.2f} s ({match_time[1]:.2f} s CPU)\n"
    )
    print("| tier | matched | right | precision | review | unmatched |")
    print("|---|---|---|---|---|---|")
    for tier in ("1", "2", "3", "4", "-"):
        done = rows[(tier, "matched")]
        share = f"{100 * right[tier] / done:.2f} %" if done else "-"
        print(
            f"| {tier} | {done:,} | {right[tier]:,} | {share} | {rows[(tier, 'review')]:,} "
            f"| {rows[(tier, 'unmatched')]:,} |"
        )
    print(
        f"\nprecision of matched: {100 * correct / max(matched, 1):.3f} % "
        f"({matched - correct} wrong)"
    )
    print(f"recall of matched: {100 * correct / max(present, 1):.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
