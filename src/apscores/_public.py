"""How a package says what is public: one helper every package ``__init__`` calls.

- :func:`publish` gives the classes and functions a package re-exports from its private
  ``_x.py`` modules the package's own name as ``__module__`` (as ``httpx`` does), so
  tracebacks, ``repr`` and the docs say ``apscores.service.Client``, not the private module
  it happens to live in. Pickle finds them there too: the package exports them.
- :func:`deprecated_alias` keeps an old public name working for one release: a module-level
  ``__getattr__`` that warns (:class:`DeprecationWarning`) and returns the new object.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["deprecated_alias", "publish"]


def publish(package: str, namespace: Mapping[str, Any]) -> None:
    """Say ``package`` as the home of each class and function in its ``__all__``.

    Only objects defined in one of the package's private modules are touched, under their
    own name (an alias such as ``Outcome = CreditOutcome`` leaves the class alone).
    """
    for name in namespace.get("__all__", ()):
        obj = namespace.get(name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if obj.__qualname__ != name or not obj.__module__.startswith(f"{package}._"):
            continue
        obj.__module__ = package


def deprecated_alias(module: str, moved: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for names that moved: ``{old name: (new module, new name)}``."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's name
        target = moved.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        home, new_name = target
        warnings.warn(
            f"{module}.{name} is deprecated; use {home}.{new_name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), new_name)

    return __getattr__
