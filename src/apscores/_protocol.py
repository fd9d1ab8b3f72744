"""The sans-I/O core of the web-service client: requests in, models or exceptions out.

Nothing here opens a socket, sleeps or touches a file, so every rule of the protocol is
tested without a network and shared by :class:`~apscores.client.Client` and
:class:`~apscores.client.AsyncClient`, which only send, retry, sleep and stream (the idea
behind ``h11``). For each endpoint there is one ``build_*_request`` and one
``parse_*_response``; the retry, expiry, size and auth-failure decisions live here too.

GUESSES — what the public record does not say (see ``web-service.md`` §12), each kept in the
constants of the ``GUESSES`` section below so a live answer changes one line:

G1. ``NO_SCORE_ORDERS_MARKER``: "nothing new" is HTTP 2xx + ``success: false`` whose message
    contains ``no score orders found`` (any case). Only that substring is known (C2).
G2. ``TOKEN_PROBLEM_MARKERS`` / ``AUTH_FAILURE_STATUSES``: how a stale or refused token looks
    on a later call. Unknown; we assume 401/403 from the API host, or ``success: false``
    whose message mentions a token, session, authorisation or expiry. On that, the client
    logs in again once and repeats the call once.
G3. ``GENERATE_RETRYABLE_STATUSES``: ``fileGeneration`` may mint a new ``downloadId`` per
    call. It is retried when no answer arrived (connection errors, timeouts) and on 429 and
    502/503/504 (the gateway refused or gave up; any file minted meanwhile has a URL we never
    saw, and an unrecorded download is assumed not to move the ``new`` watermark). A 500 is
    the service's own failure: repeating it is unlikely to help and may mint records, so it
    is raised at once. Login, record and the download GET retry on 429/500/502/503/504.
G4. ``EXPIRES_MARGIN_SECONDS`` / ``MAX_REGENERATIONS``: the download URL is an S3-style
    presigned URL (``Expires=<unix time>``, or ``X-Amz-Date`` + ``X-Amz-Expires``); one that
    expires within 2 s, or a 403 from the storage host, means "generate again", at most twice.
G5. ``DOWNLOAD_SENDS_TOKEN = False``: the download GET carries no ``X-CB-Catapult-*`` header
    (both public scripts send them; a presigned URL should not need them, and sending them
    would hand the token to the storage host). Redirects are followed by hand, each hop a
    fresh request without them, never from https down to http.
G6. ``downloadId`` is sent back to ``webServiceDownloaded`` exactly as received (number or
    string); ``diCode`` is sent as a string; ``format`` upper case, ``downloadType`` lower case.
G7. A ``success: true`` generation without ``url`` is an error (C1 polls; we do not).
    A missing ``fileName`` falls back to ``apscores_<downloadId>.<txt|csv>``.
G8. A zero-byte file may be a failed transfer: it is saved but not recorded (only with
    ``check=False``; the file check refuses an empty file, see below).

Check before record. With ``check=True`` (the default) a saved body must also pass
:func:`apscores.filecheck.check_file` (every TXT line a whole record, or a known CSV header
and every row complete) before it gets its final name; a file that fails is deleted,
never recorded, and generated and downloaded afresh (the cut was probably in transit),
within the same bound as an expired URL, then :class:`IncompleteFileError` is raised.

:func:`download_flow` is ``Institution.download`` itself (generate, save, record, the
bounded regeneration and the :class:`DownloadObserver` calls) as a generator of steps
that both clients perform, so the sequence is written once.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import logging
import os
import random
import re
from collections.abc import Callable, Generator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs
import httpx

from apscores.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    DownloadError,
    DownloadURLExpired,
    IncompleteFileError,
    ParseError,
    RecordError,
)
from apscores.filecheck import FileCheck

__all__ = [
    "AUTH_CHECKLIST",
    "DEFAULT_BASE_URL",
    "Backoff",
    "BaseDownloadObserver",
    "BodyCheck",
    "DownloadObserver",
    "DownloadResult",
    "Failure",
    "Fetch",
    "FlowRunner",
    "Generate",
    "GeneratedFile",
    "Placement",
    "Record",
    "Saved",
    "Secret",
    "Settings",
    "TokenRejectedError",
    "build_download_request",
    "build_generate_request",
    "build_login_request",
    "build_record_request",
    "download_flow",
    "free_file_name",
    "parse_generate_response",
    "parse_login_response",
    "parse_record_response",
    "place_file",
]

logger = logging.getLogger("apscores")

Format = Literal["txt", "csv"]
Kind = Literal["new", "full"]

DEFAULT_BASE_URL = "https://aposrd-api-gw.collegeboard.org/aposrd-api-prod"
ENV_EMAIL = "APSCORES_EMAIL"
ENV_PASSWORD = "APSCORES_PASSWORD"  # noqa: S105 - the variable's name, not a password
ENV_BASE_URL = "APSCORES_BASE_URL"

LOGIN = "webServiceAuth"
GENERATE = "fileGeneration"
RECORD = "webServiceDownloaded"
DOWNLOAD = "download"

AUTHORIZATION_HEADER = "X-CB-Catapult-Authorization-Token"
AUTHENTICATION_HEADER = "X-CB-Catapult-Authentication-Token"
LOGIN_AUTHORIZATION = "CBLogin"
AUTHENTICATION_VALUE = "CBLogin Web Service"

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5

# --------------------------------------------------------------------------------------
# GUESSES: every assumption about the undocumented parts of the protocol (see docstring).
# --------------------------------------------------------------------------------------
NO_SCORE_ORDERS_MARKER = "no score orders found"  # G1
AUTH_FAILURE_STATUSES = frozenset({401, 403})  # G2
TOKEN_PROBLEM_MARKERS = (  # G2, matched case-insensitively in a success:false message
    "token",
    "session",
    "unauthori",
    "not authori",
    "not authenticated",
    "expired",
    "forbidden",
    "access denied",
)
GENERATE_RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})  # G3
EXPIRES_MARGIN_SECONDS = 2.0  # G4
MAX_REGENERATIONS = 2  # G4
DOWNLOAD_SENDS_TOKEN = False  # G5
# --------------------------------------------------------------------------------------

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


class TokenRejectedError(AuthenticationError):
    """A later call refused the token (G2); the client logs in again once before raising."""


class Secret:
    """A string that never shows itself in ``repr``/``str`` (passwords, tokens)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --- models ---------------------------------------------------------------------------


@attrs.frozen
class GeneratedFile:
    """A file the service generated: where to fetch it (short-lived) and what to record.

    ``url`` is hidden from ``repr`` because its query string is a signature.
    """

    url: str = attrs.field(repr=False)
    file_name: str
    download_id: str | int
    format: Format
    kind: Kind


@attrs.frozen
class DownloadResult:
    """A file saved by :meth:`Institution.download`; ``recorded`` is False for an empty file.

    ``records`` and ``exams`` come from the file check (``None`` with ``check=False``).
    """

    path: Path
    file_name: str
    download_id: str | int
    format: Format
    kind: Kind
    size: int
    sha256: str
    recorded: bool = True
    records: int | None = None
    exams: int | None = None


@attrs.frozen
class Settings:
    """Resolved client options (env fallbacks applied, values checked)."""

    email: str
    password: Secret
    base_url: str
    timeout: float
    max_retries: int
    retry_base_delay: float
    retry_max_delay: float


@attrs.frozen
class Failure:
    """One failed attempt: the error to raise if we stop, and whether another try may help."""

    error: APScoresError
    retryable: bool
    retry_after: float | None = None
    cause: BaseException | None = None


# --- options --------------------------------------------------------------------------


def resolve_settings(
    *,
    email: str | None,
    password: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int,
    retry_base_delay: float,
    retry_max_delay: float,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Apply the ``APSCORES_*`` fallbacks and reject unusable options before any call."""
    env = os.environ if environ is None else environ
    email = email or env.get(ENV_EMAIL) or None
    password = password or env.get(ENV_PASSWORD) or None
    missing = [
        f"{what} (argument {arg}= or environment variable {var})"
        for what, arg, var, value in (
            ("email", "email", ENV_EMAIL, email),
            ("password", "password", ENV_PASSWORD, password),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError("missing credentials: " + "; ".join(missing))
    assert email is not None
    assert password is not None
    url = (base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/")
    parsed = httpx.URL(url)
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise ConfigurationError(f"base_url must be an http(s) URL, got {url!r}")
    if timeout <= 0:
        raise ConfigurationError(f"timeout must be positive, got {timeout!r}")
    if max_retries < 0 or retry_base_delay < 0 or retry_max_delay < 0:
        raise ConfigurationError("max_retries, retry_base_delay and retry_max_delay must be >= 0")
    return Settings(
        email=email,
        password=Secret(password),
        base_url=url,
        timeout=float(timeout),
        max_retries=int(max_retries),
        retry_base_delay=float(retry_base_delay),
        retry_max_delay=float(retry_max_delay),
    )


_DI_CODE = re.compile(r"[0-9]{4}")


def check_di_code(di_code: str | int) -> str:
    """DI codes are 4 digits; a string keeps leading zeros, so an int must already have 4."""
    text = str(di_code).strip() if not isinstance(di_code, bool) else ""
    if not _DI_CODE.fullmatch(text):
        raise ConfigurationError(f"a DI code is 4 digits, got {di_code!r}")
    return text


def check_format(value: str) -> Format:
    low = str(value).lower()
    if low == "txt":
        return "txt"
    if low == "csv":
        return "csv"
    raise ConfigurationError(f"format must be 'txt' or 'csv', got {value!r}")


def check_kind(value: str) -> Kind:
    low = str(value).lower()
    if low == "new":
        return "new"
    if low == "full":
        return "full"
    raise ConfigurationError(f"kind must be 'new' or 'full', got {value!r}")


# --- headers and requests -------------------------------------------------------------


def encode_password(password: str) -> str:
    """Base64 of the UTF-8 bytes, standard alphabet with padding (P1; C1 and C2 agree)."""
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
    body = {"u": settings.email, "p": encode_password(settings.password.reveal())}
    return httpx.Request(
        "POST", _api_url(settings.base_url, LOGIN), headers=api_headers(None), json=body
    )


def build_generate_request(
    settings: Settings, token: Secret, di_code: str, format: Format, kind: Kind
) -> httpx.Request:
    body = {"diCode": di_code, "format": format.upper(), "downloadType": kind}  # G6
    return httpx.Request(
        "POST", _api_url(settings.base_url, GENERATE), headers=api_headers(token), json=body
    )


def build_record_request(
    settings: Settings, token: Secret, generated: GeneratedFile
) -> httpx.Request:
    body = {"downloadId": generated.download_id, "format": generated.format.upper()}  # G6
    return httpx.Request(
        "POST", _api_url(settings.base_url, RECORD), headers=api_headers(token), json=body
    )


def build_download_request(url: str | httpx.URL) -> httpx.Request:
    """A bare GET: no Catapult header ever goes to the storage host (G5)."""
    headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
    return httpx.Request("GET", url, headers=headers)


def apply_timeout(request: httpx.Request, timeout: float) -> httpx.Request:
    """``Client.send`` does not add the client's timeout to a request built by hand."""
    request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
    return request


# --- responses ------------------------------------------------------------------------


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


def _status_error(response: httpx.Response, endpoint: str) -> APIStatusError:
    text = _message(_json_object(response)) or response.reason_phrase or "error"
    return APIStatusError(text, status_code=response.status_code, endpoint=endpoint)


def is_no_score_orders(message: str) -> bool:
    """G1: the only known wording of "nothing new", matched in one place."""
    return NO_SCORE_ORDERS_MARKER in message.lower()


def looks_like_token_problem(message: str) -> bool:
    """G2: does a ``success: false`` message on a later call blame the token?"""
    low = message.lower()
    if is_no_score_orders(low):
        return False
    return any(marker in low for marker in TOKEN_PROBLEM_MARKERS)


def _token_rejected(endpoint: str, message: str) -> TokenRejectedError:
    return TokenRejectedError(
        message or "the service refused the token", endpoint=endpoint, detail=AUTH_CHECKLIST
    )


def _envelope(response: httpx.Response, endpoint: str) -> dict[str, Any]:
    """Status and JSON checks shared by the token-bearing endpoints (auth failure = G2)."""
    if response.status_code in AUTH_FAILURE_STATUSES:
        raise _token_rejected(endpoint, _message(_json_object(response)))
    if not response.is_success:
        raise _status_error(response, endpoint)
    data = _json_object(response)
    if data is None:
        raise APIError(
            f"expected a JSON object, got {response.headers.get('content-type', 'no type')!s}",
            endpoint=endpoint,
        )
    return data


def parse_login_response(response: httpx.Response) -> Secret:
    """The token, or :class:`AuthenticationError` with the server's words and the checklist."""
    data = _json_object(response)
    if response.status_code in AUTH_FAILURE_STATUSES:
        text = _message(data) or f"HTTP {response.status_code}"
        raise AuthenticationError(text, endpoint=LOGIN, detail=AUTH_CHECKLIST)
    if not response.is_success:
        raise _status_error(response, LOGIN)
    if data is None:
        raise APIError("expected a JSON object", endpoint=LOGIN)
    if data.get("success") is not True:
        text = _message(data) or "login refused (no message)"
        raise AuthenticationError(text, endpoint=LOGIN, detail=AUTH_CHECKLIST)
    token = data.get("authToken")
    if not isinstance(token, str) or not token:
        raise APIError("login reported success but returned no authToken", endpoint=LOGIN)
    return Secret(token)


def _fallback_name(download_id: str | int, format: Format) -> str:
    return f"apscores_{download_id}.{format}"  # G7


def parse_generate_response(
    response: httpx.Response, *, di_code: str, format: Format, kind: Kind
) -> GeneratedFile | None:
    """A :class:`GeneratedFile`, or ``None`` when the service says there is nothing (G1)."""
    data = _envelope(response, GENERATE)
    message = _message(data)
    if data.get("success") is not True:
        if is_no_score_orders(message):
            logger.info("fileGeneration for DI %s: no score orders (%s)", di_code, message)
            return None
        if looks_like_token_problem(message):
            raise _token_rejected(GENERATE, message)
        raise APIError(
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
    file_name = name if isinstance(name, str) and name.strip() else ""
    return GeneratedFile(
        url=url,
        file_name=file_name.strip() or _fallback_name(download_id, format),
        download_id=download_id,
        format=format,
        kind=kind,
    )


def parse_record_response(response: httpx.Response) -> None:
    data = _envelope(response, RECORD)
    if data.get("success") is not True:
        message = _message(data)
        if looks_like_token_problem(message):
            raise _token_rejected(RECORD, message)
        raise APIError(message or "recording the download failed (no message)", endpoint=RECORD)


# --- transport errors and retries -----------------------------------------------------


def translate_error(exc: httpx.HTTPError, endpoint: str) -> APIConnectionError:
    """The one place an ``httpx`` exception becomes ours (callers ``raise ... from exc``)."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"{endpoint}: no answer in time ({kind})")
    return APIConnectionError(f"{endpoint}: connection failed ({kind})")


def classify_exception(exc: httpx.HTTPError, endpoint: str) -> Failure:
    """Every transport error means no answer arrived, so a retry is safe (G3)."""
    return Failure(
        error=translate_error(exc, endpoint),
        retryable=isinstance(exc, httpx.TransportError),
        cause=exc,
    )


def is_retryable_status(endpoint: str, status_code: int) -> bool:
    allowed = GENERATE_RETRYABLE_STATUSES if endpoint == GENERATE else RETRYABLE_STATUSES
    return status_code in allowed


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def classify_response(response: httpx.Response, endpoint: str, now: float) -> Failure | None:
    """A retryable status as a :class:`Failure`; ``None`` when the parser should decide."""
    if not is_retryable_status(endpoint, response.status_code):
        return None
    return Failure(
        error=_status_error(response, endpoint),
        retryable=True,
        retry_after=parse_retry_after(response.headers.get("retry-after"), now),
    )


class Backoff:
    """Exponential backoff with jitter, bounded by ``max_retries`` and ``retry_max_delay``.

    A ``Retry-After`` is obeyed as given; one longer than ``retry_max_delay`` ends the
    retries (waiting that long inside a call is worse than failing clearly).
    """

    def __init__(self, settings: Settings, rng: Callable[[], float] = random.random) -> None:
        self._settings = settings
        self._rng = rng
        self.attempt = 0

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Seconds to sleep before the next attempt, or ``None`` to stop."""
        s = self._settings
        if self.attempt >= s.max_retries:
            return None
        if retry_after is not None and retry_after > s.retry_max_delay:
            return None
        backoff = min(s.retry_max_delay, s.retry_base_delay * 2.0**self.attempt)
        delay = backoff * (0.5 + self._rng() / 2)
        self.attempt += 1
        return max(delay, retry_after) if retry_after is not None else delay


# --- the download ---------------------------------------------------------------------

_AMZ_DATE = "%Y%m%dT%H%M%SZ"


def url_expires_at(url: str) -> float | None:
    """Unix time after which a presigned URL is dead, if the URL says (G4)."""
    try:
        params = {k.lower(): v for k, v in httpx.URL(url).params.multi_items()}
    except (httpx.InvalidURL, ValueError):
        return None
    try:
        if "expires" in params:
            return float(str(params["expires"]))
        if "x-amz-date" in params and "x-amz-expires" in params:
            start = datetime.strptime(params["x-amz-date"], _AMZ_DATE)
            return start.replace(tzinfo=timezone.utc).timestamp() + float(params["x-amz-expires"])
    except ValueError:
        return None
    return None


def is_url_expired(url: str, now: float, margin: float = EXPIRES_MARGIN_SECONDS) -> bool:
    expires = url_expires_at(url)
    return expires is not None and expires - margin <= now


def expired_error(reason: str) -> DownloadURLExpired:
    return DownloadURLExpired(f"the download URL can no longer be used: {reason}")


_XML_CODE = re.compile(rb"<Code>\s*([A-Za-z0-9_.-]{1,64})\s*</Code>")


def classify_download_status(response: httpx.Response, *, body: bytes, now: float) -> Failure:
    """Why a non-2xx download failed: 403 (or an S3 ``*Expired*`` code) means expired (G4).

    ``body`` is what could be read of the error reply; it is never quoted, because S3 error
    XML can echo the signature.
    """
    match = _XML_CODE.search(body)
    code = match.group(1).decode("ascii") if match else ""
    if response.status_code == 403 or "expired" in code.lower():
        detail = f"HTTP {response.status_code}" + (f", {code}" if code else "")
        return Failure(
            error=expired_error(f"the storage host refused it ({detail})"), retryable=False
        )
    text = code or response.reason_phrase or "error"
    error = APIStatusError(text, status_code=response.status_code, endpoint=DOWNLOAD)
    if is_retryable_status(DOWNLOAD, response.status_code):
        after = parse_retry_after(response.headers.get("retry-after"), now)
        return Failure(error=error, retryable=True, retry_after=after)
    return Failure(error=error, retryable=False)


def download_redirect(response: httpx.Response) -> httpx.Request | None:
    """The next hop as a fresh bare GET (G5), or ``None`` if this is not a redirect."""
    if not response.has_redirect_location:
        return None
    target = response.url.join(response.headers["location"])
    if response.url.scheme == "https" and target.scheme != "https":
        raise DownloadError("refusing a download redirect from https to a non-https URL")
    return build_download_request(target)


def body_broken(exc: httpx.HTTPError, received: int) -> Failure:
    error = DownloadError(
        f"the download broke after {received} bytes ({type(exc).__name__}); nothing was saved"
    )
    return Failure(error=error, retryable=True, cause=exc)


def content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class BodyCheck:
    """Counts and hashes the body while it streams, then checks it against Content-Length."""

    def __init__(self, expected: int | None) -> None:
        self.expected = expected
        self.size = 0
        self._hash = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._hash.update(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def finish(self, wire_bytes: int) -> Failure | None:
        """``wire_bytes`` is what arrived before decoding, which Content-Length counts.

        A response built in memory (mock transports) reports 0 wire bytes; then the
        decoded size, which is the same for an unencoded body, is used.
        """
        wire_bytes = wire_bytes or self.size
        if self.expected is not None and wire_bytes != self.expected:
            error = DownloadError(
                f"the download was {wire_bytes} bytes but the server announced "
                f"{self.expected}; nothing was saved"
            )
            return Failure(error=error, retryable=True)
        return None


_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f:*?"<>|]')


def safe_file_name(name: str) -> str:
    """The service's ``fileName`` as a plain name: no directories, no ``..`` (§12 row 12)."""
    base = _UNSAFE_CHARS.sub("_", re.split(r"[/\\]", name)[-1]).strip()
    if base in ("", ".", ".."):
        raise DownloadError(f"refusing unusable file name {name!r} from the service")
    return base


def describe_url(url: httpx.URL) -> str:
    """Host and path only: a presigned URL's query is its signature."""
    return f"{url.host}{url.path}"


_SIGNED_QUERY = re.compile(r"(signature|x-amz-|sig=|token|credential|expires)", re.IGNORECASE)


def redact_url(url: httpx.URL) -> str:
    """The URL with a signed-looking query replaced, for other loggers (``httpx``)."""
    query = url.query.decode("ascii", "replace")
    if query and _SIGNED_QUERY.search(query):
        return str(url.copy_with(query=None)) + "?<redacted>"
    return str(url)


def log_response(response: httpx.Response, attempt: int) -> None:
    request = response.request
    logger.debug(
        "%s %s -> %s (attempt %d)",
        request.method,
        describe_url(request.url),
        response.status_code,
        attempt + 1,
    )


def retry_delay(backoff: Backoff, failure: Failure, endpoint: str) -> float:
    """How long to wait before trying again; raises the failure's error when it may not."""
    delay = backoff.next_delay(failure.retry_after) if failure.retryable else None
    if delay is None:
        raise failure.error from failure.cause
    logger.info("%s: %s; retrying in %.2f s", endpoint, failure.error, delay)
    return delay


def make_result(saved: Saved, generated: GeneratedFile) -> DownloadResult:
    """The outcome of a saved file; an empty file is not recorded (G8)."""
    found = saved.file_check
    return DownloadResult(
        path=saved.path,
        file_name=generated.file_name,
        download_id=generated.download_id,
        format=generated.format,
        kind=generated.kind,
        size=saved.check.size,
        sha256=saved.check.sha256,
        recorded=saved.check.size > 0,
        records=found.records if found is not None else None,
        exams=found.exams if found is not None else None,
    )


def incomplete_file(problem: ParseError, generated: GeneratedFile) -> Failure:
    """A saved body that failed the file check: not kept, not recorded, generated again."""
    error = IncompleteFileError(
        f"download {generated.download_id} is not a whole {generated.format.upper()} score "
        f"file ({problem}); it was neither kept nor recorded",
        problem=problem,
    )
    return Failure(error=error, retryable=False)


def record_failure_message(exc: BaseException) -> str:
    return f"the file was saved but recording the download failed ({exc})"


# --- never overwrite ------------------------------------------------------------------

MAX_FREE_NAME_TRIES = 1000
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def free_file_name(wanted: str, download_id: str | int, taken: Callable[[str], bool]) -> str:
    """``wanted``, or the first of ``<stem>-<id><suffix>``, ``<stem>-<id>-2<suffix>``, ...
    that ``taken`` (a look-up in the destination directory) says is free.

    Names like ``AP_HED_Scores_<DI>_<mmddyyyy>_<hhmm>.txt`` repeat for two files generated
    in the same minute; the earlier one is already recorded, so it must never be replaced.
    The download id makes the new name deterministic and says which download it holds.
    """
    if not taken(wanted):
        return wanted
    dot = wanted.rfind(".")
    stem, suffix = (wanted[:dot], wanted[dot:]) if dot > 0 else (wanted, "")
    tag = _ID_UNSAFE.sub("_", str(download_id))[:64] or "download"
    for number in range(1, MAX_FREE_NAME_TRIES + 1):
        candidate = f"{stem}-{tag}{suffix}" if number == 1 else f"{stem}-{tag}-{number}{suffix}"
        if not taken(candidate):
            return candidate
    raise DownloadError(f"no free file name for {wanted!r}: {MAX_FREE_NAME_TRIES} are taken")


@attrs.frozen
class Placement:
    """Where one download goes, chosen before the GET so an observer can note it.

    ``path`` is ``directory / wanted``, or a free variant of it when that name is taken;
    ``replace`` is True only for :meth:`Files.download` given an explicit file path, the
    one case where the caller asked for a name and gets it even over an existing file.
    """

    directory: Path
    wanted: str
    download_id: str | int
    path: Path
    replace: bool = False


def place_file(
    directory: Path,
    wanted: str,
    download_id: str | int,
    *,
    taken: Callable[[str], bool],
    replace: bool = False,
) -> Placement:
    """A :class:`Placement`; ``taken`` is the caller's existence check (no I/O here)."""
    name = wanted if replace else free_file_name(wanted, download_id, taken)
    return Placement(directory, wanted, download_id, directory / name, replace)


# --- Institution.download as steps ----------------------------------------------------


class DownloadObserver(Protocol):
    """Told at each step boundary of ``Institution.download``, in order, synchronously.

    A run is ``generated`` then either ``abandoned`` (and, for an expired URL with
    regenerations left, ``generated`` again for a fresh file) or ``saved`` then
    ``recorded``. ``recorded`` is missing when recording failed (``RecordError``) or the
    file is empty (G8). The observer's own exceptions propagate to the caller: raising in
    ``generated`` stops before the GET, in ``saved`` before recording. Errors that are not
    :class:`APScoresError` (a full disk, cancellation) propagate without ``abandoned``.
    """

    def generated(self, generated: GeneratedFile, target: Path) -> None:
        """The service generated a file; ``target`` is where it is about to be saved."""

    def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """That file never reached the disk (expired URL, failed download); nothing recorded."""

    def saved(self, result: DownloadResult) -> None:
        """The file is complete under ``result.path`` (which may differ from ``target`` if
        another process took that name meanwhile); recording comes next."""

    def recorded(self, result: DownloadResult) -> None:
        """The service was told the download succeeded."""


class BaseDownloadObserver:
    """A :class:`DownloadObserver` that does nothing: subclass it, override what you need."""

    def generated(self, generated: GeneratedFile, target: Path) -> None:
        """Does nothing."""

    def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        """Does nothing."""

    def saved(self, result: DownloadResult) -> None:
        """Does nothing."""

    def recorded(self, result: DownloadResult) -> None:
        """Does nothing."""


@attrs.frozen
class Generate:
    """Step: call ``fileGeneration``; the outcome is a :class:`GeneratedFile` or ``None``."""

    di_code: str
    format: Format
    kind: Kind


@attrs.frozen
class Fetch:
    """Step: download into ``placement`` atomically (and check the file first when
    ``check``); the outcome is :class:`Saved`."""

    generated: GeneratedFile
    placement: Placement
    check: bool = True


@attrs.frozen
class Record:
    """Step: call ``webServiceDownloaded``; the outcome is ``None``."""

    generated: GeneratedFile


@attrs.frozen
class Saved:
    """A complete file under its final name, with its size and hash from the stream, and
    what the file check found (``None`` when it was not asked for)."""

    path: Path
    check: BodyCheck
    file_check: FileCheck | None = None


Step = Generate | Fetch | Record
DownloadFlow = Generator[Step, object, DownloadResult | None]


def download_flow(
    di_code: str,
    format: Format,
    kind: Kind,
    *,
    place: Callable[[GeneratedFile], Placement],
    observer: DownloadObserver | None = None,
    check: bool = True,
) -> DownloadFlow:
    """Generate -> save -> record as one safe unit; the client performs each yielded step.

    A step that fails is thrown back in: an expired URL or a file that fails the check
    abandons the file and generates a fresh one (at most ``MAX_REGENERATIONS`` times,
    G4); a failed record becomes :class:`RecordError` naming the saved file. Returns
    ``None`` when there is nothing new.
    """
    tell: DownloadObserver = observer if observer is not None else BaseDownloadObserver()
    regenerated = 0
    while True:
        generated = yield Generate(di_code, format, kind)
        if generated is None:
            return None
        assert isinstance(generated, GeneratedFile)
        placement = place(generated)
        tell.generated(generated, placement.path)
        try:
            saved = yield Fetch(generated, placement, check)
        except APScoresError as error:
            tell.abandoned(generated, error)
            again = isinstance(error, (DownloadURLExpired, IncompleteFileError))
            if not again or regenerated >= MAX_REGENERATIONS:
                raise
            regenerated += 1
            logger.info("%s; generating again (%d)", error, regenerated)
            continue
        assert isinstance(saved, Saved)
        result = make_result(saved, generated)
        if not result.recorded:
            logger.warning(
                "%s is empty: saved but not recorded (it may be a failed transfer)", result.path
            )
        tell.saved(result)
        if not result.recorded:
            return result
        try:
            yield Record(generated)
        except APScoresError as error:
            raise RecordError(
                record_failure_message(error),
                download_id=str(generated.download_id),
                path=result.path,
            ) from error
        tell.recorded(result)
        return result


class FlowRunner:
    """Drives a :data:`DownloadFlow` for a client: ``step`` is what to perform next
    (``None`` once ``result`` is set); report each outcome with :meth:`send` or the
    step's exception with :meth:`throw`.
    """

    def __init__(self, flow: DownloadFlow) -> None:
        self._flow = flow
        self.result: DownloadResult | None = None
        self.step: Step | None = self._advance(lambda: next(flow))

    def _advance(self, move: Callable[[], Step]) -> Step | None:
        try:
            return move()
        except StopIteration as stop:
            self.result = stop.value
            return None

    def send(self, outcome: object) -> None:
        self.step = self._advance(lambda: self._flow.send(outcome))

    def throw(self, error: Exception) -> None:
        self.step = self._advance(lambda: self._flow.throw(error))
