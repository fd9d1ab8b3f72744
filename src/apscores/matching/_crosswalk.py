"""The crosswalk: every accepted AP ID -> SIS ID pair, so a decision is made only once.

One SQLite file (created mode 0600: it links College Board's IDs to the college's
students). Each AP ID has one row: the SIS ID (none when a person said "new student"), the
tier of the rule that matched it (none for a person's decision), who made it (``rule`` or
``person``), when, and the SIS IDs a person said are not this student. A student may have
several AP IDs (a second College Board account gives a second one). A rule never
overwrites a person's decision. Every write is one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from apscores._atomic import create_private
from apscores._closing import Closing
from apscores.errors import ConfigurationError

__all__ = ["DEFAULT_CROSSWALK_NAME", "Crosswalk", "Link"]

#: The crosswalk's file name when no path is given: beside the output of ``apscores match``.
DEFAULT_CROSSWALK_NAME = ".apscores-crosswalk.sqlite3"

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS links (
    ap_id       TEXT PRIMARY KEY,
    sis_id      TEXT,
    tier        INTEGER,
    made_by     TEXT NOT NULL CHECK (made_by IN ('rule', 'person')),
    decided_at  TEXT NOT NULL,
    rejected    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS links_by_sis ON links (sis_id);
"""


@attrs.frozen
class Link:
    """One decision: an AP ID's SIS ID (None: a person said "new student")."""

    ap_id: str
    sis_id: str | None
    tier: int | None
    made_by: str  # "rule" or "person"
    decided_at: dt.datetime
    rejected: tuple[str, ...] = ()


def _link(row: sqlite3.Row) -> Link:
    return Link(
        ap_id=row["ap_id"],
        sis_id=row["sis_id"],
        tier=row["tier"],
        made_by=row["made_by"],
        decided_at=dt.datetime.fromisoformat(row["decided_at"]),
        rejected=tuple(part for part in row["rejected"].split(";") if part),
    )


class Crosswalk(Closing):
    """The crosswalk in one SQLite file (created on first use, mode 0600)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create_private(self.path)
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as error:
            raise OSError(errno.EIO, f"cannot open the crosswalk ({error})", str(path)) from None
        except OSError as error:  # its folder cannot be made (a file in the way, read-only)
            why = "a file is in the way" if isinstance(error, FileExistsError) else error.strerror
            raise OSError(error.errno, f"cannot create the crosswalk ({why})", str(path)) from None
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA synchronous=FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise ConfigurationError(
                    f"{self.path} was written by a newer apscores (schema {version}); "
                    "upgrade apscores"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except BaseException as error:
            self._db.close()
            if isinstance(error, sqlite3.DatabaseError):
                raise OSError(
                    errno.EIO, f"not a crosswalk database ({error})", str(self.path)
                ) from None
            raise

    def close(self) -> None:
        """Close the database (every decision is already on disk)."""
        self._db.close()

    def __repr__(self) -> str:
        return f"<Crosswalk {str(self.path)!r}>"

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM links").fetchone()[0])

    def get(self, ap_id: str) -> Link | None:
        """The decision for ``ap_id``, or None."""
        row = self._db.execute("SELECT * FROM links WHERE ap_id = ?", (ap_id,)).fetchone()
        return None if row is None else _link(row)

    def links(self) -> dict[str, Link]:
        """Every decision, by AP ID."""
        return {row["ap_id"]: _link(row) for row in self._db.execute("SELECT * FROM links")}

    def ap_ids_of(self, sis_id: str) -> list[str]:
        """The AP IDs known for a student, oldest decision first."""
        rows = self._db.execute(
            "SELECT ap_id FROM links WHERE sis_id = ? ORDER BY decided_at, ap_id", (sis_id,)
        )
        return [row["ap_id"] for row in rows]

    def record(
        self,
        links: Iterable[tuple[str, str | None, int | None]],
        *,
        made_by: str,
        rejected: dict[str, tuple[str, ...]] | None = None,
    ) -> int:
        """Record (AP ID, SIS ID, tier) decisions in one transaction; returns rows written.

        ``made_by="rule"`` adds only AP IDs the crosswalk does not hold yet;
        ``made_by="person"`` replaces whatever was there.
        """
        if made_by not in {"rule", "person"}:
            raise ValueError(f"made_by must be 'rule' or 'person', not {made_by!r}")
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        verb = "INSERT OR IGNORE" if made_by == "rule" else "INSERT OR REPLACE"
        rejected = rejected or {}
        written = 0
        with self._transaction():
            for ap_id, sis_id, tier in links:
                cursor = self._db.execute(
                    f"{verb} INTO links (ap_id, sis_id, tier, made_by, decided_at, rejected)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (ap_id, sis_id, tier, made_by, now, ";".join(rejected.get(ap_id, ()))),
                )
                written += cursor.rowcount
        return written

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
