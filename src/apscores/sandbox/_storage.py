"""The presigned download host, S3 style (signature version 2): signing URLs, checking them,
and answering a GET or HEAD on one, ``Range`` included.

The service decides *whether* to answer (strict mode, faults); this module knows what S3
answers: 403 ``AccessDenied``/``SignatureDoesNotMatch`` for an expired or tampered URL,
400 ``InvalidArgument`` for a second authorisation next to the signed query, 206 with
``Content-Range`` for one satisfiable byte range, 416 ``InvalidRange`` for an unsatisfiable
one, and the whole object when the ``Range`` header is malformed or asks for several ranges.

Its ``ETag`` is S3's (:func:`etag`): the MD5 of the body for an object uploaded in one
part, ``"<hex>-<parts>"`` for one uploaded in parts, as the service's ``etag`` option says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, quote, unquote, urlsplit

import attrs

from apscores.sandbox._model import Download
from apscores.sandbox._replies import http_date, iso, origin, s3_error
from apscores.sandbox._wire import Body, SandboxRequest, SandboxResponse, body_size, slice_body

__all__ = [
    "ACCESS_KEY",
    "BUCKET",
    "ETAG_KINDS",
    "PART_SIZE",
    "download_key",
    "drop_records",
    "etag",
    "file_response",
    "parse_range",
    "presign",
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


def drop_records(response: SandboxResponse, records: int) -> SandboxResponse:
    """The answer without the body's last ``records`` lines (the first line always stays):
    cut just after a line ending, with a ``Content-Length`` that matches and the ``ETag``
    of the whole object, so that only the ``ETag`` shows the cut."""
    assert isinstance(response.body, bytes)
    lines = response.body.splitlines(keepends=True)
    kept = b"".join(lines[: max(len(lines) - records, 1)])
    headers = tuple(
        (name, str(len(kept)) if name.lower() == "content-length" else value)
        for name, value in response.headers
    )
    return attrs.evolve(response, headers=headers, body=kept)


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
