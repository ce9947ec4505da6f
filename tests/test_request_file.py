"""``semeq send --request FILE --answer FILE``: the REAPER scripts' way to ask (daw_bridge.request_file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from daw_bridge.request_file import answer_request_file, started_marker


class Down(Exception):
    pass


def _files(tmp_path: Path, request) -> tuple[Path, Path]:
    req, ans = tmp_path / "r.request.json", tmp_path / "r.answer.json"
    req.write_text(request if isinstance(request, str) else json.dumps(request))
    return req, ans


def test_answers_into_the_file_and_marks_the_start(tmp_path):
    req, ans = _files(tmp_path, {"op": "eq", "text": "warmer", "current": {"low_shelf_gain_db": 1}})
    seen = []

    def send(op, fields):
        assert started_marker(ans).exists()  # the script knows the client runs before the answer
        seen.append((op, fields))
        return {"ok": True, "op": op}

    assert answer_request_file(req, ans, send, {}) == 0
    assert seen == [("eq", {"text": "warmer", "current": {"low_shelf_gain_db": 1}})]
    assert json.loads(ans.read_text()) == {"ok": True, "op": "eq"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_an_item_list_travels_as_the_request_file_itself(tmp_path):
    req, ans = _files(tmp_path, {"op": "adapt", "text": "warmer", "items": [{"path": "/x.wav"}], "span_s": [1, 2],
                                 "length_s": 30, "sample_rate_hz": 48000})
    seen = []
    answer_request_file(req, ans, lambda op, fields: seen.append(fields) or {"ok": True}, {})
    assert seen == [{"text": "warmer", "path": str(req.resolve())}]


@pytest.mark.parametrize(
    ("raise_it", "code", "exit_code"),
    [(Down("nobody listens"), "server_down", 3), (RuntimeError("boom"), "client_error", 5)],
)
def test_every_failure_becomes_an_error_answer(tmp_path, raise_it, code, exit_code):
    req, ans = _files(tmp_path, {"op": "ping"})

    def send(op, fields):
        raise raise_it

    assert answer_request_file(req, ans, send, {Down: "server_down"}) == exit_code
    answer = json.loads(ans.read_text())
    assert answer["ok"] is False and answer["code"] == code


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"text": "no op"}'])
def test_a_bad_request_file_gets_an_answer_too(tmp_path, text):
    req, ans = _files(tmp_path, text)
    assert answer_request_file(req, ans, lambda op, fields: pytest.fail("sent"), {}) == 1
    assert json.loads(ans.read_text())["code"] == "bad_request_file"


def test_a_cancelled_request_writes_no_answer(tmp_path):
    req, ans = _files(tmp_path, {"op": "ping"})

    def send(op, fields):
        req.unlink()  # the script cancels while the server works
        return {"ok": True}

    assert answer_request_file(req, ans, send, {}) == 0
    assert not ans.exists() and not started_marker(ans).exists()


def test_the_command_line_reports_a_server_that_is_not_running(tmp_path):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    req, ans = _files(tmp_path, {"op": "ping"})
    done = subprocess.run([sys.executable, "-m", "daw_bridge", "send", "--port", str(port), "--timeout", "5",
                           "--request", str(req), "--answer", str(ans)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert json.loads(ans.read_text())["code"] == "server_down"
    lone = subprocess.run([sys.executable, "-m", "daw_bridge", "send", "--request", str(req)], capture_output=True, text=True, timeout=60)
    assert lone.returncode == 2 and "--answer" in lone.stderr
