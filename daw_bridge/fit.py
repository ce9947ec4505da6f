"""Fit the 5-band EQ (13 parameters) to a target magnitude response.

:func:`fit_eq` runs :func:`scipy.optimize.least_squares` on the engine's own
:func:`daw_bridge.eq.response_db`, so the fitted EQ is exactly what :func:`daw_bridge.eq.apply_eq`
plays. Gains are fitted in dB, frequencies in log2(Hz) (octaves) and Q in log2(Q), each bounded by
the legal ranges of :mod:`daw_bridge.eq`. A few deterministic starting points are tried and the best
result is kept.

Used for Audealize word curves, for the analysis' parametric route, for combining a host's current
EQ with a new one and for blends of words (:func:`cascade`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from daw_bridge.eq import (
    DESIGN_Q_RANGE,
    FREQ_RANGE_HZ,
    GAIN_RANGE_DB,
    SHELF_Q,
    Band,
    EQError,
    EQParams,
    band_sos,
    log_freq_grid,
    response_db,
)
from daw_bridge.layout import BANDS, FREQ_INDEX, GAIN_INDEX, Q_INDEX


@dataclass(frozen=True)
class FitResult:
    """A fitted EQ and its error: ``rms_db`` is the (weighted) RMS of fit minus target in dB."""

    params: EQParams
    rms_db: float


def _bounds(sample_rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the internal vector (dB, log2 Hz, log2 Q)."""
    lo = np.empty(13)
    hi = np.empty(13)
    lo[list(GAIN_INDEX)], hi[list(GAIN_INDEX)] = GAIN_RANGE_DB
    top_hz = min(FREQ_RANGE_HZ[1], 0.49 * sample_rate_hz)
    lo[list(FREQ_INDEX)], hi[list(FREQ_INDEX)] = np.log2(FREQ_RANGE_HZ[0]), np.log2(top_hz)
    lo[list(Q_INDEX)], hi[list(Q_INDEX)] = np.log2(DESIGN_Q_RANGE[0]), np.log2(DESIGN_Q_RANGE[1])
    return lo, hi


def _to_internal(vector: np.ndarray) -> np.ndarray:
    x = np.array(vector, dtype=float)
    x[list(FREQ_INDEX)] = np.log2(x[list(FREQ_INDEX)])
    x[list(Q_INDEX)] = np.log2(x[list(Q_INDEX)])
    return x


def _to_vector(x: np.ndarray) -> np.ndarray:
    v = np.array(x, dtype=float)
    v[list(FREQ_INDEX)] = 2.0 ** v[list(FREQ_INDEX)]
    v[list(Q_INDEX)] = 2.0 ** v[list(Q_INDEX)]
    return v


def _held_indices(hold: EQParams | None) -> list[int]:
    """Indices of the 13-vector that belong to the bands of ``hold`` with a gain."""
    if hold is None:
        return []
    v = hold.raw_vector()
    out: list[int] = []
    for band in BANDS:
        if v[band.gain_index] != 0.0:
            out += [band.gain_index, band.freq_index] + ([band.q_index] if band.q_index is not None else [])
    return out


def _starting_points(freqs_hz: np.ndarray, target_db: np.ndarray, sample_rate_hz: float) -> list[np.ndarray]:
    """Deterministic starts: neutral band layout, and peaks at the target's largest deviations."""
    top = min(FREQ_RANGE_HZ[1], 0.49 * sample_rate_hz)

    def at(f: float) -> float:
        return float(np.clip(np.interp(np.log2(f), np.log2(freqs_hz), target_db), *GAIN_RANGE_DB))

    neutral = [(100.0, 0.7), (300.0, 0.7), (1000.0, 0.7), (3000.0, 0.7), (min(8000.0, top), 0.7)]
    wide = [(60.0, 0.7), (200.0, 1.0), (1000.0, 0.5), (5000.0, 1.0), (min(12000.0, top), 0.7)]
    layouts = [neutral, wide]

    # Peaks where the target departs most from a straight shelf-to-shelf line.
    logf = np.log2(freqs_hz)
    residual = target_db - np.interp(logf, [logf[0], logf[-1]], [target_db[0], target_db[-1]])
    picks: list[float] = []
    order = np.argsort(-np.abs(residual))
    for i in order:
        if all(abs(logf[i] - np.log2(p)) > 1.0 for p in picks):
            picks.append(float(np.clip(freqs_hz[i], 40.0, top / 2)))
        if len(picks) == 3:
            break
    while len(picks) < 3:
        picks.append([250.0, 1000.0, 4000.0][len(picks)])
    picks.sort()
    layouts.append([(80.0, 0.7), (picks[0], 1.4), (picks[1], 1.4), (picks[2], 1.4), (min(10000.0, top), 0.7)])
    layouts.append([(250.0, 0.7), (picks[0], 0.7), (picks[1], 0.7), (picks[2], 0.7), (min(3000.0, top), 0.7)])
    layouts.append([(40.0, 0.7), (picks[0], 3.0), (picks[1], 3.0), (picks[2], 3.0), (min(16000.0, top), 0.7)])

    starts = []
    for layout in layouts:
        (fl, _), p1, p2, p3, (fh, _) = layout
        low, high = at(freqs_hz[0]), at(freqs_hz[-1])
        v = [low, fl]
        for f, q in (p1, p2, p3):
            v += [at(f) - 0.5 * (low + high), f, q]
        v += [high, fh]
        starts.append(_to_internal(np.array(v)))
    return starts


#: Which entries of the 13-vector belong to each band, and the band's kind (processing order).
_BAND_SLICES = tuple((band.kind, band.indices) for band in BANDS)
_STEP = 1e-5


class _BandModel:
    """The cascade's dB response as a sum of per-band dB responses (a cascade multiplies, dB adds).

    Every band is designed by the engine (:func:`daw_bridge.eq.band_sos`) and evaluated on the unit
    circle at ``freqs_hz``; the Jacobian by forward differences only re-designs the band a parameter
    belongs to, which keeps one fit well under a second.
    """

    def __init__(self, freqs_hz: np.ndarray, sample_rate_hz: float) -> None:
        w = 2.0 * np.pi * freqs_hz / sample_rate_hz
        self.z1 = np.exp(-1j * w)
        self.z2 = self.z1 * self.z1
        self.sample_rate_hz = sample_rate_hz

    def band_db(self, kind: str, values: np.ndarray) -> np.ndarray:
        gain, freq = values[0], 2.0 ** values[1]
        q = 2.0 ** values[2] if kind == "peak" else SHELF_Q
        sos = band_sos(Band(kind, float(freq), float(gain), float(q)), self.sample_rate_hz)
        h = (sos[0] + sos[1] * self.z1 + sos[2] * self.z2) / (sos[3] + sos[4] * self.z1 + sos[5] * self.z2)
        return 20.0 * np.log10(np.maximum(np.abs(h), 1e-12))

    def db(self, x: np.ndarray) -> np.ndarray:
        """Per-band dB responses, shape (5, n)."""
        return np.array([self.band_db(kind, x[list(idx)]) for kind, idx in _BAND_SLICES])

    def jacobian(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        jac = np.empty((self.z1.size, 13))
        for kind, idx in _BAND_SLICES:
            base_values = x[list(idx)]
            base = self.band_db(kind, base_values)
            for j, i in enumerate(idx):
                step = _STEP if x[i] + _STEP <= hi[i] else -_STEP
                moved = base_values.copy()
                moved[j] += step
                jac[:, i] = (self.band_db(kind, moved) - base) / step
        return jac


def fit_eq(
    freqs_hz: np.ndarray,
    target_db: np.ndarray,
    sample_rate_hz: float = 48000.0,
    initial: EQParams | None = None,
    weights: np.ndarray | None = None,
    max_gain_db: float | None = None,
    hold: EQParams | None = None,
    gain_penalty: float = 0.0,
) -> FitResult:
    """Least-squares fit of the 13 EQ parameters to ``target_db`` (dB) at ``freqs_hz`` (Hz).

    ``freqs_hz`` should be log-spaced (every point counts equally, so the grid sets how much each
    octave matters). ``weights`` (same length, >= 0) weight the squared error per frequency.
    ``initial`` adds a starting point (e.g. a host's current EQ); ``max_gain_db`` (dB) limits every
    gain. ``hold``: bands whose gain is not 0 in it stay exactly as they are there, the others are
    fitted around them. ``gain_penalty`` (>= 0): a ridge on the gains (dB^2 of error per dB^2 of gain,
    per frequency point), so two bands never cancel each other to shave a little error. Returns the
    best fit over a few deterministic starts, peaks sorted by frequency, and its RMS error in dB
    (weighted if weights are given; without the penalty).
    """
    # imported here: a blend whose bands stack never loads scipy (semeq eq starts fast)
    from scipy.optimize import least_squares

    freqs = np.asarray(freqs_hz, dtype=float)
    target = np.asarray(target_db, dtype=float)
    if freqs.ndim != 1 or freqs.shape != target.shape or freqs.size < 4:
        raise EQError(
            f"fit_eq needs matching 1-D frequency and target arrays of at least 4 points, got "
            f"shapes {freqs.shape} and {target.shape}"
        )
    if not (np.all(np.isfinite(freqs)) and np.all(np.isfinite(target)) and np.all(freqs > 0)):
        raise EQError("fit_eq needs finite positive frequencies (Hz) and a finite target (dB)")
    if weights is None:
        w = np.ones_like(freqs)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != freqs.shape or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise EQError("fit_eq weights must be finite, non-negative, not all zero, one per frequency")
    sqrt_w = np.sqrt(w / w.mean())

    lo, hi = _bounds(sample_rate_hz)
    if max_gain_db is not None:  # a tighter gain limit (dB) for every band, e.g. auto-suggest's +-6 dB
        lo[list(GAIN_INDEX)] = np.maximum(lo[list(GAIN_INDEX)], -abs(max_gain_db))
        hi[list(GAIN_INDEX)] = np.minimum(hi[list(GAIN_INDEX)], abs(max_gain_db))
    held = _held_indices(hold)
    if held:
        x_hold = _to_internal(hold.raw_vector())  # type: ignore[union-attr]
        lo[held], hi[held] = x_hold[held] - 1e-9, x_hold[held] + 1e-9
    model = _BandModel(freqs, sample_rate_hz)

    ridge = np.zeros((len(GAIN_INDEX), 13))
    ridge[np.arange(len(GAIN_INDEX)), list(GAIN_INDEX)] = np.sqrt(max(gain_penalty, 0.0) * freqs.size)

    def residual(x: np.ndarray) -> np.ndarray:
        return np.concatenate([sqrt_w * (model.db(x).sum(axis=0) - target), ridge @ x])

    def jacobian(x: np.ndarray) -> np.ndarray:
        return np.vstack([sqrt_w[:, None] * model.jacobian(x, lo, hi), ridge])

    starts = _starting_points(freqs, target, sample_rate_hz)
    if initial is not None:
        starts.insert(0, _to_internal(initial.raw_vector()))
    best = None
    for x0 in starts:
        x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)
        if held:
            x0[held] = x_hold[held]
        result = least_squares(residual, x0, jac=jacobian, bounds=(lo, hi), max_nfev=200)
        if best is None or result.cost < best.cost:
            best = result
    params = _merge_split_peaks(EQParams.from_vector(_to_vector(best.x), clip=True), held,
                                (float(lo[GAIN_INDEX[1]]), float(hi[GAIN_INDEX[1]])))
    rms = float(np.sqrt(np.mean((sqrt_w * (response_db(params, freqs, sample_rate_hz) - target)) ** 2)))
    return FitResult(params=params, rms_db=rms)


#: Two peaks of one sign whose centres and Qs are this close (octaves; log2 of the Q ratio) are one
#: move split in two (the gain ridge rewards halving a peak): :func:`_merge_split_peaks` joins them.
SPLIT_PEAK_OCT = 1.0 / 6.0


def _merge_split_peaks(params: EQParams, held: list[int], gain_range_db: tuple[float, float]) -> EQParams:
    """``params`` with each pair of peaks that is one move split in two (:data:`SPLIT_PEAK_OCT`) joined
    into one peak (the gains summed, within ``gain_range_db``; dB responses of small bells add), the
    other peak set to 0 dB; held bands (``held``: vector indices) are left as they are."""
    v = params.raw_vector()
    peaks = [b for b in BANDS if b.kind == "peak" and b.gain_index not in held]
    for i, a in enumerate(peaks):
        for b in peaks[i + 1:]:
            ga, gb = v[a.gain_index], v[b.gain_index]
            if (ga * gb > 0 and gain_range_db[0] <= ga + gb <= gain_range_db[1]
                    and abs(np.log2(v[a.freq_index] / v[b.freq_index])) < SPLIT_PEAK_OCT
                    and abs(np.log2(v[a.q_index] / v[b.q_index])) < SPLIT_PEAK_OCT):
                v[a.gain_index], v[b.gain_index] = ga + gb, 0.0
                v[a.freq_index] = float(np.sqrt(v[a.freq_index] * v[b.freq_index]))
                v[a.q_index] = float(np.sqrt(v[a.q_index] * v[b.q_index]))
    return EQParams.from_vector(v)


#: A cascade whose same-kind shelves are merged into one (:func:`_merged_shelves`) is used without a
#: fit when it stays within this RMS (dB) of the summed response.
MERGE_TOLERANCE_DB = 0.25


def stack(eqs: Sequence[EQParams]) -> EQParams | None:
    """One 5-band EQ made of the active bands (gain not 0 dB) of all of ``eqs``, when they fit the
    layout: at most one low shelf, three peaks and one high shelf in all. Every band is then the same
    biquad as before, so it does exactly what ``eqs`` do one after the other (their responses in dB
    add). None when the bands do not fit."""
    return _stacked(_active(eqs))


def _active(eqs: Sequence[EQParams]) -> list[Band]:
    """The bands of ``eqs`` that do something (gain not 0 dB), in order."""
    return [b for p in eqs for b in p.bands() if b.gain_db != 0.0]


def _stacked(active: list[Band]) -> EQParams | None:
    slots = {kind: [s for s in BANDS if s.kind == kind] for kind in ("low_shelf", "peak", "high_shelf")}
    if any(sum(b.kind == kind for b in active) > len(free) for kind, free in slots.items()):
        return None
    v = EQParams.flat().raw_vector()
    for band in active:
        slot = slots[band.kind].pop(0)
        v[slot.gain_index], v[slot.freq_index] = band.gain_db, band.freq_hz
        if slot.q_index is not None:
            v[slot.q_index] = band.q
    return EQParams.from_vector(v)


def _merged_shelves(eqs: Sequence[EQParams]) -> EQParams | None:
    """The active bands of ``eqs`` with the shelves of each kind merged into one: gains added, the corner
    the geometric mean of theirs weighted by |gain| ("warm and a bit bright": warm's -1.3 dB shelf at
    4.9 kHz and +2 dB at 4 kHz become +0.7 dB at 4.3 kHz). None when the peaks still do not fit."""
    active = _active(eqs)
    merged = [b for b in active if b.kind == "peak"]
    for kind in ("low_shelf", "high_shelf"):
        shelves = [b for b in active if b.kind == kind]
        gain = sum(b.gain_db for b in shelves)
        if shelves and gain != 0.0:
            weights = np.array([abs(b.gain_db) for b in shelves])
            corner = float(np.exp(np.log([b.freq_hz for b in shelves]) @ weights / weights.sum()))
            merged.append(Band(kind, corner, float(np.clip(gain, *GAIN_RANGE_DB)), SHELF_Q))
    return _stacked(merged)


def cascade(
    eqs: Sequence[EQParams],
    sample_rate_hz: float = 48000.0,
    freqs_hz: np.ndarray | None = None,
) -> FitResult:
    """One 5-band EQ that does every one of ``eqs`` in turn: exactly their bands when they fit the
    layout (:func:`stack`, error 0 dB); else their bands with each kind's shelves merged into one when
    that stays within :data:`MERGE_TOLERANCE_DB` of their summed response (dB); else a fit of the summed
    response, started from the merge if its peaks fit, else from the first (so a new move builds on the
    EQ already on a host's track: ``eqs[0]`` = the current EQ). ``freqs_hz`` defaults to a 128-point log grid
    from 20 Hz to 20 kHz (or just below Nyquist).
    """
    if not eqs:
        raise EQError("cascade needs at least one EQ")
    stacked = stack(eqs)
    if stacked is not None:
        return FitResult(params=stacked, rms_db=0.0)
    if freqs_hz is None:
        freqs_hz = log_freq_grid(128, 20.0, min(20000.0, 0.49 * sample_rate_hz))
    freqs = np.asarray(freqs_hz, dtype=float)
    target_db = np.sum([response_db(p, freqs, sample_rate_hz) for p in eqs], axis=0)
    merged = _merged_shelves(eqs)
    if merged is not None:
        rms = float(np.sqrt(np.mean((response_db(merged, freqs, sample_rate_hz) - target_db) ** 2)))
        if rms <= MERGE_TOLERANCE_DB:
            return FitResult(params=merged, rms_db=rms)
    return fit_eq(freqs, target_db, sample_rate_hz, initial=merged if merged is not None else eqs[0])
