"""Path policy of the service: requests may only name files inside the configured folders.

A request arriving over OSC (or dropped into the watch folder) names audio files by path. The
service reads only under its configured roots (by default the home folder's ``renders/`` and
``inbox/``, plus any ``--allow DIR``). A path is refused with :class:`ForbiddenPathError` (code
``forbidden_path``) when it is relative, contains a ``..`` component, or resolves (following every
symbolic link) to a place outside every root.

The command line, run by the user in their own shell, uses :data:`UNRESTRICTED` instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Iterable

from daw_bridge.errors import SemeqError

#: Home sub-folders, created by ``semeq serve``; the first two are readable by requests.
HOME_FOLDERS = ("inbox", "outbox", "done", "failed", "renders")
READABLE_HOME_FOLDERS = ("renders", "inbox")

#: Longest path accepted in a request, in characters (Linux PATH_MAX is 4096).
MAX_PATH_CHARS = 4096


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
class PathPolicy:
    """The folders a request may read from. ``roots=None`` means unrestricted (local CLI)."""

    roots: tuple[Path, ...] | None

    @classmethod
    def for_home(cls, home: Path, allow: Iterable[Path] = ()) -> "PathPolicy":
        """Home's ``renders/`` and ``inbox/`` plus every extra folder in ``allow``."""
        home = Path(home).expanduser()
        roots = [home / name for name in READABLE_HOME_FOLDERS] + [Path(d).expanduser() for d in allow]
        return cls(tuple(Path(os.path.realpath(r)) for r in roots))

    def check(self, path: str | os.PathLike) -> Path:
        """Return the resolved path if a request may use it, else raise :class:`ForbiddenPathError`.

        Only the path is checked, not whether the file exists (reading it reports that).
        """
        if not isinstance(path, (str, os.PathLike)):
            raise ForbiddenPathError(f"a path must be a string, got {type(path).__name__}")
        text = os.fspath(path)
        if not text or len(text) > MAX_PATH_CHARS or "\x00" in text:
            raise ForbiddenPathError("the path is empty, too long or contains a NUL character")
        if self.roots is None:
            return Path(os.path.realpath(Path(text).expanduser()))
        pure = PurePath(text)
        if not pure.is_absolute():
            raise ForbiddenPathError(f"'{text}' is not an absolute path; send absolute paths")
        if ".." in pure.parts:
            raise ForbiddenPathError(f"'{text}' contains '..'; name the file directly")
        resolved = Path(os.path.realpath(text))
        if not any(resolved == root or resolved.is_relative_to(root) for root in self.roots):
            allowed = ", ".join(str(r) for r in self.roots)
            raise ForbiddenPathError(
                f"'{text}' is outside the folders this server may read ({allowed}); "
                "put the file in one of them or start the server with --allow DIR"
            )
        return resolved


#: No restriction: the user's own command line may read any file they can.
UNRESTRICTED = PathPolicy(None)
