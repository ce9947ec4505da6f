"""Every malformed request gets a clear error: a property test over the op table's fields.

Requests are built from :data:`daw_bridge.ops.OPS` with one part broken (:mod:`tests.malformed`:
wrong types, sizes, nesting depths, non-finite and out-of-range numbers, huge strings and keys, a
broken id or op). Asked directly (:meth:`Service.handle`) and over UDP (a real OSC server), every
one gets ``ok: false`` with a clear code (``bad_request``; ``bad_params`` for an EQ value out of its
range; ``forbidden_path`` for a path no file can have) and never ``internal``; over UDP the answer
is exactly one ``/semeq/error`` datagram.
"""

from __future__ import annotations

import json
import random
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daw_bridge.osc_server import OscServer
from daw_bridge.paths import ensure_home
from daw_bridge.service import Service
from daw_bridge.wire import ERROR, decode
from tests.malformed import malformed_datagram, malformed_request

#: Largest UDP payload (bytes) over IPv4.
MAX_DATAGRAM = 65507


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home whose ``renders/song.wav`` (the well-formed path of every request) exists: a request
    fails on its one malformed field, not on a missing file."""
    import numpy as np
    import soundfile as sf

    home = ensure_home(tmp_path_factory.mktemp("malformed") / "home")
    t = np.arange(44100) / 44100
    sf.write(str(home / "renders" / "song.wav"), 0.1 * np.sin(2 * np.pi * 440 * t) + 0.02 * np.random.default_rng(0).standard_normal(t.size), 44100)
    return home


@pytest.fixture(scope="module")
def service(home):
    svc = Service(home)
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def server(service):
    srv = OscServer(service, "127.0.0.1", 0, workers=1, queue_size=4, request_timeout_s=10.0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    thread.join(5)
    srv.close()


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(rng=st.randoms(use_true_random=False))
def test_a_malformed_request_is_refused_clearly(service, home, rng):
    request, codes, what = malformed_request(rng, str(home))
    answer = service.handle(request)
    assert answer["ok"] is False, (what, answer)
    assert answer["code"] in codes, (what, answer["code"], answer["message"][:300])
    assert isinstance(answer["message"], str) and 10 < len(answer["message"]) <= 2000, (what, answer["message"][:300])
    json.dumps(answer, allow_nan=False)  # the answer itself is valid JSON


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(rng=st.randoms(use_true_random=False))
def test_a_malformed_datagram_gets_one_error_datagram(server, home, rng):
    dgram, codes, what = malformed_datagram(rng, str(home))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(10.0)
        peer.sendto(dgram, server.address)
        reply = peer.recv(MAX_DATAGRAM + 1)
        assert len(reply) <= MAX_DATAGRAM
        message = decode(reply)
        assert message.address == ERROR, (what, message.address)
        rid, code, text, body = message.params[:4]
        assert code in codes, (what, code, text[:300])
        assert json.loads(body)["code"] == code
        peer.settimeout(0.05)  # an answer's datagrams are sent back to back
        with pytest.raises(socket.timeout):  # exactly one reply
            peer.recv(MAX_DATAGRAM + 1)


def test_the_issue_cases_each_get_a_clear_error(service, home):
    """The packets that got no answer or ``internal`` before (issue #15), named one by one."""
    for request in (
        {"op": "eq", "id": "a", "text": "warmer", "current": "[" * 1000 + "]" * 1000},
        {"op": "eq", "id": "b", "text": "warmer", "current": [10**400] + [0.0] * 12},
        {"op": "eq", "id": "c", "text": "warmer", "current": [[0.0] * 13]},
        {"op": "eq", "id": "d", "text": "warmer", "push": {"to": "ardour", "strip": 2**31, "plugin": 1}},
        {"op": "eq", "id": "e", "text": "warmer", "push": {"to": "reaper", "track": 2**31, "fx": 0}},
        {"op": "analyze", "id": "f", "path": str(home / "renders" / ("x" * 300 + ".wav"))},
        {"op": "eq", "id": "g", "text": "warmer", "x" * 33_000: 1},
    ):
        answer = service.handle(request)
        assert answer["ok"] is False and answer["code"] in ("bad_request", "bad_params", "forbidden_path"), answer
    rng = random.Random(0)
    assert all(service.handle(malformed_request(rng, str(home))[0])["code"] != "internal" for _ in range(200))
