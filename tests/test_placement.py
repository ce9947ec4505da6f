"""A problem word's cut goes where this track has the problem (daw_bridge.placement, through adapt_words)."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge.adapt import adapt_words
from daw_bridge.analysis import analyze, load_reference
from daw_bridge.eq import EQParams, apply_eq, third_octave_centres_hz
from daw_bridge.naming import hz_text
from daw_bridge.placement import place_cuts
from daw_bridge.problems import Bump
from daw_bridge.spectrum import band_response_db


@pytest.fixture(scope="module")
def model():
    from daw_bridge.semantic import SemanticModel

    return SemanticModel.load()


def _bell(freq_hz: float, gain_db: float, width_oct: float) -> EQParams:
    return Bump("peak", freq_hz, gain_db, width_oct, 0.0, "").params()


def _cut(params: EQParams) -> tuple[float, float]:
    """(centre Hz, gain dB) of the deepest cut."""
    band = min(params.bands(), key=lambda b: b.gain_db)
    return band.freq_hz, band.gain_db


def test_a_cut_moves_to_a_bump_within_the_region_and_matches_its_size():
    """An RBJ bell of +5 dB at 350 Hz on a tilted deviation: the muddy cut (word at 260 Hz, region
    180-500 Hz) is re-centred on it and about as deep; a boost, and a cut outside the region, stay."""
    sr = 48000.0
    centres = third_octave_centres_hz()
    tilt = -2.0 * np.log2(centres / 1000.0)
    deviation = tilt + band_response_db(_bell(350.0, 5.0, 0.7), sr, centres)
    weights = load_reference().weights()
    word = _bell(260.0, -6.5, 1.3)
    placed, notes = place_cuts(word, [(180.0, 500.0)], deviation, centres, weights, sr)
    freq_hz, gain_db = _cut(placed)
    assert abs(np.log2(freq_hz / 350.0)) <= 1 / 6, freq_hz
    assert -6.5 <= gain_db <= -3.5, gain_db  # the bump is 5 dB high
    assert len(notes) == 1 and f"at {hz_text(freq_hz)}" in notes[0] and "260 Hz" in notes[0]
    assert place_cuts(word.scaled(-1.0), [(180.0, 500.0)], deviation, centres, weights, sr) == (word.scaled(-1.0), [])
    assert place_cuts(word, [(2000.0, 5000.0)], deviation, centres, weights, sr) == (word, [])
    # the tilt alone is no excess anywhere in particular: the word's own place stays
    assert place_cuts(word, [(180.0, 500.0)], tilt, centres, weights, sr) == (word, [])


@pytest.mark.parametrize("text, freq_hz", [("less muddy", 190.0), ("less muddy", 400.0), ("less nasal", 1600.0),
                                           ("less harsh", 2200.0), ("less sibilant", 9000.0)])
def test_less_of_a_problem_cuts_where_this_track_has_it(real_music_excerpt, model, text, freq_hz):
    """Known damage (a +6 dB bell, 0.6 octave) on real music: the cut lands within a quarter octave of
    it, says so, and the rendered track ends nearer the undamaged one than the damaged was."""
    x, sr = real_music_excerpt
    x = x[: 10 * sr]
    damage = _bell(freq_hz, 6.0, 0.6)
    y = apply_eq(x, sr, damage)
    d = adapt_words(analyze(y, sr), text, model)
    centre, gain = _cut(d.params)
    assert abs(np.log2(centre / freq_hz)) <= 0.25 and gain < -2.0, (centre, gain, d.explanation)
    assert "Placed the cut" in d.explanation
    bands = (third_octave_centres_hz() >= freq_hz / 2) & (third_octave_centres_hz() <= freq_hz * 2)
    level = lambda a: a.deviation_db[bands] - np.mean(a.deviation_db[bands])  # noqa: E731
    original, damaged, after = analyze(x, sr), analyze(y, sr), analyze(apply_eq(y, sr, d.params), sr)
    assert np.sqrt(np.mean((level(after) - level(original)) ** 2)) < np.sqrt(np.mean((level(damaged) - level(original)) ** 2))


def test_a_deep_cut_stays_within_the_gain_range():
    """A -10 dB word cut facing a 24 dB bump off its centre: placed up to 1.5 times deeper, but never
    past the EQ's -12 dB."""
    sr = 48000.0
    centres = third_octave_centres_hz()
    deviation = 2.0 * band_response_db(_bell(9000.0, 12.0, 0.6), sr, centres)
    placed, notes = place_cuts(_bell(6500.0, -10.0, 0.9), [(4000.0, 10000.0)], deviation, centres,
                               load_reference().weights(), sr)
    assert notes and "12.0 dB deep" in notes[0]
    assert _cut(placed)[1] == -12.0 and abs(np.log2(_cut(placed)[0] / 9000.0)) <= 1 / 6


def test_each_problem_of_a_blend_is_cut_where_this_track_has_it(real_music_excerpt, model):
    """"less boomy and less harsh" on real music with +6 dB bells at 75 Hz and 2.2 kHz (both off the
    words' own centres, 122 Hz and 3.1 kHz): each cut moves to within half an octave of its bell,
    nearer than the word's own centre."""
    x, sr = real_music_excerpt
    y = apply_eq(apply_eq(x[: 10 * sr], sr, _bell(75.0, 6.0, 0.6)), sr, _bell(2200.0, 6.0, 0.6))
    d = adapt_words(analyze(y, sr), "less boomy and less harsh", model)
    cuts = sorted(b.freq_hz for b in d.params.bands() if b.gain_db < -1.0)
    assert len(cuts) == 2 and d.explanation.count("Placed the cut") == 2, d.explanation
    for cut_hz, bell_hz, word_hz in zip(cuts, (75.0, 2200.0), (122.0, 3148.0)):
        assert abs(np.log2(cut_hz / bell_hz)) <= min(0.5, abs(np.log2(word_hz / bell_hz))), cuts
