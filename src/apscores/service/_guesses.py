"""What the public record does not say about the service, decided once, here.

``docs/reference/web-service.md`` §12 lists the open questions (its rows are cited below as
"§12 row N"; source ids such as C1 and C2 are those of that page's *Sources* table). Each
answer the client relies on is a constant below, so that a live response that settles a
question changes one line; the user documentation (``docs/errors-and-retries.md``) says
what was chosen. The labels G1-G9 are this module's own, used by the code that relies on
each answer.

G1. ``NO_SCORE_ORDERS_MARKER`` (§7, §12 row 4): "nothing new" is HTTP 2xx + ``success:
    false`` whose message contains ``no score orders found`` (any case). Only that
    substring is known (source C2).
G2. ``TOKEN_PROBLEM_MARKERS`` / ``AUTH_FAILURE_STATUSES`` (§12 rows 2-3): how a stale or
    refused token looks on a later call. Unknown; we assume 401/403 from the API host, or
    ``success: false`` whose message mentions a token, session, authorisation or expiry.
    On that, the client logs in again once and repeats the call once.
G2b. ``di_code_refused_advice`` (§10): a ``fileGeneration`` still refused with the fresh
    token of a login that just worked refuses that DI code, not the account ("a DI code
    that does not exist, or one the account cannot access" has an unknown shape; report the
    service's message and the DI code, and suggest the role). Only a 401 stays a login
    failure. The fetch job makes it that code's failure (exit 5), never "login refused".
G3. ``GENERATE_RETRYABLE_STATUSES`` (§9, §12 row 14): ``fileGeneration`` may mint a new
    ``downloadId`` per call. It is retried when no answer arrived (connection errors,
    timeouts) and on 429 and 502/503/504 (the gateway refused or gave up; any file minted
    meanwhile has a URL we never saw, and an unrecorded download is assumed not to move the
    ``new`` watermark). A 500 is the service's own failure: repeating it is unlikely to help
    and may mint records, so it is raised at once. Login, record and the download GET retry
    on 429/500/502/503/504.
G4. ``EXPIRES_MARGIN_SECONDS`` / ``MAX_REGENERATIONS`` (§8, §12 row 5): the download URL is
    an S3-style presigned URL (``Expires=<unix time>``, or ``X-Amz-Date`` +
    ``X-Amz-Expires``); one that expires within 2 s, or a 403 from the storage host, means
    "generate again", at most twice. A saved file that fails the file check is generated
    again within the same bound.
G5. ``DOWNLOAD_SENDS_TOKEN = False`` (§4, §12 rows 6 and 17): the download GET carries no
    ``X-CB-Catapult-*`` header (both public scripts send them; a presigned URL does not
    need them, and sending them would hand the token to the storage host). Redirects are
    followed by hand, each hop a fresh request without them, never from https down to http.
G6. (§12 rows 1, 7 and 16) ``downloadId`` is sent back to ``webServiceDownloaded`` exactly
    as received (number or string); ``diCode`` is sent as a string; ``format`` upper case,
    ``downloadType`` lower case.
G7. (§3) A ``success: true`` generation without ``url`` is an error (source C1 polls; we do
    not). A missing ``fileName`` falls back to :func:`fallback_file_name`.
G8. (§12 row 13) A zero-byte body may be a failed transfer: it is never recorded. With the
    file check (the default) it is refused like any file that is not whole; without it,
    it is saved and reported with ``recorded=False``.
G9. (§8) The storage host is S3 (G4), so a single-part ``ETag`` (``"<32 hex>"``) is the MD5 of
    the body: the saved body must have it before it is recorded, or it is handled like a
    file that is not whole (generated again, then ``IncompleteFileError``); a match lets
    the file check read the body by the usual framing rules (``verified``). Skipped, and
    noted in the debug log: a multipart ``ETag`` (``"<hex>-N"``, a hash of the parts'
    hashes), any other form or none, a body sent with a ``Content-Encoding`` (the ETag
    hashes the stored bytes), and SSE-KMS or SSE-C objects (``x-amz-server-side-encryption:
    aws:kms``, or a customer key), whose ``ETag`` is no MD5. The rule is in
    :func:`apscores.service._download.storage_md5`.
"""

from __future__ import annotations

__all__ = [
    "AUTH_FAILURE_STATUSES",
    "DOWNLOAD_SENDS_TOKEN",
    "EXPIRES_MARGIN_SECONDS",
    "GENERATE_RETRYABLE_STATUSES",
    "MAX_REGENERATIONS",
    "NO_SCORE_ORDERS_MARKER",
    "RETRYABLE_STATUSES",
    "TOKEN_PROBLEM_MARKERS",
    "di_code_refused_advice",
    "fallback_file_name",
]

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
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})  # G3 (login, record, download)
GENERATE_RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})  # G3
EXPIRES_MARGIN_SECONDS = 2.0  # G4
MAX_REGENERATIONS = 2  # G4
DOWNLOAD_SENDS_TOKEN = False  # G5


def fallback_file_name(download_id: str | int, format: str) -> str:
    """G7: the name of a file the service generated without a ``fileName``."""
    return f"apscores_{download_id}.{format}"


def di_code_refused_advice(di_code: str) -> str:
    """G2b: what to check when the service refuses one DI code to an account that logs in."""
    return (
        f"The login works, but DI code {di_code} was refused: check the code, and that this "
        "account has the APOSRD HED Admin role for that institution (its main College Board "
        "contact has the access code). Other DI codes are not affected."
    )
