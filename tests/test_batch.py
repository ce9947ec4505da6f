"""What answers reuse is computed in batches: the batched paths equal the one-at-a-time ones."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge import analysis
from daw_bridge.eq import EQParams, log_freq_grid, response_db, responses_db
from daw_bridge.semantic import SemanticModel


@pytest.fixture(scope="module")
def model() -> SemanticModel:
    return SemanticModel.load()


def _random_params(n: int, seed: int) -> list[EQParams]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        gains = rng.uniform(-12, 12, 5) * (rng.random(5) > 0.25)  # some bands exactly 0 dB
        freqs = np.exp(rng.uniform(np.log(20), np.log(20000), 5))
        qs = np.exp(rng.uniform(np.log(0.1), np.log(10), 3))
        out.append(EQParams.from_vector([gains[0], freqs[0], gains[1], freqs[1], qs[0], gains[2], freqs[2], qs[1],
                                         gains[3], freqs[3], qs[2], gains[4], freqs[4]]))
    return out


@pytest.mark.parametrize("sample_rate_hz", [8000.0, 22050.0, 44100.0, 96000.0])
def test_batched_responses_equal_the_engine_one_eq_at_a_time(sample_rate_hz):
    # at 8 and 22.05 kHz many bands sit at or above Nyquist: the batch must follow the same rules
    params = _random_params(200, seed=int(sample_rate_hz)) + [EQParams.flat()]
    freqs = log_freq_grid(300)
    batch = responses_db(np.array([p.raw_vector() for p in params]), freqs, sample_rate_hz)
    single = np.array([response_db(p, freqs, sample_rate_hz) for p in params])
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-9)


def test_word_table_is_decoded_once_and_equals_decoding_each_word(model):
    table = model.all_word_params()
    assert len(table) == len(model.terms)
    assert model.all_word_params()[0] is table[0]  # built once per model
    for term, params, entry in zip(model.terms, table, model.vocabulary):
        # a lexicon word's EQ is its decided target; a crowd word's the decoded latent
        want = EQParams.from_dict(entry.params) if entry.params is not None else model.decode(model.term_latent(term))
        assert params == want


def test_batched_encoding_equals_encoding_each_eq(model):
    params = _random_params(100, seed=7)
    batch = model.encode_many(np.array([p.to_vector() for p in params]))
    np.testing.assert_allclose(batch, np.array([model.encode(p) for p in params]), rtol=0, atol=1e-12)


def test_word_curves_equal_each_word_measured_alone():
    """The analysis' word curves (lexicon words, built in one batch) equal each word's EQ measured alone."""
    from daw_bridge.naming import word_curves

    lexicon = analysis.default_lexicon()
    curves = word_curves(lexicon, 44100.0)
    assert word_curves(lexicon, 44100.0) is curves  # once per lexicon and sample rate
    for i in range(0, len(curves.terms), 7):
        alone = analysis.band_response_db(lexicon.lookup(curves.terms[i]).params(), 44100.0)
        np.testing.assert_allclose(curves.responses_db[i], alone, rtol=0, atol=1e-9, equal_nan=True)
