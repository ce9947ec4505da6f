"""ReaEQ mapping (daw_bridge.hosts.reaeq): band codes, normalized values, and the OSC push."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import threading
import time

import pytest

from daw_bridge.eq import SHELF_Q, EQParams
from daw_bridge.errors import SemeqError
from daw_bridge.hosts import map_all
from daw_bridge.hosts.reaeq import (
    freq_hz_from_norm,
    freq_norm,
    gain_db_from_norm,
    gain_norm,
    map_eq,
    osc_messages,
    push_osc,
)
from daw_bridge.layout import octaves_from_q as bw_oct_from_q, q_from_octaves as q_from_bw_oct

PARAMS = EQParams(2.1, 120.0, -3.0, 350.0, 1.414, 4.5, 2200.0, 4.32, -12.0, 7000.0, 0.707, 12.0, 11000.0)


def test_document_check_points():
    assert freq_hz_from_norm(0.476) == pytest.approx(1000.0, rel=0.01)
    assert freq_hz_from_norm(0.290) == pytest.approx(300.0, rel=0.02)
    assert gain_norm(-6.0) == pytest.approx(0.25, abs=0.002)
    assert gain_norm(6.0) == pytest.approx(0.664, abs=0.004)
    assert freq_hz_from_norm(0.0) == pytest.approx(20.0) and freq_hz_from_norm(1.0) == pytest.approx(24000.0)
    assert gain_norm(0.0) == 0.5 and gain_norm(12.0) == pytest.approx(1.0)
    assert gain_db_from_norm(0.0) == -math.inf


@pytest.mark.parametrize("value", [20.0, 57.0, 300.0, 1000.0, 4321.0, 20000.0])
def test_frequency_inverse(value):
    assert freq_hz_from_norm(freq_norm(value)) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("value", [-12.0, -6.0, -0.5, 0.0, 0.5, 6.0, 12.0])
def test_gain_inverse(value):
    assert gain_db_from_norm(gain_norm(value)) == pytest.approx(value, abs=1e-12)
    assert 0.0 < gain_norm(value) <= 1.0


def test_bandwidth_from_q_document_values():
    assert bw_oct_from_q(0.707) == pytest.approx(1.90, abs=0.01)
    assert bw_oct_from_q(1.414) == pytest.approx(1.0, abs=0.01)
    assert bw_oct_from_q(4.32) == pytest.approx(1 / 3, abs=0.01)
    for q in (0.1, 0.5, 2.0, 10.0):
        assert q_from_bw_oct(bw_oct_from_q(q)) == pytest.approx(q, rel=1e-12)


def test_block_layout_and_codes():
    m = map_eq(PARAMS)
    block = m.block
    assert block["bw_norm_known"] is False
    bands = block["bands"]
    assert [b["band"] for b in bands] == [0, 1, 2, 3, 4]
    assert [b["kind"] for b in bands] == ["low_shelf", "peak", "peak", "peak", "high_shelf"]
    assert [b["name"] for b in bands] == ["Low Shelf", "Band 2", "Band 3", "Band 4", "High Shelf 5"]
    assert [b["eq_bandtype"] for b in bands] == [1, 2, 2, 2, 4]
    assert [b["eq_bandidx"] for b in bands] == [0, 0, 1, 2, 0]
    assert [b["bandtype_code"] for b in bands] == [0, 8, 8, 8, 1]
    assert set(bands[0]) == {
        "band", "name", "kind", "eq_bandtype", "eq_bandidx", "bandtype_code",
        "freq_hz", "gain_db", "bw_oct", "q", "freq_norm", "gain_norm", "bw_norm",
    }
    assert all(b["bw_norm"] is None for b in bands)
    assert [b["freq_hz"] for b in bands] == [120.0, 350.0, 2200.0, 7000.0, 11000.0]
    assert [b["gain_db"] for b in bands] == [2.1, -3.0, 4.5, -12.0, 12.0]
    assert bands[0]["q"] == SHELF_Q and bands[4]["q"] == SHELF_Q
    assert bands[0]["bw_oct"] == pytest.approx(1.90, abs=0.01)
    assert bands[1]["bw_oct"] == pytest.approx(1.0, abs=0.01)
    assert bands[2]["bw_oct"] == pytest.approx(1 / 3, abs=0.01)
    for b in bands:
        assert freq_hz_from_norm(b["freq_norm"]) == pytest.approx(b["freq_hz"])
        assert gain_db_from_norm(b["gain_norm"]) == pytest.approx(b["gain_db"])
    json.dumps(block)
    assert m.warnings == ()
    assert map_all(PARAMS)["reaeq"].block == block


def test_warns_about_bands_above_nyquist():
    m = map_eq(PARAMS, sample_rate_hz=16000.0)
    assert len(m.warnings) == 1 and "High Shelf 5" in m.warnings[0] and "Nyquist" in m.warnings[0]
    flat_high = EQParams.from_dict({**PARAMS.to_dict(), "high_shelf_gain_db": 0.0})
    assert map_eq(flat_high, sample_rate_hz=16000.0).warnings == ()


def test_osc_messages_use_reapers_native_patterns():
    msgs = dict(osc_messages(PARAMS, track=3))
    assert len(msgs) == 15
    assert msgs["/track/3/fxeq/loshelf/freq/hz"] == 120.0
    assert msgs["/track/3/fxeq/loshelf/gain/db"] == 2.1
    assert msgs["/track/3/fxeq/loshelf/q/oct"] == pytest.approx(1.90, abs=0.01)
    assert msgs["/track/3/fxeq/band/0/freq/hz"] == 350.0
    assert msgs["/track/3/fxeq/band/2/gain/db"] == -12.0
    assert msgs["/track/3/fxeq/band/1/q/oct"] == pytest.approx(1 / 3, abs=0.01)
    assert msgs["/track/3/fxeq/hishelf/freq/hz"] == 11000.0
    assert msgs["/track/3/fxeq/hishelf/gain/db"] == 12.0


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_push_reaches_a_python_osc_listener():
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    received = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda address, *args: received.append((address, args)))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sent = push_osc(PARAMS, "127.0.0.1", server.server_address[1], track=2)
        deadline = time.monotonic() + 5.0
        while len(received) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.shutdown()
        server.server_close()
    assert len(sent) == 15
    got = {address: args for address, args in received}
    for address, value in sent:
        assert len(got[address]) == 1 and got[address][0] == pytest.approx(value, rel=1e-6)


def test_push_reaches_liblo_oscdump():
    """An independent OSC implementation (liblo's oscdump) decodes the same messages."""
    port = _free_udp_port()
    proc = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # let oscdump bind its port
        sent = push_osc(PARAMS, "127.0.0.1", port, track=1)
        lines = []
        deadline = time.monotonic() + 5.0
        while len(lines) < len(sent) and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line:
                words = line.split()
                lines.append(words[1:] if not words[0].startswith("/") else words)  # drop a timestamp
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    assert len(lines) == len(sent)
    for words, (address, value) in zip(lines, sent):
        assert words[0] == address and words[1] == "f"
        assert float(words[2]) == pytest.approx(value, abs=1e-4)


def test_push_validates_its_target():
    for kwargs, words in [
        ({"track": -1}, "track"),
        ({"track": 1.5}, "track"),
        ({"fx": 2}, "fx must be 1"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
    ]:
        with pytest.raises(SemeqError, match=words) as info:
            push_osc(PARAMS, **kwargs)
        assert info.value.code == "bad_params"
    with pytest.raises(SemeqError, match="could not send") as info:
        push_osc(PARAMS, "no-such-host.invalid", 9)
    assert info.value.code == "push_failed"


def test_a_peak_wider_than_four_octaves_is_flagged():
    wide = EQParams(0.0, 100.0, 6.0, 500.0, 0.2, 0.0, 1000.0, 1.0, 0.0, 4000.0, 1.0, 0.0, 8000.0)
    (warning,) = map_eq(wide).warnings
    assert "octaves wide" in warning and "Q 0.2" in warning
    assert map_eq(wide.scaled(0.0)).warnings == ()  # a band that does nothing is not a problem
