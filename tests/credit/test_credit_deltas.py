"""Credit deltas: credit granted, revoked and changed between two views, and --since."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores.changes import ChangeKind, merge
from apscores.cli import main
from apscores.credit import DELTA_COLUMNS, CreditOutcome, CreditPolicy, DeltaKind, write_delta_csv
from apscores.files import write_csv, write_txt
from apscores.models import ExamScore, ScoreReport, Student

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "credit-policy.csv"
JUL, AUG = dt.date(2024, 7, 8), dt.date(2024, 8, 12)


@pytest.fixture(scope="module")
def policy() -> CreditPolicy:
    return CreditPolicy.from_file(EXAMPLE)


def view(when: dt.date, *exams: ExamScore, ap_id: str = "A0000001") -> ScoreReport:
    student = Student("Doe", "Jo")
    return ScoreReport(ap_id, student, "0789", exams=exams, date_updated=when, report_date=when)


class TestDelta:
    def test_downward_rescore_below_the_minimum_revokes(self, policy: CreditPolicy) -> None:
        before = view(JUL, ExamScore("93", 2021, 4), ExamScore("36", 2021, 5))
        after = view(AUG, ExamScore("93", 2021, 2), ExamScore("36", 2021, 5))
        (delta,) = policy.delta([before], [after])
        assert delta.kind is DeltaKind.REVOKED
        assert delta.change is ChangeKind.SCORE_LOWERED
        assert delta.before is not None
        assert delta.before.course == "HIST 112 The Modern World"
        assert delta.after.outcome is CreditOutcome.BELOW_MINIMUM
        assert delta.detail == (
            "score 4 -> 2; revoked HIST 112 The Modern World (rule line 4: min score 4, "
            "3 hour(s)): score 2 is below the minimum 4"
        )
        row = delta.as_row()
        assert (row["old_score"], row["new_score"], row["old_credit_hours"]) == ("4", "2", "3")
        assert (row["delta"], row["change"], row["old_rule_line"]) == (
            "revoked",
            "score_lowered",
            "4",
        )
        assert row["new_course"] == row["new_rule_line"] == ""

    @pytest.mark.parametrize(
        ("old", "new", "kind", "change"),
        [
            (ExamScore("36", 2024, None, ("98",)), ExamScore("36", 2024, 4), "granted", "released"),
            (ExamScore("36", 2024, None, ("96",)), ExamScore("36", 2024, 4), "granted", "scored"),
            (ExamScore("36", 2024, 3), ExamScore("36", 2024, 4), "granted", "score_raised"),
            (ExamScore("36", 2024, 4), ExamScore("36", 2024, None, ("98",)), "revoked", "withheld"),
            (ExamScore("36", 2024, 4), ExamScore("36", 2024, 4, ("19",)), "revoked", "canceled"),
            (
                ExamScore("36", 2024, 4),
                ExamScore("36", 2024, None, ("02",)),
                "revoked",
                "score_removed",
            ),
            (ExamScore("93", 2019, 4), ExamScore("93", 2019, 5), "changed", "score_raised"),
            (ExamScore("93", 2019, 5), ExamScore("93", 2019, 4), "changed", "score_lowered"),
        ],
    )
    def test_each_kind_of_move(
        self, policy: CreditPolicy, old: ExamScore, new: ExamScore, kind: str, change: str
    ) -> None:
        (delta,) = policy.delta([view(JUL, old)], [view(AUG, new)])
        assert (delta.kind.value, delta.change.value) == (kind, change)

    def test_tier_change_names_both_rules(self, policy: CreditPolicy) -> None:
        (delta,) = policy.delta(
            [view(JUL, ExamScore("93", 2019, 4))], [view(AUG, ExamScore("93", 2019, 5))]
        )
        assert delta.after.credit_hours == Decimal(6)
        assert delta.detail == (
            "score 4 -> 5; HIST 110 World Civilizations (rule line 2: min score 4, 3 hour(s)) -> "
            "HIST 110 + HIST 111 World Civilizations I-II (rule line 3: min score 5, 6 hour(s))"
        )

    def test_no_move_no_delta(self, policy: CreditPolicy) -> None:
        same_rule = (ExamScore("36", 2024, 4), ExamScore("36", 2024, 5))  # one rule covers both
        still_none = (ExamScore("36", 2024, 2), ExamScore("36", 2024, 3))
        noted = (ExamScore("36", 2024, 4), ExamScore("36", 2024, 4, ("20",)))
        for old, new in (same_rule, still_none, noted):
            assert policy.delta([view(JUL, old)], [view(AUG, new)]) == ()

    def test_new_students_and_exams_are_granted_and_missing_is_no_news(
        self, policy: CreditPolicy
    ) -> None:
        before = [view(JUL, ExamScore("36", 2024, 4), ExamScore("07", 2024, 5))]
        after = [
            view(AUG, ExamScore("36", 2024, 4), ExamScore("90", 2024, 5)),
            view(AUG, ExamScore("66", 2024, 4), ap_id="B0000002"),
        ]
        moved = policy.delta(before, after)
        assert [(d.ap_id, d.exam.code, d.kind.value, d.change.value) for d in moved] == [
            ("A0000001", "90", "granted", "new_exam"),
            ("B0000002", "66", "granted", "new_exam"),
        ]
        assert moved[0].before is None
        assert moved[0].detail == "new exam; granted STAT 200 Elementary Statistics by " + (
            "rule line 18: min score 4, 3 hour(s)"
        )

    def test_csv(self, policy: CreditPolicy, tmp_path: Path) -> None:
        moved = policy.delta(
            [view(JUL, ExamScore("93", 2021, 4))], [view(AUG, ExamScore("93", 2021, 3))]
        )
        assert write_delta_csv(moved, tmp_path / "d.csv") == 1
        with (tmp_path / "d.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert tuple(rows[0]) == DELTA_COLUMNS
        assert rows[0]["di_code"] == "0789"
        assert rows[0]["exam_name"] == "World History: Modern"
        assert (tmp_path / "d.csv").stat().st_mode & 0o777 == 0o600


_exams = st.builds(
    ExamScore,
    code=st.sampled_from(["93", "36", "66"]),
    admin_year=st.sampled_from([2019, 2021]),
    score=st.one_of(st.none(), st.integers(1, 5)),
    irregularity_codes=st.sampled_from([(), ("98",), ("02",), ("19",), ("20",)]),
)


@settings(max_examples=150, deadline=None)
@given(old=st.lists(_exams, max_size=4), new=st.lists(_exams, max_size=4))
def test_previous_grants_plus_delta_are_the_current_grants(
    old: list[ExamScore], new: list[ExamScore]
) -> None:
    policy = CreditPolicy.from_file(EXAMPLE)
    before = merge([view(JUL, *old)]).current
    current = merge([view(JUL, *old)], [view(AUG, *new)]).current  # keeps vanished exams

    def grants(reports: tuple[ScoreReport, ...]) -> dict[tuple[int, str], str]:
        return {
            (r.exam.admin_year, r.exam.code): r.course
            for r in policy.evaluate_many(reports)
            if r.outcome is CreditOutcome.AWARDED
        }

    expected = grants(before)
    for delta in policy.delta(before, current):
        key = (delta.exam.admin_year, delta.exam.code)
        if delta.kind is DeltaKind.REVOKED:
            del expected[key]
        else:
            assert (key in expected) == (delta.kind is DeltaKind.CHANGED)
            expected[key] = delta.after.course
    assert expected == grants(current)


class TestCommand:
    def test_since_previous_merged_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        july = [
            view(JUL, ExamScore("93", 2024, 4), ExamScore("36", 2024, None, ("98",))),
            view(JUL, ExamScore("66", 2024, 4), ap_id="B0000002"),
        ]
        august = [view(AUG, ExamScore("93", 2024, 2), ExamScore("36", 2024, 5))]
        write_txt(july, tmp_path / "july.txt")
        write_csv(august, tmp_path / "august.csv")
        state = tmp_path / "state.csv"
        assert main(["merge", str(tmp_path / "july.txt"), "-o", str(state)]) == 0
        out = tmp_path / "changes.csv"
        argv = ["credit", str(tmp_path / "august.csv"), "--policy", str(EXAMPLE)]
        assert main([*argv, "--since", str(state), "-o", str(out)]) == 0
        with out.open(encoding="utf-8", newline="") as handle:
            rows = [
                (r["delta"], r["exam_code"], r["change"], r["detail"])
                for r in csv.DictReader(handle)
            ]
        assert rows == [
            (
                "revoked",
                "93",
                "score_lowered",
                "score 4 -> 2; revoked HIST 112 The Modern World (rule line 4: min score 4, "
                "3 hour(s)): score 2 is below the minimum 4",
            ),
            (
                "granted",
                "36",
                "released",
                "score blank -> 5; status withheld -> scored; irregularity codes 98 -> none; "
                "granted ENGL 101 Composition by rule line 12: min score 4, 3 hour(s)",
            ),
        ]
        printed = capsys.readouterr().out
        assert f"2 student(s) compared with {state}; granted: 1, revoked: 1, changed: 0" in printed
        assert out.stat().st_mode & 0o777 == 0o600

    def test_several_files_without_since(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_txt([view(JUL, ExamScore("36", 2024, 4))], tmp_path / "a.txt")
        write_csv([view(JUL, ExamScore("66", 2024, 3), ap_id="B0000002")], tmp_path / "b.csv")
        out = tmp_path / "credit.csv"
        files = [str(tmp_path / "a.txt"), str(tmp_path / "b.csv")]
        assert main(["credit", *files, "--policy", str(EXAMPLE), "-o", str(out)]) == 0
        assert "2 exam(s) evaluated, 3 credit hour(s) awarded" in capsys.readouterr().out

    def test_a_credit_csv_is_not_a_previous_state(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        scores = tmp_path / "a.txt"
        write_txt([view(JUL, ExamScore("36", 2024, 4))], scores)
        credit = tmp_path / "credit.csv"
        base = ["credit", str(scores), "--policy", str(EXAMPLE)]
        assert main([*base, "-o", str(credit)]) == 0
        capsys.readouterr()
        out = tmp_path / "delta.csv"
        assert main([*base, "--since", str(credit), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"{credit} is a credit CSV (apscores credit -o); --since needs" in err
        assert not out.exists()
        deltas = tmp_path / "deltas.csv"
        assert main([*base, "--since", str(scores), "-o", str(deltas)]) == 0
        assert main([*base, "--since", str(deltas), "-o", str(out)]) == 2
        assert f"{deltas} is a credit CSV" in capsys.readouterr().err
        assert main([*base, "--since", str(tmp_path / "nope.csv"), "-o", str(out)]) == 2
        assert f"apscores: --since {tmp_path / 'nope.csv'}: no such file" in capsys.readouterr().err
