"""Excel output: codes and IDs stay text (leading zeros survive), dates are dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from apscores.cli import main
from apscores.errors import ConfigurationError
from apscores.export import _xlsx, write_xlsx
from apscores.files import write_txt
from apscores.models import ExamScore, ScoreReport, Student
from apscores.tables import column_names

BORN = dt.date(2006, 3, 4)


def reports() -> list[ScoreReport]:
    student = Student("Doe", "Jo", date_of_birth=BORN)
    return [
        ScoreReport(
            "00412345",
            student,
            "0789",
            exams=(ExamScore("07", 2024, 4), ExamScore("93", 2019, None, ("98",))),
            date_updated=dt.date(2024, 7, 1),
            report_date=dt.date(2024, 7, 8),
        ),
        ScoreReport(
            "B0000002",
            Student("Roe", "Al"),
            "0789",
            exams=(ExamScore("65", 2024, 5),),
            date_updated=dt.date(2024, 7, 1),
            report_date=dt.date(2024, 7, 8),
        ),
    ]


def test_round_trip_keeps_leading_zeros_and_dates(tmp_path: Path) -> None:
    out = tmp_path / "scores.xlsx"
    assert write_xlsx(reports(), out) == 3
    assert openpyxl.load_workbook(out).sheetnames == ["Exams"]
    workbook = openpyxl.load_workbook(out)
    sheet = workbook["Exams"]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert header == column_names(long=True)
    first = dict(zip(header, next(sheet.iter_rows(min_row=2)), strict=True))
    assert (first["di_code"].value, first["di_code"].data_type) == ("0789", "s")
    assert (first["exam_code"].value, first["exam_code"].data_type) == ("07", "s")
    assert (first["ap_id"].value, first["ap_id"].data_type) == ("00412345", "s")
    assert first["score"].value == 4
    assert first["score"].data_type == "n"
    born = first["date_of_birth"]
    assert isinstance(born, openpyxl.cell.Cell)
    assert born.is_date
    assert first["date_of_birth"].value == dt.datetime(2006, 3, 4)
    assert first["middle_initial"].value is None  # blank, not an empty string
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [(v[header.index("exam_name")], v[header.index("score")]) for v in values] == [
        ("United States History", 4),
        ("World History", None),
        ("Precalculus", 5),
    ]
    assert sheet.freeze_panes == "A2"
    assert out.stat().st_mode & 0o777 == 0o600


def test_students_sheet(tmp_path: Path) -> None:
    out = tmp_path / "scores.xlsx"
    write_xlsx(reports(), out, students=True)
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["Exams", "Students"]
    rows = [[cell.value for cell in row] for row in workbook["Students"].iter_rows()]
    assert rows[0] == column_names(long=False)
    assert [row[0] for row in rows[1:]] == ["00412345", "B0000002"]
    assert rows[1][rows[0].index("report_date")] == dt.datetime(2024, 7, 8)


def test_too_many_rows_leave_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xlsx, "MAX_SHEET_ROWS", 3)
    out = tmp_path / "scores.xlsx"
    with pytest.raises(ConfigurationError, match="more than 2 rows do not fit one Excel sheet"):
        write_xlsx(reports(), out)
    assert list(tmp_path.iterdir()) == []


def test_convert_to_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = tmp_path / "scores.txt"
    write_txt(reports(), scores)
    out = tmp_path / "scores.xlsx"
    assert main(["convert", str(scores), "-o", str(out), "--students-sheet"]) == 0
    assert "wrote 3 rows (one per exam)" in capsys.readouterr().err
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["Exams", "Students"]
    assert workbook["Exams"]["G2"].value == "0789"
    assert main(["convert", str(scores), "--to", "xlsx", "--wide", "-o", str(out)]) == 2
    assert "xlsx is one row per exam" in capsys.readouterr().err
    assert main(["convert", str(scores), "--students-sheet", "-o", str(tmp_path / "a.csv")]) == 2
    assert "--students-sheet is for --to xlsx" in capsys.readouterr().err


def test_missing_xlsxwriter_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib

    real = importlib.import_module

    def without(name: str, *args: object) -> object:
        if name == "xlsxwriter":
            raise ImportError(name)
        return real(name)

    monkeypatch.setattr(importlib, "import_module", without)
    with pytest.raises(
        ConfigurationError,
        match=r"xlsxwriter is not installed; install it with: pip install xlsxwriter openpyxl "
        r"\(the 'apscores\[excel\]' extra\)",
    ):
        write_xlsx(reports(), tmp_path / "x.xlsx")
    assert list(tmp_path.iterdir()) == []
