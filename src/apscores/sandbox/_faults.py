"""Fault injection: the ways the real service and network can let a client down.

Each test arms the faults it needs on ``service.faults``; a fault fires on the next matching
request(s) and is used up after ``times`` firings (``times=None``: every time). Endpoints are
named ``"login"``, ``"generate"``, ``"record"`` and ``"download"`` (the wire names
``webServiceAuth``, ``fileGeneration`` and ``webServiceDownloaded`` work too).

The arming methods of :class:`Faults` are the one declaration of what a fault takes: the
fault specs posted to the loopback server, given to ``serve --fault``/``--faults`` and listed
by ``GET /_sandbox/faults`` are derived from their signatures (:data:`KINDS`,
:mod:`apscores.sandbox._fault_spec`), and an armed fault lists itself under the name of the
method that armed it, with the arguments it still fires with, so a listing can be posted back.

:meth:`Faults.isolated` keeps the faults armed inside it to the context (thread or asyncio
task) that armed them, so concurrent tests may share one service.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
import inspect
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import attrs

from apscores.sandbox._values import Cut, Failure, SandboxResponse, body_size

__all__ = [
    "ENDPOINTS",
    "KINDS",
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


# Which context armed a fault under Faults.isolated(): a fresh object per block.
_SCOPE: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "apscores_sandbox_fault_scope", default=None
)


@attrs.define
class Fault:
    """One armed fault; ``remaining`` counts down, ``fired`` counts up.

    ``name`` is the :class:`Faults` method that armed it (``"fail_record"``, ``"expire_url"``):
    :meth:`to_dict` lists it as that method's spec, which can be armed again as it is.
    """

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
    name: str = ""
    scope: object | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def active(self) -> bool:
        """Whether the fault will fire again."""
        return self.remaining is None or self.remaining > 0

    def to_dict(self) -> dict[str, object]:
        """The fault as the spec that arms it again, as JSON: ``{"kind": "fail",
        "endpoint": "generate", "status": 504, "times": 2, ...}`` with every option of its
        method, ``times`` being how often it will still fire."""
        kind = self.kind
        name = self.name or ("expire_url" if kind == FaultKind.EXPIRED_URL else kind.value)
        values = {p: self.remaining if p == "times" else getattr(self, p) for p in options(name)}
        return {"kind": name, **values}

    def use(self) -> None:
        """Count one firing."""
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1


F = TypeVar("F", bound=Callable[..., Any])

#: The fault kinds a spec may name: the arming methods of :class:`Faults`, by name.
KINDS: dict[str, Callable[..., Any]] = {}


def declared(method: F) -> F:
    """Register an arming method in :data:`KINDS`; the fault it arms remembers the name."""
    KINDS[method.__name__] = method

    @functools.wraps(method)
    def arm(self: Faults, *args: Any, **kwargs: Any) -> Any:
        fault = method(self, *args, **kwargs)
        if isinstance(fault, Fault):
            fault.name = method.__name__
            fault.scope = _SCOPE.get()
            with self._lock:
                self._armed.append(fault)
        return fault

    return arm  # type: ignore[return-value]


def options(kind: str) -> list[str]:
    """The option names of a fault kind, in the order of its method's signature."""
    return list(inspect.signature(KINDS[kind]).parameters)[1:]


class Faults:
    """The faults armed on one :class:`~apscores.sandbox.SandboxService`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self._limits: dict[object | None, int | None] = {}  # token call limit by scope

    @declared
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
        return Fault(
            FaultKind.FAIL,
            endpoint_name(endpoint),
            _times(times),
            status=status,
            message=message,
            retry_after=retry_after,
            processed=processed,
        )

    @declared
    def fail_record(
        self, *, times: int | None = 1, status: int = 200, message: str | None = None
    ) -> Fault:
        """Make ``webServiceDownloaded`` fail (``success: false`` by default; ``None``: always)."""
        fault: Fault = KINDS["fail"](self, "record", status=status, times=times, message=message)
        return fault

    @declared
    def disconnect(
        self, endpoint: str = "download", *, after_bytes: int = 64, times: int | None = 1
    ) -> Fault:
        """Break the connection after ``after_bytes`` bytes of the response body."""
        return Fault(
            FaultKind.DISCONNECT,
            endpoint_name(endpoint),
            _times(times),
            after_bytes=max(after_bytes, 0),
        )

    @declared
    def truncate(
        self, endpoint: str = "download", *, after_bytes: int = 64, times: int | None = 1
    ) -> Fault:
        """End the body cleanly after ``after_bytes`` bytes while Content-Length says more."""
        return Fault(
            FaultKind.TRUNCATE,
            endpoint_name(endpoint),
            _times(times),
            after_bytes=max(after_bytes, 0),
        )

    @declared
    def cut_at_record(self, records: int = 1, *, times: int | None = 1) -> Fault:
        """Send a download without its last ``records`` records, cut cleanly just after a
        line ending, with a ``Content-Length`` that matches what is sent: the body looks
        whole to HTTP and to the file check. Only the ``ETag``, which stays the whole
        object's, shows the cut (a streamed body is sent whole)."""
        if records < 1:
            raise ValueError(f"records must be >= 1, got {records}")
        return Fault(FaultKind.CUT_AT_RECORD, "download", _times(times), records=records)

    @declared
    def refuse(self, endpoint: str, *, times: int | None = 1) -> Fault:
        """Fail to connect (the transport raises ``httpx.ConnectError``)."""
        return Fault(FaultKind.REFUSE, endpoint_name(endpoint), _times(times))

    @declared
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
        return Fault(
            FaultKind.TIMEOUT,
            endpoint_name(endpoint),
            _times(times),
            processed=processed,
            seconds=seconds,
        )

    @declared
    def delay(self, endpoint: str, seconds: float, *, times: int | None = None) -> Fault:
        """Answer ``endpoint`` only after ``seconds`` (the transport's sleep is injectable)."""
        seconds = check_seconds("seconds", seconds)
        return Fault(FaultKind.DELAY, endpoint_name(endpoint), _times(times), seconds=seconds)

    @declared
    def expire_url(self, *, times: int | None = 1) -> Fault:
        """Hand out download URLs whose ``Expires`` is already past (the GET then gets 403)."""
        return Fault(FaultKind.EXPIRED_URL, "generate", _times(times))

    @declared
    def expire_token_after(self, calls: int | None) -> None:
        """Make every token stop working after ``calls`` authenticated calls (None: never)."""
        if calls is not None and calls < 0:
            raise ValueError(f"calls must be >= 0 or None, got {calls}")
        with self._lock:
            self._limits[_SCOPE.get()] = calls

    @property
    def token_call_limit(self) -> int | None:
        """How many calls a token makes before it dies (None: no limit), as this context
        sees it: its own :meth:`isolated` limit if it set one, else everyone's."""
        scope = _SCOPE.get()
        with self._lock:
            return self._limits.get(scope, self._limits.get(None))

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._armed.clear()
            self._limits.clear()

    @contextlib.contextmanager
    def isolated(self) -> Iterator[Faults]:
        """Keep the faults armed inside the block to this context (thread or asyncio task).

        They (and an :meth:`expire_token_after` limit) hold only for requests made from
        the same context, through the in-process transport or clients (the loopback server
        answers on threads of its own, so there they never fire), and are disarmed when the
        block ends. Faults armed outside any such block fire for every context, as before.
        """
        previous, scope = _SCOPE.get(), object()
        _SCOPE.set(scope)
        try:
            yield self
        finally:
            _SCOPE.set(previous)  # not reset(): an async fixture may end in another context
            with self._lock:
                self._armed = [fault for fault in self._armed if fault.scope is not scope]
                self._limits.pop(scope, None)

    def to_dict(self) -> dict[str, list[dict[str, object]]]:
        """What is armed, as the listing ``GET /_sandbox/faults`` answers and ``POST`` takes
        back as it is: ``{"armed": [spec, ...]}``, the token call limit among the specs."""
        with self._lock:
            limit = self._limits.get(None)
        token = [{"kind": "expire_token_after", "calls": limit}] if limit is not None else []
        return {"armed": [fault.to_dict() for fault in self.armed] + token}

    @property
    def armed(self) -> list[Fault]:
        """The faults that will still fire, in the order they were armed."""
        with self._lock:
            return [fault for fault in self._armed if fault.active]

    def take(self, endpoint: str, kinds: tuple[FaultKind, ...]) -> Fault | None:
        """Use up and return the first active fault of one of ``kinds`` that may fire in
        this context (for the hosts)."""
        scope = _SCOPE.get()
        with self._lock:
            for fault in self._armed:
                if (
                    fault.endpoint == endpoint
                    and fault.kind in kinds
                    and fault.active
                    and (fault.scope is None or fault.scope is scope)
                ):
                    fault.use()
                    return fault
        return None

    def answer(
        self,
        endpoint: str,
        method: str,
        action: Callable[[], SandboxResponse],
        fail: Callable[[Fault], SandboxResponse],
    ) -> tuple[SandboxResponse, Fault | None]:
        """Run ``action`` (the host's answer) with the faults armed for ``endpoint``: the
        answer and the fault that fired, if any. ``fail`` is the host's error answer."""
        delay = self.take(endpoint, (FaultKind.DELAY,))
        early = self.take(endpoint, (FaultKind.REFUSE, FaultKind.TIMEOUT, FaultKind.FAIL))
        if early is None or (early.processed and early.kind != FaultKind.REFUSE):
            response = action()
        if early is not None:
            if early.kind == FaultKind.REFUSE:
                response = SandboxResponse(0, failure=Failure.CONNECT)
            elif early.kind == FaultKind.TIMEOUT:
                response = SandboxResponse(0, failure=Failure.TIMEOUT, hold=early.seconds)
            else:
                response = fail(early)
        dropped = None
        if method == "GET" and response.status == 200 and isinstance(response.body, bytes):
            dropped = self.take(endpoint, (FaultKind.CUT_AT_RECORD,))
            if dropped is not None:
                response = _drop_records(response, dropped.records)
        cut = None
        if response.failure is None:  # a body to cut short
            cut = self.take(endpoint, (FaultKind.DISCONNECT, FaultKind.TRUNCATE))
        if cut is not None:
            mode = Cut.DISCONNECT if cut.kind == FaultKind.DISCONNECT else Cut.TRUNCATE
            size = body_size(response.body)
            after = cut.after_bytes if size is None else min(cut.after_bytes, size)
            response = attrs.evolve(response, cut=mode, cut_after=after)
        if delay is not None and delay.seconds:
            response = attrs.evolve(response, delay=delay.seconds)
        return response, early or dropped or cut or delay


def _drop_records(response: SandboxResponse, records: int) -> SandboxResponse:
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
