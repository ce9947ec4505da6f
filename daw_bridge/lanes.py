"""Bounded worker pools for the OSC door (:mod:`daw_bridge.osc_server`) and their deadlines.

A :class:`Lane` is one :class:`~concurrent.futures.ThreadPoolExecutor` with one bounded count of the
requests it holds (running + waiting): a full lane refuses at once (the door answers ``busy``).
One :class:`Watchdog` thread calls a request's timeout callback once its deadline (seconds, on the
monotonic clock) has passed, and cancels it if it never started. :class:`Once` makes sure a request
is answered exactly once when a worker's answer and the timeout race.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

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


class Once:
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
