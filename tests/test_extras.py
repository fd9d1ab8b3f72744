"""The install hints name exactly the packages of the extras pyproject.toml declares."""

from __future__ import annotations

import re
from pathlib import Path

from apscores import _toml
from apscores._extras import EXTRAS, install_hint

PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()


def test_the_hints_match_the_extras_of_pyproject() -> None:
    declared = _toml.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    extras = declared["optional-dependencies"]
    for extra, packages in EXTRAS.items():
        assert sorted(packages) == sorted(_name(r) for r in extras[extra]), extra


def test_a_hint_names_the_packages_and_the_extra() -> None:
    assert install_hint("arrow") == "pip install pyarrow numpy (the 'apscores[arrow]' extra)"


def test_every_runtime_import_is_declared() -> None:
    """What src/ imports at run time outside the optional features is a dependency."""
    declared = _toml.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    names = {_name(r) for r in declared["dependencies"]}
    assert {"httpx", "attrs", "cattrs", "anyio", "rich", "typing-extensions"} <= names
