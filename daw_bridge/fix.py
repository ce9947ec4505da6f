"""Corrective-first EQ planning: fix the named problems, then move the tonal balance.

:func:`plan_eq` builds the 5-band EQ (low shelf, three peaks, high shelf) in two steps:

1. **Corrective moves.** Problems (most important first: confidence x size; those below
   :data:`MIN_CONFIDENCE` are left alone) each take a band of their own shape: a peak at the problem's
   frequency and width, a shelf at its corner, with gain ``-strength x measured`` (a resonance is cut,
   never a boost elsewhere; a narrow dip is filled only by :data:`NARROW_DIP_SHARE` of its depth, since
   boosting a notch rings). Auto-suggest (``tonal="range"``) corrects a broad problem (a shelf, or
   a peak :data:`RESONANCE_OCT` wide or more) only as far as the track is also beyond real music's
   interquartile range there (:func:`unusual_db`): a broad bump that belongs to a typical balance
   is named, not removed; resonances are cut by their measured size. A peak is not placed against one of the
   opposite sign that it overlaps, so no two bands cancel.
2. **Tonal move.** What the corrections leave of the deviation, beyond the reference's interquartile
   range (``tonal="range"``: auto-suggest leaves typical character alone) or all of it
   (``tonal="full"``: matching a reference track), times ``-strength``, is fitted with the bands still
   free by a greedy regularised fit over the broad dictionary (:func:`daw_bridge.problems.broad_atoms`):
   each step adds the atom that removes most of the weighted error, its gain the weighted
   least-squares one. The tonal move is then shrunk until no band moves more than
   ``strength x`` its measured departure (+ :data:`TOLERANCE_DB`) or in the wrong direction.

Every gain is within +-``max_gain_db``; strength 0 is exactly flat. Each band carries its reason in
words: "-4.0 dB at 300 Hz: muddy".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from daw_bridge.eq import EQParams, third_octave_centres_hz
from daw_bridge.naming import Problem, hz_text, name_bump
from daw_bridge.problems import Bump, broad_atoms, eq_from_bands
from daw_bridge.reference import Reference
from daw_bridge.spectrum import band_response_db

#: Problems below this confidence are reported but not corrected.
MIN_CONFIDENCE = 0.5
#: Share of a narrow dip's depth that is filled, and what counts as narrow (octaves).
NARROW_DIP_SHARE = 0.5
NARROW_OCT = 0.5
#: Peaks narrower than this (octaves) are resonances: corrected by their measured size, whatever
#: the broad balance (broader problems only as far as the track is unusual for real music there).
RESONANCE_OCT = 0.7
#: Smallest band gain worth setting (dB) and the tolerance of the "never more than measured" check.
MIN_GAIN_DB = 0.5
TOLERANCE_DB = 0.5
#: Bands the tonal fit looks at (Hz).
TONAL_RANGE_HZ = (30.0, 16500.0)


@dataclass(frozen=True)
class PlannedBand:
    """One band of the plan: ``shape``, ``freq_hz``, ``gain_db`` (the EQ's), ``width_oct`` (peaks),
    ``reason`` (the problem word, or "toward the reference"), ``kind`` corrective | tonal."""

    shape: str
    freq_hz: float
    gain_db: float
    width_oct: float | None
    reason: str
    kind: str

    @property
    def text(self) -> str:
        where = {"low_shelf": "below", "high_shelf": "above"}.get(self.shape, "at")
        return f"{self.gain_db:+.1f} dB {where} {hz_text(self.freq_hz)}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"shape": self.shape, "freq_hz": round(self.freq_hz, 1), "gain_db": round(self.gain_db, 2),
                "width_oct": None if self.width_oct is None else round(self.width_oct, 2),
                "reason": self.reason, "kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class Plan:
    params: EQParams
    bands: tuple[PlannedBand, ...]
    change_db: np.ndarray  # band response of the EQ (dB per third-octave band)


def _params(bands: list[PlannedBand]) -> EQParams:
    return eq_from_bands([(b.shape, b.freq_hz, b.gain_db, b.width_oct) for b in bands])


def _overlaps_opposite(b: Bump, gain_db: float, taken: list[PlannedBand]) -> bool:
    for t in taken:
        if t.shape != "peak" or b.shape != "peak" or np.sign(t.gain_db) == np.sign(gain_db):
            continue
        reach = 0.5 * max(t.width_oct or 1.0, b.width_oct or 1.0)
        if abs(np.log2(t.freq_hz / b.freq_hz)) < reach:
            return True
    return False


def unusual_db(problem: Problem, excess_db: np.ndarray) -> float:
    """How far, in the problem's direction, the track lies beyond real music's typical range where
    the problem is (dB, >= 0): the largest ``excess_db`` (deviation beyond the reference's
    interquartile range, per third-octave band) of the problem's sign in its region (peaks: within
    half its width, at least a third of an octave, of its centre; shelves: beyond the corner)."""
    centres = third_octave_centres_hz()
    if problem.shape == "peak":
        region = np.abs(np.log2(centres / problem.freq_hz)) <= max((problem.width_oct or 1.0) / 2, 1 / 3)
    elif problem.shape == "low_shelf":
        region = centres <= problem.freq_hz * 2 ** (1 / 3)
    else:
        region = centres >= problem.freq_hz * 2 ** (-1 / 3)
    signed = np.sign(problem.gain_db) * excess_db[region & np.isfinite(excess_db)]
    return float(max(np.max(signed, initial=0.0), 0.0))


def corrective_bands(problems: list[Problem] | tuple[Problem, ...], strength: float, max_gain_db: float,
                     excess_db: np.ndarray | None = None) -> list[PlannedBand]:
    """Step 1 of :func:`plan_eq`: one band per problem, most important first, while slots last.

    ``excess_db`` (auto-suggest): the deviation beyond the reference's typical range per band; a
    problem is then corrected only as far as the track is also unusual for real music there
    (:func:`unusual_db`), so a bump that is part of a typical balance is named but left alone.
    """
    free = {"low_shelf": 1, "peak": 3, "high_shelf": 1}
    out: list[PlannedBand] = []
    for p in sorted(problems, key=lambda p: -p.confidence * abs(p.gain_db)):
        if p.confidence < MIN_CONFIDENCE or free[p.shape] == 0:
            continue
        share = NARROW_DIP_SHARE if p.gain_db < 0 and p.shape == "peak" and (p.width_oct or 1.0) < NARROW_OCT else 1.0
        size = share * p.gain_db
        if excess_db is not None and (p.shape != "peak" or (p.width_oct or 1.0) >= RESONANCE_OCT):
            size = float(np.sign(size) * min(abs(size), unusual_db(p, excess_db)))
        gain = float(np.clip(-strength * size, -max_gain_db, max_gain_db))
        if abs(gain) < MIN_GAIN_DB or _overlaps_opposite(p.bump, gain, out):
            continue
        free[p.shape] -= 1
        out.append(PlannedBand(p.shape, p.freq_hz, gain, p.width_oct, p.word, "corrective"))
    return out


def tonal_bands(target_db: np.ndarray, limit_db: np.ndarray, taken: list[PlannedBand], weights: np.ndarray,
                sample_rate_hz: float, max_gain_db: float, lexicon: Any) -> list[PlannedBand]:
    """Step 2 of :func:`plan_eq`: the free bands fitted to ``target_db`` (dB per third-octave band),
    no band moving more than ``limit_db`` (>= 0) or against the target's sign."""
    centres = third_octave_centres_hz()
    free = {"low_shelf": 1, "peak": 3, "high_shelf": 1}
    for b in taken:
        free[b.shape] -= 1
    atoms = broad_atoms(float(sample_rate_hz))
    ok = np.isfinite(target_db) & (centres >= TONAL_RANGE_HZ[0]) & (centres <= TONAL_RANGE_HZ[1])
    ok &= np.all(np.isfinite(atoms.per_db), axis=0)
    if not np.any(np.abs(target_db[ok]) > MIN_GAIN_DB):
        return []
    w = weights[ok] / weights[ok].sum()
    a, t = atoms.per_db[:, ok], target_db[ok]
    energy = (a**2) @ w
    chosen: list[tuple[int, float]] = []
    residual = t.copy()
    for _ in range(sum(free.values())):
        gains = np.clip(((a * w) @ residual) / energy, -max_gain_db, max_gain_db)
        gain_reduction = 2 * gains * ((a * w) @ residual) - gains**2 * energy
        usable = np.array([free[s] > 0 for s in atoms.shapes]) & (np.abs(gains) >= MIN_GAIN_DB)
        if not np.any(usable):
            break
        k = int(np.argmax(np.where(usable, gain_reduction, -np.inf)))
        if gain_reduction[k] <= 0.05 * (residual**2 @ w):
            break
        free[atoms.shapes[k]] -= 1
        chosen.append((k, float(gains[k])))
        residual = residual - gains[k] * a[k]
    if not chosen:
        return []
    tonal = sum(g * atoms.per_db[k] for k, g in chosen)
    # never more than measured, never the wrong way: shrink the whole tonal move until it holds
    scale = 1.0
    for _ in range(20):
        move = scale * tonal
        bad = ok & ((np.abs(move) > limit_db + TOLERANCE_DB) | (move * target_db < -TOLERANCE_DB**2 * 4))
        if not np.any(bad):
            break
        scale *= 0.85
    out = []
    for k, g in chosen:
        gain = scale * g
        if abs(gain) < MIN_GAIN_DB:
            continue
        width = atoms.widths_oct[k]
        bump = Bump(atoms.shapes[k], float(atoms.freqs_hz[k]), gain, None if np.isnan(width) else float(width), 3.0, "")
        word = name_bump(bump, lexicon).word if lexicon is not None else ""
        reason = "toward the reference" + (f" (more {word})" if word else "")
        out.append(PlannedBand(bump.shape, bump.freq_hz, gain, bump.width_oct, reason, "tonal"))
    return out


def plan_eq(problems: list[Problem] | tuple[Problem, ...], deviation_db: np.ndarray, reference: Reference,
            sample_rate_hz: float, strength: float, max_gain_db: float, tonal: str = "range",
            lexicon: Any = None) -> Plan:
    """The corrective-first EQ (see the module docstring). ``deviation_db``: dB per third-octave band
    from what the track should sound like (the reference median, or a reference track)."""
    centres = third_octave_centres_hz()
    if strength == 0.0:
        return Plan(EQParams.flat(), (), np.zeros(centres.size))
    low = reference.percentiles_db[25] - reference.median_db
    high = reference.percentiles_db[75] - reference.median_db

    def beyond(d: np.ndarray) -> np.ndarray:
        return d - np.clip(d, low, high) if tonal == "range" else d

    bands = corrective_bands(problems, strength, max_gain_db, beyond(deviation_db) if tonal == "range" else None)
    corrective = band_response_db(_params(bands), sample_rate_hz) if bands else np.zeros(centres.size)
    rest = deviation_db + corrective
    excess = beyond(rest - np.nanmedian(rest))
    target = -strength * excess
    bands += tonal_bands(target, np.abs(target), bands, reference.weights(), sample_rate_hz, max_gain_db, lexicon)
    params = _params(bands) if bands else EQParams.flat()
    change = band_response_db(params, sample_rate_hz) if bands else np.zeros(centres.size)
    return Plan(params, tuple(bands), change)
