"""Exams in any of the 30 blocks: one exam per filled block, empty blocks skipped, in every
reader (file-layout.md §1.3: PY950 skips a block whose exam code is blank; user-needs.md
item 3: "yield one ExamScore per filled slot ... skipping empty slots"). A file whose
blocks are not packed from block 01 loses no exam, in TXT or CSV, typed or columnar."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _golden import BEN, exam, k12_csv, txt_line
from apscores.files import check_file, read_csv, read_txt
from apscores.files._txt import parse_line
from apscores.models import ExamScore
from apscores.tables import to_arrow, txt_to_arrow

_EXAMS = st.tuples(
    st.sampled_from(["07", "93", "15", "65", "XY"]),
    st.integers(0, 99),
    st.sampled_from(["", "1", "5"]),
    st.sampled_from(["", "98", "20"]),
)


def _values(slots: dict[int, tuple[str, int, str, str]]) -> dict[str, str]:
    values = {**BEN, **{k: v for n in range(1, 31) for k, v in exam(n, "", "").items()}}
    for block, (code, year, grade, irregularity) in slots.items():
        values.update(exam(block, f"{year:02d}", code, grade, irregularity))
    return values


def _expected(slots: dict[int, tuple[str, int, str, str]]) -> tuple[ExamScore, ...]:
    return tuple(
        ExamScore(
            code,
            year + (2000 if year < 50 else 1900),
            int(grade) if grade else None,
            (irregularity,) if irregularity else (),
        )
        for _, (code, year, grade, irregularity) in sorted(slots.items())
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.integers(1, 30), _EXAMS, max_size=6))
def test_every_filled_block_is_an_exam_wherever_it_is(
    slots: dict[int, tuple[str, int, str, str]],
) -> None:
    values = _values(slots)
    line = txt_line(values)
    want = _expected(slots)
    (typed,) = list(read_txt(line))
    assert typed.exams == want
    assert parse_line(line.rstrip(b"\n").decode("latin-1")).exams == want
    again = list(read_txt(line * 3))  # the builder's caches: known items the second time
    assert all(report.exams == want for report in again)
    assert txt_to_arrow(line * 3).equals(to_arrow(again))
    csv_bytes = k12_csv([values]).encode("utf-8")
    (from_csv,) = list(read_csv(io.BytesIO(csv_bytes)))
    assert from_csv.exams == want
    # The check a download passes counts the exams the readers read.
    assert check_file(io.BytesIO(line * 2), "txt").exams == 2 * len(want)
    assert check_file(io.BytesIO(csv_bytes), "csv").exams == len(want)


def test_a_blank_block_between_two_exams() -> None:
    """The case a real file would show: block 02 empty, blocks 01 and 03 filled."""
    slots = {1: ("07", 24, "5", ""), 3: ("93", 19, "", "98")}
    (report,) = list(read_txt(txt_line(_values(slots))))
    assert [(e.code, e.admin_year, e.name) for e in report.exams] == [
        ("07", 2024, "United States History"),
        ("93", 2019, "World History"),
    ]
    assert report.exams[1].status.value == "withheld"
