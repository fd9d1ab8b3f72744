"""A service that cannot be reached: one line naming the host, no repeated prefix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.testing import instant_retries

BASE = "https://api.example.org/aposrd-api-prod"
REFUSED = "cannot connect to api.example.org (connection refused)"


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.Route]:
    """Credentials in the environment, a base URL whose host refuses every connection."""
    monkeypatch.setenv("APSCORES_EMAIL", "ap-scores@example.edu")
    monkeypatch.setenv("APSCORES_PASSWORD", "not-shown-anywhere")
    monkeypatch.setenv("APSCORES_BASE_URL", BASE)
    with respx.mock(assert_all_called=True) as router, instant_retries():
        yield router.post(url__startswith=BASE).mock(
            side_effect=httpx.ConnectError("[Errno 111] Connection refused")
        )


def test_doctor_names_the_host_once(
    unreachable: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor"]) == ExitCode.PARTIAL
    captured = capsys.readouterr()
    assert f"[!!] login failed: webServiceAuth: {REFUSED}\n" in captured.out
    assert "webServiceAuth: webServiceAuth" not in captured.out + captured.err
    assert "not-shown-anywhere" not in captured.out + captured.err


def test_fetch_says_it_once_per_line(
    unreachable: respx.Route, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["fetch", "--di", "1234", "--dest", str(tmp_path / "scores")])
    assert code == ExitCode.PARTIAL
    captured = capsys.readouterr()
    assert f"DI 1234: failed: webServiceAuth: {REFUSED}\n" in captured.out
    assert f"cannot log in: webServiceAuth: {REFUSED}" in captured.err
    for line in (captured.out + captured.err).splitlines():
        assert line.count("webServiceAuth") <= 1, line
    assert "Traceback" not in captured.err


def test_fetch_json_still_prints_its_summary(
    unreachable: respx.Route, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["fetch", "--json", "--di", "1234", "--di", "5678", "--dest", str(tmp_path)])
    assert code == ExitCode.PARTIAL
    summary = json.loads(capsys.readouterr().out)
    assert summary["exit_code"] == 5
    assert summary["status"] == "partial"
    assert [(i["di_code"], i["status"], i["message"]) for i in summary["institutions"]] == [
        ("1234", "failed", f"webServiceAuth: {REFUSED}"),
        ("5678", "failed", f"webServiceAuth: {REFUSED}"),
    ]
