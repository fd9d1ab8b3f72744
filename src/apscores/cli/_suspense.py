"""``apscores export --crosswalk/--roster``: the SIS ID of each student, and suspense.

A student the crosswalk (or matching against ``--roster``) cannot name is never dropped:
their reports are held in a suspense file beside the load file (``load.suspense.csv``, a
score CSV), counted in the summary, and read again as input by the next run, which
exports them once they are matched. With ``--since``, a held student is left out of the
previous view, so that their exams count as new when they are finally exported.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import attrs

from apscores.export import Column, SisMap
from apscores.models import ScoreReport

__all__ = ["Identities", "held_reports", "identify", "suspense_path", "with_sis_column"]


def suspense_path(output: Path) -> Path:
    """``load.csv`` -> ``load.suspense.csv``, beside it."""
    return output.with_name(f"{output.stem}.suspense.csv")


def wanted(args: argparse.Namespace) -> bool:
    """Whether the export names students by SIS ID (``--crosswalk`` or ``--roster``)."""
    return args.roster is not None or args.crosswalk is not None


def held_reports(args: argparse.Namespace) -> list[ScoreReport]:
    """The reports last run held in suspense (none when there is no suspense file)."""
    from apscores.files import read

    path = suspense_path(args.output)
    if not wanted(args) or not path.is_file():
        return []
    with read(path) as reader:
        return list(reader)


@attrs.frozen
class Identities:
    """AP ID -> SIS ID of the students that can be loaded, and the reports held back."""

    sis_ids: dict[str, str]
    held: list[ScoreReport]
    crosswalk: Path


def identify(args: argparse.Namespace, current: Sequence[ScoreReport]) -> Identities:
    """SIS IDs by matching against ``--roster`` (recording rule matches in the crosswalk),
    or by looking AP IDs up in ``--crosswalk`` alone."""
    from apscores.cli._match_cmd import crosswalk_path, load_roster
    from apscores.matching import Crosswalk, Roster, match

    path = crosswalk_path(args)
    if args.roster is not None:
        roster = load_roster(args)
        assert isinstance(roster, Roster)
        sis_ids = match(current, roster, crosswalk=path).sis_ids
    else:
        from apscores.cli._common import require_file

        require_file(path, "--crosswalk")
        with Crosswalk(path) as crosswalk:
            links = crosswalk.links()
        sis_ids = {
            report.ap_id: sis
            for report in current
            if (link := links.get(report.ap_id)) is not None and (sis := link.sis_id) is not None
        }
    held = [report for report in current if report.ap_id not in sis_ids]
    return Identities(sis_ids=sis_ids, held=held, crosswalk=path)


def with_sis_column(sis_map: SisMap) -> SisMap:
    """The map, with a first ``sis_id`` column when it has none."""
    if any(column.value == "sis_id" for column in sis_map.columns):
        return sis_map
    return attrs.evolve(sis_map, columns=(Column("sis_id", "sis_id"), *sis_map.columns))


def write_suspense(args: argparse.Namespace, held: list[ScoreReport]) -> Path:
    """Write the held reports (atomically, 0600), or remove the file when none is held."""
    from apscores.files import write_csv

    path = suspense_path(args.output)
    if held:
        write_csv(held, path, raw=True)  # read back next run: values exactly as they were
    else:
        path.unlink(missing_ok=True)
    return path
