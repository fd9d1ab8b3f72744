"""The TXT reader's caches stay small where they do not pay (every student distinct)."""

from __future__ import annotations

from apscores.files._caches import SMALL_LIMIT, Builders


def _look_up(build: Builders, line: int, key: bytes) -> None:
    """What the reading loop does: a hit is a dict look-up, a miss builds and keeps."""
    build.line = line
    if build.texts.get(key) is None:
        build.text(key)


def test_a_cache_that_misses_on_most_lines_becomes_small() -> None:
    build = Builders(4 * SMALL_LIMIT)
    for line in range(1, 20_000):
        _look_up(build, line, f"{line:08d}".encode())  # a new value on every line
        assert len(build.texts) <= build.limit_of(build.texts)
    assert build.limit_of(build.texts) == SMALL_LIMIT
    assert len(build.texts) <= SMALL_LIMIT


def test_a_cache_that_hits_keeps_its_limit_or_gets_it_back() -> None:
    build = Builders(4 * SMALL_LIMIT)
    for line in range(1, 20_000):
        _look_up(build, line, f"{line:08d}".encode())
    assert build.limit_of(build.texts) == SMALL_LIMIT
    # Then the file turns repetitive: a new value every tenth line only.
    for line in range(20_000, 80_000):
        _look_up(build, line, f"x{line // 10:08d}".encode())
    assert build.limit_of(build.texts) == build.limit
    assert build.texts[f"x{line // 10:08d}".encode()] == f"x{line // 10:08d}"


def test_the_exam_cache_adapts_too() -> None:
    build = Builders(4 * SMALL_LIMIT)
    blocks = [f"25{n % 100:02d}5    A ".encode("latin-1") for n in range(100)]
    for line in range(1, 5_000):
        build.line = line
        code = (line // 100) % 100
        build.exam_list(
            tuple(
                f"{line % 100:02d}{(code + n) % 100:02d}{1 + n % 5}    B ".encode()
                for n in range(8)
            )
        )
    assert build.limit_of(build.exams) == SMALL_LIMIT
    assert build.exam_list(tuple(blocks[:3]))[0].code == "00"
