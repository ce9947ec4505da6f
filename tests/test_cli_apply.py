"""``semeq apply`` and ``semeq response`` through ``daw_bridge.cli.main``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import daw_bridge.cli as cli
from daw_bridge.audio import integrated_loudness_lufs, read_audio, true_peak_dbtp, write_audio_atomic
from daw_bridge.eq import EQParams, response_db, third_octave_centres_hz

PARAMS = EQParams(6.0, 120.0, -3.0, 400.0, 1.0, 9.0, 3000.0, 2.0, 0.0, 8000.0, 1.0, 4.0, 10000.0)


@pytest.fixture
def params_file(tmp_path):
    path = tmp_path / "params.json"
    path.write_text(PARAMS.to_json())
    return path


@pytest.fixture
def wav(tmp_path):
    x = 0.2 * np.random.default_rng(0).standard_normal((2 * 44100, 2))
    path = tmp_path / "in.wav"
    write_audio_atomic(path, x, 44100, "PCM_24", "WAV")
    return path


def test_apply_writes_a_loudness_matched_file(tmp_path, wav, params_file, capsys):
    out = tmp_path / "out.wav"
    assert cli.main(["apply", str(wav), "-o", str(out), "--params", str(params_file)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out}: loudness") and "LUFS" in line and "dBTP" in line and "\n" not in line
    a, b = read_audio(wav), read_audio(out)
    assert (b.sample_rate_hz, b.channels, b.subtype) == (44100, 2, "PCM_24")
    assert abs(integrated_loudness_lufs(b.samples, 44100) - integrated_loudness_lufs(a.samples, 44100)) <= 0.5
    assert true_peak_dbtp(b.samples) <= max(-1.0, true_peak_dbtp(a.samples)) + 0.01


def test_apply_json_report(tmp_path, wav, params_file, capsys):
    out = tmp_path / "out.flac"
    assert cli.main(["apply", str(wav), "-o", str(out), "--params", str(params_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["output"] == str(out)
    for key in ("loudness_in_lufs", "loudness_out_lufs", "true_peak_in_dbtp", "true_peak_out_dbtp", "gain_db", "limiter_gain_reduction_db"):
        assert isinstance(report[key], float)
    assert abs(report["loudness_out_lufs"] - report["loudness_in_lufs"]) <= 0.5
    assert EQParams.from_dict(report["params"]) == PARAMS
    assert read_audio(out).format == "FLAC"


def test_apply_accepts_an_answer_json(tmp_path, wav, capsys):
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"ok": True, "op": "eq", "params": PARAMS.to_dict(), "warnings": []}))
    assert cli.main(["apply", str(wav), "-o", str(tmp_path / "o.wav"), "--params", str(answer)]) == 0


def test_apply_refuses_overwrites(tmp_path, wav, params_file, capsys):
    before = wav.read_bytes()
    assert cli.main(["apply", str(wav), "-o", str(wav), "--params", str(params_file), "--force"]) == 1
    assert "overwrite the input" in capsys.readouterr().err
    assert wav.read_bytes() == before
    out = tmp_path / "exists.wav"
    out.write_bytes(b"mine")
    assert cli.main(["apply", str(wav), "-o", str(out), "--params", str(params_file)]) == 1
    assert "--force" in capsys.readouterr().err
    assert out.read_bytes() == b"mine"
    assert cli.main(["apply", str(wav), "-o", str(out), "--params", str(params_file), "--force"]) == 0
    assert read_audio(out).samples.shape == (2 * 44100, 2)


def test_apply_user_errors(tmp_path, wav, params_file, capsys):
    bad_params = tmp_path / "bad.json"
    bad_params.write_text(json.dumps({**PARAMS.to_dict(), "peak1_q": 50}))
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"not audio at all")
    cases = [
        (["apply", str(wav), "-o", str(tmp_path / "o1.wav"), "--params", str(bad_params)], 1, "peak1_q"),
        (["apply", str(wav), "-o", str(tmp_path / "o2.wav"), "--params", str(tmp_path / "missing.json")], 1, "cannot read the EQ"),
        (["apply", str(corrupt), "-o", str(tmp_path / "o3.wav"), "--params", str(params_file)], 1, "cannot read"),
        (["apply", str(wav), "-o", str(tmp_path / "o4.wav")], 2, "--params"),
    ]
    for argv, code, words in cases:
        assert cli.main(argv) == code
        assert words in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "corrupt.wav", "in.wav", "params.json"]


def test_response_table(params_file, capsys):
    assert cli.main(["response", "--params", str(params_file)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [tuple(map(float, line.split())) for line in lines[1:]]
    centres = third_octave_centres_hz()
    assert len(rows) == len(centres)
    want = response_db(PARAMS, centres, 48000.0)
    assert np.allclose([r[0] for r in rows], centres, atol=0.05)
    assert np.allclose([r[1] for r in rows], want, atol=0.006)


def test_response_json_and_plot(tmp_path, params_file, capsys):
    png = tmp_path / "curve.png"
    argv = ["response", "--params", str(params_file), "--json", "--plot", str(png), "--sample-rate", "44100", "--points", "50"]
    assert cli.main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    r = answer["response_db"]
    assert r["sample_rate_hz"] == 44100.0 and len(r["freqs_hz"]) == 50 == len(r["db"])
    assert np.allclose(r["db"], response_db(PARAMS, np.array(r["freqs_hz"]), 44100.0), atol=0.002)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png", "params.json"]


def test_response_usage_errors(tmp_path, params_file, capsys):
    assert cli.main(["response", "--params", str(params_file), "--sample-rate", "100"]) == 2
    assert cli.main(["response", "--params", str(params_file), "--plot", str(tmp_path / "x.jpg")]) == 2
    assert cli.main(["response", "--params", str(tmp_path / "nope.json")]) == 1
    with pytest.raises(SystemExit) as info:
        cli.main(["response"])
    assert info.value.code == 2
