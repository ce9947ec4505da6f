"""The watcher's settings and the result of one file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from daw_bridge.watch.journal import Job, Step

Log = Callable[[str], None]


def log_line(line: str) -> None:
    """The default console: one line on stdout, flushed."""
    print(line, flush=True)


@dataclass(frozen=True)
class WatchConfig:
    """Timing (seconds) and concurrency of the watcher; ``on_step(step, job)`` is told of every
    completed :class:`Step` (tests stop the process there)."""

    settle_s: float = 1.0
    corrupt_after_s: float = 10.0
    poll_s: float = 0.5
    workers: int = 2
    busy_retry_s: float = 0.2
    on_step: Callable[[Step, Job], None] | None = None


@dataclass
class JobResult:
    """How one dropped file ended: ``status`` ``done`` or ``failed``, the output names, the reason."""

    source: str
    status: str
    outputs: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    stages_s: dict[str, float] = field(default_factory=dict)  # seconds per stage (done files)
