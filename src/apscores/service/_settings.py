"""Client options: keyword arguments, ``APSCORES_*`` fallbacks, and the secrets they hold.

Everything is checked before the first request, so a bad option is a
:class:`~apscores.errors.ConfigurationError` at construction, not a failed call later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from math import inf
from typing import Literal

import attrs
import httpx

from apscores.catalog import is_di_code
from apscores.errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "ENV_BASE_URL",
    "ENV_EMAIL",
    "ENV_PASSWORD",
    "DownloadKind",
    "Format",
    "Secret",
    "Settings",
    "check_di_code",
    "check_format",
    "check_kind",
    "resolve_base_url",
    "resolve_settings",
]

#: A score file's format: ``"txt"`` (the fixed-width layout) or ``"csv"``.
Format = Literal["txt", "csv"]
#: What to download: ``"new"`` (what this account has not recorded yet) or ``"full"``
#: (everything since July 1). Not a field kind (``apscores.files``) nor a column kind.
DownloadKind = Literal["new", "full"]

#: College Board's production API.
DEFAULT_BASE_URL = "https://aposrd-api-gw.collegeboard.org/aposrd-api-prod"
ENV_EMAIL = "APSCORES_EMAIL"
ENV_PASSWORD = "APSCORES_PASSWORD"  # noqa: S105 - the variable's name, not a password
#: The environment variable that overrides the base URL (the sandbox, a test server).
ENV_BASE_URL = "APSCORES_BASE_URL"

#: Each attempt of a call: 10 s to connect (a host that drops packets fails fast, and the
#: retries try again), 120 s between two reads of an answer (College Board may take that
#: long to prepare a ``full`` file), 60 s to send, 10 s to get a pooled connection.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0, write=60.0, pool=10.0)
#: A whole operation (one call or one download, with its retries): no retry starts after
#: this many seconds, and the connect and pool timeouts of the last attempt end with it.
DEFAULT_DEADLINE = 300.0


class Secret:
    """A string that never shows itself in ``repr``/``str`` (passwords, tokens)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@attrs.frozen
class Settings:
    """Resolved client options (env fallbacks applied, values checked)."""

    email: str
    password: Secret
    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    retry_base_delay: float
    retry_max_delay: float
    deadline: float | None = DEFAULT_DEADLINE


def resolve_base_url(base_url: str | None, *, environ: Mapping[str, str] | None = None) -> str:
    """``base_url``, else ``APSCORES_BASE_URL``, else production; checked, no trailing ``/``."""
    env = os.environ if environ is None else environ
    url = (base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/")
    parsed = httpx.URL(url)
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise ConfigurationError(f"base_url must be an http(s) URL, got {url!r}")
    return url


def resolve_settings(
    *,
    email: str | None,
    password: str | None,
    base_url: str | None,
    timeout: float | httpx.Timeout,
    max_retries: int,
    retry_base_delay: float,
    retry_max_delay: float,
    deadline: float | None = DEFAULT_DEADLINE,
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
    url = resolve_base_url(base_url, environ=env)
    timeouts = _check_timeout(timeout)
    if deadline is not None and not (isinstance(deadline, (int, float)) and 0 < deadline < inf):
        raise ConfigurationError(
            f"deadline must be a positive number of seconds or None, got {deadline!r}"
        )
    if max_retries < 0 or retry_base_delay < 0 or retry_max_delay < 0:
        raise ConfigurationError("max_retries, retry_base_delay and retry_max_delay must be >= 0")
    return Settings(
        email=email,
        password=Secret(password),
        base_url=url,
        timeout=timeouts,
        max_retries=int(max_retries),
        retry_base_delay=float(retry_base_delay),
        retry_max_delay=float(retry_max_delay),
        deadline=None if deadline is None else float(deadline),
    )


def _check_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """A number is the longest wait for an answer (read), and caps the others (connect,
    write and pool keep their shorter defaults); an ``httpx.Timeout`` is taken as is.
    Every part must be a positive, finite number."""
    if isinstance(timeout, httpx.Timeout):
        chosen = timeout
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        chosen = httpx.Timeout(
            timeout,
            connect=min(float(timeout), DEFAULT_TIMEOUT.connect or 10.0),
            write=min(float(timeout), DEFAULT_TIMEOUT.write or 60.0),
            pool=min(float(timeout), DEFAULT_TIMEOUT.pool or 10.0),
        )
    else:
        raise ConfigurationError(f"timeout must be seconds or an httpx.Timeout, got {timeout!r}")
    parts = (chosen.connect, chosen.read, chosen.write, chosen.pool)
    if any(part is None or not 0 < part < inf for part in parts):
        raise ConfigurationError(
            f"every part of timeout must be a positive, finite number of seconds, got {chosen!r}"
        )
    return chosen


def check_di_code(di_code: str | int) -> str:
    """DI codes are 4 digits; a string keeps leading zeros, so an int must already have 4."""
    text = str(di_code).strip() if not isinstance(di_code, bool) else ""
    if not is_di_code(text):
        raise ConfigurationError(f"a DI code is 4 digits, got {di_code!r}")
    return text


def check_format(value: str) -> Format:
    """``"txt"`` or ``"csv"``, in any case."""
    low = str(value).lower()
    if low == "txt":
        return "txt"
    if low == "csv":
        return "csv"
    raise ConfigurationError(f"format must be 'txt' or 'csv', got {value!r}")


def check_kind(value: str) -> DownloadKind:
    """``"new"`` or ``"full"``, in any case."""
    low = str(value).lower()
    if low == "new":
        return "new"
    if low == "full":
        return "full"
    raise ConfigurationError(f"kind must be 'new' or 'full', got {value!r}")
