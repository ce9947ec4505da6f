"""What the watch folder may take: regular files, sane names, closed by their writer, unchanged."""

from __future__ import annotations

import os
import socket
import time

import pytest

from daw_bridge.watch.intake import MAX_NAME_BYTES, Snapshot, Writers, refusal


@pytest.fixture()
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_regular_files_and_links_inside_are_taken(inbox):
    song = inbox / "song.wav"
    song.write_bytes(b"RIFF")
    (inbox / "alias.wav").symlink_to(song)
    assert refusal(song, inbox) is None
    assert refusal(inbox / "alias.wav", inbox) is None
    assert refusal(inbox / "gone.wav", inbox) is None  # vanished: nothing to say


def test_special_files_and_outside_links_are_refused_without_opening(inbox, tmp_path):
    os.mkfifo(inbox / "pipe.wav")
    assert "FIFO" in refusal(inbox / "pipe.wav", inbox)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(inbox / "sock.wav"))
    try:
        assert "socket" in refusal(inbox / "sock.wav", inbox)
    finally:
        sock.close()
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"x")
    (inbox / "out.wav").symlink_to(outside)
    assert "outside the inbox" in refusal(inbox / "out.wav", inbox)
    (inbox / "pipe-link.wav").symlink_to(inbox / "pipe.wav")
    assert "link to a FIFO" in refusal(inbox / "pipe-link.wav", inbox)
    (inbox / "dangling.wav").symlink_to(inbox / "nothing.wav")
    assert "to nothing" in refusal(inbox / "dangling.wav", inbox)
    (inbox / "devnull.wav").symlink_to("/dev/null")
    assert "outside" in refusal(inbox / "devnull.wav", inbox)


def test_names_that_cannot_carry_the_outputs_are_refused(inbox):
    long_name = inbox / ("x" * (MAX_NAME_BYTES + 1 - 4) + ".wav")
    long_name.write_bytes(b"RIFF")
    assert "shorten it" in refusal(long_name, inbox)
    ok_name = inbox / ("y" * (MAX_NAME_BYTES - 4) + ".wav")
    ok_name.write_bytes(b"RIFF")
    assert refusal(ok_name, inbox) is None
    fd = os.open(os.fsencode(inbox) + b"/caf\xe9.wav", os.O_CREAT | os.O_WRONLY)  # Latin-1, not UTF-8
    os.close(fd)
    latin1 = next(p for p in inbox.iterdir() if p.name.startswith("caf"))
    assert "not valid UTF-8" in refusal(latin1, inbox)
    spaces = inbox / "Ünïcödé  song — final (2).wav"
    spaces.write_bytes(b"RIFF")
    assert refusal(spaces, inbox) is None


def test_a_snapshot_says_how_a_file_changed(inbox):
    song = inbox / "song.wav"
    song.write_bytes(b"a" * 100)
    first = Snapshot.of_path(song)
    assert first.changed(Snapshot.of_path(song)) is None
    with open(song, "ab") as handle:
        handle.write(b"b" * 50)
    assert "grew from 100 to 150 bytes" in first.changed(Snapshot.of_path(song))
    later = Snapshot.of_path(song)
    os.utime(song, ns=(later.mtime_ns + 10**9, later.mtime_ns + 10**9))
    assert "written to again" in later.changed(Snapshot.of_path(song))
    other = inbox / "other.wav"
    other.write_bytes(b"a" * 150)
    os.replace(other, song)
    assert "replaced" in later.changed(Snapshot.of_path(song))
    assert first.changed(None) == "it disappeared"
    assert Snapshot.from_dict(first.to_dict()) == first


def test_writers_follow_close_events_from_watchdog(inbox):
    from watchdog.observers import Observer
    from watchdog.events import FileSystemEventHandler

    writers = Writers()

    class Feed(FileSystemEventHandler):
        def on_any_event(self, event):
            writers.event(event)

    observer = Observer()
    observer.schedule(Feed(), str(inbox), recursive=True)
    observer.start()
    try:
        song = inbox / "song.wav"
        with open(song, "wb") as handle:
            handle.write(b"x" * 1000)
            handle.flush()
            deadline = time.monotonic() + 5
            while not writers._open and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not writers.is_open(song)  # no close seen yet anywhere: the settle time decides
        deadline = time.monotonic() + 5
        while not writers.supports_close and time.monotonic() < deadline:
            time.sleep(0.02)
        assert writers.supports_close and not writers.is_open(song)
        with open(song, "ab") as handle:  # a writer appending after a pause: open until it closes
            handle.write(b"y" * 1000)
            handle.flush()
            deadline = time.monotonic() + 5
            while not writers.is_open(song) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert writers.is_open(song)
        deadline = time.monotonic() + 5
        while writers.is_open(song) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not writers.is_open(song)
    finally:
        observer.stop()
        observer.join()
