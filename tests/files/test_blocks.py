"""The one block reader (issue 23): one line rule whatever the block size, BOM and Ctrl-Z,
lines too long to hold reported and never kept, linear time and bounded memory."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores.errors import MAX_RAW, ParseError, UnknownFormatError
from apscores.files import read_csv, read_txt
from apscores.files.blocks import BOM, DECIDE, Block, LongLine, blocks, decide_ending

#: A short CSV header with the columns every score CSV has, and a row's two dates.
CSV_HEADER = (
    b'"AP ID","Admin Year 01","Exam Code 01","Exam Grade 01",'
    b'"Date of Last Student Update","Date of this report"\r\n'
)
DATES = ',"070124","070924"'

Seen = list[tuple[int, bytes | int]]


def _lines(data: bytes, size: int, max_line: int, chunk: int = 0) -> Seen:
    """(line number, content without ending) per line; a long line as its length."""
    stream = io.BytesIO(data)

    def read(wanted: int) -> bytes:  # a stream that may give fewer bytes than asked
        return stream.read(min(wanted, chunk) if chunk else wanted)

    out: Seen = []
    for piece in blocks(read, size, max_line):
        if isinstance(piece, LongLine):
            assert len(piece.head) <= 1024
            out.append((piece.line, piece.length))
            continue
        assert piece.lines >= 1
        contents = piece.contents()
        assert len(contents) == piece.lines
        for number, line in enumerate(contents, piece.first):
            out.append((number, len(line) if len(line) > max_line else line))
    return out


def _reference(data: bytes, max_line: int) -> Seen:
    """The rule of apscores.files.blocks, written the slow and obvious way."""
    head = data[:DECIDE].removeprefix(BOM)
    data = data.removeprefix(BOM).removesuffix(b"\x1a")
    ending = b"\r" if b"\n" not in head and b"\r" in head else b"\n"
    parts = data.split(ending)
    if parts[-1] == b"":
        parts.pop()
    out: Seen = []
    for number, part in enumerate(parts, 1):
        if ending == b"\n" and part.endswith(b"\r"):
            part = part[:-1]
        out.append((number, len(part) if len(part) > max_line else part))
    return out


_BYTES = st.lists(
    st.sampled_from([b"a", b"b", b"\r", b"\n", b"\r\n", b"\x1a", b"xyz" * 5, BOM]), max_size=40
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(_BYTES, st.integers(1, 40), st.integers(1, 12), st.integers(0, 7))
def test_lines_are_the_rules_whatever_the_block_and_read_sizes(
    data: bytes, size: int, max_line: int, chunk: int
) -> None:
    assert _lines(data, size, max_line, chunk) == _reference(data, max_line)


@pytest.mark.parametrize(
    ("data", "ending"),
    [
        (b"a\nb\r\nc\n", b"\n"),  # LF and CRLF mix
        (b"a\rb\rc", b"\r"),  # CR-only
        (b"a\rb\nc\r", b"\n"),  # a stray CR in line 1 does not make the file CR-only
        (b"a\r\r\nb\n", b"\n"),
    ],
)
def test_the_ending_is_decided_from_the_first_bytes(data: bytes, ending: bytes) -> None:
    assert decide_ending(data) == ending


def test_a_cr_only_file_with_an_lf_after_the_first_bytes_stays_cr_only() -> None:
    data = b"a\r" * (DECIDE // 2) + b"b\nc\r"
    lines = _lines(data, 1 << 20, 1 << 20)
    assert lines[-1] == (DECIDE // 2 + 1, b"b\nc")  # the LF is data, refused by the readers


def test_rr_lf_keeps_one_cr_which_the_readers_refuse() -> None:
    assert _lines(b"a\r\r\nb\n", 4, 10) == [(1, b"a\r"), (2, b"b")]


def test_bom_and_a_final_ctrl_z() -> None:
    assert _lines(BOM + b"a\nb\n\x1a", 3, 10) == [(1, b"a"), (2, b"b")]
    assert _lines(b"a\nb\x1a", 3, 10) == [(1, b"a"), (2, b"b")]
    assert _lines(b"a\x1a\nb\n", 3, 10) == [(1, b"a\x1a"), (2, b"b")]  # only the last byte


def test_uniform_files_are_read_in_whole_lines_without_copies() -> None:
    line = b"x" * 950 + b"\r\n"
    pieces = list(blocks(io.BytesIO(line * 5000).read, 1 << 16))
    assert all(isinstance(p, Block) and len(p.data) % len(line) == 0 for p in pieces)
    assert sum(p.lines for p in pieces if isinstance(p, Block)) == 5000


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_a_long_line_is_read_past_in_linear_time_and_never_held() -> None:
    def long_line(megabytes: int) -> list[object]:
        data = b"x" * (megabytes << 20) + b"\nok\n"
        return list(blocks(io.BytesIO(data).read))

    small, big = _timed(lambda: long_line(4)), _timed(lambda: long_line(32))
    assert big < 20 * small + 0.5  # linear (8x the bytes), not quadratic (64x)
    pieces = long_line(8)
    assert pieces[0] == LongLine(1, 8 << 20, b"x" * 1024)
    assert isinstance(pieces[1], Block)
    assert pieces[1].first == 2


def test_nul_bytes_are_refused_at_once() -> None:
    data = b"\x00" * (32 << 20)
    start = time.perf_counter()
    with pytest.raises(UnknownFormatError, match="binary data"):
        read_txt(data)
    assert time.perf_counter() - start < 5


def test_a_long_txt_line_is_the_too_long_error_with_a_capped_raw() -> None:
    line = b"1" * 950 + b"\n"
    data = line + b"A" * (2 << 20) + b"\n" + line
    with pytest.raises(ParseError) as caught:
        list(read_txt(data))
    assert caught.value.line == 2
    assert f"{2 << 20} columns" in str(caught.value)
    assert len(caught.value.raw) == MAX_RAW


def test_a_long_csv_line_is_an_error_naming_its_line_and_the_rest_is_read() -> None:
    header = CSV_HEADER
    rows = (
        b'"X1","24","07","5"%s\r\n' % DATES.encode(),
        b'"X2","24","07","4"%s\r\n' % DATES.encode(),
    )
    data = header + rows[0] + b"y" * (1 << 20) + b"\r\n" + rows[1]
    reader = read_csv(data, errors="collect")
    assert [r.ap_id for r in reader] == ["X1", "X2"]
    assert [(e.line, e.reason) for e in reader.errors] == [
        (3, f"the line is {1 << 20} bytes long: not a row of a score file")
    ]


def test_a_first_line_too_long_to_hold_is_named_with_its_length() -> None:
    from apscores import read

    with pytest.raises(UnknownFormatError, match=f"line 1 is {3 << 20} columns"):
        read(b"A" * (3 << 20) + b"\n")


def test_collected_errors_keep_no_frames() -> None:
    line = b"1" * 950 + b"\n"
    reader = read_txt(line + b"x" * 900 + b"\n" + line, errors="collect")
    list(reader)
    assert [e.__traceback__ for e in reader.errors] == [None]


def test_a_txt_record_holding_a_comma_and_apid_is_a_record() -> None:
    import datetime as dt

    from apscores import read, write_txt
    from apscores.models import Address, Organization, ScoreReport, Student

    school = Organization("", "", address=Address(state=",", zip_code="APID"))
    day = dt.date(2024, 7, 1)
    report = ScoreReport(
        "0", Student("", ""), "", high_school=school, date_updated=day, report_date=day
    )
    out = io.BytesIO()
    write_txt([report], out)
    assert list(read(out.getvalue())) == [report]


def test_a_csv_header_as_long_as_a_txt_record_is_still_a_header() -> None:
    from apscores import read
    from apscores.files._detect import format_of

    header = CSV_HEADER.decode().rstrip("\r\n")
    extra = 0
    while len(header) < 890:
        header += f',"Extra {extra:03d}"'
        extra += 1
    assert 886 <= len(header) <= 950
    data = header + "\r\n" + '"X1","24","07","5"' + DATES + ',""' * extra + "\r\n"
    assert format_of(io.BytesIO(data.encode())) == "csv"
    assert [r.ap_id for r in read(data.encode())] == ["X1"]
    assert format_of(io.BytesIO(b"hello\n")) is None


def test_the_check_refuses_a_csv_line_too_long_to_hold() -> None:
    from apscores.files._check import check_file

    header = CSV_HEADER
    data = header + b'"X1","24","07","5"' + DATES.encode() + b"\r\n" + b"y" * (1 << 20) + b"\r\n"
    with pytest.raises(ParseError, match="line 3: the line is 1048576 bytes long"):
        check_file(io.BytesIO(data))
    with pytest.raises(ParseError, match="line 3"):
        list(read_csv(data))
