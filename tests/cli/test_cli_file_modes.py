"""One policy for every file holding student data: mode 0600, written atomically.

Each command's output (and the library writers behind them) is checked for its mode, and
for leaving nothing behind, neither the file nor a hidden ``.part-`` file, when it fails
half-way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

import pytest

from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.export import write_partitioned, write_xlsx
from apscores.files import write_csv, write_txt
from apscores.models import ScoreReport
from apscores.sandbox import fake_reports
from apscores.tables import write_parquet

DOCS_EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
REPORTS = list(fake_reports(6, seed=3, di_code="1234"))


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def nothing_left(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "scores.txt"
    path.parent.mkdir()
    write_txt(REPORTS, path)
    return path


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """A umask that would make any file created the plain way world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize(
    "options",
    [
        ["-o", "out/scores.csv"],
        ["--wide", "-o", "out/students.csv"],
        ["--to", "jsonl", "-o", "out/scores.jsonl"],
        ["-o", "out/scores.parquet"],
        ["--wide", "-o", "out/students.parquet"],
        ["--to", "xlsx", "--students-sheet", "-o", "out/scores.xlsx"],
    ],
    ids=["csv", "wide-csv", "jsonl", "parquet", "wide-parquet", "xlsx"],
)
def test_convert_writes_0600(
    options: list[str], scores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert main(["convert", "-q", str(scores), *options]) == ExitCode.OK
    (written,) = (tmp_path / "out").iterdir()
    assert mode(written) == 0o600


def test_convert_partitioned_dataset_is_private(scores: Path, tmp_path: Path) -> None:
    out = tmp_path / "by-di"
    assert main(["convert", str(scores), "--partition", "di_code", "-o", str(out)]) == 0
    assert mode(out) == 0o700
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    assert {mode(p) for p in files} == {0o600}
    assert {mode(p) for p in out.rglob("*") if p.is_dir()} == {0o700}


def test_merge_writes_both_files_0600(scores: Path, tmp_path: Path) -> None:
    current, changes = tmp_path / "current.csv", tmp_path / "changes.csv"
    assert main(["merge", str(scores), "-o", str(current), "--changes", str(changes)]) == 0
    assert (mode(current), mode(changes)) == (0o600, 0o600)


def test_credit_and_its_delta_write_0600(scores: Path, tmp_path: Path) -> None:
    policy = DOCS_EXAMPLES / "credit-policy.csv"
    out = tmp_path / "credit.csv"
    assert main(["credit", str(scores), "--policy", str(policy), "-o", str(out)]) == 0
    assert mode(out) == 0o600
    state = tmp_path / "state.csv"
    assert main(["merge", str(scores), "-o", str(state)]) == 0
    moved = tmp_path / "moved.csv"
    since = ["--since", str(state), "-o", str(moved)]
    assert main(["credit", str(scores), "--policy", str(policy), *since]) == 0
    assert mode(moved) == 0o600


def test_export_writes_0600(scores: Path, tmp_path: Path) -> None:
    out = tmp_path / "load.csv"
    sis_map = DOCS_EXAMPLES / "generic-map.toml"
    assert main(["export", str(scores), "--map", str(sis_map), "-o", str(out)]) == 0
    assert mode(out) == 0o600


def test_the_sandbox_demo_download_is_0600(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    assert main(["fetch", "-q", "--sandbox", "--di", "1234", "--dest", str(dest)]) == 0
    downloads = [p for p in dest.iterdir() if p.name.startswith("AP_HED_Scores_")]
    assert downloads
    assert {mode(p) for p in downloads} == {0o600}


# -- the library writers behind the commands ------------------------------------------


def broken(reports: list[ScoreReport], after: int) -> Iterator[ScoreReport]:
    """Reports that stop with an error half-way, as a damaged input file would."""
    yield from reports[:after]
    raise RuntimeError("the input broke half-way")


WRITERS: dict[str, Callable[[Iterable[ScoreReport], Path], int]] = {
    "txt": write_txt,
    "csv": write_csv,
    "parquet": write_parquet,
    "wide-parquet": partial(write_parquet, long=False),
    "xlsx": write_xlsx,
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_library_writers_write_0600_and_nothing_on_error(kind: str, tmp_path: Path) -> None:
    write = WRITERS[kind]
    good = tmp_path / "good" / f"scores.{kind}"
    good.parent.mkdir()
    write(REPORTS, good)
    assert mode(good) == 0o600
    folder = tmp_path / "bad"
    folder.mkdir()
    with pytest.raises(RuntimeError, match="half-way"):
        write(broken(REPORTS, 3), folder / f"scores.{kind}")
    assert nothing_left(folder) == []


def test_a_failed_parquet_leaves_the_earlier_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    write_parquet(REPORTS[:2], path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        write_parquet(broken(REPORTS, 4), path)
    assert path.read_bytes() == before
    assert nothing_left(tmp_path) == ["scores.parquet"]


def test_a_failed_dataset_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        write_partitioned(broken(REPORTS, 3), tmp_path / "by-di", batch_reports=1)
    assert nothing_left(tmp_path) == []
