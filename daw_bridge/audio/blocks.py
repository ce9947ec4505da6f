"""Blocks of audio: the error type, the block size and the checks every audio module shares.

Samples are ``(frames, channels)`` float arrays with full scale at 1.0; a stream of audio is an
iterator of such blocks (:data:`BLOCK_FRAMES` frames each, the last one shorter), so no module
holds a whole file in memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from daw_bridge.errors import SemeqError

#: Frames per processing block (about 1.4 s at 48 kHz).
BLOCK_FRAMES = 1 << 16


class AudioError(SemeqError):
    """Audio that cannot be used or written: unreadable, empty, silent, non-finite, no disk space."""

    code = "bad_audio"


def checked(block: np.ndarray, where: str) -> np.ndarray:
    """``block`` itself, or :class:`AudioError` when it holds NaN or infinite samples."""
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{where} contains NaN or infinite samples; the audio is damaged")
    return block


def as_frames(samples: np.ndarray) -> np.ndarray:
    """``samples`` as a checked ``(frames, channels)`` float array (a view where possible)."""
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] == 0:
        raise AudioError(f"audio must be (frames, channels), got shape {np.asarray(samples).shape}")
    if x.shape[0] == 0:
        raise AudioError("the audio holds no frames")
    if x.dtype.kind != "f":
        raise AudioError(f"audio samples must be floating point, got {x.dtype}")
    return checked(x, "the audio")


def array_blocks(x: np.ndarray) -> Iterator[np.ndarray]:
    """Float64 blocks of an in-memory ``(frames, channels)`` array."""
    for i in range(0, x.shape[0], BLOCK_FRAMES):
        yield x[i : i + BLOCK_FRAMES].astype(np.float64, copy=False)


def db(linear: float) -> float:
    """Decibels of a linear amplitude; ``-inf`` for 0."""
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf
