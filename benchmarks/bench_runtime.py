"""The light runtime: cold start, server start and memory, numpy vs torch inference, OSC under load.

Prints, each figure beside its peer in the same run:

1. Cold start, one process per run, alternating (median / p90 over K runs, ms): ``python -c pass``,
   ``python -c "import numpy"`` and ``semeq eq warmer``; the ratio of ``semeq eq warmer`` to the bare
   interpreter + numpy import (goal: <= 400 ms and <= 3x); which heavy modules ``semeq eq warmer``
   loaded (goal: none of torch, scipy.signal, matplotlib, sentence_transformers).
2. ``semeq serve --no-watch`` and ``semeq serve`` (with the watch folder): time from start to the
   ready line (median over starts; goal <= 1 s) and resident memory after it, and of the server
   used for point 4 after its load (goal <= 200 MB; the sentence-embedding fallback loads on the
   first unknown word and is not counted).
3. Inference, torch (the training networks) vs the numpy runtime (the exported arrays): one word at a
   time as answers decode, the whole vocabulary in one batch, and from a cold process (import +
   load + one decode); the largest difference over every vocabulary word. Needs the ``train`` extra.
4. OSC, uncached ``eq`` (a new intensity every request) at an offered rate (default 1,000/s for 10 s;
   goal: 0 busy, 0 lost, p99 <= 2 ms from each request's scheduled send), ``--osc-runs`` times (the
   machine is shared: the spread over runs is part of the figure), each right after ``ping`` at the
   same rate (the peer: the transport and the machine's noise alone), each with the server's CPU time
   per request (user and system, from /proc: less noisy than latency), the server's own time from
   reading a request to answering it (from its log: one line per request, 0.1 ms steps) and the CPU
   the machine's other processes used meanwhile (cores busy, from /proc/stat); repeated phrases at the same rate,
   and a warm sequential client (p50 / p99) with ``ping`` as the transport's peer; then the first
   unknown word (it loads the sentence-embedding fallback) and the memory after it. With ``--pin``
   (Linux), every run is made twice in turn: as above, and with this client on one CPU and the
   server on the other (``sched_setaffinity``), as on a machine where the DAW and the server do not
   share a core; both figures are printed, the unpinned first.

    python -m benchmarks.bench_runtime [--starts 15] [--requests 10000] [--rate 1000] [--osc-runs 5] [--osc-only] [--pin] [--out FILE]

The output (also written to ``--out``) states the date and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from daw_bridge.cli import BLAS_THREADS

for _name, _value in BLAS_THREADS.items():  # as in every semeq process, before numpy loads
    os.environ.setdefault(_name, _value)

from benchmarks.bench_osc import offered_load, percentile, sequential  # noqa: E402
from benchmarks.server import rss_mb, set_affinity, start_server  # noqa: E402
from benchmarks.machine import Report  # noqa: E402
from daw_bridge.client import Client  # noqa: E402

HEAVY = ("torch", "scipy.signal", "matplotlib", "sentence_transformers")
GOAL_COLD_MS, GOAL_RATIO, GOAL_READY_S, GOAL_RSS_MB, GOAL_P99_MS = 400.0, 3.0, 1.0, 200.0, 2.0


def semeq_command() -> list[str]:
    """The installed ``semeq`` launcher beside this interpreter, else ``python -m daw_bridge``."""
    script = Path(sys.executable).parent / "semeq"
    return [str(script)] if script.exists() else [sys.executable, "-m", "daw_bridge"]


def cold_starts(commands: dict[str, list[str]], k: int) -> dict[str, list[float]]:
    """Wall time (ms) of each command, run k times in turn (so load changes hit all alike)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(k):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True)
            times[name].append((time.perf_counter() - t0) * 1000.0)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed ({done.returncode}): {done.stderr[-1000:]}")
    return times


def heavy_modules_of_eq() -> list[str]:
    """The heavy modules a ``semeq eq warmer`` process has loaded when it is done."""
    code = ("import json, sys; from daw_bridge.cli import main; main(['eq', 'warmer']); "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])




def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process so far (s, all its threads), from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all processes have used so far (s, every core: user, nice, system, irq, softirq,
    steal), from /proc/stat (Linux)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measured_load(port: int, pid: int, n: int, rate: float, cached: bool, op: str = "eq", first: int = 0) -> dict:
    """One offered-load run with the server's CPU (user, system: ms per request) and the cores the
    machine's other processes kept busy meanwhile (all but the server and this benchmark)."""
    server0, me0, machine0, t0 = cpu_seconds(pid), os.times(), machine_busy_seconds(), time.perf_counter()
    lat, errors, lost, achieved = offered_load(port, n, rate, cached, op, first)
    server1, me1, machine1, t1 = cpu_seconds(pid), os.times(), machine_busy_seconds(), time.perf_counter()
    user, system = ((b - a) * 1000.0 / n for a, b in zip(server0, server1))
    client = (me1.user + me1.system) - (me0.user + me0.system)
    ours = sum(server1) - sum(server0) + client
    others = max(0.0, (machine1 - machine0) - ours) / (t1 - t0)
    return {"lat": lat, "errors": errors, "lost": lost, "achieved": achieved, "user_ms": user,
            "system_ms": system, "client_ms": client * 1000.0 / n, "others_cores": others,
            "p99": percentile(lat, 99) if lat else float("nan")}




def logged_ms(log: Path, id_prefix: str) -> list[float]:
    """Milliseconds from read to answer of the requests whose id is ``id_prefix`` + digits, in the
    order of the server's log lines (``eq id=U12 ok (0.4 ms)``)."""
    pattern = re.compile(rf" id={re.escape(id_prefix)}\d+ .*\((\d+(?:\.\d+)?) ms\)$")
    return [float(m.group(1)) for line in log.read_text().splitlines() if (m := pattern.search(line))]


def say_run(say, name: str, run: dict, goal_p99_ms: float | None) -> None:
    """Two lines for one offered-load run (with the goal's verdict when ``goal_p99_ms`` is given)."""
    errors, lat = run["errors"], run["lat"]
    busy, other = errors.get("busy", 0), sum(errors.values()) - errors.get("busy", 0)
    codes = {code: count for code, count in errors.items() if code != "busy"}
    say(f"   {name:28} sent {run['achieved']:5.0f}/s answers {len(lat)} busy {busy} other {other}{codes or ''} lost {run['lost']}"
        + (f"  p50 {percentile(lat, 50):.3f} p99 {run['p99']:.3f} max {max(lat):.3f}" if lat else ""))
    ok = not errors and run["lost"] == 0 and run["p99"] <= (goal_p99_ms or 0.0)
    say(f"   {'':28} server CPU {run['user_ms'] + run['system_ms']:.3f} (user {run['user_ms']:.3f}, system "
        f"{run['system_ms']:.3f}), client {run['client_ms']:.3f}; other processes kept {run['others_cores']:.2f} "
        f"of {os.cpu_count()} cores busy"
        + ("" if goal_p99_ms is None else f"; goal: {'met' if ok else 'NOT met'}"))


def say_summary(say, label: str, fresh_runs: list[dict], pings: list[dict], logged: list[list[float]]) -> None:
    """The uncached eq runs of one mode (unpinned or pinned) over all runs, beside their ping peers."""
    p99s = sorted(run["p99"] for run in fresh_runs)
    met = sum(1 for run in fresh_runs if not run["errors"] and run["lost"] == 0 and run["p99"] <= GOAL_P99_MS)
    cpu = statistics.median(run["user_ms"] + run["system_ms"] for run in fresh_runs)
    client = statistics.median(run["client_ms"] for run in fresh_runs)
    say(f"   {label}: eq never cached over {len(fresh_runs)} runs: p99 median {statistics.median(p99s):.3f}, best "
        f"{p99s[0]:.3f}, worst {p99s[-1]:.3f}; busy {sum(sum(r['errors'].values()) for r in fresh_runs)}, lost "
        f"{sum(r['lost'] for r in fresh_runs)}; server CPU median {cpu:.3f} ms per request (one free core answers "
        f"about {1000.0 / cpu:.0f}/s), client {client:.3f}")
    flat = [ms for chunk in logged for ms in chunk]
    if flat:
        say(f"   {label}: eq never cached, server's own time from read to answer (its log): p50 {percentile(flat, 50):.1f} "
            f"p99 {percentile(flat, 99):.1f} max {max(flat):.1f}; p99 per run "
            + ", ".join(f"{percentile(c, 99):.1f}" for c in logged))
    ping_p99s = sorted(run["p99"] for run in pings)
    say(f"   {label}: ping (peer) over {len(pings)} runs: p99 median {statistics.median(ping_p99s):.3f}, best "
        f"{ping_p99s[0]:.3f}, worst {ping_p99s[-1]:.3f}")
    say(f"   {label}: goal 0 busy, 0 lost, p99 <= {GOAL_P99_MS:g} ms: met in {met} of {len(fresh_runs)} runs")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def inference(say, cold_runs: int) -> None:
    """Point 3: torch vs the numpy runtime on the shipped model."""
    try:
        import torch
    except ImportError:
        say("   torch is not installed (pip install '.[train]'): nothing to compare")
        return
    import numpy as np

    from daw_bridge.semantic import models_dir
    from daw_bridge.semantic.net import SemanticNet, denormalise
    from daw_bridge.semantic.runtime import ARRAYS_FILE, NumpyNet

    torch.set_num_threads(1)
    folder = models_dir()
    blob = torch.load(folder / "semantic.pt", map_location="cpu", weights_only=True)
    net = SemanticNet(len(blob["terms"]), blob["latent_dim"], blob["hidden"])
    net.load_state_dict(blob["state_dict"])
    net.eval()
    runtime = NumpyNet.load(folder / ARRAYS_FILE)
    latents = runtime.latents
    z32 = torch.tensor(latents, dtype=torch.float32)

    def torch_one(i: int) -> np.ndarray:
        with torch.no_grad():
            return denormalise(net.decode(z32[i:i + 1]).double())[0].numpy()

    def best_of(fn, repeats: int = 5) -> float:
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    n = len(latents)
    t_one = best_of(lambda: [torch_one(i) for i in range(n)]) / n * 1e6
    r_one = best_of(lambda: [runtime.decode_params(latents[i:i + 1]) for i in range(n)]) / n * 1e6
    with torch.no_grad():
        t_all = best_of(lambda: denormalise(net.decode(z32).double()).numpy()) * 1e3
        want = denormalise(net.decode(z32).double()).numpy()
        diff = np.abs(want - runtime.decode_params(latents)) / np.maximum(np.abs(want), 1.0)
    r_all = best_of(lambda: runtime.decode_params(latents)) * 1e3
    say(f"   one word at a time ({n} words, us per word):  torch {t_one:8.1f}   numpy {r_one:8.1f}   "
        f"torch / numpy x{t_one / r_one:.1f}")
    say(f"   whole vocabulary in one batch (ms):          torch {t_all:8.2f}   numpy {r_all:8.2f}   "
        f"torch / numpy x{t_all / r_all:.1f}")
    with torch.no_grad():
        norm_diff = np.abs(runtime.decode(latents) - net.decode(z32).double().numpy()).max()
    say(f"   largest difference over every word: {norm_diff:.1e} in normalised outputs, {diff.max():.1e} relative "
        "in dB / Hz / Q (test tolerance 1e-5)")
    pt, npz = str(folder / "semantic.pt"), str(folder / ARRAYS_FILE)
    cold = cold_starts({
        "torch": [sys.executable, "-c", (
            "import torch; from daw_bridge.semantic.net import SemanticNet\n"
            f"b = torch.load({pt!r}, map_location='cpu', weights_only=True)\n"
            "n = SemanticNet(len(b['terms']), b['latent_dim'], b['hidden']); n.load_state_dict(b['state_dict'])\n"
            "with torch.no_grad(): n.decode(n.terms.weight[:1])")],
        "numpy": [sys.executable, "-c", (
            "from daw_bridge.semantic.runtime import NumpyNet\n"
            f"r = NumpyNet.load({npz!r}); r.decode(r.latents[:1])")],
    }, cold_runs)
    t, r = statistics.median(cold["torch"]), statistics.median(cold["numpy"])
    say(f"   cold process, import + load + one decode (ms, median of {cold_runs}): torch {t:8.0f}   numpy {r:8.0f}   "
        f"torch / numpy x{t / r:.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=15, help="cold starts per command (default 15)")
    parser.add_argument("--requests", type=int, default=10_000, help="requests of the offered load (default 10,000)")
    parser.add_argument("--rate", type=float, default=1000.0, help="offered requests per second (default 1,000)")
    parser.add_argument("--osc-runs", type=int, default=5, help="offered-load runs of the uncached eq (default 5)")
    parser.add_argument("--osc-only", action="store_true", help="point 4 only (e.g. again when the machine is quiet)")
    parser.add_argument("--pin", action="store_true",
                        help="point 4 also with the client on CPU 0 and the server on CPU 1 (Linux; both figures printed)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()
    say = report.say
    report.header("bench_runtime", f"python -m benchmarks.bench_runtime --starts {args.starts} --requests {args.requests} "
                  f"--rate {args.rate:g} --osc-runs {args.osc_runs}{' --osc-only' if args.osc_only else ''}"
                  f"{' --pin' if args.pin else ''}")

    semeq = semeq_command()
    if not args.osc_only:
        say()
        say(f"1. cold start, {args.starts} runs each, alternating (ms: median / p90)")
        runs = cold_starts({
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
            "semeq eq warmer": [*semeq, "eq", "warmer"],
        }, args.starts)
        for name, t in runs.items():
            say(f"   {name:26} {statistics.median(t):8.1f} / {percentile(t, 90):8.1f}")
        eq_ms, numpy_ms = statistics.median(runs["semeq eq warmer"]), statistics.median(runs["python -c 'import numpy'"])
        say(f"   semeq eq warmer / (python + import numpy): x{eq_ms / numpy_ms:.2f}   "
            f"goal <= {GOAL_COLD_MS:.0f} ms and <= x{GOAL_RATIO:g}: "
            f"{'met' if eq_ms <= GOAL_COLD_MS and eq_ms / numpy_ms <= GOAL_RATIO else 'NOT met'}")
        heavy = heavy_modules_of_eq()
        say(f"   heavy modules loaded by semeq eq warmer: {', '.join(heavy) if heavy else 'none'} (of {', '.join(HEAVY)})")

    with tempfile.TemporaryDirectory() as tmp:
        if not args.osc_only:
            say()
            say("2. semeq serve: start to ready line (s, median of 5 starts) and resident memory after it (MB)")
            for watch in (False, True):
                ready, rss = [], []
                for _ in range(5):
                    proc, _, seconds = start_server(Path(tmp) / "home", *([] if watch else ["--no-watch"]),
                                                    command=semeq_command())
                    time.sleep(0.5)
                    rss.append(rss_mb(proc.pid)[0])
                    ready.append(seconds)
                    stop(proc)
                name = "semeq serve" if watch else "semeq serve --no-watch"
                say(f"   {name:24} ready {statistics.median(ready):6.3f} s (max {max(ready):.3f})   "
                    f"RSS {statistics.median(rss):6.1f} MB")

            say()
            say("3. inference: torch (training networks) vs numpy runtime (exported arrays), one thread")
            inference(say, max(3, args.starts // 3))

        log = Path(tmp) / "serve.log"
        proc, port, _ = start_server(Path(tmp) / "home", "--no-watch", log=log, command=semeq_command())
        try:
            sequential(port, "eq", 300)  # warm-up: first-call costs
            say()
            say(f"4. OSC, semeq serve --no-watch (separate process), {args.requests} requests at {args.rate:g}/s offered "
                f"(latency in ms from each request's scheduled send; CPU in ms per request)")
            modes = [("", None)] + ([(", pinned", ({0}, {1}))] if args.pin else [])
            if args.pin:
                say("   pinned: this client (sender and receiver) on CPU 0, every server thread on CPU 1; other "
                    "processes may still run on both")
            pings: dict[str, list] = {mode: [] for mode, _ in modes}
            fresh: dict[str, list] = {mode: [] for mode, _ in modes}
            everywhere = os.sched_getaffinity(0)
            for i in range(args.osc_runs):
                for k, (mode, cpus) in enumerate(modes):
                    set_affinity(os.getpid(), everywhere if cpus is None else cpus[0])
                    set_affinity(proc.pid, everywhere if cpus is None else cpus[1])
                    pings[mode].append(measured_load(port, proc.pid, args.requests, args.rate, False, op="ping"))
                    fresh[mode].append(measured_load(port, proc.pid, args.requests, args.rate, False,
                                                     first=(i * len(modes) + k) * args.requests))
                    say_run(say, f"ping (peer), run {i + 1}{mode}", pings[mode][-1], None)
                    say_run(say, f"eq never cached, run {i + 1}{mode}", fresh[mode][-1], GOAL_P99_MS)
            set_affinity(os.getpid(), everywhere)
            set_affinity(proc.pid, everywhere)
            say_run(say, "eq repeated phrases", measured_load(port, proc.pid, args.requests, args.rate, True), None)
            time.sleep(0.3)  # the server writes its log every 50 ms
            logged = logged_ms(log, "U")  # runs in the order made: run 1 of each mode, run 2 of each mode, ...
            for k, (mode, _) in enumerate(modes):
                chunks = [logged[(i * len(modes) + k) * args.requests:(i * len(modes) + k + 1) * args.requests]
                          for i in range(args.osc_runs)]
                say_summary(say, mode.lstrip(", ") or "unpinned", fresh[mode], pings[mode], [c for c in chunks if c])
            n = min(args.requests, 3000)
            ping, _ = sequential(port, "ping", n)
            fresh, failed = sequential(port, "eq", n, cached=False)
            say(f"   warm sequential client, {n} each (ms): ping p50 {percentile(ping, 50):.3f} p99 {percentile(ping, 99):.3f}; "
                f"eq never cached p50 {percentile(fresh, 50):.3f} p99 {percentile(fresh, 99):.3f} (failed {failed})")
            rss, peak = rss_mb(proc.pid)
            say(f"   server memory after the load: RSS {rss:.1f} MB, peak {peak:.1f} MB   goal <= {GOAL_RSS_MB:.0f} MB: "
                f"{'met' if peak <= GOAL_RSS_MB else 'NOT met'}")
            with Client(port=port, timeout_s=60.0) as client:
                t0 = time.perf_counter()
                answer = client.request("eq", text="cozier")
                first = time.perf_counter() - t0
                t0 = time.perf_counter()
                client.request("eq", text="cozy")
                second = time.perf_counter() - t0
            rss, peak = rss_mb(proc.pid)
            if answer.get("ok"):
                say(f"   first unknown word (loads the sentence-embedding fallback): {first:.2f} s, the next {1000 * second:.0f} ms; "
                    f"then RSS {rss:.1f} MB, peak {peak:.1f} MB")
            else:
                say(f"   unknown words: {answer.get('code')} (the embeddings extra is not installed)")
        finally:
            stop(proc)
    say(f"load average at the end (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    report.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
