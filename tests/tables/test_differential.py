"""The typed reader and the columnar path agree on damaged files: the same table, the same
errors (line, field, message), in both error modes (issues 15 and 23): the audit's cases
(a stray CR in line 1, ``\\r\\r\\n``, two records joined by a CR on the last line, LF and CR
mixed in collect mode), control bytes, grades of other blanks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _damaged import LINES, damaged_files
from apscores.errors import APScoresError, ParseError
from apscores.files import read_txt
from apscores.tables import to_arrow, txt_to_arrow


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "ok", run()
    except APScoresError as error:
        return type(error).__name__, (getattr(error, "line", None), str(error))


def _errors(found: list[ParseError]) -> list[tuple[Any, ...]]:
    return [(e.line, e.field, str(e)) for e in found]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files(), st.integers(1, 5), st.booleans())
def test_raise_mode_gives_the_same_table_or_the_same_error(
    data: bytes, chunk: int, long: bool
) -> None:
    typed = _outcome(lambda: to_arrow(read_txt(data), long=long))
    columnar = _outcome(lambda: txt_to_arrow(data, chunk_lines=chunk, long=long))
    assert typed[0] == columnar[0]
    if typed[0] == "ok":
        assert columnar[1].equals(typed[1])
    else:
        assert columnar[1] == typed[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files(), st.integers(1, 5), st.booleans())
def test_collect_mode_gives_the_same_table_and_the_same_errors(
    data: bytes, chunk: int, long: bool
) -> None:
    def typed() -> tuple[Any, list[tuple[Any, ...]]]:
        with read_txt(data, errors="collect") as reader:
            table = to_arrow(reader, long=long)
            return table, _errors(reader.errors)

    def columnar() -> tuple[Any, list[tuple[Any, ...]]]:
        problems: list[ParseError] = []
        table = txt_to_arrow(
            data, chunk_lines=chunk, errors="collect", problems=problems, long=long
        )
        return table, _errors(problems)

    typed_result, columnar_result = _outcome(typed), _outcome(columnar)
    assert typed_result[0] == columnar_result[0]
    if typed_result[0] == "ok":
        assert columnar_result[1][0].equals(typed_result[1][0])
        assert columnar_result[1][1] == typed_result[1][1]
    else:
        assert columnar_result[1] == typed_result[1]


def test_the_damage_is_seen() -> None:
    """The strategy is not blind: a cut line is an error in both paths."""
    data = LINES[0] + b"\n" + LINES[1][:500] + b"\n"
    with pytest.raises(ParseError) as typed:
        list(read_txt(data))
    with pytest.raises(ParseError) as columnar:
        txt_to_arrow(data)
    assert (typed.value.line, str(typed.value)) == (columnar.value.line, str(columnar.value))
    assert typed.value.line == 2


def _both(data: bytes, mode: str) -> tuple[Any, Any]:
    def typed() -> tuple[Any, list[tuple[Any, ...]]]:
        with read_txt(data, errors=mode) as reader:  # type: ignore[arg-type]
            return to_arrow(reader), _errors(reader.errors)

    def columnar() -> tuple[Any, list[tuple[Any, ...]]]:
        problems: list[ParseError] = []
        table = txt_to_arrow(data, chunk_lines=7, errors=mode, problems=problems)  # type: ignore[arg-type]
        return table, _errors(problems)

    return _outcome(typed), _outcome(columnar)


def _agree(data: bytes, mode: str) -> Any:
    typed, columnar = _both(data, mode)
    assert typed[0] == columnar[0]
    if typed[0] == "ok":
        assert columnar[1][0].equals(typed[1][0])
        assert columnar[1][1] == typed[1][1]
    else:
        assert columnar[1] == typed[1]
    return typed


MANY = b"\n".join(LINES[i % len(LINES)] for i in range(30)) + b"\n"


def test_a_stray_cr_in_line_1_is_data_not_the_line_ending() -> None:
    data = LINES[0][:100] + b"\r" + LINES[0][101:] + b"\n" + MANY
    for mode in ("raise", "collect"):
        outcome = _agree(data, mode)
        error = outcome[1] if mode == "raise" else outcome[1][1][0]
        assert error[0] == 1  # column 101
        assert "field 'street_address_3': a control byte (0x0D)" in error[-1]


def test_cr_cr_lf_is_refused() -> None:
    data = MANY[:-1] + b"\r\r\n"
    for mode in ("raise", "collect"):
        outcome = _agree(data, mode)
        error = outcome[1] if mode == "raise" else outcome[1][1][0]
        assert error[0] == 30


def test_two_records_joined_by_a_cr_on_the_last_line() -> None:
    data = MANY + LINES[0] + b"\r" + LINES[1]
    for mode in ("raise", "collect"):
        outcome = _agree(data, mode)
        error = outcome[1] if mode == "raise" else outcome[1][1][0]
        assert error[0] == 31
        assert "1901 columns" in error[-1]


def test_lf_and_cr_mixed_in_collect_mode() -> None:
    data = MANY + LINES[2] + b"\r" + LINES[3] + b"\n" + LINES[4] + b"\n"
    table, errors = _agree(data, "collect")[1]
    assert [line for line, _, _ in errors] == [31]
    assert table.num_rows > 0


def test_a_cr_only_file_reads_the_same() -> None:
    data = b"\r".join(LINES) + b"\r"
    typed, _ = _both(data, "raise")
    assert typed[0] == "ok"
    _agree(data, "raise")


def test_errors_of_a_path_name_the_file(tmp_path: Any) -> None:
    path = tmp_path / "scores.txt"
    path.write_bytes(LINES[0] + b"\n" + LINES[1][:500] + b"\n")
    with pytest.raises(ParseError, match=r"scores\.txt: line 2"):
        txt_to_arrow(path)
    problems: list[ParseError] = []
    txt_to_arrow(path, errors="collect", problems=problems)
    assert [e.file for e in problems] == [str(path)]


@pytest.mark.parametrize("byte", [b"\x83", b"\x00", b"\t", b"\x7f"])
def test_a_control_byte_in_the_910_filler_is_refused_by_both_paths(byte: bytes) -> None:
    """Columns 901-910 of a 910-column record (a filler, file-layout.md §1.5) are not in
    the 950 layout's shared columns: the columnar path cut them off before looking for
    control bytes, and read a line the typed reader refuses (found by review)."""
    old = [line[:900] + b" " * 10 for line in LINES[:3]]
    data = b"\n".join([old[0], old[1], old[2][:900] + byte + b" " * 9]) + b"\n"
    for mode in ("raise", "collect"):
        outcome = _agree(data, mode)
        error = outcome[1] if mode == "raise" else outcome[1][1][0]
        assert error[0] == 3
        assert "field 'filler_901'" in error[-1]
        assert f"a control byte (0x{byte[0]:02X})" in error[-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(min_size=10, max_size=10), st.integers(0, 2), st.sampled_from(["raise", "collect"])
)
def test_any_bytes_in_the_910_filler_read_alike(filler: bytes, at: int, mode: str) -> None:
    """Whatever columns 901-910 of a 910-column record hold, both paths agree (a line
    ending byte in them splits the line: both paths see the same lines)."""
    old = [line[:900] + b" " * 10 for line in LINES[:3]]
    old[at] = old[at][:900] + filler
    _agree(b"\n".join(old) + b"\n", mode)
