"""Audio files in and out, loudness, true peak, and loudness-safe EQ renders, all in blocks.

Units: sample rates in Hz, loudness in LUFS (ITU-R BS.1770 integrated, gated), true peak in dBTP
(4x oversampled, BS.1770 style), gains and gain reductions in dB. Samples are ``(frames, channels)``
float arrays with full scale at 1.0.

Modules: :mod:`~daw_bridge.audio.blocks` (the error type, block size, checks),
:mod:`~daw_bridge.audio.reading` (open once, read in blocks, say what a damaged file lacks),
:mod:`~daw_bridge.audio.container` (is a WAV/AIFF/Ogg whole?), :mod:`~daw_bridge.audio.writing`
(atomic, format-keeping, quality-keeping writes), :mod:`~daw_bridge.audio.meters` (streaming
loudness and true peak) and :mod:`~daw_bridge.audio.render` (the loudness-safe render).
"""

from daw_bridge.audio.blocks import BLOCK_FRAMES, AudioError
from daw_bridge.audio.meters import (
    LoudnessMeter,
    integrated_loudness_lufs,
    measure,
    metered,
    true_peak_dbtp,
)
from daw_bridge.audio.reading import AudioFile, AudioSource, open_audio, read_audio
from daw_bridge.audio.render import (
    LOUDNESS_TOLERANCE_LU,
    TRUE_PEAK_CEILING_DBTP,
    RenderResult,
    render,
    render_file,
)
from daw_bridge.audio.writing import write_audio_atomic

__all__ = [
    "BLOCK_FRAMES",
    "LOUDNESS_TOLERANCE_LU",
    "TRUE_PEAK_CEILING_DBTP",
    "AudioError",
    "AudioFile",
    "AudioSource",
    "LoudnessMeter",
    "RenderResult",
    "integrated_loudness_lufs",
    "measure",
    "metered",
    "open_audio",
    "read_audio",
    "render",
    "render_file",
    "true_peak_dbtp",
    "write_audio_atomic",
]
