"""What the watch folder may take, and when: regular files only, complete, and unchanged.

Nothing here opens a file by name in a way that could block or follow a link out of the inbox:

* :func:`refusal` looks at a name with ``lstat`` only and says, in a sentence, why it must not be
  taken (a FIFO, socket or device; a link leading outside the inbox or to something that is not a
  regular file; a name too long to add the output words to; a name that is not valid UTF-8), or None.
* :class:`Writers` follows the file-system events: a file written in place (created or modified) is
  "open for writing" until its writer closes it (inotify's close-after-write, which watchdog reports
  as ``FileClosedEvent`` on Linux); files moved in, or where the platform reports no closes, rely
  on the settle time alone.
* :class:`Snapshot` (size, modification time, device, inode) is taken when a file is claimed and
  compared before its results are delivered: a writer that went on writing into the moved file is
  detected and the job restarted, never delivered truncated.
* :func:`incomplete` asks the container (:func:`daw_bridge.audio.container.missing`).
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from daw_bridge.audio.container import missing
from daw_bridge.paths import file_kind

#: Longest file name (bytes) taken: the outputs add ``.<words>-NN`` and ``.processing`` to the stem.
MAX_NAME_BYTES = 180


@dataclass(frozen=True)
class Snapshot:
    """What a file looked like: ``size`` (bytes), ``mtime_ns``, ``dev`` and ``ino``."""

    size: int
    mtime_ns: int
    dev: int
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> "Snapshot":
        return cls(st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)

    @classmethod
    def of_path(cls, path: Path) -> "Snapshot | None":
        """The file's snapshot without following a link (None when it is gone)."""
        try:
            return cls.of(os.lstat(path))
        except (FileNotFoundError, NotADirectoryError):
            return None

    @classmethod
    def of_handle(cls, handle: BinaryIO) -> "Snapshot":
        return cls.of(os.fstat(handle.fileno()))

    def to_dict(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "dev": self.dev, "ino": self.ino}

    @classmethod
    def from_dict(cls, data: dict) -> "Snapshot":
        return cls(int(data["size"]), int(data["mtime_ns"]), int(data["dev"]), int(data["ino"]))

    def changed(self, later: "Snapshot | None") -> str | None:
        """How ``later`` differs (a sentence), or None when it is the same file, unchanged."""
        if later is None:
            return "it disappeared"
        if (later.dev, later.ino) != (self.dev, self.ino):
            return "it was replaced by another file"
        if later.size != self.size:
            return f"it grew from {self.size:,} to {later.size:,} bytes" if later.size > self.size else (
                f"it shrank from {self.size:,} to {later.size:,} bytes")
        if later.mtime_ns != self.mtime_ns:
            return "it was written to again"
        return None


def name_refusal(name: str) -> str | None:
    """Why a file name cannot be used for the outputs (a sentence), or None."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "its name is not valid UTF-8; rename it (letters, digits, spaces and punctuation are fine)"
    if size > MAX_NAME_BYTES:
        return f"its name is {size} bytes long, more than the {MAX_NAME_BYTES} that leave room for the output names; shorten it"
    return None


def refusal(path: Path, inbox: Path) -> str | None:
    """Why ``path`` (in ``inbox``) must not be taken, in a sentence; None when it may be.

    Uses ``lstat`` (and ``stat`` of a link's target): never opens the file.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        real = Path(os.path.realpath(path))
        inbox_real = Path(os.path.realpath(inbox))
        if not real.is_relative_to(inbox_real):
            return "it is a symbolic link leading outside the inbox; copy the file itself into the inbox"
        try:
            st = os.stat(path)
        except OSError:
            return "it is a symbolic link to nothing (its target is missing)"
        kind = file_kind(st.st_mode)
        return None if kind is None else f"it is a symbolic link to {kind}, not an audio file"
    kind = file_kind(st.st_mode)
    if kind is not None:
        return f"it is {kind}, not an audio file"
    return name_refusal(path.name)


def incomplete(handle: BinaryIO, size_bytes: int) -> str | None:
    """What the container says is missing (a sentence), or None (see :mod:`daw_bridge.audio.container`)."""
    try:
        return missing(handle, size_bytes)
    except OSError as exc:
        return f"it could not be read ({exc.strerror or exc})"


class Writers:
    """Which files a writer has open, from file-system events (thread-safe).

    ``supports_close`` turns true at the first close event seen (watchdog reports them only where the
    platform does); until then every file counts as closed and the settle time decides.
    """

    def __init__(self) -> None:
        self._open: set[str] = set()
        self._lock = threading.Lock()
        self.supports_close = False

    def written(self, path: str) -> None:
        """A create or modify event: someone is writing ``path``."""
        with self._lock:
            self._open.add(os.path.normpath(path))

    def closed(self, path: str) -> None:
        """A close-after-write event: the writer of ``path`` is done."""
        with self._lock:
            self.supports_close = True
            self._open.discard(os.path.normpath(path))

    def moved(self, src: str, dst: str) -> None:
        """A rename: the name moved (a file renamed in is complete as far as its writer knows)."""
        with self._lock:
            self._open.discard(os.path.normpath(src))
            self._open.discard(os.path.normpath(dst))

    def is_open(self, path: Path | str) -> bool:
        """True while ``path`` has been written and not closed (only where closes are reported)."""
        with self._lock:
            return self.supports_close and os.path.normpath(str(path)) in self._open

    def event(self, event) -> None:
        """Feed one watchdog event."""
        kind = getattr(event, "event_type", "")
        if getattr(event, "is_directory", False):
            return
        if kind in ("created", "modified"):
            self.written(event.src_path)
        elif kind == "closed":
            self.closed(event.src_path)
        elif kind == "moved":
            self.moved(event.src_path, event.dest_path)
        elif kind == "deleted":
            self.moved(event.src_path, event.src_path)
