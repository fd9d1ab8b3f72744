"""Rows of TXT and CSV files as CSV and JSON Lines (long; wide from TXT), a block at a time,
from the columnar engine.

``apscores convert --to csv|jsonl`` (long) writes what the object path writes, byte for
byte: :func:`apscores._rows_csv.write_rows_text` over ``jsonable(to_rows(read(path)))``
for CSV (the ``csv`` module's ``excel`` dialect: ``,``, ``"``, ``\\r\\n``, minimal quoting;
text cells neutralised unless raw), ``json.dumps(jsonable(row), ensure_ascii=False)`` and
``\\n`` a line for JSON Lines. Each block the fast path reads
(:func:`~apscores.tables._csv_columnar.file_blocks`, TXT or CSV) becomes one string per row with
``pyarrow.compute``, no Python object per row or cell:

- every column as text: integers and dates cast by Arrow (``str(int)``, ISO dates),
  categories decoded;
- CSV: a text cell that starts with a formula trigger gets its ``'`` (the rule of
  :func:`apscores._rows_csv.neutralise`, :data:`~apscores._rows_csv.FORMULA_TRIGGERS`),
  a cell holding ``,``, ``"``, CR or LF is quoted with its quotes doubled, a null is
  empty; JSON: text between quotes with ``"`` and ``\\`` escaped (a block holding a C0
  control byte, which the readers refuse anyway, has its cells escaped by ``json``), a
  null is ``null``;
- the cells joined into lines (``binary_join_element_wise``), and the lines' UTF-8 bytes
  written at once.

A block the fast path refuses is read by the file format's reference reader and written
row by row by the object path's own code, so a damaged record raises the same error
after the same rows. Each check is first one ``bytes.translate`` pass over a column's data
buffer: the regular expressions run only on a column that holds a byte they act on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from typing import Any, Literal, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apscores._rows_csv import FORMULA_TRIGGERS, write_rows_text
from apscores.files.layout import Layout
from apscores.tables._arrays import strings
from apscores.tables._csv_columnar import file_blocks
from apscores.tables._rows import jsonable, to_rows
from apscores.tables._schema import column_kind, column_names

__all__ = [
    "TextFormat",
    "block_bytes",
    "csv_lines",
    "jsonl_lines",
    "write_long_text",
    "write_wide_text",
]

TextFormat = Literal["csv", "jsonl"]
Array = Any  # a pyarrow array


def _others(chars: bytes) -> bytes:
    """Every byte but ``chars``: ``data.translate(None, _others(chars))`` keeps ``chars``."""
    return bytes(sorted(set(range(256)) - set(chars)))


_CSV_SPECIAL = _others(b',"\r\n')  # what makes the csv writer quote a cell
_JSON_SPECIAL = _others(bytes(range(0x20)) + b'"\\')  # what json.dumps escapes
_TRIGGER = np.zeros(256, dtype=bool)
_TRIGGER[[ord(char) for char in FORMULA_TRIGGERS]] = True
_TRIGGERS_RE = "^([" + "".join(f"\\x{ord(char):02x}" for char in FORMULA_TRIGGERS) + "])"


def _buffers(text: Array) -> tuple[Any, Any]:
    """A string array's offsets (one more than its rows) and whole data, as numpy."""
    _, offsets_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int32)[text.offset : text.offset + len(text) + 1]
    if data_buffer is None:  # pragma: no cover - Arrow gives an empty buffer, not None
        return offsets, np.zeros(0, np.uint8)
    return offsets, np.frombuffer(data_buffer, np.uint8)


def _found(text: Array, others: bytes) -> bytes:
    """The bytes of ``text``'s cells that ``others`` does not list, in order (one C pass)."""
    offsets, data = _buffers(text)
    return bytes(data[offsets[0] : offsets[-1]]).translate(None, others)


def _starts(text: Array, table: Any) -> bool:
    """Whether any cell of ``text`` starts with a byte ``table`` marks."""
    offsets, data = _buffers(text)
    starts = offsets[:-1][offsets[1:] > offsets[:-1]]
    return bool(table[data[starts]].any())


def _as_text(column: Array, kind: str) -> Array:
    """A column as strings, nulls kept: the text of its cells in a ``jsonable`` row."""
    if kind == "category":
        column = column.dictionary_decode()
    if kind in ("int", "date"):  # str(int); date.isoformat()
        return pc.cast(column, pa.string())
    return column


def csv_cells(batch: Any, raw: bool) -> list[Array]:
    """Each column of a long record batch as the CSV cells the object path writes."""
    cells = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column_kind(name)
        text = _as_text(column, kind)
        if kind in ("str", "category"):  # neutralise, then quote, as the csv writer sees it
            if not raw and _starts(text, _TRIGGER):
                text = pc.replace_substring_regex(text, _TRIGGERS_RE, "'\\1")
            if _found(text, _CSV_SPECIAL):
                quoted = pc.binary_join_element_wise(
                    _s('"'), pc.replace_substring(text, '"', '""'), _s('"'), _s("")
                )
                needed = pc.match_substring_regex(text, '[,"\r\n]')
                text = pc.if_else(needed, quoted, text)
        cells.append(pc.fill_null(text, _s("")))
    return cells


@functools.cache
def _s(text: str) -> Any:
    """``text`` as an Arrow scalar: a Python ``str`` argument would go through
    ``pa.scalar``, which imports pandas when installed (50 MB and 0.1-0.3 s a run)."""
    return strings([text])[0]


def csv_lines(batch: Any, raw: bool) -> Array:
    """The CSV lines of a long record batch, each ending with CRLF, as one string array."""
    *cells, last = csv_cells(batch, raw)
    ended = pc.binary_join_element_wise(last, _s("\r\n"), _s(""))
    return pc.binary_join_element_wise(*cells, ended, _s(","))


def _json_text(text: Array) -> Array:
    """JSON strings of a string column (nulls kept), as ``json.dumps`` writes them."""
    special = _found(text, _JSON_SPECIAL)
    if special.translate(None, b'"\\'):  # a C0 control byte, refused by the readers: json.dumps
        values = text.to_pylist()
        dumped = [
            None if value is None else json.dumps(value, ensure_ascii=False) for value in values
        ]
        return pa.array(dumped, pa.string())  # rare (refused by the readers): pandas may load
    if special:
        text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise(_s('"'), text, _s('"'), _s(""))


def jsonl_lines(batch: Any) -> Array:
    """The JSON Lines of a record batch, each ending with LF, as one string array; in a
    wide batch, each row lists only the exam slots it holds (as ``to_rows`` makes it)."""
    parts: list[Any] = []
    for index, (name, column) in enumerate(zip(batch.schema.names, batch.columns, strict=True)):
        kind = column_kind(name)
        text = _as_text(column, kind)
        cell = pc.fill_null(text if kind == "int" else _json_text(text), _s("null"))
        key = _s(("{" if index == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ": ")
        if name[:5] == "exam_" and name[5:7].isdigit():  # a wide slot's: only where held
            held = pc.is_valid(batch[name[:8] + "code"])
            parts.append(pc.if_else(held, pc.binary_join_element_wise(key, cell, _s("")), _s("")))
        else:
            parts += [key, cell]
    return pc.binary_join_element_wise(*parts, _s("}\n"), _s(""))


def _utf8(lines: Array) -> memoryview:
    """The bytes of a string array's cells, back to back (no copy)."""
    offsets, data = _buffers(lines)
    return memoryview(data[offsets[0] : offsets[-1]])


class _Out:
    """A text stream written as text (the object path's rows) and as UTF-8 bytes (the
    blocks), in order: bytes go to its binary buffer after a flush, if it has one."""

    def __init__(self, out: TextIO) -> None:
        self.text = out
        self.binary = getattr(out, "buffer", None)

    def write(self, data: memoryview | bytes) -> None:
        if self.binary is None:
            self.text.write(bytes(data).decode("utf-8"))
            return
        self.text.flush()
        self.binary.write(data)


def _object_rows(rows: Iterable[dict[str, Any]], out: TextIO, how: TextFormat, raw: bool) -> int:
    """The object path's writing of rows (after the header), row by row."""
    if how == "csv":
        return write_rows_text(rows, column_names(), out, raw=raw, header=False)
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_long_text(
    sources: Iterable[str | PathLike[str]],
    out: TextIO,
    how: TextFormat,
    *,
    schema: Any,
    raw: bool = False,
    chunk_lines: int,
    layout: Layout | None = None,
) -> int:
    """Write the long rows of TXT and CSV files as CSV (header first) or JSON Lines;
    returns the rows written. The same bytes as the object path, and the same first error, raised
    after the same rows. ``schema`` is the long table's (``to_arrow``'s)."""
    if how == "csv":
        write_rows_text((), column_names(), out, raw=raw)
    sink = _Out(out)
    count = 0
    for item in file_blocks(sources, schema, chunk_lines=chunk_lines, layout=layout):
        if isinstance(item, pa.RecordBatch):
            sink.write(block_bytes(item, how, raw))
            count += item.num_rows
        else:  # the records of a block the fast path refused
            count += _object_rows(map(jsonable, to_rows(item)), out, how, raw)
    return count


def write_wide_text(
    sources: list[str | PathLike[str]],
    out: TextIO,
    how: TextFormat,
    *,
    schema_of: Callable[[int], Any],
    raw: bool,
    chunk_lines: int,
    layout: Layout | None = None,
) -> int:
    """Write the wide rows of TXT or CSV files as CSV or JSON Lines; returns the rows written.
    As on the object path, CSV takes a first pass to find the widest record (the header
    lists every slot) and JSON Lines rows list their own slots; memory holds one block.
    ``schema_of(slots)``: the wide table's schema."""
    from apscores.tables._wide import WideDictionaries, batch, slots, wide_parts

    def parts(dictionaries: WideDictionaries) -> Iterator[dict[str, Any]]:
        return wide_parts(sources, dictionaries, chunk_lines=chunk_lines, layout=layout)

    schema = None
    if how == "csv":
        schema = schema_of(max(map(slots, parts(WideDictionaries())), default=0))
        write_rows_text((), schema.names, out, raw=raw)
    # The second pass over the files warns about no unknown code: the first one did.
    sink, count, dictionaries = _Out(out), 0, WideDictionaries(quiet=schema is not None)
    for part in parts(dictionaries):
        rows = batch(part, schema or schema_of(slots(part)), dictionaries)
        sink.write(block_bytes(rows, how, raw))
        count += rows.num_rows
    return count


def block_bytes(batch: Any, how: TextFormat, raw: bool) -> memoryview:
    """The UTF-8 lines of a long record batch in the format ``how``."""
    return _utf8(csv_lines(batch, raw) if how == "csv" else jsonl_lines(batch))
