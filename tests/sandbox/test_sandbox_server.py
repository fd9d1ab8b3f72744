"""The sandbox as a loopback HTTP server: a plain urllib client, faults on a real socket,
clean shutdown in process, on SIGTERM and from a subprocess."""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from apscores.cli import _sandbox_cmd as sandbox_cmd
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SandboxServer,
    SandboxService,
    ServeConfig,
    serve,
)
from apscores.sandbox import _server as server_module

HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "X-CB-Catapult-Authentication-Token": "CBLogin Web Service",
}


def urlopen(request: urllib.request.Request | str, timeout: float = 10) -> Any:
    """``urllib.request.urlopen`` for the loopback URLs of these tests."""
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - loopback only


def post(url: str, payload: dict[str, Any], token: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=json.dumps(payload).encode(),
        headers={**HEADERS, "X-CB-Catapult-Authorization-Token": token},
        method="POST",
    )
    with urlopen(request) as response:
        return json.load(response)


def get(url: str) -> bytes:
    with urlopen(url) as response:
        data: bytes = response.read()
        return data


def urllib_sequence(base_url: str, email: str, password: str, di_code: str) -> tuple[Any, bytes]:
    """Login, generate, GET, record: what an integration in any language does."""
    p = base64.b64encode(password.encode()).decode()
    login = post(f"{base_url}/webServiceAuth", {"u": email, "p": p}, "CBLogin")
    assert login["success"] is True
    token = login["authToken"]
    generated = post(
        f"{base_url}/fileGeneration",
        {"diCode": di_code, "format": "TXT", "downloadType": "new"},
        token,
    )
    assert generated["success"] is True
    body = get(generated["url"])
    recorded = post(
        f"{base_url}/webServiceDownloaded",
        {"downloadId": generated["downloadId"], "format": "TXT"},
        token,
    )
    assert recorded == {"success": True, "message": "Download recorded successfully."}
    again = post(
        f"{base_url}/fileGeneration",
        {"diCode": di_code, "format": "TXT", "downloadType": "new"},
        token,
    )
    assert again["success"] is False
    assert "There were no score orders found" in again["message"]
    return generated, body


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    running = serve(ServeConfig(port=0, storage_port=0, reports=4))
    yield running
    running.shutdown()


def test_urllib_sequence_against_the_running_server(server: SandboxServer) -> None:
    generated, body = urllib_sequence(server.base_url, DEFAULT_EMAIL, DEFAULT_PASSWORD, "1234")
    assert urlsplit(generated["url"]).netloc == urlsplit(server.storage_url).netloc
    assert body == server.service.file_bytes(generated["downloadId"])
    assert body.count(b"\n") == 4
    assert server.service.recorded_ids == [generated["downloadId"]]


def test_binds_loopback_only(server: SandboxServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/aposrd-api-prod")
    assert server.storage_url.startswith("http://127.0.0.1:")
    assert [host for host, _ in server.addresses] == ["127.0.0.1", "127.0.0.1"]
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("10.255.255.255", 1))  # UDP connect sends nothing; finds our address
        own_address = probe.getsockname()[0]
        probe.close()
    except OSError:
        own_address = ""
    if own_address and not own_address.startswith("127."):
        port = server.addresses[0][1]
        with pytest.raises((ConnectionRefusedError, TimeoutError)):
            socket.create_connection((own_address, port), timeout=2).close()


def test_shutdown_closes_the_ports() -> None:
    running = serve(ServeConfig(port=0, storage_port=0, reports=1))
    port = running.addresses[0][1]
    with running:
        with pytest.raises(urllib.error.HTTPError) as info:
            urlopen(f"http://127.0.0.1:{port}/")
        assert info.value.code == 403
    running.shutdown()  # twice is fine
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_http_errors_keep_their_bodies(server: SandboxServer) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{server.base_url}/fileGeneration",
        data=b"{}",
        headers={**HEADERS, "X-CB-Catapult-Authorization-Token": "forged"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urlopen(request)
    assert info.value.code == 401
    assert json.load(info.value) == {"message": "Unauthorized"}


def test_storage_host_takes_the_token_but_strict_mode_refuses_it(server: SandboxServer) -> None:
    service = server.service
    p = base64.b64encode(DEFAULT_PASSWORD.encode()).decode()
    token = post(f"{server.base_url}/webServiceAuth", {"u": DEFAULT_EMAIL, "p": p}, "CBLogin")[
        "authToken"
    ]
    generated = post(
        f"{server.base_url}/fileGeneration",
        {"diCode": "1234", "format": "CSV", "downloadType": "full"},
        token,
    )
    leaky = urllib.request.Request(  # noqa: S310 - loopback
        generated["url"], headers={"X-CB-Catapult-Authorization-Token": token}
    )
    with urlopen(leaky) as response:  # the real host ignores headers it did not sign
        assert response.read() == service.file_bytes(generated["downloadId"])
    assert service.token_reached_storage
    service.strict = True
    with pytest.raises(urllib.error.HTTPError) as info:
        urlopen(leaky)
    assert info.value.code == 400
    text = info.value.read().decode()
    assert "<Code>InvalidArgument</Code>" in text
    assert "x-cb-catapult-authorization-token" in text
    assert token not in text
    assert service.download(generated["downloadId"]).fetches == 1


def test_faults_on_a_real_socket(server: SandboxServer) -> None:
    service = server.service
    generated, _ = urllib_sequence(server.base_url, DEFAULT_EMAIL, DEFAULT_PASSWORD, "1234")
    url = generated["url"]
    service.faults.disconnect("download", after_bytes=100)
    with pytest.raises(http.client.IncompleteRead):
        get(url)
    service.faults.truncate("download", after_bytes=10)
    with pytest.raises(http.client.IncompleteRead):
        get(url)
    service.faults.refuse("download")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(url)
    service.faults.timeout("download", seconds=0.01)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(url)
    service.faults.delay("download", 0.01, times=1)
    service.faults.fail("download", status=503)
    with pytest.raises(urllib.error.HTTPError) as info:
        get(url)
    assert info.value.code == 503
    request = urllib.request.Request(url, method="HEAD")  # noqa: S310 - loopback
    with urlopen(request) as response:
        assert int(response.headers["Content-Length"]) > 0
    assert get(url) == service.file_bytes(generated["downloadId"])


def test_chunked_request_bodies(server: SandboxServer) -> None:
    host, port = server.addresses[0]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    p = base64.b64encode(DEFAULT_PASSWORD.encode()).decode()
    body = json.dumps({"u": DEFAULT_EMAIL, "p": p}).encode()
    connection.request(
        "POST",
        "/aposrd-api-prod/webServiceAuth",
        body=iter([body[:10], body[10:]]),
        headers={**HEADERS, "X-CB-Catapult-Authorization-Token": "CBLogin"},
        encode_chunked=True,
    )
    answer = json.load(connection.getresponse())
    connection.close()
    assert answer["success"] is True


def test_serve_with_a_given_service_and_logging(capsys: pytest.CaptureFixture[str]) -> None:
    service = SandboxService.default(reports=1, di_codes=["0042"])
    with SandboxServer(service, quiet=False) as running:
        urllib_sequence(running.base_url, DEFAULT_EMAIL, DEFAULT_PASSWORD, "0042")
    logged = capsys.readouterr().err
    assert "[sandbox api] POST /aposrd-api-prod/fileGeneration" in logged
    assert "[sandbox storage] GET /" in logged
    assert "Signature" not in logged  # the query string never reaches the log


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


def test_port_in_use(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(OSError, match="in use") as info:
        SandboxServer(SandboxService(), port=0, storage_port=busy_port)
    assert isinstance(info.value, server_module.ListenError)
    assert (info.value.port, info.value.option) == (busy_port, "--storage-port")
    assert server_module.run(ServeConfig(port=busy_port, storage_port=0)) == 2
    assert capsys.readouterr().err == (
        f"apscores sandbox serve: port {busy_port} on 127.0.0.1 is already in use (--port); "
        "stop what uses it, or give another --port (0: any free port)\n"
    )


@pytest.mark.parametrize("option", ["--port", "--storage-port"])
def test_cli_busy_port_is_one_line_and_exit_2(
    option: str, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from apscores.cli import main

    other = "--storage-port" if option == "--port" else "--port"
    assert main(["sandbox", "serve", option, str(busy_port), other, "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert f"port {busy_port} on 127.0.0.1 is already in use ({option})" in lines[0]
    assert "Traceback" not in captured.err


def test_run_prints_the_banner_and_stops_on_sigterm() -> None:
    out = io.StringIO()
    seen: list[str] = []

    def ready(running: SandboxServer) -> None:
        def client() -> None:  # another program using the server, then stopping it
            generated, _ = urllib_sequence(running.base_url, "me@example.edu", "pw", "0042")
            seen.append(str(generated["downloadId"]))
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=client).start()

    previous = signal.getsignal(signal.SIGTERM)
    config = ServeConfig(
        port=0, storage_port=0, email="me@example.edu", password="pw", di_codes=("0042",)
    )
    assert server_module.run(config, out=out, ready=ready) == 0
    assert signal.getsignal(signal.SIGTERM) == previous  # handlers restored
    text = out.getvalue()
    assert "base URL:     http://127.0.0.1:" in text
    assert "email:        me@example.edu" in text
    assert "password:     pw" in text
    assert "DI codes:     0042 (25 score orders queued)" in text
    assert text.endswith("apscores sandbox stopped\n")
    assert seen == ["700001"]


class _CtrlCAfterBanner(io.StringIO):
    """Presses Ctrl-C (SIGINT) once the banner is out, i.e. once the handlers are in place."""

    def flush(self) -> None:
        super().flush()
        if "base URL" in self.getvalue() and "stopped" not in self.getvalue():
            os.kill(os.getpid(), signal.SIGINT)


def test_run_stops_on_ctrl_c() -> None:
    out = _CtrlCAfterBanner()
    assert server_module.run(ServeConfig(port=0, storage_port=0, reports=1), out=out) == 0
    assert out.getvalue().endswith("apscores sandbox stopped\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="apscores")
    sandbox_cmd.register(parser.add_subparsers(dest="command"))
    return parser


def test_cli_register_adds_sandbox_serve() -> None:
    args = _parser().parse_args(
        ["sandbox", "serve", "--port", "0", "--storage-port", "0", "--di", "1234", "--di", "5678",
         "--reports", "3", "--seed", "9", "--email", "a@b.edu", "--password", "x"]
    )  # fmt: skip
    assert args.func is sandbox_cmd.run_serve
    config = server_module.config_from_args(args)
    assert config == ServeConfig(
        port=0, storage_port=0, email="a@b.edu", password="x", di_codes=("1234", "5678"),
        reports=3, seed=9,
    )  # fmt: skip
    assert "x" not in repr(config).split("email")[1].replace("storage_port", "")
    defaults = server_module.config_from_args(_parser().parse_args(["sandbox", "serve"]))
    assert (defaults.port, defaults.storage_port, defaults.di_codes) == (8080, 8081, ("1234",))


@pytest.mark.parametrize("bad", [["--di", "12"], ["--reports", "-1"]])
def test_cli_rejects_bad_options(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["sandbox", "serve", *bad])
    assert sandbox_cmd.run_serve(args) == 2
    assert "apscores sandbox serve:" in capsys.readouterr().err
    assert server_module.main(bad) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m apscores.sandbox: ")
    assert err.count("\n") == 1


def test_cli_serve_runs_until_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_run(config: ServeConfig) -> int:
        assert config.port == 0
        return 0

    monkeypatch.setattr(server_module, "run", fake_run)
    args = _parser().parse_args(["sandbox", "serve", "--port", "0"])
    assert sandbox_cmd.run_serve(args) == 0
    monkeypatch.setattr(server_module, "run", lambda config: 1)
    assert sandbox_cmd.run_serve(args) == 2
    monkeypatch.setattr(server_module, "run", lambda config: 0)
    assert server_module.main(["--port", "0"]) == 0


def test_subprocess_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "apscores.sandbox", "--port", "0", "--storage-port", "0",
         "--reports", "2", "--di", "0042"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        base_url = next(line.split()[-1] for line in lines if "base URL:" in line)
        urllib_sequence(base_url, DEFAULT_EMAIL, DEFAULT_PASSWORD, "0042")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "apscores sandbox stopped" in out
    assert "Traceback" not in err
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(urlsplit(base_url).port or 0)), timeout=2)
