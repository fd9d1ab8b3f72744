"""apscores clients and transports wired to a sandbox service, in process (no sockets).

The one place that knows how: :class:`~apscores.sandbox.SandboxService` uses it for its
``client()``/``async_client()``/``transport()`` methods, and :mod:`apscores.sandbox._clients`
for the module-level helpers that build a default service first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from apscores.sandbox._model import DEFAULT_EMAIL, DEFAULT_PASSWORD
from apscores.sandbox._transport import Handler, SandboxTransport

if TYPE_CHECKING:
    from apscores.service import AsyncClient, Client

__all__ = ["connect", "connect_async", "options_for"]


def options_for(base_url: str, client_opts: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's account and base URL, instant retries, then the caller's options."""
    options: dict[str, Any] = {
        "email": DEFAULT_EMAIL,
        "password": DEFAULT_PASSWORD,
        "base_url": base_url,
        "retry_base_delay": 0.0,  # retries against the sandbox need not wait
    }
    options.update(client_opts)
    return options


def connect(
    service: Handler, base_url: str, transport_options: dict[str, Any] | None, **client_opts: Any
) -> Client:
    """A :class:`apscores.Client` whose every request ``service`` answers."""
    from apscores.service import Client  # the client is optional for sandbox users

    http = httpx.Client(transport=SandboxTransport(service, **(transport_options or {})))
    return Client(http_client=http, **options_for(base_url, client_opts))


def connect_async(
    service: Handler, base_url: str, transport_options: dict[str, Any] | None, **client_opts: Any
) -> AsyncClient:
    """The :class:`apscores.AsyncClient` twin of :func:`connect`."""
    from apscores.service import AsyncClient

    http = httpx.AsyncClient(transport=SandboxTransport(service, **(transport_options or {})))
    return AsyncClient(http_client=http, **options_for(base_url, client_opts))
