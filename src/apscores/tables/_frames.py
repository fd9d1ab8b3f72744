"""Typed data frames and Arrow tables of score reports, and TXT files straight to Arrow.

The builders import pandas, polars or pyarrow only when called, and say which extra to
install when it is missing. For a TXT file, :func:`txt_to_arrow`, :func:`txt_to_polars` and
:func:`txt_to_pandas` build the same long tables straight from the file with numpy
(:mod:`apscores.tables._columnar`), many times faster than ``to_arrow(read_txt(path))``.
Column kinds come from :mod:`apscores.tables._schema`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TextIO

from apscores._atomic import atomic_write
from apscores.errors import ConfigurationError, ParseError
from apscores.files._sources import ErrorMode, check_mode, source_name
from apscores.files.layout import Layout
from apscores.models import ScoreReport
from apscores.tables._rows import columns_of
from apscores.tables._schema import column_kind, column_names

if TYPE_CHECKING:
    import pandas

    from apscores.files._sources import Source

__all__ = [
    "TXT_CHUNK_LINES",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "txt_files_to_parquet",
    "txt_files_to_text",
    "txt_to_arrow",
    "txt_to_pandas",
    "txt_to_polars",
    "write_parquet",
]

#: Lines the TXT fast path reads at a time (about 950 bytes each): its working memory. A
#: block of about 4 MB stays in the processor's cache while numpy makes its passes.
TXT_CHUNK_LINES = 4_000

_EXTRAS = {
    "pandas": "pandas",
    "polars": "polars",
    "pyarrow": "arrow",
    "pyarrow.parquet": "arrow",
    "numpy": "arrow",
}


def _require(module: str, extra: str | None = None) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        extra = extra or _EXTRAS[module]
        raise ConfigurationError(
            f"{module} is not installed; install it with: pip install 'apscores[{extra}]'"
        ) from error


def to_pandas(reports: Iterable[ScoreReport], *, long: bool = True) -> pandas.DataFrame:
    """A pandas DataFrame: datetime64 dates, ``Int64`` years and scores, categorical names.

    Needs ``pip install 'apscores[pandas]'``.
    """
    pd = _require("pandas")
    names, columns = columns_of(reports, long)
    data: dict[str, Any] = {}
    for name in names:
        values = columns[name]
        kind = column_kind(name)
        if kind == "date":
            data[name] = pd.to_datetime(pd.Series(values, dtype="object"))
        elif kind == "int":
            data[name] = pd.array(values, dtype="Int64")
        elif kind == "category":
            data[name] = pd.Categorical(values)
        else:
            data[name] = pd.array(values, dtype="string")
    frame: pandas.DataFrame = pd.DataFrame(data, columns=names)
    return frame


def to_polars(reports: Iterable[ScoreReport], *, long: bool = True) -> Any:
    """A polars DataFrame with ``Date``, ``Int64`` and ``Categorical`` columns.

    Needs ``pip install 'apscores[polars]'``.
    """
    pl = _require("polars")
    types = {"str": pl.Utf8, "int": pl.Int64, "date": pl.Date, "category": pl.Categorical}
    names, columns = columns_of(reports, long)
    schema = {name: types[column_kind(name)] for name in names}
    return pl.DataFrame(columns, schema=schema)


def to_arrow(reports: Iterable[ScoreReport], *, long: bool = True) -> Any:
    """A pyarrow Table: ``date32``, ``int64`` and dictionary-encoded names.

    Needs ``pip install 'apscores[arrow]'``; it is what ``convert --to parquet`` writes.
    """
    pa = _require("pyarrow")
    names, columns = columns_of(reports, long)
    return pa.Table.from_pydict(columns, schema=_arrow_schema(pa, names))


def _arrow_schema(pa: ModuleType, names: list[str]) -> Any:
    types = {
        "str": pa.string(),
        "int": pa.int64(),
        "date": pa.date32(),
        "category": pa.dictionary(pa.int32(), pa.string()),
    }
    return pa.schema([pa.field(name, types[column_kind(name)]) for name in names])


# --- TXT files straight to tables (the columnar fast path) -----------------------------


def _binary_stream(source: Source) -> tuple[BinaryIO | None, Callable[[], None]]:
    """A binary stream over a path, bytes or binary file; None for other sources."""
    if isinstance(source, (str, os.PathLike)):
        handle = open(source, "rb")  # noqa: SIM115 - closed by the caller
        return handle, handle.close
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), _nothing
    if hasattr(source, "read") and not isinstance(source, io.TextIOBase):
        return source, _nothing  # type: ignore[return-value]
    return None, _nothing


def _nothing() -> None:
    """Close nothing: the caller owns the file objects it passes in."""


def txt_to_arrow(
    source: Source,
    *,
    long: bool = True,
    chunk_lines: int = TXT_CHUNK_LINES,
    errors: ErrorMode = "raise",
    problems: list[ParseError] | None = None,
    layout: Layout | None = None,
) -> Any:
    """Read a TXT score file (950 or 910 columns) straight into :func:`to_arrow`'s table.

    Equal to ``to_arrow(read_txt(source), long=long)``: the same columns, types, values,
    row order and dictionaries. From a path, ``bytes`` or a binary file, the table is
    built with numpy over the fixed-width records, ``chunk_lines`` lines at a time,
    without a Python object per line (the wide table at the end, when the widest record
    is known). A block of lines holding anything the fast
    path cannot vouch for (a bad date, year or grade, a blank AP ID or report date, a line
    too long) is read by :func:`~apscores.files._txt.read_txt` instead, so a bad line
    raises the same :class:`~apscores.errors.ParseError` (line, field, raw text).
    Iterables of lines take the typed path. ``errors="collect"`` skips bad
    lines as the typed reader does and appends their errors to ``problems`` (the same
    errors ``read_txt(..., errors="collect").errors`` lists).

    ``layout`` is the records' :class:`~apscores.files.layout.Layout`; ``None`` (the
    default) reads the 950-column layout, and 910-column lines as the older layout. Fields
    are found through the record attributes they fill, so a layout whose fields moved or
    widened, or that has fields the table does not show, reads the same way; a layout
    this path cannot read (exam blocks not evenly spaced, a date not ``MMDDYY``) is a
    ``ValueError`` naming it. Needs ``pip install 'apscores[arrow]'``.
    """
    collect = check_mode(errors)
    if chunk_lines < 1:
        raise ConfigurationError(f"chunk_lines must be at least 1, not {chunk_lines}")
    found: list[ParseError] = problems if problems is not None else []
    pa = _require("pyarrow")
    stream, close = _binary_stream(source)
    if stream is None:
        from apscores.files import read_txt

        with read_txt(source, errors=errors, layout=layout) as reader:
            table = to_arrow(reader, long=long)
            found.extend(reader.errors)
            return table
    try:
        _require("numpy")
        if not long:
            from apscores.tables._wide import WideDictionaries, read_wide_table, stream_parts

            dictionaries = WideDictionaries()
            parts = stream_parts(
                stream, source_name(source), dictionaries, chunk_lines=chunk_lines,
                collect=collect, problems=found, layout=layout,
            )  # fmt: skip
            return read_wide_table(parts, dictionaries, _wide_schema)
        from apscores.tables._columnar import read_long_table

        schema = _arrow_schema(pa, column_names())
        return read_long_table(
            stream,
            schema,
            chunk_lines=chunk_lines,
            collect=collect,
            problems=found,
            name=source_name(source),
            layout=layout,
        )
    finally:
        close()


def txt_to_polars(
    source: Source,
    *,
    long: bool = True,
    chunk_lines: int = TXT_CHUNK_LINES,
    layout: Layout | None = None,
) -> Any:
    """:func:`txt_to_arrow` as a polars DataFrame, equal to :func:`to_polars`'s; records
    follow ``layout`` as :func:`txt_to_arrow`'s do (None: 950 or 910 columns).

    Needs ``pip install 'apscores[polars]'`` (which brings pyarrow and numpy).
    """
    pl = _require("polars")
    _require("pyarrow", "polars")
    _require("numpy", "polars")
    return pl.from_arrow(txt_to_arrow(source, long=long, chunk_lines=chunk_lines, layout=layout))


def txt_to_pandas(
    source: Source,
    *,
    long: bool = True,
    chunk_lines: int = TXT_CHUNK_LINES,
    layout: Layout | None = None,
) -> pandas.DataFrame:
    """:func:`txt_to_arrow` as a pandas DataFrame, equal to :func:`to_pandas`'s; records
    follow ``layout`` as :func:`txt_to_arrow`'s do (None: 950 or 910 columns).

    Categories are sorted and dates have the unit ``to_pandas`` gives them, so the two
    frames compare equal. Needs ``pip install 'apscores[pandas]'``.
    """
    pd = _require("pandas")
    _require("pyarrow", "pandas")
    _require("numpy", "pandas")
    table = txt_to_arrow(source, long=long, chunk_lines=chunk_lines, layout=layout)
    date_type = pd.to_datetime(pd.Series([dt.date(2000, 1, 1)], dtype="object")).dtype
    data: dict[str, Any] = {}
    for name in table.column_names:
        column = table.column(name)
        kind = column_kind(name)
        if kind == "date":
            series = column.to_pandas(date_as_object=False)
            data[name] = pd.array(series.astype(date_type))
        elif kind == "int":
            data[name] = pd.array(column.to_pandas(), dtype="Int64")
        elif kind == "category":
            values = column.to_pandas()
            data[name] = pd.Categorical(values, categories=sorted(values.unique()))
        else:
            data[name] = pd.array(column.to_pandas(), dtype="string")
    frame: pandas.DataFrame = pd.DataFrame(data, columns=table.column_names)
    return frame


def write_parquet(
    reports: Iterable[ScoreReport], path: str | os.PathLike[str], *, long: bool = True
) -> int:
    """Write :func:`to_arrow`'s table as Parquet; returns the number of rows.

    The file is written atomically, mode 0600 (it holds student data): complete under its
    name, or absent if anything fails, a damaged record or a full disk.
    """
    parquet = _require("pyarrow.parquet")
    table = to_arrow(reports, long=long)
    with atomic_write(path) as handle:
        parquet.write_table(table, handle)
    rows: int = table.num_rows
    return rows


def txt_files_to_parquet(
    sources: Iterable[str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    chunk_lines: int = 2_500,
    layout: Layout | None = None,
    long: bool = True,
) -> int:
    """:func:`write_parquet` of the long table of TXT files, read by the columnar path and
    written a block at a time (``apscores convert --to parquet``): the same rows, values
    and types as ``write_parquet(read(...))`` over the files in turn, and the same first
    error. CSV files are read the same way (each block of rows made TXT records, or read
    by :func:`~apscores.files.read_csv` when a cell reads otherwise as CSV). Memory holds
    one block (``chunk_lines`` lines), not the table; the wide table (``long=False``: one
    row per student, as many exam slots as the widest record) is built whole first, as
    ``write_parquet`` builds it. Records follow ``layout`` as
    :func:`txt_to_arrow`'s do (None: 950 or 910 columns). Written atomically, mode 0600;
    returns the number of rows."""
    parquet = _require("pyarrow.parquet")
    if not long:
        table = _wide_table(list(sources), chunk_lines, layout)
        with atomic_write(path) as handle:
            parquet.write_table(table, handle)
        return int(table.num_rows)
    batches = txt_files_to_batches(sources, chunk_lines=chunk_lines, layout=layout)
    rows = 0
    with atomic_write(path) as handle, parquet.ParquetWriter(handle, long_schema()) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def txt_files_to_batches(
    sources: Iterable[str | os.PathLike[str]],
    *,
    chunk_lines: int = 2_500,
    layout: Layout | None = None,
) -> Iterator[Any]:
    """The long table of TXT (or CSV) files as Arrow record batches (of :func:`to_arrow`'s
    schema), a block of ``chunk_lines`` lines at a time, by the columnar path: for an
    engine or a writer that takes batches (what :func:`txt_files_to_parquet` writes and
    ``convert --partition`` partitions). The same rows as ``to_arrow(read(...))`` over
    the files in turn, and the same first error; memory holds one block. Options are
    checked at the call, the files read as the batches are asked for."""
    if chunk_lines < 1:
        raise ConfigurationError(f"chunk_lines must be at least 1, not {chunk_lines}")
    _require("numpy")
    schema = long_schema()
    return _batches(sources, schema, chunk_lines, layout)


def _batches(
    sources: Iterable[str | os.PathLike[str]], schema: Any, chunk_lines: int, layout: Layout | None
) -> Iterator[Any]:
    from apscores.tables._columnar import Dictionaries
    from apscores.tables._csv_columnar import file_parts

    dictionaries = Dictionaries()
    for source in sources:
        for part in file_parts(source, dictionaries, chunk_lines=chunk_lines, layout=layout):
            yield dictionaries.batch(part, schema)


def _wide_table(
    sources: list[str | os.PathLike[str]], chunk_lines: int, layout: Layout | None
) -> Any:
    """The wide table of TXT or CSV files, by the columnar path."""
    _require("numpy")
    from apscores.tables._wide import WideDictionaries, read_wide_table, wide_parts

    dictionaries = WideDictionaries()
    parts = wide_parts(sources, dictionaries, chunk_lines=chunk_lines, layout=layout)
    return read_wide_table(parts, dictionaries, _wide_schema)


def _wide_schema(slots: int) -> Any:
    """The Arrow schema of the wide table with ``slots`` exam slots."""
    return _arrow_schema(_require("pyarrow"), column_names(long=False, max_exams=slots))


def long_schema() -> Any:
    """The Arrow schema of the long table (:func:`to_arrow`'s, without building one)."""
    return _arrow_schema(_require("pyarrow"), column_names())


def txt_files_to_text(
    sources: Iterable[str | os.PathLike[str]],
    out: TextIO,
    how: Literal["csv", "jsonl"],
    *,
    raw: bool = False,
    chunk_lines: int | None = None,
    layout: Layout | None = None,
    long: bool = True,
) -> int:
    """The long rows of TXT (or CSV) files as CSV (``how="csv"``, header first) or JSON
    Lines, written to the text stream ``out`` a block at a time by the columnar path
    (``apscores convert --to csv|jsonl``); returns the rows written.

    The same bytes as the object path (:func:`~apscores.tables.to_rows` over ``read``,
    through ``jsonable``, written by the ``csv`` module with text cells neutralised unless
    ``raw``, or by ``json.dumps(row, ensure_ascii=False)``), and the same first error,
    raised after the same rows. Memory holds one block of ``chunk_lines`` lines (None:
    2,500 for CSV, 1,000 for JSON Lines, whose lines are three times longer). Records
    follow ``layout`` as :func:`txt_to_arrow`'s do (None: 950 or 910 columns). Wide rows
    (``long=False``) are the object path's too: CSV after a first pass that finds the
    widest record, JSON Lines each with its own slots. Needs ``pip install
    'apscores[arrow]'``.
    """
    pa = _require("pyarrow")
    _require("numpy")
    from apscores.tables._text_out import write_long_text, write_wide_text

    if not long:
        return write_wide_text(
            list(sources), out, how, schema_of=_wide_schema, raw=raw,
            chunk_lines=chunk_lines or 1_000, layout=layout,
        )  # fmt: skip

    schema = _arrow_schema(pa, column_names())
    if chunk_lines is None:
        chunk_lines = 2_500 if how == "csv" else 1_000
    return write_long_text(
        sources, out, how, schema=schema, raw=raw, chunk_lines=chunk_lines, layout=layout
    )
