"""Fixtures of the raw caller (:class:`sandbox._raw_api.Api`): a sandbox at a fixed time,
httpx through its in-process transport, and a caller already logged in. A test module may
define its own of the same name instead."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from apscores.sandbox import FakeClock, SandboxService
from sandbox._raw_api import Api


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_752_572_400.0)  # 2025-07-15 09:40 UTC


@pytest.fixture
def service(clock: FakeClock) -> SandboxService:
    return SandboxService.default(clock=clock, reports=5)


@pytest.fixture
def http(service: SandboxService, clock: FakeClock) -> Iterator[httpx.Client]:
    with httpx.Client(transport=service.transport(sleep=clock.advance)) as client:
        yield client


@pytest.fixture
def api(service: SandboxService, http: httpx.Client) -> Api:
    caller = Api(service, http)
    assert caller.login().status_code == 200
    return caller
