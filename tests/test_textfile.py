"""Text files the user hands over: UTF-8 (with or without a BOM), or one clear error."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apscores._textfile import MAX_TEXT_BYTES, TextFileError, read_text_file

HEADER, ROW = "exam_code,course", "07,HIST 101 Café"
TEXT = f"{HEADER}\n{ROW}\n"
NOT_UTF8 = "is not UTF-8 text (byte 0xE9): it is probably Windows-1252"


def read(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    return read_text_file(path, what="a credit policy")


def test_utf8_with_or_without_a_bom_reads_alike(tmp_path: Path) -> None:
    assert read(tmp_path, TEXT.encode()) == TEXT
    assert read(tmp_path, codecs.BOM_UTF8 + TEXT.encode()) == TEXT


@pytest.mark.parametrize(
    ("encoding", "reason", "line", "raw"),
    [
        ("cp1252", f"{NOT_UTF8} (cp1252, what Excel on Windows saves)", 2, ROW),
        ("latin-1", f"{NOT_UTF8} (cp1252, what Excel on Windows saves) or Latin-1", 2, ROW),
        ("utf-16", "is UTF-16 text (Excel's 'Unicode Text'); save it as UTF-8", 1, HEADER),
        ("utf-32", "is UTF-32 text; save it as UTF-8", 1, HEADER),
        ("utf-16-le", "is UTF-16 without a byte-order mark, or not text (it holds NUL", 1, ""),
    ],
)  # fmt: skip
def test_other_encodings_say_what_they_are(
    tmp_path: Path, encoding: str, reason: str, line: int, raw: str
) -> None:
    with pytest.raises(TextFileError) as info:
        read(tmp_path, TEXT.encode(encoding))
    assert info.value.reason.startswith(reason)
    assert "save it as UTF-8 (in Excel: Save As > CSV UTF-8)" in info.value.reason
    assert (info.value.line, info.value.raw) == (line, raw)


def test_a_byte_no_8_bit_table_knows_is_still_named(tmp_path: Path) -> None:
    with pytest.raises(TextFileError, match=r"byte 0x81\): it is in some 8-bit encoding"):
        read(tmp_path, b"a,b\n\x81x\n")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "is a PDF document, not a credit policy"),
        (b"PK\x03\x04\x14\x00", "is a ZIP archive (an Excel .xlsx workbook?)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "is an old Office document"),
        (b"\x89PNG\r\n", "is a PNG image"),
        (b"\xff\xd8\xff\xe0", "is a JPEG image"),
    ],
)
def test_files_that_are_not_text_say_what_they_are(tmp_path: Path, data: bytes, kind: str) -> None:
    with pytest.raises(TextFileError, match=kind.replace("(", r"\(").replace("?)", r"\?\)")):
        read(tmp_path, data)


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(MAX_TEXT_BYTES + 10)
    with pytest.raises(TextFileError, match="is larger than 8 MiB; is it a map"):
        read_text_file(path, what="a map")


def test_a_missing_file_is_the_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_text_file(tmp_path / "nope.csv", what="a map")


@given(st.binary(max_size=300))
def test_any_bytes_are_text_or_one_clear_error(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f"
        path.write_bytes(data)
        text: str | TextFileError
        try:
            text = read_text_file(path, what="a map")
        except TextFileError as error:
            text = error
    if isinstance(text, TextFileError):
        assert text.reason.startswith("is ")
        assert text.line is None or text.line >= 1
    else:
        assert text.encode() == data.removeprefix(codecs.BOM_UTF8)
