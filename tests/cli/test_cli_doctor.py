"""``apscores doctor`` lists what it cannot check from here, with College Board's advice."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import apscores.service
from apscores.cli import main
from apscores.cli.doctor import CANNOT_CHECK, DOWNLOADS_PER_ACCOUNT, PREREQUISITES
from apscores.cli.exitcodes import ExitCode
from apscores.sandbox import DEFAULT_EMAIL, DEFAULT_PASSWORD, SandboxService, transport

REAL_CLIENT = apscores.service.AsyncClient


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> SandboxService:
    """``doctor`` with env credentials, its real client on a strict sandbox."""
    sandbox = SandboxService.default(strict=True)

    def factory(**options: Any) -> apscores.service.AsyncClient:
        http = httpx.AsyncClient(transport=transport(sandbox))
        return REAL_CLIENT(
            base_url=sandbox.api_base_url, retry_base_delay=0, http_client=http, **options
        )

    monkeypatch.setenv("APSCORES_EMAIL", DEFAULT_EMAIL)
    monkeypatch.setenv("APSCORES_PASSWORD", DEFAULT_PASSWORD)
    monkeypatch.setattr(apscores.service, "AsyncClient", factory)
    return sandbox


def test_the_sandbox_check_lists_what_cannot_be_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--sandbox"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.index("[ok] login works") < out.index("Cannot check from here; please confirm:")
    for item in CANNOT_CHECK:
        assert f"  [?] {item}\n" in out
    assert "tracks downloads per account, not per institution" in DOWNLOADS_PER_ACCOUNT
    assert "apscores fetch --kind full" in DOWNLOADS_PER_ACCOUNT
    assert "apscores merge" in DOWNLOADS_PER_ACCOUNT


def test_a_refused_login_adds_only_what_the_checklist_lacks(
    service: SandboxService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APSCORES_PASSWORD", "wrong")
    assert main(["doctor"]) == ExitCode.AUTH
    out = capsys.readouterr().out
    for item in PREREQUISITES:
        assert item in out
    assert f"  [?] {DOWNLOADS_PER_ACCOUNT}\n" in out
    assert out.count("[?]") == 1  # MFA and the terms of use are on the checklist already


def test_an_unreachable_service_still_lists_them(
    service: SandboxService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.faults.refuse("login", times=None)
    assert main(["doctor"]) == ExitCode.PARTIAL
    out = capsys.readouterr().out
    assert "[!!] login failed" in out
    assert out.count("[?]") == len(CANNOT_CHECK)
