"""Kill ``python -m apscores fetch`` with SIGKILL at every step boundary, then run it again.

The sandbox runs as a loopback server in this test process, so its state (which orders
were delivered, which downloads recorded) outlives the killed subprocess, exactly as
College Board's would. The subprocess dies through the ``APSCORES_TEST_KILL_AT`` hook
(see :func:`apscores.jobs._fetch.checkpoint`). After the next, unhindered run every score
order must be saved exactly once, every saved file recorded, and nothing left half-done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apscores.cli.exitcodes import ExitCode
from apscores.files._detect import read
from apscores.jobs import Ledger, State, default_ledger_path
from apscores.jobs._observer import KILL_AT_ENV  # a test seam, not public API
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SandboxServer,
    SandboxService,
    ServeConfig,
    serve,
)

DIS = ("1234", "5678")
STEPS = ("generate", "generated", "download", "saved", "record", "recorded")


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    service = SandboxService.default(di_codes=DIS, reports=6, url_ttl=300.0, strict=True)
    running = serve(ServeConfig(port=0, storage_port=0, di_codes=DIS), service=service)
    try:
        yield running
    finally:
        running.shutdown()


def run_fetch(server: SandboxServer, dest: Path, kill_at: str | None, *extra: str) -> int:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("APSCORES_") and not key.startswith("COV_")
    }
    env.update(
        APSCORES_BASE_URL=server.base_url,
        APSCORES_EMAIL=DEFAULT_EMAIL,
        APSCORES_PASSWORD=DEFAULT_PASSWORD,
    )
    if kill_at is not None:
        env[KILL_AT_ENV] = kill_at
    argv = [sys.executable, "-m", "apscores", "fetch", "--quiet", "--dest", str(dest), *extra]
    for di in DIS:
        argv += ["--di", di]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_killed_run_is_finished_by_the_next(
    server: SandboxServer, tmp_path: Path, step: str
) -> None:
    service = server.service
    orders = {di: {order.report.ap_id for order in service.di_codes[di]} for di in DIS}

    assert run_fetch(server, tmp_path, kill_at=step) == -signal.SIGKILL
    # The next run has work left unless both DI codes had written "recorded" to the ledger
    # before the first of them reached the kill (their ledger writes run in threads, so
    # both can finish at once): then, and only then, it has nothing new.
    with Ledger(default_ledger_path(tmp_path)) as ledger:
        done = {e.di_code for e in ledger.entries() if e.state is State.RECORDED}
    expected = ExitCode.NOTHING_NEW if done == set(DIS) else ExitCode.OK
    assert run_fetch(server, tmp_path, kill_at=None) == expected

    # Every score order is saved exactly once, in a file of its own DI code.
    saved: dict[str, list[str]] = {di: [] for di in DIS}
    for path in sorted(tmp_path.glob("AP_*")):
        with read(path) as reader:
            for report in reader:
                saved[report.di_code].append(report.ap_id)
    for di in DIS:
        assert sorted(saved[di]) == sorted(orders[di]), f"DI {di} after a kill at {step}"
        assert service.pending(di, DEFAULT_EMAIL) == []  # the service saw them all recorded

    # The ledger is finished: every file on disk is recorded, locally and at the service.
    with Ledger(default_ledger_path(tmp_path)) as ledger:
        entries = ledger.entries()
    assert {e.state for e in entries} <= {State.RECORDED, State.ABANDONED}
    recorded = [e for e in entries if e.state is State.RECORDED]
    assert sorted(e.path.name for e in recorded if e.path) == sorted(
        p.name for p in tmp_path.glob("AP_*")
    )
    assert {str(i) for i in service.recorded_ids} >= {e.download_id for e in recorded}
    for entry in recorded:
        assert service.download(entry.download_id).fetches == 1  # downloaded once
    assert not list(tmp_path.glob(".*.part-*"))

    # And the run after that has nothing to do.
    assert run_fetch(server, tmp_path, kill_at=None) == ExitCode.NOTHING_NEW


HAND_OFF = """
import os, signal, sys
with open(os.environ["LOG"], "a") as log:
    log.write(os.environ["APSCORES_DOWNLOAD_ID"] + "\\n")
flag = os.environ["LOG"] + ".killed"
if os.environ.get("KILL") and not os.path.exists(flag):
    open(flag, "w").close()
    os.kill(os.getppid(), signal.SIGKILL)  # the job dies while its hand-off runs
"""


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["deliver", "delivered", "in-hook"])
def test_a_kill_around_the_hand_off_means_one_more_delivery_never_none(
    server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kill_at: str
) -> None:
    dest = tmp_path / "d"
    log = tmp_path / "hand-off.log"
    script = tmp_path / "hand_off.py"
    script.write_text(HAND_OFF)
    monkeypatch.setenv("LOG", str(log))
    hook = ("--on-new", f"{sys.executable} {script}")
    if kill_at == "in-hook":
        monkeypatch.setenv("KILL", "1")
        assert run_fetch(server, dest, None, *hook) == -signal.SIGKILL
        monkeypatch.delenv("KILL")
    else:
        assert run_fetch(server, dest, kill_at, *hook) == -signal.SIGKILL
    assert run_fetch(server, dest, None, *hook) in (ExitCode.OK, ExitCode.NOTHING_NEW)

    with Ledger(default_ledger_path(dest)) as ledger:
        recorded = [e for e in ledger.entries() if e.state is State.RECORDED]
        assert ledger.undelivered() == []
    assert recorded
    handed = log.read_text().split()
    for entry in recorded:  # every file reached the student system at least once...
        assert entry.download_id in handed
    # ...and at most once more for each DI code whose hand-off was under way at the kill
    # (the DI codes run at the same time; each hands off one file at a time).
    repeats = len(handed) - len(set(handed))
    assert (1 if kill_at == "in-hook" else 0) <= repeats <= len(DIS)
