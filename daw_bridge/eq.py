"""The 5-band parametric EQ (SAFE-DB layout) as one immutable value, and its exact digital filters.

Bands: a low shelf, three peaking bands and a high shelf, designed with the RBJ Audio-EQ-Cookbook
formulas (Robert Bristow-Johnson) and run as second-order sections with :mod:`scipy.signal`.

Units: gains in dB, frequencies in Hz, peak bandwidth as Q (dimensionless). Shelves have no Q in
SAFE-DB; they use one fixed slope, :data:`SHELF_Q` = 1/sqrt(2) (RBJ shelf slope S = 1, the steepest
shelf without overshoot). That is the slope of Ardour's ACE EQ shelves and the common RBJ
approximation of ReaEQ's shelves (``../shared/docs``); hosts map it to their own units.

Processing is causal (:func:`scipy.signal.sosfilt`, like a DAW's EQ), so the phase response is that of
the minimum-phase biquads, and the same object streams any length of audio block by block
(:class:`EQStream`). The sections run in float64 whatever the audio's dtype (float32 sections would
be about 1.5x faster but add errors near -95 dB); at that precision the engine still renders faster
than pedalboard's JUCE filters (``benchmarks/bench_eq_vs_pedalboard.py``, result in
``benchmarks/results/eq_vs_pedalboard.txt``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache
from typing import Iterable, Mapping

import numpy as np

from daw_bridge.biquad import IDENTITY, rbj_sections, sections_db
from daw_bridge.errors import SemeqError
from daw_bridge.layout import BANDS, FREQ_INDEX, GAIN_INDEX, PARAM_NAMES, PEAK_STARTS, Q_INDEX

#: Fixed shelf quality factor (RBJ shelf slope S = 1).
SHELF_Q = 1.0 / math.sqrt(2.0)

#: Legal ranges (inclusive): gains by SAFE-DB's plug-in, frequencies the audible band, Q SAFE's range.
GAIN_RANGE_DB = (-12.0, 12.0)
FREQ_RANGE_HZ = (20.0, 20000.0)
Q_RANGE = (0.1, 10.0)
#: Peak Q range of what the product designs (model outputs, fits): the widest peak is 3.95 octaves,
#: inside the 4-octave bandwidth limit of both ReaEQ and Ardour's ACE EQ, so every host plays it.
DESIGN_Q_RANGE = (0.27, 10.0)



class EQError(SemeqError):
    """An EQ parameter set that cannot be used (missing, non-finite or out of range)."""

    code = "bad_params"


def _range_of(name: str) -> tuple[float, float]:
    if name.endswith("_gain_db"):
        return GAIN_RANGE_DB
    if name.endswith("_freq_hz"):
        return FREQ_RANGE_HZ
    return Q_RANGE


@lru_cache(maxsize=1)
def _design_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest value of each of the 13 parameters of a designed EQ (Q: DESIGN_Q_RANGE)."""
    lo = np.array([_range_of(n)[0] for n in PARAM_NAMES])
    hi = np.array([_range_of(n)[1] for n in PARAM_NAMES])
    lo[list(Q_INDEX)], hi[list(Q_INDEX)] = DESIGN_Q_RANGE
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi


@dataclass(frozen=True)
class EQParams:
    """The 13 parameters of the 5-band EQ, in SAFE-DB order (gains dB, frequencies Hz, Q).

    Construction validates every value; an invalid value raises :class:`EQError` naming the field,
    the value and the allowed range.
    """

    low_shelf_gain_db: float
    low_shelf_freq_hz: float
    peak1_gain_db: float
    peak1_freq_hz: float
    peak1_q: float
    peak2_gain_db: float
    peak2_freq_hz: float
    peak2_q: float
    peak3_gain_db: float
    peak3_freq_hz: float
    peak3_q: float
    high_shelf_gain_db: float
    high_shelf_freq_hz: float

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise EQError(f"{f.name} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise EQError(f"{f.name} must be a finite number, got {value}")
            lo, hi = _range_of(f.name)
            if not lo <= value <= hi:
                raise EQError(f"{f.name} = {value:g} is outside the allowed range {lo:g} .. {hi:g}")
            object.__setattr__(self, f.name, value)

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def flat(cls) -> "EQParams":
        """An EQ that changes nothing: every gain 0 dB, bands at neutral default frequencies."""
        return cls(0.0, 100.0, 0.0, 250.0, 0.71, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 0.0, 8000.0)

    @classmethod
    def from_vector(cls, vector: Iterable[float], clip: bool = False) -> "EQParams":
        """Build from 13 numbers in :data:`PARAM_NAMES` order; the peaks are sorted by frequency.

        ``clip=True`` clips each value into its legal range first, and each Q into
        :data:`DESIGN_Q_RANGE` (for designed EQs: model outputs, fits); non-finite
        values are always an error.
        """
        v = np.asarray(list(vector) if not isinstance(vector, np.ndarray) else vector, dtype=float)
        if v.shape != (13,):
            raise EQError(f"an EQ vector has 13 values, got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise EQError("an EQ vector must be finite (got NaN or infinity)")
        if clip:
            v = np.clip(v, *_design_bounds())
        peaks = sorted((v[i : i + 3] for i in PEAK_STARTS), key=lambda p: p[1])
        ordered = v.copy()
        for start, peak in zip(PEAK_STARTS, peaks):
            ordered[start : start + 3] = peak
        return cls(*(float(x) for x in ordered))

    @classmethod
    def from_bands(cls, bands: Iterable["Band"], clip: bool = False) -> "EQParams":
        """Build from bands of any order (:class:`Band`: shelves to their slots, peaks to the peak slots
        sorted by frequency; a shelf's Q is unused); free slots are 0 dB at the flat EQ's frequencies.
        More bands of a kind than the layout holds (one shelf each side, three peaks) is an error;
        ``clip`` as in :meth:`from_vector`."""
        v = cls.flat().raw_vector()
        free = {kind: [s for s in BANDS if s.kind == kind] for kind in ("low_shelf", "peak", "high_shelf")}
        for band in bands:
            if band.kind not in free or not free[band.kind]:
                raise EQError(f"the 5-band layout has no free {band.kind.replace('_', ' ')} slot for another band")
            slot = free[band.kind].pop(0)
            v[slot.gain_index], v[slot.freq_index] = band.gain_db, band.freq_hz
            if slot.q_index is not None:
                v[slot.q_index] = band.q
        return cls.from_vector(v, clip=clip)

    @classmethod
    def from_dict(cls, data: Mapping[str, float]) -> "EQParams":
        """Build from a mapping with exactly the 13 names of :data:`PARAM_NAMES`."""
        if not isinstance(data, Mapping):
            raise EQError(f"EQ parameters must be an object with the 13 named fields, got {type(data).__name__}")
        missing = [n for n in PARAM_NAMES if n not in data]
        extra = sorted(set(data) - set(PARAM_NAMES))
        if missing or extra:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            if extra:
                parts.append("unknown " + ", ".join(extra))
            raise EQError("EQ parameters: " + "; ".join(parts))
        return cls(**{n: data[n] for n in PARAM_NAMES})

    @classmethod
    def from_json(cls, text: str) -> "EQParams":
        """Parse JSON text: either the 13 named fields or an object with a ``params`` member."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EQError(f"EQ parameters are not valid JSON: {exc}") from None
        if isinstance(data, dict) and "params" in data and isinstance(data["params"], dict):
            data = data["params"]
        return cls.from_dict(data)

    # --- views ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, float]:
        """The 13 named fields (JSON names of the protocol)."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_vector(self) -> np.ndarray:
        """The 13 values in :data:`PARAM_NAMES` order with the peaks sorted by frequency."""
        return EQParams.from_vector(self.raw_vector()).raw_vector()

    def raw_vector(self) -> np.ndarray:
        """The 13 values in field order, as stored."""
        return np.array([getattr(self, n) for n in PARAM_NAMES], dtype=float)

    @property
    def is_flat(self) -> bool:
        return all(getattr(self, PARAM_NAMES[i]) == 0.0 for i in GAIN_INDEX)

    def scaled(self, intensity: float) -> "EQParams":
        """Every gain multiplied by ``intensity`` (negative = the opposite EQ, 0 = flat).

        Scaled gains are clipped to :data:`GAIN_RANGE_DB`; frequencies and Q are kept.
        """
        if not math.isfinite(intensity):
            raise EQError(f"intensity must be finite, got {intensity}")
        lo, hi = GAIN_RANGE_DB
        scaled = object.__new__(EQParams)  # every value is already checked: gains clipped into range
        for name in PARAM_NAMES:
            object.__setattr__(scaled, name, getattr(self, name))
        for i in GAIN_INDEX:
            gain = getattr(self, PARAM_NAMES[i]) * intensity
            object.__setattr__(scaled, PARAM_NAMES[i], min(max(gain, lo), hi) + 0.0)
        return scaled

    def bands(self) -> list["Band"]:
        """The five bands in processing order: low shelf, peaks 1-3, high shelf."""
        return list(self._bands)

    @cached_property
    def _bands(self) -> tuple["Band", ...]:
        v = [getattr(self, n) for n in PARAM_NAMES]
        return tuple(Band(b.kind, v[b.freq_index], v[b.gain_index], SHELF_Q if b.q_index is None else v[b.q_index])
                     for b in BANDS)


@dataclass(frozen=True)
class Band:
    """One EQ band: ``kind`` is ``low_shelf``, ``peak`` or ``high_shelf``; Hz, dB, Q."""

    kind: str
    freq_hz: float
    gain_db: float
    q: float


# --- filter design ------------------------------------------------------------------------------

_IDENTITY = IDENTITY


def band_sos(band: Band, sample_rate_hz: float) -> np.ndarray:
    """One RBJ cookbook biquad as a second-order section ``[b0, b1, b2, 1, a1, a2]``.

    A band at or above the Nyquist frequency cannot be designed; it is replaced by what it does
    below Nyquist: nothing for a peak or a high shelf, its full gain for a low shelf.
    """
    _check_rate(sample_rate_hz)
    return np.array(_band_coefficients(band, sample_rate_hz))


def _check_rate(sample_rate_hz: float) -> None:
    if sample_rate_hz <= 0 or not math.isfinite(sample_rate_hz):
        raise EQError(f"sample rate must be a positive number of Hz, got {sample_rate_hz}")


_IDENTITY_TUPLE = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _band_coefficients(band: Band, sample_rate_hz: float) -> tuple[float, ...]:
    """:func:`band_sos` as six Python floats (the design in scalar arithmetic, normalised by a0)."""
    if band.gain_db == 0.0:
        return _IDENTITY_TUPLE
    nyquist = sample_rate_hz / 2.0
    if band.freq_hz >= nyquist:
        if band.kind == "low_shelf":
            return (10.0 ** (band.gain_db / 20.0), 0.0, 0.0, 1.0, 0.0, 0.0)
        return _IDENTITY_TUPLE
    a = 10.0 ** (band.gain_db / 40.0)
    w0 = 2.0 * math.pi * band.freq_hz / sample_rate_hz
    cos_w0, sin_w0 = math.cos(w0), math.sin(w0)
    alpha = sin_w0 / (2.0 * band.q)
    if band.kind == "peak":
        b = (1.0 + alpha * a, -2.0 * cos_w0, 1.0 - alpha * a)
        den = (1.0 + alpha / a, -2.0 * cos_w0, 1.0 - alpha / a)
    elif band.kind in ("low_shelf", "high_shelf"):
        sq = 2.0 * math.sqrt(a) * alpha
        sign = 1.0 if band.kind == "low_shelf" else -1.0
        b = (
            a * ((a + 1) - sign * (a - 1) * cos_w0 + sq),
            sign * 2 * a * ((a - 1) - sign * (a + 1) * cos_w0),
            a * ((a + 1) - sign * (a - 1) * cos_w0 - sq),
        )
        den = (
            (a + 1) + sign * (a - 1) * cos_w0 + sq,
            -sign * 2 * ((a - 1) + sign * (a + 1) * cos_w0),
            (a + 1) + sign * (a - 1) * cos_w0 - sq,
        )
    else:
        raise EQError(f"unknown band kind {band.kind!r}")
    a0 = den[0]
    return (b[0] / a0, b[1] / a0, b[2] / a0, 1.0, den[1] / a0, den[2] / a0)


_PEAK_BANDS = np.array([False, True, True, True, False])
_LOW_BANDS = np.array([True, False, False, False, False])


def responses_db(vectors: np.ndarray, freqs_hz: np.ndarray, sample_rate_hz: float = 48000.0) -> np.ndarray:
    """Magnitude responses in dB of many EQs at once: 13-vectors ``(n, 13)`` at ``freqs_hz`` (F,) -> (n, F).

    The same sections as :func:`response_db` for each EQ (vectorised over EQs, bands and frequencies).
    """
    if sample_rate_hz <= 0 or not math.isfinite(sample_rate_hz):
        raise EQError(f"sample rate must be a positive number of Hz, got {sample_rate_hz}")
    v = np.asarray(vectors, dtype=float).reshape(-1, 13)
    q = np.column_stack([np.full(len(v), SHELF_Q), v[:, 4], v[:, 7], v[:, 10], np.full(len(v), SHELF_Q)])
    sos = rbj_sections(_PEAK_BANDS, _LOW_BANDS, v[:, list(FREQ_INDEX)], v[:, list(GAIN_INDEX)], q, sample_rate_hz)
    return sections_db(sos, freqs_hz, sample_rate_hz)


def design_sos(params: EQParams, sample_rate_hz: float) -> np.ndarray:
    """All five bands as a ``(n, 6)`` second-order-section array; 0 dB bands are left out.

    A flat EQ gives one identity section, so the array is never empty.
    """
    _check_rate(sample_rate_hz)
    sections = [_band_coefficients(b, sample_rate_hz) for b in params.bands() if b.gain_db != 0.0]
    return np.array(sections) if sections else _IDENTITY[None, :].copy()


def response(params: EQParams, freqs_hz: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """Exact complex frequency response of the digital EQ at ``freqs_hz`` (any grid, Hz).

    Frequencies at or above Nyquist are evaluated on the unit circle like any other (the response
    is periodic); it is the response of the very sections :func:`apply_eq` runs.
    """
    freqs = np.asarray(freqs_hz, dtype=float)
    sos = design_sos(params, sample_rate_hz)
    # H(z) = prod_k (b0 + b1 z^-1 + b2 z^-2) / (a0 + a1 z^-1 + a2 z^-2), z = e^{j 2 pi f / fs};
    # one vectorised evaluation (what scipy.signal.sosfreqz computes, without its per-section calls).
    z1 = np.exp(-2j * np.pi * freqs / sample_rate_hz)[..., None]
    z2 = z1 * z1
    num = sos[:, 0] + sos[:, 1] * z1 + sos[:, 2] * z2
    den = sos[:, 3] + sos[:, 4] * z1 + sos[:, 5] * z2
    return np.prod(num / den, axis=-1)


def response_db(params: EQParams, freqs_hz: np.ndarray, sample_rate_hz: float = 48000.0) -> np.ndarray:
    """Magnitude response in dB at ``freqs_hz`` (Hz): the magnitude of :func:`response`, floored at -240 dB."""
    return sections_db(design_sos(params, sample_rate_hz), freqs_hz, sample_rate_hz)


def log_freq_grid(n: int = 256, low_hz: float = 20.0, high_hz: float = 20000.0) -> np.ndarray:
    """``n`` log-spaced frequencies from ``low_hz`` to ``high_hz`` (Hz)."""
    return np.geomspace(low_hz, high_hz, n)


def third_octave_centres_hz(low_hz: float = 20.0, high_hz: float = 20000.0) -> np.ndarray:
    """Base-2 one-third-octave centre frequencies (Hz, 1 kHz reference) covering ``low_hz`` to ``high_hz``.

    A band is included when its centre lies within half a band (1/6 octave) of the range, so the
    default range gives the 31 nominal bands "20 Hz" (19.7 Hz) to "20 kHz" (20.2 kHz).
    """
    k = np.arange(
        math.ceil(3 * math.log2(low_hz / 1000.0) - 0.5),
        math.floor(3 * math.log2(high_hz / 1000.0) + 0.5) + 1,
    )
    return 1000.0 * 2.0 ** (k / 3.0)


# --- processing -------------------------------------------------------------------------------


class EQStream:
    """Causal EQ over audio that arrives in blocks; the filter state carries across blocks.

    ``audio`` blocks are ``(frames, channels)`` or ``(frames,)`` arrays, float32 or float64; the
    output has the same shape and dtype. Processing runs in float64 internally.
    """

    def __init__(self, params: EQParams, sample_rate_hz: float, channels: int) -> None:
        if channels < 1:
            raise EQError(f"channel count must be at least 1, got {channels}")
        self.sos = design_sos(params, sample_rate_hz)
        self.channels = channels
        self._zi = np.zeros((self.sos.shape[0], 2, channels))
        self._bypass = params.is_flat

    def process(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block)
        if x.dtype.kind != "f":
            raise EQError(f"audio must be floating point, got {x.dtype}")
        if x.ndim == 1:
            return self.process(x[:, None])[:, 0]
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise EQError(f"expected audio of shape (frames, {self.channels}), got {x.shape}")
        if self._bypass or x.shape[0] == 0:
            return x.copy()
        from scipy import signal  # here, not at import: answers without audio never load scipy.signal

        y, self._zi = signal.sosfilt(self.sos, x, axis=0, zi=self._zi)
        return y.astype(x.dtype, copy=False)


def apply_eq(audio: np.ndarray, sample_rate_hz: float, params: EQParams) -> np.ndarray:
    """Run the EQ causally over a whole ``(frames, channels)`` or ``(frames,)`` array."""
    x = np.asarray(audio)
    channels = 1 if x.ndim == 1 else x.shape[1]
    return EQStream(params, sample_rate_hz, channels).process(x)
