"""The house rules of docs/architecture.md, checked: packages by layer, small modules, no cycles.

The layering itself (which package may import which) is import-linter's contract in
pyproject.toml, run by ``.ci/run``; here are the rules it cannot state.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import apscores

SRC = Path(apscores.__file__).resolve().parent
# "About 400 lines" (issue 14): the limit for any module a person maintains.
MAX_LINES = 425
GENERATED = {"service/_sync_client.py"}  # written by scripts/unasync.py from _async_client.py
PACKAGES = {"files", "tables", "service", "jobs", "credit", "export", "sandbox", "cli", "matching"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(("apscores", *parts))] = path
    return found


def top_level_imports(name: str, path: Path) -> set[str]:
    """apscores modules imported when ``name`` is imported (not in functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            imported.add(base)
            imported.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in imported if module.startswith("apscores")}


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
        name: {module for module in top_level_imports(name, path) if module in known} - {name}
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
