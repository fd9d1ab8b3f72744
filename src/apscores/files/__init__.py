"""Score files: the layout as data, the readers and writers, and the check before record.

Public: the names below, and two modules, ``layout`` (the TXT layouts, with the one
mapping from fields to record attributes) and ``blocks`` (the one block reader and its
line rule). The rest is private (``_x.py``): ``_sources`` (where bytes come from, the
:class:`Reader` every read returns), ``_values`` and ``_records`` (the reference reading),
``_txt`` and ``_csv`` (the readers, with their record builders generated from the layout
by ``_speed``, the one place of speed code), ``_writing``,
``_detect`` (``read()``) and ``_check`` (``check_file()``, what a download passes before
it is recorded).
"""

from __future__ import annotations

from apscores._public import publish
from apscores.files._check import FileCheck, check_file
from apscores.files._csv import read_csv, write_csv
from apscores.files._csv_columns import normalise_header
from apscores.files._detect import detect, format_of, read
from apscores.files._sources import Reader
from apscores.files._txt import read_txt
from apscores.files._writing import write_txt

__all__ = [
    "FileCheck",
    "Reader",
    "check_file",
    "detect",
    "format_of",
    "normalise_header",
    "read",
    "read_csv",
    "read_txt",
    "write_csv",
    "write_txt",
]

publish(__name__, globals())
