"""Find the College Board account's credentials: environment, keyring, then a prompt.

Never from a command-line argument, where other users of the machine (``ps``) and the
shell history would see the password. The order:

1. ``APSCORES_EMAIL`` and ``APSCORES_PASSWORD`` in the environment (cron, CI, containers);
2. the system keyring, service ``apscores``: ``keyring set apscores you@college.edu``
   (set ``APSCORES_EMAIL`` too when the keyring cannot look up an entry by service alone);
3. an interactive prompt, only when stdin is a terminal.
"""

from __future__ import annotations

import getpass
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import attrs

from apscores._extras import install_hint

__all__ = ["KEYRING_SERVICE", "Credentials", "find_credentials"]

KEYRING_SERVICE = "apscores"


@attrs.frozen
class Credentials:
    """An email and a password, and where they came from (``env``, ``keyring``, ``prompt``)."""

    email: str
    password: str = attrs.field(repr=False)
    source: str


def _keyring() -> Any:
    try:
        return importlib.import_module("keyring")
    except ImportError:
        return None


def keyring_lookup(email: str | None) -> tuple[Credentials | None, str]:
    """Credentials from the keyring, and a note on what was tried (for ``doctor``)."""
    keyring = _keyring()
    if keyring is None:
        return None, f"keyring is not installed ({install_hint('keyring')})"
    try:
        if email:
            password = keyring.get_password(KEYRING_SERVICE, email)
            if password:
                return Credentials(email, password, "keyring"), f"keyring entry for {email}"
            return None, f"no keyring entry for service {KEYRING_SERVICE!r} and user {email}"
        found = keyring.get_credential(KEYRING_SERVICE, None)
    except Exception as error:  # any backend failure means "not available"
        return None, f"keyring is not usable here ({type(error).__name__})"
    if found is not None and found.username and found.password:
        return Credentials(found.username, found.password, "keyring"), "keyring entry"
    return None, f"no keyring entry for service {KEYRING_SERVICE!r} (set APSCORES_EMAIL?)"


def find_credentials(
    *,
    environ: dict[str, str] | None = None,
    interactive: bool | None = None,
    ask: Callable[[str], str] | None = None,
    ask_secret: Callable[[str], str] | None = None,
) -> tuple[Credentials | None, list[str]]:
    """The first credentials found, and notes on every source tried (for error messages)."""
    env = os.environ if environ is None else environ
    notes: list[str] = []
    email = env.get("APSCORES_EMAIL", "").strip() or None
    password = env.get("APSCORES_PASSWORD", "")
    if email and password:
        return Credentials(email, password, "env"), ["environment variables"]
    notes.append(
        "APSCORES_PASSWORD is not set" if email else "APSCORES_EMAIL/APSCORES_PASSWORD are not set"
    )
    found, note = keyring_lookup(email)
    notes.append(note)
    if found is not None:
        return found, notes
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive:
        notes.append("no terminal to ask on")
        return None, notes
    try:  # Ctrl-D (end of input) is "nothing typed"; Ctrl-C stops the command
        typed = email or (ask or input)("College Board account email: ").strip()
        if not typed:  # never ask for the password of nobody
            notes.append("no email was typed")
            return None, notes
        password = (ask_secret or getpass.getpass)(f"Password for {typed}: ")
    except EOFError:
        typed = password = ""
    if typed and password:
        return Credentials(typed, password, "prompt"), notes
    notes.append("nothing was typed")
    return None, notes
