"""The roster: the student system's own students, as a CSV or XLSX export (or mappings).

Columns are found by name, case-insensitive, spaces, hyphens and underscores alike:
``sis_id`` (required), ``last_name``, ``first_name``, ``middle_name``, ``birth_date``,
``sex``, ``zip``, ``ap_id`` (an AP ID the system already knows; several rows per student
are fine) and ``hs_code``. A roster map (TOML, ``[columns]`` field = "their header") names
other headers. Every problem is a :class:`~apscores.errors.RosterError` naming the file,
the line and the column.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import attrs

from apscores import _toml
from apscores._textfile import semicolon_header
from apscores.errors import RosterError
from apscores.matching._sources import Cell, Row, bulk, rows_from_mappings, rows_from_path

__all__ = ["ROSTER_FIELDS", "Roster", "RosterEntry", "load_roster_map", "read_roster"]

#: The roster columns matching reads, and what each holds.
ROSTER_FIELDS: dict[str, str] = {
    "sis_id": "the student system's ID (required)",
    "last_name": "surname, as the student system holds it (accents welcome)",
    "first_name": "given name (a second given name may follow)",
    "middle_name": "middle name or initial",
    "birth_date": "ISO (2008-03-15), M/D/YYYY or an Excel date",
    "sex": "M/F (Male/Female); anything else is not compared",
    "zip": "ZIP code (the first five digits are compared)",
    "ap_id": "an AP ID the student system already knows for the student",
    "hs_code": "the high school's AI (CEEB) code",
}

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]*)?")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: [\d:]+(?: ?[AP]M)?)?", re.IGNORECASE)
_SERIAL = re.compile(r"\d{4,5}(?:\.0+)?")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_AP_IDS = re.compile(r"[\s;,]+")


def normalize_header(header: str) -> str:
    """``Birth Date``, ``birth-date`` and ``BIRTH_DATE`` are all ``birth_date``."""
    return re.sub(r"[\s_\-]+", "_", header.strip().lower()).strip("_")


def parse_date(value: Cell) -> dt.date | None:
    """A roster date: ISO, ``M/D/YYYY``, an Excel serial day number or cell; blank: None.

    >>> parse_date("3/15/2008"), parse_date("2008-03-15 00:00:00"), parse_date("39522")
    (datetime.date(2008, 3, 15), datetime.date(2008, 3, 15), datetime.date(2008, 3, 15))
    """
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    if not text:
        return None
    if len(text) == 10 and text[4] == "-":
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(text)
    if match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _US.fullmatch(text):
        month, day, year = (int(part) for part in match.groups())
    elif _SERIAL.fullmatch(text):
        return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    else:
        raise ValueError("not a date: write it as 2008-03-15 or 3/15/2008")
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise ValueError(f"not a date ({error})") from None


def _sex(value: str) -> str:
    text = value.upper()
    return text[0] if text in {"M", "F", "MALE", "FEMALE"} else ""


def _zip(value: str) -> str:
    if len(value) == 5 and value.isdigit():
        return value
    digits = "".join(c for c in value if c.isdigit())
    return digits.zfill(5)[:5] if 3 <= len(digits) <= 9 else ""


@attrs.frozen
class RosterEntry:
    """One student of the roster (one row; a student with several rows has several)."""

    sis_id: str
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    zip: str = ""
    hs_code: str = ""
    line: int | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Roster:
    """The checked roster: its rows, and the AP IDs it already knows (AP ID -> SIS IDs)."""

    entries: tuple[RosterEntry, ...]
    ap_ids: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    source: str = ""

    @property
    def sis_ids(self) -> frozenset[str]:
        """Every SIS ID of the roster."""
        return frozenset(entry.sis_id for entry in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"<Roster {self.source or 'rows'}: {len(self.entries)} row(s)>"


def load_roster_map(path: str | os.PathLike[str]) -> dict[str, str]:
    """A roster map: ``[columns]`` with ``field = "their header"`` (see ROSTER_FIELDS)."""
    name = str(path)
    try:
        data = _toml.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:
        raise RosterError(f"not TOML ({error})", line=None, field=None, raw="", file=name) from None
    unknown = sorted(set(data) - {"columns"})
    if unknown:
        raise RosterError(
            "unknown section(s): the roster map has only [columns]",
            line=None,
            field=unknown[0],
            raw="",
            file=name,
        )
    columns = data.get("columns", {})
    if not isinstance(columns, dict):
        raise RosterError("must be a table", line=None, field="columns", raw="", file=name)
    found: dict[str, str] = {}
    for field, header in columns.items():
        where = f"columns.{field}"
        if field not in ROSTER_FIELDS:
            raise RosterError(
                f"unknown field; the fields are {', '.join(ROSTER_FIELDS)}",
                line=None,
                field=where,
                raw="",
                file=name,
            )
        if not isinstance(header, str) or not header.strip():
            raise RosterError("must be the header text", line=None, field=where, raw="", file=name)
        found[field] = header
    return found


def _resolve(headers: Iterable[str], columns: Mapping[str, str]) -> dict[str, str]:
    """field -> the header of the file that holds it."""
    wanted = {normalize_header(header): field for field, header in columns.items()}
    for field in ROSTER_FIELDS:
        if field not in columns:
            wanted.setdefault(field, field)
    found: dict[str, str] = {}
    for header in headers:
        known = wanted.get(normalize_header(header))
        if known is not None and known not in found:
            found[known] = header
    return found


class _Builder:
    """Checks rows one by one and keeps what matching needs."""

    def __init__(self, name: str | None, columns: Mapping[str, str]) -> None:
        self.name = name
        self.columns = columns
        self.entries: list[RosterEntry] = []
        self.ap_ids: dict[str, set[str]] = {}
        self.births: dict[str, tuple[dt.date, int]] = {}
        self.fields: dict[str, str] = {}
        self.headers: tuple[str, ...] | None = None
        self.positions: list[int] = []

    def error(self, reason: str, line: int | None, field: str | None) -> RosterError:
        return RosterError(reason, line=line, field=field, raw="", file=self.name)

    def add(self, line: int, headers: tuple[str, ...], cells: list[Cell]) -> None:
        if headers is not self.headers and headers != self.headers:
            self._resolve(line, headers)
        values = [cells[at] if at >= 0 else "" for at in self.positions]
        sis_id, last, first, middle, _, sex, zip_code, ap_ids, hs = (
            value.strip() if isinstance(value, str) else value.isoformat() for value in values
        )
        fields = self.fields
        if not sis_id:
            raise self.error("no SIS ID on this row", line, fields["sis_id"])
        try:
            born = parse_date(values[4])
        except ValueError as problem:
            raise self.error(str(problem), line, fields["birth_date"]) from None
        if born is not None:
            self._check_birth(sis_id, born, line)
        if ap_ids:
            for ap_id in _AP_IDS.split(ap_ids):
                if ap_id:
                    self.ap_ids.setdefault(ap_id, set()).add(sis_id)
        self.entries.append(
            RosterEntry(sis_id, last, first, middle, born, _sex(sex), _zip(zip_code), hs, line)
        )

    def _resolve(self, line: int, headers: tuple[str, ...]) -> None:
        """Where each field is among ``headers`` (mappings may differ from row to row)."""
        self.headers = headers
        self.fields = fields = _resolve(headers, self.columns)
        if "sis_id" not in fields and (why := semicolon_header(headers)):
            raise self.error(why, 1 if self.name else line, None)
        if "sis_id" not in fields:
            raise self.error(
                "no sis_id column (the student system's ID; name another with a roster map); "
                f"columns found: {', '.join(headers) or '(none)'}",
                1 if self.name else line,
                self.columns.get("sis_id", "sis_id"),
            )
        where = {header: at for at, header in reversed(list(enumerate(headers)))}
        self.positions = [where[fields[f]] if f in fields else -1 for f in ROSTER_FIELDS]

    def _check_birth(self, sis_id: str, born: dt.date, line: int) -> None:
        known = self.births.setdefault(sis_id, (born, line))
        if known[0] != born:
            raise self.error(
                f"SIS ID {sis_id} has another birth date on line {known[1]}",
                line,
                self.fields["birth_date"],
            )

    def roster(self, source: str) -> Roster:
        if not self.entries:
            raise self.error("the roster has no student rows", 1, None)
        entries = tuple(
            entry
            if entry.birth_date is not None or entry.sis_id not in self.births
            else attrs.evolve(entry, birth_date=self.births[entry.sis_id][0])
            for entry in self.entries
        )
        ap_ids = {ap_id: frozenset(sis) for ap_id, sis in self.ap_ids.items()}
        return Roster(entries=entries, ap_ids=ap_ids, source=source)


@bulk
def read_roster(
    source: str | os.PathLike[str] | Iterable[Mapping[str, object]] | Roster,
    *,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> Roster:
    """Read and check a roster: a CSV or XLSX path, or mappings (one per row).

    ``columns`` maps a field (:data:`ROSTER_FIELDS`) to another header, as a roster map
    does; ``encoding`` decodes a CSV without a byte-order mark (default UTF-8). A row
    without a SIS ID, a date that is not one, two birth dates for one SIS ID, a roster
    with no rows, a byte that does not decode: :class:`~apscores.errors.RosterError`.
    """
    if isinstance(source, Roster):
        return source
    builder = _Builder(None, columns or {})
    rows: Iterator[Row]
    if isinstance(source, (str, os.PathLike)):
        builder.name = str(source)
        rows = rows_from_path(source, encoding)
    else:
        rows = rows_from_mappings(source)
    for line, headers, cells in rows:
        builder.add(line, headers, cells)
    if builder.headers is None:
        raise builder.error("the roster has no student rows", 1, None)
    return builder.roster(builder.name or "")
