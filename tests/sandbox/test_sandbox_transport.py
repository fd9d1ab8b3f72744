"""The in-process carrier: the async transport, the helpers that build a default service,
the service as a pure handler of request values, the request log and the fake clock."""

from __future__ import annotations

import json

import httpx
import pytest

from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SANDBOX_BASE_URL,
    FakeClock,
    SandboxRequest,
    SandboxService,
    transport,
)
from sandbox._raw_api import AUTHN, AUTHZ, JSON_HEADERS, Api, b64

# -- async transport and helpers -------------------------------------------------------------


@pytest.mark.anyio
async def test_async_transport_full_cycle_and_faults(service: SandboxService) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    service.faults.delay("login", 2.5, times=1)
    async with httpx.AsyncClient(transport=service.transport(async_sleep=fake_sleep)) as http:
        headers = {**JSON_HEADERS, AUTHZ: "CBLogin", AUTHN: "CBLogin Web Service"}
        login = await http.post(
            f"{SANDBOX_BASE_URL}/webServiceAuth",
            json={"u": DEFAULT_EMAIL, "p": b64(DEFAULT_PASSWORD)},
            headers=headers,
        )
        assert slept == [2.5]
        headers[AUTHZ] = login.json()["authToken"]
        generated = await http.post(
            f"{SANDBOX_BASE_URL}/fileGeneration",
            json={"diCode": "1234", "format": "TXT", "downloadType": "new"},
            headers=headers,
        )
        url = generated.json()["url"]
        service.faults.disconnect(after_bytes=10)
        with pytest.raises(httpx.ReadError):
            await http.get(url)
        service.faults.truncate(after_bytes=10)
        assert len((await http.get(url)).content) == 10
        service.faults.refuse("download")
        with pytest.raises(httpx.ConnectError):
            await http.get(url)
        service.faults.timeout("download")
        with pytest.raises(httpx.ReadTimeout):
            await http.get(url)
        body = (await http.get(url)).content
        assert body == service.file_bytes(generated.json()["downloadId"])
        recorded = await http.post(
            f"{SANDBOX_BASE_URL}/webServiceDownloaded",
            json={"downloadId": generated.json()["downloadId"], "format": "TXT"},
            headers=headers,
        )
        assert recorded.json()["success"] is True


def test_transport_helper_builds_a_default_service() -> None:
    sandbox = transport(chunk_size=0)
    service = sandbox.service
    assert isinstance(service, SandboxService)
    assert service.accounts[DEFAULT_EMAIL].di_codes == {"1234"}
    assert len(service.pending()) == 25
    with httpx.Client(transport=sandbox) as http:
        api = Api(service, http)
        api.login()
        answer = api.generate().json()
        assert http.get(answer["url"]).content.count(b"\n") == 25


def test_request_log_keeps_secrets_out_of_repr(api: Api, service: SandboxService) -> None:
    body = api.generate().json()
    api.http.get(body["url"])
    text = repr(service.requests) + repr(service.accounts) + repr(service.downloads)
    assert api.token not in text
    assert DEFAULT_PASSWORD not in text
    assert b64(DEFAULT_PASSWORD) not in text
    assert "Signature" not in text
    assert service.calls("download")[0].headers.get(AUTHZ.lower()) is None
    assert len(service.calls()) == 3


def test_the_service_is_a_pure_handler(service: SandboxService) -> None:
    payload = json.dumps({"u": DEFAULT_EMAIL, "p": b64(DEFAULT_PASSWORD)}).encode()
    headers = {**JSON_HEADERS, AUTHZ: "CBLogin", AUTHN: "CBLogin Web Service"}
    request = SandboxRequest.build("POST", f"{SANDBOX_BASE_URL}/webServiceAuth", headers, payload)
    response = service.handle(request)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert response.header("x-missing") is None
    assert response.json()["success"] is True
    assert "authToken" not in repr(response)


def test_sandbox_request_build_lowercases_headers() -> None:
    request = SandboxRequest.build("post", "https://x.invalid/", {"X-A": "1"}, b"{}")
    assert request.method == "POST"
    assert request.headers == {"x-a": "1"}
    assert SandboxRequest.build("GET", "https://x.invalid/").headers == {}


def test_fake_clock() -> None:
    clock = FakeClock(10.0)
    clock.advance(5)
    assert clock() == 15.0
    import datetime as dt

    clock.set(dt.datetime(2025, 7, 1, tzinfo=dt.timezone.utc))
    assert clock() == 1_751_328_000.0
    assert abs(FakeClock()() - __import__("time").time()) < 60
