"""``apscores export`` of TXT files on the columnar path writes what the object path writes,
byte for byte, and fails as it fails (issue 23, item 5): the same exit status, stdout
(counts, ``--json`` with its conflicts), stderr, load file bytes and mode, or no file.

Each case runs the command twice, once as it is and once with the columnar path switched
off (``_columnar`` answering False: what ``export`` ran before), and compares everything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from pathlib import Path
from unittest import mock

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apscores.cli._export_cmd as export_cmd
import apscores.export._columnar as columnar
from _awkward import benchmark_shape, write_sandbox_files
from _awkward import report as _report
from _damaged import LINES, damaged_files
from _twice import captured
from apscores.changes import merge
from apscores.cli import build_parser
from apscores.export import FIELDS, export, load_map
from apscores.files import write_csv, write_txt
from apscores.files.layout import LAYOUT_950
from apscores.models import ExamScore, ScoreReport
from apscores.sandbox import fake_reports
from apscores.tables import _keyed

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
GENERIC = (EXAMPLES / "generic-map.toml").read_text(encoding="utf-8")
BANNER = (EXAMPLES / "banner-map.toml").read_text(encoding="utf-8")
#: Every field, fixed text a spreadsheet would run, a date format with text in it.
EVERYTHING = (
    "[columns]\n"
    + "".join(f'c_{name} = "{name}"\n' for name in FIELDS)
    + 'FORMULA = { text = "=SUM(A1)" }\nCOMMA = { text = "a,b" }\n'
    + '[tests]\nprefix = "-X"\n[tests.codes]\n"93" = [{ code = "W,H", admin_year_to = 2019 }, '
    + '{ code = "@93", admin_year_from = 2020 }]\n'
    + '[output]\ndate_format = "%d %b, %Y"\n'
)
ALONE = '[columns]\nMI = "middle_initial"\n'  # one column: an empty cell is written ""
FIXED = '[columns]\nSOURCE = { text = "AP" }\nSIS = "sis_id"\n'  # no column read from a file


def _captured(argv: list[str], fast: bool, sure: bool = True) -> tuple[int, str, str, bytes | None]:
    """One run, on the columnar path (``fast``) or not; see :func:`_twice.captured`."""
    switch, spy = (export_cmd, "_columnar"), (columnar, "export_txt_files")
    return captured(argv, fast, switch=switch, spy=spy, sure=sure)


def _same(
    paths: list[Path], sis_map: str, more: list[str], folder: Path, sure: bool = True
) -> tuple[int, str, str, bytes | None]:
    """Run ``export`` both ways and compare; returns the columnar run's outcome."""
    map_path = folder / "sis.toml"
    map_path.write_text(sis_map, encoding="utf-8")
    argv = ["export", *map(str, paths), "--map", str(map_path), *more, "-o", str(folder / "o.csv")]
    fast, slow = _captured(argv, True, sure), _captured(argv, False)
    assert fast == slow
    return fast


@pytest.fixture
def sandbox_files(tmp_path: Path) -> list[Path]:
    return write_sandbox_files(tmp_path)


def _resent() -> tuple[list[ScoreReport], list[ScoreReport]]:
    """A first file, and a second re-sending some of its students: newer, older,
    conflicting, identical, at another DI code; and records listing an exam twice."""
    first = fake_reports(40, seed=5)
    later, earlier = dt.date(2024, 9, 1), dt.date(2024, 1, 2)
    second = []
    for index, report in enumerate(first[:24]):
        exams = report.exams
        changed = (attrs.evolve(exams[0], score=1 if exams[0].score != 1 else 5), *exams[1:])
        if index % 6 == 0:  # newer, a score changed and an exam added
            more = (*changed, ExamScore("65", 2024, 3))
            second.append(attrs.evolve(report, exams=more, date_updated=later))
        elif index % 6 == 1:  # older, an exam fewer
            second.append(attrs.evolve(report, exams=exams[1:], date_updated=earlier))
        elif index % 6 == 2:  # the same dates, another score: a conflict
            second.append(attrs.evolve(report, exams=changed))
        elif index % 6 == 3:  # an identical copy
            second.append(report)
        elif index % 6 == 4:  # sent to another DI code too
            college = attrs.evolve(report.college, code="5678")
            second.append(attrs.evolve(report, di_code="5678", college=college))
        else:  # the same dates, another name: a conflict outside the exams
            second.append(
                attrs.evolve(report, student=attrs.evolve(report.student, first_name="Al"))
            )
    twice = ExamScore("20", 2023, 4)
    second.append(_report(90, exams=(twice, twice, ExamScore("07", 2024, 2))))  # repeated
    second.append(_report(91, exams=(twice, attrs.evolve(twice, score=2))))  # clashing
    return first, second


@pytest.mark.parametrize(
    ("sis_map", "more"),
    [
        (GENERIC, []),
        (GENERIC, ["--json"]),
        (GENERIC, ["--raw-csv"]),
        (EVERYTHING, []),
        (EVERYTHING, ["--raw-csv", "--json"]),
        (BANNER.replace('"93" = [', '"11" = "AP11"\n"93" = ['), []),
        (ALONE, []),
        (FIXED, []),
    ],
)
def test_sandbox_files_export_the_same(
    sandbox_files: list[Path], tmp_path: Path, sis_map: str, more: list[str]
) -> None:
    code, out, err, data = _same(sandbox_files, sis_map, more, tmp_path)
    assert (code, err) == (0, "")
    assert data is not None
    text = data.decode("utf-8")
    if "--json" in more:
        assert json.loads(out)["records_read"] == 306
    if sis_map is EVERYTHING and "--raw-csv" not in more:
        assert "'=1+2,'@SUM(A1),'-," in text
        assert "'=SUM(A1)" in text
        assert '"a,b"' in text
        assert ",new_exam," in text
        assert '"Jul 2024' not in text
    if sis_map is ALONE:
        assert '\r\n""\r\n' in text


@pytest.mark.parametrize("shape", ["real", "worst"])
def test_the_benchmark_shapes_export_the_same(tmp_path: Path, shape: str) -> None:
    """Real-shaped students (most once, some re-sent newer) and the worst shape (exam
    blocks listed twice with other content: conflicts)."""
    reports = benchmark_shape(shape, 300)
    later = dt.date(2049, 12, 1)
    resent = [attrs.evolve(report, date_updated=later) for report in reports[::7]]
    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    write_txt(reports, paths[0])
    write_txt(resent, paths[1])
    for more in ([], ["--json", "--across-di"]):
        code, out, _, data = _same(paths, EVERYTHING, more, tmp_path)
        assert code == 0
        assert data is not None
        if more:
            summary = json.loads(out)
            assert summary["records_read"] == 300 + len(resent)
            assert (summary["conflict_count"] > 0) == (shape == "worst")


@pytest.mark.parametrize("more", [[], ["--json"], ["--across-di"], ["--across-di", "--json"]])
def test_resent_students_merge_the_same(tmp_path: Path, more: list[str]) -> None:
    first, second = _resent()
    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    write_txt(first, paths[0])
    write_txt(second, paths[1], newline="\r\n")
    for sis_map in (GENERIC, EVERYTHING, GENERIC + '[include]\nchanges = ["score_raised"]\n'):
        code, out, err, _ = _same(paths, sis_map, more, tmp_path)
        assert code == 0
        assert "conflict" in err  # the conflicts of the re-sent students are warned about
        if "--json" in more:
            assert json.loads(out)["conflict_count"] >= 4


@pytest.mark.parametrize(
    "include",
    [
        'statuses = ["scored"]',
        'statuses = ["pending", "canceled", "scored_with_note"]',
        'changes = ["new_exam", "unchanged"]',
        'changes = ["score_lowered"]',
    ],
)
def test_include_filters_the_same(sandbox_files: list[Path], tmp_path: Path, include: str) -> None:
    _first, second = _resent()
    write_txt(second, tmp_path / "b.txt")
    paths = [*sandbox_files, tmp_path / "b.txt"]
    code, _, _, data = _same(paths, GENERIC + f"[include]\n{include}\n", [], tmp_path)
    assert code == 0
    assert data is not None


def test_an_unmapped_exam_fails_the_same_with_no_file(
    sandbox_files: list[Path], tmp_path: Path
) -> None:
    _first, second = _resent()
    write_txt([*second, _report(99, exams=(ExamScore("11", 2024, 3),))], tmp_path / "b.txt")
    code, _, err, data = _same([*sandbox_files, tmp_path / "b.txt"], BANNER, [], tmp_path)
    assert (code, data) == (2, None)
    assert "no SIS test code for exam code(s) 11" in err


def _blank(line: bytes, attribute: str) -> bytes:
    (field,) = [f for f in LAYOUT_950.fields if f.attribute == attribute]
    return line[: field.start - 1] + b" " * field.width + line[field.end :]


@pytest.mark.parametrize(
    "damage",
    [
        lambda line: line[:300],  # a cut line
        lambda line: line[:100] + b"\x01" + line[101:],  # a control byte
        lambda line: _blank(line, "report_date"),  # a blank required date
        lambda line: _blank(line, "ap_id"),
    ],
)
def test_a_damaged_file_fails_the_same(tmp_path: Path, damage: object) -> None:
    good = tmp_path / "good.txt"
    write_txt(fake_reports(30, seed=8), good)
    lines = good.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"".join(lines[:20]) + damage(lines[20]) + b"\n" + b"".join(lines[21:]))  # type: ignore[operator]
    code, out, err, data = _same([good, bad], GENERIC, [], tmp_path)
    assert (code, out, data) == (2, "", None)
    assert "bad.txt" in err
    assert "line 21" in err


def test_a_line_too_long_fails_the_same(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    write_txt(fake_reports(5, seed=8), good)
    long = tmp_path / "long.txt"
    long.write_bytes(good.read_bytes() + b"A" * (1 << 19) + b"\n")
    code, out, err, data = _same([good, long], GENERIC, [], tmp_path)
    assert (code, out, data) == (2, "", None)
    assert "long.txt" in err
    assert "line 6" in err


def test_blocks_the_fast_path_refuses_are_read_by_the_typed_reader(tmp_path: Path) -> None:
    """Blank lines alone in a block: the typed reader reads it (no records), the same file."""
    lines = b"\n".join(LINES[:6]) + b"\n"
    path = tmp_path / "blank.txt"
    path.write_bytes(lines[: 951 * 3] + b" " * 950 + b"\n" + b"\n" * 3 + lines[951 * 3 :])
    sis_map = load_map(EXAMPLES / "generic-map.toml")
    export(path, sis_map=sis_map).write_csv(tmp_path / "expected.csv")
    with mock.patch.object(_keyed, "_typed", wraps=_keyed._typed) as typed:
        columnar.export_txt_files([path], sis_map, tmp_path / "x.csv", chunk_lines=1)
    assert typed.called
    assert (tmp_path / "x.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()
    _same([path], GENERIC, ["--json"], tmp_path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files(), st.booleans())
def test_damaged_files_fail_or_export_the_same(data: bytes, twice: bool) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "damaged.txt").write_bytes(data)
        paths = [folder / "damaged.txt"]
        if twice:  # the good lines again: every student re-sent
            (folder / "good.txt").write_bytes(b"\n".join(LINES[:20]) + b"\n")
            paths.append(folder / "good.txt")
        _same(paths, GENERIC, ["--json"], folder, sure=False)


# --- since the previous view -----------------------------------------------------------------


def _previous(folder: Path, reports: list[ScoreReport], across_di: bool = False) -> Path:
    """The previous view of ``reports``, as ``apscores merge -o`` writes it."""
    path = folder / "previous.csv"
    write_csv(merge(reports, across_di=across_di).current, path)
    return path


@pytest.mark.parametrize("more", [[], ["--json"], ["--across-di", "--json"], ["--raw-csv"]])
def test_since_exports_the_same(sandbox_files: list[Path], tmp_path: Path, more: list[str]) -> None:
    """Students of the previous view re-sent (newer, older, conflicting, identical, at
    another DI code), new students, and previous students no new file holds."""
    first, second = _resent()
    path = tmp_path / "b.txt"
    write_txt([*second, *fake_reports(12, seed=31)], path)
    since = _previous(tmp_path, [*first, *fake_reports(5, seed=77)], "--across-di" in more)
    maps = (GENERIC, EVERYTHING, GENERIC + '[include]\nchanges = ["score_raised", "new_exam"]\n')
    for sis_map in maps:
        for paths in ([path], [*sandbox_files, path]):
            code, out, _, data = _same(paths, sis_map, [*more, "--since", str(since)], tmp_path)
            assert code == 0
            assert data is not None
            if "--json" in more:
                summary = json.loads(out)
                assert summary["records_read"] > len(first)  # the previous view's count too
    # Nothing new: every exam is unchanged, and an [include] of changes leaves no row.
    write_txt(first, path)
    since = _previous(tmp_path, first)
    only_changes = GENERIC + '[include]\nchanges = ["new_exam"]\n'
    _, _, _, data = _same([path], only_changes, ["--since", str(since)], tmp_path)
    assert data is not None
    assert data.count(b"\r\n") == 1  # the header alone


def test_since_an_empty_view_exports_the_same(sandbox_files: list[Path], tmp_path: Path) -> None:
    since = tmp_path / "empty.csv"
    write_csv([], since)
    _first, second = _resent()
    write_txt(second, tmp_path / "b.txt")
    for paths in (sandbox_files, [*sandbox_files, tmp_path / "b.txt"]):
        code, _, _, data = _same(paths, EVERYTHING, ["--since", str(since)], tmp_path)
        assert code == 0
        assert data is not None
        assert b",new_exam," in data


def test_since_a_credit_csv_fails_the_same(sandbox_files: list[Path], tmp_path: Path) -> None:
    since = tmp_path / "credit.csv"
    since.write_text("ap_id,di_code,outcome,course\n", encoding="utf-8")
    argv = ["--since", str(since)]
    code, out, err, data = _same(sandbox_files, GENERIC, argv, tmp_path, sure=False)
    assert (code, out, data) == (2, "", None)
    assert "credit CSV" in err


# --- any records, any map ------------------------------------------------------------------

_EXAMS = st.builds(
    ExamScore,
    st.sampled_from(["07", "13", "20", "93"]),
    st.sampled_from([2019, 2023, 2024]),
    st.sampled_from([None, 1, 3, 5]),
    st.sampled_from([(), ("06",), ("98",)]),
)
_DATES = st.sampled_from([None, dt.date(2024, 7, 1), dt.date(2024, 9, 2)])
_TEXT = st.text(st.sampled_from(list("aZ9 =+-@,\"'é")), min_size=1, max_size=8).map(
    lambda text: text.strip() or "X"
)


@st.composite
def _records(draw: st.DrawFn) -> ScoreReport:
    return _report(
        draw(st.integers(0, 5)),
        draw(_TEXT),
        draw(_TEXT),
        di=draw(st.sampled_from(["1234", "5678"])),
        exams=tuple(draw(st.lists(_EXAMS, max_size=4))),
        updated=draw(st.sampled_from([dt.date(2024, 7, 1), dt.date(2024, 9, 2)])),
        released=draw(_DATES),
    )


@st.composite
def _maps(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, unique=True))
    text = "[columns]\n" + "".join(f'h{i} = "{name}"\n' for i, name in enumerate(names))
    if draw(st.booleans()):
        text += '[tests]\nrequire_mapping = true\n[tests.codes]\n"07" = "U"\n"13" = "A"\n'
        text += '"20" = "B"\n"93" = [{ code = "=W", admin_year_from = 2020 }]\n'
    include = draw(st.sampled_from(["", 'statuses = ["scored"]', 'changes = ["new_exam"]']))
    fmt = draw(st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%d,%m"]))
    return text + f"[include]\n{include}\n[output]\ndate_format = {json.dumps(fmt)}\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_records(), min_size=1, max_size=6), min_size=1, max_size=3),
    st.none() | st.lists(_records(), max_size=6),
    _maps(),
    st.sampled_from([[], ["--json"], ["--across-di"], ["--raw-csv"]]),
)
def test_any_records_and_map_export_the_same(
    files: list[list[ScoreReport]],
    previous: list[ScoreReport] | None,
    sis_map: str,
    more: list[str],
) -> None:
    """Any records, any map, with or without ``--since`` any previous score file (not
    always a merged view: a student may be in it twice)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths = []
        for index, records in enumerate(files):
            paths.append(folder / f"f{index}.txt")
            write_txt(records, paths[-1])
        if previous is not None:
            write_csv(previous, folder / "previous.csv")
            more = [*more, "--since", str(folder / "previous.csv")]
        _same(paths, sis_map, more, folder)


# --- which path runs -------------------------------------------------------------------------


def test_csv_input_and_roster_run_the_object_path(tmp_path: Path) -> None:
    txt, csv_file = tmp_path / "a.txt", tmp_path / "a.csv"
    write_txt(fake_reports(20, seed=2), txt)
    write_csv(fake_reports(20, seed=2), csv_file)
    map_path = tmp_path / "sis.toml"
    map_path.write_text(GENERIC, encoding="utf-8")
    base = ["--map", str(map_path), "-o", str(tmp_path / "o.csv")]
    parser_args = [
        [str(csv_file), *base],
        [str(txt), str(csv_file), *base],
        [str(txt), *base, "--crosswalk", str(tmp_path / "none.csv")],
    ]
    for argv in parser_args:
        args = build_parser().parse_args(["export", *argv])
        assert not export_cmd._columnar(args)
    for argv in ([str(txt), *base], [str(txt), *base, "--since", str(csv_file)]):
        assert export_cmd._columnar(build_parser().parse_args(["export", *argv]))
    # A TXT file and its CSV copy make the same load file, on either path.
    assert (
        _captured(["export", str(txt), *base], True)[3]
        == _captured(["export", str(csv_file), *base], False)[3]
    )


@pytest.mark.parametrize(("chunk", "small"), [(1, True), (7, False), (1000, True)])
def test_blocks_and_slices_of_any_size_give_the_same_file(
    sandbox_files: list[Path], tmp_path: Path, chunk: int, small: bool
) -> None:
    first, second = _resent()
    write_txt(first, tmp_path / "a.txt")
    write_txt(second, tmp_path / "b.txt")
    paths = [*sandbox_files, tmp_path / "a.txt", tmp_path / "b.txt"]
    sis_map = load_map(EXAMPLES / "generic-map.toml")
    expected = export(*paths, sis_map=sis_map)
    expected.write_csv(tmp_path / "expected.csv")
    with contextlib.ExitStack() as stack:
        if small:  # rows made and written a few at a time
            stack.enter_context(mock.patch.object(columnar, "_SLICE", 5))
            stack.enter_context(mock.patch.object(columnar, "_REPORTS", 3))
        done = columnar.export_txt_files(paths, sis_map, tmp_path / "x.csv", chunk_lines=chunk)
    assert (tmp_path / "x.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()
    merged = expected.merged
    assert done == columnar.ColumnarExport(
        merged.records_read, len(merged.current), len(expected.rows), merged.conflicts
    )
    assert done.conflicts  # the re-sent students' conflicts
