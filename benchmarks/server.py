"""Start a real ``semeq serve`` for a benchmark and read its memory: one way for every benchmark."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

_READY = re.compile(r"ready on udp \S+:(\d+)")


def start_server(home: Path, *args: str, log: Path | None = None,
                 command: list[str] | None = None) -> tuple[subprocess.Popen, int, float]:
    """Start ``semeq serve --port 0 --home HOME ARGS`` (``command`` defaults to ``python -m
    daw_bridge``); its log lines go to ``log`` (a file, never an unread pipe) or nowhere.
    Returns (process, UDP port, seconds from start to the ready line)."""
    home.mkdir(parents=True, exist_ok=True)
    cmd = [*(command or [sys.executable, "-m", "daw_bridge"]), "serve", "--port", "0", "--home", str(home), *args]
    t0 = time.perf_counter()
    with open(log, "w") if log else open(os.devnull, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # the watch folder may print its own line first
        match = _READY.search(line)
        if match:
            return proc, int(match.group(1)), time.perf_counter() - t0
    proc.kill()
    tail = log.read_text()[-2000:] if log and log.exists() else ""
    raise SystemExit(f"semeq serve did not print its ready line {tail}")


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of a process in MB, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024.0, int(fields["VmHWM"].split()[0]) / 1024.0


def set_affinity(pid: int, cpus: set[int]) -> None:
    """Let every thread of process ``pid`` run only on ``cpus`` (Linux ``sched_setaffinity``; a thread
    started later inherits its creator's set)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)
