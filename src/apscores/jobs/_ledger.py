"""A local download ledger, so a crashed or repeated run never loses or re-fetches a file.

Every download moves through ``generated -> saved -> recorded`` (or ``abandoned`` when a
generated file was never saved and a fresh one replaces it). Each transition is one SQLite
statement, hence one transaction: a process killed at any point leaves the ledger at the
last finished step, and the next run picks up from there (see :mod:`apscores.jobs._fetch`).

With an ``on_new`` hand-off a file is also ``pending`` from its generation until the
hand-off to the student system succeeds (``delivered``): recording moves College Board's
watermark, so a recorded, pending file is the ledger's promise to hand it off again.

Entries are keyed by (account email, DI code) because College Board's ``new`` watermark
belongs to the account ("Downloads are tracked at the individual account level", its
setup FAQ), so every entry says which account generated and recorded it. The database
uses WAL so a reader never blocks the writer, and a busy timeout so runs for different DI
codes can share one file. One connection may be used from worker threads (the async fetch
job writes from them), one statement at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import errno
import json
import os
import sqlite3
import threading
from pathlib import Path

import attrs

from apscores._atomic import create_private
from apscores._closing import Closing
from apscores.errors import ConfigurationError

__all__ = ["DEFAULT_LEDGER_NAME", "Delivery", "Entry", "Ledger", "State", "default_ledger_path"]

DEFAULT_LEDGER_NAME = ".apscores-ledger.sqlite3"

_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS downloads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT NOT NULL,
    di_code       TEXT NOT NULL,
    download_id   TEXT NOT NULL,
    download_id_is_int INTEGER NOT NULL DEFAULT 0,
    format        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    path          TEXT,
    size          INTEGER,
    sha256        TEXT,
    state         TEXT NOT NULL
                  CHECK (state IN ('generated', 'saved', 'recorded', 'abandoned')),
    generated_at  TEXT NOT NULL,
    saved_at      TEXT,
    recorded_at   TEXT,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS downloads_by_account_di ON downloads (account, di_code, state);
"""
#: Schema 2: the hand-off to the student system. ``delivery`` is NULL when the run that
#: fetched the file had no hand-off to make; ``delivery_env`` is the hand-off's environment
#: as first given (JSON), so every retry gets the same one.
_DELIVERY_COLUMNS = (
    "delivery TEXT CHECK (delivery IN ('pending', 'delivered'))",
    "delivery_attempts INTEGER NOT NULL DEFAULT 0",
    "delivery_env TEXT",
    "delivery_error TEXT",
    "delivered_at TEXT",
)


class State(str, enum.Enum):
    """Where a download stands; only ``recorded`` and ``abandoned`` are final."""

    GENERATED = "generated"
    SAVED = "saved"
    RECORDED = "recorded"
    ABANDONED = "abandoned"


class Delivery(str, enum.Enum):
    """The hand-off of a file to the student system (the ``on_new`` command or callable)."""

    PENDING = "pending"  # not handed off yet: every run retries it
    DELIVERED = "delivered"  # the hand-off succeeded once


@attrs.frozen
class Entry:
    """One row of the ledger: a file the service generated for (account, DI code)."""

    id: int
    account: str
    di_code: str
    download_id: str
    download_id_is_int: bool
    format: str
    kind: str
    file_name: str
    path: Path | None
    size: int | None
    sha256: str | None
    state: State
    generated_at: dt.datetime
    saved_at: dt.datetime | None
    recorded_at: dt.datetime | None
    updated_at: dt.datetime
    delivery: Delivery | None = None
    delivery_attempts: int = 0
    delivery_env: dict[str, str] | None = None
    delivery_error: str | None = None
    delivered_at: dt.datetime | None = None

    @property
    def download_id_value(self) -> str | int:
        """The id as the service sent it (a JSON number stays a number when sent back)."""
        return int(self.download_id) if self.download_id_is_int else self.download_id


def default_ledger_path(dest: str | os.PathLike[str]) -> Path:
    """The ledger lives next to the files it describes unless told otherwise."""
    return Path(dest) / DEFAULT_LEDGER_NAME


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def _time(row: sqlite3.Row, column: str) -> dt.datetime | None:
    """A time column; a damaged one is a :class:`sqlite3.DataError` naming the entry."""
    text = row[column]
    if text is None or text == "":
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise sqlite3.DataError(
            f"entry {row['id']}: {column} is not a date and time: {str(text)[:40]!r}"
        ) from None


def _required_time(row: sqlite3.Row, column: str) -> dt.datetime:
    when = _time(row, column)
    if when is None:
        raise sqlite3.DataError(f"entry {row['id']}: {column} is missing")
    return when


def _entry(row: sqlite3.Row) -> Entry:
    generated_at = _required_time(row, "generated_at")
    updated_at = _required_time(row, "updated_at")
    return Entry(
        id=row["id"],
        account=row["account"],
        di_code=row["di_code"],
        download_id=row["download_id"],
        download_id_is_int=bool(row["download_id_is_int"]),
        format=row["format"],
        kind=row["kind"],
        file_name=row["file_name"],
        path=Path(row["path"]) if row["path"] else None,
        size=row["size"],
        sha256=row["sha256"],
        state=State(row["state"]),
        generated_at=generated_at,
        saved_at=_time(row, "saved_at"),
        recorded_at=_time(row, "recorded_at"),
        updated_at=updated_at,
        delivery=Delivery(row["delivery"]) if row["delivery"] else None,
        delivery_attempts=row["delivery_attempts"],
        delivery_env=_environment(row),
        delivery_error=row["delivery_error"],
        delivered_at=_time(row, "delivered_at"),
    )


def _environment(row: sqlite3.Row) -> dict[str, str] | None:
    """The first hand-off's variables; a damaged value is a :class:`sqlite3.DataError`."""
    if not (text := row["delivery_env"]):
        return None
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise sqlite3.DataError(f"entry {row['id']}: delivery_env is not a set of variables")
    return found


class Ledger(Closing):
    """The download ledger in one SQLite file (created on first use, mode 0600 as it names
    the account, parent dirs too), in autocommit mode: every statement, one transaction."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        create_private(self.path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._open()
        except sqlite3.Error as error:  # a full disk, a read-only folder: one line, the path
            with contextlib.suppress(Exception):
                self._db.close()
            raise OSError(errno.EIO, f"cannot open the ledger ({error})", str(self.path)) from None

    def _open(self) -> None:
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            self._db.close()
            raise ConfigurationError(
                f"{self.path} was written by a newer apscores (schema {version}); upgrade apscores"
            )
        self._db.executescript(_SCHEMA)
        if version < 2:
            self._add_delivery_columns()

    def _add_delivery_columns(self) -> None:
        """Schema 1 -> 2 in one transaction (another process may be migrating too)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._db.execute("PRAGMA user_version").fetchone()[0] < 2:
                table = self._db.execute("PRAGMA table_info(downloads)")
                present = {row["name"] for row in table}
                for column in _DELIVERY_COLUMNS:
                    if column.split()[0] not in present:
                        self._db.execute(f"ALTER TABLE downloads ADD COLUMN {column}")
                self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the database; the ledger is always consistent on disk."""
        self._db.close()

    def __repr__(self) -> str:
        return f"<Ledger {str(self.path)!r}>"

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            rows: list[sqlite3.Row] = self._db.execute(sql, params).fetchall()
            return rows

    def _write(self, sql: str, params: tuple[object, ...]) -> tuple[int, int | None]:
        """(rows changed, the new row's id) of one statement, its own transaction."""
        with self._lock:
            cursor = self._db.execute(sql, params)
            return cursor.rowcount, cursor.lastrowid

    def get(self, entry_id: int) -> Entry:
        """The entry with this id; ``KeyError`` if there is none."""
        row = next(iter(self._rows("SELECT * FROM downloads WHERE id = ?", (entry_id,))), None)
        if row is None:
            raise KeyError(entry_id)
        return _entry(row)

    def start(
        self,
        account: str,
        di_code: str,
        download_id: str | int,
        *,
        fmt: str,
        kind: str,
        file_name: str,
        path: Path | None = None,
        deliver: bool = False,
    ) -> Entry:
        """Note a file the service just generated (``path``: where it is going to be saved).

        ``deliver``: the run has a hand-off to make, so the file is ``pending`` delivery
        from now on (before it can be recorded, so no kill can lose the promise).
        """
        now = _now()
        _, row_id = self._write(
            "INSERT INTO downloads (account, di_code, download_id, download_id_is_int, format,"
            " kind, file_name, path, state, generated_at, updated_at, delivery)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                di_code,
                str(download_id),
                isinstance(download_id, int),
                fmt,
                kind,
                file_name,
                str(path) if path is not None else None,
                State.GENERATED.value,
                now,
                now,
                Delivery.PENDING.value if deliver else None,
            ),
        )
        assert row_id is not None
        return self.get(row_id)

    def _move(self, entry_id: int, source: State, sql: str, params: tuple[object, ...]) -> Entry:
        with self._lock:
            return self._moved(entry_id, source, sql, params)

    def _moved(self, entry_id: int, source: State, sql: str, params: tuple[object, ...]) -> Entry:
        changed, _ = self._write(
            f"UPDATE downloads SET {sql}, updated_at = ? WHERE id = ? AND state = ?",  # noqa: S608
            (*params, _now(), entry_id, source.value),
        )
        if changed != 1:
            state = self.get(entry_id).state.value  # KeyError if the id is unknown
            raise ValueError(f"ledger entry {entry_id} is {state}, expected {source.value}")
        return self.get(entry_id)

    def mark_saved(self, entry_id: int, *, path: Path, size: int, sha256: str) -> Entry:
        """The file is complete on disk at ``path``: only recording is left."""
        return self._move(
            entry_id,
            State.GENERATED,
            "state = ?, path = ?, size = ?, sha256 = ?, saved_at = ?",
            (State.SAVED.value, str(path), size, sha256, _now()),
        )

    def mark_recorded(self, entry_id: int) -> Entry:
        """The service was told; this download is finished."""
        return self._move(
            entry_id,
            State.SAVED,
            "state = ?, recorded_at = ?",
            (State.RECORDED.value, _now()),
        )

    def mark_abandoned(self, entry_id: int) -> Entry:
        """A generated file that never reached the disk; the next generate replaces it."""
        return self._move(entry_id, State.GENERATED, "state = ?", (State.ABANDONED.value,))

    def expect_delivery(self, entry_id: int) -> Entry:
        """A file an earlier run fetched without a hand-off gets one (it stays delivered
        if it already was)."""
        self._write(
            "UPDATE downloads SET delivery = ?, updated_at = ? WHERE id = ? AND delivery IS NULL",
            (Delivery.PENDING.value, _now(), entry_id),
        )
        return self.get(entry_id)

    def delivery_attempt(self, entry_id: int, environment: dict[str, str]) -> Entry:
        """Count a hand-off attempt; the first one's ``environment`` is kept for the rest."""
        self._write(
            "UPDATE downloads SET delivery_attempts = delivery_attempts + 1,"
            " delivery_env = COALESCE(delivery_env, ?), updated_at = ?"
            " WHERE id = ? AND delivery = ?",
            (json.dumps(environment, sort_keys=True), _now(), entry_id, Delivery.PENDING.value),
        )
        return self.get(entry_id)

    def mark_delivered(self, entry_id: int) -> Entry:
        """The hand-off to the student system succeeded: nothing is left to do."""
        now = _now()
        changed, _ = self._write(
            "UPDATE downloads SET delivery = ?, delivered_at = ?, delivery_error = NULL,"
            " updated_at = ? WHERE id = ? AND delivery = ? AND state = ?",
            (
                Delivery.DELIVERED.value,
                now,
                now,
                entry_id,
                Delivery.PENDING.value,
                State.RECORDED.value,
            ),
        )
        if changed != 1:
            entry = self.get(entry_id)
            raise ValueError(
                f"ledger entry {entry_id} is {entry.state.value}, delivery"
                f" {entry.delivery.value if entry.delivery else 'none'}; expected a recorded"
                " file pending delivery"
            )
        return self.get(entry_id)

    def delivery_failed(self, entry_id: int, why: str) -> Entry:
        """The hand-off failed (``why``: one line, no student data); it stays pending."""
        self._write(
            "UPDATE downloads SET delivery_error = ?, updated_at = ? WHERE id = ?",
            (why, _now(), entry_id),
        )
        return self.get(entry_id)

    def undelivered(self, account: str | None = None, di_code: str | None = None) -> list[Entry]:
        """Recorded files whose hand-off has not succeeded yet, oldest first."""
        sql = "SELECT * FROM downloads WHERE state = ? AND delivery = ?"
        sql += " AND (? IS NULL OR account = ?) AND (? IS NULL OR di_code = ?) ORDER BY id"
        params = (State.RECORDED.value, Delivery.PENDING.value, account, account, di_code, di_code)
        return [_entry(row) for row in self._rows(sql, params)]

    def unfinished(self, account: str, di_code: str) -> list[Entry]:
        """Entries for (account, DI code) still ``generated`` or ``saved``, oldest first."""
        rows = self._rows(
            "SELECT * FROM downloads WHERE account = ? AND di_code = ? AND state IN (?, ?)"
            " ORDER BY id",
            (account, di_code, State.GENERATED.value, State.SAVED.value),
        )
        return [_entry(row) for row in rows]

    def entries(self, account: str | None = None, di_code: str | None = None) -> list[Entry]:
        """Every entry, optionally for one account and/or DI code, oldest first."""
        sql = "SELECT * FROM downloads WHERE (? IS NULL OR account = ?)"
        sql += " AND (? IS NULL OR di_code = ?) ORDER BY id"
        rows = self._rows(sql, (account, account, di_code, di_code))
        return [_entry(row) for row in rows]

    def find_path(self, path: Path) -> Entry | None:
        """The newest live entry that owns ``path`` (so a new download never overwrites it)."""
        rows = self._rows(
            "SELECT * FROM downloads WHERE path = ? AND state != ? ORDER BY id DESC LIMIT 1",
            (str(path), State.ABANDONED.value),
        )
        return _entry(rows[0]) if rows else None
