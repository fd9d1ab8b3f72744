"""``apscores ledger --dest DIR`` (or ``--ledger PATH``): what the download ledger holds.

One line per download: its state, whether it reached the student system (the
``--on-new`` hand-off), the account that generated and recorded it, the DI code, the file
and when it was recorded. The account matters because College Board tracks ``new``
downloads per account ("Downloads are tracked at the individual account level"): a file
recorded by another account never reached this job. A ledger that does not exist is an
error, never created. The one change it makes is ``--mark-delivered``: a person saying a
file reached the student system some other way.
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
from apscores.jobs import Delivery, Entry, Ledger, default_ledger_path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apscores ledger``."""
    parser = subparsers.add_parser(
        "ledger",
        help="list the downloads `fetch` has recorded, and by which account",
        description=(
            "List the entries of a download ledger, oldest first: state (generated, "
            "saved, recorded, abandoned), the account that recorded the file, the DI "
            "code, the file and when it was recorded, and whether the --on-new hand-off "
            "succeeded (delivered) or every run still retries it (pending). College Board "
            "tracks downloads per account, so a file recorded by another account never "
            "reached this job."
        ),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dest", type=Path, metavar="DIR", help="the folder `fetch` wrote to")
    where.add_argument("--ledger", type=Path, metavar="PATH", help="the ledger file itself")
    parser.add_argument("--di", metavar="CODE", help="only this DI code")
    parser.add_argument("--account", metavar="EMAIL", help="only this account")
    parser.add_argument(
        "--undelivered",
        action="store_true",
        help="only recorded files whose --on-new hand-off has not succeeded yet",
    )
    parser.add_argument(
        "--mark-delivered",
        metavar="DOWNLOAD_ID",
        action="append",
        default=[],
        help="say that this file reached the student system another way, so runs stop "
        "handing it off (repeatable)",
    )
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
            if args.mark_delivered:
                return _mark_delivered(ledger, args.mark_delivered, account, args.di)
            if args.undelivered:
                entries = ledger.undelivered(account=account, di_code=args.di)
            else:
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
        delivery = entry.delivery.value if entry.delivery else "-"
        print(
            f"{entry.state.value:<9}  {delivery:<9}  {entry.account}  DI {entry.di_code}  "
            f"{entry.kind:<4}  {name}  {when.isoformat(timespec='seconds')}"
        )
        if entry.delivery is Delivery.PENDING and entry.delivery_error:
            print(f"           last hand-off failed: {entry.delivery_error}")
    return ExitCode.OK


def _mark_delivered(
    ledger: Ledger, download_ids: list[str], account: str | None, di_code: str | None
) -> int:
    """Mark pending files delivered by hand; each id must name exactly one such file."""
    pending = ledger.undelivered(account=account, di_code=di_code)
    for download_id in download_ids:
        matches = [entry for entry in pending if entry.download_id == download_id.strip()]
        if len(matches) != 1:
            why = "no recorded file pending delivery" if not matches else "several files"
            fail(f"--mark-delivered {download_id}: {why} has that download id")
            return ExitCode.USAGE
        entry = ledger.mark_delivered(matches[0].id)
        print(f"marked delivered: DI {entry.di_code} download {entry.download_id}")
    return ExitCode.OK


def _as_json(entry: Entry) -> dict[str, Any]:
    """An entry as JSON: times in ISO 8601, the path as text; no hash of the file."""
    return {
        "state": entry.state.value,
        "account": entry.account,
        "di_code": entry.di_code,
        "kind": entry.kind,
        "format": entry.format,
        "download_id": entry.download_id,  # text, as in fetch --json and APSCORES_DOWNLOAD_ID
        "file_name": entry.file_name,
        "path": str(entry.path) if entry.path else None,
        "size": entry.size,
        "generated_at": entry.generated_at.isoformat(),
        "saved_at": entry.saved_at.isoformat() if entry.saved_at else None,
        "recorded_at": entry.recorded_at.isoformat() if entry.recorded_at else None,
        "delivery": entry.delivery.value if entry.delivery else None,
        "delivery_attempts": entry.delivery_attempts,
        "delivery_error": entry.delivery_error,
        "delivered_at": entry.delivered_at.isoformat() if entry.delivered_at else None,
    }
