"""``apscores.jobs.fetch`` as a Python API: one DI code's failure is its own, whatever it is;
the hook never sees a secret; runs sharing a ledger are kept apart by its lock."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import anyio
import pytest

from apscores.errors import StorageError
from apscores.jobs import (
    DiLock,
    DiResult,
    FetchOptions,
    FetchOutcome,
    FetchSummary,
    Ledger,
    fetch,
    lock_paths,
)
from apscores.sandbox import DEFAULT_EMAIL, DEFAULT_PASSWORD, SandboxService, sandbox_async_client

pytestmark = pytest.mark.anyio
DIS = ("1234", "5678")


class FailingEvents:
    """Progress events that blow up for one DI code, as a bug or the OS might."""

    def __init__(self, di_code: str, error: BaseException) -> None:
        self.di_code = di_code
        self.error = error

    def step(self, di_code: str, label: str) -> None:
        if di_code == self.di_code and label == "generating":
            raise self.error

    def received(self, di_code: str, size: int, total: int | None) -> None:
        pass

    def finished(self, result: DiResult) -> None:
        pass


async def run(
    service: SandboxService,
    dest: Path,
    *,
    ledger: Ledger | None = None,
    options: FetchOptions | None = None,
    events: FailingEvents | None = None,
) -> FetchSummary:
    client = sandbox_async_client(service, retry_base_delay=0, email=DEFAULT_EMAIL.upper())
    async with client:
        return await fetch(client, DIS, dest, ledger=ledger, options=options, events=events)


@pytest.fixture
def service() -> SandboxService:
    return SandboxService.default(di_codes=DIS, reports=3)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (OSError(28, "No space left on device", "/srv/scores/x.txt"), FetchOutcome.STORAGE),
        (sqlite3.OperationalError("database is locked"), FetchOutcome.STORAGE),
        (RuntimeError("a bug"), FetchOutcome.FAILED),
    ],
    ids=["oserror", "sqlite3", "bug"],
)
async def test_one_codes_failure_of_any_kind_is_that_codes_alone(
    service: SandboxService, tmp_path: Path, error: BaseException, outcome: FetchOutcome
) -> None:
    summary = await run(service, tmp_path, events=FailingEvents("5678", error))
    first, second = summary.results
    assert (first.di_code, first.outcome) == ("1234", FetchOutcome.OK)
    assert len(first.files) == 1
    assert (second.di_code, second.outcome) == ("5678", outcome)
    assert summary.outcome is outcome
    assert str(error.args[-1] if isinstance(error, OSError) else error) in second.message
    assert len(service.pending("5678")) == 3  # nothing recorded for the failed code
    assert service.pending("1234") == []


async def test_the_account_is_kept_in_the_ledger_in_lower_case(
    service: SandboxService, tmp_path: Path
) -> None:
    summary = await run(service, tmp_path)
    assert {saved.account for result in summary.results for saved in result.files} == {
        DEFAULT_EMAIL
    }
    with Ledger(tmp_path / ".apscores-ledger.sqlite3") as ledger:
        assert {entry.account for entry in ledger.entries()} == {DEFAULT_EMAIL}


async def test_runs_sharing_a_ledger_are_kept_apart_whatever_their_dest(
    service: SandboxService, tmp_path: Path
) -> None:
    shared = tmp_path / "shared.sqlite3"
    other_dest = tmp_path / "b"
    held = DiLock(lock_paths(shared, tmp_path / "a", "1234")[0])
    assert held.acquire(wait=False)  # another run, with dest "a", fetches 1234
    try:
        with Ledger(shared) as ledger:
            summary = await run(service, other_dest, ledger=ledger)
    finally:
        held.release()
    outcomes = {result.di_code: result.outcome for result in summary.results}
    assert outcomes == {"1234": FetchOutcome.LOCKED, "5678": FetchOutcome.OK}
    assert len(service.pending("1234")) == 3


async def test_the_hook_gets_the_file_but_never_a_secret(
    service: SandboxService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APSCORES_PASSWORD", DEFAULT_PASSWORD)
    monkeypatch.setenv("APSCORES_EMAIL", "someone@x.edu")
    monkeypatch.setenv("apscores_token", "lower-case-too")
    out = tmp_path / "env.json"
    script = tmp_path / "hook.py"
    script.write_text(
        "import json, os, sys\n"
        f"with open({str(out)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}) + '\\n')\n"
    )
    options = FetchOptions(on_new=f"{sys.executable} {script}")
    summary = await run(service, tmp_path / "d", options=options)
    assert [result.outcome for result in summary.results] == [FetchOutcome.OK, FetchOutcome.OK]
    calls = [json.loads(line) for line in (await anyio.Path(out).read_text()).splitlines()]
    assert len(calls) == 2
    for call in calls:
        env = call["env"]
        assert DEFAULT_PASSWORD not in json.dumps(env)
        assert "lower-case-too" not in json.dumps(env)
        apscores_vars = {key for key in env if key.upper().startswith("APSCORES_")}
        assert apscores_vars == {
            "APSCORES_FILE",
            "APSCORES_DI_CODE",
            "APSCORES_DOWNLOAD_ID",
            "APSCORES_FORMAT",
            "APSCORES_RECORDS",
            "APSCORES_EXAMS",
            "APSCORES_SHA256",
        }
        assert call["argv"] == [env["APSCORES_FILE"]]
        assert env["APSCORES_RECORDS"] == "3"
        assert Path(env["APSCORES_FILE"]).is_file()


async def test_a_destination_that_cannot_be_made_is_a_storage_error(
    service: SandboxService, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    with pytest.raises(StorageError, match="cannot create the destination") as caught:
        await run(service, blocker / "scores")
    assert isinstance(caught.value, OSError)
    assert caught.value.filename == str(blocker / "scores")
    assert service.downloads == []  # nothing generated
