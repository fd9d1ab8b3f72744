"""``apscores sandbox serve``: the sandbox web service on loopback, for any HTTP client.

It prints the base URL, the (sandbox-only) credentials and the DI codes, serves until
Ctrl-C or SIGTERM and then shuts down cleanly. See ``docs/testing-with-the-sandbox.md``.
"""

from __future__ import annotations

import argparse
import sys

from apscores.cli.exitcodes import ExitCode

__all__ = ["register", "run_serve"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores sandbox serve``."""
    from apscores.sandbox._server import add_serve_arguments

    parser = subparsers.add_parser(
        "sandbox",
        help="a fake of the College Board web service for trying and testing",
        description="Run the apscores sandbox: a fake of the score-report web service.",
    )
    actions = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND")
    actions.required = True
    serve = actions.add_parser(
        "serve",
        help="serve the fake web service and download host on 127.0.0.1",
        description=(
            "Serve the sandbox API on --port and its presigned download host on "
            "--storage-port, on 127.0.0.1 only, with one account whose DI codes each have "
            "--reports synthetic score orders queued. Stops cleanly on Ctrl-C or SIGTERM."
        ),
    )
    add_serve_arguments(serve)
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; a bad option or a busy port exits with USAGE."""
    from apscores.sandbox._server import config_from_args, run

    try:
        config = config_from_args(args)
    except ValueError as error:
        print(f"apscores sandbox serve: {error}", file=sys.stderr)
        return int(ExitCode.USAGE)
    status = run(config)  # a busy port is one line on stderr and exit 2
    return int(ExitCode.OK) if status == 0 else int(ExitCode.USAGE)
