"""Every signal the storage host gives, used before the record: the ETag's MD5, the cut
at a record boundary only it can see, and errors that never carry a signature or token."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from apscores.errors import APScoresError, IncompleteFileError
from apscores.files import read
from apscores.sandbox import (
    DEFAULT_PASSWORD,
    FakeClock,
    SandboxService,
    sandbox_async_client,
    sandbox_client,
)
from apscores.sandbox._fault_spec import FaultSpec
from apscores.sandbox._storage import PART_SIZE
from apscores.service import DownloadResult

REPORTS = 5


def _service(**options: Any) -> SandboxService:
    return SandboxService.default(clock=FakeClock(), reports=REPORTS, strict=True, **options)


def _download(mode: str, service: SandboxService, dest: Path, **opts: Any) -> Any:
    if mode == "sync":
        with sandbox_client(service) as client:
            return client.institution("1234").download(dest=dest, **opts)

    async def main() -> Any:
        async with sandbox_async_client(service) as client:
            return await client.institution("1234").download(dest=dest, **opts)

    return anyio.run(main)


def _get(service: SandboxService, method: str = "GET") -> httpx.Response:
    with service.client() as client:
        generated = client.files.generate("1234")
    assert generated is not None
    with httpx.Client(transport=service.transport()) as http:
        return http.request(method, generated.url)


# --- the ETags the storage host serves ----------------------------------------------------


def test_the_storage_host_serves_s3_etags() -> None:
    single = _get(_service())
    assert single.headers["etag"] == f'"{hashlib.md5(single.content).hexdigest()}"'  # noqa: S324
    multipart = _get(_service(etag="multipart"))
    part_md5 = hashlib.md5(multipart.content).digest()  # noqa: S324 - one part: S3's rule
    assert multipart.headers["etag"] == f'"{hashlib.md5(part_md5).hexdigest()}-1"'  # noqa: S324
    assert "etag" not in _get(_service(etag="none")).headers
    with pytest.raises(ValueError, match="etag must be one of md5, multipart, none"):
        _service(etag="sha1")


def test_a_multipart_etag_counts_the_parts() -> None:
    service = _service(etag="multipart")
    service.renderer = lambda reports, file_format: b"x" * (PART_SIZE * 2 + 1)
    response = _get(service)
    pieces = [
        response.content[at : at + PART_SIZE] for at in range(0, 2 * PART_SIZE + 1, PART_SIZE)
    ]
    joined = b"".join(hashlib.md5(piece).digest() for piece in pieces)  # noqa: S324
    assert response.headers["etag"] == f'"{hashlib.md5(joined).hexdigest()}-3"'  # noqa: S324


# --- the fault that only the ETag shows -----------------------------------------------------


def test_cut_at_record_drops_whole_lines_with_a_matching_length() -> None:
    service = _service()
    service.faults.cut_at_record(2)
    cut = _get(service)
    whole = service.file_bytes(service.downloads[0].download_id)
    assert whole.startswith(cut.content)
    assert cut.content.endswith(b"\n")
    assert len(cut.content.splitlines()) == len(whole.splitlines()) - 2
    assert cut.headers["content-length"] == str(len(cut.content))
    assert cut.headers["etag"] == f'"{hashlib.md5(whole).hexdigest()}"'  # noqa: S324
    assert service.calls("download")[-1].fault == "cut_at_record"
    assert service.faults.armed == []


def test_cut_at_record_leaves_head_and_streamed_bodies_alone() -> None:
    service = _service()
    fault = service.faults.cut_at_record()
    head = _get(service, "HEAD")
    assert head.headers["content-length"] == str(
        len(service.file_bytes(service.downloads[0].download_id))
    )
    assert fault.active  # not used up by a HEAD
    service.renderer = lambda reports, file_format: _streamed(b"A" * 951 * 3)
    response = _get(service)
    assert len(response.content) == 951 * 3  # a streamed body is sent whole
    assert fault.active


def _streamed(data: bytes) -> Any:
    from apscores.sandbox import StreamedBody

    return StreamedBody(lambda: iter((data,)), size=len(data))


def test_cut_at_record_as_a_spec() -> None:
    spec = FaultSpec.parse("cut_at_record=2,times=3")
    assert spec.to_dict() == {"kind": "cut_at_record", "records": 2, "times": 3}
    service = _service()
    spec.arm(service.faults)
    (fault,) = service.faults.armed
    assert (fault.records, fault.remaining, fault.endpoint) == (2, 3, "download")
    assert fault.to_dict()["records"] == 2
    with pytest.raises(ValueError, match="records must be an integer >= 1"):
        FaultSpec.parse("cut_at_record=0")
    with pytest.raises(ValueError, match="records must be >= 1"):
        service.faults.cut_at_record(0)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("format", ["txt", "csv"])
def test_without_the_etag_a_cut_at_a_record_boundary_is_recorded(
    mode: str, format: str, tmp_path: Path
) -> None:
    """What the ETag check is for: with no ETag, nothing else can see this cut."""
    service = _service(etag="none")
    service.faults.cut_at_record()
    result = _download(mode, service, tmp_path, format=format)
    assert isinstance(result, DownloadResult)
    assert result.recorded
    assert result.records == REPORTS - 1  # one student never arrived...
    assert service.pending() == []  # ...and the watermark moved past them
    with read(result.path) as reader:
        assert len(list(reader)) == REPORTS - 1


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("format", ["txt", "csv"])
def test_with_the_etag_the_cut_file_is_never_recorded(
    mode: str, format: str, tmp_path: Path
) -> None:
    service = _service()
    service.faults.cut_at_record(times=None)
    with pytest.raises(IncompleteFileError, match="MD5 is not the storage host's ETag") as info:
        _download(mode, service, tmp_path, format=format)
    assert info.value.problem is None
    assert service.recorded_ids == []
    assert len(service.pending()) == REPORTS
    assert list(tmp_path.iterdir()) == []  # deleted, never under a final name
    assert len(service.downloads) == 3  # fetched again from a fresh file, twice


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_cut_once_is_fetched_again_and_recorded_whole(mode: str, tmp_path: Path) -> None:
    service = _service()
    service.faults.cut_at_record()
    result = _download(mode, service, tmp_path, check=False)  # the ETag check runs anyway
    assert isinstance(result, DownloadResult)
    assert result.path.read_bytes() == service.file_bytes(result.download_id)
    first, second = service.downloads
    assert not first.recorded
    assert service.recorded_ids == [second.download_id]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_multipart_etag_is_noted_and_skipped(
    mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = _service(etag="multipart")
    with caplog.at_level(logging.DEBUG, logger="apscores"):
        result = _download(mode, service, tmp_path)
    assert isinstance(result, DownloadResult)
    assert result.recorded
    noted = [r.getMessage() for r in caplog.records if "ETag" in r.getMessage()]
    assert len(noted) == 1
    assert "a multipart ETag, so the body is not checked against its ETag" in noted[0]
    assert "Signature" not in noted[0]


# --- no secret in any exception the caller can reach ---------------------------------------

Arm = Callable[[SandboxService], object]

#: Every way a download can fail that the sandbox's faults produce, each for good.
FAILURES: dict[str, Arm] = {
    "download disconnects": lambda s: s.faults.disconnect(after_bytes=100, times=None),
    "download truncated": lambda s: s.faults.truncate(after_bytes=100, times=None),
    "download refused": lambda s: s.faults.refuse("download", times=None),
    "download times out": lambda s: s.faults.timeout("download", times=None),
    "download 500": lambda s: s.faults.fail("download", status=500, times=None),
    "download 503": lambda s: s.faults.fail("download", status=503, times=None),
    "download 404": lambda s: s.faults.fail("download", status=404, times=None),
    "download 403": lambda s: s.faults.fail("download", status=403, times=None),
    "URL expired": lambda s: s.faults.expire_url(times=None),
    "cut at a record": lambda s: s.faults.cut_at_record(times=None),
    "body cut inside a line": lambda s: s.faults.truncate(after_bytes=1200, times=None),
    "generate times out": lambda s: s.faults.timeout("generate", times=None),
    "generate refused": lambda s: s.faults.refuse("generate", times=None),
    "generate disconnects": lambda s: s.faults.disconnect("generate", times=None),
    "generate 504": lambda s: s.faults.fail("generate", times=None),
    "generate success false": lambda s: s.faults.fail("generate", status=200, times=None),
    "login times out": lambda s: s.faults.timeout("login", times=None),
    "login 401": lambda s: s.faults.fail("login", status=401, times=None),
    "token refused": lambda s: s.faults.expire_token_after(0),
    "record times out": lambda s: s.faults.timeout("record", times=None),
    "record refused": lambda s: s.faults.refuse("record", times=None),
    "record fails": lambda s: s.faults.fail_record(times=None),
}


def _reachable(error: BaseException) -> Iterator[object]:
    """Everything reachable from ``error`` through causes, contexts, args, attributes and
    slots, recursively (not tracebacks: their frames are the caller's own code)."""
    seen: set[int] = set()
    stack: list[object] = [error]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen or isinstance(item, (type, Path)):
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, (str, bytes, int, float)):
            continue
        if isinstance(item, BaseException):
            stack += [item.__cause__, item.__context__, *item.args]
        if isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack += list(item)
        stack += [v for k, v in getattr(item, "__dict__", {}).items() if k != "__traceback__"]
        for klass in type(item).__mro__:
            for slot in getattr(klass, "__slots__", ()):
                stack.append(getattr(item, slot, None))


def _secrets(service: SandboxService) -> list[str]:
    found = [DEFAULT_PASSWORD, base64.b64encode(DEFAULT_PASSWORD.encode()).decode()]
    found += list(service._tokens)
    for logged in service.calls("download"):
        query = parse_qs(urlsplit(logged.url).query)
        found += query["Signature"]
        found.append(urlsplit(logged.url).query)
    for download in service.downloads:
        found.append(urlsplit(download.url).query)
    return [secret for secret in found if secret]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("failure", list(FAILURES), ids=list(FAILURES))
def test_no_error_carries_a_signature_or_token(failure: str, mode: str, tmp_path: Path) -> None:
    service = _service()
    FAILURES[failure](service)
    with pytest.raises(APScoresError) as info:
        _download(mode, service, tmp_path)
    secrets = _secrets(service)
    assert secrets  # a password at least; a token and signatures where the run got there
    reached = list(_reachable(info.value))
    for item in reached:
        assert not isinstance(item, (httpx.HTTPError, httpx.Request, httpx.Response, httpx.URL))
        text = item.decode("latin-1") if isinstance(item, bytes) else f"{item!s} {item!r}"
        for secret in secrets:
            assert secret not in text, (failure, type(item).__name__)
        assert "Signature=" not in text
        assert "X-Amz-Signature" not in text


def test_the_walk_finds_an_httpx_cause() -> None:
    """The walk is not blind: an error raised from an httpx one reaches its URL."""
    url = "https://s.example/f.txt?Signature=SECRET"
    try:
        try:
            raise httpx.ReadError("cut", request=httpx.Request("GET", url))
        except httpx.ReadError as exc:
            raise APScoresError("download failed") from exc
    except APScoresError as error:
        reached = list(_reachable(error))
    assert any(isinstance(item, httpx.Request) for item in reached)
    assert any("Signature=SECRET" in f"{item!s}" for item in reached)


# --- over a real socket, set up as `apscores sandbox serve` does ----------------------------


@pytest.mark.parametrize(("etag", "recorded"), [("none", True), ("md5", False)])
def test_serve_with_a_cut_at_a_record_over_http(etag: str, recorded: bool, tmp_path: Path) -> None:
    from apscores.sandbox import DEFAULT_EMAIL, ServeConfig, serve
    from apscores.service import Client

    config = ServeConfig(
        port=0, storage_port=0, reports=3, etag=etag, faults=(FaultSpec.parse("cut_at_record"),)
    )
    with (
        serve(config, quiet=True) as server,
        Client(email=DEFAULT_EMAIL, password=DEFAULT_PASSWORD, base_url=server.base_url) as client,
    ):
        result = client.institution("1234").download(dest=tmp_path)
        assert isinstance(result, DownloadResult)
        first = server.service.downloads[0]
        assert (first.download_id in server.service.recorded_ids) is recorded
        assert result.records == (2 if recorded else 3)  # otherwise fetched again, whole


def test_serve_takes_the_etag_option() -> None:
    import argparse

    from apscores.cli import _sandbox_cmd as sandbox_cmd
    from apscores.sandbox import _server as server_module

    parser = argparse.ArgumentParser(prog="apscores")
    sandbox_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "serve", "--etag", "multipart"])
    assert server_module.config_from_args(args).etag == "multipart"
    default = parser.parse_args(["sandbox", "serve"])
    assert server_module.config_from_args(default).etag == "md5"
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "serve", "--etag", "sha1"])
