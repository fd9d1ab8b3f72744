"""The storage host through raw httpx: presigned URLs, their expiry and signature, S3's
answers and what it records of credentials sent to it."""

from __future__ import annotations

import pytest

from apscores.sandbox import (
    FakeClock,
    SandboxService,
)
from sandbox._raw_api import AUTHN, AUTHZ, Api

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
