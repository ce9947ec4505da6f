"""The ``semeq`` entry point: every subcommand's help stands on its own; one command loads only itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from daw_bridge import cli


@pytest.mark.parametrize("name", [c.replace("_", "-") for c in cli.COMMANDS])
def test_every_subcommand_has_useful_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: semeq {name}")
    assert len(out.splitlines()) > 3  # a description and options, not just a usage line


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name.replace("_", "-") in out


def test_send_loads_no_other_command_and_no_heavy_module():
    code = (
        "import sys; from daw_bridge import cli; cli.build_parser(only='send'); "
        "heavy = [m for m in ('torch', 'numpy', 'scipy', 'daw_bridge.cli.eq', 'daw_bridge.semantic') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
