"""Score files: the layout as data, the readers and writers, and the check before record.

- ``layout``: the TXT layouts, with the one mapping from fields to record attributes;
- ``sources``: where bytes and lines come from, and the :class:`Reader` every read returns;
- ``values`` and ``records``: field texts to values and to records (the reference reading);
- ``txt`` (with ``_txt_fast``, ``_construct``) and ``csv``: the two readers;
- ``writing``: records back to field texts, and ``write_txt`` (``write_csv`` is in ``csv``);
- ``detect``: ``read()``, which tells TXT from CSV from neither;
- ``check``: ``check_file()``, what a download passes before it is recorded.
"""

from __future__ import annotations

from apscores.files.check import FileCheck, check_file
from apscores.files.csv import read_csv, write_csv
from apscores.files.detect import detect, read
from apscores.files.sources import Reader
from apscores.files.txt import read_txt
from apscores.files.writing import write_txt

__all__ = [
    "FileCheck",
    "Reader",
    "check_file",
    "detect",
    "read",
    "read_csv",
    "read_txt",
    "write_csv",
    "write_txt",
]
