"""Leave-words-out on the studio lexicon (section 1 of :mod:`benchmarks.eval_semantic`).

The problem and quality entries are dealt into 5 folds (seed 0). Each fold (20 % of the entries) is
held out with all its names (headword, synonyms, forms) and its definition, and each held-out
headword is answered the way the product would answer it without that entry:

* **crowd**: if a crowd source (SAFE-DB, Audealize) knows the headword, the product's vocabulary
  holds it as a crowd-only word (:func:`daw_bridge.semantic.vocabulary.build` on the fold's
  lexicon: precedence 4), and `semeq eq WORD` answers with its crowd EQ. The network is not
  retrained per fold: the crowd EQ is the 13-parameter fit (:func:`daw_bridge.fit.fit_eq`) of the
  word's weighted mean target curve, which is what the network's decoder is trained to reproduce
  (:func:`crowd_proxy_rms_db` measures the stand-in against the shipped network's crowd words).
* **unknown-word routes** otherwise (:func:`daw_bridge.semantic.unknown.resolve_unknown`): WordNet
  relations mapped onto the kept entries' names at run time, glosses and embeddings against the
  kept entries' definitions; the answer is another entry's EQ from the shipped model, never the
  held-out one.

A held-out word *lands* when the answer moves energy in its documented region and direction
(:func:`lands`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from daw_bridge.eq import EQParams, response_db
from daw_bridge.semantic.lexicon import normalise
from daw_bridge.semantic.model import SemanticModel, UnknownTermError, models_dir
from daw_bridge.semantic.parse import Mention

GRID_HZ = np.geomspace(20.0, 20000.0, 200)
FOLDS = 5
SEED = 0


def lands(params: EQParams, region_hz, direction: int) -> bool:
    """True if the EQ moves energy in ``region_hz`` (Hz) in ``direction``: mean dB inside >= 1 dB that
    way, and at least 0.5 dB more that way than the mean outside (a tilt or a level change does not pass)."""
    db = response_db(params, GRID_HZ)
    inside = (GRID_HZ >= region_hz[0]) & (GRID_HZ <= region_hz[1])
    a, b = direction * db[inside].mean(), direction * db[~inside].mean()
    return bool(a >= 1.0 and a > b + 0.5)


def studio(model: SemanticModel) -> list:
    """The model's problem and quality words (vocabulary entries), in vocabulary order."""
    return [v for v in model.vocabulary if v.kind in ("problem", "quality")]


def folds(model: SemanticModel) -> list[set[str]]:
    """The held-out headwords of each fold (deterministic)."""
    entries = studio(model)
    order = np.random.default_rng(SEED).permutation(len(entries))
    return [{entries[i].term for i in order[k::FOLDS]} for k in range(FOLDS)]


def crowd_eqs(data: Path, held: set[str], cache_dir: Path) -> dict[str, tuple[EQParams, str]]:
    """The ``held`` headwords that the product's vocabulary would hold as crowd-only words without
    their entries: headword -> (crowd EQ, description) (module docstring). ``data``: the crowd data
    folder; ``cache_dir``: where the Audealize fit cache is (the models folder)."""
    from daw_bridge.fit import fit_eq
    from daw_bridge.semantic import sources, vocabulary
    from daw_bridge.semantic.data import FIT_GRID_HZ, SAMPLE_RATE_HZ
    from daw_bridge.semantic.sources import lexicon as lexicon_source

    lexicon = lexicon_source.load()
    kept = type(lexicon)(tuple(e for e in lexicon.entries if normalise(e.word) not in held))
    known = {n for e in kept.entries for n in e.names}
    words, _ = vocabulary.build(sources.crowd_examples(data, cache_dir, known=known), kept)
    out = {}
    for w in (w for w in words if w.kind == "crowd" and w.term in held):
        weights = np.array([e.weight for e in w.targets])
        curve = weights @ np.array([e.response_db for e in w.targets]) / weights.sum()
        people = sum(e.people for e in w.targets)
        out[w.term] = (fit_eq(FIT_GRID_HZ, curve, SAMPLE_RATE_HZ).params, f"crowd word ({w.source}, {people} people)")
    return out


def crowd_proxy_rms_db(model: SemanticModel, data: Path) -> tuple[int, float, float]:
    """How well the crowd route's stand-in (fit of the weighted mean target curve) matches what the
    shipped network answers for its own crowd-only words: (words, median, worst RMS dB on the fit grid)."""
    from daw_bridge.fit import fit_eq
    from daw_bridge.semantic import sources, vocabulary
    from daw_bridge.semantic.data import FIT_GRID_HZ, SAMPLE_RATE_HZ
    from daw_bridge.semantic.sources import lexicon as lexicon_source

    lexicon = lexicon_source.load()
    known = {n for e in lexicon.entries for n in e.names}
    words, _ = vocabulary.build(sources.crowd_examples(data, models_dir(), known=known), lexicon)
    rms = []
    for w in (w for w in words if w.kind == "crowd" and w.term in model.terms):
        weights = np.array([e.weight for e in w.targets])
        curve = weights @ np.array([e.response_db for e in w.targets]) / weights.sum()
        proxy = response_db(fit_eq(FIT_GRID_HZ, curve, SAMPLE_RATE_HZ).params, FIT_GRID_HZ)
        rms.append(float(np.sqrt(np.mean((proxy - response_db(model.word_params(w.term), FIT_GRID_HZ)) ** 2))))
    return len(rms), float(np.median(rms)), float(np.max(rms))


def leave_words_out(model: SemanticModel, data: Path | None, log) -> dict:
    """Section 1 (module docstring): rows (word, answer, score, landed, route, via), counts per route
    and (landed, words) per fold.
    ``data`` None: the crowd route is skipped (every word goes through the unknown-word routes)."""
    from daw_bridge.semantic import embeddings

    table = embeddings.load_table(model.path) or embeddings.build_table(model.vocabulary)
    entries = studio(model)
    rows, full_alias, per_fold = [], dict(model._alias), []
    for k, held in enumerate(folds(model)):
        crowd = crowd_eqs(data, held, models_dir()) if data is not None else {}
        keep = [i for i, t in enumerate(table.terms) if t not in held]
        model._embeddings = embeddings.Table([table.terms[i] for i in keep], [table.texts[i] for i in keep],
                                             [table.via[i] for i in keep], table.vectors[keep])
        model._alias = {a: t for a, t in full_alias.items() if t not in held}
        model._known = frozenset(model._alias)
        for v in (e for e in entries if e.term in held):
            if v.term in crowd:
                params, via = crowd[v.term]
                rows.append((v.term, v.term, None, lands(params, v.region_hz, v.direction), "crowd", via))
                continue
            try:  # the whole headword as one unknown descriptor ("low mids" is not "low" + "mids")
                use = model._use(Mention(v.term, v.term, 1.0, v.term))
                params = model.params_for(use.term, use.weight)
                rows.append((v.term, use.term, use.similarity, lands(params, v.region_hz, v.direction), use.route,
                             use.via))
            except UnknownTermError:
                rows.append((v.term, None, None, False, "refused", ""))
        fold_rows = [r for r in rows if r[0] in held]
        per_fold.append((sum(r[3] for r in fold_rows), len(fold_rows)))
        log(f"leave-words-out fold {k + 1}/{FOLDS} done")
    model._alias, model._known, model._embeddings = full_alias, frozenset(full_alias), table
    routes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        routes[r[4]][0] += r[3]
        routes[r[4]][1] += 1
    return {"rows": rows, "n": len(rows), "landed": sum(r[3] for r in rows),
            "refused": sum(r[1] is None for r in rows), "routes": dict(routes), "folds": per_fold,
            "proxy": crowd_proxy_rms_db(model, data) if data is not None else None}
