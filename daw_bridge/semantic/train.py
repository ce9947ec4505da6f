"""Training: SAFE-DB settings + Audealize fitted curves -> :class:`~daw_bridge.semantic.net.SemanticNet`.

Losses (full batch, Adam, fixed seed, CPU):

* word -> EQ: for every SAFE setting and Audealize word, the decoded EQ of the word's latent against
  the real setting, both as a frequency response (dB on a 64-point log grid, the main term: two
  settings that sound the same count as the same) and as normalised parameters (frequency and Q
  errors weighted by how loud the band is);
* encoder tie: the encoding of every real setting of a word, and the re-encoding of the word's own
  decoded EQ, are pulled to the word's latent (so any EQ can be compared with words);
* autoencoder: decode(encode(EQ)) reproduces the response of real settings and of random EQs (so the
  encoder places any EQ, not only SAFE-like ones, meaningfully in the space).

Weights: a SAFE setting weighs 1 / sqrt(settings by the same person for the same word) (three
contributors supplied 3/4 of warm and bright); an Audealize word weighs agreement * sqrt(contributors).
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from daw_bridge.layout import BANDS
from daw_bridge.semantic.data import (
    FIT_GRID_HZ,
    AudealizeWord,
    SafeRow,
    audealize_word_set,
    load_audealize,
    load_safe,
    write_json_atomic,
)
from daw_bridge.semantic.model import VOCABULARY_FILE, WEIGHTS_FILE, VocabularyEntry
from daw_bridge.semantic import runtime
from daw_bridge.semantic.net import SemanticNet, denormalise, magnitude_db, normalise

SUMMARY_FILE = "training_summary.json"

#: Loss grid: every other point of the Audealize fit grid (64 log-spaced points, 20 Hz - 20 kHz).
LOSS_GRID_HZ = FIT_GRID_HZ[::2]
_DB_SCALE = 6.0  # responses are compared in units of 6 dB


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    steps: int = 1200
    learning_rate: float = 3e-3
    random_eqs: int = 2048
    autoencoder_batch: int = 384
    weight_response: float = 1.0
    weight_params: float = 0.3
    weight_tie: float = 0.3
    weight_cycle: float = 0.3
    weight_autoencoder: float = 0.5
    weight_latent_norm: float = 1e-3


TINY = TrainConfig(steps=150, random_eqs=256)


@dataclass
class Trained:
    net: SemanticNet
    vocabulary: list[VocabularyEntry]
    config: TrainConfig
    final_losses: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def build_vocabulary(safe_rows: list[SafeRow], audealize: list[AudealizeWord]) -> list[VocabularyEntry]:
    settings = Counter(r.term for r in safe_rows)
    people: dict[str, set[str]] = defaultdict(set)
    for r in safe_rows:
        people[r.term].add(r.contributor)
    aud = {a.word: a for a in audealize}
    entries = []
    for term in sorted(set(settings) | set(aud)):
        a = aud.get(term)
        source = "+".join(s for s, present in (("safe", term in settings), ("audealize", a is not None)) if present)
        entries.append(VocabularyEntry(
            term=term, source=source,
            example_count=settings[term] + (a.num if a else 0),
            safe_settings=settings[term], safe_contributors=len(people[term]),
            audealize_contributors=a.num if a else 0,
            agreement=round(a.agreement, 4) if a else None,
        ))
    return entries


def _random_eqs(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` plausible random EQs (13-vectors, peaks sorted): gains N(0, 5 dB) clipped, some bands off."""
    gains = np.clip(rng.normal(0.0, 5.0, (n, 5)), -12, 12) * (rng.random((n, 5)) > 0.2)
    low = np.exp(rng.uniform(np.log(22), np.log(1000), n))
    high = np.exp(rng.uniform(np.log(580), np.log(20000), n))
    peak_f = np.sort(np.exp(rng.uniform(np.log(60), np.log(12000), (n, 3))), axis=1)
    peak_q = np.exp(rng.uniform(np.log(0.2), np.log(8), (n, 3)))
    v = np.column_stack([gains[:, 0], low, gains[:, 1], peak_f[:, 0], peak_q[:, 0], gains[:, 2], peak_f[:, 1],
                         peak_q[:, 1], gains[:, 3], peak_f[:, 2], peak_q[:, 2], gains[:, 4], high])
    return v


def _relevance(norm: torch.Tensor) -> torch.Tensor:
    """Per-parameter weights: gains 1; a band's frequency and Q by how loud the band is."""
    w = torch.ones_like(norm)
    for band in BANDS:
        for i in band.indices[1:]:
            w[:, i] = 0.05 + norm[:, band.gain_index].abs()
    return w


def train_model(safe_rows: list[SafeRow], audealize: list[AudealizeWord],
                config: TrainConfig = TrainConfig(), log=None) -> Trained:
    """Train a fresh network on the given rows and words (deterministic for a given config).

    Runs on one CPU thread (small tensors: fastest, and bit-reproducible); the caller's thread count
    is restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(safe_rows, audealize, config, log)
    finally:
        torch.set_num_threads(threads)


def _train(safe_rows: list[SafeRow], audealize: list[AudealizeWord], config: TrainConfig, log) -> Trained:
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    vocab = build_vocabulary(safe_rows, audealize)
    index = {e.term: i for i, e in enumerate(vocab)}
    grid = torch.tensor(LOSS_GRID_HZ, dtype=torch.float32)

    # SAFE settings.
    group = Counter((r.contributor, r.term) for r in safe_rows)
    s_term = torch.tensor([index[r.term] for r in safe_rows], dtype=torch.long)
    s_norm = torch.tensor(normalise(np.array([r.params.to_vector() for r in safe_rows]).reshape(-1, 13)),
                          dtype=torch.float32)
    s_w = torch.tensor([1.0 / math.sqrt(group[(r.contributor, r.term)]) for r in safe_rows], dtype=torch.float32)
    # Audealize words: target response of the player and the 13-parameter fit.
    a_term = torch.tensor([index[a.word] for a in audealize], dtype=torch.long)
    a_norm = torch.tensor(normalise(np.array([a.fit.to_vector() for a in audealize]).reshape(-1, 13)),
                          dtype=torch.float32)
    a_target = torch.tensor(np.array([a.target_db[::2] for a in audealize]).reshape(-1, grid.numel()),
                            dtype=torch.float32)
    a_w = torch.tensor([a.agreement * math.sqrt(a.num) for a in audealize], dtype=torch.float32)
    # Everything the autoencoder sees.
    ae_norm = torch.cat([s_norm, a_norm, torch.tensor(normalise(_random_eqs(config.random_eqs, rng)),
                                                      dtype=torch.float32)])

    with torch.no_grad():
        s_resp = magnitude_db(denormalise(s_norm), grid)
        ae_resp = magnitude_db(denormalise(ae_norm), grid)

    # One target list for word -> EQ: SAFE settings and Audealize words together.
    w_term = torch.cat([s_term, a_term])
    w_norm = torch.cat([s_norm, a_norm])
    w_resp = torch.cat([s_resp, a_target])
    w_weight = torch.cat([s_w, a_w])
    w_weight = w_weight / w_weight.sum()
    w_rel = _relevance(w_norm)
    ae_rel = _relevance(ae_norm)

    net = SemanticNet(len(vocab))
    opt = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.steps)
    losses: dict[str, float] = {}
    for step in range(config.steps):
        opt.zero_grad()
        z_terms = net.terms.weight
        dec_terms = net.decode(z_terms)
        resp_terms = magnitude_db(denormalise(dec_terms), grid)
        # word -> EQ
        err_resp = ((resp_terms[w_term] - w_resp) / _DB_SCALE).pow(2).mean(dim=1)
        err_par = (w_rel * (dec_terms[w_term] - w_norm).pow(2)).mean(dim=1)
        loss_resp = (w_weight * err_resp).sum()
        loss_par = (w_weight * err_par).sum()
        # encoder tie and cycle
        tied = torch.multinomial(w_weight, config.autoencoder_batch, replacement=True, generator=gen)
        loss_tie = (net.encode(w_norm[tied]) - z_terms[w_term[tied]]).pow(2).sum(dim=1).mean()
        loss_cycle = (net.encode(dec_terms) - z_terms).pow(2).sum(dim=1).mean()
        # autoencoder
        batch = torch.randint(0, ae_norm.shape[0], (config.autoencoder_batch,), generator=gen)
        recon = net.decode(net.encode(ae_norm[batch]))
        loss_ae = ((magnitude_db(denormalise(recon), grid) - ae_resp[batch]) / _DB_SCALE).pow(2).mean() + \
            (ae_rel[batch] * (recon - ae_norm[batch]).pow(2)).mean()
        loss_norm = z_terms.pow(2).sum(dim=1).mean()
        loss = (config.weight_response * loss_resp + config.weight_params * loss_par
                + config.weight_tie * loss_tie + config.weight_cycle * loss_cycle
                + config.weight_autoencoder * loss_ae + config.weight_latent_norm * loss_norm)
        loss.backward()
        opt.step()
        sched.step()
        if log is not None and (step % 250 == 0 or step == config.steps - 1):
            log(f"step {step:5d}  loss {loss.item():.4f}  response {loss_resp.item():.4f}  "
                f"tie {loss_tie.item():.4f}  autoencoder {loss_ae.item():.4f}")
    losses = {"total": loss.item(), "response": loss_resp.item(), "params": loss_par.item(),
              "tie": loss_tie.item(), "cycle": loss_cycle.item(), "autoencoder": loss_ae.item()}
    net.eval()
    return Trained(net=net, vocabulary=vocab, config=config, final_losses=losses,
                   seconds=time.perf_counter() - start)


def save_trained(trained: Trained, out_dir: Path) -> None:
    """Write the weights, their numpy export and the vocabulary into ``out_dir`` (temporary file + rename each)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": 1,
        "latent_dim": trained.net.latent_dim,
        "hidden": trained.net.hidden,
        "terms": [e.term for e in trained.vocabulary],
        "state_dict": trained.net.state_dict(),
        "config": asdict(trained.config),
    }
    tmp = out_dir / f".{WEIGHTS_FILE}.tmp"
    torch.save(blob, tmp)
    tmp.replace(out_dir / WEIGHTS_FILE)
    runtime.export(trained.net, blob["terms"], out_dir / runtime.ARRAYS_FILE)  # what answers run (numpy)
    write_json_atomic(out_dir / VOCABULARY_FILE, [asdict(e) for e in trained.vocabulary])


def tiny_subset(safe_rows: list[SafeRow], audealize_words: list[str]) -> tuple[list[SafeRow], list[str]]:
    """A small, fixed subset for a fast pipeline check: a few settings per word and 16 Audealize words."""
    per_term: Counter[str] = Counter()
    rows = []
    for r in safe_rows:
        if per_term[r.term] < 12:
            rows.append(r)
            per_term[r.term] += 1
    keep = ["warm", "bright", "dark", "harsh", "muddy", "airy", "clear", "soft", "loud", "tinny",
            "boomy", "deep", "thin", "full", "crisp", "mellow"]
    return rows, [w for w in keep if w in set(audealize_words)]


def train(data_dir: Path, out_dir: Path, tiny: bool = False, seed: int = 0, log=print,
          embeddings: bool = True) -> Trained:
    """Train on all SAFE contributors and all English Audealize words; write ``out_dir``.

    Writes the weights, the vocabulary, a training summary (data counts, what was dropped and why)
    and, if the sentence-embedding extra is installed and ``embeddings``, the vocabulary's
    embeddings. The Audealize fits are cached in ``out_dir``.
    """
    out_dir = Path(out_dir)
    safe = load_safe(data_dir)
    rows = safe.rows
    words = None
    if tiny:
        rows, words = tiny_subset(rows, sorted(audealize_word_set(Path(data_dir))))
    log(f"SAFE: {len(rows)} settings from {len({r.contributor for r in rows})} contributors")
    audealize = load_audealize(data_dir, cache_dir=out_dir, words=words)
    log(f"Audealize: {len(audealize)} English words fitted "
        f"(median fit error {np.median([a.fit_rms_db for a in audealize]):.2f} dB RMS)")
    config = TrainConfig(seed=seed) if not tiny else TrainConfig(seed=seed, steps=TINY.steps, random_eqs=TINY.random_eqs)
    trained = train_model(rows, audealize, config, log=log)
    log(f"trained {len(trained.vocabulary)} words in {trained.seconds:.1f} s")
    save_trained(trained, out_dir)
    summary = {
        "safe_settings_used": len(rows),
        "safe_contributors": len({r.contributor for r in rows}),
        "audealize_words": len(audealize),
        "vocabulary_size": len(trained.vocabulary),
        "tiny": tiny,
        "config": asdict(config),
        "final_losses": trained.final_losses,
        "train_seconds": round(trained.seconds, 1),
        "safe_dropped": [asdict(d) for d in safe.dropped],
    }
    write_json_atomic(out_dir / SUMMARY_FILE, summary)
    if embeddings:
        from daw_bridge.semantic import embeddings as emb

        if emb.available():
            emb.precompute(out_dir, [e.term for e in trained.vocabulary])
            log("vocabulary sentence embeddings written")
        else:
            log("sentence-embedding extra not installed: unknown words will get difflib suggestions only")
    return trained
