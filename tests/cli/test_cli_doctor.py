"""``apscores doctor`` lists what it cannot check from here, with College Board's advice."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import httpx
import pytest

from _keyrings import FakeKeyring, Keyrings
from apscores.cli import main as cli_main
from apscores.cli._doctor import (
    CANNOT_CHECK,
    DOWNLOADS_PER_ACCOUNT,
    PREREQUISITES,
    SERVICE_LABELS,
)
from apscores.cli.exitcodes import ExitCode
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SANDBOX_BASE_URL,
    SandboxService,
    ServeConfig,
    serve,
    transport,
)
from apscores.service import DEFAULT_BASE_URL
from apscores.testing import instant_retries

#: The transport ``main`` gives ``doctor`` (the ``service`` fixture sets it; None: network).
TRANSPORT: httpx.AsyncBaseTransport | None = None


def main(argv: list[str]) -> int:
    """``apscores`` with this test's transport (``main``'s public switch for tests)."""
    return cli_main(argv, transport=TRANSPORT)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings) -> None:
    for name in ("APSCORES_EMAIL", "APSCORES_PASSWORD", "APSCORES_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    keyrings.use(FakeKeyring())
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxService]:
    """``doctor`` with env credentials, its real client on a strict sandbox."""
    sandbox = SandboxService.default(strict=True)

    monkeypatch.setenv("APSCORES_EMAIL", DEFAULT_EMAIL)
    monkeypatch.setenv("APSCORES_PASSWORD", DEFAULT_PASSWORD)
    monkeypatch.setenv("APSCORES_BASE_URL", sandbox.api_base_url)
    monkeypatch.setattr(sys.modules[__name__], "TRANSPORT", transport(sandbox))
    with instant_retries():
        yield sandbox


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


# -- which service it checked, and --json ---------------------------------------------


def test_the_text_names_the_base_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--sandbox"]) == ExitCode.OK
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"[..] base URL: {SANDBOX_BASE_URL} ({SERVICE_LABELS['sandbox']})"


@pytest.mark.usefixtures("no_credentials")
def test_production_is_named_even_without_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["doctor"]) == ExitCode.USAGE
    out = capsys.readouterr().out
    assert out.startswith(f"[..] base URL: {DEFAULT_BASE_URL} (production)\n")
    assert main(["doctor", "--json"]) == ExitCode.USAGE
    document = json.loads(capsys.readouterr().out)
    assert document["base_url"] == DEFAULT_BASE_URL
    assert document["service"] == "production"
    assert document["exit_code"] == 2
    assert document["status"] == "usage"
    assert document["credentials"]["found"] is False
    assert "APSCORES_EMAIL/APSCORES_PASSWORD are not set" in document["credentials"]["notes"]
    assert document["login"] == {"status": "not_tried", "message": ""}


def test_json_of_a_good_sandbox_login(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--sandbox", "--json"]) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "exit_code": 0,
        "status": "ok",
        "base_url": SANDBOX_BASE_URL,
        "service": "sandbox",
        "credentials": {
            "found": True,
            "email": DEFAULT_EMAIL,
            "source": "sandbox",
            "notes": [],
        },
        "login": {"status": "ok", "message": ""},
        "di_codes": [],
        "checklist": [],
        "cannot_check": list(CANNOT_CHECK),
    }


def test_di_codes_the_account_may_not_use_are_named(
    service: SandboxService, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["doctor", "--di", "1234", "--di", "9999"]
    assert main(args) == ExitCode.PARTIAL
    text = capsys.readouterr().out
    assert "[ok] login works" in text
    assert "[ok] DI 1234: this account may use it (new scores are waiting)" in text
    assert "[!!] DI 9999: refused: User is not authorized for DI code 9999." in text
    assert "For the refused DI codes, please check:" in text
    assert PREREQUISITES[2] in text  # the role, and not the whole login checklist
    assert PREREQUISITES[0] not in text.split("Cannot check")[0]
    # Nothing moved: the file prepared for the check was neither downloaded nor recorded.
    assert [d.fetches for d in service.downloads] == [0]
    assert service.recorded_ids == []
    assert len(service.pending("1234")) > 0

    assert main([*args, "--json"]) == ExitCode.PARTIAL
    document = json.loads(capsys.readouterr().out)
    assert [(d["di_code"], d["status"]) for d in document["di_codes"]] == [
        ("1234", "ok"),
        ("9999", "refused"),
    ]


def test_a_bad_di_code_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--sandbox", "--di", "12"]) == ExitCode.USAGE
    assert "4 digits" in capsys.readouterr().err


def test_json_of_a_refused_login(
    service: SandboxService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APSCORES_PASSWORD", "wrong")
    assert main(["doctor", "--json"]) == ExitCode.AUTH
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "auth"
    assert document["base_url"] == service.api_base_url
    assert document["service"] == "custom"
    assert document["credentials"]["source"] == "env"
    assert document["login"]["status"] == "refused"
    assert document["login"]["message"]
    assert document["checklist"] == list(PREREQUISITES)
    assert document["cannot_check"] == [DOWNLOADS_PER_ACCOUNT]
    assert "wrong" not in json.dumps(document)


def test_json_of_an_unreachable_service(
    service: SandboxService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.faults.refuse("login", times=None)
    assert main(["doctor", "--json"]) == ExitCode.PARTIAL
    document = json.loads(capsys.readouterr().out)
    assert document["exit_code"] == 5
    assert document["login"]["status"] == "failed"
    assert document["login"]["message"].startswith("webServiceAuth: cannot connect to ")
    assert document["cannot_check"] == list(CANNOT_CHECK)


def test_a_served_sandbox_through_apscores_base_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(ServeConfig(port=0, storage_port=0)) as running:
        monkeypatch.setenv("APSCORES_BASE_URL", running.base_url)
        monkeypatch.setenv("APSCORES_EMAIL", DEFAULT_EMAIL)
        monkeypatch.setenv("APSCORES_PASSWORD", DEFAULT_PASSWORD)
        assert main(["doctor"]) == ExitCode.OK
        out = capsys.readouterr().out
        assert f"[..] base URL: {running.base_url} ({SERVICE_LABELS['custom']})\n" in out
        assert "[ok] login works" in out
        assert main(["doctor", "--json"]) == ExitCode.OK
        document = json.loads(capsys.readouterr().out)
    assert document["base_url"] == running.base_url
    assert document["service"] == "custom"
    assert document["login"]["status"] == "ok"


def test_a_bad_base_url_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APSCORES_BASE_URL", "ftp://example.org/x")
    assert main(["doctor"]) == ExitCode.USAGE
    assert capsys.readouterr().out == (
        "[!!] base URL: base_url must be an http(s) URL, got 'ftp://example.org/x'\n"
    )
    assert main(["doctor", "--json"]) == ExitCode.USAGE
    document = json.loads(capsys.readouterr().out)
    assert document["base_url"] == "ftp://example.org/x"
    assert "http(s) URL" in document["login"]["message"]
