"""Transport-neutral request and response values shared by the service, transport and server.

The service is a pure function from :class:`SandboxRequest` to :class:`SandboxResponse`; the
response also says how to misbehave (stop the body early, wait, drop the connection), so
the httpx transport and the loopback server carry out the same faults in their own way.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Cut", "Failure", "LoggedRequest", "SandboxRequest", "SandboxResponse"]


class Cut(enum.Enum):
    """How a body stops early."""

    DISCONNECT = "disconnect"  # the connection breaks mid-body (a read error)
    TRUNCATE = "truncate"  # the body ends cleanly but short of its Content-Length


class Failure(enum.Enum):
    """A request that gets no HTTP response at all."""

    CONNECT = "connect"  # connection refused / unknown host
    TIMEOUT = "timeout"  # no answer in time


@attrs.frozen
class SandboxRequest:
    """One HTTP request as the service sees it; header names are lower-case."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)

    @classmethod
    def build(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> SandboxRequest:
        """Normalise header names to lower case (the last value of a repeated header wins)."""
        items = headers.items() if isinstance(headers, Mapping) else (headers or [])
        return cls(method.upper(), url, {name.lower(): value for name, value in items}, body)


@attrs.frozen
class SandboxResponse:
    """A response plus the misbehaviour (if any) that the carrier must act out."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = attrs.field(default=b"", repr=False)
    delay: float = 0.0  # seconds to wait before answering
    cut: Cut | None = None
    cut_after: int = 0  # bytes of body sent before the cut
    failure: Failure | None = None
    hold: float = 0.0  # for a TIMEOUT on a real socket: how long to stay silent

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def json(self) -> Any:
        """The body decoded as JSON (for tests and the request log)."""
        return json.loads(self.body)


@attrs.define
class LoggedRequest:
    """What a client sent and what it got, kept for tests; secrets stay out of the repr."""

    time: float
    method: str
    url: str = attrs.field(repr=False)  # a download URL carries its signature
    endpoint: str | None
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    status: int | None = None  # None when the connection failed without a response
    fault: str | None = None  # the kind of fault that fired on this request, if any

    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)
