"""The REAPER scripts' Lua specs (busted, Lua 5.4), run as part of the one test command.

``test_lua_unit_specs`` runs every spec in ``tests/lua`` except the end-to-end one: syntax
(``luac5.4 -p``), JSON, the ReaEQ logic, audio capture, every action against a stand-in client,
the watch-folder fallback. ``test_lua_end_to_end`` starts a real ``semeq serve`` in a temporary
home, writes an excerpt of real music (Debian's drascula-music) as WAV for the fake REAPER's audio
accessor, runs ``tests/lua/e2e_spec.lua`` against it through the real ``semeq send --request
--answer`` (the server allowed to read the music's folder, so it mixes the track's items), and checks
the ReaEQ the scripts left against the server's EQ once more with :func:`daw_bridge.eq.response_db`.

Both fail (never skip) when ``busted`` or ``lua5.4`` is missing: install ``lua5.4`` and
``lua-busted`` (Debian/Ubuntu) as the README's test command does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

LUA_DIR = Path(__file__).resolve().parent / "lua"
MUSIC_SECONDS = 40.0
MUSIC_START_SECONDS = 30.0


def _tools() -> str:
    missing = [tool for tool in ("busted", "lua5.4", "luac5.4") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the Lua specs need Lua 5.4 and busted "
            "(sudo apt-get install -y lua5.4 lua-busted)"
        )
    return shutil.which("busted")


def _busted(*args: str, env: dict | None = None, timeout_s: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_tools(), "--lua=lua5.4", "-o", "TAP", *args],
        cwd=LUA_DIR, capture_output=True, text=True, timeout=timeout_s, env={**os.environ, **(env or {})},
    )


def _report(done: subprocess.CompletedProcess) -> str:
    failures = "\n".join(line for line in done.stdout.splitlines() if line.startswith("not ok"))
    return f"busted exit {done.returncode}\n{failures}\n--- stdout ---\n{done.stdout[-8000:]}\n--- stderr ---\n{done.stderr[-3000:]}"


def test_lua_unit_specs():
    done = _busted("--exclude-pattern=e2e_spec", ".")
    assert done.returncode == 0, _report(done)
    assert re.search(r"^1\.\.(\d+)$", done.stdout, re.M), _report(done)
    assert "not ok" not in done.stdout


# --- end to end ---------------------------------------------------------------------------------


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _semeq_command() -> str:
    beside = Path(sys.executable).with_name("semeq")
    if beside.exists():
        return str(beside)
    found = shutil.which("semeq")
    if not found:
        pytest.fail("the semeq command is not installed (pip install -e .)")
    return found


@pytest.fixture()
def music_wav(real_music_tracks, tmp_path) -> tuple[Path, int]:
    """40 s of the longest real track as 16-bit stereo WAV (what a REAPER track would hold)."""
    import soundfile as sf

    longest = max(real_music_tracks, key=lambda p: sf.info(str(p)).frames)
    info = sf.info(str(longest))
    start = int(min(MUSIC_START_SECONDS * info.samplerate, max(0, info.frames - MUSIC_SECONDS * info.samplerate)))
    samples, rate = sf.read(str(longest), start=start, frames=int(MUSIC_SECONDS * info.samplerate), always_2d=True)
    if samples.shape[1] == 1:
        samples = np.repeat(samples, 2, axis=1)
    (tmp_path / "media").mkdir(exist_ok=True)
    path = tmp_path / "media" / "music.wav"
    sf.write(str(path), samples[:, :2], rate, subtype="PCM_16")
    return path, rate


@pytest.fixture()
def real_server(tmp_path):
    """A real `semeq serve` (OSC + watch folder) on a free port in a temporary home."""
    home = tmp_path / "SemanticEQ"
    media = tmp_path / "media"  # the "project folder" the user lets the server read
    media.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "daw_bridge", "serve", "--port", "0", "--home", str(home), "--allow", str(media)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    match = None
    for _ in range(50):
        line = proc.stdout.readline()
        match = re.search(r"^semeq serve: ready on udp 127\.0\.0\.1:(\d+), home (.+?), watching", line)
        if match or not line:
            break
    if not match:
        proc.kill()
        pytest.fail(f"semeq serve did not start: {proc.stderr.read()[-3000:]}")
    try:
        yield proc, int(match.group(1)), Path(match.group(2))
    finally:
        os.kill(proc.pid, signal.SIGCONT)  # in case the timeout case left it stopped
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_lua_end_to_end(real_server, music_wav, tmp_path):
    from daw_bridge.eq import Band, EQParams, band_sos, log_freq_grid, response_db
    from scipy import signal as sps

    proc, port, home = real_server
    wav, rate = music_wav
    report = tmp_path / "e2e-report.json"
    env = {
        "SEMEQ_E2E_SEMEQ": _semeq_command(),
        "SEMEQ_E2E_PORT": str(port),
        "SEMEQ_E2E_HOME": str(home),
        "SEMEQ_E2E_PID": str(proc.pid),
        "SEMEQ_E2E_DOWN_PORT": str(_free_udp_port()),
        "SEMEQ_E2E_WAV": str(wav),
        "SEMEQ_E2E_RATE": str(rate),
        "SEMEQ_E2E_REPORT": str(report),
    }
    done = _busted("e2e_spec.lua", env=env)
    assert done.returncode == 0, _report(done)
    assert "not ok" not in done.stdout

    # The Python side's own check: the ReaEQ the scripts left (RBJ biquads from its band values,
    # Q from the bandwidth in octaves) against the server's parameters through daw_bridge.eq.
    runs = json.loads(report.read_text())["runs"]
    assert {r["name"] for r in runs} >= {"warmer", "warmer twice", "brighter", "less harsh", "less muddy",
                                          "fuller", "clearer", "a bit brighter", "suggest"}
    freqs = log_freq_grid(400)
    print("\nReaEQ left by the scripts vs the server's EQ (max |difference| in dB, 20 Hz - 20 kHz):")
    for run in runs:
        fs = run["sample_rate_hz"]
        expected = response_db(EQParams.from_dict(run["params"]), freqs, fs)
        sos = np.array([band_sos(Band(b["kind"], b["freq_hz"], b["gain_db"], b["q"]), fs) for b in run["bands"]])
        _, h = sps.sosfreqz(sos, worN=freqs, fs=fs)
        got = 20 * np.log10(np.maximum(np.abs(h), 1e-12))
        error_db = float(np.max(np.abs(got - expected)))
        print(f"  {run['name']:16s} Lua/RBJ vs response_db {run['lua_error_db']:.4f}   daw_bridge.eq {error_db:.4f}")
        assert error_db < 0.1, (run["name"], error_db)
