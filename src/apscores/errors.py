"""Every exception apscores raises, under one root, and nothing defined elsewhere.

::

    APScoresError
    ├── ConfigurationError          bad or missing options (credentials, DI code, format)
    │   └── UnmappedExamError       exams a student-system map has no test code for
    ├── APIError                    a call to the service or its download host failed
    │   ├── APIConnectionError      no answer arrived (names the host)
    │   │   └── APITimeoutError     ... in time
    │   ├── APIStatusError          an HTTP error status; ``status_code``
    │   │   ├── BadRequestError         400
    │   │   ├── PermissionDeniedError   403
    │   │   ├── NotFoundError           404
    │   │   ├── RateLimitError          429
    │   │   └── InternalServerError     500 and above
    │   ├── APIRefusalError         HTTP 2xx with ``success: false``; ``message`` verbatim
    │   │   └── DiCodeRefusedError      the login works, this DI code is refused (role, code)
    │   └── AuthenticationError     login refused, or a fresh token refused too (checklist)
    │       ├── LoginRefusedError       ... as ``success: false`` (also an APIRefusalError)
    │       └── UnauthorizedError       ... as HTTP 401/403 (also an APIStatusError)
    ├── ParseError                  a score file (or policy) line or field we cannot read
    │   ├── TruncatedRecordError    a TXT line that ends before the fields every record has
    │   ├── MissingColumnsError     a CSV header without the columns we need
    │   ├── PolicyError             a credit-policy row or column that cannot be used
    │   ├── MapError                a student-system map key that cannot be used
    │   ├── RosterError             a student roster or review file that cannot be used
    │   └── UnknownFormatError      neither a TXT nor a CSV score file (binary, foreign)
    │       └── EmptyFileError      no record at all (the service never sends one)
    ├── UnwritableRecordError       a record a file layout cannot hold (writers)
    ├── StorageError                a local file or folder cannot be written (also an OSError)
    ├── DownloadError               a file body that was cut short or is the wrong size
    │   ├── DownloadURLExpired      the short-lived download URL is gone (403 / Expires)
    │   └── IncompleteFileError     the saved body is not a whole score file (checked, ETag)
    └── RecordError                 the file is saved but the service was not told

``except APIError`` catches every failed call, whatever its status; callers never see an
``httpx`` exception (the client translates those in one place) or an internal signal.
Messages never contain the password, the token or a download URL's signature, and no
exception carries one in its chain: an ``httpx`` error (whose request holds the presigned
URL and the token) is never a ``__cause__`` or ``__context__``; the message says why.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIRefusalError",
    "APIStatusError",
    "APITimeoutError",
    "APScoresError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "DiCodeRefusedError",
    "DownloadError",
    "DownloadURLExpired",
    "EmptyFileError",
    "IncompleteFileError",
    "InternalServerError",
    "LoginRefusedError",
    "MapError",
    "MissingColumnsError",
    "NotFoundError",
    "ParseError",
    "PermissionDeniedError",
    "PolicyError",
    "RateLimitError",
    "RecordError",
    "RosterError",
    "StorageError",
    "TruncatedRecordError",
    "UnauthorizedError",
    "UnknownFormatError",
    "UnmappedExamError",
    "UnwritableRecordError",
    "status_error",
]


class APScoresError(Exception):
    """Root of every exception raised by apscores."""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as its message and attributes, whatever its (keyword-only) constructor:
        # errors cross process pools and multiprocessing queues.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(
    cls: type[APScoresError], args: tuple[object, ...], state: dict[str, object]
) -> APScoresError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(APScoresError, ValueError):
    """An option is missing or invalid (credentials, DI code, file format...)."""


#: The most of a bad line a :class:`ParseError` keeps in ``raw`` (a record is 950 columns).
MAX_RAW = 1024


class ParseError(APScoresError, ValueError):
    """A line or field of a score file could not be read.

    Carries where (``file``, when the reader opened a path; ``line``, 1-based; ``field``,
    the layout's field name) and what was found (``raw``), and says them in its message
    (``raw`` too unless ``show_raw=False``: a whole line holds a student's details)."""

    def __init__(
        self,
        reason: str,
        *,
        line: int | None,
        field: str | None,
        raw: str,
        file: str | None = None,
        show_raw: bool = True,
    ) -> None:
        self.reason = reason
        self.line = line
        self.field = field
        self.raw = raw if len(raw) <= MAX_RAW else raw[:MAX_RAW]  # never a 200 MB line
        self.file, self.show_raw = file, show_raw
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"line {self.line}" if self.line is not None else "input"
        where = f"{self.file}: {where}" if self.file else where
        what = f", field {self.field!r}" if self.field else ""
        shown = self.raw if self.show_raw else ""
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return f"{where}{what}: {self.reason}" + (f" (found {shown!r})" if shown else "")

    def in_file(self, file: str) -> ParseError:
        """Name the file the error is in (the reader does this for paths); returns self."""
        if not self.file:
            self.file = file
            self.args = (self._message(),)
        return self


class TruncatedRecordError(ParseError):
    """A TXT line that ends before the last field every record carries (a cut record).

    ``length`` is the line's length without its line ending; ``field`` is the first
    layout field the line does not reach in full.
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None,
        field: str | None,
        raw: str,
        file: str | None = None,
        length: int = 0,
    ) -> None:
        self.length = length
        super().__init__(reason, line=line, field=field, raw=raw, file=file)

    def _message(self) -> str:
        # Never the raw text: the line is cut anyway, and it holds a student's details.
        where = f"line {self.line}" if self.line is not None else "a line"
        if self.file:
            where = f"{self.file}: {where}"
        return f"{where} is {self.length} columns: {self.reason}"


class MissingColumnsError(ParseError):
    """The CSV header lacks required columns; lists what is missing and what was found."""

    def __init__(self, missing: list[str], found: list[str], file: str | None = None) -> None:
        self.missing = missing
        self.found = found
        super().__init__(
            f"CSV header is missing required column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(found) or '(none)'}",
            line=1,
            field=None,
            raw=",".join(found),
            file=file,
        )


class UnknownFormatError(ParseError):
    """The input is neither a TXT nor a CSV AP score file (binary data, another file).

    A file-level problem: raised in ``errors="collect"`` mode too.
    """

    def __init__(
        self, reason: str, *, line: int | None = 1, raw: str = "", file: str | None = None
    ) -> None:
        super().__init__(reason, line=line, field=None, raw=raw, file=file)

    def _message(self) -> str:
        # The reason says what was seen ("line 1 is 37 columns and ..."): no prefix but the file.
        return f"{self.file}: {self.reason}" if self.file else self.reason


class EmptyFileError(UnknownFormatError):
    """The input holds no record at all: College Board never sends an empty file (it answers
    "no score orders found" instead), so an empty file is a failed copy or transfer."""

    def __init__(
        self,
        reason: str = "the file is empty: College Board never sends an empty score file",
        *,
        line: int | None = None,
        raw: str = "",
        file: str | None = None,
    ) -> None:
        super().__init__(reason, line=line, raw=raw, file=file)


class APIError(APScoresError):
    """A call to the service (or its download host) failed.

    ``endpoint`` names the call (``webServiceAuth``, ``fileGeneration``,
    ``webServiceDownloaded`` or ``download``); ``message`` is what went wrong, the
    service's own words where it gave any; ``detail`` is advice (a checklist) or ``""``.
    """

    def __init__(self, message: str, *, endpoint: str, detail: str = "") -> None:
        self.message = message
        self.endpoint = endpoint
        self.detail = detail
        text = f"{endpoint}: {self._describe()}"
        super().__init__(f"{text}\n{detail}" if detail else text)

    def _describe(self) -> str:
        return self.message


class APIConnectionError(APIError):
    """No answer arrived: the host could not be reached or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The host did not answer in time."""


class APIStatusError(APIError):
    """The service (or the storage host) answered with an HTTP error status."""

    def __init__(self, message: str, *, status_code: int, endpoint: str, detail: str = "") -> None:
        self.status_code = status_code
        super().__init__(message, endpoint=endpoint, detail=detail)

    def _describe(self) -> str:
        return f"HTTP {self.status_code}: {self.message}"


class BadRequestError(APIStatusError):
    """HTTP 400: the service did not accept the request as sent."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403 (a download URL's 403 means it expired: :class:`DownloadURLExpired`)."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests (retried, honouring ``Retry-After``, before this)."""


class InternalServerError(APIStatusError):
    """HTTP 500 and above: the service or its gateway failed (retried where safe)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def status_error(message: str, *, status_code: int, endpoint: str) -> APIStatusError:
    """The :class:`APIStatusError` subclass for ``status_code``."""
    cls = _STATUS_CLASSES.get(status_code)
    if cls is None:
        cls = InternalServerError if status_code >= 500 else APIStatusError
    return cls(message, status_code=status_code, endpoint=endpoint)


class APIRefusalError(APIError):
    """HTTP 2xx with ``success: false``: the service refused; ``message`` is its text."""

    def _describe(self) -> str:
        return f"the service said: {self.message!r}"


class DiCodeRefusedError(APIRefusalError):
    """The login works, but the service refused one DI code (``di_code``), with a fresh
    token too: the account lacks the APOSRD HED Admin role for that institution, or the
    code is not one the service knows. That code's failure, never a login failure."""

    def __init__(self, message: str, *, endpoint: str, di_code: str, detail: str = "") -> None:
        self.di_code = di_code
        super().__init__(message, endpoint=endpoint, detail=detail)

    def _describe(self) -> str:
        return f"DI code {self.di_code} refused: {self.message!r}"


class AuthenticationError(APIError):
    """Login was refused, or a fresh token was refused too; ``detail`` is College Board's
    checklist of causes (MFA on, password expired, role missing, terms, email login)."""


class LoginRefusedError(AuthenticationError, APIRefusalError):
    """Login (or a token) refused as HTTP 2xx with ``success: false``."""


class UnauthorizedError(AuthenticationError, APIStatusError):
    """Login (or a fresh token) refused as HTTP 401 or 403."""


class PolicyError(ParseError):
    """A credit-policy file that cannot be used; ``line`` is the row, ``field`` the column.

    In a CSV policy the row is the spreadsheet row (the header is row 1). In a TOML policy
    ``line`` is None and the message names the ``[[rule]]`` by its position.
    """


class MapError(ParseError):
    """A student-system map (``apscores export --map``) that cannot be used.

    ``field`` is the key (``columns.TEST_DATE``, ``tests.codes.93``, ``test_date.day``),
    ``line`` the line of the TOML file it is on (None when it cannot be found).
    """


class RosterError(ParseError):
    """A roster or review file that cannot be used; names file, line, column, never a value."""


class UnmappedExamError(ConfigurationError):
    """Exams the map gives no student-system test code for; nothing was exported.

    ``exams`` maps each exam code to {admin year: number of exams}, so that the message
    can name every code to add, instead of a load that silently skips new exams.
    """

    def __init__(self, exams: dict[str, dict[int, int]]) -> None:
        from apscores.catalog import exam_name  # late: errors imports nothing of apscores

        self.exams = exams
        parts = []
        for code in sorted(exams):
            years = exams[code]
            counts = ", ".join(f"{year}: {years[year]}" for year in sorted(years))
            parts.append(f"{code} {exam_name(code, max(years))} ({counts})")
        super().__init__(
            f"no SIS test code for exam code(s) {', '.join(sorted(exams))}; add them under "
            f"[tests.codes] in the map. Exams by code (admin year: exams): {'; '.join(parts)}"
        )


class UnwritableRecordError(APScoresError, ValueError):
    """A record a file layout cannot hold (a value too wide, a year outside the pivot, more
    than 30 exams...): the writer names the AP ID and the field, and writes nothing."""


class StorageError(APScoresError, OSError):
    """A local file or folder cannot be written or read (full disk, read-only, no
    permission, a path that is no folder, no free file name): nothing was recorded with the
    service. Also an :class:`OSError`: ``filename`` is the path, ``strerror`` the reason."""

    def __reduce__(self) -> tuple[object, ...]:
        reduced = OSError.__reduce__(self)  # errno, strerror and filename are the OSError's
        assert isinstance(reduced, tuple)
        return reduced

    def __str__(self) -> str:
        reason = self.strerror or "cannot be used"
        return f"{self.filename}: {reason}" if self.filename else reason


class DownloadError(APScoresError):
    """The storage host's answer cannot become the file (cut short, not its announced size,
    an unusable redirect or file name); nothing was saved. Run again."""


class DownloadURLExpired(DownloadError):  # noqa: N818 - the name users search for
    """The short-lived download URL expired (or was refused) even after generating again."""


class IncompleteFileError(DownloadError):
    """The downloaded body is not a whole score file (a record cut short, an unknown or
    empty file, or a body whose MD5 is not the storage host's ``ETag``), even after
    generating and downloading it again. Nothing was recorded and nothing was kept;
    ``problem`` is the reader's :class:`ParseError` (line and reason), or ``None`` when
    the ``ETag`` showed the cut.
    """

    def __init__(self, message: str, *, problem: ParseError | None = None) -> None:
        self.problem = problem
        super().__init__(message)


class RecordError(APScoresError):
    """The file is safely saved but telling the service failed; re-run to finish the job."""

    def __init__(self, message: str, *, download_id: str, path: Path | None) -> None:
        self.download_id = download_id
        self.path = path
        super().__init__(
            f"{message}; the file is kept at {path} (download id {download_id}). "
            "Nothing is lost: re-run to record it, or record that download id by hand."
        )
