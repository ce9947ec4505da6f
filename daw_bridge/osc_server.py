"""The OSC door: a UDP server speaking the protocol of ``docs/osc-protocol.md`` (codec:
:mod:`daw_bridge.wire`), in front of a :class:`daw_bridge.service.Service`.

Concurrency lives here, not in the service. Each lane of the op table (:mod:`daw_bridge.ops`) has
one :class:`Lane`: a :class:`~concurrent.futures.ThreadPoolExecutor` and one bounded count of the
requests it holds (running + waiting). ``quick`` ops (ping, status) and repeated ``eq`` requests
(the service's answer cache) are answered in the receive loop; the ``term`` lane runs other ``eq``
requests, the ``audio`` lane the ops that read or write audio. A full lane answers ``busy`` at once;
a request not answered within its timeout (``timeout_s``, at most the server's) gets ``timeout``
from one watchdog thread, and a request still waiting is then cancelled.

The receive loop never raises on what arrives: undecodable datagrams are counted and dropped;
decodable but wrong requests get an ``/semeq/error`` reply.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any, Callable, Mapping

from daw_bridge.errors import SemeqError
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
)

#: Workers and waiting places of the term lane (``eq``): a burst queues, at most ~0.3 s of work.
TERM_WORKERS = 2
TERM_QUEUE = 64
#: Socket receive buffer asked from the kernel (bytes): absorbs bursts of requests.
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024

Reply = Callable[[dict], None]


class Lane:
    """A bounded worker pool: ``workers`` threads and at most ``queue_size`` requests waiting.

    :attr:`held` (running + waiting) is the one bounded count; it goes up in :meth:`submit` and
    down in the future's done callback (finished, failed or cancelled alike).
    """

    def __init__(self, name: str, workers: int, queue_size: int) -> None:
        self.name, self.workers, self.queue_size = name, workers, queue_size
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix=f"semeq-{name}")
        self.held = 0
        self.running = 0
        self._lock = threading.Lock()

    def submit(self, work: Callable[[], dict]) -> Future | None:
        """Run ``work`` in the pool; None when the lane is full (or shut down)."""
        with self._lock:
            if self.held >= self.workers + self.queue_size:
                return None
            self.held += 1

        def counted() -> dict:
            with self._lock:
                self.running += 1
            try:
                return work()
            finally:
                with self._lock:
                    self.running -= 1

        try:
            future = self.executor.submit(counted)
        except RuntimeError:  # shut down
            self._release(None)
            return None
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: Future | None) -> None:
        with self._lock:
            self.held -= 1

    def status(self) -> dict:
        with self._lock:
            return {"queued": self.held - self.running, "running": self.running, "workers": self.workers, "queue_size": self.queue_size}


class Watchdog:
    """One thread that answers ``timeout`` for requests past their deadline and cancels them."""

    def __init__(self) -> None:
        self._pending: dict[Future, tuple[float, Callable[[], None]]] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="semeq-watchdog", daemon=True)
        self._thread.start()

    def watch(self, future: Future, timeout_s: float, on_timeout: Callable[[], None]) -> None:
        with self._wake:
            self._pending[future] = (time.monotonic() + timeout_s, on_timeout)
            self._wake.notify()
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self._wake:
            self._pending.pop(future, None)

    def _loop(self) -> None:
        while True:
            with self._wake:
                if self._stopped:
                    return
                now = time.monotonic()
                due = [(f, cb) for f, (at, cb) in self._pending.items() if at <= now]
                for f, _ in due:
                    del self._pending[f]
                if not due:
                    nearest = min((at for at, _ in self._pending.values()), default=now + 1.0)
                    self._wake.wait(max(nearest - now, 0.001))
                    continue
            for future, on_timeout in due:
                on_timeout()
                future.cancel()  # if it never started, it never will

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()


class _Once:
    """Call the wrapped reply at most once (a worker's answer and the timeout may race)."""

    def __init__(self, reply: Reply) -> None:
        self._reply = reply
        self._lock = threading.Lock()
        self.done = False

    def __call__(self, answer: dict) -> None:
        with self._lock:
            if self.done:
                return
            self.done = True
        self._reply(answer)


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
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
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
            "busy": counts["busy"],
            "timeouts": counts["timeouts"],
        }

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
        """Stop receiving; waiting requests are cancelled (answered ``busy``), running ones finish."""
        self._stop.set()
        for lane in self.lanes.values():
            lane.executor.shutdown(wait=True, cancel_futures=True)
        self._watchdog.stop()
        self.service.status_sources.pop("osc", None)
        self._sock.close()

    # --- one datagram -------------------------------------------------------------------------
    def _handle_datagram(self, dgram: bytes, sender: tuple) -> None:
        try:
            message = decode(dgram)
        except ValueError:
            self.stats.add("undecodable")
            return
        address = message.address
        if not address.startswith(PREFIX) or address.startswith(("/semeq/reply", ERROR)):
            self.stats.add("ignored")  # not for us; never answer replies (no loops between servers)
            return
        self.stats.add("requests")
        started = time.monotonic()
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
        """Answer ``request`` through ``reply`` exactly once: at once (invalid, quick, cached), or
        from its lane (or ``busy`` when the lane is full, ``timeout`` past its deadline)."""
        started = time.monotonic() if started is None else started
        try:
            call = self.service.prepare(request)
        except SemeqError:
            reply(self.service.handle(request))  # the logged error answer
            return
        once = _Once(reply)
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

    def _refuse(self, call: Call, once: _Once, code: str, message: str, started: float) -> None:
        if once.done:
            return
        if code in ("busy", "timeout"):
            self.stats.add("busy" if code == "busy" else "timeouts")
        answer = {"ok": False, "id": call.id, "op": call.op.name, "code": code, "message": message}
        log_answer(answer, time.monotonic() - started)
        once(answer)

    def _finished(self, future: Future, call: Call, once: _Once, started: float) -> None:
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
