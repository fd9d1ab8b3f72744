"""A keyring for tests, installed through ``keyring``'s own public switch (``set_keyring``).

``apscores`` reads the system keyring through the ``keyring`` package; tests give it this
backend instead of patching apscores' internals. ``missing`` makes ``import keyring`` fail,
as on a machine without the ``keyring`` extra.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential


class FakeKeyring(KeyringBackend):
    """Entries for service ``apscores``; ``fail`` makes every look-up raise."""

    priority = 1

    def __init__(self, entries: dict[str, str] | None = None, fail: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries = dict(entries or {})
        self.fail = fail

    def get_password(self, service: str, username: str) -> str | None:
        assert service == "apscores"
        if self.fail:
            raise RuntimeError("no backend")
        return self.entries.get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[username] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop(username, None)

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        if self.fail:
            raise RuntimeError("no backend")
        for name, password in self.entries.items():
            return SimpleCredential(name, password)
        return None


class Keyrings:
    """What a test sets: ``use(FakeKeyring(...))`` or ``missing()``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def use(self, backend: KeyringBackend) -> None:
        self._monkeypatch.setitem(sys.modules, "keyring", keyring)
        keyring.set_keyring(backend)

    def missing(self) -> None:
        self._monkeypatch.setitem(sys.modules, "keyring", None)


@pytest.fixture
def keyrings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Keyrings]:
    """The keyring apscores sees in this test (an empty one until the test says)."""
    before = keyring.get_keyring()
    keyring.set_keyring(FakeKeyring())
    try:
        yield Keyrings(monkeypatch)
    finally:
        keyring.set_keyring(before)
