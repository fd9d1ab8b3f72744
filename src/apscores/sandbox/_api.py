"""The three JSON endpoints of the API host: ``webServiceAuth``, ``fileGeneration`` and
``webServiceDownloaded``, as functions of the sandbox's records and one request.

Each raises :class:`~apscores.sandbox._replies.Reject` for a refusal and returns the
answer otherwise; the service wraps them with faults and the call log.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import http
import json
import secrets
from typing import Any

from apscores.catalog import is_di_code
from apscores.sandbox import _storage as storage
from apscores.sandbox._faults import FaultKind
from apscores.sandbox._model import Download, Order, Token
from apscores.sandbox._observe import Remark
from apscores.sandbox._records import Records
from apscores.sandbox._replies import (
    AUTHENTICATION_HEADER,
    AUTHENTICATION_VALUE,
    AUTHORIZATION_HEADER,
    LOGIN_TOKEN,
    Reject,
    failure,
    gateway,
    json_reply,
)
from apscores.sandbox._wire import SandboxRequest, SandboxResponse

__all__ = ["LOGIN_FAILED", "LOGIN_OK", "NO_SCORE_ORDERS", "generate", "login", "record"]

NO_SCORE_ORDERS = "There were no score orders found"
LOGIN_OK = "Successfully authenticated."
LOGIN_FAILED = "Invalid email or password."

# What strict mode answers for each remark on a JSON call.
_STRICT_STATUS = {"content_type_not_json": 415, "accept_not_json": 406}


def _content(records: Records, request: SandboxRequest, remarks: tuple[Remark, ...]) -> Any:
    """The JSON object in the body; in strict mode, refuse a call with remarks first."""
    if records.strict:
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


def _authenticate(
    records: Records, request: SandboxRequest, remarks: tuple[Remark, ...]
) -> tuple[str, dict[str, Any]]:
    """Check the two Catapult headers and the token; return (email, JSON body)."""
    if request.headers.get(AUTHENTICATION_HEADER) != AUTHENTICATION_VALUE:
        raise Reject(gateway(401, "Unauthorized"))
    token = records._tokens.get(request.headers.get(AUTHORIZATION_HEADER, ""))
    if token is None or token.revoked:
        raise Reject(gateway(401, "Unauthorized"))
    ttl = records.token_ttl
    expired = ttl is not None and records.clock() >= token.issued_at + ttl
    limit = records.faults.token_call_limit
    if expired or (limit is not None and token.calls >= limit):
        raise Reject(gateway(401, "The incoming token has expired"))
    token.calls += 1
    return token.email, _content(records, request, remarks)


def login(
    records: Records, request: SandboxRequest, remarks: tuple[Remark, ...]
) -> SandboxResponse:
    """``webServiceAuth``: the literal headers, ``u`` and base64 ``p``; a token back."""
    if (
        request.headers.get(AUTHORIZATION_HEADER) != LOGIN_TOKEN
        or request.headers.get(AUTHENTICATION_HEADER) != AUTHENTICATION_VALUE
    ):
        raise Reject(gateway(401, "Unauthorized"))
    payload = _content(records, request, remarks)
    _fields(payload, ("u", "p"))
    email, encoded = payload["u"], payload["p"]
    if not isinstance(email, str) or not isinstance(encoded, str):
        raise Reject(failure(400, "Invalid request: u and p must be strings."))
    account = records.accounts.get(email.lower())
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
    value = "sbx_" + secrets.token_urlsafe(24)
    records._tokens[value] = Token(account.email.lower(), records.clock())
    return json_reply(200, {"success": True, "message": LOGIN_OK, "authToken": value})


def generate(
    records: Records, request: SandboxRequest, remarks: tuple[Remark, ...]
) -> SandboxResponse:
    """``fileGeneration``: a signed URL for the account's ``new`` or ``full`` orders."""
    email, payload = _authenticate(records, request, remarks)
    _fields(payload, ("diCode", "format", "downloadType"))
    di_code, file_format, kind = payload["diCode"], payload["format"], payload["downloadType"]
    if not is_di_code(di_code):
        raise Reject(failure(400, "Invalid request: diCode must be a 4-digit string."))
    if file_format not in ("TXT", "CSV"):
        raise Reject(failure(400, 'Invalid request: format must be "TXT" or "CSV".'))
    if kind not in ("new", "full"):
        raise Reject(failure(400, 'Invalid request: downloadType must be "new" or "full".'))
    if di_code not in records.accounts[email].di_codes:
        return failure(200, f"User is not authorized for DI code {di_code}.")
    if kind == "new":
        orders = records._new_orders(email, di_code)
    else:
        start = records.reporting_year_start().timestamp()
        orders = [o for o in records.di_codes.get(di_code, []) if o.received_at >= start]
    if not orders:
        return failure(200, f"{NO_SCORE_ORDERS} for DI code {di_code} ({kind}).")
    download = _new_download(records, email, di_code, file_format, kind, orders)
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


def _new_download(
    records: Records, email: str, di_code: str, file_format: str, kind: str, orders: list[Order]
) -> Download:
    now = records.clock()
    number = records._next_download_id
    records._next_download_id += 1
    download_id: int | str = str(number) if records.string_download_ids else number
    stamp = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    file_name = f"AP_HED_Scores_{di_code}_{stamp:%m%d%Y_%H%M}.{file_format.lower()}"
    stale = records.faults._take("generate", (FaultKind.EXPIRED_URL,))
    expires = int(now) - 1 if stale else int(now + records.url_ttl)
    path = f"/{storage.BUCKET}/{di_code}/{number}/{file_name}"
    url = storage.presign(records._secret, records.storage_base_url, path, expires)
    download = Download(
        download_id, email, di_code, file_format, kind, tuple(orders), file_name, now,
        float(expires), url,
    )  # fmt: skip
    records._downloads[str(download_id)] = download
    return download


def record(
    records: Records, request: SandboxRequest, remarks: tuple[Remark, ...]
) -> SandboxResponse:
    """``webServiceDownloaded``: mark a download delivered for the account that made it."""
    email, payload = _authenticate(records, request, remarks)
    _fields(payload, ("downloadId", "format"))
    download_id, file_format = payload["downloadId"], payload["format"]
    if isinstance(download_id, bool) or not isinstance(download_id, (str, int)):
        raise Reject(failure(400, "Invalid request: downloadId must be a string or number."))
    download = records._downloads.get(str(download_id))
    if download is None or download.email != email:
        return failure(200, f"Download id {download_id} was not found.")
    if file_format != download.format:
        return failure(200, f"Format {file_format} does not match download {download_id}.")
    download.record_calls += 1
    if download.recorded:
        return json_reply(200, {"success": True, "message": "Download already recorded."})
    download.recorded_at = records.clock()
    records._recorded.append(download.download_id)
    if download.kind == "new" or records.record_full_moves_watermark:
        ids = (order.order_id for order in download.orders)
        records.mark_delivered(email, download.di_code, ids)
    return json_reply(200, {"success": True, "message": "Download recorded successfully."})
