"""Evaluate adaptive words on held-out real music and print every figure.

Material: the tracks ``models/reference_balance.json`` lists as held out (never in the reference),
excerpts of :data:`EXCERPT_S` seconds from the middle of each. Per track, a thin+bright version (the
model's bright then thin EQs) and a warm+muddy version (warm then muddy) get "make it warmer": the
low-mid (150-800 Hz) boost of the adaptive EQ for both, and after rendering and analysing again, the
share of versions with a band pushed out of the reference 5-95 % range, adaptive vs the fixed preset.

Auto-suggest and problem naming are measured by ``benchmarks/eval_damage.py``, analysis time by
``benchmarks/bench_analysis.py``.

Run: ``python -m benchmarks.eval_listening [--out benchmarks/results/eval_listening.txt]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import describe, utc_now
from daw_bridge.adapt import adapt_words, pushed_outside
from daw_bridge.analysis import (
    align,
    analyze,
    band_spectrum,
    default_lexicon,
    load_reference,
)
from daw_bridge.audio import read_audio
from daw_bridge.eq import EQParams, apply_eq, third_octave_centres_hz
from daw_bridge.naming import projection_scores, word_curves
from daw_bridge.spectrum import band_response_db
from tools.build_reference import music_tracks

EXCERPT_S = 20.0
#: Matchering runs on every MATCHERING_EVERY-th held-out track (it takes seconds per excerpt).
MATCHERING_EVERY = 4
MIN_TEST_SETTINGS = 5
ROWS_PER_WORD = 1
INTENSITIES = (0.5, 1.0)
SEED = 0
LOW_MID_HZ = (150.0, 800.0)
TIMING_TRACK_S = 180.0
CACHE = Path(os.environ.get("SEMEQ_EVAL_CACHE", Path.home() / ".cache" / "semeq" / "eval-listening"))


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --- material -------------------------------------------------------------------------------------


def held_out_tracks(ref) -> list[tuple[str, Path]]:
    paths = {t.name: t.path for t in music_tracks()}
    missing = [n for n in ref.info["held_out_tracks"] if n not in paths]
    if missing:
        raise SystemExit(f"held-out tracks not found in the Debian packages: {missing[:3]}")
    return [(n, paths[n]) for n in ref.info["held_out_tracks"]]


def excerpt(path: Path, seconds: float = EXCERPT_S) -> tuple[np.ndarray, int]:
    audio = read_audio(path)
    x, sr = audio.samples, int(audio.sample_rate_hz)
    n = int(seconds * sr)
    if x.shape[0] > n:
        start = (x.shape[0] - n) // 2
        x = x[start : start + n]
    return x, sr


def deviation(x: np.ndarray, sr: float, ref) -> np.ndarray:
    """The analysis' deviation from the reference (dB per band), without the rest of the analysis."""
    level, _ = align(band_spectrum(x, sr).power_db, ref)
    return level - ref.median_db


# --- sections -------------------------------------------------------------------------------------


def versions(model) -> dict[str, list[tuple[str, EQParams]]]:
    """The two versions of a track: word EQs (at intensity 1) applied one after the other."""
    chains = {"thin+bright": ["bright", "thin"], "warm+muddy": ["warm", "muddy"]}
    return {k: [(w, model.params_for(w, 1.0)) for w in words] for k, words in chains.items()}


def low_mid_db(params: EQParams, sr: float) -> float:
    c = third_octave_centres_hz()
    return float(np.mean(band_response_db(params, sr, c)[(c >= LOW_MID_HZ[0]) & (c <= LOW_MID_HZ[1])]))


def scenarios(tracks, model, ref, lines: list[str]) -> None:
    fixed = model.interpret("make it warmer").params
    eqs = versions(model)
    boosts = {k: [] for k in eqs}
    amounts = {k: [] for k in eqs}
    pushed = {"adaptive": [], "fixed preset": []}
    pushed_bands = {"adaptive": [], "fixed preset": []}
    outside_share = {"before": [], "adaptive": [], "fixed preset": []}
    warm_up = {"adaptive": [], "fixed preset": []}
    t0 = time.perf_counter()
    low, high = ref.range_db()
    for ti, (name, path) in enumerate(tracks):
        x, sr = excerpt(path)
        for label, chain in eqs.items():
            y = x
            for _, p in chain:
                y = apply_eq(y, sr, p)
            a = analyze(y, sr)
            d = adapt_words(a, "make it warmer", model)
            boosts[label].append(low_mid_db(d.params, sr))
            ok = a.valid
            outside_share["before"].append(float(np.mean((a.deviation_db[ok] < low[ok]) | (a.deviation_db[ok] > high[ok]))))
            amounts[label].append(d.amount)
            for mode, params in (("adaptive", d.params), ("fixed preset", fixed)):
                after = deviation(apply_eq(y, sr, params), sr, ref)
                change = band_response_db(params, sr, a.centres_hz)
                out = pushed_outside(after, change, a)
                pushed[mode].append(bool(np.any(out)))
                pushed_bands[mode].append(float(np.mean(out[a.valid])))
                ok = np.isfinite(after)
                outside_share[mode].append(float(np.mean((after[ok] < low[ok] - 0.25) | (after[ok] > high[ok] + 0.25))))
                warm = word_curves(default_lexicon(), sr)
                warm_up[mode].append(float(projection_scores(after - a.deviation_db, warm.responses_db[[warm.terms.index("warm")]], ref.weights())[0]))
        log(f"scenarios: {ti + 1}/{len(tracks)} tracks, {time.perf_counter() - t0:.0f} s")
    thin, warm = np.array(boosts["thin+bright"]), np.array(boosts["warm+muddy"])
    lines.append("## Scenarios: 'make it warmer' on a thin+bright and a warm+muddy version of each held-out track")
    lines.append("versions: " + "; ".join(f"{k} = the model's " + " then ".join(f"'{w}'" for w, _ in v) + " EQ at intensity 1" for k, v in eqs.items()))
    lines.append(f"low-mid (150-800 Hz) boost of the adaptive EQ, mean over tracks: thin+bright {thin.mean():+.2f} dB, warm+muddy {warm.mean():+.2f} dB; fixed preset {low_mid_db(fixed, 44100):+.2f} dB for both")
    lines.append(f"step taken (amount): thin+bright {np.mean(amounts['thin+bright']):.2f}, warm+muddy {np.mean(amounts['warm+muddy']):.2f} (1 = the preset's step)")
    lines.append(f"tracks where the warm+muddy version got a clearly smaller low-mid boost (< 60% of the thin+bright one): {100 * np.mean(warm < 0.6 * thin):.0f}% of {len(thin)}")
    for mode in pushed:
        lines.append(
            f"{mode:13s}: versions with a band pushed out of the reference 5-95% range {100 * np.mean(pushed[mode]):.1f}% "
            f"(goal <= 5%), bands pushed {100 * np.mean(pushed_bands[mode]):.2f}%, bands outside the range after {100 * np.mean(outside_share[mode]):.1f}% "
            f"(before {100 * np.mean(outside_share['before']):.1f}%), "
            f"warm score change {np.mean(warm_up[mode]):+.2f}"
        )
    lines.append("")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--tracks", type=int, default=None, help="use only the first N held-out tracks")
    args = parser.parse_args(argv)
    from daw_bridge.semantic import SemanticModel

    started = time.perf_counter()
    ref = load_reference()
    tracks = held_out_tracks(ref)[: args.tracks]
    model = SemanticModel.load()
    lines = [
        "# Listening evaluation (benchmarks/eval_listening.py)",
        f"date: {utc_now()}; machine: {describe()}",
        f"held-out tracks: {len(tracks)} (of {len(ref.info['held_out_tracks'])}), excerpts of {EXCERPT_S:.0f} s; "
        f"reference: {len(ref.info['reference_tracks'])} tracks",
        "",
    ]
    scenarios(tracks, model, ref, lines)
    lines.append(f"total run time {time.perf_counter() - started:.0f} s")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = args.out.with_name(f".{args.out.name}.tmp")
        tmp_out.write_text(text + "\n")
        os.replace(tmp_out, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
