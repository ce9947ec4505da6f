"""Audio I/O, loudness, true peak and loudness-safe renders (daw_bridge.audio).

Loudness of results is checked with pyloudnorm itself and true peak with a plain 4x
scipy.signal.resample_poly of the whole signal, independently of the module's streaming meters.
"""

from __future__ import annotations

import errno
import math

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy import signal

from daw_bridge import audio
import daw_bridge.audio.writing
from daw_bridge.audio import (
    AudioError,
    LoudnessMeter,
    integrated_loudness_lufs,
    read_audio,
    render,
    render_file,
    true_peak_dbtp,
    write_audio_atomic,
)
from daw_bridge.eq import EQParams
from daw_bridge.errors import SemeqError


def ref_lufs(x: np.ndarray, sr: float) -> float:
    return pyloudnorm.Meter(sr).integrated_loudness(x)


def ref_true_peak_dbtp(x: np.ndarray) -> float:
    up = signal.resample_poly(np.atleast_2d(x.T).T, 4, 1, axis=0)
    return 20 * math.log10(np.max(np.abs(up)))


def noise(seconds: float, sr: int, channels: int = 2, seed: int = 0, level: float = 0.1) -> np.ndarray:
    return level * np.random.default_rng(seed).standard_normal((int(seconds * sr), channels))


def eq_with(**changes) -> EQParams:
    return EQParams.from_dict({**EQParams.flat().to_dict(), **changes})


#: EQs with boosts up to +9 dB (and cuts) that a render must keep loudness- and peak-safe.
BOOSTS = {
    "bass+9": eq_with(low_shelf_gain_db=9.0, low_shelf_freq_hz=150.0),
    "presence+9": eq_with(peak2_gain_db=9.0, peak2_freq_hz=3000.0, peak2_q=1.0),
    "air+9": eq_with(high_shelf_gain_db=9.0, high_shelf_freq_hz=8000.0),
    "all+9": EQParams(9.0, 100.0, 9.0, 400.0, 1.0, 9.0, 2500.0, 2.0, 9.0, 6000.0, 0.7, 9.0, 10000.0),
    "scoop-9": EQParams(-9.0, 200.0, -9.0, 500.0, 0.7, -9.0, 1500.0, 1.0, 6.0, 5000.0, 4.0, -3.0, 12000.0),
}


def assert_safe(x: np.ndarray, y: np.ndarray, sr: float) -> None:
    """The render contract, measured independently: loudness kept, true peak under the ceiling."""
    assert abs(ref_lufs(y, sr) - ref_lufs(x, sr)) <= 0.5
    assert ref_true_peak_dbtp(y) <= max(-1.0, ref_true_peak_dbtp(x)) + 1e-6


# --- meters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sr,channels", [(44100, 1), (48000, 2), (22050, 2), (48000, 5), (8000, 1), (96000, 2)])
def test_loudness_matches_pyloudnorm_on_noise(sr, channels):
    x = noise(3.0, sr, channels) * np.linspace(0.2, 1.0, channels)
    x[: sr // 2] *= 0.001  # a quiet intro, so the gates matter
    assert integrated_loudness_lufs(x, sr) == pytest.approx(ref_lufs(x, sr), abs=0.02)


def test_loudness_matches_pyloudnorm_on_real_music(real_music_excerpt):
    x, sr = real_music_excerpt
    assert integrated_loudness_lufs(x, sr) == pytest.approx(ref_lufs(x, sr), abs=0.02)


def test_loudness_of_a_sine_is_its_bs1770_value():
    """A 997 Hz sine at 0 dBFS in one channel reads about -3.01 LUFS (BS.1770's calibration)."""
    sr = 48000
    t = np.arange(5 * sr) / sr
    assert integrated_loudness_lufs(np.sin(2 * np.pi * 997 * t), sr) == pytest.approx(-3.01, abs=0.05)


def test_loudness_meter_does_not_depend_on_block_sizes():
    sr = 44100
    x = noise(2.3, sr, 2, seed=3)
    whole = LoudnessMeter(sr, 2)
    whole.update(x)
    pieces = LoudnessMeter(sr, 2)
    for a, b in zip([0, 1, 7, 4410, 4411, 30000, 60000], [1, 7, 4410, 4411, 30000, 60000, x.shape[0]]):
        pieces.update(x[a:b])
    assert pieces.lufs() == pytest.approx(whole.lufs(), abs=1e-9)


def test_eight_channel_loudness_weights_extra_channels_like_front_ones():
    sr = 48000
    x = noise(2.0, sr, 8, seed=4)
    got = integrated_loudness_lufs(x, sr)
    weights = np.array([1, 1, 1, 1.41, 1.41, 1, 1, 1])
    # same K-weighting, same gates: equal to the 1-channel loudness of a power-weighted sum
    per_channel = np.array([10 ** ((integrated_loudness_lufs(x[:, c], sr) + 0.691) / 10) for c in range(8)])
    assert got == pytest.approx(-0.691 + 10 * math.log10(per_channel @ weights), abs=0.05)


def test_true_peak_finds_intersample_peaks():
    sr = 48000
    n = np.arange(sr)
    x = np.sin(2 * np.pi * (sr / 4) * n / sr + np.pi / 4)  # every sample at +-0.707, the wave peaks at 1.0
    x *= np.minimum(1.0, np.minimum(n, n[::-1]) / 4800)  # 100 ms fades: no onset transient
    assert 20 * math.log10(np.max(np.abs(x))) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x) == pytest.approx(0.0, abs=0.1)


def test_true_peak_is_the_same_in_blocks(monkeypatch):
    x = noise(1.0, 44100, 2, seed=5)
    whole = true_peak_dbtp(x)
    assert whole == pytest.approx(ref_true_peak_dbtp(x), abs=1e-9)
    monkeypatch.setattr(audio.blocks, "BLOCK_FRAMES", 1000)
    assert true_peak_dbtp(x) == pytest.approx(whole, abs=1e-12)
    assert true_peak_dbtp(np.zeros((100, 2))) == -math.inf


@pytest.mark.parametrize("block_frames", [65536, 4096, 1000, 7])
def test_a_streamed_analysis_measures_the_peak_across_block_edges(block_frames):
    """An inter-sample peak straddling a block edge: a stream of any block size reports what the
    whole array does (and what scipy's resample_poly finds), loudness included."""
    from daw_bridge.analysis import analyze

    sr = 48000
    x = noise(3.0, sr, 2, seed=3) * 0.1
    edge = 65536
    x[edge - 3 : edge + 3, 0] = [0.5, 0.99, 0.99, -0.2, 0.99, 0.99]  # the 4x points between exceed 1.0
    whole = analyze(x, sr)
    assert whole.true_peak_dbtp == pytest.approx(ref_true_peak_dbtp(x), abs=1e-9)
    streamed = analyze(iter([x[i : i + block_frames] for i in range(0, len(x), block_frames)]), sr)
    assert streamed.true_peak_dbtp == pytest.approx(whole.true_peak_dbtp, abs=1e-12)
    assert streamed.loudness_lufs == pytest.approx(whole.loudness_lufs, abs=1e-9)


def test_meters_refuse_bad_audio():
    with pytest.raises(AudioError, match="silent"):
        integrated_loudness_lufs(np.zeros((48000, 2)), 48000)
    with pytest.raises(AudioError, match="too short"):
        integrated_loudness_lufs(noise(0.3, 48000), 48000)
    bad = noise(1.0, 48000)
    bad[100, 1] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        integrated_loudness_lufs(bad, 48000)
    with pytest.raises(AudioError, match="no frames"):
        true_peak_dbtp(np.zeros((0, 2)))


# --- render -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BOOSTS))
def test_render_keeps_loudness_and_true_peak_on_real_music(real_music_excerpt, name):
    x, sr = real_music_excerpt
    r = render(x, sr, BOOSTS[name])
    assert r.samples.shape == x.shape and r.samples.dtype == x.dtype
    assert_safe(x, r.samples, sr)
    assert r.loudness_out_lufs == pytest.approx(ref_lufs(r.samples, sr), abs=0.02)
    assert r.true_peak_out_dbtp <= r.ceiling_dbtp
    assert not r.warnings


def test_render_on_a_hot_master_keeps_its_own_ceiling(real_music_excerpt):
    """A master already above 0 dBTP may keep its true peak, no more."""
    x, sr = real_music_excerpt
    hot = x / np.max(np.abs(x))  # sample peak 0 dBFS; inter-sample peaks above it
    assert ref_true_peak_dbtp(hot) > 0.0
    for params in (BOOSTS["all+9"], BOOSTS["presence+9"]):
        r = render(hot, sr, params)
        assert_safe(hot, r.samples, sr)
        assert r.ceiling_dbtp == pytest.approx(ref_true_peak_dbtp(hot), abs=1e-6)
        assert r.limiter_gain_reduction_db > 0.0


def test_render_on_several_real_tracks(real_music_tracks):
    """Different tracks (different sizes = different music), 8 s from their middle, strongest boosts."""
    by_size = sorted({p.stat().st_size: p for p in real_music_tracks}.items())
    picks = [by_size[i][1] for i in np.linspace(len(by_size) // 3, len(by_size) - 1, 3).astype(int)]
    for path in picks:
        info = sf.info(str(path))
        start = max(0, info.frames // 2 - 4 * info.samplerate)
        x, sr = sf.read(str(path), start=start, frames=8 * info.samplerate, always_2d=True)
        for name in ("all+9", "bass+9"):
            r = render(x, sr, BOOSTS[name])
            assert_safe(x, r.samples, sr)


@pytest.mark.parametrize("name", list(BOOSTS))
def test_render_keeps_loudness_and_true_peak_on_noise(name):
    sr = 48000
    x = noise(4.0, sr, 2, seed=6, level=0.15)
    r = render(x, sr, BOOSTS[name])
    assert_safe(x, r.samples, sr)


def test_limiter_only_when_needed(real_music_excerpt):
    x, sr = real_music_excerpt
    quiet = 0.1 * x  # 20 dB of headroom below the -1 dBTP ceiling
    r = render(quiet, sr, BOOSTS["all+9"])
    assert r.limiter_gain_reduction_db == 0.0 and r.passes == 2
    assert_safe(quiet, r.samples, sr)
    r = render(x, sr, BOOSTS["all+9"])  # peaks near the ceiling: the boosts need the limiter
    assert r.limiter_gain_reduction_db > 0.0 and r.passes > 2
    assert_safe(x, r.samples, sr)


def test_flat_render_is_unchanged_audio():
    x = noise(2.0, 44100, 2, seed=8)
    r = render(x, 44100, EQParams.flat())
    assert r.gain_db == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(r.samples, x, atol=1e-12)


@pytest.mark.parametrize("sr,channels", [(8000, 1), (192000, 2), (48000, 8)])
def test_render_at_extreme_rates_and_channel_counts(sr, channels):
    x = noise(2.0, sr, channels, seed=channels, level=0.2)
    r = render(x, sr, BOOSTS["all+9"])
    assert r.samples.shape == x.shape
    assert abs(integrated_loudness_lufs(r.samples, sr) - integrated_loudness_lufs(x, sr)) <= 0.5
    assert ref_true_peak_dbtp(r.samples) <= max(-1.0, ref_true_peak_dbtp(x)) + 1e-6
    if channels <= 5:
        assert_safe(x, r.samples, sr)


def test_render_mono_1d_and_float32():
    x = noise(2.0, 44100, 1, seed=9, level=0.2)[:, 0].astype(np.float32)
    r = render(x, 44100, BOOSTS["bass+9"])
    assert r.samples.shape == x.shape and r.samples.dtype == np.float32
    assert_safe(x.astype(np.float64), r.samples.astype(np.float64), 44100)


def test_render_refuses_bad_audio():
    for bad, words in [
        (np.zeros((44100, 2)), "silent"),
        (np.zeros((0, 2)), "no frames"),
        (np.full((44100, 2), np.inf), "infinite"),
        (np.zeros((44100, 2), dtype=np.int16), "floating point"),
    ]:
        with pytest.raises(AudioError, match=words) as info:
            render(bad, 44100, BOOSTS["bass+9"])
        assert info.value.code == "bad_audio" and isinstance(info.value, SemeqError)


def test_result_summary_is_json_ready():
    import json

    r = render(noise(2.0, 48000, 2, seed=10, level=0.3), 48000, BOOSTS["all+9"])
    d = r.to_dict()
    assert "samples" not in d
    assert set(d) >= {"loudness_in_lufs", "loudness_out_lufs", "true_peak_in_dbtp", "true_peak_out_dbtp", "gain_db", "limiter_gain_reduction_db"}
    json.dumps(d)


# --- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,fmt,subtype,channels",
    [("a.wav", "WAV", "PCM_16", 2), ("b.wav", "WAV", "PCM_24", 1), ("c.wav", "WAV", "FLOAT", 8), ("d.flac", "FLAC", "PCM_24", 2)],
)
def test_file_round_trip_keeps_rate_channels_subtype_format(tmp_path, name, fmt, subtype, channels):
    sr = 44100 if channels != 1 else 8000
    x = noise(1.0, sr, channels, seed=11, level=0.2)
    path = tmp_path / name
    write_audio_atomic(path, x, sr, subtype, fmt)
    a = read_audio(path)
    assert (a.sample_rate_hz, a.channels, a.subtype, a.format) == (sr, channels, subtype, fmt)
    step = {"PCM_16": 2**-15, "PCM_24": 2**-23, "FLOAT": 1e-7}[subtype]
    assert np.max(np.abs(a.samples - x)) <= step

    out = tmp_path / ("out_" + name)
    r = render_file(path, out, BOOSTS["presence+9"])
    b = read_audio(out)
    assert (b.sample_rate_hz, b.channels, b.subtype, b.format) == (sr, channels, subtype, fmt)
    assert b.samples.shape == a.samples.shape
    assert abs(integrated_loudness_lufs(b.samples, sr) - integrated_loudness_lufs(a.samples, sr)) <= 0.5
    assert true_peak_dbtp(b.samples) <= max(-1.0, true_peak_dbtp(a.samples)) + 0.01
    assert r.sample_rate_hz == sr and r.samples is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "out_" + name])  # no temp files left


def test_render_file_in_small_blocks_equals_render_in_memory(tmp_path, monkeypatch, real_music_excerpt):
    x, sr = real_music_excerpt
    x = x[: 5 * sr] / np.max(np.abs(x[: 5 * sr]))  # hot, so the limiter works across block edges
    src = tmp_path / "in.wav"
    write_audio_atomic(src, x, sr, "FLOAT", "WAV")
    x32 = read_audio(src).samples
    whole = render(x32, sr, BOOSTS["all+9"])
    monkeypatch.setattr(audio.blocks, "BLOCK_FRAMES", 3001)
    r = render_file(src, tmp_path / "out.wav", BOOSTS["all+9"])
    y = read_audio(tmp_path / "out.wav").samples
    assert np.max(np.abs(y - whole.samples)) < 1e-6
    assert r.gain_db == pytest.approx(whole.gain_db, abs=1e-9)
    assert r.limiter_gain_reduction_db == pytest.approx(whole.limiter_gain_reduction_db, abs=1e-9)
    assert_safe(x32, y, sr)


def test_hot_pcm_master_is_not_clipped(tmp_path, real_music_excerpt):
    """A 16-bit master with inter-sample overs: the render keeps its samples within full scale."""
    x, sr = real_music_excerpt
    x = x[: 5 * sr] / np.max(np.abs(x[: 5 * sr]))
    src = tmp_path / "hot.wav"
    write_audio_atomic(src, x, sr, "PCM_16", "WAV")
    render_file(src, tmp_path / "out.wav", BOOSTS["air+9"])
    with sf.SoundFile(str(tmp_path / "out.wav")) as f:
        y = f.read(dtype="int16")
    assert np.max(np.abs(y.astype(np.int32))) < 32767  # no sample at the clipping rail
    a, b = read_audio(src).samples, read_audio(tmp_path / "out.wav").samples
    assert_safe(a, b, sr)


def test_output_extension_chooses_the_container(tmp_path):
    src = tmp_path / "in.wav"
    write_audio_atomic(src, noise(1.0, 48000, 2, seed=12), 48000, "PCM_24", "WAV")
    render_file(src, tmp_path / "out.flac", BOOSTS["bass+9"])
    b = read_audio(tmp_path / "out.flac")
    assert (b.format, b.subtype, b.sample_rate_hz) == ("FLAC", "PCM_24", 48000)


def test_unreadable_files_are_clear_errors(tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    no_frames = tmp_path / "no_frames.wav"
    sf.write(str(no_frames), np.zeros((0, 2)), 44100)
    nan_file = tmp_path / "nan.wav"
    bad = noise(1.0, 44100)
    bad[500, 0] = np.nan
    sf.write(str(nan_file), bad, 44100, subtype="FLOAT")
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros((44100, 2)), 44100)
    for path, words in [
        (corrupt, "cannot read"),
        (empty, "cannot read"),
        (no_frames, "no audio frames"),
        (nan_file, "NaN"),
        (tmp_path / "missing.wav", "does not exist"),
    ]:
        with pytest.raises(AudioError, match=words) as info:
            read_audio(path)
        assert info.value.code == "bad_audio"
        with pytest.raises(AudioError, match=words):
            render_file(path, tmp_path / "out.wav", BOOSTS["bass+9"])
    with pytest.raises(AudioError, match="silent"):
        render_file(silent, tmp_path / "out.wav", BOOSTS["bass+9"])
    assert not (tmp_path / "out.wav").exists()
    assert read_audio(silent).samples.shape == (44100, 2)  # silence reads fine; only loudness is undefined


def test_refuses_to_overwrite(tmp_path):
    src = tmp_path / "in.wav"
    write_audio_atomic(src, noise(1.0, 44100, 2, seed=13), 44100, "PCM_16", "WAV")
    before = src.read_bytes()
    for force in (False, True):
        with pytest.raises(AudioError, match="overwrite the input"):
            render_file(src, src, BOOSTS["bass+9"], force=force)
        with pytest.raises(AudioError, match="overwrite the input"):
            render_file(src, tmp_path / "." / "in.wav", BOOSTS["bass+9"], force=force)
    link = tmp_path / "link.wav"
    link.symlink_to(src)
    with pytest.raises(AudioError, match="overwrite the input"):
        render_file(src, link, BOOSTS["bass+9"], force=True)
    assert src.read_bytes() == before
    out = tmp_path / "out.wav"
    out.write_bytes(b"keep me")
    with pytest.raises(AudioError, match="already exists") as info:
        render_file(src, out, BOOSTS["bass+9"])
    assert info.value.code == "output_exists"
    assert out.read_bytes() == b"keep me"
    render_file(src, out, BOOSTS["bass+9"], force=True)
    assert read_audio(out).samples.shape == (44100, 2)
    with pytest.raises(AudioError, match="does not exist"):
        render_file(src, tmp_path / "nowhere" / "out.wav", BOOSTS["bass+9"])


def test_full_disk_leaves_no_partial_output(tmp_path, monkeypatch):
    src = tmp_path / "in.wav"
    write_audio_atomic(src, noise(3.0, 44100, 2, seed=14), 44100, "PCM_16", "WAV")
    out = tmp_path / "out.wav"
    out.write_bytes(b"old output")
    calls = {"n": 0}
    real_write = sf.SoundFile.write

    def write_then_fail(self, data):
        calls["n"] += 1
        if calls["n"] > 1:  # some data reached the temp file first
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(audio.blocks, "BLOCK_FRAMES", 20000)
    monkeypatch.setattr(sf.SoundFile, "write", write_then_fail)
    with pytest.raises(AudioError, match="disk space") as info:
        render_file(src, out, BOOSTS["bass+9"], force=True)
    assert info.value.code == "disk_full"
    with pytest.raises(AudioError, match="disk space"):
        write_audio_atomic(tmp_path / "new.wav", noise(3.0, 44100, 2), 44100, "PCM_16", "WAV")
    assert calls["n"] > 2
    assert out.read_bytes() == b"old output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "out.wav"]


def test_full_disk_reported_by_libsndfile(tmp_path, monkeypatch):
    """libsndfile reports a full disk as a generic error or a short write; the free space tells."""
    from collections import namedtuple

    Usage = namedtuple("Usage", "total used free")
    src = tmp_path / "in.wav"
    write_audio_atomic(src, noise(1.0, 44100, 2, seed=15), 44100, "PCM_16", "WAV")

    def short_write(self, data):
        raise AssertionError

    monkeypatch.setattr(sf.SoundFile, "write", short_write)
    with pytest.raises(AudioError, match="cannot write") as info:  # plenty of space: some other failure
        render_file(src, tmp_path / "out.wav", BOOSTS["bass+9"])
    assert info.value.code == "bad_audio"
    monkeypatch.setattr(audio.writing.shutil, "disk_usage", lambda path: Usage(10**9, 10**9, 1000))
    with pytest.raises(AudioError, match="disk space") as info:
        render_file(src, tmp_path / "out.wav", BOOSTS["bass+9"])
    assert info.value.code == "disk_full"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_music_cache_unpacks_pk3_archives(tmp_path):
    """benchmarks.debian_music lists tracks kept inside zip archives (nexuiz-music's music.pk3)."""
    import zipfile

    from benchmarks.debian_music import _extract_archives, list_tracks

    data = tmp_path / "usr" / "share" / "games" / "data"
    data.mkdir(parents=True)
    ogg = tmp_path / "t.ogg"
    sf.write(str(ogg), noise(0.5, 44100, 2), 44100, format="OGG", subtype="VORBIS")
    with zipfile.ZipFile(data / "music.pk3", "w") as zf:
        zf.write(ogg, "sound/cdtracks/track1.ogg")
        zf.writestr("readme.txt", "not audio")
        zf.writestr("../../escape.ogg", b"outside")
    ogg.unlink()
    _extract_archives(tmp_path)
    tracks = list_tracks(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in tracks] == [
        "usr/share/games/data/music.pk3.d/sound/cdtracks/track1.ogg"
    ]
    assert read_audio(tracks[0]).channels == 2


def test_lossy_output_warns_that_its_encoder_may_add_peaks(tmp_path):
    src = tmp_path / "in.wav"
    write_audio_atomic(src, noise(2.0, 44100, 2, seed=16), 44100, "PCM_16", "WAV")
    r = render_file(src, tmp_path / "out.ogg", BOOSTS["presence+9"])
    b = read_audio(tmp_path / "out.ogg")
    assert (b.format, b.subtype, b.channels, b.sample_rate_hz) == ("OGG", "VORBIS", 2, 44100)
    assert any("lossy" in w for w in r.warnings)


def test_true_peak_skips_quiet_stretches_but_stays_exact(real_music_excerpt):
    """The pruned measurement equals a plain 4x oversampling of everything, on real music and on
    a signal whose only overshoot sits in one short loud burst."""
    samples, _ = real_music_excerpt
    assert true_peak_dbtp(samples) == pytest.approx(ref_true_peak_dbtp(samples), abs=1e-9)
    quiet = noise(3.0, 48000, level=0.01)
    burst = np.zeros_like(quiet)
    burst[70000:70004, 0] = [0.0, 0.9, 0.9, 0.0]  # an intersample over between two full samples
    x = quiet + burst
    assert true_peak_dbtp(x) == pytest.approx(ref_true_peak_dbtp(x), abs=1e-9)
    assert true_peak_dbtp(x) > 20 * math.log10(0.9)
