"""The state object's rules through raw httpx: ``new`` versus ``full``, watermarks kept per
account and DI code and moved only by recording, the reporting year."""

from __future__ import annotations

import httpx

from apscores.sandbox import (
    NO_SCORE_ORDERS,
    FakeClock,
    SandboxService,
    fake_reports,
)
from sandbox._raw_api import Api

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
