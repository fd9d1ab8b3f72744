"""The sandbox as a real HTTP server on loopback, for integrations in any language.

Two ``ThreadingHTTPServer`` instances bound to 127.0.0.1 only: the API (``--port``) and the
storage host that serves the presigned download URLs (``--storage-port``). Both call the
same :class:`SandboxService` as the in-process transport. On a socket, a disconnect and a
truncation look alike: the server sends part of the body and closes the connection.
Streamed bodies are written chunk by chunk (chunked transfer encoding when their size is
unknown), so serving a 1 GB file takes no more memory than serving a small one.
The API port also answers the control endpoints under ``/_sandbox/`` (:func:`handle_control`).

A request body larger than :data:`MAX_BODY` is answered 413, a ``Content-Length`` or chunk
size that is not a number 400, and a connection silent for ``read_timeout`` seconds
(:data:`READ_TIMEOUT` by default) is closed, so a stalled client cannot hold a thread.
"""

from __future__ import annotations

import argparse
import errno
import json
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, TextIO
from urllib.parse import urlsplit

from apscores.sandbox._api import json_reply
from apscores.sandbox._fault_spec import FaultChange
from apscores.sandbox._serve_options import (
    ServeConfig,
    add_serve_arguments,
    banner,
    config_from_args,
    parse_size,
    say,
)
from apscores.sandbox._service import SandboxService
from apscores.sandbox._values import Failure, SandboxRequest, SandboxResponse, iter_body

__all__ = [
    "LOOPBACK",
    "MAX_BODY",
    "PORT_UNAVAILABLE",
    "READ_TIMEOUT",
    "ListenError",
    "SandboxServer",
    "ServeConfig",
    "add_serve_arguments",
    "banner",
    "config_from_args",
    "handle_control",
    "parse_size",
    "run",
    "serve",
]

LOOPBACK = "127.0.0.1"
#: ``run``'s exit status when a port cannot be listened on: 2, as for a bad option.
PORT_UNAVAILABLE = 2
API_PREFIX = "/aposrd-api-prod"
#: The largest request body read, in bytes (the service's bodies are a few hundred bytes).
MAX_BODY = 1 << 20
#: Seconds a connection may stay silent before the server closes it.
READ_TIMEOUT = 30.0
_NUMBER = re.compile(rb"[0-9]{1,19}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")


class _BadRequestError(Exception):
    """A request the server answers itself, before the service sees it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# -- the control endpoints, under /_sandbox/ on the API port --------------------------------
# GET /_sandbox/state is SandboxService.state() as JSON; GET /_sandbox/faults lists the armed
# faults as {"armed": [spec, ...]}, which POST /_sandbox/faults takes back as it is, besides
# {"add": [...]}, {"set": [...]} and {"clear": true} (apscores.sandbox._fault_spec). Only the
# loopback server routes here, and only for a loopback Host header (no DNS rebinding).

CONTROL_PREFIX = "/_sandbox/"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def _error(status: int, message: str, *extra: tuple[str, str]) -> SandboxResponse:
    return json_reply(status, {"error": message}, *extra)


def _host_name(request: SandboxRequest) -> str:
    host = request.headers.get("host", "").strip().lower()
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def handle_control(service: SandboxService, request: SandboxRequest) -> SandboxResponse:
    """Answer a ``/_sandbox/...`` request."""
    if _host_name(request) not in _LOOPBACK_NAMES:
        return _error(403, "the control endpoints answer only to a loopback Host")
    path = urlsplit(request.url).path.rstrip("/")
    if path == "/_sandbox/state":
        if request.method != "GET":
            return _error(405, "use GET /_sandbox/state", ("Allow", "GET"))
        return json_reply(200, service.state())
    if path == "/_sandbox/faults":
        if request.method == "GET":
            return json_reply(200, service.faults.to_dict())
        if request.method != "POST":
            return _error(405, "use GET or POST /_sandbox/faults", ("Allow", "GET, POST"))
        try:
            data: Any = json.loads(request.body or b"null")
            change = FaultChange.from_dict(data)
        except ValueError as error:  # bad JSON or a bad spec: nothing was changed
            return _error(400, str(error))
        except RecursionError:
            return _error(400, "the request body is nested too deeply")
        change.apply(service.faults)
        return json_reply(200, service.faults.to_dict())
    return _error(404, "unknown control endpoint; try GET /_sandbox/state or /_sandbox/faults")


def _handler(server: SandboxServer, role: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "apscores-sandbox"
        sys_version = ""

        timeout = server.read_timeout  # per socket operation, from the first byte on

        def _size(self, text: bytes, pattern: re.Pattern[bytes], base: int, what: str) -> int:
            if pattern.fullmatch(text.strip()) is None:
                shown = text.strip()[:40].decode("latin-1")
                raise _BadRequestError(400, f"the {what} is not a number: {shown!r}")
            size = int(text, base)
            if size > MAX_BODY:
                raise _BadRequestError(413, f"the request body is larger than {MAX_BODY} bytes")
            return size

        def _chunked(self) -> bytes:
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024).split(b";")[0]
                size = self._size(line, _HEX, 16, "chunk size")
                total += size
                if total > MAX_BODY:
                    raise _BadRequestError(413, f"the request body is larger than {MAX_BODY} bytes")
                if size == 0:
                    self.rfile.readline(1024)
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._chunked()
            text = self.headers.get("Content-Length")
            if text is None:
                return b""
            length = self._size(text.encode("latin-1"), _NUMBER, 10, "Content-Length")
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            base = server.base_url if role == "api" else server.storage_url
            origin = base.split("/", 3)
            try:
                body = self._body()
            except _BadRequestError as bad:  # the body was not read: answer, then hang up
                self.close_connection = True
                self._send(json_reply(bad.status, {"error": str(bad)}, ("Connection", "close")))
                return
            except TimeoutError:  # a body that stopped arriving
                self.close_connection = True
                return
            request = SandboxRequest.build(
                self.command,
                f"{origin[0]}//{origin[2]}{self.path}",
                list(self.headers.items()),
                body,
            )
            service = server.service
            if role == "api" and urlsplit(request.url).path.startswith(CONTROL_PREFIX):
                response = handle_control(service, request)
            elif role == "api":
                response = service.handle_api(request)
            else:
                response = service.handle_storage(request)
            self._send(response)

        def _send(self, response: SandboxResponse) -> None:
            if response.delay:
                time.sleep(response.delay)
            if response.failure is not None:
                if response.failure is Failure.TIMEOUT:
                    time.sleep(response.hold)
                self.close_connection = True
                return
            chunked = response.header("Content-Length") is None and self.command != "HEAD"
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            if response.cut is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            limit = None if response.cut is None else response.cut_after
            try:
                for chunk in iter_body(response.body, limit=limit):
                    if chunked:
                        self.wfile.write(b"%X\r\n" % len(chunk))
                    self.wfile.write(chunk)
                    if chunked:
                        self.wfile.write(b"\r\n")
                if response.cut is None:
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                    return
                self.wfile.flush()
            except (ConnectionError, TimeoutError):  # the client hung up or stopped reading
                self.close_connection = True
                return
            self.close_connection = True
            # Shut the socket down now, so the client sees the cut, not a hanging read.
            self.connection.shutdown(socket.SHUT_RDWR)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            # Never log the query string: it holds the presigned URL's signature.
            if server.quiet:
                return
            line = getattr(self, "requestline", "").split("?", 1)[0]
            sys.stderr.write(f"[sandbox {role}] {line} -> {args[1] if len(args) > 1 else ''}\n")

    return Handler


class ListenError(OSError):
    """A port the sandbox cannot listen on, usually because another program holds it.

    ``str()`` is one line naming the port and the option that chose it.
    """

    def __init__(self, error: OSError, port: int, option: str) -> None:
        super().__init__(error.errno, error.strerror or str(error))
        self.port = port
        self.option = option

    def __str__(self) -> str:
        if self.errno == errno.EADDRINUSE:
            return (
                f"port {self.port} on {LOOPBACK} is already in use ({self.option}); stop "
                f"what uses it, or give another {self.option} (0: any free port)"
            )
        return f"cannot listen on {LOOPBACK}:{self.port} ({self.option}): {self.strerror}"


def _listen(port: int, option: str, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    try:
        return ThreadingHTTPServer((LOOPBACK, port), handler)
    except OSError as error:
        raise ListenError(error, port, option) from None


class SandboxServer:
    """A running sandbox: ``base_url``, ``storage_url``, ``service``; stop with ``shutdown()``."""

    def __init__(
        self,
        service: SandboxService,
        *,
        port: int = 0,
        storage_port: int = 0,
        quiet: bool = True,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.service = service
        self.quiet = quiet
        self.read_timeout = read_timeout
        self._api = _listen(port, "--port", _handler(self, "api"))
        try:
            self._storage = _listen(storage_port, "--storage-port", _handler(self, "storage"))
        except OSError:
            self._api.server_close()
            raise
        for httpd in (self._api, self._storage):
            httpd.daemon_threads = True
        prefix = service.api_prefix or API_PREFIX
        self.base_url = f"http://{LOOPBACK}:{self._api.server_address[1]}{prefix}"
        self.storage_url = f"http://{LOOPBACK}:{self._storage.server_address[1]}"
        service.api_base_url = self.base_url
        service.storage_base_url = self.storage_url
        self._threads = [
            threading.Thread(
                target=httpd.serve_forever,
                args=(0.05,),  # poll often, so shutdown() is quick
                name=f"apscores-sandbox-{name}",
                daemon=True,
            )
            for name, httpd in (("api", self._api), ("storage", self._storage))
        ]
        for thread in self._threads:
            thread.start()
        self._stopped = False

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The (host, port) each server is bound to."""
        return [
            (str(httpd.server_address[0]), int(httpd.server_address[1]))
            for httpd in (self._api, self._storage)
        ]

    def shutdown(self) -> None:
        """Stop both servers and close their sockets (safe to call twice)."""
        if self._stopped:
            return
        self._stopped = True
        for httpd in (self._api, self._storage):
            httpd.shutdown()
            httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def serve(
    config: ServeConfig | None = None,
    *,
    service: SandboxService | None = None,
    quiet: bool = True,
) -> SandboxServer:
    """Start the sandbox on loopback in background threads and return it (running).

    With ``service`` given, only the ports of ``config`` are used; the service's base URLs
    are pointed at the two servers. Otherwise ``config.faults`` are armed on a new service.
    """
    config = config or ServeConfig()
    if service is None:
        options: dict[str, Any] = {}
        if config.file_size is not None:
            from apscores.sandbox._bulk import bulk_renderer

            options["renderer"] = bulk_renderer(config.file_size)
        service = SandboxService.default(
            email=config.email,
            password=config.password,
            di_codes=config.di_codes,
            reports=config.reports,
            seed=config.seed,
            url_ttl=config.url_ttl,
            api_base_url=f"http://{LOOPBACK}{API_PREFIX}",
            strict=config.strict,
            etag=config.etag,
            **options,
        )
        for spec in config.faults:
            spec.arm(service.faults)
    return SandboxServer(service, port=config.port, storage_port=config.storage_port, quiet=quiet)


def run(
    config: ServeConfig,
    *,
    out: TextIO | None = None,
    ready: Callable[[SandboxServer], None] | None = None,
) -> int:
    """Serve until SIGINT or SIGTERM, then shut down cleanly; returns the exit status."""
    out = out or sys.stdout
    try:
        server = serve(config, quiet=False)
    except ListenError as error:  # a busy port: one line, like a usage error (exit 2)
        print(f"apscores sandbox serve: {error}", file=sys.stderr)
        return PORT_UNAVAILABLE
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        say(out, banner(server, config))
        if ready is not None:
            ready(server)
        while not stop.is_set():
            stop.wait(0.2)  # wake up now and then: signal handlers run between waits
    finally:
        server.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say(out, "apscores sandbox stopped\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m apscores.sandbox``: the same as ``apscores sandbox serve``."""
    parser = argparse.ArgumentParser(
        prog="python -m apscores.sandbox", description="Run the apscores sandbox on loopback."
    )
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:  # one line naming the option, as `apscores sandbox serve`
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return PORT_UNAVAILABLE
    return run(config)
