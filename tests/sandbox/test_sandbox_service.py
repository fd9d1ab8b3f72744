"""The sandbox service through raw httpx and its in-process transport (no client involved)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    NO_SCORE_ORDERS,
    SANDBOX_BASE_URL,
    FakeClock,
    SandboxRequest,
    SandboxService,
    fake_reports,
    transport,
)

AUTHZ = "X-CB-Catapult-Authorization-Token"
AUTHN = "X-CB-Catapult-Authentication-Token"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Api:
    """A hand-rolled caller that sends exactly what the reference describes."""

    def __init__(self, service: SandboxService, http: httpx.Client) -> None:
        self.service = service
        self.http = http
        self.token = ""

    def url(self, endpoint: str) -> str:
        return f"{self.service.api_base_url}/{endpoint}"

    def post(
        self, endpoint: str, payload: Any, *, token: str | None = None, **headers: str
    ) -> httpx.Response:
        sent = {**JSON_HEADERS, AUTHZ: token if token is not None else self.token}
        sent[AUTHN] = "CBLogin Web Service"
        sent.update(headers)
        sent = {name: value for name, value in sent.items() if value != "-"}
        return self.http.post(self.url(endpoint), content=json.dumps(payload), headers=sent)

    def login(self, email: str = DEFAULT_EMAIL, password: str = DEFAULT_PASSWORD) -> httpx.Response:
        response = self.post("webServiceAuth", {"u": email, "p": b64(password)}, token="CBLogin")
        if response.status_code == 200 and response.json()["success"]:
            self.token = response.json()["authToken"]
        return response

    def generate(self, di: str = "1234", fmt: str = "TXT", kind: str = "new") -> httpx.Response:
        return self.post("fileGeneration", {"diCode": di, "format": fmt, "downloadType": kind})

    def record(self, download_id: Any, fmt: str = "TXT") -> httpx.Response:
        return self.post("webServiceDownloaded", {"downloadId": download_id, "format": fmt})

    def cycle(self, kind: str = "new", fmt: str = "TXT") -> dict[str, Any]:
        """Generate, GET and record; returns the generate answer."""
        answer: dict[str, Any] = self.generate(kind=kind, fmt=fmt).json()
        assert answer["success"], answer
        assert self.http.get(answer["url"]).status_code == 200
        assert self.record(answer["downloadId"], fmt).json()["success"]
        return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_752_572_400.0)  # 2025-07-15 09:40 UTC


@pytest.fixture
def service(clock: FakeClock) -> SandboxService:
    return SandboxService.default(clock=clock, reports=5)


@pytest.fixture
def http(service: SandboxService, clock: FakeClock) -> Iterator[httpx.Client]:
    with httpx.Client(transport=service.transport(sleep=clock.advance)) as client:
        yield client


@pytest.fixture
def api(service: SandboxService, http: httpx.Client) -> Api:
    caller = Api(service, http)
    assert caller.login().status_code == 200
    return caller


# -- login ------------------------------------------------------------------------------


def test_login_succeeds_with_base64_password(service: SandboxService, http: httpx.Client) -> None:
    response = Api(service, http).login()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Successfully authenticated."
    assert body["authToken"].startswith("sbx_")
    logged = service.calls("login")[0]
    assert logged.json() == {"u": DEFAULT_EMAIL, "p": b64(DEFAULT_PASSWORD)}
    assert logged.status == 200


@pytest.mark.parametrize(
    ("email", "p"),
    [
        (DEFAULT_EMAIL, b64("wrong")),
        (DEFAULT_EMAIL, DEFAULT_PASSWORD),  # sent in clear instead of base64
        (DEFAULT_EMAIL, "%%%not-base64"),
        ("nobody@example.edu", b64(DEFAULT_PASSWORD)),
    ],
)
def test_bad_credentials_are_http_200_success_false(api: Api, email: str, p: str) -> None:
    response = api.post("webServiceAuth", {"u": email, "p": p}, token="CBLogin")
    assert response.status_code == 200
    assert response.json() == {"success": False, "message": "Invalid email or password."}


def test_email_is_case_insensitive(api: Api) -> None:
    assert api.login(DEFAULT_EMAIL.upper()).json()["success"] is True


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({AUTHZ: "Bearer CBLogin"}, 401),
        ({AUTHZ: "-"}, 401),
        ({AUTHN: "CBLogin"}, 401),
        ({AUTHN: "-"}, 401),
    ],
)
def test_login_checks_headers(api: Api, headers: dict[str, str], status: int) -> None:
    payload = {"u": DEFAULT_EMAIL, "p": b64(DEFAULT_PASSWORD)}
    response = api.post("webServiceAuth", payload, token="CBLogin", **headers)
    assert response.status_code == status
    assert "message" in response.json()


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Content-Type": "text/plain"}, 415, "content_type_not_json"),
        ({"Content-Type": "-"}, 415, "content_type_not_json"),
        ({"Accept": "text/html"}, 406, "accept_not_json"),
    ],
)
def test_media_types_are_recorded_by_default_and_refused_when_strict(
    api: Api, service: SandboxService, headers: dict[str, str], status: int, code: str
) -> None:
    payload = {"u": DEFAULT_EMAIL, "p": b64(DEFAULT_PASSWORD)}
    response = api.post("webServiceAuth", payload, token="CBLogin", **headers)
    assert response.json()["success"] is True
    assert [remark.code for _, remark in service.remarks] == [code]
    service.strict = True
    refused = api.post("webServiceAuth", payload, token="CBLogin", **headers)
    assert refused.status_code == status
    assert "(strict sandbox): send " in refused.json()["message"]


def test_login_accepts_json_content_type_with_charset(api: Api) -> None:
    payload = {"u": DEFAULT_EMAIL, "p": b64(DEFAULT_PASSWORD)}
    headers = {"Content-Type": "application/json; charset=utf-8"}
    response = api.post("webServiceAuth", payload, token="CBLogin", **headers)
    assert response.json()["success"] is True


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"u": "a@b.c"}', "missing field(s): p"),
        (b'{"username": "a", "u": "a", "p": "cA=="}', "unexpected field(s): username"),
        (b'{"u": 1, "p": 2}', "must be strings"),
    ],
)
def test_login_rejects_malformed_bodies(api: Api, body: bytes, fragment: str) -> None:
    headers = {**JSON_HEADERS, AUTHZ: "CBLogin", AUTHN: "CBLogin Web Service"}
    response = api.http.post(api.url("webServiceAuth"), content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert fragment in response.json()["message"]


def test_unknown_route_and_method_look_like_api_gateway(api: Api) -> None:
    for response in (
        api.post("listFiles", {}),
        api.http.get(api.url("fileGeneration")),
        api.http.post("https://api.sandbox.apscores.invalid/other-stage/webServiceAuth"),
    ):
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}


def test_unknown_host_fails_to_connect(http: httpx.Client) -> None:
    with pytest.raises(httpx.ConnectError):
        http.get("https://aposrd-api-gw.collegeboard.org/aposrd-api-prod/webServiceAuth")


# -- tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "sbx_forged", "CBLogin"])
def test_later_calls_need_a_real_token(api: Api, token: str) -> None:
    response = api.post("fileGeneration", {"diCode": "1234"}, token=token)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_later_calls_need_the_authentication_literal(api: Api) -> None:
    assert api.generate().status_code == 200
    response = api.post(
        "fileGeneration",
        {"diCode": "1234", "format": "TXT", "downloadType": "new"},
        **{AUTHN: "-"},
    )
    assert response.status_code == 401


def test_token_expires_with_the_clock(api: Api, clock: FakeClock) -> None:
    clock.advance(3600)
    response = api.generate()
    assert response.status_code == 401
    assert response.json() == {"message": "The incoming token has expired"}
    api.login()
    assert api.generate().json()["success"] is True


def test_revoke_tokens(api: Api, service: SandboxService) -> None:
    service.revoke_tokens()
    assert api.generate().status_code == 401


def test_token_ttl_none_never_expires(clock: FakeClock) -> None:
    service = SandboxService.default(clock=clock, reports=1, token_ttl=None)
    with httpx.Client(transport=service.transport()) as http:
        api = Api(service, http)
        api.login()
        clock.advance(10**8)
        assert api.generate().status_code == 200


# -- generate, download, record: the happy path ------------------------------------------


def test_generate_answers_url_file_name_and_numeric_id(api: Api, service: SandboxService) -> None:
    body = api.generate().json()
    assert body["success"] is True
    assert body["fileName"] == "AP_HED_Scores_1234_07152025_0940.txt"
    assert body["downloadId"] == 700001
    url = urlsplit(body["url"])
    assert url.scheme == "https"
    assert url.netloc == "storage.sandbox.apscores.invalid"
    assert url.path.endswith("/1234/700001/AP_HED_Scores_1234_07152025_0940.txt")
    query = parse_qs(url.query)
    assert query["Expires"] == [str(1_752_572_400 + 60)]
    assert query["Signature"][0]
    assert query["AWSAccessKeyId"][0]
    download = service.download(700001)
    assert (download.email, download.di_code, download.format, download.kind) == (
        DEFAULT_EMAIL,
        "1234",
        "TXT",
        "new",
    )
    assert len(download.reports) == 5
    assert not download.recorded
    assert "Signature" not in repr(download)


def test_download_serves_the_file_with_s3_headers(api: Api, service: SandboxService) -> None:
    body = api.generate().json()
    response = api.http.get(body["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["etag"].startswith('"')
    assert body["fileName"] in response.headers["content-disposition"]
    assert response.content == service.file_bytes(body["downloadId"])
    assert response.content.count(b"\n") == 5
    assert service.download(body["downloadId"]).fetches == 1


def test_head_on_the_download_url(api: Api) -> None:
    url = api.generate().json()["url"]
    response = api.http.head(url)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


def test_csv_format(api: Api, service: SandboxService) -> None:
    rendered: list[tuple[int, str]] = []

    def renderer(reports: Any, file_format: str) -> bytes:
        rendered.append((len(reports), file_format))
        return b"header\n" + b"row\n" * len(reports)

    service.renderer = renderer
    body = api.generate(fmt="CSV").json()
    assert body["fileName"].endswith(".csv")
    response = api.http.get(body["url"])
    assert response.headers["content-type"] == "text/csv"
    assert response.content == b"header\n" + b"row\n" * 5
    api.http.get(body["url"])
    assert rendered == [(5, "CSV")]  # rendered once, then kept
    assert api.record(body["downloadId"], "CSV").json()["success"] is True


def test_record_marks_the_download(api: Api, service: SandboxService, clock: FakeClock) -> None:
    body = api.generate().json()
    clock.advance(5)
    response = api.record(body["downloadId"])
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Download recorded successfully."}
    assert service.recorded_ids == [700001]
    assert service.download(700001).recorded_at == clock()


def test_record_accepts_the_id_as_a_string(api: Api, service: SandboxService) -> None:
    body = api.generate().json()
    assert api.record(str(body["downloadId"])).json()["success"] is True
    assert service.recorded_ids == [700001]


def test_string_download_ids(clock: FakeClock) -> None:
    service = SandboxService.default(clock=clock, reports=1, string_download_ids=True)
    with httpx.Client(transport=service.transport()) as http:
        api = Api(service, http)
        api.login()
        body = api.generate().json()
        assert body["downloadId"] == "700001"
        assert api.record("700001").json()["success"] is True


def test_record_twice_is_idempotent(api: Api, service: SandboxService) -> None:
    download_id = api.generate().json()["downloadId"]
    api.record(download_id)
    again = api.record(download_id).json()
    assert again == {"success": True, "message": "Download already recorded."}
    assert service.recorded_ids == [download_id]
    assert service.download(download_id).record_calls == 2


def test_record_errors(api: Api, service: SandboxService) -> None:
    download_id = api.generate().json()["downloadId"]
    unknown = api.record(123).json()
    assert unknown == {"success": False, "message": "Download id 123 was not found."}
    wrong_format = api.record(download_id, "CSV").json()
    assert wrong_format["success"] is False
    assert "does not match" in wrong_format["message"]
    for bad in (None, True, 1.5, [1]):
        response = api.record(bad)
        assert response.status_code == 400
        assert response.json()["success"] is False
    assert api.post("webServiceDownloaded", {"downloadId": download_id}).status_code == 400
    assert service.recorded_ids == []


def test_another_account_cannot_record_my_download(api: Api, service: SandboxService) -> None:
    service.add_account("other@example.edu", "pw", di_codes=["1234"])
    download_id = api.generate().json()["downloadId"]
    other = Api(service, api.http)
    other.login("other@example.edu", "pw")
    assert other.record(download_id).json()["success"] is False


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"diCode": 1234, "format": "TXT", "downloadType": "new"}, "diCode"),
        ({"diCode": "123", "format": "TXT", "downloadType": "new"}, "diCode"),
        ({"diCode": "1234", "format": "txt", "downloadType": "new"}, "format"),
        ({"diCode": "1234", "format": "TXT", "downloadType": "NEW"}, "downloadType"),
        ({"diCode": "1234", "format": "TXT"}, "missing field(s): downloadType"),
        ({"diCode": "1234", "fileFormat": "TXT", "downloadType": "new"}, "unexpected"),
    ],
)
def test_generate_checks_field_names_and_values(
    api: Api, payload: dict[str, Any], fragment: str
) -> None:
    response = api.post("fileGeneration", payload)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert fragment in response.json()["message"]


def test_generate_for_a_di_code_the_account_cannot_use(api: Api, service: SandboxService) -> None:
    service.add_reports("5678", fake_reports(2, di_code="5678"))
    body = api.generate(di="5678").json()
    assert body == {"success": False, "message": "User is not authorized for DI code 5678."}
    service.grant(DEFAULT_EMAIL, "5678")
    assert api.generate(di="5678").json()["success"] is True


# -- new versus full ----------------------------------------------------------------------


def test_new_is_empty_after_a_recorded_download(api: Api) -> None:
    api.cycle()
    response = api.generate()
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert NO_SCORE_ORDERS in body["message"]


def test_watermark_moves_only_when_recorded(api: Api, service: SandboxService) -> None:
    first = api.generate().json()
    api.http.get(first["url"])
    second = api.generate().json()  # not recorded: the same orders again
    assert second["downloadId"] != first["downloadId"]
    assert (
        service.download(second["downloadId"]).reports
        == service.download(first["downloadId"]).reports
    )
    api.record(second["downloadId"])
    assert NO_SCORE_ORDERS in api.generate().json()["message"]


def test_orders_arriving_before_the_record_are_not_lost(api: Api, service: SandboxService) -> None:
    body = api.generate().json()
    late = fake_reports(2, seed=99)
    service.add_reports("1234", late)
    api.record(body["downloadId"])
    assert service.pending() == late
    after = api.generate().json()
    assert service.download(after["downloadId"]).reports == late


def test_full_returns_the_reporting_year_even_after_new(
    api: Api, service: SandboxService, clock: FakeClock
) -> None:
    service.add_reports("1234", fake_reports(3, seed=5), received_at=clock() - 30 * 86400)
    assert service.reporting_year_start().isoformat() == "2025-07-01T00:00:00+00:00"
    api.cycle()
    full = api.generate(kind="full").json()
    assert full["success"] is True
    assert len(service.download(full["downloadId"]).reports) == 5  # June orders left out


def test_full_record_moves_the_watermark_by_default(api: Api) -> None:
    api.cycle(kind="full")
    assert NO_SCORE_ORDERS in api.generate().json()["message"]


def test_full_record_can_leave_the_watermark(clock: FakeClock) -> None:
    service = SandboxService.default(clock=clock, reports=2, record_full_moves_watermark=False)
    with httpx.Client(transport=service.transport()) as http:
        api = Api(service, http)
        api.login()
        api.cycle(kind="full")
        assert api.generate().json()["success"] is True


def test_full_with_nothing_in_the_reporting_year(api: Api, clock: FakeClock) -> None:
    clock.advance(365 * 86400)  # next reporting year: the queued orders are last year's
    api.login()
    body = api.generate(kind="full").json()
    assert body["success"] is False
    assert NO_SCORE_ORDERS in body["message"]
    assert api.generate(kind="new").json()["success"] is True  # never delivered: still new


def test_reporting_year_before_july(clock: FakeClock) -> None:
    clock.set(1_740_000_000.0)  # February 2025
    service = SandboxService(clock=clock)
    assert service.reporting_year_start().year == 2024


def test_watermarks_are_per_account(api: Api, service: SandboxService) -> None:
    service.add_account("second@example.edu", "pw2", di_codes=["1234"])
    api.cycle()
    other = Api(service, api.http)
    other.login("second@example.edu", "pw2")
    assert other.generate().json()["success"] is True
    assert service.pending(email="second@example.edu") != []
    assert service.pending() == []


def test_watermarks_are_per_di_code(clock: FakeClock) -> None:
    service = SandboxService.default(clock=clock, reports=2, di_codes=["1234", "5678"])
    with httpx.Client(transport=service.transport()) as http:
        api = Api(service, http)
        api.login()
        api.cycle()
        assert api.generate(di="5678").json()["success"] is True
        assert service.download(700002).reports == fake_reports(2, seed=1, di_code="5678")


# -- the storage host ----------------------------------------------------------------------


def test_expired_url_is_403_with_s3_xml(api: Api, clock: FakeClock) -> None:
    url = api.generate().json()["url"]
    clock.advance(61)
    response = api.http.get(url)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/xml"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<Code>AccessDenied</Code>" in response.text
    assert "<Message>Request has expired</Message>" in response.text
    assert "<Expires>2025-07-15T09:41:00Z</Expires>" in response.text


def test_url_is_still_good_until_it_expires(api: Api, clock: FakeClock) -> None:
    url = api.generate().json()["url"]
    clock.advance(60)
    assert api.http.get(url).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        {AUTHZ: "anything"},
        {AUTHN: "CBLogin Web Service"},
        {"Cookie": "session=s3cr3t"},
    ],
)
def test_storage_records_credential_headers_and_strict_refuses_them(
    api: Api, service: SandboxService, header: dict[str, str]
) -> None:
    url = api.generate().json()["url"]
    assert api.http.get(url, headers=header).status_code == 200  # as the real host does
    assert len(service.remarks) == 1
    service.strict = True
    response = api.http.get(url, headers=header)
    assert response.status_code == 400
    assert "<Code>InvalidArgument</Code>" in response.text
    assert next(iter(header)).lower() in response.text  # names the header...
    assert next(iter(header.values())) not in response.text  # ...never its value


def test_storage_refuses_an_authorization_header_next_to_the_signed_query(api: Api) -> None:
    url = api.generate().json()["url"]
    response = api.http.get(url, headers={"Authorization": "Bearer x"})
    assert response.status_code == 400
    assert "<Code>InvalidArgument</Code>" in response.text
    assert "Only one auth mechanism allowed" in response.text
    assert "Bearer x" not in response.text


def test_storage_checks_the_signature(api: Api) -> None:
    url = api.generate().json()["url"]
    tampered = url.replace("Expires=", "Expires=9")
    assert "<Code>SignatureDoesNotMatch</Code>" in api.http.get(tampered).text
    bare = url.split("?")[0]
    response = api.http.get(bare)
    assert response.status_code == 403
    assert "requires the Signature" in response.text
    other_file = url.replace(".txt?", ".csv?")
    assert api.http.get(other_file).status_code == 403


def test_storage_unknown_key_and_method(api: Api, service: SandboxService) -> None:
    service._downloads.clear()  # a signed URL for a file that is gone
    url = api.generate().json()["url"]
    service._downloads.clear()
    response = api.http.get(url)
    assert response.status_code == 404
    assert "<Code>NoSuchKey</Code>" in response.text
    assert api.http.put(url, content=b"x").status_code == 405


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
