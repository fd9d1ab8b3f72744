"""Ready-made apscores clients wired to a sandbox (imported lazily: the client is optional)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from apscores.sandbox._model import DEFAULT_EMAIL, DEFAULT_PASSWORD
from apscores.sandbox._service import SandboxService
from apscores.sandbox._transport import SandboxTransport

if TYPE_CHECKING:
    from apscores.service import AsyncClient, Client

__all__ = ["sandbox_async_client", "sandbox_client"]


def _options(service: SandboxService, client_opts: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {
        "email": DEFAULT_EMAIL,
        "password": DEFAULT_PASSWORD,
        "base_url": service.api_base_url,
        "retry_base_delay": 0.0,  # retries against the sandbox need not wait
    }
    options.update(client_opts)
    return options


def sandbox_client(
    service: SandboxService | None = None,
    *,
    transport_options: dict[str, Any] | None = None,
    **client_opts: Any,
) -> Client:
    """An :class:`apscores.Client` that talks to ``service`` in process.

    Defaults: the sandbox base URL, the default sandbox credentials and instant retries;
    ``client_opts`` override them. ``transport_options`` go to :class:`SandboxTransport`.
    """
    from apscores.service import Client

    service = service if service is not None else SandboxService.default()
    http = httpx.Client(transport=SandboxTransport(service, **(transport_options or {})))
    return Client(http_client=http, **_options(service, client_opts))


def sandbox_async_client(
    service: SandboxService | None = None,
    *,
    transport_options: dict[str, Any] | None = None,
    **client_opts: Any,
) -> AsyncClient:
    """The :class:`apscores.AsyncClient` twin of :func:`sandbox_client`."""
    from apscores.service import AsyncClient

    service = service if service is not None else SandboxService.default()
    http = httpx.AsyncClient(transport=SandboxTransport(service, **(transport_options or {})))
    return AsyncClient(http_client=http, **_options(service, client_opts))
