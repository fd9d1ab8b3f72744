"""Records: derived properties, immutability, value equality."""

from __future__ import annotations

import attrs
import pytest

from apscores.catalog import ExamStatus
from apscores.models import (
    RACE_ETHNICITY_CATEGORIES,
    Award,
    ExamScore,
    ScoreReport,
    Student,
)


def test_full_name_skips_blank_parts() -> None:
    assert Student("Muñoz", "Ana", "L").full_name == "Ana L. Muñoz"
    assert Student("Okafor", "Ben").full_name == "Ben Okafor"
    assert Student("", "").full_name == ""


def test_race_ethnicity_reads_the_y_flags() -> None:
    assert len(RACE_ETHNICITY_CATEGORIES) == 11
    student = Student("A", "B", race_ethnicity_response="NYNNNNNNNYN")
    assert student.race_ethnicity == ("Mexican", "White")
    assert Student("A", "B").race_ethnicity == ()
    assert Student("A", "B", race_ethnicity_response="YYY").race_ethnicity == (
        "Cuban",
        "Mexican",
        "Puerto Rican",
    )


def test_exam_properties() -> None:
    exam = ExamScore("93", 2019, None, ("96",))
    assert exam.name == "World History"
    assert exam.status is ExamStatus.PENDING
    assert exam.is_known
    assert not ExamScore("XY", 2024, 3).is_known
    assert ExamScore("07", 2024, 5).status is ExamStatus.SCORED


def test_award_name() -> None:
    assert Award("01", 2024).name == "AP Scholar"


def test_records_are_frozen_and_hashable() -> None:
    report = ScoreReport("X1", Student("A", "B"), "1234")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        report.ap_id = "X2"  # type: ignore[misc]
    assert hash(report) == hash(ScoreReport("X1", Student("A", "B"), "1234"))
    assert report.to_dict()["di_code"] == "1234"


def test_reprs_carry_no_name_birth_date_or_street() -> None:
    """Reprs reach logs and tracebacks: they name the AP ID, never the student."""
    import datetime as dt

    from apscores.models import Address, ScoreReport, Student

    student = Student(
        "Zzyzx",
        "Quetzal",
        middle_initial="Q",
        date_of_birth=dt.date(2007, 2, 3),
        address=Address("12 Secret Lane", zip_code="98765"),
    )
    report = ScoreReport("A1B2C3D4", student, "1234")
    for text in (repr(report), repr(student), repr(student.address), repr([report])):
        for secret in ("Zzyzx", "Quetzal", "2007", "Secret", "98765"):
            assert secret not in text, text
    assert "A1B2C3D4" in repr(report)
    assert student.last_name == "Zzyzx"  # the values are all there
