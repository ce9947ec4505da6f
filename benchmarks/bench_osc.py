"""OSC round trips against a real ``semeq serve`` process on loopback.

Prints, for the ``eq`` op (answered by the trained model):

1. Warm client, sequential: p50 / p99 / max round trip over N requests (default 10,000) of
   - ``ping`` (the peer: the transport alone, no model),
   - ``eq`` repeating six phrases ("warmer", "a bit brighter", ...): after the first six, answers
     come from the service's answer cache, as when a user presses "Make warmer" again,
   - ``eq`` with a new intensity every request: never cached, the full model + answer path,
   with the ratios to ping.
2. Offered load: N requests sent on a fixed schedule at R per second (default 1,000/s) while a
   second thread collects replies, for the repeated and the uncached ``eq``; latency from each
   request's scheduled send time; answers, error replies (``busy`` when a lane is full) and lost
   replies (none arrived within 5 s of the last send).
3. Client start-to-answer: wall time of one ``semeq send`` subprocess (``ping`` and ``eq warmer``),
   as a REAPER script sees it (median / p90 over K runs), beside ``python -c pass`` (interpreter
   start, the floor) and ``python -c "import torch"`` (what the client avoids), with ratios.

    python -m benchmarks.bench_osc [--requests 10000] [--rate 1000] [--starts 20] [--out FILE]

The output (also written to ``--out``) states the date and the machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.server import start_server  # noqa: E402
from benchmarks.machine import Report
from daw_bridge.client import Client
from daw_bridge.wire import request_message

TORCH = "python -c 'import torch'"
WORDS = ("warmer", "a bit brighter", "less harsh", "much warmer", "less muddy", "warm and a bit bright")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]




def eq_fields(i: int, cached: bool) -> dict:
    """Request i: one of six phrases; uncached ones get an intensity no other request has (0.2 .. 1.8,
    spread by the golden-ratio sequence: distinct for every i, whatever the number of runs)."""
    if cached:
        return {"text": WORDS[i % len(WORDS)]}
    return {"text": WORDS[i % len(WORDS)], "intensity": round(0.2 + 1.6 * ((i * 0.6180339887498949) % 1.0), 9)}


def sequential(port: int, op: str, n: int, cached: bool = True) -> tuple[list[float], int]:
    """Round trips (ms) of n requests from one warm client; and how many failed."""
    times, failed = [], 0
    with Client(port=port, timeout_s=5.0) as client:
        for i in range(n):
            fields = eq_fields(i, cached) if op == "eq" else {}
            t0 = time.perf_counter()
            try:
                answer = client.request(op, **fields)
                if not answer.get("ok"):
                    failed += 1
            except Exception:
                failed += 1
                continue
            times.append((time.perf_counter() - t0) * 1000.0)
    return times, failed


def _string_at(dgram: bytes, index: int) -> tuple[str, int]:
    end = dgram.index(b"\0", index)
    return dgram[index:end].decode(), (end + 4) & ~3


def head_strings(dgram: bytes) -> tuple[str, str, str]:
    """Address, first and second argument of a reply whose first two arguments are strings.

    The load generator's receiver reads only these (with C-speed searches) so that it keeps up with
    the server; the full JSON is not parsed there (sequential runs parse every reply).
    """
    address, i = _string_at(dgram, 0)
    _, i = _string_at(dgram, i)  # type tags: replies start with ,ss
    first, i = _string_at(dgram, i)
    second, _ = _string_at(dgram, i)
    return address, first, second


def offered_load(port: int, n: int, rate_per_s: float, cached: bool, op: str = "eq",
                 first: int = 0) -> tuple[list[float], dict, int, float]:
    """Send n eq (or ``op``: ping, the transport's peer) requests at a fixed rate, requests ``first``
    to ``first + n - 1`` of :func:`eq_fields` (repeated runs of uncached requests pass distinct
    ranges); return answer latencies (ms), error replies by code, lost replies and the achieved send rate."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.connect(("127.0.0.1", port))
    sent_at: dict[str, float] = {}
    latencies: dict[str, float] = {}
    errors: dict[str, str] = {}
    finished = threading.Event()

    def receive() -> None:
        sock.settimeout(0.2)
        while not finished.is_set() or len(latencies) + len(errors) < len(sent_at):
            try:
                dgram = sock.recv(65536)
            except socket.timeout:
                if finished.is_set() and time.perf_counter() > last_send[0] + 5.0:
                    return
                continue
            now = time.perf_counter()
            address, rid, second = head_strings(dgram)
            if address == "/semeq/reply/json" and rid in sent_at and rid not in latencies:
                latencies[rid] = (now - sent_at[rid]) * 1000.0
            elif address == "/semeq/error" and rid in sent_at:
                errors[rid] = second

    last_send = [time.perf_counter()]
    tag = "P" if op != "eq" else "C" if cached else "U"
    messages = [request_message({"op": op, "id": f"{tag}{i}", **(eq_fields(first + i, cached) if op == "eq" else {})},
                                reply="json") for i in range(n)]
    receiver = threading.Thread(target=receive)
    receiver.start()
    start = time.perf_counter() + 0.05
    i = 0
    while i < n:
        now = time.perf_counter()
        while i < n and start + i / rate_per_s <= now:  # everything due: send it
            sent_at[f"{tag}{i}"] = start + i / rate_per_s
            sock.send(messages[i])
            i += 1
        if i < n:  # sleep until the next one is due: one wake-up per request (a late send counts in its latency)
            time.sleep(max(0.0, start + i / rate_per_s - time.perf_counter()))
    last_send[0] = time.perf_counter()
    achieved = n / (last_send[0] - start)
    finished.set()
    receiver.join()
    sock.close()
    by_code: dict[str, int] = {}
    for code in errors.values():
        by_code[code] = by_code.get(code, 0) + 1
    return list(latencies.values()), by_code, n - len(latencies) - len(errors), achieved


def timed_runs(cmd: list[str], k: int) -> list[float]:
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        out.append((time.perf_counter() - t0) * 1000.0)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-1000:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    report = Report()
    say = report.say

    report.header("bench_osc", f"python -m benchmarks.bench_osc --requests {args.requests} --rate {args.rate:g} --starts {args.starts}")
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, _ = start_server(Path(tmp) / "home", "--no-watch", log=Path(tmp) / "serve.log")
        try:
            say(f"server: semeq serve --no-watch on udp 127.0.0.1:{port} (separate process)")
            sequential(port, "eq", 200)  # warm-up (model, first-call costs)
            ping, ping_failed = sequential(port, "ping", args.requests)
            cached, cached_failed = sequential(port, "eq", args.requests, cached=True)
            fresh, fresh_failed = sequential(port, "eq", args.requests, cached=False)
            say()
            say(f"1. warm client, sequential, {args.requests} requests each (ms)")
            say(f"   {'':22} {'p50':>8} {'p99':>8} {'max':>8} {'failed':>7}   p50 / ping  p99 / ping")
            for name, t, f in (("ping", ping, ping_failed), ("eq, repeated phrases", cached, cached_failed),
                               ("eq, never cached", fresh, fresh_failed)):
                say(f"   {name:22} {percentile(t, 50):8.3f} {percentile(t, 99):8.3f} {max(t):8.3f} {f:7d}"
                    f"   x{percentile(t, 50) / percentile(ping, 50):9.1f}  x{percentile(t, 99) / percentile(ping, 99):9.1f}")
            for name, t in (("repeated", cached), ("never cached", fresh)):
                say(f"   goal eq p99 < 5 ms ({name}): {'met' if percentile(t, 99) < 5.0 else 'NOT met'}")

            say()
            say(f"2. offered load: {args.requests} eq requests at {args.rate:g}/s, replies collected by a second thread")
            for name, is_cached in (("repeated phrases", True), ("never cached", False)):
                lat, errors, lost, achieved = offered_load(port, args.requests, args.rate, is_cached)
                say(f"   {name}: sent at {achieved:.0f}/s; answers {len(lat)}, error replies {sum(errors.values())} "
                    f"{errors or ''}, lost replies {lost}")
                if lat:
                    say(f"      answer latency from scheduled send (ms): p50 {percentile(lat, 50):.3f}  "
                        f"p99 {percentile(lat, 99):.3f}  max {max(lat):.3f}")

            send = [sys.executable, "-m", "daw_bridge", "send", "--port", str(port)]
            runs = {
                "python -c pass": timed_runs([sys.executable, "-c", "pass"], args.starts),
                "semeq send ping": timed_runs([*send, "ping"], args.starts),
                "semeq send eq warmer": timed_runs([*send, "eq", "warmer"], args.starts),
                TORCH: timed_runs([sys.executable, "-c", "import torch"], max(3, args.starts // 4)),
            }
            say()
            say("3. client start-to-answer, one process per request (ms, median / p90 over runs)")
            for name, t in runs.items():
                say(f"   {name:26} {statistics.median(t):8.1f} / {percentile(t, 90):8.1f}  ({len(t)} runs)")
            floor, eq_send = statistics.median(runs["python -c pass"]), statistics.median(runs["semeq send eq warmer"])
            say(f"   semeq send eq / bare interpreter: x{eq_send / floor:.1f}; "
                f"import torch alone / semeq send eq: x{statistics.median(runs[TORCH]) / eq_send:.1f}")
            say(f"   load average during the run (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    report.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
