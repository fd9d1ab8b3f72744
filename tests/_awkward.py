"""Awkward records for the differential tests of the columnar commands (convert, export):
text a spreadsheet would run, text the CSV writer must quote or JSON escape, a student
with no exams; and sandbox files beside them, LF and CRLF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from apscores.files import write_txt
from apscores.models import ExamScore, Organization, ScoreReport, Student
from apscores.sandbox import fake_reports


def report(index: int, last: str = "Doe", first: str = "Jo", **more: object) -> ScoreReport:
    """A small record; ``more`` sets ap_id, di, middle, born, school, exams, released,
    updated, reported."""
    exams = more.pop("exams", (ExamScore("13", 2023, 4), ExamScore("93", 2019, None, ("06",))))
    return ScoreReport(
        ap_id=str(more.pop("ap_id", f"AB{index:06d}")),
        student=Student(
            last,
            first,
            str(more.pop("middle", "")),
            more.pop("born", dt.date(2006, 2, 28)),  # type: ignore[arg-type]
        ),
        di_code=str(more.pop("di", "1234")),
        high_school=Organization(code="123456", name=str(more.pop("school", "Central High"))),
        exams=exams,  # type: ignore[arg-type]
        date_released=more.pop("released", None),  # type: ignore[arg-type]
        date_updated=more.pop("updated", dt.date(2024, 7, 1)),  # type: ignore[arg-type]
        report_date=more.pop("reported", dt.date(2024, 7, 9)),  # type: ignore[arg-type]
    )


#: Text a spreadsheet would run, and text the CSV writer must quote or JSON escape.
AWKWARD = [
    report(1, "=1+2", "@SUM(A1)", middle="-"),
    report(2, "+Plus", "-Minus", school='The "Best", School'),
    report(3, "Muñoz", "Zoë", school="École, Saint-Jean", born=None),
    report(4, 'O"Brien', "Back\\slash", middle="=", released=dt.date(2024, 7, 5)),
    report(5, "Doe", "Jane", exams=(ExamScore("07", 2024, None, ("06", "14"), "", "3"),)),
    report(6, "Nobody", "Noexams", exams=()),
]


def write_sandbox_files(directory: Path) -> list[Path]:
    """Two sandbox files (LF, CRLF) of 150 records and the awkward ones, in ``directory``."""
    paths = []
    for seed, newline in ((3, "\n"), (4, "\r\n")):
        path = directory / f"f{seed}.txt"
        write_txt(fake_reports(150, seed=seed), path, newline=newline)
        paths.append(path)
    write_txt(AWKWARD, directory / "awkward.txt")
    return [*paths, directory / "awkward.txt"]


def benchmark_shape(name: str, count: int) -> list[ScoreReport]:
    """``count`` reports of the benchmarks' ``real`` or ``worst`` shape
    (``benchmarks/_shapes.py``: every student distinct, as in real files)."""
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "_shapes.py"
    spec = importlib.util.spec_from_file_location("_benchmark_shapes", path)
    assert spec is not None
    assert spec.loader is not None
    shapes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shapes)
    return list(getattr(shapes, f"iter_{name}")(count, 7, "1234"))
