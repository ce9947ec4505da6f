"""Loudness-safe EQ renders, block by block.

A render (:func:`render`, :func:`render_file`) is: the causal EQ, then one make-up gain so that the
output keeps the input's integrated loudness (within :data:`LOUDNESS_TOLERANCE_LU`), then a
look-ahead peak limiter that keeps the output's true peak at or below
``max(-1 dBTP, input true peak)``. The limiter only works where gain alone cannot satisfy both, and
the make-up gain is re-measured after limiting so the loudness still matches.

Everything runs block by block (:data:`daw_bridge.audio.blocks.BLOCK_FRAMES` frames) with carried
state (the EQ's filter state, the limiter's look-ahead context), so memory does not grow with the
file: pass 1 measures the input and the EQ'd signal, further passes (only when the limiter must
work) correct the gain, and the last pass is written through a temporary file in the output's
folder, renamed into place. The input is opened once and read through that open file.

Units: sample rates in Hz, loudness in LUFS, true peak in dBTP, gains and gain reductions in dB.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from daw_bridge.audio.blocks import AudioError, array_blocks, as_frames, db
from daw_bridge.audio.meters import (
    RESAMPLE_RADIUS,
    local_map,
    measure,
    metered,
    peak_envelope,
)
from daw_bridge.audio.reading import AudioSource, open_audio
from daw_bridge.audio.writing import (
    FLOAT_SUBTYPES,
    LOSSY_SUBTYPES,
    PROBE_S,
    lossy_level,
    write_blocks,
    write_target,
)
from daw_bridge.eq import EQParams, EQStream
from daw_bridge.paths import OpenedFile

#: The render's loudness target: |output - input| integrated loudness (LU) it aims within.
LOUDNESS_TOLERANCE_LU = 0.5
#: The render's own, tighter stopping tolerance for the make-up gain iteration (LU).
LOUDNESS_AIM_LU = 0.05
#: True-peak ceiling floor (dBTP): outputs may peak up to max(this, the input's true peak).
TRUE_PEAK_CEILING_DBTP = -1.0
#: Limiter hold / look-ahead (s): gain reduction starts this long before a peak and holds as long after.
LIMITER_LOOKAHEAD_S = 0.010
#: Safety margin (dB) the limiter keeps below the ceiling (gain changes between samples, quantisation).
LIMITER_MARGIN_DB = 0.05
#: Maximum number of make-up gain iterations (each is one pass over the audio).
MAX_ITERATIONS = 8



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
        return RESAMPLE_RADIUS + 2 * self.hold() + 2

    def _limit(self, chunk: np.ndarray) -> np.ndarray:
        """Limiter on a chunk with context; returns the limited middle."""
        r, hold = self.radius(), self.hold()
        need = np.ones(chunk.shape[0])
        if self.limit_linear is not None:
            env = peak_envelope(chunk)
            np.minimum(need, self.limit_linear / np.maximum(env, 1e-30), out=need)
        if self.sample_limit_linear is not None:
            np.minimum(need, self.sample_limit_linear / np.maximum(np.abs(chunk).max(axis=1), 1e-30), out=need)
        # gain = a running minimum over +-hold, smoothed by a triangle of reach hold: never above `need`
        from scipy import ndimage  # imported on first render: 0.3 s that importing the package skips

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
        return local_map(gained, self.radius(), self._limit)


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
    plain = (eq.process(b) for b in metered(source(), sample_rate_hz, channels, stats_in))
    for _ in metered(plain, sample_rate_hz, channels, stats_eq):
        pass
    passes = 1
    loud_in, tp_in = stats_in["lufs"], db(stats_in["peak"])
    ceiling_db = max(TRUE_PEAK_CEILING_DBTP, tp_in)
    gain_db = loud_in - stats_eq["lufs"]
    gain = 10.0 ** (gain_db / 20.0)
    needs_limit = db(stats_eq["peak"] * gain) > ceiling_db - LIMITER_MARGIN_DB or (
        sample_limit_linear is not None and stats_eq["sample_peak"] * gain > sample_limit_linear
    )
    warnings: list[str] = []
    limit_db = ceiling_db - LIMITER_MARGIN_DB
    if needs_limit:
        for _ in range(MAX_ITERATIONS):
            stage = _Stage(params, sample_rate_hz, channels, gain_db, 10 ** (limit_db / 20), sample_limit_linear)
            stats = measure(stage.run(source()), sample_rate_hz, channels)
            passes += 1
            over_db = db(stats["peak"]) - ceiling_db
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
    write(metered(final.run(source()), sample_rate_hz, channels, stats_out))
    passes += 1
    loud_out, tp_out = stats_out["lufs"], db(stats_out["peak"])
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
        limiter_gain_reduction_db=-db(final.min_gain) if final.min_gain < 1.0 else 0.0,
        passes=passes,
        warnings=tuple(warnings),
    )


def render(samples: np.ndarray, sample_rate_hz: float, params: EQParams) -> RenderResult:
    """EQ ``samples`` and keep their loudness and true-peak safety (see the module text).

    ``samples`` is ``(frames, channels)`` or ``(frames,)`` float; the result's ``samples`` has the
    same shape and dtype.
    """
    x = as_frames(samples)
    out: list[np.ndarray] = []
    result = _render_stream(lambda: array_blocks(x), sample_rate_hz, x.shape[1], params, None, lambda blocks: out.extend(blocks))
    y = np.concatenate(out).astype(x.dtype, copy=False)
    return replace(result, samples=y if np.asarray(samples).ndim == 2 else y[:, 0])


def _is_input(source: AudioSource, dst: Path) -> bool:
    """Does ``dst`` name the very file ``source`` reads (same device and inode, links followed)?"""
    try:
        a, b = os.fstat(source.handle.fileno()), os.stat(dst)
    except (OSError, AttributeError, ValueError):
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _lossy_note(source: AudioSource, dst: Path) -> tuple:
    """The output encoding and a note: a lossy input's quality is kept (see
    :func:`daw_bridge.audio.writing.lossy_level`)."""
    encoding = write_target(dst, source.subtype, source.format)
    if encoding.subtype not in LOSSY_SUBTYPES or source.subtype not in LOSSY_SUBTYPES:
        return encoding, ()
    probe_frames = int(PROBE_S * source.sample_rate_hz)
    probe, got = [], 0
    for block in source.blocks():
        probe.append(block)
        got += block.shape[0]
        if got >= probe_frames:
            break
    encoding, rate = lossy_level(encoding, np.concatenate(probe)[:probe_frames], source.sample_rate_hz, source.bitrate_kbps)
    kept = "at least" if rate >= source.bitrate_kbps else "below (the encoder's best is lower than)"
    note = (
        f"{encoding.subtype} output encoded at compression level {encoding.compression_level:.1f}, about "
        f"{rate:.0f} kbit/s, {kept} the input's {source.bitrate_kbps:.0f} kbit/s; for no further loss, render to .flac or .wav"
    )
    return encoding, (note,)


def render_file(
    in_path: str | os.PathLike | OpenedFile,
    out_path: str | os.PathLike,
    params: EQParams,
    force: bool = False,
    within: Iterable[Path] | None = None,
) -> RenderResult:
    """Render ``in_path`` through the EQ into ``out_path`` (see :func:`render`), block by block.

    ``in_path`` may be a file already opened by a path policy (read through it, never by name).
    Keeps the sample rate, channel count, format and subtype (the output's extension may choose
    another container; then its default subtype is used); a lossy output keeps at least the lossy
    input's bit rate. Never overwrites the input; overwrites an existing output only with
    ``force``. Writes a temporary file next to the output and renames it; ``within``: folders the
    output must stay inside. A damaged or truncated input is rendered as far as it decodes, with
    a warning saying what was missing; a flat EQ is labelled as such.
    """
    dst = Path(out_path)
    with open_audio(in_path) as source:
        if _is_input(source, dst):
            raise AudioError(f"refusing to overwrite the input {source.name}; choose another output file", code="forbidden_path")
        if dst.is_dir():
            raise AudioError(f"{dst} is a folder; give an output file name")
        if dst.exists() and not force:
            raise AudioError(f"{dst} already exists; use --force to replace it", code="output_exists")
        encoding, notes = _lossy_note(source, dst)
        sr, channels = source.sample_rate_hz, source.channels
        result = _render_stream(
            source.blocks,
            sr,
            channels,
            params,
            None if encoding.subtype in FLOAT_SUBTYPES else 1.0,
            lambda blocks: write_blocks(dst, sr, channels, encoding, blocks, within),
        )
        damage = source.damage()
    warnings = list(result.warnings) + list(notes)
    if damage:
        warnings.append(f"the input is damaged: {damage}; the render holds only what could be decoded")
    if params.is_flat:
        warnings.append("the EQ is flat (0 dB in every band): the render is the input, loudness-matched, unchanged in tone")
    if encoding.subtype in LOSSY_SUBTYPES:
        warnings.append(f"{encoding.subtype} is lossy: its encoder can add peaks above the measured {result.true_peak_out_dbtp:.2f} dBTP")
    return replace(result, warnings=tuple(warnings))
