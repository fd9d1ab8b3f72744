"""The API host: ``webServiceAuth``, ``fileGeneration`` and ``webServiceDownloaded``, routed
by path, answered in API Gateway's shapes, with the faults armed for each endpoint; and the
sandbox's tolerance rule, for both hosts.

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

Each endpoint raises :class:`~apscores.sandbox._values.Reject` for a refusal and returns the
answer otherwise. The host keeps nothing of its own: what it reads and changes (accounts,
tokens, orders, downloads) it asks of the :class:`~apscores.sandbox.SandboxService`, through
its public methods.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import http
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from apscores.catalog import is_di_code
from apscores.sandbox._faults import Fault, FaultKind
from apscores.sandbox._observe import Remark, api_remarks
from apscores.sandbox._values import Reject, SandboxRequest, SandboxResponse

if TYPE_CHECKING:
    from apscores.sandbox._service import SandboxService

__all__ = [
    "AUTHENTICATION_HEADER",
    "AUTHENTICATION_VALUE",
    "AUTHORIZATION_HEADER",
    "LOGIN_FAILED",
    "LOGIN_OK",
    "LOGIN_TOKEN",
    "NO_SCORE_ORDERS",
    "ApiHost",
    "Handled",
    "failure",
    "gateway",
    "json_reply",
]

NO_SCORE_ORDERS = "There were no score orders found"
LOGIN_OK = "Successfully authenticated."
LOGIN_FAILED = "Invalid email or password."

LOGIN_TOKEN = "CBLogin"
AUTHENTICATION_VALUE = "CBLogin Web Service"
AUTHORIZATION_HEADER = "x-cb-catapult-authorization-token"
AUTHENTICATION_HEADER = "x-cb-catapult-authentication-token"

_GATEWAY_MESSAGES = {
    500: "Internal server error",
    502: "Internal server error",
    504: "Endpoint request timed out",
    401: "Unauthorized",
    429: "Too Many Requests",
}


def json_reply(status: int, payload: dict[str, Any], *extra: tuple[str, str]) -> SandboxResponse:
    """A JSON answer with its Content-Type and Content-Length."""
    body = json.dumps(payload).encode()
    headers = (("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra)
    return SandboxResponse(status, headers, body)


def gateway(status: int, message: str | None = None, *extra: tuple[str, str]) -> SandboxResponse:
    """An API Gateway error: ``{"message": ...}`` without ``success``."""
    text = message or _GATEWAY_MESSAGES.get(status) or http.HTTPStatus(status).phrase
    return json_reply(status, {"message": text}, *extra)


def failure(status: int, message: str) -> SandboxResponse:
    """The service's own refusal: ``{"success": false, "message": ...}``."""
    return json_reply(status, {"success": False, "message": message})


#: What a host hands back to the service: the endpoint (None for an unknown route), the
#: answer, the fault that fired and the remarks on the call.
Handled = tuple[str | None, SandboxResponse, Fault | None, tuple[Remark, ...]]

# What strict mode answers for each remark on a JSON call.
_STRICT_STATUS = {"content_type_not_json": 415, "accept_not_json": 406}


def _fields(payload: dict[str, Any], allowed: tuple[str, ...]) -> None:
    missing = [name for name in allowed if name not in payload]
    unexpected = sorted(set(payload) - set(allowed))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing field(s): {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected field(s): {', '.join(unexpected)}")
        raise Reject(failure(400, f"Invalid request: {'; '.join(parts)}."))


def _fail(fault: Fault) -> SandboxResponse:
    """A ``fail`` fault's answer, as API Gateway (or the service, for HTTP 200) gives it."""
    if fault.status == 200:
        return failure(200, fault.message or "Simulated failure (sandbox fault).")
    extra = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
    return gateway(fault.status, fault.message, *extra)


class ApiHost:
    """The API host of one :class:`~apscores.sandbox.SandboxService`."""

    def __init__(self, service: SandboxService) -> None:
        self.service = service

    def answer(self, request: SandboxRequest) -> Handled:
        """Route ``request`` by path; answer it with the endpoint's faults applied."""
        prefix = self.service.api_prefix
        routes = {
            f"{prefix}/webServiceAuth": ("login", self.login),
            f"{prefix}/fileGeneration": ("generate", self.generate),
            f"{prefix}/webServiceDownloaded": ("record", self.record),
        }
        route = routes.get(urlsplit(request.url).path)
        if route is None or request.method != "POST":
            # What API Gateway answers for a route or method it does not have.
            return None, gateway(403, "Missing Authentication Token"), None, ()
        endpoint, action = route
        remarks = api_remarks(request.headers, self.service.issued_tokens)

        def run() -> SandboxResponse:
            try:
                return action(request, remarks)
            except Reject as reject:
                return reject.response

        response, fault = self.service.faults.answer(endpoint, request.method, run, _fail)
        return endpoint, response, fault, remarks

    def _content(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> Any:
        """The JSON object in the body; in strict mode, refuse a call with remarks first."""
        if self.service.strict:
            for remark in remarks:
                status = _STRICT_STATUS[remark.code]
                phrase = http.HTTPStatus(status).phrase
                raise Reject(gateway(status, f"{phrase} (strict sandbox): {remark.message}"))
        try:
            payload = json.loads(request.body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise Reject(failure(400, "The request body is not valid JSON.")) from None
        if not isinstance(payload, dict):
            raise Reject(failure(400, "The request body must be a JSON object."))
        return payload

    def _authenticate(
        self, request: SandboxRequest, remarks: tuple[Remark, ...]
    ) -> tuple[str, dict[str, Any]]:
        """Check the two Catapult headers and the token; return (email, JSON body)."""
        if request.headers.get(AUTHENTICATION_HEADER) != AUTHENTICATION_VALUE:
            raise Reject(gateway(401, "Unauthorized"))
        service = self.service
        token = service.token(request.headers.get(AUTHORIZATION_HEADER, ""))
        if token is None or token.revoked:
            raise Reject(gateway(401, "Unauthorized"))
        ttl = service.token_ttl
        expired = ttl is not None and service.clock() >= token.issued_at + ttl
        limit = service.faults.token_call_limit
        if expired or (limit is not None and token.calls >= limit):
            raise Reject(gateway(401, "The incoming token has expired"))
        token.calls += 1
        return token.email, self._content(request, remarks)

    def login(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        """``webServiceAuth``: the literal headers, ``u`` and base64 ``p``; a token back."""
        if (
            request.headers.get(AUTHORIZATION_HEADER) != LOGIN_TOKEN
            or request.headers.get(AUTHENTICATION_HEADER) != AUTHENTICATION_VALUE
        ):
            raise Reject(gateway(401, "Unauthorized"))
        payload = self._content(request, remarks)
        _fields(payload, ("u", "p"))
        email, encoded = payload["u"], payload["p"]
        if not isinstance(email, str) or not isinstance(encoded, str):
            raise Reject(failure(400, "Invalid request: u and p must be strings."))
        account = self.service.accounts.get(email.lower())
        try:
            password = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            password = None
        if (
            account is None
            or password is None
            or not hmac.compare_digest(password.encode(), account.password.encode())
        ):
            return failure(200, LOGIN_FAILED)
        value = self.service.issue_token(account.email)
        return json_reply(200, {"success": True, "message": LOGIN_OK, "authToken": value})

    def generate(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        """``fileGeneration``: a signed URL for the account's ``new`` or ``full`` orders."""
        email, payload = self._authenticate(request, remarks)
        _fields(payload, ("diCode", "format", "downloadType"))
        di_code, file_format, kind = payload["diCode"], payload["format"], payload["downloadType"]
        if not is_di_code(di_code):
            raise Reject(failure(400, "Invalid request: diCode must be a 4-digit string."))
        if file_format not in ("TXT", "CSV"):
            raise Reject(failure(400, 'Invalid request: format must be "TXT" or "CSV".'))
        if kind not in ("new", "full"):
            raise Reject(failure(400, 'Invalid request: downloadType must be "new" or "full".'))
        service = self.service
        if di_code not in service.accounts[email].di_codes:
            return failure(200, f"User is not authorized for DI code {di_code}.")
        orders = service.orders(email, di_code, kind)
        if not orders:
            return failure(200, f"{NO_SCORE_ORDERS} for DI code {di_code} ({kind}).")
        stale = service.faults.take("generate", (FaultKind.EXPIRED_URL,)) is not None
        download = service.new_download(email, di_code, file_format, kind, orders, expired=stale)
        return json_reply(
            200,
            {
                "success": True,
                "message": "File generated successfully.",
                "url": download.url,
                "fileName": download.file_name,
                "downloadId": download.download_id,
            },
        )

    def record(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        """``webServiceDownloaded``: mark a download delivered for the account that made it."""
        email, payload = self._authenticate(request, remarks)
        _fields(payload, ("downloadId", "format"))
        download_id, file_format = payload["downloadId"], payload["format"]
        if isinstance(download_id, bool) or not isinstance(download_id, (str, int)):
            raise Reject(failure(400, "Invalid request: downloadId must be a string or number."))
        download = self.service.find_download(download_id)
        if download is None or download.email != email:
            return failure(200, f"Download id {download_id} was not found.")
        if file_format != download.format:
            return failure(200, f"Format {file_format} does not match download {download_id}.")
        download.record_calls += 1
        if not self.service.mark_recorded(download):
            return json_reply(200, {"success": True, "message": "Download already recorded."})
        return json_reply(200, {"success": True, "message": "Download recorded successfully."})
