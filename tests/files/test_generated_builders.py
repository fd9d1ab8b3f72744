"""The generated builders: their tables agree with the value rule, and a layout they
cannot be generated for is refused, naming what is wrong, when it is first read."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apscores.errors import ParseError
from apscores.files import read_csv, read_txt, write_txt
from apscores.files._speed import ONE_COLUMN, first_blank
from apscores.files._values import KNOWN_TEXTS, MISSING, convert, parse_date, quick_date
from apscores.files.layout import LAYOUT_950, Field, FieldKind, build_layout
from apscores.sandbox import iter_fake_reports


def _field(kind: FieldKind, width: int) -> Field:
    return Field("f", 1, width, kind, "x")


@pytest.mark.parametrize("kind", list(KNOWN_TEXTS))
@pytest.mark.parametrize("lenient", [False, True])
def test_the_known_texts_are_what_the_value_rule_says(kind: FieldKind, lenient: bool) -> None:
    width = 2 if kind is FieldKind.YEAR else 1
    for text, value in KNOWN_TEXTS[kind].items():
        assert convert(_field(kind, width), text, None, lenient) == value, text


@given(st.text(alphabet="0123456789 /-\xa0²", max_size=8))
def test_quick_date_is_parse_date_or_leaves_the_text_to_it(text: str) -> None:
    quick = quick_date(text)
    if quick is MISSING:
        return
    assert quick == parse_date("d", text, None, False) == parse_date("d", text, None, True)
    assert isinstance(quick, dt.date)


def test_quick_date_reads_every_day_of_the_pivot_and_no_other() -> None:
    day = dt.date(1950, 1, 1)
    while day.year < 2050:
        assert quick_date(day.strftime("%m%d%y")) == day
        day += dt.timedelta(days=1)
    assert quick_date("023024") is MISSING  # no 30th of February: the rule explains
    assert quick_date("      ") is MISSING  # blank: the rule decides (None, or required)


def test_one_column_table_is_a_stripped_latin1_column() -> None:
    for byte in range(256):
        assert ONE_COLUMN[byte] == bytes([byte]).decode("latin-1").rstrip()


@given(st.lists(st.sampled_from([b"A" * 3, b" " * 3, b"  A", b"A  "]), max_size=6))
def test_first_blank_counts_the_items_before_the_blank_ones_at_the_end(
    items: list[bytes],
) -> None:
    """The items before the first blank one when every item after it is blank too; all of
    them when an item comes after a blank one (blank items are skipped wherever they are,
    so each is looked at)."""
    first = next((n for n, item in enumerate(items) if item == b"   "), len(items))
    rest_blank = all(item == b"   " for item in items[first:])
    assert first_blank(b"".join(items), 3) == (first if rest_blank else len(items))


def _specs() -> list[tuple[str, int, FieldKind, str]]:
    return [(f.name, f.width, f.kind, f.attribute) for f in LAYOUT_950.fields]


def _moved_to_end(name: str) -> list[tuple[str, int, FieldKind, str]]:
    specs = _specs()
    moved = next(spec for spec in specs if spec[0] == name)
    return [spec for spec in specs if spec[0] != name] + [moved]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (_moved_to_end("award_year_3"), "the fields of 'awards' are not side by side"),
        (_moved_to_end("street_address_2"), "a record inside 'student' is split"),
    ],
)
def test_a_layout_no_builder_can_be_generated_for_is_refused(
    specs: list[tuple[str, int, FieldKind, str]], message: str
) -> None:
    layout = build_layout("odd", specs)
    with pytest.raises(ValueError, match=message):
        read_txt(b"", layout=layout)
    with pytest.raises(ValueError, match=message):
        read_csv(b"", layout=layout)


def test_exam_blocks_of_different_shapes_are_refused() -> None:
    specs = _specs()
    first = [i for i, spec in enumerate(specs) if spec[0].endswith("_02")]
    specs[first[0]], specs[first[1]] = specs[first[1]], specs[first[0]]  # year, code swap
    with pytest.raises(ValueError, match="the items of 'exams' differ in shape"):
        read_txt(b"", layout=build_layout("swapped", specs))


def test_a_layout_without_a_field_for_a_required_attribute_is_refused() -> None:
    specs = [spec for spec in _specs() if spec[0] != "last_name"]
    specs.append(("filler_x", 15, FieldKind.FILLER, ""))
    with pytest.raises(ValueError, match=r"no field fills Student\.last_name"):
        read_txt(b"", layout=build_layout("nameless", specs))


def test_a_long_tuple_of_records_in_a_csv_reads_item_by_item() -> None:
    """The CSV builder of the exams: a loop over cached items, the first blank code ends."""
    reports = list(iter_fake_reports(30, seed=3))
    out = io.BytesIO()
    from apscores.files import write_csv

    write_csv(reports + reports, out, raw=True)
    assert list(read_csv(out.getvalue())) == reports + reports


def test_a_bad_exam_block_in_a_new_shape_is_explained_by_the_reference() -> None:
    reports = list(itertools.islice(iter_fake_reports(4, seed=8), 4))
    out = io.BytesIO()
    write_txt(reports, out)
    lines = out.getvalue().split(b"\n")
    year = LAYOUT_950.field("admin_year_02").slice
    lines[2] = lines[2][: year.start] + b"  " + lines[2][year.stop :]  # a code without a year
    code = LAYOUT_950.field("exam_code_02").slice
    lines[2] = lines[2][: code.start] + b"07" + lines[2][code.stop :]
    with pytest.raises(ParseError) as caught:
        list(read_txt(b"\n".join(lines)))
    assert (caught.value.line, caught.value.field) == (3, "admin_year_02")
    assert "the admin year is blank but the exam code is not" in str(caught.value)


def test_items_whose_required_fields_differ_are_refused() -> None:
    layout = build_layout(
        "grade-2-required", _specs(), required={"ap_id", "date_of_this_report", "exam_grade_02"}
    )
    with pytest.raises(ValueError, match="the items of 'exams' differ in shape"):
        read_txt(b"", layout=layout)


def test_the_di_code_away_from_the_college_block_is_refused() -> None:
    layout = build_layout("college-apart", _moved_to_end("college_contact_name"))
    with pytest.raises(ValueError, match="field 'college_code' fills two records"):
        read_txt(b"", layout=layout)


def _one_bad_line(fmt: str) -> bytes:
    reports = list(iter_fake_reports(20, seed=4))
    out = io.BytesIO()
    if fmt == "csv":
        from apscores.files import write_csv

        write_csv(reports, out, raw=True)
        rows = out.getvalue().split(b"\r\n")
        rows[5] = rows[5].replace(b'"' + reports[4].ap_id.encode() + b'"', b'"1.2E+07"', 1)
        return b"\r\n".join(rows)
    write_txt(reports, out)
    lines = out.getvalue().split(b"\n")
    grade = LAYOUT_950.field("exam_grade_01").slice
    lines[4] = lines[4][: grade.start] + b"9" + lines[4][grade.stop :]
    return b"\n".join(lines)


@pytest.mark.parametrize("fmt", ["txt", "csv"])
def test_an_error_keeps_nothing_of_the_read(fmt: str) -> None:
    """The builder's own ParseError (its frames hold the caches and the block) is not the
    context of the error a caller gets, collected or raised."""
    read = read_txt if fmt == "txt" else read_csv
    with read(_one_bad_line(fmt), errors="collect") as reader:
        assert len(list(reader)) == 19
    (error,) = reader.errors
    assert error.__context__ is None
    assert error.__traceback__ is None
    with pytest.raises(ParseError) as caught:
        list(read(_one_bad_line(fmt)))
    assert caught.value.__context__ is None


def test_two_layouts_of_one_name_show_their_own_source() -> None:
    from apscores.files._speed import compiled

    mine = build_layout("950", _moved_to_end("gender"))
    assert compiled(mine, lenient=False).filename != compiled(LAYOUT_950, lenient=False).filename


def test_the_dates_cache_keeps_one_key_type_under_python_bb() -> None:
    """A blank birth date and a blank release date share the one cache of dates: its TXT
    keys are all bytes, so the read never compares bytes with str (an error under -bb)."""
    script = """
import io
from apscores.files import read_txt, write_txt
from apscores.files.layout import LAYOUT_950
from apscores.sandbox import fake_reports

out = io.BytesIO()
write_txt(fake_reports(2, seed=1), out)
lines = [bytearray(line) for line in out.getvalue().splitlines()]
for line in lines:
    for name in ("birth_date", "date_grades_released_to_college"):
        field = LAYOUT_950.field(name)
        line[field.start - 1 : field.end] = b"      "
reports = list(read_txt(b"".join(bytes(line) + b"\\n" for line in lines)))
print([(r.student.date_of_birth, r.date_released) for r in reports])
"""
    done = subprocess.run(
        [sys.executable, "-bb", "-c", script], capture_output=True, text=True, check=False
    )
    assert done.stderr == ""
    assert done.stdout.strip() == "[(None, None), (None, None)]"
