"""The OSC client behind ``semeq send``: one request, one answer, distinct failures.

It starts fast (REAPER scripts run it for every action): it imports the standard library, the
package's light modules and python-osc's message code only — never numpy, torch or the model.

Failures are :class:`ClientError` subclasses with the exit code of the command line:
:class:`ServerNotRunning` (3: the port answered "unreachable", i.e. nothing listens there),
:class:`RequestTimedOut` (4: no answer within the timeout) and :class:`ErrorReply` (5: the server
answered with an error; ``answer`` holds it).
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

from daw_bridge.wire import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ERROR,
    REPLY_JSON,
    REPLY_JSON_PART,
    decode,
    request_message,
)

DEFAULT_TIMEOUT_S = 30.0


class ClientError(Exception):
    """A request that did not produce an answer; ``exit_code`` is the CLI's."""

    exit_code = 1


class ServerNotRunning(ClientError):
    exit_code = 3


class RequestTimedOut(ClientError):
    exit_code = 4


class ErrorReply(ClientError):
    exit_code = 5

    def __init__(self, answer: dict) -> None:
        super().__init__(f"{answer.get('code')}: {answer.get('message')}")
        self.answer = answer


class Client:
    """Sends requests to a ``semeq serve`` at ``host:port`` and waits up to ``timeout_s`` seconds.

    One connected UDP socket per client (so "port unreachable" is reported), reused across
    requests: a warm client answers in well under a millisecond plus the service's work.
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._counter = 0

    def _socket(self) -> socket.socket:
        if self._sock is None:
            try:
                info = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
            except socket.gaierror as exc:
                raise ServerNotRunning(f"cannot resolve host '{self.host}': {exc}") from None
            sock = socket.socket(info[0], socket.SOCK_DGRAM)
            sock.connect(info[4])
            self._sock = sock
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def new_id(self) -> str:
        """A request id unique enough for one server: process id, random tag, counter."""
        self._counter += 1
        return f"{os.getpid()}-{os.urandom(3).hex()}-{self._counter}"

    def request(self, op: str, **fields: Any) -> dict:
        """Send ``/semeq/<op>`` with ``fields`` and return the answer dict (``ok`` is true).

        Raises :class:`ServerNotRunning`, :class:`RequestTimedOut` or :class:`ErrorReply`.
        """
        rid = fields.pop("id", None) or self.new_id()
        request = {"op": op, "id": rid, **{k: v for k, v in fields.items() if v is not None}}
        dgram = request_message(request, reply="json")
        sock = self._socket()
        deadline = time.monotonic() + self.timeout_s
        try:
            sock.send(dgram)
            return self._wait(sock, rid, deadline)
        except ConnectionRefusedError:
            raise ServerNotRunning(
                f"no semeq server on udp {self.host}:{self.port}; start it with: semeq serve"
            ) from None

    def _wait(self, sock: socket.socket, rid: str, deadline: float) -> dict:
        parts: dict[int, str] = {}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RequestTimedOut(
                    f"no answer from udp {self.host}:{self.port} within {self.timeout_s:g} s"
                )
            sock.settimeout(left)
            try:
                dgram = sock.recv(65536)
            except socket.timeout:
                continue
            try:
                message = decode(dgram)
            except ValueError:
                continue
            args = message.params
            if not args or str(args[0]) != rid:
                continue  # a late reply to an earlier request
            if message.address == REPLY_JSON and len(args) == 2:
                return json.loads(args[1])
            if message.address == REPLY_JSON_PART and len(args) == 4:
                index, count, chunk = args[1], args[2], args[3]
                parts[index] = chunk
                if len(parts) == count:
                    return json.loads("".join(parts[i] for i in range(count)))
            elif message.address == ERROR and len(args) >= 3:
                try:
                    answer = json.loads(args[3]) if len(args) >= 4 else None
                except ValueError:
                    answer = None
                raise ErrorReply(answer or {"ok": False, "id": rid, "code": args[1], "message": args[2]})
