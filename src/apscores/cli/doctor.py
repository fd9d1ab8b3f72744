"""``apscores doctor``: check a setup and say what is wrong in plain words.

It checks that credentials are found (and where), then that a login works. When the login
is refused it prints College Board's prerequisites for a web-service account, because the
service does not say which one failed (``web-service.md`` §10). Then it lists what no
answer of the service can show (:data:`CANNOT_CHECK`): MFA off, the terms of use accepted,
and that downloads are tracked per account, so the job's account must be its alone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from apscores.cli.credentials import Credentials, find_credentials
from apscores.cli.exitcodes import ExitCode
from apscores.errors import APScoresError, AuthenticationError

__all__ = ["CANNOT_CHECK", "DOWNLOADS_PER_ACCOUNT", "PREREQUISITES", "add_arguments", "run_doctor"]

#: What College Board requires of the account behind the web service, as questions.
PREREQUISITES: tuple[str, ...] = (
    "Is multi-factor authentication (MFA) off for this account? The web service does not "
    "work with MFA on; use a dedicated account for automation.",
    "Is the password current? Passwords expire: log in to the AP Higher Education Score "
    "Reports portal in a browser, set a new password if asked, then update the one apscores "
    "uses.",
    "Does the account have the APOSRD HED Admin role for this institution? If not, ask the "
    "institution's main College Board contact for the access code and add the role.",
    "Have the portal's terms of use been accepted? Log in to the AP HED Score Reports portal "
    "once in a browser and accept them.",
    "Are you logging in with the account's email address? Legacy usernames no longer work.",
)


#: College Board's setup FAQ: "Downloads are tracked at the individual account level and
#: not at the organizational level." So ``new`` is this account's, and a portal download
#: with it moves the job's watermark without telling anyone.
DOWNLOADS_PER_ACCOUNT = (
    "Is this account used only by the automated job? College Board tracks downloads per "
    "account, not per institution: a download through the portal (or another script) with "
    "it makes the job's next `new` file skip those reports. Never download with it by hand; "
    "after a manual download, run `apscores fetch --kind full`, then `apscores merge` over "
    "the files (it collapses what was already loaded)."
)

#: What a working (or refused) login cannot show, as questions.
CANNOT_CHECK: tuple[str, ...] = (
    "Is multi-factor authentication (MFA) off for this account, and will it stay off? "
    "Turning it on later stops the web service for the scheduled job.",
    "Have the portal's terms of use been accepted for this account? Log in to the AP HED "
    "Score Reports portal once in a browser and accept them.",
    DOWNLOADS_PER_ACCOUNT,
)


def _cannot_check(out: TextIO, items: tuple[str, ...] = CANNOT_CHECK) -> None:
    out.write("Cannot check from here; please confirm:\n")
    for item in items:
        out.write(f"  [?] {item}\n")


def _checklist(out: TextIO) -> None:
    out.write("College Board requires all of these for the web service; please check:\n")
    for item in PREREQUISITES:
        out.write(f"  [ ] {item}\n")


async def _login(credentials: Credentials | None) -> None:
    """Log in once (the sandbox when there are no credentials to use)."""
    if credentials is None:
        from apscores.sandbox import SandboxService, sandbox_async_client

        async with sandbox_async_client(SandboxService.default(strict=True)) as client:
            await client.session.login()
        return
    from apscores.service import AsyncClient

    async with AsyncClient(email=credentials.email, password=credentials.password) as client:
        await client.session.login()


def run_doctor(args: argparse.Namespace) -> int:
    """Check credentials and login; 0 when all is well, else the matching exit code."""
    out = sys.stdout
    credentials: Credentials | None = None
    if args.sandbox:
        out.write("[ok] credentials: the sandbox's built-in account\n")
    else:
        credentials, notes = find_credentials()
        if credentials is None:
            out.write("[!!] credentials: none found\n")
            for note in notes:
                out.write(f"     - {note}\n")
            out.write(
                "     Set APSCORES_EMAIL and APSCORES_PASSWORD, or run "
                "`keyring set apscores you@college.edu` (pip install 'apscores[keyring]').\n"
            )
            return ExitCode.USAGE
        out.write(f"[ok] credentials: {credentials.email} (from {credentials.source})\n")
    try:
        asyncio.run(_login(credentials))
    except AuthenticationError as error:
        out.write(f"[!!] login refused: {error.message}\n")
        _checklist(out)  # MFA and the terms of use are on it already
        _cannot_check(out, (DOWNLOADS_PER_ACCOUNT,))
        return ExitCode.AUTH
    except APScoresError as error:
        out.write(f"[!!] login failed: {error}\n")
        out.write("     Is the network up, and can this machine reach the service?\n")
        _cannot_check(out)
        return ExitCode.PARTIAL
    out.write("[ok] login works\n")
    _cannot_check(out)
    return ExitCode.OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores doctor``."""
    parser.add_argument(
        "--sandbox", action="store_true", help="check against the built-in sandbox instead"
    )
    parser.set_defaults(func=run_doctor)
