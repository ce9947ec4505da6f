"""Studio words for what the analysis measures, from the lexicon only (``models/lexicon/``).

**Problems.** A measured bump (:class:`daw_bridge.problems.Bump`) is named by the lexicon word whose
whole EQ curve (all its moves) best matches it: the bump and every problem or quality entry are
compared as EQ curves on a 1/6-octave grid from 20 Hz to 20 kHz, the similarity being the cosine of
the two dB curves (1 = same shape, region and direction; a word for the opposite move scores below 0).
A word with side moves the bump lacks ("telephone": low and high cut with a mid lift) matches a lone
shelf less well than a word that is only that shelf ("dull"). Only words whose main move's region
(widened by half an octave each side) holds the bump's centre or corner compete, when there are
any. Words that name a cause or a thing to imitate (``describes_audio = false``: "hummy", "windy",
"proximity effect", "telephone", the vowels) never name a bump: a bump at 60 Hz may be a bass note as
well as hum. Problem entries get :data:`PROBLEM_BONUS` so that "muddy" wins a tie against a quality word. The confidence of a named
problem is its detection strength times the similarity: the probability that it is a problem where
the measurement gives one (:mod:`daw_bridge.posterior`); for a bump against the track's own envelope,
how far it stands out beyond real music's own bumps: the share of those with a smaller z, from a
log-normal through their median and 95th percentile (:data:`NATURAL_Z_MEDIAN`,
:data:`NATURAL_Z_P95`). A bump as large as a typical mix's own is 0.5 at best: it may well be the
music (a note, a drum), not an EQ problem.

**Descriptors.** A deviation from the reference is scored against every lexicon word's EQ curve
(problem and quality words; no-change words have no curve) by the weighted projection

    score_w = <d, r_w~>_W / <r_w~, r_w~>_W,   r_w~ = r_w - (W-weighted mean of r_w),

W = 1 / (reference spread^2 + 1 dB^2) per band: typical music scores 0, typical music with the word's
EQ applied scores 1. These describe the broad balance; the named problems are what the summary says.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from daw_bridge.eq import (
    EQParams,
    log_freq_grid,
    response_db,
    responses_db,
    third_octave_centres_hz,
)
from daw_bridge.problems import Bump
from daw_bridge.spectrum import band_responses_db

#: Similarity bonus of problem entries over quality entries.
PROBLEM_BONUS = 0.1
#: Real music's own envelope bumps (:func:`daw_bridge.problems.find_envelope_problems` on the 92
#: reference tracks' 20-s middle excerpts, 339 bumps): median and 95th percentile of their z (90th: 9.5,
#: 99th: 20.9; eval_damage prints the same for the held-out originals: 4.0-4.2 and 10.3-12.3).
NATURAL_Z_MEDIAN = 4.2
NATURAL_Z_P95 = 13.8
#: Grid on which curves are compared (Hz) and the rate they are evaluated at.
NAMING_GRID_HZ = log_freq_grid(61, 20.0, 20000.0)
NAMING_RATE_HZ = 48000.0
#: Words whose curve is flatter than this (dB RMS over the measured bands, unweighted) are not scored
#: as descriptors. Unweighted: real music varies most at the extremes, so a move there weighs little,
#: yet "airy" is no flat word.
MIN_WORD_RMS_DB = 0.5


@dataclass(frozen=True)
class Problem:
    """A problem found in the audio: ``word`` (a lexicon word), ``freq_hz`` (centre, or a shelf's
    corner), ``gain_db`` (measured excess, + = too much), ``width_oct`` (peaks; None for shelves),
    ``confidence`` (0..1), ``basis`` ("envelope": against the track's own smoothed spectrum,
    "reference": against the balance of real music), ``shape``, ``similarity`` of the word's
    lexicon move to the measured shape (0..1), ``z``: size over the natural spread."""

    word: str
    freq_hz: float
    gain_db: float
    width_oct: float | None
    confidence: float
    basis: str
    shape: str
    similarity: float
    z: float
    definition: str = ""

    @property
    def bump(self) -> Bump:
        return Bump(self.shape, self.freq_hz, self.gain_db, self.width_oct, self.z, self.basis)

    @property
    def text(self) -> str:
        """'muddy: +5 dB around 300 Hz' (shelves: 'above'/'below' the corner)."""
        where = {"low_shelf": "below", "high_shelf": "above"}.get(self.shape, "around")
        return f"{self.word}: {self.gain_db:+.0f} dB {where} {hz_text(self.freq_hz)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "freq_hz": round(self.freq_hz, 1),
            "gain_db": round(self.gain_db, 1),
            "width_oct": None if self.width_oct is None else round(self.width_oct, 2),
            "confidence": round(self.confidence, 2),
            "basis": self.basis,
            "shape": self.shape,
            "text": self.text,
            "definition": self.definition,
        }


def hz_text(freq_hz: float) -> str:
    """'300 Hz', '3.5 kHz', '12 kHz'."""
    if freq_hz >= 10000:
        return f"{freq_hz / 1000:.0f} kHz"
    if freq_hz >= 1000:
        return f"{freq_hz / 1000:.1f} kHz".replace(".0 kHz", " kHz")
    return f"{freq_hz:.0f} Hz"


def hz_list(freqs_hz: list[float]) -> str:
    """'125 Hz, 2.5 kHz'; more than four: '7 bands (31 Hz - 397 Hz)'."""
    if len(freqs_hz) > 4:
        return f"{len(freqs_hz)} bands ({hz_text(min(freqs_hz))} - {hz_text(max(freqs_hz))})"
    return ", ".join(hz_text(f) for f in freqs_hz)


@dataclass(frozen=True)
class _EntryCurves:
    entries: tuple[Any, ...]
    curves: np.ndarray  # (entries, grid) dB, normalised to unit norm
    low_hz: np.ndarray  # region of each entry's largest move, widened by half an octave each side
    high_hz: np.ndarray
    bonus: np.ndarray  # PROBLEM_BONUS for problem entries, else 0


_entry_cache: weakref.WeakKeyDictionary[Any, _EntryCurves] = weakref.WeakKeyDictionary()


def _entry_curves(lexicon: Any) -> _EntryCurves:
    cached = _entry_cache.get(lexicon)
    if cached is not None:
        return cached
    entries = [e for e in lexicon.entries if e.kind != "no-change" and e.moves and e.describes_audio]
    curves = responses_db(np.array([e.params().raw_vector() for e in entries]), NAMING_GRID_HZ, NAMING_RATE_HZ)
    main = [max(e.moves, key=lambda m: abs(m.gain_db)) for e in entries]
    out = _EntryCurves(tuple(entries), curves / np.linalg.norm(curves, axis=1, keepdims=True),
                       np.array([m.low_hz for m in main]) / np.sqrt(2.0), np.array([m.high_hz for m in main]) * np.sqrt(2.0),
                       np.array([PROBLEM_BONUS if e.kind == "problem" else 0.0 for e in entries]))
    _entry_cache[lexicon] = out
    return out


def beyond_natural(z: float) -> float:
    """Share of real music's own envelope bumps with a smaller ``z`` (0..1; log-normal fit)."""
    if not z > 0.0:
        return 0.0
    sigma = math.log(NATURAL_Z_P95 / NATURAL_Z_MEDIAN) / NormalDist().inv_cdf(0.95)
    return NormalDist(math.log(NATURAL_Z_MEDIAN), sigma).cdf(math.log(z))


def name_bump(bump: Bump, lexicon: Any) -> Problem:
    """The lexicon word that best explains ``bump`` (see the module docstring)."""
    table = _entry_curves(lexicon)
    c = response_db(bump.params(), NAMING_GRID_HZ, NAMING_RATE_HZ)
    c = c / max(float(np.linalg.norm(c)), 1e-9)
    similarity = table.curves @ c
    score = similarity + table.bonus
    there = (table.low_hz <= bump.freq_hz) & (bump.freq_hz <= table.high_hz)
    best = int(np.argmax(np.where(there, score, -np.inf) if there.any() else score))
    entry = table.entries[best]
    sim = float(np.clip(similarity[best], 0.0, 1.0))
    detect = bump.probability if bump.probability is not None else beyond_natural(bump.z)
    return Problem(entry.word, bump.freq_hz, bump.gain_db, bump.width_oct, detect * sim, bump.basis,
                   bump.shape, sim, bump.z, entry.definition)


def name_bumps(bumps: list[Bump], lexicon: Any) -> list[Problem]:
    """Named problems, most important first (confidence x size)."""
    named = [name_bump(b, lexicon) for b in bumps]
    return sorted(named, key=lambda p: -p.confidence * abs(p.gain_db))


# --- descriptors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Descriptor:
    """A lexicon word's score (see the module docstring) and the dB of the deviation it accounts for
    (``explained_db`` = |score| x the weighted RMS of the word's curve); ``common``: the word's entry
    has high confidence (two or more sources agree)."""

    term: str
    score: float
    explained_db: float = 0.0
    common: bool = True


@dataclass(frozen=True)
class WordCurves:
    """Every lexicon word's band response (dB) at one sample rate."""

    terms: tuple[str, ...]
    responses_db: np.ndarray  # (words, bands), NaN above Nyquist
    common: np.ndarray
    params: tuple[EQParams, ...]


_curve_cache: weakref.WeakKeyDictionary[Any, dict[float, WordCurves]] = weakref.WeakKeyDictionary()


def word_curves(lexicon: Any, sample_rate_hz: float) -> WordCurves:
    """Band responses of every lexicon word with moves (cached per lexicon and sample rate)."""
    per = _curve_cache.setdefault(lexicon, {})
    sr = float(sample_rate_hz)
    if sr not in per:
        entries = [e for e in lexicon.entries if e.moves]
        params = [e.params() for e in entries]
        per[sr] = WordCurves(
            tuple(e.word for e in entries),
            band_responses_db(params, sr, third_octave_centres_hz()),
            np.array([e.confidence == "high" for e in entries]),
            tuple(params),
        )
    return per[sr]


def projection_scores(deviation_db: np.ndarray, curves_db: np.ndarray, weights: np.ndarray,
                      min_rms_db: float = MIN_WORD_RMS_DB) -> np.ndarray:
    """Weighted projection of a deviation onto each curve, normalised by the curve's own energy.

    ``deviation_db`` (bands,) or (n, bands); ``curves_db`` (words, bands); NaN bands are skipped.
    Returns (words,) or (n, words). A curve whose RMS about its mean over the measured bands
    (unweighted, dB) is below ``min_rms_db`` scores 0, as does one with no weighted energy at all.
    """
    d = np.atleast_2d(deviation_db)
    ok = np.all(np.isfinite(d), axis=0) & np.all(np.isfinite(curves_db), axis=0)
    w = weights[ok] / weights[ok].sum()
    c = curves_db[:, ok]
    c = c - (c @ w)[:, None]
    energy = (c**2) @ w
    scores = (d[:, ok] * w) @ c.T / np.maximum(energy, 1e-12)
    flat = (np.std(c, axis=1) < min_rms_db) | (energy < 1e-9)
    scores[:, flat] = 0.0
    return scores[0] if np.ndim(deviation_db) == 1 else scores


def descriptor_scores(deviation_db: np.ndarray, sample_rate_hz: float, lexicon: Any, weights: np.ndarray) -> tuple[Descriptor, ...]:
    """Every lexicon word's score for a deviation (dB per band), the most explaining first."""
    curves = word_curves(lexicon, sample_rate_hz)
    scores = projection_scores(deviation_db, curves.responses_db, weights)
    ok = np.isfinite(deviation_db) & np.all(np.isfinite(curves.responses_db), axis=0)
    w = weights[ok] / weights[ok].sum()
    c = curves.responses_db[:, ok]
    c = c - (c @ w)[:, None]
    explained = np.abs(scores) * np.sqrt((c**2) @ w)
    order = np.argsort(-explained, kind="stable")
    return tuple(Descriptor(curves.terms[i], float(scores[i]), float(explained[i]), bool(curves.common[i])) for i in order)
