"""The columnar path follows any :class:`Layout` (issue 23): a layout declared here, in the
test only (a moved field, a new field, a wider name, a shorter filler, another length),
reads to the same table as the 950 file it was laid out from; so does any permutation of
the fields; a layout the engine cannot read is a ValueError naming it; a blank required
field sends its block to the typed reader."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal
from unittest import mock

import attrs
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apscores.errors import APScoresError, ParseError
from apscores.files import _framing, _txt, read_txt, write_txt
from apscores.files.layout import LAYOUT_910, LAYOUT_950, Field, FieldKind, Layout, check_layout
from apscores.sandbox import iter_fake_reports
from apscores.tables import (
    _blocks,
    _columnar,
    _plan,
    to_arrow,
    txt_files_to_parquet,
    txt_to_arrow,
    txt_to_pandas,
    txt_to_polars,
)

Spec = tuple[str, int, FieldKind, str, bool]


def lay_out(name: str, length: int, specs: Iterable[Spec]) -> Layout:
    """Fields end to end from column 1, checked as the package checks its own layouts."""
    fields, start = [], 1
    for field_name, width, kind, attribute, required in specs:
        fields.append(Field(field_name, start, width, kind, attribute, required))
        start += width
    layout = Layout(name, length, tuple(fields))
    check_layout(layout)
    return layout


def spec(field: Field, width: int | None = None) -> Spec:
    return (field.name, width or field.width, field.kind, field.attribute, field.required)


def _test_specs() -> list[Spec]:
    """950, with the last name 10 columns wider, the gender moved to the end of the record,
    a new field (the high school's country) after the school's ZIP code (so every exam
    block moves too), and the filler after the race answers 10 columns shorter."""
    out: list[Spec] = []
    for field in LAYOUT_950.fields:
        if field.name == "gender":
            continue
        out.append(spec(field, {"last_name": 25, "filler_912": 12}.get(field.name)))
        if field.name == "hs_zip_code":
            out.append(
                ("hs_country_code", 3, FieldKind.CODE, "high_school.address.country_code", False)
            )
    return [*out, spec(LAYOUT_950.field("gender"))]


TEST_LAYOUT = lay_out("test-953", 953, _test_specs())
NEW_VALUES = {"hs_country_code": b"CAN"}


def relay(data: bytes, layout: Layout, newline: bytes = b"\n") -> bytes:
    """Each 950-column line of ``data`` laid out in ``layout``: every field's bytes moved
    to the field of the same name (padded with blanks, or cut if a filler shrank)."""
    out = []
    for line in data.splitlines():
        parts = []
        for field in layout.fields:
            if field.name in NEW_VALUES:
                value = NEW_VALUES[field.name]
            else:
                value = line[LAYOUT_950.field(field.name).slice]
            parts.append(value.ljust(field.width)[: field.width])
        out.append(b"".join(parts) + newline)
    return b"".join(out)


def txt950(count: int, seed: int, newline: str = "\n") -> bytes:
    out = io.BytesIO()
    write_txt(iter_fake_reports(count, seed=seed), out, newline=newline)
    return out.getvalue()


ORIGINAL = txt950(120, seed=23)
EXPECTED = txt_to_arrow(ORIGINAL)


def test_the_test_layout_moves_widens_and_adds() -> None:
    plan, default = _plan.plan_for(TEST_LAYOUT), _plan.plan_for(None)
    assert plan.length == 953 != default.length
    assert plan.min_length == default.min_length + 10 + 3 - 1  # name, new field, gender
    assert plan.exams["code"].start == default.exams["code"].start + 12
    assert dict(plan.texts)["last_name"].width == 25
    assert dict(plan.texts)["gender"].end == 953
    assert plan.shorter == {}  # a 910 line is no record of this layout
    assert max(len(name) for name in EXPECTED.column("last_name").to_pylist()) <= 15


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
@pytest.mark.parametrize("chunk_lines", [1, 7, 1000])
def test_a_file_in_the_test_layout_reads_to_the_same_table(
    newline: bytes, chunk_lines: int
) -> None:
    custom = relay(ORIGINAL, TEST_LAYOUT, newline)
    assert custom != ORIGINAL
    with mock.patch.object(_columnar, "_slow_part") as slow:
        table = txt_to_arrow(custom, layout=TEST_LAYOUT, chunk_lines=chunk_lines)
    assert not slow.called  # every block read by numpy, with the test layout's offsets
    assert table.equals(EXPECTED)
    assert table.schema == EXPECTED.schema


def test_trimmed_lines_blank_lines_and_no_final_newline_in_the_test_layout() -> None:
    gender = LAYOUT_950.field("gender").slice
    original = [  # no gender, which ends a line of the test layout: its blanks are trimmed
        line[: gender.start] + b" " + line[gender.stop :] if number < 50 else line
        for number, line in enumerate(ORIGINAL.splitlines(keepends=True))
    ]
    lines = relay(b"".join(original), TEST_LAYOUT).splitlines()
    trimmed = [line.rstrip(b" ") for line in lines[:50]]
    assert max(len(line) for line in trimmed) < 953
    data = b"\n".join([*trimmed, b"", b" " * 953, *lines[50:]])  # no final newline
    expected = txt_to_arrow(b"".join(original))
    assert expected.column("gender").to_pylist().count("") > 50
    for chunk_lines in (3, 40, 500):
        assert txt_to_arrow(data, layout=TEST_LAYOUT, chunk_lines=chunk_lines).equals(expected)


def test_without_the_layout_its_lines_are_too_long() -> None:
    with pytest.raises(ParseError, match="line 1: the line has 953 columns"):
        txt_to_arrow(relay(ORIGINAL, TEST_LAYOUT))


def test_every_tables_reader_takes_the_layout(tmp_path: Path) -> None:
    custom = relay(ORIGINAL, TEST_LAYOUT)
    path = tmp_path / "custom.txt"
    path.write_bytes(custom)
    assert txt_to_arrow(path, layout=TEST_LAYOUT).equals(EXPECTED)
    assert txt_to_polars(custom, layout=TEST_LAYOUT).equals(txt_to_polars(ORIGINAL))
    assert txt_to_pandas(custom, layout=TEST_LAYOUT).equals(txt_to_pandas(ORIGINAL))
    out = tmp_path / "custom.parquet"
    assert txt_files_to_parquet([path, path], out, layout=TEST_LAYOUT) == 2 * len(EXPECTED)
    assert pq.read_table(out).slice(0, len(EXPECTED)).equals(EXPECTED)


def test_the_builtin_layouts_given_explicitly_read_as_the_default() -> None:
    assert txt_to_arrow(ORIGINAL, layout=LAYOUT_950).equals(EXPECTED)
    old = io.BytesIO()
    reports = [  # the 910 layout has no race fields
        attrs.evolve(
            r,
            student=attrs.evolve(
                r.student, race_ethnicity_response="", derived_aggregate_race_ethnicity=""
            ),
        )
        for r in read_txt(ORIGINAL)
    ]
    write_txt(reports, old, layout=LAYOUT_910)
    assert txt_to_arrow(old.getvalue(), layout=LAYOUT_910).equals(txt_to_arrow(old.getvalue()))
    assert _plan.plan_for(None).shorter == {910: 900}
    assert _plan.plan_for(LAYOUT_910).shorter == {}


# --- any arrangement of the fields ----------------------------------------------------------

_EXAM_FIELDS = [f for f in LAYOUT_950.fields if f.attribute.startswith("exams[")]
_OTHERS = [f for f in LAYOUT_950.fields if not f.attribute.startswith("exams[")]
SMALL = txt950(25, seed=7)
SMALL_TABLE = txt_to_arrow(SMALL)


@st.composite
def arrangements(draw: st.DrawFn) -> Layout:
    """The 950 fields in any order (the exam blocks kept together, evenly spaced), text
    fields widened, fillers of any width; its length is what the fields cover."""
    units: list[Any] = [*_OTHERS, "exams"]
    specs: list[Spec] = []
    for unit in draw(st.permutations(units)):
        if unit == "exams":
            specs += [spec(field) for field in _EXAM_FIELDS]
        elif unit.kind is FieldKind.TEXT:
            specs.append(spec(unit, unit.width + draw(st.integers(0, 9))))
        elif unit.kind is FieldKind.FILLER:
            specs.append(spec(unit, draw(st.integers(1, 30))))
        else:
            specs.append(spec(unit))
    return lay_out("arranged", sum(width for _, width, *_rest in specs), specs)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrangements(), st.integers(1, 30), st.sampled_from([b"\n", b"\r\n"]))
def test_any_arrangement_of_the_fields_reads_to_the_same_table(
    layout: Layout, chunk_lines: int, newline: bytes
) -> None:
    data = relay(SMALL, layout, newline)
    with mock.patch.object(_columnar, "_slow_part") as slow:
        table = txt_to_arrow(data, layout=layout, chunk_lines=chunk_lines)
    assert not slow.called
    assert table.equals(SMALL_TABLE)


# --- layouts the columnar path cannot read --------------------------------------------------


def _changed(names: Iterable[str], **changes: Any) -> list[Spec]:
    """The 950 specs with some fields' kind, width or attribute changed."""
    out = []
    for field in LAYOUT_950.fields:
        found = spec(field)
        if field.name in names:
            width = changes.get("width", field.width)
            kind = changes.get("kind", field.kind)
            attribute = changes.get("attribute", field.attribute)
            found = (field.name, width, kind, attribute, field.required)
        out.append(found)
    return out


def _swapped_exam_block() -> list[Spec]:
    """Exam block 2 with its code before its year: the years are not evenly spaced."""
    out = [spec(field) for field in LAYOUT_950.fields]
    at = next(i for i, s in enumerate(out) if s[0] == "admin_year_02")
    out[at], out[at + 1] = out[at + 1], out[at]
    return out


FILLER: dict[str, Any] = {"kind": FieldKind.FILLER, "attribute": ""}
UNREADABLE = {
    "exam blocks are not evenly spaced \\('admin_year'\\)": _swapped_exam_block(),
    "holding 'code' are not numbered 0..n": _changed(["exam_code_01"], **FILLER),
    "every exam block must hold each exam field": _changed(["exam_code_30"], **FILLER),
    "exam field 'code' is not 2 columns wide": _changed(
        [f"exam_code_{block:02d}" for block in range(1, 31)], width=3
    ),
    "field 'birth_date' \\(date, 8 columns\\)": _changed(["birth_date"], width=8),
    "field 'gender' \\(grade, 1 columns\\)": _changed(["gender"], kind=FieldKind.GRADE),
    "the DI code is not read from a college code": _changed(["college_code"], kind=FieldKind.CODE),
    "has no field for 'student.gender'": _changed(["gender"], **FILLER),
    "pairs of 2 columns": _changed(["award_year_3"], width=3),
    "previous schools' years and awards": _changed(["award_year_6"], **FILLER),
}


@pytest.mark.parametrize("why", list(UNREADABLE))
def test_a_layout_the_engine_cannot_read_is_a_value_error_naming_it(why: str) -> None:
    specs = UNREADABLE[why]
    layout = lay_out("odd", sum(width for _, width, *_rest in specs), specs)
    message = f"layout odd cannot be read by the columnar path: .*{why}"
    with pytest.raises(ValueError, match=message):
        _plan.plan_for(layout)
    with pytest.raises(ValueError, match=message):
        txt_to_arrow(ORIGINAL, layout=layout)


def test_an_invalid_layout_is_refused_by_the_layout_check() -> None:
    with pytest.raises(ValueError, match="bad: fields cover 950 columns, layout length is 951"):
        txt_to_arrow(ORIGINAL, layout=Layout("bad", 951, LAYOUT_950.fields))


# --- the typed reader behind the columnar path ----------------------------------------------


def test_a_damaged_block_reaches_the_typed_reader_with_the_layout() -> None:
    lines = relay(ORIGINAL, TEST_LAYOUT).splitlines(keepends=True)
    date = TEST_LAYOUT.field("birth_date").slice
    bad = lines[5][: date.start] + b"023106" + lines[5][date.stop :]
    data = b"".join([*lines[:5], bad, *lines[6:]])
    with pytest.raises(ParseError) as typed:
        list(read_txt(data, layout=TEST_LAYOUT))
    with (
        mock.patch.object(_txt, "read_pieces", wraps=_txt.read_pieces) as slow,
        pytest.raises(ParseError) as fast,
    ):
        txt_to_arrow(data, layout=TEST_LAYOUT, chunk_lines=4)
    assert (fast.value.line, fast.value.field) == (typed.value.line, typed.value.field)
    assert (typed.value.line, typed.value.field) == (6, "birth_date")
    (call,) = slow.call_args_list
    assert call.kwargs["layout"] is TEST_LAYOUT
    assert call.args[0][0].first == 5  # the block holding line 6


def test_wide_tables_and_lines_take_the_typed_path_with_the_layout() -> None:
    custom = relay(ORIGINAL, TEST_LAYOUT)
    wide = txt_to_arrow(custom, layout=TEST_LAYOUT, long=False)
    assert wide.equals(txt_to_arrow(ORIGINAL, long=False))
    from_lines = txt_to_arrow(custom.splitlines(keepends=True), layout=TEST_LAYOUT)
    assert from_lines.equals(EXPECTED)
    lines = ORIGINAL.splitlines(keepends=True)
    assert txt_to_arrow(lines, layout=LAYOUT_950).equals(EXPECTED)


def test_under_a_builtin_layout_a_damaged_block_raises_the_typed_readers_error() -> None:
    lines = ORIGINAL.splitlines(keepends=True)
    date = LAYOUT_950.field("birth_date").slice
    lines[8] = lines[8][: date.start] + b"023106" + lines[8][date.stop :]
    data = b"".join(lines)
    for layout in (None, LAYOUT_950, LAYOUT_910):
        with pytest.raises(ParseError) as typed:
            list(read_txt(data, layout=layout))
        with pytest.raises(ParseError) as fast:
            txt_to_arrow(data, layout=layout, chunk_lines=5)
        assert (fast.value.line, fast.value.field) == (typed.value.line, typed.value.field)
        assert str(fast.value) == str(typed.value)
    with pytest.raises(ParseError) as typed:
        list(read_txt(data))
    assert (typed.value.line, typed.value.field) == (9, "birth_date")
    with pytest.raises(ParseError, match="more than the 910"):  # 950 lines, 910 asked for
        list(read_txt(data, layout=LAYOUT_910))
    head = lines[:8]  # lines, not bytes: the typed path
    assert txt_to_arrow(head, layout=LAYOUT_950).equals(txt_to_arrow(b"".join(head)))


# --- a blank required field: the typed reader decides ---------------------------------------

REQUIRED = [f.name for f in LAYOUT_950.fields if f.required]


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "table", run()
    except APScoresError as error:
        return type(error).__name__, (error.line, error.field, str(error))  # type: ignore[attr-defined]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(REQUIRED),
    st.integers(0, 24),
    st.sampled_from([" ", "\xa0"]),
    st.integers(1, 10),
    st.sampled_from(["raise", "collect"]),
)
def test_a_blank_required_field_sends_its_block_to_the_typed_reader(
    name: str, row: int, blank: str, chunk_lines: int, errors: Literal["raise", "collect"]
) -> None:
    field = LAYOUT_950.field(name)
    lines = SMALL.splitlines(keepends=True)
    value = (blank * field.width).encode("latin-1")
    lines[row] = lines[row][: field.start - 1] + value + lines[row][field.end :]
    data = b"".join(lines)
    seen: list[int] = []
    real = _columnar._slow_part

    def spy(piece: Any, *args: Any) -> Any:
        seen.append(piece.first)
        return real(piece, *args)

    found: list[ParseError] = []
    with mock.patch.object(_columnar, "_slow_part", spy):
        fast = _outcome(
            lambda: txt_to_arrow(data, chunk_lines=chunk_lines, errors=errors, problems=found)
        )
    with read_txt(data, errors=errors) as reader:
        slow = _outcome(lambda: to_arrow(reader))
        typed_errors = reader.errors
    block = row // chunk_lines * chunk_lines + 1
    assert seen == [block]  # the block holding the line, and only it, read the typed way
    # The reference's outcome: its table, or its error (line, field, message); the typed
    # reader refuses a blank AP ID, and a blank date of this report too once it checks it.
    assert fast[0] == slow[0]
    if fast[0] == "table":
        assert fast[1].equals(slow[1])
        assert [str(e) for e in found] == [str(e) for e in typed_errors]
    else:
        assert fast[1] == slow[1]
    if name == "ap_id" and errors == "raise":
        assert fast[1][:2] == (row + 1, "ap_id")


def test_a_layout_may_require_a_field_the_table_shows_as_text() -> None:
    fields = tuple(
        attrs.evolve(field, required=True) if field.name == "first_name" else field
        for field in LAYOUT_950.fields
    )
    strict = Layout("950-first-name-required", 950, fields)
    check_layout(strict)
    field = strict.field("first_name")
    lines = SMALL.splitlines(keepends=True)
    lines[3] = lines[3][: field.start - 1] + b" " * field.width + lines[3][field.end :]
    data = b"".join(lines)
    assert txt_to_arrow(SMALL, layout=strict).equals(txt_to_arrow(SMALL))
    with pytest.raises(ParseError) as fast:
        txt_to_arrow(data, layout=strict)
    with pytest.raises(ParseError) as slow, read_txt(data, layout=strict) as reader:
        to_arrow(reader)
    assert (fast.value.line, fast.value.field) == (4, "first_name")
    assert str(fast.value) == str(slow.value)


# --- the framing rule, for any layout, agrees with the typed reader's for 950 ---------------

_LINE = SMALL.splitlines()[0]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1000), st.sampled_from([_LINE, b" " * 1000, b" \t\x1a" * 400]))
def test_framing_agrees_with_the_typed_readers(size: int, source: bytes) -> None:
    raw = source[:size].ljust(size, b"Z")
    try:
        expected = _framing.frame(raw, 1)
    except ParseError:
        with pytest.raises(_blocks.UnsafeBlockError):
            _blocks.frame(raw, _plan.DEFAULT)
    else:
        if expected is not None and len(expected) == LAYOUT_910.length:  # 910 read as 950
            expected = expected[: _plan.DEFAULT.shorter[len(expected)]].ljust(950)
        assert _blocks.frame(raw, _plan.DEFAULT) == expected
    assert _plan.DEFAULT.plausible(raw + b"\r\n") == _txt.plausible_record(raw + b"\r\n")
    assert _plan.DEFAULT.plausible(raw.decode("latin-1")) == _txt.plausible_record(
        raw.decode("latin-1")
    )


def test_plans_are_built_once_per_layout() -> None:
    assert _plan.plan_for(TEST_LAYOUT) is _plan.plan_for(TEST_LAYOUT)
    assert _plan.plan_for(None).layout is LAYOUT_950
    assert _plan.plan_for(LAYOUT_950) == _plan.plan_for(None)
    awards = [(kind.name, year.name) for kind, year in _plan.DEFAULT.awards]
    assert awards == [(f"award_type_{n}", f"award_year_{n}") for n in range(1, 7)]
    years = [field.name for field in _plan.DEFAULT.previous_years]
    assert years == ["previous_ai_year_1", "previous_ai_year_2"]
    required = [field.name for field in _plan.DEFAULT.required]
    assert required == ["ap_id", "date_of_last_student_update", "date_of_this_report"]
