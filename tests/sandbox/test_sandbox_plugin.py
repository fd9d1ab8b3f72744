"""The pytest plugin: fixtures, the configuring marker, a cheap import, no client needed."""

from __future__ import annotations

import importlib
import os
import runpy
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

import apscores.sandbox
from apscores.sandbox import DEFAULT_EMAIL, FakeClock, SandboxServer, SandboxService

_PLUGIN = "apscores.sandbox.pytest_plugin"


def test_ap_sandbox_defaults(ap_sandbox: SandboxService, ap_sandbox_clock: FakeClock) -> None:
    assert set(ap_sandbox.accounts) == {DEFAULT_EMAIL}
    assert len(ap_sandbox.pending("1234")) == 25
    assert ap_sandbox.clock is ap_sandbox_clock
    before = ap_sandbox.reporting_year_start()
    ap_sandbox_clock.advance(400 * 86400)
    assert ap_sandbox.reporting_year_start() > before


@pytest.mark.ap_sandbox(reports=2, di_codes=["0042", "0043"], seed=5, url_ttl=15)
def test_marker_configures_the_fixture(ap_sandbox: SandboxService) -> None:
    assert len(ap_sandbox.pending("0042")) == 2
    assert len(ap_sandbox.pending("0043")) == 2
    assert ap_sandbox.url_ttl == 15


def test_ap_sandbox_server(ap_sandbox_server: SandboxServer) -> None:
    assert ap_sandbox_server.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(ap_sandbox_server.base_url + "/webServiceAuth")  # noqa: S310
    assert info.value.code == 403  # GET: API Gateway's "Missing Authentication Token"


def test_fixture_closes_clients(ap_sandbox: SandboxService) -> None:
    client = ap_sandbox.client()
    ap_sandbox.close_clients()
    ap_sandbox.close_clients()
    assert client.institution("1234").di_code == "1234"


def test_modules_reload_cleanly() -> None:
    # pytest imports the plugin (and the package) before coverage starts: run them again.
    import apscores.sandbox.pytest_plugin as plugin

    assert importlib.reload(plugin).ap_sandbox is not None
    assert importlib.reload(apscores.sandbox).fake_reports is not None


def test_python_m_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    from apscores.sandbox import _server

    monkeypatch.setattr(_server, "main", lambda: 0)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(
            str(Path(apscores.sandbox.__file__).parent / "__main__.py"), run_name="__main__"
        )
    assert info.value.code == 0


def test_lazy_package_attributes() -> None:
    assert "fake_reports" in dir(apscores.sandbox)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = apscores.sandbox.nope


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, apscores.sandbox.pytest_plugin\n"
        "heavy = ('http.server', 'apscores.sandbox._service', 'apscores.sandbox._server')\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_wheel_does_not_register_the_plugin() -> None:
    """A user's test run loads the plugin only when asked (``-p`` or ``pytest_plugins``)."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert "pytest11" not in text
    assert f'"{_PLUGIN}"' not in text  # as the value of any entry point


def test_a_project_opts_in_from_its_conftest(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(f"pytest_plugins = [{_PLUGIN!r}]\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nap_sandbox_strict = true\n")
    (tmp_path / "test_strict.py").write_text(
        textwrap.dedent(
            """
            import pytest


            def test_strict_from_the_ini(ap_sandbox):
                assert ap_sandbox.strict


            @pytest.mark.ap_sandbox(strict=False)
            def test_the_marker_wins(ap_sandbox):
                assert not ap_sandbox.strict
            """
        )
    )
    result = _pytest(tmp_path, "--strict-config")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_without_opting_in_there_is_no_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain(ap_sandbox):\n    pass\n")
    result = _pytest(tmp_path)
    assert result.returncode == 1
    assert "fixture 'ap_sandbox' not found" in result.stdout


def _pytest(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    # Autoloading stays off: an install from an older checkout still has the entry point.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, str(folder)],
        capture_output=True, text=True, cwd=folder, env=env, check=False,
    )  # fmt: skip


def test_plugin_works_in_another_project_without_the_client(tmp_path: Path) -> None:
    (tmp_path / "test_integration.py").write_text(
        textwrap.dedent(
            """
            import sys

            import pytest

            sys.modules["apscores.service"] = None  # as if the client were not installed


            @pytest.mark.ap_sandbox(reports=3, di_codes=["0042"])
            def test_with_fixture(ap_sandbox, ap_sandbox_clock):
                assert len(ap_sandbox.pending("0042")) == 3
                ap_sandbox_clock.advance(10)
                with pytest.raises(ImportError):
                    ap_sandbox.client()


            def test_with_server(ap_sandbox_server):
                assert ap_sandbox_server.base_url.startswith("http://127.0.0.1:")
            """
        )
    )
    # Only our plugin, loaded by name, as a user opts in (and quick: no other plugin).
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "apscores.sandbox.pytest_plugin",
         "-p", "no:cacheprovider", "--strict-markers", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
