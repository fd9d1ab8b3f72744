"""``apscores convert --to csv|jsonl`` (long, TXT input) on the columnar path writes what the
object path writes, byte for byte, and fails as it fails (issue 23): the same exit status,
the same error line, the same rows before the error on stdout, no file on disk.

Each case runs the command twice, once as it is and once with the columnar path switched
off (``_columnar`` answering False: what ``convert`` ran before), and compares everything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apscores.cli._files as files
from _awkward import report as _report
from _awkward import write_sandbox_files
from _damaged import LINES, damaged_files, good_and_bad
from apscores.cli import main
from apscores.files import write_txt
from apscores.tables import _text_out, txt_files_to_text

MODES = [("csv", []), ("csv", ["--raw-csv"]), ("jsonl", [])]


def _run(
    capsys: pytest.CaptureFixture[str], argv: list[str], columnar: bool
) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of one command, on the columnar path or not."""
    capsys.readouterr()
    with mock.patch.object(_text_out, "write_long_text", wraps=_text_out.write_long_text) as spy:
        if columnar:
            code = main(argv)
        else:
            with mock.patch.object(files, "_columnar", return_value=False):
                code = main(argv)
    assert spy.called == columnar  # the case really ran the path it says
    out, err = capsys.readouterr()
    return code, out, err


def _same_to_stdout(
    capsys: pytest.CaptureFixture[str], paths: list[Path], how: str, more: list[str]
) -> tuple[int, str, str]:
    argv = ["convert", *map(str, paths), "--to", how, *more, "-o", "-"]
    fast, slow = _run(capsys, argv, True), _run(capsys, argv, False)
    assert fast == slow
    return fast


def _same_to_file(
    capsys: pytest.CaptureFixture[str], paths: list[Path], how: str, more: list[str], out: Path
) -> tuple[int, bytes | None]:
    found = []
    for columnar in (True, False):
        target = out.with_name(f"{columnar}-{out.name}")
        argv = ["convert", *map(str, paths), "--to", how, *more, "-o", str(target)]
        code, _, err = _run(capsys, argv, columnar)
        found.append((code, err.replace(str(target), "OUT"), _bytes(target)))
    assert found[0] == found[1]
    return found[0][0], found[0][2]


def _bytes(path: Path) -> bytes | None:
    if not path.exists():
        return None
    assert (path.stat().st_mode & 0o777) == 0o600
    return path.read_bytes()


@pytest.fixture
def sandbox_files(tmp_path: Path) -> list[Path]:
    return write_sandbox_files(tmp_path)


@pytest.mark.parametrize(("how", "more"), MODES)
def test_the_same_bytes_to_a_file_and_to_stdout(
    sandbox_files: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    how: str,
    more: list[str],
) -> None:
    code, data = _same_to_file(capsys, sandbox_files, how, more, tmp_path / f"out.{how}")
    assert code == 0
    assert data is not None
    text = data.decode("utf-8")
    assert _same_to_stdout(capsys, sandbox_files, how, more)[1] == text
    if how == "csv" and not more:
        assert "'=1+2,'@SUM(A1),'-," in text  # neutralised
        assert '"The ""Best"", School"' in text  # quoted, quotes doubled
        assert "\r\n" in text
    elif how == "csv":
        assert "=1+2,@SUM(A1),-," in text
    else:
        rows = [json.loads(line) for line in text.splitlines()]
        assert {"Muñoz", 'O"Brien'} <= {row["last_name"] for row in rows}
        assert any(row["score"] is None and row["date_of_birth"] is None for row in rows)


@pytest.mark.parametrize(("how", "more"), MODES)
def test_the_same_error_after_the_same_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str, more: list[str]
) -> None:
    good, bad = good_and_bad(tmp_path)
    code, out, err = _same_to_stdout(capsys, [good, bad], how, more)
    assert code == 2
    assert "line 21" in err
    assert "bad.txt" in err
    assert out.count("\n") > 30  # the first file's rows, and the second's before line 21
    assert _same_to_file(capsys, [good, bad], how, more, tmp_path / "o")[1] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files(), st.sampled_from(MODES))
def test_damaged_files_fail_or_convert_the_same(data: bytes, mode: tuple[str, list[str]]) -> None:
    """Hypothesis cannot use pytest's fixtures: the CLI's streams are redirected here."""
    how, more = mode
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.txt"
        path.write_bytes(data)
        argv = ["convert", str(path), "--to", how, *more, "-o", "-"]
        assert _captured(argv, True) == _captured(argv, False)


@st.composite
def texts(draw: st.DrawFn, width: int) -> str:
    alphabet = st.sampled_from(list("aZ09 =+-@,\"'\\;éñÿ"))
    return draw(st.text(alphabet, max_size=width)).strip() or "X"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(texts(15), texts(12), texts(1), st.booleans()), min_size=1, max_size=6))
def test_any_text_converts_the_same(names: list[tuple[str, str, str, bool]]) -> None:
    reports = [
        _report(index, last, first, middle=middle, born=None if blank else dt.date(2007, 1, 9))
        for index, (last, first, middle, blank) in enumerate(names)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scores.txt"
        write_txt(reports, path)
        for how, more in MODES:
            argv = ["convert", str(path), "--to", how, *more, "-o", "-"]
            assert _captured(argv, True) == _captured(argv, False)


def test_a_text_stream_without_a_buffer_gets_text(sandbox_files: list[Path]) -> None:
    plain = io.StringIO()
    rows = txt_files_to_text(sandbox_files, plain, "jsonl", chunk_lines=50)
    expected = io.StringIO()
    files._write_jsonl(sandbox_files, expected, True, False)
    assert plain.getvalue() == expected.getvalue()
    assert rows == expected.getvalue().count("\n")


def test_a_cell_with_a_control_byte_is_escaped_as_json_does() -> None:
    import pyarrow as pa

    batch = pa.RecordBatch.from_pydict(
        {"last_name": ["a\tb", None, 'q"\\'], "score": pa.array([1, None, 3])}
    )
    lines = _text_out.jsonl_lines(batch).to_pylist()
    expected = [
        json.dumps({"last_name": name, "score": score}, ensure_ascii=False) + "\n"
        for name, score in (("a\tb", 1), (None, None), ('q"\\', 3))
    ]
    assert lines == expected


def test_csv_cells_quote_and_neutralise_as_the_csv_module() -> None:
    import csv

    import pyarrow as pa

    from apscores._rows_csv import neutralise

    values = ["=x", "a,b", 'say "hi"', "\r=", "-1", "\tx", "ok", "", None, "+", "é,@"]
    batch = pa.RecordBatch.from_pydict({"last_name": values, "first_name": values})
    for raw in (False, True):
        expected = io.StringIO()
        cells = values if raw else [neutralise(value) for value in values]
        csv.writer(expected).writerows([cell, cell] for cell in cells)
        assert "".join(_text_out.csv_lines(batch, raw).to_pylist()) == expected.getvalue()


def test_blocks_of_any_size_give_the_same_bytes(sandbox_files: list[Path]) -> None:
    expected = io.StringIO()
    files._write_csv(sandbox_files, expected, True, False)
    for chunk in (1, 7, 1000):
        out = io.StringIO()
        rows = txt_files_to_text(sandbox_files, out, "csv", chunk_lines=chunk)
        assert out.getvalue() == expected.getvalue()
        assert rows == expected.getvalue().count("\r\n") - 1


# --- running the command outside pytest's fixtures (for hypothesis) ----------------------


def _captured(argv: list[str], columnar: bool) -> tuple[int, bytes, str]:
    """(exit status, stdout bytes, stderr) with the process streams swapped for buffers."""
    import sys

    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    stderr = io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(sys, "stdout", stdout))
        stack.enter_context(mock.patch.object(sys, "stderr", stderr))
        if not columnar:
            stack.enter_context(mock.patch.object(files, "_columnar", return_value=False))
        code = main(argv)
        stdout.flush()
    return code, stdout.buffer.getvalue(), stderr.getvalue()


def _audit_cases() -> dict[str, bytes]:
    """The audit's cases (issue 23), and a block of blank lines the fast path hands over."""
    first, second, third = LINES[0], LINES[1], LINES[2]
    return {
        "stray CR in line 1": first[:50] + b"\r" + first[50:] + b"\n" + second + b"\n",
        "CR CR LF": first + b"\r\n" + second + b"\r\r\n" + third + b"\r\n",
        "joined last line": first + b"\n" + second + b"\r" + third,
        "LF and CR mixed": first + b"\n" + second + b"\r" + third + b"\n",
        "blank lines at the end": first + b"\n" + second + b"\n" + b" " * 950 + b"\n\n",
    }


@pytest.mark.parametrize("case", sorted(_audit_cases()))
@pytest.mark.parametrize(("how", "more"), MODES)
def test_the_audits_cases_fail_or_convert_the_same(case: str, how: str, more: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.txt"
        path.write_bytes(_audit_cases()[case])
        argv = ["convert", str(path), "--to", how, *more, "-o", "-"]
        assert _captured(argv, True) == _captured(argv, False)


def test_blocks_the_fast_path_hands_over_are_written_by_the_object_path(
    sandbox_files: list[Path], tmp_path: Path
) -> None:
    path = tmp_path / "blank-block.txt"
    path.write_bytes(sandbox_files[0].read_bytes() + b"\n" * 3)  # blocks of blank lines only
    for how in ("csv", "jsonl"):
        expected = io.StringIO()
        (files._write_csv if how == "csv" else files._write_jsonl)([path], expected, True, False)
        out = io.StringIO()
        txt_files_to_text([path], out, how, chunk_lines=1)
        assert out.getvalue() == expected.getvalue()


def test_csv_and_mixed_input_run_the_columnar_path(
    sandbox_files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from apscores.files import read, write_csv

    other = tmp_path / "other.csv"
    with read(sandbox_files[0]) as reader:
        write_csv(list(reader), other)
    mixed = ["convert", str(sandbox_files[0]), str(other), "--to", "csv", "-o", "-"]
    assert _run(capsys, mixed, True) == _run(capsys, mixed, False)
    capsys.readouterr()


def test_a_column_of_nulls_only() -> None:
    import pyarrow as pa

    nulls = pa.array([None, None], pa.string())
    assert _text_out._found(nulls, _text_out._CSV_SPECIAL) == b""
    assert not _text_out._starts(nulls, _text_out._TRIGGER)
