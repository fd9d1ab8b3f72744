"""Streamed download bodies: through the sync and async transports and the loopback server,
with faults, and bulk files that the sandbox never holds whole."""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import tracemalloc
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from apscores.files import read_csv, read_txt, write_txt
from apscores.models import ScoreReport
from apscores.sandbox import (
    BulkRenderer,
    SandboxResponse,
    SandboxService,
    ServeConfig,
    StreamedBody,
    bulk_renderer,
    fake_reports,
    render_reports,
    sandbox_async_client,
    sandbox_client,
    serve,
)
from apscores.sandbox import _server as server_module
from apscores.sandbox._server import banner, parse_size
from apscores.sandbox._values import body_size, iter_body


def _piece() -> bytes:
    out = io.BytesIO()
    write_txt(fake_reports(17, seed=3), out)
    return out.getvalue()


PIECE = _piece()  # 17 whole TXT records, about 16 KiB: every chunk ends a line


class Counted:
    """A streamed body whose chunk generator counts what it made and whether it was closed."""

    def __init__(self, chunks: int, *, known_size: bool = True) -> None:
        self.count = chunks
        self.produced = 0
        self.closed = 0
        self.body = StreamedBody(self._chunks, size=len(PIECE) * chunks if known_size else None)

    def _chunks(self) -> Iterator[bytes]:
        try:
            for _ in range(self.count):
                self.produced += len(PIECE)
                yield PIECE
        finally:
            self.closed += 1

    @property
    def data(self) -> bytes:
        return PIECE * self.count

    def renderer(self, reports: Sequence[ScoreReport], file_format: str) -> StreamedBody:
        return self.body


def streamed_service(counted: Counted, reports: int = 3) -> SandboxService:
    return SandboxService.default(reports=reports, renderer=counted.renderer, strict=True)


def generate(service: SandboxService, file_format: str = "txt") -> Any:
    with sandbox_client(service) as client:
        generated = client.files.generate("1234", format=file_format)  # type: ignore[arg-type]
    assert generated is not None
    return generated


# --- the body values -------------------------------------------------------------------


def test_iter_body_on_bytes_and_streams() -> None:
    assert list(iter_body(b"abcdefg", chunk_size=3)) == [b"abc", b"def", b"g"]
    assert list(iter_body(b"abcdefg", chunk_size=3, limit=4)) == [b"abc", b"d"]
    assert list(iter_body(b"abc", limit=-1)) == []
    stream = StreamedBody(lambda: [b"ab", b"", b"cd", b"ef"], size=5)
    assert list(iter_body(stream)) == [b"ab", b"cd", b"e"]  # never past the size
    assert list(iter_body(stream, limit=3)) == [b"ab", b"c"]
    assert list(iter_body(stream, limit=2)) == [b"ab"]
    assert list(iter_body(stream, limit=0)) == []
    unknown = StreamedBody(lambda: iter([b"ab", b"cd"]))
    assert list(unknown) == [b"ab", b"cd"]
    assert list(iter_body(unknown, limit=3)) == [b"ab", b"c"]
    assert unknown.read() == b"abcd"
    assert body_size(unknown) is None
    assert body_size(stream) == 5
    assert body_size(b"xyz") == 3
    assert "chunks" not in repr(stream)


def test_a_stream_stopped_early_is_closed() -> None:
    counted = Counted(10)
    assert list(iter_body(counted.body, limit=len(PIECE) + 1)) == [PIECE, PIECE[:1]]
    assert counted.produced == 2 * len(PIECE)
    assert counted.closed == 1


def test_response_content_and_json_of_a_streamed_body() -> None:
    response = SandboxResponse(200, (), StreamedBody(lambda: [b'{"a": ', b"1}"]))
    assert response.content == b'{"a": 1}'
    assert response.json() == {"a": 1}
    assert SandboxResponse(200, (), b"[]").content == b"[]"


# --- the in-process transport ------------------------------------------------------------


def test_streamed_body_through_the_sync_transport() -> None:
    counted = Counted(8)
    service = streamed_service(counted)
    generated = generate(service)
    assert service.file_body(generated.download_id) is counted.body
    with httpx.Client(transport=service.transport()) as http:
        head = http.head(generated.url)
        with http.stream("GET", generated.url) as response:
            assert response.headers["content-length"] == str(len(counted.data))
            chunks = response.iter_raw()
            first = next(chunks)
            assert counted.produced <= 2 * len(PIECE)  # made as read, not up front
            data = first + b"".join(chunks)
    assert data == counted.data
    assert head.headers["content-length"] == str(len(counted.data))
    assert head.content == b""
    # A cheap ETag: from the id and size, not a hash over the whole body; multipart, as
    # S3 has a big object uploaded in parts, so a client does not take it for the MD5.
    tag = hashlib.md5(f"{generated.download_id}:{len(counted.data)}".encode()).hexdigest()  # noqa: S324
    assert response.headers["etag"] == f'"{tag}-1"'
    assert service.file_bytes(generated.download_id) == counted.data
    assert service.download(generated.download_id).fetches == 1


def test_bytes_bodies_keep_the_md5_etag() -> None:
    service = SandboxService.default(reports=2, strict=True)
    generated = generate(service)
    with httpx.Client(transport=service.transport()) as http:
        response = http.get(generated.url)
    assert response.headers["etag"] == f'"{hashlib.md5(response.content).hexdigest()}"'  # noqa: S324


def test_unknown_size_has_no_content_length() -> None:
    counted = Counted(3, known_size=False)
    service = streamed_service(counted)
    generated = generate(service)
    with httpx.Client(transport=service.transport()) as http:
        response = http.get(generated.url)
    assert "content-length" not in response.headers
    assert response.content == counted.data


@pytest.mark.anyio
async def test_streamed_body_through_the_async_transport() -> None:
    counted = Counted(8)
    service = streamed_service(counted)
    generated = generate(service)
    async with httpx.AsyncClient(transport=service.transport(chunk_size=10)) as http:
        async with http.stream("GET", generated.url) as response:
            chunks = response.aiter_raw()
            first = await chunks.__anext__()
            assert len(first) == len(PIECE)  # a stream keeps its own chunks
            assert counted.produced == len(PIECE)
            rest = b"".join([chunk async for chunk in chunks])
        assert response.headers["content-length"] == str(len(counted.data))
    assert first + rest == counted.data
    assert counted.closed == 1


@pytest.mark.anyio
async def test_async_reader_stopping_early_closes_the_stream() -> None:
    counted = Counted(8)
    service = streamed_service(counted)
    generated = generate(service)
    async with (
        httpx.AsyncClient(transport=service.transport()) as http,
        http.stream("GET", generated.url) as response,
    ):
        async for _ in response.aiter_raw():
            break
    assert counted.produced < len(counted.data)
    assert counted.closed == 1


# --- faults on streamed bodies -------------------------------------------------------------


@pytest.mark.parametrize("known_size", [True, False])
def test_disconnect_and_truncate_cut_a_streamed_body(known_size: bool) -> None:
    counted = Counted(8, known_size=known_size)
    service = streamed_service(counted)
    generated = generate(service)
    cut = len(PIECE) + 100
    with httpx.Client(transport=service.transport()) as http:
        service.faults.disconnect("download", after_bytes=cut)
        received: list[bytes] = []
        with pytest.raises(httpx.ReadError), http.stream("GET", generated.url) as response:
            received.extend(response.iter_raw())
        assert b"".join(received) == counted.data[:cut]
        assert counted.produced == 2 * len(PIECE)  # stopped at the cut
        service.faults.truncate("download", after_bytes=cut)
        response = http.get(generated.url)
    assert response.content == counted.data[:cut]
    if known_size:  # Content-Length still announces the whole file
        assert response.headers["content-length"] == str(len(counted.data))
    assert [call.fault for call in service.calls("download")] == ["disconnect", "truncate"]


@pytest.mark.anyio
async def test_disconnect_mid_stream_async() -> None:
    counted = Counted(8)
    service = streamed_service(counted)
    generated = generate(service)
    service.faults.disconnect("download", after_bytes=500)
    received = bytearray()

    async def read(http: httpx.AsyncClient) -> None:
        async with http.stream("GET", generated.url) as response:
            async for chunk in response.aiter_raw():
                received.extend(chunk)

    async with httpx.AsyncClient(transport=service.transport()) as http:
        with pytest.raises(httpx.ReadError):
            await read(http)
    assert bytes(received) == counted.data[:500]


@pytest.mark.parametrize("fault", ["disconnect", "truncate"])
def test_client_retries_a_broken_stream(fault: str, tmp_path: Path) -> None:
    counted = Counted(8)
    service = streamed_service(counted)
    getattr(service.faults, fault)("download", after_bytes=5000)
    with sandbox_client(service) as client:
        result = client.institution("1234").download(dest=tmp_path)
    assert result is not None
    assert result.path.read_bytes() == counted.data
    assert result.size == len(counted.data)
    assert [call.fault for call in service.calls("download")] == [fault, None]


# --- the loopback server ---------------------------------------------------------------------


@pytest.mark.parametrize("known_size", [True, False])
def test_streamed_body_over_the_loopback_server(known_size: bool) -> None:
    counted = Counted(8, known_size=known_size)
    service = streamed_service(counted)
    with serve(ServeConfig(port=0, storage_port=0), service=service) as server:
        generated = generate(server.service)
        with urllib.request.urlopen(generated.url, timeout=10) as response:  # noqa: S310
            headers = response.headers
            data = response.read()
        assert data == counted.data
        if known_size:
            assert headers["Content-Length"] == str(len(counted.data))
            assert headers["Transfer-Encoding"] is None
        else:
            assert headers["Content-Length"] is None
            assert headers["Transfer-Encoding"] == "chunked"
        # Both are cut on a socket: part of the body, then the connection closes.
        for fault in ("disconnect", "truncate"):
            getattr(service.faults, fault)("download", after_bytes=len(PIECE) + 7)
            with pytest.raises(http.client.IncompleteRead) as info:
                urllib.request.urlopen(generated.url, timeout=10).read()  # noqa: S310
            assert info.value.partial == counted.data[: len(PIECE) + 7]
        # HEAD announces the size without a body.
        request = urllib.request.Request(generated.url, method="HEAD")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.read() == b""
            if known_size:
                assert response.headers["Content-Length"] == str(len(counted.data))


def test_server_survives_a_client_hanging_up_mid_stream() -> None:
    counted = Counted(4000)  # 64 MB: far more than socket buffers hold
    service = streamed_service(counted)
    with serve(ServeConfig(port=0, storage_port=0), service=service) as server:
        generated = generate(server.service)
        host, port = server.addresses[1]
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", generated.url.split(str(port), 1)[1])
        response = connection.getresponse()
        assert response.read(100) == counted.data[:100]
        connection.sock.close()
        connection.close()
        # The server carries on: the same file again, whole.
        short = Counted(2)
        service.renderer = short.renderer
        again = generate(server.service)
        with urllib.request.urlopen(again.url, timeout=10) as answer:  # noqa: S310
            assert answer.read() == short.data
    assert counted.produced < len(counted.data)


# --- bulk files ----------------------------------------------------------------------------


@pytest.mark.parametrize(("file_format", "reader"), [("TXT", read_txt), ("CSV", read_csv)])
def test_bulk_files_are_valid_records_with_unique_ids(file_format: str, reader: Any) -> None:
    reports = fake_reports(7, seed=3)
    body = bulk_renderer(150_000)(reports, file_format)
    data = body.read()
    assert body.size == len(data) <= 150_000
    parsed = list(reader(io.BytesIO(data)))
    one_more = len(render_reports([*reports, reports[0]], file_format)) - len(
        render_reports(reports, file_format)
    )
    assert len(data) + one_more > 150_000  # the largest whole number of records
    assert parsed[:7] == reports  # the download's own reports come first
    ids = [report.ap_id for report in parsed]
    assert len(set(ids)) == len(ids) > 100
    assert all(ap_id.startswith("Q") and len(ap_id) == 8 for ap_id in ids[7:])
    assert parsed[7 + 3] == attrs.evolve(reports[3], ap_id=parsed[10].ap_id)


def test_bulk_file_smaller_than_one_record_still_holds_one() -> None:
    reports = fake_reports(2)
    body = bulk_renderer(1)(reports, "TXT")
    assert body.read() == render_reports(reports[:1], "TXT")
    with pytest.raises(ValueError, match="size must be"):
        bulk_renderer(0)
    with pytest.raises(ValueError, match="distinct must be"):
        BulkRenderer(100, distinct=0)
    with pytest.raises(ValueError, match="at least one report"):
        bulk_renderer(100)([], "TXT")


def test_bulk_renderer_with_a_custom_writer_keeps_unknown_ids() -> None:
    def render(reports: Sequence[ScoreReport], file_format: str) -> bytes:
        return b"HEADER\n" + b"".join(b"row %d\n" % i for i in range(len(reports)))

    renderer = BulkRenderer(105, render=render)
    body = renderer(fake_reports(3), "CSV")
    assert body.read() == b"HEADER\n" + b"row 0\nrow 1\nrow 2\n" * 5 + b"row 0\n"
    assert body.size == 103
    assert "render" not in repr(renderer)
    few = BulkRenderer(100, distinct=2, render=render)(fake_reports(3), "CSV")
    assert few.read() == b"HEADER\n" + b"row 0\nrow 1\n" * 7 + b"row 0\n"


@pytest.mark.slow
def test_bulk_file_downloads_through_the_client_without_being_held(tmp_path: Path) -> None:
    size = 20 * 2**20
    renderer = bulk_renderer(size)
    service = SandboxService.default(reports=40, renderer=renderer, strict=True)
    largest_chunk = 0

    def watched(reports: Sequence[ScoreReport], file_format: str) -> StreamedBody:
        body = renderer(reports, file_format)

        def chunks() -> Iterator[bytes]:
            nonlocal largest_chunk
            for chunk in body.chunks():
                largest_chunk = max(largest_chunk, len(chunk))
                yield chunk

        return StreamedBody(chunks, size=body.size)

    service.renderer = watched
    tracemalloc.start()
    try:
        with sandbox_client(service) as client:
            result = client.institution("1234").download(dest=tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result is not None
    expected = service.file_body(result.download_id)
    assert isinstance(expected, StreamedBody)
    assert result.size == expected.size == result.path.stat().st_size > size - 2000
    digest = hashlib.sha256()
    for chunk in expected:
        digest.update(chunk)
    assert result.sha256 == digest.hexdigest()
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256
    assert largest_chunk <= 128 * 1024
    assert peak < 4 * 2**20  # a 20 MiB file, never whole in memory
    assert service.recorded_ids == [result.download_id]


@pytest.mark.anyio
async def test_bulk_file_through_the_async_client(tmp_path: Path) -> None:
    service = SandboxService.default(reports=5, renderer=bulk_renderer(2 * 2**20), strict=True)
    async with sandbox_async_client(service) as client:
        result = await client.institution("1234").download(format="csv", dest=tmp_path)
    assert result is not None
    data = result.path.read_bytes()
    assert data == service.file_bytes(result.download_id)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    with read_csv(io.BytesIO(data)) as reader:
        assert sum(1 for _ in reader) > 1000


# --- serve --file-size -----------------------------------------------------------------------


def test_parse_size() -> None:
    assert parse_size("20000") == 20000
    assert parse_size("20k") == 20 * 1024
    assert parse_size("5MB") == 5 * 2**20
    assert parse_size(" 1G ") == 2**30
    for bad in ("", "G", "-1", "0", "1.5G", "12T"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_size(bad)


def test_serve_with_a_file_size() -> None:
    parser = argparse.ArgumentParser()
    server_module.add_serve_arguments(parser)
    config = server_module.config_from_args(
        parser.parse_args(["--port", "0", "--storage-port", "0", "--file-size", "300K"])
    )
    assert config.file_size == 300 * 1024
    assert server_module.config_from_args(parser.parse_args([])).file_size is None
    with serve(config) as server:
        assert "file size:    about 307,200 bytes, streamed" in banner(server, config)
        generated = generate(server.service)
        with urllib.request.urlopen(generated.url, timeout=10) as response:  # noqa: S310
            data = response.read()
    assert 300 * 1024 - 951 < len(data) <= 300 * 1024
    assert len(list(read_txt(io.BytesIO(data)))) == len(data) // 951
