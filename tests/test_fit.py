"""fit_eq: least-squares fit of the 13-parameter EQ to a target magnitude response."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge.eq import EQError, EQParams, log_freq_grid, response_db
from daw_bridge.fit import MERGE_TOLERANCE_DB, cascade, fit_eq, stack

GRID = log_freq_grid(128)


def known_eqs() -> list[EQParams]:
    return [
        EQParams(4.0, 120.0, -3.0, 400.0, 1.2, 2.5, 2500.0, 2.0, -4.0, 6000.0, 3.0, 3.0, 9000.0),
        EQParams(-6.0, 250.0, 5.0, 180.0, 0.8, -2.0, 1000.0, 4.0, 6.0, 3500.0, 1.0, -5.0, 12000.0),
        EQParams(0.0, 100.0, 8.0, 90.0, 2.0, 0.0, 1000.0, 0.71, -7.0, 5000.0, 0.5, 0.0, 8000.0),
    ]


@pytest.mark.parametrize("params", known_eqs())
def test_recovers_a_known_eqs_response(params):
    target = response_db(params, GRID)
    result = fit_eq(GRID, target)
    assert result.rms_db < 0.5
    assert np.sqrt(np.mean((response_db(result.params, GRID) - target) ** 2)) == pytest.approx(result.rms_db, abs=1e-9)
    freqs = [result.params.peak1_freq_hz, result.params.peak2_freq_hz, result.params.peak3_freq_hz]
    assert freqs == sorted(freqs)


def test_flat_target_gives_a_flat_response():
    result = fit_eq(GRID, np.zeros_like(GRID))
    assert result.rms_db < 0.05
    assert np.max(np.abs(response_db(result.params, GRID))) < 0.2


def test_weights_choose_where_the_fit_matters():
    # A target no 5-band EQ can follow everywhere: a comb; weight only the low half.
    target = 6.0 * np.sin(np.linspace(0, 12 * np.pi, GRID.size))
    weights = (GRID < 500).astype(float)
    weighted = fit_eq(GRID, target, weights=weights)
    plain = fit_eq(GRID, target)
    low = GRID < 500
    err_weighted = np.sqrt(np.mean((response_db(weighted.params, GRID)[low] - target[low]) ** 2))
    err_plain = np.sqrt(np.mean((response_db(plain.params, GRID)[low] - target[low]) ** 2))
    assert err_weighted < err_plain


def test_initial_guess_is_used_and_never_worse():
    params = known_eqs()[0]
    target = response_db(params, GRID) + 0.3
    result = fit_eq(GRID, target, initial=params)
    assert result.rms_db <= 0.3 + 1e-6


@pytest.mark.parametrize(
    "freqs, target, weights",
    [
        (GRID, np.zeros(10), None),
        (GRID[:3], np.zeros(3), None),
        (GRID, np.full(GRID.size, np.nan), None),
        (-GRID, np.zeros(GRID.size), None),
        (GRID, np.zeros(GRID.size), -np.ones(GRID.size)),
        (GRID, np.zeros(GRID.size), np.zeros(GRID.size)),
    ],
)
def test_bad_input_is_a_clear_error(freqs, target, weights):
    with pytest.raises(EQError):
        fit_eq(freqs, target, weights=weights)


def test_cascade_builds_one_eq_on_another():
    first = EQParams(3.0, 120.0, 2.0, 300.0, 1.0, 0.0, 1000.0, 1.0, -2.0, 4000.0, 1.5, -2.0, 9000.0)
    second = EQParams(2.0, 150.0, 1.5, 250.0, 0.8, -1.0, 2000.0, 1.0, 0.0, 5000.0, 1.0, -1.5, 8000.0)
    assert stack([first, second]) is None  # two low shelves, four peaks, two high shelves: a fit
    result = cascade([first, second])
    freqs = log_freq_grid(128)
    target = response_db(first, freqs) + response_db(second, freqs)
    error = response_db(result.params, freqs) - target
    assert np.sqrt(np.mean(error**2)) == pytest.approx(result.rms_db, abs=1e-6)
    assert result.rms_db < 0.5
    # building on a flat EQ changes nothing
    alone = cascade([EQParams.flat(), second])
    assert np.max(np.abs(response_db(alone.params, freqs) - response_db(second, freqs))) < 1e-9


@pytest.mark.parametrize("sample_rate_hz", [44100.0, 96000.0])
def test_bands_that_fit_the_layout_stack_exactly(sample_rate_hz):
    # one word's move each: a high shelf, a cut at 6.5 kHz, a bell at 180 Hz with a high-shelf dip
    air = EQParams(0.0, 100.0, 0.0, 250.0, 0.71, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 2.75, 12266.0)
    less_ess = EQParams(0.0, 100.0, -5.0, 6500.0, 1.2, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 0.0, 8000.0)
    warm = EQParams(0.0, 100.0, 4.3, 180.0, 0.35, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, -1.3, 4878.0)
    freqs = log_freq_grid(256, 20.0, 20000.0)
    for eqs in ([air, less_ess], [less_ess, warm], [warm]):
        result = cascade(eqs, sample_rate_hz)
        assert result.rms_db == 0.0 and stack(eqs) == result.params
        summed = np.sum([response_db(p, freqs, sample_rate_hz) for p in eqs], axis=0)
        assert np.max(np.abs(response_db(result.params, freqs, sample_rate_hz) - summed)) < 1e-9
    assert stack([air, warm]) is None  # two high shelves: only a fit can do both
    with pytest.raises(EQError):
        cascade([])


def test_held_bands_stay_exactly_and_the_others_fit_around_them():
    sr = 48000.0
    freqs = log_freq_grid(64, 30.0, 16000.0)
    held = EQParams(0.0, 100.0, -5.0, 400.0, 3.0, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 0.0, 8000.0)
    wanted = EQParams(3.0, 120.0, -5.0, 400.0, 3.0, 0.0, 1000.0, 0.71, 4.0, 5000.0, 1.0, 0.0, 8000.0)
    fit = fit_eq(freqs, response_db(wanted, freqs, sr), sr, hold=held).params
    v = fit.raw_vector()
    peak_at_400 = [i for i in (2, 5, 8) if abs(v[i + 1] - 400.0) < 1e-6]
    assert peak_at_400 and v[peak_at_400[0]] == pytest.approx(-5.0, abs=1e-6) and v[peak_at_400[0] + 2] == pytest.approx(3.0, abs=1e-6)
    assert np.max(np.abs(response_db(fit, freqs, sr) - response_db(wanted, freqs, sr))) < 0.3


def test_a_gain_penalty_keeps_bands_from_cancelling():
    """A target two bands could only shave by fighting each other: with the ridge, no opposite pair."""
    sr = 48000.0
    freqs = log_freq_grid(64, 30.0, 16000.0)
    rng = np.random.default_rng(0)
    target = rng.normal(0.0, 0.3, freqs.size)  # nothing but a little noise
    plain = fit_eq(freqs, target, sr).params
    ridged = fit_eq(freqs, target, sr, gain_penalty=0.05).params
    gains = lambda p: np.abs(p.raw_vector()[[0, 2, 5, 8, 11]])  # noqa: E731
    assert gains(ridged).sum() < gains(plain).sum()
    assert gains(ridged).max() < 0.5


@pytest.mark.parametrize("gain_db, freq_hz, q", [(-1.2, 3850.0, 0.29), (2.0, 300.0, 0.5), (-3.0, 1000.0, 1.0)])
def test_one_move_is_one_band_even_with_a_gain_penalty(gain_db, freq_hz, q):
    """The ridge makes two identical half-size peaks cheaper than one: the fit must still give one."""
    freqs = log_freq_grid(64, 30.0, 16000.0)
    one = EQParams.from_vector([0.0, 100.0, gain_db, freq_hz, q, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 0.0, 8000.0])
    fitted = fit_eq(freqs, response_db(one, freqs, 48000.0), 48000.0, gain_penalty=0.01)
    peaks = [b for b in fitted.params.bands() if b.kind == "peak" and abs(b.gain_db) >= 0.2]
    assert len(peaks) == 1
    assert peaks[0].freq_hz == pytest.approx(freq_hz, rel=0.12) and peaks[0].gain_db == pytest.approx(gain_db, abs=0.3)
    assert fitted.rms_db < 0.15


def test_same_kind_shelves_merge_when_that_stays_close_and_fit_otherwise():
    warm = EQParams(0.0, 100.0, 4.3, 180.0, 0.35, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, -1.3, 4878.0)
    bright = EQParams(0.0, 100.0, 0.0, 250.0, 0.71, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 2.0, 4000.0)
    freqs = log_freq_grid(128)
    result = cascade([warm, bright])
    summed = response_db(warm, freqs) + response_db(bright, freqs)
    assert 0.0 < result.rms_db <= MERGE_TOLERANCE_DB
    assert result.params.high_shelf_gain_db == pytest.approx(0.7)  # one shelf, the gains added
    assert 4000.0 < result.params.high_shelf_freq_hz < 4878.0
    assert np.sqrt(np.mean((response_db(result.params, freqs) - summed) ** 2)) == pytest.approx(result.rms_db)
    # a shelf and an opposite one two octaves away do not merge: five bands fit their sum
    air = EQParams(0.0, 100.0, 0.0, 250.0, 0.71, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 2.75, 12300.0)
    fitted = cascade([warm, air])
    target = response_db(warm, freqs) + response_db(air, freqs)
    assert fitted.rms_db < 0.25 and np.max(np.abs(response_db(fitted.params, freqs) - target)) < 0.6
