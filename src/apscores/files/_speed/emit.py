"""The generator: a layout's plan in, the Python source of its record builder out.

Like attrs' ``__init__`` and cattrs' converters, the builder is specialised code written
once per layout and format and compiled with a ``linecache`` entry, so a traceback or a
debugger shows the real source (``inspect.getsource`` works on it too). The source has one
function per part of :mod:`apscores.files._speed.plan`, one per tuple of records (with its
item builder), and ``build(row)`` that puts the report together. Every value goes through
the one value rule (:func:`apscores.files._values.convert`) but plain text, which is
sliced and right-stripped inline. A builder never explains a bad value: whatever it
raises, the reader reads that line again the reference way (:mod:`apscores.files._records`).

A field's text is ``t[a:b]`` of the part's Latin-1 text (TXT) or ``p[i]`` of its cells
(CSV); nothing else differs between the formats.
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import Any

from apscores.files._records import ItemRule, Items, Node, items_of
from apscores.files._speed.plan import Part, Plan
from apscores.files._speed.twin import twin
from apscores.files._values import KNOWN_TEXTS, convert
from apscores.files.layout import Field, FieldKind

__all__ = ["Source", "emit"]

_TWINS: dict[type, type] = {}


class Source:
    """The source being written: the functions inside ``make``, the caches it creates,
    and the objects the source names (its globals)."""

    def __init__(self, lenient: bool) -> None:
        self.lenient = lenient
        self.txt = not lenient
        self.functions: list[str] = []
        self.caches: list[str] = []
        self.names: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        self._count = itertools.count()

    def name(self, obj: object, prefix: str) -> str:
        """A global name for ``obj`` (one per object)."""
        key = id(obj)
        if key not in self._ids:
            self._ids[key] = f"{prefix}{next(self._count)}"
            self.names[self._ids[key]] = obj
        return self._ids[key]

    def fresh(self, prefix: str = "v") -> str:
        return f"{prefix}{next(self._count)}"

    def cache(self) -> str:
        name = self.fresh("cache")
        self.caches.append(name)
        return name


class _Where:
    """Where the fields of a part or item are: a Latin-1 text starting at a column (TXT),
    or cells in field order (CSV)."""

    def __init__(self, src: Source, fields: list[Field], text: str) -> None:
        self.src, self.text_var = src, text
        self.first = fields[0].start
        self.cell = {f.name: i for i, f in enumerate(fields)}
        self.single = len(fields) == 1
        self.values: dict[str, str] = {}  # field name -> its variable (a shared field once)
        self.whole = ""  # TXT: the bytes that are exactly the one field, if so

    def text(self, field: Field) -> str:
        if self.src.txt and self.whole:  # the piece is this one field: no slice
            return f"{self.whole}.decode('latin-1')"
        if self.src.txt:
            at = field.start - self.first
            return f"{self.text_var}[{at}:{at + field.width}]"
        return self.text_var if self.single else f"{self.text_var}[{self.cell[field.name]}]"

    def span(self, fields: list[Field]) -> tuple[int, int]:
        """Where a run of fields is in the part's bytes (TXT) or cells (CSV)."""
        if self.src.txt:
            return fields[0].start - self.first, fields[-1].end + 1 - self.first
        return self.cell[fields[0].name], self.cell[fields[-1].name] + 1


def _value(src: Source, lines: list[str], pad: str, field: Field, text: str) -> str:
    """Statements giving ``field``'s value from its raw ``text``; returns its variable."""
    var = src.fresh()
    kind = field.kind
    convert_ = src.name(_converter(field, src.lenient), "convert_")
    if kind is FieldKind.TEXT or (src.txt and kind in (FieldKind.CODE, FieldKind.DIGITS)):
        lines.append(f"{pad}{var} = {text}.rstrip()")
        if field.required:
            lines += [f"{pad}if not {var}.strip():", f"{pad}    {convert_}({var})"]
    elif kind in KNOWN_TEXTS and not field.required:
        raw = src.fresh("raw")
        lines += [
            f"{pad}{raw} = {text}",
            f"{pad}{var} = {src.name(KNOWN_TEXTS[kind], 'known_')}.get({raw}, MISSING)",
            f"{pad}if {var} is MISSING:",
            f"{pad}    {var} = {convert_}({raw})",
        ]
    elif kind is FieldKind.DATE:  # a plain date the quick way, anything else by the rule
        raw = src.fresh("raw")
        lines += [f"{pad}{raw} = {text}", f"{pad}{var} = quick_date({raw})"]
        if field.required:
            lines += [f"{pad}if {var} is MISSING:", f"{pad}    {var} = {convert_}({raw})"]
        else:  # one more look-up first, for a date not plain (a blank one: None)
            lines += [
                f"{pad}if {var} is MISSING:",
                f"{pad}    {var} = dates_get({raw}, MISSING)",
                f"{pad}    if {var} is MISSING:",
                f"{pad}        {var} = dates_keep({raw}, {convert_}({raw}))",
            ]
    else:
        lines.append(f"{pad}{var} = {convert_}({text})")
    return var


def _converter(field: Field, lenient: bool) -> Any:
    def convert_field(text: str) -> Any:
        return convert(field, text, None, lenient)

    convert_field.__qualname__ = f"convert_{field.name}"
    return convert_field


def _fill(
    src: Source,
    lines: list[str],
    pad: str,
    part: Field | Node | Items,
    where: _Where,
    rule: ItemRule | None = None,
    attribute: str = "",
    raw: str = "p",
) -> str:
    """Statements building ``part`` (a value, a record or a tuple); returns its variable."""
    if isinstance(part, Field):
        var = where.values.get(part.name) or _value(src, lines, pad, part, where.text(part))
        where.values[part.name] = var
        if rule is not None and attribute in rule.required:
            message = src.name(rule.required[attribute], "message_")
            lines += [f"{pad}if {var} is None:", f"{pad}    missing({message})"]
        return var
    if isinstance(part, Node):
        return _record(src, lines, pad, part, where, rule, raw)
    return _tuple(src, lines, pad, part, where, raw)


def _record(
    src: Source,
    lines: list[str],
    pad: str,
    node: Node,
    where: _Where,
    rule: ItemRule | None,
    raw: str,
) -> str:
    values = [
        (name, _fill(src, lines, pad, part, where, rule, name, raw))
        for name, part in node.parts.items()
    ]
    var = src.fresh("record")
    lines.append(f"{pad}{var} = new({src.name(_twin(node.cls), 'Twin_')})")
    lines += [f"{pad}{var}.{name} = {value}" for name, value in values]
    lines += [
        f"{pad}{var}.{name} = {src.name(default, 'default_')}"
        for name, default in node.defaults().items()
    ]
    lines.append(f"{pad}{var}.__class__ = {src.name(node.cls, 'cls_')}")
    return var


def _takers(width: int, count: int) -> tuple[Any, ...]:
    """For each number of items 0..``count``, a function giving them from the bytes."""
    slices = [slice(n * width, (n + 1) * width) for n in range(count)]
    takers: list[Any] = [lambda raw: (), lambda raw: (raw[slices[0]],)]
    takers += [itemgetter(*slices[:n]) for n in range(2, count + 1)]
    return tuple(takers)


def _twin(cls: type) -> type:
    return _TWINS.setdefault(cls, twin(cls))


def _tuple(src: Source, lines: list[str], pad: str, items: Items, where: _Where, raw: str) -> str:
    members = items_of(items)
    var = src.fresh("items")
    if all(isinstance(m, Field) for m in members):  # a tuple of texts: blanks dropped
        texts = [_fill(src, lines, pad, m, where) for m in members]
        lines.append(f"{pad}{var} = tuple(filter(None, ({', '.join(texts)},)))")
        return var
    rule = items.rule
    assert rule is not None
    groups = [m.fields() for m in members if isinstance(m, Node)]
    shapes = {
        tuple((f.start - g[0].start, f.width, f.kind, f.attribute.split(".", 1)[1]) for f in g)
        for g in groups
    }
    if len(shapes) != 1:
        raise ValueError(f"the items of {items.name!r} differ in shape")
    spans = tuple(where.span(g) for g in groups)
    first = members[0]
    assert isinstance(first, Node)
    build = _item_function(src, first, groups[0], rule, items.name)
    cache = src.cache()
    end = "END" if rule.blank_ends else "SKIP"
    width = spans[0][1] - spans[0][0]
    uniform = spans == tuple((n * width, (n + 1) * width) for n in range(len(spans)))
    if src.txt and rule.blank_ends and uniform:
        # In one go, when every item before the first blank one is known (the common case).
        take = src.name(_takers(width, len(spans)), "take_")
        lines += [
            f"{pad}{var} = tuple(map({cache}.get, {take}[first_blank({raw}, {width})]({raw})))",
            f"{pad}if not all({var}):",
        ]
        pad += "    "
    lines += [
        f"{pad}{var} = []",
        f"{pad}for start, stop in {src.name(spans, 'spans_')}:",
        f"{pad}    key = {raw}[start:stop]",
        f"{pad}    item = {cache}.get(key, MISSING)",
        f"{pad}    if item is MISSING:",
        f"{pad}        item = {cache}.keep(key, {build}(key))",
        f"{pad}    if item is {end}:",
        f"{pad}        {'break' if rule.blank_ends else 'continue'}",
        f"{pad}    {var}.append(item)",
        f"{pad}{var} = tuple({var})",
    ]
    return var


def _item_function(src: Source, node: Node, fields: list[Field], rule: ItemRule, name: str) -> str:
    """A function building one item from its key (its bytes or cells); END or SKIP when
    its key fields are blank."""
    function = src.fresh(f"item_{name}_")
    lines = [f"    def {function}(key):"]
    text = "key"
    if src.txt:
        lines.append("        u = key.decode('latin-1')")
        text = "u"
    where = _Where(src, fields, text)
    where.single = False
    keys = [where.text(k) for k in (node.parts[n] for n in rule.key) if isinstance(k, Field)]
    blank = " or ".join(f"{k}.strip()" for k in keys)
    lines += [
        f"        if not ({blank}):",
        f"            return {'END' if rule.blank_ends else 'SKIP'}",
    ]
    made = _record(src, lines, "        ", node, where, rule, "key")
    lines.append(f"        return {made}")
    src.functions.append("\n".join(lines))
    return function


def _part_body(src: Source, index: int, part: Part, pad: str) -> tuple[list[str], list[str]]:
    """The statements building a part from its bytes or cells ``p{index}``, and the
    variables of its targets' values."""
    body: list[str] = []
    text = f"t{index}" if src.txt else f"p{index}"
    where = _Where(src, list(part.fields), text)
    if len(part.fields) == 1:
        where.whole = f"p{index}"
    values = [_fill(src, body, pad, target, where, raw=f"p{index}") for _, target in part.targets]
    if src.txt and any(f"{text}[" in line for line in body):  # a tuple alone reads bytes
        body.insert(0, f"{pad}{text} = p{index}.decode('latin-1')")
    return body, values


def _part_function(src: Source, index: int, part: Part) -> None:
    """A cached part is built by a function of its own, on a miss."""
    body, values = _part_body(src, index, part, "        ")
    lines = [f"    def part_{index}(p{index}):", *body]
    lines.append(f"        return ({', '.join(values)},)")
    src.functions.append("\n".join(lines))


def emit(plan: Plan, *, lenient: bool) -> Source:
    """The source of ``make(clock, getters)``: a fresh ``build(row)`` with its own caches
    for each read (``getters`` take each part's cells from a CSV row; TXT rows come as
    the parts' bytes)."""
    src = Source(lenient)
    for index, part in enumerate(plan.parts):
        if part.cached:
            _part_function(src, index, part)
    build = _build_function(src, plan)
    head = ["def make(clock, getters):", "    dates = Cache(clock)"]
    head.append("    dates_get, dates_keep = dates.get, dates.keep")
    head += [f"    {cache} = Cache(clock)" for cache in src.caches]
    for index, part in enumerate(plan.parts):
        if part.cached:
            head += [
                f"    cache_{index} = Cache(clock)",
                f"    get_{index}, keep_{index} = cache_{index}.get, cache_{index}.keep",
            ]
    if not src.txt:
        head.append(f"    ({''.join(f'get_p{i}, ' for i in range(len(plan.parts)))}) = getters")
    src.functions[:0] = ["\n".join(head)]
    src.functions += [build, "    return build", ""]
    return src


def _build_function(src: Source, plan: Plan) -> str:
    count = len(plan.parts)
    lines = ["    def build(row):"]
    if src.txt:
        lines.append(f"        {''.join(f'p{i}, ' for i in range(count))}= row")
    else:
        lines += [f"        p{i} = get_p{i}(row)" for i in range(count)]
    owners: dict[str, list[tuple[list[str], list[str]]]] = {}
    for index, part in enumerate(plan.parts):
        value = f"part{index}"
        if part.cached:
            lines += [
                f"        {value} = get_{index}(p{index}, MISSING)",
                f"        if {value} is MISSING:",
                f"            {value} = keep_{index}(p{index}, part_{index}(p{index}))",
            ]
            owners.setdefault(part.owner, []).append(([n for n, _ in part.targets], [value]))
        else:  # built on every line: inline
            body, values = _part_body(src, index, part, "        ")
            lines += body
            owners.setdefault(part.owner, []).append(([n for n, _ in part.targets], values))
    records = [(split.name, split.node) for split in plan.splits] + [("report", plan.root)]
    for var, node in records:
        lines.append(f"        {var} = new({src.name(_twin(node.cls), 'Twin_')})")
        for names, values in owners.get("" if var == "report" else var, []):
            if (len(values) == 1 and len(names) > 1) or values[0].startswith("part"):
                lines.append(f"        {''.join(f'{var}.{n}, ' for n in names)}= {values[0]}")
            else:
                lines += [f"        {var}.{n} = {v}" for n, v in zip(names, values, strict=True)]
        if var == "report":
            lines += [f"        report.{split.name} = {split.name}" for split in plan.splits]
        lines += [
            f"        {var}.{name} = {src.name(default, 'default_')}"
            for name, default in node.defaults().items()
            if var != "report" or name not in {s.name for s in plan.splits}
        ]
        lines.append(f"        {var}.__class__ = {src.name(node.cls, 'cls_')}")
    lines.append("        return report")
    return "\n".join(lines)
