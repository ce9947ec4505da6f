"""Corrective-first EQ planning: fix the problems, then move the balance.

:func:`plan_eq` builds the 5-band EQ (low shelf, three peaks, high shelf) in two steps:

1. **Corrective moves.** Problems (most important first: confidence x size; those below
   :data:`MIN_CONFIDENCE` are left alone) each take a band of their own shape: a peak at the problem's
   frequency and width, a shelf at its corner, with gain ``-strength x measured`` (a resonance is cut,
   never a boost elsewhere; a narrow dip is filled only by :data:`NARROW_DIP_SHARE` of its depth, since
   boosting a notch rings). A peak is not placed against one of the opposite sign that it overlaps, so
   no two bands cancel. Auto-suggest (``goal="typical"``) takes only resonances that stand out from
   their surroundings more than nearly all of real music's own (:data:`RESONANCE_CORRECT_Z`):
   real mastered tracks have three to four envelope bumps of 8 dB or so each, part of their sound.
2. **Balance move.** Auto-suggest: the part of what is left that is likely a problem rather than the
   track's character, the Bayesian estimate of :func:`daw_bridge.posterior.estimate_problems` (a
   departure real music often has is mostly kept, one it rarely has is mostly removed). Matching a
   reference track (``goal="reference"``): all of what is left. Times ``-strength``, it is fitted with
   the bands still free by a greedy regularised fit over the broad dictionary
   (:func:`daw_bridge.problems.broad_atoms`): each step adds the atom that removes most of the weighted
   error, its gain the weighted least-squares one; the move is then shrunk until no band moves more
   than the target (+ :data:`TOLERANCE_DB`) or against it. Each band is named by the lexicon word for
   what it removes.

Every gain is within +-``max_gain_db``; strength 0 is exactly flat. Each band carries its reason in
words: "-4.0 dB at 300 Hz: muddy".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from daw_bridge.eq import EQParams, third_octave_centres_hz
from daw_bridge.naming import Problem, hz_text, name_bump
from daw_bridge.posterior import estimate_problems
from daw_bridge.problems import Bump, broad_atoms, eq_from_bands
from daw_bridge.reference import Reference
from daw_bridge.spectrum import band_response_db

#: Problems below this confidence are reported but not corrected.
MIN_CONFIDENCE = 0.5
#: Share of a narrow dip's depth that is filled, and what counts as narrow (octaves).
NARROW_DIP_SHARE = 0.5
NARROW_OCT = 0.5
#: Auto-suggest corrects an envelope problem only from this size over its local spread: the 95th
#: percentile of the bumps that real tracks' own envelopes show (13.8 over the reference tracks'
#: 20-s excerpts; ``python -m benchmarks.eval_damage`` prints the figure for the held-out originals).
RESONANCE_CORRECT_Z = 14.0
#: Smallest band gain worth setting (dB) and the tolerance of the "never more than measured" check.
MIN_GAIN_DB = 0.5
TOLERANCE_DB = 0.5
#: Bands the balance fit looks at (Hz).
BALANCE_RANGE_HZ = (30.0, 16500.0)


@dataclass(frozen=True)
class PlannedBand:
    """One band of the plan: ``shape``, ``freq_hz``, ``gain_db`` (the EQ's), ``width_oct`` (peaks),
    ``reason`` (the problem word), ``kind`` corrective | balance."""

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


def corrective_bands(problems: list[Problem] | tuple[Problem, ...], strength: float,
                     max_gain_db: float) -> list[PlannedBand]:
    """Step 1 of :func:`plan_eq`: one band per problem, most important first, while slots last."""
    free = {"low_shelf": 1, "peak": 3, "high_shelf": 1}
    out: list[PlannedBand] = []
    for p in sorted(problems, key=lambda p: -p.confidence * abs(p.gain_db)):
        if p.confidence < MIN_CONFIDENCE or free[p.shape] == 0:
            continue
        share = NARROW_DIP_SHARE if p.gain_db < 0 and p.shape == "peak" and (p.width_oct or 1.0) < NARROW_OCT else 1.0
        gain = float(np.clip(-strength * share * p.gain_db, -max_gain_db, max_gain_db))
        if abs(gain) < MIN_GAIN_DB or _overlaps_opposite(p.bump, gain, out):
            continue
        free[p.shape] -= 1
        out.append(PlannedBand(p.shape, p.freq_hz, gain, p.width_oct, p.word, "corrective"))
    return out


def balance_bands(target_db: np.ndarray, limit_db: np.ndarray, taken: list[PlannedBand], weights: np.ndarray,
                  sample_rate_hz: float, max_gain_db: float, lexicon: Any,
                  goal_text: str = "toward the reference") -> list[PlannedBand]:
    """Step 2 of :func:`plan_eq`: the free bands fitted to ``target_db`` (dB per third-octave band),
    no band moving more than ``limit_db`` (>= 0) or against the target's sign; each named by the
    lexicon word for what it removes."""
    centres = third_octave_centres_hz()
    free = {"low_shelf": 1, "peak": 3, "high_shelf": 1}
    for b in taken:
        free[b.shape] -= 1
    atoms = broad_atoms(float(sample_rate_hz))
    ok = np.isfinite(target_db) & (centres >= BALANCE_RANGE_HZ[0]) & (centres <= BALANCE_RANGE_HZ[1])
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
    move_db = sum(g * atoms.per_db[k] for k, g in chosen)
    # never more than the target, never the wrong way: shrink the whole move until it holds
    scale = 1.0
    for _ in range(20):
        move = scale * move_db
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
        removed = Bump(atoms.shapes[k], float(atoms.freqs_hz[k]), -gain, None if np.isnan(width) else float(width), 3.0, "")
        reason = name_bump(removed, lexicon).word if lexicon is not None else goal_text
        out.append(PlannedBand(removed.shape, removed.freq_hz, gain, removed.width_oct, reason, "balance"))
    return out


def plan_eq(problems: list[Problem] | tuple[Problem, ...], deviation_db: np.ndarray, reference: Reference,
            sample_rate_hz: float, strength: float, max_gain_db: float, goal: str = "typical",
            lexicon: Any = None) -> Plan:
    """The corrective-first EQ (see the module docstring). ``deviation_db``: dB per third-octave band
    from the goal: the reference median (``goal="typical"``, auto-suggest) or a reference track
    (``goal="reference"``, matching)."""
    centres = third_octave_centres_hz()
    if goal not in ("typical", "reference"):
        raise ValueError(f"goal must be 'typical' or 'reference', got {goal!r}")
    if strength == 0.0:
        return Plan(EQParams.flat(), (), np.zeros(centres.size))
    if goal == "typical":
        problems = [p for p in problems if p.basis == "envelope" and p.z >= RESONANCE_CORRECT_Z]
    bands = corrective_bands(problems, strength, max_gain_db)
    corrective = band_response_db(_params(bands), sample_rate_hz) if bands else np.zeros(centres.size)
    rest = deviation_db + corrective
    rest = rest - np.nanmedian(rest)
    if goal == "typical":
        rest = estimate_problems(rest, reference, sample_rate_hz).problem_db
    target = -strength * rest
    bands += balance_bands(target, np.abs(target), bands, reference.weights(), sample_rate_hz, max_gain_db,
                           lexicon)
    params = _params(bands) if bands else EQParams.flat()
    change = band_response_db(params, sample_rate_hz) if bands else np.zeros(centres.size)
    return Plan(params, tuple(bands), change)
