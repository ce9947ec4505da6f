"""Named frequency regions by composition (:mod:`daw_bridge.semantic.regions`) and the region route of
unknown words: phrases read into the bands published charts give them, answered by the entry closest
in EQ shape, and non-region words left to the other routes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from daw_bridge.eq import EQParams, log_freq_grid, response_db
from daw_bridge.layout import BANDS, q_from_octaves
from daw_bridge.semantic import SemanticModel, UnknownTermError
from daw_bridge.semantic.regions import GRID_HZ, nearest_entry, parse_region
from daw_bridge.semantic.unknown import resolve_unknown

# Bands as the charts print them (typed from the pages, not from the module):
# speakerdecision.com/blog/Seven-Frequency-Bands-of-Audio-Spectrum and whippedcreamsounds.com/audio-spectrum
# (SD), sandiegotroubadour.com/whats-the-frequency-kenneth (SDT), blog.fixyourmix.com/tag/treble (FYM),
# Stereophile's glossary in github.com/jarrettdowling/jarrettdowling.github.io headphoneglossary.md (SP).
PUBLISHED = [
    ("upper-mid", [(2000, 4000), (1200, 2400)]),       # SD higher midrange; SDT, FYM high mid
    ("high mids", [(2000, 4000), (1200, 2400)]),
    ("low-mids region", [(250, 500), (300, 600)]),     # SD lower midrange; SDT, FYM low mid
    ("low treble", [(2400, 4800)]),                    # SDT
    ("mid-treble", [(4800, 9600)]),                    # SDT
    ("lower highs", [(1300, 2600)]),                   # SP
    ("upper middles", [(650, 1300)]),                  # SP
    ("sub-bass", [(20, 60)]),                          # SD
    ("sub", [(20, 60)]),
    ("midbass", [(40, 80), (100, 300)]),               # SP midbass; SDT mid bass
    ("top octave", [(10000, 20000)]),                  # SP upper highs / extreme highs: 10-20 kHz
]


@pytest.mark.parametrize("phrase, bands", PUBLISHED)
def test_region_phrases_are_read_into_the_published_bands(phrase, bands):
    region = parse_region(phrase)
    assert region is not None, phrase
    # the union of the charts' bands: every chart's band inside, nothing beyond them
    assert region.low_hz == pytest.approx(min(b[0] for b in bands), rel=0.03)
    assert region.high_hz == pytest.approx(max(b[1] for b in bands), rel=0.03)
    assert region.charts


def test_a_combination_no_chart_names_is_the_matching_third_of_the_range():
    # Stereophile's middles are 160-1300 Hz and name only the lower and upper parts
    middle = parse_region("middle middles")
    third = math.log2(1300 / 160) / 3
    assert math.log2(middle.low_hz / 160) == pytest.approx(third, abs=0.01)
    assert math.log2(middle.high_hz / middle.low_hz) == pytest.approx(third, abs=0.01)
    # the same words in other shapes read the same
    same = [parse_region(w) for w in ("Upper_Midrange", "upper-mid", "uppermids", "higher mid range")]
    assert len({(r.low_hz, r.high_hz) for r in same}) == 1


@pytest.mark.parametrize("word", ["the", "taco", "asdf", "power range", "high", "low", "octave", "mid century",
                                  "high school", "upper class", "sub mids", "top gun", "lowly", ""])
def test_words_that_name_no_region_are_not_read_as_one(word):
    assert parse_region(word) is None


def _bell(centre_hz: float, gain_db: float, width_oct: float = 1.0) -> np.ndarray:
    v = EQParams.flat().raw_vector()
    band = next(b for b in BANDS if b.kind == "peak")
    v[band.gain_index], v[band.freq_index], v[band.q_index] = gain_db, centre_hz, q_from_octaves(width_oct)
    return response_db(EQParams.from_vector(v), GRID_HZ)


CURVES = {"presence": _bell(3000, 4.0), "boom": _bell(100, 5.0), "scoop": _bell(1000, -5.0, 3.0)}


def test_a_region_is_answered_by_the_entry_closest_in_shape_or_by_an_opposite():
    assert nearest_entry(parse_region("upper-mid"), CURVES)[0] == "presence"
    term, cosine = nearest_entry(parse_region("mids"), CURVES)
    assert term == "scoop" and cosine < 0  # more mids = the opposite of a mid scoop
    # nothing close in shape: no answer
    assert nearest_entry(parse_region("top octave"), CURVES) is None


def test_the_region_route_answers_only_from_the_entries_of_the_current_lexicon():
    names = {"presence": "presence", "boom": "boom", "scoop": "scoop"}
    found, _, _ = resolve_unknown("upper-mid", names, None, None, curves=CURVES)
    assert (found.term, found.route, found.opposite) == ("presence", "region", False)
    assert "kHz" in found.describe() and "cosine" in found.describe()
    mids, _, _ = resolve_unknown("mids", names, None, None, curves=CURVES)
    assert (mids.term, mids.opposite) == ("scoop", True)
    # without the presence entry, "upper-mid" has no entry of that shape and is refused
    found, _, _ = resolve_unknown("upper-mid", {"boom": "boom"}, None, None, curves=CURVES)
    assert found is None
    assert resolve_unknown("taco", names, None, None, curves=CURVES)[0] is None


def test_the_shipped_model_answers_a_region_phrase_its_lexicon_does_not_list():
    """Held out like the leave-words-out evaluation: every name of the entries whose region overlaps
    2-4 kHz and whose name speaks of mids is removed; "upper-mid" must still move energy at 2-4 kHz."""
    model = SemanticModel.load()
    held = {t for t in model.terms if "mid" in t}
    assert "high mids" in held
    model._alias = {a: t for a, t in model._alias.items() if t not in held}
    model._known = frozenset(model._alias)
    use, = model.interpret("upper-mid").terms
    assert use.route == "region" and use.term not in held
    grid = log_freq_grid(200)
    db = response_db(model.interpret("upper-mid").params, grid)
    inside = (grid >= 2000) & (grid <= 4000)
    assert db[inside].mean() >= 1.0 and db[inside].mean() > db[~inside].mean() + 0.5
    with pytest.raises(UnknownTermError):
        model.interpret("upper school")


# Instruments asked louder or quieter, by the ranges the drum and vocal charts give (typed from the pages):
# audiorecording.me drum-frequencies page (kick strongest 30-70 Hz, snare near 200 Hz, hi-hat near 10 kHz),
# entertainmentguide.local.com frequency-spectrums-drums (kick low end 80-100 Hz, snare body near 150 Hz),
# at8studios.com closed hi-hat lesson (sizzle 6-12 kHz), amusicproducer.com (voice clarity 3.15 kHz,
# vocal presence 5 kHz).
@pytest.fixture(scope="module")
def model() -> SemanticModel:
    return SemanticModel.load()


INSTRUMENT_REQUESTS = [
    ("the kick is too loud", (45, 90), -1),
    ("more kick", (45, 90), +1),
    ("the snare is too quiet", (150, 250), +1),
    ("less hi-hat", (7000, 11000), -1),
    ("the cymbals are too loud", (7000, 11000), -1),
    ("bring up the vocals", (2500, 5000), +1),
    ("louder vocals", (2500, 5000), +1),
    ("vocals up", (2500, 5000), +1),  # a part followed by up or down (refused as having no word before)
    ("kick down", (45, 90), -1),
]


@pytest.mark.parametrize("text, band, direction", INSTRUMENT_REQUESTS)
def test_an_instrument_asked_louder_or_quieter_moves_its_range(model, text, band, direction):
    # before: "the kick is too loud" read the crowd word "loud" (-6.7 dB at 490 Hz, +7.4 dB at 9.6 kHz);
    # "less hi-hat", "more kick", "bring up the vocals" were refused as having no word
    answer = model.interpret(text)
    (use,) = answer.terms
    assert use.route == "region" and "a boost of the " in use.via and "the the" not in use.via, use.via
    db = response_db(answer.params, GRID_HZ)
    inside = (GRID_HZ >= band[0]) & (GRID_HZ <= band[1])
    assert direction * db[inside].mean() >= 1.5, (text, use.term)
    assert direction * db[inside].mean() > direction * db[~inside].mean() + 1.0, (text, use.term)


def test_a_part_with_no_range_of_its_own_is_a_faders_job(model):
    for text in ("the guitar is too loud", "less piano", "the mix is too loud"):
        with pytest.raises(UnknownTermError, match="fader"):
            model.interpret(text)
    # beside a word that says how it should sound, the instrument is only where: unchanged
    assert model.interpret("brighten the cymbals").params == model.interpret("brighten it").params
    assert model.interpret("harsh cymbals").params == model.interpret("it's harsh").params
    assert model.interpret("warmer, the guitar is too loud").warnings
