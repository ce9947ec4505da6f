"""Time `analysis.analyze` on a 5-minute stereo real track, beside pyloudnorm measuring loudness alone.

The issue asks for a 5-minute stereo track analysed "well under a second"; pyloudnorm's integrated
loudness (one of the many things the analysis measures) on the same samples is the peer.
Run: python -m benchmarks.bench_analysis
"""

from __future__ import annotations

import time

import numpy as np
import pyloudnorm
import soundfile as sf

from benchmarks.debian_music import fetch_packages
from benchmarks.machine import describe, utc_now
from daw_bridge.analysis import analyze
from daw_bridge.semantic import SemanticModel

SECONDS = 300.0
REPEATS = 3


def main() -> None:
    tracks = fetch_packages(["nexuiz-music"])["nexuiz-music"]
    longest = max(tracks, key=lambda p: sf.info(str(p)).frames)
    samples, rate = sf.read(str(longest), dtype="float32", always_2d=True)
    frames = int(SECONDS * rate)
    samples = np.resize(samples, (frames, samples.shape[1]))  # repeat if shorter than 5 minutes
    model = SemanticModel.load()
    analyze(samples[: rate * 5], rate, model)  # warm process: model and caches loaded
    ours = min(_timed(lambda: analyze(samples, rate, model)) for _ in range(REPEATS))
    meter = pyloudnorm.Meter(rate)
    peer = min(_timed(lambda: meter.integrated_loudness(samples.astype(np.float64))) for _ in range(REPEATS))
    print(f"bench_analysis  {utc_now()}")
    print(f"machine: {describe()}")
    print(f"input: {longest.name}, {SECONDS:g} s, {samples.shape[1]} channels, {rate} Hz (float32)")
    print(f"analysis (loudness, true peak, band balance, descriptors, latent): {ours:.3f} s (best of {REPEATS})")
    print(f"pyloudnorm integrated loudness alone:                         {peer:.3f} s (best of {REPEATS})")
    print(f"ratio analysis / pyloudnorm loudness: {ours / peer:.2f}")


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
