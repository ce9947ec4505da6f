"""The OSC door: a UDP server speaking the protocol of ``docs/osc-protocol.md`` (codec:
:mod:`daw_bridge.wire`), in front of a :class:`daw_bridge.service.Service`.

Concurrency lives here, not in the service. One receive loop reads every datagram that is waiting
into its own first-in first-out inbox (stamped with the time it was read), then answers them one by
one. It answers in place what takes a bounded, short time: ``quick`` ops (ping, status), repeated
``eq`` requests (the service's answer cache) and every ``eq`` the service calls quick
(:meth:`~daw_bridge.service.Service.is_quick`: known words, nothing to fit or push; well under a
millisecond), so the common request never pays a hand-off to a thread. An ``eq`` that waited in
the inbox longer than :data:`INLINE_WAIT_S` is answered ``busy``: the loop is behind.

Each lane of the op table (:mod:`daw_bridge.ops`) has one :class:`~daw_bridge.lanes.Lane`: the
``term`` lane runs the other ``eq`` requests (unknown words, ``current``, ``push``), the ``audio``
lane the ops that read or write audio, so neither ever holds up the receive loop. A full lane
answers ``busy`` at once; a request not answered within its timeout (``timeout_s``, at most the
server's) gets ``timeout`` from one watchdog thread, and a request still waiting is then cancelled.
The socket never blocks the loop: it waits for datagrams with ``select`` and sends without waiting
(a reply the kernel cannot take at once is counted in ``send_errors``).

The receive loop never raises on what arrives: every datagram addressed to ``/semeq/<op>`` gets an
answer (an ``/semeq/error`` reply when it is wrong, even when it does not decode as OSC); datagrams
that are not addressed to the server, and replies, are counted and dropped.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import sys
import threading
import time
from collections import deque
from concurrent.futures import CancelledError, Future
from typing import Any, Mapping

from daw_bridge.errors import SemeqError
from daw_bridge.lanes import Lane, Once, Reply, Watchdog
from daw_bridge.ops import Call
from daw_bridge.service import log_answer
from daw_bridge.wire import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ERROR,
    PREFIX,
    WireError,
    decode,
    parse_request,
    reply_messages,
    undecodable_answer,
)

#: Workers and waiting places of the term lane (``eq``): a burst queues, at most ~0.3 s of work.
TERM_WORKERS = 2
TERM_QUEUE = 64
#: Socket receive buffer asked from the kernel (bytes): absorbs bursts of requests.
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
#: Datagrams, and their bytes, the receive loop reads ahead into its inbox (more wait in the socket's buffer).
INBOX_SIZE = 1024
INBOX_BYTES = 4 * 1024 * 1024
#: Longest wait (seconds) in the inbox of an ``eq`` answered by the receive loop; one that waited
#: longer is answered ``busy`` (the loop is behind: about 0.25 s of requests are ahead of it).
INLINE_WAIT_S = 0.25


class ServerStats:
    """Counters of the receive loop and the lanes."""

    NAMES = ("datagrams", "undecodable", "ignored", "requests", "bad_requests", "replies", "send_errors", "busy", "timeouts")

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
    """UDP OSC server around a :class:`~daw_bridge.service.Service`. ``port=0`` picks a free port
    (see :attr:`address`). ``workers`` threads run audio requests with at most ``queue_size`` more
    waiting; ``request_timeout_s`` (seconds) bounds every queued request (a request may ask for
    less with ``timeout_s``)."""

    def __init__(
        self,
        service,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        allow_remote: bool = False,
        workers: int = 2,
        queue_size: int = 8,
        request_timeout_s: float = 60.0,
    ) -> None:
        if workers < 1 or queue_size < 0 or not request_timeout_s > 0:
            raise SemeqError("workers must be >= 1, queue size >= 0 and the timeout > 0 seconds")
        check_bind_host(host, allow_remote)
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        self.service = service
        self.request_timeout_s = float(request_timeout_s)
        self.stats = ServerStats()
        self._sock = socket.socket(info[0], socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            self._sock.bind(info[4])
        except OSError as exc:
            self._sock.close()
            raise SemeqError(f"cannot listen on udp {host}:{port}: {exc.strerror or exc}") from None
        self._sock.setblocking(False)  # waits in select; never blocks on a send
        self._stop = threading.Event()
        #: Datagrams read from the socket and not yet answered: (datagram, sender, monotonic time read).
        self._inbox: deque[tuple[bytes, Any, float]] = deque()
        self._inbox_bytes = 0
        self.lanes = {"term": Lane("term", TERM_WORKERS, TERM_QUEUE), "audio": Lane("audio", workers, queue_size)}
        self._watchdog = Watchdog()
        service.status_sources["osc"] = self.status

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound."""
        host, port = self._sock.getsockname()[:2]
        return host, port

    def status(self) -> dict:
        """Queue depth, running requests, lanes and counters (merged into the ``status`` answer)."""
        lanes = {name: lane.status() for name, lane in self.lanes.items()}
        audio = self.lanes["audio"]
        counts = self.stats.to_dict()
        return {
            "queue_depth": sum(lane["queued"] for lane in lanes.values()),
            "running": sum(lane["running"] for lane in lanes.values()),
            "lanes": lanes,
            "workers": audio.workers,
            "queue_size": audio.queue_size,
            "request_timeout_s": self.request_timeout_s,
            "inbox": len(self._inbox),
            "busy": counts["busy"],
            "timeouts": counts["timeouts"],
        }

    def serve_forever(self) -> None:
        """Receive and answer, in arrival order, until :meth:`shutdown`; never raises on what arrives."""
        inbox = self._inbox
        while not self._stop.is_set():
            if not inbox and not self._readable(0.2):
                continue
            self._read_ahead()
            if not inbox:
                continue
            dgram, sender, received = inbox.popleft()
            self._inbox_bytes -= len(dgram)
            try:
                self._handle_datagram(dgram, sender, received)
            except Exception as exc:  # defensive: the loop must outlive any bug
                print(f"semeq serve: internal error on a datagram: {type(exc).__name__}: {exc}", file=sys.stderr)

    def _readable(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` seconds for a datagram; False on a timeout or a closed socket."""
        try:
            return bool(select.select([self._sock], [], [], timeout_s)[0])
        except (OSError, ValueError):  # closed by close() in another thread
            return False

    def _read_ahead(self) -> None:
        """Move the datagrams waiting in the socket into the inbox (up to :data:`INBOX_SIZE` datagrams
        and :data:`INBOX_BYTES`), each stamped with the time it was read: a request's wait counts from there."""
        inbox = self._inbox
        while len(inbox) < INBOX_SIZE and self._inbox_bytes < INBOX_BYTES:
            try:
                dgram, sender = self._sock.recvfrom(65536)
            except OSError:  # nothing more waiting (BlockingIOError), or a closed socket
                return
            inbox.append((dgram, sender, time.monotonic()))
            self._inbox_bytes += len(dgram)
            self.stats.add("datagrams")

    def shutdown(self) -> None:
        """Ask :meth:`serve_forever` to return (within 0.2 s, or after the datagram it is answering)."""
        self._stop.set()

    def close(self, wait: bool = True) -> None:
        """Stop receiving; waiting requests are cancelled (answered ``busy``), running ones finish
        (``wait=False``: are left to finish in their threads, unanswered)."""
        self._stop.set()
        for lane in self.lanes.values():
            lane.executor.shutdown(wait=wait, cancel_futures=True)
        self._watchdog.stop()
        self.service.status_sources.pop("osc", None)
        self._sock.close()

    # --- one datagram -------------------------------------------------------------------------
    def _handle_datagram(self, dgram: bytes, sender: tuple, started: float) -> None:
        try:
            message = decode(dgram)
        except ValueError as exc:
            self.stats.add("undecodable")
            answer = undecodable_answer(dgram, str(exc))
            if answer is not None:  # addressed to us: say why, never stay silent
                log_answer(answer, 0.0)
                self._send(answer, sender, "all")
            return
        address = message.address
        if not address.startswith(PREFIX) or address.startswith(("/semeq/reply", ERROR)):
            self.stats.add("ignored")  # not for us; never answer replies (no loops between servers)
            return
        self.stats.add("requests")
        try:
            request, transport = parse_request(message)
        except WireError as exc:
            self.stats.add("bad_requests")
            answer = {"ok": False, "id": exc.rid, "op": None, "code": exc.code, "message": str(exc)}
            log_answer(answer, time.monotonic() - started)
            self._send(answer, sender, "all")
            return
        target = sender if transport["reply_port"] is None else (sender[0], transport["reply_port"], *sender[2:])
        mode = transport["reply"]
        self.dispatch(request, lambda answer: self._send(answer, target, mode), started)

    def dispatch(self, request: Mapping[str, Any], reply: Reply, started: float | None = None) -> None:
        """Answer ``request`` through ``reply`` exactly once: at once (invalid, quick, cached, an eq
        the service calls quick), or from its lane (or ``busy`` when the lane is full, ``timeout``
        past its deadline). ``started``: when the request arrived (monotonic seconds; default now)."""
        started = time.monotonic() if started is None else started
        try:
            call = self.service.prepare(request)
        except SemeqError:
            reply(self.service.handle(request))  # the logged error answer
            return
        once = Once(reply)
        try:
            timeout_s = self._timeout_of(call)
        except SemeqError as exc:
            self._refuse(call, once, exc.code, str(exc), started)
            return
        if call.op.lane == "quick":
            reply(self.service.run(call, started))
            return
        cached = self.service.cached(call, started)
        if cached is not None:
            reply(cached)
            return
        if call.op.lane == "term" and self.service.is_quick(call):
            self._answer_inline(call, once, timeout_s, started)
            return
        lane = self.lanes[call.op.lane]
        future = lane.submit(lambda: self.service.run(call, started))
        if future is None:
            self._refuse(call, once, "busy", self._busy_message(lane), started)
            return
        self._watchdog.watch(
            future, timeout_s,
            lambda: self._refuse(call, once, "timeout", f"no answer within {timeout_s:g} s; the request was abandoned", started),
        )
        future.add_done_callback(lambda f: self._finished(f, call, once, started))

    def _answer_inline(self, call: Call, once: Once, timeout_s: float, started: float) -> None:
        """Answer a quick ``eq`` in this thread, unless it already waited longer than
        :data:`INLINE_WAIT_S` (``busy``: the loop is behind) or than its own timeout (``timeout``)."""
        waited = time.monotonic() - started
        if waited > timeout_s:
            self._refuse(call, once, "timeout", f"no answer within {timeout_s:g} s; the request was abandoned", started)
        elif waited > INLINE_WAIT_S:
            self._refuse(call, once, "busy", f"the server is busy (this request waited {1000.0 * waited:.0f} ms to be "
                         f"read, more than {1000.0 * INLINE_WAIT_S:.0f} ms); try again in a moment", started)
        else:
            once(self.service.run(call, started))

    def _timeout_of(self, call: Call) -> float:
        asked = call.values.get("timeout_s")
        if asked is None:
            return self.request_timeout_s
        if asked > self.request_timeout_s:
            raise SemeqError(
                f"'timeout_s' = {asked:g} is more than this server's request timeout ({self.request_timeout_s:g} s)",
                code="bad_request",
            )
        return asked

    def _busy_message(self, lane: Lane) -> str:
        if self._stop.is_set():
            return "the server is shutting down"
        return f"the server is busy ({lane.workers} {lane.name} requests running, {lane.queue_size} waiting); try again in a moment"

    def _refuse(self, call: Call, once: Once, code: str, message: str, started: float) -> None:
        if once.done:
            return
        if code in ("busy", "timeout"):
            self.stats.add("busy" if code == "busy" else "timeouts")
        answer = {"ok": False, "id": call.id, "op": call.op.name, "code": code, "message": message}
        log_answer(answer, time.monotonic() - started)
        once(answer)

    def _finished(self, future: Future, call: Call, once: Once, started: float) -> None:
        try:
            once(future.result())
        except CancelledError:  # by the timeout (already answered) or by close(): it never ran
            self._refuse(call, once, "busy", "the server shut down before this request ran", started)

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
