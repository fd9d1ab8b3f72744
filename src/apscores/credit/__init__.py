"""Turn AP scores into course credit or placement, by an institution's own rules.

A policy is a table a registrar keeps in a spreadsheet, one rule per row::

    exam_code,min_score,admin_year_from,admin_year_to,course,credit_hours,note
    93,4,,2019,HIST 110 World History,3,old World History course
    93,4,2020,,HIST 112 Modern World,3,World History: Modern

Rules are checked when the file is loaded, and a bad row is refused with its row and
column (:class:`PolicyError`): unknown exam codes, numbers that are not numbers, scores
outside 1-5, year ranges that end before they start, and rules that overlap.

How a score is matched:

- A rule applies to an exam when the codes are equal and the exam's **own admin year** is
  in the rule's year range (both ends inclusive, blank = open). That is how exam 93 (World
  History until 2019, World History: Modern from 2020) and the renamed art exams 14/15/16
  get different rules under the same code.
- When several rules apply, the one with the **highest** ``min_score`` the score reaches
  wins, so a tiered policy (3 -> 3 hours, 4 -> 6 hours) is two rows.
- Two rules for the same exam with the same ``min_score`` and overlapping year ranges
  would be ambiguous, so they are refused. To grant two courses for one score, name both in
  ``course`` (for example ``MATH 101 + MATH 102``).
- Pending, canceled, withheld (and unknown-status) scores never earn credit, whatever the
  rules say: they come out as ``not_eligible``.

:meth:`CreditPolicy.apply` merges score files first (as :func:`~apscores.merge` does), so
each exam gets one decision however many times it was re-sent, and the run
(:class:`CreditRun`) carries the merge's conflicts.

Between two runs, :meth:`CreditPolicy.delta` lists the credit granted, revoked and changed
(:class:`CreditDelta`): a rescore below a threshold revokes, a released score grants.
"""

from __future__ import annotations

from apscores._public import deprecated_alias, publish
from apscores.credit._delta import (
    DELTA_COLUMNS,
    CreditDelta,
    DeltaKind,
    write_delta_csv,
)
from apscores.credit._policy import CreditPolicy
from apscores.credit._results import (
    CREDIT_COLUMNS,
    CreditOutcome,
    CreditResult,
    CreditRun,
    write_credit_csv,
)
from apscores.credit._rules import POLICY_COLUMNS, REQUIRED_POLICY_COLUMNS, CreditRule

__all__ = [
    "CREDIT_COLUMNS",
    "DELTA_COLUMNS",
    "POLICY_COLUMNS",
    "REQUIRED_POLICY_COLUMNS",
    "CreditDelta",
    "CreditOutcome",
    "CreditPolicy",
    "CreditResult",
    "CreditRule",
    "CreditRun",
    "DeltaKind",
    "write_credit_csv",
    "write_delta_csv",
]

publish(__name__, globals())
__getattr__ = deprecated_alias(__name__, {"Outcome": (__name__, "CreditOutcome")})
