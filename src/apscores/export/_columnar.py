"""``apscores export`` of TXT files on the columnar path: the same load file, faster.

The object path (:func:`apscores.export.export`) builds a record per line, merges every
student (:func:`apscores.changes.merge`), makes a dict per exam and writes it with the
``csv`` module. Most students in real data appear once, in one record whose exams are
unique by (admin year, exam code). For them the merge is trivial, as
:mod:`apscores.changes._merge` shows: the current view is the record itself, the changes
are ``new_student`` then ``new_exam`` for each exam, in record order, and there is no
conflict. This path:

1. reads every file with the columnar engine, a block at a time
   (:func:`apscores.tables._keyed.keyed_blocks`): one row per exam, and each record's key;
2. finds the students that need the merge: a key (DI code, AP ID; AP ID alone with
   ``across_di``) held by more than one record or by the previous view (``since``), or
   a record that lists an exam twice;
3. reads the files again with the typed reader only if some student needs the merge,
   keeps only those students' records and merges them with the previous view
   (:func:`~apscores.changes.merge` and :func:`~apscores.changes.compare` treat each
   student on its own, so their current reports, changes and conflicts are what the
   whole merge gives them), as long rows with each exam's latest change kind (what
   :func:`~apscores.export.export_rows` looks up: with ``since``, what changed from
   it; a student seen once and not in it is ``new_exam`` either way);
4. filters all rows as the map's ``[include]`` says (a blank change is ``unchanged``),
   finds SIS test codes and test dates once per distinct (exam code, admin year);
5. sorts the rows as merge sorts students (AP ID, then DI code; each student's exams in
   their order) and writes them a slice at a time, column by column: dates formatted once
   per distinct date, text cells neutralised and quoted as the ``csv`` module does;
   atomically (complete or absent, mode 0600).

A damaged file raises the typed reader's error (the blocks the fast path refuses are read
by it), before anything is written; an exam the map has no code for raises
:class:`~apscores.errors.UnmappedExamError` with the counts of both parts. The counts
(records read, students, rows) and the conflicts are the object path's.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apscores._atomic import atomic_write
from apscores._rows_csv import FORMULA_TRIGGERS
from apscores.catalog import UnknownCodeWarning
from apscores.changes import Change, compare, merge
from apscores.errors import UnmappedExamError
from apscores.export._map import SisMap
from apscores.models import ExamScore, ScoreReport
from apscores.tables import TXT_CHUNK_LINES, column_names, to_arrow, to_rows
from apscores.tables._keyed import keyed_blocks

__all__ = ["ColumnarExport", "export_txt_files"]

_SEP = "\x1f"  # joins an exam code and admin year (neither holds it)
_TRIGGERS_RE = "^([" + "".join(f"\\x{ord(char):02x}" for char in FORMULA_TRIGGERS) + "])"
_DATES = frozenset({"date_of_birth", "date_released", "date_updated", "report_date"})
_INTS = frozenset({"score", "admin_year"})
_SLICE = 32_768  # rows made into lines at a time (bounds the temporary columns)
_REPORTS = 4_096  # merged reports made into rows at a time
_ALWAYS = ("ap_id", "di_code", "exam_code", "admin_year", "status")  # keys and filters


@attrs.frozen
class ColumnarExport:
    """What ``apscores export`` reports: the counts of the merge and load file, and the
    conflicts (only students read by more than one record can have any)."""

    records_read: int
    students: int
    rows: int
    conflicts: tuple[Change, ...]


def _constant(value: str, rows: int) -> Any:
    """A string array of ``rows`` copies of ``value``."""
    indices = pa.array(np.zeros(rows, np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array([value])).dictionary_decode()


def _by_value(column: Any, text: Any) -> Any:
    """``text(value)`` for each cell, computed once per distinct value (nulls stay null)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    found = [text(value) for value in encoded.dictionary.to_pylist()]
    return pa.array(found, pa.string()).take(encoded.indices)


def _quoted(text: Any, raw: bool, alone: bool) -> Any:
    """Text cells as ``write_export_csv`` then the ``csv`` module write them: neutralised
    unless ``raw``, null blank, quoted when holding ``,``, ``"``, CR or LF (and an empty
    cell that is the row's only one)."""
    if not raw and pc.any(pc.match_substring_regex(text, _TRIGGERS_RE)).as_py():
        text = pc.replace_substring_regex(text, _TRIGGERS_RE, "'\\1")
    text = pc.fill_null(text, "")
    needed = pc.match_substring_regex(text, '[,"\r\n]')
    if alone:
        needed = pc.or_(needed, pc.equal(text, ""))
    if pc.any(needed).as_py():
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
        text = pc.if_else(needed, quoted, text)
    return text


class _Unmapped:
    """Exams with no SIS code, by code and admin year (for UnmappedExamError)."""

    def __init__(self) -> None:
        self.exams: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, exams: dict[str, dict[int, int]]) -> None:
        for code, years in exams.items():
            for year, count in years.items():
                self.exams[code][year] += count

    def check(self) -> None:
        if self.exams:
            raise UnmappedExamError({code: dict(years) for code, years in self.exams.items()})


def _sis_codes(rows: Any, sis_map: SisMap, unmapped: _Unmapped) -> Any:
    """Each row's SIS test code, once per distinct (exam code, admin year)."""
    pair = pc.binary_join_element_wise(
        rows["exam_code"], pc.cast(rows["admin_year"], pa.string()), _SEP
    )
    encoded = pc.dictionary_encode(pair.combine_chunks())
    counts = np.bincount(encoded.indices.to_numpy(), minlength=len(encoded.dictionary))
    codes: list[str | None] = []
    for index, value in enumerate(encoded.dictionary.to_pylist()):
        code, year = value.rsplit(_SEP, 1)
        sis = sis_map.sis_code(ExamScore(code, int(year), None))
        if sis is None:
            unmapped.add({code: {int(year): int(counts[index])}})
        codes.append(sis)
    return pa.array(codes, pa.string()).take(encoded.indices)


def _cells(rows: Any, sis_map: SisMap, raw: bool) -> list[Any]:
    """Each map column of some rows as CSV cells."""
    count, alone = rows.num_rows, len(sis_map.columns) == 1
    fmt = sis_map.date_format
    cells = []
    for column in sis_map.columns:
        value = column.value
        if value in _DATES:
            text = _by_value(rows[value], lambda day: day.strftime(fmt))
        elif value == "test_date":
            text = _by_value(
                rows["admin_year"],
                lambda year: sis_map.test_date(ExamScore("00", year, None)).strftime(fmt),
            )
        elif value in _INTS:
            text = pc.cast(rows[value], pa.string())
        elif value is None or value == "sis_id":
            text = _constant(column.text if value is None else "", count)
        else:
            text = rows[value]
        typed = value in _DATES or value in _INTS or value == "test_date"
        cells.append(_quoted(text, raw or typed, alone))  # dates and numbers: never changed
    return cells


def _wanted(rows: Any, sis_map: SisMap) -> Any:
    """The rows the map's ``[include]`` lets in (a blank change is ``unchanged``)."""
    if sis_map.statuses is not None:
        statuses = pa.array(sorted(status.value for status in sis_map.statuses), pa.string())
        rows = rows.filter(pc.is_in(rows["status"], value_set=statuses))
    if sis_map.changes is not None:
        change = pc.if_else(pc.equal(rows["change"], ""), "unchanged", rows["change"])
        changes = pa.array(sorted(sis_map.changes), pa.string())
        rows = rows.filter(pc.is_in(change, value_set=changes))
    return rows


def _joined(ap_ids: Any, keys: Any) -> Any:
    """Each student key as one string, ``f"{len(ap_id)}:{ap_id}:{key}"``: one string
    for one key (the length says where the AP ID ends)."""
    return pc.binary_join_element_wise(
        pc.cast(pc.utf8_length(ap_ids), pa.string()), ap_ids, keys, ":"
    )


def _codes(column: Any) -> tuple[Any, int]:
    """Each cell's index among the column's distinct values (numpy), and how many."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    return encoded.indices.to_numpy(zero_copy_only=False), len(encoded.dictionary)


def _merge_keys(table: Any, ap_ids: Any, keys: Any, before: Any) -> tuple[int, Any, Any]:
    """(students, which rows need no merge, the joined keys of the students that do: held
    by more than one record, with an exam listed twice in their record, or in the
    previous view, whose joined keys are ``before``)."""
    records = len(ap_ids)
    joined = pa.chunked_array([*_joined(ap_ids, keys).chunks, *table["key"].chunks])
    encoded = pc.dictionary_encode(joined.combine_chunks())
    index = encoded.indices.to_numpy(zero_copy_only=False)
    merged = np.bincount(index[:records], minlength=len(encoded.dictionary)) > 1
    known = pc.is_in(encoded.dictionary, value_set=before).to_numpy(zero_copy_only=False)
    merged |= known
    students = len(encoded.dictionary) + len(before) - int(known.sum())  # ... and the rest
    rows = index[records:].astype(np.int64)
    years, year_count = _codes(table["admin_year"])
    codes, code_count = _codes(table["exam_code"])
    exams = np.sort((rows * year_count + years) * code_count + codes)
    repeated = exams[1:][exams[1:] == exams[:-1]]
    merged[repeated // (year_count * code_count)] = True
    wanted = encoded.dictionary.filter(pa.array(merged))
    return students, pa.array(~merged[rows]), wanted


def _records(
    paths: Sequence[str | os.PathLike[str]], wanted: set[str], across_di: bool
) -> Iterator[ScoreReport]:
    """The records of the students ``wanted`` (joined keys), read by the typed reader, a
    file at a time; a second read, so the unknown codes it meets are not warned about
    again (the first read, :func:`_read`, warned as ``read`` warns)."""
    from apscores.files import read

    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownCodeWarning)
            with read(path) as reader:
                found = [report for report in reader if _key(report, across_di) in wanted]
        yield from found


def _key(report: ScoreReport, across_di: bool) -> str:
    """A record's joined student key (see :func:`_joined`)."""
    return f"{len(report.ap_id)}:{report.ap_id}:{'' if across_di else report.di_code}"


def _merged_rows(
    current: Sequence[ScoreReport], changes: Iterable[Change], names: list[str], across_di: bool
) -> Any:
    """The long rows of the merged students' current reports, with each exam's latest
    change kind (what :func:`~apscores.export.export_rows` looks up); made
    :data:`_REPORTS` reports at a time, so that few Python rows live at once."""
    kinds: dict[tuple[str, str, int, str], str] = {}
    for change in changes:  # oldest first: the last one for each exam wins
        if change.exam_code is not None and change.admin_year is not None:
            key = (change.di_code, change.ap_id, change.admin_year, change.exam_code)
            kinds[key] = change.kind.value
    schema, parts, done = _schema_of(names), [], 0
    for start in range(0, max(len(current), 1), _REPORTS):
        reports = current[start : start + _REPORTS]
        columns: dict[str, list[Any]] = {name: [] for name in names}
        for row in to_rows(reports):
            for name in names:
                columns[name].append(row[name])
        exam_changes = [
            kinds.get((report.di_code, report.ap_id, exam.admin_year, exam.code), "")
            for report in reports
            for exam in report.exams
        ]
        arrays = {name: pa.array(columns[name], schema.field(name).type) for name in names}
        keys = [""] * len(exam_changes) if across_di else columns["di_code"]
        arrays["kd"] = pa.array(keys, pa.string())
        arrays["idx"] = pa.array(np.arange(done, done + len(exam_changes), dtype=np.int64))
        arrays["change"] = pa.array(exam_changes, pa.string())
        parts.append(pa.table(arrays))
        done += len(exam_changes)
    return pa.concat_tables(parts)


def _write(dest: str | os.PathLike[str], sis_map: SisMap, rows: Any, order: Any, raw: bool) -> None:
    """The header (as the csv module writes it, not neutralised), then the rows in
    ``order`` as CSV lines, a slice at a time."""
    header = io.StringIO(newline="")
    csv.writer(header).writerow(sis_map.headers)
    with atomic_write(dest) as handle:
        handle.write(header.getvalue().encode("utf-8"))
        for start in range(0, len(order), _SLICE):
            *first, last = _cells(rows.take(order.slice(start, _SLICE)), sis_map, raw)
            ending = pc.binary_join_element_wise(last, "\r\n", "")
            lines = pc.binary_join_element_wise(*first, ending, ",")
            if isinstance(lines, pa.ChunkedArray):  # not when every column is fixed text
                lines = lines.combine_chunks()
            _, offsets, data = lines.buffers()
            bounds = np.frombuffer(offsets, np.int32)[lines.offset : lines.offset + len(lines) + 1]
            handle.write(np.frombuffer(data, np.uint8)[bounds[0] : bounds[-1]].tobytes())


def _read(
    paths: Sequence[str | os.PathLike[str]],
    wanted: list[str],
    across_di: bool,
    chunk_lines: int,
    before: Any,
) -> tuple[int, int, Any, Any]:
    """(records read, students, the rows of the students that need no merge, the joined
    keys of those that do, ``before`` being the previous view's); the rest of what was
    read is freed on return."""
    batches, ap_ids, di_codes = [], [], []
    for block in keyed_blocks(paths, to_arrow([]).schema, chunk_lines=chunk_lines):
        batches.append(block.rows.select(wanted))
        ap_ids.append(block.ap_ids)
        di_codes.append(block.di_codes)
    table = pa.Table.from_batches(batches, schema=_schema_of(wanted))
    ap = pa.chunked_array(ap_ids, pa.string())
    if across_di:
        keys: Any = _constant("", len(ap))
        row_keys: Any = _constant("", table.num_rows)
    else:
        keys, row_keys = pa.chunked_array(di_codes, pa.string()), table["di_code"]
    table = table.append_column("kd", row_keys)
    table = table.append_column("key", _joined(table["ap_id"], row_keys))
    table = table.append_column("idx", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    students, simple, merge_keys = _merge_keys(table, ap, keys, before)
    return len(ap), students, table.filter(simple).drop_columns(["key"]), merge_keys


def export_txt_files(
    paths: Sequence[str | os.PathLike[str]],
    sis_map: SisMap,
    dest: str | os.PathLike[str],
    *,
    since: Sequence[ScoreReport] | None = None,
    across_di: bool = False,
    raw: bool = False,
    chunk_lines: int = TXT_CHUNK_LINES // 8,
) -> ColumnarExport:
    """Merge TXT score files and write the load file ``dest`` as :func:`export` then
    :meth:`ExportResult.write_csv` do (with ``since``, the previous view, but no
    ``identify``): the same bytes, counts, conflicts and errors. See the module docstring
    for how."""
    needed = sorted({c.value for c in sis_map.columns if c.value in column_names()})
    wanted = sorted({*needed, *_ALWAYS})
    previous = [] if since is None else list(since)
    before = pa.array(
        [f"{len(r.ap_id)}:{r.ap_id}:{'' if across_di else r.di_code}" for r in previous],
        pa.string(),
    ).unique()
    found = _read(paths, wanted, across_di, chunk_lines, before)
    records_read, students, simple, merge_keys = found
    parts = [simple.append_column("change", _constant("new_exam", simple.num_rows))]
    conflicts: tuple[Change, ...] = ()
    if len(merge_keys) or previous:
        records = _records(paths, set(merge_keys.to_pylist()), across_di)
        merged = merge(*([previous] if previous else []), records, across_di=across_di)
        changes = merged.changes
        if since is not None:  # what changed from the previous view (export_rows' rule)
            changes = tuple(compare(previous, merged.current, across_di=across_di))
        parts.append(_merged_rows(merged.current, changes, wanted, across_di))
        conflicts, records_read = merged.conflicts, records_read + len(previous)
        del merged, records, changes  # their rows are made: the reports can go
    rows = _wanted(pa.concat_tables(parts), sis_map)
    unmapped = _Unmapped()
    rows = rows.append_column("sis_test_code", _sis_codes(rows, sis_map, unmapped))
    unmapped.check()
    order = pc.sort_indices(
        rows, sort_keys=[("ap_id", "ascending"), ("kd", "ascending"), ("idx", "ascending")]
    )
    _write(dest, sis_map, rows, order, raw)
    return ColumnarExport(records_read, students, rows.num_rows, conflicts)


def _schema_of(names: list[str]) -> Any:
    """The long table's schema (:func:`~apscores.to_arrow`'s) for ``names``, categories
    decoded to plain strings."""
    schema = to_arrow([]).schema
    fields = [schema.field(name) for name in names]
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
            for f in fields
        ]
    )
