"""``fetch --sandbox``: the same job against the in-process sandbox, for demos and trials.

No account and no network: a :class:`~apscores.sandbox.SandboxService` with synthetic
score orders answers the client through an in-process transport. So that a second run can
say "nothing new", what the service still has to deliver is kept between runs in a small
JSON file (default ``<dest>/.apscores-sandbox.json``), written when the run ends.

The file is a demo convenience, not part of the crash-safety story: a run killed with
SIGKILL does not update it. The crash test runs the sandbox as a loopback server instead.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from apscores._atomic import atomic_write
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
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
_VERSION = 1


def default_state_path(dest: Path) -> Path:
    """Where the demo keeps the sandbox's state between runs."""
    return dest / STATE_NAME


def load_service(path: Path, di_codes: tuple[str, ...]) -> tuple[SandboxService, int]:
    """The sandbox as the last run left it, and its next download id.

    DI codes the state has not seen get :data:`DEMO_REPORTS` fresh synthetic orders.
    """
    state: dict[str, Any] = {"version": _VERSION, "next_download_id": 700001, "pending": {}}
    if path.exists():
        state = json.loads(path.read_text(encoding="utf-8"))
    next_id = int(state["next_download_id"])
    service = SandboxService(first_download_id=next_id)
    pending: dict[str, list[dict[str, Any]]] = state["pending"]
    codes = list(dict.fromkeys([*pending, *di_codes]))
    service.add_account(DEFAULT_EMAIL, DEFAULT_PASSWORD, di_codes=codes)
    for di_code in codes:
        if di_code in pending:
            service.add_reports(di_code, [from_dict(data) for data in pending[di_code]])
        else:
            service.add_reports(
                di_code, fake_reports(DEMO_REPORTS, seed=int(di_code), di_code=di_code)
            )
    return service, next_id


def save_service(service: SandboxService, path: Path, *, next_download_id: int) -> None:
    """Keep what the sandbox has not delivered yet (atomically: temp file, then rename)."""
    ids = [int(d.download_id) + 1 for d in service.downloads]
    state = {
        "version": _VERSION,
        "next_download_id": max([next_download_id, *ids]),
        "pending": {
            di_code: [to_dict(report) for report in service.pending(di_code, DEFAULT_EMAIL)]
            for di_code in sorted(service.di_codes)
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        handle.write(json.dumps(state).encode("utf-8"))


@contextlib.asynccontextmanager
async def sandbox_session(
    state_path: Path, di_codes: tuple[str, ...]
) -> AsyncIterator[tuple[AsyncClient, str]]:
    """A sandbox client and its account email; the sandbox state is saved on the way out."""
    service, next_id = load_service(state_path, di_codes)
    try:
        async with sandbox_async_client(service, retry_base_delay=0) as client:
            yield client, DEFAULT_EMAIL
    finally:
        save_service(service, state_path, next_download_id=next_id)
