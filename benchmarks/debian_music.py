"""Real music for tests and benchmarks, fetched from Debian's archive (never committed).

Debian ships freely licensed game soundtracks as ordinary packages. :func:`fetch_packages` downloads
them with ``apt-get download`` (no root, nothing installed), unpacks them with ``dpkg -x`` into a cache
folder and lists their audio files. Tracks that a package keeps inside an archive (``nexuiz-music``
stores its Ogg files in ``music.pk3``, a zip) are extracted next to it.

The cache folder is ``$SEMEQ_MUSIC_CACHE`` or ``~/.cache/semeq/debian-music``; a package already
unpacked there is not fetched again. ``apt-get update`` must have been run once on the machine so
that apt knows the packages.

Command line: ``python -m benchmarks.debian_music [PKG ...]`` fetches and prints the track count.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

#: The packages used by the project's tests and benchmarks, smallest first (download sizes).
MUSIC_PACKAGES: tuple[str, ...] = (
    "drascula-music",  # 36 MB, Ogg Vorbis
    "singularity-music",  # 52 MB, Ogg Vorbis
    "nexuiz-music",  # 84 MB, Ogg Vorbis inside music.pk3
    "supertux-data",  # 162 MB, Ogg Vorbis among game data
    "freedroidrpg-data",  # 228 MB, Ogg Vorbis among game data
)

#: File name endings counted as audio tracks.
AUDIO_SUFFIXES = (".ogg", ".wav", ".flac")
#: Archives whose audio members are extracted (Quake-style pk3 files are zips).
ARCHIVE_SUFFIXES = (".pk3",)

_DONE_MARKER = ".semeq-complete"


class MusicFetchError(RuntimeError):
    """A Debian music package could not be downloaded or unpacked."""


def default_cache_dir() -> Path:
    """``$SEMEQ_MUSIC_CACHE`` if set, else ``~/.cache/semeq/debian-music``."""
    env = os.environ.get("SEMEQ_MUSIC_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "semeq" / "debian-music"


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MusicFetchError(
            f"{' '.join(cmd)} failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
            " -- is this a Debian/Ubuntu machine with network access, and has `apt-get update` been run?"
        )


def _extract_archives(root: Path) -> None:
    """Unpack the audio members of every pk3 archive under ``root`` into ``<archive>.d/``."""
    for archive in sorted(p for p in root.rglob("*") if p.suffix.lower() in ARCHIVE_SUFFIXES and p.is_file()):
        target = archive.with_name(archive.name + ".d")
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                name = member.filename
                if member.is_dir() or not name.lower().endswith(AUDIO_SUFFIXES):
                    continue
                dest = (target / name).resolve()
                if target.resolve() not in dest.parents:  # refuse path traversal in archives
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)


def _fetch_one(name: str, cache_dir: Path) -> Path:
    """Download and unpack one package into ``cache_dir/<name>`` (once); return that folder."""
    root = cache_dir / name
    if (root / _DONE_MARKER).exists():
        return root
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{name}-") as tmp:
        work = Path(tmp)
        _run(["apt-get", "download", name], cwd=work)
        debs = sorted(work.glob("*.deb"))
        if not debs:
            raise MusicFetchError(f"apt-get download {name} produced no .deb file")
        tree = work / "tree"
        tree.mkdir()
        for deb in debs:
            _run(["dpkg", "-x", str(deb), str(tree)], cwd=work)
        _extract_archives(tree)
        (tree / _DONE_MARKER).write_text(" ".join(d.name for d in debs) + "\n")
        if root.exists():  # an interrupted earlier attempt
            shutil.rmtree(root)
        os.replace(tree, root)
    return root


def list_tracks(root: Path) -> list[Path]:
    """Every audio file (:data:`AUDIO_SUFFIXES`) under ``root``, sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def fetch_packages(names, cache_dir: Path | str | None = None) -> dict[str, list[Path]]:
    """Fetch Debian packages ``names`` (idempotent) and map each name to its audio track paths."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return {name: list_tracks(_fetch_one(name, cache)) for name in names}


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(MUSIC_PACKAGES)
    for name, tracks in fetch_packages(names).items():
        print(f"{name}: {len(tracks)} tracks in {default_cache_dir() / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
