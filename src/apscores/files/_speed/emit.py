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

from apscores.files._records import ItemRule, Items, Node, items_of
from apscores.files._speed.plan import LONG_TUPLE, Part, Plan
from apscores.files._speed.source import Source, Where, takers, twin_of, value
from apscores.files.layout import Field

__all__ = ["Source", "emit"]


def _fill(
    src: Source,
    lines: list[str],
    pad: str,
    part: Field | Node | Items,
    where: Where,
    rule: ItemRule | None = None,
    attribute: str = "",
    raw: str = "p",
) -> str:
    """Statements building ``part`` (a value, a record or a tuple); returns its variable."""
    if isinstance(part, Field):
        var = where.values.get(part.name) or value(src, lines, pad, part, where)
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
    where: Where,
    rule: ItemRule | None,
    raw: str,
) -> str:
    values = [
        (name, _fill(src, lines, pad, part, where, rule, name, raw))
        for name, part in node.parts.items()
    ]
    var = src.fresh("record")
    lines.append(f"{pad}{var} = new({src.name(twin_of(node.cls), 'Twin_')})")
    lines += [f"{pad}{var}.{name} = {value}" for name, value in values]
    lines += [
        f"{pad}{var}.{name} = {src.name(default, 'default_')}"
        for name, default in node.defaults().items()
    ]
    lines.append(f"{pad}{var}.__class__ = {src.name(node.cls, 'cls_')}")
    return var


def _tuple(src: Source, lines: list[str], pad: str, items: Items, where: Where, raw: str) -> str:
    members = items_of(items)
    var = src.fresh("items")
    if all(isinstance(m, Field) for m in members):  # a tuple of texts: blanks dropped
        texts = [_fill(src, lines, pad, m, where) for m in members]
        if len(texts) == 2:  # the common shape (two irregularity codes), without a call
            a, b = texts
            kept = f"(({a}, {b}) if {b} else ({a},)) if {a} else (({b},) if {b} else ())"
            lines.append(f"{pad}{var} = {kept}")
        else:
            lines.append(f"{pad}{var} = tuple(filter(None, ({', '.join(texts)},)))")
        return var
    rule = items.rule
    assert rule is not None
    if len(members) < LONG_TUPLE:  # its part is cached whole: each item written out
        return _short_tuple(src, lines, pad, members, rule, where, var)
    groups = [m.fields() for m in members if isinstance(m, Node)]
    shapes = {
        tuple(
            (f.start - g[0].start, f.width, f.kind, f.required, f.attribute.split(".", 1)[1])
            for f in g
        )
        for g in groups
    }
    if len(shapes) != 1:
        raise ValueError(f"the items of {items.name!r} differ in shape")
    spans = tuple(where.span(g) for g in groups)
    first = members[0]
    assert isinstance(first, Node)
    cache = src.cache()
    width = spans[0][1] - spans[0][0]
    uniform = spans == tuple((n * width, (n + 1) * width) for n in range(len(spans)))
    keys = src.fresh("keys")
    if src.txt and uniform:
        # The items before the first blank one, in one go; all known: the common case.
        # Items skipped when blank may come after a blank one: then every item is a key.
        take = src.name(takers(width, len(spans)), "take_")
        lines += [
            f"{pad}{keys} = {take}[first_blank({raw}, {width})]({raw})",
            f"{pad}{var} = tuple(map({cache}.get, {keys}))",
            f"{pad}if not all({var}):",
        ]
        pad += "    "
        loop = [f"{pad}for key in {keys}:"]
    else:  # each item's key cut as the loop reaches it
        loop = [
            f"{pad}for start, stop in {src.name(spans, 'spans_')}:",
            f"{pad}    key = {raw}[start:stop]",
        ]
    lines += [
        f"{pad}{var} = []",
        *loop,
        f"{pad}    item = {cache}.get(key)",
        f"{pad}    if item is None:",
    ]
    _item(src, lines, pad + "        ", first, groups[0], rule)
    lines += [
        f"{pad}        if len({cache}) >= {cache}.limit:",
        f"{pad}            {cache}.empty()",
        f"{pad}        {cache}[key] = item",
        f"{pad}    if item is SKIP:",
        f"{pad}        continue",
        f"{pad}    {var}.append(item)",
        f"{pad}{var} = tuple({var})",
    ]
    return var


def _short_tuple(
    src: Source,
    lines: list[str],
    pad: str,
    members: list[Node | Field],
    rule: ItemRule,
    where: Where,
    var: str,
) -> str:
    """A short tuple of records, each item written out (no loop, no call, no cache)."""
    lines.append(f"{pad}{var} = []")
    for member in members:  # each item there, wherever it is
        assert isinstance(member, Node)
        keys = [member.parts[name] for name in rule.key]
        there = " or ".join(f"{where.text(k)}.strip()" for k in keys if isinstance(k, Field))
        lines.append(f"{pad}if {there}:")
        made = _record(src, lines, pad + "    ", member, where, rule, "p")
        lines += [f"{pad}    seen({made})", f"{pad}    {var}.append({made})"]
    lines.append(f"{pad}{var} = tuple({var})")
    return var


def _item(
    src: Source, lines: list[str], pad: str, node: Node, fields: list[Field], rule: ItemRule
) -> None:
    """Statements setting ``item`` to the item built from its ``key`` (its bytes or
    cells), or to SKIP when its key fields are blank (cached too)."""
    at = len(lines)
    where = Where(src, fields, "u" if src.txt else "key")
    where.single = False
    where.raw = "key" if src.txt else ""
    keys = [where.text(k) for k in (node.parts[n] for n in rule.key) if isinstance(k, Field)]
    blank = " or ".join(f"{k}.strip()" for k in keys)
    lines += [
        f"{pad}if not ({blank}):",
        f"{pad}    item = SKIP",
        f"{pad}else:",
    ]
    made = _record(src, lines, pad + "    ", node, where, rule, "key")
    lines += [f"{pad}    item = {made}", f"{pad}    seen(item)"]
    if where.cuts:
        lines.insert(at, pad + where.cut("key.decode('latin-1')"))


def _part_body(src: Source, index: int, part: Part, pad: str) -> tuple[list[str], list[str]]:
    """The statements building a part from its bytes or cells ``p{index}``, and the
    variables of its targets' values."""
    body: list[str] = []
    text = f"t{index}" if src.txt else f"p{index}"
    where = Where(src, list(part.fields), text)
    if len(part.fields) == 1:
        where.whole = f"p{index}"
    where.raw = f"p{index}" if src.txt else ""
    values = [_fill(src, body, pad, target, where, raw=f"p{index}") for _, target in part.targets]
    if where.cuts:  # a tuple alone reads bytes
        body.insert(0, pad + where.cut(f"p{index}.decode('latin-1')"))
    return body, values


def _part_function(src: Source, index: int, part: Part) -> None:
    """A cached part is built by a function of its own, on a miss."""
    body, values = _part_body(src, index, part, "        ")
    lines = [f"    def part_{index}(p{index}):", *body]
    lines.append(f"        return ({', '.join(values)},)")
    src.functions.append("\n".join(lines))


def emit(plan: Plan, *, lenient: bool) -> Source:
    """The source of ``make(clock, getters)``: a fresh ``build(row)`` with its own caches
    for each read, and ``records(rows, on_error)`` yielding ``build``'s report for each
    row or, where it raises ``ParseError``, ``on_error(index)`` unless that is None
    (``getters`` take each part's cells from a CSV row; TXT rows come as the parts'
    bytes)."""
    src = Source(lenient)
    for index, part in enumerate(plan.parts):
        if part.cached:
            _part_function(src, index, part)
    build = _build_function(src, plan)
    head = ["def make(clock, getters):", "    dates = Cache(clock)"]
    head += ["    dates_get = dates.get", "    seen = clock.seen  # each exam and award made"]
    head += [f"    {cache} = Cache(clock)" for cache in src.caches]
    for index, part in enumerate(plan.parts):
        if part.cached:
            head += [
                f"    cache_{index} = Cache(clock)",
                f"    get_{index} = cache_{index}.get",
            ]
    if not src.txt:
        head.append(f"    ({''.join(f'get_p{i}, ' for i in range(len(plan.parts)))}) = getters")
    src.functions[:0] = ["\n".join(head)]
    src.functions += [build, "    return build, records", ""]
    return src


def _build_function(src: Source, plan: Plan) -> str:
    """``build(row)``: each part looked up (or built inline), the split records and the
    report put together; and ``records(rows, on_error)``, the same body in a loop."""
    count = len(plan.parts)
    lines = ["    def build(row):"]
    if src.txt:
        lines.append(f"        {''.join(f'p{i}, ' for i in range(count))}= row")
    else:
        lines += [f"        p{i} = get_p{i}(row)" for i in range(count)]
    # Record ("" the report) -> the statements filling its attributes from the parts.
    fills: dict[str, list[str]] = {}
    for index, part in enumerate(plan.parts):
        value = f"part{index}"
        if part.cached:
            lines += [
                f"        {value} = get_{index}(p{index})",
                f"        if {value} is None:  # a part's value is a tuple, never None",
                f"            {value} = part_{index}(p{index})",
                f"            if len(cache_{index}) >= cache_{index}.limit:",
                f"                cache_{index}.empty()",
                f"            cache_{index}[p{index}] = {value}",
            ]
            names = "".join(f"{{record}}.{name}, " for name, _ in part.targets)
            fills.setdefault(part.owner, []).append(f"{names}= {value}")  # unpacked
        else:  # built on every line: inline
            body, values = _part_body(src, index, part, "        ")
            lines += body
            fills.setdefault(part.owner, []).extend(
                f"{{record}}.{name} = {made}"
                for (name, _), made in zip(part.targets, values, strict=True)
            )
    records = [(split.name, split.node) for split in plan.splits] + [("report", plan.root)]
    for var, node in records:
        lines.append(f"        {var} = new({src.name(twin_of(node.cls), 'Twin_')})")
        owner = "" if var == "report" else var
        lines += [f"        {fill.format(record=var)}" for fill in fills.get(owner, [])]
        if var == "report":
            lines += [f"        report.{split.name} = {split.name}" for split in plan.splits]
        lines += [
            f"        {var}.{name} = {src.name(default, 'default_')}"
            for name, default in node.defaults().items()
            if var != "report" or name not in {s.name for s in plan.splits}
        ]
        lines.append(f"        {var}.__class__ = {src.name(node.cls, 'cls_')}")
    body = lines[1:]
    lines.append("        return report")
    # The same body in a loop: a file's records without a call per line.
    loop = [
        "    def records(rows, on_error):",
        "        index = -1",
        "        for row in rows:",
        "            index += 1",
        "            clock.line += 1  # the caches judge by lines read",
        "            try:",
        *("        " + line for line in body),
        "            except ParseError:",
        "                made = on_error(index)",
        "                if made is not None:",
        "                    yield made",
        "                continue",
        "            yield report",
    ]
    return "\n".join(lines + loop)
