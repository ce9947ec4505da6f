"""Meters: streaming BS.1770 integrated loudness (LUFS) and 4x oversampled true peak (dBTP).

Loudness: :mod:`pyloudnorm` measures whole arrays only (and at most five channels), so the meter here
streams: BS.1770's K-weighting (the two stages pyloudnorm designs, as second-order sections) is
applied by overlap-add FFT convolution with the filter's impulse response, keeps the K-weighted energy
of every 100 ms hop, and applies BS.1770's 400 ms blocks and gates at the end. It agrees with
``pyloudnorm.Meter.integrated_loudness`` (tested). Channels beyond the five BS.1770 positions are
weighted 1.0. True peak: 4x oversampling with the filter :func:`scipy.signal.resample_poly` uses, as
BS.1770 asks at 48 kHz; the same for every sample rate.

Neither meter imports :mod:`scipy.signal` (about 0.9 s with scipy 1.17, most of it parsing
docstrings): analysing a file from a cold start stays quick. Both are checked against scipy's and
pyloudnorm's own results in the tests.

:func:`metered` measures a block stream while passing it on, so a render measures what it writes
without a second read.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import scipy.fft

from daw_bridge.audio import blocks as blk
from daw_bridge.audio.blocks import AudioError, array_blocks, as_frames, db
from daw_bridge.biquad import rbj_sections

#: Oversampling factor of the true-peak meter (BS.1770 asks for at least 4x at 48 kHz).
OVERSAMPLING = 4
_BS1770_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
_GATE_ABSOLUTE_LUFS = -70.0
_GATE_RELATIVE_LU = -10.0
_HOPS_PER_BLOCK = 4  # 400 ms gating blocks made of 100 ms hops (75 % overlap)
#: Half length (input samples) of scipy's resample_poly filter for 4x, plus a safety sample or two.
RESAMPLE_RADIUS = 12


def _k_weighting_sos(sample_rate_hz: float) -> np.ndarray:
    """BS.1770's K-weighting as second-order sections ``(2, 6)``, designed for any rate as pyloudnorm
    does (RBJ cookbook formulas): a +4 dB high shelf at 1500 Hz (Q 1/sqrt 2, the EQ engine's own
    shelf), then a high-pass at 38 Hz (Q 0.5)."""
    shelf = rbj_sections(np.array(False), np.array(False), np.array(1500.0), np.array(4.0),
                         np.array(1.0 / np.sqrt(2.0)), sample_rate_hz)
    w0 = 2.0 * np.pi * 38.0 / sample_rate_hz
    cos, alpha = np.cos(w0), np.sin(w0) / (2.0 * 0.5)
    high_pass = np.array([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2, 1 + alpha, -2 * cos, 1 - alpha]) / (1 + alpha)
    return np.array([shelf, high_pass])


#: Shortest length (s) of the K-weighting's impulse response that is applied (rounded up to a power
#: of two in samples): its slowest part, the 38 Hz high-pass (a double pole), has decayed to about
#: 1e-15 of the response's peak by then, float precision (measured at 8-192 kHz).
_K_RESPONSE_S = 0.2


def _impulse_response(sos: np.ndarray, frames: int) -> np.ndarray:
    """The first ``frames`` samples of the impulse response of the cascade ``sos`` (sections, 6): the
    inverse FFT of its exact frequency response on ``frames`` points (the time-aliasing this implies
    is the response's own size beyond ``frames`` samples: negligible once it has decayed)."""
    z = np.exp(-2j * np.pi * np.arange(frames // 2 + 1) / frames)  # e^{-j w}
    response = np.ones(z.size, dtype=complex)
    for b0, b1, b2, a0, a1, a2 in sos:
        response *= (b0 + (b1 + b2 * z) * z) / (a0 + (a1 + a2 * z) * z)
    return scipy.fft.irfft(response, frames)


class LoudnessMeter:
    """Streaming BS.1770 integrated loudness (LUFS): feed blocks with :meth:`update`, then :meth:`lufs`."""

    def __init__(self, sample_rate_hz: float, channels: int) -> None:
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = channels
        frames = 1 << max(8, int(np.ceil(np.log2(_K_RESPONSE_S * self.sample_rate_hz))))
        self._impulse = _impulse_response(_k_weighting_sos(sample_rate_hz), frames)
        self._spectra: dict[int, np.ndarray] = {}  # FFT size -> spectrum of the impulse response
        self._tail = np.zeros((frames - 1, channels))  # filter output still owed to the next blocks
        self._weights = np.array([_BS1770_CHANNEL_WEIGHTS[c] if c < 5 else 1.0 for c in range(channels)])
        self._frames = 0  # frames seen
        self._hops_done = 0  # complete 100 ms hops
        self._hop_energy: list[np.ndarray] = []  # per hop, per channel: sum of K-weighted squares
        self._partial = np.zeros(channels)

    def _hop_edge(self, k: np.ndarray | int):
        return np.round(np.asarray(k) * self.sample_rate_hz / 10.0).astype(np.int64)

    def update(self, block: np.ndarray) -> None:
        n = block.shape[0]
        if n == 0:
            return
        sq = self._weighted(block)
        sq *= sq
        start = self._frames
        ks = np.arange(self._hops_done + 1, self._hops_done + 3 + int(n * 10 / self.sample_rate_hz))
        rel = self._hop_edge(ks) - start
        rel = rel[rel <= n]  # ends of hops completed inside this block, in (0, n]
        idx = np.concatenate([[0], rel[rel < n]])
        seg = np.add.reduceat(sq, idx, axis=0)
        if rel.size:
            done = seg[: rel.size].copy()
            done[0] += self._partial
            self._hop_energy.append(done)
            self._partial = seg[rel.size] if seg.shape[0] > rel.size else np.zeros(self.channels)
            self._hops_done += rel.size
        else:
            self._partial = self._partial + seg[0]
        self._frames += n

    def _weighted(self, block: np.ndarray) -> np.ndarray:
        """The K-weighted block: overlap-add FFT convolution, the part past the block carried over."""
        n = block.shape[0]
        size = scipy.fft.next_fast_len(n + self._impulse.size - 1, real=True)
        if size not in self._spectra:
            self._spectra[size] = scipy.fft.rfft(self._impulse, size)[:, None]
        full = scipy.fft.irfft(scipy.fft.rfft(block, size, axis=0) * self._spectra[size], size, axis=0)
        full = full[: n + self._tail.shape[0]]
        full[: self._tail.shape[0]] += self._tail
        self._tail = full[n:].copy()
        return full[:n]

    def lufs(self) -> float:
        """Integrated, gated loudness (LUFS). Raises :class:`AudioError` when it is undefined."""
        if self._hops_done < _HOPS_PER_BLOCK:
            raise AudioError(
                f"the audio is too short to measure its loudness ({self._frames / self.sample_rate_hz:.2f} s; "
                "integrated loudness needs at least 0.4 s)"
            )
        hops = np.concatenate(self._hop_energy)  # (hops, channels)
        csum = np.concatenate([np.zeros((1, self.channels)), np.cumsum(hops, axis=0)])
        z = (csum[_HOPS_PER_BLOCK:] - csum[:-_HOPS_PER_BLOCK]) / (0.4 * self.sample_rate_hz)  # block mean squares
        power = z @ self._weights
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(power)
        gated = block_lufs > _GATE_ABSOLUTE_LUFS
        if not np.any(gated):
            raise AudioError("the audio is silent (below -70 LUFS everywhere), so its loudness is undefined")
        relative = -0.691 + 10.0 * np.log10(np.mean(power[gated])) + _GATE_RELATIVE_LU
        gated &= block_lufs > relative
        return float(-0.691 + 10.0 * np.log10(np.mean(power[gated])))


#: Taps of the 4x oversampling filter each side of its centre, per phase (input samples).
_HALF_TAPS = 10


@functools.lru_cache(maxsize=1)
def _oversampling_taps() -> np.ndarray:
    """The 4x oversampling filter :func:`scipy.signal.resample_poly` designs by default, written out
    (``firwin(81, 1/4, window=("kaiser", 5))``): a Kaiser-windowed sinc with unit gain at DC."""
    m = np.arange(2 * _HALF_TAPS * OVERSAMPLING + 1) - _HALF_TAPS * OVERSAMPLING
    taps = np.sinc(m / OVERSAMPLING) * np.kaiser(m.size, 5.0)
    return taps / taps.sum()


@functools.lru_cache(maxsize=1)
def _polyphase() -> np.ndarray:
    """``(21, 4)`` matrix: the four oversampled points from input frame ``j`` on are the frames
    ``j - 10 .. j + 10`` times it (the polyphase form of resample_poly's upsampling, gain 4; its
    columns reversed are the four phases' convolution kernels)."""
    taps = _oversampling_taps() * OVERSAMPLING
    index = OVERSAMPLING * (2 * _HALF_TAPS - np.arange(2 * _HALF_TAPS + 1))[:, None] + np.arange(OVERSAMPLING)
    return np.where(index < taps.size, taps[np.minimum(index, taps.size - 1)], 0.0)


@functools.lru_cache(maxsize=1)
def _interpolation_gain() -> float:
    """Largest sum of absolute taps over the polyphase branches of the 4x oversampling filter: a
    bound on |interpolated| / max |nearby input|."""
    taps = _oversampling_taps() * OVERSAMPLING
    return float(max(np.abs(taps[p::OVERSAMPLING]).sum() for p in range(OVERSAMPLING)))


#: Frames per block when looking for stretches that can hold the true peak.
_TP_BLOCK_FRAMES = 1024
#: Candidate runs separated by at most this many blocks are oversampled as one run.
_TP_MERGE_GAP_BLOCKS = 4
#: Safety margin below the sample peak for the pruning: the oversampled value at a sample equals
#: that sample only to within the filter's pass-band ripple.
_TP_MARGIN = 0.99


def peak_envelope(chunk: np.ndarray) -> np.ndarray:
    """Per frame, the largest absolute value over channels and over the 4x oversampled points in it
    (the points of :func:`scipy.signal.resample_poly`, zeros beyond the chunk's ends)."""
    out = np.zeros(chunk.shape[0])
    kernels = _polyphase()[::-1]  # convolution kernels, one column per phase
    for c in range(chunk.shape[1]):
        padded = np.pad(chunk[:, c].astype(np.float64), _HALF_TAPS)
        for phase in range(OVERSAMPLING):
            np.maximum(out, np.abs(np.convolve(padded, kernels[:, phase], mode="valid")), out=out)
    return out


def local_map(blocks: Iterable[np.ndarray], radius: int, func: Callable[[np.ndarray], object]) -> Iterator:
    """Apply a local operation of reach ``radius`` frames over a block stream, seamlessly.

    ``func(chunk)`` gets ``radius`` frames of context on each side (zeros beyond the ends of the
    stream) and returns results for the chunk's middle, ``len(chunk) - 2 * radius`` frames; the
    results are the same whatever the block sizes.
    """
    buf = None
    for block in blocks:
        if buf is None:
            buf = np.zeros((radius, block.shape[1]))
        buf = np.concatenate([buf, block])
        ready = buf.shape[0] - 2 * radius
        if ready > 0:
            yield func(buf)
            buf = buf[ready:]
    if buf is not None:
        buf = np.concatenate([buf, np.zeros((radius, buf.shape[1]))])
        if buf.shape[0] > 2 * radius:
            yield func(buf)


def metered(blocks: Iterable[np.ndarray], sample_rate_hz: float, channels: int, out: dict) -> Iterator[np.ndarray]:
    """Yield ``blocks`` unchanged while measuring them; at the end ``out`` gets ``lufs`` (integrated
    loudness, LUFS), ``peak`` (true peak, linear, 4x oversampled) and ``sample_peak`` (linear)."""
    meter = LoudnessMeter(sample_rate_hz, channels)
    pending: deque[np.ndarray] = deque()
    sample_peak = 0.0

    def feed():
        nonlocal sample_peak
        for b in blocks:
            meter.update(b)
            sample_peak = max(sample_peak, float(np.abs(b).max(initial=0.0)))
            pending.append(b)
            yield b

    r = RESAMPLE_RADIUS
    peak = 0.0
    for chunk_peak in local_map(feed(), r, lambda c: _true_peak(c, (r, r))):
        peak = max(peak, chunk_peak)
        while pending:
            yield pending.popleft()
    while pending:
        yield pending.popleft()
    out.update(lufs=meter.lufs(), peak=peak, sample_peak=sample_peak)


def measure(blocks: Iterable[np.ndarray], sample_rate_hz: float, channels: int) -> dict:
    """Loudness and peaks of a block stream (see :func:`metered`)."""
    out: dict = {}
    for _ in metered(blocks, sample_rate_hz, channels, out):
        pass
    return out


def integrated_loudness_lufs(samples: np.ndarray, sample_rate_hz: float) -> float:
    """Integrated loudness (LUFS, BS.1770 gated) of ``(frames, channels)`` or ``(frames,)`` audio."""
    x = as_frames(samples)
    meter = LoudnessMeter(sample_rate_hz, x.shape[1])
    for block in array_blocks(x):
        meter.update(block)
    return meter.lufs()


def true_peak_dbtp(samples: np.ndarray, context_frames: tuple[int, int] = (0, 0)) -> float:
    """True peak (dBTP) of ``samples``: :func:`_true_peak` in decibels (``-inf`` for digital silence)."""
    return db(_true_peak(samples, context_frames))


def _true_peak(samples: np.ndarray, context_frames: tuple[int, int] = (0, 0)) -> float:
    """True peak (linear) of ``(frames, channels)`` or ``(frames,)`` audio by 4x oversampling; 0 for
    digital silence. Oversampling by a fixed factor does not depend on the sample rate.

    ``context_frames`` (leading, trailing): frames at the ends that are only read as neighbours (a
    stream's adjacent blocks, as :func:`local_map` gives them), their own points not counted; beyond
    the array the signal is zero. Block by block with context this equals the whole array's peak.

    Exact for the oversampling filter, yet only the stretches that can hold the peak are
    oversampled: an interpolated point is at most :func:`_interpolation_gain` times the largest
    sample within the filter's reach, so a block whose neighbourhood stays below the sample peak
    divided by that gain cannot hold the true peak and is skipped (most of a typical track).
    """
    x = as_frames(samples)
    lead, trail = context_frames
    own = x[lead : x.shape[0] - trail]
    r = RESAMPLE_RADIUS
    n_blocks = -(-own.shape[0] // _TP_BLOCK_FRAMES)
    block_peak = np.zeros(n_blocks)
    for c in range(x.shape[1]):  # per channel: contiguous reductions, far faster than over (frames, channels)
        column = np.zeros(n_blocks * _TP_BLOCK_FRAMES, dtype=x.dtype)
        column[: own.shape[0]] = own[:, c]
        np.maximum(block_peak, np.abs(column.reshape(n_blocks, _TP_BLOCK_FRAMES)).max(axis=1), out=block_peak)
    # values in a block depend on samples up to r (< one block) frames into its neighbours (or the context)
    edges = float(np.abs(x[:lead]).max(initial=0.0)), float(np.abs(x[x.shape[0] - trail :]).max(initial=0.0))
    reach = np.maximum(block_peak, np.maximum(np.r_[edges[0], block_peak[:-1]], np.r_[block_peak[1:], edges[1]]))
    if n_blocks == 0 or reach.max() == 0.0:
        return 0.0
    candidate = reach * _interpolation_gain() >= _TP_MARGIN * block_peak.max()
    # runs of candidate blocks (merged across short gaps: fewer, longer calls), oversampled with
    # r frames of true context each side
    blocks = np.flatnonzero(candidate)
    breaks = np.flatnonzero(np.diff(blocks) > _TP_MERGE_GAP_BLOCKS)
    starts = lead + blocks[np.r_[0, breaks + 1]] * _TP_BLOCK_FRAMES
    stops = lead + np.minimum((blocks[np.r_[breaks, blocks.size - 1]] + 1) * _TP_BLOCK_FRAMES, own.shape[0])
    peak = 0.0
    for run_start, run_stop in zip(starts, stops):
        for a in range(run_start, run_stop, blk.BLOCK_FRAMES):
            b = min(a + blk.BLOCK_FRAMES, run_stop)
            lo, hi = max(a - r, 0), min(b + r, x.shape[0])
            chunk = np.pad(x[lo:hi].astype(np.float64, copy=False), ((r - (a - lo), r - (hi - b)), (0, 0)))
            peak = max(peak, float(peak_envelope(chunk)[r:-r].max(initial=0.0)))
    return peak
