"""A faithful fake of College Board's AP score-report web service, shipped with apscores.

What ``moto`` is for AWS: synthetic score reports (:func:`fake_reports`), a stateful fake of
the three endpoints and the presigned download host (:class:`SandboxService`) with fault
injection (``service.faults``), an httpx transport for in-process tests (:func:`transport`),
ready-made clients (:func:`sandbox_client`), a loopback HTTP server for other languages
(:func:`serve`, ``apscores sandbox serve``) and a pytest fixture (``ap_sandbox``).
It accepts what the real service accepts and records what a careful client should not do
(``service.state()``, ``service.observations``); ``strict=True`` refuses that instead.
Bodies may stream (:class:`StreamedBody`): :func:`bulk_renderer` serves files of any size,
1 GB included, in constant memory.

Names are imported on first use, so importing the package (or the pytest plugin, which a
test suite loads only when it asks for it: ``-p apscores.sandbox.pytest_plugin``) costs
next to nothing.

By concern: the state (:mod:`._service`, the one :class:`SandboxService`, with the values
of :mod:`._values`, the call log of :mod:`._observe` and the reports of :mod:`._fake` and
:mod:`._bulk`); the two hosts (:mod:`._api`, :mod:`._storage`); the faults (:mod:`._faults`
declares and fires them, :mod:`._fault_spec` reads and lists them as data); and the
carriers (:mod:`._transport` and :mod:`._clients` in process, :mod:`._server` and
:mod:`._serve_options` on loopback, :mod:`.pytest_plugin` for pytest).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from apscores._public import publish

if TYPE_CHECKING:
    from apscores.sandbox._bulk import BulkRenderer, bulk_renderer
    from apscores.sandbox._clients import sandbox_async_client, sandbox_client, transport
    from apscores.sandbox._fake import fake_reports, iter_fake_reports
    from apscores.sandbox._fault_spec import FaultSpec
    from apscores.sandbox._faults import Fault, FaultKind, Faults
    from apscores.sandbox._observe import Observation, Remark
    from apscores.sandbox._server import SandboxServer, ServeConfig, serve
    from apscores.sandbox._service import NO_SCORE_ORDERS, SandboxService
    from apscores.sandbox._transport import SandboxTransport
    from apscores.sandbox._values import (
        DEFAULT_DI_CODE,
        DEFAULT_EMAIL,
        DEFAULT_PASSWORD,
        SANDBOX_BASE_URL,
        SANDBOX_STORAGE_URL,
        Account,
        Download,
        FakeClock,
        LoggedRequest,
        Order,
        SandboxRequest,
        SandboxResponse,
        StreamedBody,
        render_reports,
    )

_HOMES = {
    "_bulk": ("BulkRenderer", "bulk_renderer"),
    "_clients": ("sandbox_async_client", "sandbox_client", "transport"),
    "_fake": ("fake_reports", "iter_fake_reports"),
    "_faults": ("Fault", "FaultKind", "Faults"),
    "_server": ("SandboxServer", "ServeConfig", "serve"),
    "_fault_spec": ("FaultSpec",),
    "_observe": ("Observation", "Remark"),
    "_service": ("NO_SCORE_ORDERS", "SandboxService"),
    "_transport": ("SandboxTransport",),
    "_values": (
        "DEFAULT_DI_CODE",
        "DEFAULT_EMAIL",
        "DEFAULT_PASSWORD",
        "SANDBOX_BASE_URL",
        "SANDBOX_STORAGE_URL",
        "Account",
        "Download",
        "FakeClock",
        "LoggedRequest",
        "Order",
        "SandboxRequest",
        "SandboxResponse",
        "StreamedBody",
        "render_reports",
    ),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "DEFAULT_DI_CODE",
    "DEFAULT_EMAIL",
    "DEFAULT_PASSWORD",
    "NO_SCORE_ORDERS",
    "SANDBOX_BASE_URL",
    "SANDBOX_STORAGE_URL",
    "Account",
    "BulkRenderer",
    "Download",
    "FakeClock",
    "Fault",
    "FaultKind",
    "FaultSpec",
    "Faults",
    "LoggedRequest",
    "Observation",
    "Order",
    "Remark",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxServer",
    "SandboxService",
    "SandboxTransport",
    "ServeConfig",
    "StreamedBody",
    "bulk_renderer",
    "fake_reports",
    "iter_fake_reports",
    "render_reports",
    "sandbox_async_client",
    "sandbox_client",
    "serve",
    "transport",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'apscores.sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"apscores.sandbox.{module}"), name)
    publish(__name__, {"__all__": [name], name: value})  # apscores.sandbox.SandboxService
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
