"""The gated long-term spectrum of a track, accumulated block by block (Welch averaging).

:class:`SpectrumAccumulator` takes audio as ``(frames, channels)`` blocks of any size and keeps only
bounded state (one FFT frame of audio and the power sums), so a whole file can stream through it:

* Short-time Fourier frames (Hann window, about :data:`TARGET_BIN_HZ` Hz per bin at any sample rate,
  50 % overlap; a last frame aligned with the end of the audio) are gated like ITU-R BS.1770: frames
  below :data:`GATE_ABSOLUTE_DB` dBFS mean square, then frames more than 20 dB below the mean power of
  the rest, are left out (silence, fades, gaps). Frames are summed into 1-dB level buckets, so the
  relative gate is applied at the end without keeping any frame: its threshold is exact, the frames
  kept are those whose bucket centre lies above it.
* The power of every channel is summed (stereo is transformed as mid L+R and side L-R, whose powers
  add up to twice L plus R, so out-of-phase content counts and the side-to-mid ratio comes free).

:func:`band_spectrum` integrates the power density over base-2 one-third-octave bands;
:meth:`LongTermSpectrum.band_power` over any band edges (the finer grid of
:mod:`daw_bridge.problems`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import scipy.fft

from daw_bridge.audio import AudioError
from daw_bridge.eq import EQParams, responses_db, third_octave_centres_hz

#: Gate of the long-term spectrum (dB): absolute (dBFS mean square) and relative to the gated mean.
GATE_ABSOLUTE_DB = -70.0
GATE_RELATIVE_DB = -20.0
#: Width of the level buckets frames are summed into (dB).
GATE_BUCKET_DB = 1.0
#: Frequency resolution aimed at by the STFT (Hz per bin); the FFT length is the next power of 2.
TARGET_BIN_HZ = 3.0
#: Half a third of an octave: band edges are centre * 2^(+-1/6).
HALF_BAND_OCTAVES = 1.0 / 6.0
#: Frames transformed at once (bounds memory for long, high-rate, many-channel files).
FRAMES_PER_CHUNK = 32
#: Points per band used to average an EQ's response over a band (power mean).
RESPONSE_POINTS_PER_BAND = 9


def as_frames(samples: np.ndarray) -> np.ndarray:
    """Audio as a finite floating-point ``(frames, channels)`` array (float32 stays float32), or a
    clear :class:`AudioError`."""
    x = np.asarray(samples)
    if x.dtype.kind not in "fiu":
        raise AudioError(f"audio samples must be numbers, got {x.dtype}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise AudioError(f"audio must be (frames,) or (frames, channels), got shape {x.shape}")
    if x.shape[1] == 0:
        raise AudioError("the audio is empty (no channels)")
    if x.dtype.kind in "iu":
        x = x / float(np.iinfo(x.dtype).max)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise AudioError("the audio contains NaN or infinite samples; it cannot be analysed")
    return x


def check_rate(sample_rate_hz: float) -> float:
    """The sample rate as a float (Hz), or a clear :class:`AudioError`."""
    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, float, np.integer, np.floating)):
        raise AudioError(f"the sample rate must be a number of Hz, got {sample_rate_hz!r}")
    sr = float(sample_rate_hz)
    if not math.isfinite(sr) or sr < 4000.0 or sr > 768000.0:
        raise AudioError(f"the sample rate must be between 4000 and 768000 Hz, got {sample_rate_hz}")
    return sr


def band_edges_hz(centres_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges (Hz) of one-third-octave bands."""
    return centres_hz * 2.0**-HALF_BAND_OCTAVES, centres_hz * 2.0**HALF_BAND_OCTAVES


@dataclass(frozen=True)
class LongTermSpectrum:
    """Gated mean power per FFT bin: ``power`` (all channels), ``mid``/``side`` (stereo only).

    Bin k covers ``[k - 1/2, k + 1/2] * bin_hz``. ``active_fraction``: share of frames kept by the gate.
    """

    sample_rate_hz: float
    bin_hz: float
    power: np.ndarray
    mid: np.ndarray | None
    side: np.ndarray | None
    active_fraction: float
    frames: int
    channels: int

    def band_power(self, low_hz: np.ndarray, high_hz: np.ndarray, which: str = "power") -> np.ndarray:
        """Power integrated between band edges (Hz). Bands whose centre (geometric mean of the edges)
        is at or above Nyquist are NaN; a band cut by Nyquist is extrapolated from its part below."""
        p = getattr(self, which)
        lo, hi = np.asarray(low_hz, dtype=float), np.asarray(high_hz, dtype=float)
        nyquist = self.sample_rate_hz / 2.0
        valid = np.sqrt(lo * hi) < nyquist
        hi_cut = np.minimum(hi, nyquist)
        edges = (np.arange(p.size + 1) - 0.5) * self.bin_hz
        cum = np.concatenate([[0.0], np.cumsum(p)])
        part = np.interp(hi_cut, edges, cum) - np.interp(lo, edges, cum)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(valid, part * (hi - lo) / np.maximum(hi_cut - lo, 1e-12), np.nan)


@dataclass
class SpectrumAccumulator:
    """Feed ``(frames, channels)`` blocks with :meth:`add`; :meth:`result` gives the gated spectrum."""

    sample_rate_hz: float
    channels: int
    nfft: int = field(init=False)
    _buf: np.ndarray = field(init=False, repr=False)
    _buf_start: int = field(init=False, default=0)  # absolute index of _buf[0]
    _next: int = field(init=False, default=0)  # absolute start of the next frame
    _seen: int = field(init=False, default=0)
    _last_end: int = field(init=False, default=0)  # end of the last frame transformed
    _frames: int = field(init=False, default=0)
    _above: int = field(init=False, default=0)
    _ms_sum: float = field(init=False, default=0.0)
    _buckets: dict = field(init=False, default_factory=dict)  # bucket -> [count, (rows, bins) power]

    def __post_init__(self) -> None:
        self.sample_rate_hz = check_rate(self.sample_rate_hz)
        if not 1 <= int(self.channels) <= 64:
            raise AudioError(f"the audio must have 1 to 64 channels, got {self.channels}")
        self.nfft = int(2 ** math.ceil(math.log2(self.sample_rate_hz / TARGET_BIN_HZ)))
        self._window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(self.nfft) / self.nfft)).astype(np.float32)  # periodic Hann
        self._buf = np.zeros((0, self.channels))

    @property
    def hop(self) -> int:
        return self.nfft // 2

    def add(self, block: np.ndarray) -> None:
        """Add the next block of audio (checked like :func:`as_frames`)."""
        x = as_frames(block)
        if x.shape[1] != self.channels:
            raise AudioError(f"expected blocks of {self.channels} channel(s), got {x.shape[1]}")
        if x.shape[0] == 0:
            return
        self._buf = np.concatenate([self._buf, x]) if self._buf.size else x
        self._seen += x.shape[0]
        end = self._buf_start + self._buf.shape[0]
        starts = np.arange(self._next, end - self.nfft + 1, self.hop)
        if starts.size:
            self._transform(starts - self._buf_start)
            self._next = int(starts[-1]) + self.hop
            self._last_end = int(starts[-1]) + self.nfft
        keep_from = max(self._next - self.hop, self._buf_start)  # one hop back, for the end frame
        self._buf = self._buf[keep_from - self._buf_start :]
        self._buf_start = keep_from

    def _transform(self, starts: np.ndarray) -> None:
        nfft, stereo = self.nfft, self.channels == 2
        view = np.lib.stride_tricks.sliding_window_view(self._buf, nfft, axis=0)  # (pos, channels, nfft)
        for i in range(0, starts.size, FRAMES_PER_CHUNK):
            frames = view[starts[i : i + FRAMES_PER_CHUNK]]
            ms = np.einsum("kcn,kcn->k", frames, frames, dtype=np.float64) / (nfft * self.channels)
            self._frames += ms.size
            with np.errstate(divide="ignore"):
                level = 10.0 * np.log10(ms)
            keep = level > GATE_ABSOLUTE_DB
            if not np.any(keep):
                continue
            frames, level = frames[keep], level[keep]
            self._above += int(keep.sum())
            self._ms_sum += float(ms[keep].sum())
            if stereo:
                frames = np.stack([frames[:, 0] + frames[:, 1], frames[:, 0] - frames[:, 1]], axis=1)
            spec = scipy.fft.rfft(frames.astype(np.float32) * self._window, axis=-1, overwrite_x=True)
            pairs = spec.view(np.float32)  # (k, channels, 2 bins): real and imaginary parts
            np.square(pairs, out=pairs)
            buckets = np.floor(level / GATE_BUCKET_DB).astype(int)
            for b in np.unique(buckets):
                sel = buckets == b
                part = pairs if sel.all() else pairs[sel]
                # float32 over at most FRAMES_PER_CHUNK frames (relative error ~1e-6), float64 across chunks
                summed = part.sum(axis=0).reshape(pairs.shape[1], -1, 2).sum(axis=-1, dtype=np.float64)
                if not stereo:
                    summed = summed.sum(axis=0, keepdims=True)
                slot = self._buckets.setdefault(int(b), [0, np.zeros(summed.shape)])
                slot[0] += int(sel.sum())
                slot[1] += summed

    def result(self) -> LongTermSpectrum:
        """The gated long-term spectrum of everything added (the accumulator is finished)."""
        if self._seen == 0:
            raise AudioError("the audio is empty (no samples)")
        if self._seen < self.nfft:  # shorter than one frame: zero-padded to one
            pad = np.zeros((self.nfft - self._buf.shape[0], self.channels))
            self._buf = np.concatenate([self._buf, pad])
            self._transform(np.array([0]))
        elif self._last_end < self._seen:  # one last frame aligned with the end
            self._transform(np.array([self._seen - self.nfft - self._buf_start]))
        self._last_end = self._seen
        if not self._above:
            raise AudioError(
                f"the audio is silent (every part is below {GATE_ABSOLUTE_DB:g} dBFS); there is nothing to analyse"
            )
        threshold = 10.0 * math.log10(self._ms_sum / self._above) + GATE_RELATIVE_DB
        kept = [v for b, v in self._buckets.items() if (b + 0.5) * GATE_BUCKET_DB > threshold]
        count = sum(v[0] for v in kept)
        rows = sum(v[1] for v in kept) / count
        stereo = self.channels == 2
        return LongTermSpectrum(
            sample_rate_hz=self.sample_rate_hz,
            bin_hz=self.sample_rate_hz / self.nfft,
            power=rows.sum(axis=0) / (2.0 if stereo else 1.0),
            mid=rows[0] if stereo else None,
            side=rows[1] if stereo else None,
            active_fraction=count / max(self._frames, 1),
            frames=self._seen,
            channels=self.channels,
        )


def long_term_spectrum(audio: np.ndarray | Iterable[np.ndarray], sample_rate_hz: float) -> LongTermSpectrum:
    """The gated long-term spectrum of an array ``(frames,)``/``(frames, channels)`` or of an iterable
    of ``(frames, channels)`` blocks."""
    blocks = [audio] if isinstance(audio, np.ndarray) else audio
    acc: SpectrumAccumulator | None = None
    for block in blocks:
        x = as_frames(block)
        if acc is None:
            acc = SpectrumAccumulator(sample_rate_hz, x.shape[1])
        acc.add(x)
    if acc is None:
        raise AudioError("the audio is empty (no blocks)")
    return acc.result()


@dataclass(frozen=True)
class BandSpectrum:
    """Gated long-term spectrum of a track in one-third-octave bands.

    ``power_db``: band power in dB relative to the total power of the valid bands (NaN where invalid).
    ``side_minus_mid_db``: side power minus mid power per band (dB), stereo only.
    ``active_fraction``: share of frames that passed the gate.
    """

    centres_hz: np.ndarray
    valid: np.ndarray
    power_db: np.ndarray
    side_minus_mid_db: np.ndarray | None
    active_fraction: float


def third_octave_bands(lts: LongTermSpectrum) -> BandSpectrum:
    """:class:`BandSpectrum` of a long-term spectrum."""
    centres = third_octave_centres_hz()
    lo, hi = band_edges_hz(centres)
    valid = centres < lts.sample_rate_hz / 2.0
    band_power = lts.band_power(lo, hi)
    total = np.nansum(band_power)
    if not total > 0:
        raise AudioError("the audio has no energy in the audible bands (20 Hz - 20 kHz)")
    tiny = total * 1e-15
    power_db = np.where(valid, 10.0 * np.log10(np.maximum(band_power, tiny) / total), np.nan)
    side_minus_mid = None
    if lts.mid is not None:
        mid, side = lts.band_power(lo, hi, "mid"), lts.band_power(lo, hi, "side")
        side_minus_mid = np.where(valid, 10.0 * np.log10(np.maximum(side, tiny) / np.maximum(mid, tiny)), np.nan)
    return BandSpectrum(centres, valid, power_db, side_minus_mid, lts.active_fraction)


def band_spectrum(audio: np.ndarray | Iterable[np.ndarray], sample_rate_hz: float) -> BandSpectrum:
    """Gated long-term spectrum of ``audio`` (an array or an iterable of blocks) in 1/3-octave bands."""
    return third_octave_bands(long_term_spectrum(audio, sample_rate_hz))


def band_response_db(params: EQParams, sample_rate_hz: float, centres_hz: np.ndarray | None = None) -> np.ndarray:
    """An EQ's power-averaged magnitude response over each one-third-octave band (dB); NaN at or
    above Nyquist."""
    centres = third_octave_centres_hz() if centres_hz is None else np.asarray(centres_hz, dtype=float)
    return band_responses_db([params], sample_rate_hz, centres)[0]


def band_responses_db(params_list: list[EQParams], sample_rate_hz: float, centres_hz: np.ndarray) -> np.ndarray:
    """:func:`band_response_db` for many EQs at once, shape (len(params_list), bands)."""
    vectors = np.array([p.raw_vector() for p in params_list]).reshape(len(params_list), 13)
    return vector_band_responses_db(vectors, sample_rate_hz, centres_hz)


def vector_band_responses_db(vectors: np.ndarray, sample_rate_hz: float, centres_hz: np.ndarray) -> np.ndarray:
    """:func:`band_responses_db` for EQs given as 13-vectors ``(n, 13)`` (valid ones: see
    :meth:`EQParams.raw_vector`), shape (n, bands)."""
    sr = float(sample_rate_hz)
    nyquist = sr / 2.0
    lo, hi = band_edges_hz(centres_hz)
    hi = np.minimum(hi, 0.999 * nyquist)
    offsets = np.linspace(0.0, 1.0, RESPONSE_POINTS_PER_BAND)
    grid = np.exp(np.log(lo)[:, None] + (np.log(np.maximum(hi, lo * 1.0001)) - np.log(lo))[:, None] * offsets)
    valid = centres_hz < nyquist
    out = np.full((vectors.shape[0], centres_hz.size), np.nan)
    if not vectors.shape[0]:
        return out
    db = responses_db(vectors, grid[valid].ravel(), sr).reshape(vectors.shape[0], -1, RESPONSE_POINTS_PER_BAND)
    out[:, valid] = 10.0 * np.log10(np.mean(10.0 ** (db / 10.0), axis=2))
    return out
