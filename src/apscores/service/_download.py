"""The download step's rules: URL expiry, the storage host's answers, body integrity
(``Content-Length`` and the ``ETag``'s MD5), safe file names that never replace a file,
and logging without signatures. No I/O."""

from __future__ import annotations

import errno
import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import attrs
import httpx

from apscores.errors import (
    DownloadError,
    DownloadURLExpired,
    IncompleteFileError,
    ParseError,
    StorageError,
    status_error,
)
from apscores.service import _guesses as guess
from apscores.service._models import DownloadResult, GeneratedFile
from apscores.service._retry import (
    FailedAttempt,
    is_retryable_status,
    parse_retry_after,
    translate_error,
)
from apscores.service._wire import DOWNLOAD, build_download_request

__all__ = [
    "MAX_FILE_NAME_BYTES",
    "MAX_REDIRECTS",
    "BodyCheck",
    "Placement",
    "body_broken",
    "classify_download_status",
    "content_length",
    "describe_url",
    "download_redirect",
    "expired_error",
    "free_file_name",
    "incomplete_file",
    "is_url_expired",
    "log_response",
    "make_result",
    "place_file",
    "redact_url",
    "safe_file_name",
    "storage_md5",
    "url_expires_at",
]

logger = logging.getLogger("apscores")

MAX_REDIRECTS = 5
#: The longest file name the service may give us, in UTF-8 bytes: file systems allow 255,
#: and the hidden ``.<name>.part-<random>`` temporary name and a ``-<download id>`` suffix
#: need room.
MAX_FILE_NAME_BYTES = 150

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


def is_url_expired(url: str, now: float, margin: float = guess.EXPIRES_MARGIN_SECONDS) -> bool:
    """Whether the URL expires within ``margin`` seconds (then: generate again)."""
    expires = url_expires_at(url)
    return expires is not None and expires - margin <= now


def expired_error(reason: str) -> DownloadURLExpired:
    return DownloadURLExpired(f"the download URL can no longer be used: {reason}")


_XML_CODE = re.compile(rb"<Code>\s*([A-Za-z0-9_.-]{1,64})\s*</Code>")


def classify_download_status(response: httpx.Response, *, body: bytes, now: float) -> FailedAttempt:
    """Why a non-2xx download failed: 403 (or an S3 ``*Expired*`` code) means expired (G4).

    ``body`` is what could be read of the error reply; it is never quoted, because S3 error
    XML can echo the signature.
    """
    match = _XML_CODE.search(body)
    code = match.group(1).decode("ascii") if match else ""
    if response.status_code == 403 or "expired" in code.lower():
        detail = f"HTTP {response.status_code}" + (f", {code}" if code else "")
        return FailedAttempt(
            error=expired_error(f"the storage host refused it ({detail})"), retryable=False
        )
    text = code or response.reason_phrase or "error"
    error = status_error(text, status_code=response.status_code, endpoint=DOWNLOAD)
    if is_retryable_status(DOWNLOAD, response.status_code):
        after = parse_retry_after(response.headers.get("retry-after"), now)
        return FailedAttempt(error=error, retryable=True, retry_after=after)
    return FailedAttempt(error=error, retryable=False)


def download_redirect(response: httpx.Response) -> httpx.Request | None:
    """The next hop as a fresh bare GET (G5), or ``None`` if this is not a redirect."""
    if not response.has_redirect_location:
        return None
    target = response.url.join(response.headers["location"])
    if response.url.scheme == "https" and target.scheme != "https":
        raise DownloadError("refusing a download redirect from https to a non-https URL")
    return build_download_request(target)


def body_broken(exc: httpx.HTTPError, received: int) -> FailedAttempt:
    """The connection broke while the body arrived: no (whole) answer came, as when it
    breaks before the headers, so the same :class:`~apscores.errors.APIConnectionError`."""
    base = translate_error(exc, DOWNLOAD)
    error = type(base)(
        f"{base.message}: it broke after {received} bytes of the file; nothing was saved",
        endpoint=DOWNLOAD,
    )
    return FailedAttempt(error=error, retryable=True)


def content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


_SINGLE_PART_ETAG = re.compile(r'^("?)([0-9a-fA-F]{32})\1$')
_MULTIPART_ETAG = re.compile(r'^("?)[0-9a-fA-F]{32}-[0-9]+\1$')
#: ``x-amz-server-side-encryption`` values whose ETag is not the body's MD5 (G9).
_KMS = ("aws:kms", "aws:kms:dsse")


def storage_md5(response: httpx.Response) -> str | None:
    """G9: the MD5 the body must have, from the storage host's single-part ``ETag``.

    ``None`` when the answer proves nothing: no ``ETag``, a multipart one (``"<hex>-N"``,
    not a hash of the body), any other form, a body sent with a ``Content-Encoding`` (the
    ETag hashes the stored bytes, not the decoded ones), or an object encrypted with
    SSE-KMS or SSE-C (whose ETag is not an MD5). Each is noted in the debug log.
    """
    etag = response.headers.get("etag")
    if etag is None:
        return None
    etag = etag.strip()
    match = _SINGLE_PART_ETAG.match(etag)
    headers = response.headers
    why = ""
    if match is None:
        multipart = _MULTIPART_ETAG.match(etag) is not None
        why = "a multipart ETag" if multipart else "an ETag that is not an MD5"
    elif headers.get("content-encoding", "identity").strip().lower() != "identity":
        why = "a body sent with a Content-Encoding"
    elif (
        headers.get("x-amz-server-side-encryption", "").strip().lower() in _KMS
        or "x-amz-server-side-encryption-customer-algorithm" in headers
    ):
        why = "an object encrypted with SSE-KMS or SSE-C"
    if why:
        logger.debug(
            "%s: %s, so the body is not checked against its ETag",
            describe_url(response.url),
            why,
        )
        return None
    assert match is not None
    return match.group(2).lower()


class BodyCheck:
    """Counts and hashes the body while it streams, then checks it against Content-Length
    and, when the storage host gave a single-part ``ETag`` (``md5``), against its MD5."""

    def __init__(self, expected: int | None, md5: str | None = None) -> None:
        self.expected = expected
        self.md5 = md5
        self.size = 0
        #: True once the body's MD5 equals the storage host's ETag (see ``finish``).
        self.verified = False
        self._hash = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 is not None else None

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._hash.update(chunk)
        if self._md5 is not None:
            self._md5.update(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def finish(self, wire_bytes: int, generated: GeneratedFile) -> FailedAttempt | None:
        """``wire_bytes`` is what arrived before decoding, which Content-Length counts.

        A response built in memory (mock transports) reports 0 wire bytes; then the
        decoded size, which is the same for an unencoded body, is used. A size that differs
        is a broken transfer (tried again); an MD5 that differs from the ETag is a body cut
        or changed on the way, handled like a file that is not whole (G9).
        """
        wire_bytes = wire_bytes or self.size
        if self.expected is not None and wire_bytes != self.expected:
            error = DownloadError(
                f"the download was {wire_bytes} bytes but the server announced "
                f"{self.expected}; nothing was saved"
            )
            return FailedAttempt(error=error, retryable=True)
        if self._md5 is None:
            return None
        if self._md5.hexdigest() != self.md5:
            return FailedAttempt(
                error=IncompleteFileError(
                    f"download {generated.download_id}: the body's MD5 is not the storage "
                    f"host's ETag (the body was cut or changed on the way, {self.size} bytes "
                    "received); it was neither kept nor recorded"
                ),
                retryable=False,
            )
        self.verified = True
        return None


def incomplete_file(problem: ParseError, generated: GeneratedFile) -> FailedAttempt:
    """A saved body that failed the file check: not kept, not recorded, generated again."""
    error = IncompleteFileError(
        f"download {generated.download_id} is not a whole {generated.format.upper()} score "
        f"file ({problem}); it was neither kept nor recorded",
        problem=problem,
    )
    return FailedAttempt(error=error, retryable=False)


def make_result(
    generated: GeneratedFile,
    path: Path,
    body: BodyCheck,
    records: int | None = None,
    exams: int | None = None,
) -> DownloadResult:
    """The outcome of a saved file; an empty file is not recorded (G8)."""
    return DownloadResult(
        path=path,
        file_name=generated.file_name,
        download_id=generated.download_id,
        format=generated.format,
        kind=generated.kind,
        size=body.size,
        sha256=body.sha256,
        recorded=body.size > 0,
        records=records,
        exams=exams,
    )


# --- names ------------------------------------------------------------------------------

_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f:*?"<>|]')


def _shorten(name: str, limit: int) -> str:
    """``name`` cut to ``limit`` UTF-8 bytes, keeping its suffix (``.txt``)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 and len(name) - dot <= 10 else ""
    stem = name[: len(name) - len(suffix)]
    room = limit - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > room:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def safe_file_name(name: str) -> str:
    """The service's ``fileName`` as a plain name: no directories, no ``..``, no control
    or reserved characters, and short enough for any file system
    (``docs/reference/web-service.md`` §12 row 12)."""
    base = _UNSAFE_CHARS.sub("_", re.split(r"[/\\]", name)[-1]).strip()
    if base in ("", ".", ".."):
        raise DownloadError(f"refusing unusable file name {name!r} from the service")
    return _shorten(base, MAX_FILE_NAME_BYTES)


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
    raise StorageError(
        errno.EEXIST, f"no free file name for {wanted!r}: {MAX_FREE_NAME_TRIES} are taken"
    )


@attrs.frozen
class Placement:
    """Where one download goes, chosen before the GET so an observer can note it.

    ``path`` is ``directory / wanted``, or a free variant of it when that name is taken;
    ``replace`` is True only for ``Files.download`` given an explicit file path, the one
    case where the caller asked for a name and gets it even over an existing file.
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
