"""A logging handler that never blocks the thread that logs on the output stream (``semeq serve``'s log).

:class:`BackgroundWriter` formats each record in the logging thread (a few microseconds) and keeps
the line in a bounded buffer; one daemon thread writes what has accumulated, every ``interval_s``
seconds, in one write. A stream that does not take the lines (stderr piped to a process that does
not read it) stalls that thread only: the buffer keeps at most ``max_lines`` lines, and the number
dropped is written as one line when the stream takes lines again. The server's receive loop thus
pays neither a system call nor a wait per logged request.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TextIO


class BackgroundWriter(logging.Handler):
    """Format in the caller, write from one thread every ``interval_s`` seconds (see the module)."""

    def __init__(self, stream: TextIO, interval_s: float = 0.05, max_lines: int = 10_000) -> None:
        super().__init__()
        self.stream = stream
        self.interval_s = interval_s
        self.max_lines = max_lines
        self._lines: deque[str] = deque()
        self._dropped = 0
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="semeq-log", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Format ``record`` and keep the line (or count it as dropped when the buffer is full)."""
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        if len(self._lines) >= self.max_lines:
            self._dropped += 1  # under the handler's lock (Handler.handle), like every emit
            return
        self._lines.append(line)

    def close(self, timeout_s: float = 1.0) -> None:
        """Write what is pending and stop the writer thread (waiting at most ``timeout_s`` seconds)."""
        self._closing = True
        self._wake.set()
        self._thread.join(timeout_s)
        super().close()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(self.interval_s)
            self._write_pending()
        self._write_pending()  # what came while the last write was under way

    def _write_pending(self) -> None:
        lines = [self._lines.popleft() for _ in range(len(self._lines))]
        with self.lock:
            dropped, self._dropped = self._dropped, 0
        if dropped:
            lines.append(f"{dropped} log lines dropped: the log stream did not take them in time")
        if not lines:
            return
        try:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: the log is lost, the server goes on
            pass
