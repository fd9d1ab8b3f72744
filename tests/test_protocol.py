"""The sans-I/O core: requests built and responses read without any network."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from apscores import _protocol as proto
from apscores.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    DownloadError,
    DownloadURLExpired,
    RecordError,
)
from apscores.filecheck import FileCheck

BASE = "https://api.example.test/stage"


def settings(**overrides: object) -> proto.Settings:
    options: dict[str, object] = {
        "email": "a@example.edu",
        "password": "pw",
        "base_url": BASE,
        "timeout": 10.0,
        "max_retries": 3,
        "retry_base_delay": 1.0,
        "retry_max_delay": 8.0,
        "environ": {},
    }
    options.update(overrides)
    return proto.resolve_settings(**options)  # type: ignore[arg-type]


def reply(status: int = 200, **kwargs: object) -> httpx.Response:
    request = httpx.Request("POST", f"{BASE}/x")
    return httpx.Response(status, request=request, **kwargs)  # type: ignore[arg-type]


# --- options ------------------------------------------------------------------------------


def test_resolve_settings_env_and_checks() -> None:
    env = {
        "APSCORES_EMAIL": "e@x.edu",
        "APSCORES_PASSWORD": "p",
        "APSCORES_BASE_URL": "http://h/s/",
    }
    s = proto.resolve_settings(
        email=None,
        password=None,
        base_url=None,
        timeout=1,
        max_retries=0,
        retry_base_delay=0,
        retry_max_delay=0,
        environ=env,
    )
    assert (s.email, s.password.reveal(), s.base_url) == ("e@x.edu", "p", "http://h/s")
    with pytest.raises(ConfigurationError, match="http"):
        settings(base_url="ftp://host/x")
    with pytest.raises(ConfigurationError, match="timeout"):
        settings(timeout=0)
    with pytest.raises(ConfigurationError, match=">= 0"):
        settings(max_retries=-1)
    with pytest.raises(ConfigurationError, match="APSCORES_EMAIL"):
        settings(email="")


def test_checks() -> None:
    assert proto.check_di_code(" 0123 ") == "0123"
    assert proto.check_di_code(1234) == "1234"
    for bad in (True, "１２３４", "12 34", ""):
        with pytest.raises(ConfigurationError):
            proto.check_di_code(bad)
    assert proto.check_format("CSV") == "csv"
    assert proto.check_format("Txt") == "txt"
    assert proto.check_kind("FULL") == "full"
    assert proto.check_kind("new") == "new"


def test_secret_hides_itself() -> None:
    secret = proto.Secret("hunter2")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}"
    assert secret == proto.Secret("hunter2")
    assert secret != "hunter2"
    assert hash(secret) == hash(proto.Secret("hunter2"))


# --- requests -----------------------------------------------------------------------------


def test_login_request() -> None:
    request = proto.build_login_request(settings(password="correct-horse-battery"))
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/webServiceAuth"
    assert json.loads(request.content) == {
        "u": "a@example.edu",
        "p": "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5",
    }
    assert request.headers["X-CB-Catapult-Authorization-Token"] == "CBLogin"
    assert request.headers["X-CB-Catapult-Authentication-Token"] == "CBLogin Web Service"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert proto.encode_password("pässword") == "cMOkc3N3b3Jk"


def test_generate_and_record_requests() -> None:
    token = proto.Secret("tok")
    request = proto.build_generate_request(settings(), token, "0042", "csv", "full")
    assert str(request.url) == f"{BASE}/fileGeneration"
    assert json.loads(request.content) == {
        "diCode": "0042",
        "format": "CSV",
        "downloadType": "full",
    }
    assert request.headers["X-CB-Catapult-Authorization-Token"] == "tok"
    assert "authorization" not in request.headers
    generated = proto.GeneratedFile("https://s/x", "x.csv", 12, "csv", "full")
    record = proto.build_record_request(settings(), token, generated)
    assert json.loads(record.content) == {"downloadId": 12, "format": "CSV"}


def test_download_request_is_bare() -> None:
    request = proto.build_download_request("https://s.example/x?Signature=abc")
    assert not any(name.lower().startswith("x-cb") for name in request.headers)
    assert request.headers["accept-encoding"] == "identity"
    proto.apply_timeout(request, 5)
    assert request.extensions["timeout"]["read"] == 5


def test_generated_file_repr_hides_url() -> None:
    generated = proto.GeneratedFile("https://s/x?Signature=SECRET", "x.txt", "7", "txt", "new")
    assert "SECRET" not in repr(generated)
    assert "x.txt" in repr(generated)


# --- responses ------------------------------------------------------------------------------


def test_parse_login() -> None:
    token = proto.parse_login_response(reply(json={"success": True, "authToken": "t"}))
    assert token.reveal() == "t"
    with pytest.raises(AuthenticationError) as info:
        proto.parse_login_response(reply(json={"success": False}))
    assert "no message" in str(info.value)
    assert "terms of use" in str(info.value)
    with pytest.raises(AuthenticationError, match="HTTP 403"):
        proto.parse_login_response(reply(403, text="<html>"))
    with pytest.raises(APIStatusError) as status:
        proto.parse_login_response(reply(500, text="oops"))
    assert status.value.status_code == 500
    with pytest.raises(APIError, match="JSON"):
        proto.parse_login_response(reply(text="<html>"))
    with pytest.raises(APIError, match="no authToken"):
        proto.parse_login_response(reply(json={"success": True, "authToken": ""}))


def test_parse_generate() -> None:
    ok = {"success": True, "url": "https://s/f", "fileName": " f.txt ", "downloadId": "9"}
    generated = proto.parse_generate_response(
        reply(json=ok), di_code="1234", format="txt", kind="new"
    )
    assert generated == proto.GeneratedFile("https://s/f", "f.txt", "9", "txt", "new")

    nameless = {"success": True, "url": "https://s/f", "downloadId": 9}
    generated = proto.parse_generate_response(
        reply(json=nameless), di_code="1234", format="csv", kind="full"
    )
    assert generated is not None
    assert generated.file_name == "apscores_9.csv"

    none = {"success": False, "message": "There were no score orders found"}
    assert (
        proto.parse_generate_response(reply(json=none), di_code="1", format="txt", kind="new")
        is None
    )

    cases: list[tuple[object, type[Exception], str]] = [
        ({"success": True, "downloadId": 1}, APIError, "no url"),
        ({"success": True, "url": "u", "downloadId": True}, APIError, "downloadId"),
        ({"success": True, "url": "u"}, APIError, "downloadId"),
        ({"success": "true", "message": "session expired"}, AuthenticationError, "session expired"),
        ({"success": False}, APIError, "no message"),
        ({"success": False, "message": 42}, APIError, "42"),
        ([1, 2], APIError, "JSON object"),
    ]
    for body, error, text in cases:
        with pytest.raises(error, match=text):
            proto.parse_generate_response(reply(json=body), di_code="1", format="txt", kind="new")
    with pytest.raises(proto.TokenRejectedError):
        proto.parse_generate_response(reply(401), di_code="1", format="txt", kind="new")
    with pytest.raises(APIStatusError) as info:
        proto.parse_generate_response(
            reply(502, json={"message": "Bad gateway"}), di_code="1", format="txt", kind="new"
        )
    assert "Bad gateway" in str(info.value)


def test_parse_record() -> None:
    proto.parse_record_response(reply(json={"success": True}))
    with pytest.raises(APIError, match="no message"):
        proto.parse_record_response(reply(json={"success": False}))
    with pytest.raises(proto.TokenRejectedError, match="refused the token"):
        proto.parse_record_response(reply(403))


def test_matchers() -> None:
    assert proto.is_no_score_orders("Sorry: There Were No Score Orders Found.")
    assert not proto.is_no_score_orders("no orders")
    assert proto.looks_like_token_problem("Token is invalid")
    assert proto.looks_like_token_problem("User not authorized")
    assert not proto.looks_like_token_problem("There were no score orders found")
    assert not proto.looks_like_token_problem("Internal error")


# --- retries ------------------------------------------------------------------------------


def test_translate_error() -> None:
    assert type(proto.translate_error(httpx.ConnectTimeout("x"), "e")) is APITimeoutError
    error = proto.translate_error(httpx.ConnectError("x"), "e")
    assert type(error) is APIConnectionError
    assert str(error) == "e: connection failed (ConnectError)"
    failure = proto.classify_exception(httpx.DecodingError("x"), "e")
    assert not failure.retryable
    assert proto.classify_exception(httpx.RemoteProtocolError("x"), "e").retryable


def test_retryable_statuses() -> None:
    for status in (429, 500, 502, 503, 504):
        assert proto.is_retryable_status(proto.LOGIN, status)
        assert proto.is_retryable_status(proto.RECORD, status)
        assert proto.is_retryable_status(proto.DOWNLOAD, status)
    assert not proto.is_retryable_status(proto.GENERATE, 500)
    for status in (429, 502, 503, 504):
        assert proto.is_retryable_status(proto.GENERATE, status)
    for status in (400, 401, 403, 404, 501):
        assert not proto.is_retryable_status(proto.LOGIN, status)
    assert proto.classify_response(reply(200), proto.LOGIN, 0) is None
    failure = proto.classify_response(reply(503, headers={"Retry-After": "3"}), proto.LOGIN, 0)
    assert failure is not None
    assert failure.retryable
    assert failure.retry_after == 3.0
    assert isinstance(failure.error, APIStatusError)


def test_parse_retry_after() -> None:
    now = datetime(2025, 7, 15, 9, 30, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert proto.parse_retry_after(later, now.timestamp()) == 90
    assert proto.parse_retry_after("Tue, 15 Jul 2025 09:31:00", now.timestamp()) == 60
    assert proto.parse_retry_after(" 2.5 ", 0) == 2.5
    assert proto.parse_retry_after("-3", 0) == 0
    assert proto.parse_retry_after("soon", 0) is None
    assert proto.parse_retry_after(None, 0) is None


def test_backoff() -> None:
    backoff = proto.Backoff(settings(max_retries=5), rng=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, None]
    low = proto.Backoff(settings(), rng=lambda: 0.0)
    assert low.next_delay() == 0.5
    assert low.next_delay(retry_after=6) == 6
    assert low.next_delay(retry_after=9) is None
    assert low.attempt == 2
    zero = proto.Backoff(settings(retry_base_delay=0, max_retries=1))
    assert zero.next_delay() == 0
    assert zero.next_delay() is None


# --- downloads ----------------------------------------------------------------------------


def test_url_expiry() -> None:
    assert proto.url_expires_at("https://s/f?Expires=1752572400&Signature=x") == 1752572400
    amz = "https://s/f?X-Amz-Date=20250715T093000Z&X-Amz-Expires=15&X-Amz-Signature=x"
    start = datetime(2025, 7, 15, 9, 30, tzinfo=timezone.utc).timestamp()
    assert proto.url_expires_at(amz) == start + 15
    assert proto.url_expires_at("https://s/f") is None
    assert proto.url_expires_at("https://s/f?Expires=soon") is None
    assert proto.url_expires_at("https://\x00/") is None
    assert proto.is_url_expired("https://s/f?Expires=100", now=98.5)
    assert not proto.is_url_expired("https://s/f?Expires=100", now=97.5)
    assert not proto.is_url_expired("https://s/f", now=1e12)


def test_classify_download_status() -> None:
    failure = proto.classify_download_status(reply(403), body=b"", now=0)
    assert isinstance(failure.error, DownloadURLExpired)
    assert not failure.retryable
    xml = b"<Error><Code>ExpiredToken</Code><Signature>S</Signature></Error>"
    failure = proto.classify_download_status(reply(400), body=xml, now=0)
    assert isinstance(failure.error, DownloadURLExpired)
    assert "ExpiredToken" in str(failure.error)
    failure = proto.classify_download_status(
        reply(503, headers={"Retry-After": "4"}), body=b"", now=0
    )
    assert failure.retryable
    assert failure.retry_after == 4
    assert isinstance(failure.error, APIStatusError)
    failure = proto.classify_download_status(reply(404), body=b"<Code>NoSuchKey</Code>", now=0)
    assert not failure.retryable
    assert "NoSuchKey" in str(failure.error)


def test_download_redirect() -> None:
    request = httpx.Request("GET", "https://a.example/x?Signature=s")
    moved = httpx.Response(307, headers={"Location": "/y?z=1"}, request=request)
    hop = proto.download_redirect(moved)
    assert hop is not None
    assert str(hop.url) == "https://a.example/y?z=1"
    assert proto.download_redirect(httpx.Response(200, request=request)) is None
    down = httpx.Response(302, headers={"Location": "http://a.example/y"}, request=request)
    with pytest.raises(DownloadError):
        proto.download_redirect(down)


def test_body_check() -> None:
    check = proto.BodyCheck(expected=5)
    check.feed(b"abc")
    check.feed(b"de")
    assert check.size == 5
    assert check.sha256 == "36bbe50ed96841d10443bcb670d6554f0a34b761be67ec9c4a8ad2c0c44ca42c"
    assert check.finish(5) is None
    assert check.finish(0) is None  # an in-memory response: decoded size is used
    failure = check.finish(7)
    assert failure is not None
    assert isinstance(failure.error, DownloadError)
    assert proto.BodyCheck(expected=None).finish(3) is None
    assert proto.content_length(reply(headers={"Content-Length": "x"})) is None
    assert proto.content_length(reply(content=b"abc")) == 3


def test_safe_file_name() -> None:
    assert proto.safe_file_name("dir/sub\\AP_HED.txt") == "AP_HED.txt"
    assert proto.safe_file_name('a:b*c?"<>|\x00.txt') == "a_b_c______.txt"
    for bad in ("", "..", "a/..", "/", " . "):
        with pytest.raises(DownloadError):
            proto.safe_file_name(bad)


def test_redact_url_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    signed = httpx.URL("https://s.example/f.txt?Expires=1&Signature=SECRET")
    assert proto.redact_url(signed) == "https://s.example/f.txt?<redacted>"
    plain = httpx.URL("https://s.example/f.txt?page=2")
    assert proto.redact_url(plain) == str(plain)
    assert proto.describe_url(signed) == "s.example/f.txt"
    caplog.set_level(logging.DEBUG, logger="apscores")
    proto.log_response(httpx.Response(200, request=httpx.Request("GET", signed)), 0)
    assert "SECRET" not in caplog.text
    assert "GET s.example/f.txt -> 200 (attempt 1)" in caplog.text


def test_make_result() -> None:
    generated = proto.GeneratedFile("u", "f.txt", 3, "txt", "full")
    check = proto.BodyCheck(None)
    result = proto.make_result(proto.Saved(Path("f.txt"), check), generated)
    assert not result.recorded
    assert result.size == 0
    assert (result.records, result.exams) == (None, None)
    check.feed(b"x")
    counted = proto.Saved(Path("f.txt"), check, FileCheck("txt", 4, 9))
    result = proto.make_result(counted, generated)
    assert result.recorded
    assert (result.records, result.exams) == (4, 9)


# --- never overwrite --------------------------------------------------------------------


def test_free_file_name() -> None:
    taken = {"AP.txt", "AP-42.txt", "AP-42-2.txt", "noext", ".hidden"}
    assert proto.free_file_name("new.txt", 42, taken.__contains__) == "new.txt"
    assert proto.free_file_name("AP.txt", 42, taken.__contains__) == "AP-42-3.txt"
    assert proto.free_file_name("AP.txt", "x/y z", taken.__contains__) == "AP-x_y_z.txt"
    assert proto.free_file_name("noext", 7, taken.__contains__) == "noext-7"
    assert proto.free_file_name(".hidden", 7, taken.__contains__) == ".hidden-7"
    assert proto.free_file_name("a.tar.gz", "", lambda n: n == "a.tar.gz") == "a.tar-download.gz"
    with pytest.raises(DownloadError, match="no free file name"):
        proto.free_file_name("a.txt", 1, lambda name: True)


def test_place_file() -> None:
    taken = {"a.txt"}.__contains__
    placed = proto.place_file(Path("d"), "a.txt", 5, taken=taken)
    assert placed == proto.Placement(Path("d"), "a.txt", 5, Path("d/a-5.txt"), replace=False)
    replaced = proto.place_file(Path("d"), "a.txt", 5, taken=taken, replace=True)
    assert replaced.path == Path("d/a.txt")
    assert proto.place_file(Path("d"), "b.txt", 5, taken=taken).path == Path("d/b.txt")


# --- Institution.download as steps ---------------------------------------------------------


class Recorder(proto.BaseDownloadObserver):
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def generated(self, generated: proto.GeneratedFile, target: Path) -> None:
        self.calls.append(("generated", (generated.download_id, target)))

    def abandoned(self, generated: proto.GeneratedFile, error: Exception) -> None:
        self.calls.append(("abandoned", (generated.download_id, type(error).__name__)))

    def saved(self, result: proto.DownloadResult) -> None:
        self.calls.append(("saved", result.download_id))

    def recorded(self, result: proto.DownloadResult) -> None:
        self.calls.append(("recorded", result.download_id))


def made(download_id: int) -> proto.GeneratedFile:
    return proto.GeneratedFile("https://s/f", "f.txt", download_id, "txt", "new")


def placed(generated: proto.GeneratedFile) -> proto.Placement:
    return proto.place_file(Path("d"), "f.txt", generated.download_id, taken=lambda n: False)


def full_check(body: bytes = b"abc") -> proto.BodyCheck:
    check = proto.BodyCheck(None)
    check.feed(body)
    return check


def flow(observer: proto.DownloadObserver | None = None) -> proto.FlowRunner:
    return proto.FlowRunner(
        proto.download_flow("1234", "txt", "new", place=placed, observer=observer)
    )


def next_step(runner: proto.FlowRunner) -> proto.Step | None:
    return runner.step


def test_flow_happy_path_in_order() -> None:
    seen = Recorder()
    runner = flow(seen)
    assert next_step(runner) == proto.Generate("1234", "txt", "new")
    runner.send(made(1))
    assert next_step(runner) == proto.Fetch(made(1), placed(made(1)))
    runner.send(proto.Saved(Path("d/f.txt"), full_check()))
    assert next_step(runner) == proto.Record(made(1))
    runner.send(None)
    assert runner.step is None
    assert runner.result is not None
    assert (runner.result.path, runner.result.size, runner.result.recorded) == (
        Path("d/f.txt"),
        3,
        True,
    )
    assert seen.calls == [
        ("generated", (1, Path("d/f.txt"))),
        ("saved", 1),
        ("recorded", 1),
    ]


def test_flow_nothing_new_and_no_observer() -> None:
    runner = flow()
    runner.send(None)
    assert runner.step is None
    assert runner.result is None
    runner = flow()  # the no-op observer is used when none is given
    runner.send(made(1))
    runner.send(proto.Saved(Path("d/f.txt"), full_check()))
    runner.send(None)
    assert runner.result is not None


def test_flow_expired_regenerates_then_gives_up() -> None:
    seen = Recorder()
    runner = flow(seen)
    for download_id in range(1, proto.MAX_REGENERATIONS + 1):
        runner.send(made(download_id))
        runner.throw(proto.expired_error("test"))
    runner.send(made(9))
    with pytest.raises(DownloadURLExpired):
        runner.throw(proto.expired_error("test"))
    assert [name for name, _ in seen.calls] == ["generated", "abandoned"] * 3


def test_flow_expired_once() -> None:
    seen = Recorder()
    runner = flow(seen)
    runner.send(made(1))
    runner.throw(proto.expired_error("test"))
    runner.send(made(2))
    runner.send(proto.Saved(Path("d/f.txt"), full_check()))
    runner.send(None)
    assert runner.result is not None
    assert runner.result.download_id == 2
    assert seen.calls == [
        ("generated", (1, Path("d/f.txt"))),
        ("abandoned", (1, "DownloadURLExpired")),
        ("generated", (2, Path("d/f.txt"))),
        ("saved", 2),
        ("recorded", 2),
    ]


def test_flow_other_failures() -> None:
    seen = Recorder()
    runner = flow(seen)
    runner.send(made(1))
    with pytest.raises(DownloadError, match="broke"):
        runner.throw(DownloadError("broke"))
    assert seen.calls == [("generated", (1, Path("d/f.txt"))), ("abandoned", (1, "DownloadError"))]

    runner = flow(seen)
    runner.send(made(1))
    with pytest.raises(OSError, match="disk full"):  # not the service's: no abandoned()
        runner.throw(OSError("disk full"))
    assert len(seen.calls) == 3
    assert seen.calls[2] == ("generated", (1, Path("d/f.txt")))


def test_flow_record_failure_and_empty_file(caplog: pytest.LogCaptureFixture) -> None:
    seen = Recorder()
    runner = flow(seen)
    runner.send(made(1))
    runner.send(proto.Saved(Path("d/f.txt"), full_check()))
    with pytest.raises(RecordError) as info:
        runner.throw(APIError("nope", endpoint=proto.RECORD))
    assert info.value.path == Path("d/f.txt")
    assert info.value.download_id == "1"
    assert isinstance(info.value.__cause__, APIError)
    assert [name for name, _ in seen.calls] == ["generated", "saved"]

    seen = Recorder()
    runner = flow(seen)
    runner.send(made(2))
    runner.send(proto.Saved(Path("d/f.txt"), proto.BodyCheck(None)))
    assert runner.step is None
    assert runner.result is not None
    assert not runner.result.recorded
    assert [name for name, _ in seen.calls] == ["generated", "saved"]
    assert "is empty" in caplog.text
