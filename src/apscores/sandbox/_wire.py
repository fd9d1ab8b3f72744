"""Transport-neutral request and response values shared by the service, transport and server.

The service is a pure function from :class:`SandboxRequest` to :class:`SandboxResponse`; the
response also says how to misbehave (stop the body early, wait, drop the connection), so
the httpx transport and the loopback server carry out the same faults in their own way.

A body is either ``bytes`` or a :class:`StreamedBody`, whose chunks are made only while the
carrier sends them, so a 1 GB file never sits in memory.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import Any, TypeAlias

import attrs

__all__ = [
    "Body",
    "Cut",
    "Failure",
    "LoggedRequest",
    "SandboxRequest",
    "SandboxResponse",
    "StreamedBody",
    "body_size",
    "iter_body",
    "slice_body",
]


class Cut(enum.Enum):
    """How a body stops early."""

    DISCONNECT = "disconnect"  # the connection breaks mid-body (a read error)
    TRUNCATE = "truncate"  # the body ends cleanly but short of its Content-Length


class Failure(enum.Enum):
    """A request that gets no HTTP response at all."""

    CONNECT = "connect"  # connection refused / unknown host
    TIMEOUT = "timeout"  # no answer in time


@attrs.frozen
class StreamedBody:
    """A response body made on demand: each call of ``chunks`` starts it afresh.

    ``size`` is its length in bytes (sent as ``Content-Length``), or None when unknown
    (the loopback server then uses chunked transfer encoding). A carrier never sends more
    than ``size`` bytes, however many the chunks add up to.
    """

    chunks: Callable[[], Iterable[bytes]] = attrs.field(repr=False)
    size: int | None = None

    def __iter__(self) -> Iterator[bytes]:
        return iter_body(self)

    def read(self) -> bytes:
        """The whole body joined in memory (for tests and small bodies only)."""
        return b"".join(iter_body(self))


Body: TypeAlias = bytes | StreamedBody


def body_size(body: Body) -> int | None:
    """The length of ``body`` in bytes, or None when a streamed body does not know it."""
    return len(body) if isinstance(body, bytes) else body.size


def iter_body(
    body: Body, *, chunk_size: int = 65536, limit: int | None = None
) -> Generator[bytes, None, None]:
    """The chunks of ``body``, stopping after ``limit`` bytes (and never past a known size).

    ``bytes`` are cut into ``chunk_size`` pieces; a streamed body keeps its own chunks and
    is pulled one chunk at a time, only as far as it is sent.
    """
    if isinstance(body, bytes):
        data = body if limit is None else body[: max(limit, 0)]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]
        return
    left = body.size if limit is None else limit if body.size is None else min(limit, body.size)
    if left is not None and left <= 0:
        return
    chunks = iter(body.chunks())
    try:
        for chunk in chunks:
            if left is not None and len(chunk) >= left:
                yield chunk[:left]
                return
            if chunk:
                yield chunk
            if left is not None:
                left -= len(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def slice_body(body: Body, start: int, length: int) -> Body:
    """``length`` bytes of ``body`` from offset ``start`` (a streamed body stays streamed)."""
    if isinstance(body, bytes):
        return body[start : start + length]

    def chunks() -> Iterator[bytes]:
        skip = start
        pieces = iter_body(body, limit=start + length)
        try:
            for chunk in pieces:
                if skip >= len(chunk):
                    skip -= len(chunk)
                    continue
                yield chunk[skip:]
                skip = 0
        finally:
            pieces.close()

    return StreamedBody(chunks, size=length)


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
    body: Body = attrs.field(default=b"", repr=False)
    delay: float = 0.0  # seconds to wait before answering
    cut: Cut | None = None
    cut_after: int = 0  # bytes of body sent before the cut
    failure: Failure | None = None
    hold: float = 0.0  # for a TIMEOUT on a real socket: how long to stay silent

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def content(self) -> bytes:
        """The whole body as bytes (a streamed body is joined: for tests only)."""
        return self.body if isinstance(self.body, bytes) else self.body.read()

    def json(self) -> Any:
        """The body decoded as JSON (for tests and the request log)."""
        return json.loads(self.content)


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
