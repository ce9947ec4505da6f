"""Evaluate the listening side (issue 4) on held-out material and print every figure.

Material: the tracks ``models/reference_balance.json`` lists as held out (never in the reference),
excerpts of :data:`EXCERPT_S` seconds from the middle of each; SAFE-DB settings of held-out contributors
(``split_by_contributor`` defaults: 30 % of contributors, seed 0).

* Direction and amount use a semantic model trained WITHOUT the held-out contributors (trained once,
  cached in ``~/.cache/semeq/eval-listening``), so the words' curves never saw the EQs applied. Words:
  every held-out SAFE word with at least :data:`MIN_TEST_SETTINGS` settings that the model knows; each
  track gets :data:`ROWS_PER_WORD` settings per word (balanced, so chance is 1 / number of words) at
  intensities :data:`INTENSITIES`, applied with the EQ engine and analysed again.
  - Direction: argmax of the descriptor score over those words (absolute: one listen, as the product
    does; differential: knowing the track before the EQ). Also the two routes into the latent space:
    parametric (fit an EQ to the deviation, encode it) and the learned linear audio encoder the
    analysis ships (:func:`daw_bridge.analysis.audio_encoder`, trained on the reference tracks with the
    model's word EQs applied), judged by the word whose latent is nearest and the latent error.
  - Amount: RMS dB over bands between the estimated applied response and the true one (both with
    their mean removed: levels are normalised): the analysis' deviation alone, the word estimate
    (score x the word's curve), the differential estimate, and a flat guess as baseline.
* Scenarios, auto-suggest and timing use the shipped model (what users get).
  - Scenarios: per track, a thin+bright version (the bright then thin EQs) and a warm+muddy version
    (warm then muddy) get "make it warmer"; low-mid (150-800 Hz) boost of the adaptive EQ for both,
    and after rendering and analysing again, the share of versions with a band pushed out of the
    reference 5-95 % range, adaptive vs the fixed preset.
  - Auto-suggest: RMS dB distance to the reference median before/after (strength 0.5 and 1), beside
    Matchering 2 matching the same excerpts to the most typical reference track.
  - Time: analysis + suggestion vs Matchering on the same 3-minute track (ratio).

Run: ``python -m benchmarks.eval_listening [--out benchmarks/results/eval_listening.txt]``.
Matchering (GPL) is imported only here.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tools.build_reference import music_tracks
from benchmarks.machine import describe, utc_now
from daw_bridge.adapt import adapt_words, pushed_outside, suggest
from daw_bridge.analysis import (
    align,
    audio_encoder,
    descriptor_scores,
    analyze,
    analyze_file,
    band_response_db,
    band_spectrum,
    deviation_to_params,
    load_reference,
    projection_scores,
    word_curves,
)
from daw_bridge.audio import read_audio, write_audio_atomic
from daw_bridge.eq import EQParams, apply_eq, third_octave_centres_hz

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


def heldout_model():
    """A semantic model trained without the held-out SAFE contributors.

    Cached in :data:`CACHE` under a key of the training code and the split, so a changed training
    recipe trains again (minutes on a CPU; the Audealize fits are cached separately).
    """
    import hashlib
    import inspect

    from daw_bridge.semantic import SemanticModel
    from daw_bridge.semantic import train as train_module
    from daw_bridge.semantic.data import default_data_dir

    data_dir = Path(os.environ.get("SEMEQ_DATA_DIR", default_data_dir()))
    if not data_dir.exists():
        data_dir = Path(__file__).resolve().parents[2] / "shared" / "data"
    words, train_rows, test_rows = train_module.contributor_split(data_dir, CACHE / "audealize")
    key = hashlib.sha256((inspect.getsource(train_module) + f"split 0.3 seed 0 {len(train_rows)}").encode()).hexdigest()[:12]
    folder = CACHE / f"model-{key}"
    if not (folder / train_module.WEIGHTS_FILE).exists():
        log("training the held-out-contributor model once (cached in", folder, ")")
        trained = train_module.train_model(words, train_module.TrainConfig())
        train_module.save_trained(trained, folder)
    return SemanticModel.load(folder), test_rows


def rms(a: np.ndarray, ok: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a[ok] ** 2)))


def centred(a: np.ndarray, ok: np.ndarray) -> np.ndarray:
    return a - np.mean(a[ok])


def latent_word(z: np.ndarray, word_latents: np.ndarray) -> int:
    return int(np.argmax(word_latents @ z / np.sum(word_latents**2, axis=1)))


# --- sections -------------------------------------------------------------------------------------


def direction_and_amount(tracks, ref, lines: list[str]) -> None:
    model, test_rows = heldout_model()
    vocab = set(word_curves(model, 44100).terms)
    counts: dict[str, list] = {}
    for r in test_rows:
        counts.setdefault(r.term, []).append(r)
    words = sorted(t for t, rs in counts.items() if len(rs) >= MIN_TEST_SETTINGS and t in vocab)
    rng = np.random.default_rng(SEED)
    weights = ref.weights()
    hits_abs = hits_diff = total = 0
    routes = ("parametric (fit_eq + encode)", "learned linear audio encoder (shipped)")
    lat_hits = {r: 0 for r in routes}
    lat_err = {r: [] for r in routes}
    hits_std = 0
    lat_total = 0
    amount = {"flat guess (0 dB)": [], "analysis deviation": [], "word estimate (score x curve)": [], "differential": []}
    by_word = {w: [0, 0] for w in words}
    t0 = time.perf_counter()
    for ti, (name, path) in enumerate(tracks):
        x, sr = excerpt(path)
        curves = word_curves(model, sr)
        idx = [curves.terms.index(w) for w in words]
        cand = curves.responses_db[idx]
        word_latents = np.array([np.asarray(model.term_latent(w), float).ravel() for w in words])
        enc = audio_encoder(model, ref, sr)
        base = deviation(x, sr, ref)
        # Standardised scores: each word's score relative to real music's spread along that word.
        ref_scores = projection_scores(ref.track_deviations_db, cand, weights)
        ref_mid = np.nanmedian(ref_scores, axis=0)
        ref_iqr = np.subtract(*np.nanpercentile(ref_scores, [75, 25], axis=0))
        for wi, w in enumerate(words):
            chosen = rng.choice(len(counts[w]), size=min(ROWS_PER_WORD, len(counts[w])), replace=False)
            for k, ri in enumerate(chosen):
                row = counts[w][ri]
                for intensity in INTENSITIES:
                    p = row.params.scaled(intensity)
                    dev = deviation(apply_eq(x, sr, p), sr, ref)
                    ok = np.isfinite(dev) & np.isfinite(base)
                    s_abs = projection_scores(dev, cand, weights)
                    s_diff = projection_scores(dev - base, cand, weights)
                    hits_abs += int(np.argmax(s_abs) == wi)
                    hits_diff += int(np.argmax(s_diff) == wi)
                    hits_std += int(np.argmax((s_abs - ref_mid) / ref_iqr) == wi)
                    by_word[w][0] += int(np.argmax(s_abs) == wi)
                    by_word[w][1] += 1
                    total += 1
                    true = centred(band_response_db(p, sr), ok)
                    j = int(np.argmax(s_abs))
                    amount["flat guess (0 dB)"].append(rms(true, ok))
                    amount["analysis deviation"].append(rms(centred(dev, ok) - true, ok))
                    amount["word estimate (score x curve)"].append(rms(centred(s_abs[j] * cand[j], ok) - true, ok))
                    amount["differential"].append(rms(centred(dev - base, ok) - true, ok))
                    if intensity == 1.0:
                        z_true = np.asarray(model.encode(p), float).ravel()
                        z_par = np.asarray(model.encode(deviation_to_params(dev, sr)), float).ravel()
                        for route, z in zip(routes, (z_par, enc(dev))):
                            lat_hits[route] += int(latent_word(z, word_latents) == wi)
                            lat_err[route].append(float(np.linalg.norm(z - z_true) / max(np.linalg.norm(z_true), 1e-9)))
                        lat_total += 1
        log(f"direction/amount: {ti + 1}/{len(tracks)} tracks, {time.perf_counter() - t0:.0f} s")
    lines.append("## Direction: which word was applied (held-out tracks x held-out contributors' EQs)")
    lines.append(f"words: {', '.join(words)} ({len(words)}; settings from {len({r.contributor for r in test_rows})} held-out contributors)")
    lines.append(f"applications: {total} = {len(tracks)} tracks x {ROWS_PER_WORD} settings/word x {len(words)} words x intensities {INTENSITIES}")
    lines.append(f"accuracy, descriptor scores, one listen (as the product): {100 * hits_abs / total:.1f}%   (chance {100 / len(words):.1f}%)")
    lines.append(f"accuracy, scores standardised by real music's spread along each word, one listen: {100 * hits_std / total:.1f}%")
    lines.append(f"accuracy, descriptor scores, before/after known (differential): {100 * hits_diff / total:.1f}%")
    lines.append("per word (one listen): " + ", ".join(f"{w} {100 * h / n:.0f}% of {n}" for w, (h, n) in by_word.items()))
    lines.append(f"latent routes ({lat_total} applications at intensity 1): nearest word by latent projection / relative latent error |z - z_true| / |z_true|")
    for route in routes:
        lines.append(
            f"  {route:36s}: accuracy {100 * lat_hits[route] / lat_total:.1f}%  median relative error {np.median(lat_err[route]):.2f}"
        )
    lines.append("")
    lines.append("## Amount: estimated applied response vs the true one (RMS dB over bands, mean over applications)")
    for k, v in amount.items():
        lines.append(f"  {k:32s}: {np.mean(v):.2f} dB (median {np.median(v):.2f})")
    lines.append("")


def versions(model) -> dict[str, list[tuple[str, EQParams]]]:
    """The two versions of a track: word EQs (at intensity 1) applied one after the other."""
    vocab = set(word_curves(model, 48000).terms)
    chains = {"thin+bright": ["bright", "thin"], "warm+muddy": ["warm", "muddy"]}
    return {k: [(w, model.params_for(w, 1.0)) for w in words if w in vocab] for k, words in chains.items()}


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
            a = analyze(y, sr, model=model)
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
                warm_up[mode].append(float(projection_scores(after - a.deviation_db, word_curves(model, sr).responses_db[[word_curves(model, sr).terms.index("warm")]], ref.weights())[0]))
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


def most_typical_reference_track(ref) -> Path:
    dev = ref.track_deviations_db
    i = int(np.nanargmin(np.sqrt(np.nanmean(dev**2, axis=1))))
    name = ref.info["reference_tracks"][i]
    return {t.name: t.path for t in music_tracks()}[name], name


def run_matchering(target: Path, reference: Path, out: Path) -> float:
    import matchering as mg

    mg.log(lambda *_: None)
    t = time.perf_counter()
    mg.process(target=str(target), reference=str(reference), results=[mg.pcm24(str(out))])
    return time.perf_counter() - t


def auto_suggest(tracks, model, ref, lines: list[str], tmp: Path) -> None:
    ref_path, ref_name = most_typical_reference_track(ref)
    keys = ("before", "suggest strength 0.5", "suggest strength 1.0", "Matchering")
    plain = {k: [] for k in keys}
    weighted = {k: [] for k in keys}
    matched = []  # indices of tracks Matchering ran on
    w = ref.weights()

    def record(key: str, dev: np.ndarray, ok: np.ndarray) -> None:
        plain[key].append(rms(dev, ok))
        weighted[key].append(float(np.sqrt(np.sum(w[ok] * dev[ok] ** 2) / np.sum(w[ok]))))

    t0 = time.perf_counter()
    for ti, (name, path) in enumerate(tracks):
        x, sr = excerpt(path)
        a = analyze(x, sr, model=model)
        ok = a.valid
        record("before", a.deviation_db, ok)
        for strength in (0.5, 1.0):
            d = suggest(a, model, strength=strength)
            record(f"suggest strength {strength}", deviation(apply_eq(x, sr, d.params), sr, ref), ok)
        if ti % MATCHERING_EVERY == 0:
            src, out = tmp / f"target{ti}.wav", tmp / f"matched{ti}.wav"
            write_audio_atomic(src, x, sr, "PCM_24", "WAV")
            run_matchering(src, ref_path, out)
            m = read_audio(out)
            record("Matchering", deviation(m.samples, m.sample_rate_hz, ref), ok)
            matched.append(ti)
        log(f"suggest: {ti + 1}/{len(tracks)} tracks, {time.perf_counter() - t0:.0f} s")
    lines.append("## Auto-suggest: distance to the reference balance (RMS dB over bands; weighted: reference weights 1/(spread^2+1))")
    lines.append(f"Matchering 2 matches each excerpt to {ref_name} (the reference track nearest the median)")
    lines.append(f"all {len(tracks)} held-out excerpts:")
    for k in keys[:3]:
        lines.append(f"  {k:22s}: {np.mean(plain[k]):.2f} dB (weighted {np.mean(weighted[k]):.2f} dB)")
    lines.append(f"the {len(matched)} excerpts Matchering ran on (every {MATCHERING_EVERY}th track):")
    for k in keys:
        vals = plain[k] if k == "Matchering" else [plain[k][i] for i in matched]
        wvals = weighted[k] if k == "Matchering" else [weighted[k][i] for i in matched]
        lines.append(f"  {k:22s}: {np.mean(vals):.2f} dB (weighted {np.mean(wvals):.2f} dB)")
    lines.append("")


def timing(tracks, model, ref, lines: list[str], tmp: Path) -> None:
    ref_path, _ = most_typical_reference_track(ref)
    import soundfile as sf

    name, path = max(tracks, key=lambda t: sf.info(str(t[1])).duration)
    audio = read_audio(path)
    n = int(min(TIMING_TRACK_S * audio.sample_rate_hz, audio.samples.shape[0]))
    src = tmp / "timing.wav"
    write_audio_atomic(src, audio.samples[:n], audio.sample_rate_hz, "PCM_16", "WAV")
    ours = []
    for _ in range(3):
        t = time.perf_counter()
        suggest(analyze_file(src, model=model), model)
        ours.append(time.perf_counter() - t)
    theirs = [run_matchering(src, ref_path, tmp / "timing-matched.wav")]
    # Where our time goes (best of 3 each).
    from daw_bridge.audio import integrated_loudness_lufs, true_peak_dbtp

    x, sr = read_audio(src).samples, audio.sample_rate_hz
    a = analyze(x, sr, model=model)
    parts = {
        "read file": lambda: read_audio(src),
        "long-term spectrum": lambda: band_spectrum(x, sr),
        "loudness (audio.integrated_loudness_lufs)": lambda: integrated_loudness_lufs(x, sr),
        "true peak (audio.true_peak_dbtp)": lambda: true_peak_dbtp(x),
        "descriptors and latent": lambda: (
            descriptor_scores(a.deviation_db, sr, model, ref),
            audio_encoder(model, ref, sr)(a.deviation_db),
        ),
        "suggestion": lambda: suggest(a, model),
    }
    spent = {}
    for k, f in parts.items():
        best = math.inf
        for _ in range(3):
            t = time.perf_counter()
            f()
            best = min(best, time.perf_counter() - t)
        spent[k] = best
    lines.append(f"## Time on the same {n / audio.sample_rate_hz:.0f} s stereo track ({name})")
    lines.append(
        f"analysis + suggestion: {min(ours):.2f} s (best of 3); Matchering 2: {min(theirs):.2f} s (one run); "
        f"ratio Matchering / ours = {min(theirs) / min(ours):.1f}x"
    )
    lines.append("  of which: " + ", ".join(f"{k} {v:.2f} s" for k, v in spent.items()))
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
    direction_and_amount(tracks, ref, lines)
    scenarios(tracks, model, ref, lines)
    with tempfile.TemporaryDirectory(prefix="semeq-eval-") as tmp:
        auto_suggest(tracks, model, ref, lines, Path(tmp))
        timing(tracks, model, ref, lines, Path(tmp))
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
