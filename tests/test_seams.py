"""The public seams of docs/architecture.md: a dummy host and a dummy op added exactly as documented."""

from __future__ import annotations

import argparse

import pytest

from daw_bridge import hosts, ops, wire
from daw_bridge.hosts.base import Host, HostMapping, TargetField
from daw_bridge.osc_server import OscServer
from daw_bridge.paths import ensure_home
from daw_bridge.service import OscTarget, Service


@pytest.fixture()
def dummy_host(monkeypatch):
    """A host whose block is the number of bands with gain and whose push records what it got."""
    pushed = []

    def map_eq(params, sample_rate_hz):
        loud = sum(1 for band in params.bands() if band.gain_db != 0.0)
        return HostMapping({"loud_bands": loud, "sample_rate_hz": sample_rate_hz}, ("dummy warning",))

    def push(params, sample_rate_hz, address, port, slot):
        pushed.append((params, sample_rate_hz, address, port, slot))
        return ["one", "two"]

    host = Host("dummy", "dummy_block", (TargetField("slot", 1, "dummy slot"),), "127.0.0.1:9999", map_eq, push)
    monkeypatch.setitem(hosts.HOSTS, "dummy", host)  # the "one line" of the registry
    return pushed


class OneWordModel:
    """Knows one word; what the service needs from a model (``interpret``)."""

    def __init__(self, params):
        self.params = params

    def interpret(self, text, intensity=1.0):
        from types import SimpleNamespace

        term = SimpleNamespace(term="warm", weight=1.0, source="test", similarity=None, matched=text)
        return SimpleNamespace(text=text, intensity=intensity, params=self.params.scaled(intensity), terms=[term])


class EchoService(Service):
    """The handler half of a new op: one method named in the op table."""

    def op_echo(self, call):
        return {"ok": True, "op": "echo", "id": call.id, "text": call.values["text"], "times": call.values["times"]}


@pytest.fixture()
def echo_op(monkeypatch):
    monkeypatch.setitem(ops.FIELDS, "times", ops.Field("times", "number", "how many times", 1.0, 3.0, 1.0))
    monkeypatch.setitem(ops.OPS, "echo", ops.Op("echo", "term", ("text",), ("times",), "op_echo", "says it back"))


def test_a_dummy_host_gets_its_block_in_every_eq_answer_and_takes_pushes(dummy_host, tmp_path):
    from daw_bridge.answers import eq_answer
    from daw_bridge.eq import EQParams

    params = EQParams(2.0, 120.0, 0.0, 300.0, 1.0, 1.0, 1000.0, 1.0, 0.0, 4000.0, 1.0, 0.0, 8000.0)
    answer = eq_answer("eq", "r", params)
    assert answer["dummy_block"] == {"loud_bands": 2, "sample_rate_hz": 48000.0}
    assert "dummy warning" in answer["warnings"] and "reaeq" in answer and "ardour" in answer

    # a request pushes to it through the service like to any host (a stand-in model: no training here)
    service = Service(ensure_home(tmp_path / "home"), push_targets={"dummy": OscTarget("127.0.0.1", 4242)},
                      model=OneWordModel(params))
    answer = service.handle({"op": "eq", "id": "p1", "text": "warm", "push": {"to": "dummy", "slot": 3}})
    assert answer["ok"] is True, answer
    assert answer["pushed"] == {"to": "dummy", "slot": 3, "host": "127.0.0.1", "port": 4242, "messages": 2}
    assert dummy_host == [(params, 48000.0, "127.0.0.1", 4242, 3)]
    assert answer["dummy_block"]["loud_bands"] == 2
    refused = service.handle({"op": "eq", "id": "p2", "text": "warm", "push": {"to": "dummy"}})
    assert refused["code"] == "bad_request" and "'slot'" in refused["message"]


def test_a_dummy_host_appears_in_semeq_send_and_serve(dummy_host):
    from daw_bridge.cli import send, serve

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    send.add_parser(sub)
    serve.add_parser(sub)
    args = parser.parse_args(["send", "eq", "warmer", "--push", "dummy", "--slot", "2"])
    assert send._fields(args)["push"] == {"to": "dummy", "slot": 2}
    assert parser.parse_args(["serve"]).dummy_osc == "127.0.0.1:9999"


def test_a_dummy_op_is_parsed_validated_answered_and_sent_from_the_table(echo_op, tmp_path):
    request, _ = wire.parse_request(wire.decode(wire.build("/semeq/echo", [("e1", "s"), ("hello", "s"), ("times", "s"), (2, "i")])))
    assert request == {"op": "echo", "id": "e1", "text": "hello", "times": 2}
    service = EchoService(ensure_home(tmp_path / "home"))
    assert service.handle(request) == {"ok": True, "op": "echo", "id": "e1", "text": "hello", "times": 2.0}
    assert service.handle({**request, "times": 9})["code"] == "bad_request"

    server = OscServer(service, "127.0.0.1", 0)
    try:
        box = []
        server.dispatch(request, box.append)
        server.lanes["term"].executor.shutdown(wait=True)  # the op runs in the lane the table names
        assert box == [{"ok": True, "op": "echo", "id": "e1", "text": "hello", "times": 2.0}]
    finally:
        server.close()

    from daw_bridge.cli import send

    parser = argparse.ArgumentParser()
    send.add_parser(parser.add_subparsers())
    args = parser.parse_args(["send", "echo", "hi", "--times", "3"])
    assert send._fields(args) == {"text": "hi", "times": 3.0}
    assert "| `/semeq/echo` | `text` | `times` | term | says it back |" in ops.protocol_tables()
