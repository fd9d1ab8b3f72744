"""The sans-I/O core: requests built and responses read without any network."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from apscores.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    DownloadError,
    DownloadURLExpired,
    IncompleteFileError,
    LoginRefusedError,
    RecordError,
    StorageError,
    UnauthorizedError,
)
from apscores.service import _download as download
from apscores.service import _flow as flow
from apscores.service import _guesses as guesses
from apscores.service import _models as models
from apscores.service import _retry as retry
from apscores.service import _settings as config
from apscores.service import _wire as wire

BASE = "https://api.example.test/stage"


def settings(**overrides: object) -> config.Settings:
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
    return config.resolve_settings(**options)  # type: ignore[arg-type]


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
    s = config.resolve_settings(
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
    assert config.check_di_code(" 0123 ") == "0123"
    assert config.check_di_code(1234) == "1234"
    for bad in (True, "１２３４", "12 34", ""):
        with pytest.raises(ConfigurationError):
            config.check_di_code(bad)
    assert config.check_format("CSV") == "csv"
    assert config.check_format("Txt") == "txt"
    assert config.check_kind("FULL") == "full"
    assert config.check_kind("new") == "new"


def test_secret_hides_itself() -> None:
    secret = config.Secret("hunter2")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}"
    assert secret == config.Secret("hunter2")
    assert secret != "hunter2"
    assert hash(secret) == hash(config.Secret("hunter2"))


# --- requests -----------------------------------------------------------------------------


def test_login_request() -> None:
    request = wire.build_login_request(settings(password="correct-horse-battery"))
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
    assert wire.encode_password("pässword") == "cMOkc3N3b3Jk"


def test_generate_and_record_requests() -> None:
    token = config.Secret("tok")
    request = wire.build_generate_request(settings(), token, "0042", "csv", "full")
    assert str(request.url) == f"{BASE}/fileGeneration"
    assert json.loads(request.content) == {
        "diCode": "0042",
        "format": "CSV",
        "downloadType": "full",
    }
    assert request.headers["X-CB-Catapult-Authorization-Token"] == "tok"
    assert "authorization" not in request.headers
    generated = models.GeneratedFile("https://s/x", "x.csv", 12, "csv", "full")
    record = wire.build_record_request(settings(), token, generated)
    assert json.loads(record.content) == {"downloadId": 12, "format": "CSV"}


def test_download_request_is_bare() -> None:
    request = wire.build_download_request("https://s.example/x?Signature=abc")
    assert not any(name.lower().startswith("x-cb") for name in request.headers)
    assert request.headers["accept-encoding"] == "identity"


def test_generated_file_repr_hides_url() -> None:
    generated = models.GeneratedFile("https://s/x?Signature=SECRET", "x.txt", "7", "txt", "new")
    assert "SECRET" not in repr(generated)
    assert "x.txt" in repr(generated)


# --- responses ------------------------------------------------------------------------------


def test_parse_login() -> None:
    token = wire.parse_login_response(reply(json={"success": True, "authToken": "t"}))
    assert token.reveal() == "t"
    with pytest.raises(AuthenticationError) as info:
        wire.parse_login_response(reply(json={"success": False}))
    assert "no message" in str(info.value)
    assert "terms of use" in str(info.value)
    with pytest.raises(AuthenticationError, match="HTTP 403"):
        wire.parse_login_response(reply(403, text="<html>"))
    with pytest.raises(APIStatusError) as status:
        wire.parse_login_response(reply(500, text="oops"))
    assert status.value.status_code == 500
    with pytest.raises(APIError, match="JSON"):
        wire.parse_login_response(reply(text="<html>"))
    with pytest.raises(APIError, match="no authToken"):
        wire.parse_login_response(reply(json={"success": True, "authToken": ""}))


def test_parse_generate() -> None:
    ok = {"success": True, "url": "https://s/f", "fileName": " f.txt ", "downloadId": "9"}
    generated = wire.parse_generate_response(
        reply(json=ok), di_code="1234", format="txt", kind="new"
    )
    assert generated == models.GeneratedFile("https://s/f", "f.txt", "9", "txt", "new")

    nameless = {"success": True, "url": "https://s/f", "downloadId": 9}
    generated = wire.parse_generate_response(
        reply(json=nameless), di_code="1234", format="csv", kind="full"
    )
    assert generated is not None
    assert generated.file_name == "apscores_9.csv"

    none = {"success": False, "message": "There were no score orders found"}
    assert (
        wire.parse_generate_response(reply(json=none), di_code="1", format="txt", kind="new")
        is None
    )

    cases: list[tuple[object, type[Exception], str]] = [
        ({"success": True, "downloadId": 1}, APIError, "no url"),
        ({"success": True, "url": "u", "downloadId": True}, APIError, "downloadId"),
        ({"success": True, "url": "u"}, APIError, "downloadId"),
        ({"success": "true", "message": "session expired"}, wire.TokenRejected, "session expired"),
        ({"success": False}, APIError, "no message"),
        ({"success": False, "message": 42}, APIError, "42"),
        ([1, 2], APIError, "JSON object"),
    ]
    for body, error, text in cases:
        with pytest.raises(error, match=text):
            wire.parse_generate_response(reply(json=body), di_code="1", format="txt", kind="new")
    with pytest.raises(wire.TokenRejected) as signal:
        wire.parse_generate_response(reply(401), di_code="1", format="txt", kind="new")
    assert not isinstance(signal.value, APScoresError)  # an internal signal, never raised out
    again = wire.refused_again(signal.value)
    assert isinstance(again, UnauthorizedError)
    assert isinstance(again, APIStatusError)
    assert again.status_code == 401
    with pytest.raises(APIStatusError) as info:
        wire.parse_generate_response(
            reply(502, json={"message": "Bad gateway"}), di_code="1", format="txt", kind="new"
        )
    assert "Bad gateway" in str(info.value)


def test_parse_record() -> None:
    wire.parse_record_response(reply(json={"success": True}))
    with pytest.raises(APIError, match="no message"):
        wire.parse_record_response(reply(json={"success": False}))
    with pytest.raises(wire.TokenRejected) as signal:
        wire.parse_record_response(reply(403))
    assert "refused the token" in str(wire.refused_again(signal.value))
    with pytest.raises(wire.TokenRejected) as signal:
        wire.parse_record_response(reply(json={"success": False, "message": "Token expired"}))
    assert isinstance(wire.refused_again(signal.value), LoginRefusedError)


def test_matchers() -> None:
    assert wire.is_no_score_orders("Sorry: There Were No Score Orders Found.")
    assert not wire.is_no_score_orders("no orders")
    assert wire.looks_like_token_problem("Token is invalid")
    assert wire.looks_like_token_problem("User not authorized")
    assert not wire.looks_like_token_problem("There were no score orders found")
    assert not wire.looks_like_token_problem("Internal error")


# --- retries ------------------------------------------------------------------------------


def test_translate_error() -> None:
    assert type(retry.translate_error(httpx.ConnectTimeout("x"), "e")) is APITimeoutError
    error = retry.translate_error(httpx.ConnectError("x"), "e")
    assert type(error) is APIConnectionError
    assert str(error) == "e: cannot connect to the host (ConnectError)"
    request = httpx.Request("POST", "https://aposrd-api-gw.collegeboard.org/x")
    named = retry.translate_error(
        httpx.ConnectError("[Errno 111] Connection refused", request=request), "webServiceAuth"
    )
    assert (
        str(named)
        == "webServiceAuth: cannot connect to aposrd-api-gw.collegeboard.org (connection refused)"
    )
    dns = retry.translate_error(
        httpx.ConnectError("[Errno -2] Name or service not known", request=request), "e"
    )
    assert dns.message == "cannot connect to aposrd-api-gw.collegeboard.org (host name not found)"
    broken = retry.translate_error(httpx.ReadError("reset by peer", request=request), "e")
    assert broken.message == (
        "the connection to aposrd-api-gw.collegeboard.org failed (connection reset)"
    )
    assert isinstance(named, APIError)
    failure = retry.classify_exception(httpx.DecodingError("x"), "e")
    assert not failure.retryable
    assert retry.classify_exception(httpx.RemoteProtocolError("x"), "e").retryable


def test_retryable_statuses() -> None:
    for status in (429, 500, 502, 503, 504):
        assert retry.is_retryable_status(wire.LOGIN, status)
        assert retry.is_retryable_status(wire.RECORD, status)
        assert retry.is_retryable_status(wire.DOWNLOAD, status)
    assert not retry.is_retryable_status(wire.GENERATE, 500)
    for status in (429, 502, 503, 504):
        assert retry.is_retryable_status(wire.GENERATE, status)
    for status in (400, 401, 403, 404, 501):
        assert not retry.is_retryable_status(wire.LOGIN, status)
    assert retry.classify_response(reply(200), wire.LOGIN, 0) is None
    failure = retry.classify_response(reply(503, headers={"Retry-After": "3"}), wire.LOGIN, 0)
    assert failure is not None
    assert failure.retryable
    assert failure.retry_after == 3.0
    assert isinstance(failure.error, APIStatusError)


def test_parse_retry_after() -> None:
    now = datetime(2025, 7, 15, 9, 30, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry.parse_retry_after(later, now.timestamp()) == 90
    assert retry.parse_retry_after("Tue, 15 Jul 2025 09:31:00", now.timestamp()) == 60
    assert retry.parse_retry_after(" 2.5 ", 0) == 2.5
    assert retry.parse_retry_after("-3", 0) == 0
    assert retry.parse_retry_after("soon", 0) is None
    assert retry.parse_retry_after(None, 0) is None


def test_backoff() -> None:
    backoff = retry.Backoff(settings(max_retries=5), rng=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, None]
    low = retry.Backoff(settings(), rng=lambda: 0.0)
    assert low.next_delay() == 0.5
    assert low.next_delay(retry_after=6) == 6
    assert low.next_delay(retry_after=9) is None
    assert low.attempt == 2
    zero = retry.Backoff(settings(retry_base_delay=0, max_retries=1))
    assert zero.next_delay() == 0
    assert zero.next_delay() is None


# --- downloads ----------------------------------------------------------------------------


def test_url_expiry() -> None:
    assert download.url_expires_at("https://s/f?Expires=1752572400&Signature=x") == 1752572400
    amz = "https://s/f?X-Amz-Date=20250715T093000Z&X-Amz-Expires=15&X-Amz-Signature=x"
    start = datetime(2025, 7, 15, 9, 30, tzinfo=timezone.utc).timestamp()
    assert download.url_expires_at(amz) == start + 15
    assert download.url_expires_at("https://s/f") is None
    assert download.url_expires_at("https://s/f?Expires=soon") is None
    assert download.url_expires_at("https://\x00/") is None
    assert download.is_url_expired("https://s/f?Expires=100", now=98.5)
    assert not download.is_url_expired("https://s/f?Expires=100", now=97.5)
    assert not download.is_url_expired("https://s/f", now=1e12)


def test_classify_download_status() -> None:
    failure = download.classify_download_status(reply(403), body=b"", now=0)
    assert isinstance(failure.error, DownloadURLExpired)
    assert not failure.retryable
    xml = b"<Error><Code>ExpiredToken</Code><Signature>S</Signature></Error>"
    failure = download.classify_download_status(reply(400), body=xml, now=0)
    assert isinstance(failure.error, DownloadURLExpired)
    assert "ExpiredToken" in str(failure.error)
    failure = download.classify_download_status(
        reply(503, headers={"Retry-After": "4"}), body=b"", now=0
    )
    assert failure.retryable
    assert failure.retry_after == 4
    assert isinstance(failure.error, APIStatusError)
    failure = download.classify_download_status(reply(404), body=b"<Code>NoSuchKey</Code>", now=0)
    assert not failure.retryable
    assert "NoSuchKey" in str(failure.error)


def test_download_redirect() -> None:
    request = httpx.Request("GET", "https://a.example/x?Signature=s")
    moved = httpx.Response(307, headers={"Location": "/y?z=1"}, request=request)
    hop = download.download_redirect(moved)
    assert hop is not None
    assert str(hop.url) == "https://a.example/y?z=1"
    assert download.download_redirect(httpx.Response(200, request=request)) is None
    down = httpx.Response(302, headers={"Location": "http://a.example/y"}, request=request)
    with pytest.raises(DownloadError):
        download.download_redirect(down)


GENERATED = models.GeneratedFile(
    url="https://s.example/f.txt?Signature=abc", file_name="f.txt", download_id=7,
    format="txt", kind="new",
)  # fmt: skip
ABCDE_MD5 = "ab56b4d92b40713acc5af89985d4b786"  # md5(b"abcde")


def test_body_check() -> None:
    check = download.BodyCheck(expected=5)
    check.feed(b"abc")
    check.feed(b"de")
    assert check.size == 5
    assert check.sha256 == "36bbe50ed96841d10443bcb670d6554f0a34b761be67ec9c4a8ad2c0c44ca42c"
    assert check.finish(5, GENERATED) is None
    assert check.finish(0, GENERATED) is None  # an in-memory response: decoded size is used
    assert not check.verified  # no ETag, nothing proved
    failure = check.finish(7, GENERATED)
    assert failure is not None
    assert isinstance(failure.error, DownloadError)
    assert download.BodyCheck(expected=None).finish(3, GENERATED) is None
    assert download.content_length(reply(headers={"Content-Length": "x"})) is None
    assert download.content_length(reply(content=b"abc")) == 3


def test_body_check_against_the_etag_md5() -> None:
    whole = download.BodyCheck(expected=5, md5=ABCDE_MD5)
    for chunk in (b"ab", b"cde"):
        whole.feed(chunk)
    assert whole.finish(5, GENERATED) is None
    assert whole.verified
    cut = download.BodyCheck(expected=4, md5=ABCDE_MD5)  # Content-Length matches the cut
    cut.feed(b"abcd")
    failure = cut.finish(4, GENERATED)
    assert failure is not None
    assert not failure.retryable
    assert isinstance(failure.error, IncompleteFileError)
    assert failure.error.problem is None
    assert "MD5 is not the storage host's ETag" in str(failure.error)
    assert "download 7" in str(failure.error)
    assert not cut.verified
    short = download.BodyCheck(expected=5, md5=ABCDE_MD5)  # the size is judged first
    short.feed(b"abcd")
    failure = short.finish(4, GENERATED)
    assert failure is not None
    assert failure.retryable
    assert not isinstance(failure.error, IncompleteFileError)


@pytest.mark.parametrize(
    ("headers", "md5"),
    [
        ({"ETag": f'"{ABCDE_MD5}"'}, ABCDE_MD5),
        ({"ETag": f'"{ABCDE_MD5.upper()}"'}, ABCDE_MD5),
        ({"ETag": ABCDE_MD5}, ABCDE_MD5),
        ({"ETag": f'"{ABCDE_MD5}"', "x-amz-server-side-encryption": "AES256"}, ABCDE_MD5),
        ({}, None),
        ({"ETag": f'"{ABCDE_MD5}-3"'}, None),  # multipart: not the body's MD5
        ({"ETag": f'W/"{ABCDE_MD5}"'}, None),
        ({"ETag": f'"{ABCDE_MD5}'}, None),
        ({"ETag": '"abc"'}, None),
        ({"ETag": f'"{ABCDE_MD5}"', "Content-Encoding": "gzip"}, None),
        ({"ETag": f'"{ABCDE_MD5}"', "x-amz-server-side-encryption": "aws:kms"}, None),
        (
            {"ETag": f'"{ABCDE_MD5}"', "x-amz-server-side-encryption-customer-algorithm": "AES256"},
            None,
        ),
    ],
)
def test_storage_md5_only_from_a_single_part_etag(
    headers: dict[str, str], md5: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    request = httpx.Request("GET", "https://s.example/b/f.txt?Signature=SECRET")
    response = httpx.Response(200, headers=headers, request=request)
    with caplog.at_level(logging.DEBUG, logger="apscores"):
        assert download.storage_md5(response) == md5
    noted = [r.getMessage() for r in caplog.records]
    assert all("SECRET" not in line for line in noted)
    if md5 is None and "ETag" in headers:
        assert len(noted) == 1
        assert "not checked against its ETag" in noted[0]
    if "-3" in headers.get("ETag", ""):
        assert "a multipart ETag" in noted[0]


def test_safe_file_name() -> None:
    assert download.safe_file_name("dir/sub\\AP_HED.txt") == "AP_HED.txt"
    assert download.safe_file_name('a:b*c?"<>|\x00.txt') == "a_b_c______.txt"
    for bad in ("", "..", "a/..", "/", " . "):
        with pytest.raises(DownloadError):
            download.safe_file_name(bad)


def test_redact_url_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    signed = httpx.URL("https://s.example/f.txt?Expires=1&Signature=SECRET")
    assert download.redact_url(signed) == "https://s.example/f.txt?<redacted>"
    plain = httpx.URL("https://s.example/f.txt?page=2")
    assert download.redact_url(plain) == str(plain)
    assert download.describe_url(signed) == "s.example/f.txt"
    caplog.set_level(logging.DEBUG, logger="apscores")
    download.log_response(httpx.Response(200, request=httpx.Request("GET", signed)), 0)
    assert "SECRET" not in caplog.text
    assert "GET s.example/f.txt -> 200 (attempt 1)" in caplog.text


def test_make_result() -> None:
    generated = models.GeneratedFile("u", "f.txt", 3, "txt", "full")
    check = download.BodyCheck(None)
    result = download.make_result(generated, Path("f.txt"), check)
    assert not result.recorded
    assert result.size == 0
    assert (result.records, result.exams) == (None, None)
    check.feed(b"x")
    result = download.make_result(generated, Path("f.txt"), check, 4, 9)
    assert result.recorded
    assert (result.records, result.exams) == (4, 9)


# --- never overwrite --------------------------------------------------------------------


def test_free_file_name() -> None:
    taken = {"AP.txt", "AP-42.txt", "AP-42-2.txt", "noext", ".hidden"}
    assert download.free_file_name("new.txt", 42, taken.__contains__) == "new.txt"
    assert download.free_file_name("AP.txt", 42, taken.__contains__) == "AP-42-3.txt"
    assert download.free_file_name("AP.txt", "x/y z", taken.__contains__) == "AP-x_y_z.txt"
    assert download.free_file_name("noext", 7, taken.__contains__) == "noext-7"
    assert download.free_file_name(".hidden", 7, taken.__contains__) == ".hidden-7"
    assert download.free_file_name("a.tar.gz", "", lambda n: n == "a.tar.gz") == "a.tar-download.gz"
    with pytest.raises(StorageError, match="no free file name"):
        download.free_file_name("a.txt", 1, lambda name: True)


def test_place_file() -> None:
    taken = {"a.txt"}.__contains__
    placed = download.place_file(Path("d"), "a.txt", 5, taken=taken)
    assert placed == download.Placement(Path("d"), "a.txt", 5, Path("d/a-5.txt"), replace=False)
    replaced = download.place_file(Path("d"), "a.txt", 5, taken=taken, replace=True)
    assert replaced.path == Path("d/a.txt")
    assert download.place_file(Path("d"), "b.txt", 5, taken=taken).path == Path("d/b.txt")


# --- Institution.download as steps ---------------------------------------------------------


class Recorder(flow.BaseDownloadObserver):
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def generated(self, generated: models.GeneratedFile, target: Path) -> None:
        self.calls.append(("generated", (generated.download_id, target)))

    def abandoned(self, generated: models.GeneratedFile, error: Exception) -> None:
        self.calls.append(("abandoned", (generated.download_id, type(error).__name__)))

    def saved(self, result: models.DownloadResult) -> None:
        self.calls.append(("saved", result.download_id))

    def recorded(self, result: models.DownloadResult) -> None:
        self.calls.append(("recorded", result.download_id))


def made(download_id: int) -> models.GeneratedFile:
    return models.GeneratedFile("https://s/f", "f.txt", download_id, "txt", "new")


def placed(generated: models.GeneratedFile) -> download.Placement:
    return download.place_file(Path("d"), "f.txt", generated.download_id, taken=lambda n: False)


def full_check(body: bytes = b"abc") -> download.BodyCheck:
    check = download.BodyCheck(None)
    check.feed(body)
    return check


class Driven:
    """A FlowRunner whose Notify steps go to an observer, as the clients do it."""

    def __init__(self, observer: Recorder | None = None) -> None:
        self.observer = observer
        flow_ = flow.download_flow("1234", "txt", "new", place=placed)
        self.runner = flow.FlowRunner(flow_)
        self._tell()

    def _tell(self) -> None:
        while isinstance(self.runner.step, flow.Notify):
            step = self.runner.step
            try:
                flow.notify(self.observer, step)
            except Exception as error:  # an observer's error goes back into the flow
                self.runner.throw(error)
            else:
                self.runner.send(None)

    @property
    def step(self) -> flow.Step | None:
        return self.runner.step

    @property
    def result(self) -> models.DownloadResult | None:
        return self.runner.result

    def send(self, outcome: object) -> None:
        self.runner.send(outcome)
        self._tell()

    def throw(self, error: Exception) -> None:
        self.runner.throw(error)
        self._tell()


def next_step(runner: Driven) -> flow.Step | None:
    return runner.step


def test_flow_happy_path_in_order() -> None:
    seen = Recorder()
    runner = Driven(seen)
    assert next_step(runner) == flow.Generate("1234", "txt", "new")
    runner.send(made(1))
    assert next_step(runner) == flow.Fetch(made(1), placed(made(1)))
    runner.send(flow.Saved(Path("d/f.txt"), full_check()))
    assert next_step(runner) == flow.Record(made(1))
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
    runner = Driven()
    runner.send(None)
    assert runner.step is None
    assert runner.result is None
    runner = Driven()  # the no-op observer is used when none is given
    runner.send(made(1))
    runner.send(flow.Saved(Path("d/f.txt"), full_check()))
    runner.send(None)
    assert runner.result is not None


def test_flow_expired_regenerates_then_gives_up() -> None:
    seen = Recorder()
    runner = Driven(seen)
    for download_id in range(1, guesses.MAX_REGENERATIONS + 1):
        runner.send(made(download_id))
        runner.throw(download.expired_error("test"))
    runner.send(made(9))
    with pytest.raises(DownloadURLExpired):
        runner.throw(download.expired_error("test"))
    assert [name for name, _ in seen.calls] == ["generated", "abandoned"] * 3


def test_flow_expired_once() -> None:
    seen = Recorder()
    runner = Driven(seen)
    runner.send(made(1))
    runner.throw(download.expired_error("test"))
    runner.send(made(2))
    runner.send(flow.Saved(Path("d/f.txt"), full_check()))
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
    runner = Driven(seen)
    runner.send(made(1))
    with pytest.raises(DownloadError, match="broke"):
        runner.throw(DownloadError("broke"))
    assert seen.calls == [("generated", (1, Path("d/f.txt"))), ("abandoned", (1, "DownloadError"))]

    runner = Driven(seen)
    runner.send(made(1))
    with pytest.raises(OSError, match="disk full"):  # not the service's: no abandoned()
        runner.throw(OSError("disk full"))
    assert len(seen.calls) == 3
    assert seen.calls[2] == ("generated", (1, Path("d/f.txt")))


def test_flow_record_failure_and_empty_file(caplog: pytest.LogCaptureFixture) -> None:
    seen = Recorder()
    runner = Driven(seen)
    runner.send(made(1))
    runner.send(flow.Saved(Path("d/f.txt"), full_check()))
    with pytest.raises(RecordError) as info:
        runner.throw(APIError("nope", endpoint=wire.RECORD))
    assert info.value.path == Path("d/f.txt")
    assert info.value.download_id == "1"
    assert isinstance(info.value.__cause__, APIError)
    assert [name for name, _ in seen.calls] == ["generated", "saved"]

    seen = Recorder()
    runner = Driven(seen)
    runner.send(made(2))
    runner.send(flow.Saved(Path("d/f.txt"), download.BodyCheck(None)))
    assert runner.step is None
    assert runner.result is not None
    assert not runner.result.recorded
    assert [name for name, _ in seen.calls] == ["generated", "saved"]
    assert "is empty" in caplog.text
