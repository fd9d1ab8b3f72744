"""A stateful fake of the AP HED score-report web service and its presigned download host.

It follows ``web-service.md``: ``POST {prefix}/webServiceAuth`` (``u`` and base64 ``p``,
``X-CB-Catapult-Authorization-Token: CBLogin``), ``POST {prefix}/fileGeneration``
(``diCode``/``format``/``downloadType``; answers ``url``/``fileName``/``downloadId``),
a ``GET`` on the short-lived, signed URL of a separate storage host, and
``POST {prefix}/webServiceDownloaded`` (``downloadId``/``format``).

Where the public record is silent the sandbox makes a documented guess, kept in one place
here: a bad or expired token is HTTP 401 with an API-Gateway-style ``{"message": ...}``; a
malformed body is HTTP 400 with ``success: false``; an unknown route is API Gateway's 403
``Missing Authentication Token``; a DI code the account cannot use is HTTP 200 with
``success: false``; "no score orders" is HTTP 200 with ``success: false`` for ``new`` and
``full`` alike; recording the same download twice succeeds; recording a ``full`` download
moves the ``new`` watermark too (``record_full_moves_watermark``).

The ``new`` watermark is kept per (account, DI code) as the set of delivered orders: only
recording a download marks its orders delivered, so an order that arrives between
generating and recording is not lost.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import hashlib
import hmac
import http
import io
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import attrs

from apscores.models import ScoreReport
from apscores.sandbox._faults import Fault, FaultKind, Faults
from apscores.sandbox._wire import (
    Body,
    Cut,
    Failure,
    LoggedRequest,
    SandboxRequest,
    SandboxResponse,
    body_size,
)

if TYPE_CHECKING:
    from apscores.sandbox._transport import SandboxTransport
    from apscores.service import AsyncClient, Client

__all__ = [
    "DEFAULT_DI_CODE",
    "DEFAULT_EMAIL",
    "DEFAULT_PASSWORD",
    "NO_SCORE_ORDERS",
    "SANDBOX_BASE_URL",
    "SANDBOX_STORAGE_URL",
    "Account",
    "Download",
    "FakeClock",
    "Order",
    "SandboxService",
    "render_reports",
]

SANDBOX_BASE_URL = "https://api.sandbox.apscores.invalid/aposrd-api-prod"
SANDBOX_STORAGE_URL = "https://storage.sandbox.apscores.invalid"
DEFAULT_EMAIL = "sandbox@example.edu"
DEFAULT_PASSWORD = "sandbox-password"
DEFAULT_DI_CODE = "1234"

LOGIN_TOKEN = "CBLogin"
AUTHENTICATION_VALUE = "CBLogin Web Service"
AUTHORIZATION_HEADER = "x-cb-catapult-authorization-token"
AUTHENTICATION_HEADER = "x-cb-catapult-authentication-token"

NO_SCORE_ORDERS = "There were no score orders found"
LOGIN_OK = "Successfully authenticated."
LOGIN_FAILED = "Invalid email or password."
_BUCKET = "aposrd-hed-score-files"
_ACCESS_KEY = "SANDBOXAKIAEXAMPLE"

# Turns a download's reports and format ("TXT"/"CSV") into its body: bytes, or a
# StreamedBody for files too big to hold (see apscores.sandbox.bulk_renderer).
Renderer = Callable[[Sequence[ScoreReport], str], Body]


def render_reports(reports: Sequence[ScoreReport], file_format: str) -> bytes:
    """The file body College Board would send: TXT (950 columns) or CSV, by our writers."""
    buffer = io.BytesIO()
    if file_format == "TXT":
        from apscores.txt import write_txt

        write_txt(reports, buffer)
    else:
        from apscores.csvfile import write_csv

        write_csv(reports, buffer)
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


@attrs.define
class _Token:
    email: str
    issued_at: float
    calls: int = 0
    revoked: bool = False


class _Reject(Exception):  # noqa: N818 - internal control flow, never escapes
    def __init__(self, response: SandboxResponse) -> None:
        self.response = response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def _json(status: int, payload: dict[str, Any], *extra: tuple[str, str]) -> SandboxResponse:
    body = json.dumps(payload).encode()
    headers = (("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra)
    return SandboxResponse(status, headers, body)


def _gateway(status: int, message: str | None = None, *extra: tuple[str, str]) -> SandboxResponse:
    """An API Gateway error: ``{"message": ...}`` without ``success``."""
    text = message or _GATEWAY_MESSAGES.get(status) or http.HTTPStatus(status).phrase
    return _json(status, {"message": text}, *extra)


_GATEWAY_MESSAGES = {
    500: "Internal server error",
    502: "Internal server error",
    504: "Endpoint request timed out",
    401: "Unauthorized",
    429: "Too Many Requests",
}


def _failure(status: int, message: str) -> SandboxResponse:
    return _json(status, {"success": False, "message": message})


def _iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _s3_error(status: int, code: str, message: str, **details: str) -> SandboxResponse:
    extra = "".join(f"<{key}>{value}</{key}>" for key, value in details.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    ).encode()
    headers = (("Content-Type", "application/xml"), ("Content-Length", str(len(body))))
    return SandboxResponse(status, headers, body)


_S3_CODES = {
    400: ("InvalidRequest", "Bad Request"),
    403: ("AccessDenied", "Request has expired"),
    404: ("NoSuchKey", "The specified key does not exist."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}


class SandboxService:
    """The fake service: accounts, DI codes with queued score orders, downloads and faults.

    Thread-safe (the loopback server calls it from several threads). ``clock`` returns Unix
    time and drives token lifetime, URL expiry, file names and the reporting year.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        api_base_url: str = SANDBOX_BASE_URL,
        storage_base_url: str = SANDBOX_STORAGE_URL,
        url_ttl: float = 60.0,
        token_ttl: float | None = 3600.0,
        record_full_moves_watermark: bool = True,
        string_download_ids: bool = False,
        first_download_id: int = 700001,
        renderer: Renderer = render_reports,
    ) -> None:
        self.clock = clock
        self.api_base_url = api_base_url.rstrip("/")
        self.storage_base_url = storage_base_url.rstrip("/")
        self.url_ttl = url_ttl
        self.token_ttl = token_ttl
        self.record_full_moves_watermark = record_full_moves_watermark
        self.string_download_ids = string_download_ids
        self.renderer = renderer
        self.faults = Faults()
        self.accounts: dict[str, Account] = {}
        self.di_codes: dict[str, list[Order]] = {}
        self.requests: list[LoggedRequest] = []
        self._downloads: dict[str, Download] = {}
        self._recorded: list[int | str] = []
        self._delivered: dict[tuple[str, str], set[int]] = {}
        self._tokens: dict[str, _Token] = {}
        self._order_ids = itertools.count(1)
        self._download_ids = itertools.count(first_download_id)
        self._secret = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._clients: list[Client] = []

    @classmethod
    def default(
        cls,
        *,
        email: str = DEFAULT_EMAIL,
        password: str = DEFAULT_PASSWORD,
        di_codes: Iterable[str] = (DEFAULT_DI_CODE,),
        reports: int = 25,
        seed: int = 0,
        **options: Any,
    ) -> SandboxService:
        """A service with one account that may use ``di_codes``, each with ``reports``
        synthetic score orders queued (DI code number *k* uses seed ``seed + k``).
        """
        from apscores.sandbox._fake import fake_reports

        service = cls(**options)
        codes = list(di_codes)
        service.add_account(email, password, di_codes=codes)
        for offset, di_code in enumerate(codes):
            service.add_reports(di_code, fake_reports(reports, seed=seed + offset, di_code=di_code))
        return service

    # -- clients ----------------------------------------------------------------------

    def transport(self, **opts: Any) -> SandboxTransport:
        """An httpx transport (sync and async) answering from this service."""
        from apscores.sandbox._transport import SandboxTransport

        return SandboxTransport(self, **opts)

    def client(self, **client_opts: Any) -> Client:
        """An :class:`apscores.Client` wired to this service (see ``sandbox_client``)."""
        from apscores.sandbox._clients import sandbox_client

        client = sandbox_client(self, **client_opts)
        self._clients.append(client)
        return client

    def async_client(self, **client_opts: Any) -> AsyncClient:
        """An :class:`apscores.AsyncClient` wired to this service."""
        from apscores.sandbox._clients import sandbox_async_client

        return sandbox_async_client(self, **client_opts)

    def close_clients(self) -> None:
        """Close the sync clients made by :meth:`client` (the pytest fixture does this)."""
        while self._clients:
            self._clients.pop().close()

    # -- setting up -------------------------------------------------------------------

    def add_account(self, email: str, password: str, *, di_codes: Iterable[str] = ()) -> Account:
        """Create (or replace) an account; it may use ``di_codes``."""
        with self._lock:
            account = Account(email, password, set(di_codes))
            self.accounts[email.lower()] = account
            for di_code in account.di_codes:
                self.di_codes.setdefault(di_code, [])
            return account

    def grant(self, email: str, di_code: str) -> None:
        """Let an existing account use ``di_code`` (the APOSRD HED Admin role)."""
        with self._lock:
            self.accounts[email.lower()].di_codes.add(di_code)
            self.di_codes.setdefault(di_code, [])

    def add_reports(
        self, di_code: str, reports: Iterable[ScoreReport], *, received_at: float | None = None
    ) -> list[int]:
        """Queue score orders for ``di_code`` (received now, or at ``received_at``)."""
        with self._lock:
            when = self.clock() if received_at is None else received_at
            queue = self.di_codes.setdefault(di_code, [])
            added = [Order(next(self._order_ids), di_code, r, when) for r in reports]
            queue.extend(added)
            return [order.order_id for order in added]

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (as if they all expired)."""
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    # -- inspecting -------------------------------------------------------------------

    @property
    def downloads(self) -> list[Download]:
        """Every download record, oldest first."""
        with self._lock:
            return list(self._downloads.values())

    def download(self, download_id: int | str) -> Download:
        """One download record by id (``KeyError`` if unknown)."""
        with self._lock:
            return self._downloads[str(download_id)]

    @property
    def recorded_ids(self) -> list[int | str]:
        """Download ids recorded by ``webServiceDownloaded``, in order (first time only)."""
        with self._lock:
            return list(self._recorded)

    def calls(self, endpoint: str | None = None) -> list[LoggedRequest]:
        """Logged requests, optionally only those to one endpoint (``"generate"``...)."""
        with self._lock:
            return [r for r in self.requests if endpoint is None or r.endpoint == endpoint]

    def pending(
        self, di_code: str = DEFAULT_DI_CODE, email: str = DEFAULT_EMAIL
    ) -> list[ScoreReport]:
        """What a ``new`` file would hold for this account and DI code right now."""
        with self._lock:
            return [order.report for order in self._new_orders(email.lower(), di_code)]

    def reporting_year_start(self) -> dt.datetime:
        """July 1 (UTC) that opened the current reporting year."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)
        year = now.year if now.month >= 7 else now.year - 1
        return dt.datetime(year, 7, 1, tzinfo=dt.timezone.utc)

    def file_body(self, download_id: int | str) -> Body:
        """The body of a download as rendered (once, then kept): bytes or a StreamedBody."""
        with self._lock:
            download = self._downloads[str(download_id)]
            if download.body is None:
                download.body = self.renderer(download.reports, download.format)
            return download.body

    def file_bytes(self, download_id: int | str) -> bytes:
        """The whole body of a download in memory (a streamed body is joined: tests only)."""
        body = self.file_body(download_id)
        return body if isinstance(body, bytes) else body.read()

    # -- handling requests ------------------------------------------------------------

    @property
    def api_prefix(self) -> str:
        """The path prefix of the API (``/aposrd-api-prod``)."""
        return urlsplit(self.api_base_url).path.rstrip("/")

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer a request to either host; an unknown host fails like a DNS error."""
        origin = _origin(request.url)
        if origin == _origin(self.api_base_url):
            return self.handle_api(request)
        if origin == _origin(self.storage_base_url):
            return self.handle_storage(request)
        return SandboxResponse(0, failure=Failure.CONNECT)

    def handle_api(self, request: SandboxRequest) -> SandboxResponse:
        """Answer a request to the API host (routed by path only)."""
        path = urlsplit(request.url).path
        routes = {
            f"{self.api_prefix}/webServiceAuth": ("login", self._login),
            f"{self.api_prefix}/fileGeneration": ("generate", self._generate),
            f"{self.api_prefix}/webServiceDownloaded": ("record", self._record),
        }
        endpoint, action = routes.get(path, (None, None))
        if action is None or request.method != "POST":
            # What API Gateway answers for a route or method it does not have.
            return self._log(request, None, _gateway(403, "Missing Authentication Token"), None)
        return self._run(request, endpoint, action)

    def handle_storage(self, request: SandboxRequest) -> SandboxResponse:
        """Answer a request to the storage host (a presigned-URL ``GET``)."""
        return self._run(request, "download", self._fetch)

    def _run(
        self,
        request: SandboxRequest,
        endpoint: str | None,
        action: Callable[[SandboxRequest], SandboxResponse],
    ) -> SandboxResponse:
        assert endpoint is not None
        faults = self.faults
        delay = faults._take(endpoint, (FaultKind.DELAY,))
        wait = delay.seconds if delay else 0.0
        early = faults._take(endpoint, (FaultKind.REFUSE, FaultKind.TIMEOUT, FaultKind.FAIL))
        with self._lock:
            if early is not None and not (early.processed and early.kind != FaultKind.REFUSE):
                response = self._fault_response(endpoint, early)
            else:
                try:
                    response = action(request)
                except _Reject as reject:
                    response = reject.response
                if early is not None:
                    response = self._fault_response(endpoint, early)
            cut = None
            if response.failure is None:  # a body to cut short
                cut = faults._take(endpoint, (FaultKind.DISCONNECT, FaultKind.TRUNCATE))
            if cut is not None:
                mode = Cut.DISCONNECT if cut.kind == FaultKind.DISCONNECT else Cut.TRUNCATE
                size = body_size(response.body)
                after = cut.after_bytes if size is None else min(cut.after_bytes, size)
                response = attrs.evolve(response, cut=mode, cut_after=after)
            if wait:
                response = attrs.evolve(response, delay=wait)
            fired = early or cut or delay
            return self._log(request, endpoint, response, fired)

    def _log(
        self,
        request: SandboxRequest,
        endpoint: str | None,
        response: SandboxResponse,
        fault: Fault | None,
    ) -> SandboxResponse:
        entry = LoggedRequest(
            time=self.clock(),
            method=request.method,
            url=request.url,
            endpoint=endpoint,
            headers=dict(request.headers),
            body=request.body,
            status=None if response.failure else response.status,
            fault=fault.kind.value if fault else None,
        )
        with self._lock:
            self.requests.append(entry)
        return response

    def _fault_response(self, endpoint: str, fault: Fault) -> SandboxResponse:
        if fault.kind == FaultKind.REFUSE:
            return SandboxResponse(0, failure=Failure.CONNECT)
        if fault.kind == FaultKind.TIMEOUT:
            return SandboxResponse(0, failure=Failure.TIMEOUT, hold=fault.seconds)
        extra = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
        if endpoint == "download":
            code, default = _S3_CODES.get(
                fault.status, ("ServiceError", http.HTTPStatus(fault.status).phrase)
            )
            response = _s3_error(fault.status, code, fault.message or default)
            return attrs.evolve(response, headers=response.headers + extra)
        if fault.status == 200:
            return _failure(200, fault.message or "Simulated failure (sandbox fault).")
        return _gateway(fault.status, fault.message, *extra)

    # -- the three endpoints ----------------------------------------------------------

    @staticmethod
    def _check_content(request: SandboxRequest) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise _Reject(
                _gateway(415, "Unsupported Media Type: send Content-Type: application/json")
            )
        accept = request.headers.get("accept", "")
        if "application/json" not in accept.lower():
            raise _Reject(_gateway(406, "Not Acceptable: send Accept: application/json"))
        try:
            payload = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise _Reject(_failure(400, "The request body is not valid JSON.")) from None
        if not isinstance(payload, dict):
            raise _Reject(_failure(400, "The request body must be a JSON object."))
        return payload

    @staticmethod
    def _check_fields(payload: dict[str, Any], allowed: tuple[str, ...]) -> None:
        missing = [name for name in allowed if name not in payload]
        unexpected = sorted(set(payload) - set(allowed))
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing field(s): {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected field(s): {', '.join(unexpected)}")
            raise _Reject(_failure(400, f"Invalid request: {'; '.join(parts)}."))

    def _authenticate(self, request: SandboxRequest) -> tuple[str, dict[str, Any]]:
        """Check the two Catapult headers and the token; return (email, JSON body)."""
        if request.headers.get(AUTHENTICATION_HEADER) != AUTHENTICATION_VALUE:
            raise _Reject(_gateway(401, "Unauthorized"))
        value = request.headers.get(AUTHORIZATION_HEADER, "")
        token = self._tokens.get(value)
        if token is None or token.revoked:
            raise _Reject(_gateway(401, "Unauthorized"))
        expired = self.token_ttl is not None and self.clock() >= token.issued_at + self.token_ttl
        limit = self.faults.token_call_limit
        if expired or (limit is not None and token.calls >= limit):
            raise _Reject(_gateway(401, "The incoming token has expired"))
        token.calls += 1
        return token.email, self._check_content(request)

    def _login(self, request: SandboxRequest) -> SandboxResponse:
        if (
            request.headers.get(AUTHORIZATION_HEADER) != LOGIN_TOKEN
            or request.headers.get(AUTHENTICATION_HEADER) != AUTHENTICATION_VALUE
        ):
            raise _Reject(_gateway(401, "Unauthorized"))
        payload = self._check_content(request)
        self._check_fields(payload, ("u", "p"))
        email, encoded = payload["u"], payload["p"]
        if not isinstance(email, str) or not isinstance(encoded, str):
            raise _Reject(_failure(400, "Invalid request: u and p must be strings."))
        account = self.accounts.get(email.lower())
        try:
            password = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            password = None
        if (
            account is None
            or password is None
            or not hmac.compare_digest(password.encode(), account.password.encode())
        ):
            return _failure(200, LOGIN_FAILED)
        token = "sbx_" + secrets.token_urlsafe(24)
        self._tokens[token] = _Token(account.email.lower(), self.clock())
        return _json(200, {"success": True, "message": LOGIN_OK, "authToken": token})

    def _new_orders(self, email: str, di_code: str) -> list[Order]:
        delivered = self._delivered.get((email, di_code), set())
        return [o for o in self.di_codes.get(di_code, []) if o.order_id not in delivered]

    def _generate(self, request: SandboxRequest) -> SandboxResponse:
        email, payload = self._authenticate(request)
        self._check_fields(payload, ("diCode", "format", "downloadType"))
        di_code, file_format, kind = payload["diCode"], payload["format"], payload["downloadType"]
        if not isinstance(di_code, str) or not (len(di_code) == 4 and di_code.isdigit()):
            raise _Reject(_failure(400, "Invalid request: diCode must be a 4-digit string."))
        if file_format not in ("TXT", "CSV"):
            raise _Reject(_failure(400, 'Invalid request: format must be "TXT" or "CSV".'))
        if kind not in ("new", "full"):
            raise _Reject(_failure(400, 'Invalid request: downloadType must be "new" or "full".'))
        account = self.accounts[email]
        if di_code not in account.di_codes:
            return _failure(200, f"User is not authorized for DI code {di_code}.")
        if kind == "new":
            orders = self._new_orders(email, di_code)
        else:
            start = self.reporting_year_start().timestamp()
            orders = [o for o in self.di_codes.get(di_code, []) if o.received_at >= start]
        if not orders:
            return _failure(200, f"{NO_SCORE_ORDERS} for DI code {di_code} ({kind}).")
        download = self._new_download(email, di_code, file_format, kind, orders)
        return _json(
            200,
            {
                "success": True,
                "message": "File generated successfully.",
                "url": download.url,
                "fileName": download.file_name,
                "downloadId": download.download_id,
            },
        )

    def _new_download(
        self, email: str, di_code: str, file_format: str, kind: str, orders: list[Order]
    ) -> Download:
        now = self.clock()
        number = next(self._download_ids)
        download_id: int | str = str(number) if self.string_download_ids else number
        stamp = dt.datetime.fromtimestamp(now, dt.timezone.utc)
        file_name = f"AP_HED_Scores_{di_code}_{stamp:%m%d%Y_%H%M}.{file_format.lower()}"
        stale = self.faults._take("generate", (FaultKind.EXPIRED_URL,))
        expires = int(now) - 1 if stale else int(now + self.url_ttl)
        url = self._sign(f"/{_BUCKET}/{di_code}/{number}/{file_name}", expires)
        download = Download(
            download_id, email, di_code, file_format, kind, tuple(orders), file_name, now,
            float(expires), url,
        )  # fmt: skip
        self._downloads[str(download_id)] = download
        return download

    def _signature(self, path: str, expires: int) -> str:
        text = f"GET\n\n\n{expires}\n{path}".encode()
        return base64.b64encode(hmac.new(self._secret, text, hashlib.sha256).digest()).decode()

    def _sign(self, path: str, expires: int) -> str:
        base_path = urlsplit(self.storage_base_url).path.rstrip("/")
        full_path = quote(base_path + path)
        signature = quote(self._signature(full_path, expires), safe="")
        query = f"AWSAccessKeyId={_ACCESS_KEY}&Expires={expires}&Signature={signature}"
        return f"{_origin(self.storage_base_url)}{full_path}?{query}"

    def _record(self, request: SandboxRequest) -> SandboxResponse:
        email, payload = self._authenticate(request)
        self._check_fields(payload, ("downloadId", "format"))
        download_id, file_format = payload["downloadId"], payload["format"]
        if isinstance(download_id, bool) or not isinstance(download_id, (str, int)):
            raise _Reject(_failure(400, "Invalid request: downloadId must be a string or number."))
        download = self._downloads.get(str(download_id))
        if download is None or download.email != email:
            return _failure(200, f"Download id {download_id} was not found.")
        if file_format != download.format:
            return _failure(200, f"Format {file_format} does not match download {download_id}.")
        download.record_calls += 1
        if download.recorded:
            return _json(200, {"success": True, "message": "Download already recorded."})
        download.recorded_at = self.clock()
        self._recorded.append(download.download_id)
        if download.kind == "new" or self.record_full_moves_watermark:
            delivered = self._delivered.setdefault((email, download.di_code), set())
            delivered.update(order.order_id for order in download.orders)
        return _json(200, {"success": True, "message": "Download recorded successfully."})

    # -- the storage host -------------------------------------------------------------

    def _fetch(self, request: SandboxRequest) -> SandboxResponse:
        if request.method not in ("GET", "HEAD"):
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed.")
        leaked = [
            name
            for name in (AUTHORIZATION_HEADER, AUTHENTICATION_HEADER, "authorization")
            if name in request.headers
        ]
        if leaked:
            # A presigned URL carries its own authorisation: a client must not hand its
            # token (or any credential header) to the storage host.
            return _s3_error(
                400,
                "InvalidArgument",
                "Only the presigned query-string authentication is allowed; "
                f"unexpected header(s): {', '.join(leaked)}",
            )
        parts = urlsplit(request.url)
        query = parse_qs(parts.query)
        expires_text = query.get("Expires", [""])[0]
        signature = query.get("Signature", [""])[0]
        if not (expires_text.isdigit() and signature and query.get("AWSAccessKeyId")):
            return _s3_error(
                403,
                "AccessDenied",
                "Query-string authentication requires the Signature, Expires and "
                "AWSAccessKeyId parameters",
            )
        expires = int(expires_text)
        expected = self._signature(parts.path, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return _s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        now = self.clock()
        if now > expires:
            return _s3_error(
                403,
                "AccessDenied",
                "Request has expired",
                Expires=_iso(expires),
                ServerTime=_iso(now),
            )
        pieces = unquote(parts.path).rsplit("/", 2)
        download = self._downloads.get(pieces[-2]) if len(pieces) == 3 else None
        if download is None or download.file_name != pieces[-1]:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        body = self.file_body(download.download_id)
        size = body_size(body)
        # S3's ETag is the MD5 of the object; a streamed body gets one from its id and size
        # instead, so a 1 GB file is not read twice.
        digest = hashlib.md5(  # noqa: S324 - an ETag, not security
            body if isinstance(body, bytes) else f"{download.download_id}:{size}".encode()
        ).hexdigest()
        headers = (
            ("Content-Type", "text/plain" if download.format == "TXT" else "text/csv"),
            *((("Content-Length", str(size)),) if size is not None else ()),
            ("ETag", f'"{digest}"'),
            ("Last-Modified", _http_date(download.created_at)),
            ("Content-Disposition", f'attachment; filename="{download.file_name}"'),
        )
        if request.method == "HEAD":
            return SandboxResponse(200, headers, b"")
        download.fetches += 1
        return SandboxResponse(200, headers, body)


def _http_date(when: float) -> str:
    stamp = dt.datetime.fromtimestamp(when, dt.timezone.utc)
    day = calendar.day_abbr[stamp.weekday()]
    month = calendar.month_abbr[stamp.month]
    return f"{day}, {stamp.day:02d} {month} {stamp.year} {stamp:%H:%M:%S} GMT"
