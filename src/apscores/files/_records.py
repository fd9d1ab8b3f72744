"""Layout field texts -> records: the reference reading, shared by both formats.

A :class:`~apscores.files.layout.Layout` says which attribute each field fills
(``student.address.zip_code``, ``exams[3].score``). :func:`plan_of` turns those paths into
a tree once per layout (a :class:`Node` per record, :class:`Items` per tuple), and
:func:`build_report` walks it: every field's text becomes a value by
:func:`apscores.files._values.convert`, in layout order, with a precise
:class:`~apscores.errors.ParseError` (line, field, raw text). The generated fast builders
(:mod:`apscores.files._speed`) walk the same tree and come here to explain a bad line, so
both agree (the tests check it on generated and damaged files).

The rules that are ours, not the layout's, are the tables below, each in one place
(``docs/reference/file-layout.md`` §1.3, §1.6, §4.6):

- :data:`ITEM_RULES`: a tuple of records ends at, or skips, an item whose key fields are
  blank (an exam block with a blank exam code, an award with a blank type and a previous
  school with a blank year and code are skipped: one exam per filled block, wherever it
  is, as PY950 reads them, §1.3); an item must hold its required parts
  (an exam its admin year, an award its year). A tuple of texts (irregularity codes)
  keeps its non-blank ones.
- :data:`SHARED`: the college's ``code`` is the DI code, read from the one field.
- An attribute no field fills keeps its model default (the 910 layout has no race fields).
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from apscores.errors import ParseError
from apscores.files._values import convert
from apscores.files.layout import Field, Layout, chosen
from apscores.models import ScoreReport

__all__ = [
    "ITEM_RULES",
    "SHARED",
    "ItemRule",
    "Items",
    "Node",
    "build_report",
    "fields_of",
    "items_of",
    "plan_of",
]


@attrs.frozen
class ItemRule:
    """When an item of a tuple of records is there, and what it must then hold.

    ``key``: the item's attributes that say whether it is there (all blank: it is not,
    and is skipped, wherever it is); ``required``: attribute -> the error when the item
    is there but that attribute is blank.
    """

    key: tuple[str, ...]
    required: Mapping[str, str] = attrs.field(factory=dict)


#: Tuple attribute -> its item rule.
ITEM_RULES: Mapping[str, ItemRule] = {
    "exams": ItemRule(
        ("code",), {"admin_year": "the admin year is blank but the exam code is not"}
    ),
    "awards": ItemRule(("code",), {"year": "an award type without a year"}),
    "previous_schools": ItemRule(("year", "code")),
}

#: Attribute -> the attribute whose field fills it too.
SHARED: Mapping[str, str] = {"college.code": "di_code"}


@attrs.define(eq=False)
class Items:
    """A tuple attribute: its items by index (a :class:`Node`, or a :class:`Field` for a
    tuple of texts) and the rule that reads them (``None`` for texts)."""

    name: str
    item_type: type
    items: dict[int, Node | Field] = attrs.field(factory=dict)
    rule: ItemRule | None = None


@attrs.define(eq=False)
class Node:
    """A record to build: its class and, per attribute, the field, record or tuple that
    fills it, in layout order."""

    cls: type
    parts: dict[str, Field | Node | Items] = attrs.field(factory=dict)

    def fields(self) -> list[Field]:
        """Every field under this record, in layout order (a shared field once)."""
        found: dict[str, Field] = {}
        for part in self.parts.values():
            for field in fields_of(part):
                found.setdefault(field.name, field)
        return sorted(found.values(), key=lambda f: f.start)

    def defaults(self) -> dict[str, object]:
        """Attributes no field fills -> their model defaults (raises if one has none)."""
        missing: dict[str, object] = {}
        for attribute in attrs.fields(self.cls):
            if attribute.name in self.parts:
                continue
            if attribute.default is attrs.NOTHING:
                raise ValueError(f"no field fills {self.cls.__name__}.{attribute.name}")
            default = attribute.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory()
            missing[attribute.name] = default
        return missing


def fields_of(part: Field | Node | Items) -> list[Field]:
    """The fields under a field, record or tuple."""
    if isinstance(part, Field):
        return [part]
    if isinstance(part, Node):
        return part.fields()
    return [f for item in part.items.values() for f in fields_of(item)]


def items_of(items: Items) -> list[Node | Field]:
    """A tuple's items in index order."""
    return [items.items[index] for index in sorted(items.items)]


_STEP = re.compile(r"(?P<name>[a-z_0-9]+)(?:\[(?P<index>\d+)\])?")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _hint(cls: type, name: str) -> Any:
    return _hints(cls)[name]


def _place(root: Node, path: str, field: Field) -> None:
    node = root
    steps = path.split(".")
    for position, step in enumerate(steps):
        match = _STEP.fullmatch(step)
        assert match is not None  # check_layout has read every path
        name, index, last = match["name"], match["index"], position == len(steps) - 1
        if index is None:
            if last:
                node.parts[name] = field
            else:
                child = node.parts.setdefault(name, Node(_hint(node.cls, name)))
                assert isinstance(child, Node)
                node = child
            continue
        item_type = typing.get_args(_hint(node.cls, name))[0]
        items = node.parts.setdefault(name, Items(name, item_type, rule=ITEM_RULES.get(name)))
        assert isinstance(items, Items)
        if last:
            items.items[int(index)] = field
        else:
            item = items.items.setdefault(int(index), Node(item_type))
            assert isinstance(item, Node)
            node = item


@functools.cache
def plan_of(layout: Layout) -> Node:
    """The record tree of ``layout``: which field fills which attribute, as records."""
    root = Node(ScoreReport)
    shared_by = {source: target for target, source in SHARED.items()}
    for field in layout.fields:
        if field.attribute:
            _place(root, field.attribute, field)
            if field.attribute in shared_by:
                _place(root, shared_by[field.attribute], field)
    _check(root)
    return root


def _check(node: Node) -> None:
    """Every record can be built: defaults exist, tuples of records have a rule."""
    node.defaults()
    for part in node.parts.values():
        if isinstance(part, Node):
            _check(part)
        elif isinstance(part, Items):
            for item in part.items.values():
                if isinstance(item, Node):
                    if part.rule is None:
                        raise ValueError(f"no item rule for the tuple {part.name!r}")
                    _check(item)


def build_report(
    values: Mapping[str, str], *, line: int | None, lenient: bool, layout: Layout | None = None
) -> ScoreReport:
    """Check and convert one record's field texts (field name -> text as sliced or as the
    cell holds it; a field absent from ``values`` is blank)."""
    report = _build(plan_of(chosen(layout)), values, line, lenient, None)
    assert isinstance(report, ScoreReport)
    return report


def _build(
    node: Node, values: Mapping[str, str], line: int | None, lenient: bool, rule: ItemRule | None
) -> object:
    made = node.defaults()
    for name, part in node.parts.items():
        if isinstance(part, Field):
            value = convert(part, values.get(part.name, ""), line, lenient)
            if rule is not None and name in rule.required and value is None:
                raise ParseError(rule.required[name], line=line, field=part.name, raw="")
            made[name] = value
        elif isinstance(part, Node):
            made[name] = _build(part, values, line, lenient, None)
        else:
            made[name] = _collect(part, values, line, lenient)
    return node.cls(**made)


def _collect(
    items: Items, values: Mapping[str, str], line: int | None, lenient: bool
) -> tuple[Any, ...]:
    found: list[Any] = []
    for item in items_of(items):
        if isinstance(item, Field):  # a tuple of texts keeps its non-blank ones
            text = convert(item, values.get(item.name, ""), line, lenient)
            if text:
                found.append(text)
            continue
        rule = items.rule
        assert rule is not None
        key = (item.parts[name] for name in rule.key)
        if not any(values.get(f.name, "").strip() for f in key if isinstance(f, Field)):
            continue
        found.append(_build(item, values, line, lenient, rule))
    return tuple(found)
