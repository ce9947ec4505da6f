"""Writing audio: whole or not at all, in the right format, without losing a lossy input's quality.

Every write streams blocks into a temporary file beside the destination and renames it into place
(:func:`daw_bridge.files.atomic_file`; with ``within``, the folder is checked on what was opened).
A full disk is reported as such (libsndfile itself only says "System error." or writes short).

Lossy outputs (Ogg Vorbis, Ogg Opus, MP3): an encoder's default quality can sit far below the
input's (a 320 kbit/s Ogg came back at about a third of it). :func:`lossy_level` picks the
encoder's compression level whose bit rate, measured on a probe of the audio itself, is at least
the input's, or the encoder's best when none reaches it.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from daw_bridge.audio import blocks as blk
from daw_bridge.audio.blocks import AudioError, checked
from daw_bridge.files import atomic_file

#: Free space (bytes) below which a failed write is reported as a full disk.
LOW_DISK_BYTES = 1 << 20
LOSSY_SUBTYPES = {"VORBIS", "OPUS", "MPEG_LAYER_III", "MPEG_LAYER_II", "MPEG_LAYER_I"}
#: Subtypes whose samples may exceed full scale in the file (no sample-peak clipping on write).
FLOAT_SUBTYPES = {"FLOAT", "DOUBLE"} | LOSSY_SUBTYPES
#: Compression levels tried for a lossy output, smallest file first (0.0 is the encoder's best).
LOSSY_LEVELS = (0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)
#: Seconds of audio encoded to measure a level's bit rate.
PROBE_S = 4.0


@dataclass(frozen=True)
class Encoding:
    """How an output is encoded: container, subtype and (lossy only) compression level 0..1."""

    format: str
    subtype: str
    compression_level: float | None = None


def write_target(path: Path, subtype: str | None, fmt: str | None) -> Encoding:
    """The encoding for ``path``: keep the given format and subtype when they fit its extension."""
    ext_format = path.suffix[1:].upper()
    ext_format = {"OGA": "OGG", "OPUS": "OGG", "AIF": "AIFF"}.get(ext_format, ext_format)
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
    return Encoding(fmt, subtype)


def lossy_level(encoding: Encoding, probe: np.ndarray, sample_rate_hz: int, bitrate_kbps: float) -> tuple[Encoding, float]:
    """The encoding at the first level of :data:`LOSSY_LEVELS` whose bit rate on ``probe``
    (``(frames, channels)`` audio) reaches ``bitrate_kbps``; returns it and the probe's bit rate."""
    seconds = probe.shape[0] / sample_rate_hz
    rate = 0.0
    level = LOSSY_LEVELS[-1]
    for level in LOSSY_LEVELS:
        buffer = io.BytesIO()
        try:
            with sf.SoundFile(buffer, "w", sample_rate_hz, probe.shape[1], encoding.subtype, format=encoding.format, compression_level=level) as f:
                f.write(probe)
        except (sf.LibsndfileError, RuntimeError):
            continue
        rate = len(buffer.getvalue()) * 8 / max(seconds, 1e-9) / 1000.0
        if rate >= bitrate_kbps:
            break
    return Encoding(encoding.format, encoding.subtype, level), rate


class _GuardedWriter:
    """A file object for soundfile that turns a failed write into a short write (libsndfile then
    stops) and keeps the error, instead of a traceback printed from inside a C callback."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        if self.error is not None:
            return 0
        try:
            return self.handle.write(data) or 0
        except OSError as exc:
            self.error = exc
            return 0

    def read(self, n: int = -1) -> bytes:
        return self.handle.read(n)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()


def write_blocks(
    path: Path,
    sample_rate_hz: int,
    channels: int,
    encoding: Encoding,
    blocks: Iterable[np.ndarray],
    within: Iterable[Path] | None = None,
) -> None:
    """Write ``blocks`` to a temporary file next to ``path``, then rename it onto ``path``.

    On any failure the temporary file is removed and nothing appears at ``path``.
    """
    folder = path.parent
    if not folder.is_dir():
        raise AudioError(f"the output folder {folder} does not exist")
    guard: _GuardedWriter | None = None
    try:
        with atomic_file(path, within) as handle:
            guard = _GuardedWriter(handle)
            with sf.SoundFile(
                guard, "w", samplerate=int(sample_rate_hz), channels=channels, subtype=encoding.subtype,
                format=encoding.format, compression_level=encoding.compression_level,
            ) as out:
                for block in blocks:
                    out.write(block)
                    if guard.error is not None:
                        raise guard.error
            if guard.error is not None:
                raise guard.error
    except (OSError, sf.LibsndfileError, AssertionError) as exc:
        if isinstance(exc, PermissionError) or getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise AudioError(f"cannot write {path}: the folder {folder} is not writable; nothing was written", code="not_writable") from None
        cause = guard.error if guard is not None and guard.error is not None else exc
        # libsndfile reports a full disk as "System error." (or a short write): check the space left
        full = getattr(cause, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or shutil.disk_usage(folder).free < LOW_DISK_BYTES
        if full:
            raise AudioError(f"not enough disk space to write {path}; nothing was written", code="disk_full") from None
        detail = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
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
    checked(x, "the audio to write")
    n = blk.BLOCK_FRAMES
    write_blocks(path, sample_rate_hz, x.shape[1], write_target(path, subtype, format), (x[i : i + n] for i in range(0, x.shape[0], n)))
