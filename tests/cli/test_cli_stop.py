"""How a run ends when it is told to: SIGTERM like Ctrl-C, and a reader that leaves.

SIGTERM (systemd, a cron or CI timeout, ``kill``) stops a run as Ctrl-C does, with its own
exit status (143) and a line saying re-running is safe. A closed pipe (``| head -1``) ends
the command quietly with 141, the status SIGPIPE gives other tools: no "bug" message, no
traceback, no Python warning at exit.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.files import write_txt
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SandboxServer,
    SandboxService,
    ServeConfig,
    fake_reports,
    serve,
)

unix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and pipes")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APSCORES_", "COV_"))}
    return {**env, **extra}


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "scores.txt"
    write_txt(fake_reports(400), path)  # ~400 kB of CSV rows: more than a pipe holds
    return path


# -- SIGTERM ----------------------------------------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[SandboxServer]:
    service = SandboxService.default(reports=2)
    service.faults.delay("login", 60.0)
    running = serve(ServeConfig(port=0, storage_port=0), service=service)
    try:
        yield running
    finally:
        running.shutdown()


@unix_only
def test_sigterm_stops_fetch_like_ctrl_c_with_exit_143(
    slow_server: SandboxServer, tmp_path: Path
) -> None:
    env = child_env(
        APSCORES_BASE_URL=slow_server.base_url,
        APSCORES_EMAIL=DEFAULT_EMAIL,
        APSCORES_PASSWORD=DEFAULT_PASSWORD,
    )
    argv = [sys.executable, "-m", "apscores", "fetch", "--di", "1234", "--dest", str(tmp_path)]
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not slow_server.service.requests and time.monotonic() < deadline:
        time.sleep(0.05)  # until the login is on the wire (and held by the delay)
    assert slow_server.service.requests, "the child never logged in"
    child.send_signal(signal.SIGTERM)
    _out, err = child.communicate(timeout=30)
    assert child.returncode == 143
    text = err.decode()
    assert "stopped by SIGTERM; re-running is safe" in text
    assert "Traceback" not in text
    assert list(tmp_path.glob(".*.part-*")) == []


def test_sigterm_in_process_is_a_terminated_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def deliver(args: object) -> int:
        signal.raise_signal(signal.SIGTERM)  # the handler main() installed raises here
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr("apscores.cli._files.run_read", deliver)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["read", "x.txt"]) == 143
    assert "stopped by SIGTERM; re-running is safe" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == before  # restored after the run


def test_ctrl_c_keeps_its_own_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("apscores.cli._files.run_read", interrupted)
    assert main(["read", "x.txt"]) == 130
    assert "interrupted; re-running is safe" in capsys.readouterr().err


# -- a closed pipe ----------------------------------------------------------------------


def first_line_then_close(argv: list[str], **env: str) -> tuple[int, bytes, str]:
    """Run ``argv``, read one line of its stdout, close the pipe, and wait for it."""
    child = subprocess.Popen(
        argv, env=child_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    assert child.stderr is not None
    line = child.stdout.readline()
    child.stdout.close()
    try:
        code = child.wait(timeout=60)
    finally:
        err = child.stderr.read().decode()
        child.stderr.close()
    return code, line, err


@unix_only
def test_convert_to_stdout_into_head_ends_quietly(scores: Path) -> None:
    argv = [sys.executable, "-m", "apscores", "convert", str(scores), "--to", "csv", "-o", "-"]
    code, line, err = first_line_then_close(argv)
    assert line.startswith(b"ap_id,")
    assert code == 141
    assert err == ""


@unix_only
def test_the_sandbox_into_head_keeps_serving_and_stops_quietly() -> None:
    argv = [sys.executable, "-m", "apscores.sandbox", "--port", "0", "--storage-port", "0"]
    child = subprocess.Popen(argv, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().startswith(b"apscores sandbox is running")
    child.stdout.close()  # what `| head -1` does; the server must not care
    time.sleep(0.3)
    assert child.poll() is None
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err


class ClosedPipe(io.StringIO):
    """A stdout whose reader left after the first line."""

    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= 1:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)

    def flush(self) -> None:
        if self.getvalue().count("\n") >= 1:
            raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("command", ["read", "ledger", "convert", "check"])
def test_a_closed_pipe_ends_each_command_quietly_with_141(
    command: str, scores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    dest = tmp_path / "demo"
    assert main(["fetch", "--sandbox", "--dest", str(dest), "--quiet"]) == 0
    capsys.readouterr()
    argv = {
        "read": ["read", str(scores), str(scores)],
        "ledger": ["ledger", "--dest", str(dest)],
        "convert": ["convert", str(scores), "--to", "csv", "-o", "-"],
        "check": ["check", str(scores), str(scores)],
    }[command]
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(argv) == ExitCode.PIPE_CLOSED
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "unexpected" not in err
    assert err == ""


def test_a_command_run_outside_the_main_thread_leaves_sigterm_alone(scores: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(main(["read", str(scores)])))
    worker.start()
    worker.join(timeout=60)
    assert codes == [0]
    assert signal.getsignal(signal.SIGTERM) == before
