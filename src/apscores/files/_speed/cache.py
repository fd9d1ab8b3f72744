"""The one cache policy of the fast readers: bounded, and small when it does not pay.

A generated builder looks a repeating part of a record (a date, a school block, an exam
block) up by its raw bytes or cells (``cache.get``, a plain dict look-up) and builds it only
on a miss (``cache.keep``). Every cache is bounded: a full one is emptied, so memory stays
constant in file size and an emptied cache only costs first-seen values again. A cache
that filled up with more entries than half the lines read since it was last emptied (its
parts differ on most lines) keeps only :data:`SMALL_LIMIT` entries from then on, since its
entries cost memory and collector time and rarely come back; one that fills slowly gets
its full limit back. The first judgement comes early, at :data:`EARLY` entries, for a
cache that added one on nearly every line (a file where every school differs): held to
the full limit, its entries made the worst-case read 30 % slower. Any other cache keeps
its entries there and fills on (a pool of schools larger than EARLY still comes back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["EARLY", "LIMIT", "SMALL_LIMIT", "Cache", "Clock"]

#: Entries a cache holds before it is emptied.
LIMIT = 32768
#: Entries a cache keeps once it has missed on most lines.
SMALL_LIMIT = 1024


class Clock:
    """The line a read has reached (the reading loop sets it): caches judge by it. And
    ``seen``, which a builder calls with each exam and award it builds anew (the read's
    look at unknown codes, :mod:`apscores.files._unknown`; by default nothing)."""

    __slots__ = ("line", "seen")

    def __init__(self) -> None:
        self.line = 0
        self.seen: Callable[[Any], None] = _nothing


def _nothing(_item: Any) -> None:
    """Look at nothing."""


#: Entries at which a cache first judges whether it pays, so that one whose parts differ on
#: every line never holds more than this (its entries cost the collector on every pass).
EARLY = 4096
#: New entries per line read at which a cache is said to miss on every line.
EVERY_LINE = 0.95


class Cache(dict[Any, Any]):
    """A bounded dict: ``get`` as any dict, ``keep(key, value)`` to add (and return) a value.

    Generated code inlines ``keep``: ``if len(cache) >= cache.limit: cache.empty()``, then
    a plain store (a method call per miss would cost more than the store).
    """

    __slots__ = ("_clock", "_emptied_at", "_full", "limit")

    def __init__(self, clock: Clock, limit: int | None = None) -> None:
        super().__init__()
        self._full = LIMIT if limit is None else limit
        self.limit = min(EARLY, self._full)
        self._clock = clock
        self._emptied_at = clock.line

    def empty(self) -> None:
        """Empty a full cache, and choose its next limit by how well it did; at its first
        :data:`EARLY` entries, keep them and fill on unless it missed on every line."""
        lines = self._clock.line - self._emptied_at
        if self.limit == EARLY < self._full and len(self) < EVERY_LINE * lines:
            self.limit = self._full
            return
        self.limit = SMALL_LIMIT if 2 * len(self) > lines else self._full
        self._emptied_at = self._clock.line
        self.clear()

    def keep(self, key: Any, value: Any) -> Any:
        if len(self) >= self.limit:
            self.empty()
        self[key] = value
        return value
