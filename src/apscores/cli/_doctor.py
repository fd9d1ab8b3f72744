"""``apscores doctor``: check a setup and say what is wrong in plain words.

It says which base URL it checks (production, the built-in sandbox with ``--sandbox``, or
another from ``APSCORES_BASE_URL``, such as ``apscores sandbox serve``), checks that
credentials are found (and where), then that a login works. When the login
is refused it prints College Board's prerequisites for a web-service account, because the
service does not say which one failed (``docs/reference/web-service.md`` §10). Then it lists what no
answer of the service can show (:data:`CANNOT_CHECK`): MFA off, the terms of use accepted,
and that downloads are tracked per account, so the job's account must be its alone.
``--di CODE`` also checks that the account may use each DI code: it asks the service to
prepare a file of new scores, as ``fetch`` does, and neither downloads nor records it, so
nothing moves (``_guesses`` G3: an unrecorded download leaves the ``new`` watermark alone).
``--json`` prints the same findings as one document (:meth:`DoctorReport.as_json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from apscores._extras import install_hint
from apscores.cli._client import service_client
from apscores.cli._credentials import Credentials, find_credentials
from apscores.cli.exitcodes import ExitCode
from apscores.errors import (
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    DiCodeRefusedError,
)
from apscores.service import (
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    check_di_code,
    resolve_base_url,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CANNOT_CHECK",
    "DOWNLOADS_PER_ACCOUNT",
    "PREREQUISITES",
    "SERVICE_LABELS",
    "DoctorReport",
    "add_arguments",
    "diagnose",
    "run_doctor",
]

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


#: The ``service`` field of ``doctor --json`` -> its words in the text output. ``custom`` is
#: any base URL but College Board's production one (``apscores sandbox serve``, a proxy).
SERVICE_LABELS = {
    "production": "production",
    "sandbox": "built-in sandbox, no network",
    "custom": "not production: APSCORES_BASE_URL",
}


@attrs.define
class DoctorReport:
    """What ``doctor`` found, printed as text or as JSON (``--json``)."""

    base_url: str
    service: str  # a key of SERVICE_LABELS
    credentials: Credentials | None = None
    notes: list[str] = attrs.Factory(list)
    login: str = "not_tried"  # ok, refused, failed or not_tried
    message: str = ""
    checklist: tuple[str, ...] = ()
    cannot_check: tuple[str, ...] = ()
    exit_code: ExitCode = ExitCode.OK
    #: DI code -> (``ok``, ``refused`` or ``failed``, what the service said), for ``--di``.
    di_codes: dict[str, tuple[str, str]] = attrs.Factory(dict)

    def as_json(self) -> dict[str, Any]:
        """The ``doctor --json`` document (its shape is in ``docs/command-line.md``)."""
        found = self.credentials
        return {
            "exit_code": int(self.exit_code),
            "status": self.exit_code.name.lower(),
            "base_url": self.base_url,
            "service": self.service,
            "credentials": {
                "found": found is not None,
                "email": found.email if found else None,
                "source": found.source if found else None,
                "notes": self.notes,
            },
            "login": {"status": self.login, "message": self.message},
            "di_codes": [
                {"di_code": code, "status": status, "message": message}
                for code, (status, message) in self.di_codes.items()
            ],
            "checklist": list(self.checklist),
            "cannot_check": list(self.cannot_check),
        }

    def render(self, out: TextIO) -> None:
        """The report as text: ``[ok]``, ``[!!]`` and ``[?]`` lines."""
        if self.exit_code is ExitCode.USAGE and self.login == "not_tried" and self.message:
            out.write(f"[!!] base URL: {self.message}\n")
            return
        out.write(f"[..] base URL: {self.base_url} ({SERVICE_LABELS[self.service]})\n")
        if self.service == "sandbox":
            out.write("[ok] credentials: the sandbox's built-in account\n")
        elif self.credentials is None:
            out.write("[!!] credentials: none found\n")
            for note in self.notes:
                out.write(f"     - {note}\n")
            out.write(
                "     Set APSCORES_EMAIL and APSCORES_PASSWORD, or run "
                f"`keyring set apscores you@college.edu` ({install_hint('keyring')}).\n"
            )
        else:
            found = self.credentials
            out.write(f"[ok] credentials: {found.email} (from {found.source})\n")
        if self.login == "ok":
            out.write("[ok] login works\n")
        elif self.login == "refused":
            out.write(f"[!!] login refused: {self.message}\n")
        elif self.login == "failed":
            out.write(f"[!!] login failed: {self.message}\n")
            host = self.base_url.split("/")[2]
            out.write(f"     Is the network up, and can this machine reach {host}?\n")
        for code, (status, message) in self.di_codes.items():
            mark = "[ok]" if status == "ok" else "[!!]"
            out.write(f"{mark} DI {code}: {message}\n")
        if self.checklist:
            out.write(
                "College Board requires all of these for the web service; please check:\n"
                if self.login != "ok"
                else "For the refused DI codes, please check:\n"
            )
            for item in self.checklist:
                out.write(f"  [ ] {item}\n")
        if self.cannot_check:
            out.write("Cannot check from here; please confirm:\n")
            for item in self.cannot_check:
                out.write(f"  [?] {item}\n")


async def _login(
    report: DoctorReport, di_codes: tuple[str, ...], transport: httpx.AsyncBaseTransport | None
) -> None:
    """Log in once, to the in-process sandbox or with the credentials found, then try each
    DI code.

    ``report.base_url`` becomes the URL the client really uses before it calls.
    """
    credentials = report.credentials
    assert credentials is not None
    if report.service == "sandbox":
        from apscores.sandbox import SandboxService, sandbox_async_client

        async with sandbox_async_client(SandboxService.default(strict=True)) as sandbox:
            report.base_url = sandbox.base_url
            await sandbox.session.login()
            await _try_di_codes(sandbox, report, di_codes)
        return
    async with service_client(credentials, transport) as client:
        report.base_url = client.base_url
        report.service = _label(client.base_url, sandbox=False)
        await client.session.login()
        await _try_di_codes(client, report, di_codes)


async def _try_di_codes(client: Any, report: DoctorReport, di_codes: tuple[str, ...]) -> None:
    """Whether the account may use each DI code (a file is prepared, never downloaded)."""
    for code in di_codes:
        try:
            generated = await client.files.generate(code)
        except DiCodeRefusedError as error:
            report.di_codes[code] = ("refused", f"refused: {error.message}")
        except AuthenticationError:
            raise
        except APScoresError as error:
            report.di_codes[code] = ("failed", f"cannot tell: {_one_line(error)}")
        else:
            waiting = "new scores are waiting" if generated is not None else "nothing new"
            report.di_codes[code] = ("ok", f"this account may use it ({waiting})")


def _label(base_url: str, sandbox: bool) -> str:
    if sandbox:
        return "sandbox"
    return "production" if base_url == DEFAULT_BASE_URL else "custom"


def diagnose(
    sandbox: bool,
    di_codes: tuple[str, ...] = (),
    transport: httpx.AsyncBaseTransport | None = None,
) -> DoctorReport:
    """Check the base URL, the credentials, a login and each DI code; never raises for what
    it checks."""
    if sandbox:
        from apscores.sandbox import DEFAULT_EMAIL, DEFAULT_PASSWORD, SANDBOX_BASE_URL

        sandbox_account = Credentials(DEFAULT_EMAIL, DEFAULT_PASSWORD, "sandbox")
        report = DoctorReport(SANDBOX_BASE_URL, "sandbox", credentials=sandbox_account)
    else:
        try:
            base_url = resolve_base_url(None)
        except ConfigurationError as error:  # APSCORES_BASE_URL is not an http(s) URL
            wrong = os.environ.get(ENV_BASE_URL, "")
            return DoctorReport(wrong, "custom", message=str(error), exit_code=ExitCode.USAGE)
        report = DoctorReport(base_url, _label(base_url, sandbox=False))
        report.credentials, report.notes = find_credentials()
        if report.credentials is None:
            report.exit_code = ExitCode.USAGE
            return report
    try:
        asyncio.run(_login(report, di_codes, transport))
    except AuthenticationError as error:
        report.login, report.message = "refused", error.message
        report.checklist = PREREQUISITES  # MFA and the terms of use are on it already
        report.cannot_check = (DOWNLOADS_PER_ACCOUNT,)
        report.exit_code = ExitCode.AUTH
    except APScoresError as error:
        report.login, report.message = "failed", _one_line(error)
        report.cannot_check = CANNOT_CHECK
        report.exit_code = ExitCode.PARTIAL
    else:
        report.login, report.cannot_check = "ok", CANNOT_CHECK
        refused = [code for code, (status, _) in report.di_codes.items() if status != "ok"]
        if refused:
            report.checklist = (PREREQUISITES[2],)  # the role, for those institutions
            report.exit_code = ExitCode.PARTIAL
    return report


def _one_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def run_doctor(args: argparse.Namespace) -> int:
    """Check credentials and login; 0 when all is well, else the matching exit code."""
    di_codes = tuple(dict.fromkeys(check_di_code(code) for code in args.di))
    report = diagnose(args.sandbox, di_codes, args.transport)
    if args.json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        report.render(sys.stdout)
    return report.exit_code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores doctor``."""
    parser.add_argument(
        "--sandbox", action="store_true", help="check against the built-in sandbox instead"
    )
    parser.add_argument(
        "--di",
        metavar="CODE",
        action="append",
        default=[],
        help="also check that the account may use this DI code (repeatable): the service "
        "prepares a file of new scores, which is neither downloaded nor recorded",
    )
    parser.set_defaults(func=run_doctor)
