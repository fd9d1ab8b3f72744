"""``apscores read FILE`` (a readable summary) and ``apscores convert FILE`` (tables).

Both stream the file: ``read`` keeps only counters, ``convert --to csv|jsonl`` writes row
by row (``--wide`` CSV reads the file twice, first to size its header). Parquet needs the
whole table in memory, like every Parquet writer.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TextIO

import attrs

from apscores.catalog import irregularity
from apscores.cli.exitcodes import ExitCode
from apscores.errors import ConfigurationError
from apscores.models import ScoreReport
from apscores.tables import column_names, jsonable, to_rows, write_parquet

__all__ = ["FileSummary", "add_convert_arguments", "add_read_arguments", "summarise"]

FORMATS = ("csv", "jsonl", "parquet")


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
    errors: list[str] = attrs.Factory(list)

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
        if self.errors:
            lines.append(f"Unreadable lines: {len(self.errors)}")
            lines.extend(f"  {error}" for error in self.errors[:10])
            if len(self.errors) > 10:
                lines.append(f"  ... and {len(self.errors) - 10} more")
        return "\n".join(lines) + "\n"


def summarise(path: Path) -> FileSummary:
    """Count what a score file holds (unreadable lines are listed, not fatal)."""
    from apscores.reading import read

    summary = FileSummary()
    with read(path, errors="collect") as reader:
        for report in reader:
            summary.add(report)
        summary.format = reader.format
        summary.errors = [str(error) for error in reader.errors]
    return summary


def run_read(args: argparse.Namespace) -> int:
    """``apscores read FILE``."""
    path: Path = args.file
    if not path.is_file():
        raise ConfigurationError(f"{path} is not a file")
    sys.stdout.write(summarise(path).render(str(path)))
    return ExitCode.OK


def _reports(path: Path) -> Iterator[ScoreReport]:
    from apscores.reading import read

    with read(path) as reader:
        yield from reader


@contextlib.contextmanager
def _open_text(output: str) -> Iterator[TextIO]:
    if output == "-":
        yield sys.stdout
        return
    with Path(output).open("w", encoding="utf-8", newline="") as handle:
        yield handle


def _write_csv(path: Path, out: IO[str], long: bool) -> int:
    max_exams = None
    if not long:  # a CSV header must list every column: size it with a first pass
        max_exams = max((len(report.exams) for report in _reports(path)), default=0)
    names = column_names(long=long, max_exams=max_exams or 0)
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    count = 0
    for row in to_rows(_reports(path), long=long, max_exams=max_exams):
        writer.writerow(jsonable(row))
        count += 1
    return count


def _write_jsonl(path: Path, out: IO[str], long: bool) -> int:
    count = 0
    for row in to_rows(_reports(path), long=long):
        out.write(json.dumps(jsonable(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def run_convert(args: argparse.Namespace) -> int:
    """``apscores convert FILE --to csv|jsonl|parquet [--long|--wide] -o OUT``."""
    path: Path = args.file
    if not path.is_file():
        raise ConfigurationError(f"{path} is not a file")
    target = args.to or Path(args.output).suffix.lstrip(".").lower()
    if target not in FORMATS:
        raise ConfigurationError(
            f"cannot tell the output format from {args.output!r}: give --to csv|jsonl|parquet"
        )
    long = not args.wide
    if target == "parquet":
        if args.output == "-":
            raise ConfigurationError("Parquet cannot go to stdout; give -o FILE.parquet")
        count = write_parquet(_reports(path), args.output, long=long)
    else:
        with _open_text(args.output) as out:
            write = _write_csv if target == "csv" else _write_jsonl
            count = write(path, out, long)
    if args.output != "-":
        shape = "one per exam" if long else "one per student"
        sys.stderr.write(f"wrote {count} rows ({shape}) to {args.output}\n")
    return ExitCode.OK


def add_read_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores read``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="a TXT or CSV score file")
    parser.set_defaults(func=run_read)


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores convert``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="a TXT or CSV score file")
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
        "-o", "--output", required=True, metavar="OUT", help="output file ('-': stdout)"
    )
    parser.set_defaults(func=run_convert, wide=False)
