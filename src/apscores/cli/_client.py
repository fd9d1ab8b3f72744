"""The client of the commands that call the service (``fetch``, ``doctor``).

``transport`` is :func:`apscores.cli.main`'s public switch for tests: an httpx transport
(for example :func:`apscores.sandbox.transport`, or respx's) that every request of the run
goes through; the base URL still comes from ``APSCORES_BASE_URL``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from apscores.cli._credentials import Credentials
from apscores.service import AsyncClient

__all__ = ["service_client"]


@contextlib.asynccontextmanager
async def service_client(
    credentials: Credentials, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[AsyncClient]:
    """An ``AsyncClient`` logged in as ``credentials`` (not yet: the first call logs in)."""
    async with contextlib.AsyncExitStack() as stack:
        http = None
        if transport is not None:
            http = await stack.enter_async_context(httpx.AsyncClient(transport=transport))
        client = AsyncClient(
            email=credentials.email, password=credentials.password, http_client=http
        )
        yield await stack.enter_async_context(client)
