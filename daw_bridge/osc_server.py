"""The OSC door: a UDP server speaking the protocol of ``docs/osc-protocol.md``.

Wire format (both directions are plain OSC 1.0 messages; bundles are not used):

- Request: ``/semeq/<op> id <required args...> [key value]...`` where ``op`` is one of
  ``ping status eq analyze adapt suggest``, ``id`` a string (or int) chosen by the client, the
  required arguments strings (:data:`POSITIONAL`), and the optional ``key value`` pairs named in
  :data:`OPTIONS` (``reply_port`` sends the replies to that port of the sender's address).
- Replies: ``/semeq/reply/json id json`` (the answer JSON; split into ``/semeq/reply/json_part id
  index count chunk`` messages when longer than :data:`MAX_JSON_CHUNK_CHARS`), and for EQ answers
  ``/semeq/reply/params id f*13`` and ``/semeq/reply/reaeq id (i eq_bandtype, i eq_bandidx,
  f freq_hz, f gain_db, f bw_oct)*5``. Errors: ``/semeq/error id code message json``.

The receive loop never raises on what arrives: undecodable datagrams are counted and dropped,
decodable but wrong requests get an ``/semeq/error`` reply. Quick ops (ping, status, eq) are
answered in the receive loop; audio ops are answered from the service's worker pool.

This module must stay light to import (the command-line client uses its wire functions): no
numpy, no torch, no service import at module level.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from typing import Any, Mapping

from pythonosc.osc_message import OscMessage
from pythonosc.parsing import osc_types

from daw_bridge.errors import SemeqError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7710
PREFIX = "/semeq/"
REPLY_JSON = "/semeq/reply/json"
REPLY_JSON_PART = "/semeq/reply/json_part"
REPLY_PARAMS = "/semeq/reply/params"
REPLY_REAEQ = "/semeq/reply/reaeq"
ERROR = "/semeq/error"

#: Required string arguments after the id, per op.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "ping": (),
    "status": (),
    "eq": ("text",),
    "analyze": ("path",),
    "adapt": ("path", "text"),
    "suggest": ("path",),
}
#: Optional ``key value`` pairs and the kind of value: number, json (a JSON text), port, reply.
OPTIONS = {
    "intensity": "number",
    "strength": "number",
    "max_gain_db": "number",
    "timeout_s": "number",
    "current": "json",
    "push": "json",
    "reply_port": "port",
    "reply": "reply",
}
#: What replies a request gets: ``all`` (JSON + flat typed values, the default) or only ``json``.
REPLY_MODES = ("all", "json")

#: OSC type tags accepted in requests (int32, float32, double, string, int64, true, false, nil).
ACCEPTED_TAGS = frozenset("ifdshTFN")
#: Longest JSON text in one reply datagram (ASCII characters); loopback UDP carries < 65,507 bytes.
MAX_JSON_CHUNK_CHARS = 60000
#: Socket receive buffer asked from the kernel (bytes): absorbs bursts of requests.
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024


class WireError(SemeqError):
    """A request that decodes as OSC but does not follow the protocol."""

    code = "bad_request"

    def __init__(self, message: str, rid: str | None = None) -> None:
        super().__init__(message)
        self.rid = rid


# --- wire functions (shared with the client) ----------------------------------------------------


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


#: python-osc's encoders per type tag (True/False carry no data).
_WRITERS = {
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


def _tagged(value: Any) -> tuple[Any, str]:
    if isinstance(value, bool):
        return (value, "T" if value else "F")
    if isinstance(value, int):
        return (value, "i")
    if isinstance(value, float):
        return (value, "d")
    if isinstance(value, str):
        return (value, "s")
    return (json.dumps(value, separators=(",", ":")), "s")


def request_message(request: Mapping[str, Any], reply_port: int | None = None, reply: str | None = None) -> bytes:
    """Encode a request dict (``op``, ``id``, fields) as the ``/semeq/<op>`` message.

    Numbers go as int32 / float64, ``current`` and ``push`` as JSON text.
    """
    op = request["op"]
    args = [(str(request["id"]), "s")]
    args += [(str(request[name]), "s") for name in POSITIONAL[op]]
    options = {k: v for k, v in request.items() if k not in ("op", "id", *POSITIONAL[op])}
    if reply_port is not None:
        options["reply_port"] = reply_port
    if reply is not None:
        options["reply"] = reply
    for key, value in options.items():
        args.append((key, "s"))
        args.append(_tagged(value))
    return build(PREFIX + op, args)


def parse_request(message: OscMessage) -> tuple[dict, dict]:
    """Turn a decoded ``/semeq/<op>`` message into (request dict, transport options).

    Raises :class:`WireError` (with the request id when it could be read).
    """
    op = message.address[len(PREFIX):]
    args = message.params
    rid = args[0] if args and isinstance(args[0], (str, int)) and not isinstance(args[0], bool) else None
    rid = None if rid is None else str(rid)
    if op not in POSITIONAL:
        raise WireError(f"unknown address {message.address}; ops: {', '.join(POSITIONAL)}", rid)
    if rid is None or rid == "":
        raise WireError("the first argument must be the request id (a string)")
    names = POSITIONAL[op]
    request: dict[str, Any] = {"op": op, "id": rid}
    for i, name in enumerate(names, start=1):
        if i >= len(args) or not isinstance(args[i], str):
            raise WireError(f"{message.address} needs {', '.join(names)} as string arguments after the id", rid)
        request[name] = args[i]
    rest = args[1 + len(names):]
    if len(rest) % 2:
        raise WireError("options come in 'key value' pairs; one is missing its value", rid)
    transport = {"reply_port": None, "reply": "all"}
    for key, value in zip(rest[::2], rest[1::2]):
        kind = OPTIONS.get(key) if isinstance(key, str) else None
        if kind is None:
            raise WireError(f"unknown option {key!r}; options: {', '.join(OPTIONS)}", rid)
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise WireError(f"option '{key}' needs a number", rid)
            request[key] = value
        elif kind == "json":
            try:
                request[key] = json.loads(value) if isinstance(value, str) else None
            except ValueError:
                request[key] = None
            if request[key] is None:
                raise WireError(f"option '{key}' needs a JSON text", rid)
        elif kind == "port":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                raise WireError("option 'reply_port' needs an int 1..65535", rid)
            transport["reply_port"] = value
        else:
            if value not in REPLY_MODES:
                raise WireError(f"option 'reply' is one of {', '.join(REPLY_MODES)}", rid)
            transport["reply"] = value
    return request, transport


def reply_messages(answer: Mapping[str, Any], mode: str = "all") -> list[bytes]:
    """Encode an answer as its reply datagrams (JSON first, then the flat values of an EQ)."""
    rid = "" if answer.get("id") is None else str(answer["id"])
    text = json.dumps(answer, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    if not answer.get("ok"):
        return [build(ERROR, [(rid, "s"), (str(answer.get("code")), "s"), (str(answer.get("message")), "s"), (text, "s")])]
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


# --- the server ---------------------------------------------------------------------------------


class ServerStats:
    """Counters of the receive loop (a plain class: dataclasses would slow the client's start)."""

    NAMES = ("datagrams", "undecodable", "ignored", "requests", "bad_requests", "replies", "send_errors")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.NAMES, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def to_dict(self) -> dict:
        with self._lock:
            return dict(self._counts)


def check_bind_host(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback bind address unless ``allow_remote``."""
    import ipaddress

    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise SemeqError(f"cannot resolve host '{host}': {exc}") from None
    loopback = all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)
    if not loopback and not allow_remote:
        raise SemeqError(
            f"'{host}' is not a loopback address; the server takes no authentication, so binding "
            "it to the network needs --allow-remote"
        )


class OscServer:
    """UDP OSC server around a :class:`daw_bridge.service.Service` (or anything with
    ``handle_async(request, reply)``). ``port=0`` picks a free port (see :attr:`address`)."""

    def __init__(self, service, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_remote: bool = False) -> None:
        check_bind_host(host, allow_remote)
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        self.service = service
        self.stats = ServerStats()
        self._sock = socket.socket(info[0], socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            self._sock.bind(info[4])
        except OSError as exc:
            self._sock.close()
            raise SemeqError(f"cannot listen on udp {host}:{port}: {exc.strerror or exc}") from None
        self._sock.settimeout(0.2)
        self._stop = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound."""
        host, port = self._sock.getsockname()[:2]
        return host, port

    def serve_forever(self) -> None:
        """Receive and answer until :meth:`shutdown`; never raises on what arrives."""
        while not self._stop.is_set():
            try:
                dgram, sender = self._sock.recvfrom(65536)
            except (socket.timeout, BlockingIOError, InterruptedError):
                continue
            except OSError:
                if self._stop.is_set():
                    break
                continue
            self.stats.add("datagrams")
            try:
                self._handle_datagram(dgram, sender)
            except Exception as exc:  # defensive: the loop must outlive any bug
                print(f"semeq serve: internal error on a datagram: {type(exc).__name__}: {exc}", file=sys.stderr)

    def shutdown(self) -> None:
        """Ask :meth:`serve_forever` to return (within 0.2 s)."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()

    def _handle_datagram(self, dgram: bytes, sender: tuple) -> None:
        try:
            message = decode(dgram)
        except ValueError:
            self.stats.add("undecodable")
            return
        address = message.address
        if not address.startswith(PREFIX) or address.startswith((REPLY_JSON, "/semeq/reply", ERROR)):
            self.stats.add("ignored")  # not for us; never answer replies (no loops between servers)
            return
        self.stats.add("requests")
        try:
            request, transport = parse_request(message)
        except WireError as exc:
            self.stats.add("bad_requests")
            self._send({"ok": False, "id": exc.rid, "op": None, "code": exc.code, "message": str(exc)}, sender, "all")
            return
        target = sender if transport["reply_port"] is None else (sender[0], transport["reply_port"], *sender[2:])
        mode = transport["reply"]
        self.service.handle_async(request, lambda answer: self._send(answer, target, mode))

    def _send(self, answer: Mapping, target: tuple, mode: str) -> None:
        try:
            datagrams = reply_messages(answer, mode)
        except (ValueError, TypeError) as exc:  # e.g. NaN in an answer: a bug, but answer anyway
            datagrams = reply_messages(
                {"ok": False, "id": answer.get("id"), "op": answer.get("op"), "code": "internal",
                 "message": f"the answer could not be encoded ({exc})"}
            )
        for dgram in datagrams:
            try:
                self._sock.sendto(dgram, target)
                self.stats.add("replies")
            except OSError:
                self.stats.add("send_errors")
