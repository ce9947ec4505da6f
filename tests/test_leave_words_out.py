"""The leave-words-out evaluation (:mod:`benchmarks.leave_words_out`): what "lands" means, and the
crowd route a held-out headword takes when a crowd source knows it (small generated crowd data,
nothing read from ``../shared``)."""

from __future__ import annotations

from benchmarks.leave_words_out import crowd_eqs, lands
from daw_bridge.eq import EQParams
from tests.crowd_data import write_crowd_data


def _peak(gain_db: float, freq_hz: float, q: float = 1.0) -> EQParams:
    return EQParams(0.0, 100.0, gain_db, freq_hz, q, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 0.0, 8000.0)


def test_a_bell_lands_in_its_region_and_direction_only():
    bell = _peak(6.0, 1000.0)
    assert lands(bell, (700.0, 1400.0), +1)
    assert not lands(bell, (700.0, 1400.0), -1)
    assert not lands(bell, (5000.0, 10000.0), +1)
    assert lands(_peak(-6.0, 300.0), (200.0, 450.0), -1)


def test_a_level_change_does_not_land():
    shelf_up = EQParams(6.0, 1000.0, 0.0, 250.0, 0.71, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 6.0, 1000.0)
    assert not lands(shelf_up, (700.0, 1400.0), +1)  # +6 dB everywhere: louder, not more 1 kHz


def test_held_out_headwords_a_crowd_source_knows_become_crowd_words(tmp_path):
    data = write_crowd_data(tmp_path / "data")
    held = {"muddy", "harsh", "sibilant"}  # the generated crowd has muddy (both sources) and harsh (Audealize)
    found = crowd_eqs(data, held, tmp_path / "cache")
    assert set(found) == {"muddy", "harsh"}
    muddy, how = found["muddy"]
    assert "audealize+safe" in how
    # the generated crowd lifts 300 Hz for muddy and 3.2 kHz for harsh: their crowd EQs do too
    assert lands(muddy, (180.0, 500.0), +1) and not lands(muddy, (2000.0, 5000.0), +1)
    assert lands(found["harsh"][0], (2000.0, 5000.0), +1)
    # kept entries are lexicon words, not crowd words
    assert crowd_eqs(data, set(), tmp_path / "cache") == {}


def test_the_crowd_curve_chooses_the_candidate_it_correlates_with():
    from benchmarks.eval_unknown_alternatives import crowd_choice

    low_bump, high_bump = _peak(6.0, 200.0), _peak(6.0, 5000.0)
    item = {"crowd": _peak(4.0, 5000.0, 0.8), "crowd_lands": False,
            "rows": [("boomy", False, {}, False, low_bump, (100.0, 300.0)),
                     ("bright", False, {}, True, high_bump, (3000.0, 8000.0))]}
    assert crowd_choice(item, threshold=0.5)  # the high candidate matches the crowd's high bump and lands
    assert not crowd_choice(item, threshold=1.1)  # no candidate reaches the threshold: the crowd EQ answers


def test_candidate_evidence_as_numbers():
    from benchmarks.eval_unknown_alternatives import ROUTES, features

    synonym = features({"rel": 1.0, "route": "synonym", "emb": 0.5}, best_emb=0.6, best_gloss=-1.0)
    assert len(synonym) == 2 + len(ROUTES) + 2 + 3 + 3
    assert synonym[:3] == [1.0, 1.0, 1.0] and abs(synonym[-4] - (0.5 - 0.6)) < 1e-12
    nothing = features({}, best_emb=0.6, best_gloss=0.6)
    assert nothing[0] == 0.0 and nothing[-1] == -0.3 and nothing[-4] == -0.3
