"""Path policy of the service: requests may only use files inside the configured folders.

A request arriving over OSC (or dropped into the watch folder) names audio files by path. The
service reads only under its configured roots (by default the home folder's ``renders/`` and
``inbox/``, plus any ``--allow DIR``). A path is refused with :class:`ForbiddenPathError` (code
``forbidden_path``) when it is relative, contains a ``..`` component, or leads outside every root.

The check is made on what was opened, not on the name (a symbolic link swapped between a check and
an open cannot lead outside): :meth:`PathPolicy.open` resolves the name once, then opens every
folder below the root relative to the previous one's descriptor without following links
(``O_NOFOLLOW``/``O_DIRECTORY`` with ``dir_fd``), so a link put in the way after the resolution
makes the open fail instead of leaving the root. Where the platform has no ``dir_fd`` (Windows) the
file is opened by name and its real path is read back from the open handle
(:func:`final_path_of`: ``GetFinalPathNameByHandleW``, ``F_GETPATH``, ``/proc/self/fd``) or, failing
that, the resolved name is accepted only if it is the very file that was opened (device and inode).
Every open is non-blocking and the descriptor is checked to be a regular file before any read, so
a FIFO, socket or device is refused at once instead of blocking a reader.

Outputs use the same walk: :func:`open_folder` gives a descriptor of a folder verified to be inside
the roots, and :mod:`daw_bridge.files` creates and renames files relative to it.

The command line, run by the user in their own shell, uses :data:`UNRESTRICTED` instead.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from daw_bridge.errors import SemeqError

#: Home sub-folders, created by ``semeq serve``; the first two are readable by requests.
HOME_FOLDERS = ("inbox", "outbox", "done", "failed", "renders")
READABLE_HOME_FOLDERS = ("renders", "inbox")

#: Longest path accepted in a request, in characters (Linux PATH_MAX is 4096).
MAX_PATH_CHARS = 4096

#: ``os.open`` flags that exist only on some platforms (0 where missing).
NOFOLLOW = _NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
DIRECTORY = _DIRECTORY = getattr(os, "O_DIRECTORY", 0)
CLOEXEC = _CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
#: True where folders can be walked descriptor by descriptor without following links (POSIX).
WALK_BY_DESCRIPTOR = bool(_NOFOLLOW and _DIRECTORY) and os.open in os.supports_dir_fd
#: errno values of an ``O_NOFOLLOW`` open that met a link (Linux/macOS ELOOP, FreeBSD EMLINK).
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK, errno.ENOTDIR}


class ForbiddenPathError(SemeqError):
    """A request named a path the service is not allowed to use."""

    code = "forbidden_path"


def default_home() -> Path:
    """The default home folder: ``~/SemanticEQ``."""
    return Path.home() / "SemanticEQ"


def ensure_home(home: Path) -> Path:
    """Create ``home`` and its sub-folders if missing; return the resolved home."""
    home = Path(home).expanduser()
    for name in HOME_FOLDERS:
        (home / name).mkdir(parents=True, exist_ok=True)
    return home.resolve()


@dataclass(frozen=True)
class OpenedFile:
    """A regular file opened for reading after the policy's check: ``file`` (binary, seekable, at
    offset 0), ``path`` (its real path, for messages and answers), ``size_bytes`` and
    ``identity`` (device, inode) of what was opened. Close it (or use it as a context manager)."""

    file: BinaryIO
    path: Path
    size_bytes: int
    identity: tuple[int, int]

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> OpenedFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class PathPolicy:
    """The folders a request may read from. ``roots=None`` means unrestricted (local CLI)."""

    roots: tuple[Path, ...] | None

    @classmethod
    def for_home(cls, home: Path, allow: Iterable[Path] = ()) -> PathPolicy:
        """Home's ``renders/`` and ``inbox/`` plus every extra folder in ``allow``."""
        home = Path(home).expanduser()
        roots = [home / name for name in READABLE_HOME_FOLDERS] + [Path(d).expanduser() for d in allow]
        return cls(tuple(Path(os.path.realpath(r)) for r in roots))

    def check(self, path: str | os.PathLike) -> Path:
        """Return the resolved path if its name is acceptable, else raise :class:`ForbiddenPathError`.

        A check of the name only (for messages and early refusals): read with :meth:`open`, which
        checks what was opened.
        """
        text = _path_text(path)
        if self.roots is None:
            return Path(os.path.realpath(Path(text).expanduser()))
        resolved = Path(os.path.realpath(_absolute(text)))
        self._root_of(resolved, text)
        return resolved

    def open(self, path: str | os.PathLike) -> OpenedFile:
        """Open a regular file for reading if it is inside the roots (checked on what was opened).

        Raises :class:`ForbiddenPathError` for a path outside, a link that changed while opening
        or a file that is not a regular file (FIFO, socket, device, folder), and :class:`SemeqError`
        (code ``bad_audio``) for a file that does not exist or cannot be opened.
        """
        text = _path_text(path)
        if self.roots is None:
            return _open_regular(Path(text).expanduser(), None, text)
        resolved = Path(os.path.realpath(_absolute(text)))
        root = self._root_of(resolved, text)
        if resolved == root:
            raise ForbiddenPathError(f"'{text}' is a folder; name an audio file inside it")
        if WALK_BY_DESCRIPTOR:
            parts = resolved.relative_to(root).parts
            folder = _walk(root, parts[:-1], text)
            try:
                return _open_regular(Path(parts[-1]), folder, text, shown=resolved)
            finally:
                os.close(folder)
        opened = _open_regular(resolved, None, text)
        try:
            real = _verified_real_path(opened, resolved)
            self._root_of(real, text)
        except BaseException:
            opened.close()
            raise
        return opened

    def _root_of(self, resolved: Path, text: str) -> Path:
        """The root that holds ``resolved`` (the deepest one), or raise :class:`ForbiddenPathError`."""
        assert self.roots is not None
        inside = [r for r in self.roots if resolved == r or resolved.is_relative_to(r)]
        if not inside:
            allowed = ", ".join(str(r) for r in self.roots)
            raise ForbiddenPathError(
                f"'{text}' is outside the folders this server may read ({allowed}); "
                "put the file in one of them or start the server with --allow DIR"
            )
        return max(inside, key=lambda r: len(r.parts))


#: No restriction: the user's own command line may read any file they can.
UNRESTRICTED = PathPolicy(None)


def open_folder(folder: Path, roots: Iterable[Path]) -> int:
    """A read-only descriptor of ``folder``, verified to be one of ``roots`` or inside one (walked
    without following links). Only where :data:`WALK_BY_DESCRIPTOR`; the caller closes it."""
    if not WALK_BY_DESCRIPTOR:
        raise OSError(errno.ENOSYS, "opening folders by descriptor is not supported here")
    folder = Path(os.path.realpath(folder))
    policy = PathPolicy(tuple(Path(os.path.realpath(r)) for r in roots))
    root = policy._root_of(folder, str(folder))
    return _walk(root, folder.relative_to(root).parts, str(folder))


def _path_text(path: object) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise ForbiddenPathError(f"a path must be a string, got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise ForbiddenPathError("a path must be text, not bytes")
    if not text or len(text) > MAX_PATH_CHARS or "\x00" in text:
        raise ForbiddenPathError("the path is empty, too long or contains a NUL character")
    return text


def _absolute(text: str) -> str:
    pure = PurePath(text)
    if not pure.is_absolute():
        raise ForbiddenPathError(f"'{text}' is not an absolute path; send absolute paths")
    if ".." in pure.parts:
        raise ForbiddenPathError(f"'{text}' contains '..'; name the file directly")
    return text


def _changed(text: str) -> ForbiddenPathError:
    return ForbiddenPathError(
        f"'{text}' changed while it was being opened (a link appeared on the way); it was not read"
    )


def _os_failure(text: str, exc: OSError) -> SemeqError:
    """A clear error for an open that failed for a reason other than the policy."""
    if exc.errno == errno.ENOENT:
        return SemeqError(f"{text} does not exist or is not a file", code="bad_audio")
    if exc.errno == errno.ENAMETOOLONG:
        return ForbiddenPathError(f"'{text[:80]}...' has a name too long for the file system")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return SemeqError(f"{text} cannot be read: permission denied", code="bad_audio")
    return SemeqError(f"{text} cannot be opened: {exc.strerror or exc}", code="bad_audio")


def _walk(root: Path, parts: Iterable[str], text: str) -> int:
    """Open ``root`` then each of ``parts`` below it as folders, never following a link."""
    try:
        fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except OSError as exc:
        raise _os_failure(str(root), exc) from None
    for part in parts:
        try:
            nxt = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in _LINK_ERRNOS:
                raise _changed(text) from None
            raise _os_failure(text, exc) from None
        os.close(fd)
        fd = nxt
    return fd


def _open_regular(path: Path, dir_fd: int | None, text: str, shown: Path | None = None) -> OpenedFile:
    """Open without blocking (FIFOs) and without following a final link (when ``dir_fd`` is
    given), check it is a regular file, then return it as a blocking binary file object."""
    flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY | (_NOFOLLOW if dir_fd is not None else 0)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd) if dir_fd is not None else os.open(path, flags)
    except OSError as exc:
        if dir_fd is not None and exc.errno in _LINK_ERRNOS:
            raise _changed(text) from None
        raise _os_failure(text, exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ForbiddenPathError(f"'{text}' is not a regular file ({file_kind(st.st_mode)}); it was not read")
        if sys.platform != "win32":
            os.set_blocking(fd, True)
        handle = open(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    real = shown if shown is not None else Path(os.path.realpath(path))
    return OpenedFile(handle, real, st.st_size, (st.st_dev, st.st_ino))


def file_kind(mode: int) -> str | None:
    """What a file of ``st_mode`` ``mode`` is, in words ("a FIFO (named pipe)", ...); None for a
    regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def final_path_of(fd: int) -> Path | None:
    """The real path of an open descriptor as the operating system knows it, or None."""
    if sys.platform == "win32":
        return _windows_final_path(fd)
    if sys.platform == "darwin":
        import fcntl  # POSIX-only: imported where it is used

        try:
            raw = fcntl.fcntl(fd, getattr(fcntl, "F_GETPATH", 50), b"\0" * 1024)
            return Path(raw.split(b"\0", 1)[0].decode(sys.getfilesystemencoding(), "surrogateescape"))
        except OSError:
            return None
    link = f"/proc/self/fd/{fd}"
    try:
        target = os.readlink(link)
    except OSError:
        return None
    return None if target.endswith(" (deleted)") else Path(target)


def _windows_final_path(fd: int) -> Path | None:
    if sys.platform != "win32":
        return None
    import ctypes
    import msvcrt

    handle = msvcrt.get_osfhandle(fd)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    buf = ctypes.create_unicode_buffer(32768)
    n = kernel32.GetFinalPathNameByHandleW(handle, buf, len(buf), 0)
    if n == 0 or n >= len(buf):
        return None
    text = buf.value
    if text.startswith("\\\\?\\UNC\\"):
        text = "\\\\" + text[8:]
    elif text.startswith("\\\\?\\"):
        text = text[4:]
    return Path(text)


def _verified_real_path(opened: OpenedFile, resolved: Path) -> Path:
    """The real path of what was opened: from the handle where the platform tells, else
    ``resolved`` if it still names the very file that was opened (device and inode)."""
    real = final_path_of(opened.file.fileno())
    if real is not None:
        return Path(os.path.realpath(real))
    try:
        st = os.stat(resolved)
    except OSError:
        raise ForbiddenPathError(f"'{resolved}' changed while it was being opened; it was not read") from None
    if (st.st_dev, st.st_ino) != opened.identity:
        raise ForbiddenPathError(f"'{resolved}' changed while it was being opened; it was not read")
    return resolved
