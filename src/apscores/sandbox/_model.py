"""The sandbox's values: its clock, accounts, queued score orders and generated downloads.

Kept apart from the service so that the storage host, the recording and the demo's saved
state can use them without importing the service itself.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from collections.abc import Callable, Sequence

import attrs

from apscores.models import ScoreReport
from apscores.sandbox._wire import Body

__all__ = [
    "DEFAULT_DI_CODE",
    "DEFAULT_EMAIL",
    "DEFAULT_PASSWORD",
    "SANDBOX_BASE_URL",
    "SANDBOX_STORAGE_URL",
    "Account",
    "Download",
    "FakeClock",
    "Order",
    "Renderer",
    "Token",
    "render_reports",
]

SANDBOX_BASE_URL = "https://api.sandbox.apscores.invalid/aposrd-api-prod"
SANDBOX_STORAGE_URL = "https://storage.sandbox.apscores.invalid"
DEFAULT_EMAIL = "sandbox@example.edu"
DEFAULT_PASSWORD = "sandbox-password"
DEFAULT_DI_CODE = "1234"

# Turns a download's reports and format ("TXT"/"CSV") into its body: bytes, or a
# StreamedBody for files too big to hold (see apscores.sandbox.bulk_renderer).
Renderer = Callable[[Sequence[ScoreReport], str], Body]


def render_reports(reports: Sequence[ScoreReport], file_format: str) -> bytes:
    """The file body College Board would send: TXT (950 columns) or CSV, by our writers."""
    buffer = io.BytesIO()
    if file_format == "TXT":
        from apscores.files import write_txt

        write_txt(reports, buffer)
    else:
        from apscores.files import write_csv

        write_csv(reports, buffer, raw=True)  # College Board's files are raw
    return buffer.getvalue()


class FakeClock:
    """A clock tests move by hand: ``clock()`` is the time, ``advance(s)`` moves it on.

    It starts at the real time by default, so URLs it signs also look valid to a client
    that checks ``Expires`` against its own clock.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (usable as a fake ``sleep``)."""
        with self._lock:
            self._now += seconds

    def set(self, when: float | dt.datetime) -> None:
        """Jump to a Unix time or an aware datetime."""
        with self._lock:
            self._now = when.timestamp() if isinstance(when, dt.datetime) else float(when)


@attrs.define
class Account:
    """A professional account; the password is kept only to check logins."""

    email: str
    password: str = attrs.field(repr=False)
    di_codes: set[str] = attrs.field(factory=set)


@attrs.frozen
class Order:
    """One score order queued for a DI code."""

    order_id: int
    di_code: str
    report: ScoreReport = attrs.field(repr=False)
    received_at: float


@attrs.define
class Download:
    """A generated file: a snapshot of orders, and what happened to it afterwards."""

    download_id: int | str
    email: str
    di_code: str
    format: str
    kind: str
    orders: tuple[Order, ...] = attrs.field(repr=False)
    file_name: str
    created_at: float
    expires_at: float
    url: str = attrs.field(repr=False)
    fetches: int = 0  # GETs answered with the file (a fault may still cut the body)
    recorded_at: float | None = None
    record_calls: int = 0
    body: Body | None = attrs.field(default=None, repr=False)  # rendered on first fetch

    @property
    def reports(self) -> list[ScoreReport]:
        """The reports in the file."""
        return [order.report for order in self.orders]

    @property
    def recorded(self) -> bool:
        """Whether ``webServiceDownloaded`` accepted this download."""
        return self.recorded_at is not None

    def to_dict(self) -> dict[str, object]:
        """What the state JSON shows of it: no URL (its signature) and no report contents."""
        return {
            "download_id": self.download_id,
            "email": self.email,
            "di_code": self.di_code,
            "format": self.format,
            "kind": self.kind,
            "file_name": self.file_name,
            "reports": len(self.orders),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "fetches": self.fetches,
            "recorded": self.recorded,
            "record_calls": self.record_calls,
        }


@attrs.define
class Token:
    """An issued ``authToken``'s bookkeeping (the value itself is the dict key)."""

    email: str
    issued_at: float
    calls: int = 0
    revoked: bool = False
