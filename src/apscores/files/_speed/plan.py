"""How a generated builder cuts a record into parts: one plan per layout and format.

A *part* (:class:`Part`) is a run of neighbouring fields that fill one attribute of the
report, or a run of one record's attributes: the AP ID, each trailer date, the high-school
block, the exams. The TXT builder gets each part as one ``bytes`` piece (one
``struct.unpack`` per line), the CSV builder as a tuple of cells; either looks a part up
whole in a cache by those bytes or cells and builds it only when it is new.

Which parts are cached is decided here, once:

- a part holding the AP ID or the student's name differs on every line: caching it would
  only cost (and keep student data longer), so it is built every time;
- a lone text field is sliced and stripped, which costs less than a look-up;
- a lone date is looked up in the one cache of dates every date of the line shares
  (a cache of its own for each would hold four times the entries when dates differ);
- everything else (dates, codes, schools, awards, exams...) is cached. A long tuple
  (:data:`LONG_TUPLE` items or more: the 30 exam blocks) is cached item by item only.

A record whose fields are not all in one run (the student: names at the start, codes in
the middle, race at the end) is put together from its runs when the line is built.
"""

from __future__ import annotations

import attrs

from apscores.files._records import Items, Node, fields_of, plan_of
from apscores.files.layout import Field, FieldKind, Layout

__all__ = ["LONG_TUPLE", "OWN", "Part", "Plan", "Split", "plan_parts"]

#: Attributes that differ on every line: a part holding one is never cached.
OWN = frozenset({"ap_id", "student.last_name", "student.first_name"})
#: A tuple with this many items or more is cached item by item, not whole.
LONG_TUPLE = 8
_PLAIN = frozenset({FieldKind.TEXT, FieldKind.CODE, FieldKind.DIGITS})


@attrs.frozen
class Part:
    """Neighbouring fields and what they fill: ``targets`` are (attribute, field, record
    or tuple) of the report (``owner`` empty) or of one split record (``owner`` its
    attribute)."""

    fields: tuple[Field, ...]
    owner: str
    targets: tuple[tuple[str, Field | Node | Items], ...]
    cached: bool


@attrs.frozen
class Split:
    """A record of the report built from several parts when the line is built."""

    name: str
    node: Node


@attrs.frozen
class Plan:
    """The parts of a layout in layout order, the split records, and the report's tree."""

    layout: Layout
    root: Node
    parts: tuple[Part, ...]
    splits: tuple[Split, ...]


def _runs(fields: list[Field], order: dict[str, int]) -> list[list[Field]]:
    """Fields in runs of neighbours (no other field or filler between them)."""
    runs: list[list[Field]] = []
    for field in sorted(fields, key=lambda f: order[f.name]):
        if runs and order[runs[-1][-1].name] + 1 == order[field.name]:
            runs[-1].append(field)
        else:
            runs.append([field])
    return runs


def _cached(fields: tuple[Field, ...], lenient: bool) -> bool:
    if any(f.attribute in OWN for f in fields):
        return False
    if len(fields) == 1:
        kind = fields[0].kind
        plain = kind is FieldKind.TEXT or (not lenient and kind in _PLAIN)
        return not (plain or kind is FieldKind.DATE)  # a date: the one cache of dates
    return True


def plan_parts(layout: Layout, *, lenient: bool) -> Plan:
    """The parts of ``layout`` for a strict (TXT) or ``lenient`` (CSV) builder.

    Raises ``ValueError`` for a layout a builder cannot be generated for (a tuple or a
    nested record split across runs), when the layout is first read.
    """
    root = plan_of(layout)
    order = {f.name: i for i, f in enumerate(layout.fields)}
    parts: list[Part] = []
    splits: list[Split] = []
    taken: set[str] = set()  # report attributes already filled by a record's part
    tops = list(root.parts.items())
    for name, top in tops:
        if isinstance(top, Field):
            continue
        runs = _runs(fields_of(top), order)
        if len(runs) == 1 or isinstance(top, Items):
            if len(runs) != 1:
                raise ValueError(
                    f"layout {layout.name}: the fields of {name!r} are not side by side"
                )
            fields = tuple(runs[0])
            names = {f.name for f in fields}
            # A report attribute read from a field of this record (the DI code) comes along.
            shared = [
                (other, part)
                for other, part in tops
                if isinstance(part, Field) and part.name in names
            ]
            taken.update(other for other, _ in shared)
            targets = ((name, top), *shared)
            parts.append(Part(fields, "", targets, _part_cached(fields, top, lenient)))
            continue
        assert isinstance(top, Node)
        splits.append(Split(name, top))
        for run in runs:
            names = {f.name for f in run}
            targets = tuple(
                (attribute, part)
                for attribute, part in top.parts.items()
                if {f.name for f in fields_of(part)} <= names
            )
            covered = {f.name for _, part in targets for f in fields_of(part)}
            if covered != names:
                raise ValueError(f"layout {layout.name}: a record inside {name!r} is split")
            parts.append(Part(tuple(run), name, targets, _cached(tuple(run), lenient)))
    for name, top in tops:
        if isinstance(top, Field) and name not in taken:
            parts.append(Part((top,), "", ((name, top),), _cached((top,), lenient)))
    parts.sort(key=lambda p: order[p.fields[0].name])
    seen: set[str] = set()
    for part in parts:  # a field filling two records must sit with both (the DI code)
        twice = seen & {f.name for f in part.fields}
        if twice:
            raise ValueError(
                f"layout {layout.name}: field {twice.pop()!r} fills two records that are "
                "not side by side"
            )
        seen.update(f.name for f in part.fields)
    return Plan(layout, root, tuple(parts), tuple(splits))


def _part_cached(fields: tuple[Field, ...], top: Node | Items, lenient: bool) -> bool:
    if isinstance(top, Items) and len(top.items) >= LONG_TUPLE:
        return False
    return _cached(fields, lenient)
