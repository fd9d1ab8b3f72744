"""``apscores read``, ``apscores check`` and ``apscores convert``: looking into score files.

All three stream several files. ``read`` summarises and stops at a file's first problem;
``check`` lists every problem by line; ``convert`` of TXT and CSV files (mixed too) to CSV,
JSON Lines or Parquet (also partitioned), long or wide, runs the columnar path (the same
bytes, rows and errors; wide CSV reads the files twice, to size its header), Excel row by
row. A bad file is one line on stderr (``apscores: FILE: line 4 is 300 columns: ...``),
exit status 2, no traceback. ``--json``: docs/command-line.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import importlib.util
import io
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from apscores._atomic import atomic_write
from apscores._rows_csv import write_rows_text
from apscores.catalog import irregularity
from apscores.cli._common import add_raw_csv_argument, require_files
from apscores.cli._output import fail
from apscores.cli.exitcodes import ExitCode
from apscores.errors import ConfigurationError, ParseError
from apscores.models import ScoreReport
from apscores.tables import (
    column_names,
    jsonable,
    to_rows,
    txt_files_to_parquet,
    txt_files_to_text,
    write_parquet,
)

__all__ = [
    "FileCheckReport",
    "FileSummary",
    "add_check_arguments",
    "add_convert_arguments",
    "add_read_arguments",
    "check",
    "summarise",
]

FORMATS = ("csv", "jsonl", "parquet", "xlsx")
#: Problems ``check`` shows per file (all are counted).
SHOWN_PROBLEMS = 10


@attrs.define
class FileSummary:
    """Counters over a score file."""

    format: str = ""
    students: int = 0
    exams: int = 0
    di_codes: collections.Counter[str] = attrs.Factory(collections.Counter)
    exam_names: collections.Counter[str] = attrs.Factory(collections.Counter)
    scores: collections.Counter[int | None] = attrs.Factory(collections.Counter)
    statuses: collections.Counter[str] = attrs.Factory(collections.Counter)
    irregularities: collections.Counter[str] = attrs.Factory(collections.Counter)

    def add(self, report: ScoreReport) -> None:
        """Count one report."""
        self.students += 1
        self.di_codes[report.di_code] += 1
        for exam in report.exams:
            self.exams += 1
            self.exam_names[exam.name] += 1
            self.scores[exam.score] += 1
            self.statuses[exam.status.value] += 1
            self.irregularities.update(exam.irregularity_codes)

    def as_json(self, path: str) -> dict[str, Any]:
        """For ``read --json``: counts keyed by text (a missing score is ``"none"``)."""
        return {
            "path": path,
            "format": self.format,
            "students": self.students,
            "exams": self.exams,
            "di_codes": dict(sorted(self.di_codes.items())),
            "exam_names": dict(self.exam_names.most_common()),
            "scores": {
                ("none" if score is None else str(score)): count
                for score, count in sorted(self.scores.items(), key=lambda i: -(i[0] or 0))
            },
            "statuses": dict(self.statuses.most_common()),
            "irregularities": dict(sorted(self.irregularities.items())),
        }

    def render(self, name: str) -> str:
        """The summary as text for a terminal."""
        di = ", ".join(sorted(self.di_codes)) or "none"
        lines = [
            f"{name}: {self.format.upper()}, {self.students} students, "
            f"{self.exams} exams (DI code {di})"
        ]
        if self.exam_names:
            lines.append("Exams by name:")
            width = max(len(n) for n in self.exam_names)
            for exam_name, count in sorted(self.exam_names.items(), key=lambda i: (-i[1], i[0])):
                lines.append(f"  {exam_name:<{width}}  {count:>6}")
            lines.append("Scores:")
            most = max(self.scores.values())
            for score in (5, 4, 3, 2, 1, None):
                count = self.scores.get(score, 0)
                if score is None and not count:
                    continue
                bar = "#" * round(30 * count / most)
                label = "none" if score is None else str(score)
                lines.append(f"  {label:>4}  {count:>6}  {bar}")
            lines.append("Statuses:")
            for status, count in self.statuses.most_common():
                lines.append(f"  {status:<18} {count:>6}")
        if self.irregularities:
            lines.append("Irregularity codes:")
            for code, count in sorted(self.irregularities.items()):
                lines.append(f"  {code}  {count:>6}  {irregularity(code).description}")
        return "\n".join(lines) + "\n"


def summarise(path: Path) -> FileSummary:
    """Count what a score file holds; its first problem raises (a ParseError)."""
    from apscores.files import read

    summary = FileSummary()
    with read(path) as reader:
        summary.format = reader.format
        for report in reader:
            summary.add(report)
    return summary


@attrs.define
class FileCheckReport:
    """What ``apscores check`` found in one file."""

    path: str
    format: str = ""
    records: int = 0
    exams: int = 0
    problems: list[ParseError] = attrs.Factory(list)
    file_problem: ParseError | None = None  # the file as a whole is not a score file
    missing: str = ""  # why the path could not be read at all (no such file...)
    #: Exam codes the catalog does not know, with how many exams had each: a warning (the
    #: exams are kept with their raw code; a newer apscores may know them).
    unknown_exam_codes: collections.Counter[str] = attrs.Factory(collections.Counter)

    @property
    def valid(self) -> bool:
        """True when every record of the file reads cleanly."""
        return self.file_problem is None and not self.problems and not self.missing

    def as_json(self) -> dict[str, Any]:
        """For ``check --json``."""
        problems = [self.file_problem] if self.file_problem else self.problems
        listed = [
            {"line": p.line, "field": p.field, "kind": type(p).__name__, "message": str(p)}
            for p in problems[:SHOWN_PROBLEMS]
        ]
        if self.missing:
            listed = [{"line": None, "field": None, "kind": "missing", "message": self.missing}]
        return {
            "path": self.path,
            "valid": self.valid,
            "format": self.format or None,
            "records": self.records,
            "exams": self.exams,
            "problem_count": len(listed) if self.missing else len(problems),
            "problems": listed,
            "unknown_exam_codes": dict(sorted(self.unknown_exam_codes.items())),
        }

    def render(self) -> str:
        """The verdict as text: one line, then the first problems by line."""
        if self.missing:
            return f"{self.path}: INVALID: {self.missing}\n"
        if self.file_problem is not None:
            why = str(self.file_problem).removeprefix(f"{self.path}: ")
            return f"{self.path}: INVALID: {why}\n"
        head = f"{self.path}: {self.format.upper()}, {self.records} records, {self.exams} exams"
        warning = ""
        if self.unknown_exam_codes:
            codes = ", ".join(
                f"{code!r} ({count} exam{'s' if count != 1 else ''})"
                for code, count in sorted(self.unknown_exam_codes.items())
            )
            warning = (
                f"  warning: exam codes the catalog does not know: {codes}; kept with their "
                "raw code (a newer apscores may know them)\n"
            )
        if self.valid:
            return f"{head}: valid\n{warning}"
        lines = [f"{head}: INVALID, {len(self.problems)} problem(s)"]
        lines.extend(f"  {problem}" for problem in self.problems[:SHOWN_PROBLEMS])
        if len(self.problems) > SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - SHOWN_PROBLEMS} more")
        return "\n".join(lines) + "\n" + warning


def check(path: Path) -> FileCheckReport:
    """Read every record of ``path`` with every rule, collecting what is wrong."""
    from apscores.files import read

    found = FileCheckReport(str(path))
    if not path.is_file():
        found.missing = "no such file" if not path.exists() else "not a file"
        return found
    try:
        with read(path, errors="collect") as reader:
            found.format = reader.format
            for report in reader:
                found.records += 1
                found.exams += len(report.exams)
                for exam in report.exams:
                    if not exam.is_known:
                        found.unknown_exam_codes[exam.code] += 1
            found.problems = list(reader.errors)
    except ParseError as problem:  # unknown, empty or binary file; missing CSV columns
        found.file_problem = problem
    except OSError as error:  # unreadable (permissions): this file's verdict, not the run's
        found.missing = error.strerror or type(error).__name__
    return found


def run_read(args: argparse.Namespace) -> int:
    """``apscores read FILE...``."""
    require_files(args.files)
    code = ExitCode.OK
    results: list[dict[str, Any]] = []
    for path in args.files:
        try:
            summary = summarise(path)
        except ParseError as error:
            fail(str(error.in_file(str(path))))
            results.append({"path": str(path), "error": str(error)})
            code = ExitCode.USAGE
            continue
        if args.json:
            results.append(summary.as_json(str(path)))
        else:
            sys.stdout.write(summary.render(str(path)))
    if args.json:
        sys.stdout.write(json.dumps({"files": results}, indent=2, ensure_ascii=False) + "\n")
    return code


def run_check(args: argparse.Namespace) -> int:
    """``apscores check FILE...``: 0 if every file is valid, else 2 (a missing file too)."""
    reports = [check(path) for path in args.files]
    if args.json:
        document = {"valid": all(r.valid for r in reports), "files": [r.as_json() for r in reports]}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        for found in reports:
            sys.stdout.write(found.render())
    return ExitCode.OK if all(r.valid for r in reports) else ExitCode.USAGE


def _columnar(paths: Sequence[Path]) -> bool:
    """TXT or CSV files ``read`` takes, and the ``arrow`` extra: the columnar path reads them."""
    from apscores.files import format_of

    arrow = all(importlib.util.find_spec(name) for name in ("pyarrow", "numpy"))
    return arrow and all(format_of(path) in ("txt", "csv") for path in paths)


def _reports(paths: Sequence[Path]) -> Iterator[ScoreReport]:
    from apscores.files import read

    for path in paths:
        with read(path) as reader:
            yield from reader


@contextlib.contextmanager
def _open_text(output: str) -> Iterator[TextIO]:
    """stdout, or a file written atomically (complete or absent, mode 0600)."""
    if output == "-":
        yield sys.stdout
        return
    with atomic_write(output) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
        try:
            yield text
            text.flush()
        finally:
            text.detach()


def _write_csv(paths: Sequence[Path], out: TextIO, long: bool, raw: bool) -> int:
    if _columnar(paths):  # the same bytes, a block at a time
        return txt_files_to_text(paths, out, "csv", raw=raw, long=long)
    # wide: a CSV header must list every column, sized with a first pass
    max_exams = None if long else max((len(r.exams) for r in _reports(paths)), default=0)
    names = column_names(long=long, max_exams=max_exams or 0)
    rows = map(jsonable, to_rows(_reports(paths), long=long, max_exams=max_exams))
    return write_rows_text(rows, names, out, raw=raw)


def _write_jsonl(paths: Sequence[Path], out: TextIO, long: bool, raw: bool) -> int:
    if _columnar(paths):  # the same bytes, a block at a time (JSON: no formulas)
        return txt_files_to_text(paths, out, "jsonl", raw=raw, long=long)
    count = 0
    for row in to_rows(_reports(paths), long=long):
        out.write(json.dumps(jsonable(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_special(args: argparse.Namespace, target: str, long: bool) -> int | None:
    """``--partition`` datasets and Excel workbooks (apscores.export); None for the rest."""
    from apscores.export import txt_files_to_partitioned, write_partitioned, write_xlsx

    if args.partition is not None:
        if target != "parquet" or not long:
            raise ConfigurationError("--partition writes long Parquet: use --to parquet --long")
        columns = [name.strip() for name in args.partition.split(",")]
        if _columnar(args.files):  # the same dataset, a block at a time
            return txt_files_to_partitioned(args.files, args.output, partition_by=columns)
        return write_partitioned(_reports(args.files), args.output, partition_by=columns)
    if args.students_sheet and target != "xlsx":
        raise ConfigurationError("--students-sheet is for --to xlsx")
    if target != "xlsx":
        return None
    if not long or args.output == "-":
        raise ConfigurationError("xlsx is one row per exam, to a file: -o FILE.xlsx, no --wide")
    return write_xlsx(_reports(args.files), args.output, students=args.students_sheet)


def run_convert(args: argparse.Namespace) -> int:
    """``apscores convert FILE... --to csv|jsonl|parquet|xlsx [--long|--wide] -o OUT``."""
    require_files(args.files)
    target = args.to or Path(args.output).suffix.lstrip(".").lower()
    if not target and args.partition is not None:
        target = "parquet"
    if target not in FORMATS:
        raise ConfigurationError(
            f"cannot tell the output format from {args.output!r}: give --to csv|jsonl|parquet|xlsx"
        )
    long = not args.wide
    try:
        special = _write_special(args, target, long)
        if special is not None:
            count = special
        elif target == "parquet":
            if args.output == "-":
                raise ConfigurationError("Parquet cannot go to stdout; give -o FILE.parquet")
            if _columnar(args.files):  # the same table, faster
                count = txt_files_to_parquet(args.files, args.output, long=long)
            else:
                count = write_parquet(_reports(args.files), args.output, long=long)
        else:
            with _open_text(args.output) as out:
                write = _write_csv if target == "csv" else _write_jsonl
                count = write(args.files, out, long, args.raw_csv)
    except ParseError as error:
        fail(str(error))
        return ExitCode.USAGE
    shape = "one per exam" if long else "one per student"
    if args.json:
        summary = {"output": args.output, "format": target, "rows": count, "long": long}
        stream = sys.stderr if args.output == "-" else sys.stdout
        stream.write(json.dumps(summary) + "\n")
    elif args.output != "-":
        sys.stderr.write(f"wrote {count} rows ({shape}) to {args.output}\n")
    return ExitCode.OK


def _files_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="TXT or CSV score files (one or more)"
    )


def add_read_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores read``."""
    _files_argument(parser)
    parser.set_defaults(func=run_read)


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores check``."""
    _files_argument(parser)
    parser.set_defaults(func=run_check)


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores convert``."""
    _files_argument(parser)
    parser.add_argument("--to", choices=FORMATS, help="output format (default: from the -o suffix)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument(
        "--long",
        dest="wide",
        action="store_false",
        help="one row per exam, named by its admin year (default)",
    )
    shape.add_argument(
        "--wide", action="store_true", help="one row per student with exam_NN_* columns"
    )
    parser.add_argument(
        "--partition",
        metavar="COLUMNS",
        help="Parquet only: a Hive-style dataset in directory OUT, partitioned by these "
        "comma-separated columns (di_code, admin_year, exam_code, high_school_code)",
    )
    parser.add_argument(
        "--students-sheet",
        action="store_true",
        help="xlsx only: add a Students sheet (one row per student) to the Exams sheet",
    )
    add_raw_csv_argument(parser)
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output file ('-': stdout)"
    )
    parser.set_defaults(func=run_convert, wide=False)
