"""The house rules of docs/architecture.md, checked: packages by layer, small modules, no cycles.

The layering itself (which package may import which) is import-linter's contract in
pyproject.toml, run by ``.ci/run``; here are the rules it cannot state.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import apscores

SRC = Path(apscores.__file__).resolve().parent
# "About 400 lines" (issue 14): the limit for any module a person maintains.
MAX_LINES = 425
GENERATED = {"service/_sync_client.py"}  # written by scripts/unasync.py from _async_client.py
PACKAGES = {
    "files",
    "tables",
    "service",
    "jobs",
    "credit",
    "export",
    "sandbox",
    "cli",
    "matching",
    "changes",
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(("apscores", *parts))] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def run_time_imports(name: str, path: Path) -> set[str]:
    """apscores modules ``name`` imports at run time: at import, or later inside a function
    (a late import still needs the module, and still closes a cycle); not ``TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if _type_checking_only(node):
            pending.extend(getattr(node, "orelse", []))
            continue
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            imported.add(base)
            imported.update(f"{base}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return {module for module in imported if module.startswith("apscores")}


def test_late_imports_count() -> None:
    """The cycle check sees an import inside a function, and skips ``TYPE_CHECKING``."""
    path = SRC / "changes" / "_merge.py"
    assert "apscores.files" in run_time_imports("apscores.changes._merge", path)  # a late one
    top = run_time_imports("apscores", SRC / "__init__.py")
    assert "apscores.service" not in top  # imported for type checkers only


def test_the_folder_listing_shows_the_layers() -> None:
    packages = {path.name for path in SRC.iterdir() if (path / "__init__.py").is_file()}
    assert packages >= PACKAGES


def test_no_maintained_module_is_long() -> None:
    long = {
        str(path.relative_to(SRC)): length
        for path in SRC.rglob("*.py")
        if (length := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(path.relative_to(SRC)) not in GENERATED
    }
    assert long == {}


def test_no_import_cycles() -> None:
    known = modules()
    graph = {
        name: {module for module in run_time_imports(name, path) if module in known} - {name}
        for name, path in known.items()
    }
    # A package's __init__ is imported with any of its modules, so it may import them.
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(f"{m}.")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_pytest_plugin_imports_little() -> None:
    """Every project that installs apscores loads the plugin in every pytest run."""
    code = (
        "import sys, apscores.sandbox.pytest_plugin\n"
        "print(sorted(name for name in sys.modules if name.startswith('apscores')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(run.stdout.strip())
    assert "apscores.sandbox.pytest_plugin" in loaded
    assert len(loaded) <= 5, loaded


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    script = SRC.parents[1] / "scripts" / "unasync.py"
    run = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_unasync_refuses_a_rule_that_matches_nothing() -> None:
    script = SRC.parents[1] / "scripts" / "unasync.py"
    spec = importlib.util.spec_from_file_location("unasync_script", script)
    assert spec is not None
    assert spec.loader is not None
    unasync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(unasync)
    source = (SRC / "service" / "_async_client.py").read_text(encoding="utf-8")
    stale = (*unasync.SUBSTITUTIONS, (r"\bAsyncGone\b", "Gone"))
    with pytest.raises(unasync.UnusedRuleError, match="AsyncGone"):
        unasync.render(source, stale)
    with pytest.raises(unasync.UnusedRuleError, match="import trio"):
        unasync.render(source, dropped={*unasync.DROPPED, "import trio\n"})


def _owner(private: str) -> str:
    """The package a private module belongs to: ``apscores.service._retry`` -> ``apscores.service``;
    a top-level helper (``apscores._atomic``) belongs to all of ``apscores``."""
    parts = private.split(".")
    first = next(i for i, part in enumerate(parts) if part.startswith("_"))
    return ".".join(parts[:first])


#: The exceptions, each with its reason.
PRIVATE_IMPORTS_ALLOWED = {
    # apscores.testing is the public face of the client's retry waits
    ("apscores.testing", "apscores.service._retry"),
    # `apscores sandbox serve` takes the server's own options
    ("apscores.cli._sandbox_cmd", "apscores.sandbox._server"),
    # The columnar engine is the files package's twin: it reads with the same rules (one
    # framing rule, one value table, one block reader, one cache policy, one reference
    # reader for its errors).
    ("apscores.tables._arrays", "apscores.files._framing"),
    ("apscores.tables._arrays", "apscores.files._values"),
    ("apscores.tables._blocks", "apscores.files._framing"),
    ("apscores.tables._columnar", "apscores.files._framing"),
    ("apscores.tables._columnar", "apscores.files._sources"),
    ("apscores.tables._dictionaries", "apscores.files._speed.cache"),
    ("apscores.tables._dictionaries", "apscores.files._unknown"),  # unknown codes: warned
    ("apscores.tables._columnar", "apscores.files._speed.cache"),
    ("apscores.tables._columnar", "apscores.files._txt"),
    ("apscores.tables._wide", "apscores.files._sources"),
    ("apscores.tables._wide", "apscores.files._txt"),
    # CSV files on the same engine: the CSV reader's own rows and its reference loop, its
    # cell checks, its opening as `read` opens a file.
    ("apscores.tables._csv_columnar", "apscores.files._csv"),
    ("apscores.tables._csv_columnar", "apscores.files._csv_rows"),
    ("apscores.tables._csv_columnar", "apscores.files._sources"),
    ("apscores.tables._csv_columnar", "apscores.files._txt"),
    ("apscores.tables._frames", "apscores.files._sources"),
    ("apscores.tables._keyed", "apscores.files._sources"),
    # `apscores export` of TXT files on the columnar path: the engine's blocks with their
    # record keys (tables._keyed), the command's own writer of them (export._columnar).
    ("apscores.export._columnar", "apscores.tables._keyed"),
    ("apscores.cli._export_cmd", "apscores.export._columnar"),
}


def test_private_modules_are_imported_only_inside_their_package() -> None:
    """A package's ``_x.py`` modules are its own; other packages use its ``__init__``."""
    known = modules()
    reached = {
        (name, module)
        for name, path in known.items()
        for module in run_time_imports(name, path)
        if module in known and any(part.startswith("_") for part in module.split("."))
    }
    outside = sorted(
        (name, module)
        for name, module in reached
        if not (name == _owner(module) or name.startswith(f"{_owner(module)}."))
        and (name, module) not in PRIVATE_IMPORTS_ALLOWED
    )
    assert outside == []
