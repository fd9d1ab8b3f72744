"""``apscores.read``: open any score file, whatever its format.

The format is sniffed from the first non-blank line: a line with a comma (or a tab) and a
cell naming the AP ID (``AP Number / AP ID``, ``AP ID``, ``ap_id``...) is a CSV header;
anything else is a fixed-width TXT record (950 or 910 columns, chosen per line). Only that
one line is read ahead, so reading still streams.
"""

from __future__ import annotations

from apscores import csvfile, txt
from apscores._read_source import (
    ErrorMode,
    Line,
    Reader,
    Source,
    check_mode,
    open_lines,
    peek,
)

__all__ = ["Reader", "Source", "read", "sniff"]


def sniff(first_line: Line | None) -> str:
    """``"csv"`` if the first non-blank line is a CSV header, else ``"txt"``."""
    if first_line is None:
        return "txt"
    if isinstance(first_line, bytes):
        try:
            text = first_line.decode("utf-8")
        except UnicodeDecodeError:
            text = first_line.decode("latin-1")
    else:
        text = first_line
    return "csv" if csvfile.looks_like_header(text.removeprefix("\ufeff")) else "txt"


def read(source: Source, *, errors: ErrorMode = "raise") -> Reader:
    """Read a TXT or CSV score file (a path, a binary file object or an iterable of lines).

    ``errors="collect"`` yields the good records and lists bad lines in ``reader.errors``.
    Use it as a context manager (or call ``close()``) to close a file opened from a path.
    """
    collect = check_mode(errors)
    raw_lines, close = open_lines(source)
    try:
        first, lines = peek(raw_lines)
    except BaseException:
        close()
        raise
    if sniff(first) == "csv":
        return csvfile.open_reader(lines, close, collect)
    return txt.open_reader(lines, close, collect)
