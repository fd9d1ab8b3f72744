"""The command line's small parts: parser, exit codes, credentials, locks, output, doctor."""

from __future__ import annotations

import argparse
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _keyrings import FakeKeyring, Keyrings
from apscores import write_txt
from apscores.cli import build_parser, main
from apscores.cli._credentials import Credentials, find_credentials
from apscores.cli._doctor import PREREQUISITES
from apscores.cli._output import JsonFormatter
from apscores.cli._progress import FetchProgress
from apscores.cli.exitcodes import ExitCode, worst
from apscores.jobs import DiResult, FetchOutcome
from apscores.sandbox import DEFAULT_EMAIL, DEFAULT_PASSWORD, SandboxService, transport
from apscores.testing import instant_retries


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings) -> None:
    monkeypatch.delenv("APSCORES_EMAIL", raising=False)
    monkeypatch.delenv("APSCORES_PASSWORD", raising=False)
    keyrings.use(FakeKeyring())
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def test_exit_codes_and_worst() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 130, 141, 143]
    assert worst([]) is ExitCode.NOTHING_NEW
    assert worst([ExitCode.NOTHING_NEW, ExitCode.OK]) is ExitCode.OK
    assert worst([ExitCode.OK, ExitCode.LOCKED]) is ExitCode.LOCKED
    assert worst([ExitCode.LOCKED, ExitCode.PARTIAL, ExitCode.OK]) is ExitCode.PARTIAL
    assert worst([ExitCode.PARTIAL, ExitCode.AUTH]) is ExitCode.AUTH
    assert worst([ExitCode.AUTH, ExitCode.STORAGE]) is ExitCode.STORAGE


def test_every_exit_code_is_in_the_help() -> None:
    epilog = " ".join(build_parser().epilog.split())  # type: ignore[union-attr]
    for code in ExitCode:
        assert f" {int(code)} " in f" {epilog}", code


def test_parser_has_every_command() -> None:
    parser = build_parser()
    for command in ("fetch", "doctor", "read", "convert", "sandbox", "merge", "credit"):
        assert command in parser.format_help()


def test_a_command_builds_only_its_own_parser() -> None:
    """A run imports only its command's code; a help or an unknown name shows them all."""
    everything = {name for name, _, _ in _subcommands(build_parser())}
    for command in ("fetch", "convert", "export", "sandbox"):
        found = {name for name, _, _ in _subcommands(build_parser(command))}
        assert found == {name for name in everything if name.split()[0] == command}
    assert {name for name, _, _ in _subcommands(build_parser("conver"))} == everything


@pytest.mark.parametrize("shape", ["--long", "--wide"])
@pytest.mark.parametrize("source", ["txt", "csv"])
@pytest.mark.parametrize("to", ["csv", "jsonl", "parquet"])
def test_convert_loads_neither_the_service_client_nor_pandas(
    tmp_path: Path, to: str, source: str, shape: str
) -> None:
    """Start-up is part of every scheduled run: ``convert`` loads no httpx, and pyarrow
    is never asked anything that makes it import pandas (50 MB, 0.1-0.3 s); from TXT
    and from CSV input."""
    from apscores.files import write_csv
    from apscores.sandbox import iter_fake_reports

    path = tmp_path / f"scores.{source}"
    (write_txt if source == "txt" else write_csv)(iter_fake_reports(3, seed=1), path)
    argv = ["convert", str(path), shape, "--to", to, "-o", str(tmp_path / f"o.{to}")]
    script = (
        f"import sys; from apscores.cli import main; code = main({argv!r}); "
        "print(code, sorted({'httpx', 'apscores.service', 'pandas'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[-2] == "0 []"


def _subcommands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    """``(name, parser, one-line help)`` for every subcommand, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub, helps.get(name)
                yield from _subcommands(sub, f"{prefix}{name} ")


def test_every_subcommand_describes_itself() -> None:
    found = {name: (sub, line) for name, sub, line in _subcommands(build_parser())}
    assert set(found) >= {
        "fetch", "doctor", "read", "check", "convert", "sandbox", "sandbox serve",
        "merge", "credit", "export",
    }  # fmt: skip
    for name, (sub, line) in found.items():
        assert line, f"`apscores {name}` has no line in its parent's --help"
        assert len(sub.description or "") > 40, f"`apscores {name}` --help has no description"


def test_every_subcommand_help_lists_the_exit_codes() -> None:
    from apscores.cli.exitcodes import ExitCode

    found = {name: sub for name, sub, _ in _subcommands(build_parser())}
    assert {"ledger", "match", "sandbox serve"} <= set(found)
    for name, sub in found.items():
        text = " ".join(sub.format_help().split())
        assert "exit codes: 0 ok," in text, name
        for code in ExitCode:
            assert f" {int(code)} " in text, (name, code)


def test_convert_help_names_every_format() -> None:
    found = {name: sub for name, sub, _ in _subcommands(build_parser())}
    text = " ".join(found["convert"].format_help().split())
    for name in ("CSV", "JSON Lines", "Parquet", "xlsx"):
        assert name in text


def test_file_commands_say_they_take_several_files() -> None:
    found = {name: sub for name, sub, _ in _subcommands(build_parser())}
    for name in ("read", "check", "convert", "merge", "credit", "export"):
        text = found[name].format_help()
        assert "FILE [FILE ...]" in text, name
        assert "(one or more)" in text, name


def test_sandbox_serve_help_shows_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "serve", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for default in (
        "(default: 8080)",
        "(default: 8081)",
        f"(default: {DEFAULT_EMAIL})",
        f"(default: {DEFAULT_PASSWORD})",
        "(default: 1234)",
        "(default: 25)",
        "(default: 0)",
        "(default: 300.0)",
    ):
        assert default in text


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == ExitCode.USAGE
    assert main(["fetch"]) == ExitCode.USAGE  # --dest is required
    assert "--dest" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert "apscores" in capsys.readouterr().out


def test_password_is_never_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("fetch", "doctor"):
        assert main([command, "--help"]) == 0
    help_text = capsys.readouterr().out.lower().replace("apscores_password", "")
    assert "--dest" in help_text
    assert "password" not in help_text


def test_python_dash_m(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    import apscores

    monkeypatch.setattr(sys, "argv", ["apscores", "--version"])
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(Path(apscores.__file__).with_name("__main__.py")), run_name="__main__")
    assert stopped.value.code == 0


# -- credentials ----------------------------------------------------------------------


def test_credentials_from_env() -> None:
    found, notes = find_credentials(
        environ={"APSCORES_EMAIL": "a@x.edu", "APSCORES_PASSWORD": "pw"}
    )
    assert found == Credentials("a@x.edu", "pw", "env")
    assert "pw" not in repr(found)
    assert notes == ["environment variables"]


def test_credentials_from_keyring(monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings) -> None:
    keyrings.use(FakeKeyring({"k@x.edu": "kpw"}))
    found, _ = find_credentials(environ={}, interactive=False)
    assert found == Credentials("k@x.edu", "kpw", "keyring")
    found, _ = find_credentials(environ={"APSCORES_EMAIL": "k@x.edu"}, interactive=False)
    assert found == Credentials("k@x.edu", "kpw", "keyring")
    found, notes = find_credentials(environ={"APSCORES_EMAIL": "z@x.edu"}, interactive=False)
    assert found is None
    assert "APSCORES_PASSWORD is not set" in notes
    assert any("no keyring entry" in note and "z@x.edu" in note for note in notes)


def test_keyring_missing_or_broken(monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings) -> None:
    keyrings.missing()
    found, notes = find_credentials(environ={}, interactive=False)
    assert found is None
    assert any("pip install keyring (the 'apscores[keyring]' extra)" in note for note in notes)
    assert notes[-1] == "no terminal to ask on"
    keyrings.use(FakeKeyring(fail=True))
    _, notes = find_credentials(environ={}, interactive=False)
    assert any("not usable" in note for note in notes)
    keyrings.use(FakeKeyring())
    _, notes = find_credentials(environ={}, interactive=False)
    assert any("set APSCORES_EMAIL?" in note for note in notes)


def test_credentials_prompt(monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings) -> None:
    keyrings.use(FakeKeyring())
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return " p@x.edu "

    found, _ = find_credentials(
        environ={}, interactive=True, ask=ask, ask_secret=lambda prompt: "secret"
    )
    assert found == Credentials("p@x.edu", "secret", "prompt")
    assert asked == ["College Board account email: "]
    found, notes = find_credentials(
        environ={}, interactive=True, ask=ask, ask_secret=lambda prompt: ""
    )
    assert found is None
    assert notes[-1] == "nothing was typed"


def test_no_password_is_asked_for_an_empty_email(
    monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings
) -> None:
    keyrings.use(FakeKeyring())

    def never(prompt: str) -> str:
        raise AssertionError(f"asked {prompt!r}")

    found, notes = find_credentials(
        environ={}, interactive=True, ask=lambda prompt: "  ", ask_secret=never
    )
    assert found is None
    assert notes[-1] == "no email was typed"


def test_end_of_input_at_the_prompt_is_nothing_typed(
    monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings
) -> None:
    keyrings.use(FakeKeyring())

    def eof(prompt: str) -> str:
        raise EOFError

    found, notes = find_credentials(environ={}, interactive=True, ask=eof)
    assert found is None
    assert notes[-1] == "nothing was typed"


def test_ctrl_c_at_the_prompt_stops_fetch_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keyrings: Keyrings
) -> None:
    """The prompt runs before the event loop and the progress bar: one Ctrl-C ends it."""
    import asyncio
    import builtins

    keyrings.use(FakeKeyring())
    for name in ("APSCORES_EMAIL", "APSCORES_PASSWORD"):
        monkeypatch.delenv(name, raising=False)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def interrupted(prompt: str = "") -> str:
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # no event loop yet
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(builtins, "input", interrupted)
    code = main(["fetch", "--di", "1234", "--dest", str(tmp_path)])
    assert code == ExitCode.INTERRUPTED


def test_prompt_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch, keyrings: Keyrings) -> None:
    keyrings.use(FakeKeyring())

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    found, _ = find_credentials(environ={}, ask=lambda p: "t@x.edu", ask_secret=lambda p: "pw")
    assert found is not None
    assert found.source == "prompt"


# -- locks, output --------------------------------------------------------------------


class Terminal(io.StringIO):
    """A stream that says it is a terminal, so rich draws on it."""

    def isatty(self) -> bool:
        return True


def test_fetch_progress_shows_steps_bytes_and_outcomes() -> None:
    stream = Terminal()
    with FetchProgress(stream, ("1234", "5678")) as bar:
        bar.step("1234", "downloading")
        bar.received("1234", 512 * 1024, 2 * 1024 * 1024)
        bar._progress.refresh()
        drawn = stream.getvalue()
        assert "DI 1234" in drawn
        assert "DI 5678" in drawn
        assert "downloading" in drawn
        assert "0.5/2.1 MB" in drawn
        bar.finished(DiResult("1234", FetchOutcome.OK))
        bar.finished(DiResult("5678", FetchOutcome.NOTHING_NEW))
        bar._progress.refresh()
        assert "nothing new" in stream.getvalue()
        assert "done" in stream.getvalue()


def test_json_log_lines() -> None:
    record = logging.LogRecord("apscores.cli", logging.INFO, __file__, 1, "hi %s", ("there",), None)
    record.di_code = "1234"
    record.exit_code = 3
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "hi there"
    assert data["level"] == "info"
    assert data["di_code"] == "1234"
    assert data["exit_code"] == 3
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert "boom" in json.loads(JsonFormatter().format(record))["error"]


# -- doctor ---------------------------------------------------------------------------


def test_doctor_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--sandbox"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "[ok] login works" in out


@pytest.mark.usefixtures("no_credentials")
def test_doctor_without_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == ExitCode.USAGE
    out = capsys.readouterr().out
    assert "[!!] credentials: none found" in out
    assert "APSCORES_EMAIL/APSCORES_PASSWORD are not set" in out


def with_sandbox(
    monkeypatch: pytest.MonkeyPatch, service: SandboxService
) -> httpx.AsyncBaseTransport:
    """The commands' client on the sandbox: its base URL, and its transport for ``main``."""
    monkeypatch.setenv("APSCORES_BASE_URL", service.api_base_url)
    return transport(service)


def test_doctor_refused_login_prints_the_checklist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    monkeypatch.setenv("APSCORES_EMAIL", DEFAULT_EMAIL)
    monkeypatch.setenv("APSCORES_PASSWORD", "wrong")
    sandbox = with_sandbox(monkeypatch, SandboxService.default(strict=True))
    with instant_retries():
        assert main(["doctor"], transport=sandbox) == ExitCode.AUTH
    out = capsys.readouterr().out
    assert f"[ok] credentials: {DEFAULT_EMAIL} (from env)" in out
    assert "[!!] login refused" in out
    for item in PREREQUISITES:
        assert item in out
    assert "wrong" not in out


def test_doctor_good_login_and_unreachable_service(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    service = SandboxService.default(strict=True)
    monkeypatch.setenv("APSCORES_EMAIL", DEFAULT_EMAIL)
    monkeypatch.setenv("APSCORES_PASSWORD", DEFAULT_PASSWORD)
    sandbox = with_sandbox(monkeypatch, service)
    with instant_retries():
        assert main(["doctor"], transport=sandbox) == ExitCode.OK
        service.faults.refuse("login", times=None)
        assert main(["doctor"], transport=sandbox) == ExitCode.PARTIAL
    assert "[!!] login failed" in capsys.readouterr().out
