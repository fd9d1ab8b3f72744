"""Text files the user hands over (credit policies, student-system maps), read with one error.

A policy saved by Excel on Windows is cp1252, "Unicode Text" is UTF-16, a PDF is given by
mistake: each is a :class:`TextFileError` saying what the file is and how to save it as
UTF-8, never a ``UnicodeDecodeError``. A UTF-8 byte-order mark is dropped, whatever the
format, so CSV and TOML files read alike. The caller turns the error into its own
(:class:`~apscores.errors.PolicyError`, :class:`~apscores.errors.MapError`) naming the file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

__all__ = ["MAX_TEXT_BYTES", "TextFileError", "read_text_file", "semicolon_header"]

#: The largest policy or map read (a real one is a few kilobytes).
MAX_TEXT_BYTES = 8 * 1024 * 1024
_SAVE = "save it as UTF-8 (in Excel: Save As > CSV UTF-8)"
#: Leading bytes of files that are not text at all, and what they are.
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (an Excel .xls workbook?)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


class TextFileError(ValueError):
    """A file that is not UTF-8 text: ``reason`` says what it is, ``line`` where (or None)."""

    def __init__(self, reason: str, *, line: int | None = None, raw: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.raw = raw


def read_text_file(path: Path, *, what: str) -> str:
    """The text of ``path``, decoded as UTF-8 (a UTF-8 byte-order mark dropped).

    ``what`` names the expected content in messages ("a credit policy"). Raises
    :class:`TextFileError` for a file that is too large, binary, UTF-16/32 or not UTF-8
    (naming cp1252, what Excel on Windows saves, as the likely cause); ``OSError`` as is.
    """
    with path.open("rb") as handle:
        data = handle.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:
        raise TextFileError(f"is larger than {MAX_TEXT_BYTES // 2**20} MiB; is it {what}?")
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise TextFileError(f"is {kind}, not {what}", line=1, raw=_first_line(data, "latin-1"))
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise TextFileError(f"is UTF-32 text; {_SAVE}", line=1, raw=_first_line(data, "utf-32"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        why = f"is UTF-16 text (Excel's 'Unicode Text'); {_SAVE}"
        raise TextFileError(why, line=1, raw=_first_line(data, "utf-16"))
    data = data.removeprefix(codecs.BOM_UTF8)
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        why = f"is UTF-16 without a byte-order mark, or not text (it holds NUL bytes); {_SAVE}"
        raise TextFileError(why, line=line)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _not_utf8(data, error.start) from None


def _first_line(data: bytes, encoding: str) -> str:
    """The start of the first line, as far as ``encoding`` reads it (for the message)."""
    text = data[:400].decode(encoding, errors="replace").lstrip("\ufeff")
    return "".join(c for c in text.splitlines()[0][:40] if c.isprintable()) if text else ""


def _not_utf8(data: bytes, at: int) -> TextFileError:
    """Where the first byte that is not UTF-8 is, and the likely encoding."""
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    line_bytes = data[start : len(data) if end < 0 else end]
    try:
        shown = line_bytes.decode("cp1252")
        likely = "it is probably Windows-1252 (cp1252, what Excel on Windows saves) or Latin-1"
    except UnicodeDecodeError:
        shown = line_bytes.decode("latin-1")
        likely = "it is in some 8-bit encoding"
    reason = f"is not UTF-8 text (byte 0x{data[at]:02X}): {likely}; {_SAVE}"
    return TextFileError(reason, line=data.count(b"\n", 0, at) + 1, raw=shown.strip())


def semicolon_header(header: list[str] | tuple[str, ...]) -> str:
    """Why a CSV header read as one cell holding semicolons failed, or ``""``: Excel saves
    "CSV" with semicolons where the decimal mark is a comma (most of Europe)."""
    if len(header) == 1 and header[0].count(";") >= 1:
        return (
            "the header is separated by semicolons (as Excel saves CSV where the decimal "
            "mark is a comma); save it as comma-separated CSV (CSV UTF-8)"
        )
    return ""
