"""daw_bridge.items: a REAPER track's items mixed from their files, checked sample by sample."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from daw_bridge.errors import SemeqError
from daw_bridge.items import (
    Item,
    MediaError,
    SilentMixError,
    loudest_span,
    mix,
    parse_items,
    track_audio,
)
from daw_bridge.paths import ForbiddenPathError, PathPolicy

RATE = 8000


def _wav(path, samples, rate=RATE, subtype="FLOAT"):
    sf.write(str(path), samples, rate, subtype=subtype)
    return path


@pytest.fixture()
def ramp(tmp_path):
    """2 s stereo: left = frame index / 1e5, right = -left (every frame identifiable)."""
    n = 2 * RATE
    left = np.arange(n) / 1e5
    return _wav(tmp_path / "ramp.wav", np.stack([left, -left], axis=1))


def test_position_offset_and_volume_place_each_frame(ramp):
    item = Item(ramp, position_s=0.5, length_s=1.0, offset_s=0.25, volume=0.5)
    out = mix([item], 0.0, 2.0, RATE)
    assert out.shape == (2 * RATE, 2)
    assert not out[: RATE // 2].any() and not out[3 * RATE // 2 :].any()
    k = np.arange(RATE)
    np.testing.assert_allclose(out[RATE // 2 : 3 * RATE // 2, 0], 0.5 * (k + RATE // 4) / 1e5, atol=1e-7)
    np.testing.assert_allclose(out[RATE // 2 : 3 * RATE // 2, 1], -0.5 * (k + RATE // 4) / 1e5, atol=1e-7)


def test_items_sum_mute_skips_and_negative_volume_inverts(ramp):
    a = Item(ramp, position_s=0.0, length_s=1.0)
    b = Item(ramp, position_s=0.0, length_s=1.0, volume=-1.0)
    muted = Item(ramp, position_s=0.0, length_s=1.0, volume=3.0, mute=True)
    assert not mix([a, b, muted], 0.0, 1.0, RATE).any()


def test_linear_fades(ramp, tmp_path):
    ones = _wav(tmp_path / "ones.wav", np.ones((RATE, 2)))
    item = Item(ones, position_s=0.0, length_s=1.0, fade_in_s=0.25, fade_out_s=0.5)
    out = mix([item], 0.0, 1.0, RATE)[:, 0]
    t = np.arange(RATE) / RATE
    expected = np.clip(t / 0.25, 0, 1) * np.clip((1.0 - t) / 0.5, 0, 1)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_loop_repeats_the_source(tmp_path):
    short = _wav(tmp_path / "short.wav", np.tile(np.arange(100)[:, None] / 100.0, (1, 2)))
    out = mix([Item(short, position_s=0.0, length_s=350 / RATE, loop=True)], 0.0, 350 / RATE, RATE)[:, 0]
    np.testing.assert_allclose(out, (np.arange(350) % 100) / 100.0, atol=1e-6)


def test_play_rate_and_other_file_rates_are_resampled_accurately(tmp_path):
    # a 1 kHz sine at 44.1 kHz, played at rate 2 into a 48 kHz mix, is a 2 kHz sine of the same level
    t = np.arange(44100) / 44100
    sine = _wav(tmp_path / "sine.wav", np.stack([np.sin(2 * np.pi * 1000 * t)] * 2, axis=1), rate=44100)
    out = mix([Item(sine, position_s=0.0, length_s=0.5, playrate=2.0)], 0.0, 0.5, 48000)[:, 0]
    core = out[2000:-2000]
    spectrum = np.abs(np.fft.rfft(core * np.hanning(len(core))))
    assert abs(np.argmax(spectrum) * 48000 / len(core) - 2000) < 10
    assert abs(np.sqrt(np.mean(core**2)) - np.sqrt(0.5)) < 0.01


def test_mono_sources_play_on_both_channels_and_pan_balances(tmp_path):
    mono = _wav(tmp_path / "mono.wav", np.full(RATE, 0.5))
    out = mix([Item(mono, position_s=0.0, length_s=1.0, pan=-0.5)], 0.0, 1.0, RATE)
    np.testing.assert_allclose(out[10], [0.5, 0.25], atol=1e-7)


def test_loudest_span_finds_the_loud_part(tmp_path):
    x = np.full((10 * RATE, 2), 0.01)
    x[6 * RATE : 8 * RATE] = 0.5
    quiet_loud = _wav(tmp_path / "ql.wav", x)
    assert loudest_span([Item(quiet_loud, position_s=3.0, length_s=10.0)], RATE, 2.0) == (9.0, 11.0)


def test_paths_outside_the_allowed_folders_are_refused(tmp_path, ramp):
    policy = PathPolicy.for_home(tmp_path / "home")
    with pytest.raises(ForbiddenPathError):
        parse_items([{"path": str(ramp), "position_s": 0, "length_s": 1}], policy)
    allowed = PathPolicy.for_home(tmp_path / "home", allow=[tmp_path])
    assert parse_items([{"path": str(ramp), "position_s": 0, "length_s": 1}], allowed)[0].path == ramp.resolve()


@pytest.mark.parametrize(
    "bad",
    [[], "x", [{"position_s": 0, "length_s": 1}], [{"path": "/a.wav", "position_s": "0", "length_s": 1}],
     [{"path": "/a.wav", "position_s": 0, "length_s": 1, "gain": 2}], [{"path": "/a.wav", "position_s": 0, "length_s": float("nan")}],
     [{"path": "/a.wav", "position_s": 0, "length_s": 1, "mute": 1}]],
)
def test_malformed_item_lists_get_a_clear_error(bad):
    with pytest.raises(SemeqError) as info:
        parse_items(bad, PathPolicy(None))
    assert info.value.code in ("bad_request", "forbidden_path")


def test_unreadable_media_and_silence_have_their_own_codes(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    with pytest.raises(MediaError):
        track_audio({"items": [{"path": str(junk), "position_s": 0, "length_s": 1}]}, PathPolicy(None))
    silent = _wav(tmp_path / "silent.wav", np.zeros((RATE, 2)))
    with pytest.raises(SilentMixError):
        track_audio({"items": [{"path": str(silent), "position_s": 0, "length_s": 1}]}, PathPolicy(None))


def test_track_audio_uses_the_time_selection_and_the_sources_rate(ramp):
    got = track_audio({"items": [{"path": str(ramp), "position_s": 1.0, "length_s": 2.0}], "span_s": [1.5, 2.5]}, PathPolicy(None))
    assert got.sample_rate_hz == RATE and got.span_s == (1.5, 2.5)
    np.testing.assert_allclose(got.samples[:, 0], (np.arange(RATE) + RATE // 2) / 1e5, atol=1e-7)


def test_input_files_are_not_modified(ramp):
    before = ramp.read_bytes()
    track_audio({"items": [{"path": str(ramp), "position_s": 0, "length_s": 2}]}, PathPolicy(None))
    assert ramp.read_bytes() == before


def test_a_request_file_is_a_track_description(tmp_path, ramp):
    import json

    from daw_bridge.items import read_track_file

    track = tmp_path / "r.request.json"
    track.write_text(json.dumps({"op": "adapt", "text": "warmer", "items": [{"path": str(ramp), "position_s": 0, "length_s": 2}],
                                 "span_s": [0.5, 1.5]}))
    got = read_track_file(track, PathPolicy(None))
    assert got.samples.shape == (RATE, 2)
    track.write_text('{"op": "adapt"}')
    with pytest.raises(SemeqError, match="no 'items'"):
        read_track_file(track, PathPolicy(None))


def test_a_tracks_key_follows_its_items_and_their_files(tmp_path, ramp):
    import json
    import os

    from daw_bridge.items import track_key

    def key_of(name, track):
        p = tmp_path / name
        p.write_text(json.dumps(track))
        return track_key(p)

    track = {"op": "adapt", "text": "warmer", "items": [{"path": str(ramp), "position_s": 0, "length_s": 2}], "length_s": 30}
    first = key_of("a.request.json", track)
    assert first is not None and first == key_of("b.request.json", {**track, "text": "brighter", "current": [0] * 13})
    assert key_of("c.request.json", {**track, "length_s": 20}) != first
    os.utime(ramp, ns=(1, 1))  # the media file changed
    assert key_of("d.request.json", track) != first
    assert key_of("e.request.json", {**track, "items": [{"path": str(tmp_path / "missing.wav")}]}) is None
