"""Reply JSON: orjson (when installed) writes exactly what stdlib json wrote, once decoded.

The reference is ``json.dumps(answer, separators=(",", ":"), ensure_ascii=True, allow_nan=False)``,
the encoder the wire used before orjson: compact, ASCII only, keys in the answer's order, and
ValueError on NaN or an infinity (which the OSC server turns into an error answer).
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict

import numpy as np
import pytest

from daw_bridge import wire
from daw_bridge.paths import ensure_home
from daw_bridge.service import Service
from tests.hidden import run_without
from tests.test_service import pink_noise_file

orjson = pytest.importorskip("orjson")


def stdlib_text(answer) -> str:
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def same_as_stdlib(answer) -> str:
    text = wire.answer_json(answer)
    reference = stdlib_text(answer)
    assert text.isascii()
    assert json.loads(text) == json.loads(reference)
    assert list(json.loads(text)) == list(json.loads(reference))  # key order
    assert len(text) <= len(reference)  # compact (no spaces); shorter where orjson writes 1e-7 for 1e-07
    return text


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    home = ensure_home(tmp_path_factory.mktemp("wirejson") / "home")
    service = Service(home)
    service.warm()
    noise = pink_noise_file(home / "renders" / "noise.wav")
    out = {
        "eq": service.handle({"id": "e1", "op": "eq", "text": "warmer and less boomy"}),
        "eq_unicode": service.handle({"id": "é→1", "op": "eq", "text": "warmer ☕"}),
        "analyze": service.handle({"id": "a1", "op": "analyze", "path": str(noise)}),
        "error": service.handle({"id": "x1", "op": "eq", "text": ""}),
        "unknown": service.handle({"id": "x2", "op": "no_such_op"}),
    }
    service.close()
    return out


@pytest.mark.parametrize("name", ["eq", "eq_unicode", "analyze", "error", "unknown"])
def test_real_answers_decode_the_same_with_both_encoders(answers, name):
    answer = answers[name]
    assert (answer["ok"] is True) == (name in ("eq", "eq_unicode", "analyze")), answer
    same_as_stdlib(answer)


def test_the_eq_answer_takes_the_fast_path(answers):
    assert wire._finite(answers["eq"]) and orjson.dumps(answers["eq"]).isascii()


def test_non_ascii_is_escaped_exactly_as_before(answers):
    answer = answers["eq_unicode"]
    assert wire.answer_json(answer) == stdlib_text(answer)  # orjson's UTF-8 output is not used
    assert "\\u00e9" in wire.answer_json(answer)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", ["top", "list", "nested", "tuple", "ordered", "numpy_list"])
def test_non_finite_numbers_still_raise_so_the_server_answers_an_error(answers, bad, where):
    answer = json.loads(json.dumps(answers["eq"]))
    if where == "top":
        answer["intensity"] = bad
    elif where == "list":
        answer["response_db"]["db"][57] = bad
    elif where == "nested":
        answer["reaeq"]["bands"][3]["gain_db"] = bad
    elif where == "tuple":
        answer["extra"] = (1, "a", {"x": (2.0, bad)})
    elif where == "ordered":
        answer["extra"] = OrderedDict(x=[{"y": bad}])
    else:
        answer["extra"] = [np.float64(1.0), np.float64(bad)]
    with pytest.raises(ValueError):
        wire.answer_json(answer)
    with pytest.raises(ValueError):
        wire.reply_messages(answer)


@pytest.mark.parametrize("extra", [
    {1: "int key"}, np.float64(0.25), [np.float64(0.5), 2], 2**70, [1e308, 1e308], -0.0, 1e-7, 1e22,
    "tab\tquote\"back\\slash\u2028\x00", OrderedDict(b=1, a=2), ("tuple", None, True),
])
def test_unusual_values_come_out_as_stdlib_json_wrote_them(answers, extra):
    answer = {**answers["eq"], "extra": extra}
    same_as_stdlib(answer)


def test_not_json_still_raises_type_error(answers):
    with pytest.raises(TypeError):
        wire.answer_json({**answers["eq"], "extra": object()})


def test_without_orjson_the_stdlib_text_is_used(answers, monkeypatch):
    monkeypatch.setattr(wire, "_orjson", None)
    for answer in answers.values():
        if answer["ok"]:
            assert wire.answer_json(answer) == stdlib_text(answer)


def test_the_wire_works_when_orjson_is_not_installed():
    code = """
import json, sys
from daw_bridge import wire
assert wire._orjson is None and "orjson" not in sys.modules
answer = {"ok": True, "op": "eq", "id": "r\u00e9", "params": {"a": 1.5}, "x": [None, 2.0]}
text = wire.answer_json(answer)
assert text == json.dumps(answer, separators=(",", ":"), ensure_ascii=True, allow_nan=False), text
try:
    wire.answer_json({**answer, "x": float("nan")})
except ValueError:
    print("ok")
"""
    assert run_without({"orjson"}, code).stdout.split() == ["ok"]
