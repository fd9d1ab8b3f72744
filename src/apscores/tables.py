"""Score reports as flat rows and typed data frames, for notebooks and pipelines.

*Long* rows (the default) are one row per exam, which is what loaders and analysts want:
the 30 wide exam slots of the file become rows, and each exam is named from its own admin
year (exam 93 is "World History" up to 2019, "World History: Modern" after). *Wide* rows
are one row per student with ``exam_01_*``, ``exam_02_*``... columns, most recent first.

The data-frame builders import pandas, polars or pyarrow only when called, and say which
extra to install when it is missing. For a TXT file, :func:`txt_to_arrow`,
:func:`txt_to_polars` and :func:`txt_to_pandas` build the same long tables straight from
the file with numpy, some 20-50x faster than ``to_arrow(read_txt(path))``. Column types
are declared once (:data:`COLUMN_KINDS`): dates are dates, years and scores are nullable
integers, exam names and statuses are categorical.

>>> from apscores.models import ExamScore, ScoreReport, Student
>>> report = ScoreReport("1234ABCD", Student("Doe", "Jane"), "1234",
...                      exams=(ExamScore("93", 2019, 4),))
>>> [(row["exam_name"], row["score"]) for row in to_rows([report])]
[('World History', 4)]
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from apscores.errors import ConfigurationError
from apscores.models import ExamScore, ScoreReport

if TYPE_CHECKING:
    import pandas

    from apscores._read_source import Source

__all__ = [
    "COLUMN_KINDS",
    "EXAM_COLUMNS",
    "IRREGULARITY_SEPARATOR",
    "TXT_CHUNK_LINES",
    "Kind",
    "Row",
    "column_kind",
    "column_names",
    "jsonable",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "to_rows",
    "txt_to_arrow",
    "txt_to_pandas",
    "txt_to_polars",
    "write_parquet",
]

Row = dict[str, Any]
Kind = Literal["str", "int", "date", "category"]

#: Lines the TXT fast path reads at a time (about 950 bytes each): its working memory.
TXT_CHUNK_LINES = 20_000

#: Irregularity codes of one exam are joined into one cell with this separator.
IRREGULARITY_SEPARATOR = ";"

_STUDENT_KINDS: dict[str, Kind] = {
    "ap_id": "str",
    "last_name": "str",
    "first_name": "str",
    "middle_initial": "str",
    "date_of_birth": "date",
    "gender": "str",
    "di_code": "str",
    "high_school_code": "str",
    "high_school_name": "str",
}
_EXAM_KINDS: dict[str, Kind] = {
    "code": "str",
    "name": "category",
    "admin_year": "int",
    "score": "int",
    "status": "category",
    "irregularity_codes": "str",
    "class_section": "str",
}
_DATE_KINDS: dict[str, Kind] = {
    "date_released": "date",
    "date_updated": "date",
    "report_date": "date",
}

#: The per-exam fields; long rows call them ``exam_code``, ``exam_name``... (``admin_year``,
#: ``score``, ``status``, ``irregularity_codes`` and ``class_section`` keep their names).
EXAM_COLUMNS: tuple[str, ...] = tuple(_EXAM_KINDS)

_LONG_NAMES = {"code": "exam_code", "name": "exam_name"}

#: Every long column and its kind, in column order.
COLUMN_KINDS: dict[str, Kind] = {
    **_STUDENT_KINDS,
    **{_LONG_NAMES.get(name, name): kind for name, kind in _EXAM_KINDS.items()},
    **_DATE_KINDS,
}

_EXTRAS = {
    "pandas": "pandas",
    "polars": "polars",
    "pyarrow": "arrow",
    "pyarrow.parquet": "arrow",
    "numpy": "arrow",
}


def column_kind(column: str) -> Kind:
    """The kind of a long or wide column (``exam_07_score`` is an ``int``)."""
    if column in COLUMN_KINDS:
        return COLUMN_KINDS[column]
    if column.startswith("exam_") and column[5:7].isdigit():
        return _EXAM_KINDS.get(column[8:], "str")
    return "str"


def _student_cells(report: ScoreReport) -> Row:
    student = report.student
    return {
        "ap_id": report.ap_id,
        "last_name": student.last_name,
        "first_name": student.first_name,
        "middle_initial": student.middle_initial,
        "date_of_birth": student.date_of_birth,
        "gender": student.gender,
        "di_code": report.di_code,
        "high_school_code": report.high_school.code,
        "high_school_name": report.high_school.name,
    }


def _exam_cells(exam: ExamScore) -> Row:
    return {
        "code": exam.code,
        "name": exam.name,
        "admin_year": exam.admin_year,
        "score": exam.score,
        "status": exam.status.value,
        "irregularity_codes": IRREGULARITY_SEPARATOR.join(exam.irregularity_codes),
        "class_section": exam.class_section,
    }


def _date_cells(report: ScoreReport) -> Row:
    return {
        "date_released": report.date_released,
        "date_updated": report.date_updated,
        "report_date": report.report_date,
    }


def to_rows(
    reports: Iterable[ScoreReport], *, long: bool = True, max_exams: int | None = None
) -> Iterator[Row]:
    """Flat dicts, streamed: one per exam (``long``) or one per student (wide).

    Dates stay :class:`datetime.date` and blanks stay ``None``. Wide rows carry the exams
    each student has; pass ``max_exams`` to give every row the same ``exam_NN_*`` columns
    (missing slots are ``None``), as a CSV header needs.
    """
    for report in reports:
        student = _student_cells(report)
        dates = _date_cells(report)
        if long:
            for exam in report.exams:
                cells = {_LONG_NAMES.get(k, k): v for k, v in _exam_cells(exam).items()}
                yield {**student, **cells, **dates}
            continue
        row = {**student, **dates}
        slots = len(report.exams) if max_exams is None else max_exams
        for index in range(slots):
            filled = index < len(report.exams)
            cells = _exam_cells(report.exams[index]) if filled else dict.fromkeys(EXAM_COLUMNS)
            row.update({f"exam_{index + 1:02d}_{key}": value for key, value in cells.items()})
        yield row


def column_names(*, long: bool = True, max_exams: int = 0) -> list[str]:
    """The columns of long rows, or of wide rows with ``max_exams`` exam slots."""
    if long:
        return list(COLUMN_KINDS)
    names = [*_STUDENT_KINDS, *_DATE_KINDS]
    for index in range(max_exams):
        names += [f"exam_{index + 1:02d}_{key}" for key in EXAM_COLUMNS]
    return names


def _columns(reports: Iterable[ScoreReport], long: bool) -> tuple[list[str], dict[str, list[Any]]]:
    """Materialise rows column by column; wide rows are padded to the widest student."""
    reports = list(reports)
    max_exams = None if long else max((len(r.exams) for r in reports), default=0)
    names = column_names(long=long, max_exams=max_exams or 0)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for row in to_rows(reports, long=long, max_exams=max_exams):
        for name in names:
            columns[name].append(row[name])
    return names, columns


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
    names, columns = _columns(reports, long)
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
    names, columns = _columns(reports, long)
    schema = {name: types[column_kind(name)] for name in names}
    return pl.DataFrame(columns, schema=schema)


def to_arrow(reports: Iterable[ScoreReport], *, long: bool = True) -> Any:
    """A pyarrow Table: ``date32``, ``int64`` and dictionary-encoded names.

    Needs ``pip install 'apscores[arrow]'``; it is what ``convert --to parquet`` writes.
    """
    pa = _require("pyarrow")
    names, columns = _columns(reports, long)
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


def txt_to_arrow(source: Source, *, long: bool = True, chunk_lines: int = TXT_CHUNK_LINES) -> Any:
    """Read a TXT score file (950 or 910 columns) straight into :func:`to_arrow`'s table.

    Equal to ``to_arrow(read_txt(source), long=long)``: the same columns, types, values,
    row order and dictionaries. In long form from a path, ``bytes`` or a binary file, the
    table is built with numpy over the fixed-width records, ``chunk_lines`` lines at a
    time, without a Python object per line. A block of lines holding anything the fast
    path cannot vouch for (a bad date, year or grade, a blank AP ID, a line too long) is
    read by :func:`~apscores.txt.read_txt` instead, so a bad line raises the same
    :class:`~apscores.errors.ParseError` (line, field, raw text). Wide tables and
    iterables of lines take the typed path. Needs ``pip install 'apscores[arrow]'``.
    """
    if chunk_lines < 1:
        raise ConfigurationError(f"chunk_lines must be at least 1, not {chunk_lines}")
    pa = _require("pyarrow")
    stream, close = _binary_stream(source) if long else (None, _nothing)
    if stream is None:
        from apscores.txt import read_txt

        with read_txt(source) as reader:
            return to_arrow(reader, long=long)
    try:
        _require("numpy")
        from apscores._columnar import read_long_table

        schema = _arrow_schema(pa, column_names())
        return read_long_table(stream, schema, chunk_lines=chunk_lines)
    finally:
        close()


def txt_to_polars(source: Source, *, long: bool = True, chunk_lines: int = TXT_CHUNK_LINES) -> Any:
    """:func:`txt_to_arrow` as a polars DataFrame, equal to :func:`to_polars`'s.

    Needs ``pip install 'apscores[polars]'`` (which brings pyarrow and numpy).
    """
    pl = _require("polars")
    _require("pyarrow", "polars")
    _require("numpy", "polars")
    return pl.from_arrow(txt_to_arrow(source, long=long, chunk_lines=chunk_lines))


def txt_to_pandas(
    source: Source, *, long: bool = True, chunk_lines: int = TXT_CHUNK_LINES
) -> pandas.DataFrame:
    """:func:`txt_to_arrow` as a pandas DataFrame, equal to :func:`to_pandas`'s.

    Categories are sorted and dates have the unit ``to_pandas`` gives them, so the two
    frames compare equal. Needs ``pip install 'apscores[pandas]'``.
    """
    pd = _require("pandas")
    _require("pyarrow", "pandas")
    _require("numpy", "pandas")
    table = txt_to_arrow(source, long=long, chunk_lines=chunk_lines)
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
    """Write :func:`to_arrow`'s table as Parquet; returns the number of rows."""
    table = to_arrow(reports, long=long)
    _require("pyarrow.parquet").write_table(table, path)
    rows: int = table.num_rows
    return rows


def jsonable(row: Row) -> Row:
    """A row with dates as ISO strings, ready for ``json.dumps``."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}
