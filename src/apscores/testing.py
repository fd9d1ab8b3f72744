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

from apscores.service._retry import WAITS

__all__ = ["instant_retries"]


@contextlib.contextmanager
def instant_retries() -> Iterator[list[float]]:
    """Make every retry wait of every client instant inside the block.

    Yields the list of waits (seconds) that would have been slept, in order, so a test can
    check the backoff and ``Retry-After`` without waiting. Retries still happen; only the
    sleeping is skipped. Not thread-safe across concurrent tests.
    """
    previous, taken = WAITS.instant, WAITS.taken
    WAITS.instant, WAITS.taken = True, []
    try:
        yield WAITS.taken
    finally:
        WAITS.instant, WAITS.taken = previous, taken
