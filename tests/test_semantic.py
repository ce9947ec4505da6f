"""The semantic model: data cleaning, parsing, the differentiable response, the precedence of the word
sources, a tiny training run on generated SAFE- and Audealize-shaped data (``tests/crowd_data.py``;
nothing read from ``../shared``), and what an engineer would check on the committed model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from daw_bridge.eq import EQParams, log_freq_grid, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.semantic import SemanticModel, UnknownTermError
from daw_bridge.semantic.parse import COMPARATIVE, parse
from daw_bridge.semantic.words import normalise_word
from tests.crowd_data import write_crowd_data

GRID = log_freq_grid(200)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Generated SAFE- and Audealize-shaped data (the real files are never needed by the tests), with
    the Audealize fits cached beside them (``audealize_fits.json``) so each test does not refit."""
    from daw_bridge.semantic import sources

    folder = write_crowd_data(tmp_path_factory.mktemp("crowd"))
    sources.crowd_examples(folder, folder)
    return folder


def tilt_db(params: EQParams) -> float:
    """Low (20-250 Hz) minus high (4-16 kHz) mean response, dB: > 0 is darker/warmer."""
    db = response_db(params, GRID)
    return float(db[(GRID >= 20) & (GRID <= 250)].mean() - db[(GRID >= 4000) & (GRID <= 16000)].mean())


@pytest.fixture(scope="module")
def model() -> SemanticModel:
    return SemanticModel.load()


# --- words and parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, term, comparative",
    [("Brighter ", "bright", True), (" WARM", "warm", False), ("warmth", "warm", False), ("Thinner", "thin", True),
     ("brght", "bright", False), ("air", "airy", False)],
)
def test_descriptors_are_cleaned(raw, term, comparative):
    word = normalise_word(raw, known={"bright", "warm", "thin", "airy"})
    assert (word.term, word.comparative, word.reason) == (term, comparative, None)


@pytest.mark.parametrize("raw", ["test", "re27", "Default", "guitar", "tele (bridge pu) bright 1", "warm and present",
                                 "fgjn", "boost"])
def test_junk_descriptors_are_dropped_with_a_reason(raw):
    word = normalise_word(raw, known={"bright", "warm"})
    assert word.term is None and word.reason


def test_shimmer_is_not_a_comparative():
    assert normalise_word("shimmer", known={"warm"}).term == "shimmer"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("warm", [("warm", 1.0)]),
        ("make it a bit warmer", [("warm", 0.5 * COMPARATIVE)]),
        ("much brighter", [("bright", 1.5 * COMPARATIVE)]),
        ("a bit less harsh", [("harsh", -0.5 * COMPARATIVE)]),
        ("less muddy", [("muddy", -COMPARATIVE)]),
        ("more air", [("airy", COMPARATIVE)]),
        ("warm and a bit bright", [("warm", 1.0), ("bright", 0.5)]),
        ("it's too harsh", [("harsh", -1.0)]),
        ("Make the vocals warmer, please", [("warm", COMPARATIVE)]),
        ("bring down the highs", [("highs", -COMPARATIVE)]),
        ("it needs more air", [("airy", COMPARATIVE)]),
        ("a bit treble-heavy", [("treble", 0.5 * COMPARATIVE)]),
        ("it's bright-shy", [("bright", -COMPARATIVE)]),
        ("lift the highs", [("highs", COMPARATIVE)]),
        ("far", [("far", 1.0)]),
        ("far brighter", [("bright", 1.5 * COMPARATIVE)]),
        ("more upper middle range", [("upper-middle", COMPARATIVE)]),  # one word for the region route
        ("high middles", [("high-middles", 1.0)]),
        ("scoop the mids", [("mids", -COMPARATIVE)]),  # the verb, not the quality "scooped" plus mids
        ("scooped", [("scooped", 1.0)]),
        ("de-mud it", [("muddy", -COMPARATIVE)]),  # a "de-" verb takes the word away
        ("de-essing", [("essy", -COMPARATIVE)]),
        ("deesser", [("essy", -COMPARATIVE)]),
        ("delight", [("delight", 1.0)]),  # a word of its own, not "less light"
        ("warmer than before", [("warm", COMPARATIVE)]),
        ("twice as bright", [("bright", 2.0)]),
        ("a bit less harsh up top", [("harsh", -0.5 * COMPARATIVE)]),  # a location says where, and is dropped
        ("more warm down low", [("warm", COMPARATIVE)]),
        ("more on top", [("top end", COMPARATIVE)]),  # alone, the location is the word
        ("smoother highs", [("smooth", COMPARATIVE)]),  # beside a quality, a region says where it acts
        ("the bass is too boomy", [("boomy", -1.0)]),
        ("tighten the low end", [("tight", COMPARATIVE)]),  # an "-en" verb makes more of its word
        ("fatten it", [("fat", COMPARATIVE)]),
        ("more highs and low end", [("highs", COMPARATIVE), ("low end", 1.0)]),  # regions alone stay
        ("not bright enough", [("bright", COMPARATIVE)]),
        ("too little low end", [("low end", COMPARATIVE)]),
        ("it lacks warmth", [("warm", COMPARATIVE)]),
        ("brighten the cymbals a little", [("bright", 0.5 * COMPARATIVE)]),  # instruments say what, not how
        ("remove the mud from the guitars", [("muddy", -1.0)]),
        ("fix the mud", [("muddy", -COMPARATIVE)]),  # "fix the X" takes X away ("fix it" needs the audio)
        ("turn the highs down a bit", [("highs", -0.5 * COMPARATIVE)]),  # the particle after its object
        ("the bass is overpowering", [("bassy", -1.0)]),
        ("the top end is a bit much", [("top end", -0.75)]),
        ("take some 400 out", [("", -1.0)]),
        ("more nasal", [("more nasal", COMPARATIVE)]),
        ("half as bright", [("bright", -0.5 * COMPARATIVE)]),  # a form listed as a phrase is still a comparative
    ],
)
def test_parse(text, expected):
    known = {"warm", "bright", "harsh", "muddy", "airy", "sound", "please", "highs", "treble", "far", "mids", "scooped",
             "essy", "light", "smooth", "boomy", "tight", "fat", "low end", "top end", "more nasal"}
    assert [(m.base, pytest.approx(m.weight)) for m in parse(text, known)] == expected


@pytest.mark.parametrize(
    "text, term, sign",
    [("it sounds harsh", "harsh", -1.0), ("the low end is muddy and boomy", "boomy", -1.0),
     ("the vocal is sibilant, make it warmer", "sibilant", -1.0), ("make it sound thin", "thin", 1.0),
     ("harsh", "harsh", 1.0), ("it's warm", "warm", 1.0), ("it's not muddy enough", "muddy", 1.0),
     ("the 250 Hz buildup is muddy", "muddy", -1.0), ("more mud at 250 Hz", "muddy", 1.0)],
)
def test_a_problem_word_said_as_a_complaint_asks_for_less(model, text, term, sign):
    weights = {t.term: t.weight for t in model.interpret(text, 1.0).terms}
    assert math.copysign(1.0, weights[term]) == sign


@pytest.mark.parametrize("text", ["", "   ", "make it please"])
def test_text_without_a_word_is_a_clear_error(text):
    with pytest.raises(SemeqError) as info:
        parse(text, {"warm"})
    assert info.value.code == "unknown_term"


# --- the differentiable response ----------------------------------------------------------------------


def test_torch_response_matches_the_engine():
    import torch

    from daw_bridge.semantic.net import magnitude_db

    rng = np.random.default_rng(1)
    params = [
        EQParams.from_vector([rng.uniform(-12, 12), rng.uniform(22, 1000), rng.uniform(-12, 12), rng.uniform(82, 3900),
                              rng.uniform(0.1, 10), rng.uniform(-12, 12), rng.uniform(180, 4700), rng.uniform(0.1, 10),
                              rng.uniform(-12, 12), rng.uniform(220, 10000), rng.uniform(0.1, 10), rng.uniform(-12, 12),
                              rng.uniform(580, 20000)])
        for _ in range(20)
    ] + [EQParams.flat()]
    batch = torch.tensor(np.array([p.to_vector() for p in params]), dtype=torch.float64)
    ours = magnitude_db(batch, torch.tensor(GRID), 48000.0).numpy()
    engine = np.array([response_db(p, GRID, 48000.0) for p in params])
    assert np.max(np.abs(ours - engine)) < 1e-6


def test_normalisation_round_trips():
    import torch

    from daw_bridge.semantic.net import denormalise, normalise

    v = EQParams(3.0, 120.0, -2.0, 300.0, 0.7, 1.0, 1200.0, 2.0, -4.0, 5000.0, 4.0, 2.0, 9000.0).to_vector()
    n = normalise(v)
    assert np.all(np.abs(n) <= 1.0)
    back = denormalise(torch.tensor(n[None, :], dtype=torch.float64))[0].numpy()
    np.testing.assert_allclose(back, v, rtol=1e-12)


# --- data -------------------------------------------------------------------------------------------


def test_safe_rows_are_clean_and_split_by_contributor(data):
    from daw_bridge.semantic.sources.safe import load_safe, split_by_contributor

    safe = load_safe(data)
    terms = {r.term for r in safe.rows}
    assert terms == {"warm", "bright", "muddy", "boomy", "thin", "happy"}
    assert all(r.contributor.startswith("contrib") for r in safe.rows)
    assert any(d.raw == "test" and d.rows == 8 for d in safe.dropped)
    assert any(d.raw == "warm and present" and "phrase" in d.reason for d in safe.dropped)
    assert all(r.params.peak1_freq_hz <= r.params.peak2_freq_hz <= r.params.peak3_freq_hz for r in safe.rows)
    train, test = split_by_contributor(safe.rows, 0.3, seed=0)
    assert {r.contributor for r in train}.isdisjoint({r.contributor for r in test})
    assert len(train) + len(test) == len(safe.rows)
    again = split_by_contributor(safe.rows, 0.3, seed=0)
    assert [r.entry_id for r in again[1]] == [r.entry_id for r in test]


def test_every_crowd_source_is_found_and_read(data, tmp_path):
    from daw_bridge.semantic import sources

    assert [m.NAME for m in sources.crowd_sources()] == ["audealize", "safe"]
    examples = sources.crowd_examples(data, tmp_path)  # fits again, into a fresh cache
    by_source = {s: {e.word for e in examples if e.source == s} for s in ("safe", "audealize")}
    assert "cálido" not in by_source["audealize"] and "taco" in by_source["audealize"]
    assert by_source["safe"] == {"warm", "bright", "muddy", "boomy", "thin", "happy"}
    assert all(e.weight > 0 and e.response_db.shape == (128,) for e in examples)
    assert (tmp_path / "audealize_fits.json").exists()  # the fits are cached


def test_audealize_target_uses_the_players_scaling():
    from daw_bridge.semantic.sources.audealize import (
        AUDEALIZE_CENTRES_HZ,
        audealize_target_db,
    )

    ramp = np.linspace(-3.0, 7.0, 40)  # arbitrary scale: min-max normalised to [-1, 1]
    at_centres = audealize_target_db(ramp, AUDEALIZE_CENTRES_HZ)
    assert at_centres[0] < -4.0 and at_centres[-1] > 4.0
    assert np.corrcoef(at_centres, ramp)[0, 1] > 0.95
    assert np.allclose(audealize_target_db(np.full(40, 2.0), GRID), 0.0)


# --- the precedence of the sources --------------------------------------------------------------------


def _crowd(word: str, centre_hz: float, gain_db: float, source: str = "audealize", people: int = 5):
    from daw_bridge.eq import EQParams
    from daw_bridge.semantic.data import example_from_params

    params = EQParams.flat().to_dict() | {"peak2_gain_db": gain_db, "peak2_freq_hz": centre_hz, "peak2_q": 1.0}
    return example_from_params(word, source, EQParams.from_dict(params), 1.0, people=people)


def test_the_lexicon_fixes_region_and_direction_and_the_crowd_only_refines():
    from daw_bridge.semantic.lexicon import load_lexicon
    from daw_bridge.semantic.vocabulary import AMOUNT_RANGE, build

    lexicon = load_lexicon()
    entry = lexicon.lookup("muddy")
    (main,) = entry.moves
    crowd = [_crowd("muddy", main.centre_hz * 1.1, 2.5 * main.gain_db, "safe"),  # agrees, wants more
             _crowd("murky", main.centre_hz, -main.gain_db, "audealize"),     # a synonym, the other way
             _crowd("taco", 1200.0, 6.0), _crowd("better", 3000.0, 6.0), _crowd("zesty", 4000.0, 3.0)]
    words, left = build(crowd, lexicon)
    word = {w.term: w for w in words}
    muddy = word["muddy"]
    assert [(c.source, c.agrees) for c in muddy.checks] == [("audealize", False), ("safe", True)]
    assert muddy.source == "lexicon+safe"
    refined = muddy.params
    assert refined.peak1_freq_hz == pytest.approx(main.centre_hz, rel=0.27)  # within 1/3 octave
    assert main.gain_db < refined.peak1_gain_db <= AMOUNT_RANGE[1] * main.gain_db + 1e-9
    assert word["zesty"].kind == "crowd" and "taco" not in word and "better" not in word
    assert {x.word for x in left} == {"taco", "better"}
    assert all(w.params.is_flat for w in words if w.kind == "no-change")


# --- a tiny training run (the pipeline) ----------------------------------------------------------------


def test_tiny_training_runs_and_loads(data, tmp_path, capsys):
    import shutil

    from daw_bridge.cli import main

    shutil.copy(data / "audealize_fits.json", tmp_path)
    assert main(["train", "--tiny", "--no-embeddings", "--data", str(data), "--out", str(tmp_path)]) == 0
    assert "model written to" in capsys.readouterr().out
    vocabulary = {v["term"]: v for v in json.loads((tmp_path / "vocabulary.json").read_text())}
    assert vocabulary["happy"]["kind"] == "crowd" and vocabulary["muddy"]["kind"] == "problem"
    assert vocabulary["flat"]["kind"] == "no-change" and "taco" not in vocabulary
    summary = json.loads((tmp_path / "training_summary.json").read_text())
    assert summary["tiny"] and summary["kinds"]["crowd"] >= 1
    tiny = SemanticModel.load(tmp_path)
    assert len(tiny.vocabulary) == len(vocabulary)
    answer = tiny.interpret("a bit warmer")
    assert answer.terms[0].term == "warm" and not answer.params.is_flat


def test_training_is_deterministic(data, tmp_path):
    import torch

    from daw_bridge.semantic.train import TrainConfig, build_words, train_model

    words, _, _ = build_words(data, data, tiny=True)
    config = TrainConfig(steps=25, random_eqs=64, autoencoder_batch=32)
    first, second = (train_model(words, config).net.state_dict() for _ in range(2))
    assert all(torch.equal(first[k], second[k]) for k in first)
    other = train_model(words, TrainConfig(seed=1, steps=25, random_eqs=64, autoencoder_batch=32))
    assert not torch.equal(first["terms.weight"], other.net.state_dict()["terms.weight"])


def test_train_without_data_is_a_clear_error(tmp_path, capsys):
    from daw_bridge.cli import main

    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 1
    assert "--data" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_model_is_a_clear_error(tmp_path):
    from daw_bridge.semantic import ModelError

    with pytest.raises(ModelError) as info:
        SemanticModel.load(tmp_path)
    assert "semeq train" in str(info.value)


# --- the committed model: what an engineer would check ----------------------------------------------

#: Region (Hz) and direction of problem and quality words as mixing handbooks and EQ charts give them,
#: written here independently of the lexicon file: the model's EQ for the word must move energy there.
STUDIO_WORDS = [
    ("muddy", 200, 500, +1), ("boomy", 60, 200, +1), ("boxy", 300, 800, +1), ("honky", 500, 1500, +1),
    ("nasal", 800, 2000, +1), ("harsh", 2000, 5000, +1), ("sibilant", 4000, 10000, +1),
    ("hissy", 6000, 16000, +1), ("thin", 60, 250, -1), ("bloated", 100, 400, +1), ("fatiguing", 2000, 5000, +1),
    ("warm", 150, 500, +1), ("bright", 4000, 16000, +1), ("dark", 4000, 16000, -1), ("airy", 10000, 20000, +1),
    ("crisp", 5000, 12000, +1), ("present", 3000, 7000, +1), ("full", 60, 300, +1), ("deep", 20, 100, +1),
    ("bassy", 40, 200, +1), ("muffled", 3000, 16000, -1), ("dull", 4000, 16000, -1), ("hollow", 300, 1000, -1),
    ("scooped", 400, 2000, -1), ("smooth", 2000, 6000, -1), ("mellow", 3000, 16000, -1), ("punchy", 60, 150, +1),
    ("fat", 80, 250, +1), ("sparkly", 8000, 16000, +1), ("lean", 20, 200, -1), ("forward", 1000, 3000, +1),
    ("recessed", 1000, 3000, -1), ("biting", 2000, 5000, +1),
]


def _region_means(params, low_hz: float, high_hz: float) -> tuple[float, float]:
    db = response_db(params, GRID)
    inside = (GRID >= low_hz) & (GRID <= high_hz)
    return float(db[inside].mean()), float(db[~inside].mean())


@pytest.mark.parametrize("word, low_hz, high_hz, direction", STUDIO_WORDS)
def test_studio_words_move_energy_in_their_region_and_direction(model, word, low_hz, high_hz, direction):
    for text, sign in ((word, direction), (f"less {word}", -direction)):
        inside, outside = _region_means(model.interpret(text).params, low_hz, high_hz)
        assert sign * inside >= 1.0, (text, inside)
        assert sign * inside > sign * outside + 0.5, (text, inside, outside)
    assert model.interpret(word).terms[0].kind in ("problem", "quality")


def test_every_problem_word_is_a_targeted_move(model):
    """'less X' / 'too X': the strongest point within half an octave of the entry's centre, and the
    spectrum outside the entry's regions (widened by half an octave each side) within +-1.5 dB."""
    problems = [v for v in model.vocabulary if v.kind == "problem"]
    assert len(problems) >= 10
    for entry in problems:
        for text in (f"less {entry.term}", f"too {entry.term}"):
            db = response_db(model.interpret(text).params, GRID)
            peak_hz = GRID[np.argmax(np.abs(db))]
            assert abs(np.log2(peak_hz / entry.centre_hz)) <= 0.5, (text, peak_hz, entry.centre_hz)
            assert -entry.direction * db[np.argmax(np.abs(db))] > 0, text  # a cut of what is too much
            low, high = entry.span_hz  # all the entry's moves (hum: the fundamental and its harmonic)
            outside = (GRID < low / 2 ** 0.5) | (GRID > high * 2 ** 0.5)
            assert np.max(np.abs(db[outside])) <= 1.5, (text, float(np.max(np.abs(db[outside]))))


def test_engineers_requests(model):
    def mean_db(text, low, high):
        return _region_means(model.interpret(text).params, low, high)[0]

    assert mean_db("more low end", 30, 150) > 2.0
    db = response_db(model.interpret("less boomy").params, GRID)
    assert GRID[np.argmin(db)] == pytest.approx(110, rel=0.45) and db.min() < -3.0 and db.max() < 1.5
    assert mean_db("more treble", 5000, 16000) > 2.0
    assert mean_db("add sparkle", 8000, 16000) > 1.0
    assert mean_db("scoop", 400, 2000) < -1.0 and mean_db("more scooped", 400, 2000) < -1.0
    bit, full = (abs(response_db(model.interpret(t).params, GRID)).max() for t in ("a bit less harsh", "less harsh"))
    assert 1.0 <= bit <= 4.0 and bit < full  # "a bit" is a few dB


@pytest.mark.parametrize("text", ["flat", "neutral", "make it natural", "transparent", "uncoloured", "no eq",
                                  "keep it flat please"])
def test_no_change_words_are_exactly_flat_with_a_note(model, text):
    answer = model.interpret(text, intensity=2.0)
    assert answer.params.is_flat and np.all(response_db(answer.params, GRID) == 0.0)
    assert any("no change" in n for n in answer.notes)


@pytest.mark.parametrize("text", ["better", "make it better", "fix it", "make it sound good", "improve the mix"])
def test_judging_words_need_audio(model, text):
    from daw_bridge.semantic import NeedsAudioError

    with pytest.raises(NeedsAudioError) as info:
        model.interpret(text)
    assert info.value.code == "needs_audio" and "audio" in str(info.value)


@pytest.mark.parametrize("text", ["the snare rings too much", "less ringing", "too resonant", "there's a resonance",
                                  "the toms are ringy", "whistling"])
def test_a_resonance_without_a_place_needs_the_place_or_the_audio(model, text):
    """A ring or resonance sits at one frequency the words do not give; it was read through the
    embedding route ("less ringing" cut 11 kHz as 'bell like', "there's a resonance" boosted 150 Hz as
    'chesty', "whistling" boosted 55 Hz as 'windy'). With a place it is a cut there (test_frequencies)."""
    from daw_bridge.semantic import NeedsAudioError

    with pytest.raises(NeedsAudioError, match="resonance at one frequency") as info:
        model.interpret(text)
    assert "900 Hz" in str(info.value)
    both = model.interpret(f"warmer, {text}")
    assert both.params == model.interpret("warmer").params
    assert any("without a place" in w for w in both.warnings)


@pytest.mark.parametrize("text, says", [
    ("make it wider", "stereo width"), ("more reverb", "reverb or room"), ("less compressed", "dynamics"),
    ("saturated", "distortion"), ("more chorus", "time-based effect"), ("narrower", "stereo width"),
])
def test_what_an_eq_cannot_do_is_refused_with_the_reason_or_ignored_beside_other_words(model, text, says):
    with pytest.raises(UnknownTermError, match=says) as info:
        model.interpret(text)
    assert info.value.code == "unknown_term" and "An EQ changes tone" in str(info.value)
    both = model.interpret(f"warmer and {text}")
    assert [t.term for t in both.terms] == ["warm"] and both.params == model.interpret("warmer").params
    assert any(says in w and "ignored" in w for w in both.warnings)


def test_a_clipped_request_says_so(model):
    answer = model.interpret("much harsher", intensity=2.0)
    gains = np.array([answer.params.to_dict()[k] for k in answer.params.to_dict() if k.endswith("gain_db")])
    assert np.max(np.abs(gains)) == 12.0
    assert any("clipped" in w for w in answer.warnings)
    assert not model.interpret("a bit harsher").warnings


@pytest.mark.parametrize("word", ["tuesday", "asdf", "taco", "cow", "ralph", "hello", "xqzt", "spreadsheet"])
def test_nonsense_and_non_sound_words_are_refused_with_suggestions(model, word):
    with pytest.raises(UnknownTermError) as info:
        model.interpret(f"more {word}")
    assert info.value.code == "unknown_term" and info.value.suggestions
    assert word in str(info.value)


def test_crowd_words_are_kept_and_marked(model):
    (use,) = model.interpret("happier").terms
    assert use.kind == "crowd" and use.term == "happy"
    assert {v.kind for v in model.vocabulary} == {"problem", "quality", "no-change", "crowd"}


def test_warm_is_darker_than_bright(model):
    warm, bright = model.params_for("warm", 1.0), model.params_for("bright", 1.0)
    assert tilt_db(warm) > 0.0 > tilt_db(bright)
    assert tilt_db(warm) - tilt_db(bright) > 3.0


def test_warmer_goes_further_the_same_way(model):
    warm = model.interpret("warm").params
    warmer = model.interpret("warmer").params
    assert tilt_db(warmer) >= tilt_db(warm) > 0
    brighter = model.interpret("much brighter").params
    assert tilt_db(brighter) <= tilt_db(model.interpret("bright").params) < 0


def test_intensity_zero_is_exactly_flat(model):
    for text in ("warm", "a bit less harsh", "warm and a bit bright"):
        params = model.interpret(text, intensity=0.0).params
        assert params.is_flat
        assert np.all(response_db(params, GRID) == 0.0)


def test_opposite_intensities_mirror_the_response(model):
    for text, x in (("warm", 1.0), ("a bit brighter", 1.7), ("warm and a bit bright", 0.6)):
        up = response_db(model.interpret(text, x).params, GRID)
        down = response_db(model.interpret(text, -x).params, GRID)
        np.testing.assert_allclose(up, -down, atol=1e-6)
    less = response_db(model.interpret("less harsh").params, GRID)
    harsh = response_db(model.params_for("harsh", -COMPARATIVE), GRID)
    np.testing.assert_allclose(less, harsh, atol=1e-9)


def test_a_blend_makes_every_word_move_at_its_weight(model):
    answer = model.interpret("warm and a bit bright")
    assert [(t.term, t.weight) for t in answer.terms] == [("warm", 1.0), ("bright", 0.5)]
    both = response_db(model.params_for("warm", 1.0), GRID) + response_db(model.params_for("bright", 0.5), GRID)
    # warm's high-shelf dip and bright's shelf are two high shelves: five bands fit their sum
    assert np.sqrt(np.mean((response_db(answer.params, GRID) - both) ** 2)) < 0.5
    np.testing.assert_allclose(answer.latent, model.encode(model.interpret("warm and a bit bright", 1.0).params))
    assert tilt_db(model.params_for("bright", 1.0)) < tilt_db(answer.params) < tilt_db(model.params_for("warm", 1.0))
    as_json = json.loads(json.dumps(answer.to_dict()))
    entry = next(v for v in model.vocabulary if v.term == "warm")
    assert as_json["terms"][0] == {"term": "warm", "weight": 1.0, "source": entry.source, "similarity": None,
                                   "matched": "warm", "kind": "quality", "definition": entry.definition}


@pytest.mark.parametrize("text, more, less", [
    ("more air but no sibilance", ("airy", 1.25), ("sibilant", -1.0)),
    ("warmer but not muddy", ("warm", 1.25), ("muddy", -1.0)),
    ("more bass without boominess", ("bassy", 1.25), ("boomy", -1.0)),
])
def test_a_blend_of_studio_words_is_exactly_their_moves(model, text, more, less):
    # Before, blends were decoded from the mean of the words' latents: "more air but no sibilance" cut
    # 3 dB at 3.3 kHz and left +0.8 dB of air; an engineer makes both moves, each where its word acts.
    answer = model.interpret(text)
    assert [(t.term, t.weight) for t in answer.terms] == [more, less]
    both = response_db(model.params_for(*more), GRID) + response_db(model.params_for(*less), GRID)
    np.testing.assert_allclose(response_db(answer.params, GRID), both, atol=1e-9)
    if text.startswith("more air"):  # words acting in different places keep their own moves there
        db = response_db(answer.params, GRID)
        assert db[GRID >= 12000].mean() >= 1.5 and db[(GRID >= 5500) & (GRID <= 7500)].min() <= -3.5


def test_encoder_places_eqs_next_to_their_words(model):
    assert np.all(model.encode(EQParams.flat()) == 0.0)
    for word in ("warm", "bright", "muddy", "harsh", "boomy", "sibilant", "dark"):
        params = model.params_for(word, 1.0)
        (nearest, _), = model.nearest_terms(model.encode(params), k=1)  # the word or one that sounds like it
        rms = np.sqrt(np.mean((response_db(model.params_for(nearest), GRID) - response_db(params, GRID)) ** 2))
        assert rms < 1.5, (word, nearest, rms)
        back = model.decode(model.encode(params))
        assert np.sqrt(np.mean((response_db(back, GRID) - response_db(params, GRID)) ** 2)) < 1.5


@pytest.mark.parametrize("word, low_hz, high_hz, direction",
                         [("cozier", 150, 500, +1), ("shrieky", 2000, 10000, +1), ("glittering", 6000, 16000, +1)])
def test_unknown_word_is_answered_through_meaning(model, word, low_hz, high_hz, direction):
    from daw_bridge.semantic.embeddings import THRESHOLD

    answer = model.interpret(f"make it {word}")
    (use,) = answer.terms
    assert use.similarity is not None and use.similarity >= THRESHOLD
    assert use.definition and use.kind in ("problem", "quality") and use.matched == f"make it {word}"
    inside, outside = _region_means(answer.params, low_hz, high_hz)
    assert direction * inside >= 1.0 and direction * inside > direction * outside


def test_without_the_embedding_extra_unknown_words_get_spelling_suggestions():
    bare = SemanticModel.load()
    bare._embeddings = None  # what the model sees when sentence-transformers is not installed
    with pytest.raises(UnknownTermError) as info:
        bare.interpret("wamr")
    assert "warm" in info.value.suggestions
    assert "not installed" in str(info.value)


@pytest.mark.parametrize("intensity", [2.5, -3, float("nan"), "loud"])
def test_intensity_out_of_range_is_a_clear_error(model, intensity):
    with pytest.raises(SemeqError):
        model.interpret("warm", intensity)


def test_every_word_plays_exactly_on_both_hosts():
    """Every vocabulary word, at intensities 1, -1 and 2, maps to ReaEQ and ACE EQ with no clamp."""
    from daw_bridge.hosts import map_all
    from daw_bridge.semantic import SemanticModel

    model = SemanticModel.load()
    for entry in model.vocabulary:
        for intensity in (1.0, -1.0, 2.0):
            mappings = map_all(model.params_for(entry.term, intensity))
            warnings = [w for m in mappings.values() for w in m.warnings]
            assert not warnings, (entry.term, intensity, warnings)


# --- through the service (every door answers the same) ---------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from daw_bridge.paths import UNRESTRICTED
    from daw_bridge.service import Service

    svc = Service(tmp_path_factory.mktemp("home"), paths=UNRESTRICTED)
    yield svc
    svc.close()


def test_the_service_says_what_the_words_did(service, tmp_path):
    import soundfile as sf

    flat = service.handle({"id": "1", "op": "eq", "text": "neutral"})
    assert flat["ok"] and all(v == 0.0 for k, v in flat["params"].items() if k.endswith("gain_db"))
    assert "no change" in flat["explanation"] and flat["terms"][0]["kind"] == "no-change"
    clipped = service.handle({"id": "2", "op": "eq", "text": "much harsher", "intensity": 2.0})
    assert any("clipped" in w for w in clipped["warnings"])
    judged = service.handle({"id": "3", "op": "eq", "text": "make it better"})
    assert not judged["ok"] and judged["code"] == "needs_audio"
    # With audio, the same words are auto-suggest: an EQ from the track, not an error.
    noise = np.random.default_rng(0).normal(0.0, 0.1, (48000 * 3, 2))
    sf.write(tmp_path / "noise.wav", noise, 48000)
    with_audio = service.handle({"id": "4", "op": "adapt", "text": "fix it", "path": str(tmp_path / "noise.wav")})
    assert with_audio["ok"] and "params" in with_audio
