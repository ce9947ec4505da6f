"""Several words, one EQ (:mod:`daw_bridge.semantic.blend`): what a request keeps stays as it is.

The responses are the engine's own RBJ biquads (:func:`daw_bridge.eq.response_db`); a kept region is
judged by how far the answer moves it, against how far the words alone would have."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge.eq import EQParams, log_freq_grid, response_db
from daw_bridge.semantic import SemanticModel
from daw_bridge.semantic.blend import blend, keep_out, only_in

GRID = log_freq_grid(400)
SR = 48000.0


def _eq(low_shelf=(0.0, 100.0), peaks=(), high_shelf=(0.0, 8000.0)) -> EQParams:
    v = [low_shelf[0], low_shelf[1]]
    slots = list(peaks) + [(0.0, 1000.0, 0.71)] * (3 - len(peaks))
    for gain, freq, q in slots:
        v += [gain, freq, q]
    return EQParams.from_vector(v + [high_shelf[0], high_shelf[1]])


def _region_db(params: EQParams, low_hz: float, high_hz: float) -> np.ndarray:
    inside = (GRID >= low_hz) & (GRID <= high_hz)
    return response_db(params, GRID, SR)[inside]


def test_a_bell_in_the_kept_region_is_left_out_and_one_outside_stays():
    params = _eq(peaks=[(4.0, 180.0, 0.7), (-5.0, 6500.0, 1.2)])
    kept, said = keep_out(params, 5000.0, 20000.0)
    assert [b.gain_db for b in kept.bands() if b.kind == "peak" and b.gain_db] == [4.0]
    assert said == ["the -5.0 dB bell at 6500 Hz left out"]
    assert keep_out(params, 30.0, 60.0) == (params, [])  # nothing acts there: unchanged


def test_a_high_shelf_below_a_kept_top_becomes_a_bell_up_to_it():
    dark = _eq(high_shelf=(-7.0, 2400.0))
    kept, said = keep_out(dark, 7000.0, 20000.0)
    (bell,) = [b for b in kept.bands() if b.gain_db]
    assert bell.kind == "peak" and bell.gain_db == -7.0
    assert bell.freq_hz == pytest.approx(np.sqrt(2400.0 * 7000.0 / np.sqrt(2.0)))  # half an octave clear of it
    assert "made a bell" in said[0]
    # the kept region moves far less than under the shelf; the cut below it is still there
    assert np.abs(_region_db(kept, 9000.0, 20000.0)).max() < 1.5
    assert np.abs(_region_db(dark, 9000.0, 20000.0)).min() > 6.0
    assert _region_db(kept, 3500.0, 5000.0).mean() < -5.0


def test_a_shelf_whose_corner_lies_in_the_region_moves_past_it_or_goes():
    bright = _eq(high_shelf=(5.0, 4000.0))
    moved, _ = keep_out(bright, 3500.0, 7000.0)
    assert moved.high_shelf_freq_hz == pytest.approx(7000.0 * np.sqrt(2.0)) and moved.high_shelf_gain_db == 5.0
    assert np.abs(_region_db(moved, 3500.0, 7000.0)).max() < 1.5
    assert _region_db(bright, 5000.0, 7000.0).min() > 3.0
    gone, said = keep_out(bright, 3000.0, 20000.0)
    assert gone.is_flat and said == ["the +5.0 dB high shelf at 4000 Hz left out"]
    bass = _eq(low_shelf=(4.0, 200.0))
    bell, _ = keep_out(bass, 40.0, 60.0)  # a kept region far below the corner: a bell above it
    assert bell.low_shelf_gain_db == 0.0 and [b.freq_hz for b in bell.bands() if b.kind == "peak" and b.gain_db] == [
        pytest.approx(np.sqrt(200.0 * 60.0 * np.sqrt(2.0)))]
    low, _ = keep_out(bass, 110.0, 450.0)
    assert low.low_shelf_freq_hz == pytest.approx(110.0 / np.sqrt(2.0))
    assert keep_out(bass, 50.0, 450.0)[0].is_flat  # a corner under 40 Hz would act on almost nothing


def test_a_bell_needs_a_free_peak_slot():
    full = _eq(peaks=[(2.0, 300.0, 1.0), (2.0, 1000.0, 1.0), (2.0, 3000.0, 1.0)], high_shelf=(-6.0, 2000.0))
    kept, said = keep_out(full, 8000.0, 20000.0)
    assert kept.high_shelf_gain_db == 0.0 and "high shelf at 2000 Hz left out" in said[0]


def test_blend_without_kept_words_is_the_exact_cascade():
    a, b = _eq(peaks=[(4.0, 180.0, 0.7)]), _eq(high_shelf=(3.0, 10000.0))
    params, notes = blend([("warm", a, None), ("air", b, None)], [], SR, GRID)
    np.testing.assert_allclose(response_db(params, GRID, SR), response_db(a, GRID, SR) + response_db(b, GRID, SR),
                               atol=1e-9)
    assert notes == []


@pytest.fixture(scope="module")
def model() -> SemanticModel:
    return SemanticModel.load()


@pytest.mark.parametrize("text, word, low_hz, high_hz", [
    ("warmer but keep the highs", "warm", 5000.0, 20000.0),
    ("darker but keep the air", "dark", 9000.0, 20000.0),
    ("brighter but keep the presence", "bright", 3500.0, 6000.0),
])
def test_a_kept_region_stays_while_the_word_acts_elsewhere(model, text, word, low_hz, high_hz):
    # before, "warmer but keep the highs" still cut the highs by 1.7 dB (warm's high-shelf dip)
    answer = model.interpret(text)
    alone = model.interpret(text.split(" but ")[0])
    assert np.abs(_region_db(answer.params, low_hz, high_hz)).mean() < 0.5 * np.abs(
        _region_db(alone.params, low_hz, high_hz)).mean()
    assert np.abs(_region_db(answer.params, low_hz, high_hz)).max() < 1.5
    moved = response_db(answer.params, GRID, SR)
    assert np.abs(moved).max() > 3.0  # the word still acts, elsewhere
    assert any(note.startswith("Kept '") for note in answer.notes), answer.notes
    assert answer.terms[0].term == word


def test_only_in_keeps_the_bands_that_act_in_the_region():
    clear = _eq(peaks=[(-2.8, 252.0, 1.2), (4.1, 2519.0, 1.0)])
    low, said = only_in(clear, 20.0, 250.0)
    assert [(b.freq_hz, b.gain_db) for b in low.bands() if b.gain_db] == [(252.0, -2.8)]
    assert said == ["the +4.1 dB bell at 2519 Hz left out"]
    dark = _eq(low_shelf=(1.7, 186.0), high_shelf=(-5.6, 2417.0))
    assert only_in(dark, 4000.0, 20000.0)[0].low_shelf_gain_db == 0.0  # a low shelf does not reach the highs
    assert only_in(dark, 20.0, 250.0)[0].high_shelf_gain_db == 0.0  # nor a high shelf the lows
    whole, said = only_in(_eq(peaks=[(-4.0, 3000.0, 1.5)]), 9000.0, 20000.0)  # nothing acts there
    assert [b.gain_db for b in whole.bands() if b.gain_db] == [-4.0] and "applied whole" in said[0]


@pytest.mark.parametrize("text, word, quiet_hz, acting_hz, sign", [
    ("clean up the low end", "clear", (1000.0, 20000.0), (150.0, 350.0), -1),
    ("more definition in the low end", "clear", (1000.0, 20000.0), (150.0, 350.0), -1),
    ("open up the top end", "open", (20.0, 1000.0), (10000.0, 20000.0), +1),
    ("warmer low end", "warm", (2000.0, 20000.0), (100.0, 300.0), +1),
])
def test_a_word_asked_in_a_region_acts_only_there(model, text, word, quiet_hz, acting_hz, sign):
    # before, "clean up the low end" answered clear's whole move: +4.1 dB at 2.5 kHz, far from the low end
    answer = model.interpret(text)
    assert answer.terms[0].term == word
    assert np.abs(_region_db(answer.params, *quiet_hz)).max() < 0.5
    assert sign * _region_db(answer.params, *acting_hz).mean() > 1.0
    assert any("only where asked" in note for note in answer.notes), answer.notes


def test_what_must_not_be_lost_is_kept(model):
    # "warmer without losing clarity" was refused ('losing' unknown); now clarity is kept
    answer = model.interpret("warmer without losing clarity")
    assert [(t.term, t.weight) for t in answer.terms] == [("warm", 1.25), ("clear", 0.0)]
    assert np.abs(_region_db(answer.params, 2000.0, 5000.0)).max() < 1.0
    assert model.interpret("brighter but don't lose the warmth").terms[1].weight == 0.0
    assert model.interpret("kill the mud").terms[0].weight < 0  # 'kill' alone still asks for less


def test_a_move_that_acts_only_inside_a_kept_region_is_made_gentler_not_dropped(model):
    # before, "cut the mud without killing the body" answered a flat EQ: the mud cut lies inside 'body'
    answer = model.interpret("cut the mud without killing the body")
    alone = model.interpret("cut the mud")
    (bell,) = [b for b in answer.params.bands() if b.gain_db]
    (cut,) = [b for b in alone.params.bands() if b.gain_db]
    assert bell.freq_hz == cut.freq_hz and bell.gain_db == pytest.approx(cut.gain_db / 2)
    assert bell.q == pytest.approx(2 * cut.q)
    assert any("half as deep" in n for n in answer.notes)
