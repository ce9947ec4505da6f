"""The op table: one vocabulary for every door (validation, OSC, ``semeq send``, sidecars, the doc)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
from pathlib import Path

import pytest

from daw_bridge import ops, wire
from daw_bridge.errors import SemeqError
from daw_bridge.ops import FIELDS, OPS, BadRequestError, check_field, loads_json, validate

REPO = Path(__file__).resolve().parents[1]


def _sync_tool():
    spec = importlib.util.spec_from_file_location("sync_protocol_doc", REPO / "tools" / "sync_protocol_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_protocol_document_shows_the_op_table():
    tool = _sync_tool()
    text = tool.DOC.read_text(encoding="utf-8")
    assert tool.synced(text) == text, "docs/osc-protocol.md drifted from daw_bridge/ops.py: run python tools/sync_protocol_doc.py"
    for op in OPS.values():  # and the table is really in there, one row per op and field
        assert f"| `/semeq/{op.name}` |" in text
    for name in FIELDS:
        assert f"| `{name}` |" in text


def test_a_drifted_document_is_detected(monkeypatch):
    tool = _sync_tool()
    text = tool.DOC.read_text(encoding="utf-8")
    monkeypatch.setitem(FIELDS, "intensity", ops.Field("intensity", "number", "changed", -3.0, 3.0, 1.0))
    assert tool.synced(text) != text


# --- field checks: wrong types, ranges, non-finite, sizes, nesting -------------------------------


@pytest.mark.parametrize(
    "name, value, fragment",
    [
        ("intensity", "lots", "'intensity' must be a number, got 'lots' (str)"),
        ("intensity", True, "must be a number"),
        ("intensity", None, "must be a number"),
        ("intensity", math.nan, "must be a finite number"),
        ("intensity", -math.inf, "must be a finite number"),
        ("intensity", 2.5, "'intensity' = 2.5 is outside -2 .. 2"),
        ("strength", -0.1, "'strength' = -0.1 is outside 0 .. 1"),
        ("max_gain_db", 0.0, "outside 0.1 .. 12"),
        ("timeout_s", 0, "outside 0.001 .. 3600"),
        ("text", "", "'text' must be the words"),
        ("text", "   ", "'text' must be the words"),
        ("text", 7, "'text' must be a string"),
        ("text", "w" * 501, "'text' is longer than 500 characters (501)"),
        ("text", "warm\x00", "NUL"),
        ("path", "", "'path' is empty"),
        ("path", "/" + "a" * 5000, "longer than 4096"),
        ("path", ["/a.wav"], "'path' must be a string"),
        ("overwrite", 1, "'overwrite' must be true or false"),
        ("push", "ardour", "'push' must be an object"),
        ("push", {"to": "logic"}, "push 'to' must be one of reaper, ardour"),
        ("push", {"to": "ardour", "strip": 0, "plugin": 1}, "'strip'"),
        ("push", {"to": "reaper", "track": 1, "fx": 1, "colour": 2}, "does not take colour"),
        ("push", {"to": "ardour", "strip": 1, "plugin": 1, "sample_rate_hz": 1e9}, "'sample_rate_hz'"),
        ("current", [[[[[[1]]]]]], "nested deeper than 4 levels"),
    ],
)
def test_field_errors_are_bad_requests_naming_the_field(name, value, fragment):
    with pytest.raises(BadRequestError, match=None) as info:
        check_field(name, value)
    assert info.value.code == "bad_request"
    assert fragment in str(info.value), str(info.value)


def test_an_eq_value_out_of_range_is_bad_params():
    with pytest.raises(SemeqError) as info:
        check_field("current", {"low_shelf_gain_db": 1})
    assert info.value.code == "bad_params" and "missing" in str(info.value)


def test_good_values_come_back_in_their_working_form():
    from daw_bridge.eq import EQParams

    assert check_field("text", "  warmer ") == "warmer"
    assert check_field("intensity", 2) == 2.0 and isinstance(check_field("intensity", 2), float)
    flat = EQParams.flat()
    assert check_field("current", flat.to_dict()) == flat
    assert check_field("params", list(flat.raw_vector())) == flat
    assert check_field("push", {"to": "reaper", "track": 0, "fx": 1}) == {"to": "reaper", "track": 0, "fx": 1}


def test_validate_fills_defaults_and_names_unknown_and_missing_fields():
    call = validate({"op": "suggest", "id": 7, "path": "/x.wav"})
    assert call.id == "7" and call.op is OPS["suggest"]
    assert call.values == {"path": "/x.wav", "strength": 0.5, "max_gain_db": 6.0, "reference": None, "push": None,
                           "timeout_s": None}
    with pytest.raises(BadRequestError, match="'eq' does not take strength; it takes text, intensity"):
        validate({"op": "eq", "id": "a", "text": "warm", "strength": 1})
    with pytest.raises(BadRequestError, match="'adapt' needs path, text"):
        validate({"op": "adapt", "id": "a"})
    with pytest.raises(BadRequestError, match="unknown op 'fly'; known: ping, status"):
        validate({"op": "fly", "id": "a"})
    with pytest.raises(BadRequestError, match="'id'"):
        validate({"op": "ping", "id": True})


def test_json_limits_are_checked_before_parsing():
    deep = "[" * 100_000 + "]" * 100_000  # json.loads would recurse; the scan refuses it first
    with pytest.raises(BadRequestError, match="longer than"):
        loads_json(deep, "current")
    with pytest.raises(BadRequestError, match="nested deeper than 4"):
        loads_json("[" * 5000 + "]" * 5000, "current")
    with pytest.raises(BadRequestError, match="nested deeper than 4"):
        loads_json('{"a": {"b": {"c": {"d": {"e": 1}}}}}', "push")
    assert loads_json('{"a": "[[[[[[[[["}', "push") == {"a": "[[[[[[[[["}  # brackets inside strings do not count
    with pytest.raises(BadRequestError, match="not valid JSON"):
        loads_json("{nope", "current")


# --- the doors read the same table --------------------------------------------------------------


def _example(name):
    return {"text": "warmer", "path": "/x/a.wav", "output": "/x/b.wav", "params": [0.0] * 13}[name]


@pytest.mark.parametrize("op", list(OPS))
def test_every_op_round_trips_through_the_osc_wire_with_its_positional_fields(op):
    request = {"op": op, "id": "r1", **{name: _example(name) for name in OPS[op].required}}
    parsed, _ = wire.parse_request(wire.decode(wire.request_message(request)))
    assert parsed == request
    tags = wire.decode(wire.request_message(request)).params
    assert len(tags) == 1 + len(OPS[op].required)


def test_semeq_send_has_one_subcommand_per_op_with_the_table_positionals():
    from daw_bridge.cli import send

    parser = argparse.ArgumentParser()
    send.add_parser(parser.add_subparsers())
    for op in OPS.values():
        args = parser.parse_args(["send", op.name, *[json.dumps(_example(n)) if FIELDS[n].kind == "eq" else _example(n) for n in op.required]])
        fields = send._fields(args)
        assert set(fields) == set(op.required)


def test_sidecar_keys_come_from_the_op_table():
    from daw_bridge import watch

    assert set(watch.SIDECAR_FIELDS) == {"text", "intensity", "current", "strength", "max_gain_db", "reference"}
    for name in watch.SIDECAR_FIELDS:
        assert name in FIELDS


# --- error replies always fit one datagram ------------------------------------------------------


def test_error_replies_are_one_datagram_whatever_they_echo():
    answer = {"ok": False, "id": "i" * 100_000, "op": "x" * 70_000, "code": "bad_request", "message": "m" * 200_000,
              "suggestions": ["w" * 100] * 5000}
    datagrams = wire.reply_messages(answer)
    assert len(datagrams) == 1 and len(datagrams[0]) < 65_000
    message = wire.decode(datagrams[0])
    assert message.address == wire.ERROR and message.params[1] == "bad_request"
    assert json.loads(message.params[3])["code"] == "bad_request"


def test_the_client_imports_the_codec_not_the_server():
    import subprocess
    import sys

    code = ("import sys, daw_bridge.client, daw_bridge.cli.send; "
            "print(sorted(m for m in ('daw_bridge.osc_server', 'daw_bridge.service', 'numpy', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# --- any value: a checked value or a clear error, never a crash ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=14) | st.dictionaries(st.text(max_size=20), inner, max_size=14),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(FIELDS)), value=JSONISH)
def test_any_value_of_any_field_is_accepted_or_refused_with_a_semeq_error(name, value):
    try:
        check_field(name, value)
    except SemeqError as exc:
        assert exc.code in ("bad_request", "bad_params") and len(str(exc)) > 10


@settings(max_examples=200, deadline=None)
@given(request=st.dictionaries(st.sampled_from(["op", "id", *FIELDS, "x"]), JSONISH, max_size=8))
def test_any_request_validates_or_is_refused_with_a_semeq_error(request):
    try:
        validate(request)
    except SemeqError as exc:
        assert exc.code in ("bad_request", "bad_params")


def test_error_messages_stay_short_whatever_the_request_holds():
    with pytest.raises(BadRequestError) as info:
        validate({"op": "ping", "id": "a", **{f"k{i}": i for i in range(5000)}})
    assert "and 4990 more" in str(info.value) and len(str(info.value)) < 400
    with pytest.raises(BadRequestError) as info:
        validate({"op": ["x" * 10_000], "id": "a"})
    assert len(str(info.value)) < 300
