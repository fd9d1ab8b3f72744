"""Merge re-sent score reports into one current view per student, and say what changed.

College Board re-sends a student's whole history each time a score is added, corrected,
withheld or released, so the same AP ID turns up in many files. :func:`merge` keeps, for
every student, the newest record (by *date of last student update*, then *date of this
report*; a missing date is older than any date) and reports every change between the
versions it saw, in the order they happened.

Decisions, so that nothing is lost or silently resolved:

- **Student key.** A student is identified by (DI code, AP ID): a student sent to two DI
  codes (two campuses, two offices) has a history at each, and merge keeps both. With
  ``across_di=True`` a student is identified by AP ID alone, whatever DI code received the
  records; the newest record (and its DI code) is kept.
- **Exam key.** An exam is identified by (student, admin year, exam code).
- **Each change says what needs doing**: a score raised or lowered, withheld, released,
  canceled, scored after pending, or removed (:func:`apscores.changes.classify`).
- **Exams missing from the newest record are kept** in the current view with their last
  known value, and an ``exam_missing`` change says so; review them by hand.
- **Conflicts** (two different records with the same dates) are never resolved silently:
  merge keeps one by a fixed rule (the largest SHA-256 of the record's canonical JSON, so
  the pick never depends on file or record order) and lists a ``conflict`` change for each
  exam that differs (or one for the student details when only those differ). An exam found
  only in a record that was not kept still appears in the current view.
- **Order does not matter.** The result depends only on the set of records read, not on the
  order of the sources or of the records inside them; records identical to one already
  seen collapse on arrival.
- **Memory** grows with the number of students and of their *distinct* versions (only the
  newest full record is kept; older versions keep only their exams), not with the number of
  files or re-sent copies read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from typing import TypeAlias

import attrs

from apscores.changes._compare import (
    Change,
    ChangeKind,
    StudentKey,
    classify,
    describe,
    student_key,
)
from apscores.models import ExamScore, ScoreReport
from apscores.serialize import to_dict

__all__ = ["MergeResult", "MergeSource", "merge"]

#: What :func:`merge` accepts: records (any iterable, e.g. a reader, or one report) or a path.
MergeSource: TypeAlias = "Iterable[ScoreReport] | ScoreReport | str | os.PathLike[str]"

_ExamKey = tuple[int, str]  # (admin year, exam code); the AP ID is the student's
_VersionKey = tuple[bool, dt.date, bool, dt.date]


@attrs.frozen
class MergeResult:
    """The current view (one report per student, sorted by AP ID then DI code) and the changes.

    A student is a (DI code, AP ID) pair, or an AP ID when ``across_di`` is true.
    """

    current: tuple[ScoreReport, ...]
    changes: tuple[Change, ...]
    records_read: int = 0  # every record read, duplicates included
    duplicates: int = 0  # records identical to one already read (dropped on arrival)
    across_di: bool = False  # True: students keyed by AP ID alone (merge(across_di=True))

    @property
    def conflicts(self) -> tuple[Change, ...]:
        """The changes of kind ``conflict``: records merge could not order by date."""
        return tuple(c for c in self.changes if c.kind is ChangeKind.CONFLICT)

    def changes_for(self, ap_id: str, di_code: str | None = None) -> tuple[Change, ...]:
        """One student's changes, oldest first (of every DI code unless ``di_code``)."""
        return tuple(
            c
            for c in self.changes
            if c.ap_id == ap_id and (di_code is None or c.di_code == di_code)
        )

    def report_for(self, ap_id: str, di_code: str | None = None) -> ScoreReport | None:
        """The current report for ``ap_id`` (at ``di_code``), or None if merge never saw it.

        Raises :class:`ValueError` when several DI codes hold the AP ID and ``di_code`` is
        not given: picking one silently would hide the others.
        """
        found = [r for r in self.current if r.ap_id == ap_id and di_code in (None, r.di_code)]
        if len(found) > 1:
            codes = ", ".join(r.di_code for r in found)
            raise ValueError(f"AP ID {ap_id} is at DI codes {codes}: give di_code")
        return found[0] if found else None


def _version_key(report: ScoreReport) -> _VersionKey:
    """Newer sorts later; a missing date sorts before every real date."""
    updated, reported = report.date_updated, report.report_date
    return (
        updated is not None,
        updated or dt.date.min,
        reported is not None,
        reported or dt.date.min,
    )


def _fingerprint(report: ScoreReport) -> str:
    """SHA-256 of the record's canonical JSON: the content-only, order-free tie-break."""
    text = json.dumps(to_dict(report), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: What a copy of a student's record sent to another DI code may differ in (with across_di).
_DI_FIELDS = ("di_code", "college", "order_institution_key", "date_released")


def _content(report: ScoreReport) -> str:
    """The fingerprint without the DI code's own fields (for merging across DI codes)."""
    data = {k: v for k, v in to_dict(report).items() if k not in _DI_FIELDS}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# (fingerprint, content fingerprint, exams) of a candidate version
_Candidate = tuple[str, str, tuple[ExamScore, ...]]


class _StudentVersions:
    """Every distinct version of one student: full records only for the newest dates.

    Fingerprints cost more than everything else, so they are computed only when needed:
    for a version that becomes older, a record that arrives older, or same-date candidates.
    Records at the newest dates are compared by value instead. With ``across_di``, copies
    that differ only in their DI code's fields (:data:`_DI_FIELDS`) have the same content
    fingerprint: they are kept apart but never reported as conflicts.
    """

    __slots__ = ("across_di", "newest", "newest_key", "older")

    def __init__(self, key: _VersionKey, across_di: bool) -> None:
        self.newest_key, self.across_di = key, across_di
        self.newest: set[ScoreReport] = set()
        self.older: dict[_VersionKey, dict[str, tuple[str, tuple[ExamScore, ...]]]] = {}

    def _entry(self, report: ScoreReport) -> tuple[str, tuple[str, tuple[ExamScore, ...]]]:
        digest = _fingerprint(report)
        content = _content(report) if self.across_di else digest
        return digest, (content, report.exams)

    def add(self, report: ScoreReport) -> bool:
        """Store ``report``; False if an identical record was already stored."""
        key = _version_key(report)
        if key > self.newest_key:
            self.older[self.newest_key] = dict(map(self._entry, self.newest))
            self.newest_key, self.newest = key, {report}
            return True
        if key == self.newest_key:
            if report in self.newest:
                return False
            self.newest.add(report)
            return True
        bucket = self.older.setdefault(key, {})
        digest, entry = self._entry(report)
        if digest in bucket:
            return False
        bucket[digest] = entry
        return True

    def _newest_sorted(self) -> list[tuple[str, str, ScoreReport]]:
        if len(self.newest) == 1:
            return [("", "", next(iter(self.newest)))]  # nothing to order: no fingerprint
        entries = []
        for report in self.newest:
            digest, (content, _) = self._entry(report)
            entries.append((digest, content, report))
        return sorted(entries, key=lambda item: item[0])

    def versions(self) -> Iterator[tuple[_VersionKey, list[_Candidate]]]:
        """(dates, candidates sorted by fingerprint), oldest dates first; the last one is kept."""
        for key in sorted(self.older):
            yield key, [(d, c, e) for d, (c, e) in sorted(self.older[key].items())]
        yield self.newest_key, [(d, c, r.exams) for d, c, r in self._newest_sorted()]

    def chosen(self) -> ScoreReport:
        """The newest record; among same-date candidates, the largest fingerprint."""
        return self._newest_sorted()[-1][2]


def _keyed(exams: tuple[ExamScore, ...]) -> tuple[dict[_ExamKey, ExamScore], list[ExamScore]]:
    """Exams by key in record order (first occurrence wins) and the differing repeats."""
    keyed: dict[_ExamKey, ExamScore] = {}
    clashes: list[ExamScore] = []
    for exam in exams:
        key = (exam.admin_year, exam.code)
        kept = keyed.setdefault(key, exam)
        if kept != exam:
            clashes.append(exam)
    return keyed, clashes


def _exam_order(key: _ExamKey) -> tuple[int, str]:
    """Most recent admin year first, then code (the order of the file's exam blocks)."""
    return (-key[0], key[1])


class _History:
    """Walks one student's versions oldest first, collecting changes as it goes."""

    def __init__(self, ap_id: str, di_code: str) -> None:
        self.ap_id, self.di_code = ap_id, di_code
        self.changes: list[Change] = []
        self.last_seen: dict[_ExamKey, ExamScore] = {}  # every exam ever seen, last value
        self.present: set[_ExamKey] = set()  # exams in the latest version walked
        self.unconfirmed: set[_ExamKey] = set()  # seen only in records merge did not keep
        self._dates: tuple[dt.date | None, dt.date | None] = (None, None)

    def _emit(
        self,
        kind: ChangeKind,
        key: _ExamKey | None = None,
        *,
        old: ExamScore | None = None,
        new: ExamScore | None = None,
        detail: str = "",
    ) -> None:
        year, code = key if key is not None else (None, None)
        updated, reported = self._dates
        self.changes.append(
            Change(kind, self.ap_id, year, code, old, new, updated, reported, detail, self.di_code)
        )

    def walk(self, store: _StudentVersions) -> None:
        for index, (vkey, candidates) in enumerate(store.versions()):
            self._dates = (vkey[1] if vkey[0] else None, vkey[3] if vkey[2] else None)
            _, kept_content, kept_exams = candidates[-1]
            keyed, clashes = _keyed(kept_exams)
            if index == 0:
                self._emit(ChangeKind.NEW_STUDENT, detail=f"{len(keyed)} exam(s)")
            for rejected_digest, content, other in candidates[:-1]:
                if content != kept_content:  # equal: copies at two DI codes (across_di)
                    self._conflict(keyed, other, rejected_digest)
            for clash in clashes:
                key = (clash.admin_year, clash.code)
                self._emit(
                    ChangeKind.CONFLICT,
                    key,
                    old=clash,
                    new=keyed[key],
                    detail="the record lists this exam twice with different content; "
                    "merge kept the first block",
                )
            self._step(keyed)

    def _conflict(
        self, keyed: dict[_ExamKey, ExamScore], other: tuple[ExamScore, ...], digest: str
    ) -> None:
        other_keyed, _ = _keyed(other)
        both = keyed.keys() | other_keyed.keys()
        differing = sorted((k for k in both if keyed.get(k) != other_keyed.get(k)), key=_exam_order)
        for key in differing:
            if key not in keyed and key not in self.last_seen:
                self.last_seen[key] = other_keyed[key]  # keep it in the current view
                self.unconfirmed.add(key)
            self._emit(
                ChangeKind.CONFLICT,
                key,
                old=other_keyed.get(key),
                new=keyed.get(key),
                detail="two records with the same dates disagree on this exam; "
                "merge kept 'new' by a fixed rule, review by hand",
            )
        if not differing:
            self._emit(
                ChangeKind.CONFLICT,
                detail="two records with the same dates differ in student or school details "
                f"(not in exams); merge kept one by a fixed rule (dropped version {digest[:12]})",
            )

    def _step(self, keyed: dict[_ExamKey, ExamScore]) -> None:
        for key, exam in keyed.items():
            old = self.last_seen.get(key)
            if key in self.unconfirmed:
                self.unconfirmed.discard(key)
                detail = "earlier only in a conflicting record"
                self._emit(ChangeKind.NEW_EXAM, key, old=old, new=exam, detail=detail)
            elif old is None:
                self._emit(ChangeKind.NEW_EXAM, key, new=exam)
            elif key not in self.present:
                text = describe(old, exam)
                detail = "back after missing" + (f"; {text}" if text else "")
                self._emit(ChangeKind.EXAM_RETURNED, key, old=old, new=exam, detail=detail)
            elif old != exam:
                kind = classify(old, exam)
                self._emit(kind, key, old=old, new=exam, detail=describe(old, exam))
            self.last_seen[key] = exam
        for key in sorted(self.present - keyed.keys(), key=_exam_order):
            self._emit(
                ChangeKind.EXAM_MISSING,
                key,
                old=self.last_seen[key],
                detail="absent from this record; kept in the current view with its last value",
            )
        self.present = set(keyed)


def _current(
    report: ScoreReport, last_seen: dict[_ExamKey, ExamScore], present: set[_ExamKey]
) -> ScoreReport:
    """The newest record, exams unique by key, plus the exams it lost (last known value)."""
    keyed, _ = _keyed(report.exams)
    missing = [last_seen[k] for k in sorted(last_seen.keys() - present, key=_exam_order)]
    if not missing and len(keyed) == len(report.exams):
        return report
    exams = sorted([*keyed.values(), *missing], key=lambda e: -e.admin_year)
    return attrs.evolve(report, exams=tuple(exams))


def _records(source: MergeSource) -> Iterator[ScoreReport]:
    if isinstance(source, (str, os.PathLike)):
        from apscores.files import read  # late: the readers are optional for in-memory use

        with read(source) as reader:
            yield from reader
    elif isinstance(source, ScoreReport):
        yield source
    else:
        yield from source


def merge(*sources: MergeSource, across_di: bool = False) -> MergeResult:
    """Merge reports from any number of sources into one current report per student.

    A student is a (DI code, AP ID) pair: the same AP ID sent to two DI codes stays two
    students, each with its own history. ``across_di=True`` merges them into one, keyed by
    AP ID alone.

    Each source is an iterable of :class:`~apscores.models.ScoreReport` (a list, a reader)
    or the path of a TXT/CSV score file (read with :func:`apscores.files._detect.read`). Sources
    are consumed one record at a time. See the module docstring for the rules.

    >>> from apscores.models import ExamScore, ScoreReport, Student
    >>> import datetime as dt
    >>> old = ScoreReport("A1", Student("Doe", "Jo"), "1234",
    ...                   exams=(ExamScore("93", 2019, None, ("98",)),),
    ...                   report_date=dt.date(2019, 7, 5))
    >>> new = attrs.evolve(old, exams=(ExamScore("93", 2019, 4),),
    ...                    report_date=dt.date(2019, 9, 1))
    >>> result = merge([new], [old])
    >>> result.current[0].exams[0].score
    4
    >>> [c.kind.value for c in result.changes]
    ['new_student', 'new_exam', 'released']
    """
    students: dict[StudentKey, _StudentVersions] = {}
    read_count = duplicates = 0
    for source in sources:
        for report in _records(source):
            read_count += 1
            key = student_key(report, across_di=across_di)
            store = students.get(key)
            if store is None:
                store = students[key] = _StudentVersions(_version_key(report), across_di)
            if not store.add(report):
                duplicates += 1
    current: list[ScoreReport] = []
    changes: list[Change] = []
    for di_code, ap_id in sorted(students, key=lambda key: (key[1], key[0])):
        store = students[(di_code, ap_id)]
        chosen = store.chosen()
        history = _History(ap_id, chosen.di_code)
        history.walk(store)
        changes.extend(history.changes)
        current.append(_current(chosen, history.last_seen, history.present))
    return MergeResult(tuple(current), tuple(changes), read_count, duplicates, across_di)
