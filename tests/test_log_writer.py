"""The server's log handler: lines in order from a background thread; a stream that does not take
them never blocks the thread that logs, and what had to be dropped is counted."""

from __future__ import annotations

import io
import logging
import threading
import time

from daw_bridge.log_writer import BackgroundWriter


class StuckStream(io.StringIO):
    """A stream whose writes wait until ``unstick`` is set (stderr piped to a reader that stopped)."""

    def __init__(self) -> None:
        super().__init__()
        self.unstick = threading.Event()
        self.writing = threading.Event()

    def write(self, text: str) -> int:
        self.writing.set()
        self.unstick.wait(10)
        return super().write(text)


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    log = logging.getLogger(name)
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    return log


def test_lines_come_out_in_order_and_all_by_close():
    stream = io.StringIO()
    handler = BackgroundWriter(stream, interval_s=0.01)
    log = _logger(handler, "semeq.test.order")
    for i in range(500):
        log.info("request %d", i)
    handler.close()
    log.removeHandler(handler)
    assert stream.getvalue().splitlines() == [f"semeq.test.order: request {i}" for i in range(500)]


def test_a_stream_that_does_not_take_lines_never_blocks_the_logging_thread():
    stream = StuckStream()
    handler = BackgroundWriter(stream, interval_s=0.01, max_lines=100)
    log = _logger(handler, "semeq.test.stuck")
    log.info("first")
    assert stream.writing.wait(5)  # the writer thread is now stuck in write()
    t0 = time.perf_counter()
    for i in range(1000):
        log.info("request %d", i)
    assert time.perf_counter() - t0 < 1.0  # 1,000 lines logged while the stream takes none
    stream.unstick.set()
    handler.close()
    log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[:101] == ["semeq.test.stuck: first"] + [f"semeq.test.stuck: request {i}" for i in range(100)]
    assert lines[101:] == ["900 log lines dropped: the log stream did not take them in time"]
