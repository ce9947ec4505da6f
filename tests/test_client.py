"""``semeq send``: exit codes 0/3/4/5 against real peers, and a start without numpy or torch."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from daw_bridge.client import Client, RequestTimedOut, ServerNotRunning
from test_osc import free_udp_port, running_server

SEND = [sys.executable, "-m", "daw_bridge", "send"]


def run_send(*args: str, timeout_s: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run([*SEND, *args], capture_output=True, text=True, timeout=timeout_s)


@pytest.fixture()
def server(tmp_path):
    with running_server(tmp_path, request_timeout_s=5.0) as srv:
        yield srv


def test_ping_answers_with_exit_0_and_json(server):
    done = run_send("--port", str(server.address[1]), "ping")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] is True and answer["op"] == "ping"


def test_options_after_the_op_work_too(server):
    done = run_send("status", "--port", str(server.address[1]), "--timeout", "5")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["queue_depth"] == 0


def test_server_not_running_exits_3():
    done = run_send("--port", str(free_udp_port()), "ping", "--timeout", "5")
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "semeq serve" in done.stderr


def test_server_that_never_answers_exits_4():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
        mute.bind(("127.0.0.1", 0))
        done = run_send("--port", str(mute.getsockname()[1]), "--timeout", "0.5", "ping")
        assert mute.recv(65536).startswith(b"/semeq/ping")  # it did ask
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "no answer" in done.stderr


def test_error_reply_exits_5_with_message_on_stderr(server, tmp_path):
    outside = tmp_path / "outside.wav"
    done = run_send("--port", str(server.address[1]), "analyze", str(outside))
    assert done.returncode == 5, (done.stdout, done.stderr)
    assert "outside the folders" in done.stderr
    assert json.loads(done.stdout)["code"] == "forbidden_path"


def test_relative_paths_are_sent_absolute(server, tmp_path):
    renders = tmp_path / "home" / "renders"
    done = subprocess.run([*SEND, "--port", str(server.address[1]), "analyze", "x.wav"],
                          capture_output=True, text=True, timeout=30, cwd=renders)
    # The path reached the server as an absolute path inside renders/, so it passes the policy
    # and fails only because the file does not exist.
    assert json.loads(done.stdout)["code"] != "forbidden_path", done.stdout


def test_usage_errors_exit_2():
    assert run_send("eq").returncode == 2
    assert run_send("eq", "warm", "--current", "{nope").returncode == 2
    assert run_send("eq", "warm", "--push", "ardour").returncode == 2


def test_client_library_raises_distinct_errors():
    with Client(port=free_udp_port(), timeout_s=2) as client:
        with pytest.raises(ServerNotRunning):
            client.request("ping")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
        mute.bind(("127.0.0.1", 0))
        with Client(port=mute.getsockname()[1], timeout_s=0.2) as client:
            with pytest.raises(RequestTimedOut):
                client.request("ping")


def test_send_does_not_import_numpy_torch_or_the_model():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "daw_bridge", "send", "--port", str(free_udp_port()), "ping"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "daw_bridge.client" in modules  # the check sees the client's imports
    heavy = sorted(m for m in modules if m.split(".")[0] in {"numpy", "torch", "scipy", "sentence_transformers"}
                   or m.startswith("daw_bridge.semantic") or m in {"daw_bridge.eq", "daw_bridge.service"})
    assert heavy == [], heavy


# --- with the trained model: the same answer from every door ------------------------------------

SEMEQ = [sys.executable, "-m", "daw_bridge"]


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("cli"), request_timeout_s=60.0) as srv:
        srv.service.warm()
        yield srv


def test_send_eq_and_local_eq_give_the_same_answer(model_server):
    port = str(model_server.address[1])
    sent = run_send("--port", port, "eq", "a bit warmer", "--intensity", "1.5")
    assert sent.returncode == 0, sent.stderr
    local = subprocess.run([*SEMEQ, "eq", "a bit warmer", "--intensity", "1.5", "--json"], capture_output=True, text=True, timeout=120)
    assert local.returncode == 0, local.stderr
    a, b = json.loads(sent.stdout), json.loads(local.stdout)
    a.pop("id"), b.pop("id")
    assert a == b


def test_send_builds_on_a_whole_earlier_answer(model_server):
    port = str(model_server.address[1])
    first = run_send("--port", port, "eq", "warmer")
    second = run_send("--port", port, "eq", "warmer", "--current", first.stdout)
    assert second.returncode == 0, second.stderr
    assert "Built on the current EQ" in json.loads(second.stdout)["explanation"]


def test_send_unknown_word_exits_5(model_server):
    done = run_send("--port", str(model_server.address[1]), "eq", "qzxqv blorfnik")
    assert done.returncode == 5
    assert json.loads(done.stdout)["code"] == "unknown_term" and "unknown_term" in done.stderr


def test_local_eq_prints_terms_and_five_bands_and_plots(tmp_path):
    out = tmp_path / "warm.png"
    done = subprocess.run([*SEMEQ, "eq", "warmer", "--plot", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("'warmer' -> warm")
    assert [l.split()[0] for l in lines[1:6]] == ["low", "peak", "peak", "peak", "high"]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([*SEMEQ, "eq", "qzxqv blorfnik"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "qzxqv" in bad.stderr


def test_local_analyze_suggest_and_apply_with_text(tmp_path):
    from test_service import pink_noise_file

    song = pink_noise_file(tmp_path / "song.wav")
    done = subprocess.run([*SEMEQ, "analyze", str(song), "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    analysis = json.loads(done.stdout)
    assert analysis["op"] == "analyze"
    # the plain listing: the problems heard, then (--top) the lexicon words, strongest first
    done = subprocess.run([*SEMEQ, "analyze", str(song), "--top", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "problems:" in done.stdout
    listed = [line.split()[0] for line in done.stdout.splitlines()[-3:]]
    assert listed == [d["term"] for d in analysis["descriptors"]][:3]
    done = subprocess.run([*SEMEQ, "suggest", str(song), "--strength", "0.3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Distance to" in done.stdout or "No EQ suggested" in done.stdout
    for extra in ((), ("--fixed",)):
        out = tmp_path / f"song.warm{len(extra)}.wav"
        done = subprocess.run([*SEMEQ, "apply", str(song), "-o", str(out), "--text", "warmer", *extra],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 1000
    both = subprocess.run([*SEMEQ, "apply", str(song), "-o", str(tmp_path / "x.wav"), "--text", "warm", "--params", "p.json"],
                          capture_output=True, text=True, timeout=120)
    assert both.returncode == 2
