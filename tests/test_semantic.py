"""The semantic model: data cleaning, parsing, the differentiable response, a tiny training run, and
what a musician would check on the committed model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from daw_bridge.eq import EQParams, log_freq_grid, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.semantic import SemanticModel, UnknownTermError
from daw_bridge.semantic.parse import COMPARATIVE, parse
from daw_bridge.semantic.words import normalise_word

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SEMEQ_DATA_DIR", REPO.parent / "shared" / "data"))
GRID = log_freq_grid(200)


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
    ],
)
def test_parse(text, expected):
    known = {"warm", "bright", "harsh", "muddy", "airy", "sound", "please"}
    assert [(m.base, pytest.approx(m.weight)) for m in parse(text, known)] == expected


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


def test_safe_rows_are_clean_and_split_by_contributor():
    from daw_bridge.semantic.data import load_safe, split_by_contributor

    safe = load_safe(DATA)
    terms = {r.term for r in safe.rows}
    assert {"warm", "bright"} <= terms and not terms & {"test", "re27", "default", "guitar"}
    assert all(r.contributor.startswith("contrib") for r in safe.rows)
    assert any(d.raw == "test" and d.rows == 181 for d in safe.dropped)
    train, test = split_by_contributor(safe.rows, 0.3, seed=0)
    assert {r.contributor for r in train}.isdisjoint({r.contributor for r in test})
    assert len(train) + len(test) == len(safe.rows)
    again = split_by_contributor(safe.rows, 0.3, seed=0)
    assert [r.entry_id for r in again[1]] == [r.entry_id for r in test]


def test_audealize_target_uses_the_players_scaling():
    from daw_bridge.semantic.data import AUDEALIZE_CENTRES_HZ, audealize_target_db

    ramp = np.linspace(-3.0, 7.0, 40)  # arbitrary scale: min-max normalised to [-1, 1]
    at_centres = audealize_target_db(ramp, AUDEALIZE_CENTRES_HZ)
    assert at_centres[0] < -4.0 and at_centres[-1] > 4.0
    assert np.corrcoef(at_centres, ramp)[0, 1] > 0.95
    assert np.allclose(audealize_target_db(np.full(40, 2.0), GRID), 0.0)


# --- a tiny training run (the pipeline) ----------------------------------------------------------------


def test_tiny_training_runs_and_loads(tmp_path, capsys):
    from daw_bridge.cli import main

    assert main(["train", "--tiny", "--no-embeddings", "--data", str(DATA), "--out", str(tmp_path)]) == 0
    assert "model written to" in capsys.readouterr().out
    vocabulary = json.loads((tmp_path / "vocabulary.json").read_text())
    assert {"warm", "bright"} <= {v["term"] for v in vocabulary}
    assert {"term", "source", "example_count", "agreement"} <= set(vocabulary[0])
    summary = json.loads((tmp_path / "training_summary.json").read_text())
    assert summary["tiny"] and summary["safe_dropped"]
    tiny = SemanticModel.load(tmp_path)
    assert len(tiny.vocabulary) == len(vocabulary)
    answer = tiny.interpret("a bit warmer")
    assert answer.terms[0].term == "warm" and not answer.params.is_flat


def test_training_is_deterministic(tmp_path):
    import torch

    from daw_bridge.semantic.data import load_audealize, load_safe
    from daw_bridge.semantic.train import TrainConfig, tiny_subset, train_model

    rows, words = tiny_subset(load_safe(DATA).rows, ["warm", "bright", "dark"])
    audealize = load_audealize(DATA, cache_dir=tmp_path, words=words)
    config = TrainConfig(steps=25, random_eqs=64, autoencoder_batch=32)
    first, second = (train_model(rows, audealize, config).net.state_dict() for _ in range(2))
    assert all(torch.equal(first[k], second[k]) for k in first)
    other = train_model(rows, audealize, TrainConfig(seed=1, steps=25, random_eqs=64, autoencoder_batch=32))
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


# --- the committed model: what a musician would check ----------------------------------------------


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


def test_blend_interpolates_in_latent_space(model):
    answer = model.interpret("warm and a bit bright")
    assert [(t.term, t.weight) for t in answer.terms] == [("warm", 1.0), ("bright", 0.5)]
    expected = (model.term_latent("warm") + 0.5 * model.term_latent("bright")) / 1.5
    np.testing.assert_allclose(answer.latent, expected, atol=1e-12)
    assert tilt_db(model.params_for("bright", 1.0)) < tilt_db(answer.params) < tilt_db(model.params_for("warm", 1.0))
    as_json = json.loads(json.dumps(answer.to_dict()))
    assert as_json["terms"][0] == {"term": "warm", "weight": 1.0, "source": "safe+audealize", "similarity": None,
                                   "matched": "warm"}


def test_encoder_places_eqs_next_to_their_words(model):
    assert np.all(model.encode(EQParams.flat()) == 0.0)
    for word in ("warm", "bright"):
        assert model.nearest_terms(model.encode(model.params_for(word, 1.0)), k=1)[0][0] == word


def test_unknown_word_is_mapped_with_its_similarity(model):
    answer = model.interpret("make it cozier")
    (use,) = answer.terms
    assert use.similarity is not None and use.similarity >= 0.55
    assert use.term in {t for t in model.terms} and use.matched == "make it cozier"


def test_gibberish_is_an_error_with_suggestions(model):
    with pytest.raises(UnknownTermError) as info:
        model.interpret("more xqzt")
    assert info.value.code == "unknown_term" and info.value.suggestions
    assert "xqzt" in str(info.value)


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
