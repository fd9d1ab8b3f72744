"""What the sandbox records instead of refusing: every call, and what a careful client
should not have done on it (a *remark*).

The tolerance rule itself is written once, in :mod:`apscores.sandbox._api`: the checks
here are the "record" half of it. By default a remark is only recorded; in strict mode the
service turns it into a refusal. Nothing recorded here holds a secret: header *names* are
kept, never their values, paths never carry the query string (a download URL's signature),
and bodies are kept only as a digest, in memory, to spot repeats.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from apscores.sandbox._faults import ENDPOINTS
from apscores.sandbox._values import LoggedRequest, SandboxRequest

__all__ = [
    "ACCEPT_NOT_JSON",
    "CATAPULT_ON_STORAGE",
    "CONTENT_TYPE_NOT_JSON",
    "CREDENTIAL_ON_STORAGE",
    "TOKEN_ON_STORAGE",
    "Observation",
    "Recorder",
    "Remark",
    "api_remarks",
    "storage_remarks",
]

ACCEPT_NOT_JSON = "accept_not_json"
CONTENT_TYPE_NOT_JSON = "content_type_not_json"
CATAPULT_ON_STORAGE = "catapult_header_on_storage"
TOKEN_ON_STORAGE = "token_on_storage"
CREDENTIAL_ON_STORAGE = "credential_on_storage"

# Headers that carry a credential of some kind; none belongs on a presigned GET.
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


@attrs.frozen
class Remark:
    """Something a careful client should not do: a ``code`` and what to do instead."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The remark as JSON."""
        return {"code": self.code, "message": self.message}


# What an Accept or Content-Type value looks like (type/subtype;name=value, ...); anything
# else is not quoted back, in case a client put something it should not into the header.
_RANGE = r"[\w.+*-]+/[\w.+*-]+(\s*;\s*[\w.-]+\s*=\s*[\w.\"-]*)*"
_MEDIA_RANGES = re.compile(rf"{_RANGE}(\s*,\s*{_RANGE})*")


def _shown(value: str | None, tokens: Iterable[str] = ()) -> str:
    """An Accept or Content-Type value as a message quotes it (only if it is one)."""
    if value is None:
        return "no header"
    if not value.strip():
        return "an empty header"
    if not _MEDIA_RANGES.fullmatch(value.strip()) or any(t and t in value for t in tokens):
        return "a value that is not a media type"
    text = value if len(value) <= 60 else value[:57] + "..."
    return f"{text!r}"


def media_type(value: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return (value or "").split(";")[0].strip().lower()


def names_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header lists ``application/json`` with a quality above 0."""
    for item in (accept or "").split(","):
        kind, *params = item.split(";")
        if kind.strip().lower() != "application/json":
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 1.0  # a q we cannot read does not make JSON unwelcome
        if quality > 0:
            return True
    return False


def api_remarks(headers: Mapping[str, str], tokens: Iterable[str] = ()) -> tuple[Remark, ...]:
    """Remarks on a JSON call to the API host (header names are lower case); ``tokens``,
    the authTokens issued so far, are never quoted back.
    """
    tokens = list(tokens)
    found: list[Remark] = []
    accept = headers.get("accept")
    if not names_json(accept):
        found.append(
            Remark(
                ACCEPT_NOT_JSON,
                "send Accept: application/json on JSON calls "
                f"(this request sent {_shown(accept, tokens)})",
            )
        )
    content_type = headers.get("content-type")
    if media_type(content_type) != "application/json":
        found.append(
            Remark(
                CONTENT_TYPE_NOT_JSON,
                f"send Content-Type: application/json with a JSON body (this request sent "
                f"{_shown(content_type, tokens)})",
            )
        )
    return tuple(found)


def storage_remarks(headers: Mapping[str, str], tokens: Iterable[str]) -> tuple[Remark, ...]:
    """Remarks on a GET to the storage host; ``tokens`` are the authTokens issued so far."""
    found: list[Remark] = []
    catapult = sorted(name for name in headers if name.startswith("x-cb-catapult-"))
    if catapult:
        found.append(
            Remark(
                CATAPULT_ON_STORAGE,
                f"do not send {', '.join(catapult)} to the storage host: the presigned URL "
                "carries its own authorisation",
            )
        )
    values = list(headers.values())
    if any(token and token in value for token in tokens for value in values):
        found.append(
            Remark(
                TOKEN_ON_STORAGE,
                "an authToken reached the storage host: keep the token for College Board's "
                "API host only",
            )
        )
    credentials = [name for name in _CREDENTIAL_HEADERS if name in headers]
    if credentials:
        found.append(
            Remark(
                CREDENTIAL_ON_STORAGE,
                f"do not send {', '.join(credentials)} to the storage host: a presigned GET "
                "needs no credential",
            )
        )
    return tuple(found)


@attrs.frozen
class Observation:
    """One call as recorded: where it went, which headers it had, what it got."""

    seq: int
    time: float
    role: str  # "api" or "storage"
    host: str
    method: str
    path: str  # never the query string: a download URL's signature lives there
    endpoint: str | None
    headers: tuple[str, ...]  # names only, lower case, in the order sent
    status: int | None  # None: no HTTP answer (refused connection, timeout)
    fault: str | None
    repeat_of: int | None  # seq of the first identical call, if this one repeats it
    remarks: tuple[Remark, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The observation as JSON."""
        return {
            "seq": self.seq,
            "time": self.time,
            "role": self.role,
            "host": self.host,
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "headers": list(self.headers),
            "status": self.status,
            "fault": self.fault,
            "repeat_of": self.repeat_of,
            "remarks": [remark.to_dict() for remark in self.remarks],
        }


def _fingerprint(role: str, request: SandboxRequest) -> str:
    """Identical requests get identical prints; headers (tokens) do not count, a Range does."""
    digest = hashlib.sha256()
    parts = (role, request.method, urlsplit(request.url).path, request.headers.get("range", ""))
    for part in parts:
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


class Recorder:
    """The log of calls (``requests``, for tests in process), the observations made of them
    and the counts derived from those (the caller holds the lock)."""

    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.observations: list[Observation] = []
        self._first: dict[str, int] = {}

    def add(
        self,
        request: SandboxRequest,
        *,
        time: float,
        role: str,
        endpoint: str | None,
        status: int | None,
        fault: str | None,
        remarks: tuple[Remark, ...],
    ) -> Observation:
        """Record one call."""
        logged = LoggedRequest(
            time=time, method=request.method, url=request.url, endpoint=endpoint,
            headers=dict(request.headers), body=request.body, status=status, fault=fault,
        )  # fmt: skip
        self.requests.append(logged)
        seq = len(self.observations) + 1
        print_ = _fingerprint(role, request)
        repeat_of = self._first.get(print_)
        self._first.setdefault(print_, seq)
        parts = urlsplit(request.url)
        port = f":{parts.port}" if parts.port else ""  # never any user:password@ part
        observation = Observation(
            seq=seq,
            time=time,
            role=role,
            host=f"{parts.hostname or ''}{port}",
            method=request.method,
            path=parts.path,
            endpoint=endpoint,
            headers=tuple(request.headers),
            status=status,
            fault=fault,
            repeat_of=repeat_of,
            remarks=remarks,
        )
        self.observations.append(observation)
        return observation

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Calls per endpoint, and how many of them repeated an earlier identical call."""
        calls = dict.fromkeys(ENDPOINTS, 0)
        repeats = dict.fromkeys(ENDPOINTS, 0)
        for observation in self.observations:
            name = observation.endpoint or "other"
            calls[name] = calls.get(name, 0) + 1
            if observation.repeat_of is not None:
                repeats[name] = repeats.get(name, 0) + 1
        return calls, repeats

    def summary(self) -> dict[str, Any]:
        """The calls part of the service's ``state()``: what was called, how often, with
        which remarks."""
        calls, repeats = self.counts()
        return {
            "calls": [o.to_dict() for o in self.observations],
            "calls_per_endpoint": calls,
            "repeats_per_endpoint": repeats,
            "token_reached_storage": self.reached_storage(TOKEN_ON_STORAGE),
            "catapult_header_reached_storage": self.reached_storage(CATAPULT_ON_STORAGE),
            "remarks": [
                {"seq": o.seq, "endpoint": o.endpoint, **remark.to_dict()}
                for o in self.observations
                for remark in o.remarks
            ],
        }

    def reached_storage(self, code: str) -> bool:
        """Whether any call to the storage host drew the remark ``code``."""
        return any(
            remark.code == code
            for observation in self.observations
            if observation.role == "storage"
            for remark in observation.remarks
        )
