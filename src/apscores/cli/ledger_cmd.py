"""``apscores ledger --dest DIR`` (or ``--ledger PATH``): what the download ledger holds.

One line per download: its state, the account that generated and recorded it, the DI
code, the file and when it was recorded. The account matters because College Board
tracks ``new`` downloads per account ("Downloads are tracked at the individual account
level"): a file recorded by another account never reached this job. Read only: a ledger
that does not exist is an error, never created.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any

from apscores.catalog import is_di_code
from apscores.cli._output import fail
from apscores.cli.exitcodes import ExitCode
from apscores.jobs import Entry, Ledger, default_ledger_path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores ledger``."""
    parser = subparsers.add_parser(
        "ledger",
        help="list the downloads `fetch` has recorded, and by which account",
        description=(
            "List the entries of a download ledger, oldest first: state (generated, "
            "saved, recorded, abandoned), the account that recorded the file, the DI "
            "code, the file and when it was recorded. College Board tracks downloads per "
            "account, so a file recorded by another account never reached this job."
        ),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dest", type=Path, metavar="DIR", help="the folder `fetch` wrote to")
    where.add_argument("--ledger", type=Path, metavar="PATH", help="the ledger file itself")
    parser.add_argument("--di", metavar="CODE", help="only this DI code")
    parser.add_argument("--account", metavar="EMAIL", help="only this account")
    parser.add_argument("--json", action="store_true", help="print the entries as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the entries; exit 2 when there is no ledger at the path, 7 when it is damaged."""
    if args.di is not None and not is_di_code(args.di):
        fail(f"--di {args.di}: a DI code is 4 digits, like 1234")
        return ExitCode.USAGE
    path: Path = args.ledger or default_ledger_path(args.dest)
    if not path.is_file():
        fail(f"no ledger at {path} (run `apscores fetch` first, or pass --ledger)")
        return ExitCode.USAGE
    account = args.account.strip().lower() if args.account else None
    try:
        with Ledger(path) as ledger:
            entries = ledger.entries(account=account, di_code=args.di)
    except sqlite3.Error as error:  # a damaged row or table: one line, as for any bad file
        fail(f"{path}: cannot read the ledger: {error}")
        return ExitCode.STORAGE
    if args.json:
        print(json.dumps({"ledger": str(path), "entries": [_as_json(e) for e in entries]}))
        return ExitCode.OK
    if not entries:
        print(f"{path}: no downloads")
        return ExitCode.OK
    for entry in entries:
        when = entry.recorded_at or entry.saved_at or entry.generated_at
        name = entry.path.name if entry.path else entry.file_name
        print(
            f"{entry.state.value:<9}  {entry.account}  DI {entry.di_code}  {entry.kind:<4}  "
            f"{name}  {when.isoformat(timespec='seconds')}"
        )
    return ExitCode.OK


def _as_json(entry: Entry) -> dict[str, Any]:
    """An entry as JSON: times in ISO 8601, the path as text; no hash of the file."""
    return {
        "state": entry.state.value,
        "account": entry.account,
        "di_code": entry.di_code,
        "kind": entry.kind,
        "format": entry.format,
        "download_id": entry.download_id_value,
        "file_name": entry.file_name,
        "path": str(entry.path) if entry.path else None,
        "size": entry.size,
        "generated_at": entry.generated_at.isoformat(),
        "saved_at": entry.saved_at.isoformat() if entry.saved_at else None,
        "recorded_at": entry.recorded_at.isoformat() if entry.recorded_at else None,
    }
