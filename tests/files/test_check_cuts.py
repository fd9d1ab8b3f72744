"""The cuts the framing rules alone let through, refused by the download check.

A last line (TXT) or row (CSV) without its line ending is a cut unless it is whole; an
empty unquoted last cell in a CSV that quotes every cell is a cut; ``verified=True`` (the
storage host's MD5 matched) reads the body by the usual framing rules. The check counts
what the readers read.
"""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _golden import ANA_REPORT, BEN_REPORT
from apscores.errors import EmptyFileError, ParseError, TruncatedRecordError
from apscores.files import read, write_csv, write_txt
from apscores.files._check import FileCheck, check_file
from apscores.models import ScoreReport
from apscores.sandbox import fake_reports

EXAMS = len(ANA_REPORT.exams) + len(BEN_REPORT.exams)
POOL = [ANA_REPORT, BEN_REPORT, *fake_reports(6, seed=3)]


def _txt(reports: list[ScoreReport], newline: str = "\n", trim: bool = False) -> bytes:
    out = io.BytesIO()
    write_txt(reports, out, newline=newline)
    data = out.getvalue()
    if trim:
        end = newline.encode()
        data = b"".join(line.rstrip(b" ") + end for line in data.split(end)[:-1])
    return data


def _csv(reports: list[ScoreReport]) -> bytes:
    out = io.BytesIO()
    write_csv(reports, out)
    return out.getvalue()


def _check(data: bytes, format: str | None = None, *, verified: bool = False) -> FileCheck:
    return check_file(io.BytesIO(data), format, name="f", verified=verified)


def _count_read(data: bytes) -> int:
    with read(data) as reader:
        return sum(1 for _ in reader)


TXT = _txt([ANA_REPORT, BEN_REPORT])
TRIMMED = _txt([ANA_REPORT, BEN_REPORT], trim=True)
CSV = _csv([ANA_REPORT, BEN_REPORT])
PLAIN = CSV.replace(b'"', b"")  # the same file, no cell quoted


# --- TXT ---------------------------------------------------------------------------------


def test_a_trimmed_last_line_without_its_ending_is_a_cut() -> None:
    last = TRIMMED.rstrip(b"\n").rsplit(b"\n", 1)[1]
    assert 886 <= len(last) < 950  # the framing rule alone pads it back
    cut = TRIMMED.rstrip(b"\n")
    with pytest.raises(TruncatedRecordError, match=r"f: line 2 is \d+ columns: the file's last"):
        _check(cut)
    assert _check(cut, verified=True) == FileCheck("txt", 2, EXAMS)  # College Board's own
    assert _check(TRIMMED) == FileCheck("txt", 2, EXAMS)  # its ending is there: whole


def test_a_full_width_last_line_without_its_ending_is_whole() -> None:
    assert _check(TXT.rstrip(b"\n")) == FileCheck("txt", 2, EXAMS)
    crlf = _txt([ANA_REPORT, BEN_REPORT], newline="\r\n")
    assert _check(crlf[:-2]) == FileCheck("txt", 2, EXAMS)
    assert _check(crlf[:-1]) == FileCheck("txt", 2, EXAMS)  # cut between CR and LF
    trimmed_crlf = _txt([ANA_REPORT, BEN_REPORT], newline="\r\n", trim=True)
    assert _check(trimmed_crlf[:-1]) == FileCheck("txt", 2, EXAMS)  # the CR ends it
    first, second = TXT.split(b"\n")[:2]
    assert _check(first + b"\n" + second[:910]) == FileCheck("txt", 2, EXAMS)  # 910 layout


def test_a_cut_after_column_886_of_the_last_line_is_refused() -> None:
    """The issue's case: the service code, order key and race fields would read blank."""
    whole = TXT.rstrip(b"\n")
    for cut in (887, 900, 909, 911, 940, 949):
        data = whole[: 951 + cut]
        with pytest.raises(TruncatedRecordError) as info:
            _check(data)
        assert info.value.length == cut
        assert info.value.line == 2
        assert info.value.raw == ""  # never a student's details
        assert _check(data, verified=True).records == 2


def test_a_single_line_without_any_ending_must_be_whole_too() -> None:
    line = TRIMMED.split(b"\n")[0]
    with pytest.raises(TruncatedRecordError, match="line 1"):
        _check(line)
    assert _check(b"\xef\xbb\xbf" + TXT.split(b"\n")[0]).records == 1  # a BOM is no column


def test_a_blank_last_line_without_its_ending_is_no_cut() -> None:
    assert _check(TXT + b"   ") == FileCheck("txt", 2, EXAMS)


def test_a_line_of_blanks_is_no_record_for_the_check_either() -> None:
    first, second = TXT.split(b"\n")[:2]
    data = first + b"\n" + b" " * 950 + b"\n" + second + b"\n" + b" " * 950 + b"\n"
    assert _count_read(data) == 2
    assert _check(data) == FileCheck("txt", 2, EXAMS)


# --- CSV ---------------------------------------------------------------------------------


def test_a_csv_cut_just_after_its_last_separator_is_refused() -> None:
    """The issue's case: the last cell would read as empty."""
    body = CSV.rstrip(b"\r\n")
    cut = body[: body.rfind(b",") + 1]
    with pytest.raises(ParseError, match="line 3: the last cell is empty and unquoted"):
        _check(cut)
    with pytest.raises(ParseError, match="line 3: the last cell is empty and unquoted"):
        _check(cut + b"\r")  # even with something that looks like a line ending
    assert _check(cut, verified=True).records == 2


def test_a_csv_last_row_without_its_ending_needs_its_closing_quote() -> None:
    body = CSV.rstrip(b"\r\n")
    assert _check(body) == FileCheck("csv", 2, EXAMS)  # closed by its quote: whole
    unquoted = PLAIN.rstrip(b"\r\n")
    with pytest.raises(ParseError, match="line 3: the file's last row has no line ending"):
        _check(unquoted)
    assert _check(unquoted, verified=True).records == 2
    assert _check(unquoted + b"\n").records == 2
    # A last cell spanning lines: quoted (strict CSV allows no break outside quotes).
    spans = body[: body.rfind(b",") + 1] + b'"a\r\nb"'
    assert _check(spans).records == 2
    with pytest.raises(ParseError, match="not closed before the end of the file"):
        _check(spans[:-1])


def test_an_empty_unquoted_last_cell_is_a_cut_only_where_every_cell_is_quoted() -> None:
    header, first, second = CSV.split(b"\r\n")[:3]
    blank_last = first[: first.rfind(b",") + 1]
    quoted = b"\r\n".join((header, blank_last, second, b""))
    with pytest.raises(ParseError, match="line 2: the last cell is empty and unquoted"):
        _check(quoted)
    assert _count_read(quoted) == 2  # the reader reads it: only the check refuses it
    header, first, second = PLAIN.split(b"\r\n")[:3]
    plain = b"\r\n".join((header, first[: first.rfind(b",") + 1], second, b""))
    assert _check(plain).records == 2  # a file that does not quote: a blank cell


def test_a_csv_with_a_header_and_no_record_is_a_cut() -> None:
    header = CSV.split(b"\r\n")[0] + b"\r\n"
    with pytest.raises(EmptyFileError, match="a header but no records"):
        _check(header)
    assert _check(header, verified=True) == FileCheck("csv", 0, 0)


# --- properties --------------------------------------------------------------------------


@st.composite
def valid_files(draw: st.DrawFn) -> tuple[str, bytes]:
    reports = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4))
    if draw(st.booleans()):
        return "csv", _csv(reports)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return "txt", _txt(reports, newline, trim=draw(st.booleans()))


def _whole(format: str, prefix: bytes, after: bytes) -> bool:
    """Whether a prefix ending without a line ending still ends with a whole line."""
    if format == "csv":
        return after[:1] in (b"\r", b"\n")
    last = prefix[prefix.rfind(b"\n") + 1 :]
    return len(last) in (950, 910)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(valid_files(), st.data())
def test_any_prefix_without_its_line_ending_is_refused_unless_whole(
    found: tuple[str, bytes], data: st.DataObject
) -> None:
    format, body = found
    cut = data.draw(st.integers(1, len(body) - 1))
    prefix = body[:cut]
    if prefix[-1:] in (b"\n", b"\r"):
        return  # ends at a line ending: only the ETag can see that cut
    if not _whole(format, prefix, body[cut:]):
        with pytest.raises(ParseError):
            _check(prefix, format)
        return
    lines = prefix.count(b"\n") + 1
    records = lines - 1 if format == "csv" else lines
    if records == 0:
        with pytest.raises(EmptyFileError):
            _check(prefix, format)
        return
    assert _check(prefix, format).records == records


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(valid_files())
def test_a_whole_file_passes_and_counts_what_the_reader_reads(found: tuple[str, bytes]) -> None:
    format, body = found
    result = _check(body, format)
    assert result.records == _count_read(body)
    assert _check(body, format, verified=True) == result


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(POOL), min_size=1, max_size=3),
    st.lists(st.sampled_from([b" " * 950, b"", b"  \t", b" " * 910]), max_size=3),
    st.randoms(use_true_random=False),
)
def test_blank_lines_anywhere_count_the_same(
    reports: list[ScoreReport], blanks: list[bytes], rng: random.Random
) -> None:
    lines = _txt(reports).split(b"\n")[:-1]
    for blank in blanks:
        lines.insert(rng.randrange(len(lines) + 1), blank)
    data = b"\n".join(lines) + b"\n"
    assert _check(data).records == _count_read(data) == len(reports)
