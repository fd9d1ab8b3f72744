"""Unknown exam, award and irregularity codes are kept with a warning, never an exception
and never a dropped exam (file-layout.md §4.1 and §4.6; user-needs item 2): each reader
warns once per code and read, naming the file and the first line that holds it."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import attrs
import pytest

from apscores.catalog import UnknownCodeWarning
from apscores.errors import ParseError
from apscores.files import _speed as speed
from apscores.files import read, read_csv, read_txt, write_csv, write_txt
from apscores.models import Award, ExamScore, ScoreReport
from apscores.sandbox import fake_reports
from apscores.tables import txt_to_arrow


def _reports() -> list[ScoreReport]:
    """Five records; the third and fifth hold codes no catalog knows."""
    reports = fake_reports(5, seed=1)
    odd = ExamScore("XY", 2024, 3, ("55",))
    reports[2] = attrs.evolve(
        reports[2], exams=(*reports[2].exams, odd), awards=(Award("77", 2024),)
    )
    reports[4] = attrs.evolve(reports[4], exams=(ExamScore("XY", 2024, None),))
    return reports


def _warned(run: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    assert all(w.category is UnknownCodeWarning for w in caught)
    return result, [str(w.message) for w in caught]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"txt": tmp_path / "scores.txt", "csv": tmp_path / "scores.csv"}
    write_txt(_reports(), paths["txt"])
    write_csv(_reports(), paths["csv"])
    return paths


@pytest.mark.parametrize(("kind", "line"), [("txt", 3), ("csv", 4)])  # CSV: a header first
def test_each_unknown_code_is_warned_about_once_and_kept(
    files: dict[str, Path], kind: str, line: int
) -> None:
    path = files[kind]
    reports, messages = _warned(lambda: list((read_txt if kind == "txt" else read_csv)(path)))
    assert reports == _reports()  # every code kept as it is
    assert sorted(messages) == [
        f"{path}: line {line}: unknown {what} code {code!r}, kept as it is ({meaning}); "
        "a newer apscores may know it"
        for what, code, meaning in [
            ("award", "77", "named 'Unknown award 77'"),
            ("exam", "XY", "named 'Unknown exam XY'"),
            ("irregularity", "55", "of no known meaning for the exam's status"),
        ]
    ]
    with pytest.warns(UnknownCodeWarning, match="unknown exam code 'XY'"):
        list(read(path))


def test_a_second_read_warns_again() -> None:
    data = io.BytesIO()
    write_txt(_reports(), data)
    for _ in range(2):
        _, messages = _warned(lambda: list(read_txt(data.getvalue())))
        assert len(messages) == 3
        assert all(message.startswith("line 3: ") for message in messages)


def test_known_codes_warn_nothing() -> None:
    data = io.BytesIO()
    write_txt(fake_reports(50, seed=3), data)
    _, messages = _warned(lambda: list(read_txt(data.getvalue())))
    assert messages == []


@pytest.mark.parametrize("kind", ["txt", "csv"])
def test_records_read_the_reference_way_are_looked_at_too(
    files: dict[str, Path], kind: str
) -> None:
    """A record its generated builder does not vouch for is read by the reference
    reading, which names the same codes."""

    real = speed.compiled

    def refusing(layout: Any, *, lenient: bool) -> Any:
        builder = real(layout, lenient=lenient)

        def make(clock: Any, getters: Any) -> Any:
            def no(*args: Any) -> Any:
                raise ParseError("no", line=None, field=None, raw="")

            def each(rows: Any, on_error: Any) -> Any:
                for index, _ in enumerate(rows):
                    made = on_error(index)
                    if made is not None:
                        yield made

            return no, each

        return attrs.evolve(builder, make=make)

    module = "apscores.files._txt" if kind == "txt" else "apscores.files._csv"
    with mock.patch(f"{module}.compiled", refusing):
        reports, messages = _warned(lambda: list(read(files[kind])))
    assert reports == _reports()
    assert sorted(m.split(": ", 2)[2].split(",")[0] for m in messages) == [
        "unknown award code '77'",
        "unknown exam code 'XY'",
        "unknown irregularity code '55'",
    ]


def test_the_columnar_path_names_them_as_the_typed_reader(files: dict[str, Path]) -> None:
    """By line, awards too (see tests/tables/test_unknown_codes_columnar.py)."""
    table, messages = _warned(lambda: txt_to_arrow(files["txt"]))
    assert "XY" in table["exam_code"].to_pylist()
    _, typed = _warned(lambda: list(read_txt(files["txt"])))
    assert messages == typed
    assert len(messages) == 3


@pytest.mark.filterwarnings("default::apscores.catalog.UnknownCodeWarning")  # as outside tests
def test_commands_log_them_as_warnings(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from apscores.cli import main

    assert main(["read", str(files["txt"]), "--log-format", "json"]) == 0
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert sorted((entry["level"], entry["message"][:60]) for entry in logged) == [
        ("warning", f"{files['txt']}: line 3: unknown award code '77', kept"[:60]),
        ("warning", f"{files['txt']}: line 3: unknown exam code 'XY', kept a"[:60]),
        ("warning", f"{files['txt']}: line 3: unknown irregularity code '55', "[:60]),
    ]
