"""What each package exports is what it says it exports (as ``httpx``'s test of the same name).

The rule (docs/api.md, "What is public"): a package's public names are its ``__all__``;
everything else lives in ``_x.py`` modules. Checked here, for the top level and every
package: ``__all__`` resolves, lazy names (``TYPE_CHECKING`` imports and the table the
``__getattr__`` reads) agree with it, ``dir()`` lists it, and the classes and functions say a
public module as their ``__module__`` (and pickle by that name).
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import inspect
import pickle
import re
import types
from pathlib import Path
from types import ModuleType

import pytest

import apscores

SRC = Path(apscores.__file__).resolve().parent
PACKAGES = [
    "apscores",
    *sorted(
        f"apscores.{path.parent.name}"
        for path in SRC.glob("*/__init__.py")
        if not path.parent.name.startswith("_")
    ),
]
#: Packages whose ``__init__`` calls ``apscores._public.publish``.
PUBLISHED = [
    "apscores",
    "apscores.changes",
    "apscores.cli",
    "apscores.credit",
    "apscores.export",
    "apscores.files",
    "apscores.jobs",
    "apscores.matching",
    "apscores.sandbox",
    "apscores.service",
    "apscores.tables",
]


def source(module: ModuleType) -> ast.Module:
    assert module.__file__ is not None
    return ast.parse(Path(module.__file__).read_text(encoding="utf-8"))


def type_checking_imports(module: ModuleType) -> dict[str, str]:
    """Name -> module of every ``from x import name`` under ``if TYPE_CHECKING:``."""
    found: dict[str, str] = {}
    for node in source(module).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    for alias in statement.names:
                        found[alias.asname or alias.name] = statement.module
    return found


def has_private_part(name: str) -> bool:
    return any(part.startswith("_") for part in name.split("."))


@pytest.mark.parametrize("name", PACKAGES)
def test_all_resolves_and_is_listed(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), "a name twice in __all__"
    resolved = {public: getattr(module, public) for public in exported}  # raises if one is not
    assert list(resolved) == exported
    assert set(dir(module)) >= set(exported)


@pytest.mark.parametrize("name", PACKAGES)
def test_lazy_names_agree(name: str) -> None:
    module = importlib.import_module(name)
    checking = type_checking_imports(module)
    if not checking:  # an eager package: everything in __all__ is bound at import
        assert set(module.__all__) <= set(vars(module))
        return
    assert set(checking) == set(module.__all__) - {"__version__"}
    for public, home in checking.items():
        assert getattr(module, public) is getattr(importlib.import_module(home), public)


def test_the_top_level_table_is_the_type_checking_imports() -> None:
    homes = apscores._HOMES
    assert set(homes) == set(apscores.__all__) - {"__version__"}
    assert homes == type_checking_imports(apscores)
    for public, home in homes.items():
        assert public in importlib.import_module(home).__all__, (public, home)
        assert not has_private_part(home)


def test_dir_lists_the_public_names_only() -> None:
    assert dir(apscores) == sorted(apscores.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        apscores.nothing  # noqa: B018


def test_the_version_comes_from_the_installed_metadata() -> None:
    from importlib.metadata import version

    assert apscores.__version__ == version("apscores")


@pytest.mark.parametrize("name", PUBLISHED)
def test_public_objects_say_a_public_module(name: str) -> None:
    module = importlib.import_module(name)
    for public in module.__all__:
        obj = getattr(module, public)
        if isinstance(obj, types.GenericAlias):  # a type alias (a class on Python 3.10)
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert not has_private_part(obj.__module__), f"{name}.{public}: {obj.__module__}"
            assert getattr(importlib.import_module(obj.__module__), obj.__qualname__) is obj
            if inspect.isclass(obj):
                assert pickle.loads(pickle.dumps(obj)) is obj  # noqa: S301 - our own bytes


def test_the_client_says_its_public_name() -> None:
    assert apscores.Client.__module__ == "apscores.service"
    assert repr(apscores.AsyncClient) == "<class 'apscores.service.AsyncClient'>"
    assert apscores.merge.__module__ == "apscores.changes"


def test_public_values_pickle() -> None:
    from apscores.changes import Change, ChangeKind
    from apscores.credit import CreditOutcome
    from apscores.jobs import FetchOutcome
    from apscores.matching import MatchOutcome
    from apscores.models import ExamScore
    from apscores.service import GeneratedFile

    generated = GeneratedFile("https://x/y?sig=1", "f.txt", 7, "txt", "new")
    change = Change(
        ChangeKind.SCORE_RAISED,
        "A0000001",
        2024,
        "93",
        ExamScore("93", 2024, 3),
        ExamScore("93", 2024, 4),
        dt.date(2024, 7, 1),
        di_code="1234",
    )
    values = [
        generated,
        change,
        CreditOutcome.AWARDED,
        FetchOutcome.OK,
        MatchOutcome.MATCHED,
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value  # noqa: S301 - our own bytes


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("apscores.credit", "Outcome", "CreditOutcome"),
        ("apscores.jobs", "Outcome", "FetchOutcome"),
        ("apscores.matching", "Outcome", "MatchOutcome"),
        ("apscores.merging", "merge", "merge"),
        ("apscores.merging", "MergeResult", "MergeResult"),
    ],
)
def test_moved_names_still_work_with_a_warning(module: str, old: str, new: str) -> None:
    package = importlib.import_module(module)
    with pytest.deprecated_call(match=f"{module}.{old} is deprecated"):
        value = getattr(package, old)
    home = "apscores.changes" if module == "apscores.merging" else module
    assert value is getattr(importlib.import_module(home), new)
    with pytest.raises(AttributeError):
        package.Nothing  # noqa: B018


API_PAGE = SRC.parents[1] / "docs" / "api.md"


def documented() -> tuple[set[str], set[str]]:
    """What docs/api.md renders (``::: target`` and its ``members:``), and what it names in
    backticks."""
    targets: set[str] = set()
    current = ""
    for line in API_PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("::: "):
            current = line[4:].strip()
            targets.add(current)
        elif line.startswith("        - ") and current:
            targets.add(f"{current}.{line.strip()[2:]}")
    named = set(re.findall(r"`([A-Za-z_][\w.]*)`", API_PAGE.read_text(encoding="utf-8")))
    return targets, named


def test_the_api_reference_renders_public_names_only() -> None:
    targets, _ = documented()
    assert {target for target in targets if has_private_part(target)} == set()
    for target in targets:
        module, _, attribute = target.rpartition(".")
        try:
            importlib.import_module(target)
        except ModuleNotFoundError:
            getattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize("name", [name for name in PUBLISHED if name != "apscores"])
def test_the_api_reference_lists_every_public_name(name: str) -> None:
    targets, named = documented()
    module = importlib.import_module(name)
    missing = [
        public
        for public in module.__all__
        if not {name, f"{name}.{public}"} & targets and public not in named
    ]
    assert missing == []


def test_publish_touches_only_the_packages_own_private_definitions() -> None:
    from apscores._public import publish

    def helper() -> None: ...

    helper.__module__ = "apscores.example._impl"
    helper.__qualname__ = "helper"

    class Other: ...

    Other.__module__ = "elsewhere._impl"
    namespace = {"__all__": ["helper", "Alias", "Other", "VALUE"], "helper": helper}
    namespace |= {"Alias": helper, "Other": Other, "VALUE": 3}
    publish("apscores.example", namespace)
    assert helper.__module__ == "apscores.example"
    assert Other.__module__ == "elsewhere._impl"  # not this package's: left alone


def test_the_old_merging_module_lists_what_it_still_offers() -> None:
    import apscores.merging

    assert {"merge", "MergeResult", "ChangeKind"} <= set(dir(apscores.merging))
