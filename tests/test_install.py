"""A regular install (``pip install .``, no extras) carries what answers read and pulls no torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from daw_bridge.resources import SHARE_NAME

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_the_model_files_and_the_reaper_scripts_and_no_torch(tmp_path):
    # built from a copy: setuptools leaves a build/ folder behind in the tree it builds
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".mypy_cache", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True, text=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    share = f"data/share/{SHARE_NAME}/"
    shipped = {n.split(share, 1)[1] for n in names if share in n}
    assert {"models/semantic.npz", "models/vocabulary.json", "models/reference_balance.json",
            "reaper_scripts/Semantic EQ.lua", "reaper_scripts/index.xml"} <= shipped
    modules = {f"reaper_scripts/semeq/{p.name}" for p in (ROOT / "reaper_scripts" / "semeq").iterdir()}
    assert modules <= shipped  # the bundle's modules and the vendored JSON library's licence
    assert not any(n.endswith(".pt") for n in names)  # torch weights are for training only
    lexicon = sorted(p.name for p in (ROOT / "models" / "lexicon").glob("*.toml")) if (ROOT / "models" / "lexicon").is_dir() else []
    assert all(f"models/lexicon/{name}" in shipped for name in lexicon)
    assert {"models/wordnet/relations.txt.gz", "models/wordnet/LICENSE"} <= shipped  # unknown words, and its licence
    required = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert required and not any("torch" in line for line in required)


def test_resources_are_found_beside_an_installed_package(tmp_path, monkeypatch):
    import daw_bridge
    from daw_bridge import resources

    (tmp_path / "share" / SHARE_NAME / "models").mkdir(parents=True)
    monkeypatch.setattr(daw_bridge, "__file__", str(tmp_path / "lib" / "site-packages" / "daw_bridge" / "__init__.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert resources.resource_dir("models") == tmp_path / "share" / SHARE_NAME / "models"
    # nothing installed either: the repository path, which error messages then name
    assert resources.resource_dir("reaper_scripts") == tmp_path / "lib" / "site-packages" / "reaper_scripts"
