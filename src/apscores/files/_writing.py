"""Records -> layout field texts, for the writers: the inverse of :mod:`apscores.files._records`.

Which attribute goes into which field, and how a value becomes text, come from the layout
table (:mod:`apscores.files.layout`); this module adds only the refusals. A record the
layout cannot hold (too many exams or awards, a year outside the pivot, a grade outside
1-5, an exam with a blank code...) raises
:class:`~apscores.errors.UnwritableRecordError`, so written files always read back equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

import attrs

from apscores.catalog import is_di_code
from apscores.errors import ConfigurationError, UnwritableRecordError
from apscores.files._records import SHARED, Items, Node, items_of, plan_of
from apscores.files._sources import Destination, write_lines
from apscores.files.layout import Field, FieldKind, Layout, chosen
from apscores.models import ScoreReport
from apscores.years import format_mmddyy, shorten_year

__all__ = ["report_values", "write_txt"]


def _refuse(report: ScoreReport, what: str) -> UnwritableRecordError:
    return UnwritableRecordError(f"cannot write the report for AP ID {report.ap_id!r}: {what}")


def _text(report: ScoreReport, field: Field, value: object) -> str:
    """One value as the field's text (not padded)."""
    if value is None:
        if field.required:
            raise _refuse(report, f"{field.attribute} is None, and {_every(field)}")
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
    if kind is FieldKind.GRADE and value not in range(1, 6):
        raise _refuse(report, f"{field.attribute} is {value}, not 1-5")
    if kind is FieldKind.DI:
        di = str(value)
        return f"00{di}" if is_di_code(di) else di
    text = str(value)
    if field.required and not text.strip():
        if field.name == "ap_id":
            raise _refuse(report, "the AP ID is blank")
        raise _refuse(report, f"{field.attribute} is blank, and {_every(field)}")
    return text


def _every(field: Field) -> str:
    label = field.name.replace("_", " ").capitalize()
    return f"field {field.name!r} ({label}) is in every record"


def report_values(report: ScoreReport, layout: Layout | None = None) -> dict[str, str]:
    """Field name -> text (not padded) for every field ``layout`` fills.

    The same tree the readers build records by (:func:`apscores.files._records.plan_of`),
    walked the other way; a value the layout has no field for, a tuple longer than its
    slots, or an item that would read back as absent is refused.
    """
    layout = chosen(layout)
    out: dict[str, str] = {}
    _walk(report, plan_of(layout), report, "", out, layout)
    for target, source in SHARED.items():  # one field holds both: they must agree
        shared, own = _get(report, target), _get(report, source)
        field = layout.by_attribute(source)
        if not own and shared:  # a record built with only college.code
            out[field.name] = _text(report, field, shared)
        elif shared not in ("", own):
            raise _refuse(report, f"{target} {shared!r} differs from {source} {own!r}")
    return out


def _get(record: object, path: str) -> object:
    for step in path.split("."):
        record = getattr(record, step)
    return record


def _walk(
    report: ScoreReport, node: Node, record: object, path: str, out: dict[str, str], layout: Layout
) -> None:
    for attribute in attrs.fields(node.cls):
        value = getattr(record, attribute.name)
        where = f"{path}{attribute.name}"
        part = node.parts.get(attribute.name)
        if part is None:
            if value != attribute.default:
                raise _refuse(report, f"the {layout.name} layout has no field for {where}")
        elif isinstance(part, Field):
            if where not in SHARED:
                out[part.name] = _text(report, part, value)
        elif isinstance(part, Node):
            _walk(report, part, value, f"{where}.", out, layout)
        else:
            assert isinstance(value, tuple)
            _walk_items(report, part, value, where, out, layout)


def _walk_items(
    report: ScoreReport,
    items: Items,
    values: tuple[object, ...],
    where: str,
    out: dict[str, str],
    layout: Layout,
) -> None:
    slots = items_of(items)
    noun = where.rsplit(".", 1)[-1].replace("_", " ")
    texts = all(isinstance(slot, Field) for slot in slots)
    if texts and (len(values) > len(slots) or not all(str(v).strip() for v in values)):
        raise _refuse(report, f"{where} needs 0-{len(slots)} non-blank {noun}")
    if len(values) > len(slots):
        raise _refuse(report, f"more than {len(slots)} {noun}")
    rule = items.rule
    for n, (value, slot) in enumerate(zip(values, slots, strict=False), start=1):
        if isinstance(slot, Field):
            out[slot.name] = _text(report, slot, value)
            continue
        assert rule is not None
        if not any(str(getattr(value, key) or "").strip() for key in rule.key):
            raise _refuse(report, f"{noun.removesuffix('s')} {n} has a blank code")
        _walk(report, slot, value, f"{where}[{n - 1}].", out, layout)


def write_txt(
    reports: Iterable[ScoreReport],
    dest: Destination,
    *,
    layout: Layout | None = None,
    newline: str = "\n",
) -> int:
    """Write reports as fixed-width lines (Latin-1, padded to the full layout length).

    Returns the number of records written. A value that does not fit its field (too wide,
    not Latin-1, a line break, a field the layout lacks such as race/ethnicity in the 910
    layout) raises :class:`~apscores.errors.UnwritableRecordError` naming the AP ID and the
    field; a path destination is then left untouched (files are written atomically).
    """
    if newline not in ("\n", "\r\n"):
        raise ConfigurationError(f"newline must be '\\n' or '\\r\\n', not {newline!r}")
    layout = chosen(layout)
    fields = tuple((f.name, f.width, f.kind is FieldKind.FILLER) for f in layout.fields)
    personal = frozenset(f.name for f in layout.fields if f.personal)
    end = newline.encode("ascii")

    def encode(report: ScoreReport) -> bytes:
        values = report_values(report, layout)
        parts: list[str] = []
        for name, width, filler in fields:
            value = "" if filler else values.get(name, "")
            if len(value) > width:
                raise _refuse_value(
                    report, name, value, f"longer than the field's {width} columns", personal
                )
            if "\n" in value or "\r" in value:
                raise _refuse_value(report, name, value, "contains a line break", personal)
            parts.append(value.ljust(width))
        text = "".join(parts)
        try:
            return text.encode("latin-1") + end
        except UnicodeEncodeError:
            name = next(name for name, _, _ in fields if not _latin1(values.get(name, "")))
            raise _refuse_value(
                report, name, values[name], "has characters Latin-1 cannot hold", personal
            ) from None

    return write_lines(map(encode, reports), dest)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_value(
    report: ScoreReport, field: str, value: str, why: str, personal: Collection[str]
) -> UnwritableRecordError:
    """The error for a value the layout cannot hold; a student's own details (``personal``
    fields) are named, never quoted: the message may reach a log."""
    shown = "" if field in personal else f" value {value!r}"
    return UnwritableRecordError(
        f"cannot write the report for AP ID {report.ap_id!r}: field {field!r}{shown} {why}"
    )
