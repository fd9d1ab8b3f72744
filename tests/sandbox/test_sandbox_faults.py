"""Fault injection in process: each kind of fault, what it does to the answer, how it is
counted and checked; faults kept to one thread or task (``Faults.isolated``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    FakeClock,
    Fault,
    FaultKind,
    SandboxService,
)
from sandbox._raw_api import AUTHN, AUTHZ, JSON_HEADERS, Api, b64

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


# -- faults kept to one thread or asyncio task -----------------------------------------------


def _generate(service: SandboxService) -> int:
    with httpx.Client(transport=service.transport()) as http:
        caller = Api(service, http)
        assert caller.login().status_code == 200
        return caller.generate().status_code


def test_isolated_faults_fire_only_in_the_thread_that_armed_them() -> None:
    service = SandboxService.default(reports=2)
    armed = threading.Event()
    other_done = threading.Event()
    seen: dict[str, int] = {}

    def arming() -> None:
        with service.faults.isolated() as faults:
            faults.fail("generate", status=503, times=None)
            armed.set()
            assert other_done.wait(10)  # the other thread called while the fault was armed
            seen["arming"] = _generate(service)

    def other() -> None:
        assert armed.wait(10)
        seen["other"] = _generate(service)
        other_done.set()

    threads = [threading.Thread(target=arming), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen == {"arming": 503, "other": 200}
    assert service.faults.armed == []  # disarmed when the block ended


@pytest.mark.anyio
async def test_isolated_faults_fire_only_in_the_task_that_armed_them() -> None:
    service = SandboxService.default(reports=2)
    armed = asyncio.Event()
    other_done = asyncio.Event()

    async def generate() -> int:
        async with httpx.AsyncClient(transport=service.transport()) as http:
            headers = {**JSON_HEADERS, AUTHN: "CBLogin Web Service", AUTHZ: "CBLogin"}
            login = await http.post(
                f"{service.api_base_url}/webServiceAuth",
                json={"u": DEFAULT_EMAIL, "p": b64(DEFAULT_PASSWORD)},
                headers=headers,
            )
            headers[AUTHZ] = login.json()["authToken"]
            answer = await http.post(
                f"{service.api_base_url}/fileGeneration",
                json={"diCode": "1234", "format": "TXT", "downloadType": "full"},
                headers=headers,
            )
            return answer.status_code

    async def arming() -> int:
        with service.faults.isolated():
            service.faults.refuse("generate", times=None)
            armed.set()
            await other_done.wait()
            with pytest.raises(httpx.ConnectError):
                await generate()
            return len(service.faults.armed)

    async def other() -> int:
        await armed.wait()
        status = await generate()
        other_done.set()
        return status

    still_armed, status = await asyncio.gather(arming(), other())
    assert (still_armed, status) == (1, 200)
    assert service.faults.armed == []


def test_faults_armed_outside_a_block_fire_everywhere(service: SandboxService) -> None:
    service.faults.fail("generate", status=503)
    with service.faults.isolated():
        service.faults.fail("generate", status=502)
        listed = [spec["status"] for spec in service.faults.to_dict()["armed"]]
        assert listed == [503, 502]
    assert [fault.status for fault in service.faults.armed] == [503]
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_generate, service).result() == 503


def test_a_fault_made_by_hand_lists_under_its_method() -> None:
    assert Fault(FaultKind.EXPIRED_URL, "generate", 1).to_dict() == {
        "kind": "expire_url", "times": 1,
    }  # fmt: skip
    assert Fault(FaultKind.REFUSE, "login", None).to_dict() == {
        "kind": "refuse", "endpoint": "login", "times": None,
    }  # fmt: skip


def test_an_isolated_token_limit_holds_only_for_its_thread() -> None:
    service = SandboxService.default(reports=2)
    service.faults.expire_token_after(5)
    with service.faults.isolated():
        service.faults.expire_token_after(0)
        assert service.faults.token_call_limit == 0
        assert _generate(service) == 401  # this thread's token dies at once
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(_generate, service).result() == 200
            assert pool.submit(lambda: service.faults.token_call_limit).result() == 5
        assert service.faults.to_dict()["armed"] == [{"kind": "expire_token_after", "calls": 5}]
    assert service.faults.token_call_limit == 5
    service.faults.clear()
    assert service.faults.token_call_limit is None
