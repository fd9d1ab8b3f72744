"""The values every part of the sandbox shares: requests, responses and bodies on the wire;
accounts, queued score orders, downloads and the clock in the records.

The service is a pure function from :class:`SandboxRequest` to :class:`SandboxResponse`; the
response also says how to misbehave (stop the body early, wait, drop the connection), so
the httpx transport and the loopback server carry out the same faults in their own way.

A body is either ``bytes`` or a :class:`StreamedBody`, whose chunks are made only while the
carrier sends them, so a 1 GB file never sits in memory.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import json
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import attrs

from apscores.models import ScoreReport

__all__ = [
    "DEFAULT_DI_CODE",
    "DEFAULT_EMAIL",
    "DEFAULT_PASSWORD",
    "SANDBOX_BASE_URL",
    "SANDBOX_STORAGE_URL",
    "Account",
    "Body",
    "Cut",
    "Download",
    "Failure",
    "FakeClock",
    "LoggedRequest",
    "Order",
    "Reject",
    "Renderer",
    "SandboxRequest",
    "SandboxResponse",
    "StreamedBody",
    "Token",
    "body_size",
    "iter_body",
    "origin",
    "render_reports",
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


class Reject(Exception):  # noqa: N818 - internal control flow, never escapes the service
    """Stop handling a request and answer with ``response`` (raised by the hosts)."""

    def __init__(self, response: SandboxResponse) -> None:
        self.response = response


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, without a default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme.lower()}://{host}{port}"


SANDBOX_BASE_URL = "https://api.sandbox.apscores.invalid/aposrd-api-prod"
SANDBOX_STORAGE_URL = "https://storage.sandbox.apscores.invalid"
DEFAULT_EMAIL = "sandbox@example.edu"
DEFAULT_PASSWORD = "sandbox-password"
DEFAULT_DI_CODE = "1234"

# Turns a download's reports and format ("TXT"/"CSV") into its body: bytes, or a
# StreamedBody for files too big to hold (see apscores.sandbox.bulk_renderer).
Renderer = Callable[[Sequence[ScoreReport], str], Body]


def render_reports(reports: Sequence[ScoreReport], file_format: str) -> bytes:
    """The file body College Board would send: TXT (950 columns) or CSV, by our writers."""
    buffer = io.BytesIO()
    if file_format == "TXT":
        from apscores.files import write_txt

        write_txt(reports, buffer)
    else:
        from apscores.files import write_csv

        write_csv(reports, buffer, raw=True)  # College Board's files are raw
    return buffer.getvalue()


class FakeClock:
    """A clock tests move by hand: ``clock()`` is the time, ``advance(s)`` moves it on.

    It starts at the real time by default, so URLs it signs also look valid to a client
    that checks ``Expires`` against its own clock.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (usable as a fake ``sleep``)."""
        with self._lock:
            self._now += seconds

    def set(self, when: float | dt.datetime) -> None:
        """Jump to a Unix time or an aware datetime."""
        with self._lock:
            self._now = when.timestamp() if isinstance(when, dt.datetime) else float(when)


@attrs.define
class Account:
    """A professional account; the password is kept only to check logins."""

    email: str
    password: str = attrs.field(repr=False)
    di_codes: set[str] = attrs.field(factory=set)


@attrs.frozen
class Order:
    """One score order queued for a DI code."""

    order_id: int
    di_code: str
    report: ScoreReport = attrs.field(repr=False)
    received_at: float


@attrs.define
class Download:
    """A generated file: a snapshot of orders, and what happened to it afterwards."""

    download_id: int | str
    email: str
    di_code: str
    format: str
    kind: str
    orders: tuple[Order, ...] = attrs.field(repr=False)
    file_name: str
    created_at: float
    expires_at: float
    url: str = attrs.field(repr=False)
    fetches: int = 0  # GETs answered with the file (a fault may still cut the body)
    recorded_at: float | None = None
    record_calls: int = 0
    body: Body | None = attrs.field(default=None, repr=False)  # rendered on first fetch

    @property
    def reports(self) -> list[ScoreReport]:
        """The reports in the file."""
        return [order.report for order in self.orders]

    @property
    def recorded(self) -> bool:
        """Whether ``webServiceDownloaded`` accepted this download."""
        return self.recorded_at is not None

    def to_dict(self) -> dict[str, object]:
        """What the state JSON shows of it: no URL (its signature) and no report contents."""
        return {
            "download_id": self.download_id,
            "email": self.email,
            "di_code": self.di_code,
            "format": self.format,
            "kind": self.kind,
            "file_name": self.file_name,
            "reports": len(self.orders),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "fetches": self.fetches,
            "recorded": self.recorded,
            "record_calls": self.record_calls,
        }


@attrs.define
class Token:
    """An issued ``authToken``'s bookkeeping (the value itself is the dict key)."""

    email: str
    issued_at: float
    calls: int = 0
    revoked: bool = False
