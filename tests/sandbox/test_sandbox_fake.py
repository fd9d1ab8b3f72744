"""Synthetic score reports: deterministic, realistic, and fit for both file formats."""

from __future__ import annotations

import collections
import io
import itertools

import pytest

from apscores.catalog import ExamStatus, irregularity, is_known_exam
from apscores.files import read_csv, read_txt, write_csv, write_txt
from apscores.sandbox import fake_reports, iter_fake_reports

REPORTS = fake_reports(200, seed=7)


def test_same_seed_same_reports_other_seed_other_reports() -> None:
    assert fake_reports(50, seed=7) == REPORTS[:50]
    assert fake_reports(50, seed=8) != REPORTS[:50]


def test_iterator_matches_the_list_and_can_start_anywhere() -> None:
    assert list(iter_fake_reports(20, seed=7)) == REPORTS[:20]
    assert list(iter_fake_reports(5, seed=7, start=100)) == REPORTS[100:105]
    endless = iter_fake_reports(None, seed=7)
    assert list(itertools.islice(endless, 3)) == REPORTS[:3]


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="n must be"):
        fake_reports(-1)
    with pytest.raises(ValueError, match="4 digits"):
        fake_reports(1, di_code="12345")
    assert fake_reports(0) == []


def test_ap_ids_are_unique_and_8_characters() -> None:
    many = fake_reports(3000, seed=3)
    ids = [report.ap_id for report in many]
    assert len(set(ids)) == len(ids)
    assert all(len(ap_id) == 8 and ap_id.isalnum() for ap_id in ids)
    assert any(ap_id.isdigit() for ap_id in ids)  # old-style AP numbers
    assert any(not ap_id.isdigit() for ap_id in ids)  # AP IDs with letters


def test_college_is_the_di_code() -> None:
    for report in fake_reports(10, di_code="0042"):
        assert report.di_code == "0042"
        assert report.college.code == "0042"
        assert report.college.name


def test_a_handful_of_high_schools_reused() -> None:
    schools = collections.Counter(report.high_school for report in REPORTS)
    assert 3 <= len(schools) <= 10
    assert all(len(school.code) == 6 and school.code.isdigit() for school in schools)
    assert max(schools.values()) > 10


def test_names_fit_the_txt_widths_and_latin_1() -> None:
    many = fake_reports(2000, seed=11)
    for report in many:
        student = report.student
        assert len(student.last_name) <= 15
        assert len(student.first_name) <= 12
        assert len(student.middle_initial) <= 1
        for org in (report.college, report.high_school):
            assert len(org.name) <= 30
            assert len(org.contact_name) <= 30
        for address in (student.address, report.college.address, report.high_school.address):
            for line in (address.street_1, address.street_2, address.street_3):
                assert len(line) <= 30
                line.encode("latin-1")
        (student.last_name + student.first_name).encode("latin-1")
    names = {r.student.last_name for r in many} | {r.student.first_name for r in many}
    assert {"Muñoz", "José"} <= names
    assert any(not name.isascii() for name in names)


def test_exam_mix_is_realistic() -> None:
    exams = [exam for report in REPORTS for exam in report.exams]
    per_student = len(exams) / len(REPORTS)
    assert 2.5 <= per_student <= 5
    assert all(1 <= len(report.exams) <= 30 for report in REPORTS)
    assert all(is_known_exam(exam.code) for exam in exams)
    years = {exam.admin_year for exam in exams}
    assert years == set(range(2017, 2026))
    world_history = {exam.admin_year >= 2020 for exam in exams if exam.code == "93"}
    assert world_history == {True, False}  # both "World History" and "World History: Modern"
    names = {exam.name for exam in exams if exam.code == "93"}
    assert names == {"World History", "World History: Modern"}
    assert {"14", "15"} <= {exam.code for exam in exams}
    for exam in exams:
        if exam.code in ("10", "65"):
            assert exam.admin_year >= 2024
    codes = {exam.code for report in fake_reports(1000, seed=2) for exam in report.exams}
    assert {"10", "16", "65", "69"} <= codes


def test_exams_most_recent_first_and_not_repeated() -> None:
    for report in REPORTS:
        years = [exam.admin_year for exam in report.exams]
        assert years == sorted(years, reverse=True)
        codes = [exam.code for exam in report.exams]
        assert len(codes) == len(set(codes))
        if "68" in codes:
            assert "69" in codes  # Calculus BC comes with its AB subscore


def test_score_distribution() -> None:
    exams = [exam for report in fake_reports(1000, seed=1) for exam in report.exams]
    scores = collections.Counter(exam.score for exam in exams)
    assert set(scores) == {1, 2, 3, 4, 5, None}
    scored = sum(count for score, count in scores.items() if score is not None)
    assert 0.2 <= scores[3] / scored <= 0.35
    assert scores[None] / len(exams) < 0.08


def test_irregularity_codes() -> None:
    exams = [exam for report in fake_reports(1000, seed=1) for exam in report.exams]
    statuses = collections.Counter(exam.status for exam in exams)
    assert statuses[ExamStatus.SCORED] > 0.85 * len(exams)
    for status in (
        ExamStatus.SCORED_WITH_NOTE,
        ExamStatus.PENDING,
        ExamStatus.WITHHELD,
        ExamStatus.CANCELED,
    ):
        assert statuses[status] > 0
    assert ExamStatus.UNKNOWN not in statuses
    for exam in exams:
        assert len(exam.irregularity_codes) <= 2
        if "96" in exam.irregularity_codes or "98" in exam.irregularity_codes:
            assert exam.score is None
        if exam.status is ExamStatus.SCORED_WITH_NOTE:
            assert exam.score is not None
            assert all(irregularity(c).category.value == "scored_with_note"
                       for c in exam.irregularity_codes)  # fmt: skip


def test_pending_only_in_the_latest_year() -> None:
    for report in fake_reports(1000, seed=1):
        latest = report.exams[0].admin_year
        for exam in report.exams:
            if exam.status is ExamStatus.PENDING:
                assert exam.admin_year == latest


def test_awards_follow_scores() -> None:
    awarded = [report for report in REPORTS if report.awards]
    assert awarded
    for report in awarded:
        assert len(report.awards) <= 6
        years = [award.year for award in report.awards]
        assert years == sorted(years, reverse=True)
        good = [e for e in report.exams if e.score is not None and e.score >= 3]
        assert len(good) >= 3
        assert all(not award.name.startswith("Unknown") for award in report.awards)


def test_dates_are_ordered_and_follow_the_latest_admin_year() -> None:
    for report in REPORTS:
        assert report.date_released is not None
        assert report.date_updated is not None
        assert report.report_date is not None
        assert report.date_released <= report.date_updated <= report.report_date
        latest = report.exams[0].admin_year
        assert report.date_released.year == latest
        assert report.date_released.month == 7
        assert report.student.date_of_birth is not None
        assert 14 <= latest - report.student.date_of_birth.year <= 19


def test_student_codes() -> None:
    for report in REPORTS:
        student = report.student
        assert student.gender in {"M", "F", "U", "A"}
        assert len(student.race_ethnicity_response) == 11
        assert set(student.race_ethnicity_response) <= {"Y", "N"}
        assert len(student.derived_aggregate_race_ethnicity) == 2
        assert student.race_ethnicity  # at least one category marked
        assert len(student.address.zip_code) == 9
    assert any(report.previous_schools for report in fake_reports(300, seed=1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_through_txt(seed: int) -> None:
    reports = fake_reports(300, seed=seed)
    buffer = io.BytesIO()
    assert write_txt(reports, buffer) == 300
    with read_txt(io.BytesIO(buffer.getvalue())) as reader:
        assert list(reader) == reports


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_through_csv(seed: int) -> None:
    reports = fake_reports(300, seed=seed)
    buffer = io.BytesIO()
    assert write_csv(reports, buffer) == 300
    with read_csv(io.BytesIO(buffer.getvalue())) as reader:
        assert list(reader) == reports
