"""Is a saved file a whole score file? The check a download passes before it is recorded.

Recording a download moves College Board's ``new`` watermark past its score reports, so a
file must be complete on disk *and* whole before it is recorded: a body cut short with a
matching ``Content-Length`` (which HTTP alone cannot see), an empty file or a foreign one
must never be recorded. :func:`check_file` reads the file once, in blocks, and applies the
readers' own framing rules (:mod:`apscores.files.layout`, :mod:`apscores.files._csv`): every TXT
line a complete record, or a known CSV header and every row complete. It reads no value
(a bad date is the reader's business and would not be fixed by downloading again), and
counts students and exams on the way for summaries.

A body cut exactly where a line ends passes every framing rule: only the storage host's
``ETag`` shows that cut. A cut inside a last line or row that lacks its line ending, which
the framing rules would pad or read as blank, is refused here (:mod:`apscores.files._cuts`),
unless the storage host's checksum proved the body complete (``verified=True``: the MD5 of
a single-part ``ETag``); then the usual framing rules read College Board's own file, as
the readers do.

If College Board ever changes the layout, this check refuses every file, loudly, and
nothing is lost (unrecorded files are delivered again); ``check=False`` on the client
(``apscores fetch --no-check``) turns it off while the layout is updated.

>>> import io
>>> check_file(io.BytesIO(b""), "txt")
Traceback (most recent call last):
...
apscores.errors.EmptyFileError: the file is empty: College Board never sends an empty score file
"""

from __future__ import annotations

import functools
import os
from typing import BinaryIO, Literal

import attrs

from apscores.errors import UnknownFormatError
from apscores.files import _txt as txt
from apscores.files._cuts import LastPiece, frame_rows, refuse_cut_line
from apscores.files._detect import detect
from apscores.files._sources import Opened, look_ahead, source_name
from apscores.files.blocks import blocks
from apscores.files.layout import Layout

__all__ = ["FileCheck", "check_file"]

#: Bytes read at a time: small, since the check runs while a download holds its own buffers.
_BLOCK = 1 << 18


@attrs.frozen
class FileCheck:
    """A file that passed: its format, and how many students (records) and exams it holds."""

    format: Literal["txt", "csv"]
    records: int
    exams: int


def _nothing() -> None:
    """The caller owns what it passed in."""


def check_file(
    source: str | os.PathLike[str] | BinaryIO,
    format: str | None = None,
    *,
    name: str | None = None,
    verified: bool = False,
    layout: Layout | None = None,
) -> FileCheck:
    """Check a whole file (a path or a binary file object) as :mod:`apscores.files._check` says.

    ``format`` (``"txt"``/``"csv"``) is what was asked for; content of the other format is
    refused. ``name`` is what errors call the file (default: the path). ``verified`` says
    a checksum proved the bytes are the whole file sent (the storage host's ``ETag``):
    then a last line without its line ending is read by the usual framing rules. Raises
    the reader's :class:`~apscores.errors.ParseError` for the first problem. The counts
    are the readers' (a line of blanks is no record). ``layout``: the TXT layout the file
    is in (950 or 910 by default, as the reader chooses).
    """
    label = name or source_name(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return _check(handle, format, label, verified, layout)
    return _check(source, format, label, verified, layout)


def _check(
    handle: BinaryIO, format: str | None, name: str | None, verified: bool, layout: Layout | None
) -> FileCheck:
    last = LastPiece(blocks(handle.read, _BLOCK))
    opened = Opened(None, None, _nothing, name, last)
    first = look_ahead(opened, functools.partial(txt.plausible_record, layout=layout))
    found = detect(first, file=name, layout=layout)
    if format is not None and found != format.lower():
        raise UnknownFormatError(
            f"a {format.upper()} file was asked for, but this is a {found.upper()} file",
            file=name,
        )
    if found == "csv":
        records, exams = frame_rows(opened.as_lines(), name, verified=verified)
        return FileCheck("csv", records, exams)
    records, exams = txt.frame_lines(opened.blocks(), name, layout)
    if not verified:
        refuse_cut_line(last.tail(), name, layout)
    return FileCheck("txt", records, exams)
