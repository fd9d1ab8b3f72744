"""Faults on the loopback server: armed over HTTP (``POST /_sandbox/faults``), from
``serve --fault``/``--faults`` and from one parser of fault specs; the control endpoints."""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apscores.cli import _sandbox_cmd as sandbox_cmd
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    Faults,
    FaultSpec,
    SandboxServer,
    SandboxService,
    ServeConfig,
    serve,
)
from apscores.sandbox import _server as server_module
from apscores.sandbox._fault_spec import FaultChange, load_fault_specs, parse_fault_specs

HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "X-CB-Catapult-Authentication-Token": "CBLogin Web Service",
}
P = base64.b64encode(DEFAULT_PASSWORD.encode()).decode()


def urlopen(request: urllib.request.Request | str) -> Any:
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback only


def send(url: str, payload: Any = None, *, headers: dict[str, str] | None = None) -> Any:
    """POST JSON (or GET without a payload); (status, decoded JSON) even for an error."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=data, headers=headers or {}, method="GET" if data is None else "POST"
    )
    try:
        with urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


class Api:
    """The four steps by hand, over HTTP."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.token = ""

    def control(self, name: str) -> str:
        return self.server.base_url.rsplit("/", 1)[0] + f"/_sandbox/{name}"

    def faults(self, change: dict[str, Any]) -> Any:
        status, body = send(self.control("faults"), change)
        assert status == 200, body
        return body

    def post(self, endpoint: str, payload: dict[str, Any], token: str | None = None) -> Any:
        headers = {**HEADERS, "X-CB-Catapult-Authorization-Token": token or self.token}
        return send(f"{self.server.base_url}/{endpoint}", payload, headers=headers)

    def login(self) -> Any:
        status, body = self.post("webServiceAuth", {"u": DEFAULT_EMAIL, "p": P}, "CBLogin")
        if status == 200 and body.get("success"):
            self.token = body["authToken"]
        return status, body

    def generate(self, kind: str = "full") -> Any:
        return self.post(
            "fileGeneration", {"diCode": "1234", "format": "TXT", "downloadType": kind}
        )

    def record(self, download_id: Any) -> Any:
        return self.post("webServiceDownloaded", {"downloadId": download_id, "format": "TXT"})


def get(url: str) -> tuple[int, bytes, Any]:
    try:
        with urlopen(url) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with serve(ServeConfig(port=0, storage_port=0, reports=3)) as running:
        yield running


@pytest.fixture
def api(server: SandboxServer) -> Api:
    caller = Api(server)
    assert caller.login()[0] == 200
    return caller


# -- every fault kind, armed over HTTP --------------------------------------------------------


def test_504_twice_then_success(api: Api) -> None:
    listed = api.faults(
        {"add": {"kind": "fail", "endpoint": "generate", "status": 504, "times": 2}}
    )
    assert listed["armed"] == [
        {"kind": "fail", "endpoint": "generate", "status": 504, "times": 2, "message": None,
         "retry_after": None, "processed": False},
    ]  # fmt: skip
    for _ in range(2):
        assert api.generate() == (504, {"message": "Endpoint request timed out"})
    status, body = api.generate()
    assert (status, body["success"]) == (200, True)
    assert api.faults({})["armed"] == []


def test_fail_with_retry_after_and_success_false(api: Api, server: SandboxServer) -> None:
    api.faults({"add": [
        {"kind": "fail", "endpoint": "fileGeneration", "status": 429, "retry_after": 3},
        {"kind": "fail_record", "message": "Could not record."},
    ]})  # fmt: skip
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{server.base_url}/fileGeneration",
        data=json.dumps({"diCode": "1234", "format": "TXT", "downloadType": "full"}).encode(),
        headers={**HEADERS, "X-CB-Catapult-Authorization-Token": api.token},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urlopen(request)
    assert (info.value.code, info.value.headers["Retry-After"]) == (429, "3")
    download_id = api.generate()[1]["downloadId"]
    assert api.record(download_id) == (200, {"success": False, "message": "Could not record."})
    assert api.record(download_id)[1]["success"] is True


def test_expired_first_url(api: Api) -> None:
    api.faults({"add": {"kind": "expire_url"}})
    first = api.generate()[1]
    status, xml, _ = get(first["url"])
    assert status == 403
    assert b"<Message>Request has expired</Message>" in xml
    second = api.generate()[1]
    assert get(second["url"])[0] == 200


def test_token_that_dies_after_one_call(api: Api) -> None:
    api.faults({"add": {"kind": "expire_token_after", "calls": 1}})
    assert api.generate()[0] == 200
    assert api.generate() == (401, {"message": "The incoming token has expired"})
    api.login()
    assert api.generate()[0] == 200
    assert api.faults({"add": {"kind": "expire_token_after", "calls": None}}) == {"armed": []}


def test_record_call_failing_once(api: Api, server: SandboxServer) -> None:
    api.faults({"set": [{"kind": "fail", "endpoint": "record", "status": 503}]})
    download_id = api.generate()[1]["downloadId"]
    assert api.record(download_id)[0] == 503
    assert api.record(download_id) == (
        200, {"success": True, "message": "Download recorded successfully."},
    )  # fmt: skip
    assert server.service.recorded_ids == [download_id]


@pytest.mark.parametrize("kind", ["truncate", "disconnect"])
def test_body_cut_mid_way(api: Api, kind: str) -> None:
    api.faults({"add": {"kind": kind, "endpoint": "download", "after_bytes": 100}})
    url = api.generate()[1]["url"]
    with pytest.raises(http.client.IncompleteRead) as info:
        get(url)
    assert len(info.value.partial) == 100
    assert get(url)[0] == 200


def test_refuse_and_timeout_drop_the_connection(api: Api, server: SandboxServer) -> None:
    api.faults({"add": [
        {"kind": "refuse", "endpoint": "login"},
        {"kind": "timeout", "endpoint": "generate", "seconds": 0.05, "processed": True},
    ]})  # fmt: skip
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.login()
    started = time.monotonic()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.generate()
    assert time.monotonic() - started >= 0.05
    assert len(server.service.downloads) == 1  # processed: the work was done, the answer lost
    assert [o.status for o in server.service.observations][-2:] == [None, None]


def test_delay(api: Api) -> None:
    api.faults({"add": {"kind": "delay", "endpoint": "download", "seconds": 0.2, "times": 1}})
    url = api.generate()[1]["url"]
    started = time.monotonic()
    assert get(url)[0] == 200
    assert time.monotonic() - started >= 0.2


def test_set_add_and_clear(api: Api) -> None:
    spec = {"kind": "fail", "endpoint": "login"}
    assert len(api.faults({"add": [spec, spec]})["armed"]) == 2
    assert len(api.faults({"set": [spec]})["armed"]) == 1
    cleared = api.faults({"clear": True, "add": {"kind": "expire_token_after", "calls": 4}})
    assert cleared == {"armed": [{"kind": "expire_token_after", "calls": 4}]}
    assert api.faults({"clear": True}) == {"armed": []}
    status, listed = send(api.control("faults"))
    assert (status, listed) == (200, {"armed": []})


# -- the control endpoints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"add": {"kind": "fail"}}, "missing option(s) endpoint"),
        ({"add": {"kind": "explode", "endpoint": "login"}}, "unknown fault kind 'explode'"),
        ({"add": [{"kind": "fail", "endpoint": "login"}, {"kind": "refuse"}]}, "refuse"),
        ({"set": [], "add": []}, "send set alone"),
        ({"clear": "yes"}, "clear must be true or false"),
        ({"remove": []}, "unknown key(s) remove"),
        ([], "send a JSON object"),
    ],
)
def test_a_bad_change_is_400_and_changes_nothing(
    api: Api, server: SandboxServer, change: Any, fragment: str
) -> None:
    api.faults({"add": {"kind": "expire_url"}})
    status, body = send(api.control("faults"), change)
    assert status == 400
    assert fragment in body["error"]
    assert [f.kind.value for f in server.service.faults.armed] == ["expired_url"]


def test_control_endpoint_errors(api: Api, server: SandboxServer) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback
        api.control("faults"), data=b"{not json", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urlopen(request)
    assert info.value.code == 400
    assert send(api.control("nothing"))[0] == 404
    status, body = send(api.control("state"), {})
    assert status == 405
    assert "GET /_sandbox/state" in body["error"]
    request = urllib.request.Request(api.control("faults"), method="DELETE")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as info:
        urlopen(request)
    assert (info.value.code, info.value.headers["Allow"]) == (405, "GET, POST")


def test_control_endpoints_answer_only_a_loopback_host(api: Api, server: SandboxServer) -> None:
    host, port = server.addresses[0]
    for name, expected in (("evil.example", 403), (f"localhost:{port}", 200), (host, 200)):
        status, _ = send(api.control("state"), headers={"Host": name})
        assert status == expected, name


def test_control_calls_are_not_recorded_and_the_api_prefix_has_no_control(
    api: Api, server: SandboxServer
) -> None:
    before = len(server.service.observations)
    send(api.control("state"))
    api.faults({"clear": True})
    assert len(server.service.observations) == before
    status, body = send(f"{server.base_url}/_sandbox/state")  # under the API prefix: the service
    assert (status, body) == (403, {"message": "Missing Authentication Token"})


# -- serve --fault / --faults, and the one parser ----------------------------------------------


def _config(*argv: str) -> ServeConfig:
    parser = argparse.ArgumentParser()
    server_module.add_serve_arguments(parser)
    return server_module.config_from_args(
        parser.parse_args(["--port", "0", "--storage-port", "0", *argv])
    )


def test_serve_fault_options_arm_the_server(tmp_path: Path) -> None:
    specs = tmp_path / "faults.json"
    specs.write_text(json.dumps([{"kind": "truncate", "after_bytes": 10}]), encoding="utf-8")
    config = _config(
        "--reports", "2", "--strict",
        "--fault", "fail=generate,status=504,times=2",
        "--fault", "expire_token_after=1",
        "--faults", str(specs),
    )  # fmt: skip
    assert config.strict
    assert [spec.to_text() for spec in config.faults] == [
        "fail=generate,status=504,times=2", "expire_token_after=1", "truncate=after_bytes=10",
    ]  # fmt: skip
    with serve(config) as running:
        text = server_module.banner(running, config)
        assert "mode:         strict" in text
        assert "fault:        fail=generate,status=504,times=2" in text
        assert "/_sandbox/state" in text
        api = Api(running)
        api.login()
        assert [api.generate()[0] for _ in range(3)] == [504, 504, 200]
        # The 504s came before the token was looked at: only the third call used it up.
        assert api.generate() == (401, {"message": "The incoming token has expired"})
        status, body = send(api.control("state"))
        assert status == 200
        assert [f["kind"] for f in body["faults"]["armed"]] == ["truncate", "expire_token_after"]
        assert body["faults"]["armed"][-1] == {"kind": "expire_token_after", "calls": 1}


def test_default_banner_says_tolerant() -> None:
    config = _config()
    with serve(config) as running:
        text = server_module.banner(running, config)
    assert "mode:         tolerant" in text
    assert "fault:" not in text


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--fault", "explode"], "unknown fault kind"),
        (["--fault", "fail=files"], "unknown endpoint 'files'"),
        (["--faults", "missing.json"], "cannot read missing.json"),
    ],
)
def test_bad_fault_options_are_usage_errors(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser(prog="apscores")
    sandbox_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "serve", *argv])
    assert sandbox_cmd.run_serve(args) == 2
    assert fragment in capsys.readouterr().err


def test_a_faults_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text("{nope", encoding="utf-8")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_fault_specs(path)


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("fail=generate,status=504,times=2",
         {"kind": "fail", "endpoint": "generate", "status": 504, "times": 2}),
        ("fail=record,status=200,message=Try later.",
         {"kind": "fail", "endpoint": "record", "status": 200, "message": "Try later."}),
        ("fail_record=null", {"kind": "fail_record", "times": None}),
        ("disconnect", {"kind": "disconnect"}),
        ("truncate,after_bytes=10", {"kind": "truncate", "after_bytes": 10}),
        ("refuse=webServiceAuth", {"kind": "refuse", "endpoint": "login"}),
        ("timeout=generate,seconds=0.5,processed=true",
         {"kind": "timeout", "endpoint": "generate", "seconds": 0.5, "processed": True}),
        ("delay=storage,seconds=2", {"kind": "delay", "endpoint": "download", "seconds": 2.0}),
        ("expired-url", {"kind": "expire_url"}),
        ("expire_url=2", {"kind": "expire_url", "times": 2}),
        ("expire_token_after=1", {"kind": "expire_token_after", "calls": 1}),
    ],
)  # fmt: skip
def test_text_and_json_forms_are_one_parser(text: str, data: dict[str, Any]) -> None:
    spec = FaultSpec.parse(text)
    assert spec.to_dict() == data
    assert FaultSpec.from_dict(data) == spec
    assert FaultSpec.parse(spec.to_text()) == spec
    assert parse_fault_specs([data]) == [spec]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("fail", "a JSON object with a kind"),
        ({"endpoint": "login"}, "a fault needs a kind"),
        ({"kind": "fail", "endpoint": "login", "colour": "red"}, "unknown option(s) colour"),
        ({"kind": "fail", "endpoint": "login", "status": 99}, "HTTP status from 200 to 599"),
        ({"kind": "fail", "endpoint": "login", "status": True}, "HTTP status"),
        ({"kind": "fail", "endpoint": "login", "times": 0}, "times must be an integer >= 1"),
        ({"kind": "fail", "endpoint": 7}, "endpoint must be an endpoint name"),
        ({"kind": "fail", "endpoint": "login", "message": 5}, "message must be a string"),
        ({"kind": "fail", "endpoint": "login", "processed": "yes"}, "true or false"),
        ({"kind": "delay", "endpoint": "login", "seconds": -1}, "seconds from 0 to 600"),
        ({"kind": "delay", "endpoint": "login"}, "missing option(s) seconds"),
        ({"kind": "expire_token_after", "calls": -1}, "calls must be an integer >= 0"),
    ],
)
def test_spec_errors_say_what_is_wrong(data: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        FaultSpec.from_dict(data)


def test_text_form_errors() -> None:
    with pytest.raises(ValueError, match="needs a name"):
        FaultSpec.parse("fail=generate,504")


def test_a_change_applies_to_the_in_process_service_too() -> None:
    service = SandboxService.default()
    FaultChange.from_dict({"add": [{"kind": "fail", "endpoint": "generate"}]}).apply(service.faults)
    FaultChange.from_dict({"add": {"kind": "expire_token_after", "calls": 2}}).apply(service.faults)
    assert service.faults.token_call_limit == 2
    assert [f.endpoint for f in service.faults.armed] == ["generate"]
    FaultChange.from_dict({"set": []}).apply(service.faults)
    assert service.faults.to_dict() == {"armed": []}


# -- a listing is a change: posted back as it is ------------------------------------------------

EVERY_KIND = [
    {"kind": "fail", "endpoint": "webServiceAuth", "status": 503, "times": 2, "retry_after": 1},
    {"kind": "fail_record", "times": None, "message": "Could not record."},
    {"kind": "disconnect", "endpoint": "generate", "after_bytes": 5},
    {"kind": "truncate"},
    {"kind": "cut_at_record", "records": 2},
    {"kind": "refuse", "endpoint": "record", "times": 3},
    {"kind": "timeout", "endpoint": "login", "seconds": 0.5, "processed": True},
    {"kind": "delay", "endpoint": "storage", "seconds": 1.5},
    {"kind": "expired-url", "times": 2},
    {"kind": "expire_token_after", "calls": 3},
]


def test_the_listing_names_every_kind_as_it_was_posted(api: Api) -> None:
    listed = api.faults({"set": EVERY_KIND})["armed"]
    assert [spec["kind"] for spec in listed] == [
        "fail", "fail_record", "disconnect", "truncate", "cut_at_record", "refuse", "timeout",
        "delay", "expire_url", "expire_token_after",
    ]  # fmt: skip
    assert listed[0] == {
        "kind": "fail", "endpoint": "login", "status": 503, "times": 2, "message": None,
        "retry_after": 1, "processed": False,
    }  # fmt: skip
    assert listed[1] == {
        "kind": "fail_record", "times": None, "status": 200, "message": "Could not record.",
    }  # fmt: skip
    assert listed[7] == {"kind": "delay", "endpoint": "download", "seconds": 1.5, "times": None}


def test_a_listing_posted_back_as_it_is_arms_the_same_faults(api: Api) -> None:
    listing = api.faults({"set": EVERY_KIND})
    assert api.faults({"clear": True}) == {"armed": []}
    assert api.faults(listing) == listing  # GET's answer is a valid POST body
    status, state = send(api.control("state"))
    assert (status, state["faults"]) == (200, listing)
    assert api.faults(listing) == listing  # posting it twice replaces, not adds


def test_a_listing_counts_down_and_posts_back_what_is_left(api: Api) -> None:
    listing = api.faults({"set": [{"kind": "fail", "endpoint": "generate", "times": 2}]})
    assert api.generate()[0] == 504
    left = send(api.control("faults"))[1]
    assert left["armed"][0]["times"] == 1
    api.faults({"clear": True})
    api.faults(left)
    assert [api.generate()[0] for _ in range(2)] == [504, 200]
    assert listing["armed"][0]["times"] == 2


def test_a_listing_with_anything_else_is_refused(api: Api) -> None:
    status, body = send(api.control("faults"), {"armed": [], "add": []})
    assert status == 400
    assert "send it alone" in body["error"]


def test_a_saved_listing_is_a_faults_file(api: Api, tmp_path: Path) -> None:
    listing = api.faults({"set": EVERY_KIND})
    saved = tmp_path / "faults.json"
    saved.write_text(json.dumps(listing), encoding="utf-8")
    specs = load_fault_specs(saved)
    service = SandboxService.default()
    for spec in specs:
        spec.arm(service.faults)
    assert service.faults.to_dict() == listing


def test_in_process_listing_round_trips_through_a_change() -> None:
    service = SandboxService.default()
    for spec in parse_fault_specs(EVERY_KIND):
        spec.arm(service.faults)
    listing = service.faults.to_dict()
    again = SandboxService.default()
    FaultChange.from_dict(json.loads(json.dumps(listing))).apply(again.faults)
    assert again.faults.to_dict() == listing
    assert [fault.kind for fault in again.faults.armed] == [
        fault.kind for fault in service.faults.armed
    ]


def test_the_kinds_are_the_arming_methods_and_all_are_listed_above() -> None:
    from apscores.sandbox._faults import KINDS

    assert set(KINDS) == {FaultSpec.from_dict(spec).kind for spec in EVERY_KIND}
    for kind, method in KINDS.items():
        assert getattr(Faults, kind).__doc__ == method.__doc__


def test_an_isolated_fault_never_fires_on_the_loopback_server(
    api: Api, server: SandboxServer
) -> None:
    with server.service.faults.isolated() as faults:
        faults.fail("generate", times=None)
        assert api.generate()[0] == 200  # the server answers on threads of its own
    assert server.service.faults.armed == []
