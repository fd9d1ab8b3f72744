"""The readers' speed, in one private place: record builders generated from a layout.

Nothing here knows a field: :mod:`.plan` cuts a :class:`~apscores.files.layout.Layout` into
parts, :mod:`.emit` writes the Python source of a builder for it, and :func:`compiled`
compiles that once per layout and format, with a ``linecache`` entry under a file name
like ``<apscores generated: txt records, layout 950>``. :mod:`.cache` holds the one cache
policy and :mod:`.twin` the one trick for building frozen records fast.

The rule modules (the layout, framing, values, the reference reading) import nothing from
here (an import-linter contract says so): a builder is only ever a faster way to the
records the reference reading gives, and any line it cannot build goes there.
"""

from __future__ import annotations

import functools
import itertools
import linecache
import struct
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import attrs

from apscores.errors import ParseError
from apscores.files._speed.cache import Cache, Clock
from apscores.files._speed.emit import emit
from apscores.files._speed.plan import Plan, plan_parts
from apscores.files._values import MISSING as _VALUES_MISSING
from apscores.files._values import quick_date
from apscores.files.layout import Layout

__all__ = ["Builder", "Clock", "compiled"]


def _marker(name: str) -> Any:
    """A false, named singleton (false: ``all(items)`` tells a marker from an item)."""
    return type(name.title(), (), {"__repr__": lambda _: name, "__bool__": lambda _: False})()


#: What an item builder returns for an item that is skipped (its key fields blank).
SKIP = _marker("SKIP")
#: What a look-up gives for a key it does not hold (``None`` is a value): the value
#: rules' own marker, which :func:`~apscores.files._values.quick_date` returns too.
MISSING = _VALUES_MISSING


#: A byte -> its one column's right-stripped Latin-1 text (``t[i:i + 1].rstrip()``).
ONE_COLUMN = tuple(chr(byte).rstrip() for byte in range(256))


def first_blank(raw: bytes, width: int) -> int:
    """How many items of ``width`` bytes come before the first all-blank one when every
    byte from there on is blank too (the usual record: its exams, then blank blocks), so
    the fast way reads no item after it; else all of them (a blank item is skipped
    wherever it is, so one may come after it). No copy: one compare of the tail."""
    blank = b" " * width
    at = raw.find(blank)
    while at > 0 and at % width:
        at = raw.find(blank, at + width - at % width)
    if at >= 0 and raw.endswith(_SPACES[len(raw) - at]):
        return at // width
    return len(raw) // width


#: Runs of blanks by length, for :func:`first_blank`'s compare (a TXT record is 950 bytes).
_SPACES = tuple(b" " * n for n in range(1024))


def _missing(message: str) -> None:
    raise ParseError(message, line=None, field=None, raw="")


@attrs.frozen
class Builder:
    """A layout's compiled builder for one format.

    ``make(clock, getters)`` returns a fresh ``(build, records)`` with their own caches
    (one per read): ``build(row)`` builds one report from a tuple of a record's part bytes
    (TXT: see :meth:`row_struct`) or a CSV row (``getters`` from :meth:`getters`), and
    ``records(rows, on_error)`` does it for each row in one loop. ``build`` raises
    ``ParseError`` for a line it cannot vouch for (``records`` then yields what
    ``on_error(index)`` returns, unless ``None``): read that line the reference way.
    """

    plan: Plan
    make: Callable[[Clock, Sequence[Callable[[Any], Any]]], tuple[Any, Any]]
    filename: str

    def row_struct(self, ending: int) -> struct.Struct:
        """The ``struct`` cutting one record of the layout (and ``ending`` bytes of line
        ending) into the bytes of its parts, fillers skipped."""
        layout = self.plan.layout
        formats: list[str] = []
        at = 1
        for part in self.plan.parts:
            start, end = part.fields[0].start, part.fields[-1].end
            if start > at:
                formats.append(f"{start - at}x")
            formats.append(f"{end - start + 1}s")
            at = end + 1
        formats.append(f"{layout.length + 1 - at + ending}x")
        return struct.Struct("".join(formats))

    def getters(self, columns: dict[str, int]) -> list[Callable[[Any], Any]]:
        """Per part, the function taking its cells from a CSV row (a field without a
        column reads cell ``-1``: the reader appends a blank one)."""
        return [
            itemgetter(*(columns.get(f.name, -1) for f in part.fields)) for part in self.plan.parts
        ]


_COUNT = itertools.count(1)  # two layouts may share a name: their sources may not


@functools.cache
def compiled(layout: Layout, *, lenient: bool) -> Builder:
    """The builder of ``layout`` for TXT (strict) or CSV (``lenient``), compiled once."""
    plan = plan_parts(layout, lenient=lenient)
    source = emit(plan, lenient=lenient)
    text = "\n".join(source.functions)
    kind = "csv" if lenient else "txt"
    filename = f"<apscores generated: {kind} records, layout {layout.name!r} #{next(_COUNT)}>"
    namespace: dict[str, Any] = {
        **source.names,
        "Cache": Cache,
        "MISSING": MISSING,
        "SKIP": SKIP,
        "missing": _missing,
        "ParseError": ParseError,
        "first_blank": first_blank,
        "quick_date": quick_date,
        "ONE_COLUMN": ONE_COLUMN,
        "new": object.__new__,
    }
    exec(compile(text, filename, "exec"), namespace)  # noqa: S102 - our own generated source
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    return Builder(plan, namespace["make"], filename)
