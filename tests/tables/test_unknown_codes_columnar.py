"""The columnar path warns about unknown codes as the object path does: the same
warnings, in the same order, each naming the file and the line (issue 23; found by
review: it named no line, no file for CSV input, skipped a second file's codes, warned
twice for a code in a refused block and again when ``export`` re-read a file).

Each case compares the warnings of the columnar call with those of the typed reader's
(``read`` over the same files in turn, each file its own read)."""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apscores.catalog import UnknownCodeWarning
from apscores.export import load_map
from apscores.export._columnar import export_txt_files
from apscores.files import read, write_csv, write_txt
from apscores.models import Award, ExamScore, ScoreReport
from apscores.sandbox import fake_reports
from apscores.tables import txt_files_to_text, txt_to_arrow

_BASE = fake_reports(12, seed=4)
_ODD = [
    ExamScore("XY", 2024, 3),
    ExamScore("98", 2023, None, ("55",)),
    ExamScore("07", 2024, 2, ("56",)),
]


def _warned(run: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    assert all(w.category is UnknownCodeWarning for w in caught)
    return [str(w.message) for w in caught]


def _typed(paths: list[Path]) -> list[str]:
    def run() -> None:
        for path in paths:
            with read(path, errors="collect") as reader:
                list(reader)

    return _warned(run)


@st.composite
def _files(draw: st.DrawFn) -> list[list[ScoreReport]]:
    """One or two files of the sandbox's records, some given an unknown code (an exam,
    an irregularity or an award), some lines damaged by a bad date (``None``)."""
    files = []
    for _ in range(draw(st.integers(1, 2))):
        reports = []
        for report in _BASE[: draw(st.integers(1, len(_BASE)))]:
            odd = draw(st.sampled_from([None, *_ODD, Award("77", 2024)]))
            if isinstance(odd, ExamScore):
                report = attrs.evolve(report, exams=(*report.exams, odd))
            elif isinstance(odd, Award):
                report = attrs.evolve(report, awards=(odd,))
            reports.append(report)
        files.append(reports)
    return files


def _write(folder: Path, files: list[list[ScoreReport]], kind: str, bad: set[int]) -> list[Path]:
    paths = []
    for index, reports in enumerate(files):
        path = folder / f"f{index}.{kind}"
        (write_txt if kind == "txt" else write_csv)(reports, path)
        if kind == "txt" and bad:  # a bad report date: the fast path refuses the block
            lines = path.read_bytes().splitlines(keepends=True)
            for number in bad & set(range(len(lines))):
                lines[number] = lines[number][:200] + b"\x01" + lines[number][201:]
            path.write_bytes(b"".join(lines))
        paths.append(path)
    return paths


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _files(),
    st.sampled_from(["txt", "csv"]),
    st.integers(1, 5),
    st.sets(st.integers(0, 11), max_size=3),
    st.booleans(),
)
def test_the_columnar_path_warns_as_the_typed_reader(
    files: list[list[ScoreReport]], kind: str, chunk: int, bad: set[int], wide: bool
) -> None:
    """Long and wide, TXT and CSV, one file or two, blocks of any size, some refused."""
    with tempfile.TemporaryDirectory() as name:
        paths = _write(Path(name), files, kind, bad if kind == "txt" else set())
        expected = _typed(paths)
        if not bad or kind == "csv":
            out = io.StringIO()
            how: Literal["csv", "jsonl"] = "csv" if wide else "jsonl"
            assert (
                _warned(
                    lambda: txt_files_to_text(paths, out, how, chunk_lines=chunk, long=not wide)
                )
                == expected
            )
        if kind == "txt":  # bad lines skipped, their blocks read the typed way
            assert (
                _warned(
                    lambda: [
                        txt_to_arrow(path, chunk_lines=chunk, long=not wide, errors="collect")
                        for path in paths
                    ]
                )
                == expected
            )


def test_two_files_each_warn_and_export_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A code in two files is named in each; ``export``, which reads a file again to
    merge a student sent twice, names it once per file, with or without ``--since``."""
    from apscores.cli import main

    reports = [attrs.evolve(r, exams=(_ODD[0],)) for r in _BASE[:3]]
    paths = _write(tmp_path, [reports, reports], "txt", set())
    expected = _typed(paths)
    assert [m.split(": ")[:2] for m in expected] == [[str(p), "line 1"] for p in paths]
    sis_map = tmp_path / "m.toml"
    sis_map.write_text('[columns]\nID = "ap_id"\nT = "sis_test_code"\n', encoding="utf-8")
    assert (
        _warned(
            lambda: export_txt_files(paths, load_map(sis_map), tmp_path / "o.csv", since=reports)
        )
        == expected
    )
    argv = ["export", *map(str, paths), "--map", str(sis_map), "-o", str(tmp_path / "o.csv")]
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main([*argv, "--log-format", "json"]) == 0
    logged = [line for line in capsys.readouterr().err.splitlines() if "unknown" in line]
    assert len(logged) == 2
    for line, path in zip(logged, paths, strict=True):
        assert f"{path}: line 1: unknown exam code" in line
