"""Credit policies: loading with row/column errors, and turning each exam into a decision."""

from __future__ import annotations

import csv
import datetime as dt
import io
import pickle
import re
from decimal import Decimal
from pathlib import Path

import pytest

from apscores.cli import main
from apscores.credit import (
    CREDIT_COLUMNS,
    CreditOutcome,
    CreditPolicy,
    CreditResult,
    CreditRule,
    write_credit_csv,
)
from apscores.errors import MissingColumnsError, ParseError, PolicyError
from apscores.files import write_txt
from apscores.models import ExamScore, ScoreReport, Student

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "credit-policy.csv"
HEADER = "exam_code,min_score,admin_year_from,admin_year_to,course,credit_hours,note\n"


def student(*exams: ExamScore, ap_id: str = "A0000001") -> ScoreReport:
    day = dt.date(2024, 7, 8)  # every record of a file carries both dates
    return ScoreReport(
        ap_id, Student("Doe", "Jo"), "1234", exams=exams, date_updated=day, report_date=day
    )


def policy_file(tmp_path: Path, body: str, *, header: str = HEADER, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def example() -> CreditPolicy:
    return CreditPolicy.from_file(EXAMPLE)


def decide(
    policy: CreditPolicy, code: str, year: int, score: int | None, *codes: str
) -> CreditResult:
    (result,) = policy.evaluate(student(ExamScore(code, year, score, codes)))
    return result


class TestExamplePolicy:
    @pytest.mark.parametrize(
        ("year", "score", "outcome", "name"),
        [
            (2024, 3, CreditOutcome.BELOW_MINIMUM, "Physics C: Mechanics"),
            (2024, 4, CreditOutcome.AWARDED, "Physics C: Mechanics"),
            (2025, 3, CreditOutcome.AWARDED, "Physics C: Mechanics"),  # the revised exam
        ],
    )
    def test_physics_before_and_after_the_2025_revision(
        self, example: CreditPolicy, year: int, score: int, outcome: CreditOutcome, name: str
    ) -> None:
        result = decide(example, "80", year, score)
        assert (result.outcome, result.exam.name) == (outcome, name)

    def test_physics_1_keeps_its_name_across_the_2025_revision(self, example: CreditPolicy) -> None:
        assert decide(example, "83", 2024, 4).exam.name == "Physics 1"
        assert decide(example, "83", 2025, 4).exam.name == "Physics 1"
        assert decide(example, "83", 2025, 4).course == "PHYS 101 General Physics I"

    def test_world_history_2019_and_2021_get_different_rules(self, example: CreditPolicy) -> None:
        old = student(ExamScore("93", 2019, 4))
        modern = student(ExamScore("93", 2021, 4))
        (old_result,) = example.evaluate(old)
        (modern_result,) = example.evaluate(modern)
        assert old_result.outcome is modern_result.outcome is CreditOutcome.AWARDED
        assert old_result.course == "HIST 110 World Civilizations"
        assert modern_result.course == "HIST 112 The Modern World"
        assert old_result.exam.name == "World History"
        assert modern_result.exam.name == "World History: Modern"

    @pytest.mark.parametrize(
        ("year", "score", "course", "hours"),
        [
            (2019, 5, "HIST 110 + HIST 111 World Civilizations I-II", Decimal(6)),
            (2019, 4, "HIST 110 World Civilizations", Decimal(3)),
            (2020, 5, "HIST 112 The Modern World", Decimal(3)),
            (2020, 4, "HIST 112 The Modern World", Decimal(3)),
        ],
    )
    def test_highest_satisfied_minimum_wins(
        self, example: CreditPolicy, year: int, score: int, course: str, hours: Decimal
    ) -> None:
        (result,) = example.evaluate(student(ExamScore("93", year, score)))
        assert (result.course, result.credit_hours) == (course, hours)

    @pytest.mark.parametrize(("year", "score"), [(2019, 3), (2020, 3), (2021, 1)])
    def test_below_minimum(self, example: CreditPolicy, year: int, score: int) -> None:
        (result,) = example.evaluate(student(ExamScore("93", year, score)))
        assert result.outcome is CreditOutcome.BELOW_MINIMUM
        assert result.rule is None
        assert result.credit_hours == 0
        assert result.detail == f"score {score} is below the minimum 4"

    def test_renamed_art_exams(self, example: CreditPolicy) -> None:
        before, after = student(ExamScore("14", 2019, 3)), student(ExamScore("14", 2020, 3))
        assert example.evaluate(before)[0].outcome is CreditOutcome.BELOW_MINIMUM
        (result,) = example.evaluate(after)
        assert result.outcome is CreditOutcome.AWARDED
        assert result.exam.name == "Drawing"
        for code in ("15", "16"):
            for year in (2019, 2020):
                assert example.evaluate(student(ExamScore(code, year, 4)))[0].rule is not None
        assert example.rules_for("15", 2019)[0].note.startswith("named Studio Art")
        assert example.rules_for("15", 2020)[0].note.startswith("named 2-D Art")

    def test_placement_only_rule_and_tiers(self, example: CreditPolicy) -> None:
        (three,) = example.evaluate(student(ExamScore("66", 2023, 3)))
        (four,) = example.evaluate(student(ExamScore("66", 2023, 4)))
        assert three.course == "Placement into MATH 151 Calculus I"
        assert three.credit_hours == 0
        assert (four.course, four.credit_hours) == ("MATH 151 Calculus I", Decimal(4))

    def test_year_bounds_are_inclusive(self, example: CreditPolicy) -> None:
        assert (
            example.evaluate(student(ExamScore("65", 2024, 4)))[0].outcome is CreditOutcome.AWARDED
        )
        assert (
            example.evaluate(student(ExamScore("65", 2023, 4)))[0].outcome is CreditOutcome.NO_RULE
        )

    @pytest.mark.parametrize(
        ("score", "codes", "status"),
        [
            (None, ("98",), "withheld"),
            (5, ("98",), "withheld"),
            (None, ("02",), "pending"),
            (None, ("19",), "canceled"),
            (5, ("94",), "canceled"),
            (None, (), "unknown"),
        ],
    )
    def test_scores_without_a_reported_grade_never_earn_credit(
        self, example: CreditPolicy, score: int | None, codes: tuple[str, ...], status: str
    ) -> None:
        (result,) = example.evaluate(student(ExamScore("93", 2021, score, codes)))
        assert result.outcome is CreditOutcome.NOT_ELIGIBLE
        assert result.status.value == status
        assert result.rule is None
        assert result.detail == f"{status}: never earns credit"

    def test_score_with_a_note_still_earns_credit(self, example: CreditPolicy) -> None:
        (result,) = example.evaluate(student(ExamScore("93", 2021, 5, ("20",))))
        assert result.status.value == "scored_with_note"
        assert result.outcome is CreditOutcome.AWARDED

    def test_no_rule(self, example: CreditPolicy) -> None:
        (biology, unknown) = example.evaluate(
            student(ExamScore("20", 2021, 5), ExamScore("XY", 2021, 5))
        )
        assert biology.outcome is unknown.outcome is CreditOutcome.NO_RULE
        assert biology.detail == "no rule for exam 20 (Biology) taken in 2021"
        assert "Unknown exam XY" in unknown.detail

    def test_evaluate_many_and_rows(self, example: CreditPolicy, tmp_path: Path) -> None:
        reports = [
            student(ExamScore("93", 2019, 5), ExamScore("20", 2019, 3), ap_id="A0000001"),
            student(ExamScore("14", 2021, 4), ap_id="B0000002"),
        ]
        results = list(example.evaluate_many(reports))
        assert [(r.ap_id, r.outcome.value) for r in results] == [
            ("A0000001", "awarded"),
            ("A0000001", "no_rule"),
            ("B0000002", "awarded"),
        ]
        target = tmp_path / "credit.csv"
        assert write_credit_csv(results, target) == 3
        with target.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert tuple(rows[0]) == CREDIT_COLUMNS
        assert rows[0]["exam_name"] == "World History"
        assert rows[0]["credit_hours"] == "6"
        assert rows[0]["rule_min_score"] == "5"
        assert rows[0]["rule_years"] == "'-2019"  # a leading '-': kept as text (OWASP)
        assert rows[0]["rule_line"] == "3"
        assert rows[0]["status"] == "scored"
        assert rows[1]["course"] == rows[1]["credit_hours"] == rows[1]["rule_line"] == ""
        assert rows[2]["rule_years"] == "2020-"
        assert write_credit_csv(results, target, raw=True) == 3
        with target.open(encoding="utf-8", newline="") as handle:
            assert next(csv.DictReader(handle))["rule_years"] == "-2019"

    def test_write_to_binary_handle(self, example: CreditPolicy) -> None:
        buffer = io.BytesIO()
        results = example.evaluate(student(ExamScore("93", 2019, None, ("98",))))
        assert write_credit_csv(results, buffer) == 1
        row = next(csv.DictReader(io.StringIO(buffer.getvalue().decode())))
        assert (row["score"], row["outcome"]) == ("", "not_eligible")


class TestRules:
    def test_overlap_rules(self) -> None:
        rule = CreditRule("93", 4, "X", Decimal(3), None, 2019)
        assert rule.overlaps(CreditRule("93", 4, "Y", Decimal(3), 2019, None))
        assert not rule.overlaps(CreditRule("93", 4, "Y", Decimal(3), 2020, None))
        assert not rule.overlaps(CreditRule("93", 5, "Y", Decimal(3), None, None))
        assert not rule.overlaps(CreditRule("07", 4, "Y", Decimal(3), None, 2019))

    def test_years_text(self) -> None:
        assert CreditRule("93", 4, "X", Decimal(3)).years == "all years"
        assert CreditRule("93", 4, "X", Decimal(3), 2015, 2019).years == "2015-2019"

    def test_policy_built_in_code_is_checked_too(self) -> None:
        rules = (CreditRule("93", 4, "X", Decimal(3)), CreditRule("93", 4, "Y", Decimal(3), 2020))
        with pytest.raises(PolicyError, match="overlaps an earlier rule"):
            CreditPolicy(rules)

    def test_tiers_with_overlapping_years_are_fine(self, tmp_path: Path) -> None:
        path = policy_file(tmp_path, "93,3,2015,2022,A,3,\n93,4,2020,,B,6,\n")
        policy = CreditPolicy.from_file(path)
        assert [r.course for r in policy.rules_for("93", 2021)] == ["B", "A"]
        assert decide(policy, "93", 2021, 3).course == "A"
        assert decide(policy, "93", 2021, 4).course == "B"


class TestLoading:
    def test_spreadsheet_habits_are_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.csv"
        path.write_text(
            "\ufeffExam Code,Min Score,Course,Credit Hours,Admin-Year-To\n"
            "7, 4 ,HIST 201,6,\n"
            ",,,,\n"
            "36,3,ENGL 101,3.5,2030\n",
            encoding="utf-8",
        )
        policy = CreditPolicy.from_file(path)
        first, second = policy.rules
        assert (first.exam_code, first.min_score, first.line) == ("07", 4, 2)
        assert (second.credit_hours, second.admin_year_to, second.line) == (Decimal("3.5"), 2030, 4)

    @pytest.mark.parametrize(
        ("row", "field", "message"),
        [
            ("99,4,,,X,3,", "exam_code", "unknown exam code '99'"),
            (",4,,,X,3,", "exam_code", "exam_code is required"),
            ("93,four,,,X,3,", "min_score", "must be a whole number"),
            ("93,,,,X,3,", "min_score", "min_score is required"),
            ("93,6,,,X,3,", "min_score", "from 1 to 5"),
            ("93,0,,,X,3,", "min_score", "from 1 to 5"),
            ("93,-1,,,X,3,", "min_score", "must be a whole number"),
            ("93,4,19,,X,3,", "admin_year_from", "four-digit admin year"),
            ("93,4,,2019.0,X,3,", "admin_year_to", "must be a whole number"),
            ("93,4,2021,2019,X,3,", "admin_year_to", "before admin_year_from (2021)"),
            ("93,4,,,,3,", "course", "course is required"),
            ("93,4,,,X,,", "credit_hours", "0 for placement only"),
            ("93,4,,,X,three,", "credit_hours", "must be a number"),
            ("93,4,,,X,-1,", "credit_hours", "0 or more"),
            ("93,4,,,X,NaN,", "credit_hours", "0 or more"),
        ],
    )
    def test_bad_values_name_row_and_column(
        self, tmp_path: Path, row: str, field: str, message: str
    ) -> None:
        path = policy_file(tmp_path, "07,4,,,HIST 201,6,\n\n" + row + "\n")
        with pytest.raises(PolicyError, match=re.escape(message)) as caught:
            CreditPolicy.from_file(path)
        assert isinstance(caught.value, ParseError)
        assert (caught.value.line, caught.value.field) == (4, field)
        assert str(caught.value).startswith(f"{path}: line 4, field {field!r}: ")

    def test_overlapping_rules_are_refused(self, tmp_path: Path) -> None:
        path = policy_file(tmp_path, "93,4,,2019,A,3,\n07,4,,,B,3,\n93,4,2019,,C,3,\n")
        with pytest.raises(PolicyError, match="overlaps the rule on line 2") as caught:
            CreditPolicy.from_file(path)
        assert (caught.value.line, caught.value.field) == (4, "admin_year_from")
        assert "years -2019 and 2019-" in str(caught.value)

    def test_two_open_ended_rules_overlap(self, tmp_path: Path) -> None:
        path = policy_file(tmp_path, "93,4,,,A,3,\n93,4,,,B,3,\n")
        with pytest.raises(PolicyError, match="all years and all years"):
            CreditPolicy.from_file(path)

    def test_missing_columns(self, tmp_path: Path) -> None:
        path = policy_file(tmp_path, "93,4\n", header="exam_code,min_score\n")
        with pytest.raises(MissingColumnsError) as caught:
            CreditPolicy.from_file(path)
        assert caught.value.missing == ["course", "credit_hours"]

    def test_unknown_column(self, tmp_path: Path) -> None:
        header = "exam_code,min_score,course,credit_hours,admin_year_form\n"
        path = policy_file(tmp_path, "93,4,A,3,2019\n", header=header)
        with pytest.raises(PolicyError, match="unknown column 'admin_year_form'") as caught:
            CreditPolicy.from_file(path)
        assert (caught.value.line, caught.value.field) == (1, "admin_year_form")

    def test_duplicate_column(self, tmp_path: Path) -> None:
        header = "exam_code,min_score,course,credit_hours,Course\n"
        path = policy_file(tmp_path, "93,4,A,3,B\n", header=header)
        with pytest.raises(PolicyError, match="'course' appears twice"):
            CreditPolicy.from_file(path)

    def test_too_many_values(self, tmp_path: Path) -> None:
        path = policy_file(tmp_path, "93,4,,,A,3,,extra\n")
        with pytest.raises(PolicyError, match="8 values but the header has 7") as caught:
            CreditPolicy.from_file(path)
        assert caught.value.line == 2

    def test_empty_file_and_no_rules(self, tmp_path: Path) -> None:
        with pytest.raises(PolicyError, match="empty"):
            CreditPolicy.from_file(policy_file(tmp_path, "", header=""))
        with pytest.raises(PolicyError, match="no rules"):
            CreditPolicy.from_file(policy_file(tmp_path, "\n"))

    def test_policy_error_pickles(self, tmp_path: Path) -> None:
        with pytest.raises(PolicyError) as caught:
            CreditPolicy.from_file(policy_file(tmp_path, "93,9,,,A,3,\n"))
        again = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
        assert type(again) is PolicyError
        assert str(again) == str(caught.value)


class TestToml:
    def test_toml_policy(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.toml"
        path.write_text(
            "[[rule]]\nexam_code = 93\nmin_score = 4\nadmin_year_to = 2019\n"
            'course = "HIST 110"\ncredit_hours = 3.5\n\n'
            '[[rule]]\nexam_code = "93"\nmin_score = 4\nadmin_year_from = 2020\n'
            'course = "HIST 112"\ncredit_hours = 3\nnote = "modern"\n',
            encoding="utf-8",
        )
        policy = CreditPolicy.from_file(path)
        assert decide(policy, "93", 2019, 4).course == "HIST 110"
        assert policy.rules[0].credit_hours == Decimal("3.5")
        assert policy.rules[1].line is None

    @pytest.mark.parametrize(
        ("text", "field", "message", "line"),
        [
            ("not = [valid", None, "not valid TOML", None),
            ('title = "no rules"\n', "rule", r"needs \[\[rule\]\] tables", None),
            ("rule = [1]\n", None, "number 1: not a table", None),
            (
                '[[rule]]\nexam_code = "93"\nmin_score = 4\ncourse = "A"\ncredit_hours = 3\n'
                "minscore = 4\n",
                "minscore",
                "number 1: unknown key 'minscore'",
                6,
            ),
            (
                '[[rule]]\nexam_code = "93"\ncourse = "A"\ncredit_hours = 3\n',
                "min_score",
                "req",
                None,
            ),
            (
                '[[rule]]\nexam_code = "93"\nmin_score = true\ncourse = "A"\ncredit_hours = 3\n',
                "min_score",
                r"\[\[rule\]\] number 1: min_score must be a number, not true or false",
                3,
            ),
        ],
    )
    def test_bad_toml(
        self, tmp_path: Path, text: str, field: str | None, message: str, line: int | None
    ) -> None:
        path = tmp_path / "rules.TOML"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(PolicyError, match=message) as caught:
            CreditPolicy.from_file(path)
        assert caught.value.field == field
        assert caught.value.line == line


# --- command line ---------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    assert argv[0] == "credit"
    return main(list(argv))  # the whole command: its messages and exit codes


class TestCommand:
    def test_credit_end_to_end(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        scores = tmp_path / "scores.txt"
        write_txt(
            [
                student(ExamScore("93", 2019, 5), ExamScore("93", 2021, 4), ap_id="A0000001"),
                student(ExamScore("14", 2019, 3), ExamScore("36", 2021, None, ("98",)), ap_id="B2"),
            ],
            scores,
        )
        out = tmp_path / "credit.csv"
        argv = ("credit", str(scores), "--policy", str(EXAMPLE), "-o", str(out))
        assert run_cli(*argv) == 0
        with out.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [(r["ap_id"], r["exam_name"], r["outcome"]) for r in rows] == [
            ("A0000001", "World History", "awarded"),
            ("A0000001", "World History: Modern", "awarded"),
            ("B2", "Studio Art: Drawing Portfolio", "below_minimum"),
            ("B2", "English Language and Composition", "not_eligible"),
        ]
        assert [r["course"] for r in rows[:2]] == [
            "HIST 110 + HIST 111 World Civilizations I-II",
            "HIST 112 The Modern World",
        ]
        printed = capsys.readouterr().out
        assert "4 exam(s) evaluated, 9 credit hour(s) awarded" in printed
        assert "awarded: 2, no_rule: 0, not_eligible: 1, below_minimum: 1" in printed

    def test_bad_policy(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        policy = policy_file(tmp_path, "93,7,,,A,3,\n")
        out = tmp_path / "credit.csv"
        argv = ("credit", str(tmp_path / "none.txt"), "--policy", str(policy), "-o", str(out))
        assert run_cli(*argv) == 2
        err = capsys.readouterr().err
        assert f"apscores: {policy}: line 2, field 'min_score'" in err
        assert not out.exists()

    def test_unreadable_score_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        scores = tmp_path / "missing.txt"
        argv = ("credit", str(scores), "--policy", str(EXAMPLE), "-o", str(tmp_path / "c.csv"))
        assert run_cli(*argv) == 2
        assert f"apscores: {scores}" in capsys.readouterr().err
        assert list(tmp_path.iterdir()) == []

    def test_damaged_score_file_is_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        scores = tmp_path / "cut.txt"
        scores.write_bytes(b"X" * 300 + b"\n")
        argv = ("credit", str(scores), "--policy", str(EXAMPLE), "-o", str(tmp_path / "c.csv"))
        assert run_cli(*argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"apscores: {scores}: line 1 is 300 columns")
        assert err.count("\n") == 1
        assert not (tmp_path / "c.csv").exists()
