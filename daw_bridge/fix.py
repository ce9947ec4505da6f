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
   the bands still free (least squares on the EQ's exact response, the corrective bands held:
   :func:`daw_bridge.fit.fit_eq`); the move is then shrunk until no band moves more than ``strength x``
   the measured departure within half an octave (+ :data:`TOLERANCE_DB`). Each band is named by the lexicon word for what
   it removes.

Every gain is within +-``max_gain_db``; strength 0 is exactly flat. Each band carries its reason in
words: "-4.0 dB at 300 Hz: muddy".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from daw_bridge.eq import EQParams, third_octave_centres_hz
from daw_bridge.fit import fit_eq
from daw_bridge.layout import octaves_from_q
from daw_bridge.naming import Problem, hz_text, name_bump
from daw_bridge.posterior import estimate_problems
from daw_bridge.problems import Bump, eq_from_bands
from daw_bridge.reference import Reference
from daw_bridge.spectrum import band_response_db

#: Problems below this confidence are reported but not corrected.
MIN_CONFIDENCE = 0.5
#: Share of a narrow dip's depth that is filled, and what counts as narrow (octaves).
NARROW_DIP_SHARE = 0.5
NARROW_OCT = 0.5
#: Auto-suggest corrects an envelope problem only from this size over its local spread: about the 95th
#: percentile of the bumps that real tracks' own envelopes show (13.8 over the 92 reference tracks'
#: 20-s middle excerpts; ``python -m benchmarks.eval_damage`` prints it for the held-out originals).
RESONANCE_CORRECT_Z = 14.0
#: Smallest band gain worth setting (dB): corrective and balance bands (a balance band is a part of
#: one least-squares fit: leaving a small one out spoils the rest), and the tolerance of the "never
#: more than measured" check.
MIN_GAIN_DB = 0.5
BALANCE_MIN_GAIN_DB = 0.2
#: Ridge on the balance fit's gains (see :func:`daw_bridge.fit.fit_eq`): no two bands that cancel.
BALANCE_GAIN_PENALTY = 0.01
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


def balance_bands(target_db: np.ndarray, limit_db: np.ndarray, taken: list[PlannedBand], taken_db: np.ndarray,
                  sample_rate_hz: float, max_gain_db: float, lexicon: Any) -> list[PlannedBand]:
    """Step 2 of :func:`plan_eq`: the bands ``taken`` (whose response is ``taken_db``) leave free,
    fitted to ``target_db`` (dB per third-octave band, every band weighing the same; least squares on
    the EQ's exact response, :func:`daw_bridge.fit.fit_eq`, the taken bands held as they are); the
    move then shrunk until no band moves more than ``limit_db`` (>= 0, + :data:`TOLERANCE_DB`). Each
    band is named by the lexicon word for what it removes."""
    centres = third_octave_centres_hz()
    ok = np.isfinite(target_db) & (centres >= BALANCE_RANGE_HZ[0]) & (centres <= BALANCE_RANGE_HZ[1])
    ok &= centres < 0.45 * sample_rate_hz
    if ok.sum() < 6 or not np.any(np.abs(target_db[ok]) > BALANCE_MIN_GAIN_DB):
        return []
    fitted = fit_eq(centres[ok], target_db[ok] + taken_db[ok], sample_rate_hz=sample_rate_hz,
                    max_gain_db=max_gain_db, hold=_params(taken) if taken else None,
                    gain_penalty=BALANCE_GAIN_PENALTY).params
    def is_taken(band) -> bool:  # held bands come back within the fit's 1e-9 octave bounds
        return any(t.shape == band.kind and abs(np.log2(t.freq_hz / band.freq_hz)) < 1e-6 for t in taken)

    mine = [(b.kind, b.freq_hz, b.gain_db, octaves_from_q(b.q) if b.kind == "peak" else None)
            for b in fitted.bands() if b.gain_db != 0.0 and not is_taken(b)]
    scale = 1.0
    for _ in range(20):  # never more than the limit
        move = band_response_db(eq_from_bands([(s, f, scale * g, w) for s, f, g, w in mine]), sample_rate_hz)[ok]
        if not np.any(np.abs(move) > limit_db[ok] + TOLERANCE_DB):
            break
        scale *= 0.85
    out = []
    for shape, freq_hz, gain_db, width_oct in mine:
        gain = scale * gain_db
        if abs(gain) < BALANCE_MIN_GAIN_DB:
            continue
        removed = Bump(shape, freq_hz, -gain, width_oct, 3.0, "")
        reason = name_bump(removed, lexicon).word if lexicon is not None else "balance"
        out.append(PlannedBand(shape, freq_hz, gain, width_oct, reason, "balance"))
    return out


def _local_max_abs(values_db: np.ndarray) -> np.ndarray:
    """Per third-octave band, the largest |value| within half an octave (NaN bands count as 0)."""
    v = np.abs(np.nan_to_num(np.asarray(values_db, dtype=float)))
    u = np.log2(third_octave_centres_hz())
    near = np.abs(u[:, None] - u[None, :]) <= 0.5 + 1e-9
    return np.max(np.where(near, v[None, :], 0.0), axis=1)


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
    problem = estimate_problems(rest, reference, sample_rate_hz, steps=0).problem_db if goal == "typical" else rest
    # never more than measured: the limit is the departure itself (its largest size within half an
    # octave), not the (smaller) estimate
    bands += balance_bands(-strength * problem, strength * _local_max_abs(rest), bands, corrective,
                           sample_rate_hz, max_gain_db, lexicon)
    params = _params(bands) if bands else EQParams.flat()
    change = band_response_db(params, sample_rate_hz) if bands else np.zeros(centres.size)
    return Plan(params, tuple(bands), change)


def kept_problems(problems: list[Problem] | tuple[Problem, ...], change_db: np.ndarray, strength: float,
                  sample_rate_hz: float) -> list[str]:
    """The reported problems a plan (third-octave band response ``change_db``, dB) undoes less than
    half of ``strength`` of, as their text ("distant: -9 dB around 5.1 kHz"): what was heard and kept
    as the track's character, for the explanation. The share undone is the projection of the plan's
    response on the problem's own (its bump as one EQ band, :meth:`Bump.params`)."""
    change = np.nan_to_num(np.asarray(change_db, dtype=float))
    out = []
    for p in problems:
        own = np.nan_to_num(band_response_db(p.bump.params(), sample_rate_hz))
        norm = float(own @ own)
        if norm == 0.0 or -float(change @ own) / norm < 0.5 * strength:
            out.append(p.text)
    return out
