"""pytest fixtures for testing an integration against the apscores sandbox.

Opt-in: pytest loads it only in a test suite that asks for it, with
``pytest_plugins = ["apscores.sandbox.pytest_plugin"]`` in the top ``conftest.py`` or
``-p apscores.sandbox.pytest_plugin`` (also in ``addopts``); installing apscores loads
nothing into anyone's test run::

    def test_nightly_job(ap_sandbox):
        with ap_sandbox.client() as client:
            result = client.institution("1234").download(dest=tmp_path)
        assert ap_sandbox.recorded_ids == [result.download_id]

Fixtures: ``ap_sandbox`` (a fresh :class:`~apscores.sandbox.SandboxService`: account
``sandbox@example.edu`` / ``sandbox-password``, DI code 1234 with 25 synthetic score orders),
``ap_sandbox_clock`` (its :class:`~apscores.sandbox.FakeClock`) and ``ap_sandbox_server``
(the same on a loopback HTTP server). ``@pytest.mark.ap_sandbox(reports=5, di_codes=[...],
seed=..., email=..., password=..., url_ttl=..., strict=True)`` changes the setup; the ini
option ``ap_sandbox_strict = true`` makes both fixtures strict for a whole test suite (the
marker still wins). This module imports nothing heavy until a fixture is used, and works
without the client module installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from apscores.sandbox import FakeClock, SandboxServer, SandboxService


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "ap_sandbox_strict",
        "ap_sandbox fixtures refuse what a careful client should not send (default: false)",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ap_sandbox(**options): configure the ap_sandbox fixture "
        "(reports, seed, di_codes, email, password and SandboxService options such as strict)",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {"strict": bool(request.config.getini("ap_sandbox_strict"))}
    marker = request.node.get_closest_marker("ap_sandbox")
    return {**options, **marker.kwargs} if marker is not None else options


@pytest.fixture
def ap_sandbox_clock() -> FakeClock:
    """The hand-driven clock of ``ap_sandbox`` (starts at the real time)."""
    from apscores.sandbox import FakeClock

    return FakeClock()


@pytest.fixture
def ap_sandbox(
    request: pytest.FixtureRequest, ap_sandbox_clock: FakeClock
) -> Iterator[SandboxService]:
    """A fresh sandbox service; ``.client()``/``.async_client()``/``.transport()`` connect to it."""
    from apscores.sandbox import SandboxService

    options = {"clock": ap_sandbox_clock, **_options(request)}
    service = SandboxService.default(**options)
    yield service
    service.close_clients()


@pytest.fixture
def ap_sandbox_server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The sandbox on a loopback HTTP server (free ports); ``.base_url`` and ``.service``."""
    from apscores.sandbox import SandboxService, ServeConfig, serve

    options = {"api_base_url": "http://127.0.0.1/aposrd-api-prod", **_options(request)}
    config = ServeConfig(port=0, storage_port=0)
    server = serve(config, service=SandboxService.default(**options))
    yield server
    server.shutdown()
