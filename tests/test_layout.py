"""The layout tables: contiguous, no overlap, right length, and the checker refuses mistakes."""

from __future__ import annotations

import pytest

from apscores.layout import (
    EXAM_BLOCK_COUNT,
    EXAM_BLOCK_FIELDS,
    LAYOUT_910,
    LAYOUT_950,
    LAYOUTS,
    Field,
    Kind,
    Layout,
    check_layout,
    exam_block_start,
    layout_for_length,
)


def test_known_positions() -> None:
    assert LAYOUT_950.field("ap_id").slice == slice(0, 8)
    assert LAYOUT_950.field("college_code").start == 376
    assert LAYOUT_950.field("college_code").end == 381
    assert LAYOUT_950.field("admin_year_30").start == 858
    assert LAYOUT_950.field("derived_aggregate_race_ethnicity").start == 934
    assert LAYOUT_910.field("filler_901").end == 910
    assert exam_block_start(2) == 550
    assert len(LAYOUT_950.fields) == 272
    assert len(LAYOUT_910.fields) == 269
    assert sum(width for _, width, _ in EXAM_BLOCK_FIELDS) == 11
    assert EXAM_BLOCK_COUNT == 30


def test_shared_columns_are_identical() -> None:
    assert LAYOUT_950.fields[:-4] == LAYOUT_910.fields[:-1]


def test_field_lookup_names_the_missing_field() -> None:
    with pytest.raises(KeyError, match="no_such"):
        LAYOUT_950.field("no_such")


def test_layout_for_length() -> None:
    assert layout_for_length(910) is LAYOUT_910
    assert layout_for_length(950) is LAYOUT_950
    assert layout_for_length(400) is LAYOUT_950
    assert LAYOUTS == {950: LAYOUT_950, 910: LAYOUT_910}


def layout(*fields: tuple[str, int, int], length: int = 5) -> Layout:
    return Layout("test", length, tuple(Field(n, s, w, Kind.TEXT) for n, s, w in fields))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (layout(("a", 1, 2), ("b", 4, 2)), "gap before field 'b'"),
        (layout(("a", 1, 3), ("b", 3, 3)), "overlap before field 'b'"),
        (layout(("a", 1, 2), ("a", 3, 3)), "declared twice"),
        (layout(("a", 1, 2), ("b", 3, 2)), "cover 4 columns, layout length is 5"),
        (layout(("a", 1, 0), ("b", 1, 5)), "width 0"),
        (layout(("a", 2, 5)), "gap before field 'a'"),
    ],
)
def test_check_layout_refuses_mistakes(bad: Layout, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_layout(bad)


def test_check_layout_accepts_a_good_layout() -> None:
    check_layout(layout(("a", 1, 2), ("b", 3, 3)))
    check_layout(LAYOUT_950)
