"""Fault injection in process: each kind of fault, what it does to the answer, how it is
counted and checked; faults kept to one thread or task (``Faults.isolated``)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _raw_api import Api

from apscores.sandbox import (
    FakeClock,
    SandboxService,
)

# -- fault injection ---------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["login", "generate", "record"])
def test_fail_gives_gateway_errors_n_times(
    api: Api, service: SandboxService, endpoint: str
) -> None:
    download_id = api.generate().json()["downloadId"]
    fault = service.faults.fail(endpoint, status=504, times=2)
    actions: dict[str, Callable[[], httpx.Response]] = {
        "login": lambda: api.login(),
        "generate": lambda: api.generate(),
        "record": lambda: api.record(download_id),
    }
    calls = actions[endpoint]
    for _ in range(2):
        response = calls()
        assert response.status_code == 504
        assert response.json() == {"message": "Endpoint request timed out"}
    assert calls().status_code == 200
    assert fault.fired == 2
    assert not fault.active
    assert service.faults.armed == []
    assert [r.fault for r in service.calls(endpoint)][-3:] == ["fail", "fail", None]


def test_fail_not_processed_leaves_state_alone(api: Api, service: SandboxService) -> None:
    service.faults.fail("generate", status=502)
    assert api.generate().json() == {"message": "Internal server error"}
    assert service.downloads == []


def test_fail_processed_acts_then_loses_the_answer(api: Api, service: SandboxService) -> None:
    service.faults.fail("generate", status=504, processed=True)
    assert api.generate().status_code == 504
    assert len(service.downloads) == 1  # an orphan download record, as C1 warns
    download_id = api.generate().json()["downloadId"]
    service.faults.fail("record", status=504, processed=True)
    assert api.record(download_id).status_code == 504
    assert service.recorded_ids == [download_id]  # recorded, though the client never heard


def test_fail_with_status_200_is_success_false(api: Api, service: SandboxService) -> None:
    service.faults.fail_record(times=None, message="Service temporarily unavailable.")
    download_id = api.generate().json()["downloadId"]
    for _ in range(3):
        response = api.record(download_id)
        assert response.status_code == 200
        assert response.json() == {
            "success": False,
            "message": "Service temporarily unavailable.",
        }
    assert service.recorded_ids == []
    service.faults.clear()
    assert api.record(download_id).json()["success"] is True


def test_fail_default_message_and_retry_after(api: Api, service: SandboxService) -> None:
    service.faults.fail("generate", status=200)
    assert api.generate().json()["message"] == "Simulated failure (sandbox fault)."
    service.faults.fail("generate", status=429, retry_after=7)
    response = api.generate()
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"message": "Too Many Requests"}
    service.faults.fail("generate", status=418)
    assert api.generate().json() == {"message": "I'm a Teapot"}


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "AccessDenied"), (500, "InternalError"), (503, "SlowDown"), (409, "ServiceError")],
)
def test_fail_on_download_is_s3_xml(
    api: Api, service: SandboxService, status: int, code: str
) -> None:
    url = api.generate().json()["url"]
    service.faults.fail("download", status=status, retry_after=1)
    response = api.http.get(url)
    assert response.status_code == status
    assert f"<Code>{code}</Code>" in response.text
    assert response.headers["retry-after"] == "1"
    assert api.http.get(url).status_code == 200


def test_expired_url_fault(api: Api, service: SandboxService, clock: FakeClock) -> None:
    service.faults.expire_url()
    body = api.generate().json()
    assert parse_qs(urlsplit(body["url"]).query)["Expires"] == [str(int(clock()) - 1)]
    assert api.http.get(body["url"]).status_code == 403
    fresh = api.generate().json()
    assert api.http.get(fresh["url"]).status_code == 200


def test_disconnect_mid_body_raises_read_error(api: Api, service: SandboxService) -> None:
    url = api.generate().json()["url"]
    service.faults.disconnect("download", after_bytes=100)
    received = bytearray()

    def read_all(response: httpx.Response) -> None:
        for chunk in response.iter_bytes():
            received.extend(chunk)

    with api.http.stream("GET", url) as response:
        assert int(response.headers["content-length"]) > 100
        with pytest.raises(httpx.ReadError):
            read_all(response)
    assert len(received) == 100
    assert api.http.get(url).status_code == 200


def test_disconnect_on_an_api_endpoint(api: Api, service: SandboxService) -> None:
    service.faults.disconnect("generate", after_bytes=5)
    with pytest.raises(httpx.ReadError):
        api.generate()
    assert len(service.downloads) == 1  # the service did its work; the answer was lost


def test_truncated_body_ends_short_of_content_length(api: Api, service: SandboxService) -> None:
    url = api.generate().json()["url"]
    service.faults.truncate("download", after_bytes=50)
    response = api.http.get(url)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 50
    assert len(response.content) == 50


def test_refuse_raises_connect_error(api: Api, service: SandboxService) -> None:
    service.faults.refuse("login", times=1)
    with pytest.raises(httpx.ConnectError):
        api.login()
    assert service.calls("login")[-1].status is None
    assert api.login().status_code == 200


def test_timeout_raises_read_timeout(api: Api, service: SandboxService) -> None:
    service.faults.timeout("generate")
    with pytest.raises(httpx.ReadTimeout):
        api.generate()
    assert service.downloads == []
    service.faults.timeout("generate", processed=True)
    with pytest.raises(httpx.ReadTimeout):
        api.generate()
    assert len(service.downloads) == 1


def test_delay_sleeps_through_the_injected_sleep(
    api: Api, service: SandboxService, clock: FakeClock
) -> None:
    before = clock()
    service.faults.delay("generate", 30.0, times=2)
    assert api.generate().status_code == 200
    assert clock() == before + 30.0
    api.generate()
    api.generate()
    assert clock() == before + 60.0


def test_token_expiry_after_k_calls(api: Api, service: SandboxService) -> None:
    service.faults.expire_token_after(2)
    assert api.generate().status_code == 200
    assert api.generate().status_code == 200
    response = api.generate()
    assert response.status_code == 401
    assert response.json() == {"message": "The incoming token has expired"}
    api.login()
    assert api.generate().status_code == 200
    service.faults.expire_token_after(None)
    for _ in range(3):
        assert api.generate().status_code == 200


def test_fault_arguments_are_checked(service: SandboxService) -> None:
    faults = service.faults
    with pytest.raises(ValueError, match="unknown endpoint"):
        faults.fail("files")
    with pytest.raises(ValueError, match="times"):
        faults.fail("login", times=0)
    with pytest.raises(ValueError, match="status"):
        faults.fail("login", status=99)
    with pytest.raises(ValueError, match="seconds"):
        faults.delay("login", -1)
    with pytest.raises(ValueError, match="calls"):
        faults.expire_token_after(-1)
    assert faults.fail("webServiceDownloaded").endpoint == "record"
    assert faults.fail("fileGeneration").endpoint == "generate"
    assert faults.refuse("storage").endpoint == "download"
    assert len(faults.armed) == 3
    faults.clear()
    assert faults.armed == []
