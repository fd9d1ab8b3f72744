"""The sandbox's records: accounts, queued orders, per-account watermarks, downloads and
the log of calls; how a test sets them up and what it can read back (``state()``).

:class:`~apscores.sandbox.SandboxService` adds the answering of requests on top.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from apscores.models import ScoreReport
from apscores.sandbox._faults import Faults
from apscores.sandbox._model import (
    DEFAULT_DI_CODE,
    DEFAULT_EMAIL,
    SANDBOX_BASE_URL,
    SANDBOX_STORAGE_URL,
    Account,
    Download,
    Order,
    Renderer,
    Token,
    render_reports,
)
from apscores.sandbox._observe import (
    CATAPULT_ON_STORAGE,
    TOKEN_ON_STORAGE,
    Observation,
    Recorder,
    Remark,
)
from apscores.sandbox._storage import ETAG_KINDS
from apscores.sandbox._wire import Body, LoggedRequest

if TYPE_CHECKING:
    from apscores.service import Client

__all__ = ["Records"]


class Records:
    """The data behind :class:`~apscores.sandbox.SandboxService` and how to set it up and
    look at it. Thread-safe: every change happens under one lock.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        api_base_url: str = SANDBOX_BASE_URL,
        storage_base_url: str = SANDBOX_STORAGE_URL,
        url_ttl: float = 60.0,
        token_ttl: float | None = 3600.0,
        record_full_moves_watermark: bool = True,
        string_download_ids: bool = False,
        first_download_id: int = 700001,
        renderer: Renderer = render_reports,
        strict: bool = False,
        etag: str = "md5",
    ) -> None:
        if etag not in ETAG_KINDS:
            raise ValueError(f"etag must be one of {', '.join(ETAG_KINDS)}, got {etag!r}")
        self.clock = clock
        self.api_base_url = api_base_url.rstrip("/")
        self.storage_base_url = storage_base_url.rstrip("/")
        self.url_ttl = url_ttl
        self.token_ttl = token_ttl
        self.record_full_moves_watermark = record_full_moves_watermark
        self.string_download_ids = string_download_ids
        self.renderer = renderer
        self.strict = strict
        #: The storage host's ``ETag``: ``"md5"`` (one part, the body's MD5; a streamed
        #: body is always multipart), ``"multipart"`` (``"<hex>-N"``) or ``"none"``.
        self.etag = etag
        self.faults = Faults()
        self.accounts: dict[str, Account] = {}
        self.di_codes: dict[str, list[Order]] = {}
        self.requests: list[LoggedRequest] = []
        self._recorder = Recorder()
        self._downloads: dict[str, Download] = {}
        self._recorded: list[int | str] = []
        self._delivered: dict[tuple[str, str], set[int]] = {}
        self._tokens: dict[str, Token] = {}
        self._next_order_id = 1
        self._next_download_id = first_download_id
        self._secret = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._clients: list[Client] = []

    # -- setting up -------------------------------------------------------------------

    def add_account(self, email: str, password: str, *, di_codes: Iterable[str] = ()) -> Account:
        """Create (or replace) an account; it may use ``di_codes``."""
        with self._lock:
            account = Account(email, password, set(di_codes))
            self.accounts[email.lower()] = account
            for di_code in account.di_codes:
                self.di_codes.setdefault(di_code, [])
            return account

    def grant(self, email: str, di_code: str) -> None:
        """Let an existing account use ``di_code`` (the APOSRD HED Admin role)."""
        with self._lock:
            self.accounts[email.lower()].di_codes.add(di_code)
            self.di_codes.setdefault(di_code, [])

    def add_reports(
        self, di_code: str, reports: Iterable[ScoreReport], *, received_at: float | None = None
    ) -> list[int]:
        """Queue score orders for ``di_code`` (received now, or at ``received_at``)."""
        with self._lock:
            when = self.clock() if received_at is None else received_at
            added = []
            for report in reports:
                added.append(Order(self._next_order_id, di_code, report, when))
                self._next_order_id += 1
            self.di_codes.setdefault(di_code, []).extend(added)
            return [order.order_id for order in added]

    def add_orders(self, orders: Iterable[Order]) -> None:
        """Queue orders that keep their ids (to restore a saved sandbox); later ids follow."""
        with self._lock:
            for order in orders:
                self.di_codes.setdefault(order.di_code, []).append(order)
                self._next_order_id = max(self._next_order_id, order.order_id + 1)

    def delivered(self, email: str, di_code: str) -> set[int]:
        """The order ids this account has recorded for ``di_code`` (its ``new`` watermark)."""
        with self._lock:
            return set(self._delivered.get((email.lower(), di_code), ()))

    def mark_delivered(self, email: str, di_code: str, order_ids: Iterable[int]) -> None:
        """Move one account's watermark by hand; no other account's changes."""
        with self._lock:
            self._delivered.setdefault((email.lower(), di_code), set()).update(order_ids)

    def portal_download(self, email: str, di_code: str) -> list[ScoreReport]:
        """What a download through the portal (or another script) with this account does:
        everything ``new`` for it is marked delivered, so its next ``new`` file skips it.
        """
        with self._lock:
            orders = self._new_orders(email.lower(), di_code)
            self.mark_delivered(email, di_code, (order.order_id for order in orders))
            return [order.report for order in orders]

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (as if they all expired)."""
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    # -- inspecting -------------------------------------------------------------------

    @property
    def downloads(self) -> list[Download]:
        """Every download record, oldest first."""
        with self._lock:
            return list(self._downloads.values())

    def download(self, download_id: int | str) -> Download:
        """One download record by id (``KeyError`` if unknown)."""
        with self._lock:
            return self._downloads[str(download_id)]

    @property
    def recorded_ids(self) -> list[int | str]:
        """Download ids recorded by ``webServiceDownloaded``, in order (first time only)."""
        with self._lock:
            return list(self._recorded)

    def calls(self, endpoint: str | None = None) -> list[LoggedRequest]:
        """Logged requests, optionally only those to one endpoint (``"generate"``...)."""
        with self._lock:
            return [r for r in self.requests if endpoint is None or r.endpoint == endpoint]

    @property
    def observations(self) -> list[Observation]:
        """Every call as recorded for :meth:`state`: names of headers, never their values."""
        with self._lock:
            return list(self._recorder.observations)

    @property
    def remarks(self) -> list[tuple[int, Remark]]:
        """(call seq, remark) for everything a careful client should not have done."""
        with self._lock:
            return [(o.seq, remark) for o in self._recorder.observations for remark in o.remarks]

    @property
    def token_reached_storage(self) -> bool:
        """Whether an authToken was sent to the storage host, in any header."""
        with self._lock:
            return self._recorder.reached_storage(TOKEN_ON_STORAGE)

    @property
    def catapult_header_reached_storage(self) -> bool:
        """Whether any ``X-CB-Catapult-*`` header was sent to the storage host."""
        with self._lock:
            return self._recorder.reached_storage(CATAPULT_ON_STORAGE)

    def state(self) -> dict[str, Any]:
        """Everything a test may assert on, as JSON-able data without a secret in it."""
        with self._lock:
            calls, repeats = self._recorder.counts()
            observations = self._recorder.observations
            return {
                "strict": self.strict,
                "calls": [o.to_dict() for o in observations],
                "calls_per_endpoint": calls,
                "repeats_per_endpoint": repeats,
                "token_reached_storage": self.token_reached_storage,
                "catapult_header_reached_storage": self.catapult_header_reached_storage,
                "remarks": [
                    {"seq": o.seq, "endpoint": o.endpoint, **remark.to_dict()}
                    for o in observations
                    for remark in o.remarks
                ],
                "downloads": [d.to_dict() for d in self._downloads.values()],
                "recorded_ids": list(self._recorded),
                "pending": {
                    email: {di: len(self._new_orders(email, di)) for di in sorted(account.di_codes)}
                    for email, account in sorted(self.accounts.items())
                },
                "faults": self.faults.to_dict(),
            }

    def pending(
        self, di_code: str = DEFAULT_DI_CODE, email: str = DEFAULT_EMAIL
    ) -> list[ScoreReport]:
        """What a ``new`` file would hold for this account and DI code right now."""
        with self._lock:
            return [order.report for order in self._new_orders(email.lower(), di_code)]

    def reporting_year_start(self) -> dt.datetime:
        """July 1 (UTC) that opened the current reporting year."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)
        year = now.year if now.month >= 7 else now.year - 1
        return dt.datetime(year, 7, 1, tzinfo=dt.timezone.utc)

    def file_body(self, download_id: int | str) -> Body:
        """The body of a download as rendered (once, then kept): bytes or a StreamedBody."""
        with self._lock:
            download = self._downloads[str(download_id)]
            if download.body is None:
                download.body = self.renderer(download.reports, download.format)
            return download.body

    def file_bytes(self, download_id: int | str) -> bytes:
        """The whole body of a download in memory (a streamed body is joined: tests only)."""
        body = self.file_body(download_id)
        return body if isinstance(body, bytes) else body.read()

    def _new_orders(self, email: str, di_code: str) -> list[Order]:
        delivered = self._delivered.get((email, di_code), set())
        return [o for o in self.di_codes.get(di_code, []) if o.order_id not in delivered]
