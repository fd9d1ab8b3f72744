"""The one atomic-write helper: complete under the final name, or not there at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from apscores._atomic import PART_MARKER, AtomicFile, atomic_write


def test_success_replaces_the_target_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    with atomic_write(target) as handle:
        handle.write(b"new")
        assert target.read_bytes() == b"old"  # not visible until the block ends
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_failure_half_way_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")

    def fail_half_way() -> None:
        with atomic_write(target) as handle:
            handle.write(b"half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fail_half_way()
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert target.read_bytes() == b"old"


def test_relative_path_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with atomic_write("plain.csv") as handle:
        handle.write(b"x")
    assert (tmp_path / "plain.csv").read_bytes() == b"x"


def test_atomic_file_without_commit_is_discarded(tmp_path: Path) -> None:
    target = tmp_path / "download.txt"
    with AtomicFile(target) as atomic:
        atomic.write(b"partial body")
        assert atomic.temp_path.name.startswith(f".download.txt{PART_MARKER}")
        assert atomic.temp_path.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_file_commit_renames(tmp_path: Path) -> None:
    target = tmp_path / "download.txt"
    with AtomicFile(target) as atomic:
        atomic.write(b"whole body")
        atomic.commit()
    assert atomic.committed
    assert target.read_bytes() == b"whole body"
    assert [p.name for p in tmp_path.iterdir()] == ["download.txt"]
