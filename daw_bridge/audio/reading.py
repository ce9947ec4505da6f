"""Reading audio in blocks from an open file, and saying when a file is not whole.

:func:`open_audio` takes a path (opened once, without blocking on a FIFO, refused unless a regular
file), an already opened and checked file (:class:`daw_bridge.paths.OpenedFile`, from the
service's path policy) or any binary file object, and returns an :class:`AudioSource`. Its
:meth:`AudioSource.blocks` reads the file from the start each time it is called (a render reads
twice: once to measure, once to write) through that one open file, never by name again.

The interface the listening code reads: ``source.blocks(dtype="float32")`` yields ``(frames,
channels)`` float32 blocks, ``source.sample_rate_hz`` is the rate in Hz.

Damage: the container's own declaration (:func:`daw_bridge.audio.container.missing`) and, after a
full pass, the decoded length against the declared one (a decoder that stops early on a damaged
FLAC, Ogg or MP3). :meth:`AudioSource.damage` says what is missing in a sentence; readers go on with
what could be decoded (every pass sees the same frames) and callers warn or refuse.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import soundfile as sf

from daw_bridge.audio import blocks as blk
from daw_bridge.audio.blocks import AudioError, checked
from daw_bridge.audio.container import missing
from daw_bridge.errors import SemeqError
from daw_bridge.paths import UNRESTRICTED, OpenedFile


@dataclass(frozen=True)
class AudioFile:
    """A decoded file: ``samples`` ``(frames, channels)`` float64, what it was stored as, and
    ``damage`` (a sentence saying what was missing, or None)."""

    samples: np.ndarray
    sample_rate_hz: int
    subtype: str
    format: str
    damage: str | None = None

    @property
    def channels(self) -> int:
        return self.samples.shape[1]


@dataclass
class AudioSource:
    """An open audio file, read in blocks from its start each time :meth:`blocks` is called."""

    handle: BinaryIO
    name: str
    size_bytes: int
    sample_rate_hz: int
    channels: int
    declared_frames: int
    subtype: str
    format: str
    owns_handle: bool = True
    incomplete: str | None = None  # the container's own complaint
    decoded_frames: int | None = None  # after a full pass
    decode_error: str | None = None
    _passes: int = field(default=0, repr=False)

    @property
    def duration_s(self) -> float:
        """Declared duration (s)."""
        return self.declared_frames / self.sample_rate_hz

    @property
    def bitrate_kbps(self) -> float:
        """The file's average bit rate (kbit/s) over its declared duration."""
        return self.size_bytes * 8 / max(self.duration_s, 1e-9) / 1000.0

    def blocks(self, dtype: str = "float64", block_frames: int | None = None) -> Iterator[np.ndarray]:
        """Yield ``(frames, channels)`` blocks of ``dtype`` from the start, checked to be finite.

        A decoder error after the first block ends the stream there (recorded for :meth:`damage`);
        one at the very start raises :class:`AudioError`.
        """
        n = block_frames or blk.BLOCK_FRAMES
        self.handle.seek(0)
        frames = 0
        with sf.SoundFile(self.handle, closefd=False) as f:
            while True:
                try:
                    block = f.read(n, dtype=dtype, always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    if frames == 0:
                        raise AudioError(f"cannot decode {self.name}: {exc}") from None
                    self.decode_error = f"decoding stopped at {frames / self.sample_rate_hz:.2f} s ({exc or 'decoder error'})"
                    break
                if block.shape[0] == 0:
                    break
                frames += block.shape[0]
                yield checked(block, self.name)
        self.decoded_frames = frames
        if frames == 0:
            raise AudioError(f"{self.name} holds no audio frames")

    def damage(self) -> str | None:
        """What the file lacks, in a sentence (None when whole); decoder findings need one full pass."""
        found = [self.incomplete] if self.incomplete else []
        if self.decoded_frames is not None and self.decoded_frames < self.declared_frames:
            sr = self.sample_rate_hz
            lost = (self.declared_frames - self.decoded_frames) / sr
            how = self.decode_error or "the rest could not be decoded"
            found.append(
                f"the file declares {self.declared_frames / sr:.2f} s of audio but only "
                f"{self.decoded_frames / sr:.2f} s could be decoded ({lost:.2f} s missing; {how})"
            )
        elif self.decode_error:
            found.append(self.decode_error)
        return "; ".join(found) or None

    def close(self) -> None:
        if self.owns_handle:
            self.handle.close()

    def __enter__(self) -> AudioSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_audio(source: str | os.PathLike | OpenedFile | BinaryIO, name: str | None = None) -> AudioSource:
    """Open audio for block reading (see the module text). A path is opened here and closed with
    the source; an :class:`OpenedFile` or a file object stays the caller's to close.

    Raises :class:`AudioError` for a missing file, a file that is not a regular file, a file
    soundfile cannot read and one that holds no frames.
    """
    owns = isinstance(source, (str, os.PathLike))
    if owns:
        try:
            source = UNRESTRICTED.open(source)
        except SemeqError as exc:
            raise AudioError(str(exc)) from None
    if isinstance(source, OpenedFile):
        handle, label, size = source.file, name or str(source.path), source.size_bytes
    else:
        handle = source
        label = name or str(getattr(source, "name", "the audio"))
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(0)
    try:
        with sf.SoundFile(handle, closefd=False) as f:
            sr, channels, frames, subtype, fmt = f.samplerate, f.channels, f.frames, f.subtype, f.format
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError) as exc:
        if owns:
            handle.close()
        raise AudioError(f"cannot read {label} as audio ({exc}); is it a WAV, FLAC, AIFF or Ogg file?") from None
    if frames <= 0 or channels <= 0:
        if owns:
            handle.close()
        raise AudioError(f"{label} holds no audio frames")
    return AudioSource(handle, label, size, int(sr), channels, frames, subtype, fmt, owns, missing(handle, size))


def read_audio(path: str | os.PathLike | OpenedFile | BinaryIO) -> AudioFile:
    """Read a whole file as float64 ``(frames, channels)`` with its sample rate, subtype, format
    and damage (see :meth:`AudioSource.damage`).

    Raises :class:`AudioError` for a missing, unreadable, empty or non-finite file.
    """
    with open_audio(path) as source:
        samples = np.concatenate(list(source.blocks()))
        return AudioFile(samples, source.sample_rate_hz, source.subtype, source.format, source.damage())

