"""``apscores read`` and ``apscores convert``."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.errors import ParseError
from apscores.files import write_csv, write_txt
from apscores.models import ExamScore, ScoreReport, Student
from apscores.sandbox import fake_reports
from apscores.tables import _columnar, _csv_columnar, write_parquet

REPORTS = [
    ScoreReport(
        "1234ABCD",
        Student("Doe", "Jane", date_of_birth=dt.date(2006, 3, 4)),
        "1234",
        exams=(
            ExamScore("93", 2021, 5),
            ExamScore("93", 2019, 3),
            ExamScore("14", 2020, None, ("96",)),
        ),
        date_updated=dt.date(2021, 7, 1),
        report_date=dt.date(2021, 7, 9),
    ),
    ScoreReport(
        "22222222",
        Student("Roe", "Al"),
        "1234",
        exams=(ExamScore("36", 2022, 4),),
        date_updated=dt.date(2022, 7, 1),
        report_date=dt.date(2022, 7, 8),
    ),
]


@pytest.fixture
def txt(tmp_path: Path) -> Path:
    path = tmp_path / "scores.txt"
    write_txt(REPORTS, path)
    return path


def test_read_summarises(txt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(txt)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert f"{txt}: TXT, 2 students, 4 exams (DI code 1234)" in out
    assert "World History: Modern" in out
    assert "World History " in out  # the 2019 exam keeps its old name
    assert "     5       1  ######" in out
    assert "  none       1" in out
    assert "pending" in out
    assert "96       1  Score not yet available" in out


def test_read_lists_unreadable_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.txt"
    write_txt(fake_reports(3), path)
    good = path.read_bytes().splitlines(keepends=True)[0]
    bad = good[:141] + b"99XX99" + good[147:]  # a birth date that is no date
    path.write_bytes(good + bad * 12)
    assert main(["read", str(path)]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.err == (  # a birth date is never quoted: stderr may reach a log
        f"apscores: {path}: line 2, field 'birth_date': not a valid MMDDYY date "
        "(expected a MMDDYY date of six digits)\n"
    )
    assert main(["check", str(path)]) == ExitCode.USAGE
    out = capsys.readouterr().out
    assert f"{path}: TXT, 1 records, " in out
    assert "INVALID, 12 problem(s)" in out
    assert out.count("birth_date") == 10
    assert "... and 2 more" in out


def test_read_csv_and_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.csv"
    write_csv(REPORTS, path)
    assert main(["read", str(path)]) == ExitCode.OK
    assert ": CSV, 2 students" in capsys.readouterr().out
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(["read", str(empty)]) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        f"apscores: {empty}: the file is empty: College Board never sends an empty score file\n"
    )


def test_read_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(tmp_path / "nope.txt")]) == ExitCode.USAGE
    assert capsys.readouterr().err == f"apscores: {tmp_path / 'nope.txt'}: no such file\n"
    assert main(["convert", str(tmp_path / "nope.txt"), "-o", "x.csv"]) == ExitCode.USAGE


def test_convert_long_csv(txt: Path, tmp_path: Path) -> None:
    out = tmp_path / "long.csv"
    assert main(["convert", str(txt), "--to", "csv", "-o", str(out)]) == ExitCode.OK
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["exam_name"], r["admin_year"], r["score"]) for r in rows] == [
        ("World History: Modern", "2021", "5"),
        ("World History", "2019", "3"),
        ("Drawing", "2020", ""),
        ("English Language and Composition", "2022", "4"),
    ]
    assert rows[0]["date_of_birth"] == "2006-03-04"


def test_convert_wide_csv_sizes_its_header(txt: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide.csv"
    assert main(["convert", str(txt), "--wide", "-o", str(out)]) == ExitCode.OK
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 2
    assert "exam_03_status" in rows[0]
    assert "exam_04_code" not in rows[0]
    assert rows[1]["exam_02_code"] == ""
    assert rows[0]["exam_03_status"] == "pending"


def test_convert_jsonl_to_stdout(txt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(txt), "--to", "jsonl", "--long", "-o", "-"]) == ExitCode.OK
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == 4
    assert rows[0]["report_date"] == "2021-07-09"
    assert rows[2]["score"] is None
    assert captured.err == ""


def test_convert_parquet(txt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.parquet"
    assert main(["convert", str(txt), "-o", str(out)]) == ExitCode.OK
    assert "wrote 4 rows (one per exam)" in capsys.readouterr().err
    table = pq.read_table(out)
    assert table.num_rows == 4
    assert str(table.schema.field("date_of_birth").type) == "date32[day]"
    assert main(["convert", str(txt), "--to", "parquet", "-o", "-"]) == ExitCode.USAGE


def test_convert_needs_a_format(
    txt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", str(txt), "-o", str(tmp_path / "out.xls")]) == ExitCode.USAGE
    assert "give --to csv|jsonl|parquet|xlsx" in capsys.readouterr().err


def test_convert_broken_pipe(txt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import apscores.cli._files as files

    def closed(*args: object, **kwargs: object) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(files, "_write_jsonl", closed)
    monkeypatch.setattr("os.dup2", lambda *a: None)
    assert main(["convert", str(txt), "--to", "jsonl", "-o", "-"]) == ExitCode.PIPE_CLOSED


def test_unexpected_errors_are_logged(
    txt: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import apscores.cli._files as files

    def bug(*args: object, **kwargs: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(files, "_write_jsonl", bug)
    assert main(["convert", str(txt), "--to", "jsonl", "-o", "-"]) == ExitCode.ERROR
    assert "please report it" in capsys.readouterr().err

    def interrupted(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_write_jsonl", interrupted)
    assert main(["convert", str(txt), "--to", "jsonl", "-o", "-"]) == ExitCode.INTERRUPTED

    from apscores.errors import DownloadError

    def failed(*args: object, **kwargs: object) -> int:
        raise DownloadError("x")

    monkeypatch.setattr(files, "_write_jsonl", failed)
    assert main(["convert", str(txt), "--to", "jsonl", "-o", "-"]) == ExitCode.PARTIAL


def test_read_several_files_as_json(
    txt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "s.csv"
    write_csv(REPORTS[1:], other)
    assert main(["read", "--json", str(txt), str(other)]) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    first, second = document["files"]
    assert (first["path"], first["format"], first["students"], first["exams"]) == (
        str(txt),
        "txt",
        2,
        4,
    )
    assert first["scores"] == {"5": 1, "4": 1, "3": 1, "none": 1}
    assert first["exam_names"]["World History: Modern"] == 1
    assert first["irregularities"] == {"96": 1}
    assert (second["format"], second["students"]) == ("csv", 1)


def test_read_goes_on_after_a_bad_file(
    txt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"not a score file\n")
    assert main(["read", str(bad), str(txt)]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.err.startswith(f"apscores: {bad}: line 1 is 16 columns")
    assert f"{txt}: TXT, 2 students" in captured.out


def test_convert_several_files_into_one_with_json(
    txt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "s.csv"
    write_csv(REPORTS, other)
    out = tmp_path / "both.jsonl"
    assert main(["convert", "--json", str(txt), str(other), "-o", str(out)]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out) == {
        "output": str(out),
        "format": "jsonl",
        "rows": 8,
        "long": True,
    }
    assert len(out.read_text(encoding="utf-8").splitlines()) == 8
    assert out.stat().st_mode & 0o777 == 0o600  # student data: readable by its owner only


def test_check_lists_unknown_exam_codes_as_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = ScoreReport(
        "33333333",
        Student("Poe", "Ed"),
        "1234",
        exams=(ExamScore("98", 2027, 4), ExamScore("98", 2027, 3), ExamScore("71", 2027, 5)),
        date_updated=dt.date(2027, 7, 1),
        report_date=dt.date(2027, 7, 8),
    )
    path = tmp_path / "new-exams.txt"
    write_txt([*REPORTS, unknown], path)
    assert main(["check", str(path)]) == ExitCode.OK  # a warning, not an error
    out = capsys.readouterr().out
    assert f"{path}: TXT, 3 records, 7 exams: valid" in out
    assert "warning: exam codes the catalog does not know: '98' (2 exams)" in out
    assert "'71'" not in out  # Cybersecurity is known
    assert main(["check", "--json", str(path)]) == ExitCode.OK
    (verdict,) = json.loads(capsys.readouterr().out)["files"]
    assert verdict["unknown_exam_codes"] == {"98": 2}
    assert verdict["valid"] is True


def test_check_gives_a_verdict_for_every_path_even_a_missing_one(
    txt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.txt"
    assert main(["check", str(missing), str(txt)]) == ExitCode.USAGE
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{missing}: INVALID: no such file"
    assert out[1].startswith(f"{txt}: TXT, 2 records")
    assert out[1].endswith("valid")
    assert main(["check", "--json", str(tmp_path)]) == ExitCode.USAGE
    (verdict,) = json.loads(capsys.readouterr().out)["files"]
    assert verdict["problems"][0]["message"] == "not a file"


def test_check_names_a_foreign_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "foreign.txt"
    path.write_text("hello\n")
    assert main(["check", str(path)]) == ExitCode.USAGE
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{path}: INVALID: line 1")
    assert line.count(str(path)) == 1


# --- convert --to parquet on the columnar path (issue 23) ---------------------------------


def _object_path_parquet(paths: list[Path], out: Path) -> None:
    """What convert wrote before issue 23: the typed records, then write_parquet."""
    from apscores.files._detect import read

    def reports() -> Iterator[ScoreReport]:
        for path in paths:
            with read(path) as reader:
                yield from reader

    write_parquet(reports(), out)


def _comparable(path: Path) -> Any:
    table = pq.read_table(path)
    return table.cast(
        pa.schema(
            [
                pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
                for f in table.schema
            ]
        )
    )


def test_convert_to_parquet_runs_the_columnar_path_with_the_same_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = []
    for seed, newline in ((3, "\n"), (4, "\r\n")):
        path = tmp_path / f"f{seed}.txt"
        write_txt(fake_reports(120, seed=seed), path, newline=newline)
        paths.append(path)
    fast, slow = tmp_path / "fast.parquet", tmp_path / "slow.parquet"
    with mock.patch.object(_csv_columnar, "long_parts", wraps=_columnar.long_parts) as spy:
        assert main(["convert", *map(str, paths), "-o", str(fast)]) == ExitCode.OK
    assert spy.call_count == 2  # a file at a time, a block at a time
    _object_path_parquet(paths, slow)
    assert _comparable(fast).equals(_comparable(slow))
    assert pq.read_table(fast).schema == pq.read_table(slow).schema
    assert f"wrote {pq.read_table(slow).num_rows} rows" in capsys.readouterr().err


def test_convert_to_parquet_reports_the_object_paths_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.txt"
    write_txt(fake_reports(30, seed=8), good)
    lines = good.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"".join(lines[:20]) + lines[20][:100] + b"\r" + lines[20][101:] + lines[21])
    out = tmp_path / "out.parquet"
    assert main(["convert", str(good), str(bad), "-o", str(out)]) == ExitCode.USAGE
    fast_error = capsys.readouterr().err
    with pytest.raises(ParseError) as slow:
        _object_path_parquet([good, bad], tmp_path / "slow.parquet")
    assert fast_error == f"apscores: {slow.value}\n"
    assert "line 21" in fast_error
    assert not out.exists()


def test_parquet_written_a_block_at_a_time_reads_back_the_same(tmp_path: Path) -> None:
    from apscores.tables._frames import txt_files_to_parquet

    paths = []
    for seed in (9, 10):
        path = tmp_path / f"f{seed}.txt"
        write_txt(fake_reports(60, seed=seed), path)
        paths.append(path)
    fast, slow = tmp_path / "fast.parquet", tmp_path / "slow.parquet"
    rows = txt_files_to_parquet(paths, fast, chunk_lines=7)  # dictionaries grow by block
    _object_path_parquet(paths, slow)
    assert rows == pq.read_table(slow).num_rows
    assert pq.ParquetFile(fast).metadata.num_row_groups > 10
    assert _comparable(fast).equals(_comparable(slow))
    assert (fast.stat().st_mode & 0o777) == 0o600
