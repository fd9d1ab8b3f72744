"""What changed between re-sent score reports: merge them, and say each change as an action.

College Board re-sends a student's whole history each time a score is added, corrected,
withheld or released. This package is that one concern:

- :func:`merge` is the entry point: many files (or readers, or records) in, one current
  view per student and every change between the versions it saw out (:class:`MergeResult`);
- :class:`ChangeKind` and :func:`classify` say what a change between two versions of an
  exam means (scored, rescored up or down, withheld, released, canceled...);
  :func:`describe` says it in words (:func:`score_text`, a score as text);
  :data:`EXAM_CHANGES` are the kinds an exam can have;
- :func:`compare` gives the same changes between two *views* (the state loaded last time
  and today's) instead of along a merge history;
- :func:`write_changes_csv` writes changes as CSV (:data:`CHANGE_COLUMNS`).

Credit deltas (:meth:`apscores.credit.CreditPolicy.delta`) and ``apscores export
--since`` build on :func:`classify` and :func:`compare`; they do not restate them.
"""

from __future__ import annotations

from apscores._public import publish
from apscores.changes._compare import (
    CHANGE_COLUMNS,
    EXAM_CHANGES,
    Change,
    ChangeKind,
    StudentKey,
    classify,
    compare,
    describe,
    score_text,
    student_key,
    write_changes_csv,
)
from apscores.changes._merge import MergeResult, MergeSource, merge

__all__ = [
    "CHANGE_COLUMNS",
    "EXAM_CHANGES",
    "Change",
    "ChangeKind",
    "MergeResult",
    "MergeSource",
    "StudentKey",
    "classify",
    "compare",
    "describe",
    "merge",
    "score_text",
    "student_key",
    "write_changes_csv",
]

publish(__name__, globals())
