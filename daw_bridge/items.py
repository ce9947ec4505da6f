"""A REAPER track's signal before its FX, mixed here from its items' source files.

The REAPER scripts send a track's audio items instead of its samples (no per-sample Lua on REAPER's
main thread): for each item its source file, position, take offset, length, play rate, volume
(item x take, linear; negative = polarity inverted), take pan, fades, loop and mute. This module
reads the files in blocks (``soundfile``), resamples when the play rate or the file's rate needs it
(``scipy.signal.resample_poly``), applies gains and fades as vectors and sums the items into a stereo
signal, the way REAPER plays a track's items into its FX chain.

The scripts' request file itself (in the server home's ``requests/``) is the track description:
the client sends its path as the request's ``path`` and the service, seeing a ``.json`` file, calls
:func:`read_track_file`. Files are read only where the service's :class:`~daw_bridge.paths.PathPolicy` allows: a user lets
the server read a project's media with ``semeq serve --allow DIR`` (the folder holding their REAPER
projects). A refused or unreadable source raises an error whose code (``forbidden_path``,
``unreadable_media``) tells the script to fall back to REAPER's audio accessor.

Not reproduced (the scripts send such tracks through the accessor instead): take FX and envelopes,
pitch shift, time stretch with preserved pitch, channel modes, section/reversed sources. Fade shapes
other than linear (0) are approximated by an equal-power curve, and take pan by a balance law:
both are unverified against REAPER and matter little for a spectral analysis.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from daw_bridge.errors import SemeqError
from daw_bridge.paths import PathPolicy

#: Output frames mixed per block.
BLOCK_FRAMES = 1 << 16
#: Extra source frames read on each side of a block that is resampled (filter warm-up).
RESAMPLE_PAD_FRAMES = 256
#: Most items a request may carry, and the longest span mixed (s).
MAX_ITEMS = 10_000
MAX_SPAN_S = 600.0
#: Rate used when the sources' rates differ and the request names none (Hz).
DEFAULT_RATE_HZ = 48000


class MediaError(SemeqError):
    """A source file that cannot be read as audio (the script then uses REAPER's accessor)."""

    code = "unreadable_media"


class SilentMixError(SemeqError):
    """The mixed span holds only silence."""

    code = "silent_audio"


def _bad(message: str) -> SemeqError:
    return SemeqError(message, code="bad_request")


@dataclass(frozen=True)
class Item:
    """One audio item: times in seconds, gains linear, fade shapes as REAPER numbers them (0 = linear)."""

    path: Path
    position_s: float
    length_s: float
    offset_s: float = 0.0
    playrate: float = 1.0
    volume: float = 1.0
    pan: float = 0.0
    fade_in_s: float = 0.0
    fade_in_shape: int = 0
    fade_out_s: float = 0.0
    fade_out_shape: int = 0
    loop: bool = False
    mute: bool = False

    @property
    def end_s(self) -> float:
        return self.position_s + self.length_s


_NUMBER_FIELDS = {
    "position_s": (-1e7, 1e7), "length_s": (0.0, 1e7), "offset_s": (-1e7, 1e7), "playrate": (1e-3, 1e3),
    "volume": (-1e3, 1e3), "pan": (-1.0, 1.0), "fade_in_s": (0.0, 1e7), "fade_out_s": (0.0, 1e7),
    "fade_in_shape": (0, 16), "fade_out_shape": (0, 16),
}


def parse_items(raw: Any, policy: PathPolicy) -> list[Item]:
    """Check a request's ``items`` and every path against ``policy``; returns the items."""
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)) or not raw:
        raise _bad("'items' must be a non-empty list of the track's audio items")
    if len(raw) > MAX_ITEMS:
        raise _bad(f"'items' holds more than {MAX_ITEMS} items")
    items = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise _bad(f"item {i + 1} is not an object")
        unknown = sorted(set(entry) - set(_NUMBER_FIELDS) - {"path", "loop", "mute"})
        if unknown:
            raise _bad(f"item {i + 1} has unknown fields: {', '.join(map(str, unknown))}")
        values: dict[str, Any] = {"path": policy.check(entry.get("path"))}
        for name, (lo, hi) in _NUMBER_FIELDS.items():
            if name in entry:
                v = entry[name]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                    raise _bad(f"item {i + 1}: '{name}' must be a number from {lo:g} to {hi:g}, got {v!r}")
                values[name] = int(v) if name.endswith("shape") else float(v)
        if "position_s" not in values or "length_s" not in values:
            raise _bad(f"item {i + 1} needs 'position_s' and 'length_s'")
        for flag in ("loop", "mute"):
            if flag in entry:
                if not isinstance(entry[flag], bool):
                    raise _bad(f"item {i + 1}: '{flag}' must be true or false")
                values[flag] = entry[flag]
        items.append(Item(**values))
    return items


class _Source:
    """An open source file: rate, channels, frames, and blocks of frames as float32 stereo."""

    def __init__(self, path: Path) -> None:
        import soundfile as sf

        try:
            self.file = sf.SoundFile(str(path))
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            raise MediaError(f"cannot read {path} as audio ({exc})") from None
        self.path = path
        self.rate = int(self.file.samplerate)
        self.frames = int(self.file.frames)
        if self.frames <= 0:
            raise MediaError(f"{path} holds no audio frames")

    def read(self, start: int, count: int) -> np.ndarray:
        """Frames ``start .. start + count`` as (count, 2) float32; zeros outside the file."""
        out = np.zeros((max(count, 0), 2), np.float32)
        a, b = max(start, 0), min(start + count, self.frames)
        if b > a:
            self.file.seek(a)
            try:
                x = self.file.read(b - a, dtype="float32", always_2d=True)
            except RuntimeError as exc:
                raise MediaError(f"cannot decode {self.path}: {exc}") from None
            x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
            out[a - start : a - start + x.shape[0]] = x[:, :2] if x.shape[1] >= 2 else np.repeat(x, 2, axis=1)
        return out

    def read_looped(self, start: int, count: int) -> np.ndarray:
        """Like :meth:`read`, the file repeating forever in both directions."""
        idx = (np.arange(start, start + count) % self.frames)
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        pieces = np.split(idx, breaks)
        return np.concatenate([self.read(int(p[0]), len(p)) for p in pieces]) if count > 0 else np.zeros((0, 2), np.float32)


def _fade_curve(x: np.ndarray, shape: int) -> np.ndarray:
    """Fade gain for progress ``x`` in 0..1: linear for shape 0, equal power otherwise (approximate)."""
    x = np.clip(x, 0.0, 1.0)
    return x if shape == 0 else np.sin(0.5 * np.pi * x)


def _gain(item: Item, t: np.ndarray) -> np.ndarray:
    """(n, 2) gains at times ``t`` (s): volume, fades and pan."""
    g = np.full(t.shape, item.volume, np.float64)
    if item.fade_in_s > 0:
        g *= _fade_curve((t - item.position_s) / item.fade_in_s, item.fade_in_shape)
    if item.fade_out_s > 0:
        g *= _fade_curve((item.end_s - t) / item.fade_out_s, item.fade_out_shape)
    pan = np.array([min(1.0, 1.0 - item.pan), min(1.0, 1.0 + item.pan)])
    return g[:, None] * pan[None, :]


def _item_block(item: Item, src: _Source, t: np.ndarray, rate_hz: int) -> np.ndarray:
    """The item's (n, 2) contribution at output times ``t`` (s, one output frame apart)."""
    src_pos = (item.offset_s + (t - item.position_s) * item.playrate) * src.rate  # fractional source frames
    step = Fraction(src.rate * item.playrate / rate_hz).limit_denominator(1000)
    read = src.read_looped if item.loop else src.read
    if step == 1:
        start = int(round(src_pos[0]))
        x = read(start, len(t))
    else:
        s0 = math.floor(src_pos[0]) - RESAMPLE_PAD_FRAMES
        s1 = math.ceil(src_pos[-1]) + RESAMPLE_PAD_FRAMES + 1
        from scipy.signal import resample_poly

        y = resample_poly(read(s0, s1 - s0), step.denominator, step.numerator, axis=0)
        k = np.clip(np.rint((src_pos - s0) / float(step)).astype(np.int64), 0, len(y) - 1)
        x = y[k]
    return x * _gain(item, t)


def _blocks(t0_s: float, t1_s: float, rate_hz: int) -> Iterator[np.ndarray]:
    """Output times (s) of the span, BLOCK_FRAMES at a time."""
    total = int(round((t1_s - t0_s) * rate_hz))
    for start in range(0, total, BLOCK_FRAMES):
        yield t0_s + np.arange(start, min(total, start + BLOCK_FRAMES)) / rate_hz


def _mix_at(items: Sequence[Item], t: np.ndarray, rate_hz: int, sources: dict) -> np.ndarray:
    """The (n, 2) float32 sum of the items at output times ``t`` (s, one output frame apart);
    ``sources`` caches the open files."""
    out = np.zeros((len(t), 2), np.float64)
    for it in items:
        inside = (t >= it.position_s) & (t < it.end_s)
        if not inside.any():
            continue
        src = sources.get(it.path) or sources.setdefault(it.path, _Source(it.path))
        lo, hi = np.flatnonzero(inside)[[0, -1]]
        out[lo : hi + 1] += _item_block(it, src, t[lo : hi + 1], rate_hz)
    return out.astype(np.float32)


def mix_blocks(items: Sequence[Item], t0_s: float, t1_s: float, rate_hz: int) -> Iterator[np.ndarray]:
    """The track's signal from t0_s to t1_s at rate_hz, as (n, 2) float32 blocks."""
    sources: dict[Path, _Source] = {}
    audible = [it for it in items if not it.mute and it.length_s > 0 and it.volume != 0]
    try:
        for t in _blocks(t0_s, t1_s, rate_hz):
            yield _mix_at(audible, t, rate_hz, sources)
    finally:
        _close(sources)


def _close(sources: Mapping[Path, _Source]) -> None:
    for src in sources.values():
        src.file.close()


def mix(items: Sequence[Item], t0_s: float, t1_s: float, rate_hz: int) -> np.ndarray:
    """The track's signal from t0_s to t1_s as one (frames, 2) float32 array."""
    blocks = list(mix_blocks(items, t0_s, t1_s, rate_hz))
    return np.concatenate(blocks) if blocks else np.zeros((0, 2), np.float32)


def _energy_per_second(items: Sequence[Item], t0_s: float, seconds: int, sources: dict) -> np.ndarray:
    """Energy of the mix in each whole second from t0_s, from the source frames themselves.

    Resampling keeps a signal's power, so each source frame's energy (times the item's gains) is
    added to the second it plays in, without resampling; fades and the cross terms between items
    are left out (an estimate good enough to rank seconds).
    """
    total = np.zeros(seconds)
    for it in items:
        src = sources.get(it.path) or sources.setdefault(it.path, _Source(it.path))
        frames = math.ceil(it.length_s * it.playrate * src.rate)
        first = int(round(it.offset_s * src.rate))
        weights = np.array([min(1.0, 1.0 - it.pan), min(1.0, 1.0 + it.pan)], np.float32) ** 2
        scale = it.volume**2 / (src.rate * it.playrate)
        read = src.read_looped if it.loop else src.read
        for k in range(0, frames, BLOCK_FRAMES):
            x = read(first + k, min(BLOCK_FRAMES, frames - k))
            energy = (x * x) @ weights
            t = it.position_s + np.arange(k, k + len(x)) / (src.rate * it.playrate)
            second = np.clip((t - t0_s).astype(np.int64), 0, seconds - 1)
            total += np.bincount(second, weights=energy, minlength=seconds)[:seconds] * scale
    return total


def loudest_span(items: Sequence[Item], rate_hz: int, length_s: float) -> tuple[float, float]:
    """The loudest ``length_s`` (whole seconds) of the items (s, s), read block by block."""
    audible = [it for it in items if not it.mute and it.length_s > 0 and it.volume != 0]
    if not audible:
        raise SilentMixError("every item of this track is muted or silent")
    t0, t1 = min(it.position_s for it in audible), max(it.end_s for it in audible)
    if t1 - t0 <= length_s:
        return t0, t1
    sources: dict[Path, _Source] = {}
    try:
        per_second = _energy_per_second(audible, t0, math.ceil(t1 - t0), sources)
    finally:
        _close(sources)
    window = max(1, int(length_s))
    sums = np.convolve(per_second, np.ones(window), mode="valid")
    start = t0 + float(np.argmax(sums))
    return start, min(t1, start + length_s)


def output_rate(items: Sequence[Item], requested_hz: float | None) -> int:
    """The sources' own rate when they share one at play rate 1 (no resampling), else the requested rate."""
    import soundfile as sf

    rates = set()
    for it in items:
        if it.mute:
            continue
        try:
            rates.add(int(sf.info(str(it.path)).samplerate) if it.playrate == 1.0 else -1)
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            raise MediaError(f"cannot read {it.path} as audio ({exc})") from None
    if len(rates) == 1 and -1 not in rates:
        return rates.pop()
    return int(requested_hz or DEFAULT_RATE_HZ)


@dataclass(frozen=True)
class TrackAudio:
    """A mixed span: samples (frames, 2) float32, rate (Hz), span (s) and a one-line description."""

    samples: np.ndarray
    sample_rate_hz: int
    span_s: tuple[float, float]
    description: str


#: Largest track file read (bytes).
MAX_TRACK_FILE_BYTES = 8 * 1024 * 1024


def read_track_file(path: Path, policy: PathPolicy) -> TrackAudio:
    """Mix the track described by a JSON file (a REAPER request file: ``items`` and optionally
    ``span_s``, ``length_s``, ``sample_rate_hz``; other members are ignored)."""
    from daw_bridge.request_file import read_json

    try:
        track = read_json(path, MAX_TRACK_FILE_BYTES, "track file")
    except OSError as exc:
        raise MediaError(f"cannot read the track file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise _bad(str(exc)) from None
    if not isinstance(track, Mapping) or "items" not in track:
        raise _bad(f"the track file {path} has no 'items'")
    return track_audio(track, policy)


def track_audio(request: Mapping, policy: PathPolicy) -> TrackAudio:
    """Mix a request's ``items`` over ``span_s`` (or its loudest ``length_s``, default 30 s)."""
    items = parse_items(request.get("items"), policy)
    requested = request.get("sample_rate_hz")
    if requested is not None and (isinstance(requested, bool) or not isinstance(requested, (int, float)) or not 8000 <= requested <= 384000):
        raise _bad("'sample_rate_hz' must be a number from 8000 to 384000")
    rate = output_rate(items, requested)
    span = request.get("span_s")
    if span is not None:
        if not (isinstance(span, Sequence) and len(span) == 2 and all(isinstance(v, (int, float)) and math.isfinite(v) for v in span)):
            raise _bad("'span_s' must be [start_s, end_s]")
        t0, t1 = float(span[0]), float(span[1])
        if not 0 < t1 - t0 <= MAX_SPAN_S:
            raise _bad(f"'span_s' must be a span of 0 to {MAX_SPAN_S:g} s, got {t1 - t0:g} s")
    else:
        length = request.get("length_s", 30.0)
        if isinstance(length, bool) or not isinstance(length, (int, float)) or not 1 <= length <= MAX_SPAN_S:
            raise _bad(f"'length_s' must be a number of seconds from 1 to {MAX_SPAN_S:g}")
        t0, t1 = loudest_span(items, rate, float(length))
    samples = mix(items, t0, t1, rate)
    if samples.shape[0] == 0 or not np.any(samples):
        raise SilentMixError(f"the track is silent from {t0:.1f} s to {t1:.1f} s")
    audible = sum(1 for it in items if not it.mute and it.position_s < t1 and it.end_s > t0)
    return TrackAudio(samples, rate, (t0, t1), f"{audible} item(s), {t0:.2f}-{t1:.2f} s at {rate} Hz")


def analyze_track_file(path: Path, policy: PathPolicy):
    """The analysis (:func:`daw_bridge.analysis.analyze`) of the track a JSON file describes."""
    from daw_bridge.analysis import analyze

    audio = read_track_file(path, policy)
    return analyze(audio.samples, audio.sample_rate_hz)


def track_key(path: Path) -> tuple | None:
    """What the mix of a track file depends on: its track members and each item file's size and
    modification time (so a second request on an unchanged track can reuse the first analysis);
    None when the file or an item cannot be read (mixing then reports why)."""
    import json
    import os

    from daw_bridge.request_file import read_json

    try:
        track = read_json(path, MAX_TRACK_FILE_BYTES, "track file")
        fields = json.dumps({k: track.get(k) for k in ("items", "span_s", "length_s", "sample_rate_hz")}, sort_keys=True)
        stats = tuple((it["path"], st.st_size, st.st_mtime_ns) for it in track["items"] for st in [os.stat(it["path"])])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return ("track", fields, stats)
