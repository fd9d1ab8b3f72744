"""The apscores client (sync and async) against the sandbox, once per fault."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from apscores.errors import (
    APIConnectionError,
    APIStatusError,
    APScoresError,
    AuthenticationError,
    DownloadError,
    DownloadURLExpired,
    RecordError,
)
from apscores.sandbox import (
    DEFAULT_EMAIL,
    FakeClock,
    SandboxService,
    sandbox_async_client,
    sandbox_client,
)
from apscores.service import DownloadResult

AUTHZ = "x-cb-catapult-authorization-token"


@attrs.frozen
class Scenario:
    name: str
    arm: Callable[[SandboxService, FakeClock], object]
    raises: type[APScoresError] | None = None
    check: Callable[[SandboxService, Any, Path], None] | None = None
    client_opts: dict[str, Any] = attrs.field(factory=dict)


def _recorded_once(service: SandboxService, result: Any, dest: Path) -> None:
    assert isinstance(result, DownloadResult)
    assert service.recorded_ids == [result.download_id]
    saved = result.path.read_bytes()
    assert saved == service.file_bytes(result.download_id)
    assert result.sha256 == hashlib.sha256(saved).hexdigest()
    assert result.size == len(saved)
    assert [p.name for p in dest.iterdir()] == [result.file_name]  # no temp files left
    assert service.pending() == []


def _nothing_recorded(service: SandboxService, error: Any, dest: Path) -> None:
    assert service.recorded_ids == []
    assert list(dest.iterdir()) == []  # nothing half-written
    assert len(service.pending()) == 5


def _calls(endpoint: str, count: int) -> Callable[[SandboxService, Any, Path], None]:
    def check(service: SandboxService, result: Any, dest: Path) -> None:
        assert len(service.calls(endpoint)) == count
        if isinstance(result, DownloadResult):
            _recorded_once(service, result, dest)

    return check


def _regenerated(service: SandboxService, result: Any, dest: Path) -> None:
    _recorded_once(service, result, dest)
    first, second = service.downloads
    assert not first.recorded  # the dead URL's id is never recorded
    assert second.download_id == result.download_id


def _record_failed(service: SandboxService, error: Any, dest: Path) -> None:
    assert isinstance(error, RecordError)
    assert error.path is not None
    assert error.path.read_bytes() == service.file_bytes(service.downloads[0].download_id)
    assert error.download_id == str(service.downloads[0].download_id)
    assert service.recorded_ids == []
    assert len(service.pending()) == 5  # watermark did not move: the next run gets them again


def _relogged(service: SandboxService, result: Any, dest: Path) -> None:
    _recorded_once(service, result, dest)
    assert len(service.calls("login")) == 2
    assert [r.status for r in service.calls("record")] == [401, 200]


def _delayed(service: SandboxService, result: Any, dest: Path) -> None:
    _recorded_once(service, result, dest)
    assert [r.fault for r in service.calls("download")] == ["delay"]


SCENARIOS = [
    Scenario("no fault", lambda s, c: None, check=_calls("generate", 1)),
    Scenario(
        "login 504 twice", lambda s, c: s.faults.fail("login", times=2), check=_calls("login", 3)
    ),
    Scenario(
        "generate 504 twice",
        lambda s, c: s.faults.fail("generate", times=2),
        check=_calls("generate", 3),
    ),
    Scenario(
        "generate 504 always",
        lambda s, c: s.faults.fail("generate", times=None),
        raises=APIStatusError,
        check=_nothing_recorded,
        client_opts={"max_retries": 2},
    ),
    Scenario(
        "generate 429 with Retry-After",
        lambda s, c: s.faults.fail("generate", status=429, retry_after=0),
        check=_calls("generate", 2),
    ),
    Scenario(
        "generate answers success false",
        lambda s, c: s.faults.fail("generate", status=200, message="Internal problem."),
        raises=APScoresError,
        check=_nothing_recorded,
    ),
    Scenario("login refused once", lambda s, c: s.faults.refuse("login"), check=_calls("login", 2)),
    Scenario(
        "generate times out once",
        lambda s, c: s.faults.timeout("generate"),
        check=_calls("generate", 2),
    ),
    Scenario(
        "download disconnects once",
        lambda s, c: s.faults.disconnect("download", after_bytes=100),
        check=_calls("download", 2),
    ),
    Scenario(
        "download disconnects always",
        lambda s, c: s.faults.disconnect("download", after_bytes=100, times=None),
        raises=APIConnectionError,  # as when it breaks before the headers
        check=_nothing_recorded,
    ),
    Scenario(
        "download truncated once",
        lambda s, c: s.faults.truncate("download", after_bytes=100),
        check=_calls("download", 2),
    ),
    Scenario(
        "download truncated always",
        lambda s, c: s.faults.truncate("download", after_bytes=100, times=None),
        raises=DownloadError,
        check=_nothing_recorded,
    ),
    Scenario(
        "download 503 once",
        lambda s, c: s.faults.fail("download", status=503),
        check=_calls("download", 2),
    ),
    Scenario("URL already expired once", lambda s, c: s.faults.expire_url(), check=_regenerated),
    Scenario(
        "URL refused with 403 once",
        lambda s, c: s.faults.fail("download", status=403),
        check=_regenerated,
    ),
    Scenario(
        "URL expired always",
        lambda s, c: s.faults.expire_url(times=None),
        raises=DownloadURLExpired,
        check=_nothing_recorded,
    ),
    Scenario(
        "token dies after 1 call", lambda s, c: s.faults.expire_token_after(1), check=_relogged
    ),
    Scenario(
        "record fails once (success false)",
        lambda s, c: s.faults.fail_record(message="Could not record download."),
        raises=RecordError,
        check=_record_failed,
    ),
    Scenario(
        "record fails always",
        lambda s, c: s.faults.fail_record(times=None),
        raises=RecordError,
        check=_record_failed,
    ),
    Scenario(
        "record 503 once",
        lambda s, c: s.faults.fail("record", status=503),
        check=_calls("record", 2),
    ),
    Scenario(
        "record applied but answer lost",
        lambda s, c: s.faults.fail("record", status=504, processed=True),
        check=_calls("record", 2),
    ),
    Scenario("slow download", lambda s, c: s.faults.delay("download", 30.0), check=_delayed),
]


def _run(mode: str, service: SandboxService, clock: FakeClock, dest: Path, **opts: Any) -> Any:
    transport_options = {"sleep": clock.advance}
    if mode == "sync":
        with sandbox_client(service, transport_options=transport_options, **opts) as client:
            return client.institution("1234").download(dest=dest)

    async def fake_sleep(seconds: float) -> None:
        clock.advance(seconds)

    async def main() -> Any:
        options = {"async_sleep": fake_sleep}
        async with sandbox_async_client(service, transport_options=options, **opts) as client:
            return await client.institution("1234").download(dest=dest)

    return anyio.run(main)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_client_against_fault(scenario: Scenario, mode: str, tmp_path: Path) -> None:
    clock = FakeClock()
    service = SandboxService.default(clock=clock, reports=5, strict=True)
    scenario.arm(service, clock)
    dest = tmp_path / "files"
    dest.mkdir()
    outcome: Any
    if scenario.raises is None:
        outcome = _run(mode, service, clock, dest, **scenario.client_opts)
        assert outcome is not None
    else:
        with pytest.raises(scenario.raises) as info:
            _run(mode, service, clock, dest, **scenario.client_opts)
        outcome = info.value
    if scenario.check is not None:
        scenario.check(service, outcome, dest)
    for logged in service.calls("download"):
        assert AUTHZ not in logged.headers  # the token never reaches the storage host
    assert service.remarks == []  # strict mode refused nothing: our client is clean
    assert not service.token_reached_storage


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_second_run_finds_nothing_new(mode: str, tmp_path: Path) -> None:
    clock = FakeClock()
    service = SandboxService.default(clock=clock, reports=3, strict=True)
    assert _run(mode, service, clock, tmp_path) is not None
    assert _run(mode, service, clock, tmp_path) is None
    assert len(service.downloads) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_record_failure_then_rerun_delivers_again(mode: str, tmp_path: Path) -> None:
    clock = FakeClock()
    service = SandboxService.default(clock=clock, reports=3, strict=True)
    service.faults.fail_record()
    with pytest.raises(RecordError):
        _run(mode, service, clock, tmp_path / "a")
    result = _run(mode, service, clock, tmp_path / "b")
    assert result.path.read_bytes() == service.file_bytes(service.downloads[0].download_id)
    assert service.recorded_ids == [service.downloads[1].download_id]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_wrong_password_is_an_authentication_error(mode: str, tmp_path: Path) -> None:
    service = SandboxService.default(reports=1, strict=True)
    with pytest.raises(AuthenticationError) as info:
        _run(mode, service, FakeClock(), tmp_path, password="not-it")
    assert "Invalid email or password." in str(info.value)
    assert "not-it" not in str(info.value)


def test_sandbox_client_defaults(ap_sandbox: SandboxService, tmp_path: Path) -> None:
    with ap_sandbox.client() as client:
        assert client.base_url == ap_sandbox.api_base_url
        generated = client.files.generate("1234", format="csv", kind="full")
        assert generated is not None
        path = client.files.download(generated, tmp_path)
        client.files.record(generated)
    assert path.read_bytes() == ap_sandbox.file_bytes(generated.download_id)
    assert ap_sandbox.recorded_ids == [generated.download_id]
    assert ap_sandbox.calls("login")[0].json()["u"] == DEFAULT_EMAIL


def test_sandbox_client_without_a_service_builds_one(tmp_path: Path) -> None:
    with sandbox_client() as client:
        assert client.institution("1234").download(dest=tmp_path) is not None

    async def main() -> None:
        async with sandbox_async_client() as client:
            assert await client.institution("1234").download(dest=tmp_path / "x") is not None

    anyio.run(main)


@pytest.mark.anyio
async def test_async_client_from_fixture(ap_sandbox: SandboxService, tmp_path: Path) -> None:
    async with ap_sandbox.async_client() as client:
        result = await client.institution("1234").download(kind="full", format="csv", dest=tmp_path)
    assert result is not None
    assert result.path.suffix == ".csv"
