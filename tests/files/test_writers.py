"""Writers: any report the layout can hold reads back equal, from TXT and from CSV."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _golden import ANA_REPORT, BEN_REPORT, reports
from apscores.errors import EmptyFileError, UnwritableRecordError
from apscores.files import read_csv, read_txt, write_csv, write_txt
from apscores.files._detect import read
from apscores.models import Address, Award, ExamScore, Organization, PreviousSchool, ScoreReport
from apscores.serialize import from_json, to_json

#: What a spreadsheet makes of a long number or a code with a decimal point.
SPREADSHEET_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?[Ee][+-][0-9]+|[0-9]+\.[0-9]+")
SLOW = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def txt_round_trip(items: list[ScoreReport]) -> list[ScoreReport]:
    out = io.BytesIO()
    assert write_txt(items, out) == len(items)
    if not items:  # no record is an empty file, which a reader refuses
        with pytest.raises(EmptyFileError):
            read_txt(io.BytesIO(out.getvalue()))
        return []
    return list(read_txt(io.BytesIO(out.getvalue())))


def csv_round_trip(items: list[ScoreReport]) -> list[ScoreReport]:
    out = io.BytesIO()
    assert write_csv(items, out, raw=True) == len(items)  # raw: the value, as written
    return list(read_csv(io.BytesIO(out.getvalue())))


@pytest.mark.slow
@SLOW
@given(st.lists(reports(), max_size=4))
def test_txt_and_csv_round_trips_agree(items: list[ScoreReport]) -> None:
    assert txt_round_trip(items) == items
    refused = ""
    try:
        back = csv_round_trip(items)
    except UnwritableRecordError as error:  # a code read_csv takes for spreadsheet damage
        refused = str(error)
    else:
        assert back == items
    if refused:  # a number a spreadsheet made, or a digit code read_csv pads
        found = re.search(r"value '([^']*)' reads (as a number|back as '(\d+)')", refused)
        assert found is not None, refused
        if found[3] is None:
            assert SPREADSHEET_NUMBER.fullmatch(found[1].strip())
        else:
            assert found[3] == found[1].zfill(len(found[3])) != found[1]


def test_csv_writer_refuses_a_digit_code_a_reader_would_pad() -> None:
    short = attrs.evolve(ANA_REPORT.exams[0], code="7")
    report = attrs.evolve(ANA_REPORT, exams=(short, *ANA_REPORT.exams[1:]))
    with pytest.raises(UnwritableRecordError, match="'exam_code_01' value '7' reads back as '07'"):
        csv_round_trip([report])
    assert txt_round_trip([report]) == [report]


def test_csv_writer_refuses_a_code_a_reader_takes_for_spreadsheet_damage() -> None:
    for zip_code in ("0.0", "1E+05", "12.5"):
        report = attrs.evolve(
            ANA_REPORT,
            high_school=attrs.evolve(
                ANA_REPORT.high_school,
                address=attrs.evolve(ANA_REPORT.high_school.address, zip_code=zip_code),
            ),
        )
        with pytest.raises(UnwritableRecordError, match="'hs_zip_code' value"):
            csv_round_trip([report])
        assert txt_round_trip([report]) == [report]  # TXT has no spreadsheet to fear


@pytest.mark.slow
@SLOW
@given(reports())
def test_read_sniffs_what_the_writers_wrote(report: ScoreReport) -> None:
    for write in (write_txt, functools.partial(write_csv, raw=True)):
        out = io.BytesIO()
        write([report], out)
        assert list(read(io.BytesIO(out.getvalue()))) == [report]


@pytest.mark.slow
@SLOW
@given(reports())
def test_converter_round_trip(report: ScoreReport) -> None:
    assert from_json(to_json(report)) == report
    assert report.to_dict()["ap_id"] == report.ap_id


def test_golden_reports_round_trip_everywhere() -> None:
    items = [ANA_REPORT, BEN_REPORT]
    assert txt_round_trip(items) == csv_round_trip(items) == items


def _born(day: dt.date) -> ScoreReport:
    return attrs.evolve(BEN_REPORT, student=attrs.evolve(BEN_REPORT.student, date_of_birth=day))


exam = ExamScore("07", 2024, 5)


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (attrs.evolve(BEN_REPORT, ap_id="  "), "AP ID is blank"),
        (_born(dt.date(1949, 1, 1)), "date_of_birth"),
        (attrs.evolve(BEN_REPORT, date_released=dt.date(2050, 1, 1)), "date_released"),
        (attrs.evolve(BEN_REPORT, exams=(exam,) * 31), "more than 30 exams"),
        (attrs.evolve(BEN_REPORT, exams=(ExamScore(" ", 2024, 5),)), "blank code"),
        (attrs.evolve(BEN_REPORT, exams=(ExamScore("07", 2024, 6),)), "not 1-5"),
        (attrs.evolve(BEN_REPORT, exams=(ExamScore("07", 1900, 3),)), r"exams\[0\]\.admin_year"),
        (attrs.evolve(BEN_REPORT, exams=(ExamScore("07", 2024, None, ("1", "2", "3")),)), "0-2"),
        (attrs.evolve(BEN_REPORT, exams=(ExamScore("07", 2024, None, ("",)),)), "0-2"),
        (attrs.evolve(BEN_REPORT, awards=(Award("01", 2020),) * 7), "more than 6 awards"),
        (attrs.evolve(BEN_REPORT, awards=(Award("", 2020),)), "blank code"),
        (attrs.evolve(BEN_REPORT, awards=(Award("01", 2077),)), r"awards\[0\]\.year"),
        (attrs.evolve(BEN_REPORT, previous_schools=(PreviousSchool(None, "1"),) * 3), "previous"),
        (
            attrs.evolve(BEN_REPORT, high_school=Organization(address=Address(country_code="US"))),
            r"no field for high_school\.address\.country_code",
        ),
        (
            attrs.evolve(
                BEN_REPORT, college=Organization("1234", address=Address(country_code="US"))
            ),
            r"no field for college\.address\.country_code",
        ),
        (attrs.evolve(BEN_REPORT, college=Organization("9999")), "differs from di_code"),
    ],
)
def test_writers_refuse_what_would_not_read_back(report: ScoreReport, message: str) -> None:
    for write in (write_txt, write_csv):
        with pytest.raises(UnwritableRecordError, match=message) as caught:
            write([report], io.BytesIO())
        assert repr(report.ap_id) in str(caught.value)


def test_di_code_falls_back_to_the_college_code() -> None:
    report = attrs.evolve(BEN_REPORT, di_code="", college=Organization("1234"))
    assert txt_round_trip([report]) == [BEN_REPORT]
