"""RBJ biquads and their magnitude for arrays of bands and of EQs at once (numpy, vectorised).

:func:`rbj_sections` designs many bands in one pass with the formulas of
:func:`daw_bridge.eq.band_sos` (tests check the two agree); :func:`sections_db` is the magnitude in dB
of cascades of second-order sections on a frequency grid, the one evaluation behind
:func:`daw_bridge.eq.response_db` and :func:`daw_bridge.eq.responses_db`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: The identity section ``[b0, b1, b2, a0, a1, a2]``.
IDENTITY = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])


def rbj_sections(is_peak: np.ndarray, is_low: np.ndarray, f: np.ndarray, g: np.ndarray, q: np.ndarray,
                 sample_rate_hz: float) -> np.ndarray:
    """:func:`daw_bridge.eq.band_sos` for arrays of bands (one common shape ``S``) -> sections ``S + (6,)``.

    The same formulas and the same rules for 0 dB bands and bands at or above Nyquist, vectorised
    (tests check the two agree); ``is_peak`` / ``is_low`` say each band's kind (neither = high shelf).
    """
    above = f >= sample_rate_hz / 2.0
    a = 10.0 ** (g / 40.0)
    w0 = 2.0 * np.pi * np.where(above, 0.0, f) / sample_rate_hz
    cos_w0, sin_w0 = np.cos(w0), np.sin(w0)
    alpha = sin_w0 / (2.0 * q)
    sign = np.where(is_low, 1.0, -1.0)
    sq = 2.0 * np.sqrt(a) * alpha
    shelf = np.stack([
        a * ((a + 1) - sign * (a - 1) * cos_w0 + sq),
        sign * 2 * a * ((a - 1) - sign * (a + 1) * cos_w0),
        a * ((a + 1) - sign * (a - 1) * cos_w0 - sq),
        (a + 1) + sign * (a - 1) * cos_w0 + sq,
        -sign * 2 * ((a - 1) + sign * (a + 1) * cos_w0),
        (a + 1) + sign * (a - 1) * cos_w0 - sq,
    ], axis=-1)
    peak = np.stack([1.0 + alpha * a, -2.0 * cos_w0, 1.0 - alpha * a,
                     1.0 + alpha / a, -2.0 * cos_w0, 1.0 - alpha / a], axis=-1)
    sos = np.where(is_peak[..., None], peak, shelf)
    sos = sos / sos[..., 3:4]
    gain_only = np.zeros(f.shape + (6,))
    gain_only[..., 0] = np.where(is_low, 10.0 ** (g / 20.0), 1.0)
    gain_only[..., 3] = 1.0
    sos = np.where(above[..., None], gain_only, sos)
    return np.where((g == 0.0)[..., None], IDENTITY, sos)


def sections_db(sos: np.ndarray, freqs_hz: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """dB magnitude of cascades of sections ``sos`` (..., S, 6) at ``freqs_hz`` (F,) -> (..., F).

    |H|^2 of a section at w = 2 pi f / fs in real arithmetic, (b0 + b1 cos w + b2 cos 2w)^2 +
    (b1 sin w + b2 sin 2w)^2 over the same for a0..a2, as products with the grid's cosine and sine
    rows (:func:`_trig_rows`, kept per grid); the cascade multiplies.
    """
    cos_rows, sin_rows = _trig_rows(np.asarray(freqs_hz, dtype=float).tobytes(), float(sample_rate_hz))
    num = (sos[..., 0:3] @ cos_rows) ** 2 + (sos[..., 1:3] @ sin_rows) ** 2
    den = (sos[..., 3:6] @ cos_rows) ** 2 + (sos[..., 4:6] @ sin_rows) ** 2
    return 10.0 * np.log10(np.maximum(np.prod(num / den, axis=-2), 1e-24))


@lru_cache(maxsize=32)
def _trig_rows(freqs_bytes: bytes, sample_rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows [1, cos w, cos 2w] (3, F) and [sin w, sin 2w] (2, F) of a frequency grid (bytes of float64 Hz)."""
    w = 2.0 * np.pi * np.frombuffer(freqs_bytes, dtype=float) / sample_rate_hz
    cos_rows = np.stack([np.ones_like(w), np.cos(w), np.cos(2.0 * w)])
    sin_rows = np.stack([np.sin(w), np.sin(2.0 * w)])
    cos_rows.setflags(write=False)
    sin_rows.setflags(write=False)
    return cos_rows, sin_rows
