"""The meters' filters against scipy's and pyloudnorm's own, sample by sample.

The meters apply BS.1770's K-weighting by FFT convolution and the true-peak oversampler in polyphase
form, without importing :mod:`scipy.signal` (whose import costs about a second with scipy 1.17). Here
both are compared with the reference implementations they replace: pyloudnorm's filter design run
through :func:`scipy.signal.sosfilt`, and :func:`scipy.signal.resample_poly` with its default filter.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy import signal

from daw_bridge.audio.meters import LoudnessMeter, peak_envelope


def pyloudnorm_sos(sample_rate_hz: float) -> np.ndarray:
    rows = []
    for stage in pyloudnorm.Meter(sample_rate_hz)._filters.values():
        b, a = np.asarray(stage.b) * stage.passband_gain, np.asarray(stage.a)
        rows.append(np.concatenate([b / a[0], a / a[0]]))
    return np.array(rows)


@pytest.mark.parametrize("sample_rate_hz", [8000, 22050, 44100, 48000, 96000, 192000])
def test_k_weighting_equals_pyloudnorms_filters_run_by_sosfilt(sample_rate_hz):
    x = np.random.default_rng(sample_rate_hz).standard_normal((int(0.7 * sample_rate_hz), 2))
    expected = signal.sosfilt(pyloudnorm_sos(sample_rate_hz), x, axis=0)
    meter = LoudnessMeter(sample_rate_hz, 2)
    cuts = np.cumsum([0, 1, 17, 4000, int(0.3 * sample_rate_hz)])  # blocks shorter and longer than the response
    pieces = [meter._weighted(x[a:b]) for a, b in zip(cuts, np.r_[cuts[1:], x.shape[0]])]
    assert np.max(np.abs(np.concatenate(pieces) - expected)) < 1e-9


def test_peak_envelope_equals_resample_polys_points():
    x = np.random.default_rng(3).standard_normal((3000, 3))
    up = np.abs(signal.resample_poly(x, 4, 1, axis=0)).max(axis=1)
    expected = up.reshape(-1, 4).max(axis=1)
    assert np.max(np.abs(peak_envelope(x) - expected)) < 1e-12


def test_analysing_a_file_does_not_import_scipy_signal(tmp_path):
    clip = tmp_path / "clip.wav"
    t = np.arange(3 * 44100) / 44100
    noise = 0.05 * np.random.default_rng(0).standard_normal((t.size, 2))  # program material, not a steady tone
    sf.write(clip, 0.2 * np.c_[np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)] + noise, 44100)
    code = ("import sys; from daw_bridge.analysis import analyze_file; "
            f"analyze_file({str(clip)!r}); print('scipy.signal' in sys.modules, 'pyloudnorm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
