"""The EQ engine (daw_bridge.eq) against an independent evaluation of the RBJ cookbook formulas.

The reference below evaluates each band's transfer function H(z) = B(z^-1) / A(z^-1) directly from
the Audio-EQ-Cookbook text (shelves written with the slope S, peaks with Q), as polynomials in
z^-1 = exp(-j w) on the frequency grid, without going through design_sos or scipy's sosfreqz.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daw_bridge.eq import (
    DESIGN_Q_RANGE,
    PARAM_NAMES,
    SHELF_Q,
    EQError,
    EQParams,
    EQStream,
    apply_eq,
    design_sos,
    log_freq_grid,
    response,
    response_db,
    third_octave_centres_hz,
)
from daw_bridge.errors import SemeqError

AUDIBLE = np.geomspace(20.0, 20000.0, 600)
#: The shelf slope S the engine's SHELF_Q stands for (S = 1 <=> Q = 1/sqrt(2) in the cookbook).
SHELF_SLOPE = 1.0


def rbj_reference_db(kind: str, freq_hz: float, gain_db: float, q: float, fs: float, f: np.ndarray) -> np.ndarray:
    """Magnitude (dB) of one cookbook biquad evaluated as a ratio of polynomials in z^-1."""
    big_a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * freq_hz / fs
    cw, sw = math.cos(w0), math.sin(w0)
    if kind == "peak":
        alpha = sw / (2.0 * q)
        b = [1 + alpha * big_a, -2 * cw, 1 - alpha * big_a]
        a = [1 + alpha / big_a, -2 * cw, 1 - alpha / big_a]
    else:
        # shelf: alpha from the shelf slope S, as the cookbook writes it
        alpha = sw / 2.0 * math.sqrt((big_a + 1.0 / big_a) * (1.0 / SHELF_SLOPE - 1.0) + 2.0)
        r = 2.0 * math.sqrt(big_a) * alpha
        if kind == "low_shelf":
            b = [
                big_a * ((big_a + 1) - (big_a - 1) * cw + r),
                2 * big_a * ((big_a - 1) - (big_a + 1) * cw),
                big_a * ((big_a + 1) - (big_a - 1) * cw - r),
            ]
            a = [(big_a + 1) + (big_a - 1) * cw + r, -2 * ((big_a - 1) + (big_a + 1) * cw), (big_a + 1) + (big_a - 1) * cw - r]
        else:
            b = [
                big_a * ((big_a + 1) + (big_a - 1) * cw + r),
                -2 * big_a * ((big_a - 1) + (big_a + 1) * cw),
                big_a * ((big_a + 1) + (big_a - 1) * cw - r),
            ]
            a = [(big_a + 1) - (big_a - 1) * cw + r, 2 * ((big_a - 1) - (big_a + 1) * cw), (big_a + 1) - (big_a - 1) * cw - r]
    zi = np.exp(-1j * 2.0 * np.pi * np.asarray(f) / fs)  # z^-1 on the unit circle
    h = (b[0] + b[1] * zi + b[2] * zi**2) / (a[0] + a[1] * zi + a[2] * zi**2)
    return 20.0 * np.log10(np.abs(h))


def one_band(kind: str, freq_hz: float, gain_db: float, q: float = 1.0) -> EQParams:
    """A flat EQ with only the band of ``kind`` active (peaks use peak2)."""
    d = EQParams.flat().to_dict()
    if kind == "low_shelf":
        d.update(low_shelf_gain_db=gain_db, low_shelf_freq_hz=freq_hz)
    elif kind == "high_shelf":
        d.update(high_shelf_gain_db=gain_db, high_shelf_freq_hz=freq_hz)
    else:
        d.update(peak2_gain_db=gain_db, peak2_freq_hz=freq_hz, peak2_q=q)
    return EQParams.from_dict(d)


BAND_CASES = [
    ("low_shelf", 30.0, 9.0, SHELF_Q),
    ("low_shelf", 120.0, -6.0, SHELF_Q),
    ("low_shelf", 2500.0, 12.0, SHELF_Q),
    ("peak", 40.0, 6.0, 0.5),
    ("peak", 1000.0, -12.0, 4.0),
    ("peak", 3150.0, 3.0, 0.1),
    ("peak", 12000.0, 9.0, 10.0),
    ("high_shelf", 800.0, -9.0, SHELF_Q),
    ("high_shelf", 8000.0, 6.0, SHELF_Q),
    ("high_shelf", 16000.0, 12.0, SHELF_Q),
]


@pytest.mark.parametrize("fs", [44100.0, 48000.0, 96000.0])
@pytest.mark.parametrize("kind,freq,gain,q", BAND_CASES)
def test_each_band_matches_rbj_reference_within_0_01_db(fs, kind, freq, gain, q):
    params = one_band(kind, freq, gain, q)
    got = response_db(params, AUDIBLE, fs)
    want = rbj_reference_db(kind, freq, gain, q, fs, AUDIBLE)
    assert np.max(np.abs(got - want)) <= 0.01


@pytest.mark.parametrize("fs", [44100.0, 48000.0, 96000.0])
def test_full_eq_is_the_sum_of_its_bands_in_db(fs):
    p = EQParams(4.0, 90.0, -3.0, 300.0, 2.0, 5.0, 2000.0, 0.7, -8.0, 6000.0, 6.0, 2.5, 11000.0)
    want = (
        rbj_reference_db("low_shelf", 90.0, 4.0, SHELF_Q, fs, AUDIBLE)
        + rbj_reference_db("peak", 300.0, -3.0, 2.0, fs, AUDIBLE)
        + rbj_reference_db("peak", 2000.0, 5.0, 0.7, fs, AUDIBLE)
        + rbj_reference_db("peak", 6000.0, -8.0, 6.0, fs, AUDIBLE)
        + rbj_reference_db("high_shelf", 11000.0, 2.5, SHELF_Q, fs, AUDIBLE)
    )
    assert np.max(np.abs(response_db(p, AUDIBLE, fs) - want)) <= 0.01


def test_textbook_points_of_the_bands():
    """Independent of any formula: peak gain at f0, shelf plateaus, half gain at a shelf's corner."""
    fs = 48000.0
    assert response_db(one_band("peak", 1000.0, 7.0, 2.0), [1000.0], fs)[0] == pytest.approx(7.0, abs=1e-9)
    assert response_db(one_band("low_shelf", 100.0, -9.0), [0.0], fs)[0] == pytest.approx(-9.0, abs=1e-9)
    assert response_db(one_band("high_shelf", 2000.0, 5.0), [fs / 2], fs)[0] == pytest.approx(5.0, abs=1e-9)
    # RBJ shelves pass half the gain (in dB) at their corner frequency.
    assert response_db(one_band("low_shelf", 200.0, 8.0), [200.0], fs)[0] == pytest.approx(4.0, abs=1e-6)
    assert response_db(one_band("high_shelf", 4000.0, -6.0), [4000.0], fs)[0] == pytest.approx(-3.0, abs=1e-6)


def test_shelf_slope_has_no_overshoot():
    """S = 1 is the steepest RBJ shelf without a bump: the response stays within [0, gain]."""
    for kind, freq in (("low_shelf", 300.0), ("high_shelf", 3000.0)):
        db = response_db(one_band(kind, freq, 12.0), AUDIBLE, 48000.0)
        assert db.min() >= -1e-9 and db.max() <= 12.0 + 1e-9


@pytest.mark.parametrize("fs", [8000.0, 192000.0])
def test_extreme_sample_rates_do_not_blow_up(fs):
    """Bands above Nyquist (8 kHz) and very low normalized frequencies (192 kHz) stay finite and stable."""
    p = EQParams(12.0, 20.0, 12.0, 3990.0 if fs == 8000.0 else 20.0, 10.0, -12.0, 5000.0, 0.1, 12.0, 15000.0, 10.0, 12.0, 20000.0)
    sos = design_sos(p, fs)
    assert np.all(np.isfinite(sos))
    poles = np.concatenate([np.roots(s[3:]) for s in sos])
    assert np.all(np.abs(poles) < 1.0)
    f = np.geomspace(20.0, fs / 2, 400)
    db = response_db(p, f, fs)
    assert np.all(np.isfinite(db)) and np.all(np.abs(db) <= 5 * 12.0 + 1e-6)
    rng = np.random.default_rng(1)
    x = 0.1 * rng.standard_normal((int(fs), 2))
    y = apply_eq(x, fs, p)
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) < 0.1 * 10 ** (60 / 20) * 10


def test_bands_above_nyquist_do_what_they_do_below_it():
    fs = 8000.0
    f = np.geomspace(20.0, 3900.0, 200)
    # a peak or a high shelf above Nyquist changes nothing; a low shelf above it is its full gain
    assert np.allclose(response_db(one_band("peak", 6000.0, 9.0), f, fs), 0.0)
    assert np.allclose(response_db(one_band("high_shelf", 12000.0, 9.0), f, fs), 0.0)
    assert np.allclose(response_db(one_band("low_shelf", 5000.0, -7.0), f, fs), -7.0)


# --- the parameter value ----------------------------------------------------------------------


def test_validation_errors_are_clear():
    good = EQParams.flat().to_dict()
    for name, bad, words in [
        ("peak1_gain_db", float("nan"), "finite"),
        ("peak1_freq_hz", float("inf"), "finite"),
        ("low_shelf_gain_db", 12.5, "range"),
        ("high_shelf_freq_hz", 19.0, "range"),
        ("peak3_freq_hz", 20001.0, "range"),
        ("peak2_q", 0.05, "range"),
        ("peak2_q", 11.0, "range"),
        ("peak1_gain_db", "3", "number"),
        ("peak1_gain_db", True, "number"),
    ]:
        d = dict(good, **{name: bad})
        with pytest.raises(EQError, match=words) as info:
            EQParams.from_dict(d)
        assert name in str(info.value)
        assert isinstance(info.value, SemeqError) and info.value.code == "bad_params"
    with pytest.raises(EQError, match="missing peak1_q"):
        EQParams.from_dict({k: v for k, v in good.items() if k != "peak1_q"})
    with pytest.raises(EQError, match="unknown volume"):
        EQParams.from_dict(dict(good, volume=1.0))
    with pytest.raises(EQError, match="not valid JSON"):
        EQParams.from_json("{not json")
    with pytest.raises(EQError, match="13 values"):
        EQParams.from_vector([0.0] * 12)
    with pytest.raises(EQError, match="finite"):
        EQParams.from_vector([float("nan")] + [100.0] * 12)
    with pytest.raises(EQError, match="intensity"):
        EQParams.flat().scaled(float("nan"))


def test_range_edges_are_allowed_and_clip_clips():
    EQParams(-12.0, 20.0, 12.0, 20000.0, 0.1, 0.0, 1000.0, 10.0, 0.0, 1000.0, 1.0, 12.0, 20.0)
    p = EQParams.from_vector([30.0, 5.0, 0.0, 100.0, 50.0, 0.0, 200.0, 0.0, 0.0, 1e6, 1.0, -30.0, 1e9], clip=True)
    assert p.low_shelf_gain_db == 12.0 and p.low_shelf_freq_hz == 20.0 and p.peak1_q == 10.0
    # designed EQs keep every peak within the 4-octave bandwidth ReaEQ and ACE EQ can hold
    assert p.peak2_q == DESIGN_Q_RANGE[0] and p.peak3_freq_hz == 20000.0 and p.high_shelf_gain_db == -12.0


def test_json_round_trip():
    p = EQParams(4.25, 90.0, -3.5, 300.0, 2.0, 5.0, 2000.0, 0.7, -8.0, 6000.0, 6.0, 2.5, 11000.0)
    text = p.to_json()
    assert list(json.loads(text)) == list(PARAM_NAMES)
    assert EQParams.from_json(text) == p
    assert EQParams.from_json(json.dumps({"ok": True, "params": p.to_dict()})) == p
    assert EQParams.from_dict(p.to_dict()) == p


def test_flat_eq_is_identity():
    flat = EQParams.flat()
    assert flat.is_flat
    assert np.allclose(response_db(flat, AUDIBLE, 44100.0), 0.0, atol=1e-12)
    x = np.random.default_rng(2).standard_normal((5000, 2))
    assert np.array_equal(apply_eq(x, 44100.0, flat), x)
    assert np.array_equal(apply_eq(x, 44100.0, EQParams(0.0, 50.0, 0.0, 80.0, 9.0, 0.0, 999.0, 0.3, 0.0, 5000.0, 2.0, 0.0, 15000.0)), x)
    assert np.array_equal(design_sos(flat, 48000.0), [[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])


def test_scaled_is_intensity_and_opposite_is_a_mirror():
    p = EQParams(4.0, 90.0, -3.0, 300.0, 2.0, 5.0, 2000.0, 0.7, -6.0, 6000.0, 6.0, 2.5, 11000.0)
    half = p.scaled(0.5)
    assert half.peak3_gain_db == -3.0 and half.peak3_freq_hz == 6000.0 and half.peak3_q == 6.0
    assert p.scaled(0.0).is_flat
    assert p.scaled(1.0) == p
    for k in (0.5, 1.0, 1.7):
        up = response_db(p.scaled(k), AUDIBLE, 48000.0)
        down = response_db(p.scaled(-k), AUDIBLE, 48000.0)
        assert np.max(np.abs(up + down)) < 1e-9  # RBJ boost and cut of one band are exact inverses
    big = p.scaled(3.0)  # gains clip at the legal range
    assert big.low_shelf_gain_db == 12.0 and big.peak3_gain_db == -12.0 and big.high_shelf_gain_db == 7.5


def test_from_vector_sorts_peaks_and_keeps_the_response():
    v = [2.0, 100.0, 3.0, 5000.0, 2.0, -4.0, 200.0, 1.0, 6.0, 1200.0, 0.5, -1.0, 9000.0]
    p = EQParams.from_vector(v)
    assert (p.peak1_freq_hz, p.peak2_freq_hz, p.peak3_freq_hz) == (200.0, 1200.0, 5000.0)
    assert (p.peak1_gain_db, p.peak1_q) == (-4.0, 1.0)
    assert (p.peak3_gain_db, p.peak3_q) == (3.0, 2.0)
    unsorted = EQParams(*v)
    assert np.allclose(unsorted.to_vector(), p.raw_vector())
    assert np.allclose(response_db(unsorted, AUDIBLE, 48000.0), response_db(p, AUDIBLE, 48000.0), atol=1e-9)


def test_grids():
    g = log_freq_grid(10)
    assert g[0] == pytest.approx(20.0) and g[-1] == pytest.approx(20000.0) and np.allclose(np.diff(np.log(g)), np.log(1000) / 9)
    c = third_octave_centres_hz()
    # the 31 nominal bands "20 Hz" .. "20 kHz": 2^(k/3) kHz, k = -17 .. 13
    assert len(c) == 31 and 1000.0 in c
    assert c[0] == pytest.approx(1000 * 2 ** (-17 / 3)) and c[-1] == pytest.approx(1000 * 2 ** (13 / 3))
    assert np.allclose(c[1:] / c[:-1], 2 ** (1 / 3))


# --- processing -------------------------------------------------------------------------------

PROC = EQParams(6.0, 120.0, -4.0, 400.0, 1.5, 9.0, 2500.0, 3.0, -6.0, 7000.0, 0.8, 4.0, 12000.0)


def test_processing_matches_the_response():
    """The filter that runs on audio has the response that response() reports (impulse -> FFT)."""
    fs = 48000.0
    impulse = np.zeros(1 << 16)
    impulse[0] = 1.0
    h = np.fft.rfft(apply_eq(impulse, fs, PROC))
    f = np.fft.rfftfreq(impulse.size, 1.0 / fs)
    band = (f >= 20.0) & (f <= 20000.0)
    assert np.max(np.abs(20 * np.log10(np.abs(h[band])) - response_db(PROC, f[band], fs))) < 1e-6
    assert np.allclose(h[band], response(PROC, f[band], fs), atol=1e-8)


def test_block_processing_equals_whole_processing():
    fs = 44100.0
    x = np.random.default_rng(3).standard_normal((20000, 2))
    whole = apply_eq(x, fs, PROC)
    stream = EQStream(PROC, fs, channels=2)
    edges = [0, 1, 2, 513, 4096, 4097, 12000, 20000]
    blocks = [stream.process(x[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    blocks.append(stream.process(x[:0]))
    assert np.allclose(np.concatenate(blocks), whole, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    x = np.random.default_rng(4).uniform(-0.5, 0.5, (8000, 2)).astype(dtype)
    y = apply_eq(x, 48000.0, PROC)
    assert y.dtype == dtype and y.shape == x.shape
    ref = apply_eq(x.astype(np.float64), 48000.0, PROC)
    assert np.max(np.abs(y - ref)) < (1e-5 if dtype == np.float32 else 1e-12)


def test_integer_audio_is_refused():
    with pytest.raises(EQError, match="floating point"):
        apply_eq(np.zeros((10, 2), dtype=np.int16), 48000.0, PROC)
    with pytest.raises(EQError, match="floating point"):
        EQStream(PROC, 48000.0, channels=2).process(np.zeros((10, 2), dtype=np.int32))


@pytest.mark.parametrize("channels", [1, 2, 8])
def test_channels_are_independent(channels):
    fs = 48000.0
    x = np.random.default_rng(channels).standard_normal((6000, channels))
    y = apply_eq(x, fs, PROC)
    assert y.shape == x.shape
    for c in range(channels):
        assert np.allclose(y[:, c], apply_eq(x[:, c], fs, PROC), atol=1e-12)


def test_mono_1d_and_shape_errors():
    x = np.random.default_rng(5).standard_normal(3000)
    y = apply_eq(x, 48000.0, PROC)
    assert y.shape == (3000,)
    with pytest.raises(EQError, match="shape"):
        EQStream(PROC, 48000.0, channels=2).process(np.zeros((100, 3)))
    with pytest.raises(EQError, match="channel"):
        EQStream(PROC, 48000.0, channels=0)
    with pytest.raises(EQError, match="sample rate"):
        design_sos(PROC, 0.0)


@settings(max_examples=80, deadline=None)
@given(
    fs=st.sampled_from([44100.0, 48000.0, 96000.0]),
    gains=st.lists(st.floats(-12.0, 12.0), min_size=5, max_size=5),
    freqs=st.lists(st.floats(20.0, 20000.0), min_size=5, max_size=5),
    qs=st.lists(st.floats(0.1, 10.0), min_size=3, max_size=3),
)
def test_any_eq_matches_the_rbj_reference(fs, gains, freqs, qs):
    p = EQParams(gains[0], freqs[0], gains[1], freqs[1], qs[0], gains[2], freqs[2], qs[1], gains[3], freqs[3], qs[2], gains[4], freqs[4])
    want = np.zeros_like(AUDIBLE)
    for band in p.bands():
        if band.gain_db != 0.0:
            want += rbj_reference_db(band.kind, band.freq_hz, band.gain_db, band.q, fs, AUDIBLE)
    assert np.max(np.abs(response_db(p, AUDIBLE, fs) - want)) <= 0.01


def test_bands_go_to_their_slots_whatever_their_order():
    from daw_bridge.eq import SHELF_Q, Band

    params = EQParams.from_bands([Band("peak", 3000.0, -2.0, 2.0), Band("high_shelf", 9000.0, 1.0, SHELF_Q),
                                  Band("peak", 200.0, 4.0, 1.0)])
    assert params == EQParams(0.0, 100.0, 4.0, 200.0, 1.0, -2.0, 3000.0, 2.0, 0.0, 4000.0, 0.71, 1.0, 9000.0)
    assert params.bands() == EQParams.from_bands(params.bands()).bands()  # bands() and from_bands round-trip
    with pytest.raises(EQError, match="no free low shelf"):
        EQParams.from_bands([Band("low_shelf", 100.0, 1.0, SHELF_Q)] * 2)
