"""``semeq install-reaper``: the scripts land in REAPER's Scripts folder, nothing else changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from daw_bridge.cli import CLIError, main
from daw_bridge.cli.install_reaper import TARGET_FOLDER, default_resource_path, install, scripts_source

REPO_SCRIPTS = Path(__file__).resolve().parents[1] / "reaper_scripts"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_scripts_are_found_in_the_repository():
    assert scripts_source() == REPO_SCRIPTS
    assert (REPO_SCRIPTS / "Semantic EQ.lua").is_file()


def test_copies_every_script_and_nothing_else(tmp_path, capsys):
    resource = tmp_path / "REAPER"
    (resource / "Scripts" / "Mine").mkdir(parents=True)
    (resource / "Scripts" / "Mine" / "keep.lua").write_text("-- the user's own script\n")
    (resource / "reaper-kb.ini").write_text("KEY 1 2 3\n")
    before = _tree(resource)

    assert main(["install-reaper", "--resource-path", str(resource)]) == 0

    after = _tree(resource)
    for name, data in before.items():
        assert after.pop(name) == data, f"{name} was changed"
    bundle = (REPO_SCRIPTS / "Semantic EQ.lua").read_bytes()
    aliases = [line.split(" > ")[1] for line in bundle.decode().splitlines() if line.startswith("--   [main] . > ")]
    assert len(aliases) == 11
    expected = {f"Scripts/{TARGET_FOLDER}/{name}": bundle for name in ["Semantic EQ.lua", *aliases]}
    expected |= {f"Scripts/{TARGET_FOLDER}/semeq/{p.name}": p.read_bytes() for p in (REPO_SCRIPTS / "semeq").iterdir()}
    assert after == expected  # exactly what ReaPack installs, byte for byte; no index.xml, no temporary files
    out = capsys.readouterr().out
    assert "Load ReaScript" in out and "semeq serve" in out and "Semantic EQ - Settings" in out


def test_a_second_run_changes_nothing_and_an_upgrade_replaces_our_files(tmp_path):
    resource = tmp_path / "REAPER"
    resource.mkdir()
    first = install(resource)
    assert {state for _, state in first} == {"new"}
    again = install(resource)
    assert {state for _, state in again} == {"unchanged"}
    target = resource / "Scripts" / TARGET_FOLDER / "semeq" / "client.lua"
    target.write_text("-- an older version\n")
    third = dict((p.relative_to(target.parents[1]).as_posix(), state) for p, state in install(resource))
    assert third["semeq/client.lua"] == "updated"
    assert target.read_bytes() == (REPO_SCRIPTS / "semeq" / "client.lua").read_bytes()


def test_a_missing_resource_folder_is_a_clear_error_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "no-reaper-here"
    assert main(["install-reaper", "--resource-path", str(missing)]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "--resource-path" in err
    assert not missing.exists()


def test_missing_scripts_are_a_clear_error(tmp_path):
    (tmp_path / "REAPER").mkdir()
    with pytest.raises(CLIError, match="scripts were not found"):
        install(tmp_path / "REAPER", source=tmp_path / "nothing")


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("win32", {"APPDATA": r"C:\Users\me\AppData\Roaming"}, Path(r"C:\Users\me\AppData\Roaming") / "REAPER"),
        ("win32", {}, Path("/home/me") / "AppData" / "Roaming" / "REAPER"),
        ("darwin", {}, Path("/home/me") / "Library" / "Application Support" / "REAPER"),
        ("linux", {}, Path("/home/me") / ".config" / "REAPER"),
    ],
)
def test_default_resource_paths(platform, environ, expected):
    assert default_resource_path(platform, environ, Path("/home/me")) == expected


def test_help_names_the_default_and_the_option():
    done = subprocess.run([sys.executable, "-m", "daw_bridge", "install-reaper", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # argparse wraps lines
    assert "--resource-path" in text and "Load ReaScript" in text
