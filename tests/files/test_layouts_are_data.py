"""A layout is data: one declared here, and nowhere else, is followed by every path.

The layout below is what College Board's next change might look like: a field moved
(*Gender* to the end of the record), a wider one (*Last Name*, 15 -> 25 columns) and a new
one (the high school's country, which the 950 layout has no field for). Nothing in the
package knows it; the typed readers, the download check and the writers follow it.
"""

from __future__ import annotations

import inspect
import io
import linecache
import traceback
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores.errors import ParseError
from apscores.files import FileCheck, check_file, read, read_csv, read_txt, write_csv, write_txt
from apscores.files.layout import LAYOUT_910, LAYOUT_950, FieldKind, Layout, build_layout
from apscores.models import ScoreReport
from apscores.sandbox import iter_fake_reports


def _next_layout() -> Layout:
    specs = [(f.name, f.width, f.kind, f.attribute) for f in LAYOUT_950.fields]
    specs = [
        (name, 25, kind, attribute) if name == "last_name" else (name, width, kind, attribute)
        for name, width, kind, attribute in specs
        if name != "gender"
    ]
    at = next(i for i, spec in enumerate(specs) if spec[0] == "hs_zip_code") + 1
    specs.insert(at, ("hs_country_code", 3, FieldKind.CODE, "high_school.address.country_code"))
    specs.append(("gender", 1, FieldKind.CODE, "student.gender"))
    return build_layout("next", specs)


NEXT = _next_layout()


def _reports(count: int = 40) -> list[ScoreReport]:
    """Sandbox reports with what only the new layout holds: long names, a school country."""
    made = []
    for n, report in enumerate(iter_fake_reports(count, seed=23)):
        student = attrs.evolve(report.student, last_name=f"{report.student.last_name}-Long{n}")
        address = attrs.evolve(report.high_school.address, country_code="USA")
        school = attrs.evolve(report.high_school, address=address)
        made.append(attrs.evolve(report, student=student, high_school=school))
    return made


def test_the_next_layout_is_where_the_fields_moved() -> None:
    assert NEXT.length == LAYOUT_950.length + 10 + 3
    assert NEXT.field("gender").end == NEXT.length
    assert NEXT.field("last_name").width == 25
    assert NEXT.field("hs_country_code").start == NEXT.field("hs_zip_code").end + 1


def test_the_txt_writer_and_reader_follow_it(tmp_path: Path) -> None:
    reports = _reports()
    assert max(len(r.student.last_name) for r in reports) > 15  # too wide for the 950 layout
    path = tmp_path / "next.txt"
    assert write_txt(reports, path, layout=NEXT) == len(reports)
    first = path.read_bytes().split(b"\n")[0]
    assert len(first) == NEXT.length
    assert first[NEXT.field("gender").slice].decode() == reports[0].student.gender
    assert first[NEXT.field("hs_country_code").slice] == b"USA"
    with read_txt(path, layout=NEXT) as reader:
        assert list(reader) == reports
    with read(path, layout=NEXT) as reader:
        assert list(reader) == reports


def test_the_columnar_path_follows_it(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    from apscores.tables import to_arrow, txt_to_arrow

    reports = _reports()
    path = tmp_path / "next.txt"
    write_txt(reports, path, layout=NEXT)
    assert txt_to_arrow(path, layout=NEXT).equals(to_arrow(reports))
    assert txt_to_arrow(path, layout=NEXT, long=False).equals(to_arrow(reports, long=False))


def test_the_download_check_follows_it(tmp_path: Path) -> None:
    reports = _reports()
    path = tmp_path / "next.txt"
    write_txt(reports, path, layout=NEXT)
    exams = sum(len(r.exams) for r in reports)
    assert check_file(path, "txt", layout=NEXT) == FileCheck("txt", len(reports), exams)
    path.write_bytes(path.read_bytes()[:-200])  # cut inside the last record
    with pytest.raises(ParseError, match="cut"):
        check_file(path, "txt", layout=NEXT)


def test_the_csv_writer_and_reader_follow_it() -> None:
    reports = _reports()
    out = io.BytesIO()
    write_csv(reports, out, layout=NEXT, raw=True)
    header = out.getvalue().split(b"\r\n")[0].decode()
    assert '"hs_country_code"' in header  # a new field is headed by its name
    assert list(read_csv(io.BytesIO(out.getvalue()), layout=NEXT)) == reports


def test_a_bad_value_is_named_by_the_new_layout(tmp_path: Path) -> None:
    reports = _reports(3)
    out = io.BytesIO()
    write_txt(reports, out, layout=NEXT)
    lines = out.getvalue().split(b"\n")
    grade = NEXT.field("exam_grade_01").slice
    lines[1] = lines[1][: grade.start] + b"9" + lines[1][grade.stop :]
    with pytest.raises(ParseError) as caught:
        list(read_txt(b"\n".join(lines), layout=NEXT))
    assert (caught.value.line, caught.value.field) == (2, "exam_grade_01")


def test_the_950_readers_refuse_a_file_of_the_next_layout() -> None:
    out = io.BytesIO()
    write_txt(_reports(2), out, layout=NEXT)
    with pytest.raises(ParseError, match="more than the 950"):
        list(read_txt(out.getvalue()))


def test_the_generated_builder_shows_its_source() -> None:
    """Like attrs' generated methods: a traceback and ``inspect`` see real lines."""
    from apscores.files._speed import Clock, compiled

    builder = compiled(NEXT, lenient=False)
    source = "".join(linecache.getlines(builder.filename))
    assert "def build(row):" in source
    assert "layout 'next'" in builder.filename
    build, _records = builder.make(Clock(), ())
    assert "def build(row):" in inspect.getsource(build)
    row = list(builder.row_struct(0).unpack(b" " * NEXT.length))
    with pytest.raises(ParseError) as caught:  # a blank AP ID: the reference explains
        build(tuple(row))
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert any(frame.filename == builder.filename and frame.line for frame in frames)


@settings(deadline=None, max_examples=12)  # each layout is compiled once, on first use
@given(st.permutations(["gender", "ethnic_group", "best_language", "service_type"]))
def test_any_order_of_movable_fields_reads_back(order: list[str]) -> None:
    """Fields moved to the end in any order: written and read back equal, both formats."""
    specs = [(f.name, f.width, f.kind, f.attribute) for f in LAYOUT_950.fields]
    moved = {spec[0]: spec for spec in specs if spec[0] in order}
    layout = build_layout(
        "moved-" + "-".join(order),
        [spec for spec in specs if spec[0] not in moved] + [moved[name] for name in order],
    )
    reports = list(iter_fake_reports(5, seed=5))
    out = io.BytesIO()
    write_txt(reports, out, layout=layout)
    assert list(read_txt(out.getvalue(), layout=layout)) == reports
    out = io.BytesIO()
    write_csv(reports, out, layout=layout, raw=True)
    assert list(read_csv(out.getvalue(), layout=layout)) == reports


def test_the_check_under_the_950_layout_takes_a_910_last_line_as_the_reader_does() -> None:
    reports = [  # the 910 layout has no race fields
        attrs.evolve(
            report,
            student=attrs.evolve(
                report.student, race_ethnicity_response="", derived_aggregate_race_ethnicity=""
            ),
        )
        for report in iter_fake_reports(2, seed=1)
    ]
    out = io.BytesIO()
    write_txt(reports, out, layout=LAYOUT_910)
    data = out.getvalue().rstrip(b"\n")  # the last 910 line without its ending
    for layout in (None, LAYOUT_950):
        assert check_file(io.BytesIO(data), "txt", layout=layout).records == 2
        assert list(read_txt(data, layout=layout)) == reports
