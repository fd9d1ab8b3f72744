"""apscores export: load files for a student system from a checked TOML map."""

from __future__ import annotations

import csv
import datetime as dt
import pickle
from pathlib import Path

import pytest

from apscores.catalog import ExamStatus
from apscores.changes import merge
from apscores.cli import main
from apscores.errors import ConfigurationError, MapError, ParseError, UnmappedExamError
from apscores.export import (
    CHANGE_FILTERS,
    DEFAULT_TEST_DATE,
    FIELDS,
    SisMap,
    export_rows,
    load_map,
    write_export_csv,
)
from apscores.files import write_csv, write_txt
from apscores.models import ExamScore, ScoreReport, Student

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
JUL, AUG = dt.date(2024, 7, 8), dt.date(2024, 8, 12)


def report(*exams: ExamScore, ap_id: str = "A0000001", when: dt.date = JUL) -> ScoreReport:
    student = Student("Doe", "Jo", date_of_birth=dt.date(2006, 3, 4))
    return ScoreReport(ap_id, student, "0789", exams=exams, date_updated=when, report_date=when)


def map_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sis.toml"
    path.write_text(text, encoding="utf-8")
    return path


COLUMNS = '[columns]\nID = "ap_id"\nTEST = "sis_test_code"\nDATE = "test_date"\n'


class TestTestDates:
    def test_05_15_in_the_exams_own_admin_year_and_names_by_year(self, tmp_path: Path) -> None:
        sis = load_map(map_file(tmp_path, COLUMNS + 'NAME = "exam_name"\n'))
        assert (sis.test_month, sis.test_day) == DEFAULT_TEST_DATE == (5, 15)
        rows = list(export_rows([report(ExamScore("93", 2021, 4), ExamScore("93", 2019, 5))], sis))
        assert rows == [
            {
                "ID": "A0000001",
                "TEST": "AP93",
                "DATE": dt.date(2021, 5, 15),
                "NAME": "World History: Modern",
            },
            {
                "ID": "A0000001",
                "TEST": "AP93",
                "DATE": dt.date(2019, 5, 15),
                "NAME": "World History",
            },
        ]

    def test_another_day_and_a_date_format(self, tmp_path: Path) -> None:
        text = COLUMNS + '[test_date]\nmonth = 5\nday = 1\n[output]\ndate_format = "%m/%d/%Y"\n'
        sis = load_map(map_file(tmp_path, text))
        out = tmp_path / "load.csv"
        rows = export_rows([report(ExamScore("07", 2024, 3))], sis)
        assert write_export_csv(rows, sis, out) == 1
        assert out.read_text(encoding="utf-8").splitlines() == [
            "ID,TEST,DATE",
            "A0000001,AP07,05/01/2024",
        ]
        assert out.stat().st_mode & 0o777 == 0o600


class TestTestCodes:
    def test_banner_example_codes_by_admin_year(self) -> None:
        sis = load_map(EXAMPLES / "banner-map.toml")
        assert sis.require_mapping
        exams = (ExamScore("93", 2019, 4), ExamScore("93", 2020, 4), ExamScore("65", 2024, 5))
        assert [sis.sis_code(e) for e in exams] == ["AP9W", "AP93", "AP65"]
        (row, *_) = export_rows([report(*exams)], sis)
        assert row == {
            "ID": "A0000001",
            "LAST_NAME": "Doe",
            "FIRST_NAME": "Jo",
            "BIRTH_DATE": dt.date(2006, 3, 4),
            "TEST_CODE": "AP9W",
            "TEST_SCORE": 4,
            "TEST_DATE": dt.date(2019, 5, 15),
            "SOURCE": "AP",
        }

    def test_an_unmapped_exam_is_refused_with_its_code(self, tmp_path: Path) -> None:
        text = COLUMNS + '[tests]\nrequire_mapping = true\n[tests.codes]\n"07" = "USH"\n7 = "X"\n'
        with pytest.raises(MapError, match="exam 07 is listed twice"):
            load_map(map_file(tmp_path, text))
        text = COLUMNS + '[tests]\nrequire_mapping = true\n[tests.codes]\n7 = "USH"\n'
        sis = load_map(map_file(tmp_path, text))
        reports = [
            report(ExamScore("07", 2024, 4), ExamScore("65", 2024, 3), ExamScore("10", 2024, 5)),
            report(ExamScore("65", 2024, 2), ExamScore("65", 2023, 1), ap_id="B0000002"),
        ]
        with pytest.raises(UnmappedExamError) as caught:
            list(export_rows(reports, sis))
        assert caught.value.exams == {"65": {2024: 2, 2023: 1}, "10": {2024: 1}}
        assert str(caught.value) == (
            "no SIS test code for exam code(s) 10, 65; add them under [tests.codes] in the "
            "map. Exams by code (admin year: exams): 10 African American Studies (2024: 1); "
            "65 Precalculus (2023: 1, 2024: 2)"
        )
        assert isinstance(caught.value, ConfigurationError)
        again = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
        assert again.exams == caught.value.exams

    def test_a_listed_code_without_the_year_is_unmapped_even_when_not_required(
        self, tmp_path: Path
    ) -> None:
        text = COLUMNS + '[tests.codes]\n"93" = [{ code = "AP93", admin_year_from = 2020 }]\n'
        sis = load_map(map_file(tmp_path, text))
        assert sis.sis_code(ExamScore("93", 2021, 3)) == "AP93"
        assert sis.sis_code(ExamScore("93", 2019, 3)) is None
        assert sis.sis_code(ExamScore("36", 2019, 3)) == "AP36"  # default: prefix + code

    def test_command_writes_nothing_and_names_the_codes(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        scores = tmp_path / "scores.txt"
        write_txt([report(ExamScore("07", 2024, 4), ExamScore("11", 2024, 3))], scores)
        out = tmp_path / "load.csv"
        argv = ["export", str(scores), "--map", str(EXAMPLES / "banner-map.toml"), "-o", str(out)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "no SIS test code for exam code(s) 11; add them under [tests.codes]" in err
        assert "11 Unknown exam 11 (2024: 1)" in err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.txt"]


class TestInclude:
    def test_statuses(self) -> None:
        sis = SisMap(
            load_map(EXAMPLES / "generic-map.toml").columns,
            statuses=frozenset({ExamStatus.SCORED}),
        )
        exams = (ExamScore("07", 2024, 4), ExamScore("36", 2024, None, ("98",)))
        assert [r["exam_code"] for r in export_rows([report(*exams)], sis)] == ["07"]

    def test_changes_since_the_previous_view(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = [
            report(
                ExamScore("93", 2024, 4),
                ExamScore("36", 2024, None, ("98",)),
                ExamScore("07", 2024, 3),
            )
        ]
        after = [
            report(
                ExamScore("93", 2024, 2),
                ExamScore("36", 2024, 5),
                ExamScore("07", 2024, 3),
                when=AUG,
            ),
            report(ExamScore("66", 2024, 5), ap_id="B0000002", when=AUG),
        ]
        write_csv(before, tmp_path / "state.csv")
        write_txt(after, tmp_path / "new.txt")
        generic = (EXAMPLES / "generic-map.toml").read_text(encoding="utf-8")
        text = generic + '\n[include]\nchanges = ["new_exam", "score_lowered", "released"]\n'
        sis = map_file(tmp_path, text)
        out = tmp_path / "load.csv"
        argv = ["export", str(tmp_path / "new.txt"), "--map", str(sis), "-o", str(out)]
        assert main([*argv, "--since", str(tmp_path / "state.csv")]) == 0
        with out.open(encoding="utf-8", newline="") as handle:
            rows = [
                (r["ap_id"], r["exam_code"], r["score"], r["change"])
                for r in csv.DictReader(handle)
            ]
        assert rows == [
            ("A0000001", "93", "2", "score_lowered"),
            ("A0000001", "36", "5", "released"),
            ("B0000002", "66", "5", "new_exam"),
        ]
        assert "3 record(s) read, 2 student(s); 3 exam row(s) written" in capsys.readouterr().out
        unchanged = map_file(tmp_path, generic + '\n[include]\nchanges = ["unchanged"]\n')
        assert (
            main(
                [*argv[:3], str(unchanged), "-o", str(out), "--since", str(tmp_path / "state.csv")]
            )
            == 0
        )
        assert out.read_text(encoding="utf-8").count("\n") == 2  # header and exam 07

    def test_changes_of_a_merge_are_the_latest_per_exam(self, tmp_path: Path) -> None:
        text = COLUMNS + 'CHANGE = "change"\n[include]\nchanges = ["score_lowered", "new_exam"]\n'
        sis = load_map(map_file(tmp_path, text))
        result = merge(
            [report(ExamScore("93", 2024, 4), ExamScore("07", 2024, 3))],
            [report(ExamScore("93", 2024, 2), ExamScore("07", 2024, 3), when=AUG)],
        )
        assert [(r["TEST"], r["CHANGE"]) for r in export_rows(result, sis)] == [
            ("AP93", "score_lowered"),
            ("AP07", "new_exam"),
        ]
        with pytest.raises(ConfigurationError, match="pass a merge result, or since="):
            list(export_rows(result.current, sis))
        assert "unchanged" in CHANGE_FILTERS
        assert "new_student" not in CHANGE_FILTERS


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("", None, "columns", "[columns] is required"),
        ('[columns]\nA = "ap_id"\nB = "scores"\n', 3, "columns.B", "unknown value for column 'B'"),
        ('[columns]\nA = "ap_id"\n[test_date]\nmonth = 13\n', 4, "test_date.month", "from 1 to 12"),
        (
            '[columns]\nA = "ap_id"\n[test_date]\nmonth = 2\nday = 29\n',
            5,
            "test_date.day",
            "02/29 is not a date in every year",
        ),
        ('[columns]\nA = "ap_id"\n[test_date]\nday = true\n', 4, "test_date.day", "whole number"),
        ('[colums]\nA = "ap_id"\n', 1, "colums", "unknown table [colums]"),
        (
            '[columns]\nA = "ap_id"\n[tests]\nrequired = true\n',
            4,
            "tests.required",
            "unknown key 'required'",
        ),
        (
            '[columns]\nA = "ap_id"\n[tests]\nrequire_mapping = "yes"\n',
            4,
            "tests.require_mapping",
            "true or false",
        ),
        ('[columns]\nA = "ap_id"\n[tests]\nprefix = 1\n', 4, "tests.prefix", "prefix must be text"),
        ('[columns]\nA = "ap_id"\n[tests]\ncodes = 1\n', 4, "tests.codes", "must be a table"),
        ('[columns]\nA = "ap_id"\n[tests.codes]\n"7A" = "X"\n', 4, "tests.codes.7A", "two digits"),
        ('[columns]\nA = "ap_id"\n[tests.codes]\n"07" = ""\n', 4, "tests.codes.07", "must be text"),
        (
            '[columns]\nA = "ap_id"\n[tests.codes]\n"07" = [{ code = "X", to = 1 }]\n',
            4,
            "tests.codes.07",
            "a list of { code",
        ),
        (
            '[columns]\nA = "ap_id"\n[tests.codes]\n'
            '"93" = [{ code = "X", admin_year_from = 2021, admin_year_to = 2020 }]\n',
            4,
            "tests.codes.93",
            "before admin_year_from",
        ),
        (
            '[columns]\nA = "ap_id"\n[tests.codes]\n"93" = [{ code = "X", admin_year_to = 19 }]\n',
            4,
            "tests.codes.93",
            "from 1950 to 2100",
        ),
        (
            '[columns]\nA = "ap_id"\n[include]\nstatuses = ["scored", "graded"]\n',
            4,
            "include.statuses",
            "unknown status 'graded'",
        ),
        ('[columns]\nA = "ap_id"\n[include]\nchanges = []\n', 4, "include.changes", "is a list"),
        (
            '[columns]\nA = "ap_id"\n[tests.codes]\n'
            '"93" = [{ code = "X" }, { code = "Y", admin_year_from = 2020 }]\n',
            4,
            "tests.codes.93",
            "two codes for exam 93 cover the same admin years",
        ),
        (
            '[columns]\nA = { text = "x", value = "ap_id" }\n',
            2,
            "columns.A",
            "unknown value for column 'A'",
        ),
        (
            '[columns]\nA = "ap_id"\n[output]\ndate_format = "mm/dd/yyyy"\n',
            4,
            "output.date_format",
            "strftime",
        ),
        ("columns = 1\n", None, "columns", "[columns] must be a table"),
        ('[columns]\nA = "ap_id"\n[include]\nwhat = 1\n', 4, "include.what", "unknown key 'what'"),
    ],
)
def test_a_bad_map_names_line_and_key(
    tmp_path: Path, text: str, line: int | None, field: str, message: str
) -> None:
    path = map_file(tmp_path, text)
    with pytest.raises(MapError) as caught:
        load_map(path)
    error = caught.value
    assert isinstance(error, ParseError)
    assert (error.line, error.field) == (line, field)
    assert message in error.reason
    assert str(error).startswith(f"{path}: ")


def test_bad_toml_and_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = map_file(tmp_path, '[columns]\nA = "ap_id\n')
    with pytest.raises(MapError, match=r"not valid TOML: .*line 2"):
        load_map(path)
    scores = tmp_path / "s.txt"
    write_txt([report(ExamScore("07", 2024, 4))], scores)
    assert main(["export", str(scores), "--map", str(path), "-o", str(tmp_path / "o.csv")]) == 2
    assert f"apscores: {path}: input: not valid TOML" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "none.txt"), "--map", str(path), "-o", "o.csv"]) == 2
    assert f"apscores: {tmp_path / 'none.txt'}: no such file\n" == capsys.readouterr().err
    credit = tmp_path / "credit.csv"
    credit.write_text(
        "ap_id,last_name,first_name,di_code,admin_year,exam_code,exam_name,"
        "score,status,outcome,course\n",
        encoding="utf-8",
    )
    generic = str(EXAMPLES / "generic-map.toml")
    argv = ["export", str(scores), "--map", generic, "--since", str(credit), "-o", "o.csv"]
    assert main(argv) == 2
    assert (
        f"{credit} is a credit CSV (apscores credit -o); --since needs" in capsys.readouterr().err
    )


def test_every_field_has_a_value(tmp_path: Path) -> None:
    text = "[columns]\n" + "".join(f'{name} = "{name}"\n' for name in FIELDS)
    sis = load_map(map_file(tmp_path, text))
    reports = [report(ExamScore("36", 2024, 4, ("20", "34")), ExamScore("36", 2024, 1))]
    (row,) = export_rows(reports, sis)  # the repeated block counts once, as in merge
    assert set(row) == set(FIELDS)
    assert (row["irregularity_codes"], row["status"], row["change"]) == (
        "20;34",
        "scored_with_note",
        "",
    )
    assert (row["di_code"], row["exam_code"], row["sis_test_code"]) == ("0789", "36", "AP36")
    assert (row["report_date"], row["admin_year"]) == (JUL, 2024)
