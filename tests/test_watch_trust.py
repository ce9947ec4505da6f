"""The watch folder takes only complete regular files and no file can stall it (issue #15).

Writers pause (0.5-2 s, longer than the settle time), rewrite the header last (as DAWs do) or
append after the file was taken; special files, outside links and unusable names sit beside
ordinary files that must still be processed at once; a folder that cannot be written gives a
sentence in ``failed/``. The service is the fake of ``tests/test_watch.py`` (same answers and
files, the real render); settle times are short so the tests stay quick.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from daw_bridge import watch
from tests.test_watch import FAST, FakeService, write_tone
from tests.writers import slow_wav_writer

SR = 44100
#: The settle time is shorter than every pause of the writers below: only the other checks can wait.
CONFIG = replace(FAST, settle_s=0.3, corrupt_after_s=8.0, poll_s=0.05)


def signal(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return 0.2 * np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], axis=1)


def run_watcher(home: Path, seconds: float, config=CONFIG, until=None):
    """Run a watcher on ``home`` until ``until()`` (or ``seconds`` pass); return its log lines."""
    lines: list[str] = []
    handle = watch.start_watcher(FakeService(), home, config, log=lines.append)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            time.sleep(0.05)
    finally:
        handle.stop(5.0)
    return lines


def rendered_frames(home: Path, name: str) -> int | None:
    outs = list((home / "outbox").glob(f"{name}.*.wav"))
    return sf.info(str(outs[0])).frames if outs and list((home / "outbox").glob(f"{name}.*.json")) else None


@pytest.mark.parametrize("header, pauses, close_events", [
    ("first", [0.5, 1.0, 2.0], True),   # a slow copy: the final header, then the audio
    ("last", [0.5, 1.5], True),          # a DAW export: the real header written at the end
    ("first", [0.5, 1.0, 2.0], False),   # no close events (as on some platforms): the header decides
    ("last", [0.7, 1.2], False),
])
def test_a_file_written_slowly_is_taken_whole(tmp_path, header, pauses, close_events):
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    x = signal(4.0)
    writer = slow_wav_writer(home / "inbox" / "song.wav", x, SR, pauses, header=header)
    lines = run_watcher(home, 30.0, replace(CONFIG, close_events=close_events),
                        until=lambda: writer.done.is_set() and rendered_frames(home, "song") is not None)
    assert writer.done.is_set()
    assert rendered_frames(home, "song") == x.shape[0], lines
    assert sf.info(str(home / "done" / "song.wav")).frames == x.shape[0]
    assert not list((home / "failed").iterdir())


def test_a_file_appended_after_it_was_taken_restarts_its_job(tmp_path):
    """A writer that keeps its file open and goes on after a pause longer than everything: the job
    started on the first part sees the change before delivering and starts again."""
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    x = signal(3.0)
    first = x[: SR]
    path = home / "inbox" / "take.wav"
    from tests.writers import pcm16, wav_header

    handle = open(path, "wb")
    handle.write(wav_header(first.shape[0], 2, SR) + pcm16(first))  # a whole, valid 1 s file
    handle.flush()
    gate = threading.Event()
    service = FakeService(gate=gate)  # the job waits until the append has landed, however loaded the machine
    lines: list[str] = []
    config = replace(CONFIG, close_events=False, settle_s=0.2)
    h = watch.start_watcher(service, home, config, log=lines.append)
    try:
        deadline = time.monotonic() + 10
        while not any(True for _ in (home / "inbox" / ".processing").glob("*/take.wav")) and time.monotonic() < deadline:
            time.sleep(0.02)
        handle.write(pcm16(x[SR:]))  # the writer goes on into the moved file, then fixes the header
        handle.seek(0)
        handle.write(wav_header(x.shape[0], 2, SR))
        handle.close()
        gate.set()
        deadline = time.monotonic() + 30
        while rendered_frames(home, "take") is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        h.stop(5.0)
    assert any("changed after it was taken" in line for line in lines), lines
    assert rendered_frames(home, "take") == x.shape[0]
    assert len(list((home / "outbox").glob("*.wav"))) == 1


def test_odd_files_never_stall_the_folder(tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    write_tone(outside / "secret.wav")
    os.mkfifo(inbox / "pipe.wav")
    os.mkfifo(outside / "far.fifo")
    (inbox / "far.wav").symlink_to(outside / "far.fifo")
    (inbox / "leak.wav").symlink_to(outside / "secret.wav")
    (inbox / ("n" * 240 + ".wav")).write_bytes(b"RIFF")
    write_tone(inbox / "ordinary.wav")
    start = time.monotonic()
    lines = run_watcher(home, 20.0, until=lambda: rendered_frames(home, "ordinary") is not None
                        and len(list((home / "failed").glob("*.error.txt"))) >= 3)
    took_s = time.monotonic() - start
    assert rendered_frames(home, "ordinary") is not None and took_s < 15
    errors = {p.name: p.read_text() for p in (home / "failed").glob("*.error.txt")}
    assert "FIFO" in errors["pipe.error.txt"]
    assert "outside the inbox" in errors["far.error.txt"] and "outside the inbox" in errors["leak.error.txt"]
    assert (outside / "secret.wav").exists() and (outside / "far.fifo").exists()  # the targets untouched
    long_lines = [line for line in lines if "n" * 50 in line]
    assert len(long_lines) == 1 and "shorten it" in long_lines[0], lines  # said once, not in a loop
    assert (inbox / ("n" * 240 + ".wav")).exists()


def test_an_outbox_that_cannot_be_written_fails_with_a_sentence(tmp_path, monkeypatch):
    """As with a read-only or immutable outbox/ (root ignores permission bits, so the refusal is
    made where the results are renamed into outbox/, with the error the system gives)."""
    import errno

    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    write_tone(home / "inbox" / "song.wav")
    outbox = (home / "outbox").resolve()
    real_replace = os.replace

    def replace_refusing_outbox(src, dst, *args, **kwargs):
        if Path(dst).parent.resolve() == outbox:
            raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace_refusing_outbox)
    lines = run_watcher(home, 15.0, until=lambda: list((home / "failed").glob("*.error.txt")))
    errors = list((home / "failed").glob("*.error.txt"))
    assert errors, lines
    text = errors[0].read_text()
    assert "Could not write the results: the folder or file is protected" in text, text
    assert "internal" not in text and "Traceback" not in text
    assert (home / "failed" / "song.wav").exists()
    assert not [p for p in (home / "outbox").iterdir() if not p.name.startswith(".")]


def test_serve_stops_within_a_second_of_sigint_with_a_file_in_hand(tmp_path):
    """A long file is being processed when Ctrl-C arrives: the server exits at once (well under the
    9 s of before) and the file stays journaled in inbox/.processing/ for the next start."""
    import signal as signals

    from tests.test_osc import _start_serve

    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    proc, port, _ = _start_serve(home)
    try:
        write_tone(home / "inbox" / "long.wav", seconds=90.0, sr=44100)
        deadline = time.monotonic() + 60
        while not list((home / "inbox" / ".processing").glob("*/long.wav")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((home / "inbox" / ".processing").glob("*/job.json")), "the file was never taken"
        time.sleep(0.5)  # into the work
        start = time.monotonic()
        proc.send_signal(signals.SIGINT)
        proc.wait(20)
        took_s = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"semeq serve exited {took_s:.2f} s after SIGINT with a file in hand")
    assert proc.returncode == 0
    assert took_s < 2.5  # the requirement is 1 s; margin for a loaded test machine
    jobs = list((home / "inbox" / ".processing").glob("*/job.json"))
    assert jobs and list((home / "inbox" / ".processing").glob("*/long.wav"))  # journaled, not lost
    assert not list((home / "outbox").glob("*.wav"))  # nothing half-delivered


def test_an_answer_that_changes_nothing_says_so():
    from daw_bridge.answers import eq_answer
    from daw_bridge.eq import EQParams

    flat = eq_answer("eq", "1", EQParams.flat(), text="warmer", intensity=0.0)
    assert flat["changed"] is False and "changes nothing" in flat["explanation"]
    warm = eq_answer("eq", "2", EQParams.from_dict({**EQParams.flat().to_dict(), "low_shelf_gain_db": 3.0}), text="warmer")
    assert warm["changed"] is True and "changes nothing" not in warm["explanation"]
