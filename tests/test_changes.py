"""Change kinds: what each change between two versions of an exam asks a loader to do."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores import merging
from apscores.catalog import ExamStatus
from apscores.changes import EXAM_CHANGES, Change, ChangeKind, classify, compare, describe, merge
from apscores.models import ExamScore, ScoreReport, Student

JUL, AUG, SEP = dt.date(2024, 7, 8), dt.date(2024, 8, 12), dt.date(2024, 9, 16)


def version(when: dt.date, *exams: ExamScore, ap_id: str = "A0000001") -> ScoreReport:
    return ScoreReport(
        ap_id, Student("Doe", "Jo"), "1234", exams=exams, date_updated=when, report_date=when
    )


def three_files() -> list[list[ScoreReport]]:
    """93 rescored 4 -> 2; 36 withheld, then released; 07 scored, then canceled (19);
    65 pending (96), then scored. A second student changes nothing."""
    other = version(JUL, ExamScore("20", 2024, 3), ap_id="B0000002")
    july = [
        version(
            JUL,
            ExamScore("93", 2024, 4),
            ExamScore("36", 2024, None, ("98",)),
            ExamScore("07", 2024, 3),
            ExamScore("65", 2024, None, ("96",)),
        ),
        other,
    ]
    august = [
        version(
            AUG,
            ExamScore("93", 2024, 2),
            ExamScore("36", 2024, None, ("98",)),
            ExamScore("07", 2024, 3, ("19",)),
            ExamScore("65", 2024, 4),
        ),
        other,
    ]
    september = [
        version(
            SEP,
            ExamScore("93", 2024, 2),
            ExamScore("36", 2024, 5),
            ExamScore("07", 2024, 3, ("19",)),
            ExamScore("65", 2024, 4),
        )
    ]
    return [july, august, september]


def exam_kinds(changes: tuple[Change, ...] | list[Change]) -> list[tuple[str, str | None, str]]:
    return [(c.ap_id, c.exam_code, c.kind.value) for c in changes]


EXPECTED = [
    ("A0000001", None, "new_student"),
    ("A0000001", "93", "new_exam"),
    ("A0000001", "36", "new_exam"),
    ("A0000001", "07", "new_exam"),
    ("A0000001", "65", "new_exam"),
    ("A0000001", "93", "score_lowered"),
    ("A0000001", "07", "canceled"),
    ("A0000001", "65", "scored"),
    ("A0000001", "36", "released"),
    ("B0000002", None, "new_student"),
    ("B0000002", "20", "new_exam"),
]


class TestThreeFiles:
    def test_each_change_has_its_kind(self) -> None:
        result = merge(*three_files())
        assert exam_kinds(result.changes) == EXPECTED
        lowered = result.changes[5]
        assert (lowered.old, lowered.new) == (ExamScore("93", 2024, 4), ExamScore("93", 2024, 2))
        assert lowered.report_date == AUG
        assert lowered.detail == "score 4 -> 2"
        canceled = result.changes[6]
        assert canceled.new is not None
        assert canceled.new.status is ExamStatus.CANCELED
        assert canceled.detail == "status scored -> canceled; irregularity codes none -> 19"
        assert result.changes[8].date_updated == SEP

    def test_current_view_keeps_the_lower_score(self) -> None:
        current = merge(*three_files()).report_for("A0000001")
        assert current is not None
        assert {e.code: e.score for e in current.exams} == {"93": 2, "36": 5, "07": 3, "65": 4}
        assert {e.code: e.status.value for e in current.exams}["07"] == "canceled"

    def test_comparing_views_gives_the_same_kinds(self) -> None:
        july, august, september = three_files()
        first = merge(july).current
        second = merge(july, august).current
        third = merge(july, august, september).current
        steps = [*compare(first, second), *compare(second, third)]
        assert exam_kinds(steps) == [
            ("A0000001", "93", "score_lowered"),
            ("A0000001", "07", "canceled"),
            ("A0000001", "65", "scored"),
            ("A0000001", "36", "released"),
        ]
        fresh = list(compare([], first))
        assert exam_kinds(fresh) == [k for k in EXPECTED if k[2] in ("new_student", "new_exam")]

    def test_old_names_still_import_from_merging(self) -> None:
        with pytest.deprecated_call(match=r"apscores\.merging\.ChangeKind is deprecated"):
            assert merging.ChangeKind is ChangeKind
        with pytest.deprecated_call(match=r"use apscores\.changes\.merge"):
            assert merging.merge is merge
        with pytest.raises(AttributeError, match="no attribute 'nothing'"):
            merging.nothing  # noqa: B018
        assert ChangeKind("score_changed") is ChangeKind.SCORE_CHANGED


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_kinds_do_not_depend_on_input_order(data: st.DataObject) -> None:
    files = three_files()
    shuffled = [data.draw(st.permutations(f)) for f in data.draw(st.permutations(files))]
    assert exam_kinds(merge(*shuffled).changes) == EXPECTED
    flat = data.draw(st.permutations([r for f in files for r in f]))
    assert exam_kinds(merge(flat).changes) == EXPECTED


def exam(score: int | None, *codes: str) -> ExamScore:
    return ExamScore("93", 2021, score, codes)


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (exam(3), exam(5), ChangeKind.SCORE_RAISED),
        (exam(5), exam(3, "20"), ChangeKind.SCORE_LOWERED),  # a note does not hide a drop
        (exam(4), exam(None, "98"), ChangeKind.WITHHELD),
        (exam(None, "96"), exam(None, "98"), ChangeKind.WITHHELD),
        (exam(None, "98"), exam(4), ChangeKind.RELEASED),
        (exam(None, "98"), exam(None, "96"), ChangeKind.RELEASED),
        (exam(None, "98"), exam(None, "94"), ChangeKind.CANCELED),
        (exam(4), exam(4, "94"), ChangeKind.CANCELED),
        (exam(None, "96"), exam(None, "16"), ChangeKind.CANCELED),  # no score: makeup not taken
        (exam(None, "02"), exam(3), ChangeKind.SCORED),
        (exam(None), exam(3), ChangeKind.SCORED),
        (exam(None, "19"), exam(3), ChangeKind.SCORED),
        (exam(3), exam(None, "02"), ChangeKind.SCORE_REMOVED),
        (exam(3), exam(3, "20"), ChangeKind.SCORE_CHANGED),
        (exam(None, "02"), exam(None, "96"), ChangeKind.SCORE_CHANGED),
        (exam(None, "98"), exam(None, "98", "20"), ChangeKind.SCORE_CHANGED),
        (exam(None, "19"), exam(None, "92"), ChangeKind.SCORE_CHANGED),
    ],
)
def test_classify(old: ExamScore, new: ExamScore, kind: ChangeKind) -> None:
    assert classify(old, new) is kind
    assert kind in EXAM_CHANGES


_scores = st.builds(
    ExamScore,
    code=st.just("93"),
    admin_year=st.just(2021),
    score=st.one_of(st.none(), st.integers(1, 5)),
    irregularity_codes=st.sampled_from([(), ("98",), ("02",), ("20",), ("19",), ("16",)]),
)


@settings(max_examples=300, deadline=None)
@given(old=_scores, new=_scores)
def test_classify_agrees_with_the_statuses(old: ExamScore, new: ExamScore) -> None:
    kind = classify(old, new)
    withheld = ExamStatus.WITHHELD
    if new.status is withheld:
        expected = ChangeKind.SCORE_CHANGED if old.status is withheld else ChangeKind.WITHHELD
        assert kind is expected
    if kind in (ChangeKind.SCORE_RAISED, ChangeKind.SCORE_LOWERED):
        assert old.status.earns_credit
        assert new.status.earns_credit
        assert old.score is not None
        assert new.score is not None
        assert (new.score > old.score) == (kind is ChangeKind.SCORE_RAISED)
    if kind is ChangeKind.SCORED:
        assert new.status.earns_credit
        assert not old.status.earns_credit
    if old.status.earns_credit and new.status.earns_credit and old.score != new.score:
        assert kind in (ChangeKind.SCORE_RAISED, ChangeKind.SCORE_LOWERED)


@settings(max_examples=150, deadline=None)
@given(before=st.lists(_scores, max_size=1), after=st.lists(_scores, max_size=1))
def test_merge_and_compare_agree_on_two_versions(
    before: list[ExamScore], after: list[ExamScore]
) -> None:
    old, new = version(JUL, *before), version(AUG, *after)
    from_merge = [c for c in merge([new, old]).changes if c.date_updated == AUG]
    assert exam_kinds(from_merge) == exam_kinds(list(compare([old], [new])))


def test_compare_reports_missing_exams_and_ignores_absent_students() -> None:
    old = version(JUL, ExamScore("93", 2021, 4), ExamScore("07", 2021, 3))
    new = version(AUG, ExamScore("93", 2021, 4))
    (missing,) = compare([old, version(JUL, ap_id="B0000002")], [new])
    assert missing.kind is ChangeKind.EXAM_MISSING
    assert (missing.exam_code, missing.old, missing.new) == ("07", ExamScore("07", 2021, 3), None)
    assert missing.as_row()["old_score"] == "3"


def test_describe_lists_every_difference() -> None:
    old = ExamScore("93", 2021, 4, (), "", "A")
    new = ExamScore("93", 2021, None, ("98",), "Y", "B")
    assert describe(old, new) == (
        "score 4 -> blank; status scored -> withheld; irregularity codes none -> 98; "
        "suppression flag '' -> 'Y'; class section 'A' -> 'B'"
    )
