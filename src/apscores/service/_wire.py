"""The three endpoints as pure functions: ``build_*_request`` and ``parse_*_response``.

Nothing here sends anything (the idea behind ``h11``): each builder returns an
``httpx.Request`` and each parser turns an ``httpx.Response`` into a value or raises one
of :mod:`apscores.errors`. Facts come from ``docs/reference/web-service.md``; guesses from
:mod:`apscores.service._guesses`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from apscores.errors import (
    APIError,
    APIRefusalError,
    DiCodeRefusedError,
    LoginRefusedError,
    UnauthorizedError,
    status_error,
)
from apscores.service import _guesses as guess
from apscores.service._models import GeneratedFile
from apscores.service._settings import DownloadKind, Format, Secret, Settings

__all__ = [
    "AUTHENTICATION_HEADER",
    "AUTHORIZATION_HEADER",
    "AUTH_CHECKLIST",
    "DOWNLOAD",
    "GENERATE",
    "LOGIN",
    "RECORD",
    "TokenRejected",
    "api_headers",
    "build_download_request",
    "build_generate_request",
    "build_login_request",
    "build_record_request",
    "encode_password",
    "is_no_score_orders",
    "looks_like_token_problem",
    "parse_generate_response",
    "parse_login_response",
    "parse_record_response",
    "refused_again",
    "response_status_error",
]

logger = logging.getLogger("apscores")

LOGIN = "webServiceAuth"
GENERATE = "fileGeneration"
RECORD = "webServiceDownloaded"
DOWNLOAD = "download"

AUTHORIZATION_HEADER = "X-CB-Catapult-Authorization-Token"
AUTHENTICATION_HEADER = "X-CB-Catapult-Authentication-Token"
LOGIN_AUTHORIZATION = "CBLogin"
AUTHENTICATION_VALUE = "CBLogin Web Service"

AUTH_CHECKLIST = """\
College Board names these causes (its reply does not say which one applies):
  - Multi-factor authentication is on for this account: the web service does not work
    with MFA; turn it off for the account used for automation.
  - The password has expired: log in to the AP Higher Education Score Reports portal in a
    browser, set a new password if asked, then update the one apscores uses.
  - The portal's terms of use were never accepted: log in to the portal once in a browser
    and accept them.
  - The account lacks the APOSRD HED Admin role for this institution: ask the
    institution's main College Board contact for the access code and add the role.
  - You are not logging in with the account's email address: usernames no longer work."""


class TokenRejected(Exception):  # noqa: N818 - a signal between parser and client, not an error
    """A later call refused the token (G2). The client logs in again once and repeats the
    call; a second refusal becomes :func:`refused_again`. Never reaches a caller."""

    def __init__(self, endpoint: str, message: str, status_code: int | None) -> None:
        super().__init__(endpoint, message, status_code)
        self.endpoint = endpoint
        self.message = message
        self.status_code = status_code


def refused_again(signal: TokenRejected, *, di_code: str | None = None) -> APIError:
    """What the caller sees when a fresh token is refused too: an AuthenticationError,
    except on ``fileGeneration`` for ``di_code`` (G2b): the login just worked, so anything
    but a 401 refuses that DI code (the role for that institution), not the account."""
    text = signal.message or "the service refused the token"
    if di_code is not None and signal.endpoint == GENERATE and signal.status_code != 401:
        return DiCodeRefusedError(
            text if signal.status_code is None else f"HTTP {signal.status_code}: {text}",
            endpoint=GENERATE,
            di_code=di_code,
            detail=guess.di_code_refused_advice(di_code),
        )
    if signal.status_code is not None:
        return UnauthorizedError(
            text, status_code=signal.status_code, endpoint=signal.endpoint, detail=AUTH_CHECKLIST
        )
    return LoginRefusedError(text, endpoint=signal.endpoint, detail=AUTH_CHECKLIST)


# --- requests ---------------------------------------------------------------------------


def encode_password(password: str) -> str:
    """Base64 of the UTF-8 bytes, standard alphabet with padding.

    ``docs/reference/web-service.md`` §2 (source P1; the scripts C1 and C2 agree).
    """
    return base64.b64encode(password.encode("utf-8")).decode("ascii")


def api_headers(token: Secret | None) -> dict[str, str]:
    """Catapult headers: ``CBLogin`` before login, the bare token (no ``Bearer``) after."""
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        AUTHORIZATION_HEADER: LOGIN_AUTHORIZATION if token is None else token.reveal(),
        AUTHENTICATION_HEADER: AUTHENTICATION_VALUE,
    }


def _api_url(base_url: str, endpoint: str) -> str:
    return f"{base_url.rstrip('/')}/{endpoint}"


def build_login_request(settings: Settings) -> httpx.Request:
    """``POST webServiceAuth`` with ``u`` and the base64 password ``p``."""
    body = {"u": settings.email, "p": encode_password(settings.password.reveal())}
    return httpx.Request(
        "POST", _api_url(settings.base_url, LOGIN), headers=api_headers(None), json=body
    )


def build_generate_request(
    settings: Settings, token: Secret, di_code: str, format: Format, kind: DownloadKind
) -> httpx.Request:
    """``POST fileGeneration`` for one DI code (G6: exactly what the public scripts send)."""
    body = {"diCode": di_code, "format": format.upper(), "downloadType": kind}
    return httpx.Request(
        "POST", _api_url(settings.base_url, GENERATE), headers=api_headers(token), json=body
    )


def build_record_request(
    settings: Settings, token: Secret, generated: GeneratedFile
) -> httpx.Request:
    """``POST webServiceDownloaded``: the download id sent back as received (G6)."""
    body = {"downloadId": generated.download_id, "format": generated.format.upper()}
    return httpx.Request(
        "POST", _api_url(settings.base_url, RECORD), headers=api_headers(token), json=body
    )


def build_download_request(url: str | httpx.URL) -> httpx.Request:
    """A bare GET: no Catapult header ever goes to the storage host (G5)."""
    headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
    return httpx.Request("GET", url, headers=headers)


# --- responses --------------------------------------------------------------------------


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _message(data: Mapping[str, Any] | None) -> str:
    if data is None:
        return ""
    message = data.get("message")
    return message if isinstance(message, str) else ("" if message is None else str(message))


def response_status_error(response: httpx.Response, endpoint: str) -> APIError:
    """An HTTP error status as the matching :class:`~apscores.errors.APIStatusError`."""
    text = _message(_json_object(response)) or response.reason_phrase or "error"
    return status_error(text, status_code=response.status_code, endpoint=endpoint)


def is_no_score_orders(message: str) -> bool:
    """G1: the only known wording of "nothing new", matched in one place."""
    return guess.NO_SCORE_ORDERS_MARKER in message.lower()


def looks_like_token_problem(message: str) -> bool:
    """G2: does a ``success: false`` message on a later call blame the token?"""
    low = message.lower()
    if is_no_score_orders(low):
        return False
    return any(marker in low for marker in guess.TOKEN_PROBLEM_MARKERS)


def _envelope(response: httpx.Response, endpoint: str) -> dict[str, Any]:
    """Status and JSON checks shared by the token-bearing endpoints (auth failure = G2)."""
    if response.status_code in guess.AUTH_FAILURE_STATUSES:
        raise TokenRejected(endpoint, _message(_json_object(response)), response.status_code)
    if not response.is_success:
        raise response_status_error(response, endpoint)
    data = _json_object(response)
    if data is None:
        raise APIError(
            f"expected a JSON object, got {response.headers.get('content-type', 'no type')!s}",
            endpoint=endpoint,
        )
    return data


def parse_login_response(response: httpx.Response) -> Secret:
    """The token, or an AuthenticationError with the server's words and the checklist."""
    data = _json_object(response)
    if response.status_code in guess.AUTH_FAILURE_STATUSES:
        text = _message(data) or f"HTTP {response.status_code}"
        raise UnauthorizedError(
            text, status_code=response.status_code, endpoint=LOGIN, detail=AUTH_CHECKLIST
        )
    if not response.is_success:
        raise response_status_error(response, LOGIN)
    if data is None:
        raise APIError("expected a JSON object", endpoint=LOGIN)
    if data.get("success") is not True:
        text = _message(data) or "login refused (no message)"
        raise LoginRefusedError(text, endpoint=LOGIN, detail=AUTH_CHECKLIST)
    token = data.get("authToken")
    if not isinstance(token, str) or not token:
        raise APIError("login reported success but returned no authToken", endpoint=LOGIN)
    return Secret(token)


def parse_generate_response(
    response: httpx.Response, *, di_code: str, format: Format, kind: DownloadKind
) -> GeneratedFile | None:
    """A :class:`GeneratedFile`, or ``None`` when the service says there is nothing (G1)."""
    data = _envelope(response, GENERATE)
    message = _message(data)
    if data.get("success") is not True:
        if is_no_score_orders(message):
            logger.info("fileGeneration for DI %s: no score orders (%s)", di_code, message)
            return None
        if looks_like_token_problem(message):
            raise TokenRejected(GENERATE, message, None)
        raise APIRefusalError(
            message or "file generation failed (no message)",
            endpoint=GENERATE,
            detail=f"DI code {di_code}: check the code, and that this account has the "
            "APOSRD HED Admin role for that institution.",
        )
    url = data.get("url")
    download_id = data.get("downloadId")
    if not isinstance(url, str) or not url:
        raise APIError("fileGeneration reported success but gave no url", endpoint=GENERATE)
    if isinstance(download_id, bool) or not isinstance(download_id, (str, int)):
        raise APIError(
            "fileGeneration reported success but gave no usable downloadId", endpoint=GENERATE
        )
    name = data.get("fileName")
    file_name = name.strip() if isinstance(name, str) else ""
    return GeneratedFile(
        url=url,
        file_name=file_name or guess.fallback_file_name(download_id, format),
        download_id=download_id,
        format=format,
        kind=kind,
    )


def parse_record_response(response: httpx.Response) -> None:
    """``None`` when the service accepted the record; an error otherwise."""
    data = _envelope(response, RECORD)
    if data.get("success") is not True:
        message = _message(data)
        if looks_like_token_problem(message):
            raise TokenRejected(RECORD, message, None)
        raise APIRefusalError(
            message or "recording the download failed (no message)", endpoint=RECORD
        )
