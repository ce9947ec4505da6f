"""Which files in the inbox to take, and when: the one place that decides "is this file ready".

A file is taken when its signature (size and modification time, and its sidecar's) has not changed
for ``settle_s`` seconds and soundfile can read its header; a file that stays unreadable for
``corrupt_after_s`` seconds is taken as unreadable (it goes to ``failed/`` with the reason).
:func:`readiness` is the decision; replace it (and :func:`signature`) to change the policy.

Ignored: hidden files and folders (``.name``), temporary files (``*.tmp``, ``*.part``,
``*.partial``, ``*.crdownload``, ``*.download``, ``*.swp``), backups and lock files (``name~``,
``~$name``), ``Thumbs.db`` and ``desktop.ini``; sidecars wait for their audio.
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Callable

#: Files the operating system leaves in folders (compared lower-case).
SYSTEM_NAMES = ("thumbs.db", "desktop.ini")
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".lock")


class Readiness(Enum):
    """What to do with a candidate file now."""

    WAIT = "wait"  # still settling (or unreadable for less than corrupt_after_s): look again later
    TAKE = "take"  # settled and readable
    TAKE_UNREADABLE = "take_unreadable"  # settled but unreadable for too long: take it to fail it


def is_ignored(name: str) -> bool:
    """True for hidden, temporary, backup and lock files (never touched by the watcher)."""
    lower = name.lower()
    return (
        name.startswith(".")
        or name.startswith("~")
        or name.endswith("~")
        or lower.endswith(TEMP_SUFFIXES)
        or lower in SYSTEM_NAMES
    )


def signature(path: Path) -> tuple | None:
    """(size in bytes, modification time in ns) of ``path``, or None when it is gone."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


def audio_readable(path: Path) -> bool:
    """True when soundfile can read the header of ``path`` (a format it knows, not truncated there)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:
        return False
    return info.frames > 0 and info.samplerate > 0


def readiness(audio: Path, stable_s: float, settle_s: float, corrupt_after_s: float) -> Readiness:
    """Whether to take ``audio`` now, given how long (s) its signature has been unchanged."""
    if stable_s < settle_s:
        return Readiness.WAIT
    if audio_readable(audio):
        return Readiness.TAKE
    return Readiness.WAIT if stable_s < corrupt_after_s else Readiness.TAKE_UNREADABLE


class Settle:
    """Tracks how long each file's signature (size, mtime of audio and sidecar) has been unchanged."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[Path, tuple[tuple, float]] = {}

    def observe(self, path: Path, signature: tuple) -> float:
        """Record ``signature`` for ``path``; return the seconds it has been unchanged (0 if new)."""
        now = self._clock()
        previous = self._seen.get(path)
        if previous is None or previous[0] != signature:
            self._seen[path] = (signature, now)
            return 0.0
        return now - previous[1]

    def forget_except(self, paths: set[Path]) -> None:
        for path in list(self._seen):
            if path not in paths:
                del self._seen[path]
