"""The loopback server's limits: ports, body size, bad framing, silent clients, fault bounds."""

from __future__ import annotations

import io
import json
import math
import re
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores.cli import main as cli_main
from apscores.sandbox import SandboxServer, SandboxService, ServeConfig
from apscores.sandbox import _server as server_module
from apscores.sandbox._fault_spec import FaultChange, FaultSpec, load_fault_specs
from apscores.sandbox._faults import MAX_FAULT_SECONDS

LOGIN = "/aposrd-api-prod/webServiceAuth"
LOGIN_HEADERS = (
    "Content-Type: application/json",
    "Accept: application/json",
    "X-CB-Catapult-Authorization-Token: CBLogin",
    "X-CB-Catapult-Authentication-Token: CBLogin Web Service",
)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxService.default(reports=1), read_timeout=0.5) as running:
        yield running


def exchange(server: SandboxServer, raw: bytes, port: int | None = None) -> bytes:
    """Send raw bytes to the API port and read until the server closes the connection."""
    host, api_port = server.addresses[0]
    with socket.create_connection((host, port or api_port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def status_and_json(answer: bytes) -> tuple[int, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def post_head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


# -- ports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--storage-port", "70000"], "--storage-port"),
    ],
)
def test_a_port_out_of_range_is_one_line_naming_the_option_and_exit_2(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    runs: list[tuple[Callable[[], int], str]] = [
        (lambda: cli_main(["sandbox", "serve", *argv]), "apscores sandbox serve"),
        (lambda: server_module.main(argv), "python -m apscores.sandbox"),
    ]
    for run, prog in runs:
        assert run() == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1, captured.err
        assert captured.err.startswith(f"{prog}: {option} must be a port from 0 to 65535")
        assert argv[1] in captured.err


def test_a_config_with_a_bad_port_is_refused_in_python() -> None:
    with pytest.raises(ValueError, match="--storage-port must be a port"):
        ServeConfig(storage_port=65536)
    assert ServeConfig(port=65535, storage_port=0).port == 65535


@pytest.mark.parametrize("ttl", ["nan", "inf", "-1"])
def test_a_url_lifetime_that_is_not_a_number_of_seconds_is_refused(
    ttl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["sandbox", "serve", "--url-ttl", ttl]) == 2
    assert "--url-ttl must be a number of seconds" in capsys.readouterr().err


# -- request bodies ---------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_it_is_read(server: SandboxServer) -> None:
    size = server_module.MAX_BODY + 1
    answer = exchange(server, post_head(LOGIN, f"Content-Length: {size}"))
    status, body = status_and_json(answer)
    assert status == 413
    assert body == {"error": f"the request body is larger than {server_module.MAX_BODY} bytes"}


def test_a_chunked_body_over_the_limit_is_413(server: SandboxServer) -> None:
    chunk = b"x" * 65536
    framed = b"".join(b"10000\r\n" + chunk + b"\r\n" for _ in range(17))
    head = post_head(LOGIN, "Transfer-Encoding: chunked")
    assert status_and_json(exchange(server, head + framed))[0] == 413


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (post_head(LOGIN, "Content-Length: abc"), "Content-Length"),
        (post_head(LOGIN, "Content-Length: -5"), "Content-Length"),
        (post_head(LOGIN, "Content-Length: ") + "١٢".encode() + b"\r\n\r\n", "Content-Length"),
        (post_head(LOGIN, "Transfer-Encoding: chunked") + b"zz\r\n{}\r\n0\r\n\r\n", "chunk"),
    ],
)
def test_bad_framing_is_400_without_a_traceback(
    server: SandboxServer, raw: bytes, what: str, capfd: pytest.CaptureFixture[str]
) -> None:
    status, body = status_and_json(exchange(server, raw))
    assert status == 400
    assert what in str(body)
    assert "Traceback" not in capfd.readouterr().err


def test_any_content_length_that_is_not_a_number_is_400() -> None:
    with SandboxServer(SandboxService(), read_timeout=2) as running:

        @settings(deadline=None, max_examples=50)
        @given(
            st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\r\n"))
            .map(str.strip)
            .filter(lambda text: re.fullmatch(r"[0-9]{1,19}", text) is None)
        )
        def check(text: str) -> None:
            raw = post_head(LOGIN, f"Content-Length: {text}", "Connection: close")
            status, body = status_and_json(exchange(running, raw))
            assert status == 400
            assert isinstance(body, dict)
            assert body["error"].startswith("the Content-Length is not a number: ")

        check()


@pytest.mark.parametrize("path", [LOGIN, "/_sandbox/faults"])
def test_deeply_nested_json_is_400_without_a_traceback(
    server: SandboxServer, path: str, capfd: pytest.CaptureFixture[str]
) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    head = post_head(path, f"Content-Length: {len(body)}", *LOGIN_HEADERS)
    status, answer = status_and_json(exchange(server, head + body))
    assert status == 400, answer
    assert "Traceback" not in capfd.readouterr().err


# -- silent clients ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"POST /aposrd-api-prod/webSer", post_head(LOGIN, "Content-Length: 100") + b"{"],
    ids=["half a request line", "half a body"],
)
def test_a_silent_connection_is_closed_after_the_read_timeout(
    server: SandboxServer, raw: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    answer = exchange(server, raw)  # returns when the server hangs up
    assert 0.4 < time.monotonic() - started < 5
    assert b"200 OK" not in answer
    assert "Traceback" not in capfd.readouterr().err


def test_the_default_read_timeout_is_set() -> None:
    with SandboxServer(SandboxService()) as running:
        assert running.read_timeout == server_module.READ_TIMEOUT == 30.0


# -- fault bounds -----------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [math.nan, math.inf, 1e308, -1.0, MAX_FAULT_SECONDS + 1])
def test_a_delay_that_is_not_a_bounded_number_of_seconds_is_refused_when_posted(
    server: SandboxServer, seconds: float
) -> None:
    text = json.dumps({"add": {"kind": "delay", "endpoint": "login", "seconds": seconds}})
    head = post_head("/_sandbox/faults", f"Content-Length: {len(text)}")
    status, body = status_and_json(exchange(server, head + text.encode()))
    assert status == 400
    assert "seconds must be a number of seconds from 0 to 600" in str(body)
    assert server.service.faults.armed == []
    with pytest.raises(ValueError, match="from 0 to 600"):
        server.service.faults.delay("login", seconds)
    with pytest.raises(ValueError, match="from 0 to 600"):
        server.service.faults.timeout("login", seconds=seconds)
    with pytest.raises(ValueError, match="from 0 to 600"):
        FaultSpec.parse(f"delay=login,seconds={seconds}")


def test_the_longest_delay_allowed_is_accepted() -> None:
    service = SandboxService()
    FaultChange.from_dict({"add": {"kind": "delay", "endpoint": "login", "seconds": 600}}).apply(
        service.faults
    )
    assert [fault.seconds for fault in service.faults.armed] == [600.0]


def test_a_faults_file_nested_too_deeply_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="is not valid JSON: nested too deeply"):
        load_fault_specs(path)


class _ReaderLeft(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_serving_goes_on_when_the_reader_of_stdout_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", _ReaderLeft())
    seen: list[SandboxServer] = []

    def ready(server: SandboxServer) -> None:
        seen.append(server)
        signal.raise_signal(signal.SIGTERM)  # run() stops on it, as on Ctrl-C

    assert server_module.run(ServeConfig(port=0, storage_port=0), ready=ready) == 0
    assert len(seen) == 1
