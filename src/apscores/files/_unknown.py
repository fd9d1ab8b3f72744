"""Unknown codes are kept with a warning (``docs/reference/file-layout.md`` §4.1, §4.6).

An exam, award or irregularity code the catalog does not know stays in the record as it is,
and the read says so once per code: :class:`~apscores.catalog.UnknownCodeWarning`, naming
the file and the first line that holds it. The generated builders hand over each exam and
award they build anew (a cache miss: once per distinct block, not per line), the reference
reading each record it reads. The columnar path looks at each block's distinct codes
(:meth:`Unknown.fresh`) and reads a block holding a new unknown one the typed way, with
the file's :class:`Unknown` (its ``told`` shared), so its warnings are the object path's.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from apscores import catalog
from apscores.files._speed.cache import Clock
from apscores.models import Award, ExamScore, ScoreReport

__all__ = ["Unknown"]

#: The catalog's exam codes as a file writes them: the quick test before the full one.
_EXAMS = frozenset(catalog.exam_names())


class Unknown:
    """The unknown codes one read has warned about (each once), in file ``name``, at the
    line its ``clock`` has reached; ``told`` may be shared by the readers of one file."""

    def __init__(
        self,
        name: str | None = None,
        clock: Clock | None = None,
        told: set[tuple[str, str]] | None = None,
    ) -> None:
        self.name, self.clock = name, clock
        self.told: set[tuple[str, str]] = set() if told is None else told  # (kind, code)

    def fresh(self, exams: Iterable[str], marks: Iterable[str], awards: Iterable[str]) -> bool:
        """Whether any of these codes is one the catalog does not know and this read has
        not warned about yet (the columnar path then reads the block the typed way, whose
        warnings name the line)."""
        told = self.told
        return (
            any(("exam", c) not in told and not catalog.is_known_exam(c) for c in exams)
            or any(
                ("irregularity", c) not in told and not catalog.is_known_irregularity(c)
                for c in marks
            )
            or any(("award", c) not in told and not catalog.is_known_award(c) for c in awards)
        )

    def item(self, item: Any) -> None:
        """Look at an exam or an award a builder made (anything else is no code of ours).
        Called for each one built anew: the usual exam, a known code and no mark, costs a
        type test and a set look-up."""
        kind = type(item)
        if kind is ExamScore:
            if item.code not in _EXAMS:
                self.exam(item.code)
            if item.irregularity_codes:
                self.marks(item.irregularity_codes)
        elif kind is Award and not catalog.is_known_award(item.code):
            self.tell("award", item.code, f"named {catalog.award_name(item.code)!r}")

    def exam(self, code: str) -> None:
        """Look at an exam code (``7`` is ``07``, as the catalog says)."""
        if not catalog.is_known_exam(code):
            self.tell("exam", code, f"named {catalog.exam_name(code, 0)!r}")

    def marks(self, codes: tuple[str, ...]) -> None:
        """Look at an exam's irregularity codes."""
        for code in codes:
            if not catalog.is_known_irregularity(code):
                self.tell("irregularity", code, "of no known meaning for the exam's status")

    def report(self, report: ScoreReport) -> None:
        """Look at every exam and award of a record."""
        for item in (*report.exams, *report.awards):
            self.item(item)

    def tell(self, kind: str, code: str, meaning: str) -> None:
        """Warn once about ``code``, a ``kind`` code the catalog does not know."""
        if (kind, code) in self.told:
            return
        self.told.add((kind, code))
        where = [self.name or "", f"line {self.clock.line}" if self.clock is not None else ""]
        message = (
            "".join(f"{part}: " for part in where if part)
            + f"unknown {kind} code {code!r}, kept as it is ({meaning}); "
            + "a newer apscores may know it"
        )
        warnings.warn(catalog.UnknownCodeWarning(message), stacklevel=2)
