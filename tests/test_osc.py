"""The OSC server: protocol, liblo as an independent peer, fuzzing, busy, replies that fit."""

from __future__ import annotations

import contextlib
import json
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from daw_bridge.client import Client, ServerNotRunning
from daw_bridge.errors import SemeqError
from daw_bridge.osc_server import OscServer
from daw_bridge.wire import (
    ERROR,
    MAX_JSON_CHUNK_CHARS,
    REPLY_JSON,
    REPLY_JSON_PART,
    build,
    decode,
    parse_request,
    reply_messages,
    request_message,
)
from daw_bridge.paths import ensure_home
from daw_bridge.service import Service


@contextlib.contextmanager
def running_server(tmp_path: Path, **server_kwargs):
    """A real Service behind a real OscServer on a free loopback port, in a thread."""
    home = ensure_home(tmp_path / "home")
    service = Service(home)
    server = OscServer(service, "127.0.0.1", 0, **server_kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(5)
        server.close()
        service.close()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recv_messages(sock: socket.socket, seconds: float) -> list:
    """Every decodable OSC message arriving on ``sock`` within ``seconds``."""
    out, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            out.append(decode(sock.recv(65536)))
        except socket.timeout:
            break
    return out


@pytest.fixture()
def server(tmp_path):
    with running_server(tmp_path, workers=1, queue_size=1, request_timeout_s=5.0) as srv:
        yield srv


@pytest.fixture()
def peer():
    """A plain UDP socket to talk raw OSC with the server."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s


# --- wire functions ---------------------------------------------------------------------------


def test_request_round_trips_through_the_wire_format():
    req = {"op": "adapt", "id": "r7", "path": "/x/a.wav", "text": "warmer", "intensity": 0.5,
           "current": {"a": 1}, "push": {"to": "ardour", "strip": 1, "plugin": 2}}
    request, transport = parse_request(decode(request_message(req, reply_port=9001)))
    assert request == req
    assert transport == {"reply_port": 9001, "reply": "all"}


@pytest.mark.parametrize(
    "address, args, fragment",
    [
        ("/semeq/nope", [("r1", "s")], "unknown address"),
        ("/semeq/eq", [], "request id"),
        ("/semeq/eq", [("r1", "s")], "needs text"),
        ("/semeq/eq", [("r1", "s"), (3, "i")], "needs text"),
        ("/semeq/eq", [("r1", "s"), ("warm", "s"), ("intensity", "s")], "pairs"),
        ("/semeq/eq", [("r1", "s"), ("warm", "s"), ("volume", "s"), (1, "i")], "unknown option"),
        ("/semeq/eq", [("r1", "s"), ("warm", "s"), ("intensity", "s"), ("high", "s")], "needs a number"),
        ("/semeq/eq", [("r1", "s"), ("warm", "s"), ("current", "s"), ("{nope", "s")], "JSON"),
        ("/semeq/eq", [("r1", "s"), ("warm", "s"), ("reply_port", "s"), (70000, "i")], "reply_port"),
    ],
)
def test_protocol_violations_are_named(address, args, fragment):
    with pytest.raises(SemeqError, match=fragment):
        parse_request(decode(build(address, args)))


def test_big_answers_are_split_into_parts_that_fit_a_datagram():
    answer = {"ok": True, "op": "analyze", "id": "big", "blob": "x" * (3 * MAX_JSON_CHUNK_CHARS)}
    datagrams = reply_messages(answer)
    assert len(datagrams) == 4
    assert all(len(d) < 65000 for d in datagrams)
    parts = [decode(d) for d in datagrams]
    assert {p.address for p in parts} == {REPLY_JSON_PART}
    assert json.loads("".join(p.params[3] for p in sorted(parts, key=lambda p: p.params[1]))) == answer


def test_client_reassembles_a_split_answer():
    answer = {"ok": True, "op": "status", "id": "fixed", "blob": "y" * (2 * MAX_JSON_CHUNK_CHARS + 5)}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as fake:
        fake.bind(("127.0.0.1", 0))

        def serve_once():
            dgram, sender = fake.recvfrom(65536)
            assert decode(dgram).params[0] == "fixed"
            for d in reversed(reply_messages(answer)):  # out of order on purpose
                fake.sendto(d, sender)

        t = threading.Thread(target=serve_once)
        t.start()
        with Client(port=fake.getsockname()[1], timeout_s=5) as client:
            assert client.request("status", id="fixed") == answer
        t.join()


# --- the server ---------------------------------------------------------------------------------


def test_ping_and_status_over_osc(server):
    with Client(port=server.address[1], timeout_s=5) as client:
        assert client.request("ping")["ok"] is True
        status = client.request("status")
    assert status["op"] == "status" and status["version"]
    assert status["queue_depth"] == 0 and status["uptime_s"] >= 0


def test_non_loopback_bind_needs_allow_remote(tmp_path):
    service = Service(ensure_home(tmp_path / "h"))
    try:
        with pytest.raises(SemeqError, match="--allow-remote"):
            OscServer(service, "0.0.0.0", 0)
        OscServer(service, "0.0.0.0", 0, allow_remote=True).close()
    finally:
        service.close()


def test_errors_come_back_on_semeq_error_with_the_id(server, peer):
    target = ("127.0.0.1", server.address[1])
    peer.sendto(build("/semeq/analyze", [("e1", "s"), ("/etc/passwd", "s")]), target)
    peer.sendto(build("/semeq/frobnicate", [("e2", "s")]), target)
    peer.sendto(build("/semeq/eq", [("e3", "s"), ("warm", "s"), ("loudness", "s"), (1.0, "f")]), target)
    got = {m.params[0]: m for m in recv_messages(peer, 2.0)}
    assert set(got) == {"e1", "e2", "e3"}
    assert all(m.address == ERROR for m in got.values())
    assert got["e1"].params[1] == "forbidden_path"
    assert got["e2"].params[1] == "bad_request" and "unknown address" in got["e2"].params[2]
    assert json.loads(got["e3"].params[3])["code"] == "bad_request"


def test_replies_to_the_named_reply_port(server, peer):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        msg = build("/semeq/ping", [("rp", "s"), ("reply_port", "s"), (listener.getsockname()[1], "i")])
        peer.sendto(msg, ("127.0.0.1", server.address[1]))
        got = recv_messages(listener, 2.0)
        assert [m.address for m in got] == [REPLY_JSON]
        assert json.loads(got[0].params[1])["id"] == "rp"
        assert recv_messages(peer, 0.2) == []  # nothing to the sending port


def test_replies_are_never_answered(server, peer):
    """Two servers pointed at each other must not loop: replies and errors get no answer."""
    target = ("127.0.0.1", server.address[1])
    peer.sendto(build(REPLY_JSON, [("x", "s"), ("{}", "s")]), target)
    peer.sendto(build(ERROR, [("x", "s"), ("busy", "s"), ("m", "s")]), target)
    peer.sendto(build("/other/app", [(1, "i")]), target)
    assert recv_messages(peer, 0.5) == []


def test_liblo_oscsend_and_oscdump_talk_to_the_server(server):
    """liblo (an independent OSC implementation) sends; its oscdump, elsewhere, gets the reply."""
    dump_port = free_udp_port()
    dump = subprocess.Popen(["oscdump", "-L", str(dump_port)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        for rid, args in (("lo1", []), ("lo2", ["/etc/shadow"])):
            op = "ping" if not args else "analyze"
            types = "s" * (1 + len(args)) + "si"
            subprocess.run(
                ["oscsend", "127.0.0.1", str(server.address[1]), f"/semeq/{op}", types, rid, *args, "reply_port", str(dump_port)],
                check=True, timeout=10,
            )
        lines = _read_lines(dump, 2, timeout_s=5.0)
    finally:
        dump.terminate()
        dump.wait(5)
    assert re.search(r'/semeq/reply/json ss "lo1" "\{.*"op":"ping".*\}"', lines[0]), lines
    assert re.search(r'/semeq/error ssss "lo2" "forbidden_path"', lines[1]), lines


def _read_lines(proc: subprocess.Popen, n: int, timeout_s: float) -> list[str]:
    lines: list[str] = []

    def reader():
        for line in proc.stdout:
            lines.append(line)
            if len(lines) >= n:
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout_s)
    assert len(lines) >= n, f"oscdump printed only {lines!r}"
    return lines


def _malformed_packets(rng: random.Random, n: int) -> list[bytes]:
    """Truncations, random bytes, wrong type tags, huge strings, wrong argument types, bundles."""
    good = [
        build("/semeq/eq", [("f", "s"), ("warm", "s"), ("intensity", "s"), (0.5, "f")]),
        build("/semeq/analyze", [("f", "s"), ("/tmp/x.wav", "s")]),
        build("/semeq/ping", [("f", "s")]),
    ]
    out = []
    for i in range(n):
        kind = i % 10
        base = good[i % len(good)]
        if kind == 0:  # truncated
            out.append(base[: rng.randrange(1, len(base))])
        elif kind == 1:  # random bytes, some starting like OSC
            out.append((b"/" if rng.random() < 0.5 else b"") + rng.randbytes(rng.randrange(0, 200)))
        elif kind == 2:  # wrong / unknown type tags with the same payload
            tags = "".join(rng.choice("ifsbdhtTFNmrc[]S?") for _ in range(rng.randrange(1, 8)))
            out.append(b"/semeq/eq\x00\x00\x00," + tags.encode() + b"\x00" * (4 - (len(tags) + 1) % 4) + rng.randbytes(16))
        elif kind == 3:  # huge string
            out.append(build("/semeq/eq", [("h", "s"), ("x" * rng.randrange(10_000, 60_000), "s")]))
        elif kind == 4:  # wrong argument types (decodable): blobs, ints where strings go
            out.append(build("/semeq/eq", [(rng.randrange(1 << 30), "i"), (b"\x00\x01", "b")]))
        elif kind == 5:  # bit flips
            b = bytearray(base)
            for _ in range(3):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            out.append(bytes(b))
        elif kind == 6:  # bundle header with garbage
            out.append(b"#bundle\x00" + rng.randbytes(rng.randrange(0, 64)))
        elif kind == 7:  # a lying string length: no NUL terminator
            out.append(b"/semeq/ping" + b"A" * rng.randrange(1, 100))
        elif kind == 8:  # a blob claiming a huge size
            out.append(b"/semeq/eq\x00\x00\x00,sb\x00" + b"r1\x00\x00" + struct.pack(">i", 2**31 - 1) + b"xx")
        else:  # empty datagram or only padding
            out.append(b"\x00" * rng.randrange(0, 12))
    return out


def test_fuzz_ten_thousand_malformed_packets_then_requests_still_work(server, peer):
    packets = _malformed_packets(random.Random(1234), 10_000)
    target = ("127.0.0.1", server.address[1])
    with Client(port=server.address[1], timeout_s=5) as barrier:
        for i, p in enumerate(packets):
            peer.sendto(p, target)
            if i % 20 == 19:
                # The server answers in arrival order: when this ping is answered, every packet
                # before it has been handled (and none was dropped by a full socket buffer).
                assert barrier.request("ping")["ok"] is True
    stats = server.stats.to_dict()
    assert stats["datagrams"] == 10_000 + 500, stats
    assert stats["undecodable"] > 5000 and stats["bad_requests"] > 200, stats
    recv_messages(peer, 0.2)  # error replies to the fuzzing socket
    # A flood: 5,000 requests as fast as the socket takes them, replies never read.
    flood = build("/semeq/status", [("flood", "s")])
    for _ in range(5000):
        peer.sendto(flood, target)
    with Client(port=server.address[1], timeout_s=5) as client:
        for _ in range(20):
            assert client.request("ping")["ok"] is True
        assert client.request("status")["op"] == "status"


# --- `semeq serve` as a process -----------------------------------------------------------------

SERVE = [sys.executable, "-m", "daw_bridge", "serve"]


def _start_serve(home: Path, *extra: str) -> tuple[subprocess.Popen, int, str]:
    proc = subprocess.Popen([*SERVE, "--port", "0", "--home", str(home), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The watch folder logs on stdout too (its first line may come before); the ready line is one line.
    for _ in range(20):
        line = proc.stdout.readline()
        match = re.search(r"^semeq serve: ready on udp 127\.0\.0\.1:(\d+), home (\S+)", line)
        if match or not line:
            break
    if not match:
        proc.kill()
        pytest.fail(f"no ready line: {line!r}; stderr: {proc.stderr.read()[-3000:]}")
    return proc, int(match.group(1)), line


@pytest.mark.parametrize("extra", [("--no-watch",), ()], ids=["osc-only", "with-watch-folder"])
def test_serve_prints_one_ready_line_answers_and_stops_on_sigterm(tmp_path, extra):
    home = tmp_path / "SemanticEQ"
    proc, port, line = _start_serve(home, *extra)
    try:
        assert sorted(p.name for p in home.iterdir() if p.is_dir()) == ["done", "failed", "inbox", "outbox", "renders"]
        with Client(port=port, timeout_s=10) as client:
            status = client.request("status")
        assert status["model"] is not None  # warmed before the ready line
        assert ("watch" in status) == (extra == ())  # the watch folder reports in status when it runs
        assert status["home"] == str(home.resolve())
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "semeq serve: stopped" in err
    with Client(port=port, timeout_s=2) as client:  # the port is closed again
        with pytest.raises(ServerNotRunning):
            client.request("ping")


def test_serve_refuses_a_non_loopback_address_without_allow_remote(tmp_path):
    done = subprocess.run([*SERVE, "--host", "0.0.0.0", "--port", "0", "--home", str(tmp_path / "h"), "--no-watch"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "--allow-remote" in done.stderr


# --- EQ answers over OSC (trained model) --------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("osc"), request_timeout_s=60.0) as srv:
        srv.service.warm()
        yield srv


def test_eq_reply_json_and_flat_values_agree(model_server, peer):
    from daw_bridge.eq import PARAM_NAMES

    peer.sendto(build("/semeq/eq", [("w1", "s"), ("a bit warmer", "s"), ("intensity", "s"), (1.5, "f")]),
                ("127.0.0.1", model_server.address[1]))
    got = recv_messages(peer, 2.0)
    assert [m.address for m in got] == [REPLY_JSON, "/semeq/reply/params", "/semeq/reply/reaeq"]
    answer = json.loads(got[0].params[1])
    assert answer["ok"] and answer["id"] == "w1" and answer["intensity"] == 1.5
    assert got[1].params[0] == "w1" and got[1].params[1:] == pytest.approx([answer["params"][n] for n in PARAM_NAMES], rel=1e-6)
    flat = got[2].params[1:]
    for b, band in enumerate(answer["reaeq"]["bands"]):
        assert flat[5 * b : 5 * b + 5] == pytest.approx(
            [band["eq_bandtype"], band["eq_bandidx"], band["freq_hz"], band["gain_db"], band["bw_oct"]], rel=1e-6, abs=1e-6)


def test_liblo_peer_gets_an_eq_answer_at_its_reply_port(model_server):
    dump_port = free_udp_port()
    dump = subprocess.Popen(["oscdump", "-L", str(dump_port)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        subprocess.run(["oscsend", "127.0.0.1", str(model_server.address[1]), "/semeq/eq", "sssi",
                        "lo-eq", "brighter", "reply_port", str(dump_port)], check=True, timeout=10)
        lines = _read_lines(dump, 3, timeout_s=5.0)
    finally:
        dump.terminate()
        dump.wait(5)
    assert "/semeq/reply/json" in lines[0] and '"op":"eq"' in lines[0]
    assert re.search(r"/semeq/reply/params s" + "f" * 13 + ' "lo-eq"', lines[1]), lines[1]
    assert re.search(r"/semeq/reply/reaeq s" + "iifff" * 5 + ' "lo-eq"', lines[2]), lines[2]


def test_examples_talk_to_the_server(model_server):
    port = str(model_server.address[1])
    done = subprocess.run([sys.executable, str(REPO / "examples" / "python_osc_client.py"), "warmer", "--port", port],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert len([l for l in done.stdout.splitlines() if l.startswith("band ")]) == 5
    done = subprocess.run(["sh", str(REPO / "examples" / "liblo_pair.sh"), "less harsh", port, str(free_udp_port())],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "/semeq/reply/json" in done.stdout and "/semeq/reply/reaeq" in done.stdout
