"""Our 5-band EQ against pedalboard's JUCE filters: same EQ, same 5-minute stereo 44.1 kHz signal.

Prints the largest magnitude-response difference (dB, 20 Hz .. 20 kHz; pedalboard's measured with an
impulse), throughput as x realtime for both and the ratio ours / pedalboard. Runs alternate (ours,
pedalboard, ours, ...) and each side keeps its best time, so load from other programs affects both
alike.

Comparable designs: pedalboard's LowShelfFilter / PeakFilter / HighShelfFilter are JUCE's
``IIRCoefficients::makeLowShelf / makePeakFilter / makeHighShelf``: the RBJ cookbook biquads with
A = sqrt(gain factor) and shelf ``beta = sin(w0) sqrt(A) / q``, i.e. the same formulas as
:mod:`daw_bridge.eq` when the shelves get ``q = SHELF_Q`` (1/sqrt 2, pedalboard's default) and the
peaks our Q.

The signal is 5 minutes of real music from Debian (drascula-music, tracks concatenated and cut)
when the package can be fetched, otherwise pink-ish noise (``--noise`` forces noise).

Usage: python -m benchmarks.bench_eq_vs_pedalboard [--repeats N] [--noise]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from benchmarks.machine import describe, utc_now
from daw_bridge.eq import SHELF_Q, EQParams, apply_eq, response_db

SAMPLE_RATE_HZ = 44100
SECONDS = 300.0
#: The benchmark EQ: every band active.
PARAMS = EQParams(4.0, 100.0, -3.0, 400.0, 1.0, 5.0, 2500.0, 2.0, -4.0, 6000.0, 0.7, 3.0, 10000.0)


def pedalboard_eq(params: EQParams):
    """The same five bands as a pedalboard chain."""
    import pedalboard

    chain = []
    for band in params.bands():
        if band.kind == "low_shelf":
            chain.append(pedalboard.LowShelfFilter(cutoff_frequency_hz=band.freq_hz, gain_db=band.gain_db, q=SHELF_Q))
        elif band.kind == "high_shelf":
            chain.append(pedalboard.HighShelfFilter(cutoff_frequency_hz=band.freq_hz, gain_db=band.gain_db, q=SHELF_Q))
        else:
            chain.append(pedalboard.PeakFilter(cutoff_frequency_hz=band.freq_hz, gain_db=band.gain_db, q=band.q))
    return pedalboard.Pedalboard(chain)


def response_difference_db(params: EQParams, sample_rate_hz: int = SAMPLE_RATE_HZ) -> float:
    """Largest |ours - pedalboard| magnitude (dB) from 20 Hz to 20 kHz, pedalboard's via its impulse response."""
    n = 1 << 18
    impulse = np.zeros((1, n), dtype=np.float32)
    impulse[0, 0] = 1.0
    h = pedalboard_eq(params)(impulse, sample_rate_hz)[0].astype(np.float64)
    f = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    band = (f >= 20.0) & (f <= 20000.0)
    theirs = 20.0 * np.log10(np.abs(np.fft.rfft(h))[band])
    return float(np.max(np.abs(theirs - response_db(params, f[band], sample_rate_hz))))


def test_signal(use_music: bool) -> tuple[np.ndarray, str]:
    """``(frames, 2)`` float32, 5 minutes at 44.1 kHz, and what it is."""
    frames = int(SECONDS * SAMPLE_RATE_HZ)
    if use_music:
        try:
            import soundfile as sf

            from benchmarks.debian_music import fetch_packages

            tracks = fetch_packages(["drascula-music"])["drascula-music"]
            parts, total = [], 0
            for path in tracks:
                info = sf.info(str(path))
                if info.samplerate != SAMPLE_RATE_HZ or info.channels != 2:
                    continue
                data, _ = sf.read(str(path), dtype="float32", always_2d=True)
                parts.append(data)
                total += data.shape[0]
                if total >= frames:
                    return np.ascontiguousarray(np.concatenate(parts)[:frames]), "real music (drascula-music)"
        except Exception as exc:  # noqa: BLE001 - the benchmark still runs on noise
            print(f"(no real music: {exc}; using noise)")
    rng = np.random.default_rng(0)
    white = rng.standard_normal((frames, 2))
    pinkish = np.cumsum(white, axis=0) * 0.02 + white * 0.1
    pinkish -= np.mean(pinkish, axis=0)
    return (0.3 * pinkish / np.max(np.abs(pinkish))).astype(np.float32), "noise"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per side (best kept; default 5)")
    ap.add_argument("--noise", action="store_true", help="use noise instead of real music")
    args = ap.parse_args(argv)

    import pedalboard

    x, what = test_signal(not args.noise)
    x_planar = np.ascontiguousarray(x.T)  # pedalboard takes (channels, frames)
    board = pedalboard_eq(PARAMS)
    seconds = x.shape[0] / SAMPLE_RATE_HZ

    ours_best = theirs_best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        y_ours = apply_eq(x, SAMPLE_RATE_HZ, PARAMS)
        ours_best = min(ours_best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        y_theirs = board(x_planar, SAMPLE_RATE_HZ, reset=True)
        theirs_best = min(theirs_best, time.perf_counter() - t0)
    output_diff_db = 20 * np.log10(np.max(np.abs(y_ours.T - y_theirs)) / np.max(np.abs(y_ours)))

    print(f"date: {utc_now()}")
    print(f"machine: {describe()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pedalboard {pedalboard.__version__}")
    print(f"signal: {what}, {seconds:.0f} s, {x.shape[1]} channels, {SAMPLE_RATE_HZ} Hz, float32")
    print(f"EQ: {PARAMS.to_json()}")
    print(f"max response difference (20 Hz..20 kHz): {response_difference_db(PARAMS):.4f} dB")
    print(f"max output difference, relative to the output peak: {output_diff_db:.1f} dB")
    print(f"ours (scipy sosfilt, float64 inside): {seconds / ours_best:8.1f} x realtime ({ours_best:.3f} s, best of {args.repeats})")
    print(f"pedalboard (JUCE, float32):           {seconds / theirs_best:8.1f} x realtime ({theirs_best:.3f} s, best of {args.repeats})")
    print(f"ratio ours / pedalboard: {theirs_best / ours_best:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
