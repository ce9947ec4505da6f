"""Malformed requests built from the op table (shared by the property test and the benchmark).

For every op of :data:`daw_bridge.ops.OPS` a valid request is made, then one thing is broken: a
field gets a value of the wrong type, size, depth, a non-finite or out-of-range number, a huge
string; or the id, the op name, a key is broken. :func:`malformed_request` returns the request
(a dict, what a JSON door hands the service) and :func:`malformed_datagram` the OSC datagram (what
the UDP door receives), each with the error codes a clear answer may carry.
"""

from __future__ import annotations

import json
import random
from typing import Any

from daw_bridge.ops import FIELDS, MAX_ID_CHARS, MAX_JSON_DEPTH, OPS
from daw_bridge.wire import PREFIX, build

#: Codes of a clear refusal per field kind: a malformed value is ``bad_request``; an EQ value out of
#: its parameter's range is ``bad_params``; a path that is well-formed text but cannot name a file
#: the server may read (too long a component) is ``forbidden_path``.
CLEAR = {"text": {"bad_request"}, "number": {"bad_request"}, "bool": {"bad_request"},
         "path": {"bad_request", "forbidden_path"}, "eq": {"bad_request", "bad_params"},
         "push": {"bad_request"}, "request": {"bad_request"}}

HUGE_INTS = (2**31, 2**31 - 1 + 2**32, -(2**31) - 1, 2**63, 2**64 + 5, 10**400, -(10**400))
NON_FINITE = (float("nan"), float("inf"), float("-inf"))


def nested(depth: int, leaf: Any = 0) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


def huge_text(rng: random.Random) -> str:
    return rng.choice("xé€😀\u202e") * rng.choice((501, 4097, 20_001, 33_000, 70_000))


def wrong_type(rng: random.Random, kind: str) -> Any:
    pool = {
        "text": [1, 2.5, True, [], {}, ["warmer"], {"text": "warmer"}],
        "path": [1, 2.5, True, [], {}, ["/x.wav"]],
        "number": ["1", "loud", True, [], {}, [1.0], {"v": 1}],
        "bool": [1, 0, "true", 1.0, [], {}],
        "eq": ["flat", 3, True, [1.0] * 12, [1.0] * 14, [[1.0] * 13], {"low_shelf_gain_db": "x"}, {"nope": 1}],
        "push": ["reaper", 1, True, [], {"to": "nowhere"}, {"to": 5}, {}],
    }[kind]
    return rng.choice(pool)


def bad_value(rng: random.Random, name: str) -> Any:
    """A malformed value for field ``name`` (its type, size, depth or range is wrong)."""
    spec = FIELDS[name]
    kind = spec.kind
    choice = rng.randrange(6)
    if choice == 0:
        return wrong_type(rng, kind)
    if kind == "text":
        return rng.choice([huge_text(rng), "", "   ", "\t\n", "a\x00b"])
    if kind == "path":  # too long, empty, NUL, relative, a component longer than any file system allows
        return rng.choice([huge_text(rng), "", "a\x00b", "renders/song.wav", "/" + "x" * 300 + ".wav",
                           "/" + "/".join("é" * 130 for _ in range(3)) + ".wav"])
    if kind == "number":
        lo = spec.lo if spec.lo is not None else -1.0
        hi = spec.hi if spec.hi is not None else 1.0
        return rng.choice([*NON_FINITE, *HUGE_INTS, lo - 1e-3 - abs(lo), hi + 1.0, hi * 1e300, -1e308 * 10])
    if kind == "bool":
        return rng.choice(["T", 2, [], {}]) if choice == 1 else wrong_type(rng, kind)
    if kind == "eq":
        return rng.choice([
            [rng.choice([*NON_FINITE, *HUGE_INTS, "x", None])] + [0.0] * 12,
            [1e9] * 13,
            nested(rng.randrange(MAX_JSON_DEPTH + 1, 2000)),
            [[0.0] * 13] * 2,
            {"low_shelf_gain_db": rng.choice([*NON_FINITE, *HUGE_INTS])},
            list(range(rng.choice((0, 1, 12, 14, 1000)))),
        ])
    # push
    host = rng.choice(["reaper", "ardour"])
    return rng.choice([
        {"to": host, "track": rng.choice(HUGE_INTS), "fx": 0, "strip": 1, "plugin": 1},
        {"to": host, "track": -1, "fx": -5, "strip": -1, "plugin": -1},
        {"to": host, "track": 1.5, "fx": True, "strip": "1", "plugin": None},
        {"to": host, "x" * 33_000: 1},
        nested(rng.randrange(MAX_JSON_DEPTH + 1, 2000)),
        {"to": host, "sample_rate_hz": rng.choice([*NON_FINITE, 0, 10**400])},
    ])


def valid_value(name: str, home: str) -> Any:
    """A well-formed value for field ``name``."""
    return {
        "text": "warmer",
        "path": f"{home}/renders/song.wav",
        "output": f"{home}/outbox/out.wav",
        "intensity": 1.0,
        "strength": 0.5,
        "max_gain_db": 6.0,
        "current": [0.0, 100.0, 0.0, 300.0, 0.7, 0.0, 1000.0, 0.7, 0.0, 3000.0, 0.7, 0.0, 8000.0],
        "params": [0.0, 100.0, 0.0, 300.0, 0.7, 0.0, 1000.0, 0.7, 0.0, 3000.0, 0.7, 0.0, 8000.0],
        "overwrite": False,
        "push": {"to": "reaper", "track": 1, "fx": 0},
        "timeout_s": 10.0,
    }.get(name, "x")


def malformed_request(rng: random.Random, home: str) -> tuple[dict, set[str], str]:
    """A request with one malformed part: (request, clear codes, what was broken)."""
    op = rng.choice(list(OPS.values()))
    request: dict[str, Any] = {"op": op.name, "id": f"r{rng.randrange(10**6)}"}
    for name in op.required:
        request[name] = valid_value(name, home)
    what = rng.randrange(10)
    if what < 7 and op.fields:
        name = rng.choice(op.fields)
        request[name] = bad_value(rng, name)
        return request, CLEAR[FIELDS[name].kind], f"{op.name}.{name}"
    if what == 7:
        request["id"] = rng.choice(["", None, 5.5, [], {}, "i" * (MAX_ID_CHARS + 1), "i" * 33_000])
        return request, CLEAR["request"], "id"
    if what == 8:
        request[rng.choice(["nope", "x" * 33_000, "é" * 300])] = 1
        return request, CLEAR["request"], "unknown key"
    request["op"] = rng.choice(["nope", "", "x" * 33_000, 5, None, ["eq"]])
    return request, CLEAR["request"], "op"


def _as_osc_args(value: Any, wire: str) -> list[tuple[Any, str]]:
    """How a (possibly wrong) value can travel: its natural OSC type, or JSON text for json fields."""
    if wire == "json" and not isinstance(value, str):
        try:
            text = json.dumps(value, separators=(",", ":"), allow_nan=True)
        except (ValueError, RecursionError):
            text = "[" * 5000 + "]" * 5000
        return [(text, "s")]
    if isinstance(value, bool):
        return [(value, "T" if value else "F")]
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return [(value, "i")]
        if -(2**63) <= value < 2**63:
            return [(value, "h")]
        return [(str(value), "s")]
    if isinstance(value, float):
        return [(value, "d")]
    if isinstance(value, str):
        return [(value, "s")]
    # a list, object or null where a string, number or bool goes has no OSC form: a blob (refused)
    return [(json.dumps(value, separators=(",", ":")).encode(), "b")]


def _id_args(rid: Any) -> list[tuple[Any, str]]:
    """A (possibly broken) id as the first OSC argument: a string or number as itself, anything
    else as no argument at all (a list or null has no OSC form)."""
    if isinstance(rid, (str, int, float)) and not isinstance(rid, bool):
        return _as_osc_args(rid, "")
    return []


#: Largest UDP payload over IPv4 (bytes): a larger datagram cannot be sent at all.
MAX_DATAGRAM = 65507


def malformed_datagram(rng: random.Random, home: str) -> tuple[bytes, set[str], str]:
    """An OSC datagram carrying a malformed request: (datagram, clear codes, what was broken);
    one that fits in a UDP datagram."""
    while True:
        dgram, codes, what = _datagram(rng, home)
        # a string with a NUL ends at it on the wire (OSC strings are NUL-terminated): no longer malformed
        if len(dgram) <= MAX_DATAGRAM and "a\x00b" not in what:
            return dgram, codes, what


def _datagram(rng: random.Random, home: str) -> tuple[bytes, set[str], str]:
    request, codes, what = malformed_request(rng, home)
    op = OPS.get(request["op"]) if isinstance(request["op"], str) else None
    if any(isinstance(v, str) and "\x00" in v for v in request.values()):
        what += " a\x00b"
    address = PREFIX + (request["op"] if isinstance(request["op"], str) else json.dumps(request["op"]))
    args = _id_args(request["id"])
    if op is None:
        return build(address, args + [("warmer", "s")]), codes, what
    for name in op.required:
        args += _as_osc_args(request.get(name), FIELDS[name].wire)
    for key, value in request.items():
        if key not in ("op", "id", *op.required):
            args.append((str(key), "s"))
            args += _as_osc_args(value, FIELDS[key].wire if key in FIELDS else "json")
    return build(address, args), codes, what
