"""``apscores convert --wide --to csv|jsonl|parquet`` of TXT files on the columnar path writes
what the object path writes, byte for byte, and fails as it fails: the same exit status,
the same error line, no file on disk (issue 23, item 5).

Each case runs the command twice, once as it is and once with the columnar path switched
off (``_columnar`` answering False), and compares everything.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apscores.cli._files as files
from _awkward import write_sandbox_files
from _damaged import damaged_files, good_and_bad
from _twice import captured
from apscores.files import write_txt
from apscores.models import ExamScore
from apscores.sandbox import fake_reports
from apscores.tables import _wide

TARGETS = [("csv", []), ("csv", ["--raw-csv"]), ("jsonl", []), ("parquet", [])]


def _run(argv: list[str], columnar: bool, sure: bool = True) -> tuple[int, str, str, bytes | None]:
    """One run, on the columnar path or not; see :func:`_twice.captured`."""
    switch, spy = (files, "_columnar"), (_wide, "wide_parts")
    return captured(argv, columnar, switch=switch, spy=spy, sure=sure)


def _same(
    paths: list[Path], how: str, more: list[str], folder: Path, sure: bool = True
) -> tuple[int, bytes | None]:
    argv = ["convert", *map(str, paths), "--wide", "--to", how, *more]
    argv += ["-o", str(folder / f"out.{how}")]
    fast, slow = _run(argv, True, sure), _run(argv, False)
    assert fast == slow
    return fast[0], fast[3]


@pytest.mark.parametrize(("how", "more"), TARGETS)
def test_sandbox_files_convert_the_same(tmp_path: Path, how: str, more: list[str]) -> None:
    code, data = _same(write_sandbox_files(tmp_path), how, more, tmp_path)
    assert code == 0
    assert data is not None
    if how == "csv":
        header = data.split(b"\r\n", 1)[0].decode("utf-8")
        assert "exam_01_code" in header
        if not more:
            assert b"'=1+2" in data  # text neutralised, as the object path does


@pytest.mark.parametrize(("how", "more"), TARGETS)
def test_records_of_every_width_across_files_and_blocks(
    tmp_path: Path, how: str, more: list[str]
) -> None:
    """No exam, one, up to the file's widest, in two files: every row gets every slot."""
    reports = fake_reports(40, seed=3)
    widths = [attrs.evolve(r, exams=r.exams[: index % 5]) for index, r in enumerate(reports)]
    wide = attrs.evolve(reports[0], exams=tuple(ExamScore(f"{c:02d}", 2024, 3) for c in range(9)))
    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    write_txt(widths, paths[0])
    write_txt([*reports[:5], wide], paths[1], newline="\r\n")
    code, data = _same(paths, how, more, tmp_path)
    assert code == 0
    if how == "csv":
        assert data is not None
        assert b"exam_09_code" in data.split(b"\r\n", 1)[0]


@pytest.mark.parametrize(("how", "more"), TARGETS)
def test_a_damaged_line_fails_the_same_with_no_file(
    tmp_path: Path, how: str, more: list[str]
) -> None:
    argv = ["convert", *map(str, good_and_bad(tmp_path)), "--wide", "--to", how, *more, "-o"]
    fast, slow = _run([*argv, str(tmp_path / "o")], True), _run([*argv, str(tmp_path / "o")], False)
    assert fast == slow
    assert fast[0] == 2
    assert fast[3] is None
    assert "bad.txt" in fast[2]
    assert "line 21" in fast[2]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files(), st.sampled_from(TARGETS))
def test_damaged_files_fail_or_convert_the_same(data: bytes, target: tuple[str, list[str]]) -> None:
    how, more = target
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "damaged.txt").write_bytes(data)
        _same([folder / "damaged.txt"], how, more, folder, sure=False)


def test_wide_json_lines_list_each_rows_own_slots(tmp_path: Path) -> None:
    """As ``to_rows(long=False)`` makes them: a row without a second exam has no
    ``exam_02_*`` key, and a held slot's blank score is ``null``."""
    import json

    from apscores.tables import txt_files_to_text

    reports = fake_reports(6, seed=1)
    one = attrs.evolve(reports[0], exams=(ExamScore("07", 2024, None),))
    path = tmp_path / "a.txt"
    write_txt([one, *reports[1:], attrs.evolve(one, exams=())], path)
    out = io.StringIO()
    assert txt_files_to_text([path], out, "jsonl", long=False) == 7
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert "exam_02_code" not in rows[0]
    assert rows[0]["exam_01_score"] is None
    assert not any(key.startswith("exam_") for key in rows[-1])
    assert max(len(row) for row in rows) > len(rows[0])


@pytest.mark.parametrize(("how", "more"), TARGETS)
def test_csv_and_mixed_input_convert_the_same(tmp_path: Path, how: str, more: list[str]) -> None:
    """CSV rows made records for the same engine, and a block of spreadsheet damage the
    CSV reader reads (leniently) on its own, between TXT files."""
    from apscores.files import write_csv

    txt_files = write_sandbox_files(tmp_path)
    csv_file = tmp_path / "b.csv"
    write_csv(fake_reports(30, seed=4), csv_file)
    rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    year = rows[0].index("Admin Year 01")
    rows[5][year] = rows[5][year][-1:]  # a year a spreadsheet made one digit: read leniently
    damaged = tmp_path / "c.csv"
    with damaged.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    for paths in ([csv_file], [txt_files[0], csv_file, damaged, *txt_files[1:]]):
        code, data = _same(paths, how, more, tmp_path)
        assert code == 0
        assert data is not None
