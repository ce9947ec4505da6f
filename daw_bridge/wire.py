"""The wire codec: requests and answers as OSC 1.0 messages (``docs/osc-protocol.md``).

- Request: ``/semeq/<op> id <required fields...> [key value]...``: the required fields of the op
  table (:mod:`daw_bridge.ops`) in order, then ``key value`` pairs for its optional fields and the
  transport options :data:`TRANSPORT_OPTIONS` (``reply_port``, ``reply``). Fields travel as their
  kind says: strings, numbers, ``T``/``F``, or JSON text.
- Replies: ``/semeq/reply/json id json`` (split into ``/semeq/reply/json_part id index count
  chunk`` when longer than :data:`MAX_JSON_CHUNK_CHARS`); for EQ answers also
  ``/semeq/reply/params id f*13`` and ``/semeq/reply/reaeq id (i eq_bandtype, i eq_bandidx,
  f freq_hz, f gain_db, f bw_oct)*5``. Errors: ``/semeq/error id code message json``, always one
  datagram (long echoed values are cut).

Used by the OSC server and by the client; imports neither (nor numpy): the client starts fast.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

try:  # a C encoder about 6x faster than json's on an EQ answer; optional (stdlib json otherwise)
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised by hiding the module in the tests
    _orjson = None
from pythonosc.osc_message import OscMessage
from pythonosc.parsing import osc_types

from daw_bridge.ops import FIELDS, OPS, BadRequestError, loads_json

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7710
PREFIX = "/semeq/"
REPLY_JSON = "/semeq/reply/json"
REPLY_JSON_PART = "/semeq/reply/json_part"
REPLY_PARAMS = "/semeq/reply/params"
REPLY_REAEQ = "/semeq/reply/reaeq"
ERROR = "/semeq/error"

#: What replies a request gets: ``all`` (JSON + flat typed values, the default) or only ``json``.
REPLY_MODES = ("all", "json")
#: Options of the transport itself (not fields of the request).
TRANSPORT_OPTIONS = ("reply_port", "reply")
#: OSC type tags accepted in requests (int32, float32, double, string, int64, true, false, nil).
ACCEPTED_TAGS = frozenset("ifdshTFN")
#: Longest JSON text in one reply datagram (ASCII characters); loopback UDP carries < 65,507 bytes.
MAX_JSON_CHUNK_CHARS = 60000
#: Longest message and longest echoed string value in an error reply (characters): an error reply
#: is always a single datagram well under :data:`MAX_JSON_CHUNK_CHARS`.
MAX_ERROR_MESSAGE_CHARS = 2000
MAX_ECHO_CHARS = 200


class WireError(BadRequestError):
    """A request that decodes as OSC but does not follow the protocol (``rid`` if it was readable)."""

    def __init__(self, message: str, rid: str | None = None) -> None:
        super().__init__(message)
        self.rid = rid


def decode(dgram: bytes) -> OscMessage:
    """Decode one datagram as an OSC message with accepted type tags; raise ValueError if not."""
    try:
        if not dgram.startswith(b"/"):
            raise ValueError("not an OSC message")
        _, index = osc_types.get_string(dgram, 0)
        if index < len(dgram):
            tags, _ = osc_types.get_string(dgram, index)
            if not tags.startswith(",") or not set(tags[1:]) <= ACCEPTED_TAGS:
                raise ValueError("unsupported OSC type tags")
        return OscMessage(dgram)
    except ValueError:
        raise
    except Exception as exc:  # python-osc raises ParseError, IndexError, struct.error, ...
        raise ValueError(f"undecodable OSC datagram ({type(exc).__name__})") from None


def undecodable_answer(dgram: bytes, reason: str) -> dict | None:
    """The error answer for a datagram addressed to ``/semeq/<op>`` that does not decode (a blob or
    an array among its arguments, a cut-off string, ...); None for datagrams that are not ours
    (not ``/semeq/``, or replies: never answered, so that two servers cannot loop)."""
    if not dgram.startswith(PREFIX.encode()) or dgram.startswith((b"/semeq/reply", ERROR.encode())):
        return None
    rid = ""
    try:
        address, index = osc_types.get_string(dgram, 0)
        tags, index = osc_types.get_string(dgram, index)
        if tags.startswith(",s"):
            rid = osc_types.get_string(dgram, index)[0][:MAX_ECHO_CHARS]
    except Exception:  # python-osc raises ParseError, IndexError, ...; the address alone is enough
        address = dgram[:80].split(b"\0", 1)[0].decode("ascii", "replace")
    return {
        "ok": False, "id": rid, "op": None, "code": "bad_request",
        "message": (f"{address[:80]}: the message is not valid OSC for this server ({reason}); send the id and "
                    "fields as strings (s), numbers (i, f, d, h) and true/false (T, F) only"),
    }


#: python-osc's encoders per type tag (True/False carry no data).
_WRITERS: dict[str, Callable[[Any], bytes]] = {
    "s": osc_types.write_string,
    "i": osc_types.write_int,
    "h": osc_types.write_int64,
    "f": osc_types.write_float,
    "d": osc_types.write_double,
    "b": osc_types.write_blob,
    "T": lambda value: b"",
    "F": lambda value: b"",
}


def build(address: str, args: list[tuple[Any, str]]) -> bytes:
    """Encode one OSC message from ``(value, type_tag)`` pairs with python-osc's type encoders.

    (``OscMessageBuilder.build`` parses every message it builds again, which costs more than the
    whole answer for a 6 KB JSON reply; the encoders alone do not.)
    """
    parts = [osc_types.write_string(address), osc_types.write_string("," + "".join(tag for _, tag in args))]
    parts += [_WRITERS[tag](value) for value, tag in args]
    return b"".join(parts)


def _tagged(value: Any, wire: str = "") -> tuple[Any, str]:
    if wire == "json" or not isinstance(value, (bool, int, float, str)):
        return (value if isinstance(value, str) and wire == "json" else json.dumps(value, separators=(",", ":")), "s")
    if isinstance(value, bool):
        return (value, "T" if value else "F")
    if isinstance(value, int):
        return (value, "i")
    if isinstance(value, float):
        return (value, "d")
    return (value, "s")


def request_message(request: Mapping[str, Any], reply_port: int | None = None, reply: str | None = None) -> bytes:
    """Encode a request dict (``op``, ``id``, fields) as the ``/semeq/<op>`` message."""
    op = OPS[request["op"]]
    args = [(str(request["id"]), "s")]
    args += [_tagged(request[name], FIELDS[name].wire) for name in op.required]
    options = {k: v for k, v in request.items() if k not in ("op", "id", *op.required)}
    if reply_port is not None:
        options["reply_port"] = reply_port
    if reply is not None:
        options["reply"] = reply
    for key, value in options.items():
        args.append((key, "s"))
        args.append(_tagged(value, FIELDS[key].wire if key in FIELDS else ""))
    return build(PREFIX + request["op"], args)


#: OSC type tags that carry each wire form of a field.
_TAGS = {"string": "s", "number": "i, f, d or h", "bool": "T or F", "json": "s with JSON text"}


def _from_wire(name: str, value: Any, rid: str | None) -> Any:
    """An OSC argument as the field's value (JSON text parsed with limits); WireError if mistyped."""
    wire = FIELDS[name].wire
    if wire == "json":
        try:
            return loads_json(value, name)
        except BadRequestError as exc:
            raise WireError(str(exc), rid) from None
    ok = {
        "string": isinstance(value, str),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
    }[wire]
    if not ok:
        raise WireError(f"'{name}' needs a {wire} (OSC {_TAGS[wire]}), got {type(value).__name__}", rid)
    return value


def parse_request(message: OscMessage) -> tuple[dict, dict]:
    """Turn a decoded ``/semeq/<op>`` message into (request dict, transport options).

    Raises :class:`WireError` (with the request id when it could be read).
    """
    name = message.address[len(PREFIX):]
    args = message.params
    rid = args[0] if args and isinstance(args[0], (str, int)) and not isinstance(args[0], bool) else None
    rid = None if rid is None else str(rid)
    op = OPS.get(name)
    if op is None:
        raise WireError(f"unknown address {message.address[:80]}; ops: {', '.join(OPS)}", rid)
    if rid is None or rid == "":
        raise WireError("the first argument must be the request id (a string)")
    request: dict[str, Any] = {"op": op.name, "id": rid}
    if len(args) < 1 + len(op.required):
        raise WireError(f"{message.address} needs {', '.join(op.required)} after the id", rid)
    for name, value in zip(op.required, args[1:]):
        try:
            request[name] = _from_wire(name, value, rid)
        except WireError as exc:
            raise WireError(f"{message.address} needs {', '.join(op.required)} after the id: {exc}", rid) from None
    rest = args[1 + len(op.required):]
    if len(rest) % 2:
        raise WireError("options come in 'key value' pairs; one is missing its value", rid)
    transport: dict[str, Any] = {"reply_port": None, "reply": "all"}
    allowed = op.optional + ("timeout_s",) + TRANSPORT_OPTIONS
    for key, value in zip(rest[::2], rest[1::2]):
        if not isinstance(key, str) or key not in allowed:
            shown = repr(key)[:40]
            raise WireError(f"unknown option {shown} for {message.address}; options: {', '.join(allowed)}", rid)
        if key == "reply_port":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                raise WireError("option 'reply_port' needs an int 1..65535", rid)
            transport["reply_port"] = value
        elif key == "reply":
            if value not in REPLY_MODES:
                raise WireError(f"option 'reply' is one of {', '.join(REPLY_MODES)}", rid)
            transport["reply"] = value
        else:
            request[key] = _from_wire(key, value, rid)
    return request, transport


def _cut(value: Any, limit: int) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    return value


def error_reply(answer: Mapping[str, Any]) -> bytes:
    """The one ``/semeq/error`` datagram of an error answer (long id, message and echoed values cut)."""
    small = {key: _cut(value, MAX_ECHO_CHARS) for key, value in answer.items() if key != "message"}
    small["message"] = _cut(str(answer.get("message")), MAX_ERROR_MESSAGE_CHARS)
    text = json.dumps(small, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=str)
    if len(text) > MAX_JSON_CHUNK_CHARS:  # e.g. a long list of suggestions: keep the essentials
        small = {k: small.get(k) for k in ("ok", "id", "op", "code", "message")}
        text = json.dumps(small, separators=(",", ":"), ensure_ascii=True, default=str)
    rid = "" if small.get("id") is None else str(small["id"])
    return build(ERROR, [(rid, "s"), (str(small.get("code")), "s"), (small["message"], "s"), (text, "s")])


#: Types that hold no float (skipped by :func:`_finite`).
_LEAVES = frozenset({str, int, bool, type(None)})


def _finite(value: Any) -> bool:
    """False if ``value`` holds a NaN or an infinite float anywhere (orjson would write ``null``).

    One pass over the containers (a stack, no recursion): the floats met are summed as they come (a
    NaN or an infinity makes the sum so), a list that starts with a float in one C loop (curves,
    params). Also says False for finite floats whose sum overflows and for float subclasses (numpy
    scalars): the caller then takes the exact path.
    """
    floats = 0.0
    pending = [value]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is dict:
            items = value.values()
        elif kind is list or kind is tuple:
            if value and type(value[0]) is float:
                try:
                    total = sum(value)
                except TypeError:  # not all numbers
                    items = value
                else:
                    if type(total) is not float:  # numpy scalars: exact path
                        return False
                    floats += total
                    continue
            else:
                items = value
        elif kind is float:
            floats += value
            continue
        elif kind in _LEAVES:
            continue
        elif isinstance(value, dict):
            items = value.values()
        elif isinstance(value, (list, tuple)):
            items = value
        elif isinstance(value, float):  # numpy scalars and other float subclasses: exact path
            return False
        else:
            continue
        for item in items:
            kind = type(item)
            if kind is float:
                floats += item
            elif kind not in _LEAVES:
                pending.append(item)
    return floats - floats == 0.0


def answer_json(answer: Mapping[str, Any]) -> str:
    """An answer as compact ASCII-only JSON text (``\\uXXXX`` escapes, keys in order); ValueError if it
    holds NaN or an infinity, TypeError if something is not JSON. orjson writes it when installed and
    the answer is plain (finite numbers, str keys, ASCII output); otherwise stdlib json, exactly as before."""
    data = b""
    if _orjson is not None:
        try:
            if _finite(answer):
                data = _orjson.dumps(answer)
        except (TypeError, RecursionError):  # orjson.JSONEncodeError: non-str keys, numpy scalars, huge ints, ...
            data = b""
        if data and data.isascii():
            return data.decode("ascii")
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def reply_messages(answer: Mapping[str, Any], mode: str = "all") -> list[bytes]:
    """Encode an answer as its reply datagrams (JSON first, then the flat values of an EQ)."""
    if not answer.get("ok"):
        return [error_reply(answer)]
    rid = "" if answer.get("id") is None else str(answer["id"])
    text = answer_json(answer)
    if len(text) <= MAX_JSON_CHUNK_CHARS:
        out = [build(REPLY_JSON, [(rid, "s"), (text, "s")])]
    else:
        chunks = [text[i : i + MAX_JSON_CHUNK_CHARS] for i in range(0, len(text), MAX_JSON_CHUNK_CHARS)]
        out = [
            build(REPLY_JSON_PART, [(rid, "s"), (i, "i"), (len(chunks), "i"), (chunk, "s")])
            for i, chunk in enumerate(chunks)
        ]
    if mode == "all" and "params" in answer and "reaeq" in answer:
        out.append(build(REPLY_PARAMS, [(rid, "s")] + [(float(v), "f") for v in answer["params"].values()]))
        bands = []
        for band in answer["reaeq"]["bands"]:
            bands += [
                (int(band["eq_bandtype"]), "i"),
                (int(band["eq_bandidx"]), "i"),
                (float(band["freq_hz"]), "f"),
                (float(band["gain_db"]), "f"),
                (float(band["bw_oct"]), "f"),
            ]
        out.append(build(REPLY_REAEQ, [(rid, "s")] + bands))
    return out
