"""Ready-made apscores clients and transports wired to a sandbox, a default one when none is
given (imported lazily: the client is optional)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apscores.sandbox._service import SandboxService
from apscores.sandbox._transport import SandboxTransport, connect, connect_async

if TYPE_CHECKING:
    from apscores.service import AsyncClient, Client

__all__ = ["sandbox_async_client", "sandbox_client", "transport"]


def sandbox_client(
    service: SandboxService | None = None,
    *,
    transport_options: dict[str, Any] | None = None,
    **client_opts: Any,
) -> Client:
    """An :class:`apscores.Client` that talks to ``service`` in process.

    Defaults: the sandbox base URL, the default sandbox credentials and instant retries;
    ``client_opts`` override them. ``transport_options`` go to :class:`SandboxTransport`.
    Without ``service`` it builds :meth:`SandboxService.default`.
    """
    service = service if service is not None else SandboxService.default()
    return connect(service, service.api_base_url, transport_options, **client_opts)


def sandbox_async_client(
    service: SandboxService | None = None,
    *,
    transport_options: dict[str, Any] | None = None,
    **client_opts: Any,
) -> AsyncClient:
    """The :class:`apscores.AsyncClient` twin of :func:`sandbox_client`."""
    service = service if service is not None else SandboxService.default()
    return connect_async(service, service.api_base_url, transport_options, **client_opts)


def transport(service: SandboxService | None = None, **opts: Any) -> SandboxTransport:
    """A transport for ``httpx.Client(transport=...)`` or ``httpx.AsyncClient(transport=...)``.

    Without ``service`` it builds :meth:`SandboxService.default` (one account, DI code 1234
    with 25 synthetic score orders); ``opts`` go to :class:`SandboxTransport`.
    """
    return SandboxTransport(service if service is not None else SandboxService.default(), **opts)
