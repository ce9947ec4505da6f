"""Training: the vocabulary of every word source -> :class:`~daw_bridge.semantic.net.SemanticNet`.

The vocabulary and its targets come from :func:`daw_bridge.semantic.vocabulary.build` (the studio
lexicon fixes region and direction of its words, crowd sources refine them where they agree,
crowd-only words keep their crowd examples). Losses (full batch, Adam, fixed seed, CPU):

* word -> EQ: for every target example, the decoded EQ of the word's latent against the target,
  both as a frequency response (dB on a 64-point log grid, the main term) and as normalised
  parameters (frequency and Q errors weighted by how loud the band is);
* encoder tie: the encoding of every crowd example that agrees with its word (at least on direction),
  and the re-encoding of the word's own decoded EQ, are pulled to the word's latent (so any EQ can be
  compared with words); a word's tied examples together weigh sqrt(their number);
* autoencoder: decode(encode(EQ)) reproduces the response of real settings and of random EQs.

Weights: a lexicon word's target weighs :data:`~daw_bridge.semantic.vocabulary.LEXICON_WEIGHT`; a
crowd word's examples share weight 1 (within a word: SAFE 1 / sqrt(settings by the same person),
Audealize agreement x sqrt(contributors)).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from daw_bridge.layout import BANDS
from daw_bridge.semantic import runtime
from daw_bridge.semantic.data import FIT_GRID_HZ, Example, write_json_atomic
from daw_bridge.semantic.entries import VocabularyEntry
from daw_bridge.semantic.model import VOCABULARY_FILE, WEIGHTS_FILE
from daw_bridge.semantic.net import SemanticNet, denormalise, magnitude_db, normalise
from daw_bridge.semantic.vocabulary import VocabWord

SUMMARY_FILE = "training_summary.json"

#: Loss grid: every other point of the example grid (64 log-spaced points, 20 Hz - 20 kHz).
LOSS_GRID_HZ = FIT_GRID_HZ[::2]
_DB_SCALE = 6.0  # responses are compared in units of 6 dB


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    steps: int = 2500
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


def vocabulary_entry(word: VocabWord) -> VocabularyEntry:
    """What the run-time model keeps of a vocabulary word (see :class:`VocabularyEntry`)."""
    examples = [e for e in word.tie] if word.kind != "crowd" else word.targets
    evidence: dict[str, int] = {}
    for e in examples:
        evidence[e.source] = evidence.get(e.source, 0) + e.people
    entry = word.entry
    if entry is None:
        return VocabularyEntry(term=word.term, kind=word.kind, source=word.source,
                               example_count=sum(evidence.values()), evidence=evidence)
    main = max(entry.moves, key=lambda m: abs(m.gain_db)) if entry.moves else None
    from daw_bridge.semantic.sources.lexicon import aliases

    return VocabularyEntry(
        term=word.term, kind=word.kind, source=word.source,
        example_count=sum(evidence.values()) + len(entry.sources), evidence=evidence,
        definition=entry.definition, aliases=aliases(entry), confidence=entry.confidence,
        region_hz=None if main is None else [main.low_hz, main.high_hz],
        span_hz=None if main is None else list(entry.region_hz),
        centre_hz=None if main is None else main.centre_hz,
        direction=0 if main is None else (1 if main.gain_db > 0 else -1),
        params=None if word.params is None else word.params.to_dict(),
        references=list(entry.sources),
    )


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


def train_model(words: list[VocabWord], config: TrainConfig = TrainConfig(), log=None) -> Trained:
    """Train a fresh network on the given vocabulary (deterministic for a given config).

    Runs on one CPU thread (small tensors: fastest, and bit-reproducible); the caller's thread count
    is restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(words, config, log)
    finally:
        torch.set_num_threads(threads)


def _tensors(examples: list[tuple[int, Example, float]]) -> tuple[torch.Tensor, ...]:
    """(term index, normalised params, target response on the loss grid, weight) of ``examples``."""
    term = torch.tensor([i for i, _, _ in examples], dtype=torch.long)
    norm = torch.tensor(normalise(np.array([e.params.to_vector() for _, e, _ in examples]).reshape(-1, 13)),
                        dtype=torch.float32)
    resp = torch.tensor(np.array([e.response_db[::2] for _, e, _ in examples]).reshape(-1, LOSS_GRID_HZ.size),
                        dtype=torch.float32)
    weight = torch.tensor([w for _, _, w in examples], dtype=torch.float32)
    return term, norm, resp, weight


def _train(words: list[VocabWord], config: TrainConfig, log) -> Trained:
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    grid = torch.tensor(LOSS_GRID_HZ, dtype=torch.float32)
    targets = [(i, e, e.weight) for i, w in enumerate(words) for e in w.targets]
    ties = [(i, e, e.weight) for i, w in enumerate(words) for e in w.tie] or targets
    w_term, w_norm, w_resp, w_weight = _tensors(targets)
    t_term, t_norm, _, t_weight = _tensors(ties)
    per_term = torch.zeros(len(words)).index_add_(0, t_term, t_weight)
    count = torch.zeros(len(words)).index_add_(0, t_term, torch.ones_like(t_weight))
    t_weight = t_weight / per_term[t_term] * count[t_term].sqrt()  # a word's ties weigh sqrt(examples)
    w_weight = w_weight / w_weight.sum()
    # Everything the autoencoder sees: targets, tied crowd examples, random EQs.
    ae_norm = torch.cat([w_norm, t_norm, torch.tensor(normalise(_random_eqs(config.random_eqs, rng)),
                                                      dtype=torch.float32)])
    with torch.no_grad():
        ae_resp = magnitude_db(denormalise(ae_norm), grid)
    w_rel = _relevance(w_norm)
    ae_rel = _relevance(ae_norm)

    net = SemanticNet(len(words))
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
        tied = torch.multinomial(t_weight, config.autoencoder_batch, replacement=True, generator=gen)
        loss_tie = (net.encode(t_norm[tied]) - z_terms[t_term[tied]]).pow(2).sum(dim=1).mean()
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
    return Trained(net=net, vocabulary=[vocabulary_entry(w) for w in words], config=config, final_losses=losses,
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


#: Words of the tiny pipeline-check run (crowd examples of other words are dropped).
TINY_WORDS = frozenset(["warm", "bright", "dark", "harsh", "muddy", "airy", "clear", "soft", "loud", "tinny",
                        "boomy", "deep", "thin", "full", "crisp", "mellow", "happy", "flat"])


def build_words(data_dir: Path | str | None, cache_dir: Path | str | None, lexicon_dir: Path | str | None = None,
                crowd: list[Example] | None = None, tiny: bool = False):
    """(vocabulary words, crowd words left out, crowd examples) from every source.

    ``crowd``: the crowd examples to use (default: every crowd source's, e.g. a training split is
    passed by the evaluation); ``tiny``: only :data:`TINY_WORDS` and lexicon entries that name them.
    """
    from daw_bridge.semantic import sources, vocabulary
    from daw_bridge.semantic.sources import lexicon as lexicon_source

    lexicon = lexicon_source.load(lexicon_dir)
    known = {n for e in lexicon.entries for n in e.names}
    if crowd is None:
        crowd = sources.crowd_examples(data_dir, cache_dir, known=known)
    if tiny:
        crowd = [e for e in crowd if e.word in TINY_WORDS]
        names = {lexicon.lookup(w).word for w in TINY_WORDS if lexicon.lookup(w) is not None}
        lexicon = type(lexicon)(tuple(e for e in lexicon.entries if e.word in names))
    words, left = vocabulary.build(crowd, lexicon)
    return words, left, crowd


def contributor_split(data_dir: Path | str | None, cache_dir: Path | str | None, test_fraction: float = 0.3,
                      seed: int = 0, lexicon_dir: Path | str | None = None):
    """(vocabulary words without the held-out people, SAFE training rows, held-out SAFE rows).

    The held-out contributors (:func:`~daw_bridge.semantic.sources.safe.split_by_contributor`) are
    removed from every crowd source that has contributor ids; everything else is used.
    """
    from daw_bridge.semantic import sources
    from daw_bridge.semantic.sources import lexicon as lexicon_source
    from daw_bridge.semantic.sources.safe import load_safe, split_by_contributor

    known = {n for e in lexicon_source.load(lexicon_dir).entries for n in e.names}
    crowd = sources.crowd_examples(data_dir, cache_dir, known=known)
    others = {e.word for e in crowd if e.source != "safe"} | known
    train_rows, test_rows = split_by_contributor(load_safe(data_dir, others).rows, test_fraction, seed)
    held = {r.contributor for r in test_rows}
    kept = [e for e in crowd if e.contributor is None or e.contributor not in held]
    words, _, _ = build_words(data_dir, cache_dir, lexicon_dir, crowd=kept)
    return words, train_rows, test_rows


def train(data_dir: Path, out_dir: Path, tiny: bool = False, seed: int = 0, log=print,
          embeddings: bool = True, lexicon_dir: Path | None = None) -> Trained:
    """Train on every source (all SAFE contributors, all English Audealize words, the lexicon).

    Writes into ``out_dir`` the weights, the vocabulary, a training summary (data counts, crowd
    words left out and why, where the crowd disagrees with the lexicon), the Audealize fit cache and,
    if the sentence-embedding extra is installed and ``embeddings``, the lexicon's embeddings.
    """
    out_dir = Path(out_dir)
    words, left, crowd = build_words(data_dir, out_dir, lexicon_dir, tiny=tiny)
    by_source: dict[str, int] = {}
    for e in crowd:
        by_source[e.source] = by_source.get(e.source, 0) + 1
    log("crowd examples: " + ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())))
    kinds = {k: sum(w.kind == k for w in words) for k in ("problem", "quality", "no-change", "crowd")}
    log("vocabulary: " + ", ".join(f"{v} {k}" for k, v in kinds.items()))
    config = TrainConfig(seed=seed) if not tiny else TrainConfig(seed=seed, steps=TINY.steps, random_eqs=TINY.random_eqs)
    trained = train_model(words, config, log=log)
    log(f"trained {len(trained.vocabulary)} words in {trained.seconds:.1f} s")
    save_trained(trained, out_dir)
    summary = {
        "crowd_examples": by_source,
        "vocabulary_size": len(trained.vocabulary),
        "kinds": kinds,
        "tiny": tiny,
        "config": asdict(config),
        "final_losses": trained.final_losses,
        "train_seconds": round(trained.seconds, 1),
        "left_out": [asdict(x) for x in left],
        "source_checks": {w.term: [asdict(c) for c in w.checks] for w in words if w.checks},
    }
    write_json_atomic(out_dir / SUMMARY_FILE, summary)
    if embeddings:
        from daw_bridge.semantic import embeddings as emb

        if emb.available():
            emb.precompute(out_dir, trained.vocabulary)
            log("lexicon sentence embeddings written")
        else:
            log("sentence-embedding extra not installed: unknown words will get spelling suggestions only")
    return trained
