"""Partitioned Parquet for an engine: Hive-style directories, one streaming pass, DuckDB."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from apscores.cli import main
from apscores.errors import ConfigurationError, ParseError
from apscores.export import _dataset, txt_files_to_partitioned, write_partitioned
from apscores.files import read, write_csv, write_txt
from apscores.models import ScoreReport
from apscores.sandbox import fake_reports


def files(tmp_path: Path) -> tuple[list[Path], list[ScoreReport]]:
    """Three files for two DI codes (one with a leading zero), TXT and CSV."""
    north = fake_reports(40, seed=3, di_code="0789")
    south = fake_reports(30, seed=4, di_code="1234")
    paths = [tmp_path / "north-1.txt", tmp_path / "north-2.csv", tmp_path / "south.txt"]
    write_txt(north[:25], paths[0])
    write_csv(north[25:], paths[1])
    write_txt(south, paths[2])
    return paths, [*north, *south]


def expected_counts(reports: list[ScoreReport]) -> dict[tuple[str, int], int]:
    counts = collections.Counter((r.di_code, e.admin_year) for r in reports for e in r.exams)
    return dict(counts)


QUERY = """
    SELECT di_code, admin_year, count(*) AS exams, count(score) AS scored
    FROM read_parquet(?, hive_partitioning = true,
                      hive_types = {'di_code': VARCHAR, 'admin_year': INTEGER})
    GROUP BY di_code, admin_year ORDER BY di_code, admin_year
"""


def test_duckdb_counts_over_a_partitioned_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths, reports = files(tmp_path)
    out = tmp_path / "dataset"
    argv = ["convert", *map(str, paths), "--partition", "di_code,admin_year", "-o", str(out)]
    assert main(argv) == 0
    total = sum(len(r.exams) for r in reports)
    assert f"wrote {total} rows (one per exam) to {out}" in capsys.readouterr().err
    counts = expected_counts(reports)
    for di_code, year in counts:
        assert (out / f"di_code={di_code}" / f"admin_year={year}" / "part-0.parquet").is_file()
    found = duckdb.execute(QUERY, [str(out / "**" / "*.parquet")]).fetchall()
    assert {(d, y): n for d, y, n, _ in found} == counts
    scored = sum(1 for r in reports for e in r.exams if e.score is not None)
    assert sum(row[3] for row in found) == scored
    (north,) = duckdb.execute(
        "SELECT count(DISTINCT ap_id) FROM read_parquet(?, hive_partitioning = true, "
        "hive_types = {'di_code': VARCHAR}) WHERE di_code = '0789'",
        [str(out / "**" / "*.parquet")],
    ).fetchall()
    assert north == (40,)
    modes = {p.stat().st_mode & 0o777 for p in out.rglob("*")}
    assert modes == {0o700, 0o600}
    assert out.stat().st_mode & 0o777 == 0o700


def test_small_batches_give_the_same_rows(tmp_path: Path) -> None:
    reports = fake_reports(30, seed=5, di_code="0789")
    out = tmp_path / "d"
    rows = write_partitioned(reports, out, partition_by=["exam_code"], batch_reports=4)
    assert rows == sum(len(r.exams) for r in reports)
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == rows
    assert sorted(table.column("ap_id").to_pylist()) == sorted(
        r.ap_id for r in reports for _ in r.exams
    )


def test_reports_are_consumed_a_batch_at_a_time() -> None:
    pulled = 0

    def endless() -> Iterator[ScoreReport]:
        nonlocal pulled
        for report in itertools.cycle(fake_reports(5, seed=6)):
            pulled += 1
            yield report

    batches = _dataset._batches(endless(), 10)
    next(batches)
    assert pulled == 10  # never more than one batch ahead of the writer


def test_a_failure_leaves_nothing(tmp_path: Path) -> None:
    def broken() -> Iterator[ScoreReport]:
        yield from fake_reports(5, seed=7)
        raise ConfigurationError("the third file is damaged")

    out = tmp_path / "d"
    with pytest.raises(ConfigurationError, match="damaged"):
        write_partitioned(broken(), out, batch_reports=2)
    assert list(tmp_path.iterdir()) == []


def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = fake_reports(2, seed=8)
    with pytest.raises(ConfigurationError, match="cannot partition by score"):
        write_partitioned(reports, tmp_path / "a", partition_by=["score"])
    with pytest.raises(ConfigurationError, match="distinct columns"):
        write_partitioned(reports, tmp_path / "a", partition_by=["di_code", "di_code"])
    with pytest.raises(ConfigurationError, match="at least 1"):
        write_partitioned(reports, tmp_path / "a", batch_reports=0)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(ConfigurationError, match="already exists"):
        write_partitioned(reports, tmp_path / "full")
    (tmp_path / "empty").mkdir()
    assert write_partitioned(reports, tmp_path / "empty") > 0
    scores = tmp_path / "s.txt"
    write_txt(reports, scores)
    argv = ["convert", str(scores), "--partition", "di_code"]
    assert main([*argv, "--to", "csv", "-o", str(tmp_path / "x")]) == 2
    assert main([*argv, "--wide", "-o", str(tmp_path / "x")]) == 2
    assert "--partition writes long Parquet" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def _tables(root: Path) -> dict[str, pa.Table]:
    """Each Parquet file of a dataset (by its path under ``root``) -> its table."""
    import pyarrow.parquet as pq

    return {str(p.relative_to(root)): pq.read_table(p) for p in sorted(root.rglob("*.parquet"))}


@pytest.mark.parametrize("partition_by", [["di_code", "admin_year"], ["exam_code"]])
def test_txt_files_by_the_columnar_path_give_the_same_dataset(
    tmp_path: Path, partition_by: list[str]
) -> None:
    """``convert --partition`` of TXT files reads them by the columnar path: the same
    directories, files, rows, values and types as the object path, modes 0700/0600."""
    north = fake_reports(60, seed=11, di_code="0789")
    south = fake_reports(45, seed=12, di_code="1234")
    paths = [tmp_path / "north.txt", tmp_path / "south.txt"]
    write_txt(north, paths[0])
    write_txt(south, paths[1], newline="\r\n")
    fast, slow = tmp_path / "fast", tmp_path / "slow"
    rows = txt_files_to_partitioned(paths, fast, partition_by=partition_by)
    assert rows == write_partitioned(read_all(paths), slow, partition_by=partition_by)
    assert rows == sum(len(r.exams) for r in [*north, *south])
    made, expected = _tables(fast), _tables(slow)
    assert list(made) == list(expected)
    for name, table in made.items():  # a dataset's rows, and dictionaries, have no order
        assert table.schema == expected[name].schema, name
        assert sorted(map(repr, table.to_pylist())) == sorted(
            map(repr, expected[name].to_pylist())
        ), name
    assert {p.stat().st_mode & 0o777 for p in fast.rglob("*")} == {0o700, 0o600}


def test_the_columnar_dataset_stops_at_the_same_error_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    write_txt(fake_reports(20, seed=13), good)
    write_txt(fake_reports(20, seed=14), bad)
    data = bad.read_bytes()
    bad.write_bytes(data[: 951 * 7] + b"X" * 100 + b"\n" + data[951 * 8 :])  # line 8 cut
    errors = []
    with pytest.raises(ParseError) as raised:
        txt_files_to_partitioned([good, bad], tmp_path / "fast")
    errors.append(str(raised.value))
    with pytest.raises(ParseError) as raised:
        write_partitioned(read_all([good, bad]), tmp_path / "slow")
    errors.append(str(raised.value))
    assert not (tmp_path / "fast").exists()
    assert not (tmp_path / "slow").exists()
    assert errors[0] == errors[1]
    assert "line 8" in errors[0]
    argv = ["convert", str(good), str(bad), "--partition", "di_code", "-o"]
    assert main([*argv, str(tmp_path / "cli")]) == 2
    assert errors[0] in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "good.txt"]


def read_all(paths: list[Path]) -> Iterator[ScoreReport]:
    for path in paths:
        with read(path) as reader:
            yield from reader
