"""The service: request checks (from the op table), one log line per request, ops with the real model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from daw_bridge.eq import PARAM_NAMES, EQParams, log_freq_grid, response_db
from daw_bridge.paths import ensure_home
from daw_bridge.answers import RESPONSE_POINTS
from daw_bridge.service import Service


@pytest.fixture()
def home(tmp_path):
    return ensure_home(tmp_path / "home")


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


def test_requests_after_close_are_refused_not_lost(home):
    service = Service(home)
    service.close()
    answer = service.handle({"op": "analyze", "id": "x", "path": str(home / "renders" / "a.wav")})
    assert answer["code"] == "busy"


def test_every_request_is_logged_as_one_line_with_op_id_outcome_and_ms(home, caplog):
    service = Service(home)
    with caplog.at_level("INFO", logger="daw_bridge.service"):
        service.handle({"op": "ping", "id": "log1"})
        service.handle({"op": "eq", "id": "log2", "text": "warm", "intensity": 9})
    lines = [r.getMessage() for r in caplog.records if r.name == "daw_bridge.service"]
    assert len(lines) == 2
    assert lines[0].startswith("ping id=log1 ok (") and lines[0].endswith(" ms)")
    assert lines[1].startswith("eq id=log2 error bad_request: 'intensity' = 9 is outside -2 .. 2")


# --- the answer JSON ------------------------------------------------------------------------------


def test_eq_answer_has_every_member_of_the_architecture_and_exact_values():
    import json
    from types import SimpleNamespace

    from daw_bridge.wire import REPLY_JSON, REPLY_PARAMS, REPLY_REAEQ, decode, reply_messages

    params = EQParams(2.5, 120.0, -1.5, 300.0, 1.2, 0.0, 1000.0, 0.71, 1.0, 5000.0, 2.0, -3.0, 9000.0)
    terms = [SimpleNamespace(term="warm", weight=0.5, source="safe", similarity=None, matched="warmer")]
    answer = _eq_answer_of(params, terms)
    for key in ("ok", "op", "id", "text", "intensity", "terms", "params", "reaeq", "ardour", "response_db", "warnings", "explanation"):
        assert key in answer, key
    assert answer["terms"] == [{"term": "warm", "weight": 0.5, "source": "safe", "similarity": None, "matched": "warmer"}]
    assert list(answer["params"]) == list(PARAM_NAMES)
    assert len(answer["reaeq"]["bands"]) == 5 and isinstance(answer["ardour"], list)
    freqs = np.array(answer["response_db"]["freqs_hz"])
    assert len(freqs) == RESPONSE_POINTS and answer["response_db"]["sample_rate_hz"] == 48000.0
    np.testing.assert_allclose(freqs, log_freq_grid(RESPONSE_POINTS), rtol=1e-3)
    np.testing.assert_allclose(answer["response_db"]["db"], response_db(params, freqs), atol=2e-3)
    assert "+2.5 dB low shelf" in answer["explanation"] or "-3.0 dB high shelf" in answer["explanation"]

    datagrams = reply_messages(answer)
    assert [decode(d).address for d in datagrams] == [REPLY_JSON, REPLY_PARAMS, REPLY_REAEQ]
    assert all(len(d) < 60_000 for d in datagrams)
    assert json.loads(decode(datagrams[0]).params[1]) == answer
    flat = decode(datagrams[1]).params
    np.testing.assert_allclose(flat[1:], params.raw_vector(), rtol=1e-6)
    bands = decode(datagrams[2]).params[1:]
    assert len(bands) == 25
    assert [bands[5 * b] for b in range(5)] == [1, 2, 2, 2, 4]  # TrackFX_SetEQParam band types
    assert bands[2] == pytest.approx(120.0) and bands[3] == pytest.approx(2.5)


def _eq_answer_of(params, terms):
    from daw_bridge.answers import eq_answer

    return eq_answer("eq", "r1", params, text="a bit warmer", intensity=0.5, terms=terms)


# --- ops with the trained model and real files -------------------------------------------------


def pink_noise_file(path, seconds=3.0, sample_rate_hz=48000, channels=2, seed=0):
    """Write stereo pink noise at about -20 dBFS RMS as a 24-bit WAV (a music-like 1/f spectrum)."""
    import soundfile as sf

    n = int(seconds * sample_rate_hz)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal((n, channels)), axis=0)
    f = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    spectrum[1:] /= np.sqrt(f[1:, None])
    spectrum[0] = 0.0
    x = np.fft.irfft(spectrum, n, axis=0)
    x *= 0.1 / np.sqrt(np.mean(x**2))
    sf.write(str(path), x, sample_rate_hz, subtype="PCM_24")
    return path


@pytest.fixture(scope="module")
def model_service(tmp_path_factory):
    home = ensure_home(tmp_path_factory.mktemp("svc") / "home")
    service = Service(home)
    service.warm()
    service.noise = str(pink_noise_file(home / "renders" / "noise.wav"))
    yield service
    service.close()


def _ok(service, **request):
    answer = service.handle({"id": "t", **request})
    assert answer["ok"] is True, answer
    return answer


def _response(answer):
    return np.array(answer["response_db"]["db"])


def test_eq_answers_words_with_the_trained_model(model_service):
    answer = _ok(model_service, op="eq", text="warmer")
    assert answer["op"] == "eq" and answer["text"] == "warmer" and answer["terms"]
    assert any(t["term"] == "warm" for t in answer["terms"])
    params = EQParams.from_dict(answer["params"])
    np.testing.assert_allclose(_response(answer), response_db(params, np.array(answer["response_db"]["freqs_hz"])), atol=2e-3)
    assert answer["explanation"].startswith("Read 'warmer'")
    assert model_service.status()["model"]["vocabulary_size"] > 10


def test_eq_at_intensity_zero_is_flat(model_service):
    assert np.max(np.abs(_response(_ok(model_service, op="eq", text="warm", intensity=0.0)))) < 1e-6


def test_unknown_word_is_a_clear_error_not_a_guess(model_service):
    answer = model_service.handle({"op": "eq", "id": "u", "text": "qzxqv blorfnik"})
    assert answer["ok"] is False and answer["code"] == "unknown_term"
    assert "qzxqv" in answer["message"] or "blorfnik" in answer["message"]


def test_repeated_eq_with_current_builds_on_it(model_service):
    first = _ok(model_service, op="eq", text="warmer")
    second = _ok(model_service, op="eq", text="warmer", current=first["params"])
    # The second answer is the 5-band fit of (current + new): about twice the first response.
    err = np.sqrt(np.mean((_response(second) - 2 * _response(first)) ** 2))
    assert err < 0.5, err
    assert "Built on the current EQ" in second["explanation"]
    # A list of 13 numbers is accepted as well.
    third = _ok(model_service, op="eq", text="warmer", current=list(first["params"].values()))
    np.testing.assert_allclose(_response(third), _response(second), atol=1e-6)


def _listen():
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    return sock


def _received(sock, n):
    from daw_bridge.wire import decode

    return [decode(sock.recv(65536)) for _ in range(n)]


def test_push_to_ardour_sends_the_answer_ardour_block(model_service, home):
    from daw_bridge.service import OscTarget

    with _listen() as fake_ardour:
        service = Service(home, push_targets={"ardour": OscTarget("127.0.0.1", fake_ardour.getsockname()[1])},
                          model=model_service.model())
        try:
            answer = _ok(service, op="eq", text="warmer", push={"to": "ardour", "strip": 2, "plugin": 1})
        finally:
            service.close()
        pushed = answer["pushed"]
        assert pushed["to"] == "ardour" and pushed["messages"] == len(answer["ardour"])
        got = _received(fake_ardour, pushed["messages"])
    assert {m.address for m in got} == {"/strip/plugin/parameter"}
    values = {m.params[2]: m.params[3] for m in got if m.params[:2] == [2, 1]}
    for item in answer["ardour"]:
        assert values[item["index"] + 1] == pytest.approx(item["value"], rel=1e-6, abs=1e-6)


def test_push_to_reaper_sends_fxeq_messages(model_service, home):
    from daw_bridge.service import OscTarget

    with _listen() as fake_reaper:
        service = Service(home, push_targets={"reaper": OscTarget("127.0.0.1", fake_reaper.getsockname()[1])},
                          model=model_service.model())
        try:
            answer = _ok(service, op="eq", text="brighter", push={"to": "reaper", "track": 3, "fx": 1})
        finally:
            service.close()
        got = _received(fake_reaper, answer["pushed"]["messages"])
    assert all(m.address.startswith("/track/3/fxeq/") for m in got), [m.address for m in got]
    gains = [m.params[0] for m in got if m.address.endswith("/gain/db")]
    assert sorted(gains) == pytest.approx(sorted(b["gain_db"] for b in answer["reaeq"]["bands"]), abs=1e-4)


def test_a_file_is_analysed_once_for_analyze_then_adapt(model_service, monkeypatch):
    import daw_bridge.analysis

    real, calls = daw_bridge.analysis.analyze_file, []

    def counted(path, **kwargs):
        calls.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(daw_bridge.analysis, "analyze_file", counted)
    path = str(pink_noise_file(model_service.home / "renders" / "once.wav", seed=3))
    _ok(model_service, op="analyze", path=path)
    _ok(model_service, op="adapt", path=path, text="warmer")
    assert len(calls) == 1
    pink_noise_file(model_service.home / "renders" / "once.wav", seconds=2.0, seed=4)  # changed: read again
    _ok(model_service, op="suggest", path=path)
    assert len(calls) == 2


def test_analyze_adapt_suggest_on_a_real_file(model_service):
    analysis = _ok(model_service, op="analyze", path=model_service.noise)
    for key in ("loudness_lufs", "true_peak_dbtp", "bands", "descriptors", "summary"):
        assert key in analysis
    assert analysis["path"] == model_service.noise and analysis["sample_rate_hz"] == 48000

    adapt = _ok(model_service, op="adapt", path=model_service.noise, text="warmer")
    assert "analysis" in adapt and "expected" in adapt and adapt["params"]
    assert adapt["response_db"]["sample_rate_hz"] == 48000.0

    suggest = _ok(model_service, op="suggest", path=model_service.noise, strength=0.5)
    assert "bands" in suggest and "problems" in suggest and "expected" in suggest
    gains = [suggest["params"][k] for k in suggest["params"] if k.endswith("_gain_db")]
    assert max(abs(g) for g in gains) <= 6.0 + 1e-9


def test_repeated_eq_comes_from_the_cache_as_an_independent_copy(model_service):
    hits = model_service.status()["eq_cache_hits"]
    first = model_service.handle({"op": "eq", "id": "c1", "text": "much brighter", "intensity": 0.7})
    first["warnings"].append("changed by a caller")
    first["params"]["low_shelf_gain_db"] = 99.0
    second = model_service.handle({"op": "eq", "id": "c2", "text": "much brighter", "intensity": 0.7})
    assert model_service.status()["eq_cache_hits"] == hits + 1
    assert second["id"] == "c2" and "changed by a caller" not in second["warnings"]
    assert second["params"]["low_shelf_gain_db"] != 99.0
    other = model_service.handle({"op": "eq", "id": "c3", "text": "much brighter", "intensity": 0.8})
    assert other["params"] != second["params"]


# --- render: the one way a door renders audio ---------------------------------------------------


def test_render_writes_inside_home_only_and_reports_loudness(home, tmp_path):
    import soundfile as sf

    sr = 48000
    t = np.arange(sr) / sr
    src = home / "renders" / "tone.wav"
    sf.write(str(src), 0.25 * np.sin(2 * np.pi * 220 * t)[:, None].repeat(2, axis=1), sr, subtype="PCM_24")
    params = EQParams(3.0, 200.0, 0.0, 500.0, 1.0, 0.0, 1000.0, 1.0, 0.0, 4000.0, 1.0, 0.0, 8000.0)
    service = Service(home)
    out = home / "renders" / "tone.warm.wav"
    request = {"op": "render", "id": "r1", "path": str(src), "output": str(out), "params": params.to_dict()}
    answer = service.handle(request)
    assert answer["ok"] is True, answer
    assert answer["output"] == str(out.resolve()) and out.exists()
    assert abs(answer["render"]["loudness_change_lu"]) <= 0.5  # loudness-matched
    assert answer["render"]["true_peak_out_dbtp"] <= answer["render"]["ceiling_dbtp"] + 0.01
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (sr, 2, "PCM_24")
    # an existing output needs overwrite; outside home is refused; the input is never the output
    assert service.handle(request)["code"] == "output_exists"
    assert service.handle({**request, "overwrite": True})["ok"] is True
    outside = tmp_path / "elsewhere.wav"
    assert service.handle({**request, "output": str(outside)})["code"] == "forbidden_path" and not outside.exists()
    assert service.handle({**request, "output": str(src), "overwrite": True})["code"] == "forbidden_path"
    assert service.handle({**request, "params": {"low_shelf_gain_db": 99}})["code"] == "bad_params"
