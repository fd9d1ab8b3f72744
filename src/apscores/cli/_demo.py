"""``fetch --sandbox``: the same job against the in-process sandbox, for demos and trials.

No account and no network: a :class:`~apscores.sandbox.SandboxService` with synthetic
score orders answers the client through an in-process transport. So that runs mean what
they mean against the real service, the sandbox's state is kept between runs in a small
JSON file (default ``<dest>/.apscores-sandbox.json``), written when the run ends: every
score order (``full`` delivers them all again, every time) and, per account and DI code,
the orders already recorded (``new`` delivers the rest, so a second run says "nothing new").

The sandbox runs in strict mode: this is our own client, and it must stay clean.

The file is a demo convenience, not part of the crash-safety story: a run killed with
SIGKILL does not update it. The crash test runs the sandbox as a loopback server instead.
A version-1 file (which kept only the orders still to deliver) is converted; a file that
cannot be read is moved aside to ``<name>.old`` and the demo starts afresh.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cattrs.errors import BaseValidationError

from apscores._atomic import atomic_write
from apscores.cli._output import LOGGER
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    Order,
    SandboxService,
    fake_reports,
    sandbox_async_client,
)
from apscores.serialize import from_dict, to_dict
from apscores.service import AsyncClient

__all__ = [
    "DEMO_DI_CODES",
    "DEMO_REPORTS",
    "STATE_NAME",
    "default_state_path",
    "load_service",
    "sandbox_session",
    "save_service",
]

#: DI codes the demo uses when none are given.
DEMO_DI_CODES = ("1234", "5678")
#: Synthetic score orders queued for each DI code on the first run.
DEMO_REPORTS = 25
STATE_NAME = ".apscores-sandbox.json"
_VERSION = 2
_FIRST_DOWNLOAD_ID = 700001


def default_state_path(dest: Path) -> Path:
    """Where the demo keeps the sandbox's state between runs."""
    return dest / STATE_NAME


def _synthetic(di_code: str) -> list[Any]:
    """The orders a DI code starts with (the same every time: seeded by the code)."""
    return list(fake_reports(DEMO_REPORTS, seed=int(di_code), di_code=di_code))


def _fresh() -> dict[str, Any]:
    return {"version": _VERSION, "next_download_id": _FIRST_DOWNLOAD_ID, "orders": {}}


def _from_version_1(state: dict[str, Any], now: float) -> dict[str, Any]:
    """Version 1 kept only the pending reports; the demo's orders are seeded, so the
    delivered ones are exactly the synthetic ones no longer pending.
    """
    orders: dict[str, list[dict[str, Any]]] = {}
    delivered: dict[str, list[int]] = {}
    next_id = 1
    for di_code, pending in state["pending"].items():
        left = [json.dumps(report, sort_keys=True) for report in pending]
        rows = []
        for report in _synthetic(di_code):
            data = to_dict(report)
            key = json.dumps(data, sort_keys=True)
            if key in left:
                left.remove(key)
            else:
                delivered.setdefault(di_code, []).append(next_id)
            rows.append({"id": next_id, "received_at": now, "report": data})
            next_id += 1
        for key in left:  # pending reports the seed does not explain: keep them too
            rows.append({"id": next_id, "received_at": now, "report": json.loads(key)})
            next_id += 1
        orders[di_code] = rows
    return {
        "version": _VERSION,
        "next_download_id": int(state["next_download_id"]),
        "orders": orders,
        "delivered": {DEFAULT_EMAIL: delivered},
    }


def _read_state(path: Path, now: float) -> dict[str, Any]:
    """The saved state as version 2 (converted from version 1); KeyError etc. if bad."""
    state = json.loads(path.read_text(encoding="utf-8"))
    if state["version"] == 1:
        return _from_version_1(state, now)
    if state["version"] != _VERSION:
        raise ValueError(f"unknown sandbox state version {state['version']!r}")
    return dict(state)


def _build(state: dict[str, Any], di_codes: tuple[str, ...]) -> tuple[SandboxService, int]:
    next_id = int(state["next_download_id"])
    service = SandboxService(first_download_id=next_id, strict=True)
    saved: dict[str, list[dict[str, Any]]] = state["orders"]
    codes = list(dict.fromkeys([*saved, *di_codes]))
    service.add_account(DEFAULT_EMAIL, DEFAULT_PASSWORD, di_codes=codes)
    for di_code in codes:
        if di_code in saved:
            service.add_orders(
                Order(int(row["id"]), di_code, from_dict(row["report"]), float(row["received_at"]))
                for row in saved[di_code]
            )
        else:
            service.add_reports(di_code, _synthetic(di_code))
    for email, by_code in state.get("delivered", {}).items():
        for di_code, order_ids in by_code.items():
            service.mark_delivered(email, di_code, (int(order_id) for order_id in order_ids))
    return service, next_id


def load_service(path: Path, di_codes: tuple[str, ...]) -> tuple[SandboxService, int]:
    """The sandbox as the last run left it, and its next download id.

    DI codes the state has not seen get :data:`DEMO_REPORTS` fresh synthetic orders.
    """
    if not path.exists():
        return _build(_fresh(), di_codes)
    try:
        return _build(_read_state(path, time.time()), di_codes)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, BaseValidationError):
        aside = path.with_name(path.name + ".old")
        path.replace(aside)
        LOGGER.warning("sandbox state %s could not be read; moved it to %s", path, aside)
        return _build(_fresh(), di_codes)


def save_service(service: SandboxService, path: Path, *, next_download_id: int) -> None:
    """Keep every order and each account's delivered ones (atomically: temp file, rename)."""
    ids = [int(d.download_id) + 1 for d in service.downloads]
    state = {
        "version": _VERSION,
        "next_download_id": max([next_download_id, *ids]),
        "orders": {
            di_code: [
                {"id": o.order_id, "received_at": o.received_at, "report": to_dict(o.report)}
                for o in service.di_codes[di_code]
            ]
            for di_code in sorted(service.di_codes)
        },
        "delivered": {
            email: {
                di_code: sorted(service.delivered(email, di_code))
                for di_code in sorted(account.di_codes)
            }
            for email, account in sorted(service.accounts.items())
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        handle.write(json.dumps(state).encode("utf-8"))


@contextlib.asynccontextmanager
async def sandbox_session(
    state_path: Path, di_codes: tuple[str, ...]
) -> AsyncIterator[AsyncClient]:
    """A sandbox client; the sandbox state is saved on the way out."""
    service, next_id = load_service(state_path, di_codes)
    try:
        async with sandbox_async_client(service, retry_base_delay=0) as client:
            yield client
    except BaseException:
        with contextlib.suppress(OSError):  # the run's own error is the one to report
            save_service(service, state_path, next_download_id=next_id)
        raise
    save_service(service, state_path, next_download_id=next_id)
