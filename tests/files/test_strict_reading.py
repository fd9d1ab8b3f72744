"""Reading never guesses: truncated, foreign and broken input is a clear error, never a record.

Positions here come from the public layout table (file-layout.md §1.4: *Date of this
report* is columns 881-886), not from apscores' own layout object.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
from pathlib import Path

import attrs
import pytest

from _golden import ANA, ANA_REPORT, BEN, BEN_REPORT, COLUMNS, k12_csv, txt_line
from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.errors import (
    APScoresError,
    EmptyFileError,
    MissingColumnsError,
    ParseError,
    TruncatedRecordError,
    UnknownFormatError,
)
from apscores.files import read_csv, read_txt, write_csv, write_txt
from apscores.files._check import FileCheck, check_file
from apscores.files._csv import MAX_CELL
from apscores.files._detect import read
from apscores.files._txt import parse_line
from apscores.tables import txt_to_arrow
from fuzz_readers import cases, check_case

DATE_OF_THIS_REPORT_END = 886  # file-layout.md §1.4, columns 881-886
GOOD_1 = txt_line(ANA)
GOOD_2 = txt_line(BEN)


def first_field_cut(length: int) -> str:
    """The layout field holding column ``length + 1``, for a few lengths checked by hand."""
    return {
        1: "ap_id",
        300: "hs_street_address_1",
        600: "irregularity_code_2_06",
        880: "date_of_this_report",
        885: "date_of_this_report",
    }[length]


# --- TXT framing ---------------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_a_line_cut_at_any_length_is_never_a_record(newline: bytes) -> None:
    record = GOOD_1.rstrip(b"\n")
    for length in range(1, 950):
        data = GOOD_2 + record[:length] + newline + GOOD_2
        cut = record[:length].rstrip(b" ")
        if not cut:
            continue  # a line of blanks is a blank line
        reader = read_txt(data, errors="collect")
        reports = list(reader)
        if length >= DATE_OF_THIS_REPORT_END:  # trailing blanks trimmed: still whole
            assert len(reports) == 3, length
            assert reader.errors == [], length
            continue
        assert reports == [BEN_REPORT, BEN_REPORT], length
        (error,) = reader.errors
        assert isinstance(error, TruncatedRecordError), length
        assert (error.line, error.length) == (2, length)
        with pytest.raises(TruncatedRecordError):
            list(read_txt(data))


@pytest.mark.parametrize("length", [1, 300, 600, 880, 885])
def test_truncated_record_names_line_length_and_field(length: int) -> None:
    data = GOOD_2 + GOOD_2 + GOOD_2 + GOOD_1[:length] + b"\n"
    with pytest.raises(TruncatedRecordError) as caught:
        list(read(data))
    error = caught.value
    assert (error.line, error.length, error.field) == (4, length, first_field_cut(length))
    assert str(error).startswith(f"line 4 is {length} columns: a truncated record")
    assert "Date of this report" in str(error)
    assert "Muñoz" not in str(error)  # a cut line is not quoted: it holds a student's details


def test_the_last_line_may_lack_its_ending_only_when_complete() -> None:
    whole = GOOD_1.rstrip(b"\n")
    assert list(read_txt(GOOD_2 + whole)) == [BEN_REPORT, ANA_REPORT]
    trimmed = whole.rstrip(b" ")
    assert len(trimmed) >= DATE_OF_THIS_REPORT_END
    assert list(read_txt(GOOD_2 + trimmed)) == [BEN_REPORT, ANA_REPORT]
    with pytest.raises(TruncatedRecordError) as caught:
        list(read_txt(GOOD_2 + whole[:700]))
    assert (caught.value.line, caught.value.length) == (2, 700)


def test_the_columnar_path_applies_the_same_rule(tmp_path: Path) -> None:
    for length in (5, 300, 885):
        data = GOOD_2 * 3 + GOOD_1[:length] + b"\n" + GOOD_2
        with pytest.raises(TruncatedRecordError) as fast:
            txt_to_arrow(data, chunk_lines=2)
        with pytest.raises(TruncatedRecordError) as typed:
            list(read_txt(data))
        assert (fast.value.line, fast.value.length, fast.value.field) == (
            typed.value.line,
            typed.value.length,
            typed.value.field,
        )
    trimmed = GOOD_2 + GOOD_1.rstrip(b"\n").rstrip()  # one row per exam; Ben has none
    assert txt_to_arrow(trimmed).num_rows == len(ANA_REPORT.exams)


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "AP_HED_Scores_1234.txt"
    path.write_bytes(GOOD_2 + GOOD_1[:300] + b"\n")
    with pytest.raises(TruncatedRecordError, match=rf"^{path}: line 2 is 300 columns"):
        list(read(path))
    reader = read_txt(path, errors="collect")
    assert list(reader) == [BEN_REPORT]
    assert reader.errors[0].file == str(path)


# --- CSV rows --------------------------------------------------------------------------------

#: The two dates every record carries come first: each row below starts with ``D``.
HEADER = (
    '"Date of Last Student Update","Date of this report",'
    '"AP ID","Admin Year 01","Exam Code 01","Exam Grade 01","Date of Birth"\r\n'
)
D = '"070124","070924",'


def csv_error(text: str | bytes) -> ParseError:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(ParseError) as caught:
        list(read_csv(data))
    reader = read_csv(data, errors="collect")
    list(reader)
    assert [e.line for e in reader.errors] == [caught.value.line]
    return caught.value


def test_csv_row_cut_short() -> None:
    error = csv_error(HEADER + D + '"A1","24","07","5","010106"\r\n' + D + '"A2","24","07"\r\n')
    assert error.line == 3
    assert "5 cells, the header 7" in str(error)


def test_csv_text_beyond_the_last_column() -> None:
    error = csv_error(HEADER + D + '"A1","24","07","5","010106","extra"\r\n')
    assert "text beyond the last column" in str(error)
    trailing_empty = HEADER + D + '"A1","24","07","5","010106",\r\n'  # a trailing comma is fine
    assert [r.ap_id for r in read_csv(trailing_empty.encode())] == ["A1"]


def test_csv_unterminated_quote_at_the_end() -> None:
    error = csv_error(
        HEADER + D + '"A1","24","07","5","010106"\r\n' + D + '"A2","24","07","5","0101\r\n'
    )
    assert error.line == 3
    assert "not closed before the end of the file" in str(error)


def test_csv_cr_inside_an_unquoted_cell() -> None:
    error = csv_error(HEADER + D + "A1,24,07,5,01\r0106\r\n")
    assert "CR" in str(error)
    assert error.line == 2
    # Quoted, a line break is data (an address on two lines).
    assert len(list(read_csv((HEADER + D + '"A1","24","07","5",""\r\n').encode()))) == 1


@pytest.mark.parametrize("size", [MAX_CELL + 1, 140_000])
def test_csv_huge_cells(size: int) -> None:
    rows = f'"A1","24","07","5","{"9" * size}"\r\n' + D + '"A2","24","07","5",""\r\n'
    error = csv_error(HEADER + D + rows)
    assert f"longer than {MAX_CELL}" in str(error)
    assert error.line == 2


@pytest.mark.parametrize(
    ("year", "birth"),
    [
        ("²4", "010106"),
        ("٢٤", "010106"),
        ("24", "١٢٠١٠٦"),
        ("24", "²²²²"),
        ("24", "1/1/99999999999"),
    ],
)
def test_csv_numbers_are_ascii_digits_only(year: str, birth: str) -> None:
    error = csv_error(HEADER + D + f'"A1","{year}","07","5","{birth}"\r\n')
    assert error.field == ("admin_year_01" if year != "24" else "birth_date")
    assert error.line == 2


def test_first_line_with_comma_and_a_stray_cr() -> None:
    for data in (b"AP ID,\rExam Code 01\n1,2\n", b"AP ID,Exam\r Code,x\n1,2,3\n"):
        for reader in (read, read_csv):
            with pytest.raises(ParseError):
                list(reader(data, errors="collect"))


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_same_bytes_read_the_same_from_path_file_and_bytes(tmp_path: Path, ending: bytes) -> None:
    out = io.BytesIO()
    write_csv([ANA_REPORT, BEN_REPORT], out)
    data = out.getvalue().replace(b"\r\n", ending)
    path = tmp_path / "scores.csv"
    path.write_bytes(data)
    expected = [ANA_REPORT, BEN_REPORT]
    assert list(read(path)) == expected
    assert list(read(data)) == expected
    with path.open("rb") as handle:
        assert list(read(handle)) == expected
    txt = (GOOD_1 + GOOD_2).replace(b"\n", ending)
    path.write_bytes(txt)
    assert list(read(path)) == list(read(txt)) == expected


# --- format detection --------------------------------------------------------------------------


def test_binary_data_is_not_a_score_file() -> None:
    data = bytes(range(256)) * 40
    for reader in (read, read_txt, read_csv):
        with pytest.raises(UnknownFormatError, match="binary data"):
            list(reader(data, errors="collect"))


def test_foreign_csv_is_not_a_score_file() -> None:
    with pytest.raises(UnknownFormatError) as caught:
        read(b"foo,bar,baz\n1,2,3\n")
    assert "line 1 is 11 columns and is not a CSV header of an AP score file" in str(caught.value)
    with pytest.raises(UnknownFormatError, match="none of its columns"):
        read_csv(b"foo,bar,baz\n1,2,3\n")


def semicolon_csv(text: str) -> bytes:
    """A CSV as Excel saves it where the decimal mark is a comma: cells split by ``;``."""
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    "text", [k12_csv([ANA, BEN]), "AP ID,Last Name,Exam Code 01\nX1,Doe,07\n"], ids=["k12", "short"]
)
def test_a_semicolon_csv_is_named_as_one(text: str, tmp_path: Path) -> None:
    data = semicolon_csv(text)
    with pytest.raises(UnknownFormatError) as caught:
        read(data)
    assert str(caught.value) == (
        "line 1 is a CSV header separated by semicolons (as Excel saves CSV where the decimal "
        "mark is a comma); save it as comma-separated CSV (CSV UTF-8)"
    )
    path = tmp_path / "scores.csv"
    path.write_bytes(data)
    assert main(["check", str(path)]) == ExitCode.USAGE


def test_a_semicolon_line_that_names_no_score_column_is_just_unknown() -> None:
    with pytest.raises(UnknownFormatError, match="is 11 columns and is not a CSV header"):
        read(b"foo;bar;baz\n1;2;3\n")


def test_short_first_line_says_what_was_seen() -> None:
    with pytest.raises(UnknownFormatError) as caught:
        read(b"this is just a note, not scores at all\n")
    assert str(caught.value).startswith("line 1 is 38 columns and is not a CSV header")


def test_csv_with_some_known_columns_lists_what_is_missing() -> None:
    with pytest.raises(MissingColumnsError) as caught:
        read(b"Last Name,First Name,Exam Code 01\nDoe,Jo,07\n")
    assert "AP Number / AP ID" in str(caught.value)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"   \r\n\x1a"])
def test_empty_files_are_errors(data: bytes) -> None:
    for reader in (read, read_txt, read_csv):
        with pytest.raises(EmptyFileError, match="empty"):
            reader(data, errors="collect")


def test_utf16_is_named() -> None:
    data = k12_csv([BEN]).encode("utf-16")
    with pytest.raises(UnknownFormatError, match="UTF-16"):
        read(data)
    with pytest.raises(UnknownFormatError, match="UTF-16"):
        read("AP ID,Last Name\n1,Roe\n".encode("utf-16-be").join([b"\xfe\xff", b""]))


def test_a_record_may_begin_with_the_bytes_of_a_utf16_mark() -> None:
    """Latin-1 ``þÿ`` is bytes FE FF: an AP ID that starts so is still a record."""
    for ap_id in ("þÿ", "ÿþ12"):
        report = attrs.evolve(ANA_REPORT, ap_id=ap_id)
        out = io.BytesIO()
        write_txt([report], out)
        assert list(read(out.getvalue())) == [report]
        assert list(read_txt(out.getvalue())) == [report]


# --- fuzzing ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_fuzzed_input_only_ever_raises_apscores_errors() -> None:
    """A fixed-seed round of tests/fuzz_readers.py (seconds; the script runs longer)."""
    findings = [
        finding for case in itertools.islice(cases(20261202), 1500) for finding in check_case(case)
    ]
    assert findings == []


def test_the_fuzzer_would_see_the_old_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle is not blind: with short lines padded again, it reports them."""
    from apscores.files.layout import Layout

    truncated = [case for case in itertools.islice(cases(5), 2000) if case.truncated_lines]
    assert truncated
    monkeypatch.setattr(Layout, "min_length", property(lambda self: 0))
    assert any(check_case(case) for case in truncated)


# --- the check before a file is recorded -----------------------------------------------------


def test_check_file_counts_and_refuses(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(GOOD_1 + b"\n" + GOOD_2)
    exams = len(ANA_REPORT.exams) + len(BEN_REPORT.exams)
    assert check_file(path, "txt") == FileCheck("txt", 2, exams)
    out = io.BytesIO()
    write_csv([ANA_REPORT, BEN_REPORT], out)
    assert check_file(io.BytesIO(out.getvalue()), "csv") == FileCheck("csv", 2, exams)
    with pytest.raises(UnknownFormatError, match="a TXT file was asked for"):
        check_file(io.BytesIO(out.getvalue()), "txt")
    path.write_bytes(GOOD_1 + GOOD_2[:500])
    with pytest.raises(TruncatedRecordError, match=rf"{path}: line 2 is 500 columns"):
        check_file(path)
    cut_csv = out.getvalue()[:-40]
    with pytest.raises(ParseError, match="line 3"):
        check_file(io.BytesIO(cut_csv), "csv")


def test_check_file_never_raises_anything_else() -> None:
    for case in itertools.islice(cases(99), 800):
        with contextlib.suppress(APScoresError):
            check_file(io.BytesIO(case.data))


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes(range(256)), "holds binary data"),
        (b"foo,bar,baz\n1,2,3\n", "line 1 is 11 columns and is not a CSV header"),
        (b"", "the file is empty"),
        (b"Last Name,Exam Code 01\nDoe,07\n", "missing required column(s)"),
        (GOOD_2 + GOOD_1[:300] + b"\n", "line 2 is 300 columns: a truncated record"),
    ],
)
@pytest.mark.parametrize("command", ["read", "convert", "merge", "credit", "check"])
def test_cli_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    message: str,
    command: str,
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    out = tmp_path / "out.csv"
    argv = {
        "read": ["read", str(path)],
        "check": ["check", str(path)],
        "convert": ["convert", str(path), "-o", str(out)],
        "merge": ["merge", str(path), "-o", str(out)],
        "credit": [
            "credit",
            str(path),
            "--policy",
            str(Path(__file__).parents[2] / "docs" / "examples" / "credit-policy.csv"),
            "-o",
            str(out),
        ],
    }[command]
    assert main(argv) == ExitCode.USAGE
    captured = capsys.readouterr()
    text = captured.out if command == "check" else captured.err
    assert message in text
    if command != "check":
        assert captured.err.startswith(f"apscores: {path}: ")
        assert captured.err.count("\n") == 1
        assert "Traceback" not in captured.err
    assert not out.exists()


def test_cli_check_json_and_several_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_bytes(GOOD_1 + GOOD_2)
    bad.write_bytes(GOOD_1 + GOOD_2[:400] + b"\n" + GOOD_2)
    assert main(["check", str(good)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith(f"{good}: TXT, 2 records, {len(ANA_REPORT.exams)} exams: valid\n")
    assert "'XY' (1 exam)" in out  # the golden record's unknown exam code, kept
    assert main(["check", "--json", str(good), str(bad)]) == ExitCode.USAGE
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is False
    first, second = document["files"]
    assert (first["valid"], first["records"], first["problem_count"]) == (True, 2, 0)
    assert (second["valid"], second["records"], second["problem_count"]) == (False, 2, 1)
    assert second["problems"][0]["line"] == 2
    assert second["problems"][0]["kind"] == "TruncatedRecordError"


@pytest.mark.parametrize("name", ["Łukasz", "O\u2019Brien", "Nguy\u1ec5n", "\u20ac"])
def test_str_lines_with_a_character_latin1_lacks_are_refused_not_replaced(name: str) -> None:
    """A TXT file is Latin-1 bytes, so a line given as text holding a character Latin-1
    lacks was decoded otherwise (cp1252 makes 0x92 a ``’``): it names line and field,
    as the bytes would, instead of turning the character into ``?`` (found by review)."""
    line = txt_line(BEN).rstrip(b"\n").decode("latin-1")
    start, end = COLUMNS["last_name"]
    text = line[: start - 1] + name.ljust(end - start + 1) + line[end:]
    lines = [line, text, line]
    with pytest.raises(ParseError) as caught:
        list(read_txt(lines))
    assert (caught.value.line, caught.value.field) == (2, "last_name")
    assert "not Latin-1" in str(caught.value)
    with read_txt(lines, errors="collect") as reader:
        assert len(list(reader)) == 2
    assert [(e.line, e.field) for e in reader.errors] == [(2, "last_name")]
    with pytest.raises(ParseError) as alone:
        parse_line(text, 7)
    assert (alone.value.line, alone.value.field) == (7, "last_name")


@pytest.mark.parametrize("ending", [b"", b"\n", b"\r\n"])
def test_a_ctrl_z_after_the_last_record_reads_alike_from_bytes_and_lines(ending: bytes) -> None:
    """The DOS end-of-file mark as the very last byte is dropped from bytes; lines given
    as an iterable (a text-mode file) end the same way (found by review's fuzz)."""
    data = txt_line(ANA) + txt_line(BEN).rstrip(b"\r\n") + ending + b"\x1a"
    as_bytes = list(read_txt(data))
    assert as_bytes == [ANA_REPORT, BEN_REPORT]
    as_lines = data.splitlines(keepends=True)
    assert list(read_txt(as_lines)) == as_bytes
    assert list(read_txt([line.decode("latin-1") for line in as_lines])) == as_bytes
    assert txt_to_arrow(as_lines).equals(txt_to_arrow(data))


@pytest.mark.parametrize("ending", ["", "\r\n"])
def test_a_ctrl_z_after_the_last_csv_row_reads_alike_from_bytes_and_lines(ending: str) -> None:
    text = k12_csv([ANA, BEN]).rstrip("\r\n") + ending + "\x1a"
    as_bytes = list(read_csv(text.encode("utf-8")))
    assert [report.ap_id for report in as_bytes] == [ANA_REPORT.ap_id, BEN_REPORT.ap_id]
    assert list(read_csv(text.splitlines(keepends=True))) == as_bytes
