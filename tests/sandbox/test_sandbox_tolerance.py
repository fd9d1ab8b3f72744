"""The tolerance rule: the sandbox takes what the real service takes, records what a careful
client should not do, and refuses it only in strict mode.

The client that matters most here is written without apscores and behaves like the public
scripts that work against the live service: ``Accept: */*`` (or none) on the JSON calls,
and the Catapult headers, ``Content-Type: application/json`` and ``Accept: text/csv, */*``
on the presigned GET.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest

from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SANDBOX_BASE_URL,
    SandboxRequest,
    SandboxResponse,
    SandboxServer,
    SandboxService,
    ServeConfig,
    StreamedBody,
    serve,
)
from apscores.sandbox._observe import names_json
from apscores.service import AsyncClient, Client

AUTHZ = "X-CB-Catapult-Authorization-Token"
AUTHN = "X-CB-Catapult-Authentication-Token"
P = base64.b64encode(DEFAULT_PASSWORD.encode()).decode()


def urlopen(request: urllib.request.Request | str) -> Any:
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback only


def control(server: SandboxServer, name: str) -> str:
    return server.base_url.rsplit("/", 1)[0] + f"/_sandbox/{name}"


def state_of(server: SandboxServer) -> Any:
    with urlopen(control(server, "state")) as response:
        assert response.headers["Content-Type"] == "application/json"
        return json.load(response)


class ScriptClient:
    """A client like the public scripts (C1/C2 in web-service.md), written without apscores."""

    def __init__(self, base_url: str, *, accept: str | None) -> None:
        self.base_url = base_url
        self.accept = accept
        self.token = "CBLogin"

    def headers(self) -> dict[str, str]:
        sent = {"Content-Type": "application/json", AUTHZ: self.token, AUTHN: "CBLogin Web Service"}
        if self.accept is not None:
            sent["Accept"] = self.accept
        return sent

    def post(self, endpoint: str, payload: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.base_url}/{endpoint}",
            data=json.dumps(payload).encode(),
            headers=self.headers(),
            method="POST",
        )
        try:
            with urlopen(request) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def get(self, url: str) -> tuple[int, bytes]:
        # C2 sends its whole authenticated header set on the GET; C1 asks for text/csv.
        headers = {**self.headers(), "Accept": "text/csv, */*"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
        try:
            with urlopen(request) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self) -> tuple[int, Any]:
        status, body = self.post("webServiceAuth", {"u": DEFAULT_EMAIL, "p": P})
        if status == 200 and body.get("success"):
            self.token = body["authToken"]
        return status, body

    def generate(self) -> tuple[int, Any]:
        return self.post(
            "fileGeneration", {"diCode": "1234", "format": "CSV", "downloadType": "new"}
        )

    def run(self) -> tuple[dict[str, Any], bytes]:
        """Login, generate, GET, record, each asserted to work; (generated, file body)."""
        assert self.login()[1]["success"] is True
        status, generated = self.generate()
        assert (status, generated["success"]) == (200, True)
        status, body = self.get(generated["url"])
        assert status == 200
        payload = {"downloadId": str(generated["downloadId"]), "format": "CSV"}  # C1: a string
        assert self.post("webServiceDownloaded", payload) == (
            200,
            {"success": True, "message": "Download recorded successfully."},
        )
        return generated, body


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with serve(ServeConfig(port=0, storage_port=0, reports=3)) as running:
        yield running


@pytest.fixture
def strict_server() -> Iterator[SandboxServer]:
    with serve(ServeConfig(port=0, storage_port=0, reports=3, strict=True)) as running:
        yield running


# -- a client like the public scripts, over HTTP ---------------------------------------------


@pytest.mark.parametrize("accept", ["*/*", None], ids=["accept-any", "no-accept"])
def test_a_client_like_the_public_scripts_works_by_default(
    server: SandboxServer, accept: str | None
) -> None:
    script = ScriptClient(server.base_url, accept=accept)
    generated, body = script.run()
    assert body == server.service.file_bytes(generated["downloadId"])
    assert server.service.recorded_ids == [generated["downloadId"]]

    state = state_of(server)
    assert state["strict"] is False
    assert state["token_reached_storage"] is True
    assert state["catapult_header_reached_storage"] is True
    (get,) = [call for call in state["calls"] if call["role"] == "storage"]
    assert get["status"] == 200
    assert {"x-cb-catapult-authorization-token", "content-type", "accept"} <= set(get["headers"])
    assert get["path"].endswith(generated["fileName"])
    assert {(r["endpoint"], r["code"]) for r in state["remarks"]} == {
        ("login", "accept_not_json"),
        ("generate", "accept_not_json"),
        ("record", "accept_not_json"),
        ("download", "catapult_header_on_storage"),
        ("download", "token_on_storage"),
    }
    assert state["calls_per_endpoint"] == {"login": 1, "generate": 1, "record": 1, "download": 1}
    text = json.dumps(state)
    for secret in (script.token, DEFAULT_PASSWORD, P, "Signature", "AWSAccessKeyId"):
        assert secret not in text


@pytest.mark.parametrize(
    ("accept", "shown"), [("*/*", "'*/*'"), (None, "no header")], ids=["accept-any", "no-accept"]
)
def test_strict_mode_refuses_the_same_client_and_says_why(
    strict_server: SandboxServer, accept: str | None, shown: str
) -> None:
    status, body = ScriptClient(strict_server.base_url, accept=accept).login()
    assert status == 406
    assert body["message"] == (
        "Not Acceptable (strict sandbox): send Accept: application/json on JSON calls "
        f"(this request sent {shown})"
    )
    # With a JSON Accept the API calls pass; the GET that carries the token does not.
    script = ScriptClient(strict_server.base_url, accept="application/json")
    assert script.login()[1]["success"] is True
    generated = script.generate()[1]
    status, xml = script.get(generated["url"])
    assert status == 400
    text = xml.decode()
    assert "<Code>InvalidArgument</Code>" in text
    assert "strict sandbox: do not send x-cb-catapult-authentication-token, " in text
    assert "the presigned URL carries its own authorisation" in text
    assert "an authToken reached the storage host" in text
    assert script.token not in text
    state = state_of(strict_server)
    assert state["strict"] is True
    assert state["token_reached_storage"] is True  # recorded, though refused
    assert state["downloads"][0]["fetches"] == 0


def test_our_client_passes_the_strict_server(strict_server: SandboxServer, tmp_path: Any) -> None:
    options: dict[str, Any] = {
        "email": DEFAULT_EMAIL, "password": DEFAULT_PASSWORD, "retry_base_delay": 0,
    }  # fmt: skip
    with Client(base_url=strict_server.base_url, **options) as client:
        assert client.institution("1234").download(dest=tmp_path) is not None

    async def main() -> None:
        async with AsyncClient(base_url=strict_server.base_url, **options) as client:
            result = await client.institution("1234").download(kind="full", dest=tmp_path)
            assert result is not None

    anyio.run(main)
    state = state_of(strict_server)
    assert state["remarks"] == []
    assert state["token_reached_storage"] is False
    assert state["catapult_header_reached_storage"] is False
    assert [c["status"] for c in state["calls"]] == [200] * 8
    assert state["calls_per_endpoint"] == {"login": 2, "generate": 2, "record": 2, "download": 2}


# -- what the API host takes -------------------------------------------------------------------


def login_request(
    *, accept: str | None = "application/json", content_type: str | None = "application/json",
    body: bytes | None = None, extra: dict[str, str] | None = None,
) -> SandboxRequest:  # fmt: skip
    headers = {AUTHZ: "CBLogin", AUTHN: "CBLogin Web Service", **(extra or {})}
    if accept is not None:
        headers["Accept"] = accept
    if content_type is not None:
        headers["Content-Type"] = content_type
    payload = json.dumps({"u": DEFAULT_EMAIL, "p": P}).encode() if body is None else body
    return SandboxRequest.build("POST", f"{SANDBOX_BASE_URL}/webServiceAuth", headers, payload)


def codes(service: SandboxService) -> list[str]:
    return [remark.code for _, remark in service.remarks]


@pytest.mark.parametrize(
    ("accept", "named"),
    [
        (None, False),
        ("*/*", False),
        ("application/*", False),
        ("text/html", False),
        ("application/json;q=0", False),
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("text/plain;q=0.5, application/json;q=0.9", True),
        ("application/json;q=bogus", True),
    ],
)
def test_any_accept_is_taken_and_only_strict_mode_wants_json_named(
    accept: str | None, named: bool
) -> None:
    assert names_json(accept) is named
    service = SandboxService.default()
    answer = service.handle(login_request(accept=accept))
    assert (answer.status, answer.json()["success"]) == (200, True)
    assert codes(service) == ([] if named else ["accept_not_json"])
    strict = SandboxService.default(strict=True)
    assert strict.handle(login_request(accept=accept)).status == (200 if named else 406)


@pytest.mark.parametrize(
    ("content_type", "remarked"),
    [
        ("application/json", False),
        ("application/json; charset=utf-8", False),
        (None, True),  # our decision: a valid JSON body is enough
        ("application/x-www-form-urlencoded", True),  # curl -d without -H
        ("text/plain", True),
    ],
)
def test_the_body_decides_and_content_type_is_only_recorded(
    content_type: str | None, remarked: bool
) -> None:
    service = SandboxService.default()
    answer = service.handle(login_request(content_type=content_type))
    assert answer.json()["success"] is True
    assert codes(service) == (["content_type_not_json"] if remarked else [])
    refused = SandboxService.default(strict=True).handle(login_request(content_type=content_type))
    assert refused.status == (415 if remarked else 200)
    if remarked:
        assert "send Content-Type: application/json with a JSON body" in refused.json()["message"]


def test_a_body_that_is_not_json_is_refused_in_every_mode() -> None:
    for strict in (False, True):
        service = SandboxService.default(strict=strict)
        answer = service.handle(login_request(body=b"u=a&p=b"))
        assert answer.status == 400
        assert answer.json() == {"success": False, "message": "The request body is not valid JSON."}


def test_catapult_headers_are_checked_before_strictness() -> None:
    service = SandboxService.default(strict=True)
    request = login_request(accept=None)
    headers = {k: v for k, v in request.headers.items() if k != AUTHN.lower()}
    assert (
        service.handle(SandboxRequest.build("POST", request.url, headers, request.body)).status
        == 401
    )


def test_unknown_headers_are_fine_on_both_hosts() -> None:
    service = SandboxService.default(strict=True)
    extra = {"X-Request-Id": "abc", "User-Agent": "cron-job/1.0", "Cache-Control": "no-cache"}
    token = service.handle(login_request(extra=extra)).json()["authToken"]
    headers = {"Content-Type": "application/json", "Accept": "application/json", AUTHZ: token,
               AUTHN: "CBLogin Web Service", **extra}  # fmt: skip
    payload = json.dumps({"diCode": "1234", "format": "TXT", "downloadType": "full"}).encode()
    url = service.handle(
        SandboxRequest.build("POST", f"{SANDBOX_BASE_URL}/fileGeneration", headers, payload)
    ).json()["url"]
    # Content-Type and Accept on a GET are no credential: even strict mode takes them.
    get = {"Accept": "text/csv, */*", "Content-Type": "application/json", **extra}
    assert service.handle(SandboxRequest.build("GET", url, get)).status == 200
    assert service.remarks == []


# -- recording ------------------------------------------------------------------------------


def test_repeats_are_counted_per_endpoint() -> None:
    service = SandboxService.default()
    token = service.handle(login_request()).json()["authToken"]
    headers = {"Content-Type": "application/json", "Accept": "application/json", AUTHZ: token,
               AUTHN: "CBLogin Web Service"}  # fmt: skip
    payload = json.dumps({"diCode": "1234", "format": "TXT", "downloadType": "full"}).encode()
    generate = SandboxRequest.build("POST", f"{SANDBOX_BASE_URL}/fileGeneration", headers, payload)
    service.faults.fail("generate", status=504)
    assert service.handle(generate).status == 504
    url = service.handle(generate).json()["url"]
    for _ in range(3):
        service.handle(SandboxRequest.build("GET", url))
    service.handle(SandboxRequest.build("GET", url, {"Range": "bytes=0-9"}))  # not a repeat
    state = service.state()
    assert state["calls_per_endpoint"] == {"login": 1, "generate": 2, "record": 0, "download": 4}
    assert state["repeats_per_endpoint"] == {"login": 0, "generate": 1, "record": 0, "download": 2}
    assert [(c["seq"], c["repeat_of"], c["fault"]) for c in state["calls"]] == [
        (1, None, None), (2, None, "fail"), (3, 2, None),
        (4, None, None), (5, 4, None), (6, 4, None), (7, None, None),
    ]  # fmt: skip
    assert [o.status for o in service.observations] == [200, 504, 200, 200, 200, 200, 206]
    json.dumps(state)  # JSON-able throughout


def test_unknown_routes_are_recorded_as_other() -> None:
    service = SandboxService.default()
    service.handle(SandboxRequest.build("GET", f"{SANDBOX_BASE_URL}/listFiles"))
    assert service.state()["calls_per_endpoint"]["other"] == 1
    assert service.observations[0].endpoint is None


def test_a_token_in_any_header_counts_as_reaching_storage() -> None:
    service = SandboxService.default()
    token = service.handle(login_request()).json()["authToken"]
    assert not service.token_reached_storage
    url = f"{service.storage_base_url}/nothing"
    service.handle(SandboxRequest.build("GET", url, {"X-Custom": f"tok={token}"}))
    assert service.token_reached_storage
    assert not service.catapult_header_reached_storage
    assert token not in repr(service.observations) + json.dumps(service.state())


# -- the storage host: Range, keep-alive --------------------------------------------------------


@pytest.fixture
def file_url() -> tuple[SandboxService, str, bytes]:
    service = SandboxService.default(reports=3, strict=True)
    token = service.handle(login_request()).json()["authToken"]
    headers = {"Content-Type": "application/json", "Accept": "application/json", AUTHZ: token,
               AUTHN: "CBLogin Web Service"}  # fmt: skip
    payload = json.dumps({"diCode": "1234", "format": "TXT", "downloadType": "new"}).encode()
    answer = service.handle(
        SandboxRequest.build("POST", f"{SANDBOX_BASE_URL}/fileGeneration", headers, payload)
    ).json()
    return service, answer["url"], service.file_bytes(answer["downloadId"])


def get(service: SandboxService, url: str, range_: str, method: str = "GET") -> SandboxResponse:
    return service.handle(SandboxRequest.build(method, url, {"Range": range_}))


@pytest.mark.parametrize(
    ("range_", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-10", None, None),
     ("bytes=5-999999", 5, None), ("BYTES = 7 - 8", 7, 8), ("bytes=-999999", 0, None)],
)  # fmt: skip
def test_one_byte_range_is_206_partial_content(
    file_url: tuple[SandboxService, str, bytes], range_: str, first: int | None, last: int | None
) -> None:
    service, url, data = file_url
    size = len(data)
    start = size - 10 if first is None and range_ == "bytes=-10" else (first or 0)
    end = size - 1 if last is None else last
    answer = get(service, url, range_)
    assert answer.status == 206
    assert answer.content == data[start : end + 1]
    assert answer.header("Content-Range") == f"bytes {start}-{end}/{size}"
    assert answer.header("Content-Length") == str(end - start + 1)
    assert answer.header("Accept-Ranges") == "bytes"
    head = get(service, url, range_, "HEAD")
    assert (head.status, head.content, head.header("Content-Range")) == (
        206, b"", f"bytes {start}-{end}/{size}",
    )  # fmt: skip


@pytest.mark.parametrize(
    "range_", ["bytes=5-3", "items=0-5", "bytes=0-1,5-6", "bytes=x-5", "bytes=-", "bytes 0-5", ""]
)
def test_a_malformed_range_is_ignored_as_s3_does(
    file_url: tuple[SandboxService, str, bytes], range_: str
) -> None:
    service, url, data = file_url
    answer = get(service, url, range_)
    assert (answer.status, answer.content, answer.header("Content-Range")) == (200, data, None)


@pytest.mark.parametrize("range_", ["bytes=999999-", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(
    file_url: tuple[SandboxService, str, bytes], range_: str
) -> None:
    service, url, data = file_url
    answer = get(service, url, range_)
    assert answer.status == 416
    assert answer.header("Content-Range") == f"bytes */{len(data)}"
    assert "<Code>InvalidRange</Code>" in answer.content.decode()
    assert service.downloads[0].fetches == 0


def test_a_range_of_a_streamed_body_stays_streamed() -> None:
    made: list[int] = []

    def chunks() -> Iterator[bytes]:
        for index in range(4):
            made.append(index)
            yield bytes([65 + index]) * 10

    service = SandboxService.default(reports=1, renderer=lambda r, f: StreamedBody(chunks, 40))
    token = service.handle(login_request()).json()["authToken"]
    headers = {"Content-Type": "application/json", "Accept": "application/json", AUTHZ: token,
               AUTHN: "CBLogin Web Service"}  # fmt: skip
    payload = json.dumps({"diCode": "1234", "format": "TXT", "downloadType": "new"}).encode()
    url = service.handle(
        SandboxRequest.build("POST", f"{SANDBOX_BASE_URL}/fileGeneration", headers, payload)
    ).json()["url"]
    answer = get(service, url, "bytes=15-24")
    assert isinstance(answer.body, StreamedBody)
    assert answer.body.size == 10
    assert answer.content == b"B" * 5 + b"C" * 5
    assert made == [0, 1, 2]  # the fourth chunk is never made


def test_range_and_keep_alive_over_the_loopback_server(server: SandboxServer) -> None:
    script = ScriptClient(server.base_url, accept="application/json")
    script.login()
    generated = script.generate()[1]
    data = server.service.file_bytes(generated["downloadId"])
    target = urlsplit(generated["url"])
    connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
    try:
        path = f"{target.path}?{target.query}"
        for range_ in ("bytes=0-9", "bytes=10-19"):  # one connection, kept alive
            connection.request("GET", path, headers={"Range": range_})
            response = connection.getresponse()
            assert response.status == 206
            first = int(range_.split("=")[1].split("-")[0])
            assert response.read() == data[first : first + 10]
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, data)
    finally:
        connection.close()
    assert [c["status"] for c in state_of(server)["calls"] if c["role"] == "storage"] == [
        206, 206, 200,
    ]  # fmt: skip


def test_remarks_quote_media_types_only_and_hosts_carry_no_userinfo() -> None:
    service = SandboxService.default()
    token = service.handle(login_request()).json()["authToken"]
    for accept in (token, f"text/{token}", "Bearer abc.def", ""):
        service.handle(login_request(accept=accept))
    service.handle(login_request(accept="text/html, */*;q=0.1"))
    shown = [remark.message.split("this request sent ")[1] for _, remark in service.remarks]
    assert shown == [
        "a value that is not a media type)",
        "a value that is not a media type)",
        "a value that is not a media type)",
        "an empty header)",
        "'text/html, */*;q=0.1')",
    ]
    url = "https://user:secret@api.sandbox.apscores.invalid/aposrd-api-prod/webServiceAuth"
    request = login_request()
    service.handle(SandboxRequest.build("POST", url, request.headers, request.body))
    assert service.observations[-1].host == "api.sandbox.apscores.invalid"
    assert "secret" not in json.dumps(service.state())
    assert token not in json.dumps(service.state())
