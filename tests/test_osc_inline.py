"""Quick ``eq`` requests answered in the receive loop: the term lane's answer, in the loop's thread,
never held up by a long op, ``busy`` (never lost) when the loop falls behind."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from daw_bridge.client import Client
from daw_bridge.eq import EQParams
from daw_bridge.osc_server import INLINE_WAIT_S, OscServer
from daw_bridge.paths import ensure_home
from daw_bridge.semantic import SemanticModel
from daw_bridge.service import Service
from daw_bridge.wire import ERROR, REPLY_JSON, decode, request_message


@pytest.fixture(scope="module")
def model():
    return SemanticModel.load()


class RecordingService(Service):
    """A real service that records the thread every ``eq`` ran in; ``quick=False`` sends every
    ``eq`` to the term lane, ``eq_s`` makes each one take that long (seconds, sleeping)."""

    def __init__(self, home, model, quick: bool = True, eq_s: float = 0.0) -> None:
        super().__init__(home, model=model)
        self.quick, self.eq_s = quick, eq_s
        self.threads: list[str] = []

    def is_quick(self, call) -> bool:
        return self.quick and super().is_quick(call)

    def op_eq(self, call):
        self.threads.append(threading.current_thread().name)
        time.sleep(self.eq_s)
        return super().op_eq(call)


def _door(tmp_path, name: str, model, **kwargs) -> OscServer:
    service = RecordingService(ensure_home(tmp_path / name), model, **kwargs)
    return OscServer(service, "127.0.0.1", 0, workers=1, queue_size=1, request_timeout_s=10.0)


def _answer_from_lane(server: OscServer, request: dict) -> dict:
    box, done = [], threading.Event()
    server.dispatch(request, lambda answer: (box.append(answer), done.set()))
    assert done.wait(10)
    return box[0]


#: Plain words, a blend of two, and a clipped request (its answer carries a warning).
REQUESTS = [
    {"op": "eq", "id": "q1", "text": "a bit warmer", "intensity": 0.7},
    {"op": "eq", "id": "q2", "text": "less harsh and brighter", "intensity": 1.3},
    {"op": "eq", "id": "q3", "text": "much harsher", "intensity": 2.0},
]


def test_a_quick_eq_is_answered_in_place_exactly_as_the_term_lane_answers_it(tmp_path, model):
    inline, lane = _door(tmp_path, "a", model), _door(tmp_path, "b", model, quick=False)
    try:
        for request in REQUESTS:
            box: list[dict] = []
            inline.dispatch(request, box.append)
            assert len(box) == 1 and box[0]["ok"]  # answered before dispatch returned ...
            assert box[0] == _answer_from_lane(lane, request)
        assert inline.service.threads == [threading.current_thread().name] * len(REQUESTS)  # ... in this thread
        assert len(lane.service.threads) == len(REQUESTS)
        assert all(name.startswith("semeq-term") for name in lane.service.threads)
        assert any("clipped" in w for w in box[0]["warnings"])
    finally:
        inline.close()
        lane.close()


def test_only_bounded_eq_requests_are_quick(tmp_path, model):
    home = ensure_home(tmp_path / "home")
    service = Service(home, model=model)

    def quick(**fields) -> bool:
        return service.is_quick(service.prepare({"op": "eq", "id": "x", **fields}))

    assert quick(text="a bit warmer and less muddy") and quick(text="make it better")  # the latter: an error at once
    assert not quick(text="cozier")  # an unknown word goes through the sentence-embedding fallback
    assert not quick(text="more brass")  # refused, with spelling suggestions (difflib over the vocabulary)
    assert not quick(text="warmer", current=EQParams.flat().to_dict())  # a least-squares fit
    assert not quick(text="warmer", push={"to": "ardour", "strip": 1, "plugin": 1})  # a send to a host
    assert not service.is_quick(service.prepare({"op": "ping", "id": "p"}))
    unloaded = Service(home)  # loading the model takes long: the first eq goes to the lane
    assert not unloaded.is_quick(unloaded.prepare({"op": "eq", "id": "x", "text": "warmer"}))


def test_a_quick_eq_that_waited_too_long_is_refused_not_run(tmp_path, model, caplog):
    door = _door(tmp_path, "d", model)
    box: list[dict] = []
    try:
        with caplog.at_level("INFO", logger="daw_bridge.service"):
            door.dispatch({"op": "eq", "id": "late", "text": "warmer"}, box.append,
                          started=time.monotonic() - INLINE_WAIT_S - 0.05)
            door.dispatch({"op": "eq", "id": "own", "text": "warmer", "timeout_s": 0.05}, box.append,
                          started=time.monotonic() - 0.1)
    finally:
        door.close()
    assert [(a["id"], a["code"]) for a in box] == [("late", "busy"), ("own", "timeout")]
    assert "busy" in box[0]["message"] and door.service.threads == []
    assert door.stats.to_dict()["busy"] == 1 and door.stats.to_dict()["timeouts"] == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "daw_bridge.service"]
    assert len(lines) == 2 and "id=late error busy" in lines[0]


class SpinningService(RecordingService):
    """``analyze`` computes in Python (holding the interpreter lock but for its switch interval)
    until released."""

    def __init__(self, home, model) -> None:
        super().__init__(home, model)
        self.release, self.entered = threading.Event(), threading.Event()

    def op_analyze(self, call):
        self.entered.set()
        deadline, x = time.monotonic() + 20.0, 0
        while not self.release.is_set() and time.monotonic() < deadline:
            x = sum(i * i for i in range(2000))
        return {"ok": True, "op": "analyze", "id": call.id, "x": x}


def _serving(server: OscServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def test_a_long_op_never_holds_up_a_quick_eq(tmp_path, model):
    service = SpinningService(ensure_home(tmp_path / "s"), model)
    server = OscServer(service, "127.0.0.1", 0, workers=1, queue_size=1, request_timeout_s=30.0)
    thread = _serving(server)
    analyzed: list[dict] = []
    try:
        server.dispatch({"op": "analyze", "id": "long", "path": str(service.home / "renders" / "a.wav")}, analyzed.append)
        assert service.entered.wait(10)
        times = []
        with Client(port=server.address[1], timeout_s=5) as client:
            for i in range(20):
                t0 = time.perf_counter()
                assert client.request("eq", text="warmer", intensity=0.5 + 0.01 * i)["ok"]
                times.append(time.perf_counter() - t0)
        assert analyzed == []  # the long op is still running ...
        assert max(times) < 0.5  # ... and each eq came back in milliseconds (generous bound for a busy machine)
        assert all(name == thread.name for name in service.threads)  # answered by the receive loop
    finally:
        service.release.set()
        server.shutdown()
        thread.join(5)
        server.close()
    assert analyzed and analyzed[0]["ok"]


def test_a_loop_that_falls_behind_answers_busy_and_loses_nothing(tmp_path, model):
    """400 requests in 0.1 s to a loop that answers 200 a second: those that waited longer than
    INLINE_WAIT_S get ``busy`` at once, the others their answer; every one exactly one reply, in order."""
    server = _door(tmp_path, "f", model, eq_s=0.005)
    thread = _serving(server)
    n = 400
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.connect(("127.0.0.1", server.address[1]))
            replies: list = []
            reader = threading.Thread(target=_read_replies, args=(sock, replies, n))
            reader.start()
            for i in range(n):
                sock.send(request_message({"op": "eq", "id": f"r{i}", "text": "warmer", "intensity": 0.5 + i / 1000},
                                          reply="json"))
                time.sleep(0.00025)
            reader.join(30)
    finally:
        server.shutdown()
        thread.join(5)
        server.close()
    assert [m.params[0] for m in replies] == [f"r{i}" for i in range(n)]  # one reply each, in arrival order
    busy = [m for m in replies if m.address == ERROR]
    assert replies[0].address == REPLY_JSON and busy and all(m.params[1] == "busy" for m in busy)
    assert {m.address for m in replies} == {REPLY_JSON, ERROR}
    assert server.stats.to_dict()["busy"] == len(busy)


def _read_replies(sock: socket.socket, out: list, n: int) -> None:
    sock.settimeout(5.0)
    while len(out) < n:
        try:
            out.append(decode(sock.recv(65536)))
        except socket.timeout:
            return


def test_a_text_read_once_answers_every_intensity_as_a_fresh_model_does(model):
    """The model keeps each text's reading: later intensities scale it exactly as a first reading would."""
    fresh = SemanticModel.load()
    for text in ("a bit warmer", "less harsh and brighter", "much harsher"):
        model.interpret(text, 0.3)
        for intensity in (-2.0, 0.0, 0.8, 2.0):
            kept, new = model.interpret(text, intensity), SemanticModel.load().interpret(text, intensity)
            assert kept.params == new.params and kept.warnings == new.warnings and kept.terms == new.terms
            assert kept.notes == new.notes and (kept.latent == new.latent).all()
    assert fresh.interpret("warmer", 1.0).latent.flags.writeable is False  # shared between answers: read-only


def test_the_inbox_reads_ahead_within_its_bounds_and_leaves_the_rest_in_the_socket(tmp_path, model, monkeypatch):
    from daw_bridge import osc_server

    monkeypatch.setattr(osc_server, "INBOX_BYTES", 50_000)
    server = _door(tmp_path, "i", model)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for i in range(5):  # 5 datagrams of 20 kB: the third one passes 50 kB
                sock.sendto(request_message({"op": "eq", "id": f"b{i}", "text": "w" * 500, "intensity": 1.0}) + b"\0" * 20_000,
                            ("127.0.0.1", server.address[1]))
            time.sleep(0.2)
            server._read_ahead()
            assert len(server._inbox) == 3 and server.stats.to_dict()["datagrams"] == 3
            server._inbox.clear()
            server._inbox_bytes = 0
            server._read_ahead()
            assert len(server._inbox) == 2  # the rest had waited in the socket's buffer
    finally:
        server.close()
