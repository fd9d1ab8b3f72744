"""The layout guards: real checks that ``python -O`` keeps."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import apscores
from apscores._guard import guard

SRC = Path(apscores.__file__).resolve().parent


def test_a_guard_that_holds_says_nothing() -> None:
    guard(True, "anything")


def test_a_guard_that_fails_names_what_and_calls_it_a_bug() -> None:
    with pytest.raises(RuntimeError, match=r"guard failed: the blocks touch; this is a bug"):
        guard(False, "the blocks touch")


def test_guards_still_run_under_python_dash_o() -> None:
    code = (
        "import apscores.tables._columnar, apscores.files._speed\n"
        "from apscores._guard import guard\n"
        "assert False, 'python -O did not strip this'\n"
        "guard(False, 'kept')\n"
    )
    done = subprocess.run(
        [sys.executable, "-O", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "RuntimeError: apscores layout guard failed: kept" in done.stderr


def test_no_module_guards_its_tables_with_assert() -> None:
    """Module-level code runs once, at import: a check there is a guard, not type narrowing."""
    found = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in sorted(SRC.rglob("*.py"))
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assert)
    ]
    assert found == []
