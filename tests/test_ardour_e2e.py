"""End to end in a real Ardour: EQs sent to Ardour render exactly as the product's response_db.

One headless Ardour 7 session (``ardour7-lua``, dummy backend, configuration isolated in a temp
folder) holds a stereo track with ACE EQ: an impulse on the left channel, periodic pink noise on
the right, put on the track through the session XML by the project's own code. Ardour runs with
its OSC surface on; EQs reach it three ways: ``push_osc`` directly, ``semeq serve`` pushing
"warmer" and an auto-suggestion (``semeq send ... --push ardour``), and the editor actions' Lua
module run inside Ardour. Ardour then exports the track, and the rendered transfer function is
measured as ``wet / dry`` spectra of the impulse and of a steady-state period of the noise (both
exact, read at the answer's own ``response_db`` frequencies). Both must equal the EQ's
``response_db`` within 0.1 dB from 30 Hz to 16 kHz. ACE glides every gain to its target and stops
up to 0.05 dB short, which is inside that tolerance.

Ardour missing is a failure, not a skip: CI installs Debian's ``ardour`` (no recommends).
"""

from __future__ import annotations

import json
import os
import select
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from daw_bridge.eq import EQParams, apply_eq, response_db
from daw_bridge.hosts.ardour import map_eq, push_osc
from ardour_session import ARDOUR_LUA, ArdourError, LiveArdour, create_session, lua_string, run_lua

REPO = Path(__file__).resolve().parents[1]
LUA_MODULE = REPO / "ardour_scripts" / "semeq_ardour.lua"
SAMPLE_RATE_HZ = 48000
#: The noise is one period of this many frames (1 Hz bins), repeated; the track holds PERIODS periods.
PERIOD = SAMPLE_RATE_HZ
PERIODS = 3
IMPULSE_AT = 12000  # frames; away from the region start
BAND_HZ = (30.0, 16000.0)
TOLERANCE_DB = 0.1
#: ACE applies new values by gliding (25 Hz time constant); wait this long after a push (s).
SETTLE_S = 0.6


def measurement_signal() -> np.ndarray:
    """``(frames, 2)``: an impulse left; right, periodic pink noise (random-phase multisine, -20 dBFS RMS).

    Each 1 s period of the noise holds every 1 Hz bin with a 1/sqrt(f) magnitude and a random phase,
    so the transfer function of the steady-state last period is exact at every bin.
    """
    left = np.zeros(PERIOD * PERIODS)
    left[IMPULSE_AT] = 0.5
    rng = np.random.default_rng(20261124)
    bins = np.arange(PERIOD // 2 + 1)
    spectrum = np.zeros(bins.size, complex)
    spectrum[1:] = np.exp(2j * np.pi * rng.random(bins.size - 1)) / np.sqrt(bins[1:])
    period = np.fft.irfft(spectrum, PERIOD)
    right = np.tile(period * (0.1 / np.sqrt(np.mean(period**2))), PERIODS)
    return np.column_stack([left, right])


def impulse_transfer_db(dry: np.ndarray, wet: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """|DTFT(wet) / DTFT(dry)| in dB at ``freqs_hz`` (exact for an impulse input)."""
    _, h_dry = signal.freqz(dry, worN=freqs_hz, fs=SAMPLE_RATE_HZ)
    _, h_wet = signal.freqz(wet.astype(np.float64), worN=freqs_hz, fs=SAMPLE_RATE_HZ)
    return 20.0 * np.log10(np.abs(h_wet / h_dry))


def periodic_noise_transfer_db(dry: np.ndarray, wet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(freqs_hz, |FFT(wet) / FFT(dry)| dB)`` over the last noise period (1 Hz bins, steady state)."""
    last = slice((PERIODS - 1) * PERIOD, PERIODS * PERIOD)
    h = np.fft.rfft(wet[last].astype(np.float64)) / np.fft.rfft(dry[last])
    freqs = np.fft.rfftfreq(PERIOD, 1.0 / SAMPLE_RATE_HZ)
    return freqs[1:], 20.0 * np.log10(np.abs(h[1:]))


def render_error_db(dry: np.ndarray, wet: np.ndarray, freqs_hz, expected_db) -> tuple[float, float]:
    """Largest |measured - expected| (dB) in :data:`BAND_HZ` at ``freqs_hz``: (impulse, noise channel)."""
    freqs_hz, expected_db = np.asarray(freqs_hz, float), np.asarray(expected_db, float)
    band = (freqs_hz >= BAND_HZ[0]) & (freqs_hz <= BAND_HZ[1])
    impulse = impulse_transfer_db(dry[:, 0], wet[:, 0], freqs_hz[band]) - expected_db[band]
    noise_freqs, noise_db = periodic_noise_transfer_db(dry[:, 1], wet[:, 1])
    noise = np.interp(np.log(freqs_hz[band]), np.log(noise_freqs), noise_db) - expected_db[band]
    return float(np.max(np.abs(impulse))), float(np.max(np.abs(noise)))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def semeq_command() -> list[str]:
    """The ``semeq`` command of this Python (``python -m daw_bridge``)."""
    return [sys.executable, "-m", "daw_bridge"]


def semeq(*args: str) -> list[str]:
    return [*semeq_command(), *args]


@pytest.fixture(scope="module")
def server_process(tmp_path_factory):
    """``semeq serve`` started (not yet ready) on a free port, pushing to Ardour's OSC at a free port.

    Started first so that the model loads while Ardour builds the session. Yields
    ``(process, Ardour OSC port, home)``.
    """
    home = tmp_path_factory.mktemp("semeq-home")
    ardour_port = free_udp_port()
    with open(home / "serve.log", "w") as log:
        server = subprocess.Popen(
            semeq("serve", "--port", "0", "--home", str(home), "--no-watch", "--ardour-osc", f"127.0.0.1:{ardour_port}"),
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
    try:
        yield server, ardour_port, home
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()


@pytest.fixture(scope="module")
def semeq_server(server_process):
    """The running server: ``(server port, Ardour OSC port, home)``."""
    server, ardour_port, home = server_process
    ready, _, _ = select.select([server.stdout], [], [], 120.0)
    line = server.stdout.readline() if ready else ""
    if "ready on udp" not in line:
        pytest.fail(f"semeq serve did not start: {line!r} {(home / 'serve.log').read_text()[-2000:]}")
    return int(line.split("ready on udp ", 1)[1].split(",", 1)[0].rsplit(":", 1)[1]), ardour_port, home


def send(server_port: int, *args: str) -> dict:
    """``semeq send --port P ARGS``: the answer JSON (the command must succeed)."""
    done = subprocess.run(semeq("send", "--port", str(server_port), "--timeout", "60", *args),
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def ardour_session(tmp_path_factory, server_process):
    """A saved Ardour session: the measurement signal on track 1, ACE EQ as its plug-in 1, OSC on.

    Yields ``(session, dry signal, OSC port)``: every run listens on the port the server pushes to.
    """
    if shutil.which(ARDOUR_LUA) is None:
        pytest.fail(f"{ARDOUR_LUA} is missing: install Ardour (apt-get install --no-install-recommends ardour)")
    workdir = tmp_path_factory.mktemp("ardour")
    dry = measurement_signal()
    try:
        yield create_session(workdir, dry, SAMPLE_RATE_HZ), dry, server_process[1]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def ace_values_of(block: list[dict]) -> list[float]:
    return [float(item["value"]) for item in block]


def render(session, osc_port: int, act=lambda live: None, prelude: str = ""):
    """Run Ardour on the session, ``act(live)`` (e.g. push), let ACE settle, export.

    Returns ``(act's result, wet samples, ACE values)``. Ardour 7.3 crashes now and then around an
    export (heap corruption, about 1 export in 40 here); such a run is repeated once.
    """
    for attempt in (1, 2):
        try:
            with LiveArdour(session, osc_port, prelude=prelude) as live:
                assert live.osc_port == osc_port, "Ardour's OSC surface did not get the port the server pushes to"
                result = act(live)
                time.sleep(SETTLE_S)
                wet, values = live.export()
            return result, wet, values
        except ArdourError as exc:
            if attempt == 2 or "ended before" not in str(exc):
                raise
            lines = str(exc).strip().splitlines()
            stage = next((line for line in reversed(lines) if "SEMEQ stage" in line), "before loading")
            print(f"Ardour crashed ({lines[-1]}; last {stage}); running it once more")


def test_ardour_plays_the_track_unchanged_before_any_push(ardour_session):
    session, dry, osc_port = ardour_session
    _, wet, values = render(session, osc_port)
    assert wet.shape == dry.shape
    assert np.max(np.abs(wet - dry.astype(np.float32))) < 1e-6
    assert values[23] == 1.0 and values[1] == values[3] == values[15] == 0.0  # ACE on, flat defaults


def test_push_osc_sets_ace_and_the_render_matches_the_engine(ardour_session):
    session, dry, osc_port = ardour_session
    params = EQParams(4.0, 90.0, -3.0, 350.0, 1.4, 2.5, 2200.0, 3.0, -2.0, 7000.0, 0.8, -5.0, 11000.0)
    sent, wet, values = render(
        session, osc_port, lambda live: push_osc(params, SAMPLE_RATE_HZ, "127.0.0.1", live.osc_port, strip=1, plugin=1)
    )
    assert len(sent) == 24
    np.testing.assert_allclose(values, ace_values_of(map_eq(params).block), rtol=1e-6, atol=1e-6)
    freqs = np.geomspace(20.0, 20000.0, 400)
    impulse_err, noise_err = render_error_db(dry, wet, freqs, response_db(params, freqs, SAMPLE_RATE_HZ))
    print(f"push_osc: render vs engine max error {impulse_err:.4f} dB (impulse), {noise_err:.4f} dB (noise)")
    assert impulse_err < TOLERANCE_DB
    assert noise_err < TOLERANCE_DB


def check_render_matches_answer(answer: dict, dry: np.ndarray, wet: np.ndarray, values: list[float], label: str,
                                pushed: bool = True) -> None:
    """The render equals the answer's own response_db; Ardour holds the answer's ``ardour`` values."""
    assert answer["ok"] is True
    if pushed:
        assert answer["pushed"]["to"] == "ardour" and answer["pushed"]["messages"] == 24
    np.testing.assert_allclose(values, ace_values_of(answer["ardour"]), rtol=1e-6, atol=1e-6)
    curve = answer["response_db"]
    assert curve["sample_rate_hz"] == SAMPLE_RATE_HZ
    expected = np.asarray(curve["db"], float)
    assert np.max(np.abs(expected)) > 1.0, "the answer's EQ should audibly change the track"
    impulse_err, noise_err = render_error_db(dry, wet, curve["freqs_hz"], expected)
    print(f"{label}: render vs response_db max error {impulse_err:.4f} dB (impulse), {noise_err:.4f} dB (noise)")
    assert impulse_err < TOLERANCE_DB
    assert noise_err < TOLERANCE_DB


def test_service_pushes_warmer_to_ardour_and_it_renders_as_answered(ardour_session, semeq_server):
    session, dry, _ = ardour_session
    server_port, ardour_port, _ = semeq_server
    answer, wet, values = render(
        session, ardour_port, lambda live: send(server_port, "eq", "warmer", "--push", "ardour", "--strip", "1", "--plugin", "1")
    )
    check_render_matches_answer(answer, dry, wet, values, "eq warmer")


def test_service_pushes_an_auto_suggestion_to_ardour_and_it_renders_as_answered(ardour_session, semeq_server):
    session, dry, _ = ardour_session
    server_port, ardour_port, home = semeq_server
    track = home / "inbox" / "track.wav"  # the track's audio, where the server may read it
    # a muddy, dull version of it, so the suggestion is large enough for the render check to mean something
    damage = EQParams(0.0, 100.0, 10.0, 300.0, 1.4, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, -10.0, 5000.0)
    sf.write(track, apply_eq(dry, SAMPLE_RATE_HZ, damage), SAMPLE_RATE_HZ, subtype="FLOAT")
    answer, wet, values = render(
        session, ardour_port,
        lambda live: send(server_port, "suggest", str(track), "--strength", "1", "--push", "ardour", "--strip", "1",
                          "--plugin", "1"),
    )
    assert answer["op"] == "suggest" and "bands" in answer
    check_render_matches_answer(answer, dry, wet, values, "suggest")


def test_ardour_lua_module_sets_ace_from_the_server_and_it_renders_as_answered(ardour_session, semeq_server, tmp_path):
    """The editor actions' shared module, run inside Ardour: ask the server, set ACE on the track."""
    session, dry, osc_port = ardour_session
    server_port, _, _ = semeq_server
    answer_file = tmp_path / "answer.json"
    prelude = f"""
local semeq = loadfile({lua_string(str(LUA_MODULE))})()
semeq.command = {lua_string(shlex.join(semeq_command()))}
local answer, err = semeq.send({{ "--port", "{server_port}", "eq", "brighter" }})
local ok = nil
if answer then ok, err = semeq.apply(route, answer) end
local f = io.open({lua_string(str(answer_file))}, "w") f:write(ok and answer or ("ERROR " .. tostring(err))) f:close()
"""
    _, wet, values = render(session, osc_port, prelude=prelude)
    text = answer_file.read_text()
    assert not text.startswith("ERROR"), text
    check_render_matches_answer(json.loads(text), dry, wet, values, "Lua module", pushed=False)


def test_ardour_action_scripts_are_editor_actions_that_run_the_shared_module(tmp_path):
    """Every action file declares an EditorAction and loads ardour_scripts/semeq_ardour.lua."""
    actions = sorted((REPO / "ardour_scripts").glob("Semantic EQ - *.lua"))
    assert len(actions) >= 7
    checks = "\n".join(
        f"""
do
  local descriptor = nil
  ardour = function (t) descriptor = t end
  factory = nil
  local chunk, err = loadfile({lua_string(str(path))})
  assert(chunk, err)
  chunk()
  assert(descriptor and descriptor["type"] == "EditorAction", "not an EditorAction")
  assert(descriptor.name:find("^Semantic EQ: "), descriptor.name)
  assert(type(factory) == "function" and type(factory()) == "function", "no factory")
end"""
        for path in actions
    )
    module_check = f"""
local M = loadfile({lua_string(str(LUA_MODULE))})()
local v = M.ardour_values('{{"ok": true, "ardour": [{{"index": 0, "name": "Frequency L", "value": 122.5}}, {{"index": 23, "name": "Enable", "value": 1.0}}]}}')
assert(v[0] == 122.5 and v[23] == 1.0 and v[1] == nil, "ardour block parse")
assert(M.ardour_values('{{"ok": false}}') == nil)
"""
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    run_lua(checks + module_check + '\nprint("SEMEQ-OK")\n', env, tmp_path)
    for path in actions:
        assert "loadfile(module)().run(" in path.read_text()
