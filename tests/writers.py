"""Writers that behave like slow copies and DAW exports, for the watch folder's completeness tests.

:func:`slow_wav_writer` writes a 16-bit WAV into a folder in chunks with pauses, in a thread:

* ``header="first"``: the final header first, then the audio in chunks (a network copy);
* ``header="last"``: a placeholder header (lengths 0), the audio, then the real header written
  over it at the end (what DAWs do when they export);
* ``close_between=True``: the file is closed after each chunk and opened again to append (a writer
  that appends after a pause); otherwise it stays open until the end.
"""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

import numpy as np


def wav_header(frames: int, channels: int, sample_rate_hz: int, placeholder: bool = False) -> bytes:
    """A canonical 44-byte PCM_16 WAV header (lengths 0 when ``placeholder``)."""
    data = 0 if placeholder else frames * channels * 2
    riff = 0 if placeholder else 36 + data
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate_hz,
            sample_rate_hz * channels * 2, channels * 2, 16) + b"data" + struct.pack("<I", data))


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def slow_wav_writer(path: Path, samples: np.ndarray, sample_rate_hz: int, pauses_s: list[float], header: str = "first",
                    close_between: bool = False) -> threading.Thread:
    """Start a thread writing ``samples`` to ``path`` in ``len(pauses_s) + 1`` chunks, pausing
    ``pauses_s[i]`` seconds after chunk ``i``. ``thread.done`` is set once the file is complete."""
    frames, channels = samples.shape
    bounds = np.linspace(0, frames, len(pauses_s) + 2).astype(int)
    chunks = [pcm16(samples[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    def run() -> None:
        handle = open(path, "wb")
        handle.write(wav_header(frames, channels, sample_rate_hz, placeholder=(header == "last")))
        for i, chunk in enumerate(chunks):
            handle.write(chunk)
            handle.flush()
            if i < len(pauses_s):
                if close_between:
                    handle.close()
                time.sleep(pauses_s[i])
                if close_between:
                    handle = open(path, "r+b")
                    handle.seek(0, 2)
        if header == "last":
            handle.seek(0)
            handle.write(wav_header(frames, channels, sample_rate_hz))
        handle.close()
        thread.done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.done = threading.Event()  # type: ignore[attr-defined]
    thread.start()
    return thread
