"""Listening analysis: long-term spectrum, reference comparison, descriptors, odd inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from daw_bridge.analysis import (
    Analysis,
    analyze,
    analyze_file,
    band_response_db,
    band_spectrum,
    load_reference,
)
from daw_bridge.audio import AudioError
from daw_bridge.eq import EQParams, apply_eq, third_octave_centres_hz
from daw_bridge.errors import SemeqError


@pytest.fixture(scope="module")
def model():
    from daw_bridge.semantic import SemanticModel

    return SemanticModel.load()


def pink_noise(seconds: float, sample_rate_hz: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Independent pink noise per channel (-3 dB per octave), peak 0.5."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate_hz)
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    spec /= np.sqrt(np.maximum(f, 10.0))
    x = np.fft.irfft(spec, n, axis=1).T
    return 0.5 * x / np.max(np.abs(x))


def music_like(seconds: float, sample_rate_hz: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Pink noise shaped like the reference median (so it scores near 'typical music')."""
    ref = load_reference()
    y = pink_noise(seconds, sample_rate_hz, channels, seed)
    n = y.shape[0]
    log_f = np.log2(np.maximum(np.fft.rfftfreq(n, 1.0 / sample_rate_hz), 1.0))
    log_centres = np.log2(third_octave_centres_hz())
    for _ in range(3):  # band levels of a shaped noise depend on the shape inside each band: iterate
        measured = band_spectrum(y, sample_rate_hz).power_db
        correction = ref.median_db - measured
        correction = np.nan_to_num(correction - np.nanmedian(correction))
        gain_db = np.interp(log_f, log_centres, correction)
        y = np.fft.irfft(np.fft.rfft(y, axis=0) * 10.0 ** (gain_db / 20.0)[:, None], n, axis=0)
    return 0.5 * y / np.max(np.abs(y))


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "samples, words",
    [
        (np.zeros((48000, 2)), "silent"),
        (np.full((48000, 2), 1e-6), "silent"),
        (np.zeros((0, 2)), "empty"),
        (np.array([[0.1, np.nan]] * 1000), "NaN"),
        (np.array([[0.1, np.inf]] * 1000), "NaN or infinite"),
        (np.zeros((10, 2, 2)), "shape"),
    ],
)
def test_bad_audio_is_a_clear_error(samples, words, model):
    with pytest.raises(AudioError) as err:
        analyze(samples, 48000, model=model)
    assert isinstance(err.value, SemeqError)
    assert words in str(err.value)


def test_bad_sample_rate_is_a_clear_error(model):
    with pytest.raises(AudioError, match="sample rate"):
        analyze(pink_noise(1.0, 48000), 0, model=model)


def test_input_is_not_modified(model):
    x = pink_noise(2.0, 48000)
    copy = x.copy()
    analyze(x, 48000, model=model)
    assert np.array_equal(x, copy)


# --- the spectrum ---------------------------------------------------------------------------------


def test_sine_lands_in_its_band_and_level_does_not_matter():
    sr = 48000
    t = np.arange(2 * sr) / sr
    x = 0.5 * np.sin(2 * np.pi * 1000.0 * t)
    s = band_spectrum(x, sr)
    assert s.centres_hz[np.nanargmax(s.power_db)] == pytest.approx(1000.0)
    assert np.nanmax(s.power_db) == pytest.approx(0.0, abs=0.1)  # nearly all power in one band
    quiet = band_spectrum(0.01 * x, sr)
    audible = s.power_db > -100  # below, float32 rounding noise
    assert np.allclose(quiet.power_db[audible], s.power_db[audible], atol=1e-3)


def test_silence_and_gaps_are_ignored():
    sr = 44100
    x = pink_noise(6.0, sr)
    gapped = np.concatenate([x[: 3 * sr], np.zeros((5 * sr, 2)), x[3 * sr :], np.zeros((3 * sr, 2))])
    a, b = band_spectrum(x, sr), band_spectrum(gapped, sr)
    assert b.active_fraction < 0.6
    assert np.nanmax(np.abs(a.power_db - b.power_db)) < 0.3


def test_mid_side_ratio():
    sr = 48000
    mono = pink_noise(2.0, sr, channels=1)
    same = band_spectrum(np.hstack([mono, mono]), sr).side_minus_mid_db
    opposite = band_spectrum(np.hstack([mono, -mono]), sr).side_minus_mid_db
    wide = band_spectrum(pink_noise(2.0, sr, channels=2), sr).side_minus_mid_db
    assert np.nanmax(same) < -60
    assert np.nanmin(opposite) > 60
    assert np.nanmedian(np.abs(wide)) < 1.0  # independent channels: side as strong as mid


@pytest.mark.parametrize("sample_rate_hz", [8000, 44100, 192000])
def test_any_sample_rate(sample_rate_hz, model):
    a = analyze(music_like(3.0, sample_rate_hz), sample_rate_hz, model=model)
    nyquist = sample_rate_hz / 2
    assert np.array_equal(a.valid, a.centres_hz < nyquist)
    assert np.all(np.isnan(a.deviation_db[~a.valid]))
    assert np.all(np.isfinite(a.deviation_db[a.valid]))
    # Shaped like typical music: small deviations and no strong word.
    assert np.nanmax(np.abs(a.deviation_db)) < 3.0
    assert a.descriptors[-1].explained_db <= a.descriptors[0].explained_db
    assert a.score("warm") == pytest.approx(0.0, abs=0.35)
    d = a.to_dict()
    json.dumps(d, allow_nan=False)
    above = [b for b in d["bands"] if not b["valid"]]
    assert all(b["deviation_db"] is None for b in above)
    assert len(above) == int(np.sum(a.centres_hz >= nyquist))


def test_mono_and_eight_channels(model):
    sr = 48000
    mono = analyze(music_like(3.0, sr, channels=1), sr, model=model)
    eight = analyze(music_like(3.0, sr, channels=8), sr, model=model)
    assert mono.channels == 1 and mono.side_minus_mid_db is None
    assert eight.channels == 8 and eight.side_minus_mid_db is None
    assert np.nanmax(np.abs(mono.deviation_db - eight.deviation_db)) < 1.5
    assert np.isfinite(mono.loudness_lufs) and np.isfinite(eight.loudness_lufs)


def test_clipped_material(model):
    sr = 44100
    x = np.clip(4.0 * music_like(3.0, sr), -1.0, 1.0)
    a = analyze(x, sr, model=model)
    assert a.true_peak_dbtp >= -0.1
    assert np.all(np.isfinite(a.deviation_db[a.valid]))
    assert a.summary


# --- descriptors ----------------------------------------------------------------------------------


def test_word_eq_on_typical_music_scores_one(model):
    """The definition: typical music with a word's EQ applied scores 1 on that word, -1 for the opposite."""
    sr = 48000
    x = music_like(4.0, sr)
    base = analyze(x, sr, model=model)
    for word in ("warm", "bright"):
        up = analyze(apply_eq(x, sr, model.params_for(word, 1.0)), sr, model=model)
        down = analyze(apply_eq(x, sr, model.params_for(word, -1.0)), sr, model=model)
        assert up.score(word) - base.score(word) == pytest.approx(1.0, abs=0.2)
        assert down.score(word) - base.score(word) == pytest.approx(-1.0, abs=0.2)


def test_extremely_bright_and_dark_material(model):
    sr = 48000
    x = music_like(4.0, sr)
    bright = analyze(apply_eq(x, sr, EQParams(-10, 300, 0, 1000, 0.7, 0, 2000, 0.7, 6, 5000, 0.7, 12, 4000)), sr, model=model)
    dark = analyze(apply_eq(x, sr, EQParams(6, 200, 0, 1000, 0.7, 0, 2000, 0.7, -8, 5000, 0.7, -12, 3000)), sr, model=model)
    assert bright.score("bright") > 1.0 and bright.score("warm") < -0.5
    assert dark.score("bright") < -1.0 and dark.score("warm") > 0.5
    assert "dark" not in [d.term for d in bright.descriptors[:5] if d.score > 0]
    top_bright = {d.term for d in bright.descriptors[:15] if d.score > 0}
    top_dark = {d.term for d in dark.descriptors[:15] if d.score > 0}
    assert top_bright & {"bright", "tinny", "thin", "harsh", "crisp", "airy", "sharp", "clear"}
    assert top_dark & {"dark", "warm", "muffled", "boomy", "muddy", "deep", "mellow", "soft"}
    assert "above typical music" in bright.summary and "highs" in bright.summary
    assert "below typical music" in dark.summary


def test_latent_follows_the_word(model):
    """The audio's latent (parametric route) lies nearer the word whose EQ was applied."""
    sr = 48000
    x = music_like(4.0, sr)
    warm = analyze(apply_eq(x, sr, model.params_for("warm", 1.5)), sr, model=model)
    bright = analyze(apply_eq(x, sr, model.params_for("bright", 1.5)), sr, model=model)
    zw, zb = np.asarray(model.term_latent("warm")), np.asarray(model.term_latent("bright"))
    assert np.linalg.norm(warm.latent - zw) < np.linalg.norm(warm.latent - zb)
    assert np.linalg.norm(bright.latent - zb) < np.linalg.norm(bright.latent - zw)
    assert warm.latent.shape == (32,)


def test_reference_holds_real_music_statistics():
    ref = load_reference()
    assert len(ref.info["reference_tracks"]) >= 50
    assert not set(ref.info["reference_tracks"]) & set(ref.info["held_out_tracks"])
    p = ref.percentiles_db
    assert np.all(p[5] <= p[25]) and np.all(p[25] <= p[50]) and np.all(p[50] <= p[75]) and np.all(p[75] <= p[95])
    # Real music has more power in the low mids than at 10 kHz.
    centres = ref.centres_hz
    assert ref.median_db[np.argmin(abs(centres - 250))] > ref.median_db[np.argmin(abs(centres - 10000))] + 10


def test_band_response_matches_the_eq():
    p = EQParams(6, 100, 0, 1000, 0.7, 0, 2000, 0.7, 0, 4000, 0.7, 0, 8000)
    r = band_response_db(p, 48000)
    centres = third_octave_centres_hz()
    assert r[0] == pytest.approx(6.0, abs=0.3)
    assert abs(r[centres > 1000]).max() < 0.1


# --- real music -----------------------------------------------------------------------------------


def test_real_music_file(real_music_tracks, tmp_path, model):
    a = analyze_file(real_music_tracks[0], model=model)
    assert isinstance(a, Analysis)
    assert a.channels == 2 and a.sample_rate_hz == 44100
    assert -40 < a.loudness_lufs < 0
    d = a.to_dict()
    json.dumps(d, allow_nan=False)
    from daw_bridge.analysis import describing_words

    assert len(d["descriptors"]) == len(describing_words(model))  # studio-lexicon words only (issue 11)
    explained = [x["explained_db"] for x in d["descriptors"]]
    assert explained == sorted(explained, reverse=True)
    assert d["summary"].endswith(".")


def test_real_excerpt_warm_eq_raises_warm_score(real_music_excerpt, model):
    x, sr = real_music_excerpt
    base = analyze(x, sr, model=model)
    warmer = analyze(apply_eq(x, sr, model.params_for("warm", 1.0)), sr, model=model)
    assert warmer.score("warm") - base.score("warm") == pytest.approx(1.0, abs=0.25)
    assert warmer.score("bright") < base.score("bright")
