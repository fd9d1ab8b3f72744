"""A hand-rolled caller of the sandbox that sends exactly what the reference describes,
through the in-process transport (no apscores client involved); its fixtures are in
``conftest.py``."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from apscores.sandbox import DEFAULT_EMAIL, DEFAULT_PASSWORD, SandboxService

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
