"""A command run on the columnar path and again with it switched off, for the differential
CLI tests (issue 23): its exit status, stdout, stderr and output file."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import Any
from unittest import mock

from apscores.cli import main

__all__ = ["captured"]


def captured(
    argv: list[str],
    columnar: bool,
    *,
    switch: tuple[Any, str],
    spy: tuple[Any, str],
    sure: bool = True,
) -> tuple[int, str, str, bytes | None]:
    """(exit status, stdout, stderr, the ``-o`` file's bytes or None) of one run.

    ``switch`` is the module and name of the function that chooses the columnar path
    (made to answer False when not ``columnar``), ``spy`` a function only that path
    calls; ``sure``: the columnar path must run when ``columnar`` (not so for a file that
    is not TXT). A file written has mode 0600.
    """
    out = Path(argv[argv.index("-o") + 1])
    out.unlink(missing_ok=True)
    stdout, stderr = io.StringIO(), io.StringIO()
    module, name = spy
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(sys, "stdout", stdout))
        stack.enter_context(mock.patch.object(sys, "stderr", stderr))
        called = stack.enter_context(mock.patch.object(module, name, wraps=getattr(module, name)))
        if not columnar:
            stack.enter_context(mock.patch.object(*switch, return_value=False))
        code = main(argv)
    if sure or not columnar:
        assert called.called == columnar  # the case really ran the path it says
    data = None
    if out.exists():
        assert out.stat().st_mode & 0o777 == 0o600
        data = out.read_bytes()
    return code, stdout.getvalue(), stderr.getvalue(), data
