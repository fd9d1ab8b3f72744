"""Client and AsyncClient against respx, every case run on both through one fixture."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import inspect
import io
import json
import logging
import os
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
import respx

from _golden import ANA_REPORT, BEN_REPORT
from apscores.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    DiCodeRefusedError,
    DownloadError,
    DownloadURLExpired,
    EmptyFileError,
    IncompleteFileError,
    RecordError,
    StorageError,
    TruncatedRecordError,
)
from apscores.files import write_csv, write_txt
from apscores.models import ScoreReport
from apscores.service import (
    DEFAULT_BASE_URL,
    AsyncClient,
    AsyncFiles,
    AsyncInstitution,
    AsyncSession,
    BaseDownloadObserver,
    Client,
    DownloadObserver,
    DownloadResult,
    Files,
    GeneratedFile,
    Institution,
    Session,
    _download,
    _guesses,
)
from apscores.testing import instant_retries

BASE = "https://api.example.test/aposrd-api-prod"
EMAIL = "ap-scores@example.edu"
PASSWORD = "correct-horse-battery"
PASSWORD_B64 = base64.b64encode(PASSWORD.encode()).decode()
TOKEN = "tok_made_up_0123456789"
TOKEN2 = "tok_second_9876543210"
SIGNATURE = "SIGsecretSIGsecret"
FILE_NAME = "AP_HED_Scores_1234_07152025_0930.txt"


def _file(write: Callable[[list[ScoreReport], io.BytesIO], int]) -> bytes:
    out = io.BytesIO()
    write([ANA_REPORT, BEN_REPORT], out)
    return out.getvalue()


BODY = _file(lambda reports, out: write_txt(reports, out, newline="\r\n"))  # a real TXT file
CSV_BODY = _file(write_csv)
BODY_EXAMS = len(ANA_REPORT.exams) + len(BEN_REPORT.exams)
FUTURE = int(time.time()) + 3600


def storage_url(
    host: str = "files.example.com", name: str = FILE_NAME, expires: int = FUTURE
) -> str:
    return f"https://{host}/{name}?Expires={expires}&Signature={SIGNATURE}"


def login_ok(token: str = TOKEN) -> httpx.Response:
    return httpx.Response(
        200, json={"success": True, "message": "Successfully authenticated.", "authToken": token}
    )


def generated_ok(url: str | None = None, download_id: str | int = 987654) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "success": True,
            "message": "File generated.",
            "url": url or storage_url(),
            "fileName": FILE_NAME,
            "downloadId": download_id,
        },
    )


def ok(message: str = "ok") -> httpx.Response:
    return httpx.Response(200, json={"success": True, "message": message})


def refused(message: str) -> httpx.Response:
    return httpx.Response(200, json={"success": False, "message": message})


EXPIRED_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message><SignatureProvided>"
    + SIGNATURE.encode()
    + b"</SignatureProvided></Error>"
)


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that can break in the middle and remembers being closed."""

    def __init__(self, chunks: list[bytes], *, fail: bool = False) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail:
            raise httpx.ReadError("peer closed connection")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.fail:
            raise httpx.ReadError("peer closed connection")

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class Api:
    """Calls one client the same way whether it is sync or async."""

    def __init__(self, client: Client | AsyncClient, portal: Any) -> None:
        self.client = client
        self.portal = portal
        self.sleeps: list[float] = []

    @property
    def is_async(self) -> bool:
        return isinstance(self.client, AsyncClient)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.is_async:
            return self.portal.call(partial(fn, *args, **kwargs))
        return fn(*args, **kwargs)

    def login(self) -> None:
        self.call(self.client.session.login)

    def generate(self, di_code: str = "1234", **kw: Any) -> GeneratedFile | None:
        result: GeneratedFile | None = self.call(self.client.files.generate, di_code, **kw)
        return result

    def download(self, generated: GeneratedFile, dest: Path) -> Path:
        result: Path = self.call(self.client.files.download, generated, dest)
        return result

    def record(self, generated: GeneratedFile) -> None:
        self.call(self.client.files.record, generated)

    def fetch(self, di_code: str = "1234", **kw: Any) -> DownloadResult | None:
        result: DownloadResult | None = self.call(self.client.institution(di_code).download, **kw)
        return result

    def close(self) -> None:
        if isinstance(self.client, AsyncClient):
            self.portal.call(self.client.aclose)
        else:
            self.client.close()


MakeApi = Callable[..., Api]


@pytest.fixture(params=["sync", "async"])
def make_api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeApi]:
    """A factory of clients with instant, recorded sleeps; one event loop per test."""
    made: list[Api] = []
    with anyio.from_thread.start_blocking_portal() as portal, contextlib.ExitStack() as stack:

        def make(*, real_sleep: bool = False, **opts: Any) -> Api:
            options: dict[str, Any] = {
                "email": EMAIL,
                "password": PASSWORD,
                "base_url": BASE,
                "retry_base_delay": 0,
            }
            options.update(opts)
            client: Client | AsyncClient
            client = Client(**options) if request.param == "sync" else AsyncClient(**options)
            api = Api(client, portal)
            if not real_sleep:  # the public switch, not a patched private method
                api.sleeps = stack.enter_context(instant_retries())
            made.append(api)
            return api

        yield make
        for api in made:
            api.close()


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


class Service:
    """Routes for the three endpoints and the storage host, with call lists."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.login = router.post(f"{BASE}/webServiceAuth")
        self.generate = router.post(f"{BASE}/fileGeneration")
        self.record = router.post(f"{BASE}/webServiceDownloaded")
        self.storage = router.get(url__startswith="https://files.example.com/")
        self.login.mock(return_value=login_ok())
        self.generate.mock(return_value=generated_ok())
        self.record.mock(return_value=ok())
        self.storage.mock(side_effect=lambda request: httpx.Response(200, content=BODY))


@pytest.fixture
def service(mock: respx.MockRouter) -> Service:
    return Service(mock)


def body_of(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".part-" in p.name)


# --- happy paths ------------------------------------------------------------------------


def test_institution_download_happy_path(api: Api, service: Service, tmp_path: Path) -> None:
    result = api.fetch("1234", kind="new", format="txt", dest=tmp_path)

    assert result == DownloadResult(
        path=tmp_path / FILE_NAME,
        file_name=FILE_NAME,
        download_id=987654,
        format="txt",
        kind="new",
        size=len(BODY),
        sha256=hashlib.sha256(BODY).hexdigest(),
        records=2,
        exams=BODY_EXAMS,
    )
    assert (tmp_path / FILE_NAME).read_bytes() == BODY
    assert leftovers(tmp_path) == []

    login = service.login.calls.last.request
    assert body_of(service.login) == {"u": EMAIL, "p": PASSWORD_B64}
    assert login.headers["X-CB-Catapult-Authorization-Token"] == "CBLogin"
    assert login.headers["X-CB-Catapult-Authentication-Token"] == "CBLogin Web Service"
    assert login.headers["Content-Type"] == "application/json"
    assert login.headers["Accept"] == "application/json"

    generate = service.generate.calls.last.request
    assert body_of(service.generate) == {"diCode": "1234", "format": "TXT", "downloadType": "new"}
    assert generate.headers["X-CB-Catapult-Authorization-Token"] == TOKEN
    assert generate.headers["X-CB-Catapult-Authentication-Token"] == "CBLogin Web Service"

    assert body_of(service.record) == {"downloadId": 987654, "format": "TXT"}
    assert service.record.calls.last.request.headers["X-CB-Catapult-Authorization-Token"] == TOKEN

    get = service.storage.calls.last.request
    assert not any(name.lower().startswith("x-cb-") for name in get.headers)


def test_steps_one_by_one_csv_full(api: Api, service: Service, tmp_path: Path) -> None:
    assert not api.client.session.is_authenticated
    api.login()
    assert api.client.session.is_authenticated
    assert api.client.session.token == TOKEN

    generated = api.generate("0123", format="CSV", kind="full")
    assert generated is not None
    assert generated.format == "csv"
    assert generated.kind == "full"
    assert body_of(service.generate) == {"diCode": "0123", "format": "CSV", "downloadType": "full"}

    target = tmp_path / "scores.csv"
    service.storage.mock(side_effect=lambda request: httpx.Response(200, content=CSV_BODY))
    assert api.download(generated, target) == target
    assert target.read_bytes() == CSV_BODY
    api.record(generated)
    assert body_of(service.record) == {"downloadId": 987654, "format": "CSV"}
    assert service.login.call_count == 1

    api.client.session.logout()
    assert not api.client.session.is_authenticated
    assert api.client.session.token is None


def test_download_into_directory_named_with_slash(
    api: Api, service: Service, tmp_path: Path
) -> None:
    generated = api.generate()
    assert generated is not None
    path = api.download(generated, Path(f"{tmp_path}/"))
    assert path == tmp_path / FILE_NAME


def test_nothing_new_returns_none(api: Api, service: Service, tmp_path: Path) -> None:
    service.generate.mock(
        return_value=refused("There were NO SCORE ORDERS FOUND for the given criteria.")
    )
    assert api.fetch(dest=tmp_path) is None
    assert api.generate() is None
    assert service.storage.call_count == 0
    assert service.record.call_count == 0
    assert list(tmp_path.iterdir()) == []


def test_zero_byte_file_unchecked_saved_but_not_recorded(
    api: Api, service: Service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service.storage.mock(return_value=httpx.Response(200, content=b""))
    with caplog.at_level(logging.WARNING, logger="apscores"):
        result = api.fetch(dest=tmp_path, check=False)
    assert result is not None
    assert result.size == 0
    assert not result.recorded
    assert (result.records, result.exams) == (None, None)
    assert service.record.call_count == 0
    assert "not recorded" in caplog.text


def test_zero_byte_file_is_never_recorded_nor_kept(
    api: Api, service: Service, tmp_path: Path
) -> None:
    service.storage.mock(return_value=httpx.Response(200, content=b""))
    with pytest.raises(IncompleteFileError, match="empty") as caught:
        api.fetch(dest=tmp_path)
    assert isinstance(caught.value.problem, EmptyFileError)
    assert service.generate.call_count == 1 + _guesses.MAX_REGENERATIONS
    assert service.record.call_count == 0
    assert list(tmp_path.iterdir()) == []


# A body cut at a line boundary inside a record, whose Content-Length matches what was sent:
# HTTP cannot see it, the file check does.
CUT_BODY = BODY[: BODY.index(b"\r\n") + 2 + 600]


def test_body_cut_with_matching_length_is_fetched_again(
    api: Api, service: Service, tmp_path: Path
) -> None:
    bodies = iter([CUT_BODY, BODY])
    service.storage.mock(side_effect=lambda request: httpx.Response(200, content=next(bodies)))
    service.generate.mock(side_effect=[generated_ok(download_id=1), generated_ok(download_id=2)])
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert result.download_id == 2
    assert (result.records, result.exams) == (2, BODY_EXAMS)
    assert [body_of(service.record, i) for i in range(service.record.call_count)] == [
        {"downloadId": 2, "format": "TXT"}
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]
    assert (tmp_path / FILE_NAME).read_bytes() == BODY


def test_body_always_cut_raises_naming_the_line(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(side_effect=lambda request: httpx.Response(200, content=CUT_BODY))
    with pytest.raises(IncompleteFileError) as caught:
        api.fetch(dest=tmp_path)
    problem = caught.value.problem
    assert isinstance(problem, TruncatedRecordError)
    assert (problem.line, problem.length, problem.file) == (2, 600, FILE_NAME)
    assert "line 2 is 600 columns" in str(caught.value)
    assert service.record.call_count == 0
    assert list(tmp_path.iterdir()) == []


def test_files_download_checks_too(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(side_effect=lambda request: httpx.Response(200, content=CUT_BODY))
    generated = api.generate()
    assert generated is not None
    with pytest.raises(IncompleteFileError):
        api.download(generated, tmp_path)
    assert list(tmp_path.iterdir()) == []
    path: Path = api.call(api.client.files.download, generated, tmp_path, check=False)
    assert path.read_bytes() == CUT_BODY


def test_a_csv_asked_for_must_be_a_csv(api: Api, service: Service, tmp_path: Path) -> None:
    with pytest.raises(IncompleteFileError, match="a CSV file was asked for"):
        api.fetch(dest=tmp_path, format="csv")
    service.storage.mock(side_effect=lambda request: httpx.Response(200, content=CSV_BODY))
    result = api.fetch(dest=tmp_path, format="csv")
    assert result is not None
    assert (result.records, result.exams) == (2, BODY_EXAMS)


# --- retries ----------------------------------------------------------------------------


def test_504_twice_then_success(api: Api, service: Service, tmp_path: Path) -> None:
    service.generate.mock(side_effect=[httpx.Response(504), httpx.Response(504), generated_ok()])
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert service.generate.call_count == 3
    assert api.sleeps == [0.0, 0.0]


def test_generate_not_retried_on_500(api: Api, service: Service, tmp_path: Path) -> None:
    service.generate.mock(return_value=httpx.Response(500, json={"message": "boom"}))
    with pytest.raises(APIStatusError) as info:
        api.fetch(dest=tmp_path)
    assert info.value.status_code == 500
    assert info.value.endpoint == "fileGeneration"
    assert "boom" in str(info.value)
    assert service.generate.call_count == 1


def test_record_retried_on_500(api: Api, service: Service, tmp_path: Path) -> None:
    service.record.mock(side_effect=[httpx.Response(500), ok()])
    assert api.fetch(dest=tmp_path) is not None
    assert service.record.call_count == 2


def test_retries_give_up_with_status_error(make_api: MakeApi, service: Service) -> None:
    api = make_api(max_retries=2)
    service.login.mock(return_value=httpx.Response(503))
    with pytest.raises(APIStatusError) as info:
        api.login()
    assert info.value.status_code == 503
    assert service.login.call_count == 3


def test_connect_error_retried_then_translated(api: Api, service: Service) -> None:
    service.generate.mock(side_effect=[httpx.ConnectError("refused"), generated_ok()])
    assert api.generate() is not None
    assert service.generate.call_count == 2

    service.login.mock(side_effect=httpx.ConnectError("refused"))
    api.client.session.logout()
    with pytest.raises(APIConnectionError) as info:
        api.login()
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.__cause__ is None  # never the httpx error: it holds the request
    assert service.login.call_count == 1 + 4


def test_connection_refused_names_the_host_once(
    api: Api, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    service.login.mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    with (
        caplog.at_level(logging.INFO, logger="apscores"),
        pytest.raises(APIConnectionError) as info,
    ):
        api.login()
    assert (
        str(info.value) == "webServiceAuth: cannot connect to api.example.test (connection refused)"
    )
    assert info.value.message == "cannot connect to api.example.test (connection refused)"
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 3  # the default max_retries
    for line in retries:
        assert line.count("webServiceAuth") == 1
        assert line.startswith("webServiceAuth: cannot connect to api.example.test")


def test_timeout_translated(api: Api, service: Service) -> None:
    service.login.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError) as info:
        api.login()
    assert info.value.__cause__ is None  # never the httpx error: it holds the request


def test_retry_after_honoured(api: Api, service: Service) -> None:
    service.login.mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), login_ok()])
    api.login()
    assert api.sleeps == [7.0]


def test_retry_after_above_cap_is_not_retried(make_api: MakeApi, service: Service) -> None:
    api = make_api(retry_max_delay=5)
    service.login.mock(return_value=httpx.Response(429, headers={"Retry-After": "600"}))
    with pytest.raises(APIStatusError) as info:
        api.login()
    assert info.value.status_code == 429
    assert service.login.call_count == 1
    assert api.sleeps == []


def test_real_sleep_with_zero_delay(make_api: MakeApi, service: Service) -> None:
    api = make_api(real_sleep=True)
    service.login.mock(side_effect=[httpx.Response(502), login_ok()])
    api.login()
    assert api.client.session.is_authenticated


def test_backoff_grows_with_base_delay(make_api: MakeApi, service: Service) -> None:
    api = make_api(retry_base_delay=1.0, retry_max_delay=3.0, max_retries=3)
    service.login.mock(return_value=httpx.Response(502))
    with pytest.raises(APIStatusError):
        api.login()
    assert len(api.sleeps) == 3
    for sleep, full in zip(api.sleeps, [1.0, 2.0, 3.0], strict=True):
        assert full / 2 <= sleep <= full


# --- downloads that lose nothing ----------------------------------------------------------


def test_disconnect_mid_body_then_success(api: Api, service: Service, tmp_path: Path) -> None:
    bodies = [Body([BODY[:100]], fail=True), Body([BODY[:500], BODY[500:]])]
    service.storage.mock(
        side_effect=[httpx.Response(200, stream=bodies[0]), httpx.Response(200, stream=bodies[1])]
    )
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert result.path.read_bytes() == BODY
    assert all(b.closed for b in bodies)
    assert leftovers(tmp_path) == []


def test_disconnect_mid_body_always(api: Api, service: Service, tmp_path: Path) -> None:
    bodies: list[Body] = []

    def broken(request: httpx.Request) -> httpx.Response:
        bodies.append(Body([BODY[:100]], fail=True))
        return httpx.Response(200, headers={"Content-Length": str(len(BODY))}, stream=bodies[-1])

    service.storage.mock(side_effect=broken)
    with pytest.raises(APIConnectionError, match="broke after 100 bytes") as info:
        api.fetch(dest=tmp_path)  # as when the connection breaks before the headers
    assert info.value.endpoint == "download"
    assert not isinstance(info.value, DownloadError)
    assert info.value.__cause__ is None  # never the httpx error: it holds the request
    assert list(tmp_path.iterdir()) == []
    assert service.record.call_count == 0
    assert len(bodies) == 4
    assert all(b.closed for b in bodies)


def test_truncated_body(api: Api, service: Service, tmp_path: Path) -> None:
    bodies: list[Body] = []

    def short(request: httpx.Request) -> httpx.Response:
        bodies.append(Body([BODY[:10]]))
        return httpx.Response(200, headers={"Content-Length": str(len(BODY))}, stream=bodies[-1])

    service.storage.mock(side_effect=short)
    with pytest.raises(DownloadError, match=f"10 bytes but the server announced {len(BODY)}"):
        api.fetch(dest=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert service.record.call_count == 0
    assert all(b.closed for b in bodies)


def test_expired_url_regenerated(api: Api, service: Service, tmp_path: Path) -> None:
    first = Body([EXPIRED_XML])
    service.generate.mock(
        side_effect=[generated_ok(download_id="old-1"), generated_ok(download_id="new-2")]
    )
    service.storage.mock(
        side_effect=[
            httpx.Response(403, stream=first, headers={"Content-Type": "application/xml"}),
            httpx.Response(200, content=BODY),
        ]
    )
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert result.download_id == "new-2"
    assert body_of(service.record) == {"downloadId": "new-2", "format": "TXT"}
    assert service.record.call_count == 1
    assert first.closed


def test_url_past_expires_is_not_even_tried(api: Api, service: Service, tmp_path: Path) -> None:
    stale = storage_url(name="stale.txt", expires=int(time.time()) - 10)
    service.generate.mock(side_effect=[generated_ok(url=stale), generated_ok()])
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert service.storage.call_count == 1
    assert "stale" not in str(service.storage.calls.last.request.url)


def test_expired_every_time_gives_up(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(return_value=httpx.Response(403, content=EXPIRED_XML))
    with pytest.raises(DownloadURLExpired) as info:
        api.fetch(dest=tmp_path)
    assert "AccessDenied" in str(info.value)
    assert SIGNATURE not in str(info.value)
    assert service.generate.call_count == 3
    assert service.record.call_count == 0
    assert list(tmp_path.iterdir()) == []


def test_files_download_expired_raises(api: Api, service: Service, tmp_path: Path) -> None:
    generated = GeneratedFile(
        url=storage_url(expires=1), file_name="x.txt", download_id=1, format="txt", kind="new"
    )
    with pytest.raises(DownloadURLExpired, match="Expires"):
        api.download(generated, tmp_path)
    assert service.storage.call_count == 0


def test_storage_server_error_retried(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "2"}),
            httpx.Response(200, content=BODY),
        ]
    )
    assert api.fetch(dest=tmp_path) is not None
    assert api.sleeps == [2.0]


def test_storage_404_not_retried(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(return_value=httpx.Response(404))
    with pytest.raises(APIStatusError) as info:
        api.fetch(dest=tmp_path)
    assert info.value.status_code == 404
    assert info.value.endpoint == "download"
    assert service.storage.call_count == 1


def test_storage_connect_error(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(side_effect=httpx.ConnectError("no route"))
    with pytest.raises(APIConnectionError):
        api.fetch(dest=tmp_path)
    assert service.storage.call_count == 4
    assert list(tmp_path.iterdir()) == []


def test_missing_destination_is_created_like_fetch_dest(
    api: Api, service: Service, tmp_path: Path
) -> None:
    result = api.fetch(dest=f"{tmp_path}/scores/")
    assert result is not None
    assert result.path == tmp_path / "scores" / FILE_NAME
    result = api.fetch(dest=tmp_path / "nope" / "deeper")
    assert result is not None
    assert result.path.parent == tmp_path / "nope" / "deeper"


def test_unusable_destination_fails_before_generating(
    api: Api, service: Service, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"x")
    with pytest.raises(StorageError, match=rf"{blocker}/scores: cannot create the destination"):
        api.fetch(dest=blocker / "scores")
    assert service.generate.call_count == 0


def test_file_name_from_service_is_sanitised(api: Api, service: Service, tmp_path: Path) -> None:
    service.generate.mock(
        return_value=httpx.Response(
            200,
            json={
                "success": True,
                "url": storage_url(),
                "fileName": "../../etc/passwd",
                "downloadId": 5,
            },
        )
    )
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert result.path == tmp_path / "passwd"

    service.generate.mock(
        return_value=httpx.Response(
            200, json={"success": True, "url": storage_url(), "fileName": "..", "downloadId": 6}
        )
    )
    with pytest.raises(DownloadError, match="unusable file name"):
        api.fetch(dest=tmp_path)
    assert service.record.call_count == 1


def test_existing_file_is_never_replaced(api: Api, service: Service, tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"old")
    first = api.fetch(dest=tmp_path)
    second = api.fetch(dest=tmp_path)
    assert first is not None
    assert second is not None
    stem = FILE_NAME.removesuffix(".txt")
    assert first.path == tmp_path / f"{stem}-987654.txt"
    assert second.path == tmp_path / f"{stem}-987654-2.txt"
    assert (tmp_path / FILE_NAME).read_bytes() == b"old"
    assert first.path.read_bytes() == second.path.read_bytes() == BODY
    assert oct(first.path.stat().st_mode & 0o777) == "0o600"
    assert leftovers(tmp_path) == []


def test_institution_download_to_a_named_file_never_replaces(
    api: Api, service: Service, tmp_path: Path
) -> None:
    target = tmp_path / "latest.txt"
    target.write_bytes(b"yesterday")
    result = api.fetch(dest=target)
    assert result is not None
    assert result.path == tmp_path / "latest-987654.txt"
    assert target.read_bytes() == b"yesterday"


def test_files_download_into_a_directory_never_replaces(
    api: Api, service: Service, tmp_path: Path
) -> None:
    generated = api.generate()
    assert generated is not None
    (tmp_path / FILE_NAME).write_bytes(b"old")
    path = api.download(generated, tmp_path)
    assert path == tmp_path / FILE_NAME.replace(".txt", "-987654.txt")
    assert (tmp_path / FILE_NAME).read_bytes() == b"old"
    # An explicit file path is the caller's choice: it is replaced, atomically.
    assert api.download(generated, tmp_path / FILE_NAME) == tmp_path / FILE_NAME
    assert (tmp_path / FILE_NAME).read_bytes() == BODY
    assert leftovers(tmp_path) == []


def test_name_taken_during_the_download_is_not_replaced(
    api: Api, service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link

    def racing_link(src: Any, dst: Any) -> None:
        if Path(dst).name == FILE_NAME:  # another process creates the name just now
            Path(dst).write_bytes(b"theirs")
        real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert result.path == tmp_path / FILE_NAME.replace(".txt", "-987654.txt")
    assert result.path.read_bytes() == BODY
    assert (tmp_path / FILE_NAME).read_bytes() == b"theirs"
    assert leftovers(tmp_path) == []


def test_without_hard_links_a_checked_rename_is_used(
    api: Api, service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: Any, dst: Any) -> None:
        raise PermissionError(1, "hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    first = api.fetch(dest=tmp_path)
    assert first is not None
    assert first.path == tmp_path / FILE_NAME
    assert first.path.read_bytes() == BODY

    calls: list[str] = []
    real_lexists = os.path.lexists

    def lexists(path: Any) -> bool:
        # The first check (choosing the name) sees it free; the claim then finds it taken.
        calls.append(Path(path).name)
        if Path(path).name == FILE_NAME and len(calls) == 1:
            return False
        return real_lexists(path)

    monkeypatch.setattr(os.path, "lexists", lexists)
    second = api.fetch(dest=tmp_path)
    assert second is not None
    assert second.path == tmp_path / FILE_NAME.replace(".txt", "-987654.txt")
    assert (tmp_path / FILE_NAME).read_bytes() == BODY
    assert leftovers(tmp_path) == []


def test_a_name_that_can_never_be_claimed_fails_cleanly(
    api: Api, service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_taken(src: Any, dst: Any) -> None:
        raise FileExistsError(17, "exists", str(dst))

    monkeypatch.setattr(os, "link", always_taken)
    with pytest.raises(StorageError, match="could not claim a free file name"):
        api.fetch(dest=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert service.record.call_count == 0


# --- the observer -------------------------------------------------------------------------


class Steps(BaseDownloadObserver):
    """Notes every step with what the disk and the service looked like at that moment."""

    def __init__(self, service: Service, fail_at: str = "") -> None:
        self.service = service
        self.fail_at = fail_at
        self.seen: list[tuple[Any, ...]] = []

    def _note(self, *event: Any) -> None:
        self.seen.append(event)
        if event[0] == self.fail_at:
            raise KeyError(f"observer failed at {self.fail_at}")

    def generated(self, generated: GeneratedFile, target: Path) -> None:
        self._note("generated", generated.download_id, target, target.exists())

    def abandoned(self, generated: GeneratedFile, error: APScoresError) -> None:
        self._note("abandoned", generated.download_id, type(error).__name__)

    def saved(self, result: DownloadResult) -> None:
        self._note("saved", result.download_id, result.path.read_bytes() == BODY)
        assert self.service.record.call_count == 0  # saved is told before recording

    def recorded(self, result: DownloadResult) -> None:
        self._note("recorded", result.download_id, self.service.record.call_count)


def test_observer_happy_path(api: Api, service: Service, tmp_path: Path) -> None:
    steps = Steps(service)
    observer: DownloadObserver = steps
    result = api.fetch(dest=tmp_path, observer=observer)
    assert result is not None
    assert steps.seen == [
        ("generated", 987654, tmp_path / FILE_NAME, False),
        ("saved", 987654, True),
        ("recorded", 987654, 1),
    ]


def test_observer_expired_url_then_regenerated(api: Api, service: Service, tmp_path: Path) -> None:
    service.generate.mock(side_effect=[generated_ok(download_id=1), generated_ok(download_id=2)])
    service.storage.mock(
        side_effect=[httpx.Response(403, content=EXPIRED_XML), httpx.Response(200, content=BODY)]
    )
    steps = Steps(service)
    result = api.fetch(dest=tmp_path, observer=steps)
    assert result is not None
    assert steps.seen == [
        ("generated", 1, tmp_path / FILE_NAME, False),
        ("abandoned", 1, "DownloadURLExpired"),
        ("generated", 2, tmp_path / FILE_NAME, False),
        ("saved", 2, True),
        ("recorded", 2, 1),
    ]


def test_observer_failed_download_and_failed_record(
    api: Api, service: Service, tmp_path: Path
) -> None:
    service.storage.mock(return_value=httpx.Response(404))
    steps = Steps(service)
    with pytest.raises(APIStatusError):
        api.fetch(dest=tmp_path, observer=steps)
    assert [event[0] for event in steps.seen] == ["generated", "abandoned"]

    service.storage.mock(return_value=httpx.Response(200, content=BODY))
    service.record.mock(return_value=refused("could not log download"))
    steps = Steps(service)
    with pytest.raises(RecordError) as info:
        api.fetch(dest=tmp_path, observer=steps)
    assert steps.seen == [
        ("generated", 987654, tmp_path / FILE_NAME, False),
        ("saved", 987654, True),
    ]
    assert info.value.path == tmp_path / FILE_NAME


def test_observer_errors_propagate(api: Api, service: Service, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="at generated"):
        api.fetch(dest=tmp_path, observer=Steps(service, fail_at="generated"))
    assert service.storage.call_count == 0
    with pytest.raises(KeyError, match="at saved"):
        api.fetch(dest=tmp_path, observer=Steps(service, fail_at="saved"))
    assert service.record.call_count == 0
    assert (tmp_path / FILE_NAME).read_bytes() == BODY  # the file stays, unrecorded
    service.storage.mock(return_value=httpx.Response(403, content=EXPIRED_XML))
    with pytest.raises(KeyError, match="at abandoned"):
        api.fetch(dest=tmp_path, observer=Steps(service, fail_at="abandoned"))
    assert service.generate.call_count == 3  # no regeneration after the observer failed


# --- authentication -----------------------------------------------------------------------


def test_token_rejected_then_relogin(api: Api, service: Service, tmp_path: Path) -> None:
    service.login.mock(side_effect=[login_ok(TOKEN), login_ok(TOKEN2)])
    service.generate.mock(
        side_effect=[httpx.Response(401, json={"message": "Unauthorized"}), generated_ok()]
    )
    result = api.fetch(dest=tmp_path)
    assert result is not None
    assert service.login.call_count == 2
    tokens = [
        c.request.headers["X-CB-Catapult-Authorization-Token"] for c in service.generate.calls
    ]
    assert tokens == [TOKEN, TOKEN2]
    assert api.client.session.token == TOKEN2


def test_token_problem_message_triggers_relogin(api: Api, service: Service) -> None:
    service.login.mock(side_effect=[login_ok(TOKEN), login_ok(TOKEN2)])
    generated = GeneratedFile(
        url=storage_url(), file_name="f", download_id=1, format="txt", kind="new"
    )
    service.record.mock(side_effect=[refused("Invalid or expired token"), ok()])
    api.record(generated)
    assert service.login.call_count == 2
    assert service.record.call_count == 2


def test_token_rejected_twice_is_authentication_error(api: Api, service: Service) -> None:
    service.generate.mock(return_value=httpx.Response(401, json={"message": "Unauthorized"}))
    with pytest.raises(AuthenticationError) as info:
        api.generate()
    assert "Unauthorized" in str(info.value)
    assert "APOSRD HED Admin" in str(info.value)
    assert service.login.call_count == 2
    assert service.generate.call_count == 2


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(403, json={"message": "Forbidden"}),
        httpx.Response(200, json={"success": False, "message": "Not authorized for DI code"}),
    ],
)
def test_a_di_code_refused_with_a_fresh_token_is_that_codes_failure(
    api: Api, service: Service, reply: httpx.Response
) -> None:
    """The login just worked: a refusal of fileGeneration is about the DI code (G2b)."""
    service.generate.mock(return_value=reply)
    with pytest.raises(DiCodeRefusedError) as info:
        api.generate()
    error = info.value
    assert not isinstance(error, AuthenticationError)
    assert error.di_code == "1234"
    assert "DI code 1234" in str(error)
    assert "APOSRD HED Admin role for that institution" in error.detail
    assert service.login.call_count == 2


def test_bad_password(api: Api, service: Service) -> None:
    message = "Invalid username/password. Please try again."
    service.login.mock(return_value=refused(message))
    with pytest.raises(AuthenticationError) as info:
        api.login()
    error = info.value
    assert error.message == message
    assert error.endpoint == "webServiceAuth"
    text = str(error)
    assert repr(message) in text
    for cause in ("ulti-factor", "expired", "terms of use", "APOSRD HED Admin", "email address"):
        assert cause in text
    assert service.login.call_count == 1
    assert not api.client.session.is_authenticated


def test_login_http_401(api: Api, service: Service) -> None:
    service.login.mock(return_value=httpx.Response(401, json={"message": "MFA required"}))
    with pytest.raises(AuthenticationError, match="MFA required"):
        api.login()


def test_other_generate_failure_is_api_error(api: Api, service: Service) -> None:
    service.generate.mock(return_value=refused("DI code not found"))
    with pytest.raises(APIError) as info:
        api.generate("9999")
    assert not isinstance(info.value, AuthenticationError)
    assert info.value.message == "DI code not found"
    assert "9999" in str(info.value)


# --- secrets ------------------------------------------------------------------------------

SECRETS = (PASSWORD, PASSWORD_B64, TOKEN, TOKEN2, SIGNATURE)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_secrets_never_leak(
    api: Api, service: Service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("httpx", "httpcore", "apscores"):
        caplog.set_level(logging.DEBUG, logger=name)
    service.login.mock(side_effect=[login_ok(TOKEN), login_ok(TOKEN2)])
    service.generate.mock(side_effect=[httpx.Response(401)] + [generated_ok()] * 3)
    service.record.mock(return_value=refused("database unavailable"))
    service.storage.mock(
        side_effect=[httpx.Response(403, content=EXPIRED_XML), httpx.Response(200, content=BODY)]
    )
    with pytest.raises(RecordError) as info:
        api.fetch(dest=tmp_path)

    records = caplog.records
    assert any(r.name == "httpx" for r in records)
    assert any(r.name == "apscores" and "files.example.com" in r.getMessage() for r in records)
    assert_clean(caplog.text)
    assert_clean("\n".join(r.getMessage() for r in records))
    assert_clean(repr(api.client) + repr(api.client.session) + repr(api.client.institution("1234")))
    assert_clean(str(info.value) + repr(info.value))
    assert_clean("".join(traceback.format_exception(info.value)))
    generated = api.generate()
    assert_clean(repr(generated))
    assert EMAIL in repr(api.client)


def test_token_never_sent_to_storage_across_redirect(
    api: Api, mock: respx.MockRouter, service: Service, tmp_path: Path
) -> None:
    service.storage.mock(
        return_value=httpx.Response(
            302, headers={"Location": f"https://cdn.example.net/f.txt?Signature={SIGNATURE}"}
        )
    )
    cdn = mock.get(url__startswith="https://cdn.example.net/").mock(
        return_value=httpx.Response(200, content=BODY)
    )
    result = api.fetch(dest=tmp_path)
    assert result is not None
    for route in (service.storage, cdn):
        headers = route.calls.last.request.headers
        assert TOKEN not in str(headers.raw)
        assert not any(name.lower().startswith("x-cb-") for name in headers)
        assert "authorization" not in headers


def test_redirect_downgrade_refused(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(
        return_value=httpx.Response(302, headers={"Location": "http://files.example.com/plain"})
    )
    with pytest.raises(DownloadError, match="non-https"):
        api.fetch(dest=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_redirect_loop_refused(api: Api, service: Service, tmp_path: Path) -> None:
    service.storage.mock(
        return_value=httpx.Response(302, headers={"Location": "https://files.example.com/again"})
    )
    with pytest.raises(DownloadError, match="redirected too many times"):
        api.fetch(dest=tmp_path)
    assert service.storage.call_count == _download.MAX_REDIRECTS + 1


def test_api_redirect_not_followed(api: Api, service: Service) -> None:
    service.login.mock(return_value=httpx.Response(302, headers={"Location": "https://evil.test/"}))
    with pytest.raises(APIStatusError) as info:
        api.login()
    assert info.value.status_code == 302


# --- recording ----------------------------------------------------------------------------


def test_record_failing_keeps_file(api: Api, service: Service, tmp_path: Path) -> None:
    service.record.mock(return_value=httpx.Response(500))
    with pytest.raises(RecordError) as info:
        api.fetch(dest=tmp_path)
    error = info.value
    assert error.download_id == "987654"
    assert error.path == tmp_path / FILE_NAME
    assert "987654" in str(error)
    assert str(tmp_path / FILE_NAME) in str(error)
    assert isinstance(error.__cause__, APIStatusError)
    assert (tmp_path / FILE_NAME).read_bytes() == BODY
    assert service.record.call_count == 4


def test_record_refused_keeps_file(api: Api, service: Service, tmp_path: Path) -> None:
    service.record.mock(return_value=refused("could not log download"))
    with pytest.raises(RecordError, match="could not log download"):
        api.fetch(dest=tmp_path)
    assert (tmp_path / FILE_NAME).exists()


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_env_fallbacks(monkeypatch: pytest.MonkeyPatch, cls: type[Client | AsyncClient]) -> None:
    monkeypatch.setenv("APSCORES_EMAIL", "env@example.edu")
    monkeypatch.setenv("APSCORES_PASSWORD", "env-password")
    monkeypatch.setenv("APSCORES_BASE_URL", "https://sandbox.example.test/stage/")
    client = cls()
    assert client.base_url == "https://sandbox.example.test/stage"
    assert client._settings.email == "env@example.edu"
    assert client._settings.password.reveal() == "env-password"
    assert "env-password" not in repr(client)

    monkeypatch.delenv("APSCORES_BASE_URL")
    assert cls(email="a@b.c").base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_missing_credentials(
    monkeypatch: pytest.MonkeyPatch, cls: type[Client | AsyncClient]
) -> None:
    monkeypatch.delenv("APSCORES_EMAIL", raising=False)
    monkeypatch.delenv("APSCORES_PASSWORD", raising=False)
    with pytest.raises(ConfigurationError) as info:
        cls()
    assert "APSCORES_EMAIL" in str(info.value)
    assert "APSCORES_PASSWORD" in str(info.value)
    with pytest.raises(ConfigurationError, match="APSCORES_PASSWORD") as info:
        cls(email="a@b.c")
    assert "APSCORES_EMAIL" not in str(info.value)


def test_bad_options(api: Api) -> None:
    for bad in ("123", "12345", "12a4", 123):
        with pytest.raises(ConfigurationError, match="4 digits"):
            api.client.institution(bad)
    with pytest.raises(ConfigurationError, match="format"):
        api.fetch(format="pdf")
    with pytest.raises(ConfigurationError, match="kind"):
        api.generate(kind="old")
    assert api.client.institution(1234).di_code == "1234"


def test_own_http_client_closed_injected_left_open() -> None:
    injected = httpx.Client()
    with Client(email=EMAIL, password=PASSWORD, http_client=injected) as client:
        assert client._http is injected
    assert not injected.is_closed
    injected.close()
    with Client(email=EMAIL, password=PASSWORD) as own:
        http = own._http
        assert http._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"  # type: ignore[attr-defined]
    assert http.is_closed


@pytest.mark.anyio
async def test_async_own_http_client_closed_injected_left_open() -> None:
    injected = httpx.AsyncClient()
    async with AsyncClient(email=EMAIL, password=PASSWORD, http_client=injected) as client:
        assert client._http is injected
    assert not injected.is_closed
    await injected.aclose()
    async with AsyncClient(email=EMAIL, password=PASSWORD) as own:
        http = own._http
    assert http.is_closed


def test_injected_mock_transport(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("webServiceAuth"):
            return login_ok()
        if request.url.path.endswith("fileGeneration"):
            return generated_ok()
        if request.url.path.endswith("webServiceDownloaded"):
            return ok()
        return httpx.Response(200, content=BODY)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with Client(email=EMAIL, password=PASSWORD, base_url=BASE, http_client=http) as client:
        result = client.institution("1234").download(dest=tmp_path)
    assert result is not None
    assert seen[-1] == "/aposrd-api-prod/webServiceDownloaded"
    http.close()


# --- the two surfaces stay in step ----------------------------------------------------------

PAIRS = [
    (Client, AsyncClient),
    (Session, AsyncSession),
    (Files, AsyncFiles),
    (Institution, AsyncInstitution),
]
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
IO_FREE = {"institution", "logout", "token", "is_authenticated", "base_url"}


def public(cls: type) -> set[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    return names | {
        n for n in ("__enter__", "__exit__", "__aenter__", "__aexit__") if hasattr(cls, n)
    }


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS)
def test_sync_and_async_surfaces_match(sync_cls: type, async_cls: type) -> None:
    sync_names = public(sync_cls)
    assert {RENAMED.get(n, n) for n in sync_names} == public(async_cls)
    for name in sync_names:
        sync_attr = inspect.getattr_static(sync_cls, name)
        async_attr = inspect.getattr_static(async_cls, RENAMED.get(name, name))
        if isinstance(sync_attr, property):
            assert isinstance(async_attr, property), name
            continue
        sync_sig = inspect.signature(sync_attr)
        async_sig = inspect.signature(async_attr)
        assert list(sync_sig.parameters) == list(async_sig.parameters), name
        for param in sync_sig.parameters:
            s, a = sync_sig.parameters[param], async_sig.parameters[param]
            assert (s.kind, s.default) == (a.kind, a.default), (name, param)
        assert not inspect.iscoroutinefunction(sync_attr), name
        expect_coroutine = name not in IO_FREE
        assert inspect.iscoroutinefunction(async_attr) is expect_coroutine, name


def test_client_constructors_match() -> None:
    sync_sig = inspect.signature(Client.__init__)
    async_sig = inspect.signature(AsyncClient.__init__)
    assert list(sync_sig.parameters) == list(async_sig.parameters)
    for name, param in sync_sig.parameters.items():
        if name == "self":
            continue
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
        assert param.default == async_sig.parameters[name].default


def test_httpx_log_redaction_leaves_other_records(caplog: pytest.LogCaptureFixture) -> None:
    Client(email=EMAIL, password=PASSWORD).close()
    caplog.set_level(logging.INFO, logger="httpx")
    signed = httpx.URL(f"https://s.example/f?Signature={SIGNATURE}")
    logging.getLogger("httpx").info("plain %s", "text")
    logging.getLogger("httpx").info("url %s", signed)
    logging.getLogger("httpx").info("no args")
    assert "plain text" in caplog.text
    assert "url https://s.example/f?<redacted>" in caplog.text
    assert SIGNATURE not in caplog.text
