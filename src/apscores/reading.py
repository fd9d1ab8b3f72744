"""``apscores.read``: open any score file, whatever its format, or say it is neither.

The format is decided from the first non-blank line, which is the only line read ahead (so
reading still streams):

- a line with a comma (or a tab) and a cell naming the AP ID (``AP Number / AP ID``,
  ``AP ID``, ``ap_id``...) is a CSV header;
- a line that fits the TXT framing rule (950 or 910 columns, or at least 886 with its
  trailing blanks trimmed: see :mod:`apscores.layout`) is a fixed-width TXT record;
- a delimited line naming some score-file columns but not the AP ID is a CSV header that
  lacks required columns (:class:`~apscores.errors.MissingColumnsError`);
- anything else, and empty or binary input, is
  :class:`~apscores.errors.UnknownFormatError` (:class:`~apscores.errors.EmptyFileError`
  for an empty file), raised at once in both error modes, with what was seen.
"""

from __future__ import annotations

from apscores import csvfile, txt
from apscores._read_source import (
    ErrorMode,
    Line,
    Reader,
    Source,
    binary_error,
    check_mode,
    first_line,
    is_binary,
    open_lines,
    source_name,
)
from apscores.errors import UnknownFormatError
from apscores.layout import LAYOUT_910, LAYOUT_950

__all__ = ["Reader", "Source", "detect", "read", "sniff"]


def _text(line: Line) -> str:
    if isinstance(line, str):
        return line
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def detect(first: Line, *, line: int = 1, file: str | None = None) -> str:
    """``"csv"`` or ``"txt"`` for a file whose first non-blank line is ``first``.

    Raises :class:`UnknownFormatError` (or :class:`MissingColumnsError`) for a line that
    is neither; ``line`` is its number, for the message.
    """
    text = _text(first).removeprefix("\ufeff")
    body = text.rstrip("\r\n")
    if csvfile.looks_like_header(body):
        return "csv"
    raw = first if isinstance(first, bytes) else first.encode("latin-1", "replace")
    length = len(raw.removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n"))
    if LAYOUT_950.min_length <= length <= LAYOUT_950.length:
        return "txt"
    if is_binary(first):
        raise binary_error(file)
    if csvfile.names_score_columns(body):
        cells = csvfile.header_cells(body) or []
        csvfile.map_columns(cells, file)  # raises MissingColumnsError, naming what lacks
    raise UnknownFormatError(
        f"line {line} is {length} columns and is not a CSV header of an AP score file "
        f"(a TXT record is {LAYOUT_950.length} or {LAYOUT_910.length} columns, at least "
        f"{LAYOUT_950.min_length} with its trailing blanks trimmed)",
        line=line,
        file=file,
    )


def sniff(first_line: Line | None) -> str:
    """``"csv"`` if the first non-blank line is a CSV header, else ``"txt"`` (no checks)."""
    if first_line is None:
        return "txt"
    text = _text(first_line).removeprefix("\ufeff")
    return "csv" if csvfile.looks_like_header(text) else "txt"


def read(source: Source, *, errors: ErrorMode = "raise") -> Reader:
    """Read a TXT or CSV score file (a path, a binary file object, bytes or lines).

    ``errors="collect"`` yields the good records and lists bad lines in ``reader.errors``;
    file-level problems (an unknown or empty file, missing CSV columns) raise at once.
    Use it as a context manager (or call ``close()``) to close a file opened from a path.
    """
    collect = check_mode(errors)
    raw_lines, close = open_lines(source)
    name = source_name(source)
    first, lines = first_line(raw_lines, close, name, txt.plausible_record)
    try:
        kind = detect(first, file=name)
    except BaseException:
        close()
        raise
    if kind == "csv":
        return csvfile.open_reader(lines, close, collect, name)
    return txt.open_reader(lines, close, collect, name)
