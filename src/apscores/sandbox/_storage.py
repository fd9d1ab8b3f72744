"""The storage host: presigned download URLs, S3 style (signature version 2): signing them,
checking them, and answering a GET or HEAD on one, ``Range`` included, in S3's XML shapes,
with the faults armed for ``"download"``.

Strict mode and the faults decide *whether* to answer; this module knows what S3 answers:
403 ``AccessDenied``/``SignatureDoesNotMatch`` for an expired or tampered URL, 400
``InvalidArgument`` for a second authorisation next to the signed query, 206 with
``Content-Range`` for one satisfiable byte range, 416 ``InvalidRange`` for an unsatisfiable
one, and the whole object when the ``Range`` header is malformed or asks for several ranges.

Its ``ETag`` is S3's (:func:`etag`): the MD5 of the body for an object uploaded in one
part, ``"<hex>-<parts>"`` for one uploaded in parts, as the service's ``etag`` option says.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import hashlib
import hmac
import http
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

from apscores.sandbox._faults import Fault
from apscores.sandbox._observe import Remark, storage_remarks
from apscores.sandbox._values import (
    Body,
    Download,
    SandboxRequest,
    SandboxResponse,
    body_size,
    origin,
    slice_body,
)

if TYPE_CHECKING:
    from apscores.sandbox._api import Handled
    from apscores.sandbox._service import SandboxService

__all__ = [
    "ACCESS_KEY",
    "BUCKET",
    "ETAG_KINDS",
    "PART_SIZE",
    "StorageHost",
    "download_key",
    "etag",
    "file_response",
    "http_date",
    "iso",
    "parse_range",
    "presign",
    "s3_error",
    "second_authorisation",
    "verify",
]

BUCKET = "aposrd-hed-score-files"
ACCESS_KEY = "SANDBOXAKIAEXAMPLE"
UNSATISFIABLE = (-1, -1)


def _signature(secret: bytes, path: str, expires: int) -> str:
    text = f"GET\n\n\n{expires}\n{path}".encode()
    return base64.b64encode(hmac.new(secret, text, hashlib.sha256).digest()).decode()


def presign(secret: bytes, storage_base_url: str, path: str, expires: int) -> str:
    """A URL for ``path`` (under the storage base URL) that works until ``expires``."""
    base_path = urlsplit(storage_base_url).path.rstrip("/")
    full_path = quote(base_path + path)
    signature = quote(_signature(secret, full_path, expires), safe="")
    query = f"AWSAccessKeyId={ACCESS_KEY}&Expires={expires}&Signature={signature}"
    return f"{origin(storage_base_url)}{full_path}?{query}"


def second_authorisation(request: SandboxRequest) -> SandboxResponse | None:
    """S3's 400 for an ``Authorization`` header next to a signed query (in every mode)."""
    if "authorization" in request.headers and "Signature=" in urlsplit(request.url).query:
        return s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
            ArgumentName="Authorization",
        )
    return None


def verify(request: SandboxRequest, secret: bytes, now: float) -> SandboxResponse | None:
    """The 403 for a URL that is unsigned, tampered with or expired; None when it is good."""
    parts = urlsplit(request.url)
    query = parse_qs(parts.query)
    expires_text = query.get("Expires", [""])[0]
    signature = query.get("Signature", [""])[0]
    if not (expires_text.isdigit() and signature and query.get("AWSAccessKeyId")):
        return s3_error(
            403,
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and "
            "AWSAccessKeyId parameters",
        )
    expires = int(expires_text)
    expected = _signature(secret, parts.path, expires)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    if now > expires:
        return s3_error(
            403, "AccessDenied", "Request has expired", Expires=iso(expires), ServerTime=iso(now)
        )
    return None


def download_key(request: SandboxRequest) -> tuple[str, str] | None:
    """(download id, file name) from ``/<bucket>/<DI>/<id>/<fileName>``."""
    pieces = unquote(urlsplit(request.url).path).rsplit("/", 2)
    return (pieces[-2], pieces[-1]) if len(pieces) == 3 else None


def parse_range(value: str | None, size: int | None) -> tuple[int, int] | None:
    """The inclusive byte range (first, last) a ``Range`` header asks for.

    None means "send the whole object": no header, a malformed one, several ranges (S3
    serves only one) or a body of unknown size. :data:`UNSATISFIABLE` means 416.
    """
    if value is None or size is None:
        return None
    unit, _, spec = value.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    digits = [text for text in (first_text, last_text) if text]
    if not dash or not digits or not all(text.isdigit() for text in digits):
        return None
    if not first_text:  # bytes=-N: the last N bytes
        suffix = int(last_text)
        return UNSATISFIABLE if suffix == 0 or size == 0 else (max(size - suffix, 0), size - 1)
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # RFC 9110: an invalid range is ignored
    if first >= size:
        return UNSATISFIABLE
    return first, min(int(last_text), size - 1) if last_text else size - 1


#: The part size of a multipart upload (the AWS CLI's default, 8 MiB).
PART_SIZE = 8 * 1024 * 1024
#: What the ``etag`` option of the service may say: ``"md5"`` (an object uploaded in one
#: part: the MD5 of the body), ``"multipart"`` (uploaded in parts) or ``"none"``.
ETAG_KINDS = ("md5", "multipart", "none")


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def etag(body: Body, download: Download, kind: str = "md5") -> str | None:
    """S3's ``ETag`` for ``body`` (quoted), or None for ``kind="none"``.

    One part: the MD5 of the body. Several parts (``"multipart"``, and always for a
    streamed body, as S3 has a 1 GB file uploaded in parts): the MD5 of the parts' MD5s
    and ``-<parts>``; a streamed body's comes from its id and size instead, so a 1 GB
    file is not read twice.
    """
    if kind == "none":
        return None
    size = body_size(body)
    if not isinstance(body, bytes):
        parts = max(1, -(-(size or 0) // PART_SIZE))
        digest = _md5(f"{download.download_id}:{size}".encode()).hex()
        return f'"{digest}-{parts}"'
    if kind == "md5":
        return f'"{_md5(body).hex()}"'
    pieces = [body[at : at + PART_SIZE] for at in range(0, max(len(body), 1), PART_SIZE)]
    digest = _md5(b"".join(map(_md5, pieces))).hex()
    return f'"{digest}-{len(pieces)}"'


def file_response(
    request: SandboxRequest, download: Download, body: Body, etag_kind: str = "md5"
) -> SandboxResponse:
    """The 200 (whole file), 206 (one range) or 416 answer for a good URL."""
    size = body_size(body)
    tag = etag(body, download, etag_kind)
    common = (
        ("Content-Type", "text/plain" if download.format == "TXT" else "text/csv"),
        ("Accept-Ranges", "bytes"),
        *((("ETag", tag),) if tag is not None else ()),
        ("Last-Modified", http_date(download.created_at)),
        ("Content-Disposition", f'attachment; filename="{download.file_name}"'),
    )
    wanted = parse_range(request.headers.get("range"), size)
    if wanted == UNSATISFIABLE:
        return s3_error(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
            ("Content-Range", f"bytes */{size}"),
            RangeRequested=request.headers.get("range", ""),
            ActualObjectSize=str(size),
        )
    status, part = 200, body
    length = size
    extra: tuple[tuple[str, str], ...] = ()
    if wanted is not None:
        first, last = wanted
        status, length = 206, last - first + 1
        part = slice_body(body, first, length)
        extra = (("Content-Range", f"bytes {first}-{last}/{size}"),)
    headers = (
        common[0],
        *((("Content-Length", str(length)),) if length is not None else ()),
        *common[1:],
        *extra,
    )
    if request.method == "HEAD":
        return SandboxResponse(status, headers, b"")
    return SandboxResponse(status, headers, part)


_S3_CODES = {
    400: ("InvalidRequest", "Bad Request"),
    403: ("AccessDenied", "Request has expired"),
    404: ("NoSuchKey", "The specified key does not exist."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}


def _fail(fault: Fault) -> SandboxResponse:
    """A ``fail`` fault's answer, as S3 gives it (403 reads as an expired URL)."""
    extra = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
    code, default = _S3_CODES.get(
        fault.status, ("ServiceError", http.HTTPStatus(fault.status).phrase)
    )
    return s3_error(fault.status, code, fault.message or default, *extra)


class StorageHost:
    """The storage host of one :class:`~apscores.sandbox.SandboxService`; it holds the key
    that signs the download URLs, which no one else sees."""

    def __init__(self, service: SandboxService) -> None:
        self.service = service
        self._secret = secrets.token_bytes(32)

    def url(self, di_code: str, number: int, file_name: str, expires: int) -> str:
        """The presigned URL of a download's file, good until ``expires``."""
        path = f"/{BUCKET}/{di_code}/{number}/{file_name}"
        return presign(self._secret, self.service.storage_base_url, path, expires)

    def answer(self, request: SandboxRequest) -> Handled:
        """Answer a presigned-URL request with the ``"download"`` faults applied."""
        remarks = storage_remarks(request.headers, self.service.issued_tokens)
        response, fault = self.service.faults.answer(
            "download", request.method, lambda: self._fetch(request, remarks), _fail
        )
        return "download", response, fault, remarks

    def _fetch(self, request: SandboxRequest, remarks: tuple[Remark, ...]) -> SandboxResponse:
        if request.method not in ("GET", "HEAD"):
            return s3_error(405, "MethodNotAllowed", "The specified method is not allowed.")
        service = self.service
        if service.strict and remarks:
            # The real host ignores these headers; strict mode holds a client to not
            # sending them, since they hand its token to a host that is not the API.
            reasons = "; ".join(remark.message for remark in remarks)
            return s3_error(400, "InvalidArgument", f"strict sandbox: {reasons}")
        refusal = second_authorisation(request) or verify(request, self._secret, service.clock())
        if refusal is not None:
            return refusal
        key = download_key(request)
        download = service.find_download(key[0]) if key else None
        if key is None or download is None or download.file_name != key[1]:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        body = service.file_body(download.download_id)
        response = file_response(request, download, body, service.etag)
        if request.method == "GET" and response.status in (200, 206):
            download.fetches += 1
        return response


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
