"""``semeq install-reaper``: copy the Semantic EQ ReaScripts into REAPER's Scripts folder.

For users without ReaPack; it installs what ReaPack would: the bundle ``reaper_scripts/Semantic
EQ.lua`` under each action's name listed in its ``@provides`` aliases (``[main] . > Name.lua``), and
the modules it provides (``semeq/``), into ``<resource path>/Scripts/Semantic EQ/``. Nothing else
is written or registered (no change to REAPER's action list or its ini files): the user loads the
actions once with Actions > Show action list > New action > Load ReaScript.

REAPER's resource path defaults to ``%APPDATA%\\REAPER`` on Windows,
``~/Library/Application Support/REAPER`` on macOS and ``~/.config/REAPER`` on Linux; a portable
install keeps it beside REAPER (REAPER shows it with Options > Show REAPER resource path).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import sys
from pathlib import Path

from daw_bridge.cli import CLIError
from daw_bridge.files import write_bytes_atomic

#: Folder under ``<resource path>/Scripts`` that receives the scripts.
TARGET_FOLDER = "Semantic EQ"


def scripts_source() -> Path:
    """The repository's (or the install's) ``reaper_scripts`` folder (``SEMEQ_REAPER_SCRIPTS`` overrides it)."""
    env = os.environ.get("SEMEQ_REAPER_SCRIPTS")
    if env:
        return Path(env).expanduser()
    from daw_bridge.resources import resource_dir

    return resource_dir("reaper_scripts")


def default_resource_path(platform: str | None = None, environ: dict | None = None, home: Path | None = None) -> Path:
    """REAPER's default resource folder on ``platform`` (``sys.platform`` values)."""
    platform = platform or sys.platform
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    if platform.startswith("win"):
        appdata = environ.get("APPDATA")
        return (Path(appdata) if appdata else home / "AppData" / "Roaming") / "REAPER"
    if platform == "darwin":
        return home / "Library" / "Application Support" / "REAPER"
    return home / ".config" / "REAPER"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "install-reaper",
        help="copy the Semantic EQ actions into REAPER's Scripts folder (without ReaPack)",
        description=(
            "Copy the Semantic EQ ReaScripts (Make warmer, Say it in words, Auto-suggest, ...) into "
            "<resource path>/Scripts/Semantic EQ/. Nothing else is changed: load them once in REAPER "
            "with Actions > Show action list > New action > Load ReaScript."
        ),
    )
    p.add_argument(
        "--resource-path",
        metavar="DIR",
        type=Path,
        help=f"REAPER's resource folder (default here: {default_resource_path()})",
    )
    p.set_defaults(func=run)


def _semeq_command() -> str:
    """Full path of the semeq command to put in the Settings action."""
    found = shutil.which("semeq")
    if found:
        return str(Path(found).resolve())
    candidate = Path(sys.executable).with_name("semeq.exe" if os.name == "nt" else "semeq")
    return str(candidate) if candidate.exists() else "semeq"


#: The bundle: one file installed under every action's name.
BUNDLE = "Semantic EQ.lua"


def planned_files(source: Path) -> list[tuple[Path, str]]:
    """(source file, name under the target folder) for the bundle, its aliases and its modules,
    read from the bundle's ``@provides`` lines."""
    bundle = source / BUNDLE
    if not bundle.is_file():
        return []
    files = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    plan = [(bundle, BUNDLE)]
    for line in bundle.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^--\s+\[(?:no)?main\]\s+(.+?)\s*$", line)
        if not m:
            continue
        pattern, _, alias = (part.strip() for part in m.group(1).partition(" > "))
        if pattern == ".":
            plan.append((bundle, alias))
        else:
            plan += [(source / f, f) for f in files if fnmatch.fnmatchcase(f, pattern)]
    return plan


def install(resource_path: Path, source: Path | None = None) -> list[tuple[Path, str]]:
    """Install the bundle, its aliases and its modules into ``resource_path/Scripts/Semantic EQ``.

    Each file is written to a temporary name and renamed, so REAPER never reads half a script.
    Returns ``(path, "new" | "updated" | "unchanged")`` per file.
    """
    source = source or scripts_source()
    files = planned_files(source) if source.is_dir() else []
    if not files:
        raise CLIError(
            f"the REAPER scripts were not found in {source}; run this from a checkout of Semantic EQ Bridge "
            "(pip install -e .) or set SEMEQ_REAPER_SCRIPTS to its reaper_scripts folder"
        )
    resource_path = Path(resource_path).expanduser()
    if not resource_path.is_dir():
        raise CLIError(
            f"REAPER's resource folder {resource_path} does not exist. Start REAPER once, or find the folder "
            "with Options > Show REAPER resource path in explorer/finder and pass it with --resource-path DIR"
        )
    target = resource_path / "Scripts" / TARGET_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    results = []
    for src, name in files:
        dst = target / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        data = src.read_bytes()
        if dst.exists() and dst.read_bytes() == data:
            results.append((dst, "unchanged"))
            continue
        state = "updated" if dst.exists() else "new"
        write_bytes_atomic(dst, data)
        results.append((dst, state))
    return results


def run(args: argparse.Namespace) -> int:
    resource_path = args.resource_path or default_resource_path()
    results = install(resource_path)
    target = results[0][0].parent
    for path, state in results:
        print(f"{state:9s} {path.name}")
    print(
        f"\nInstalled {len(results)} files in {target}\n\n"
        "Next, in REAPER:\n"
        "  1. Actions > Show action list > New action > Load ReaScript..., select every\n"
        f"     'Semantic EQ - *.lua' file in {target}.\n"
        "  2. Run 'Semantic EQ - Settings' and set the semeq command to:\n"
        f"       {_semeq_command()}\n"
        "  3. Start the server in a terminal and keep it running:  semeq serve\n"
        "  4. Select a track and run 'Semantic EQ - Make warmer'."
    )
    return 0
