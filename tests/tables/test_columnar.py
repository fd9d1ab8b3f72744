"""The TXT fast path (``txt_to_arrow``...) gives exactly the typed path's tables, or its errors."""

from __future__ import annotations

import builtins
import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any, BinaryIO, cast
from unittest import mock

import attrs
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from _golden import ANA, ANA_REPORT, exam, reports, txt_line
from apscores.errors import ConfigurationError, EmptyFileError, ParseError
from apscores.files import read_txt, write_txt
from apscores.files._speed.cache import Cache, Clock
from apscores.files._values import college_code_to_di, parse_date
from apscores.files.blocks import CONTROL, Block, LongLine, blocks
from apscores.files.layout import LAYOUT_910, LAYOUT_950
from apscores.models import ExamScore, ScoreReport, Student
from apscores.sandbox import fake_reports
from apscores.tables import (
    _arrays,
    _blocks,
    _columnar,
    to_arrow,
    to_pandas,
    to_polars,
    txt_to_arrow,
    txt_to_pandas,
    txt_to_polars,
)


def txt_bytes(reports: list[ScoreReport], **options: Any) -> bytes:
    out = io.BytesIO()
    write_txt(reports, out, **options)
    return out.getvalue()


def reference(data: bytes, *, long: bool = True) -> Any:
    """The typed path: every line a ScoreReport, then to_arrow."""
    return to_arrow(read_txt(data), long=long)


def assert_same(data: bytes, *, chunk_lines: int = 7, typed_blocks: int = 0) -> Any:
    """The fast table equals the typed path's, with ``typed_blocks`` blocks read the typed
    way (only blocks of blank lines, unless a test says otherwise)."""
    with mock.patch.object(_columnar, "_slow_part", wraps=_columnar._slow_part) as spy:
        fast = txt_to_arrow(data, chunk_lines=chunk_lines)
    blank = sum(
        isinstance(call.args[0], Block)
        and not any(line[:900].strip(b" \t\x1a\x0c") for line in call.args[0].contents())
        for call in spy.call_args_list
    )
    assert spy.call_count - blank == typed_blocks
    slow = reference(data)
    assert fast.schema == slow.schema
    assert fast.equals(slow)
    assert fast.combine_chunks().equals(slow.combine_chunks())
    return fast


@pytest.fixture
def slow_blocks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first line number of each block the fast path handed to the typed reader."""
    seen: list[int] = []
    real = _columnar._slow_part

    def spy(piece: Any, *args: Any) -> Any:
        seen.append(piece.line if isinstance(piece, LongLine) else piece.first)
        return real(piece, *args)

    monkeypatch.setattr(_columnar, "_slow_part", spy)
    return seen


SANDBOX = txt_bytes(fake_reports(300, seed=11))
#: The two dates every record carries (required: blank, the typed reader decides).
DATED: dict[str, Any] = {"date_updated": dt.date(2024, 7, 1), "report_date": dt.date(2024, 7, 9)}

CASES = [
    ScoreReport(
        ap_id="1234ABCD",
        student=Student("Muñoz", "José", "Ñ", date_of_birth=dt.date(2006, 2, 28), gender="F"),
        di_code="1234",
        exams=(
            ExamScore("93", 2019, 3),
            ExamScore("93", 2021, 5, class_section="A"),
            ExamScore("14", 2019, 4),
            ExamScore("14", 2020, None, ("01", "29")),
            ExamScore("XY", 2024, 2, ("ZZ",)),
            ExamScore("07", 1998, None, ("96",)),
            ExamScore("10", 2049, None),
            ExamScore("65", 2024, 1, ("04", "20"), suppression_flag="S"),
        ),
        date_released=dt.date(2024, 2, 29),
        date_updated=dt.date(1999, 12, 31),
        report_date=dt.date(2024, 7, 9),
    ),
    ScoreReport(ap_id="NOEXAMS", student=Student("Roe", "Al"), di_code="5678", **DATED),
    ScoreReport(
        ap_id="ZZ",
        student=Student("", ""),
        di_code="",
        exams=(ExamScore("A7", 1950, 5),),
        **DATED,
    ),
]


def test_sandbox_file_is_equal_in_every_chunking() -> None:
    for chunk_lines in (1, 2, 7, 299, 300, 301, 20_000):
        assert_same(SANDBOX, chunk_lines=chunk_lines)


def test_names_by_year_unknown_codes_and_blank_scores() -> None:
    table = assert_same(txt_bytes(CASES))
    rows = table.to_pylist()
    names = [(row["exam_code"], row["admin_year"], row["exam_name"]) for row in rows[:2]]
    assert names == [("93", 2019, "World History"), ("93", 2021, "World History: Modern")]
    assert rows[3]["score"] is None
    assert rows[3]["irregularity_codes"] == "01;29"
    assert rows[4]["exam_name"] == "Unknown exam XY"
    assert rows[0]["last_name"] == "Muñoz"
    assert rows[0]["middle_initial"] == "Ñ"
    assert rows[5]["admin_year"] == 1998
    assert [row["ap_id"] for row in rows].count("NOEXAMS") == 0


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("layout", [LAYOUT_950, LAYOUT_910])
def test_line_endings_and_layouts(newline: str, layout: Any) -> None:
    assert_same(_write(fake_reports(40, seed=5), layout, newline))


def test_stripped_trailing_blanks_mixed_lengths_bom_and_blank_lines() -> None:
    lines = SANDBOX.splitlines(keepends=True)
    mixed = [
        b"\xef\xbb\xbf" + lines[0],
        lines[1].rstrip(b"\n").rstrip(b" ") + b"\n",
        b"\n",
        b"   \t \x1a\r\n",
        lines[2].rstrip(b"\n") + b"\r\n",
        b" " * 950 + b"\n",
        b" " * 2000 + b"\n",  # blank and longer than a block's buffer
        lines[3][:900] + b"FILLERFILL\n",  # 910 columns: 901-910 are filler
        b" " * 900 + b"FILLERFILL\n",  # 910 columns, blank but for the filler: skipped
        *lines[4:50],
        lines[50].rstrip(b"\n"),  # no final newline
    ]
    data = b"".join(mixed)
    for chunk_lines in (1, 3, 10, 1000):
        assert_same(data, chunk_lines=chunk_lines)


def test_lines_one_column_short_with_crlf_look_regular_but_are_not() -> None:
    lines = [line[:949] + b"\r\n" for line in SANDBOX.splitlines()[:20]]
    assert_same(b"".join(lines), chunk_lines=8)


def test_a_blank_exam_code_skips_its_block_only() -> None:
    values = {**ANA, **exam(2, "", ""), **exam(3, "24", "XY", "4")}  # block 3 is read
    data = txt_line(values) + txt_line(ANA)
    table = assert_same(data)
    rows = [row for row in table.to_pylist() if row["ap_id"] == "A1B2C3D4"]
    assert len(rows) == 2 * len(ANA_REPORT.exams) - 1
    assert (rows[1]["exam_code"], rows[1]["admin_year"], rows[1]["score"]) == ("XY", 2024, 4)
    with pytest.raises(ParseError) as caught:  # and checked: a grade 9 is refused
        txt_to_arrow(txt_line({**values, **exam(3, "24", "XY", "9")}))
    assert caught.value.field == "exam_grade_03"


def test_text_is_right_stripped_like_str_rstrip() -> None:
    odd = {
        **ANA,
        "last_name": "Nuñez\xa0",  # Latin-1 whitespace (no-break space), stripped
        "hs_institution_name": "École\xa0\xa0",
        "gender": "\xa0",
    }
    table = assert_same(txt_line(odd) + txt_line(ANA))
    row = table.to_pylist()[0]
    assert row["last_name"] == "Nuñez"
    assert row["high_school_name"] == "École"
    assert row["gender"] == ""


@pytest.mark.parametrize(
    ("field", "value", "byte"),
    [
        ("last_name", "Nuñez\x85", "0x85"),
        ("first_name", "\tAna", "0x09"),
        ("first_name", "Ana\x00", "0x00"),
        ("hs_institution_name", "École\x1c", "0x1C"),
        ("street_address_1", "1 Main\rSt", "0x0D"),
        ("filler_912", "\x7f", "0x7F"),
    ],
)
def test_control_bytes_are_refused_naming_line_and_field(field: str, value: str, byte: str) -> None:
    data = txt_line(ANA) + txt_line({**ANA, field: value} if field != "filler_912" else ANA)
    if field == "filler_912":
        data = data[:-30] + b"\x7f" + data[-29:]
    with pytest.raises(ParseError) as fast:
        txt_to_arrow(data)
    with pytest.raises(ParseError) as slow:
        reference(data)
    assert str(fast.value) == str(slow.value)
    assert (fast.value.line, fast.value.field) == (2, field)
    assert f"control byte ({byte})" in str(fast.value)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(reports(), max_size=6),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from([LAYOUT_950, LAYOUT_910]),
    st.booleans(),
    st.integers(1, 4),
)
def test_hypothesis_files(
    items: list[ScoreReport], newline: str, layout: Any, strip: bool, chunk_lines: int
) -> None:
    dated = [  # a blank required date sends the block the typed way: tested below
        attrs.evolve(
            r,
            date_updated=r.date_updated or dt.date(2024, 7, 1),
            report_date=r.report_date or dt.date(2024, 7, 9),
        )
        for r in items
    ]
    data = _write(dated, layout, newline)
    if strip:  # trailing blanks trimmed, never into Date of this report (the framing rule)
        shortest = LAYOUT_950.min_length
        data = b"".join(
            line.rstrip(b"\r\n").rstrip(b" ").ljust(shortest) + b"\n" for line in data.splitlines()
        )
    if not items:
        with pytest.raises(EmptyFileError):
            txt_to_arrow(data, chunk_lines=chunk_lines)
        with pytest.raises(EmptyFileError):
            reference(data)
        return
    assert_same(data, chunk_lines=chunk_lines)


def _write(items: list[ScoreReport], layout: Any, newline: str) -> bytes:
    """Write what the layout can hold (the 910 layout has no race fields)."""
    if layout is LAYOUT_910:
        items = [
            attrs.evolve(
                r,
                student=attrs.evolve(
                    r.student, race_ethnicity_response="", derived_aggregate_race_ethnicity=""
                ),
            )
            for r in items
        ]
    return txt_bytes(items, layout=layout, newline=newline)


# --- bad input: the typed reader's errors, with the file's line numbers ----------------------


BAD_FIELDS = [
    ("birth_date", "023106"),
    ("birth_date", "0315 6"),
    ("date_of_this_report", "130124"),
    ("date_grades_released_to_college", "ABCDEF"),
    ("admin_year_03", "2X"),
    ("exam_grade_02", "7"),
    ("exam_grade_01", "0"),
    ("award_year_3", ""),
    ("previous_ai_year_1", "X1"),
    ("ap_id", ""),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_bad_values_raise_the_typed_readers_error(
    field: str, value: str, slow_blocks: list[int]
) -> None:
    good = txt_line(ANA)
    data = good * 9 + txt_line({**ANA, field: value}) + good * 5
    with pytest.raises(ParseError) as fast:
        txt_to_arrow(data, chunk_lines=4)
    with pytest.raises(ParseError) as slow:
        reference(data)
    assert (fast.value.line, fast.value.field, fast.value.raw) == (
        slow.value.line,
        slow.value.field,
        slow.value.raw,
    )
    assert str(fast.value) == str(slow.value)
    assert fast.value.line == 10
    assert slow_blocks == [9]  # only the block holding line 10 went the typed way


def test_bad_value_after_a_bom_and_blank_lines_keeps_line_numbers() -> None:
    data = b"\xef\xbb\xbf\n\n" + txt_line(ANA) + txt_line({**ANA, "exam_grade_01": "X"})
    with pytest.raises(ParseError, match="line 4, field 'exam_grade_01'"):
        txt_to_arrow(data, chunk_lines=2)


def test_a_line_longer_than_the_layout() -> None:
    data = txt_line(ANA) + txt_line(ANA)[:-1] + b"X\n"
    with pytest.raises(ParseError, match="line 2: the line has 951 columns"):
        txt_to_arrow(data)


def test_an_ap_id_of_tabs_on_a_blank_line_is_skipped_by_the_typed_reader(
    slow_blocks: list[int],
) -> None:
    data = txt_line(ANA) + b"\t" * 8 + b" " * 942 + b"\n" + txt_line(ANA)
    table = assert_same(data, chunk_lines=100, typed_blocks=1)
    assert table.num_rows == 10
    assert slow_blocks == [1]


def test_an_ap_id_of_tabs_on_a_line_with_data_raises() -> None:
    data = txt_line(ANA) + txt_line({**ANA, "ap_id": "\t\t"})
    with pytest.raises(ParseError, match=r"line 2, field 'ap_id': a control byte \(0x09\)"):
        txt_to_arrow(data)


def test_blank_lines_only_and_empty_input() -> None:
    for data in (b"", b"\n\n", b" " * 950 + b"\r\n"):
        with pytest.raises(EmptyFileError):
            txt_to_arrow(data)
        with pytest.raises(EmptyFileError):
            reference(data)


def test_good_blocks_stay_fast(slow_blocks: list[int]) -> None:
    assert_same(SANDBOX, chunk_lines=50)
    assert slow_blocks == []


# --- sources and shapes -----------------------------------------------------------------------


def test_sources(tmp_path: Path) -> None:
    path = tmp_path / "scores.txt"
    path.write_bytes(SANDBOX)
    expected = reference(SANDBOX)
    assert txt_to_arrow(path).equals(expected)
    assert txt_to_arrow(str(path)).equals(expected)
    assert txt_to_arrow(bytearray(SANDBOX)).equals(expected)  # type: ignore[arg-type]
    with open(path, "rb") as handle:
        assert txt_to_arrow(handle, chunk_lines=64).equals(expected)
        assert not handle.closed
    assert txt_to_arrow(cast(BinaryIO, _ReadOnly(SANDBOX)), chunk_lines=64).equals(expected)
    assert txt_to_arrow(SANDBOX.splitlines(keepends=True)).equals(expected)
    with open(path, encoding="latin-1", newline="") as text:
        assert txt_to_arrow(text).equals(expected)


class _ReadOnly:
    """A binary stream with ``read`` but no ``readinto``, returning short reads."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 1000))


def test_wide_is_read_by_numpy_and_equals_the_typed_path() -> None:
    from apscores.tables import _wide

    data = txt_bytes(CASES) + SANDBOX
    for chunk in (1, 7, 4000):
        with mock.patch.object(_wide, "records_wide", wraps=_wide.records_wide) as slow:
            fast = txt_to_arrow(data, long=False, chunk_lines=chunk)
        assert not slow.called  # every block by numpy
        expected = reference(data, long=False)
        assert fast.schema == expected.schema
        assert fast.equals(expected)
        assert fast.combine_chunks().equals(expected.combine_chunks())


def test_wide_slots_have_their_own_dictionaries_in_order_of_appearance() -> None:
    """A slot column's dictionary lists its values as they first appear down the column,
    across blocks, those the typed reader reads too."""
    from apscores.catalog import exam_name
    from apscores.tables import _wide
    from apscores.tables._blocks import UnsafeBlockError

    first = [ExamScore("93", 2019, 3), ExamScore("14", 2020, None, ("01",))]
    second = [ExamScore("14", 2020, 5), ExamScore("93", 2021, 2)]
    records = [
        attrs.evolve(CASES[0], ap_id=f"ID{index}", exams=tuple(exams))
        for index, exams in enumerate([first, second, first[:1], [], second[:1], second])
    ]
    data = txt_bytes(records)
    real = _wide._fast_wide

    def fast_but_the_second_block(raw: Block, *args: Any) -> Any:
        if raw.first == 3:
            raise UnsafeBlockError
        return real(raw, *args)

    with mock.patch.object(_wide, "_fast_wide", fast_but_the_second_block):
        fast = txt_to_arrow(data, long=False, chunk_lines=2)
    assert fast.equals(reference(data, long=False))
    assert fast["exam_01_name"].combine_chunks().dictionary.to_pylist() == [
        exam_name("93", 2019),
        exam_name("14", 2020),
    ]
    assert fast["exam_02_name"].combine_chunks().dictionary.to_pylist() == [
        exam_name("14", 2020),
        exam_name("93", 2021),
    ]
    assert fast["exam_02_code"].to_pylist() == ["14", "93", None, None, None, "93"]


def test_polars_and_pandas_equal_the_typed_path() -> None:
    data = txt_bytes(CASES) + SANDBOX
    assert_frame_equal(txt_to_polars(data, chunk_lines=50), to_polars(read_txt(data)))
    fast = txt_to_pandas(data, chunk_lines=50)
    pd.testing.assert_frame_equal(fast, to_pandas(read_txt(data)))
    assert isinstance(fast["exam_name"].dtype, pd.CategoricalDtype)
    with pytest.raises(EmptyFileError):
        txt_to_pandas(b"")
    with pytest.raises(EmptyFileError):
        txt_to_polars(b"", long=False)


def test_chunk_lines_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="chunk_lines"):
        txt_to_arrow(SANDBOX, chunk_lines=0)


@pytest.mark.parametrize(
    ("builder", "module", "extra"),
    [
        (txt_to_arrow, "numpy", "arrow"),
        (txt_to_polars, "numpy", "polars"),
        (txt_to_pandas, "numpy", "pandas"),
        (txt_to_polars, "pyarrow", "polars"),
        (txt_to_arrow, "pyarrow", "arrow"),
    ],
)
def test_missing_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, builder: Any, module: str, extra: str
) -> None:
    real_import = builtins.__import__

    def no_module(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == module or name.startswith(module + "."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", no_module)
    with pytest.raises(ConfigurationError, match=rf"pip install 'apscores\[{extra}\]'"):
        builder(SANDBOX)


# --- the pieces against the reference functions ---------------------------------------------


# The numpy converters see clean bytes only: the block reader refuses control bytes.
_CLEAN = bytes(sorted(set(range(256)) - set(CONTROL)))


def _clean(value: bytes) -> bytes:
    return bytes(_CLEAN[byte % len(_CLEAN)] for byte in value)


_DATE_TEXT = st.text(" 0123456789\xa0X", min_size=6, max_size=6) | st.dates(
    dt.date(1950, 1, 1), dt.date(2049, 12, 31)
).map(lambda d: d.strftime("%m%d%y"))


@settings(max_examples=300, deadline=None)
@given(st.lists(_DATE_TEXT, min_size=1, max_size=8))
def test_dates_agree_with_parse_date(texts: list[str]) -> None:
    keys = np.frombuffer("".join(texts).encode("latin-1"), dtype=np.uint8).reshape(-1, 6)
    expected: list[dt.date | None] = []
    try:
        expected = [parse_date("d", t.rstrip(), None, False) for t in texts]
    except ParseError:
        with pytest.raises(_blocks.UnsafeBlockError):
            _arrays.to_days(keys)
        return
    days, blank = _arrays.to_days(keys)
    got = pa.array(days, pa.date32(), mask=blank).to_pylist()
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=5, max_size=5).map(_clean), min_size=1, max_size=8))
def test_text_agrees_with_rstrip(values: list[bytes]) -> None:
    field = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), 5)
    expected = [value.decode("latin-1").rstrip() for value in values]
    assert _arrays.as_text(field).to_pylist() == expected
    both = _arrays.as_texts([field, field[:, 1:3]]).to_pylist()  # several fields at once
    assert both == expected + [value[1:3].decode("latin-1").rstrip() for value in values]


def test_byte_rules_agree_with_str_for_every_clean_byte() -> None:
    field = np.frombuffer(_CLEAN, dtype=np.uint8).reshape(-1, 1)
    assert _arrays.blank(field).tolist() == [chr(b).isspace() for b in _CLEAN]
    number, found = _arrays.digits(field)
    assert found.tolist() == [chr(b) in "0123456789" for b in _CLEAN]
    assert number[found].tolist() == list(range(10))


_COLLEGE_CODE = st.text(" 0123456789\xa0A²", min_size=6, max_size=6).map(
    lambda t: t.encode("latin-1")
) | st.sampled_from([b"001234", b"  1234", b"1234  ", b"00 123", b"000000", b"\xa000123"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_COLLEGE_CODE, min_size=1, max_size=8))
def test_di_codes_agree_with_college_code_to_di(values: list[bytes]) -> None:
    field = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), 6)
    expected = [college_code_to_di(value.decode("latin-1")) for value in values]
    assert _arrays.di_codes(field).to_pylist() == expected


def test_blocks_survive_a_stream_that_ends_in_the_middle_of_a_line() -> None:
    def pieces(data: bytes, size: int) -> list[tuple[bytes, int]]:
        return [
            (piece.data, piece.lines)
            for piece in blocks(io.BytesIO(data).read, size)
            if isinstance(piece, Block)
        ]

    assert pieces(b"ab\ncd", 1) == [(b"ab\n", 1), (b"cd", 1)]
    assert pieces(b"\xef\xbb\xbfab\n", 1) == [(b"ab\n", 1)]
    assert pieces(b"x" * 3000 + b"\n", 1) == [(b"x" * 3000 + b"\n", 1)]


def test_txt_files_to_batches_streams_the_long_table_a_block_at_a_time(tmp_path: Path) -> None:
    """Batches for an engine: ``to_arrow(read(...))``'s rows over the files in turn, no
    batch longer than a block's exams, and nothing read past the batch asked for."""
    import pyarrow as pa

    from apscores.files import read, write_txt
    from apscores.sandbox import fake_reports
    from apscores.tables import to_arrow, txt_files_to_batches

    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    write_txt(fake_reports(30, seed=21), paths[0])
    write_txt(fake_reports(25, seed=22), paths[1], newline="\r\n")
    batches = list(txt_files_to_batches(paths, chunk_lines=7))
    expected = to_arrow([r for path in paths for r in read(path)])
    assert all(b.schema == expected.schema for b in batches)
    assert pa.Table.from_batches(batches).to_pylist() == expected.to_pylist()
    assert len(batches) >= 55 // 7
    lazy = txt_files_to_batches([tmp_path / "a.txt", tmp_path / "missing.txt"], chunk_lines=7)
    assert next(lazy).num_rows > 0  # the second file is not opened yet
    for wrong in (0, -1):  # refused at the call, not at the first batch
        with pytest.raises(ConfigurationError, match="chunk_lines must be at least 1"):
            txt_files_to_batches(paths, chunk_lines=wrong)


def test_exam_values_kept_across_blocks_stay_bounded() -> None:
    known = Cache(Clock(), limit=2)
    known.keep(5, (0, "stale"))
    known.keep(6, (0, "stale"))
    keys = np.array([5, 7, 5], dtype=np.int64)
    categories, texts = _columnar._resolve(known, keys, lambda key: (key, str(key)))
    assert categories.tolist() == [0, 7, 0]  # 5 was kept, 7 computed
    assert texts.to_pylist() == ["stale", "7", "stale"]
    assert known == {7: (7, "7")}  # full: emptied before 7 was kept
