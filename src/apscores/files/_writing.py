"""Records -> layout field texts, for the writers: the inverse of :mod:`apscores.files._records`.

Which attribute goes into which field, and how a value becomes text, come from the layout
table (:mod:`apscores.files.layout`); this module adds only the refusals. A record the
layout cannot hold (too many exams or awards, a year outside the pivot, a grade outside
1-5, a blank exam code that would end the exams early, no *Date of last student update* or
*Date of this report*, which every record carries...) raises
:class:`~apscores.errors.UnwritableRecordError`, so written files always read back equal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable

from apscores.catalog import is_di_code
from apscores.errors import ConfigurationError, UnwritableRecordError
from apscores.files._records import AWARD_SLOTS, PREVIOUS_SCHOOL_SLOTS
from apscores.files._sources import Destination, write_lines
from apscores.files.layout import EXAM_BLOCK_COUNT, LAYOUT_950, Field, FieldKind, Layout
from apscores.models import ScoreReport
from apscores.years import format_mmddyy, shorten_year

__all__ = ["report_values", "write_txt"]

_STEP = re.compile(r"(?P<name>[a-z_0-9]+)(?:\[(?P<index>\d+)\])?")
_ABSENT = object()


def _getter(path: str) -> Callable[[object], object]:
    """Read ``path`` (``exams[2].score``) from a record; a missing tuple item is absent."""
    steps = [
        (m["name"], None if m["index"] is None else int(m["index"]))
        for m in map(_STEP.fullmatch, path.split("."))
        if m is not None
    ]

    def get(record: object) -> object:
        value = record
        for name, index in steps:
            value = getattr(value, name)
            if index is not None:
                assert isinstance(value, tuple)
                if index >= len(value):
                    return _ABSENT
                value = value[index]
        return value

    return get


_FIELDS: tuple[tuple[Field, Callable[[object], object]], ...] = tuple(
    (field, _getter(field.attribute))
    for field in LAYOUT_950.fields
    if field.kind is not FieldKind.FILLER
)


def _refuse(report: ScoreReport, what: str) -> UnwritableRecordError:
    return UnwritableRecordError(f"cannot write the report for AP ID {report.ap_id!r}: {what}")


def _text(report: ScoreReport, field: Field, value: object) -> str:
    """One value as the field's text (not padded)."""
    if value is _ABSENT or value is None:
        return ""
    kind = field.kind
    try:
        if kind is FieldKind.YEAR:
            assert isinstance(value, int)
            return f"{shorten_year(value):02d}"
        if kind is FieldKind.DATE:
            assert isinstance(value, dt.date)
            return format_mmddyy(value)
    except ValueError as exc:
        raise _refuse(report, f"{field.attribute}: {exc}") from None
    if kind is FieldKind.GRADE:
        return str(value)
    if kind is FieldKind.DI:
        di = str(value)
        return f"00{di}" if is_di_code(di) else di
    return str(value)


def _check(report: ScoreReport) -> None:
    """What the layout cannot hold, said before anything is written."""
    if not report.ap_id.strip():
        raise _refuse(report, "the AP ID is blank")
    if len(report.previous_schools) > PREVIOUS_SCHOOL_SLOTS:
        raise _refuse(report, f"more than {PREVIOUS_SCHOOL_SLOTS} previous schools")
    if len(report.awards) > AWARD_SLOTS:
        raise _refuse(report, f"more than {AWARD_SLOTS} awards")
    for n, award in enumerate(report.awards, 1):
        if not award.code.strip():
            raise _refuse(report, f"award {n} has a blank code")
    if report.high_school.address.country_code:
        raise _refuse(report, "the layout has no high-school country code")
    college = report.college
    di_code = report.di_code or college.code
    if college.code not in ("", di_code):
        raise _refuse(report, f"college.code {college.code!r} differs from di_code {di_code!r}")
    if college.address.country_code:
        raise _refuse(report, "the layout has no college country code")
    if len(report.exams) > EXAM_BLOCK_COUNT:
        raise _refuse(report, f"more than {EXAM_BLOCK_COUNT} exams")
    for block, exam in enumerate(report.exams, 1):
        if not exam.code.strip():
            raise _refuse(report, f"exam {block} has a blank code (it would end the exams)")
        if exam.score is not None and exam.score not in range(1, 6):
            raise _refuse(report, f"exam {exam.code} has score {exam.score}, not 1-5")
        codes = exam.irregularity_codes
        if len(codes) > 2 or not all(code.strip() for code in codes):
            raise _refuse(report, f"exam {exam.code} needs 0-2 non-blank irregularity codes")


#: The fields every record carries (``required`` in the layout) but the AP ID, which
#: :func:`_check` refuses first, with its own message.
_REQUIRED = tuple(f for f in LAYOUT_950.fields if f.required and f.name != "ap_id")


def report_values(report: ScoreReport) -> dict[str, str]:
    """Field name -> text (not padded) for every field the 950 layout fills."""
    _check(report)
    out = {field.name: _text(report, field, get(report)) for field, get in _FIELDS}
    if not report.di_code and report.college.code:  # a record built with only college.code
        out["college_code"] = _text(report, LAYOUT_950.field("college_code"), report.college.code)
    for field in _REQUIRED:  # a reader refuses a record without them
        if not out[field.name].strip():
            label = field.name.replace("_", " ").capitalize()
            raise _refuse(
                report,
                f"{field.attribute} is None, and field {field.name!r} ({label}) is in every record",
            )
    return out


def write_txt(
    reports: Iterable[ScoreReport],
    dest: Destination,
    *,
    layout: Layout = LAYOUT_950,
    newline: str = "\n",
) -> int:
    """Write reports as fixed-width lines (Latin-1, padded to the full layout length).

    Returns the number of records written. A value that does not fit its field (too wide,
    not Latin-1, a line break, a field the layout lacks such as race/ethnicity in the 910
    layout), or a report whose ``date_updated`` or ``report_date`` is ``None`` (every
    record in a file carries them), raises :class:`~apscores.errors.UnwritableRecordError`
    naming the AP ID and the field; a path destination is then left untouched (files are
    written atomically).
    """
    if newline not in ("\n", "\r\n"):
        raise ConfigurationError(f"newline must be '\\n' or '\\r\\n', not {newline!r}")
    fields = tuple((f.name, f.width, f.kind is FieldKind.FILLER) for f in layout.fields)
    known = {f.name for f in layout.fields if f.kind is not FieldKind.FILLER}
    end = newline.encode("ascii")

    def encode(report: ScoreReport) -> bytes:
        values = report_values(report)
        for name, value in values.items():
            if value and name not in known:
                raise _refuse_value(
                    report, name, value, f"the {layout.name} layout has no such field"
                )
        parts: list[str] = []
        for name, width, filler in fields:
            value = "" if filler else values.get(name, "")
            if len(value) > width:
                raise _refuse_value(report, name, value, f"longer than the field's {width} columns")
            if "\n" in value or "\r" in value:
                raise _refuse_value(report, name, value, "contains a line break")
            parts.append(value.ljust(width))
        text = "".join(parts)
        try:
            return text.encode("latin-1") + end
        except UnicodeEncodeError:
            name = next(name for name, _, _ in fields if not _latin1(values.get(name, "")))
            raise _refuse_value(
                report, name, values[name], "has characters Latin-1 cannot hold"
            ) from None

    return write_lines(map(encode, reports), dest)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_value(report: ScoreReport, field: str, value: str, why: str) -> UnwritableRecordError:
    return UnwritableRecordError(
        f"cannot write the report for AP ID {report.ap_id!r}: field {field!r} value {value!r} {why}"
    )
