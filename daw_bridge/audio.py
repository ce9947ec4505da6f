"""Audio files in and out, loudness, true peak, and loudness-safe EQ renders.

Units: sample rates in Hz, loudness in LUFS (ITU-R BS.1770 integrated, gated), true peak in dBTP
(4x oversampled, BS.1770 style), gains and gain reductions in dB. Samples are ``(frames, channels)``
float arrays with full scale at 1.0.

A render (:func:`render`, :func:`render_file`) is: the causal EQ, then one make-up gain so that the
output keeps the input's integrated loudness (within :data:`LOUDNESS_TOLERANCE_LU`), then a
look-ahead peak limiter that keeps the output's true peak at or below
``max(-1 dBTP, input true peak)``. The limiter only works where gain alone cannot satisfy both, and
the make-up gain is re-measured after limiting so the loudness still matches.

Everything runs block by block (:data:`BLOCK_FRAMES` frames) with carried state, so a two-hour file is
never held in memory: :func:`render_file` reads the input once to measure and once per gain
iteration, then writes through a temporary file in the output's folder that is renamed into place.

Loudness: :mod:`pyloudnorm` measures whole arrays only (and at most five channels), so the meter here
streams: it runs pyloudnorm's own K-weighting filters as second-order sections with carried state,
keeps the K-weighted energy of every 100 ms hop, and applies BS.1770's 400 ms blocks and gates at the
end. It agrees with ``pyloudnorm.Meter.integrated_loudness`` (tested). Channels beyond the five
BS.1770 positions are weighted 1.0.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import soundfile as sf
from scipy import ndimage, signal

from daw_bridge.eq import EQParams, EQStream
from daw_bridge.errors import SemeqError
from daw_bridge.files import atomic_path

#: Frames per processing block (about 1.4 s at 48 kHz).
BLOCK_FRAMES = 1 << 16
#: The render's loudness target: |output - input| integrated loudness (LU) it aims within.
LOUDNESS_TOLERANCE_LU = 0.5
#: The render's own, tighter stopping tolerance for the make-up gain iteration (LU).
LOUDNESS_AIM_LU = 0.05
#: True-peak ceiling floor (dBTP): outputs may peak up to max(this, the input's true peak).
TRUE_PEAK_CEILING_DBTP = -1.0
#: Oversampling factor of the true-peak meter (BS.1770 asks for at least 4x at 48 kHz).
OVERSAMPLING = 4
#: Limiter hold / look-ahead (s): gain reduction starts this long before a peak and holds as long after.
LIMITER_LOOKAHEAD_S = 0.010
#: Safety margin (dB) the limiter keeps below the ceiling (gain changes between samples, quantisation).
LIMITER_MARGIN_DB = 0.05
#: Maximum number of make-up gain iterations (each is one pass over the audio).
MAX_ITERATIONS = 8

_BS1770_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
_GATE_ABSOLUTE_LUFS = -70.0
_GATE_RELATIVE_LU = -10.0
_HOPS_PER_BLOCK = 4  # 400 ms gating blocks made of 100 ms hops (75 % overlap)
#: Half length (input samples) of scipy's resample_poly filter for 4x, plus a safety sample or two.
_RESAMPLE_RADIUS = 12
#: Subtypes whose samples cannot exceed full scale (written values beyond +-1.0 would clip).
_FLOAT_SUBTYPES = {"FLOAT", "DOUBLE", "VORBIS", "OPUS", "MPEG_LAYER_III", "MPEG_LAYER_II", "MPEG_LAYER_I"}
#: Free space (bytes) below which a failed write is reported as a full disk.
_LOW_DISK_BYTES = 1 << 20
_LOSSY_SUBTYPES = {"VORBIS", "OPUS", "MPEG_LAYER_III", "MPEG_LAYER_II", "MPEG_LAYER_I"}


class AudioError(SemeqError):
    """Audio that cannot be used or written: unreadable, empty, silent, non-finite, no disk space."""

    code = "bad_audio"


@dataclass(frozen=True)
class AudioFile:
    """A decoded file: ``samples`` ``(frames, channels)`` float64, and what it was stored as."""

    samples: np.ndarray
    sample_rate_hz: int
    subtype: str
    format: str

    @property
    def channels(self) -> int:
        return self.samples.shape[1]


@dataclass(frozen=True)
class RenderResult:
    """What a render did. ``samples`` is None for :func:`render_file` (the audio is in the file).

    ``gain_db`` is the make-up gain after the EQ, ``limiter_gain_reduction_db`` the largest gain
    reduction of the limiter (0 when it never acted, a positive number of dB otherwise).
    """

    samples: np.ndarray | None
    sample_rate_hz: int
    loudness_in_lufs: float
    loudness_out_lufs: float
    true_peak_in_dbtp: float
    true_peak_out_dbtp: float
    ceiling_dbtp: float
    gain_db: float
    limiter_gain_reduction_db: float
    passes: int
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def loudness_change_lu(self) -> float:
        return self.loudness_out_lufs - self.loudness_in_lufs

    def to_dict(self) -> dict:
        """JSON-ready summary (no samples), numbers rounded to 0.01."""
        d = asdict(self)
        d.pop("samples")
        d["warnings"] = list(self.warnings)
        d["loudness_change_lu"] = self.loudness_change_lu
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in d.items()}


# --- files ------------------------------------------------------------------------------------


def _open_for_reading(path: Path) -> sf.SoundFile:
    if not path.is_file():
        raise AudioError(f"{path} does not exist or is not a file")
    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"cannot read {path} as audio ({exc}); is it a WAV, FLAC, AIFF or Ogg file?") from None
    if f.frames <= 0 or f.channels <= 0:
        f.close()
        raise AudioError(f"{path} holds no audio frames")
    return f


def _checked(block: np.ndarray, where: str) -> np.ndarray:
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{where} contains NaN or infinite samples; the audio is damaged")
    return block


def _file_blocks(path: Path, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Yield ``(frames, channels)`` float64 blocks of a file, checked for finite values."""
    with _open_for_reading(path) as f:
        while True:
            try:
                block = f.read(block_frames, dtype="float64", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise AudioError(f"cannot decode {path}: {exc}") from None
            if block.shape[0] == 0:
                return
            yield _checked(block, str(path))


def read_audio(path: str | os.PathLike) -> AudioFile:
    """Read a whole file as float64 ``(frames, channels)`` with its sample rate, subtype and format.

    Raises :class:`AudioError` for a missing, unreadable, empty or non-finite file.
    """
    path = Path(path)
    with _open_for_reading(path) as f:
        sr, subtype, fmt = f.samplerate, f.subtype, f.format
    blocks = list(_file_blocks(path))
    if not blocks:
        raise AudioError(f"{path} holds no audio frames")
    return AudioFile(np.concatenate(blocks), int(sr), subtype, fmt)


def _write_target(path: Path, subtype: str | None, fmt: str | None) -> tuple[str, str]:
    """Resolve (format, subtype) for ``path``: keep the given ones when they fit the file's extension."""
    ext_format = path.suffix[1:].upper()
    if ext_format == "OGA":
        ext_format = "OGG"
    if ext_format == "AIF":
        ext_format = "AIFF"
    formats = sf.available_formats()
    if ext_format in formats and ext_format != (fmt or ext_format):
        fmt = ext_format  # the output's extension decides the container
    fmt = fmt or (ext_format if ext_format in formats else None)
    if fmt is None:
        raise AudioError(f"cannot tell the audio format of {path}; use .wav, .flac, .aiff or .ogg")
    if subtype is None or not sf.check_format(fmt, subtype):
        subtype = sf.default_subtype(fmt)
    if not sf.check_format(fmt, subtype):
        raise AudioError(f"cannot write {fmt}/{subtype} audio to {path}")
    return fmt, subtype


def _atomic_write(path: Path, sample_rate_hz: int, channels: int, subtype: str, fmt: str, blocks: Iterable[np.ndarray]) -> None:
    """Write ``blocks`` to a temporary file next to ``path``, then rename it onto ``path``.

    On any failure the temporary file is removed and nothing appears at ``path``.
    """
    folder = path.parent
    if not folder.is_dir():
        raise AudioError(f"the output folder {folder} does not exist")
    try:
        with atomic_path(path) as tmp:
            with sf.SoundFile(str(tmp), "w", samplerate=int(sample_rate_hz), channels=channels, subtype=subtype, format=fmt) as out:
                for block in blocks:
                    out.write(block)
    except (OSError, sf.LibsndfileError, AssertionError) as exc:
        # libsndfile reports a full disk as "System error." (or a short write): check the space left
        full = getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or shutil.disk_usage(folder).free < _LOW_DISK_BYTES
        if full:
            raise AudioError(f"not enough disk space to write {path}; nothing was written", code="disk_full") from None
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise AudioError(f"cannot write {path}: {detail}; nothing was written") from None


def write_audio_atomic(
    path: str | os.PathLike,
    samples: np.ndarray,
    sample_rate_hz: int,
    subtype: str | None = None,
    format: str | None = None,
) -> None:
    """Write ``samples`` ``(frames, channels)`` or ``(frames,)`` to ``path`` atomically (temp + rename).

    ``subtype``/``format`` as soundfile names them (e.g. ``PCM_24``, ``WAV``); when missing or not
    valid for the file's extension, the extension's format and its default subtype are used.
    """
    path = Path(path)
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise AudioError(f"cannot write audio of shape {np.asarray(samples).shape}: expected (frames, channels)")
    _checked(x, "the audio to write")
    fmt, subtype = _write_target(path, subtype, format)
    _atomic_write(path, sample_rate_hz, x.shape[1], subtype, fmt, (x[i : i + BLOCK_FRAMES] for i in range(0, x.shape[0], BLOCK_FRAMES)))


# --- meters -----------------------------------------------------------------------------------


def _k_weighting_sos(sample_rate_hz: float) -> np.ndarray:
    """pyloudnorm's BS.1770 K-weighting stages (shelf, then high-pass) as second-order sections."""
    import pyloudnorm

    rows = []
    for stage in pyloudnorm.Meter(sample_rate_hz, filter_class="K-weighting")._filters.values():
        b, a = stage.b, stage.a
        rows.append(np.concatenate([np.asarray(b) * stage.passband_gain / a[0], np.asarray(a) / a[0]]))
    return np.array(rows)


class LoudnessMeter:
    """Streaming BS.1770 integrated loudness (LUFS): feed blocks with :meth:`update`, then :meth:`lufs`."""

    def __init__(self, sample_rate_hz: float, channels: int) -> None:
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = channels
        self._sos = _k_weighting_sos(sample_rate_hz)
        self._zi = np.zeros((self._sos.shape[0], 2, channels))
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
        y, self._zi = signal.sosfilt(self._sos, block, axis=0, zi=self._zi)
        sq = y * y
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


def _interpolation_gain() -> float:
    """Largest sum of absolute taps over the polyphase branches of the 4x oversampling filter (the
    design :func:`scipy.signal.resample_poly` uses): a bound on |interpolated| / max |nearby input|."""
    taps = signal.firwin(2 * 10 * OVERSAMPLING + 1, 1.0 / OVERSAMPLING, window=("kaiser", 5.0)) * OVERSAMPLING
    return float(max(np.abs(taps[p::OVERSAMPLING]).sum() for p in range(OVERSAMPLING)))


#: Bound of the oversampled signal relative to the largest nearby sample (see ``true_peak_dbtp``).
_INTERPOLATION_GAIN = _interpolation_gain()
#: Frames per block when looking for stretches that can hold the true peak.
_TP_BLOCK_FRAMES = 1024
#: Candidate runs separated by at most this many blocks are oversampled as one run.
_TP_MERGE_GAP_BLOCKS = 4
#: Safety margin below the sample peak for the pruning: the oversampled value at a sample equals
#: that sample only to within the filter's pass-band ripple.
_TP_MARGIN = 0.99


def _peak_envelope(chunk: np.ndarray) -> np.ndarray:
    """Per frame, the largest absolute value over channels and over the 4x oversampled points in it."""
    # channel-major and contiguous along time: scipy's polyphase filter runs 3-4x faster so
    up = signal.resample_poly(np.ascontiguousarray(chunk.T), OVERSAMPLING, 1, axis=1)
    over_channels = np.abs(up).max(axis=0)
    phases = [over_channels[p::OVERSAMPLING] for p in range(OVERSAMPLING)]
    return np.maximum.reduce(phases)


def _local_map(blocks: Iterable[np.ndarray], radius: int, func: Callable[[np.ndarray], object]) -> Iterator:
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


def _metered(blocks: Iterable[np.ndarray], sample_rate_hz: float, channels: int, out: dict) -> Iterator[np.ndarray]:
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

    r = _RESAMPLE_RADIUS
    peak = 0.0
    for env in _local_map(feed(), r, lambda c: _peak_envelope(c)[r:-r]):
        peak = max(peak, float(env.max(initial=0.0)))
        while pending:
            yield pending.popleft()
    while pending:
        yield pending.popleft()
    out.update(lufs=meter.lufs(), peak=peak, sample_peak=sample_peak)


def _measure(blocks: Iterable[np.ndarray], sample_rate_hz: float, channels: int) -> dict:
    """Loudness and peaks of a block stream (see :func:`_metered`)."""
    out: dict = {}
    for _ in _metered(blocks, sample_rate_hz, channels, out):
        pass
    return out


def _db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


def integrated_loudness_lufs(samples: np.ndarray, sample_rate_hz: float) -> float:
    """Integrated loudness (LUFS, BS.1770 gated) of ``(frames, channels)`` or ``(frames,)`` audio."""
    x = _as_frames(samples)
    meter = LoudnessMeter(sample_rate_hz, x.shape[1])
    for block in _array_blocks(x):
        meter.update(block)
    return meter.lufs()


def true_peak_dbtp(samples: np.ndarray) -> float:
    """True peak (dBTP) of ``(frames, channels)`` or ``(frames,)`` audio by 4x oversampling; ``-inf``
    for digital silence. Oversampling by a fixed factor does not depend on the sample rate.

    Exact for the oversampling filter, yet only the stretches that can hold the peak are
    oversampled: an interpolated point is at most :data:`_INTERPOLATION_GAIN` times the largest
    sample within the filter's reach, so a block whose neighbourhood stays below the sample peak
    divided by that gain cannot hold the true peak and is skipped (most of a typical track).
    """
    x = _as_frames(samples)
    r = _RESAMPLE_RADIUS
    n_blocks = -(-x.shape[0] // _TP_BLOCK_FRAMES)
    block_peak = np.zeros(n_blocks)
    for c in range(x.shape[1]):  # per channel: contiguous reductions, far faster than over (frames, channels)
        column = np.zeros(n_blocks * _TP_BLOCK_FRAMES, dtype=x.dtype)
        column[: x.shape[0]] = x[:, c]
        np.maximum(block_peak, np.abs(column.reshape(n_blocks, _TP_BLOCK_FRAMES)).max(axis=1), out=block_peak)
    if block_peak.max() == 0.0:
        return _db(0.0)
    # values in a block depend on samples up to r (< one block) frames into its neighbours
    reach = np.maximum(block_peak, np.maximum(np.r_[0.0, block_peak[:-1]], np.r_[block_peak[1:], 0.0]))
    candidate = reach * _INTERPOLATION_GAIN >= _TP_MARGIN * block_peak.max()
    # runs of candidate blocks (merged across short gaps: fewer, longer calls), oversampled with
    # r frames of true context each side
    blocks = np.flatnonzero(candidate)
    breaks = np.flatnonzero(np.diff(blocks) > _TP_MERGE_GAP_BLOCKS)
    starts = blocks[np.r_[0, breaks + 1]] * _TP_BLOCK_FRAMES
    stops = np.minimum((blocks[np.r_[breaks, blocks.size - 1]] + 1) * _TP_BLOCK_FRAMES, x.shape[0])
    peak = 0.0
    for run_start, run_stop in zip(starts, stops):
        for a in range(run_start, run_stop, BLOCK_FRAMES):
            b = min(a + BLOCK_FRAMES, run_stop)
            lo, hi = max(a - r, 0), min(b + r, x.shape[0])
            chunk = np.pad(x[lo:hi].astype(np.float64, copy=False), ((r - (a - lo), r - (hi - b)), (0, 0)))
            peak = max(peak, float(_peak_envelope(chunk)[r:-r].max(initial=0.0)))
    return _db(peak)


def _as_frames(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] == 0:
        raise AudioError(f"audio must be (frames, channels), got shape {np.asarray(samples).shape}")
    if x.shape[0] == 0:
        raise AudioError("the audio holds no frames")
    if x.dtype.kind != "f":
        raise AudioError(f"audio samples must be floating point, got {x.dtype}")
    return _checked(x, "the audio")


def _array_blocks(x: np.ndarray) -> Iterator[np.ndarray]:
    for i in range(0, x.shape[0], BLOCK_FRAMES):
        yield x[i : i + BLOCK_FRAMES].astype(np.float64, copy=False)


# --- the render -------------------------------------------------------------------------------


@dataclass
class _Stage:
    """One pass of the render chain at a given make-up gain and limiter ceiling."""

    params: EQParams
    sample_rate_hz: float
    channels: int
    gain_db: float
    limit_linear: float | None  # true-peak ceiling the limiter enforces, None = no limiter
    sample_limit_linear: float | None  # sample-peak ceiling (PCM outputs), None = none
    min_gain: float = 1.0

    def hold(self) -> int:
        """Limiter look-ahead and hold in frames (even)."""
        return 2 * max(1, int(round(LIMITER_LOOKAHEAD_S * self.sample_rate_hz / 2)))

    def radius(self) -> int:
        """Reach of the limiter in frames: oversampling filter, running minimum, smoothing."""
        return _RESAMPLE_RADIUS + 2 * self.hold() + 2

    def _limit(self, chunk: np.ndarray) -> np.ndarray:
        """Limiter on a chunk with context; returns the limited middle."""
        r, hold = self.radius(), self.hold()
        need = np.ones(chunk.shape[0])
        if self.limit_linear is not None:
            env = _peak_envelope(chunk)
            np.minimum(need, self.limit_linear / np.maximum(env, 1e-30), out=need)
        if self.sample_limit_linear is not None:
            np.minimum(need, self.sample_limit_linear / np.maximum(np.abs(chunk).max(axis=1), 1e-30), out=need)
        # gain = a running minimum over +-hold, smoothed by a triangle of reach hold: never above `need`
        gain = ndimage.minimum_filter1d(need, 2 * hold + 1, mode="nearest")
        gain = ndimage.uniform_filter1d(ndimage.uniform_filter1d(gain, hold + 1, mode="nearest"), hold + 1, mode="nearest")
        gain = np.minimum(gain, 1.0)[r:-r]
        self.min_gain = min(self.min_gain, float(gain.min(initial=1.0)))
        return chunk[r:-r] * gain[:, None]

    def run(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        eq = EQStream(self.params, self.sample_rate_hz, self.channels)
        g = 10.0 ** (self.gain_db / 20.0)
        gained = (eq.process(b) * g for b in blocks)
        if self.limit_linear is None and self.sample_limit_linear is None:
            return gained
        return _local_map(gained, self.radius(), self._limit)


def _render_stream(
    source: Callable[[], Iterable[np.ndarray]],
    sample_rate_hz: float,
    channels: int,
    params: EQParams,
    sample_limit_linear: float | None,
    write: Callable[[Iterable[np.ndarray]], None],
) -> RenderResult:
    """The render algorithm over a re-readable block ``source``; ``write`` consumes the final output.

    Pass 1 measures the input and the plain EQ; when the make-up gain alone would break the true-peak
    ceiling (or the sample ceiling ``sample_limit_linear`` of PCM outputs), each further pass runs
    the limiter and corrects the gain by the loudness it lost; the last pass is written and measured.
    """
    stats_in: dict = {}
    stats_eq: dict = {}
    eq = EQStream(params, sample_rate_hz, channels)
    plain = (eq.process(b) for b in _metered(source(), sample_rate_hz, channels, stats_in))
    for _ in _metered(plain, sample_rate_hz, channels, stats_eq):
        pass
    passes = 1
    loud_in, tp_in = stats_in["lufs"], _db(stats_in["peak"])
    ceiling_db = max(TRUE_PEAK_CEILING_DBTP, tp_in)
    gain_db = loud_in - stats_eq["lufs"]
    gain = 10.0 ** (gain_db / 20.0)
    needs_limit = _db(stats_eq["peak"] * gain) > ceiling_db - LIMITER_MARGIN_DB or (
        sample_limit_linear is not None and stats_eq["sample_peak"] * gain > sample_limit_linear
    )
    warnings: list[str] = []
    limit_db = ceiling_db - LIMITER_MARGIN_DB
    if needs_limit:
        for _ in range(MAX_ITERATIONS):
            stage = _Stage(params, sample_rate_hz, channels, gain_db, 10 ** (limit_db / 20), sample_limit_linear)
            stats = _measure(stage.run(source()), sample_rate_hz, channels)
            passes += 1
            over_db = _db(stats["peak"]) - ceiling_db
            off_lu = stats["lufs"] - loud_in
            if abs(off_lu) <= LOUDNESS_AIM_LU and over_db <= 0.0:
                break
            if over_db > 0.0:
                limit_db -= over_db + LIMITER_MARGIN_DB
            gain_db -= off_lu
    final = _Stage(
        params,
        sample_rate_hz,
        channels,
        gain_db,
        10 ** (limit_db / 20) if needs_limit else None,
        sample_limit_linear if needs_limit else None,
    )
    stats_out: dict = {}
    write(_metered(final.run(source()), sample_rate_hz, channels, stats_out))
    passes += 1
    loud_out, tp_out = stats_out["lufs"], _db(stats_out["peak"])
    if abs(loud_out - loud_in) > LOUDNESS_TOLERANCE_LU:
        warnings.append(f"the output is {loud_out - loud_in:+.2f} LU from the input's loudness (the limiter had to work hard)")
    if tp_out > ceiling_db + 1e-6:
        warnings.append(f"the output's true peak {tp_out:.2f} dBTP is above the ceiling {ceiling_db:.2f} dBTP")
    return RenderResult(
        samples=None,
        sample_rate_hz=int(sample_rate_hz),
        loudness_in_lufs=loud_in,
        loudness_out_lufs=loud_out,
        true_peak_in_dbtp=tp_in,
        true_peak_out_dbtp=tp_out,
        ceiling_dbtp=ceiling_db,
        gain_db=gain_db,
        limiter_gain_reduction_db=-_db(final.min_gain) if final.min_gain < 1.0 else 0.0,
        passes=passes,
        warnings=tuple(warnings),
    )


def render(samples: np.ndarray, sample_rate_hz: float, params: EQParams) -> RenderResult:
    """EQ ``samples`` and keep their loudness and true-peak safety (see the module text).

    ``samples`` is ``(frames, channels)`` or ``(frames,)`` float; the result's ``samples`` has the
    same shape and dtype.
    """
    x = _as_frames(samples)
    out: list[np.ndarray] = []
    result = _render_stream(lambda: _array_blocks(x), sample_rate_hz, x.shape[1], params, None, lambda blocks: out.extend(blocks))
    y = np.concatenate(out).astype(x.dtype, copy=False)
    return replace(result, samples=y if np.asarray(samples).ndim == 2 else y[:, 0])


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def render_file(in_path: str | os.PathLike, out_path: str | os.PathLike, params: EQParams, force: bool = False) -> RenderResult:
    """Render ``in_path`` through the EQ into ``out_path`` (see :func:`render`), block by block.

    Keeps the sample rate, channel count, format and subtype (the output's extension may choose
    another container; then its default subtype is used). Never overwrites the input; overwrites an
    existing output only with ``force``. Writes a temporary file next to the output and renames it.
    """
    src, dst = Path(in_path), Path(out_path)
    if _same_file(src, dst):
        raise AudioError(f"refusing to overwrite the input {src}; choose another output file", code="forbidden_path")
    if dst.exists() and not force:
        raise AudioError(f"{dst} already exists; use --force to replace it", code="output_exists")
    if dst.is_dir():
        raise AudioError(f"{dst} is a folder; give an output file name")
    with _open_for_reading(src) as f:
        sr, channels, subtype, fmt = f.samplerate, f.channels, f.subtype, f.format
    fmt, subtype = _write_target(dst, subtype, fmt)
    sample_limit = None if subtype in _FLOAT_SUBTYPES else 1.0
    result = _render_stream(
        lambda: _file_blocks(src),
        sr,
        channels,
        params,
        sample_limit,
        lambda blocks: _atomic_write(dst, sr, channels, subtype, fmt, blocks),
    )
    if subtype in _LOSSY_SUBTYPES:
        result = replace(
            result,
            warnings=result.warnings
            + (f"{subtype} is lossy: its encoder can add peaks above the measured {result.true_peak_out_dbtp:.2f} dBTP",),
        )
    return result
