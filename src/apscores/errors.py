"""Every exception apscores raises, under one root.

::

    APScoresError
    ├── ConfigurationError          bad or missing options (credentials, DI code)
    ├── ParseError                  a score file line or field we cannot read
    │   └── MissingColumnsError     a CSV header without the columns we need
    ├── APIConnectionError          the request never got an answer
    │   └── APITimeoutError
    ├── APIStatusError              an HTTP error status (4xx/5xx)
    ├── APIError                    HTTP 200 with ``success: false``
    │   └── AuthenticationError     login refused, or the token was refused again
    ├── DownloadError               a file body that was cut short or is the wrong size
    │   └── DownloadURLExpired      the short-lived download URL is gone (403 / Expires)
    └── RecordError                 the file is saved but the service was not told

Callers catch these, never ``httpx`` exceptions: the client translates those in one place.
Messages never contain the password or the token.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "APScoresError",
    "AuthenticationError",
    "ConfigurationError",
    "DownloadError",
    "DownloadURLExpired",
    "MissingColumnsError",
    "ParseError",
    "RecordError",
]


class APScoresError(Exception):
    """Root of every exception raised by apscores."""


class ConfigurationError(APScoresError, ValueError):
    """An option is missing or invalid (credentials, DI code, file format...)."""


class ParseError(APScoresError, ValueError):
    """A line or field of a score file could not be read.

    Carries where (``line``, 1-based; ``field``, the layout's field name) and what was
    found (``raw``), and says all three in its message.
    """

    def __init__(self, reason: str, *, line: int | None, field: str | None, raw: str) -> None:
        self.reason = reason
        self.line = line
        self.field = field
        self.raw = raw
        where = f"line {line}" if line is not None else "input"
        what = f", field {field!r}" if field else ""
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        super().__init__(f"{where}{what}: {reason} (found {shown!r})")

    def __reduce__(self) -> tuple[object, ...]:  # keep picklable despite keyword-only init
        return (_rebuild_parse_error, (type(self), self.reason, self.line, self.field, self.raw))


def _rebuild_parse_error(
    cls: type[ParseError], reason: str, line: int | None, field: str | None, raw: str
) -> ParseError:
    return cls(reason, line=line, field=field, raw=raw)


class MissingColumnsError(ParseError):
    """The CSV header lacks required columns; lists what is missing and what was found."""

    def __init__(self, missing: list[str], found: list[str]) -> None:
        self.missing = missing
        self.found = found
        super().__init__(
            f"CSV header is missing required column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(found) or '(none)'}",
            line=1,
            field=None,
            raw=",".join(found),
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.missing, self.found))


class APIConnectionError(APScoresError):
    """The service could not be reached, or the connection broke before an answer."""


class APITimeoutError(APIConnectionError):
    """The service did not answer in time."""


class APIStatusError(APScoresError):
    """The service (or the storage host) answered with an HTTP error status."""

    def __init__(self, message: str, *, status_code: int, endpoint: str) -> None:
        self.status_code = status_code
        self.endpoint = endpoint
        super().__init__(f"{endpoint}: HTTP {status_code}: {message}")


class APIError(APScoresError):
    """HTTP 200 with ``success: false``; ``message`` is the service's text, verbatim."""

    def __init__(self, message: str, *, endpoint: str, detail: str = "") -> None:
        self.message = message
        self.endpoint = endpoint
        text = f"{endpoint}: the service said: {message!r}"
        super().__init__(f"{text}\n{detail}" if detail else text)


class AuthenticationError(APIError):
    """Login was refused, or a fresh token was refused too."""


class DownloadError(APScoresError):
    """The file body was cut short or does not match its announced size; nothing was saved."""


class DownloadURLExpired(DownloadError):  # noqa: N818 - the name users search for
    """The short-lived download URL expired (or was refused) even after generating again."""


class RecordError(APScoresError):
    """The file is safely saved but telling the service failed; re-run to finish the job."""

    def __init__(self, message: str, *, download_id: str, path: Path | None) -> None:
        self.download_id = download_id
        self.path = path
        super().__init__(
            f"{message}; the file is kept at {path} (download id {download_id}). "
            "Nothing is lost: re-run to record it, or record that download id by hand."
        )
