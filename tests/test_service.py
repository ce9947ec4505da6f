"""The service: request checks, the bounded audio pool (busy, timeout), ops with the real model."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from daw_bridge.eq import PARAM_NAMES, EQParams, log_freq_grid, response_db
from daw_bridge.paths import ensure_home
from daw_bridge.service import RESPONSE_POINTS, Service


@pytest.fixture()
def home(tmp_path):
    return ensure_home(tmp_path / "home")


@pytest.fixture()
def blocked_service(home):
    """A service whose audio op waits on an event, to hold workers and the queue."""
    service = Service(home, workers=1, queue_size=2, request_timeout_s=10.0)
    release = threading.Event()
    entered = threading.Semaphore(0)

    def slow_analyze(rid, request):
        entered.release()
        release.wait(10)
        return {"ok": True, "op": "analyze", "id": rid}

    service._analyze = slow_analyze
    service.release, service.entered = release, entered
    yield service
    release.set()
    service.close()


def _collect(service, requests):
    answers, done = {}, threading.Event()

    def reply_for(rid):
        def reply(answer):
            answers[rid] = answer
            if len(answers) == len(requests):
                done.set()
        return reply

    for req in requests:
        service.handle_async(req, reply_for(req["id"]))
    return answers, done


@pytest.mark.parametrize(
    "request_, code",
    [
        ({"op": "ping"}, "bad_request"),
        ({"op": "ping", "id": ""}, "bad_request"),
        ({"op": "ping", "id": "x" * 500}, "bad_request"),
        ({"op": "fly", "id": "a"}, "bad_request"),
        ({"op": "ping", "id": "a", "text": "x"}, "bad_request"),
        ({"op": "eq", "id": "a"}, "bad_request"),
        ({"op": "eq", "id": "a", "text": "   "}, "bad_request"),
        ({"op": "eq", "id": "a", "text": "w" * 600}, "bad_request"),
        ({"op": "eq", "id": "a", "text": "warm", "intensity": "lots"}, "bad_request"),
        ({"op": "eq", "id": "a", "text": "warm", "intensity": math.nan}, "bad_request"),
        ({"op": "eq", "id": "a", "text": "warm", "intensity": 3}, "bad_request"),
        ({"op": "suggest", "id": "a", "path": "/etc/passwd"}, "forbidden_path"),
        ({"op": "analyze", "id": "a", "path": "relative.wav"}, "forbidden_path"),
        ({"op": "adapt", "id": "a", "path": "/tmp/../etc/x.wav", "text": "warm"}, "forbidden_path"),
        ({"op": "eq", "id": "a", "text": "warm", "push": {"to": "logic"}}, "bad_request"),
        ({"op": "eq", "id": "a", "text": "warm", "push": {"to": "ardour", "strip": 0, "plugin": 1}}, "bad_request"),
        ({"op": "eq", "id": "a", "text": "warm", "current": {"low_shelf_gain_db": 1}}, "bad_params"),
        ("not a dict", "bad_request"),
    ],
)
def test_bad_requests_get_a_clear_error(home, request_, code):
    service = Service(home)
    try:
        answer = service.handle(request_)
    finally:
        service.close()
    assert answer["ok"] is False and answer["code"] == code
    assert isinstance(answer["message"], str) and len(answer["message"]) > 10


def test_busy_when_workers_and_queue_are_full_and_quick_ops_never_wait(blocked_service, home):
    service = blocked_service
    path = str(home / "renders" / "a.wav")
    reqs = [{"op": "analyze", "id": f"a{i}", "path": path} for i in range(5)]
    answers, done = _collect(service, reqs)
    assert service.entered.acquire(timeout=5)  # one running ...
    # ... two queued, two refused at once with 'busy'
    assert sorted(rid for rid, a in answers.items() if a.get("code") == "busy") == ["a3", "a4"]
    assert service.status()["queue_depth"] == 2 and service.status()["running"] == 1
    # A term request does not wait behind the analyses.
    t0 = time.monotonic()
    assert service.handle({"op": "ping", "id": "p"})["ok"] is True
    assert service.handle({"op": "status", "id": "s"})["queue_depth"] == 2
    assert time.monotonic() - t0 < 1.0  # generous: only guards against waiting for the 10 s block
    service.release.set()
    assert done.wait(10)
    assert [answers[f"a{i}"]["ok"] for i in range(3)] == [True, True, True]
    assert service.status()["queue_depth"] == 0 and service.status()["busy"] == 2


def test_timeout_answers_and_cancels_a_queued_request(blocked_service, home):
    service = blocked_service
    path = str(home / "renders" / "a.wav")
    answers, done = _collect(
        service,
        [{"op": "analyze", "id": "run", "path": path, "timeout_s": 0.3},
         {"op": "analyze", "id": "queued", "path": path, "timeout_s": 0.3}],
    )
    assert done.wait(5)
    assert answers["run"]["code"] == "timeout" and answers["queued"]["code"] == "timeout"
    assert "0.3" in answers["run"]["message"]
    assert service.status()["queue_depth"] == 0  # the queued one gave its place back
    service.release.set()
    # The slot of the running one comes back when it finishes: new work is accepted.
    time.sleep(0.2)
    answers2, done2 = _collect(service, [{"op": "analyze", "id": "later", "path": path}])
    assert done2.wait(5) and answers2["later"]["ok"] is True
    assert service.status()["timeouts"] == 2


def test_a_request_may_not_ask_for_more_than_the_server_timeout(home):
    service = Service(home, request_timeout_s=2.0)
    try:
        answer = service.handle({"op": "ping", "id": "t", "timeout_s": 5})
    finally:
        service.close()
    assert answer["code"] == "bad_request" and "timeout_s" in answer["message"]


def test_requests_after_close_are_refused_not_lost(home):
    service = Service(home)
    service.close()
    answer = service.handle({"op": "analyze", "id": "x", "path": str(home / "renders" / "a.wav")})
    assert answer["code"] == "busy"
