"""The API host through raw httpx: login, tokens, generating and recording downloads, its
refusals in API Gateway's shapes (no apscores client involved)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    FakeClock,
    SandboxService,
    fake_reports,
)
from sandbox._raw_api import AUTHN, AUTHZ, JSON_HEADERS, Api, b64

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
