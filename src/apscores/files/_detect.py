"""``apscores.read``: open any score file, whatever its format, or say it is neither.

The format is decided from the first non-blank line, which is the only line read ahead (so
reading still streams):

- a line with a comma (or a tab) and a cell naming the AP ID (``AP Number / AP ID``,
  ``AP ID``, ``ap_id``...) is a CSV header;
- a line that fits the TXT framing rule (950 or 910 columns, or at least 886 with its
  trailing blanks trimmed: see :mod:`apscores.files.layout`) is a fixed-width TXT record;
- a delimited line naming some score-file columns but not the AP ID is a CSV header that
  lacks required columns (:class:`~apscores.errors.MissingColumnsError`);
- a line that would be such a header with commas for its semicolons (Excel's CSV where the
  decimal mark is a comma) is :class:`~apscores.errors.UnknownFormatError` saying so;
- anything else, and empty or binary input, is
  :class:`~apscores.errors.UnknownFormatError` (:class:`~apscores.errors.EmptyFileError`
  for an empty file), raised at once in both error modes, with what was seen.
"""

from __future__ import annotations

import functools

from apscores.errors import APScoresError, ParseError, UnknownFormatError
from apscores.files import _csv as csvfile
from apscores.files import _csv_columns as columns
from apscores.files import _txt as txt
from apscores.files._sources import (
    ErrorMode,
    Line,
    Reader,
    Source,
    binary_error,
    check_mode,
    is_binary,
    look_ahead,
    open_source,
)
from apscores.files.blocks import LongHead
from apscores.files.layout import LAYOUTS, Layout, chosen

__all__ = ["Reader", "Source", "detect", "format_of", "read", "sniff"]


def _text(line: Line) -> str:
    if isinstance(line, str):
        return line
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _semicolon_header(body: str) -> bool:
    """Whether a line would be a score-file header if its semicolons were commas."""
    if ";" not in body or "," in body or "\t" in body:
        return False
    cells = body.split(";")
    return columns.names_score_columns(",".join(cell.strip('"') for cell in cells))


def detect(
    first: Line, *, line: int = 1, file: str | None = None, layout: Layout | None = None
) -> str:
    """``"csv"`` or ``"txt"`` for a file whose first non-blank line is ``first``.

    Raises :class:`UnknownFormatError` (or :class:`MissingColumnsError`) for a line that
    is neither; ``line`` is its number, for the message. ``layout``: the TXT layout
    expected (950 or 910 by default).
    """
    text = _text(first).removeprefix("\ufeff")
    body = text.rstrip("\r\n")
    if _semicolon_header(body):
        raise UnknownFormatError(
            f"line {line} is a CSV header separated by semicolons (as Excel saves CSV where "
            "the decimal mark is a comma); save it as comma-separated CSV (CSV UTF-8)",
            line=line,
            file=file,
        )
    raw = first if isinstance(first, bytes) else first.encode("latin-1", "replace")
    length = len(raw.removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n"))
    if isinstance(first, LongHead):  # a line too long to hold: its first bytes only
        length = first.length
    target = chosen(layout)
    fits_txt = target.min_length <= length <= target.length
    if columns.looks_like_header(body):
        if not fits_txt:
            return "csv"
        try:  # a TXT record whose text holds a comma and "AP ID" is still a record
            columns.map_columns(columns.header_cells(body) or [], file)
        except (UnknownFormatError, ParseError):  # MissingColumnsError is a ParseError
            return "txt"
        return "csv"
    if fits_txt:
        return "txt"
    if is_binary(first):
        raise binary_error(file)
    if columns.names_score_columns(body):
        cells = columns.header_cells(body) or []
        columns.map_columns(cells, file)  # raises MissingColumnsError, naming what lacks
    raise UnknownFormatError(
        f"line {line} is {length} columns and is not a CSV header of an AP score file "
        f"(a TXT record is {' or '.join(str(n) for n in LAYOUTS)} columns, at least "
        f"{chosen(None).min_length} with its trailing blanks trimmed)",
        line=line,
        file=file,
    )


def format_of(source: Source) -> str | None:
    """``"txt"`` or ``"csv"`` as :func:`read` would decide from the first line; ``None``
    for anything :func:`read` would refuse (it says why)."""
    opened = open_source(source)
    try:
        return detect(look_ahead(opened, txt.plausible_record), file=opened.name)
    except (APScoresError, OSError):
        return None
    finally:
        opened.close()


def sniff(first_line: Line | None) -> str:
    """``"csv"`` if the first non-blank line is a CSV header, else ``"txt"`` (no checks)."""
    if first_line is None:
        return "txt"
    text = _text(first_line).removeprefix("\ufeff")
    return "csv" if columns.looks_like_header(text) else "txt"


def read(source: Source, *, errors: ErrorMode = "raise", layout: Layout | None = None) -> Reader:
    """Read a TXT or CSV score file (a path, a binary file object, bytes or lines).

    ``errors="collect"`` yields the good records and lists bad lines in ``reader.errors``;
    file-level problems (an unknown or empty file, missing CSV columns) raise at once.
    Use it as a context manager (or call ``close()``) to close a file opened from a path.
    ``layout`` reads with that :class:`~apscores.files.layout.Layout` (see
    :func:`~apscores.files.read_txt`).
    """
    collect = check_mode(errors)
    opened = open_source(source)
    first = look_ahead(opened, functools.partial(txt.plausible_record, layout=layout))
    try:
        kind = detect(first, file=opened.name, layout=layout)
    except BaseException:
        opened.close()
        raise
    if kind == "csv":
        return csvfile.open_reader(opened, collect, layout)
    return txt.open_reader(opened, collect, layout)
