"""Uncached ``eq`` under offered load: this checkout against a base revision, alternating on one machine.

On a shared machine the load of other processes moves latency by tens of milliseconds from one
minute to the next, so a figure from another day is no peer. Here the base revision (``git archive``
into a temporary folder) and this checkout each start their own ``semeq serve --no-watch`` in turn,
round after round, and take the same offered load (``benchmarks.bench_runtime``'s point 4: never
cached ``eq`` at ``--rate`` per second, distinct intensities every run): busy, lost, p50 / p99 from
each request's scheduled send (ms), the server's CPU per request (ms, from /proc) and the cores the
machine's other processes kept busy meanwhile.

    python -m benchmarks.bench_osc_ab [--base 8f484f8] [--rounds 3] [--requests 10000] [--rate 1000] [--out FILE]

The output (also written to ``--out``) states the date and the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from benchmarks.bench_osc import percentile, sequential
from benchmarks.bench_runtime import measured_load, stop
from benchmarks.machine import Report
from benchmarks.server import start_server

REPO = Path(__file__).resolve().parents[1]


def export(revision: str, into: Path) -> Path:
    """The files of ``revision`` (``git archive``) under ``into``."""
    data = subprocess.run(["git", "-C", str(REPO), "archive", revision], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def serve(root: Path, home: Path):
    """``semeq serve --no-watch`` with the package imported from ``root`` (first on its path)."""
    code = f"import sys; sys.path.insert(0, {str(root)!r}); from daw_bridge.cli import main; sys.exit(main())"
    return start_server(home, "--no-watch", log=home.parent / "serve.log", command=[sys.executable, "-c", code])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="8f484f8", help="the revision to compare with (default 8f484f8)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report = Report()
    say = report.say
    report.header("bench_osc_ab", f"python -m benchmarks.bench_osc_ab --base {args.base} --rounds {args.rounds} "
                  f"--requests {args.requests} --rate {args.rate:g}")
    say(f"never-cached eq, {args.requests} requests at {args.rate:g}/s offered; base {args.base} vs this checkout ({head}), "
        "alternating (latency ms from each scheduled send; CPU ms per request)")
    results: dict[str, list[dict]] = {"base": [], "this": []}
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"base": export(args.base, Path(tmp) / "base"), "this": REPO}
        for r in range(args.rounds):
            for k, name in enumerate(("base", "this")):
                home = Path(tmp) / f"run{r}{name}" / "home"
                home.parent.mkdir()
                proc, port, _ = serve(roots[name], home)
                try:
                    sequential(port, "eq", 300)  # warm-up: first-call costs
                    run = measured_load(port, proc.pid, args.requests, args.rate, False, first=(2 * r + k) * args.requests)
                finally:
                    stop(proc)
                results[name].append(run)
                say(f"   round {r + 1} {name:4}  busy {run['errors'].get('busy', 0):5d} other "
                    f"{sum(run['errors'].values()) - run['errors'].get('busy', 0)} lost {run['lost']}  "
                    f"p50 {percentile(run['lat'], 50):8.3f} p99 {run['p99']:8.3f}  server CPU {run['user_ms'] + run['system_ms']:.3f}  "
                    f"other processes {run['others_cores']:.2f} of {os.cpu_count()} cores")
    for name, runs in results.items():
        say(f"   {name:4} median over rounds: p99 {statistics.median(r['p99'] for r in runs):.3f} ms, server CPU "
            f"{statistics.median(r['user_ms'] + r['system_ms'] for r in runs):.3f} ms per request, busy "
            f"{sum(r['errors'].get('busy', 0) for r in runs)} in all")
    report.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
