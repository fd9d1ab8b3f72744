"""Shared test configuration: async tests run on asyncio through anyio's pytest plugin;
Hypothesis explores new examples on every local run, and the same ones in CI.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) derandomises Hypothesis, so a submission's
CI result does not depend on the luck of the draw; a plain ``pytest`` keeps searching,
which is where new edge cases are found (and then pinned as tests).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from _keyrings import keyrings

__all__ = ["keyrings"]  # a fixture for every test (tests/_keyrings.py)

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
