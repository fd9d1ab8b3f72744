"""A stateful fake of the AP HED score-report web service and its presigned download host.

The service is the sandbox's one state object: accounts, queued orders, per-account
watermarks, tokens, downloads, faults and the log of calls, changed only under its lock.
The two hosts (:mod:`apscores.sandbox._api`, :mod:`apscores.sandbox._storage`) answer
requests through its public methods; the carriers (transport, server) call :meth:`handle`.
What the sandbox accepts, refuses and records (the tolerance rule) is written in the first.

``full`` delivers every order of the reporting year, every time. ``new`` delivers what this
*account* has not recorded yet: the watermark is kept per (account, DI code) as the set of
delivered orders, as College Board tracks downloads "at the individual account level"; only
recording a download marks its orders delivered, so an order that arrives between
generating and recording is not lost.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from apscores.models import ScoreReport
from apscores.sandbox._api import NO_SCORE_ORDERS, ApiHost, Handled
from apscores.sandbox._faults import Faults
from apscores.sandbox._observe import (
    CATAPULT_ON_STORAGE,
    TOKEN_ON_STORAGE,
    Observation,
    Recorder,
    Remark,
)
from apscores.sandbox._storage import ETAG_KINDS, StorageHost
from apscores.sandbox._transport import SandboxTransport, connect, connect_async
from apscores.sandbox._values import (
    DEFAULT_DI_CODE,
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SANDBOX_BASE_URL,
    SANDBOX_STORAGE_URL,
    Account,
    Body,
    Download,
    Failure,
    LoggedRequest,
    Order,
    Renderer,
    SandboxRequest,
    SandboxResponse,
    Token,
    origin,
    render_reports,
)

if TYPE_CHECKING:
    from apscores.service import AsyncClient, Client

__all__ = ["NO_SCORE_ORDERS", "SandboxService"]


class SandboxService:
    """The fake service: accounts, DI codes with queued score orders, downloads and faults.

    Thread-safe (the loopback server calls it from several threads): every change happens
    under one lock. ``clock`` returns Unix time and drives token lifetime, URL expiry, file
    names and the reporting year. ``strict=True`` refuses what the default only records
    (see the tolerance rule above).
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
        strict: bool = False,
        etag: str = "md5",
    ) -> None:
        if etag not in ETAG_KINDS:
            raise ValueError(f"etag must be one of {', '.join(ETAG_KINDS)}, got {etag!r}")
        self.clock = clock
        self.api_base_url = api_base_url.rstrip("/")
        self.storage_base_url = storage_base_url.rstrip("/")
        self.url_ttl = url_ttl
        self.token_ttl = token_ttl
        self.record_full_moves_watermark = record_full_moves_watermark
        self.string_download_ids = string_download_ids
        self.renderer = renderer
        self.strict = strict
        #: The storage host's ``ETag``: ``"md5"`` (one part, the body's MD5; a streamed
        #: body is always multipart), ``"multipart"`` (``"<hex>-N"``) or ``"none"``.
        self.etag = etag
        self.faults = Faults()
        self.accounts: dict[str, Account] = {}
        self.di_codes: dict[str, list[Order]] = {}
        self._recorder = Recorder()
        self.requests: list[LoggedRequest] = self._recorder.requests
        self._downloads: dict[str, Download] = {}
        self._recorded: list[int | str] = []
        self._delivered: dict[tuple[str, str], set[int]] = {}
        self._tokens: dict[str, Token] = {}
        self._next_order_id = 1
        self._next_download_id = first_download_id
        self._lock = threading.RLock()
        self._clients: list[Client] = []
        self._api = ApiHost(self)
        self._storage = StorageHost(self)

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
        ``options`` go to the constructor (``strict=True``, ``clock=``...).
        """
        from apscores.sandbox._fake import fake_reports  # only when asked for

        service = cls(**options)
        codes = list(di_codes)
        service.add_account(email, password, di_codes=codes)
        for offset, di_code in enumerate(codes):
            service.add_reports(di_code, fake_reports(reports, seed=seed + offset, di_code=di_code))
        return service

    # -- clients (see also apscores.sandbox.sandbox_client) --------------------------------
    def transport(self, **opts: Any) -> SandboxTransport:
        """An httpx transport (sync and async) answering from this service."""
        return SandboxTransport(self, **opts)

    def client(self, *, transport_options: dict[str, Any] | None = None, **opts: Any) -> Client:
        """An :class:`apscores.Client` wired to this service (see ``sandbox_client``)."""
        client = connect(self, self.api_base_url, transport_options, **opts)
        self._clients.append(client)
        return client

    def async_client(
        self, *, transport_options: dict[str, Any] | None = None, **client_opts: Any
    ) -> AsyncClient:
        """An :class:`apscores.AsyncClient` wired to this service."""
        return connect_async(self, self.api_base_url, transport_options, **client_opts)

    def close_clients(self) -> None:
        """Close the sync clients made by :meth:`client` (the pytest fixture does this)."""
        while self._clients:
            self._clients.pop().close()

    # -- answering (the carriers call these) -----------------------------------------------

    @property
    def api_prefix(self) -> str:
        """The path prefix of the API (``/aposrd-api-prod``)."""
        return urlsplit(self.api_base_url).path.rstrip("/")

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer a request to either host; an unknown host fails like a DNS error."""
        where = origin(request.url)
        if where == origin(self.api_base_url):
            return self.handle_api(request)
        if where == origin(self.storage_base_url):
            return self.handle_storage(request)
        return SandboxResponse(0, failure=Failure.CONNECT)

    def handle_api(self, request: SandboxRequest) -> SandboxResponse:
        """Answer a request to the API host (routed by path only)."""
        with self._lock:
            return self._log(request, "api", self._api.answer(request))

    def handle_storage(self, request: SandboxRequest) -> SandboxResponse:
        """Answer a request to the storage host (a presigned-URL ``GET``)."""
        with self._lock:
            return self._log(request, "storage", self._storage.answer(request))

    def _log(self, request: SandboxRequest, role: str, handled: Handled) -> SandboxResponse:
        endpoint, response, fault, remarks = handled
        status = None if response.failure else response.status
        kind = fault.kind.value if fault else None
        self._recorder.add(
            request, time=self.clock(), role=role, endpoint=endpoint, status=status, fault=kind,
            remarks=remarks,
        )  # fmt: skip
        return response

    # -- what the hosts read and change ---------------------------------------------------

    @property
    def issued_tokens(self) -> list[str]:
        """Every ``authToken`` handed out so far (to spot one sent where it should not go)."""
        with self._lock:
            return list(self._tokens)

    def issue_token(self, email: str) -> str:
        """A new ``authToken`` for the account, valid from now."""
        with self._lock:
            value = "sbx_" + secrets.token_urlsafe(24)
            self._tokens[value] = Token(email.lower(), self.clock())
            return value

    def token(self, value: str) -> Token | None:
        """The bookkeeping of an issued token, or None for a value never issued."""
        with self._lock:
            return self._tokens.get(value)

    def orders(self, email: str, di_code: str, kind: str) -> list[Order]:
        """What a ``new`` or ``full`` file for this account and DI code holds right now."""
        with self._lock:
            if kind == "new":
                return self._new_orders(email.lower(), di_code)
            start = self.reporting_year_start().timestamp()
            return [o for o in self.di_codes.get(di_code, []) if o.received_at >= start]

    def new_download(
        self, email: str, di_code: str, file_format: str, kind: str, orders: list[Order], *,
        expired: bool = False,
    ) -> Download:  # fmt: skip
        """Generate a file of ``orders``: a new download id, file name and signed URL
        (already expired with ``expired=True``)."""
        with self._lock:
            now = self.clock()
            number = self._next_download_id
            self._next_download_id += 1
            download_id: int | str = str(number) if self.string_download_ids else number
            stamp = dt.datetime.fromtimestamp(now, dt.timezone.utc)
            file_name = f"AP_HED_Scores_{di_code}_{stamp:%m%d%Y_%H%M}.{file_format.lower()}"
            expires = int(now) - 1 if expired else int(now + self.url_ttl)
            url = self._storage.url(di_code, number, file_name, expires)
            download = Download(
                download_id, email, di_code, file_format, kind, tuple(orders), file_name, now,
                float(expires), url,
            )  # fmt: skip
            self._downloads[str(download_id)] = download
            return download

    def find_download(self, download_id: int | str) -> Download | None:
        """One download record by id, or None if unknown."""
        with self._lock:
            return self._downloads.get(str(download_id))

    def mark_recorded(self, download: Download) -> bool:
        """Record a download as delivered (``webServiceDownloaded``); False if it was already.

        Recording a ``new`` download (or a ``full`` one, with
        ``record_full_moves_watermark``) moves the account's watermark past its orders.
        """
        with self._lock:
            if download.recorded:
                return False
            download.recorded_at = self.clock()
            self._recorded.append(download.download_id)
            if download.kind == "new" or self.record_full_moves_watermark:
                ids = (order.order_id for order in download.orders)
                self.mark_delivered(download.email, download.di_code, ids)
            return True

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
            added = []
            for report in reports:
                added.append(Order(self._next_order_id, di_code, report, when))
                self._next_order_id += 1
            self.di_codes.setdefault(di_code, []).extend(added)
            return [order.order_id for order in added]

    def add_orders(self, orders: Iterable[Order]) -> None:
        """Queue orders that keep their ids (to restore a saved sandbox); later ids follow."""
        with self._lock:
            for order in orders:
                self.di_codes.setdefault(order.di_code, []).append(order)
                self._next_order_id = max(self._next_order_id, order.order_id + 1)

    def delivered(self, email: str, di_code: str) -> set[int]:
        """The order ids this account has recorded for ``di_code`` (its ``new`` watermark)."""
        with self._lock:
            return set(self._delivered.get((email.lower(), di_code), ()))

    def mark_delivered(self, email: str, di_code: str, order_ids: Iterable[int]) -> None:
        """Move one account's watermark by hand; no other account's changes."""
        with self._lock:
            self._delivered.setdefault((email.lower(), di_code), set()).update(order_ids)

    def portal_download(self, email: str, di_code: str) -> list[ScoreReport]:
        """What a download through the portal (or another script) with this account does:
        everything ``new`` for it is marked delivered, so its next ``new`` file skips it.
        """
        with self._lock:
            orders = self._new_orders(email.lower(), di_code)
            self.mark_delivered(email, di_code, (order.order_id for order in orders))
            return [order.report for order in orders]

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

    @property
    def observations(self) -> list[Observation]:
        """Every call as recorded for :meth:`state`: names of headers, never their values."""
        with self._lock:
            return list(self._recorder.observations)

    @property
    def remarks(self) -> list[tuple[int, Remark]]:
        """(call seq, remark) for everything a careful client should not have done."""
        with self._lock:
            return [(o.seq, remark) for o in self._recorder.observations for remark in o.remarks]

    @property
    def token_reached_storage(self) -> bool:
        """Whether an authToken was sent to the storage host, in any header."""
        with self._lock:
            return self._recorder.reached_storage(TOKEN_ON_STORAGE)

    @property
    def catapult_header_reached_storage(self) -> bool:
        """Whether any ``X-CB-Catapult-*`` header was sent to the storage host."""
        with self._lock:
            return self._recorder.reached_storage(CATAPULT_ON_STORAGE)

    def state(self) -> dict[str, Any]:
        """Everything a test may assert on, as JSON-able data without a secret in it."""
        with self._lock:
            return {
                "strict": self.strict,
                **self._recorder.summary(),
                "downloads": [d.to_dict() for d in self._downloads.values()],
                "recorded_ids": list(self._recorded),
                "pending": {
                    email: {di: len(self._new_orders(email, di)) for di in sorted(account.di_codes)}
                    for email, account in sorted(self.accounts.items())
                },
                "faults": self.faults.to_dict(),
            }

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

    def _new_orders(self, email: str, di_code: str) -> list[Order]:
        delivered = self._delivered.get((email, di_code), set())
        return [o for o in self.di_codes.get(di_code, []) if o.order_id not in delivered]
