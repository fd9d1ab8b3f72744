"""The ``apscores`` command (also ``python -m apscores``).

``fetch`` is the scheduled job; ``doctor`` checks a setup; ``read`` and ``convert`` look
into score files; ``sandbox``, ``merge``, ``credit``, ``export``, ``match`` and ``ledger``
come from their own modules through ``register(subparsers)``. Exit statuses:
:mod:`apscores.cli.exitcodes`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sqlite3
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from apscores._atomic import describe_os_error
from apscores.cli._output import LOGGER, fail, remove_logging, setup_logging
from apscores.cli.exitcodes import ExitCode
from apscores.errors import (
    APScoresError,
    AuthenticationError,
    ConfigurationError,
    ParseError,
    UnwritableRecordError,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["ExitCode", "build_parser", "main"]

EPILOG = """\
exit codes: 0 ok, 1 unexpected error (a bug), 2 usage, configuration or a bad file,
3 nothing new, 4 login refused, 5 some DI codes failed (re-running is safe), 6 a DI code
is locked by another run, 7 a local file cannot be written or read (full disk, read-only,
permissions), 8 some students wait for review or have no match (match, export),
130 interrupted (re-running is safe), 141 the reader of the output left (| head),
143 stopped by SIGTERM (re-running is safe).
Credentials come from APSCORES_EMAIL/APSCORES_PASSWORD, the keyring (service 'apscores')
or a prompt; never from the command line.
"""


_Commands = argparse._SubParsersAction
_Register = Callable[["_Commands[argparse.ArgumentParser]", argparse.ArgumentParser], None]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand, or only ``command``'s when it names one.

    A run imports only the code of its own command: ``convert`` never loads httpx, nor
    ``fetch`` the columnar engine (start-up is part of every scheduled run).
    """
    from apscores import __version__

    parser = argparse.ArgumentParser(
        prog="apscores",
        description="Download and read the AP score reports College Board sends to colleges.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"apscores {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    _add_logging_options(common)
    common.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name in [command] if command in _COMMANDS else list(_COMMANDS):
        _COMMANDS[name](commands, common)
    _exit_codes_in_every_help(commands)
    return parser


def _add_logging_options(parser: argparse.ArgumentParser) -> None:
    """``-q``, ``-v`` and ``--log-format``: every command takes them (a cron line is
    written the same way whatever it runs)."""
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only warnings and errors (for cron)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    parser.add_argument(
        "--log-format", choices=("plain", "json"), default="plain", help="log lines on stderr"
    )


def _added(name: str, module: str, function: str, **options: Any) -> _Register:
    """The command ``name`` whose options ``apscores.cli.<module>.<function>(parser)``
    adds to a parser made with ``options`` (its help, description...)."""

    def add(commands: _Commands[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
        parser = commands.add_parser(name, parents=[common], **options)
        getattr(importlib.import_module(f"apscores.cli.{module}"), function)(parser)

    return add


def _registered(name: str, module: str) -> _Register:
    """The command ``name`` registered by ``apscores.cli.<module>.register(commands)``;
    the logging options are added to the parser that runs it (``sandbox serve``'s for
    ``sandbox``), since its own options come before them."""

    def add(commands: _Commands[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
        importlib.import_module(f"apscores.cli.{module}").register(commands)
        _add_logging_options_to_leaves(commands.choices[name])

    return add


def _add_logging_options_to_leaves(parser: argparse.ArgumentParser) -> None:
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        _add_logging_options(parser)
    for action in nested:
        for sub in action.choices.values():
            _add_logging_options_to_leaves(sub)


#: Each command and what registers it, in the order ``--help`` lists them.
_COMMANDS: dict[str, _Register] = {
    "fetch": _added(
        "fetch",
        "_fetch",
        "add_arguments",
        help="download, save and record new score files for DI codes",
        description=(
            "For each DI code (concurrently): finish what an earlier run left, then "
            "generate, download, save and record the next file. Safe to run every hour."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ),
    "doctor": _added(
        "doctor",
        "_doctor",
        "add_arguments",
        help="check credentials and login, and explain what is wrong",
        description=(
            "Say which base URL is checked (College Board's production service, the "
            "built-in sandbox with --sandbox, or APSCORES_BASE_URL), whether credentials "
            "are found and where, and whether a login works. A refused login prints "
            "College Board's checklist for web-service accounts; then come the things "
            "no answer of the service can show. Exit 0 when all is well, 2 without "
            "credentials, 4 when the login is refused, 5 when the service cannot be "
            "reached."
        ),
    ),
    "read": _added(
        "read",
        "_files",
        "add_read_arguments",
        help="summarise score files (students, exams, scores)",
        description=(
            "Summarise one or more TXT or CSV score files: students, exams by name "
            "(named by their own admin year), scores, statuses and irregularity codes. "
            "A file that is not a score file, or is damaged, is one line on stderr and "
            "exit status 2 (run `apscores check` for every problem)."
        ),
    ),
    "check": _added(
        "check",
        "_files",
        "add_check_arguments",
        help="validate score files before loading them into a student system",
        description=(
            "Read every record of each file with every rule (framing, codes, years, "
            "dates, scores) without converting anything, and print a verdict per file: "
            "records, exams and the first problems by line. Exit 0 when every file is "
            "valid, 2 when any is not. Run it before loading a file into a student system."
        ),
    ),
    "convert": _added(
        "convert",
        "_files",
        "add_convert_arguments",
        help="write score files as CSV, JSON Lines, Parquet or Excel (xlsx) tables",
        description=(
            "Write one or more score files as one table: one row per exam (--long, the "
            "default) or per student (--wide), as CSV, JSON Lines, Parquet (also "
            "partitioned) or Excel (xlsx). The output is written to a temporary file and "
            "renamed, so it is complete or absent."
        ),
    ),
    "sandbox": _registered("sandbox", "_sandbox_cmd"),
    "merge": _registered("merge", "_merge_cmd"),
    "credit": _registered("credit", "_credit_cmd"),
    "export": _registered("export", "_export_cmd"),
    "match": _registered("match", "_match_cmd"),
    "ledger": _registered("ledger", "_ledger_cmd"),
}


def _exit_codes_in_every_help(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Every subcommand's ``--help`` ends with the exit codes (one table for all)."""
    codes = EPILOG.split("Credentials come from")[0].strip()
    for sub in commands.choices.values():
        if not sub.epilog:
            sub.epilog = codes
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                _exit_codes_in_every_help(action)


@contextlib.contextmanager
def _warnings_logged() -> Iterator[None]:
    """An unknown code's warning (:class:`~apscores.catalog.UnknownCodeWarning`) is a log
    line like every other (plain or JSON, on stderr), not Python's two-line report."""
    from apscores.catalog import UnknownCodeWarning

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if issubclass(category, UnknownCodeWarning):
                LOGGER.warning("%s", message)
            else:  # pragma: no cover - no other warning of ours reaches a command
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds the run exactly as Ctrl-C does."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextlib.contextmanager
def _sigterm_stops_cleanly() -> Iterator[None]:
    """While a command runs, SIGTERM (systemd, a cron or CI timeout) stops it like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: nothing to install here
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _silence_stdout() -> None:
    """The reader of stdout left: send what is still buffered nowhere, quietly."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(
    argv: Sequence[str] | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> int:
    """Run ``apscores``; returns the exit status (see :mod:`apscores.cli.exitcodes`).

    ``transport`` is a switch for tests: the httpx transport every request to the service
    goes through (``fetch`` and ``doctor``), for example
    ``apscores.sandbox.transport(service)`` with ``APSCORES_BASE_URL`` set to the sandbox's
    ``api_base_url``. By default the commands talk to the network.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return int(exit_.code) if isinstance(exit_.code, int) else ExitCode.USAGE
    args.transport = transport
    quiet = getattr(args, "quiet", False)
    level = logging.WARNING
    if getattr(args, "verbose", False) or not (quiet or sys.stderr.isatty()):
        level = logging.INFO  # cron and pipes get a log line per step, terminals a bar
    handler = setup_logging(
        sys.stderr, log_format=getattr(args, "log_format", "plain"), level=level
    )
    try:
        with _sigterm_stops_cleanly(), _warnings_logged():
            code = int(args.func(args))
        sys.stdout.flush()  # a reader that left shows here, not at exit as a Python warning
        return code
    except (ConfigurationError, ParseError, UnwritableRecordError) as error:
        fail(str(error))  # an option, or a file the user gave that cannot be used
        return ExitCode.USAGE
    except BrokenPipeError:  # e.g. `apscores convert ... -o - | head`: the reader left
        _silence_stdout()
        return ExitCode.PIPE_CLOSED
    except KeyboardInterrupt as interrupt:
        if isinstance(interrupt, _Terminated):
            LOGGER.error("stopped by SIGTERM; re-running is safe")
            return ExitCode.TERMINATED
        LOGGER.error("interrupted; re-running is safe")
        return ExitCode.INTERRUPTED
    except (OSError, sqlite3.Error) as error:  # a full disk, a read-only folder, a bad path
        fail(describe_os_error(error) if isinstance(error, OSError) else f"the ledger: {error}")
        return ExitCode.STORAGE
    except AuthenticationError as error:
        fail(f"login refused: {error}")
        return ExitCode.AUTH
    except APScoresError as error:  # the service or its download host: run again later
        fail(str(error))
        return ExitCode.PARTIAL
    except Exception:
        LOGGER.exception("unexpected error; please report it with this log")
        return ExitCode.ERROR
    finally:
        remove_logging(handler)
