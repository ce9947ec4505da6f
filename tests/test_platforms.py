"""Runs where REAPER users are: no POSIX-only module is needed to import any part of the package.

Every module of ``daw_bridge`` is imported in a fresh interpreter where the POSIX-only standard
modules cannot be imported (as on Windows). The type check as Windows and as macOS is
``mypy --platform win32`` / ``darwin`` with the ``[tool.mypy]`` settings of pyproject.toml (run by
the test below, so the README's test command runs it too).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import daw_bridge
from tests.hidden import run_without

#: Standard modules that exist only on POSIX systems.
POSIX_ONLY = {"fcntl", "pwd", "grp", "termios", "resource", "posix", "tty", "pty", "syslog", "crypt"}
ROOT = Path(__file__).resolve().parents[1]


def _all_modules() -> list[str]:
    """Every module of the package except ``__main__`` (importing it runs the program)."""
    return sorted(m.name for m in pkgutil.walk_packages(daw_bridge.__path__, "daw_bridge.")
                  if not m.name.endswith("__main__"))


def test_every_module_imports_without_posix_only_modules():
    modules = _all_modules()
    assert "daw_bridge.cli.serve" in modules and len(modules) > 20
    code = (
        "import importlib, os, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        # the `semeq serve` door as a user starts it: its parser and the watch folder's start-up code
        "from daw_bridge.cli import build_parser\n"
        "build_parser().parse_args(['serve'])\n"
        f"bad = sorted(m for m in sys.modules if m.partition('.')[0] in {POSIX_ONLY - {'posix'}!r})\n"
        "assert not bad, bad\n"
        "print(len(sys.modules))\n"
    )
    run_without(POSIX_ONLY - {"posix"}, code)  # `posix` itself is os's back end here; `os` is portable


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_the_package_type_checks_as_windows_and_as_macos(platform):
    # the files and settings are pyproject.toml's [tool.mypy]; the Python version is the oldest supported
    cmd = [sys.executable, "-m", "mypy", "--platform", platform]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0 and "Success" in result.stdout, result.stdout + result.stderr
