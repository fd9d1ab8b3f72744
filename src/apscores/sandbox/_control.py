"""The loopback server's control endpoints, under ``/_sandbox/`` on the API port.

``GET /_sandbox/state`` is :meth:`SandboxService.state` as JSON; ``GET /_sandbox/faults``
lists the armed faults; ``POST /_sandbox/faults`` changes them with
``{"add": [spec, ...]}``, ``{"set": [spec, ...]}`` or ``{"clear": true}`` (specs as in
:mod:`apscores.sandbox._fault_spec`) and answers the new list. Only the loopback server
routes here (in-process tests call the service directly), and only for a loopback ``Host``
header, so a web page cannot reach these through DNS rebinding.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from apscores.sandbox._fault_spec import FaultChange
from apscores.sandbox._replies import json_reply
from apscores.sandbox._service import SandboxService
from apscores.sandbox._wire import SandboxRequest, SandboxResponse

__all__ = ["CONTROL_PREFIX", "handle_control", "is_control"]

CONTROL_PREFIX = "/_sandbox/"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def is_control(request: SandboxRequest) -> bool:
    """Whether the request is for a control endpoint rather than the fake service."""
    return urlsplit(request.url).path.startswith(CONTROL_PREFIX)


def _error(status: int, message: str, *extra: tuple[str, str]) -> SandboxResponse:
    return json_reply(status, {"error": message}, *extra)


def _host_name(request: SandboxRequest) -> str:
    host = request.headers.get("host", "").strip().lower()
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def handle_control(service: SandboxService, request: SandboxRequest) -> SandboxResponse:
    """Answer a ``/_sandbox/...`` request."""
    if _host_name(request) not in _LOOPBACK_NAMES:
        return _error(403, "the control endpoints answer only to a loopback Host")
    path = urlsplit(request.url).path.rstrip("/")
    if path == "/_sandbox/state":
        if request.method != "GET":
            return _error(405, "use GET /_sandbox/state", ("Allow", "GET"))
        return json_reply(200, service.state())
    if path == "/_sandbox/faults":
        if request.method == "GET":
            return json_reply(200, service.faults.to_dict())
        if request.method != "POST":
            return _error(405, "use GET or POST /_sandbox/faults", ("Allow", "GET, POST"))
        try:
            data: Any = json.loads(request.body or b"null")
            change = FaultChange.from_dict(data)
        except ValueError as error:  # bad JSON or a bad spec: nothing was changed
            return _error(400, str(error))
        except RecursionError:
            return _error(400, "the request body is nested too deeply")
        change.apply(service.faults)
        return json_reply(200, service.faults.to_dict())
    return _error(404, "unknown control endpoint; try GET /_sandbox/state or /_sandbox/faults")
