"""Listening analysis: the streamed long-term spectrum, problems found and named, odd inputs.

Signals are defined independently of the code under test: pink noise (-3 dB per octave, built in the
frequency domain) and pink noise through RBJ cookbook filters of known gain, whose exact responses are
checked in ``test_eq.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from daw_bridge.analysis import (
    TONE_POWER_SHARE,
    Analysis,
    analyze,
    analyze_file,
    default_lexicon,
    describe,
    load_reference,
)
from daw_bridge.audio import AudioError
from daw_bridge.eq import EQParams, apply_eq, third_octave_centres_hz
from daw_bridge.errors import SemeqError
from daw_bridge.layout import q_from_octaves
from daw_bridge.naming import Problem
from daw_bridge.spectrum import band_response_db, band_spectrum


def pink_noise(seconds: float, sample_rate_hz: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Independent pink noise per channel (-3 dB per octave), peak 0.5."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate_hz)
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    spec /= np.sqrt(np.maximum(f, 10.0))
    x = np.fft.irfft(spec, n, axis=1).T
    return 0.5 * x / np.max(np.abs(x))


def peak(freq_hz: float, gain_db: float, q: float) -> EQParams:
    """One RBJ peaking band (the other bands at 0 dB)."""
    return EQParams(0.0, 100.0, gain_db, freq_hz, q, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 0.0, 8000.0)


def octaves(a_hz: float, b_hz: float) -> float:
    return abs(float(np.log2(a_hz / b_hz)))


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
def test_bad_audio_is_a_clear_error(samples, words):
    with pytest.raises(AudioError) as err:
        analyze(samples, 48000)
    assert isinstance(err.value, SemeqError)
    assert words in str(err.value)


def test_bad_sample_rate_and_no_blocks_are_clear_errors():
    with pytest.raises(AudioError, match="sample rate"):
        analyze(pink_noise(1.0, 48000), 0)
    with pytest.raises(SemeqError, match="empty"):
        analyze(iter([]), 48000)


def test_input_is_not_modified():
    x = pink_noise(2.0, 48000)
    copy = x.copy()
    analyze(x, 48000)
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


def test_blocks_of_any_size_give_the_array_result():
    sr = 44100
    x = pink_noise(3.0, sr)
    whole = band_spectrum(x, sr)
    for size in (1000, 4097, 65536):
        blocks = band_spectrum((x[i : i + size] for i in range(0, x.shape[0], size)), sr)
        assert np.allclose(blocks.power_db, whole.power_db, equal_nan=True, atol=1e-9)
        assert blocks.active_fraction == whole.active_fraction


def test_filtered_noise_matches_the_filters_response():
    """Band levels of pink noise through an RBJ EQ minus those of the noise = the EQ's band response."""
    sr = 48000
    x = pink_noise(8.0, sr)
    params = EQParams(-6.0, 120.0, 5.0, 500.0, 1.0, -4.0, 2000.0, 2.0, 3.0, 6000.0, 0.7, 6.0, 10000.0)
    measured = band_spectrum(apply_eq(x, sr, params), sr).power_db - band_spectrum(x, sr).power_db
    expected = band_response_db(params, sr)
    centres = third_octave_centres_hz()
    sel = (centres >= 40) & (centres <= 16000)
    diff = measured[sel] - expected[sel]
    assert np.max(np.abs(diff - np.mean(diff))) < 0.5


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
def test_any_sample_rate(sample_rate_hz):
    a = analyze(pink_noise(3.0, sample_rate_hz), sample_rate_hz)
    nyquist = sample_rate_hz / 2
    assert np.array_equal(a.valid, a.centres_hz < nyquist)
    assert np.all(np.isnan(a.deviation_db[~a.valid]))
    assert np.all(np.isfinite(a.deviation_db[a.valid]))
    d = a.to_dict()
    json.dumps(d, allow_nan=False)
    above = [b for b in d["bands"] if not b["valid"]]
    assert all(b["deviation_db"] is None for b in above)
    assert len(above) == int(np.sum(a.centres_hz >= nyquist))


def test_mono_and_eight_channels():
    sr = 48000
    x = pink_noise(3.0, sr, channels=1)
    mono = analyze(x, sr)
    eight = analyze(np.tile(x, (1, 8)), sr)  # the same signal on every channel: the same balance
    assert mono.channels == 1 and mono.side_minus_mid_db is None
    assert eight.channels == 8 and eight.side_minus_mid_db is None
    assert np.nanmax(np.abs(mono.deviation_db - eight.deviation_db)) < 1e-6
    assert np.isfinite(mono.loudness_lufs) and np.isfinite(eight.loudness_lufs)


def test_clipped_material():
    sr = 44100
    x = np.clip(4.0 * pink_noise(3.0, sr), -1.0, 1.0)
    a = analyze(x, sr)
    assert a.true_peak_dbtp >= -0.1
    assert np.all(np.isfinite(a.deviation_db[a.valid]))
    assert a.summary


def test_streamed_analysis_equals_the_array_analysis():
    sr = 48000
    x = apply_eq(pink_noise(4.0, sr), sr, peak(1200.0, 7.0, 3.0))
    whole = analyze(x, sr)
    streamed = analyze((x[i : i + 10000] for i in range(0, x.shape[0], 10000)), sr)
    assert np.allclose(streamed.deviation_db, whole.deviation_db, equal_nan=True)
    assert streamed.loudness_lufs == pytest.approx(whole.loudness_lufs, abs=1e-6)
    assert streamed.true_peak_dbtp == pytest.approx(whole.true_peak_dbtp, abs=0.05)
    assert [p.text for p in streamed.problems] == [p.text for p in whole.problems]


# --- problems -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "freq_hz, gain_db, q",
    [(250.0, 8.0, 4.0), (2500.0, 6.0, 3.0), (6000.0, -7.0, 4.0), (120.0, 7.0, 2.0), (800.0, 5.0, 1.4)],
)
def test_synthetic_resonance_is_found_within_a_third_octave_and_1_5_db(freq_hz, gain_db, q):
    sr = 48000
    a = analyze(apply_eq(pink_noise(10.0, sr), sr, peak(freq_hz, gain_db, q)), sr)
    found = [p for p in a.problems if p.basis == "envelope" and octaves(p.freq_hz, freq_hz) <= 1 / 3]
    assert found, [p.text for p in a.problems]
    assert found[0].gain_db == pytest.approx(gain_db, abs=1.5)
    assert found[0].shape == "peak"
    assert found[0].confidence > 0.5
    # against its own envelope, the plain noise has none there (against typical music, pink noise has
    # less bass: that broad difference is the reference basis's to report)
    plain = analyze(pink_noise(10.0, sr), sr).problems
    assert not [p for p in plain if p.basis == "envelope" and octaves(p.freq_hz, freq_hz) <= 1 / 3]


def test_problems_are_named_by_their_region():
    """A narrow bump at 7.5 kHz is sibilant-like, a broad one at 300 Hz muddy-like: the word's own
    lexicon region holds the bump."""
    sr = 48000
    lexicon = default_lexicon()
    for freq_hz, q in ((7500.0, 2.0), (300.0, 1.0), (110.0, 1.0), (3500.0, 1.0)):
        a = analyze(apply_eq(pink_noise(10.0, sr), sr, peak(freq_hz, 7.0, q)), sr)
        top = [p for p in a.problems if octaves(p.freq_hz, freq_hz) <= 0.5][0]
        entry = lexicon.lookup(top.word)
        assert entry is not None and entry.kind in ("problem", "quality")
        assert any(m.gain_db > 0 and m.low_hz <= freq_hz <= m.high_hz for m in entry.moves), (top.word, freq_hz)
        assert top.text.startswith(f"{top.word}: +")


def test_answer_speaks_only_lexicon_words():
    sr = 48000
    a = analyze(apply_eq(pink_noise(6.0, sr), sr, peak(300.0, 8.0, 1.5)), sr)
    lexicon = default_lexicon()
    d = a.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["problems"]
    for p in d["problems"]:
        assert lexicon.lookup(p["word"]) is not None
        assert set(p) >= {"word", "freq_hz", "gain_db", "width_oct", "confidence", "basis", "text"}
        assert p["basis"] in ("envelope", "reference") and 0.0 <= p["confidence"] <= 1.0
    assert all(lexicon.lookup(x["term"]) is not None for x in d["descriptors"])
    assert d["summary"].startswith(d["problems"][0]["text"][0].upper() + d["problems"][0]["text"][1:])
    assert "latent" not in d


def test_words_that_name_a_cause_never_name_what_is_heard():
    """A bump where mains hum, wind or a close microphone would put energy (45-100 Hz) is as likely a
    kick or a bass note: the analysis names it with a word for the sound ("thumpy", "heavy", "boomy"),
    never "hummy", "windy" or "proximity effect"; no descriptor is a cause or a thing to imitate
    ("telephone", a vowel). Before, 57 Hz bells were named "hummy" and 70 Hz ones "windy"."""
    sr = 48000
    lexicon = default_lexicon()
    causes = {e.word for e in lexicon.entries if not e.describes_audio}
    assert {"hummy", "windy", "proximity effect", "telephone", "ah"} <= causes
    for freq_hz, width_oct in ((57.0, 0.5), (70.0, 1.3), (85.0, 0.4), (1000.0, 0.5), (300.0, 1.0)):
        a = analyze(apply_eq(pink_noise(8.0, sr), sr, peak(freq_hz, 10.0, q_from_octaves(width_oct))), sr)
        named = [p for p in a.problems if octaves(p.freq_hz, freq_hz) <= 0.5]
        assert named, (freq_hz, a.summary)
        for p in a.problems:
            assert p.word not in causes, (freq_hz, p.text)
            assert any(m.gain_db * p.gain_db > 0 for m in lexicon.lookup(p.word).moves)
        assert not causes & {d.term for d in a.descriptors}


def test_summary_says_each_word_once_with_all_its_places():
    def problem(word: str, shape: str, freq_hz: float, gain_db: float) -> Problem:
        return Problem(word, freq_hz, gain_db, None if shape != "peak" else 1.0, 0.6, "envelope", shape, 0.9, 5.0)

    text = describe((problem("boomy", "low_shelf", 280.0, 10.0), problem("dull", "high_shelf", 8200.0, -5.0),
                     problem("boomy", "peak", 80.0, 7.0), problem("nasal", "peak", 1000.0, 4.0)), [])
    assert text == "Boomy: +10 dB below 280 Hz and +7 dB around 80 Hz; dull: -5 dB above 8.2 kHz; and 1 smaller."


def test_summary_says_possibly_for_bumps_real_mixes_often_have(real_music_tracks):
    """A problem below LIKELY_CONFIDENCE is said with "possibly". On real, undamaged music (twelve
    tracks of the test package, none of them in the reference the statistics come from) envelope
    bumps are about as large as real mixes' own, so their median confidence is about one half (with
    z^2 / (z^2 + 2.5^2) it was about 0.8), while a strong synthetic resonance stays near 1."""
    from benchmarks.eval_listening import excerpt as middle_excerpt
    from daw_bridge.analysis import LIKELY_CONFIDENCE

    def problem(word: str, freq_hz: float, confidence: float) -> Problem:
        return Problem(word, freq_hz, 6.0, 1.0, confidence, "envelope", "peak", 0.9, 5.0)

    text = describe((problem("muddy", 300.0, 0.8), problem("boxy", 560.0, 0.3)), [])
    assert text == "Muddy: +6 dB around 300 Hz; possibly boxy: +6 dB around 560 Hz (real mixes often have such bumps)."
    assert describe((problem("boxy", 560.0, 0.3),), []).startswith("Possibly boxy: +6 dB around 560 Hz")
    confidences = []
    for path in sorted(real_music_tracks)[:12]:
        x, sr = middle_excerpt(path)
        confidences += [p.confidence for p in analyze(x, sr).problems if p.basis == "envelope"]
    assert len(confidences) >= 12 and np.median(confidences) <= LIKELY_CONFIDENCE + 0.05, np.median(confidences)
    strong = analyze(apply_eq(pink_noise(10.0, 48000), 48000, peak(800.0, 8.0, 3.0)), 48000).problems
    assert max(p.confidence for p in strong) > 0.9


@pytest.mark.parametrize("freq_hz, channels", [(55.0, 1), (440.0, 2), (3000.0, 8)])
def test_a_steady_tone_is_refused_with_its_frequency(freq_hz, channels):
    t = np.arange(3 * 48000) / 48000
    with pytest.raises(AudioError) as err:
        analyze(0.3 * np.sin(2 * np.pi * freq_hz * t)[:, None] * np.ones(channels), 48000)
    said_hz = float(str(err.value).split("steady tone around ")[1].split(" Hz")[0])
    assert said_hz == pytest.approx(freq_hz, rel=0.03)
    analyze(0.3 * np.sin(2 * np.pi * freq_hz * t)[:, None] + pink_noise(3, 48000, 1) * 0.3, 48000)  # music-like: answered


def test_no_real_track_of_the_reference_counts_as_a_tone():
    """Every track the reference balance was measured on (real music) is far below the tone share."""
    ref = load_reference()
    ok = np.isfinite(ref.median_db)
    power = 10.0 ** ((ref.median_db[ok] + np.nan_to_num(ref.track_deviations_db[:, ok])) / 10.0)
    share = np.array([np.convolve(p, np.ones(3), "valid").max() / p.sum() for p in power])
    assert len(share) >= 50 and share.max() < TONE_POWER_SHARE - 0.05


def test_reference_holds_real_music_statistics():
    ref = load_reference()
    assert len(ref.info["reference_tracks"]) >= 50
    assert not set(ref.info["reference_tracks"]) & set(ref.info["held_out_tracks"])
    p = ref.percentiles_db
    assert np.all(p[5] <= p[25]) and np.all(p[25] <= p[50]) and np.all(p[50] <= p[75]) and np.all(p[75] <= p[95])
    centres = ref.centres_hz
    assert ref.median_db[np.argmin(abs(centres - 250))] > ref.median_db[np.argmin(abs(centres - 10000))] + 10
    cov = ref.covariance_db2
    assert np.allclose(cov, cov.T) and np.all(np.linalg.eigvalsh(cov) > 0)


# --- real music -----------------------------------------------------------------------------------


def test_real_music_file(real_music_tracks):
    a = analyze_file(real_music_tracks[0])
    assert isinstance(a, Analysis)
    assert a.channels == 2 and a.sample_rate_hz == 44100
    assert -40 < a.loudness_lufs < 0
    d = a.to_dict()
    json.dumps(d, allow_nan=False)
    explained = [x["explained_db"] for x in d["descriptors"]]
    assert explained == sorted(explained, reverse=True)
    assert d["summary"].endswith(".")


def test_real_excerpt_resonance_is_found(real_music_excerpt):
    """A narrow +9 dB resonance added to real music is found where it was put."""
    x, sr = real_music_excerpt
    a = analyze(apply_eq(x, sr, peak(2000.0, 9.0, 4.0)), sr)
    assert [p for p in a.problems if p.gain_db > 0 and octaves(p.freq_hz, 2000.0) <= 1 / 3]
