"""An httpx transport (sync and async in one object) that answers from a sandbox service,
and apscores clients wired to one through it, in process (no sockets).

No sockets: requests go straight to the service, and bodies are streamed in chunks so a
disconnect fault raises ``httpx.ReadError`` mid-body, the way a broken connection does. A
:class:`~apscores.sandbox.StreamedBody` is pulled one chunk at a time as the client reads.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import httpx

from apscores.sandbox._values import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    Cut,
    Failure,
    SandboxRequest,
    SandboxResponse,
    iter_body,
)

if TYPE_CHECKING:
    from apscores.service import AsyncClient, Client

__all__ = ["Handler", "SandboxTransport", "connect", "connect_async", "options_for"]


class Handler(Protocol):
    """What answers the transport: a sandbox service (or anything with ``handle``)."""

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """The response to one request."""


class _Body:
    """The chunks of a (possibly cut) response body."""

    def __init__(self, response: SandboxResponse, request: httpx.Request, chunk_size: int) -> None:
        self._response = response
        self._request = request
        self._chunk_size = chunk_size

    def chunks(self) -> Generator[bytes, None, None]:
        response = self._response
        limit = None if response.cut is None else response.cut_after
        yield from iter_body(response.body, chunk_size=self._chunk_size, limit=limit)
        if response.cut is Cut.DISCONNECT:
            raise httpx.ReadError("sandbox: connection closed mid-body", request=self._request)


class _SyncStream(httpx.SyncByteStream):
    def __init__(self, body: _Body) -> None:
        self._body = body
        self._chunks: Generator[bytes, None, None] | None = None

    def __iter__(self) -> Iterator[bytes]:
        self._chunks = self._body.chunks()
        yield from self._chunks

    def close(self) -> None:
        # A response closed before its end also stops (and closes) a streamed body.
        if self._chunks is not None:
            self._chunks.close()


class _AsyncStream(httpx.AsyncByteStream):
    def __init__(self, body: _Body) -> None:
        self._body = body
        self._chunks: Generator[bytes, None, None] | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._chunks = self._body.chunks()
        for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        if self._chunks is not None:
            self._chunks.close()


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serve httpx requests from ``service``; usable by ``httpx.Client`` and ``AsyncClient``.

    ``sleep``/``async_sleep`` carry out delay faults; tests pass a fake clock's ``advance``
    so nothing really waits.
    """

    def __init__(
        self,
        service: Handler,
        *,
        sleep: Callable[[float], Any] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        chunk_size: int = 8192,
    ) -> None:
        self.service = service
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._chunk_size = max(chunk_size, 1)

    def _answer(self, request: httpx.Request, body: bytes) -> SandboxResponse:
        sandbox_request = SandboxRequest.build(
            request.method, str(request.url), list(request.headers.multi_items()), body
        )
        return self.service.handle(sandbox_request)

    def _finish(self, request: httpx.Request, response: SandboxResponse) -> _Body:
        if response.failure is Failure.CONNECT:
            raise httpx.ConnectError("sandbox: connection refused", request=request)
        if response.failure is Failure.TIMEOUT:
            raise httpx.ReadTimeout("sandbox: no answer in time", request=request)
        return _Body(response, request, self._chunk_size)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from a sync ``httpx.Client``."""
        response = self._answer(request, request.read())
        if response.delay:
            self._sleep(response.delay)
        body = self._finish(request, response)
        return httpx.Response(
            response.status,
            headers=list(response.headers),
            stream=_SyncStream(body),
            request=request,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from an ``httpx.AsyncClient``."""
        response = self._answer(request, await request.aread())
        if response.delay:
            await self._async_sleep(response.delay)
        body = self._finish(request, response)
        return httpx.Response(
            response.status,
            headers=list(response.headers),
            stream=_AsyncStream(body),
            request=request,
        )


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
