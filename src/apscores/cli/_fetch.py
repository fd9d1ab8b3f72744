"""``apscores fetch``: the scheduled job from the command line.

Arguments, credentials, the sandbox demo, the progress display and the summary live here;
the job itself is :func:`apscores.jobs.fetch` (its docstring says how a crash at any point
is finished by the next run). Exit statuses are :mod:`apscores.cli.exitcodes`'.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from apscores._atomic import make_folder
from apscores.catalog import is_di_code
from apscores.cli._client import service_client
from apscores.cli._credentials import Credentials, find_credentials
from apscores.cli._output import LOGGER
from apscores.cli.exitcodes import ExitCode, worst
from apscores.errors import APIError, AuthenticationError, ConfigurationError
from apscores.jobs import (
    DiResult,
    FetchEvents,
    FetchOptions,
    FetchOutcome,
    FetchSummary,
    Ledger,
    default_ledger_path,
    fetch,
)
from apscores.service import AsyncClient, check_format, check_kind

if TYPE_CHECKING:
    import httpx

__all__ = ["EXIT_CODES", "add_arguments", "exit_code", "run_fetch"]

#: A DI code's outcome -> the process's exit status.
EXIT_CODES = {
    FetchOutcome.OK: ExitCode.OK,
    FetchOutcome.NOTHING_NEW: ExitCode.NOTHING_NEW,
    FetchOutcome.FAILED: ExitCode.PARTIAL,
    FetchOutcome.AUTH: ExitCode.AUTH,
    FetchOutcome.LOCKED: ExitCode.LOCKED,
    FetchOutcome.STORAGE: ExitCode.STORAGE,
    FetchOutcome.UNDELIVERED: ExitCode.PARTIAL,
}


def exit_code(summary: FetchSummary) -> ExitCode:
    """The run's exit status (see :mod:`apscores.cli.exitcodes`)."""
    return worst([EXIT_CODES[result.outcome] for result in summary.results])


def _credentials() -> Credentials:
    """Found before the event loop and the progress bar start, so a prompt owns the
    terminal and Ctrl-C at it stops the command at once."""
    credentials, notes = find_credentials()
    if credentials is None:
        raise ConfigurationError(
            "no College Board credentials found (" + "; ".join(notes) + "). Set "
            "APSCORES_EMAIL and APSCORES_PASSWORD, or store the password in the keyring: "
            "keyring set apscores you@college.edu. Try the demo with --sandbox."
        )
    return credentials


@contextlib.asynccontextmanager
async def _real_session(
    credentials: Credentials, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[AsyncClient]:
    async with service_client(credentials, transport) as client:
        yield client


async def _fetch_all(
    args: argparse.Namespace,
    di_codes: tuple[str, ...],
    options: FetchOptions,
    events: FetchEvents | None,
    credentials: Credentials | None,
) -> FetchSummary:
    dest = Path(args.dest)
    if credentials is None:
        from apscores.cli._demo import default_state_path, sandbox_session

        state = args.sandbox_state or default_state_path(dest)
        session = sandbox_session(state, di_codes)
    else:
        session = _real_session(credentials, args.transport)
    async with session as client:
        try:
            await client.session.login()
        except AuthenticationError as error:
            refused = (DiResult(code, FetchOutcome.AUTH, message=str(error)) for code in di_codes)
            return FetchSummary(tuple(refused))
        except APIError as error:  # no answer (network, DNS, a 5xx): every code failed
            LOGGER.error("cannot log in: %s", error)
            failed = (DiResult(code, FetchOutcome.FAILED, message=str(error)) for code in di_codes)
            return FetchSummary(tuple(failed))
        with Ledger(args.ledger or default_ledger_path(dest)) as ledger:
            return await fetch(
                client,
                di_codes,
                dest,
                ledger=ledger,
                options=options,
                events=events,
            )


def _print_summary(summary: FetchSummary, out: TextIO) -> None:
    for result in summary.results:
        if result.files:
            files = len(result.files)
            recovered = sum(f.recovered for f in result.files)
            line = (
                f"DI {result.di_code}: {files} file{'s' if files != 1 else ''}, "
                f"{result.students} students, {result.exams} exams"
            )
            if recovered:
                line += f" ({recovered} finished from an earlier run)"
            out.write(line + "\n")
            for saved in result.files:
                out.write(f"  {saved.path}\n")
        elif result.outcome is FetchOutcome.NOTHING_NEW:
            out.write(f"DI {result.di_code}: nothing new\n")
        if result.redelivered:
            out.write(
                f"DI {result.di_code}: handed off {result.redelivered} file(s) that earlier"
                " runs could not\n"
            )
        if result.undelivered and result.outcome is not FetchOutcome.UNDELIVERED:
            out.write(
                f"DI {result.di_code}: {result.undelivered} file(s) recorded but not yet"
                " handed off (--on-new); the next run retries\n"
            )
        if result.message:
            out.write(f"DI {result.di_code}: {result.outcome.value}: {result.message}\n")


def _json(summary: FetchSummary, code: ExitCode, dest: Path) -> dict[str, Any]:
    institutions = []
    for result in summary.results:
        item = result.as_json()
        item["exit_code"] = int(EXIT_CODES[result.outcome])
        institutions.append(item)
    return {
        "exit_code": int(code),
        "status": code.name.lower(),
        "dest": str(dest),
        "institutions": institutions,
    }


def _di_codes(args: argparse.Namespace) -> tuple[str, ...]:
    codes: tuple[str, ...] = tuple(dict.fromkeys(args.di or ()))
    if not codes:
        if not args.sandbox:
            raise ConfigurationError("give at least one --di CODE (a 4-digit DI code)")
        from apscores.cli._demo import DEMO_DI_CODES

        codes = DEMO_DI_CODES
    bad = [code for code in codes if not is_di_code(code)]
    if bad:
        raise ConfigurationError(f"--di {bad[0]}: a DI code is 4 digits, like 1234")
    return codes


def run_fetch(args: argparse.Namespace) -> int:
    """``apscores fetch``: returns an :class:`ExitCode`."""
    di_codes = _di_codes(args)
    dest = Path(args.dest)
    make_folder(dest, "--dest")  # a StorageError: exit 7
    options = FetchOptions(
        kind=check_kind(args.kind),
        format=check_format(args.format),
        wait_lock=args.wait_lock,
        on_new=args.on_new,
        check=args.check,
    )
    credentials = None if args.sandbox else _credentials()
    show_bar = not args.quiet and not args.json and sys.stderr.isatty()
    if show_bar:
        from apscores.cli._progress import FetchProgress

        with FetchProgress(sys.stderr, di_codes) as bar:
            summary = asyncio.run(_fetch_all(args, di_codes, options, bar, credentials))
    else:
        summary = asyncio.run(_fetch_all(args, di_codes, options, None, credentials))
    code = exit_code(summary)
    if args.json:
        sys.stdout.write(json.dumps(_json(summary, code, dest), indent=2) + "\n")
    elif not args.quiet:
        _print_summary(summary, sys.stdout)
    LOGGER.info("fetch finished: %s", code.name.lower(), extra={"exit_code": int(code)})
    return code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``apscores fetch``."""
    parser.add_argument(
        "--di",
        action="append",
        metavar="CODE",
        help="a DI code to fetch (repeat for several; with --sandbox default 1234 and 5678)",
    )
    parser.add_argument(
        "--kind",
        choices=("new", "full"),
        default="new",
        help="new: scores since this account last recorded a download (default); "
        "full: everything since July 1",
    )
    parser.add_argument("--format", choices=("txt", "csv"), default="txt", help="default txt")
    parser.add_argument(
        "--dest", required=True, type=Path, metavar="DIR", help="where files go (created)"
    )
    parser.add_argument(
        "--ledger",
        type=Path,
        metavar="PATH",
        help="download ledger (default DIR/.apscores-ledger.sqlite3)",
    )
    parser.add_argument(
        "--on-new",
        metavar="CMD",
        help="hand each new file to CMD, its path as the last argument (no shell; its "
        "environment carries APSCORES_FILE, APSCORES_DI_CODE... and no secret); a file "
        "whose CMD fails is handed off again by every run until CMD succeeds",
    )
    waiting = parser.add_mutually_exclusive_group()
    waiting.add_argument(
        "--wait-lock",
        action="store_true",
        help="wait for another run that holds a DI code's lock",
    )
    waiting.add_argument(
        "--no-wait",
        dest="wait_lock",
        action="store_false",
        help="skip a locked DI code and exit 6 (default)",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="record downloads without checking they are whole score files (only while "
        "apscores is updated for a changed College Board layout)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the built-in sandbox with synthetic data (no account needed)",
    )
    parser.add_argument(
        "--sandbox-state",
        type=Path,
        metavar="PATH",
        help="the sandbox's saved state (default DIR/.apscores-sandbox.json)",
    )
    parser.set_defaults(func=run_fetch)
