"""What ``jobs`` promises, through its Python API (the command line only passes it on):
a run killed at any step is finished by the next, each file saved once and recorded once;
the ledger is keyed by the client's own account; a locked DI code is skipped."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from apscores.errors import ConfigurationError
from apscores.jobs import (
    DiLock,
    FetchOutcome,
    FetchSummary,
    Ledger,
    State,
    default_ledger_path,
    fetch,
    lock_paths,
)
from apscores.sandbox import DEFAULT_EMAIL, SandboxService, sandbox_async_client, sandbox_client
from apscores.service import GeneratedFile

pytestmark = pytest.mark.anyio
DI = "1234"


@pytest.fixture
def service() -> SandboxService:
    return SandboxService.default(di_codes=(DI,), reports=3)


async def run(service: SandboxService, dest: Path) -> FetchSummary:
    async with sandbox_async_client(service, retry_base_delay=0) as client:
        return await fetch(client, [DI], dest)


def generated_and_noted(service: SandboxService, dest: Path) -> tuple[GeneratedFile, Path]:
    """A run that got as far as "generated" in the ledger, then died."""
    with sandbox_client(service) as client:
        generated = client.files.generate(DI)
    assert generated is not None
    target = dest / generated.file_name
    with Ledger(default_ledger_path(dest)) as ledger:
        ledger.start(
            DEFAULT_EMAIL,
            DI,
            generated.download_id,
            fmt="txt",
            kind="new",
            file_name=generated.file_name,
            path=target,
        )
    return generated, target


def states(dest: Path) -> list[State]:
    with Ledger(default_ledger_path(dest)) as ledger:
        return [entry.state for entry in ledger.entries()]


async def test_a_saved_but_unrecorded_file_is_recorded_never_downloaded_again(
    service: SandboxService, tmp_path: Path
) -> None:
    generated, target = generated_and_noted(service, tmp_path)
    with sandbox_client(service) as client:
        client.files.download(generated, target)
    size, digest = target.stat().st_size, hashlib.sha256(target.read_bytes()).hexdigest()
    with Ledger(default_ledger_path(tmp_path)) as ledger:
        (entry,) = ledger.entries()
        ledger.mark_saved(entry.id, path=target, size=size, sha256=digest)
    summary = await run(service, tmp_path)
    (result,) = summary.results
    assert result.outcome is FetchOutcome.OK
    (saved,) = result.files
    assert (saved.path, saved.recovered, saved.sha256) == (target, True, digest)
    assert states(tmp_path) == [State.RECORDED]
    assert service.recorded_ids == [generated.download_id]
    assert service.download(generated.download_id).fetches == 1


async def test_a_file_on_disk_but_not_noted_as_saved_is_checked_and_adopted(
    service: SandboxService, tmp_path: Path
) -> None:
    generated, target = generated_and_noted(service, tmp_path)
    with sandbox_client(service) as client:
        client.files.download(generated, target)
    summary = await run(service, tmp_path)
    assert summary.outcome is FetchOutcome.OK
    assert states(tmp_path) == [State.RECORDED]
    assert service.download(generated.download_id).fetches == 1


async def test_a_file_that_never_arrived_is_abandoned_and_its_part_removed(
    service: SandboxService, tmp_path: Path
) -> None:
    generated, target = generated_and_noted(service, tmp_path)
    part = tmp_path / f".{target.name}.part-xyz"
    part.write_bytes(b"half a file")
    summary = await run(service, tmp_path)
    assert summary.outcome is FetchOutcome.OK  # the service sends the file again
    assert states(tmp_path) == [State.ABANDONED, State.RECORDED]
    assert not part.exists()
    assert service.download(generated.download_id).recorded is False


async def test_a_locked_di_code_is_skipped_and_nothing_is_asked_for(
    service: SandboxService, tmp_path: Path
) -> None:
    beside, *_ = lock_paths(default_ledger_path(tmp_path), tmp_path, DI)
    with DiLock(beside) as held:
        assert held.acquire(wait=False)
        summary = await run(service, tmp_path)
    assert summary.outcome is FetchOutcome.LOCKED
    assert service.downloads == []
    assert (await run(service, tmp_path)).outcome is FetchOutcome.OK


async def test_the_ledger_is_keyed_by_the_clients_own_account(
    service: SandboxService, tmp_path: Path
) -> None:
    async with sandbox_async_client(service, retry_base_delay=0) as client:
        assert client.account == DEFAULT_EMAIL
        with pytest.raises(AttributeError):
            client.account = "other@x.edu"  # type: ignore[misc]
        with pytest.deprecated_call(match=r"fetch\(account=\.\.\.\) is deprecated"):
            summary = await fetch(client, [DI], tmp_path, account=DEFAULT_EMAIL.upper())
        assert {f.account for f in summary.files} == {DEFAULT_EMAIL}
        with (
            pytest.deprecated_call(),
            pytest.raises(ConfigurationError, match="not the account the client logs in with"),
        ):
            await fetch(client, [DI], tmp_path, account="someone.else@x.edu")
