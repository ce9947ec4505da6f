"""Shared fixtures: real music from Debian's archive (fetched once per machine, cached).

``real_music_tracks`` downloads ``drascula-music`` (36 MB, Ogg Vorbis, 44.1 kHz stereo) with
``apt-get download`` into ``$SEMEQ_MUSIC_CACHE`` or ``~/.cache/semeq/debian-music``. It fails (never
skips) when the package cannot be fetched: CI has network access to Debian and must have run
``apt-get update``.
"""

from __future__ import annotations

import os
from pathlib import Path

# Like the `semeq` command (daw_bridge.cli.BLAS_THREADS): one BLAS thread, set before numpy loads.
for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pytest

# benchmarks/ is a top-level folder of the repository (on the path through pytest's `pythonpath`).
from benchmarks.debian_music import fetch_packages

#: The package the tests use (the smallest of benchmarks.debian_music.MUSIC_PACKAGES).
TEST_MUSIC_PACKAGE = "drascula-music"
#: Length of the excerpt fixture (s) and where it starts in the track (s).
EXCERPT_SECONDS = 20.0
EXCERPT_START_SECONDS = 30.0


@pytest.fixture(scope="session")
def real_music_tracks() -> list[Path]:
    """Paths of the real music tracks of :data:`TEST_MUSIC_PACKAGE` (at least one)."""
    tracks = fetch_packages([TEST_MUSIC_PACKAGE])[TEST_MUSIC_PACKAGE]
    if not tracks:
        pytest.fail(f"{TEST_MUSIC_PACKAGE} was fetched but holds no audio tracks")
    return tracks


@pytest.fixture(scope="session")
def real_music_excerpt(real_music_tracks) -> tuple[np.ndarray, int]:
    """A 20 s stereo excerpt of a real track as ``(samples (frames, channels) float64, sample_rate_hz)``.

    Taken from the longest track, 30 s in, so it is full-band music rather than an intro or a jingle.
    """
    import soundfile as sf

    longest = max(real_music_tracks, key=lambda p: sf.info(str(p)).frames)
    info = sf.info(str(longest))
    start = int(min(EXCERPT_START_SECONDS * info.samplerate, max(0, info.frames - EXCERPT_SECONDS * info.samplerate)))
    samples, sr = sf.read(
        str(longest), start=start, frames=int(EXCERPT_SECONDS * info.samplerate), dtype="float64", always_2d=True
    )
    if samples.shape[0] < sr or not np.any(samples):
        pytest.fail(f"the excerpt of {longest} is too short or silent")
    return samples, sr
