"""Serialisation: plain dicts and JSON, dates as ISO strings, and back."""

from __future__ import annotations

import datetime as dt
import json

from _golden import ANA_REPORT, BEN_REPORT
from apscores.models import ExamScore
from apscores.serialize import from_dict, from_json, to_dict, to_json


def test_dict_shape() -> None:
    data = to_dict(ANA_REPORT)
    assert data["ap_id"] == "A1B2C3D4"
    assert data["student"]["date_of_birth"] == "2006-03-15"
    assert data["report_date"] == "2024-07-09"
    assert data["exams"][1] == {
        "code": "65",
        "admin_year": 2024,
        "score": None,
        "irregularity_codes": ["96"],
        "suppression_flag": "",
        "class_section": "",
    }
    assert data["date_updated"] == "2024-07-01"
    json.dumps(data)  # JSON-ready


def test_round_trips() -> None:
    for report in (ANA_REPORT, BEN_REPORT):
        assert from_dict(to_dict(report)) == report
        assert from_json(to_json(report)) == report
    assert "Muñoz" in to_json(ANA_REPORT)  # not escaped
    assert "\n" not in to_json(ANA_REPORT)


def test_other_record_types() -> None:
    exam = ExamScore("07", 2024, 5)
    assert from_dict(to_dict(exam), ExamScore) == exam
    assert from_json(to_json(exam), ExamScore) == exam
    assert (
        from_dict(
            {"ap_id": "X", "student": {"last_name": "A", "first_name": "B"}, "di_code": ""}
        ).report_date
        is None
    )
    assert isinstance(from_json(to_json(BEN_REPORT)).report_date, dt.date)


def test_to_dict_method_and_function_agree() -> None:
    for report in (ANA_REPORT, BEN_REPORT):
        assert report.to_dict() == to_dict(report)


def test_a_users_converter_hooks_cannot_change_ours() -> None:
    import cattrs

    theirs = cattrs.Converter()
    theirs.register_structure_hook(dt.date, lambda value, _: dt.date(1999, 1, 1))
    assert from_json(to_json(ANA_REPORT)) == ANA_REPORT
