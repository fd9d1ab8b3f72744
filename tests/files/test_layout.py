"""The layout tables: contiguous, no overlap, right length, and the checker refuses mistakes."""

from __future__ import annotations

import pytest

from _golden import COLUMNS
from apscores.files.layout import (
    EXAM_BLOCK_COUNT,
    EXAM_BLOCK_FIELDS,
    LAYOUT_910,
    LAYOUT_950,
    LAYOUTS,
    Field,
    FieldKind,
    Layout,
    attribute_type,
    check_layout,
    exam_block_start,
    layout_for_length,
)


def test_the_950_layout_is_the_public_table() -> None:
    """Every field where file-layout.md's table puts it, and nothing else."""
    ours = {field.name: (field.start, field.end) for field in LAYOUT_950.fields}
    assert ours == COLUMNS


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
    assert sum(width for _, width, _, _ in EXAM_BLOCK_FIELDS) == 11
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
    return Layout("test", length, tuple(Field(n, s, w, FieldKind.FILLER) for n, s, w in fields))


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


def test_every_field_names_the_attribute_it_fills() -> None:
    assert LAYOUT_950.field("last_name").attribute == "student.last_name"
    assert LAYOUT_950.field("exam_grade_04").attribute == "exams[3].score"
    assert LAYOUT_950.field("irregularity_code_2_30").attribute == "exams[29].irregularity_codes[1]"
    assert LAYOUT_950.field("college_code").kind is FieldKind.DI
    assert LAYOUT_950.by_attribute("report_date").name == "date_of_this_report"
    assert attribute_type("exams[0].score") == int | None
    assert attribute_type("student.address.zip_code") is str
    fillers = [f for f in LAYOUT_950.fields if f.kind is FieldKind.FILLER]
    assert [f.name for f in fillers] == ["ssn_filler", "filler_165", "filler_912", "filler_936"]
    assert all(f.attribute for f in LAYOUT_950.fields if f.kind is not FieldKind.FILLER)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((Field("a", 1, 5, FieldKind.TEXT, "student.no_such"),), "has no attribute 'no_such'"),
        ((Field("a", 1, 5, FieldKind.TEXT, "student[0].last_name"),), "not a tuple of records"),
        ((Field("a", 1, 5, FieldKind.TEXT, "ap_id.x"),), "not an attribute path"),
        ((Field("a", 1, 5, FieldKind.TEXT),), "only fillers"),
        ((Field("a", 1, 5, FieldKind.FILLER, "ap_id"),), "only fillers"),
        (
            (Field("a", 1, 2, FieldKind.CODE, "ap_id"), Field("b", 3, 3, FieldKind.CODE, "ap_id")),
            "two fields fill 'ap_id'",
        ),
    ],
)
def test_check_layout_refuses_bad_attributes(fields: tuple[Field, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_layout(Layout("test", 5, fields))
