"""Fault injection: the ways the real service and network can let a client down.

Each test arms the faults it needs on ``service.faults``; a fault fires on the next matching
request(s) and is used up after ``times`` firings (``times=None``: every time). Endpoints are
named ``"login"``, ``"generate"``, ``"record"`` and ``"download"`` (the wire names
``webServiceAuth``, ``fileGeneration`` and ``webServiceDownloaded`` work too).
"""

from __future__ import annotations

import enum
import math
import threading

import attrs

__all__ = [
    "ENDPOINTS",
    "MAX_FAULT_SECONDS",
    "Fault",
    "FaultKind",
    "Faults",
    "check_seconds",
    "endpoint_name",
]

#: The longest delay or silence a fault may ask for: ten minutes outlasts any client timeout.
MAX_FAULT_SECONDS = 600.0


def check_seconds(name: str, value: object) -> float:
    """``value`` as seconds from 0 to :data:`MAX_FAULT_SECONDS`; ``ValueError`` naming ``name``.

    NaN, infinity and ``1e308`` are refused here, when the fault is armed, rather than
    breaking the call the fault later fires on.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= MAX_FAULT_SECONDS
    ):
        raise ValueError(
            f"{name} must be a number of seconds from 0 to {MAX_FAULT_SECONDS:g}, got {value!r}"
        )
    return float(value)


ENDPOINTS = ("login", "generate", "record", "download")
_ALIASES = {
    "webserviceauth": "login",
    "auth": "login",
    "filegeneration": "generate",
    "webservicedownloaded": "record",
    "storage": "download",
    "get": "download",
}


class FaultKind(enum.Enum):
    """What a fault does to a request."""

    FAIL = "fail"  # answer with an error status (or HTTP 200 and success: false)
    DISCONNECT = "disconnect"  # break the connection after some bytes of the body
    TRUNCATE = "truncate"  # end the body early, Content-Length still announcing all of it
    REFUSE = "refuse"  # no connection at all
    TIMEOUT = "timeout"  # no answer in time
    DELAY = "delay"  # answer, but slowly
    EXPIRED_URL = "expired_url"  # fileGeneration hands out a URL that has already expired
    CUT_AT_RECORD = "cut_at_record"  # drop the last records, Content-Length to match


def endpoint_name(name: str) -> str:
    """``"fileGeneration"`` -> ``"generate"``; ValueError for an unknown endpoint."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {name!r}; use one of {', '.join(ENDPOINTS)}")
    return key


def _times(times: int | None) -> int | None:
    if times is not None and times < 1:
        raise ValueError(f"times must be >= 1 or None (always), got {times}")
    return times


@attrs.define
class Fault:
    """One armed fault; ``remaining`` counts down, ``fired`` counts up."""

    kind: FaultKind
    endpoint: str
    remaining: int | None
    status: int = 504
    message: str | None = None
    retry_after: int | None = None
    after_bytes: int = 0
    seconds: float = 0.0
    records: int = 1  # CUT_AT_RECORD: how many records (lines) the body loses
    processed: bool = False  # the service acts on the request before the fault hides the answer
    fired: int = 0

    @property
    def active(self) -> bool:
        """Whether the fault will fire again."""
        return self.remaining is None or self.remaining > 0

    def to_dict(self) -> dict[str, object]:
        """The fault as JSON (for ``service.state()`` and ``GET /_sandbox/faults``)."""
        return {
            "kind": self.kind.value,
            "endpoint": self.endpoint,
            "remaining": self.remaining,
            "fired": self.fired,
            "status": self.status,
            "message": self.message,
            "retry_after": self.retry_after,
            "after_bytes": self.after_bytes,
            "seconds": self.seconds,
            "records": self.records,
            "processed": self.processed,
        }

    def use(self) -> None:
        """Count one firing."""
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1


class Faults:
    """The faults armed on one :class:`~apscores.sandbox.SandboxService`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self.token_call_limit: int | None = None

    def _arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._armed.append(fault)
        return fault

    def fail(
        self,
        endpoint: str,
        *,
        status: int = 504,
        times: int | None = 1,
        message: str | None = None,
        retry_after: int | None = None,
        processed: bool = False,
    ) -> Fault:
        """Answer ``endpoint`` with HTTP ``status``; ``status=200`` means ``success: false``.

        ``processed=True`` lets the service act first (a download record is created or
        marked) and then loses the answer, as when a gateway times out on a slow backend.
        On ``"download"`` the body is S3-style XML (403 reads as an expired URL).
        """
        if not 200 <= status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {status}")
        return self._arm(
            Fault(
                FaultKind.FAIL,
                endpoint_name(endpoint),
                _times(times),
                status=status,
                message=message,
                retry_after=retry_after,
                processed=processed,
            )
        )

    def fail_record(
        self, *, times: int | None = 1, status: int = 200, message: str | None = None
    ) -> Fault:
        """Make ``webServiceDownloaded`` fail (``success: false`` by default; ``None``: always)."""
        return self.fail("record", status=status, times=times, message=message)

    def disconnect(
        self, endpoint: str = "download", *, after_bytes: int = 64, times: int | None = 1
    ) -> Fault:
        """Break the connection after ``after_bytes`` bytes of the response body."""
        return self._arm(
            Fault(
                FaultKind.DISCONNECT,
                endpoint_name(endpoint),
                _times(times),
                after_bytes=max(after_bytes, 0),
            )
        )

    def truncate(
        self, endpoint: str = "download", *, after_bytes: int = 64, times: int | None = 1
    ) -> Fault:
        """End the body cleanly after ``after_bytes`` bytes while Content-Length says more."""
        return self._arm(
            Fault(
                FaultKind.TRUNCATE,
                endpoint_name(endpoint),
                _times(times),
                after_bytes=max(after_bytes, 0),
            )
        )

    def cut_at_record(self, records: int = 1, *, times: int | None = 1) -> Fault:
        """Send a download without its last ``records`` records, cut cleanly just after a
        line ending, with a ``Content-Length`` that matches what is sent: the body looks
        whole to HTTP and to the file check. Only the ``ETag``, which stays the whole
        object's, shows the cut (a streamed body is sent whole)."""
        if records < 1:
            raise ValueError(f"records must be >= 1, got {records}")
        return self._arm(Fault(FaultKind.CUT_AT_RECORD, "download", _times(times), records=records))

    def refuse(self, endpoint: str, *, times: int | None = 1) -> Fault:
        """Fail to connect (the transport raises ``httpx.ConnectError``)."""
        return self._arm(Fault(FaultKind.REFUSE, endpoint_name(endpoint), _times(times)))

    def timeout(
        self,
        endpoint: str,
        *,
        times: int | None = 1,
        processed: bool = False,
        seconds: float = 5.0,
    ) -> Fault:
        """Never answer: the transport raises ``httpx.ReadTimeout`` at once; the loopback
        server stays silent for ``seconds`` and then drops the connection.
        """
        seconds = check_seconds("seconds", seconds)
        return self._arm(
            Fault(
                FaultKind.TIMEOUT,
                endpoint_name(endpoint),
                _times(times),
                processed=processed,
                seconds=seconds,
            )
        )

    def delay(self, endpoint: str, seconds: float, *, times: int | None = None) -> Fault:
        """Answer ``endpoint`` only after ``seconds`` (the transport's sleep is injectable)."""
        seconds = check_seconds("seconds", seconds)
        return self._arm(
            Fault(FaultKind.DELAY, endpoint_name(endpoint), _times(times), seconds=seconds)
        )

    def expire_url(self, *, times: int | None = 1) -> Fault:
        """Hand out download URLs whose ``Expires`` is already past (the GET then gets 403)."""
        return self._arm(Fault(FaultKind.EXPIRED_URL, "generate", _times(times)))

    def expire_token_after(self, calls: int | None) -> None:
        """Make every token stop working after ``calls`` authenticated calls (None: never)."""
        if calls is not None and calls < 0:
            raise ValueError(f"calls must be >= 0 or None, got {calls}")
        self.token_call_limit = calls

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._armed.clear()
            self.token_call_limit = None

    def to_dict(self) -> dict[str, object]:
        """What is armed, as JSON: the faults still to fire and the token call limit."""
        return {
            "armed": [fault.to_dict() for fault in self.armed],
            "expire_token_after": self.token_call_limit,
        }

    @property
    def armed(self) -> list[Fault]:
        """The faults that will still fire, in the order they were armed."""
        with self._lock:
            return [fault for fault in self._armed if fault.active]

    def _take(self, endpoint: str, kinds: tuple[FaultKind, ...]) -> Fault | None:
        """Use up and return the first active fault of one of ``kinds`` (for the service)."""
        with self._lock:
            for fault in self._armed:
                if fault.endpoint == endpoint and fault.kind in kinds and fault.active:
                    fault.use()
                    return fault
        return None
