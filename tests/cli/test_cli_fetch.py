"""``apscores fetch`` against the sandbox: the job, its ledger, recovery, locks and hooks."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _keyrings import Keyrings
from apscores.cli import main as cli_main
from apscores.cli.exitcodes import ExitCode
from apscores.files._detect import read
from apscores.jobs import DiLock, Ledger, State, default_ledger_path, lock_paths
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SandboxService,
    fake_reports,
    sandbox_client,
    transport,
)
from apscores.service._guesses import MAX_REGENERATIONS
from apscores.testing import instant_retries

DIS = ("1234", "5678")


@pytest.fixture
def service() -> SandboxService:
    return SandboxService.default(di_codes=DIS, reports=5, strict=True)


#: The transport ``main`` gives the command (the ``real`` fixture sets it; None: network).
TRANSPORT: httpx.AsyncBaseTransport | None = None


def main(argv: list[str]) -> int:
    """``apscores`` with this test's transport (``main``'s public switch for tests)."""
    return cli_main(argv, transport=TRANSPORT)


def use_transport(monkeypatch: pytest.MonkeyPatch, chosen: httpx.AsyncBaseTransport) -> None:
    monkeypatch.setattr(sys.modules[__name__], "TRANSPORT", chosen)


@pytest.fixture
def real(monkeypatch: pytest.MonkeyPatch, service: SandboxService) -> Iterator[SandboxService]:
    """``fetch`` without --sandbox: env credentials, the real client on the sandbox transport."""
    monkeypatch.setenv("APSCORES_EMAIL", DEFAULT_EMAIL)
    monkeypatch.setenv("APSCORES_PASSWORD", DEFAULT_PASSWORD)
    monkeypatch.setenv("APSCORES_BASE_URL", service.api_base_url)
    use_transport(monkeypatch, transport(service))
    with instant_retries():
        yield service


def fetch(dest: Path, *extra: str) -> int:
    return main(["fetch", "--di", "1234", "--di", "5678", "--dest", str(dest), *extra])


def entries(dest: Path) -> list[Any]:
    with Ledger(default_ledger_path(dest)) as ledger:
        return ledger.entries()


def ap_ids(dest: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(dest.glob("AP_*")):
        with read(path) as reader:
            found += [report.ap_id for report in reader]
    return found


def test_sandbox_demo_then_nothing_new(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "demo"
    assert main(["fetch", "--sandbox", "--di", "1234", "--dest", str(dest)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "DI 1234: 1 file, 25 students" in out
    (saved,) = dest.glob("AP_HED_Scores_1234_*.txt")
    assert len(ap_ids(dest)) == 25
    assert [e.state for e in entries(dest)] == [State.RECORDED]
    assert entries(dest)[0].path == saved
    assert main(["fetch", "--sandbox", "--di", "1234", "--dest", str(dest)]) == 3
    assert "DI 1234: nothing new" in capsys.readouterr().out
    # A DI code the demo has not seen yet gets its own synthetic orders.
    assert main(["fetch", "--sandbox", "--dest", str(dest), "--json"]) == ExitCode.OK
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "ok"
    by_di = {i["di_code"]: i for i in summary["institutions"]}
    assert by_di["1234"]["status"] == "nothing_new"
    assert by_di["5678"]["students"] == 25
    assert by_di["5678"]["files"][0]["sha256"]


def test_sandbox_state_path_is_configurable(tmp_path: Path) -> None:
    state = tmp_path / "state" / "sandbox.json"
    args = ["fetch", "--sandbox", "--di", "1234", "--dest", str(tmp_path / "d")]
    assert main([*args, "--sandbox-state", str(state), "-q"]) == ExitCode.OK
    saved = json.loads(state.read_text())
    assert len(saved["orders"]["1234"]) == len(saved["delivered"][DEFAULT_EMAIL]["1234"]) == 25
    assert main([*args, "--sandbox-state", str(state), "-q"]) == ExitCode.NOTHING_NEW


def test_real_fetch_saves_each_order_once(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(tmp_path, "--format", "csv") == ExitCode.OK
    out = capsys.readouterr().out
    assert "DI 1234: 1 file, 5 students" in out
    assert "DI 5678: 1 file, 5 students" in out
    assert sorted(p.suffix for p in tmp_path.glob("AP_*")) == [".csv", ".csv"]
    assert len(set(ap_ids(tmp_path))) == 10
    assert len(real.recorded_ids) == 2
    assert {e.account for e in entries(tmp_path)} == {DEFAULT_EMAIL}
    assert fetch(tmp_path) == ExitCode.NOTHING_NEW
    assert fetch(tmp_path, "--kind", "full") == ExitCode.OK  # full always re-delivers
    assert len(list(tmp_path.glob("AP_*"))) == 4


def test_ledger_path_option(real: SandboxService, tmp_path: Path) -> None:
    ledger = tmp_path / "elsewhere" / "l.sqlite3"
    assert fetch(tmp_path / "d", "--ledger", str(ledger), "-q") == ExitCode.OK
    with Ledger(ledger) as opened:
        assert len(opened.entries()) == 2
    assert not default_ledger_path(tmp_path / "d").exists()


def test_json_logs(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(tmp_path, "--log-format", "json", "-v") == ExitCode.OK
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    events = {(line.get("di_code"), line.get("event")) for line in lines}
    assert ("1234", "recorded") in events
    assert ("5678", "saved") in events
    assert lines[-1]["exit_code"] == 0


def test_quiet_prints_nothing(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(tmp_path, "--quiet") == ExitCode.OK
    assert capsys.readouterr() == ("", "")


def test_progress_bar_on_a_terminal(
    real: SandboxService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert fetch(tmp_path) == ExitCode.OK
    drawn = terminal.getvalue()
    assert "DI 1234" in drawn
    assert " kB" in drawn  # bytes of the download, not steps
    assert " INFO " not in drawn  # a terminal gets the bar, not log lines


def test_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APSCORES_EMAIL", raising=False)
    assert main(["fetch", "--dest", str(tmp_path)]) == ExitCode.USAGE  # no --di
    assert main(["fetch", "--di", "12", "--dest", str(tmp_path)]) == ExitCode.USAGE


def test_no_credentials_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keyrings: Keyrings,
) -> None:
    monkeypatch.delenv("APSCORES_EMAIL", raising=False)
    monkeypatch.delenv("APSCORES_PASSWORD", raising=False)
    keyrings.missing()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert fetch(tmp_path) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "no College Board credentials found" in err
    assert "--sandbox" in err


def test_refused_login(
    real: SandboxService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APSCORES_PASSWORD", "not-it")
    assert fetch(tmp_path, "--json") == ExitCode.AUTH
    assert real.downloads == []


def test_one_failing_di_code_does_not_stop_the_other(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The service refuses a DI code the account has no role for: that code's failure, the
    # login works (it is not "login refused", exit 4).
    args = ["fetch", "--di", "1234", "--di", "9999", "--dest", str(tmp_path)]
    assert main(args) == ExitCode.PARTIAL
    captured = capsys.readouterr()
    assert "DI 1234: 1 file" in captured.out
    assert "DI 9999: failed:" in captured.out
    assert "not authorized for DI code 9999" in captured.err
    assert "APOSRD HED Admin role for that institution" in captured.out


def test_locked_di_code_is_skipped(real: SandboxService, tmp_path: Path) -> None:
    with DiLock(lock_paths(default_ledger_path(tmp_path), tmp_path, "5678")[-1]) as held:
        assert held.acquire(wait=False)
        assert fetch(tmp_path) == ExitCode.LOCKED
    assert [d.di_code for d in real.downloads] == ["1234"]
    assert fetch(tmp_path, "--wait-lock") == ExitCode.OK  # free now: no real wait


def test_expired_url_is_generated_again(real: SandboxService, tmp_path: Path) -> None:
    real.faults.expire_url(times=1)
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    states = [e.state for e in entries(tmp_path)]
    assert states == [State.ABANDONED, State.RECORDED]
    assert len(ap_ids(tmp_path)) == 5
    assert not list(tmp_path.glob(".*.part-*"))


def test_url_that_keeps_expiring_fails(real: SandboxService, tmp_path: Path) -> None:
    real.faults.expire_url(times=None)
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.PARTIAL
    assert {e.state for e in entries(tmp_path)} == {State.ABANDONED}
    assert len(entries(tmp_path)) == MAX_REGENERATIONS + 1
    assert not list(tmp_path.glob("AP_*"))


def test_broken_download_is_abandoned(real: SandboxService, tmp_path: Path) -> None:
    real.faults.truncate(times=None)
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.PARTIAL
    assert [e.state for e in entries(tmp_path)] == [State.ABANDONED]
    assert not list(tmp_path.glob(".*.part-*"))
    real.faults.clear()
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK


def test_failed_record_is_finished_by_the_next_run(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real.faults.fail_record(times=None)
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.PARTIAL
    assert "re-run to record it" in capsys.readouterr().out
    (entry,) = entries(tmp_path)
    assert entry.state is State.SAVED
    real.faults.clear()
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    assert "(1 finished from an earlier run)" in capsys.readouterr().out
    assert [e.state for e in entries(tmp_path)] == [State.RECORDED]
    assert real.download(entry.download_id).fetches == 1  # never downloaded again
    assert real.recorded_ids == [entry.download_id_value]


def test_record_still_failing_on_the_next_run(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real.faults.fail_record(times=None)
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.PARTIAL
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.PARTIAL
    assert "recording failed (APIRefusalError" in capsys.readouterr().out
    (entry,) = entries(tmp_path)  # still saved, and no second file was generated
    assert entry.state is State.SAVED
    assert len(real.downloads) == 1


def test_auth_failure_while_recording(real: SandboxService, tmp_path: Path) -> None:
    real.faults.fail_record(times=None, status=200, message="Invalid email or password.")
    code = main(["fetch", "--di", "1234", "--dest", str(tmp_path)])
    # The login worked and the file is saved: only telling College Board failed, which the
    # next run finishes (a RecordError), so this DI code failed; no login was refused.
    assert code == ExitCode.PARTIAL
    assert [e.state for e in entries(tmp_path)] == [State.SAVED]


def _generate(service: SandboxService, di: str = "1234") -> Any:
    with sandbox_client(service) as client:
        generated = client.files.generate(di)
    assert generated is not None
    return generated


def test_recovery_adopts_a_file_saved_before_a_crash(real: SandboxService, tmp_path: Path) -> None:
    generated = _generate(real)
    target = tmp_path / generated.file_name
    with Ledger(default_ledger_path(tmp_path)) as ledger:
        ledger.start(
            DEFAULT_EMAIL,
            "1234",
            generated.download_id,
            fmt="txt",
            kind="new",
            file_name=generated.file_name,
            path=target,
        )
    with sandbox_client(real) as client:
        client.files.download(generated, target)
    (tmp_path / f".{target.name}.part-abc").write_bytes(b"partial")
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    assert [e.state for e in entries(tmp_path)] == [State.RECORDED]
    assert entries(tmp_path)[0].sha256
    assert not list(tmp_path.glob(".*.part-*"))
    assert real.recorded_ids == [generated.download_id]
    assert len(real.downloads) == 1  # then nothing new: no second file
    assert real.downloads[0].fetches == 1
    assert len(ap_ids(tmp_path)) == 5


def test_recovery_abandons_a_file_that_never_arrived(real: SandboxService, tmp_path: Path) -> None:
    generated = _generate(real)
    target = tmp_path / generated.file_name
    with Ledger(default_ledger_path(tmp_path)) as ledger:
        ledger.start(
            DEFAULT_EMAIL,
            "1234",
            generated.download_id,
            fmt="txt",
            kind="new",
            file_name=generated.file_name,
            path=target,
        )
    (tmp_path / f".{target.name}.part-xyz").write_bytes(b"half a file")
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    assert [e.state for e in entries(tmp_path)] == [State.ABANDONED, State.RECORDED]
    assert not list(tmp_path.glob(".*.part-*"))
    assert len(ap_ids(tmp_path)) == 5
    assert real.download(generated.download_id).recorded is False


def test_saved_file_moved_away_is_still_recorded(real: SandboxService, tmp_path: Path) -> None:
    real.faults.fail_record(times=1)
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.PARTIAL
    (entry,) = entries(tmp_path)
    assert entry.path is not None
    entry.path.unlink()
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    assert [e.state for e in entries(tmp_path)] == [State.RECORDED]


def test_on_new_runs_with_the_path(real: SandboxService, tmp_path: Path) -> None:
    log = tmp_path / "hook.log"
    script = tmp_path / "hook.py"
    script.write_text(
        "import os, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(os.environ['APSCORES_DI_CODE'] + ' ' + sys.argv[1] + '\\n')\n"
        "print('imported')\n"
    )
    dest = tmp_path / "d"
    hook = f"{sys.executable} {script}"
    assert fetch(dest, "--on-new", hook, "-v") == ExitCode.OK
    lines = sorted(log.read_text().splitlines())
    assert [line.split()[0] for line in lines] == ["1234", "5678"]
    assert all(Path(line.split()[1]).exists() for line in lines)


def test_failing_on_new_is_a_partial_failure(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = f"{sys.executable} -c 'import sys; print(\"nope\"); sys.exit(3)'"
    assert fetch(tmp_path, "--on-new", hook) == ExitCode.PARTIAL
    captured = capsys.readouterr()
    assert "--on-new exited 3" in captured.err
    # One line a DI code says the file is safe and only its hand-off waits.
    assert captured.out.count("DI 1234: undelivered: --on-new exited 3 for ") == 1
    assert "every run retries until the hand-off succeeds" in captured.out
    assert "failed" not in captured.out
    assert {e.state for e in entries(tmp_path)} == {State.RECORDED}  # the files are safe
    # The next run has nothing new to fetch, and hands the files off again: still failing.
    assert fetch(tmp_path, "--on-new", str(tmp_path / "missing-program")) == ExitCode.PARTIAL
    assert "could not start" in capsys.readouterr().err
    # The ledger shows them, and once the command works they are delivered: exit 0.
    assert main(["ledger", "--dest", str(tmp_path), "--undelivered", "--json"]) == ExitCode.OK
    pending = json.loads(capsys.readouterr().out)["entries"]
    assert [e["delivery"] for e in pending] == ["pending", "pending"]
    assert all(e["delivery_error"] and e["delivery_attempts"] == 2 for e in pending)
    assert fetch(tmp_path, "--on-new", f"{sys.executable} -c pass") == ExitCode.OK
    assert "handed off 1 file(s) that earlier runs could not" in capsys.readouterr().out
    assert fetch(tmp_path, "--on-new", f"{sys.executable} -c pass") == ExitCode.NOTHING_NEW


def test_a_file_handed_off_by_hand_can_be_marked_delivered(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(tmp_path, "--on-new", str(tmp_path / "missing-program")) == ExitCode.PARTIAL
    assert fetch(tmp_path) == ExitCode.PARTIAL  # no --on-new: the promise is still there
    assert "no --on-new" in capsys.readouterr().out
    ids = [e.download_id for e in entries(tmp_path)]
    marks = [arg for download_id in ids for arg in ("--mark-delivered", download_id)]
    assert main(["ledger", "--dest", str(tmp_path), "--mark-delivered", "nope"]) == 2
    assert "no recorded file pending delivery" in capsys.readouterr().err
    assert main(["ledger", "--dest", str(tmp_path), *marks]) == ExitCode.OK
    assert fetch(tmp_path) == ExitCode.NOTHING_NEW
    assert main(["ledger", "--dest", str(tmp_path)]) == ExitCode.OK
    assert capsys.readouterr().out.count("recorded   delivered") == 2


def test_missing_on_new_program(real: SandboxService, tmp_path: Path) -> None:
    assert fetch(tmp_path, "--on-new", str(tmp_path / "missing-program")) == ExitCode.PARTIAL


def test_a_whole_file_with_a_bad_value_is_saved_and_recorded(
    real: SandboxService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The file check is about framing: a bad date is the reader's business (apscores
    # check), and fetching again would not fix it, so the file is kept and recorded.
    render = real.renderer

    def bad_birth_date(reports: Any, file_format: str) -> Any:
        body = render(reports, file_format)
        assert isinstance(body, bytes)
        return body[:141] + b"99XX99" + body[147:]

    real.renderer = bad_birth_date
    for extra in ((), ("--no-check",)):
        real.add_reports("1234", fake_reports(2, seed=len(extra)))
        assert main(["fetch", "--di", "1234", "--dest", str(tmp_path), *extra]) == ExitCode.OK
    assert {e.state for e in entries(tmp_path)} == {State.RECORDED}
    out = capsys.readouterr().out
    assert "DI 1234: 1 file, 7 students" in out  # counted by the check, in the same pass


def test_a_taken_file_name_gets_the_download_id(real: SandboxService, tmp_path: Path) -> None:
    # File names carry the minute they were generated in: a second file generated in the
    # same minute must not replace the first (which is already recorded).
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path), "--kind", "full"]) == 0
    (first,) = tmp_path.glob("AP_*")
    kept = first.read_bytes()
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path), "--kind", "full"]) == 0
    first_entry, second_entry = entries(tmp_path)
    assert first.read_bytes() == kept
    assert first_entry.path == first
    assert second_entry.state is State.RECORDED
    assert second_entry.path is not None
    if second_entry.file_name == first.name:  # same minute: the download id tells them apart
        assert second_entry.path.name == f"{first.stem}-{second_entry.download_id}.txt"
    assert second_entry.path.exists()
    assert len(list(tmp_path.glob("AP_*"))) == 2


def test_someone_elses_file_is_never_replaced(real: SandboxService, tmp_path: Path) -> None:
    generated = _generate(real)
    theirs = tmp_path / generated.file_name
    theirs.write_text("someone else's")
    # The sandbox delivers the same orders again (the first generate was never recorded).
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    assert theirs.read_text() == "someone else's"
    (entry,) = entries(tmp_path)
    assert entry.path is not None
    assert entry.path.parent == tmp_path
    if entry.file_name == theirs.name:  # generated in the same minute: the usual case
        assert entry.path.name == f"{theirs.stem}-{entry.download_id}.txt"
    with read(entry.path) as reader:
        assert len(list(reader)) == 5


class EmptyFirstDownload(httpx.AsyncBaseTransport):
    """The sandbox, except that the first download GET gets an empty 200 answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.emptied = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and not self.emptied:
            self.emptied += 1
            return httpx.Response(200, content=b"")
        return await self.inner.handle_async_request(request)


def test_empty_file_is_removed_and_asked_for_again(
    real: SandboxService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_first = EmptyFirstDownload(transport(real))

    use_transport(monkeypatch, empty_first)
    # Checked (the default): the empty body fails the check and is fetched again at once.
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    assert [e.state for e in entries(tmp_path)] == [State.ABANDONED, State.RECORDED]
    assert len(ap_ids(tmp_path)) == 5
    assert len(real.recorded_ids) == 1


def test_empty_file_unchecked_is_removed_and_asked_for_next_run(
    real: SandboxService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_first = EmptyFirstDownload(transport(real))

    use_transport(monkeypatch, empty_first)
    args = ["fetch", "--di", "1234", "--dest", str(tmp_path), "--no-check"]
    assert main(args) == ExitCode.PARTIAL
    assert [e.state for e in entries(tmp_path)] == [State.ABANDONED]
    assert not list(tmp_path.glob("AP_*"))
    assert real.recorded_ids == []
    assert main(args) == ExitCode.OK
    assert len(ap_ids(tmp_path)) == 5


def test_recovery_removes_an_empty_file_left_by_a_crash(
    real: SandboxService, tmp_path: Path
) -> None:
    generated = _generate(real)
    target = tmp_path / generated.file_name
    with Ledger(default_ledger_path(tmp_path)) as ledger:
        ledger.start(
            DEFAULT_EMAIL,
            "1234",
            generated.download_id,
            fmt="txt",
            kind="new",
            file_name=generated.file_name,
            path=target,
        )
    target.write_bytes(b"")
    assert main(["fetch", "--di", "1234", "--dest", str(tmp_path)]) == ExitCode.OK
    assert [e.state for e in entries(tmp_path)] == [State.ABANDONED, State.RECORDED]
    assert real.download(generated.download_id).recorded is False
    assert len(ap_ids(tmp_path)) == 5
