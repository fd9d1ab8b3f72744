"""CSV outputs neutralise cells a spreadsheet would run as formulas; raw keeps the values.

Every writer goes through :func:`apscores._rows_csv.neutralise`: ``export``, ``credit``
(results and deltas), ``merge`` (current view and changes) and ``convert --to csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _golden import reports, text
from apscores._rows_csv import FORMULA_TRIGGERS, neutralise, write_rows_csv
from apscores.changes import merge, write_changes_csv
from apscores.cli import main
from apscores.credit import CREDIT_COLUMNS, CreditPolicy, write_credit_csv, write_delta_csv
from apscores.export import export_rows, load_map, write_export_csv
from apscores.files import read_csv, write_csv, write_txt
from apscores.models import ExamScore, ScoreReport, Student

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
POLICY = CreditPolicy.from_file(EXAMPLES / "credit-policy.csv")
SIS = load_map(EXAMPLES / "generic-map.toml")
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def unsafe(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_TRIGGERS)]


class TestNeutralise:
    @pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
    def test_each_trigger_gets_a_quote(self, trigger: str) -> None:
        assert neutralise(f"{trigger}1+2") == f"'{trigger}1+2"

    @pytest.mark.parametrize("value", ["", "Doe", " =1", "'=1", "1-2", "a@b.edu", "\n=1"])
    def test_other_text_is_kept(self, value: str) -> None:
        assert neutralise(value) == value

    @pytest.mark.parametrize("value", [-3, -2.5, None, 0])
    def test_numbers_and_none_are_never_changed(self, value: object) -> None:
        assert neutralise(value) == value
        out = io.BytesIO()
        write_rows_csv([{"n": value}], ["n"], out)
        assert parse(out.getvalue()) == [["n"], ["" if value is None else str(value)]]


_cells = st.one_of(
    st.text(),
    st.tuples(st.sampled_from(FORMULA_TRIGGERS), st.text()).map("".join),
).filter(lambda cell: "\x00" not in cell)


@SLOW
@given(st.lists(st.lists(_cells, min_size=2, max_size=2), max_size=5), st.booleans())
def test_flat_rows_are_safe_unless_raw(cells: list[list[str]], header_trigger: bool) -> None:
    columns = ["=a" if header_trigger else "a", "b"]
    rows = [dict(zip(columns, pair, strict=True)) for pair in cells]
    safe, raw = io.BytesIO(), io.BytesIO()
    assert write_rows_csv(rows, columns, safe) == len(rows)
    assert write_rows_csv(rows, columns, raw, raw=True) == len(rows)
    assert unsafe(parse(safe.getvalue())) == []
    assert parse(raw.getvalue()) == [columns, *cells]  # raw round-trips every value


# --- every writer, on records whose text cells may begin with a trigger -----------------

_names = st.tuples(st.sampled_from(["", *FORMULA_TRIGGERS[:4]]), text(14)).map("".join)


@st.composite
def _records(draw: st.DrawFn) -> list[ScoreReport]:
    found = draw(st.lists(reports(), min_size=1, max_size=3, unique_by=lambda r: r.ap_id))
    return [
        attrs.evolve(
            report,
            student=attrs.evolve(report.student, last_name=draw(_names)),
            exams=(*report.exams[:2], ExamScore("36", 2024, 4)),
        )
        for report in found
    ]


Writer = Callable[[list[ScoreReport], BinaryIO, bool], int]


def _export(items: list[ScoreReport], out: BinaryIO, raw: bool) -> int:
    mapped = [attrs.evolve(r, exams=r.exams[-1:]) for r in items]  # codes the map knows
    return write_export_csv(export_rows(mapped, SIS), SIS, out, raw=raw)


WRITERS: dict[str, Writer] = {
    "merge -o": lambda items, out, raw: write_csv(merge(items).current, out, raw=raw),
    "merge --changes": lambda items, out, raw: write_changes_csv(
        merge(items).changes, out, raw=raw
    ),
    "credit": lambda items, out, raw: write_credit_csv(POLICY.evaluate_many(items), out, raw=raw),
    "credit --since": lambda items, out, raw: write_delta_csv(
        POLICY.delta([], items), out, raw=raw
    ),
    "export": _export,
}


@pytest.mark.slow
@SLOW
@given(_records())
def test_no_output_cell_begins_with_a_trigger_unless_raw(items: list[ScoreReport]) -> None:
    for name, write in WRITERS.items():
        safe, raw = io.BytesIO(), io.BytesIO()
        write(items, safe, False)
        write(items, raw, True)
        safe_rows, raw_rows = parse(safe.getvalue()), parse(raw.getvalue())
        assert unsafe(safe_rows) == [], name
        assert safe_rows == [[neutralise(cell) for cell in row] for row in raw_rows], name
    raw = io.BytesIO()
    write_csv(items, raw, raw=True)
    assert list(read_csv(io.BytesIO(raw.getvalue()))) == items  # raw: the values, read back
    decided = list(POLICY.evaluate_many(items))
    out = io.BytesIO()
    write_credit_csv(decided, out, raw=True)
    assert parse(out.getvalue())[1:] == [[d.as_row()[c] for c in CREDIT_COLUMNS] for d in decided]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records(), st.booleans(), st.booleans())
def test_convert_to_csv(items: list[ScoreReport], wide: bool, raw: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "in.txt", Path(folder) / "out.csv"
        write_txt(items, source)
        argv = ["convert", str(source), "--to", "csv", "-o", str(out), "-q"]
        assert main([*argv, *(["--wide"] if wide else []), *(["--raw-csv"] if raw else [])]) == 0
        rows = parse(out.read_bytes())
    names = {r.student.last_name for r in items}
    if raw:
        assert names <= {cell for row in rows for cell in row}
    else:
        assert unsafe(rows) == []
        assert {neutralise(n) for n in names} <= {cell for row in rows for cell in row}


# --- the commands -------------------------------------------------------------------------

EVIL = ScoreReport(
    "A0000001",
    Student("=1+2", "@SUM(A1)", "-"),
    "1234",
    exams=(ExamScore("36", 2024, 4),),
    date_updated=dt.date(2024, 7, 1),
    report_date=dt.date(2024, 7, 8),
)


@pytest.mark.parametrize(
    "command",
    [
        ["merge", "--changes", "{out}2"],
        ["export", "--map", str(EXAMPLES / "generic-map.toml")],
        ["credit", "--policy", str(EXAMPLES / "credit-policy.csv")],
        ["convert", "--to", "csv"],
    ],
)
def test_commands_neutralise_unless_raw_csv(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = tmp_path / "in.txt", tmp_path / "out.csv"
    write_txt([EVIL], source)
    argv = [command[0], str(source), *(a.format(out=out) for a in command[1:]), "-o", str(out)]
    assert main(argv) == 0
    outputs = [out, *([Path(f"{out}2")] if command[0] == "merge" else [])]
    cells = {cell for path in outputs for row in parse(path.read_bytes()) for cell in row}
    assert "'=1+2" in cells
    assert unsafe([list(cells)]) == []
    assert "'@SUM(A1)" in cells
    if command[0] in ("merge", "convert"):  # the only outputs with the middle initial
        assert "'-" in cells
    assert main([*argv, "--raw-csv"]) == 0
    cells = {cell for path in outputs for row in parse(path.read_bytes()) for cell in row}
    assert "=1+2" in cells
    assert "'=1+2" not in cells
    capsys.readouterr()
