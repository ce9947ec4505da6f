"""One line that says which machine a benchmark ran on (printed with every committed result)."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> str:
    """Host, architecture, CPU, core count, OS, Python and the 1-minute load average."""
    return (
        f"{platform.node()} | {platform.machine()} | {cpu_model()} | {os.cpu_count()} cores | "
        f"{platform.system()} {platform.release()} | Python {platform.python_version()} | "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def utc_now() -> str:
    """The current date and time, UTC, to the minute."""
    return f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"


class Report:
    """Lines printed as they come and, at the end, saved (atomically) to the results file, if any."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def header(self, name: str, command: str = "") -> None:
        """A results file's first lines: the benchmark and the time (UTC), the machine, the command."""
        self.say(f"{name}  {utc_now()}")
        self.say(f"machine: {describe()}")
        if command:
            self.say(f"command: {command}")

    def save(self, path: Path | None) -> None:
        if path is not None:
            from daw_bridge.files import write_text_atomic

            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, "\n".join(self.lines) + "\n")


def emit(text: str, out: Path | None) -> int:
    """Print a benchmark's report and, with ``out``, write it there too; the exit status (0)."""
    print(text)
    if out:
        out.write_text(text + "\n")
    return 0
