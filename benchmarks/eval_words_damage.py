"""A user who hears a problem and names it: "less muddy" on real music with mud somewhere in the mud region.

Material as :mod:`benchmarks.eval_damage` (the held-out tracks' 20-s excerpts, tuning and report
halves). For each track and each problem word of :data:`WORDS`, one damage: an RBJ bell boost
whose centre is drawn log-uniformly across the region the lexicon documents for the word (muddy:
180-500 Hz), size 4-9 dB, width 0.5-1.5 octaves (seeded: ``--half tune`` seed 0, ``report`` seed 1).
The request is ``less WORD``, answered by :func:`daw_bridge.adapt.adapt_words` (what ``semeq eq
"less muddy" --audio`` and REAPER's actions do) two ways in the same run:

* **placed**: as shipped, the cut moved to this track's excess in the word's region
  (:mod:`daw_bridge.placement`);
* **word's place**: the same with placement turned off (the cut where the lexicon puts it, sized
  by the adaptive step): the answer before placement.

Figures per way, as in eval_damage (third-octave bands 40 Hz - 16 kHz, curves mean-removed): undone
(absolute) ``1 - rms(E + D) / rms(D)``; closer: the rendered track is nearer the undamaged original
than the damaged one was; distance after / before (the rendered track's rms level difference to the
original over the damaged one's).

Run: ``python -m benchmarks.eval_words_damage [--half report] [--tracks N] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.eval_damage import BANDS_HZ, centred, damage_params, excerpt, level, log, rms, track_path
from benchmarks.machine import describe, emit, utc_now
from daw_bridge import placement
from daw_bridge.adapt import adapt_words
from daw_bridge.analysis import analyze, default_lexicon, load_reference
from daw_bridge.eq import apply_eq, third_octave_centres_hz
from daw_bridge.semantic import SemanticModel
from daw_bridge.spectrum import band_response_db

#: Problem words whose cut the user asks for (one damage each per track).
WORDS = ("muddy", "boomy", "tubby", "boxy", "honky", "nasal", "harsh", "shrill", "sibilant")
WAYS = ("placed", "word's place")


def answer(analysis, text: str, model, way: str):
    """The adaptive answer, placed or at the word's own place."""
    keep = placement.MIN_REMOVED_DB
    if way == "word's place":
        placement.MIN_REMOVED_DB = float("inf")
    try:
        return adapt_words(analysis, text, model)
    finally:
        placement.MIN_REMOVED_DB = keep


def run(half: str, max_tracks: int | None) -> str:
    ref = load_reference()
    lexicon = default_lexicon()
    model = SemanticModel.load()
    held = ref.info["held_out_tracks"]
    tracks = (held[0::2] if half == "tune" else held[1::2])[:max_tracks]
    rng = np.random.default_rng(0 if half == "tune" else 1)
    centres = third_octave_centres_hz()
    sel = (centres >= BANDS_HZ[0]) & (centres <= BANDS_HZ[1])
    rows: dict[str, list[tuple[str, float, bool, float]]] = {way: [] for way in WAYS}
    used = 0
    for ti, name in enumerate(tracks):
        x, sr = excerpt(track_path(name))
        if centres[sel].max() >= sr / 2:  # as eval_damage: every band measured
            continue
        lvl_o = level(x, sr)
        for word in WORDS:
            move = lexicon.lookup(word).moves[0]
            damage = ("peak", float(np.exp(rng.uniform(np.log(move.low_hz), np.log(move.high_hz)))),
                      float(rng.uniform(4.0, 9.0)), float(rng.uniform(0.5, 1.5)))
            params = damage_params(damage)
            y = apply_eq(x, sr, params)
            dcurve = centred(band_response_db(params, sr), sel)
            a = analyze(y, sr)
            before = rms(centred(level(y, sr) - lvl_o, sel))
            for way in WAYS:
                eq = answer(a, f"less {word}", model, way).params
                after = rms(centred(level(apply_eq(y, sr, eq), sr) - lvl_o, sel))
                rows[way].append((word, 1 - rms(centred(band_response_db(eq, sr), sel) + dcurve) / rms(dcurve),
                                  after < before, after / before))
        used += 1
        log(f"{ti + 1}/{len(tracks)} {name}")
    return report(rows, half, used)


def report(rows, half: str, n_tracks: int) -> str:
    lines = [f"# 'less WORD' on real music with WORD's damage (bell boost anywhere in its documented region) "
             f"({utc_now()}; {describe()})",
             f"{half} half of the held-out tracks ({n_tracks} tracks) x {len(WORDS)} problem words, "
             f"bands {BANDS_HZ[0]:g} Hz - {BANDS_HZ[1] / 1000:g} kHz", ""]
    for way, r in rows.items():
        undone = np.array([v[1] for v in r])
        closer = np.array([v[2] for v in r])
        ratio = np.array([v[3] for v in r])
        lines.append(f"{way:<13} n={len(r):3d}  undone abs median {np.median(undone):4.0%}  closer {np.mean(closer):4.0%}  "
                     f"distance after/before median {np.median(ratio):.2f}")
        words = np.array([v[0] for v in r])
        lines += [f"    {w:<9} undone {np.median(undone[words == w]):4.0%}  closer {np.mean(closer[words == w]):4.0%}  "
                  f"distance {np.median(ratio[words == w]):.2f}" for w in WORDS]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tune", "report"), default="report")
    parser.add_argument("--tracks", type=int, default=None, help="at most this many tracks")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    return emit(run(args.half, args.tracks), args.out)


if __name__ == "__main__":
    sys.exit(main())
