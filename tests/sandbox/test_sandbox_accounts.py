"""Downloads are tracked per account (College Board's setup FAQ): in the sandbox each account
has its own ``new`` watermark for a DI code, so two accounts each get every report once, and
a download by one never moves the other's. Our own client, against the strict sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from apscores import merge
from apscores.files._detect import read
from apscores.sandbox import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    SandboxService,
    fake_reports,
    sandbox_client,
)
from apscores.service import DownloadResult

SECOND = "second@example.edu"
ACCOUNTS = ((DEFAULT_EMAIL, DEFAULT_PASSWORD), (SECOND, "pw-2"))


def ap_ids(path: Path) -> list[str]:
    with read(path) as reader:
        return [report.ap_id for report in reader]


@pytest.fixture
def service() -> SandboxService:
    """DI code 1234 with 4 orders, and two accounts of the same institution that may use it."""
    sandbox = SandboxService.default(reports=4, strict=True)
    sandbox.add_account(SECOND, "pw-2", di_codes=["1234"])
    return sandbox


def download(
    service: SandboxService,
    account: tuple[str, str],
    dest: Path,
    kind: Literal["new", "full"] = "new",
) -> DownloadResult | None:
    dest.mkdir(parents=True, exist_ok=True)
    email, password = account
    with sandbox_client(service, email=email, password=password) as client:
        return client.institution("1234").download(kind=kind, dest=dest)


def test_each_account_gets_every_report_once(service: SandboxService, tmp_path: Path) -> None:
    expected = [report.ap_id for report in fake_reports(4)]
    for account in ACCOUNTS:
        dest = tmp_path / account[0]
        first = download(service, account, dest)
        assert first is not None
        assert ap_ids(first.path) == expected
        assert download(service, account, dest) is None  # nothing new for this account
    assert {d.email for d in service.downloads} == {DEFAULT_EMAIL, SECOND}
    assert len(service.recorded_ids) == 2
    assert service.remarks == []


def test_one_accounts_record_does_not_move_the_others_new(
    service: SandboxService, tmp_path: Path
) -> None:
    assert download(service, ACCOUNTS[0], tmp_path / "job") is not None
    assert service.pending("1234", DEFAULT_EMAIL) == []
    assert service.delivered(DEFAULT_EMAIL, "1234") == {1, 2, 3, 4}
    assert service.delivered(SECOND, "1234") == set()
    assert len(service.pending("1234", SECOND)) == 4
    service.add_reports("1234", fake_reports(2, seed=9))  # new scores reach the institution
    assert service.state()["pending"] == {DEFAULT_EMAIL: {"1234": 2}, SECOND: {"1234": 6}}
    second = download(service, ACCOUNTS[1], tmp_path / "other")
    assert second is not None
    assert len(ap_ids(second.path)) == 6
    assert len(service.pending("1234", DEFAULT_EMAIL)) == 2  # untouched by the other account


def test_marking_by_hand_is_per_account(service: SandboxService) -> None:
    service.mark_delivered(SECOND.upper(), "1234", [1, 2])
    assert service.delivered(SECOND, "1234") == {1, 2}
    assert len(service.pending("1234", SECOND)) == 2
    assert len(service.pending("1234", DEFAULT_EMAIL)) == 4


def test_a_portal_download_with_the_jobs_account_is_recovered_by_full_and_merge(
    service: SandboxService, tmp_path: Path
) -> None:
    job = ACCOUNTS[0]
    first = download(service, job, tmp_path / "job")
    late = fake_reports(3, seed=7)
    service.add_reports("1234", late)  # new scores arrive...
    taken = service.portal_download(DEFAULT_EMAIL, "1234")  # ...and a person downloads them
    assert taken == late
    assert service.pending("1234", SECOND) != []  # only the job's account lost them
    assert download(service, job, tmp_path / "job") is None  # the job sees nothing new
    full = download(service, job, tmp_path / "job", kind="full")
    assert first is not None
    assert full is not None
    result = merge(first.path, full.path)
    expected = {report.ap_id for report in [*fake_reports(4), *late]}
    assert {report.ap_id for report in result.current} == expected
    assert result.duplicates == 4  # what was loaded already collapses
