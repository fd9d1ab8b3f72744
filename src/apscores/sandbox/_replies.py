"""The answers the sandbox gives, in the shapes of the real hosts: API Gateway's JSON for the
API, S3's XML for the storage host; plus the header names both sides share.
"""

from __future__ import annotations

import calendar
import datetime as dt
import http
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

from apscores.sandbox._wire import SandboxResponse

__all__ = [
    "AUTHENTICATION_HEADER",
    "AUTHENTICATION_VALUE",
    "AUTHORIZATION_HEADER",
    "LOGIN_TOKEN",
    "Reject",
    "failure",
    "gateway",
    "http_date",
    "iso",
    "json_reply",
    "origin",
    "s3_error",
]

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


class Reject(Exception):  # noqa: N818 - internal control flow, never escapes the service
    """Stop handling a request and answer with ``response``."""

    def __init__(self, response: SandboxResponse) -> None:
        self.response = response


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, without a default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme.lower()}://{host}{port}"


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


def iso(when: float) -> str:
    """A Unix time as S3 writes it in error bodies."""
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(when: float) -> str:
    """A Unix time as an HTTP date (``Last-Modified``), independent of the locale."""
    stamp = dt.datetime.fromtimestamp(when, dt.timezone.utc)
    day = calendar.day_abbr[stamp.weekday()]
    month = calendar.month_abbr[stamp.month]
    return f"{day}, {stamp.day:02d} {month} {stamp.year} {stamp:%H:%M:%S} GMT"


def s3_error(
    status: int, code: str, message: str, *extra: tuple[str, str], **details: str
) -> SandboxResponse:
    """An S3-style XML error body; ``details`` become extra elements."""
    fields = "".join(f"<{key}>{value}</{key}>" for key, value in details.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    ).encode()
    headers = (("Content-Type", "application/xml"), ("Content-Length", str(len(body))), *extra)
    return SandboxResponse(status, headers, body)
