"""The Bayesian problem estimate (daw_bridge.posterior): checked against a numerical integration of
the same posterior, and on a synthetic "real music" whose only natural variation is a tilt."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge import posterior
from daw_bridge.eq import third_octave_centres_hz
from daw_bridge.problems import Bump, broad_atoms
from daw_bridge.reference import Reference
from daw_bridge.spectrum import band_response_db

SR = 48000.0
CENTRES = third_octave_centres_hz()


def tilt_reference(tracks: int = 400, seed: int = 0) -> Reference:
    """Real music that differs only by a tilt (N(0, 3 dB) per decade) and 0.5 dB of band noise."""
    rng = np.random.default_rng(seed)
    decades = np.log10(CENTRES / 1000.0)
    dev = rng.normal(0, 3.0, (tracks, 1)) * decades + rng.normal(0, 0.5, (tracks, CENTRES.size))
    dev -= np.median(dev, axis=0)
    pct = {p: np.percentile(dev, p, axis=0) for p in (5, 25, 50, 75, 95)}
    return Reference(CENTRES, pct, np.zeros(CENTRES.size), dev, {})


def bell_db(freq_hz: float, gain_db: float, width_oct: float) -> np.ndarray:
    return band_response_db(Bump("peak", freq_hz, gain_db, width_oct, 0.0, "").params(), SR)


def _used(ref: Reference) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bands used, atoms per dB on them, level-blind covariance of natural variation on them)."""
    atoms = broad_atoms(SR)
    sel = (CENTRES >= posterior.BROAD_RANGE_HZ[0]) & (CENTRES <= posterior.BROAD_RANGE_HZ[1])
    sel &= (CENTRES < 0.45 * SR) & np.all(np.isfinite(atoms.per_db), axis=0)
    m = int(sel.sum())
    cov = ref.covariance_db2[np.ix_(sel, sel)] + posterior.LEVEL_VARIANCE_DB2 * np.ones((m, m)) / m
    return sel, atoms.per_db[:, sel], cov


def test_the_first_problem_matches_the_numerically_integrated_posterior():
    """The reported probability of a problem and the most probable atom's gain, against the likelihood
    evaluated on a fine grid of gains for every atom and integrated numerically (no closed form)."""
    ref = tilt_reference()
    rng = np.random.default_rng(3)
    r = bell_db(700.0, 5.0, 1.0) + rng.normal(0, 0.5, CENTRES.size) + 2.0 * np.log10(CENTRES / 1000.0)
    sel, h, cov = _used(ref)
    w = np.linalg.inv(cov)
    x = r[sel] - r[sel].mean()
    g = np.linspace(-60.0, 60.0, 24001)
    dg = g[1] - g[0]
    s2 = posterior.GAIN_PRIOR_DB**2
    b, a = h @ w @ x, np.einsum("kb,bc,kc->k", h, w, h)
    log_joint = (g[None, :] * b[:, None] - 0.5 * g[None, :] ** 2 * a[:, None] - 0.5 * g**2 / s2
                 - 0.5 * np.log(2 * np.pi * s2) + np.log((1 - posterior.NO_PROBLEM_PRIOR) / len(a)))
    top = float(log_joint.max())
    mass = np.exp(log_joint - top).sum(axis=1) * dg
    none = np.exp(np.log(posterior.NO_PROBLEM_PRIOR) - top)
    k = int(np.argmax(mass))
    mean_gain = (np.exp(log_joint[k] - top) * g).sum() * dg / mass[k]
    first = posterior.estimate_problems(r, ref, SR, steps=1).bumps[0]
    assert first.probability == pytest.approx(1 - none / (none + mass.sum()), abs=1e-6)
    assert first.gain_db == pytest.approx(mean_gain, abs=1e-4)
    assert abs(np.log2(first.freq_hz / 700.0)) <= 1 / 3


def test_the_problem_estimate_is_the_least_squares_linear_estimate_of_simulated_problems():
    """Simulate the model (natural variation from the reference's covariance, a constant level, and a
    problem drawn from the prior: nothing, or one atom with a normal gain), regress the problem on the
    deviation by least squares: the module's estimate is that regression."""
    ref = tilt_reference()
    sel, h, _ = _used(ref)
    m = int(sel.sum())
    rng = np.random.default_rng(7)
    n = 200_000
    natural = rng.multivariate_normal(np.zeros(m), ref.covariance_db2[np.ix_(sel, sel)], size=n)
    level = rng.normal(0.0, 10.0, (n, 1))
    has = rng.random(n) >= posterior.NO_PROBLEM_PRIOR
    problem = (has * rng.normal(0.0, posterior.GAIN_PRIOR_DB, n))[:, None] * h[rng.integers(0, len(h), n)]
    r = natural + level + problem
    r_c = r - r.mean(axis=1, keepdims=True)
    coef, *_ = np.linalg.lstsq(r_c, problem - problem.mean(axis=1, keepdims=True), rcond=None)
    test = bell_db(300.0, 6.0, 1.0) + 4.0 * np.log10(CENTRES / 1000.0)
    t = test[sel] - test[sel].mean()
    ours = posterior.estimate_problems(test, ref, SR).problem_db[sel]
    ours = ours - ours.mean()
    assert np.max(np.abs(ours - t @ coef)) < 0.15
    assert np.sqrt(np.mean((t @ coef) ** 2)) > 1.0  # the test case is far from nothing


def test_a_tilt_real_music_often_has_is_character_a_lone_bell_is_a_problem():
    ref = tilt_reference()
    decades = np.log10(CENTRES / 1000.0)
    tilt = 5.0 * decades  # a bright track, well inside what the reference's tracks do
    sel = (CENTRES >= 40) & (CENTRES <= 16000)
    est_tilt = posterior.estimate_problems(tilt, ref, SR)
    assert np.sqrt(np.mean(est_tilt.problem_db[sel] ** 2)) < 0.1 * np.sqrt(np.mean((tilt[sel] - tilt[sel].mean()) ** 2))
    assert not est_tilt.bumps
    bell = bell_db(300.0, 6.0, 1.0)
    est = posterior.estimate_problems(tilt + bell, ref, SR)
    found = est.problem_db - est.problem_db[sel].mean()
    target = bell - bell[sel].mean()
    undone = 1 - np.sqrt(np.mean((found[sel] - target[sel]) ** 2)) / np.sqrt(np.mean(target[sel] ** 2))
    assert undone > 0.4  # a linear estimate shrinks: the prior spreads its variance over every atom
    assert abs(np.log2(CENTRES[sel][np.argmax(found[sel])] / 300.0)) <= 1 / 3
    top = est.bumps[0]
    assert top.shape == "peak" and abs(np.log2(top.freq_hz / 300.0)) <= 1 / 3 and top.gain_db == pytest.approx(6.0, abs=1.5)
    assert top.probability is not None and top.probability > 0.99


def test_no_problem_reported_twice_and_nothing_measured_is_nothing():
    ref = tilt_reference()
    r = bell_db(300.0, 7.0, 1.0) - bell_db(4000.0, 6.0, 1.5)
    est = posterior.estimate_problems(r, ref, SR)
    places = sorted((round(np.log2(b.freq_hz), 1), b.shape) for b in est.bumps)
    assert len(places) == len(set(places)) >= 2
    assert any(b.gain_db > 0 and abs(np.log2(b.freq_hz / 300.0)) <= 1 / 3 for b in est.bumps)
    assert any(b.gain_db < 0 and abs(np.log2(b.freq_hz / 4000.0)) <= 1 / 3 for b in est.bumps)
    empty = posterior.estimate_problems(np.full(CENTRES.size, np.nan), ref, SR)
    assert not empty.bumps and not np.any(empty.problem_db)
