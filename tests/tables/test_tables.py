"""Flat rows and typed data frames: one row per exam, names by admin year, typed columns."""

from __future__ import annotations

import builtins
import datetime as dt
import json
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from apscores.errors import ConfigurationError
from apscores.models import ExamScore, Organization, ScoreReport, Student
from apscores.tables import (
    COLUMN_KINDS,
    column_kind,
    jsonable,
    to_arrow,
    to_pandas,
    to_polars,
    to_rows,
)

JANE = ScoreReport(
    ap_id="1234ABCD",
    student=Student("Doe", "Jane", "Q", date_of_birth=dt.date(2006, 3, 4), gender="F"),
    di_code="1234",
    high_school=Organization(code="051234", name="Lincoln High"),
    exams=(
        ExamScore("93", 2021, 5),
        ExamScore("93", 2019, 3, class_section="A1"),
        ExamScore("14", 2020, None, ("01", "29")),
    ),
    date_released=dt.date(2021, 7, 8),
    report_date=dt.date(2021, 7, 9),
)
AL = ScoreReport(ap_id="99ZZ", student=Student("Roe", "Al"), di_code="1234")
BO = ScoreReport(
    ap_id="55BB", student=Student("Poe", "Bo"), di_code="5678", exams=(ExamScore("XY", 2024, 2),)
)


def test_long_rows_are_one_per_exam_named_by_year() -> None:
    rows = list(to_rows([JANE, AL, BO]))
    assert [(r["ap_id"], r["exam_code"], r["exam_name"]) for r in rows] == [
        ("1234ABCD", "93", "World History: Modern"),
        ("1234ABCD", "93", "World History"),
        ("1234ABCD", "14", "Drawing"),
        ("55BB", "XY", "Unknown exam XY"),
    ]
    first = rows[0]
    assert list(first) == list(COLUMN_KINDS)
    assert first["date_of_birth"] == dt.date(2006, 3, 4)
    assert first["high_school_code"] == "051234"
    assert first["score"] == 5
    assert first["status"] == "scored"
    assert first["date_updated"] is None
    assert rows[1]["class_section"] == "A1"
    assert rows[2]["score"] is None
    assert rows[2]["irregularity_codes"] == "01;29"
    assert rows[2]["status"] == "pending"


def test_rows_stream() -> None:
    def reports() -> Any:
        yield JANE
        raise AssertionError("to_rows read ahead")

    assert next(to_rows(reports()))["ap_id"] == "1234ABCD"


def test_wide_rows() -> None:
    rows = list(to_rows([JANE, AL], long=False))
    assert rows[0]["exam_01_name"] == "World History: Modern"
    assert rows[0]["exam_03_irregularity_codes"] == "01;29"
    assert "exam_01_code" not in rows[1]
    padded = list(to_rows([AL], long=False, max_exams=2))
    assert padded[0]["exam_02_score"] is None
    assert padded[0]["exam_01_code"] is None


def test_column_kinds() -> None:
    assert column_kind("score") == "int"
    assert column_kind("exam_name") == "category"
    assert column_kind("exam_07_admin_year") == "int"
    assert column_kind("exam_07_name") == "category"
    assert column_kind("exam_07_something") == "str"
    assert column_kind("unheard_of") == "str"


def test_jsonable() -> None:
    row = jsonable(next(to_rows([JANE])))
    assert row["date_of_birth"] == "2006-03-04"
    assert json.loads(json.dumps(row))["score"] == 5


def test_pandas_long_is_typed() -> None:
    frame = to_pandas([JANE, AL, BO])
    assert len(frame) == 4
    assert str(frame["score"].dtype) == "Int64"
    assert str(frame["admin_year"].dtype) == "Int64"
    assert pd.isna(frame["score"][2])
    assert isinstance(frame["exam_name"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["status"].dtype, pd.CategoricalDtype)
    assert pd.api.types.is_datetime64_any_dtype(frame["date_of_birth"])
    assert frame["date_of_birth"][0] == pd.Timestamp("2006-03-04")
    assert pd.isna(frame["date_updated"][0])
    assert pd.api.types.is_string_dtype(frame["ap_id"])
    assert set(frame["exam_name"].cat.categories) >= {"World History", "World History: Modern"}


def test_pandas_wide_pads_to_the_widest_student() -> None:
    frame = to_pandas([JANE, AL], long=False)
    assert len(frame) == 2
    assert "exam_03_score" in frame.columns
    assert "exam_04_score" not in frame.columns
    assert str(frame["exam_03_score"].dtype) == "Int64"
    assert pd.isna(frame["exam_01_score"][1])


def test_empty_frames() -> None:
    assert len(to_pandas([])) == 0
    assert next(iter(to_pandas([], long=False).columns)) == "ap_id"


def test_polars_is_typed() -> None:
    frame = to_polars([JANE, BO])
    assert frame.height == 4
    assert frame.schema["score"] == pl.Int64
    assert frame.schema["date_of_birth"] == pl.Date
    assert frame.schema["exam_name"] == pl.Categorical
    assert frame["score"].to_list() == [5, 3, None, 2]
    wide = to_polars([JANE, AL], long=False)
    assert wide.schema["exam_02_admin_year"] == pl.Int64


def test_arrow_is_typed() -> None:
    table = to_arrow([JANE, AL])
    assert table.num_rows == 3
    assert table.schema.field("report_date").type == pa.date32()
    assert table.schema.field("score").type == pa.int64()
    assert pa.types.is_dictionary(table.schema.field("exam_name").type)
    assert table.column("score").to_pylist() == [5, 3, None]
    assert to_arrow([JANE], long=False).num_rows == 1


@pytest.mark.parametrize(
    ("builder", "module", "extra"),
    [
        (to_pandas, "pandas", "pandas"),
        (to_polars, "polars", "polars"),
        (to_arrow, "pyarrow", "arrow"),
    ],
)
def test_missing_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, builder: Any, module: str, extra: str
) -> None:
    real_import = builtins.__import__

    def no_module(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == module or name.startswith(module + "."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, module)
    monkeypatch.setattr(builtins, "__import__", no_module)
    with pytest.raises(ConfigurationError, match=rf"pip install 'apscores\[{extra}\]'"):
        builder([JANE])


def test_report_repr_is_compact() -> None:
    assert repr(JANE) == f"<ScoreReport 1234ABCD DI {JANE.di_code}: 3 exams>"
    assert repr(BO) == f"<ScoreReport 55BB DI {BO.di_code}: 1 exam>"
    assert repr(ScoreReport("1", Student("", "Cher"), "1")) == "<ScoreReport 1 DI 1: 0 exams>"


def test_html_reprs_escape_values() -> None:
    sly = ScoreReport(
        ap_id="<i>1</i>",
        student=Student("<script>", "Eve", date_of_birth=dt.date(2005, 1, 2)),
        di_code="1234",
        exams=(ExamScore("93", 2019, 4, ("&",)),),
    )
    page = sly._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "&lt;i&gt;1&lt;/i&gt;" in page
    assert "born 2005-01-02" in page
    assert "<td>World History</td><td>93</td><td>2019</td><td>4</td>" in page
    assert "<td>&amp;</td>" in page
    assert "born" not in AL._repr_html_()
    one = JANE.exams[2]._repr_html_()
    assert one.count("<tr>") == 2
    assert "<td>Drawing</td>" in one
    assert "<td></td><td>pending</td><td>01 29</td>" in one
