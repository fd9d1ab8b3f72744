"""``fetch --sandbox`` means what the in-process sandbox and ``serve`` mean: ``full``
re-delivers the reporting year every time, ``new`` what the account has not recorded; the
saved state (version 2) keeps that between runs, and older or broken files are handled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apscores.cli import main
from apscores.cli._demo import DEMO_REPORTS, load_service, save_service
from apscores.cli.exitcodes import ExitCode
from apscores.sandbox import DEFAULT_EMAIL, DEFAULT_PASSWORD, fake_reports
from apscores.serialize import to_dict


def fetch(dest: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = main(
        ["fetch", "--sandbox", "--di", "1234", "--dest", str(dest), "--kind", kind, "--json"]
    )
    (institution,) = json.loads(capsys.readouterr().out)["institutions"]
    return code, institution


def test_full_twice_delivers_everything_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        code, institution = fetch(tmp_path, "full", capsys)
        assert code == ExitCode.OK
        assert institution["students"] == DEMO_REPORTS
    assert len(list(tmp_path.glob("AP_HED_Scores_1234_*"))) == 2


def test_new_twice_says_nothing_new_and_full_still_delivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch(tmp_path, "new", capsys)[1]["students"] == DEMO_REPORTS
    code, institution = fetch(tmp_path, "new", capsys)
    assert (code, institution["status"]) == (ExitCode.NOTHING_NEW, "nothing_new")
    assert fetch(tmp_path, "full", capsys)[1]["students"] == DEMO_REPORTS
    assert fetch(tmp_path, "new", capsys)[0] == ExitCode.NOTHING_NEW


def test_the_saved_state_is_every_order_and_each_accounts_delivered_set(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    service, next_id = load_service(state, ("1234", "5678"))
    service.portal_download(DEFAULT_EMAIL, "5678")
    service.mark_delivered(DEFAULT_EMAIL, "1234", [1, 2, 3])
    save_service(service, state, next_download_id=next_id)
    saved = json.loads(state.read_text())
    assert saved["version"] == 2
    assert [len(saved["orders"][di]) for di in ("1234", "5678")] == [25, 25]
    assert saved["delivered"][DEFAULT_EMAIL]["1234"] == [1, 2, 3]
    assert len(saved["delivered"][DEFAULT_EMAIL]["5678"]) == 25
    assert DEFAULT_PASSWORD not in state.read_text()
    again, _ = load_service(state, ("1234",))
    assert [o.report for o in again.di_codes["1234"]] == [
        o.report for o in service.di_codes["1234"]
    ]
    assert len(again.pending("1234")) == 22
    assert again.pending("5678") == []
    assert again.strict  # our own client, held to the SDK's standard
    assert again.add_reports("1234", fake_reports(1)) == [51]  # ids carry on


def version_1(dest: Path, pending: list[Any], next_id: int = 700009) -> Path:
    path = dest / ".apscores-sandbox.json"
    dest.mkdir(parents=True, exist_ok=True)
    state = {"version": 1, "next_download_id": next_id, "pending": {"1234": pending}}
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def test_a_version_1_state_is_converted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeded = fake_reports(DEMO_REPORTS, seed=1234, di_code="1234")
    stray = fake_reports(1, seed=99, di_code="1234")[0]  # not one of the demo's own
    version_1(tmp_path, [to_dict(report) for report in [*seeded[20:], stray]])
    code, institution = fetch(tmp_path, "new", capsys)
    assert (code, institution["students"]) == (ExitCode.OK, 6)
    assert institution["files"][0]["download_id"] == "700009"
    code, institution = fetch(tmp_path, "full", capsys)
    assert institution["students"] == DEMO_REPORTS + 1
    assert json.loads((tmp_path / ".apscores-sandbox.json").read_text())["version"] == 2


@pytest.mark.parametrize(
    "content", ["{broken", "[]", '{"version": 99, "next_download_id": 1}', '{"version": 2}']
)
def test_an_unreadable_state_is_moved_aside(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".apscores-sandbox.json"
    path.write_text(content, encoding="utf-8")
    code, institution = fetch(tmp_path, "new", capsys)
    assert (code, institution["students"]) == (ExitCode.OK, DEMO_REPORTS)
    assert (tmp_path / ".apscores-sandbox.json.old").read_text(encoding="utf-8") == content
    assert json.loads(path.read_text())["version"] == 2
