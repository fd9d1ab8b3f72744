"""How one value is written in a generated builder: the source being written, where a
field's text is, and the statements that turn that text into the field's value.

Plain text is sliced and right-stripped inline (one column through a table); a kind with
few texts (years, grades) is looked up in the value rules' own table; a date is looked up,
then read the quick way; everything else, and anything those do not know, goes through
the one value rule, :func:`apscores.files._values.convert`.
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import Any

from apscores.files._speed.twin import twin
from apscores.files._values import KNOWN_TEXTS, convert
from apscores.files.layout import Field, FieldKind

__all__ = ["Source", "Where", "takers", "twin_of", "value"]

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


class Where:
    """Where the fields of a part or item are: a Latin-1 text starting at a column (TXT),
    or cells in field order (CSV)."""

    def __init__(self, src: Source, fields: list[Field], text: str) -> None:
        self.src, self.text_var = src, text
        self.first = fields[0].start
        self.cell = {f.name: i for i, f in enumerate(fields)}
        self.single = len(fields) == 1
        self.values: dict[str, str] = {}  # field name -> its variable (a shared field once)
        self.whole = ""  # TXT: the bytes that are exactly the one field, if so
        self.raw = ""  # TXT: the bytes the text was decoded from (a byte is a column)
        self.cuts: dict[tuple[int, int], str] = {}  # TXT: each span read -> its variable

    def text(self, field: Field) -> str:
        if self.src.txt and self.whole:  # the piece is this one field: no slice
            return f"{self.whole}.decode('latin-1')"
        if self.src.txt:
            at = field.start - self.first
            span = (at, at + field.width)
            if span not in self.cuts:
                self.cuts[span] = f"{self.text_var}_{len(self.cuts)}"
            return self.cuts[span]
        return self.text_var if self.single else f"{self.text_var}[{self.cell[field.name]}]"

    def cut(self, decoded: str) -> str:
        """The statement cutting every span :meth:`text` gave out of ``decoded`` text in
        one C call (an ``itemgetter`` of slices): a slice each would cost a slice object,
        its indexes and a bytecode round each (measured: about a tenth of a record)."""
        names = list(self.cuts.values())
        if len(names) == 1:
            ((start, stop),) = self.cuts
            return f"{names[0]} = {decoded}[{start}:{stop}]"
        getter = itemgetter(*(slice(start, stop) for start, stop in self.cuts))
        return f"{', '.join(names)}, = {self.src.name(getter, 'cut_')}({decoded})"

    def span(self, fields: list[Field]) -> tuple[int, int]:
        """Where a run of fields is in the part's bytes (TXT) or cells (CSV)."""
        if self.src.txt:
            return fields[0].start - self.first, fields[-1].end + 1 - self.first
        return self.cell[fields[0].name], self.cell[fields[-1].name] + 1


def value(src: Source, lines: list[str], pad: str, field: Field, where: Where) -> str:
    """Statements giving ``field``'s value from its raw ``text``; returns its variable."""
    var = src.fresh()
    kind = field.kind
    plain = kind is FieldKind.TEXT or (src.txt and kind in (FieldKind.CODE, FieldKind.DIGITS))
    if plain and field.width == 1 and where.raw and not field.required:  # a byte: a table
        at = field.start - where.first
        lines.append(f"{pad}{var} = ONE_COLUMN[{where.raw}[{at}]]")
        return var
    convert_ = src.name(_converter(field, src.lenient), "convert_")
    if kind is FieldKind.DATE:
        _date(src, lines, pad, var, field, where, convert_)
        return var
    text = where.text(field)
    if plain or kind is FieldKind.CODE:  # a code in a cell: unless it looks like a number
        lines.append(f"{pad}{var} = {text}.rstrip()")
        if not plain:
            number = " or ".join(f"{mark!r} in {var}" for mark in ".Ee")
            lines += [f"{pad}if {number}:", f"{pad}    {var} = {convert_}({var})"]
        if field.required:
            lines += [f"{pad}if not {var}.strip():", f"{pad}    {convert_}({var})"]
    elif kind in KNOWN_TEXTS and not field.required:
        known = src.name(KNOWN_TEXTS[kind], "known_")
        _quick_or_rule(src, lines, pad, var, text, f"{known}.get({{}}, MISSING)", convert_)
    else:
        lines.append(f"{pad}{var} = {convert_}({text})")
    return var


def _date(
    src: Source, lines: list[str], pad: str, var: str, field: Field, where: Where, rule: str
) -> None:
    """``var``: seen before (the one cache of dates, keyed by the bytes in TXT, by the cell
    in CSV: one key type, as ``bytes == str`` warns under ``python -b``), or a plain date
    the quick way, or the rule."""
    key = raw = src.fresh("raw")
    if src.txt:
        key = where.whole or src.fresh("key")
        text = f"{key}.decode('latin-1')"
        if not where.whole:
            at = field.start - where.first
            lines.append(f"{pad}{key} = {where.raw}[{at}:{at + field.width}]")
    else:
        text = where.text(field)
        lines.append(f"{pad}{raw} = {text}")
    lines += [
        f"{pad}{var} = dates_get({key}, MISSING)",
        f"{pad}if {var} is MISSING:",
        *([f"{pad}    {raw} = {text}"] if src.txt else []),
        f"{pad}    {var} = quick_date({raw})",
        f"{pad}    if {var} is MISSING:",
        f"{pad}        {var} = {rule}({raw})",
        f"{pad}    if len(dates) >= dates.limit:",
        f"{pad}        dates.empty()",
        f"{pad}    dates[{key}] = {var}",
    ]
    if field.required:  # a blank seen in a date that may be blank: the rule refuses
        lines += [f"{pad}if {var} is None:", f"{pad}    {rule}({text if src.txt else raw})"]


def _quick_or_rule(
    src: Source, lines: list[str], pad: str, var: str, text: str, quick: str, rule: str
) -> None:
    """``var`` from the ``quick`` way (a look-up; ``{}`` is the text), or by the rule."""
    raw = src.fresh("raw")
    lines += [
        f"{pad}{raw} = {text}",
        f"{pad}{var} = {quick.format(raw)}",
        f"{pad}if {var} is MISSING:",
        f"{pad}    {var} = {rule}({raw})",
    ]


def _converter(field: Field, lenient: bool) -> Any:
    def convert_field(text: str) -> Any:
        return convert(field, text, None, lenient)

    convert_field.__qualname__ = f"convert_{field.name}"
    return convert_field


def takers(width: int, count: int) -> tuple[Any, ...]:
    """For each number of items 0..``count``, a function giving them from the bytes."""
    slices = [slice(n * width, (n + 1) * width) for n in range(count)]
    made: list[Any] = [lambda raw: (), lambda raw: (raw[slices[0]],)]
    made += [itemgetter(*slices[:n]) for n in range(2, count + 1)]
    return tuple(made)


def twin_of(cls: type) -> type:
    """The twin of a record class (one per class)."""
    if cls not in _TWINS:
        _TWINS[cls] = twin(cls)
    return _TWINS[cls]
