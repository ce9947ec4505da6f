"""Request wording found wrong by the fourth demanding-user probe (``/work/scratch/probe4.md``): how
musicians, engineers and forum posts phrase requests (contractions, degree words, "X without Y",
"more X less Y", "bass up treble down", "too much", "the guitars sound boxy", "it sounds muffled",
"the esses are too loud", "leave it as is"), read by :func:`daw_bridge.semantic.parse.parse` and
answered by the committed model the way an engineer would."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge.eq import log_freq_grid, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.semantic import SemanticModel
from daw_bridge.semantic.parse import COMPARATIVE, parse

GRID = log_freq_grid(200)
C = COMPARATIVE
KNOWN = {"warm", "bright", "harsh", "muddy", "airy", "highs", "treble", "mids", "bassy", "clear", "present",
         "low end", "top end", "more air", "distant", "telephone", "loud", "unchanged", "chesty", "silky", "boomy", "sibilant"}


@pytest.fixture(scope="module")
def model() -> SemanticModel:
    return SemanticModel.load()


@pytest.mark.parametrize("text, expected", [
    # "n't" is "not"; "never" negates
    ("don't make it brighter and warmer", [("bright", -C), ("warm", C)]),
    ("it shouldn't be so muddy", [("muddy", -1.0)]),
    ("it isn't bright enough", [("bright", C)]),
    ("never harsh", [("harsh", -1.0)]),
    # said of the sound, "not" says the word is missing ("it doesn't sound bright" cut the treble)
    ("it doesn't sound bright", [("bright", 1.0)]),
    ("it's not warm", [("warm", 1.0)]),
    ("the vocals aren't present", [("present", 1.0)]),
    ("it's not so boomy", [("boomy", -1.0)]),
    # "too" after a negation does not turn it back ("not too bright" boosted the treble)
    ("not too bright", [("bright", -1.0)]),
    ("it shouldn't be too bright", [("bright", -1.0)]),
    # "too much X" is "too X", not "much" (x1.5) on top
    ("too much mud", [("muddy", -1.0)]),
    ("way too much mud", [("muddy", -1.5)]),
    # "X without Y": Y is its own clause ("more low end without mud" cut the low end)
    ("more low end without mud", [("low end", C), ("muddy", -1.0)]),
    ("warmer without the mud", [("warm", C), ("muddy", -1.0)]),
    ("brighter without being harsh", [("bright", C), ("harsh", -1.0)]),
    # a second direction word starts a new request ("more treble less bass" was less treble only)
    ("more treble less bass", [("treble", C), ("bassy", -C)]),
    ("less mud more clarity", [("muddy", -C), ("clear", C)]),
    ("more air less treble", [("more air", C), ("treble", -C)]),  # a listed phrase leading with "more"
    ("less treble more air", [("treble", -C), ("more air", C)]),
    ("no more mud", [("muddy", -C)]),
    # "has no X", "there's no X": X is missing ("the vocal has no air" took air away)
    ("the vocal has no air", [("more air", C)]),
    ("there's no warmth", [("warm", C)]),
    # a particle right after its word says which way ("bass up treble down" boosted both)
    ("bass up treble down", [("bassy", C), ("treble", -C)]),
    ("tone down the presence", [("present", -C)]),
    ("tone the highs down a bit", [("highs", -0.5 * C)]),
    ("fill out the mids", [("mids", C)]),
    ("calm down the highs", [("highs", -C)]),  # the crowd's "calm" answered +11 dB at 7 kHz
    ("calm the highs down a bit", [("highs", -0.5 * C)]),
    # degree words
    ("tons of air", [("airy", 1.5)]),
    ("a ton more bass", [("bassy", 1.5 * C)]),
    ("loads more bass", [("bassy", 1.5 * C)]),
    ("a hint of warmth", [("warm", 0.35)]),
    ("a smidge brighter", [("bright", 0.35 * C)]),
    ("marginally warmer", [("warm", 0.35 * C)]),
    ("considerably brighter", [("bright", 1.5 * C)]),
    ("super bright", [("bright", 1.5)]),
    # filler: instruments' kinds, politeness, "effect", "being"
    ("more warmth pls", [("warm", C)]),
    ("the acoustic guitar is boomy", [("boomy", 1.0)]),
    ("the hi hats are harsh", [("harsh", 1.0)]),
    ("they sound muddy", [("muddy", 1.0)]),
    ("telephone effect", [("telephone", 1.0)]),
    # loud / quiet beside another word say how much of it ("the esses are too loud" added the crowd's "loud")
    ("the mud is too loud", [("muddy", -1.0)]),
    ("the bass is too quiet", [("bassy", 1.0)]),
    ("the highs are a bit quiet", [("highs", 0.5)]),
    ("loud", [("loud", 1.0)]),
    # asking for no change
    ("leave it as is", [("unchanged", 1.0)]),
    ("leave it alone", [("unchanged", 1.0)]),
    ("don't change anything", [("unchanged", 1.0)]),
    ("no changes", [("unchanged", 1.0)]),
    ("it's perfect already", [("unchanged", 1.0)]),
    # a clause that forbids: alone, no change; beside other requests, less of what it forbids
    ("don't make it brighter", [("unchanged", 1.0)]),
    ("don't add bass", [("unchanged", 1.0)]),
    ("warmer but don't make it brighter", [("warm", C), ("bright", -C)]),
    ("a dB more air", [("more air", C)]),  # one dB (test_a_db_is_one_db)
    ("the vocal should sit further back", [("distant", 1.0)]),
    # a shelf named without a frequency is the end of the spectrum it sits at
    ("high shelf boost", [("top end", C)]),
    ("cut the low shelf", [("low end", -1.0)]),
    # nouns and typos
    ("more chest", [("chesty", C)]),
    ("more silk", [("silky", C)]),
    ("brigther", [("bright", C)]),
    ("less harsness", [("harsh", -C)]),
    ("more presense", [("present", C)]),
])
def test_wording(text, expected):
    assert [(m.base, pytest.approx(m.weight)) for m in parse(text, KNOWN)] == expected


def _mean(model, text: str, low_hz: float, high_hz: float) -> float:
    db = response_db(model.interpret(text).params, GRID)
    return float(db[(GRID >= low_hz) & (GRID <= high_hz)].mean())


@pytest.mark.parametrize("text, low_hz, high_hz", [
    ("the guitars sound boxy", 300, 800), ("vocals sound nasal", 800, 2000), ("the vocals sound thin", 60, 250),
])
def test_a_plural_subject_that_sounds_like_a_problem_is_a_complaint(model, text, low_hz, high_hz):
    """'sound' after a plural subject states what the sound is, like 'sounds' ('the guitars sound
    boxy' boosted the box); for thin, less thin is more bass."""
    sign = 1.0 if "thin" in text else -1.0
    assert sign * _mean(model, text, low_hz, high_hz) >= 1.0, text


@pytest.mark.parametrize("text, low_hz, high_hz, sign", [
    ("it sounds muffled", 3000, 16000, +1), ("the vocal is dull", 4000, 16000, +1),
    ("the vocal sounds distant", 3000, 7000, +1), ("the vocal is buried", 3000, 7000, +1),
    ("it sounds hollow", 300, 1000, +1), ("the mids are scooped", 400, 2000, +1),
    ("the low end is flabby", 100, 300, -1), ("the top end is veiled", 5000, 16000, +1),
])
def test_a_fault_stated_asks_for_less_of_it(model, text, low_hz, high_hz, sign):
    """A quality that is a fault ('muffled', 'dull', 'distant', 'hollow', 'loose'), said as what the
    sound is, asks for less of it (each made it worse)."""
    assert sign * _mean(model, text, low_hz, high_hz) >= 1.0, text


def test_a_fault_wished_for_and_a_good_quality_stated_keep_their_direction(model):
    assert _mean(model, "make it sound muffled", 3000, 16000) <= -1.0
    assert _mean(model, "it's warm", 150, 500) >= 1.0


def test_too_much_is_a_plain_too(model):
    """'too much honk' was -8.9 dB ('much' x1.5): it is the plain 'too honky'."""
    assert model.interpret("too much honk").params == model.interpret("too honky").params
    assert np.max(np.abs(response_db(model.interpret("too much honk").params, GRID))) <= 6.5


@pytest.mark.parametrize("text, freq_hz", [
    ("the guitars are fighting the vocals around 2k", 2000), ("the kick and bass are clashing around 100", 100),
    ("the vocal and the guitars are masking each other at 3k", 3000),
])
def test_a_clash_at_a_place_is_a_cut_there(model, text, freq_hz):
    """'fighting', 'clashing', 'masking' at a place are too much there (read as 'punchy' or 'clanky')."""
    answer = model.interpret(text)
    assert all(t.term.endswith("Hz") for t in answer.terms), answer.terms
    db = response_db(answer.params, GRID)
    assert db[np.argmin(np.abs(np.log(GRID / freq_hz)))] <= -2.0


def test_esses_too_loud_is_less_sibilance(model):
    answer = model.interpret("the esses are too loud")
    assert [(t.term, t.weight < 0) for t in answer.terms] == [("sibilant", True)]


@pytest.mark.parametrize("text", ["a touch brighter", "a tad warmer", "a touch more high end", "a touch less mud"])
def test_a_touch_is_one_to_two_db(model, text):
    """'a touch' and 'a tad' are smaller than 'a bit' ('a touch brighter' was +2.5 dB, as 'a bit'): 1-2 dB
    (2.3 dB for mud, whose entry is 5.2 dB)."""
    def peak(words: str) -> float:
        return float(np.max(np.abs(response_db(model.interpret(words).params, GRID))))

    assert 1.0 <= peak(text) <= 2.5 and peak(text) < peak(text.replace("a touch", "a bit").replace("a tad", "a bit"))


@pytest.mark.parametrize("text, term, sign", [
    ("harsh cymbals", "harsh", -1), ("boxy snare", "boxy", -1), ("muddy guitars", "muddy", -1),
    ("thin vocals", "thin", -1), ("a muddy mix", "muddy", -1),
    ("fat kick", "fat", +1), ("scooped guitars", "scooped", +1), ("brighter cymbals", "bright", +1),
    ("make the snare boxy", "boxy", +1), ("harsh", "harsh", +1),
])
def test_a_problem_word_describing_an_instrument_asks_for_less(model, text, term, sign):
    """'harsh cymbals' boosted the harshness: a problem word naming an instrument or the mix with no
    verb, direction or comparative describes what is wrong; a quality or a fault may be wished for
    ('fat kick', 'scooped guitars'), and a word alone keeps its reading."""
    weights = {t.term: t.weight for t in model.interpret(text).terms}
    assert np.sign(weights[term]) == sign, (text, weights)


def test_one_word_named_twice_in_a_clause_counts_once(model):
    """'sibilant esses on the vocal' added sibilance twice (+10 dB); one clause names it once."""
    answer = model.interpret("sibilant esses on the vocal")
    assert [(t.term, t.weight) for t in answer.terms] == [("sibilant", -1.0)]
    assert answer.params == model.interpret("the vocal is sibilant").params


def test_a_db_is_one_db(model):
    """'a dB more air' was refused ('db' a thing): one dB on the word's band."""
    peak = float(np.max(np.abs(response_db(model.interpret("a dB more air").params, GRID))))
    assert peak == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("text", ["the mix isn't muddy", "it's not harsh", "it doesn't sound muffled",
                                  "the vocals are not sibilant"])
def test_a_problem_the_statement_denies_asks_for_nothing(model, text):
    """'it isn't muddy' says the problem is absent: a flat EQ with a note saying so (it cut 5 dB of mud,
    read like 'it is muddy'); a missing quality is still wanted ('it doesn't sound bright')."""
    answer = model.interpret(text)
    assert answer.params.is_flat
    assert any("say the sound is not" in n for n in answer.notes), answer.notes


def test_a_denied_problem_beside_a_complaint_leaves_only_the_complaint(model):
    both = model.interpret("it isn't muddy but it's dull")
    assert both.params == model.interpret("it's dull").params
    assert np.max(response_db(model.interpret("it doesn't sound bright").params, GRID)) > 3.0


@pytest.mark.parametrize("text", ["keep the warmth", "keep it bright", "keep it as bright as it is",
                                  "preserve the low end"])
def test_a_word_to_keep_is_not_changed(model, text):
    """'keep it bright' asked for +4 dB of treble ('keep' was filler): a kept word stays as it is."""
    answer = model.interpret(text)
    assert answer.params.is_flat, text
    assert any("keep" in n or "no change" in n for n in answer.notes), answer.notes


def test_a_kept_word_beside_a_request_leaves_only_the_request(model):
    assert model.interpret("keep the low end but less mud").params == model.interpret("less mud").params
    assert model.interpret("brighter but keep it warm").params == model.interpret("brighter").params


def test_prepositions_are_not_words(model):
    # "under" was read through meaning as "underwater" (a band-pass), beside the blanket it sat under
    answer = model.interpret("it sounds like it's under a blanket")
    assert [t.term for t in answer.terms] == ["blanketed"] and answer.terms[0].weight < 0
    for text in ("under", "behind", "with"):
        with pytest.raises(SemeqError):
            model.interpret(text)
