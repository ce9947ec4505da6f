"""Problems in a track's spectrum, measured two ways (the names come from :mod:`daw_bridge.naming`).

**Against the track's own envelope** (:func:`find_envelope_problems`, basis ``"envelope"``):
resonances, bumps, dips and steps, whatever the genre. The long-term spectrum is read on a
1/24-octave grid, each point the mean power density over 1/12 octave (at least
:data:`FINE_MIN_BINS` FFT bins), in dB. It is modelled as a smooth envelope (a Whittaker smoother:
second differences penalised by :data:`ENVELOPE_STIFFNESS`, robustly re-weighted) plus a few
templates: RBJ peaking bells (widths :data:`TEMPLATE_WIDTHS_OCT`, centres every 1/12 octave) and RBJ
shelves. Templates are chosen greedily by how much of the spectrum they explain that the envelope
cannot (the envelope is fitted jointly, so a bump does not hide in its own envelope), their gains
refitted jointly with a small ridge; a template much like one already chosen, or one that would flip
the sign of another's gain, is not taken. Each bell is then refined (centre, gain, width) by
non-linear least squares. A bump is reported from :data:`ENVELOPE_MIN_DB` and
:data:`ENVELOPE_MIN_Z` times the local robust spread of what is left.

**Against another track** (:func:`find_broad`, basis ``"reference"``; matching a reference track,
:mod:`daw_bridge.match`; against typical music the analysis uses :mod:`daw_bridge.posterior`).
The third-octave difference (minus what the narrow bells already explain)
is decomposed by matching pursuit into bells (1/6-octave centres, widths 0.5-3 octaves) and shelves,
weighted by the inverse covariance of real music's deviations (:attr:`Reference.covariance_db2`,
blind to a constant level): a tilt that real tracks often have weighs little, a lone bump much. An
atom is taken when its z-score (weighted projection over its weighted norm) reaches ``min_z`` and
its gain :data:`BROAD_MIN_DB`; the gains of the chosen atoms are refitted jointly (generalised least
squares), atoms more than :data:`BROAD_MAX_CORRELATION` alike are never both taken, so no two
explain the same thing with opposite signs.

Both return :class:`Bump` values (gain + = more energy than expected, dB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import solveh_banded
from scipy.optimize import least_squares

from daw_bridge.eq import (
    DESIGN_Q_RANGE,
    FREQ_RANGE_HZ,
    GAIN_RANGE_DB,
    EQParams,
    third_octave_centres_hz,
)
from daw_bridge.layout import BANDS, q_from_octaves
from daw_bridge.reference import Reference
from daw_bridge.spectrum import LongTermSpectrum, band_responses_db, vector_band_responses_db

#: The fine grid: step and smoothing width (octaves), range (Hz), least FFT bins per point.
FINE_STEP_OCT = 1.0 / 24.0
FINE_SMOOTH_OCT = 1.0 / 12.0
FINE_RANGE_HZ = (30.0, 16000.0)
FINE_MIN_BINS = 8
#: Envelope: stiffness of the Whittaker smoother (second differences on the 1/24-octave grid) and
#: robust iterations; bumps: smallest size (dB), size over the local roughness, most bumps.
ENVELOPE_STIFFNESS = 2e5
ENVELOPE_ITERATIONS = 3
ENVELOPE_MIN_DB = 2.5
ENVELOPE_MIN_Z = 2.0
ENVELOPE_MAX_COUNT = 6
#: Ridge of the joint refit (share of each template's own energy), most alike two templates may be,
#: largest believable bump (dB).
ENVELOPE_RIDGE = 0.05
ENVELOPE_MAX_CORRELATION = 0.5
ENVELOPE_MAX_DB = 15.0
#: Envelope templates: bell widths (octaves) and the range their centres or corners lie in (Hz).
TEMPLATE_WIDTHS_OCT = (0.3, 0.45, 0.65, 0.9, 1.3, 1.8, 2.5)
TEMPLATE_RANGE_HZ = (40.0, 14000.0)
#: Broad problems: bands used (Hz), smallest gain (dB), default z threshold, most atoms, overlap.
BROAD_RANGE_HZ = (30.0, 16500.0)
BROAD_MIN_DB = 1.5
BROAD_MIN_Z = 3.0
BROAD_MAX_COUNT = 4
BROAD_MAX_CORRELATION = 0.6
#: Broad dictionary: peak widths (octaves), shelf corners (Hz).
BROAD_WIDTHS_OCT = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
LOW_SHELF_HZ = (50.0, 70.0, 100.0, 140.0, 200.0, 280.0, 400.0)
HIGH_SHELF_HZ = (1500.0, 2200.0, 3000.0, 4000.0, 5000.0, 6500.0, 8000.0, 10000.0, 12500.0)
#: Gain at which atoms are designed (dB); responses are divided by it (peaks and shelves of the RBJ
#: cookbook cut exactly what they boost, so the shape per dB is the same for both signs).
ATOM_DESIGN_DB = 6.0


@dataclass(frozen=True)
class Bump:
    """A measured departure: ``shape`` peak | low_shelf | high_shelf, centre or corner ``freq_hz``,
    ``gain_db`` (+ = more energy than expected), ``width_oct`` (peaks), ``z`` (size over the natural
    spread), ``basis`` envelope | reference, ``probability`` that it is a problem where a model
    gives one (:mod:`daw_bridge.posterior`)."""

    shape: str
    freq_hz: float
    gain_db: float
    width_oct: float | None
    z: float
    basis: str
    probability: float | None = None

    def params(self, gain_db: float | None = None) -> EQParams:
        """This bump as a 5-band EQ (one band used) at ``gain_db`` (default its own gain)."""
        g = self.gain_db if gain_db is None else gain_db
        return eq_from_bands([(self.shape, self.freq_hz, g, self.width_oct)])


def eq_from_bands(bands: list[tuple[str, float, float, float | None]]) -> EQParams:
    """A 5-band EQ from (shape, freq Hz, gain dB, width octaves or None) bands: at most one per
    shelf and three peaks (lowest frequency first), each gain clipped to +-12 dB, Q from the width
    (:func:`daw_bridge.layout.q_from_octaves`, inside the design range); unused bands are flat."""
    return EQParams.from_vector(bands_vector(bands))


def bands_vector(bands: list[tuple[str, float, float, float | None]]) -> np.ndarray:
    """The 13-vector of :func:`eq_from_bands` (what it validates into an :class:`EQParams`)."""
    v = EQParams.flat().raw_vector()
    slots = {kind: [b for b in BANDS if b.kind == kind] for kind in ("low_shelf", "peak", "high_shelf")}
    for shape, freq_hz, gain_db, width_oct in sorted(bands, key=lambda b: b[1]):
        slot = slots[shape].pop(0)
        v[slot.gain_index] = float(np.clip(gain_db, *GAIN_RANGE_DB))
        v[slot.freq_index] = float(np.clip(freq_hz, *FREQ_RANGE_HZ))
        if slot.q_index is not None:
            v[slot.q_index] = float(np.clip(q_from_octaves(width_oct or 1.0), *DESIGN_Q_RANGE))
    return v


def bell_db(log2_hz: np.ndarray, centre_log2_hz: float, gain_db: float, width_oct: float) -> np.ndarray:
    """Analog RBJ peaking response (dB) at ``log2_hz``: ``gain_db`` at the centre, half of it at
    +-``width_oct``/2 octaves."""
    a = 10.0 ** (gain_db / 40.0)
    q = 1.0 / (2.0 * math.sinh(math.log(2.0) / 2.0 * width_oct))
    w2 = 4.0 ** (np.asarray(log2_hz) - centre_log2_hz)
    base = (1.0 - w2) ** 2
    return 10.0 * np.log10((base + w2 * (a / q) ** 2) / (base + w2 / (a * q) ** 2))


# --- the fine spectrum and its envelope -----------------------------------------------------------


@dataclass(frozen=True)
class FineSpectrum:
    """Power density (dB, arbitrary reference) on a 1/24-octave grid; ``log2_hz`` = log2(centres)."""

    centres_hz: np.ndarray
    level_db: np.ndarray

    @property
    def log2_hz(self) -> np.ndarray:
        return np.log2(self.centres_hz)


def fine_spectrum(lts: LongTermSpectrum) -> FineSpectrum:
    """The long-term spectrum on the fine grid (see the module docstring)."""
    top = min(FINE_RANGE_HZ[1], 0.45 * lts.sample_rate_hz)
    u = np.arange(math.log2(FINE_RANGE_HZ[0]), math.log2(top), FINE_STEP_OCT)
    centres = 2.0**u
    half = np.maximum(centres * (2.0 ** (FINE_SMOOTH_OCT / 2) - 2.0 ** (-FINE_SMOOTH_OCT / 2)) / 2,
                      FINE_MIN_BINS * lts.bin_hz / 2)
    lo, hi = centres - half, centres + half
    density = lts.band_power(lo, hi) / (hi - lo)
    floor = np.nanmax(density) * 1e-12
    return FineSpectrum(centres, 10.0 * np.log10(np.maximum(density, floor)))


def local_spread_db(log2_hz: np.ndarray, residual_db: np.ndarray) -> np.ndarray:
    """Robust standard deviation (1.4826 x median absolute value) of the residual within +-1 octave."""
    near = np.abs(log2_hz[:, None] - log2_hz[None, :]) <= 1.0
    a = np.where(near, np.abs(residual_db)[None, :], np.nan)
    return np.maximum(1.4826 * np.nanmedian(a, axis=1), 0.25)


# --- bumps against the envelope ------------------------------------------------------------------


@dataclass(frozen=True)
class _Templates:
    kinds: tuple[str, ...]
    log2_hz: np.ndarray  # centre or corner
    widths_oct: np.ndarray  # NaN for shelves
    per_db: np.ndarray  # (points, templates) response per dB of gain


def _shelf_db(u: np.ndarray, corner_log2_hz: float, gain_db: float, high: bool) -> np.ndarray:
    """Analog RBJ shelf (slope 1) response in dB at ``u`` = log2 Hz."""
    a = 10.0 ** (gain_db / 40.0)
    w2 = 4.0 ** (u - corner_log2_hz)
    if high:
        w2 = 1.0 / w2
    # |H|^2 of the RBJ low shelf with S = 1 (Q = 1/sqrt 2): A^2 (A^2 + ... ) form via its poles/zeros
    num = (a - w2) ** 2 + 2.0 * a * w2
    den = (1.0 - a * w2) ** 2 + 2.0 * a * w2
    return 10.0 * np.log10(a**2 * num / den)


@lru_cache(maxsize=8)
def _templates(first_log2_hz: float, points: int) -> _Templates:
    u = first_log2_hz + FINE_STEP_OCT * np.arange(points)
    lo, hi = max(u[0] + 0.4, math.log2(TEMPLATE_RANGE_HZ[0])), min(u[-1] - 0.4, math.log2(TEMPLATE_RANGE_HZ[1]))
    rows: list[tuple[str, float, float, np.ndarray]] = []  # kind, centre log2 Hz, width, response per dB
    for c in u[(u >= lo) & (u <= hi)][::2]:
        rows += [("peak", float(c), w, bell_db(u, c, ATOM_DESIGN_DB, w) / ATOM_DESIGN_DB) for w in TEMPLATE_WIDTHS_OCT]
    for kind, corners in (("low_shelf", LOW_SHELF_HZ), ("high_shelf", HIGH_SHELF_HZ)):
        for c in (math.log2(f) for f in corners):
            if lo <= c <= hi:
                rows.append((kind, c, np.nan, _shelf_db(u, c, ATOM_DESIGN_DB, kind == "high_shelf") / ATOM_DESIGN_DB))
    kinds, centres, widths, cols = zip(*rows)
    return _Templates(tuple(kinds), np.array(centres), np.array(widths), np.array(cols).T)


@lru_cache(maxsize=8)
def _roughness_bands(n: int) -> np.ndarray:
    """Upper banded form (3, n) of D'D, D the second-difference matrix on n points."""
    d = np.diff(np.eye(n), 2, axis=0)
    dtd = d.T @ d
    return np.array([np.r_[0.0, 0.0, np.diag(dtd, 2)], np.r_[0.0, np.diag(dtd, 1)], np.diag(dtd)])


class _Smoother:
    """Whittaker smoother with point weights w: baseline = (W + k D'D)^-1 W v (k the stiffness).

    The joint fit of baseline and templates minimises (y - T g)' M (y - T g) with
    M = W - W (W + k D'D)^-1 W; :meth:`metric_times` gives M X without forming M (banded solves).
    """

    def __init__(self, weights: np.ndarray) -> None:
        self.w = weights
        self.ab = ENVELOPE_STIFFNESS * _roughness_bands(weights.size).copy()
        self.ab[2] += weights

    def smooth(self, v: np.ndarray) -> np.ndarray:
        return solveh_banded(self.ab, self.w * v)

    def metric_times(self, x: np.ndarray) -> np.ndarray:
        wx = self.w[:, None] * x if x.ndim == 2 else self.w * x
        inner = solveh_banded(self.ab, wx)
        return wx - (self.w[:, None] * inner if x.ndim == 2 else self.w * inner)


def _pursuit(y: np.ndarray, t: _Templates, smoother: _Smoother, min_db: float) -> tuple[list[int], np.ndarray]:
    """Greedy joint fit of templates (ridge-regularised, no two alike, gains within the EQ's range)."""
    mt = smoother.metric_times(t.per_db)
    norm2 = np.einsum("ij,ij->j", t.per_db, mt)
    proj = mt.T @ y
    chosen: list[int] = []
    gains = np.zeros(0)
    free = np.ones(len(t.kinds), dtype=bool)
    residual_proj = proj.copy()
    for _ in range(ENVELOPE_MAX_COUNT):
        gain = np.where(free, residual_proj / norm2, 0.0)
        score = np.abs(residual_proj) / np.sqrt(norm2) * free
        j = int(np.argmax(score))
        if abs(gain[j]) < min_db:
            break
        trial = chosen + [j]
        gram = t.per_db[:, trial].T @ mt[:, trial]
        trial_gains = np.linalg.solve(gram + ENVELOPE_RIDGE * np.diag(np.diag(gram)), proj[trial])
        corr = (mt[:, j] @ t.per_db) / np.sqrt(norm2[j] * norm2)
        free &= np.abs(corr) < ENVELOPE_MAX_CORRELATION
        if np.any(np.abs(trial_gains) > ENVELOPE_MAX_DB) or np.any(np.sign(trial_gains[:-1]) != np.sign(gains)):
            continue  # the new template would fight the ones before it: leave it out
        chosen, gains = trial, trial_gains
        residual_proj = proj - mt.T @ t.per_db[:, chosen] @ gains
    return chosen, gains


def find_envelope_problems(fine: FineSpectrum, baseline_db: np.ndarray | None = None,
                           min_db: float | None = None, min_z: float | None = None) -> list[Bump]:
    """Bumps, dips and steps of a fine spectrum against its own smooth envelope (module docstring).

    ``baseline_db``: a curve to subtract first (reference matching: the other track's own
    departure from its envelope, on the same grid), so only what differs is found.
    """
    min_db = ENVELOPE_MIN_DB if min_db is None else min_db
    min_z = ENVELOPE_MIN_Z if min_z is None else min_z
    u = fine.log2_hz
    y = fine.level_db - (0.0 if baseline_db is None else baseline_db)
    t = _templates(round(float(u[0]), 9), u.size)
    weights = np.ones_like(y)
    for _ in range(ENVELOPE_ITERATIONS):
        smoother = _Smoother(weights)
        chosen, gains = _pursuit(y, t, smoother, min_db)
        bells = t.per_db[:, chosen] @ gains if chosen else np.zeros_like(y)
        envelope = smoother.smooth(y - bells)
        residual = y - envelope - bells
        scale = 6.0 * max(float(np.median(np.abs(residual))), 0.1)
        weights = np.clip(1.0 - (residual / scale) ** 2, 0.0, None) ** 2 + 1e-3
    spread = local_spread_db(u, residual)
    out = []
    for i, (j, g) in enumerate(zip(chosen, gains)):
        centre, width = float(t.log2_hz[j]), float(t.widths_oct[j])
        if t.kinds[j] == "peak":  # refine on what the envelope and the other bumps leave
            own = t.per_db[:, j] * g
            centre, g, width = _refine_bell(u, residual + own, centre, float(g), width)
        z = abs(g) / float(np.interp(centre, u, spread))
        if abs(g) >= min_db and z >= min_z:
            out.append(Bump(t.kinds[j], float(2.0**centre), float(g),
                            None if np.isnan(width) else width, float(z), "envelope"))
    return sorted(out, key=lambda b: -abs(b.gain_db))


def _refine_bell(u: np.ndarray, target: np.ndarray, centre: float, gain: float, width: float) -> tuple[float, float, float]:
    """Least-squares bell (centre log2 Hz, gain dB, width octaves) on ``target`` near ``centre``;
    the template's values if the fit fails or wanders off."""
    sel = np.abs(u - centre) <= max(1.0, 1.5 * width)

    def resid(p: np.ndarray) -> np.ndarray:
        return bell_db(u[sel], p[0], p[1], p[2]) - target[sel]

    lo = [centre - 1 / 6, min(gain, 0.0) * 2 - 0.1 if gain < 0 else 0.1, 0.1]
    hi = [centre + 1 / 6, -0.1 if gain < 0 else gain * 2 + 0.1, 3.0]
    x0 = np.clip([centre, gain, width], np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    try:
        fit = least_squares(resid, x0, bounds=(lo, hi), max_nfev=50)
    except ValueError:
        return centre, gain, width
    return float(fit.x[0]), float(fit.x[1]), float(fit.x[2])


# --- broad problems against the reference ----------------------------------------------------------


@dataclass(frozen=True)
class _Atoms:
    shapes: tuple[str, ...]
    freqs_hz: np.ndarray
    widths_oct: np.ndarray  # NaN for shelves
    per_db: np.ndarray  # (atoms, bands) band response per dB of gain


@lru_cache(maxsize=8)
def broad_atoms(sample_rate_hz: float) -> _Atoms:
    """The broad dictionary's band responses at ``sample_rate_hz`` (cached)."""
    top = min(16000.0, 0.4 * sample_rate_hz)
    centres = 2.0 ** np.arange(math.log2(31.5), math.log2(top) + 1e-9, 1.0 / 6.0)
    rows = [("peak", float(f), w) for f in centres for w in BROAD_WIDTHS_OCT]
    rows += [("low_shelf", f, np.nan) for f in LOW_SHELF_HZ]
    rows += [("high_shelf", f, np.nan) for f in HIGH_SHELF_HZ if f < 0.4 * sample_rate_hz]
    shapes, freqs, widths = zip(*rows)
    vectors = np.array([bands_vector([(s, f, ATOM_DESIGN_DB, None if np.isnan(w) else w)])
                        for s, f, w in zip(shapes, freqs, widths)])
    per_db = vector_band_responses_db(vectors, sample_rate_hz, third_octave_centres_hz()) / ATOM_DESIGN_DB
    return _Atoms(tuple(shapes), np.array(freqs), np.array(widths), per_db)


def find_broad(deviation_db: np.ndarray, reference: Reference, sample_rate_hz: float,
               min_z: float = BROAD_MIN_Z, min_db: float = BROAD_MIN_DB) -> list[Bump]:
    """Broad problems of a third-octave deviation from the reference (see the module docstring)."""
    centres = third_octave_centres_hz()
    atoms = broad_atoms(float(sample_rate_hz))
    d = np.asarray(deviation_db, dtype=float)
    sel = np.isfinite(d) & (centres >= BROAD_RANGE_HZ[0]) & (centres <= BROAD_RANGE_HZ[1])
    sel &= centres < 0.45 * sample_rate_hz
    sel &= np.all(np.isfinite(atoms.per_db), axis=0)
    if sel.sum() < 6:
        return []
    cov = reference.covariance_db2[np.ix_(sel, sel)]
    m = int(sel.sum())
    weight = np.linalg.inv(cov + 1e4 * np.ones((m, m)) / m)  # blind to a constant level
    a = atoms.per_db[:, sel]
    aw = a @ weight
    norm = np.sqrt(np.einsum("ij,ij->i", aw, a))
    corr = (aw @ a.T) / np.outer(norm, norm)
    target = d[sel]
    chosen: list[int] = []
    gains = np.zeros(0)
    residual = target
    for _ in range(BROAD_MAX_COUNT):
        z = (aw @ residual) / norm
        z[chosen] = 0.0
        if chosen:
            z[np.any(np.abs(corr[chosen]) > BROAD_MAX_CORRELATION, axis=0)] = 0.0
        k = int(np.argmax(np.abs(z)))
        if abs(z[k]) < min_z or abs(z[k] / norm[k]) < min_db:
            break
        trial = chosen + [k]
        sub = a[trial]
        gains = np.linalg.solve(sub @ weight @ sub.T, sub @ weight @ target)
        chosen = trial
        residual = target - gains @ sub
    out = []
    if chosen:
        sub = a[chosen]
        info = sub @ weight @ sub.T
        stderr = np.sqrt(np.diag(np.linalg.inv(info)))
        for k, g, se in zip(chosen, gains, stderr):
            if abs(g) < min_db or abs(g) / se < min_z:
                continue
            w = atoms.widths_oct[k]
            out.append(Bump(atoms.shapes[k], float(atoms.freqs_hz[k]), float(g),
                            None if np.isnan(w) else float(w), float(abs(g) / se), "reference"))
    return sorted(out, key=lambda b: -abs(b.gain_db))


def bumps_band_response_db(bumps: list[Bump], sample_rate_hz: float) -> np.ndarray:
    """Summed third-octave band response (dB) of bumps applied as EQ bands (0 where none)."""
    centres = third_octave_centres_hz()
    if not bumps:
        return np.zeros(centres.size)
    r = band_responses_db([b.params() for b in bumps], sample_rate_hz, centres)
    return np.nansum(r, axis=0)
