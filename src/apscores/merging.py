"""Deprecated: merging lives in :mod:`apscores.changes` (``from apscores import merge``).

``apscores.merging.merge``, ``MergeResult``, ``MergeSource`` and the change names still
work for one release, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

from apscores._public import deprecated_alias

_NAMES = (
    "CHANGE_COLUMNS",
    "EXAM_CHANGES",
    "Change",
    "ChangeKind",
    "MergeResult",
    "MergeSource",
    "merge",
    "write_changes_csv",
)

__getattr__ = deprecated_alias(__name__, {name: ("apscores.changes", name) for name in _NAMES})


def __dir__() -> list[str]:
    return list(_NAMES)


__all__: list[str] = []
