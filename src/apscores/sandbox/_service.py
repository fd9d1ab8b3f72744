"""A stateful fake of the AP HED score-report web service and its presigned download host.

It follows ``docs/reference/web-service.md``: ``POST {prefix}/webServiceAuth`` (``u`` and
base64 ``p``, ``X-CB-Catapult-Authorization-Token: CBLogin``), ``POST {prefix}/fileGeneration``
(``diCode``/``format``/``downloadType``; answers ``url``/``fileName``/``downloadId``),
a ``GET`` on the short-lived, signed URL of a separate storage host, and
``POST {prefix}/webServiceDownloaded`` (``downloadId``/``format``).

**The tolerance rule.** The sandbox refuses only what the real service is known, or very
likely, to refuse: missing or wrong ``X-CB-Catapult-*`` headers, bad credentials, unknown
or expired tokens, a body that is not a JSON object, wrong field names or values, expired
or tampered download URLs, and an ``Authorization`` header next to a presigned query (S3's
400 ``InvalidArgument``). Everything else a real HTTP server takes, it takes: any
``Accept`` (none, ``*/*``, ``application/*``, lists with q-values), a ``Content-Type``
with a charset, extra or unknown headers on either host, keep-alive or not, and ``Range``
on the storage host (206 for one byte range, 416 when unsatisfiable, the whole file when
malformed, as S3 does). A missing or different ``Content-Type`` is accepted when the body
is valid JSON: API Gateway hands the raw body to the backend, which parses it (a guess;
curl's ``-d`` sends ``application/x-www-form-urlencoded``). What a careful client should
not do is *recorded* instead, as remarks on each call (:mod:`apscores.sandbox._observe`):
an ``Accept`` that does not name ``application/json``, a body not labelled
``application/json``, and any Catapult header, token or credential sent to the storage
host (the public scripts send them, and the real host ignores headers it did not sign).
``SandboxService(strict=True)`` turns every remark into a refusal: 415 or 406 from the API
and 400 ``InvalidArgument`` from the storage host, each saying what to send instead.

Where the public record is silent the sandbox makes a documented guess, kept in one place
here: a bad or expired token is HTTP 401 with an API-Gateway-style ``{"message": ...}``; a
malformed body is HTTP 400 with ``success: false``; an unknown route is API Gateway's 403
``Missing Authentication Token``; a DI code the account cannot use is HTTP 200 with
``success: false``; "no score orders" is HTTP 200 with ``success: false`` for ``new`` and
``full`` alike; recording the same download twice succeeds; recording a ``full`` download
moves the ``new`` watermark too (``record_full_moves_watermark``).

``full`` delivers every order of the reporting year, every time. ``new`` delivers what this
*account* has not recorded yet: the watermark is kept per (account, DI code) as the set of
delivered orders, as College Board tracks downloads "at the individual account level"; only
recording a download marks its orders delivered, so an order that arrives between
generating and recording is not lost.
"""

from __future__ import annotations

import http
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from apscores.sandbox import _api
from apscores.sandbox import _storage as storage
from apscores.sandbox._api import NO_SCORE_ORDERS
from apscores.sandbox._connect import connect, connect_async
from apscores.sandbox._faults import Fault, FaultKind
from apscores.sandbox._model import DEFAULT_DI_CODE, DEFAULT_EMAIL, DEFAULT_PASSWORD
from apscores.sandbox._observe import Remark, api_remarks, storage_remarks
from apscores.sandbox._records import Records
from apscores.sandbox._replies import Reject, failure, gateway, origin, s3_error
from apscores.sandbox._transport import SandboxTransport
from apscores.sandbox._wire import (
    Cut,
    Failure,
    LoggedRequest,
    SandboxRequest,
    SandboxResponse,
    body_size,
)

if TYPE_CHECKING:
    from apscores.service import AsyncClient, Client

__all__ = ["NO_SCORE_ORDERS", "SandboxService"]

_S3_CODES = {
    400: ("InvalidRequest", "Bad Request"),
    403: ("AccessDenied", "Request has expired"),
    404: ("NoSuchKey", "The specified key does not exist."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}

Action = Callable[[SandboxRequest, tuple[Remark, ...]], SandboxResponse]


class SandboxService(Records):
    """The fake service: accounts, DI codes with queued score orders, downloads and faults.

    Thread-safe (the loopback server calls it from several threads). ``clock`` returns Unix
    time and drives token lifetime, URL expiry, file names and the reporting year.
    ``strict=True`` refuses what the default only records (see the tolerance rule above).
    Setting up and inspecting (``add_account``, ``pending``, ``state()``...) are methods it
    inherits from its base class, which holds the records of the fake.
    """

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
        return SandboxTransport(self, **opts)

    def client(
        self, *, transport_options: dict[str, Any] | None = None, **client_opts: Any
    ) -> Client:
        """An :class:`apscores.Client` wired to this service (see ``sandbox_client``)."""
        client = connect(self, self.api_base_url, transport_options, **client_opts)
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

    # -- handling requests ------------------------------------------------------------

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
        path = urlsplit(request.url).path
        routes: dict[str, tuple[str, Action]] = {
            f"{self.api_prefix}/webServiceAuth": ("login", self._login),
            f"{self.api_prefix}/fileGeneration": ("generate", self._generate),
            f"{self.api_prefix}/webServiceDownloaded": ("record", self._record),
        }
        route = routes.get(path)
        if route is None or request.method != "POST":
            # What API Gateway answers for a route or method it does not have.
            response = gateway(403, "Missing Authentication Token")
            return self._log(request, "api", None, response, None, ())
        endpoint, action = route
        with self._lock:
            remarks = api_remarks(request.headers, list(self._tokens))
        return self._run(request, "api", endpoint, action, remarks)

    def handle_storage(self, request: SandboxRequest) -> SandboxResponse:
        """Answer a request to the storage host (a presigned-URL ``GET``)."""
        with self._lock:
            remarks = storage_remarks(request.headers, list(self._tokens))
        return self._run(request, "storage", "download", self._fetch, remarks)

    def _run(
        self,
        request: SandboxRequest,
        role: str,
        endpoint: str,
        action: Action,
        remarks: tuple[Remark, ...],
    ) -> SandboxResponse:
        faults = self.faults
        delay = faults._take(endpoint, (FaultKind.DELAY,))
        wait = delay.seconds if delay else 0.0
        early = faults._take(endpoint, (FaultKind.REFUSE, FaultKind.TIMEOUT, FaultKind.FAIL))
        with self._lock:
            if early is not None and not (early.processed and early.kind != FaultKind.REFUSE):
                response = self._fault_response(endpoint, early)
            else:
                try:
                    response = action(request, remarks)
                except Reject as reject:
                    response = reject.response
                if early is not None:
                    response = self._fault_response(endpoint, early)
            dropped = None
            if request.method == "GET" and response.status == 200:
                if isinstance(response.body, bytes):  # a body to cut at a record boundary
                    dropped = faults._take(endpoint, (FaultKind.CUT_AT_RECORD,))
                if dropped is not None:
                    response = storage.drop_records(response, dropped.records)
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
            fired = early or dropped or cut or delay
            return self._log(request, role, endpoint, response, fired, remarks)

    def _log(
        self,
        request: SandboxRequest,
        role: str,
        endpoint: str | None,
        response: SandboxResponse,
        fault: Fault | None,
        remarks: tuple[Remark, ...],
    ) -> SandboxResponse:
        status = None if response.failure else response.status
        kind = fault.kind.value if fault else None
        now = self.clock()
        entry = LoggedRequest(
            time=now,
            method=request.method,
            url=request.url,
            endpoint=endpoint,
            headers=dict(request.headers),
            body=request.body,
            status=status,
            fault=kind,
        )
        with self._lock:
            self.requests.append(entry)
            self._recorder.add(
                request,
                time=now,
                role=role,
                endpoint=endpoint,
                status=status,
                fault=kind,
                remarks=remarks,
            )
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
            return s3_error(fault.status, code, fault.message or default, *extra)
        if fault.status == 200:
            return failure(200, fault.message or "Simulated failure (sandbox fault).")
        return gateway(fault.status, fault.message, *extra)

    # -- the endpoints --------------------------------------------------------------------

    def _login(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        return _api.login(self, request, remarks)

    def _generate(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        return _api.generate(self, request, remarks)

    def _record(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        return _api.record(self, request, remarks)

    def _fetch(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        """The storage host: a GET or HEAD on a presigned URL."""
        if request.method not in ("GET", "HEAD"):
            return s3_error(405, "MethodNotAllowed", "The specified method is not allowed.")
        if self.strict and remarks:
            # The real host ignores these headers; strict mode holds a client to not
            # sending them, since they hand its token to a host that is not the API.
            reasons = "; ".join(remark.message for remark in remarks)
            return s3_error(400, "InvalidArgument", f"strict sandbox: {reasons}")
        refusal = storage.second_authorisation(request) or storage.verify(
            request, self._secret, self.clock()
        )
        if refusal is not None:
            return refusal
        key = storage.download_key(request)
        download = self._downloads.get(key[0]) if key else None
        if key is None or download is None or download.file_name != key[1]:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        body = self.file_body(download.download_id)
        response = storage.file_response(request, download, body, self.etag)
        if request.method == "GET" and response.status in (200, 206):
            download.fetches += 1
        return response
