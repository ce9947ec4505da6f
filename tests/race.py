"""A symlink-swapping attacker for the path-policy race test and benchmark (not a test module).

:func:`swapping` runs a separate process (a real second core, not a thread behind the GIL) that
flips a name inside an allowed folder between an inside target and an outside one as fast as it
can; :func:`race` opens that name ``n`` times through a reader and counts what was read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

INSIDE = b"inside-file-contents"
OUTSIDE = b"SECRET-outside-contents"

_ATTACKER = r"""
import os, random, sys
link, real, outside, tmp, kind = sys.argv[1:6]
print("started", flush=True)
def clear(name):
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
while True:
    if kind == "file":  # link: a regular file (hard link of the inside file) <-> symlink out
        clear(tmp); os.link(real, tmp); os.replace(tmp, link)
        clear(tmp); os.symlink(outside, tmp); os.replace(tmp, link)
    else:  # link: the real inside folder <-> a symlink to the outside folder
        os.rename(link, real)
        os.symlink(outside, tmp); os.rename(tmp, link)
        os.rename(link, tmp); os.unlink(tmp)
        os.rename(real, link)
        for _ in range(random.randrange(40)):  # stay in the inside state about as long as a read takes
            os.stat(link)
"""


@dataclass
class RaceResult:
    attempts: int
    inside_reads: int
    outside_reads: int
    refused: int


def layout(tmp: Path, component: str) -> tuple[Path, Path, Path, Path]:
    """Make ``home/renders`` and an outside folder; return (renders, name to open, inside target,
    outside target) for a swapped ``final`` or ``directory`` component."""
    renders = tmp / "home" / "renders"
    outside = tmp / "outside"
    for folder in (renders / "real", outside):
        folder.mkdir(parents=True, exist_ok=True)
    (renders / "real" / "song.wav").write_bytes(INSIDE)
    (outside / "song.wav").write_bytes(OUTSIDE)
    if component == "final":
        return renders, renders / "link.wav", renders / "real" / "song.wav", outside / "song.wav"
    return renders, renders / "dir" / "song.wav", renders / "real", outside


@contextmanager
def swapping(link: Path, inside: Path, outside: Path) -> Iterator[None]:
    """While the block runs, ``link`` flips between the real inside file or folder (a hard link of
    the file; the folder itself, renamed into place) and a symlink to ``outside``."""
    tmp = link.parent / f".{link.name}.swap"
    kind = "file" if inside.is_file() else "dir"
    if kind == "file":
        os.link(inside, link)
    else:
        os.rename(inside, link)
    args = [str(link), str(inside), str(outside), str(tmp), kind]
    proc = subprocess.Popen([sys.executable, "-S", "-c", _ATTACKER, *args], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"started\n", "the attacker did not start"
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def race(read: Callable[[Path], bytes], name: Path, attempts: int) -> RaceResult:
    """Call ``read(name)`` ``attempts`` times; count inside reads, outside reads and refusals."""
    result = RaceResult(attempts, 0, 0, 0)
    for _ in range(attempts):
        try:
            data = read(name)
        except (OSError, ValueError):  # ForbiddenPathError is a ValueError; a vanished link an OSError
            result.refused += 1
            continue
        if data == OUTSIDE:
            result.outside_reads += 1
        elif data == INSIDE:
            result.inside_reads += 1
    return result
