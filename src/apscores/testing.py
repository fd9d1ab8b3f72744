"""A public switch for tests of code that uses apscores (as ``stamina.set_testing``).

>>> from apscores.testing import instant_retries
>>> with instant_retries() as waits:
...     pass  # every client retry in here is instant; ``waits`` lists what was skipped
>>> waits
[]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from apscores.service._retry import INSTANT_RETRIES

__all__ = ["instant_retries"]


@contextlib.contextmanager
def instant_retries() -> Iterator[list[float]]:
    """Make every retry wait of the clients called in this block instant.

    Yields the list of waits (seconds) that would have been slept, in order, so a test can
    check the backoff and ``Retry-After`` without waiting. Retries still happen; only the
    sleeping is skipped. The switch is a context variable: it holds for the thread or
    asyncio task that enters the block (and the tasks it starts inside it), so tests that
    run concurrently, with or without it, do not see each other's setting.
    """
    previous = INSTANT_RETRIES.get()
    taken: list[float] = []
    INSTANT_RETRIES.set(taken)
    try:
        yield taken
    finally:
        # set, not reset(token): an async fixture may end in another context than it began
        INSTANT_RETRIES.set(previous)
