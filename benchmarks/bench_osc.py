"""OSC round trips against a real ``semeq serve`` process on loopback.

Prints, for the ``eq`` op ("warmer" and friends, answered by the trained model):

1. Warm client, sequential: p50 / p99 / max round trip over N requests (default 10,000), beside the
   transport-only ``ping`` round trip measured the same way in the same run (the peer: what the OSC
   path itself costs) and their ratio.
2. Offered load: requests sent on a fixed schedule at R per second (default 1,000/s) for N requests
   while a second thread collects replies; latency from each request's scheduled send time;
   lost replies (none arrived within 5 s of the last send).
3. Client start-to-answer: wall time of one ``semeq send eq warmer`` subprocess, as a REAPER
   script sees it (median / p90 over K runs), beside ``python -c pass`` (interpreter start, the
   floor) and ``python -c "import torch"`` (what the client avoids), with ratios.

    python -m benchmarks.bench_osc [--requests 10000] [--rate 1000] [--starts 20] [--out FILE]

The output (also written to ``--out``) states the date and the machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from daw_bridge.client import Client
from daw_bridge.osc_server import decode, request_message

WORDS = ("warmer", "a bit brighter", "less harsh", "much warmer", "less muddy", "warm and a bit bright")


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()} | {cpu} | {os.cpu_count()} cores | {platform.system()} {platform.release()} | Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def start_server(home: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "daw_bridge", "serve", "--port", "0", "--home", str(home), "--no-watch"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"ready on udp \S+:(\d+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"semeq serve did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return proc, int(match.group(1))


def sequential(port: int, op: str, n: int) -> tuple[list[float], int]:
    """Round trips (ms) of n requests from one warm client; and how many failed."""
    times, failed = [], 0
    with Client(port=port, timeout_s=5.0) as client:
        for i in range(n):
            fields = {"text": WORDS[i % len(WORDS)]} if op == "eq" else {}
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


def offered_load(port: int, n: int, rate_per_s: float) -> tuple[list[float], int, float]:
    """Send n eq requests at a fixed rate; return latencies (ms), lost replies, achieved send rate."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.connect(("127.0.0.1", port))
    sent_at: dict[str, float] = {}
    latencies: dict[str, float] = {}
    finished = threading.Event()

    def receive() -> None:
        sock.settimeout(0.2)
        while not finished.is_set() or len(latencies) < len(sent_at):
            try:
                dgram = sock.recv(65536)
            except socket.timeout:
                if finished.is_set() and time.perf_counter() > last_send[0] + 5.0:
                    return
                continue
            now = time.perf_counter()
            msg = decode(dgram)
            rid = msg.params[0]
            if msg.address == "/semeq/reply/json" and rid in sent_at and rid not in latencies:
                latencies[rid] = (now - sent_at[rid]) * 1000.0

    last_send = [time.perf_counter()]
    messages = [request_message({"op": "eq", "id": f"L{i}", "text": WORDS[i % len(WORDS)]}, reply="json") for i in range(n)]
    receiver = threading.Thread(target=receive)
    receiver.start()
    start = time.perf_counter() + 0.05
    i = 0
    while i < n:
        now = time.perf_counter()
        while i < n and start + i / rate_per_s <= now:  # everything due: send it
            sent_at[f"L{i}"] = start + i / rate_per_s
            sock.send(messages[i])
            i += 1
        time.sleep(0.0002)  # short naps keep the schedule within ~0.3 ms and free the GIL
    last_send[0] = time.perf_counter()
    achieved = n / (last_send[0] - start)
    finished.set()
    receiver.join()
    sock.close()
    return list(latencies.values()), n - len(latencies), achieved


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

    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    say(f"bench_osc  {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    say(f"machine: {machine()}")
    say(f"command: python -m benchmarks.bench_osc --requests {args.requests} --rate {args.rate:g} --starts {args.starts}")
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp) / "home")
        try:
            say(f"server: semeq serve --no-watch on udp 127.0.0.1:{port} (separate process)")
            sequential(port, "eq", 200)  # warm-up (model, caches)
            ping, ping_failed = sequential(port, "ping", args.requests)
            eq, eq_failed = sequential(port, "eq", args.requests)
            say()
            say(f"1. warm client, sequential, {args.requests} requests each (ms)")
            say(f"   {'':6} {'p50':>8} {'p99':>8} {'max':>8} {'failed':>7}")
            for name, t, f in (("ping", ping, ping_failed), ("eq", eq, eq_failed)):
                say(f"   {name:6} {percentile(t, 50):8.3f} {percentile(t, 99):8.3f} {max(t):8.3f} {f:7d}")
            say(f"   eq / ping (the model and answer building over pure transport): "
                f"p50 x{percentile(eq, 50) / percentile(ping, 50):.1f}, p99 x{percentile(eq, 99) / percentile(ping, 99):.1f}")
            say(f"   goal p99 < 5 ms: {'met' if percentile(eq, 99) < 5.0 else 'NOT met'}")

            lat, lost, achieved = offered_load(port, args.requests, args.rate)
            say()
            say(f"2. offered load: {args.requests} eq requests at {args.rate:g}/s (achieved send rate {achieved:.0f}/s)")
            if lat:
                say(f"   latency from scheduled send (ms): p50 {percentile(lat, 50):.3f}  p99 {percentile(lat, 99):.3f}  max {max(lat):.3f}")
            say(f"   lost replies: {lost}")

            python = timed_runs([sys.executable, "-c", "pass"], args.starts)
            send = timed_runs([sys.executable, "-m", "daw_bridge", "send", "--port", str(port), "eq", "warmer"], args.starts)
            torch = timed_runs([sys.executable, "-c", "import torch"], max(3, args.starts // 4))
            say()
            say(f"3. client start-to-answer, one process per request (ms, median / p90 over runs)")
            say(f"   python -c pass          {statistics.median(python):8.1f} / {percentile(python, 90):8.1f}  ({len(python)} runs)")
            say(f"   semeq send eq warmer    {statistics.median(send):8.1f} / {percentile(send, 90):8.1f}  ({len(send)} runs)")
            say(f"   python -c 'import torch'{statistics.median(torch):8.1f} / {percentile(torch, 90):8.1f}  ({len(torch)} runs)")
            say(f"   semeq send / bare interpreter: x{statistics.median(send) / statistics.median(python):.1f}; "
                f"import torch alone / semeq send: x{statistics.median(torch) / statistics.median(send):.1f}")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = args.out.with_suffix(args.out.suffix + ".tmp")
        tmp_out.write_text("\n".join(lines) + "\n")
        os.replace(tmp_out, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
