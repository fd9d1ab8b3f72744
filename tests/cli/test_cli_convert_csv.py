"""``apscores convert`` of CSV score files (long CSV, JSON Lines, Parquet, partitioned
Parquet) on the columnar path writes what the object path writes and fails as it fails
(issue 23, item 5): the same exit status, the same error line, the same rows before the
error on stdout, the same table or dataset, nothing on disk after an error.

Each case runs the command twice, once as it is and once with the columnar path switched
off (``_columnar`` answering False: what ``convert`` ran before), and compares everything.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apscores.cli._files as files
from _awkward import AWKWARD, benchmark_shape, write_sandbox_files
from _damaged_csv import CELL_DAMAGE, FIELDS, HEADER, ROWS, csv_bytes, damaged_csv_files, rows_of
from apscores.cli import main
from apscores.files import read, write_csv
from apscores.tables import _csv_columnar

TARGETS = [
    ("csv", []),
    ("csv", ["--raw-csv"]),
    ("jsonl", []),
    ("parquet", []),
    ("parquet", ["--partition", "di_code,admin_year"]),
]
Outcome = tuple[int, bytes, str, Any]


def _comparable(path: Path) -> Any:
    """A Parquet file's table with categories as text (the row groups may differ), or a
    dataset's files and their rows; None when nothing was written."""
    if not path.exists():
        return None
    if path.is_dir():
        return {
            str(part.relative_to(path)): sorted(map(repr, pq.read_table(part).to_pylist()))
            for part in sorted(path.rglob("*.parquet"))
        }
    table = pq.read_table(path)
    schema = pa.schema(
        [
            pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
            for f in table.schema
        ]
    )
    return str(table.schema), table.cast(schema).to_pylist()


def _convert(paths: list[Path], target: str, more: list[str], columnar: bool) -> Outcome:
    """(exit status, stdout bytes, stderr, what was written) of one command."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    stderr = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        out = "-" if target in ("csv", "jsonl") else str(Path(folder) / "out")
        argv = ["convert", *map(str, paths), "--to", target, *more, "-o", out]
        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch.object(sys, "stdout", stdout))
            stack.enter_context(mock.patch.object(sys, "stderr", stderr))
            spy = stack.enter_context(
                mock.patch.object(_csv_columnar, "csv_blocks", wraps=_csv_columnar.csv_blocks)
            )
            if not columnar:
                stack.enter_context(mock.patch.object(files, "_columnar", return_value=False))
            code = main(argv)
            stdout.flush()
        written = None if out == "-" else _comparable(Path(out))
        error = stderr.getvalue().replace(out, "OUT")
    if columnar and code == 0:
        assert spy.called  # the case really ran the columnar path
    if not columnar:
        assert not spy.called
    return code, stdout.buffer.getvalue(), error, written


def _same(paths: list[Path], target: str, more: list[str]) -> Outcome:
    fast = _convert(paths, target, more, True)
    assert fast == _convert(paths, target, more, False)
    return fast


def _refused(paths: list[Path], chunk_lines: int = 7) -> list[bool]:
    """For each block of the files, whether the fast path refused it."""
    from apscores.tables._columnar import Dictionaries

    found = []
    for path in paths:
        rows = _csv_columnar.open_csv(path, None)
        try:
            blocks = _csv_columnar.csv_blocks(rows, Dictionaries(), chunk_lines=chunk_lines)
            found += [isinstance(item, _csv_columnar.Refused) for item in blocks]
        finally:
            rows.close()
    return found


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- the three data shapes: read by the fast path, the same output -----------------------


@pytest.mark.parametrize(("target", "more"), TARGETS)
def test_sandbox_and_awkward_files_convert_the_same(
    tmp_path: Path, target: str, more: list[str]
) -> None:
    paths = []
    for index, txt in enumerate(write_sandbox_files(tmp_path)):
        with read(txt) as reader:
            reports = list(reader)
        path = tmp_path / f"{txt.stem}.csv"
        write_csv(reports, path, raw=index == 2)  # the awkward texts as they are
        paths.append(path)
    lf = _write(tmp_path / "lf.csv", paths[0].read_bytes().replace(b"\r\n", b"\n"))
    paths.append(lf)
    assert not any(_refused(paths))  # every block read by the fast path
    code, out, err, written = _same(paths, target, more)
    assert code == 0
    assert not err or err.startswith("wrote ")
    if target == "csv":
        text = out.decode("utf-8")
        assert "=1+2" in text
        assert ("'=1+2" in text) != bool(more)
    if target == "parquet":
        assert written


@pytest.mark.parametrize("shape", ["real", "worst"])
def test_the_benchmark_shapes_convert_the_same(tmp_path: Path, shape: str) -> None:
    path = tmp_path / f"{shape}.csv"
    write_csv(benchmark_shape(shape, 300), path)
    assert not any(_refused([path], 50))
    for target, more in TARGETS:
        assert _same([path], target, more)[0] == 0


def test_txt_and_csv_files_mixed_convert_the_same(tmp_path: Path) -> None:
    txt = write_sandbox_files(tmp_path)
    csv_path = tmp_path / "awkward.csv"
    write_csv(AWKWARD, csv_path)
    for target, more in TARGETS:
        assert _same([txt[0], csv_path, txt[2]], target, more)[0] == 0


# --- damaged files: the same error after the same rows ------------------------------------


def _one_bad_cell(field: str, value: str, count: int = len(ROWS)) -> bytes:
    """The good rows (``count`` of them) with one cell of row 21 replaced."""
    rows = [list(row) for row in ROWS[:count]]
    rows[20][[f.name for f in FIELDS].index(field)] = value
    return csv_bytes(HEADER, rows)


@pytest.mark.parametrize("value", CELL_DAMAGE)
@pytest.mark.parametrize(
    "field",
    ["ap_id", "last_name", "birth_date", "award_year_1", "exam_code_01", "college_code",
     "irregularity_code_1_02", "hs_ai_code", "gender", "date_of_this_report",
     "exam_grade_01", "zip_code"],
)  # fmt: skip
def test_a_damaged_cell_converts_or_fails_the_same(tmp_path: Path, field: str, value: str) -> None:
    path = _write(tmp_path / "one.csv", _one_bad_cell(field, value))
    for target, more in (TARGETS[0], TARGETS[3]):
        _same([path], target, more)


@pytest.mark.parametrize(
    ("field", "value"),
    [("exam_code_01", "7"), ("ap_id", "1.23E+08"), ("exam_code_01", "90.0"),
     ("birth_date", "7/9/2024"), ("admin_year_01", "2024"), ("college_code", "123"),
     ("last_name", "\x01"), ("last_name", "Nguyễn"), ("first_name", "x" * 13)],
)  # fmt: skip
def test_the_block_holding_a_lenient_cell_is_refused(
    tmp_path: Path, field: str, value: str
) -> None:
    path = _write(tmp_path / "one.csv", _one_bad_cell(field, value, 30))  # the sandbox's
    assert _refused([path]) == [False, False, True, False, False]  # rows 15-21 of 30


@pytest.mark.parametrize(
    "damage",
    ["cut row", "more cells", "blank rows", "quoted line break", "unclosed quote",
     "blank AP ID", "an unknown column with text", "a control byte in an unknown column",
     "BOM and CR", "Ctrl-Z", "no header", "missing column", "a long line"],
)  # fmt: skip
def test_damaged_files_convert_or_fail_the_same(tmp_path: Path, damage: str) -> None:
    rows = [list(row) for row in ROWS]
    header = list(HEADER)
    ending = "\r\n"
    if damage == "cut row":
        rows[9] = rows[9][:30]
    elif damage == "more cells":
        rows[3].append("")
        rows[12].append("x")
    elif damage == "blank rows":
        rows[5:5] = [[""] * len(header), [" "] * len(header), []]
    elif damage == "quoted line break":
        rows[4][1] = "Two\nLines"
    elif damage == "blank AP ID":
        rows[8][0] = ""
    elif damage.startswith(("an unknown", "a control")):
        header.append("Notes")
        for row in rows:
            row.append("")
        rows[2][-1] = "note" if damage.startswith("an unknown") else "bad\x02"
        rows[3] = [""] * (len(header) - 1) + ["only a note"]
    elif damage == "BOM and CR":
        ending = "\r"
    elif damage == "missing column":
        del header[0]
        for row in rows:
            del row[0]
    data = csv_bytes(header, rows, ending=ending)
    if damage == "unclosed quote":
        data = data[:-20]
    elif damage == "BOM and CR":
        data = b"\xef\xbb\xbf" + data
    elif damage == "Ctrl-Z":
        data += b"\x1a"
    elif damage == "no header":
        data = data.split(b"\r\n", 1)[1]
    elif damage == "a long line":
        lines = data.split(b"\r\n")
        lines[6] = b"x" * (1 << 21)  # longer than a read: never held
        data = b"\r\n".join(lines)
    path = _write(tmp_path / "damaged.csv", data)
    for target, more in TARGETS:
        _same([path], target, more)


def _audit_cases() -> dict[str, bytes]:
    """The audit's line-ending cases (issue 23), in a CSV file."""
    lines = csv_bytes(HEADER, ROWS[:12], quote_all=False).split(b"\r\n")
    header, first, second, third = lines[0], lines[1], lines[2], lines[3]
    return {
        "stray CR in the header": header[:40] + b"\r" + header[40:] + b"\n" + first + b"\n",
        "stray CR in a row": header + b"\n" + first[:30] + b"\r" + first[30:] + b"\n" + second,
        "CR CR LF": header + b"\r\n" + first + b"\r\r\n" + second + b"\r\n",
        "joined last line": header + b"\n" + first + b"\n" + second + b"\r" + third,
        "LF and CR mixed": header + b"\n" + first + b"\r" + second + b"\n" + third + b"\n",
        "CR only": b"\r".join(lines),
    }


@pytest.mark.parametrize("case", sorted(_audit_cases()))
def test_the_audits_line_endings_convert_or_fail_the_same(tmp_path: Path, case: str) -> None:
    path = _write(tmp_path / "case.csv", _audit_cases()[case])
    for target, more in TARGETS:
        _same([path], target, more)


def test_after_an_error_no_file_is_left(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", _one_bad_cell("exam_code_01", "90.0"))
    for target in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"out.{target}"
        code = main(["convert", str(path), "-o", str(out)])
        assert code == 2
        assert not out.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_csv_files(), st.sampled_from(TARGETS))
def test_any_damaged_file_converts_or_fails_the_same(
    data: bytes, target: tuple[str, list[str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder) / "damaged.csv", data)
        _same([path], *target)


def test_the_header_and_rows_are_the_writers() -> None:
    assert rows_of(AWKWARD)[0] == HEADER
