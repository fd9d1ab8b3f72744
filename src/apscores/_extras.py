"""What to install for an optional feature, named in one place.

A hint names the packages themselves as well as the extra, because ``pip install
'apscores[arrow]'`` works only once apscores is on PyPI (until then, from a checkout:
``pip install '.[arrow]'``). ``tests/test_extras.py`` checks this table against the
extras of ``pyproject.toml``.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "install_hint"]

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
