"""Alternatives to the shipped unknown-word and crowd routes, tried on leave-words-out and not shipped.

Same folds and held-out entries as :mod:`benchmarks.leave_words_out`. For every held-out headword,
the candidate entries are what the meaning routes propose against the kept entries (every WordNet
relation answer, the head word of a compound or its relations, the 8 entries nearest in the
embedding, the 5 definitions nearest to the word's WordNet glosses; no-change entries left out),
each with whether its EQ lands in the held-out word's region and direction.

1. **Learned score** (words the crowd does not know): a logistic regression on each candidate's
   evidence (relation weight and route, head word, embedding and gloss similarity and their gap to the
   best) predicts whether it lands; the word is answered by the best-scored candidate. Fitted on some
   folds, scored on the others, beside the shipped fixed order on the same folds.
2. **Vote over the routes** (words the crowd does not know): each candidate's score is a weighted sum
   of its relation evidence (capped at 1), its sound-context embedding rank against the best (the 3
   best ranked, when the word passes the embedding gate; given to the opposite move when WordNet
   names the entry as an antonym) and its gloss similarity above 0.4 (the 3 best); the best positive
   score answers, else the word is refused. Weights chosen on some folds (grid), scored on the others.
3. **Crowd curve chooses the entry** (words the crowd knows): among the candidates, the entry whose EQ
   correlates best with the word's crowd EQ inside the entry's span widened by half an octave, used
   from a correlation threshold (else the crowd EQ), beside the crowd EQ alone (the shipped route).

Run: ``python -m benchmarks.eval_unknown_alternatives [--data DIR] [--out FILE]`` (a few minutes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.leave_words_out import GRID_HZ, crowd_eqs, folds, lands, leave_words_out, studio
from benchmarks.machine import Report, describe, utc_now
from daw_bridge.eq import response_db
from daw_bridge.semantic import embeddings, unknown, wordnet
from daw_bridge.semantic.lexicon import normalise
from daw_bridge.semantic.model import SemanticModel, models_dir

ROUTES = ("synonym", "similar", "derived", "antonym", "indirect antonym")
#: (folds fitted on, folds scored on), 0-based.
SPLITS = (((0, 1, 2), (3, 4)), ((3, 4), (0, 1, 2)))


def candidates(word: str, names: dict[str, str], relations, table: embeddings.Table) -> dict:
    """(entry, opposite) -> evidence for one held-out ``word`` (module docstring)."""
    found: dict[tuple[str, bool], dict] = {}
    for r in unknown.relation_answers(word, names, relations):
        found.setdefault((r.term, r.opposite), {}).update(rel=r.score, route=r.route)
    key = normalise(word)
    head = key.rsplit(" ", 1)[-1]
    if head != key and not relations.lemmas(word):
        if head in names:
            found.setdefault((names[head], False), {})["head"] = 1.0
        for r in unknown.relation_answers(head, names, relations):
            found.setdefault((r.term, r.opposite), {}).setdefault("headrel", r.score)
    matches = embeddings.nearest(word, table)
    gate = max((m.score for m in matches), default=0.0)
    for match in matches[:8]:
        found.setdefault((match.term, False), {}).update(emb=match.score, rank=match.rank, gate=gate)
    lemmas = relations.lemmas(word)
    rows = [i for i, v in enumerate(table.via) if v == "definition"]
    texts = [g for g, _ in wordnet.glosses(lemmas[0][0], relations, 3)] if lemmas else []
    if texts:
        sims = (embeddings.embed(texts) @ table.vectors[rows].T).max(axis=0)
        for j in np.argsort(-sims)[:5]:
            found.setdefault((table.terms[rows[j]], False), {})["gloss"] = float(sims[j])
    return found


def features(f: dict, best_emb: float, best_gloss: float) -> list[float]:
    """One candidate's evidence as numbers (module docstring, point 1)."""
    rel, e, g = f.get("rel", 0.0), f.get("emb"), f.get("gloss")
    return [min(rel, 3.0), float(rel > 0), *[float(f.get("route") == r) for r in ROUTES], f.get("head", 0.0),
            min(f.get("headrel", 0.0), 3.0), e or 0.0, float(e is not None), (e - best_emb) if e is not None else -0.3,
            g or 0.0, float(g is not None), (g - best_gloss) if g is not None else -0.3]


def collect(model: SemanticModel, data: Path, log) -> list[dict]:
    """Per held-out headword: fold, crowd EQ (None if the crowd does not know it), whether it lands, and
    the candidates [(entry, opposite, evidence, lands, EQ, entry span Hz)]."""
    relations, table = wordnet.load(), embeddings.load_table(model.path)
    entries = {v.term: v for v in studio(model)}
    kinds = {e.term: e.kind for e in model.vocabulary}
    out = []
    for k, held in enumerate(folds(model)):
        crowd = crowd_eqs(data, held, models_dir())
        keep = [i for i, t in enumerate(table.terms) if t not in held]
        kept = embeddings.Table([table.terms[i] for i in keep], [table.texts[i] for i in keep],
                                [table.via[i] for i in keep], table.vectors[keep])
        names = unknown.lexicon_names({a: t for a, t in model._alias.items() if t not in held}, kinds)
        for word in sorted(held):
            v = entries[word]
            rows = []
            for (term, opposite), f in candidates(word, names, relations, kept).items():
                if term in entries:  # problem and quality entries only
                    params = model.params_for(term, -1.0 if opposite else 1.0)
                    rows.append((term, opposite, f, lands(params, v.region_hz, v.direction), params,
                                 entries[term].span_hz))
            eq = crowd[word][0] if word in crowd else None
            out.append({"fold": k, "word": word, "crowd": eq, "rows": rows,
                        "crowd_lands": eq is not None and lands(eq, v.region_hz, v.direction)})
        log(f"fold {k + 1}/{len(folds(model))} collected")
    return out


def _matrix(item: dict) -> np.ndarray:
    best_emb = max([r[2].get("emb", -1.0) for r in item["rows"]], default=-1.0)
    best_gloss = max([r[2].get("gloss", -1.0) for r in item["rows"]], default=-1.0)
    return np.array([features(r[2], best_emb, best_gloss) for r in item["rows"]])


def learned(items: list[dict], fit_on: tuple[int, ...], score_on: tuple[int, ...]) -> tuple[int, int]:
    """Point 1: (landed, words) on folds ``score_on`` with a score fitted on folds ``fit_on``."""
    from sklearn.linear_model import LogisticRegression

    train = [i for i in items if i["fold"] in fit_on and i["rows"]]
    x = np.vstack([_matrix(i) for i in train])
    y = np.concatenate([[r[3] for r in i["rows"]] for i in train])
    clf = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    test = [i for i in items if i["fold"] in score_on]
    return sum(bool(i["rows"]) and bool(i["rows"][int(np.argmax(clf.predict_proba(_matrix(i))[:, 1]))][3])
               for i in test), len(test)


#: Weights (relation, embedding, gloss) tried for the vote (point 2).
VOTE_GRID = [(r, e, g) for r in (0.5, 1.0, 2.0) for e in (0.5, 1.0, 2.0) for g in (0.0, 0.5, 1.0)]


def vote(item: dict, weights: tuple[float, float, float]) -> bool:
    """Point 2 for one word: does the best-voted candidate land (False when nothing gets a positive vote)?"""
    wr, we, wg = weights
    rows = item["rows"]
    ranked = sorted((r for r in rows if "rank" in r[2] and r[2]["gate"] >= embeddings.THRESHOLD),
                    key=lambda r: -r[2]["rank"])[:3]
    glossed = sorted((r for r in rows if r[2].get("gloss", 0.0) >= 0.4), key=lambda r: -r[2]["gloss"])[:3]
    opposite = {r[0] for r in rows if r[1] and r[2].get("rel", 0.0) > 0}
    votes: dict[tuple[str, bool], float] = {}
    for r in rows:
        evidence = min(r[2].get("rel", 0.0), 1.0) + min(r[2].get("head", 0.0), 1.0)
        if evidence:
            votes[(r[0], r[1])] = votes.get((r[0], r[1]), 0.0) + wr * evidence
    for r in ranked:
        key = (r[0], r[0] in opposite)
        votes[key] = votes.get(key, 0.0) + we * (1.0 - 10.0 * (ranked[0][2]["rank"] - r[2]["rank"]))
    for r in glossed:
        votes[(r[0], False)] = votes.get((r[0], False), 0.0) + wg * 5.0 * (r[2]["gloss"] - 0.4)
    if not votes or max(votes.values()) <= 0:
        return False
    term, opp = max(votes, key=votes.get)
    return any(r[3] for r in rows if r[0] == term and r[1] == opp)


def voted(items: list[dict], fit_on: tuple[int, ...], score_on: tuple[int, ...]) -> tuple[tuple, int, int]:
    """Point 2: (weights chosen on folds ``fit_on``, landed, words) on folds ``score_on``."""
    fit = [i for i in items if i["fold"] in fit_on]
    best = max(VOTE_GRID, key=lambda w: sum(vote(i, w) for i in fit))  # ties: the first in the grid
    test = [i for i in items if i["fold"] in score_on]
    return best, sum(vote(i, best) for i in test), len(test)


def crowd_choice(item: dict, threshold: float) -> bool:
    """Point 2 for one crowd word: does the answer land (best-correlated candidate from ``threshold``)?"""
    crowd_db = response_db(item["crowd"], GRID_HZ)
    best, choice = -2.0, False
    for _, _, _, ok, params, (low, high) in item["rows"]:
        db = response_db(params, GRID_HZ)
        mask = (GRID_HZ >= low / 2 ** 0.5) & (GRID_HZ <= high * 2 ** 0.5)
        if mask.sum() >= 3 and np.std(db[mask]) > 0:
            r = float(np.corrcoef(db[mask], crowd_db[mask])[0, 1])
            if r > best:
                best, choice = r, ok
    return choice if best >= threshold else item["crowd_lands"]


def main(argv: list[str] | None = None) -> int:
    from daw_bridge.semantic.data import default_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="crowd data folder (default $SEMEQ_DATA or ../shared/data)")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    data = args.data or default_data_dir()
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    model = SemanticModel.load()
    items = collect(model, data, log)
    fold_of = {i["word"]: i["fold"] for i in items}
    shipped = [r for r in leave_words_out(model, data, log)["rows"] if r[4] != "crowd"]
    out = Report()
    out.say(f"Unknown-word alternatives on leave-words-out  {utc_now()}  {describe()}")
    meaning = [i for i in items if i["crowd"] is None]
    out.say(f"\n1. Words the crowd does not know ({len(meaning)}), landed in region and direction")
    for fit_on, score_on in SPLITS:
        got, n = learned(meaning, fit_on, score_on)
        base = sum(r[3] for r in shipped if fold_of[r[0]] in score_on)
        out.say(f"   learned score fitted on folds {'+'.join(str(f + 1) for f in fit_on)}, scored on folds "
                f"{'+'.join(str(f + 1) for f in score_on)}: {got}/{n}   shipped fixed order on the same folds: {base}/{n}")
    for fit_on, score_on in SPLITS:
        weights, got, n = voted(meaning, fit_on, score_on)
        base = sum(r[3] for r in shipped if fold_of[r[0]] in score_on)
        out.say(f"   vote over the routes, weights (relation, embedding, gloss) {weights} chosen on folds "
                f"{'+'.join(str(f + 1) for f in fit_on)}, scored on folds {'+'.join(str(f + 1) for f in score_on)}: "
                f"{got}/{n}   shipped fixed order on the same folds: {base}/{n}")
    reach = sum(any(r[3] for r in i["rows"]) for i in meaning)
    out.say(f"   (some candidate lands for {reach}/{len(meaning)}: the candidates are many; the evidence does not say which)")
    known = [i for i in items if i["crowd"] is not None]
    out.say(f"\n3. Words the crowd knows ({len(known)}): crowd EQ alone (shipped) "
            f"{sum(i['crowd_lands'] for i in known)}"
            f"/{len(known)}; best-correlated candidate entry from correlation:")
    out.say("   " + ", ".join(f"{t:g} -> {sum(crowd_choice(i, t) for i in known)}/{len(known)}" for t in (0.5, 0.7, 0.9)))
    out.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
