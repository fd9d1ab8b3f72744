"""The one cache policy: bounded, and small where it does not pay (every student distinct)."""

from __future__ import annotations

import random

from apscores.files._speed.cache import EARLY, LIMIT, SMALL_LIMIT, Cache, Clock


def _look_up(cache: Cache, clock: Clock, line: int, key: str) -> None:
    """What a generated builder does: a hit is a dict look-up, a miss builds and keeps."""
    clock.line = line
    if cache.get(key) is None:
        cache.keep(key, key.upper())


def test_a_cache_that_misses_on_most_lines_becomes_small() -> None:
    clock = Clock()
    cache = Cache(clock, 4 * SMALL_LIMIT)
    sizes = []
    for line in range(1, 20_000):
        _look_up(cache, clock, line, f"{line:08d}")  # a new value on every line
        sizes.append(len(cache))
    assert max(sizes) == 4 * SMALL_LIMIT  # full once, then emptied and made small
    assert max(sizes[-5_000:]) == SMALL_LIMIT


def test_a_cache_that_hits_keeps_its_limit_or_gets_it_back() -> None:
    clock = Clock()
    cache = Cache(clock, 4 * SMALL_LIMIT)
    for line in range(1, 20_000):
        _look_up(cache, clock, line, f"{line:08d}")
    # Then the file turns repetitive: a new value every tenth line only.
    sizes = []
    for line in range(20_000, 200_000):
        _look_up(cache, clock, line, f"x{line // 10:08d}")
        sizes.append(len(cache))
    assert max(sizes[-20_000:]) > SMALL_LIMIT  # the full limit again
    assert cache[f"x{line // 10:08d}"] == f"X{line // 10:08d}"


def test_keep_returns_the_value_and_a_full_cache_is_emptied_first() -> None:
    clock = Clock()
    cache = Cache(clock, 2)
    assert cache.keep("a", 1) == 1
    cache.keep("b", 2)
    cache.keep("c", 3)
    assert cache == {"c": 3}


def test_a_cache_that_misses_on_every_line_is_judged_at_its_first_early_entries() -> None:
    """Every school of a file distinct: the cache never holds more than EARLY entries."""
    clock = Clock()
    cache = Cache(clock)
    sizes = []
    for line in range(1, 3 * EARLY):
        _look_up(cache, clock, line, f"{line:08d}")
        sizes.append(len(cache))
    assert max(sizes) == EARLY
    assert max(sizes[-EARLY:]) == SMALL_LIMIT


def test_a_cache_that_hits_now_and_then_keeps_its_early_entries_and_fills_on() -> None:
    """One school for five students, drawn at random: a tenth of the lines hit at first,
    and the cache must grow past EARLY to hold the pool (no entry is dropped at EARLY)."""
    clock = Clock()
    cache = Cache(clock)
    pool = random.Random(7)
    for line in range(1, 6 * EARLY):
        _look_up(cache, clock, line, f"{pool.randrange(5 * EARLY):08d}")
        if len(cache) == EARLY:
            early = dict(cache)
    assert LIMIT > len(cache) > 2 * EARLY
    assert early.items() <= cache.items()
