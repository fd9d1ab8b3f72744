"""Timeouts a scheduled job needs: a short connect timeout, a long read timeout, and a
deadline per operation after which no retry starts."""

from __future__ import annotations

import math

import httpx
import pytest
import respx

from apscores import Client
from apscores.errors import APIConnectionError, ConfigurationError
from apscores.service import _retry as retry
from apscores.service import _settings as config

BASE = "https://api.example.test/aposrd-api-prod"


def settings(**options: object) -> config.Settings:
    chosen: dict[str, object] = {
        "email": "e@x.edu",
        "password": "p",
        "base_url": BASE,
        "timeout": config.DEFAULT_TIMEOUT,
        "max_retries": 3,
        "retry_base_delay": 1.0,
        "retry_max_delay": 30.0,
        **options,
    }
    return config.resolve_settings(**chosen)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_defaults_connect_fast_and_read_long() -> None:
    chosen = settings().timeout
    assert (chosen.connect, chosen.read, chosen.write, chosen.pool) == (10.0, 120.0, 60.0, 10.0)
    assert settings().deadline == 300.0


def test_a_number_is_the_read_timeout_and_caps_the_others() -> None:
    long = settings(timeout=600).timeout
    assert (long.connect, long.read, long.write, long.pool) == (10.0, 600.0, 60.0, 10.0)
    short = settings(timeout=2).timeout
    assert (short.connect, short.read, short.write, short.pool) == (2.0, 2.0, 2.0, 2.0)
    exact = httpx.Timeout(5.0, connect=1.0)
    assert settings(timeout=exact).timeout is exact


@pytest.mark.parametrize(
    "bad", [0, -1, math.nan, math.inf, "10", True, httpx.Timeout(None), httpx.Timeout(5, read=0)]
)
def test_unusable_timeouts_are_refused_at_once(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        settings(timeout=bad)


@pytest.mark.parametrize("bad", [0, -5, math.nan, math.inf, "60"])
def test_unusable_deadlines_are_refused_at_once(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="deadline"):
        settings(deadline=bad)
    assert settings(deadline=None).deadline is None


def test_no_retry_starts_after_the_deadline() -> None:
    clock = Clock()
    backoff = retry.Backoff(settings(deadline=10.0), rng=lambda: 1.0, clock=clock)
    assert backoff.next_delay() == 1.0  # 1 s, with 10 s left
    clock.now = 8.5
    assert backoff.next_delay() is None  # 2 s more would start the next attempt at 10.5
    assert backoff.attempt == 1


def test_a_retry_after_past_the_deadline_stops_the_retries() -> None:
    backoff = retry.Backoff(settings(deadline=5.0), rng=lambda: 1.0, clock=Clock())
    assert backoff.next_delay(retry_after=6.0) is None


def test_the_last_attempt_connects_no_later_than_the_deadline() -> None:
    clock = Clock()
    backoff = retry.Backoff(settings(deadline=12.0), clock=clock)
    assert backoff.timeout().connect == 10.0
    clock.now = 9.0
    late = backoff.timeout()
    assert late.connect == pytest.approx(3.0)
    assert late.pool == pytest.approx(3.0)
    assert late.read == 120.0  # a file that is arriving is not cut
    clock.now = 20.0
    assert backoff.timeout().connect == pytest.approx(0.001)


def test_no_deadline_keeps_the_timeouts_and_only_max_retries_bounds() -> None:
    chosen = settings(deadline=None)
    backoff = retry.Backoff(chosen, rng=lambda: 0.0, clock=Clock())
    assert backoff.timeout() is chosen.timeout
    assert [backoff.next_delay() for _ in range(4)] == [0.5, 1.0, 2.0, None]


def test_a_host_that_drops_packets_fails_within_the_deadline() -> None:
    seen: list[dict[str, float]] = []

    def dropped(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        raise httpx.ConnectTimeout("timed out", request=request)

    with respx.mock() as router:
        router.post(f"{BASE}/webServiceAuth").mock(side_effect=dropped)
        client = Client(
            email="e@x.edu",
            password="p",
            base_url=BASE,
            deadline=0.2,
            max_retries=5,
            retry_base_delay=1.0,
        )
        with client, pytest.raises(APIConnectionError, match="no answer in time"):
            client.session.login()
    assert len(seen) == 1  # the first wait (0.5-1 s) would pass the 0.2 s deadline
    assert seen[0]["connect"] <= 0.2
    assert seen[0]["read"] == 120.0
