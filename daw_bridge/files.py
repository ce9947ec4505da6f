"""Atomic file output: every file the package writes appears whole or not at all.

A writer gets a temporary file beside the destination (same folder, so the final rename is atomic;
hidden, so watchers ignore it; same suffix, so format-by-name writers such as matplotlib and numpy
keep working), and the temporary file is renamed onto the destination only when writing succeeded.

:func:`atomic_file` hands out an open binary file instead of a name (audio renders, JSON answers):
where the platform allows, the folder is opened once (and, with ``within``, verified to be inside
those folders without following links, see :func:`daw_bridge.paths.open_folder`), and the
temporary file is created (``O_EXCL|O_NOFOLLOW``) and renamed relative to that folder's
descriptor, so a folder swapped for a link while writing cannot redirect the output elsewhere.
"""

from __future__ import annotations

import errno
import os
import secrets
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from daw_bridge.paths import (
    CLOEXEC,
    DIRECTORY,
    NOFOLLOW,
    WALK_BY_DESCRIPTOR,
    ForbiddenPathError,
    open_folder,
)

_MODE = 0o644  # outputs are ordinary files (mkstemp would make 0600)


#: Longest part of the destination's name kept in a temporary name (names stay under 255 bytes).
_NAME_KEPT = 60


def _temp_name(path: Path) -> str:
    return f".{path.stem[:_NAME_KEPT]}.{secrets.token_hex(4)}.tmp{path.suffix[:_NAME_KEPT]}"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else remove it."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:_NAME_KEPT]}.", suffix=f".tmp{path.suffix[:_NAME_KEPT]}")
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, _MODE)
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_file(path: Path, within: Iterable[Path] | None = None) -> Iterator[BinaryIO]:
    """Yield a new temporary binary file (readable, writable, seekable) beside ``path``; on success
    flush it to disk and rename it onto ``path``, else remove it.

    ``within``: folders the output must stay inside (its folder is checked on what was opened);
    :class:`daw_bridge.paths.ForbiddenPathError` when it is not.
    """
    path = Path(path)
    if not WALK_BY_DESCRIPTOR:
        with _atomic_file_by_name(path, within) as handle:
            yield handle
        return
    if within is not None:
        folder = open_folder(path.parent, within)
    else:
        folder = os.open(path.parent, os.O_RDONLY | DIRECTORY | CLOEXEC)
    tmp = _temp_name(path)
    try:
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
        fd = os.open(tmp, flags, _MODE, dir_fd=folder)
        try:
            if sys.platform != "win32":
                os.fchmod(fd, _MODE)  # whatever the umask
            with open(fd, "w+b", closefd=True) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        finally:
            try:
                os.unlink(tmp, dir_fd=folder)
            except FileNotFoundError:
                pass
    finally:
        os.close(folder)


@contextmanager
def _atomic_file_by_name(path: Path, within: Iterable[Path] | None) -> Iterator[BinaryIO]:
    """:func:`atomic_file` where folders cannot be opened as descriptors (Windows): the folder's
    real path is checked before and the temporary file's identity after writing."""
    folder = Path(os.path.realpath(path.parent))
    if within is not None:
        roots = [Path(os.path.realpath(r)) for r in within]
        if not any(folder == r or folder.is_relative_to(r) for r in roots):
            raise ForbiddenPathError(f"{path.parent} is outside the folders this server may write")
    tmp = folder / _temp_name(path)
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), _MODE)
    try:
        with open(fd, "w+b", closefd=True) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            written = os.fstat(handle.fileno())
        st = os.stat(tmp, follow_symlinks=False)
        if (st.st_dev, st.st_ino) != (written.st_dev, written.st_ino):
            raise ForbiddenPathError(f"{path.parent} changed while {path.name} was being written")
        os.replace(tmp, folder / path.name)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes, within: Iterable[Path] | None = None) -> None:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename)."""
    with atomic_file(path, within) as handle:
        handle.write(data)


def write_text_atomic(path: Path, text: str, within: Iterable[Path] | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"), within)


#: What an operating-system error means for a user, by errno name (the rest: the system's own words).
_OS_ERROR_SENTENCES = {
    "ENOSPC": "the disk is full",
    "EDQUOT": "the disk quota is used up",
    "EROFS": "the folder is on a read-only file system",
    "EACCES": "the folder or file is not writable (permission denied)",
    "EPERM": "the folder or file is protected (operation not permitted; is it immutable or locked?)",
    "ENAMETOOLONG": "the file name is too long for the file system",
    "EMFILE": "too many files are open",
    "EIO": "the disk reported an input/output error",
    "EXDEV": "the folders are on different disks",
    "ENOENT": "the file or folder has disappeared",
}


def os_error_sentence(exc: BaseException, doing: str) -> str:
    """A sentence for a user about an operating-system error: ``"Could not <doing>: the disk is full."``."""
    number = getattr(exc, "errno", None)
    name = errno.errorcode.get(number, "") if isinstance(number, int) else ""
    reason = _OS_ERROR_SENTENCES.get(name) or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"Could not {doing}: {reason}."
