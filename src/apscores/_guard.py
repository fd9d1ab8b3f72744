"""Import-time checks of the package's own tables, kept when Python runs with ``-O``.

An ``assert`` disappears under ``python -O``, so a layout guard written as one would let a
wrong offset read every file wrongly in exactly the deployments that strip them. These
checks stay: when the package's own tables disagree, the import fails, naming what.
"""

from __future__ import annotations

__all__ = ["guard"]


def guard(condition: bool, what: str) -> None:
    """Raise :class:`RuntimeError` naming ``what`` unless ``condition`` holds.

    A failure is a bug in apscores (two of its tables disagree), never a bad input file.
    """
    if not condition:
        raise RuntimeError(f"apscores layout guard failed: {what}; this is a bug in apscores")
