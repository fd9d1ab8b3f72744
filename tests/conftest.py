"""Shared test configuration: async tests run on asyncio through anyio's pytest plugin;
Hypothesis explores new examples on every local run, and the same ones in CI; the sandbox's
pytest plugin is loaded because we ask for it, as a user does (it is not loaded unasked).

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) derandomises Hypothesis, so a submission's
CI result does not depend on the luck of the draw; a plain ``pytest`` keeps searching,
which is where new edge cases are found (and then pinned as tests).
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import pytest
from hypothesis import settings

from _keyrings import keyrings

_PLUGIN = "apscores.sandbox.pytest_plugin"
# An install made from an older checkout still declares the plugin as a pytest11 entry point,
# which pytest has loaded already (loading it twice is an error); until it is reinstalled.
_AUTOLOADED = not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") and any(
    entry.value == _PLUGIN for entry in entry_points(group="pytest11")
)
pytest_plugins = [] if _AUTOLOADED else [_PLUGIN]

__all__ = ["keyrings"]  # a fixture for every test (tests/_keyrings.py)

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
