"""The previous run's state for ``--since`` (``apscores credit`` and ``apscores export``)."""

from __future__ import annotations

from pathlib import Path

from apscores.errors import ConfigurationError
from apscores.models import ScoreReport

__all__ = ["read_previous"]


def read_previous(path: Path) -> list[ScoreReport]:
    """Last run's merged reports; a credit or export CSV given by mistake is named as such.

    The state must be a score file (what ``apscores merge -o`` writes): only that keeps
    the dates and irregularity codes that merging and comparing need.
    """
    from apscores.files import read

    with path.open("rb") as handle:
        head = handle.readline().decode("utf-8-sig", errors="replace")
    credit = head.startswith("ap_id,") and ",outcome," in head
    if credit or head.startswith("delta,ap_id,"):  # apscores credit -o, with or without --since
        raise ConfigurationError(
            f"{path} is a credit CSV (apscores credit -o); --since needs the merged score "
            "file of the previous run (apscores merge -o)"
        )
    with read(path) as reader:
        return list(reader)
