"""What to install for an optional feature, named in one place.

A hint names the packages themselves as well as the extra, because ``pip install
'apscores[arrow]'`` works only once apscores is on PyPI (until then, from a checkout:
``pip install '.[arrow]'``). ``tests/test_extras.py`` checks this table against the
extras of ``pyproject.toml``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from apscores.errors import ConfigurationError

__all__ = ["EXTRAS", "install_hint", "optional_module"]

#: Each extra of ``pyproject.toml`` a user may need, and the packages it installs.
EXTRAS: dict[str, tuple[str, ...]] = {
    "arrow": ("pyarrow", "numpy"),
    "pandas": ("pandas", "pyarrow", "numpy"),
    "polars": ("polars", "pyarrow", "numpy"),
    "excel": ("xlsxwriter", "openpyxl"),
    "keyring": ("keyring",),
}


def install_hint(extra: str) -> str:
    """``pip install pyarrow numpy`` (the ``apscores[arrow]`` extra), for messages.

    >>> install_hint("excel")
    "pip install xlsxwriter openpyxl (the 'apscores[excel]' extra)"
    """
    return f"pip install {' '.join(EXTRAS[extra])} (the 'apscores[{extra}]' extra)"


def optional_module(
    name: str, extra: str, *, needed_for: str = "", otherwise: str = ""
) -> ModuleType:
    """Import an optional dependency, or raise a :class:`ConfigurationError` that says what
    to install (and ``otherwise``, what to do instead)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        package = name.split(".")[0]
        what = f"{needed_for} needs {package}" if needed_for else f"{package} is not installed"
        instead = f" ({otherwise})" if otherwise else ""
        raise ConfigurationError(
            f"{what}; install it with: {install_hint(extra)}{instead}"
        ) from None
