"""When to try a call again, and how long to wait: decisions only, no sleeping here.

Exponential backoff with jitter, bounded by ``max_retries`` and ``retry_max_delay``; a
``Retry-After`` is obeyed as given, and one longer than ``retry_max_delay`` ends the
retries (waiting that long inside a call is worse than failing clearly). Which statuses
are retried is a guess of :mod:`apscores.service._guesses` (G3, after
``docs/reference/web-service.md`` §9 and §12 row 14).

Tests make every wait instant with :func:`apscores.testing.instant_retries`, which switches
:data:`INSTANT_RETRIES` here (a context variable: one thread or asyncio task at a time)
instead of patching a client.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import logging
import random
import time
from collections.abc import Callable
from datetime import timezone

import attrs
import httpx

from apscores.errors import APIConnectionError, APIError, APITimeoutError
from apscores.service import _guesses as guess
from apscores.service._settings import Settings
from apscores.service._wire import GENERATE, response_status_error

__all__ = [
    "INSTANT_RETRIES",
    "Backoff",
    "FailedAttempt",
    "classify_exception",
    "classify_response",
    "is_retryable_status",
    "parse_retry_after",
    "retry_delay",
    "translate_error",
]

logger = logging.getLogger("apscores")


#: The switch behind :func:`apscores.testing.instant_retries`: while it holds a list, the
#: clients called from this context (thread or asyncio task) do not sleep between attempts
#: but note each wait in it. Other threads and tasks keep their own setting.
INSTANT_RETRIES: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "apscores_instant_retries", default=None
)


@attrs.frozen
class FailedAttempt:
    """One failed attempt: the error to raise if we stop, and whether another try may help.

    There is no ``cause``: an ``httpx`` exception holds its request, whose URL is a
    presigned download URL (its query is the signature) and whose headers carry the token,
    so it never travels with the error (the error's message says why, in plain words).
    """

    error: Exception
    retryable: bool
    retry_after: float | None = None


#: Words in an ``httpx`` (or socket) error that say why no answer came, as plain text.
_REASONS: tuple[tuple[str, str], ...] = (
    ("refused", "connection refused"),
    ("name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("getaddrinfo failed", "host name not found"),
    ("temporary failure in name resolution", "host name not found"),
    ("no address associated", "host name not found"),
    ("network is unreachable", "network unreachable"),
    ("no route to host", "no route to host"),
    ("certificate verify failed", "TLS certificate not trusted"),
    ("certificate", "TLS certificate problem"),
    ("reset by peer", "connection reset"),
    ("broken pipe", "connection broken"),
    ("server disconnected", "the server closed the connection"),
)


def _reason(exc: httpx.HTTPError) -> str:
    """Why no answer came, in a few plain words (the exception's class if nothing fits)."""
    text = str(exc).lower()
    for needle, reason in _REASONS:
        if needle in text:
            return reason
    return type(exc).__name__


def translate_error(exc: httpx.HTTPError, endpoint: str) -> APIConnectionError:
    """The one place an ``httpx`` exception becomes ours; it is raised ``from None``.

    The message names the host and the reason once: ``cannot connect to
    api.example.org (connection refused)``; the endpoint is the error's prefix.
    """
    host = ""
    with contextlib.suppress(RuntimeError):  # an exception raised without its request
        host = exc.request.url.host
    host = host or "the host"
    reason = _reason(exc)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"no answer in time from {host} ({type(exc).__name__})", endpoint=endpoint
        )
    if isinstance(exc, httpx.ConnectError):
        return APIConnectionError(f"cannot connect to {host} ({reason})", endpoint=endpoint)
    return APIConnectionError(f"the connection to {host} failed ({reason})", endpoint=endpoint)


def classify_exception(exc: httpx.HTTPError, endpoint: str) -> FailedAttempt:
    """Every transport error means no answer arrived, so a retry is safe (G3)."""
    return FailedAttempt(
        error=translate_error(exc, endpoint),
        retryable=isinstance(exc, httpx.TransportError),
    )


def is_retryable_status(endpoint: str, status_code: int) -> bool:
    """G3: which statuses are worth another try for ``endpoint``."""
    allowed = (
        guess.GENERATE_RETRYABLE_STATUSES if endpoint == GENERATE else guess.RETRYABLE_STATUSES
    )
    return status_code in allowed


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def classify_response(response: httpx.Response, endpoint: str, now: float) -> FailedAttempt | None:
    """A retryable status as a :class:`FailedAttempt`; ``None`` when the parser should decide."""
    if not is_retryable_status(endpoint, response.status_code):
        return None
    return FailedAttempt(
        error=response_status_error(response, endpoint),
        retryable=True,
        retry_after=parse_retry_after(response.headers.get("retry-after"), now),
    )


class Backoff:
    """The waits of one operation: ``next_delay`` until it says stop (``None``), and each
    attempt's timeouts (:meth:`timeout`), both bounded by the settings' ``deadline``."""

    def __init__(
        self,
        settings: Settings,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._rng = rng
        self._clock = clock
        self._started = clock()
        self.attempt = 0

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        deadline = self._settings.deadline
        return None if deadline is None else deadline - (self._clock() - self._started)

    def timeout(self) -> httpx.Timeout:
        """This attempt's timeouts: connecting and waiting for a pooled connection end at
        the deadline at the latest (a read keeps its own timeout, so a file that is
        arriving is not cut)."""
        chosen = self._settings.timeout
        left = self.remaining()
        if left is None:
            return chosen
        left = max(left, 0.001)
        return httpx.Timeout(
            connect=min(chosen.connect or left, left),
            read=chosen.read,
            write=chosen.write,
            pool=min(chosen.pool or left, left),
        )

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Seconds to sleep before the next attempt, or ``None`` to stop."""
        s = self._settings
        if self.attempt >= s.max_retries:
            return None
        if retry_after is not None and retry_after > s.retry_max_delay:
            return None
        backoff = min(s.retry_max_delay, s.retry_base_delay * 2.0**self.attempt)
        delay = backoff * (0.5 + self._rng() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        left = self.remaining()
        if left is not None and delay >= left:  # the next attempt would start too late
            return None
        self.attempt += 1
        return delay


def retry_delay(backoff: Backoff, failure: FailedAttempt, endpoint: str) -> float:
    """How long to wait before trying again; raises the failure's error when it may not.

    Under :func:`apscores.testing.instant_retries` the wait is noted and 0 is returned.
    """
    delay = backoff.next_delay(failure.retry_after) if failure.retryable else None
    if delay is None:
        raise failure.error from None  # never an httpx cause: see FailedAttempt
    error = failure.error  # an APIError's text starts with its endpoint already
    what = str(error) if isinstance(error, APIError) else f"{endpoint}: {error}"
    logger.info("%s; retrying in %.2f s", what, delay)
    taken = INSTANT_RETRIES.get()
    if taken is not None:
        taken.append(delay)
        return 0.0
    return delay
