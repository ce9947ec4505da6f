"""Paths are checked on what was opened: links swapped mid-open, FIFOs and outside files never read."""

from __future__ import annotations

import os
import threading
import time

import pytest

from daw_bridge import paths
from daw_bridge.errors import SemeqError
from daw_bridge.files import atomic_file
from daw_bridge.paths import (
    ForbiddenPathError,
    PathPolicy,
    ensure_home,
    final_path_of,
    open_folder,
)
from tests.race import INSIDE, layout, race, swapping


def read_checked(policy: PathPolicy):
    def read(name):
        with policy.open(name) as opened:
            return opened.file.read()

    return read


@pytest.fixture(params=["descriptor walk", "verify by handle"])
def strategy(request, monkeypatch):
    """Both ways of checking: the POSIX descriptor walk and the Windows-style verify after open."""
    if request.param == "verify by handle":
        monkeypatch.setattr(paths, "WALK_BY_DESCRIPTOR", False)
    return request.param


@pytest.mark.parametrize("component", ["final", "directory"])
def test_swapping_symlinks_never_lead_to_an_outside_read(tmp_path, component, strategy):
    renders, name, inside, outside = layout(tmp_path, component)
    policy = PathPolicy.for_home(renders.parent)
    link = name if component == "final" else name.parent
    results = []
    with swapping(link, inside, outside):
        # 1,000 reads; more rounds while the attacker has not yet been seen in both states (it
        # shares the cores with other work)
        while len(results) < 10 and (not results or not (sum(r.inside_reads for r in results) and sum(r.refused for r in results))):
            results.append(race(read_checked(policy), name, 1000))
    assert sum(r.outside_reads for r in results) == 0, results
    # the race really ran: both states were met (reads inside, refusals while pointing out)
    assert sum(r.inside_reads for r in results) > 0 and sum(r.refused for r in results) > 0, results


def test_open_returns_the_file_its_real_path_and_identity(tmp_path, strategy):
    home = ensure_home(tmp_path / "home")
    song = home / "inbox" / "song.wav"
    song.write_bytes(INSIDE)
    (home / "renders" / "alias.wav").symlink_to(song)  # a link inside the roots is fine
    with PathPolicy.for_home(home).open(str(home / "renders" / "alias.wav")) as opened:
        assert opened.file.read() == INSIDE
        assert opened.path == song and opened.size_bytes == len(INSIDE)
        assert opened.identity == (song.stat().st_dev, song.stat().st_ino)


@pytest.mark.parametrize("where", ["final", "folder"])
def test_a_link_to_outside_is_refused_without_reading(tmp_path, where, strategy):
    home = ensure_home(tmp_path / "home")
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"x")
    if where == "final":
        (home / "inbox" / "link.wav").symlink_to(secret)
        name = home / "inbox" / "link.wav"
    else:
        (home / "inbox" / "dir").symlink_to(tmp_path)
        name = home / "inbox" / "dir" / "secret.wav"
    with pytest.raises(ForbiddenPathError, match="outside"):
        PathPolicy.for_home(home).open(str(name))


def test_a_fifo_is_refused_at_once_and_never_blocks(tmp_path, strategy):
    home = ensure_home(tmp_path / "home")
    fifo = home / "inbox" / "pipe.wav"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            PathPolicy.for_home(home).open(str(fifo))
        except ForbiddenPathError as exc:
            outcome.append(str(exc))

    t = threading.Thread(target=attempt, daemon=True)
    start = time.monotonic()
    t.start()
    t.join(5.0)
    assert not t.is_alive(), "opening a FIFO blocked"
    assert time.monotonic() - start < 5.0
    assert outcome and "FIFO" in outcome[0]


def test_folders_missing_files_and_long_names_are_clear_errors(tmp_path, strategy):
    home = ensure_home(tmp_path / "home")
    policy = PathPolicy.for_home(home)
    with pytest.raises(ForbiddenPathError, match="folder"):
        policy.open(str(home / "inbox"))
    (home / "inbox" / "sub").mkdir()
    with pytest.raises(ForbiddenPathError, match="folder"):
        policy.open(str(home / "inbox" / "sub"))
    with pytest.raises(SemeqError, match="does not exist") as info:
        policy.open(str(home / "inbox" / "missing.wav"))
    assert info.value.code == "bad_audio"
    with pytest.raises(ForbiddenPathError, match="too long"):
        policy.open(str(home / "inbox" / ("x" * 300 + ".wav")))


def test_final_path_of_an_open_descriptor(tmp_path):
    f = tmp_path / "a.wav"
    f.write_bytes(b"1")
    with open(f, "rb") as handle:
        assert os.path.realpath(final_path_of(handle.fileno())) == os.path.realpath(f)


def test_outputs_stay_inside_and_a_swapped_output_folder_is_refused(tmp_path):
    home = ensure_home(tmp_path / "home")
    outside = tmp_path / "outside"
    outside.mkdir()
    with atomic_file(home / "outbox" / "a.json", within=[home]) as handle:
        handle.write(b"{}")
    assert (home / "outbox" / "a.json").read_bytes() == b"{}"
    (home / "outbox" / "job").symlink_to(outside)
    with pytest.raises(ForbiddenPathError):
        with atomic_file(home / "outbox" / "job" / "b.json", within=[home]) as handle:
            handle.write(b"{}")
    assert list(outside.iterdir()) == []
    with pytest.raises(ForbiddenPathError):
        open_folder(outside, [home])


def test_an_output_folder_swapped_while_writing_still_receives_the_file(tmp_path):
    """The rename happens in the folder that was opened, not wherever the name points later."""
    home = ensure_home(tmp_path / "home")
    job = home / "outbox" / "job"
    job.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    with atomic_file(job / "render.wav", within=[home]) as handle:
        handle.write(b"audio")
        job.rename(home / "outbox" / "job-moved")
        job.symlink_to(outside)
    assert (home / "outbox" / "job-moved" / "render.wav").read_bytes() == b"audio"
    assert list(outside.iterdir()) == []
