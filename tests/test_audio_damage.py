"""Damaged and truncated audio says what is missing; lossy inputs come back at no lower quality.

Whole and truncated files are made with Python's own ``wave`` module and with libsndfile, then cut
with plain byte slicing; bit rates are measured from the files' sizes, quality as the error
against the exact (unencoded) render.
"""

from __future__ import annotations

import io
import math
import wave

import numpy as np
import pytest
import soundfile as sf

from daw_bridge.audio import AudioError, open_audio, read_audio, render, render_file
from daw_bridge.audio.container import missing
from daw_bridge.eq import EQParams

SR = 48000
WARM = EQParams.from_dict({**EQParams.flat().to_dict(), "low_shelf_gain_db": 3.0, "high_shelf_gain_db": -2.0})


def music(seconds: float, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Tones with harmonics and a little noise: something an encoder has to work at."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = np.zeros((t.size, channels))
    for c in range(channels):
        for k, f in enumerate((110.0, 220.0, 440.0 * (1 + c / 2), 1760.0, 5000.0)):
            x[:, c] += 0.08 / (k + 1) * np.sin(2 * np.pi * f * t * (1 + 0.001 * np.sin(t)))
        x[:, c] += 0.01 * rng.standard_normal(t.size)
    return x


def stdlib_wav(path, x: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def cut(path, fraction: float, out):
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def whole_files(tmp_path):
    x = music(3.0)
    files = {}
    files["stdlib.wav"] = tmp_path / "stdlib.wav"
    stdlib_wav(files["stdlib.wav"], x)
    for name, fmt, sub in [("a.wav", "WAV", "PCM_24"), ("a.flac", "FLAC", "PCM_16"), ("a.aiff", "AIFF", "PCM_16"),
                           ("a.ogg", "OGG", "VORBIS"), ("a.opus", "OGG", "OPUS"), ("a.mp3", "MP3", "MPEG_LAYER_III"),
                           ("a.rf64", "RF64", "PCM_16"), ("a.w64", "W64", "PCM_16")]:
        files[name] = tmp_path / name
        sf.write(str(files[name]), x, SR, subtype=sub, format=fmt)
    odd = tmp_path / "odd.wav"  # an odd-length chunk (padded) before the data and a LIST chunk after it
    body = files["stdlib.wav"].read_bytes()
    fmt_end = 12 + 8 + int.from_bytes(body[16:20], "little")
    extra = b"junk" + (3).to_bytes(4, "little") + b"abc\x00"
    tail = b"LIST" + (4).to_bytes(4, "little") + b"INFO"
    riff = body[:4] + (len(body) - 8 + len(extra) + len(tail)).to_bytes(4, "little") + body[8:fmt_end] + extra + body[fmt_end:] + tail
    odd.write_bytes(riff)
    files["odd.wav"] = odd
    return files


def test_whole_files_have_no_damage(tmp_path):
    for name, path in whole_files(tmp_path).items():
        with open(path, "rb") as handle:
            assert missing(handle, path.stat().st_size) is None, name
        assert read_audio(path).damage is None, name


@pytest.mark.parametrize(
    "name, words",
    [
        ("stdlib.wav", r"WAV header declares 3\.00 s of audio but the file holds only 1\.9\d s \(1\.0\d s missing\)"),
        ("a.aiff", r"AIFF header declares 3\.00 s of audio but the file holds only 1\.9\d s"),
        ("a.ogg", "Ogg file ends inside a page"),
        ("a.opus", "Ogg file ends inside a page"),
        ("a.flac", r"declares 3\.00 s of audio but only [0-9.]+ s could be decoded"),
        ("a.mp3", r"declares 3\.0\d s of audio but only [0-9.]+ s could be decoded"),
    ],
)
def test_truncated_files_are_rendered_with_a_warning_saying_what_is_missing(tmp_path, name, words):
    src = cut(whole_files(tmp_path)[name], 0.66, tmp_path / f"cut-{name}")
    out = tmp_path / f"out-{name}"
    result = render_file(src, out, WARM)
    damaged = [w for w in result.warnings if w.startswith("the input is damaged")]
    assert len(damaged) == 1 and __import__("re").search(words, damaged[0]), result.warnings
    assert sf.info(str(out)).duration < 2.5  # what could be decoded, no more


def test_a_corrupt_page_inside_an_ogg_file_is_reported(tmp_path):
    src = whole_files(tmp_path)["a.ogg"]
    data = bytearray(src.read_bytes())
    pages = [i for i in range(len(data)) if data[i : i + 4] == b"OggS"]
    middle = pages[len(pages) // 2]
    data[middle + 40 : middle + 400] = bytes(360)  # a damaged page: its checksum fails, the decoder skips it
    bad = tmp_path / "bad.ogg"
    bad.write_bytes(bytes(data))
    with open_audio(bad) as source:
        frames = sum(b.shape[0] for b in source.blocks())
        assert frames < source.declared_frames
        assert "could be decoded" in source.damage()


def test_a_header_written_last_is_reported_until_it_is_written(tmp_path):
    path = tmp_path / "export.wav"
    stdlib_wav(path, music(1.0))
    data = bytearray(path.read_bytes())
    data[4:8] = bytes(4)  # RIFF length and data length not yet filled in, as DAWs leave them
    data[40:44] = bytes(4)
    with io.BytesIO(bytes(data)) as handle:
        assert "does not say how long" in missing(handle, len(data))


def test_damage_is_refused_when_nothing_decodes(tmp_path):
    src = whole_files(tmp_path)["a.flac"]
    head = tmp_path / "head.flac"
    head.write_bytes(src.read_bytes()[:200])
    with pytest.raises(AudioError):
        render_file(head, tmp_path / "out.flac", WARM)
    assert not (tmp_path / "out.flac").exists()


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    n = min(len(reference), len(test))
    err = reference[:n] - test[:n]
    return 10 * math.log10(np.sum(reference[:n] ** 2) / np.sum(err**2))


@pytest.mark.parametrize("ext, fmt, subtype, level", [("ogg", "OGG", "VORBIS", 0.1), ("opus", "OGG", "OPUS", 0.2), ("mp3", "MP3", "MPEG_LAYER_III", 0.1)])
def test_a_lossy_input_comes_back_at_no_lower_bit_rate_and_closer_to_the_exact_render(tmp_path, ext, fmt, subtype, level):
    x = music(6.0, seed=3)
    src = tmp_path / f"in.{ext}"
    sf.write(str(src), x, SR, subtype=subtype, format=fmt, compression_level=level)  # a high-quality input
    out = tmp_path / f"out.{ext}"
    result = render_file(src, out, WARM)
    seconds_in, seconds_out = sf.info(str(src)).duration, sf.info(str(out)).duration
    rate_in = src.stat().st_size * 8 / seconds_in / 1000
    rate_out = out.stat().st_size * 8 / seconds_out / 1000
    assert rate_out >= 0.9 * rate_in, (rate_in, rate_out)
    assert any("kbit/s" in w for w in result.warnings)
    # quality: the error against the exact render is no larger than the encoder's default gives
    decoded, _ = sf.read(str(src), always_2d=True)
    exact = render(decoded, SR, WARM).samples
    default = tmp_path / f"default.{ext}"
    sf.write(str(default), exact, SR, subtype=subtype, format=fmt)
    ours, _ = sf.read(str(out), always_2d=True)
    theirs, _ = sf.read(str(default), always_2d=True)
    assert snr_db(exact, ours) >= snr_db(exact, theirs) - 0.5
    assert default.stat().st_size < out.stat().st_size  # the default really is a lower bit rate


def test_render_reads_through_an_opened_file_not_the_name(tmp_path):
    from daw_bridge.paths import PathPolicy, ensure_home

    home = ensure_home(tmp_path / "home")
    src = home / "inbox" / "song.wav"
    stdlib_wav(src, music(2.0))
    with PathPolicy.for_home(home).open(str(src)) as opened:
        src.rename(home / "inbox" / "moved.wav")  # the name no longer leads to it
        src.write_bytes(b"not audio")
        result = render_file(opened, home / "outbox" / "song.wav", WARM, within=[home])
    assert result.loudness_in_lufs == pytest.approx(result.loudness_out_lufs, abs=0.5)
    assert sf.info(str(home / "outbox" / "song.wav")).duration == pytest.approx(2.0)


def test_a_flat_render_is_labelled(tmp_path):
    src = tmp_path / "in.wav"
    stdlib_wav(src, music(1.0))
    result = render_file(src, tmp_path / "out.wav", EQParams.flat())
    assert any("EQ is flat" in w for w in result.warnings)
    assert not any("EQ is flat" in w for w in render_file(src, tmp_path / "warm.wav", WARM).warnings)
