"""Is an audio file whole? What its container declares, compared with what the file holds.

A decoder reads what is there: libsndfile clamps a WAV or AIFF whose header declares more audio than
the file holds, and an Ogg stream cut short decodes to its last whole page, so a truncated file (a
copy that stopped, an export still running) reads as a shorter, "complete" file. This module reads
the container itself:

* WAV (RIFF, RIFX, RF64/BW64): the ``data`` chunk's declared length (and the RIFF length) against
  the file's size; a placeholder length (0 or 0xFFFFFFFF, as writers leave it until they finish)
  with audio after it means the header has not been written yet.
* AIFF/AIFC: the ``SSND`` chunk's length and the ``COMM`` chunk's frame count against the file.
* Ogg (Vorbis, Opus, FLAC in Ogg): the last page must be whole and carry the end-of-stream flag.

Other containers (FLAC, MP3, ...) declare a length that the decoder is compared with instead
(:mod:`daw_bridge.audio.reading`). :func:`missing` answers with a sentence or None.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

#: Bytes read from the end of an Ogg file to find its last page (a page is at most 65,307 bytes).
_OGG_TAIL_BYTES = 65536 + 282
_PLACEHOLDERS = (0, 0xFFFFFFFF)
_MAX_CHUNKS = 4096


def missing(handle: BinaryIO, size_bytes: int) -> str | None:
    """A sentence saying what the container declares and the file lacks, or None when the file
    is whole (or its container declares nothing checkable). Leaves ``handle`` at offset 0."""
    try:
        handle.seek(0)
        head = handle.read(12)
        if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
            return _wav(handle, head, size_bytes)
        if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            return _aiff(handle, head, size_bytes)
        if head[:4] == b"OggS":
            return _ogg(handle, size_bytes)
        return None
    finally:
        handle.seek(0)


def _chunks(handle: BinaryIO, start: int, size_bytes: int, endian: str):
    """Yield (id, data offset, declared length) of the chunks from ``start`` to the end of the file."""
    pos = start
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > size_bytes:
            return
        handle.seek(pos)
        header = handle.read(8)
        if len(header) < 8:
            return
        cid, length = header[:4], struct.unpack(endian + "I", header[4:])[0]
        yield cid, pos + 8, length
        pos += 8 + length + (length & 1)


def _sentence(kind: str, declared: int, held: int, bytes_per_s: float | None) -> str:
    """What is missing, in seconds when the byte rate is known, else in bytes."""
    if bytes_per_s:
        amounts = f"{declared / bytes_per_s:.2f} s of audio but the file holds only {held / bytes_per_s:.2f} s"
        lost = f" ({(declared - held) / bytes_per_s:.2f} s missing)"
    else:
        amounts, lost = f"{declared:,} bytes of audio but the file holds only {held:,}", ""
    return f"the {kind} header declares {amounts}{lost}: the file is truncated or still being written"


def _extended(raw: bytes) -> float:
    """An IEEE 754 80-bit extended float (AIFF's sample rate)."""
    exponent, mantissa = struct.unpack(">HQ", raw)
    sign = -1.0 if exponent & 0x8000 else 1.0
    exponent &= 0x7FFF
    return 0.0 if exponent == 0 and mantissa == 0 else sign * mantissa * 2.0 ** (exponent - 16383 - 63)


def _wav(handle: BinaryIO, head: bytes, size_bytes: int) -> str | None:
    endian = ">" if head[:4] == b"RIFX" else "<"
    riff_length = struct.unpack(endian + "I", head[4:8])[0]
    big = head[:4] in (b"RF64", b"BW64")
    data_length = None
    rate = None
    for cid, offset, length in _chunks(handle, 12, size_bytes, endian):
        if cid == b"fmt ":
            handle.seek(offset)
            raw = handle.read(12)
            if len(raw) == 12:
                rate = float(struct.unpack(endian + "I", raw[8:12])[0]) or None  # bytes per second
        elif cid == b"ds64" and big:
            handle.seek(offset)
            raw = handle.read(16)
            if len(raw) == 16:
                riff_length, data_length = struct.unpack("<QQ", raw)
        elif cid == b"data":
            if not big or data_length is None:
                data_length = length
            held = size_bytes - offset
            if data_length in _PLACEHOLDERS and not big:
                return "the WAV header does not say how long the audio is yet (its writer has not finished it)" if held > 0 else None
            if data_length > held:
                return _sentence("WAV", data_length, held, rate)
            break
    else:
        return "the WAV file has no audio data chunk: it is truncated or still being written"
    if riff_length not in _PLACEHOLDERS and riff_length + 8 > size_bytes:
        return _sentence("WAV", riff_length + 8, size_bytes, None)
    return None


def _aiff(handle: BinaryIO, head: bytes, size_bytes: int) -> str | None:
    form_length = struct.unpack(">I", head[4:8])[0]
    frames = bytes_per_frame = rate = None
    for cid, offset, length in _chunks(handle, 12, size_bytes, ">"):
        if cid == b"COMM":
            handle.seek(offset)
            raw = handle.read(18)
            if len(raw) == 18:
                channels, frames, bits = struct.unpack(">hIh", raw[:8])
                bytes_per_frame = max(1, channels) * ((max(1, bits) + 7) // 8)
                rate = _extended(raw[8:18]) * bytes_per_frame or None
        elif cid == b"SSND":
            held = size_bytes - offset
            if length > held:
                return _sentence("AIFF", length - 8, held - 8, rate)
            if frames is not None and bytes_per_frame is not None and head[8:12] == b"AIFF":
                have = max(0, (min(length, held) - 8)) // bytes_per_frame
                if frames > have:
                    return _sentence("AIFF", frames * bytes_per_frame, have * bytes_per_frame, rate)
            break
    else:
        return "the AIFF file has no sound data chunk: it is truncated or still being written"
    if form_length + 8 > size_bytes:
        return _sentence("AIFF", form_length + 8, size_bytes, None)
    return None


def _ogg(handle: BinaryIO, size_bytes: int) -> str | None:
    start = max(0, size_bytes - _OGG_TAIL_BYTES)
    handle.seek(start)
    tail = handle.read(size_bytes - start)
    at = tail.rfind(b"OggS")
    while at >= 0:
        if at + 27 <= len(tail):
            nseg = tail[at + 26]
            table = tail[at + 27 : at + 27 + nseg]
            if len(table) == nseg:
                end = at + 27 + nseg + sum(table)
                if end == len(tail):
                    if tail[at + 5] & 0x04:
                        return None
                    return "the Ogg stream has no end-of-stream page: the file is truncated or still being written"
                if end < len(tail):
                    break  # a whole page followed by bytes that are not a page
        at = tail.rfind(b"OggS", 0, at)
    return "the Ogg file ends inside a page: it is truncated or still being written"
