"""Which files in the inbox to take, and when: the one place that decides "is this file ready".

A file is taken when it is complete (:mod:`daw_bridge.watch.intake`):

* it is a regular file inside the inbox (FIFOs, sockets, devices and links leading outside are
  refused at once, with a reason, without ever being opened; names that cannot carry the output
  names are ignored with one log line);
* its signature (size and modification time, and its sidecar's) has not changed for ``settle_s``;
* its writer has closed it, where the platform reports closes (watchdog's close events);
* soundfile reads its header and its container declares no more than the file holds (a WAV or
  AIFF header length that matches, an Ogg stream that ends).

A file still incomplete after ``corrupt_after_s`` of stillness is taken anyway (the render says
what is missing); one that soundfile cannot read by then is taken to fail it, with the reason.
:func:`readiness` is the decision.

Ignored: hidden files and folders (``.name``), temporary files (``*.tmp``, ``*.part``,
``*.partial``, ``*.crdownload``, ``*.download``, ``*.swp``), backups and lock files (``name~``,
``~$name``), ``Thumbs.db`` and ``desktop.ini``; sidecars wait for their audio.
"""

from __future__ import annotations

import os
import time
from enum import Enum
from pathlib import Path
from typing import Callable

from daw_bridge.watch import intake

#: Files the operating system leaves in folders (compared lower-case).
SYSTEM_NAMES = ("thumbs.db", "desktop.ini")
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".lock")


class Readiness(Enum):
    """What to do with a candidate file now."""

    WAIT = "wait"  # still settling, open, incomplete or unreadable for less than corrupt_after_s
    TAKE = "take"  # complete (or incomplete for too long: the render warns)
    REFUSE = "refuse"  # take it only to fail it, with the reason (not audio, not a regular file)
    IGNORE = "ignore"  # leave it where it is (its name cannot be used); say so once


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


def _header(audio: Path, inbox: Path) -> tuple[bool, str | None]:
    """(soundfile reads the header, what the container says is missing) of ``audio``, opened
    without blocking and without following a link out of ``inbox``."""
    import soundfile as sf

    from daw_bridge.errors import SemeqError
    from daw_bridge.paths import PathPolicy

    try:
        with PathPolicy((Path(os.path.realpath(inbox)),)).open(str(audio)) as opened:
            try:
                info = sf.info(opened.file)
            except Exception:
                return False, None
            if info.frames <= 0 or info.samplerate <= 0:
                return False, None
            return True, intake.incomplete(opened.file, opened.size_bytes)
    except SemeqError:
        return False, None


def readiness(audio: Path, stable_s: float, settle_s: float, corrupt_after_s: float, inbox: Path,
              writers: intake.Writers | None = None) -> tuple[Readiness, str | None]:
    """Whether to take ``audio`` now, given how long (s) its signature has been unchanged, and why
    (a sentence for :data:`Readiness.REFUSE` and :data:`Readiness.IGNORE`)."""
    reason = intake.refusal(audio, inbox)
    if reason is not None:
        name_only = intake.name_refusal(audio.name) == reason
        return (Readiness.IGNORE if name_only else Readiness.REFUSE), f"{audio.name}: {reason}"
    if stable_s < settle_s:
        return Readiness.WAIT, None
    long_still = stable_s >= corrupt_after_s
    if writers is not None and writers.is_open(audio) and not long_still:
        return Readiness.WAIT, None  # its writer has not closed it yet
    readable, missing = _header(audio, inbox)
    if not readable:
        if long_still:
            return Readiness.REFUSE, f"{audio.name} is not an audio file soundfile can read (or it is truncated or empty)"
        return Readiness.WAIT, None
    if missing is not None and not long_still:
        return Readiness.WAIT, None  # still being written (or damaged: taken after corrupt_after_s)
    return Readiness.TAKE, None


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
