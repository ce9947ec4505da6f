"""Places and amounts in a request ("cut 300 Hz", "boost 2-5 kHz by 4 dB", "less mud around 250 Hz",
"3 dB less boxy"): read as an engineer means them and applied as asked.

Anchors outside the code: the RBJ cookbook's definitions (a peaking EQ's bandwidth is measured
between its half-gain (dB) points; a shelf's corner is where it reaches half its gain), and the
published bandwidth-to-Q table (1 octave = Q 1.414, 1/3 octave = Q 4.318, 1/6 octave = Q 8.651,
2 octaves = Q 0.667; e.g. Rane's note "Bandwidth in Octaves Versus Q in Bandpass Filters").
"""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge.eq import log_freq_grid, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.semantic.frequencies import find_spot, join_ranges
from daw_bridge.semantic.parse import parse

GRID_HZ = log_freq_grid(2000)


@pytest.fixture(scope="module")
def model():
    from daw_bridge.semantic import SemanticModel

    return SemanticModel.load()


def curve(model, text: str, intensity: float = 1.0) -> np.ndarray:
    return response_db(model.interpret(text, intensity).params, GRID_HZ)


def at(freq_hz: float, db: np.ndarray) -> float:
    return float(np.interp(np.log(freq_hz), np.log(GRID_HZ), db))


@pytest.mark.parametrize("text, shape, freq_hz, gain_db, sign", [
    ("cut 300 hz", "peak", 300.0, None, 0),
    ("less 3k", "peak", 3000.0, None, 0),
    ("boost 2.5 khz by 3 db", "peak", 2500.0, 3.0, 0),
    ("+4db at 10 kilohertz", "peak", 10000.0, 4.0, 1),
    ("-2.5 db around 120", "peak", 120.0, 2.5, -1),
    ("more above 10k", "high_shelf", 10000.0, None, 0),
    ("less below 80 hz", "low_shelf", 80.0, None, 0),
    ("12k and up", "high_shelf", 12000.0, None, 0),
    ("3 db less boxy", "", 0.0, 3.0, 0),
    ("less 60 cycle hum", "peak", 60.0, None, 0),
    ("+2 db 8k shelf", "high_shelf", 8000.0, 2.0, 1),
    ("boost 200 hz shelf", "low_shelf", 200.0, None, 0),
    ("high shelf at 300", "high_shelf", 300.0, None, 0),
    ("a bell at 50 hz", "peak", 50.0, None, 0),
    ("cut 250 by 2", "peak", 250.0, 2.0, 0),  # a bare number after "by" is dB
    ("boost by 300", "peak", 300.0, None, 0),  # ... unless it is no believable amount
    ("cut 1,5k", "peak", 1500.0, None, 0),  # a decimal comma
    ("cut 1,5 khz by 2,5 db", "peak", 1500.0, 2.5, 0),
    ("boost 1,500 hz", "peak", 1500.0, None, 0),  # a thousands separator
])
def test_places_and_amounts_are_read_with_their_units(text, shape, freq_hz, gain_db, sign):
    spot, rest = find_spot(join_ranges(text))
    assert (spot.shape, spot.freq_hz, spot.gain_db, spot.sign) == (shape, pytest.approx(freq_hz), gain_db, sign)
    assert not any(ch.isdigit() for ch in rest)


@pytest.mark.parametrize("text, octaves", [
    ("cut 1k with a q of 1.414", 1.0), ("cut 1k q 4.318", 1 / 3), ("cut 1k q=8.651", 1 / 6), ("cut 1k q 0.667", 2.0),
    ("narrow cut at 1k", 1 / 3), ("wide boost at 1k", 2.0), ("notch 1k", 1 / 6), ("1/2 octave cut at 1k", 0.5),
    ("cut 1k half an octave wide", 0.5), ("cut 200-800 hz", 2.0), ("cut 2.9-3.1k", 1 / 3),
])
def test_widths_follow_the_published_bandwidth_to_q_table(text, octaves):
    spot, _ = find_spot(text)
    assert spot.width_oct == pytest.approx(octaves, rel=2e-3)


def test_decimals_ranges_and_signs_survive_the_clause_split():
    known = {"warm"}
    [m] = parse("boost 2.5k by +3 dB", known)
    assert (m.spot.freq_hz, m.spot.gain_db, m.weight) == (2500.0, 3.0, 1.0)
    [m] = parse("cut between 2 and 5 kHz", known)
    assert m.spot.freq_hz == pytest.approx(np.sqrt(2000.0 * 5000.0)) and m.weight == -1.0
    a, b = parse("cut 300 and 500 Hz", known)  # the second place takes the first one's direction
    assert (a.spot.freq_hz, a.weight, b.spot.freq_hz, b.weight) == (300.0, -1.0, 500.0, -1.0)
    [m] = parse("cut 1k with a Q of 4", known)
    assert m.spot.width_oct == pytest.approx(0.36, abs=0.01)


def test_a_place_alone_is_a_bell_of_the_asked_size_at_the_asked_place(model):
    db = curve(model, "cut 300 Hz")
    assert GRID_HZ[np.argmin(db)] == pytest.approx(300.0, rel=0.01)
    assert db.min() == pytest.approx(-3.0, abs=0.01)
    assert np.all(np.abs(db[(GRID_HZ < 300 / 4) | (GRID_HZ > 300 * 4)]) < 0.5)
    # A range: the bell is centred on it and its half-gain points are the range's ends (RBJ's bandwidth).
    db = curve(model, "boost 2-5 kHz by 4 dB")
    assert GRID_HZ[np.argmax(db)] == pytest.approx(np.sqrt(1e7), rel=0.01)
    assert db.max() == pytest.approx(4.0, abs=0.01)
    assert at(2000.0, db) == pytest.approx(2.0, abs=0.15) and at(5000.0, db) == pytest.approx(2.0, abs=0.15)
    assert curve(model, "bump 100 Hz").max() == pytest.approx(3.0, abs=0.01)  # a verb that says which way
    # Degrees size a place named without an amount.
    assert curve(model, "cut 300 Hz a bit").min() == pytest.approx(-1.5, abs=0.01)


def test_a_shelf_place_reaches_half_its_gain_at_the_corner(model):
    db = curve(model, "more above 10k")
    assert at(10000.0, db) == pytest.approx(1.5, abs=0.1)
    assert at(19000.0, db) > 2.5 and abs(at(1000.0, db)) < 0.1
    db = curve(model, "less below 80 Hz")
    assert at(80.0, db) == pytest.approx(-1.5, abs=0.1) and at(20.0, db) < -2.5 and abs(at(2000.0, db)) < 0.1


def test_a_studio_word_with_a_place_moves_there_and_with_an_amount_takes_that_size(model):
    db = curve(model, "less mud around 250 Hz")
    assert GRID_HZ[np.argmin(db)] == pytest.approx(250.0, rel=0.05) and db.min() < -2.0
    plain = curve(model, "less boxy")
    db = curve(model, "3 dB less boxy")
    assert db.min() == pytest.approx(-3.0, abs=0.01)
    assert GRID_HZ[np.argmin(db)] == pytest.approx(GRID_HZ[np.argmin(plain)], rel=0.01)
    db = curve(model, "brighter above 8k")
    assert at(8000.0, db) > 1.0 and abs(at(2000.0, db)) < 0.5


def test_words_and_places_combine_and_too_many_moves_are_fitted(model):
    warm = curve(model, "warmer")
    both = model.interpret("warmer and cut 3k")
    assert [t.kind for t in both.terms] == ["quality", "place"]
    assert np.max(np.abs(response_db(both.params, GRID_HZ) - warm - curve(model, "cut 3k"))) < 0.01  # exact
    many = model.interpret("cut 300, boost 1k, cut 3k, boost 8k, cut 12k, more below 60")
    assert any("5-band fit" in n for n in many.notes)
    target = sum(curve(model, t) for t in ("cut 300", "boost 1k", "cut 3k", "boost 8k", "cut 12k", "more below 60"))
    assert np.sqrt(np.mean((response_db(many.params, GRID_HZ) - target) ** 2)) < 1.0


def test_places_keep_the_intensity_and_clip_rules(model):
    assert model.interpret("cut 300 Hz", 0.0).params.is_flat
    assert np.allclose(curve(model, "cut 300 Hz", -1.0), -curve(model, "cut 300 Hz"), atol=1e-9)
    loud = model.interpret("boost 300 Hz by 15 dB")
    assert curve(model, "boost 300 Hz by 15 dB").max() == pytest.approx(12.0, abs=0.01)
    assert any("clipped" in w for w in loud.warnings)


@pytest.mark.parametrize("text, says", [
    ("high pass at 80 Hz", "is a filter"), ("low cut 100", "is a filter"), ("hpf", "is a filter"),
    ("300 Hz", "which way"), ("boost 3 dB", "of what"), ("cut 30 kHz", "outside"), ("cut 5 Hz", "outside"),
    ("boost 300 Hz by 0 dB", "changes nothing"), ("cut 2-5", "not a frequency"),
])
def test_unusable_places_are_clear_errors(model, text, says):
    with pytest.raises(SemeqError, match=says):
        model.interpret(text)


def test_the_service_answers_a_place_and_says_what_it_did(tmp_path):
    from daw_bridge.paths import ensure_home
    from daw_bridge.service import Service

    service = Service(ensure_home(tmp_path / "home"))
    answer = service.handle({"op": "eq", "text": "cut 300 Hz a bit", "id": "f1"})
    assert answer["ok"] and answer["params"]["peak1_freq_hz"] == 300.0
    assert answer["params"]["peak1_gain_db"] == pytest.approx(-1.5)
    assert answer["terms"][0]["kind"] == "place" and "-1.5 dB bell at 300 Hz" in answer["terms"][0]["definition"]
    assert "300 Hz" in answer["explanation"]


def test_with_audio_a_place_is_applied_as_asked_not_sized(model):
    from daw_bridge.adapt import adapt_words
    from daw_bridge.analysis import analyze

    sr = 48000
    x = np.random.default_rng(0).standard_normal((sr * 4, 2)) * 0.1
    decision = adapt_words(analyze(x, sr), "cut 300 Hz", model)
    assert decision.params == model.interpret("cut 300 Hz").params
    assert "as asked" in decision.explanation


@pytest.mark.parametrize("text, sign, octaves", [
    ("reduce the 200 Hz buildup", -1, 1.0),  # an excess, cut, an octave wide
    ("there's a resonance at 3k", -1, 1 / 3),  # a resonance: cut, a third of an octave (Q 4.32)
    ("tame the ringing at 900 hz", -1, 1 / 3),
    ("the snare rings at 200 Hz", -1, 1 / 3),  # every resonance word (words.RESONANCE_WORDS)
    ("too resonant around 3k", -1, 1 / 3),
    ("boost the 3k resonance", 1, 1 / 3),  # the words say which way
    ("add a bump at 100", 1, 1.0),  # "bump" is no excess: "add a bump" is a boost
])
def test_an_excess_at_a_place_is_a_cut_unless_the_words_say_otherwise(model, text, sign, octaves):
    spot = next(m.spot for m in parse(text, model._known))
    assert (spot.width_oct or 1.0) == pytest.approx(octaves)
    db = curve(model, text)
    assert sign * at(spot.freq_hz, db) == pytest.approx(3.0, abs=0.05)
    half = spot.freq_hz * 2 ** (octaves / 2)  # RBJ: the half-gain (dB) point is half the bandwidth away
    assert sign * at(half, db) == pytest.approx(1.5, abs=0.1)
