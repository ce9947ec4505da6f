"""The OSC door's lanes: bounded concurrency, ``busy`` at once, a real ``timeout``, quick ops never wait."""

from __future__ import annotations

import threading
import time

import pytest

from daw_bridge.osc_server import OscServer
from daw_bridge.paths import ensure_home
from daw_bridge.service import Service


class BlockedService(Service):
    """A real service whose ``analyze`` waits on an event, to hold the audio lane."""

    def __init__(self, home):
        super().__init__(home)
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def op_analyze(self, call):
        self.entered.release()
        self.release.wait(10)
        return {"ok": True, "op": "analyze", "id": call.id}


@pytest.fixture()
def door(tmp_path):
    service = BlockedService(ensure_home(tmp_path / "home"))
    server = OscServer(service, "127.0.0.1", 0, workers=1, queue_size=2, request_timeout_s=10.0)
    yield server
    service.release.set()
    server.close()


def _collect(server, requests):
    answers, done = {}, threading.Event()

    def reply_for(rid):
        def reply(answer):
            answers[rid] = answer
            if len(answers) == len(requests):
                done.set()
        return reply

    for req in requests:
        server.dispatch(req, reply_for(req["id"]))
    return answers, done


def _path(server):
    return str(server.service.home / "renders" / "a.wav")


def _ask(server, request):
    box = []
    server.dispatch(request, box.append)
    assert len(box) == 1  # answered before dispatch returned
    return box[0]


def test_busy_when_workers_and_queue_are_full_and_quick_ops_never_wait(door):
    service = door.service
    answers, done = _collect(door, [{"op": "analyze", "id": f"a{i}", "path": _path(door)} for i in range(5)])
    assert service.entered.acquire(timeout=5)  # one running ...
    # ... two queued, two refused at once with 'busy'
    assert sorted(rid for rid, a in answers.items() if a.get("code") == "busy") == ["a3", "a4"]
    assert "busy" in answers["a3"]["message"] and answers["a3"]["op"] == "analyze"
    assert service.status()["queue_depth"] == 2 and service.status()["running"] == 1
    # Quick ops are answered in the caller's thread, whatever the audio lane holds.
    t0 = time.monotonic()
    assert _ask(door, {"op": "ping", "id": "p"})["ok"] is True
    assert _ask(door, {"op": "status", "id": "s"})["queue_depth"] == 2
    assert time.monotonic() - t0 < 1.0  # generous: only guards against waiting for the 10 s block
    service.release.set()
    assert done.wait(10)
    assert [answers[f"a{i}"]["ok"] for i in range(3)] == [True, True, True]
    assert service.status()["queue_depth"] == 0 and service.status()["busy"] == 2


def test_timeout_answers_and_cancels_a_queued_request(door):
    service = door.service
    answers, done = _collect(
        door,
        [{"op": "analyze", "id": "run", "path": _path(door), "timeout_s": 0.3},
         {"op": "analyze", "id": "queued", "path": _path(door), "timeout_s": 0.3}],
    )
    assert done.wait(5)
    assert answers["run"]["code"] == "timeout" and answers["queued"]["code"] == "timeout"
    assert "0.3" in answers["run"]["message"]
    assert service.status()["queue_depth"] == 0  # the queued one gave its place back
    service.release.set()
    # The place of the running one comes back when it finishes: new work is accepted.
    time.sleep(0.2)
    answers2, done2 = _collect(door, [{"op": "analyze", "id": "later", "path": _path(door)}])
    assert done2.wait(5) and answers2["later"]["ok"] is True
    assert service.status()["timeouts"] == 2


def test_a_request_may_not_ask_for_more_than_the_server_timeout(door):
    answer = _ask(door, {"op": "ping", "id": "t", "timeout_s": 50})
    assert answer["code"] == "bad_request" and "timeout_s" in answer["message"]


def test_invalid_requests_are_answered_at_once_with_the_op_table_message(door):
    answer = _ask(door, {"op": "suggest", "id": "b", "path": _path(door), "strength": 2})
    assert answer["code"] == "bad_request" and "'strength' = 2 is outside 0 .. 1" in answer["message"]


def test_waiting_requests_are_answered_busy_when_the_server_closes(door):
    answers, done = _collect(door, [{"op": "analyze", "id": f"c{i}", "path": _path(door)} for i in range(3)])
    assert door.service.entered.acquire(timeout=5)
    closer = threading.Thread(target=door.close)
    closer.start()
    time.sleep(0.2)
    door.service.release.set()
    closer.join(10)
    assert done.wait(5)
    assert answers["c0"]["ok"] is True
    assert [answers[f"c{i}"]["code"] for i in (1, 2)] == ["busy", "busy"]
