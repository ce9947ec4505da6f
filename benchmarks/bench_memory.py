"""Memory: does peak memory grow with a file's length, and does a running server's memory creep?

1. **Peak per file length.** Real music (Debian's ``drascula-music``, fetched by
   :mod:`benchmarks.debian_music`) looped into 16-bit stereo WAV files of each length (default
   3 min, 30 min, 3 h at 44.1 kHz). Each job runs in a fresh process and prints its peak resident
   memory (``ru_maxrss``): importing the package only (the floor), ``semeq apply``'s render
   (:func:`daw_bridge.audio.render_file`), and the analysis (:func:`daw_bridge.analysis.analyze_file`).
   The issue's bar: a 3-hour file within 300 MB of a 3-minute one.
2. **Server soak.** ``semeq serve`` in a subprocess; 1,000 mixed requests (ping, status, eq with
   words, analyze/adapt/suggest on short files, malformed requests), then analyze/adapt requests on
   20 long files. The server's resident memory (``/proc/PID/status`` VmRSS) is printed every 100
   requests and after each long file. The bar: after the 20 long files within 50 MB of its size
   after the first.

    python -m benchmarks.bench_memory [--lengths-min 3 30 180] [--long-min 10] [--long-files 20]
        [--requests 1000] [--out benchmarks/results/bench_memory.txt]
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.debian_music import fetch_packages
from benchmarks.server import rss_mb, start_server  # noqa: E402
from benchmarks.machine import Report, describe, utc_now

PACKAGE = "drascula-music"
RATE_HZ = 44100
_CHILD = {
    "import only": "import daw_bridge.audio, daw_bridge.analysis, daw_bridge.eq",
    "render (semeq apply)": (
        "from daw_bridge.audio import render_file; from daw_bridge.eq import EQParams; "
        "p = EQParams.from_dict({**EQParams.flat().to_dict(), 'low_shelf_gain_db': 4.0, 'peak2_gain_db': 3.0}); "
        "render_file(sys.argv[1], sys.argv[2], p, force=True)"
    ),
    "analysis (analyze_file)": "from daw_bridge.analysis import analyze_file; analyze_file(sys.argv[1])",
}


def looped_wav(tracks: list[Path], minutes: float, out: Path) -> Path:
    """A 16-bit stereo WAV of ``minutes`` made of the tracks played in turn (written in blocks)."""
    if out.exists() and abs(sf.info(str(out)).duration - minutes * 60) < 1:
        return out
    need = int(minutes * 60 * RATE_HZ)
    with sf.SoundFile(str(out), "w", RATE_HZ, 2, "PCM_16") as w:
        while need > 0:
            for track in tracks:
                with sf.SoundFile(str(track)) as f:
                    if f.samplerate != RATE_HZ:
                        continue
                    for block in f.blocks(1 << 16, dtype="float32", always_2d=True):
                        block = block[:need, :2] if block.shape[1] >= 2 else np.repeat(block[:need], 2, axis=1)
                        w.write(block)
                        need -= block.shape[0]
                        if need <= 0:
                            return out
    return out


def peak_rss_mb(job: str, *args: str) -> tuple[float, float]:
    """Run one job in a fresh process; its peak resident memory (MB) and wall time (s)."""
    code = f"import resource, sys\n{_CHILD[job]}\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{job} failed: {done.stderr[-2000:]}")
    return int(done.stdout.split()[-1]) / 1024.0, time.monotonic() - start






def soak(report: Report, tracks: list[Path], work: Path, requests: int, long_files: int, long_min: float) -> None:
    from daw_bridge.client import Client, ClientError
    from daw_bridge.wire import decode
    from tests.malformed import malformed_datagram

    home = work / "home"
    renders = home / "renders"
    renders.mkdir(parents=True, exist_ok=True)
    short = [looped_wav(tracks[i % len(tracks) :], 0.25 + 0.1 * i, renders / f"short{i}.wav") for i in range(5)]
    bases = [looped_wav(tracks[i % len(tracks) :], long_min, work / f"long-base{i}.wav") for i in range(min(long_files, 4))]
    longs = []  # distinct files (the service keeps the analyses of files it has just read)
    for i in range(long_files):
        longs.append(renders / f"long{i}.wav")
        if not longs[-1].exists():
            shutil.copyfile(bases[i % len(bases)], longs[-1])
    proc, port, _ = start_server(home, "--no-watch", "--request-timeout", "600")
    rng = random.Random(7)
    words = ["warmer", "brighter", "less muddy", "a bit less harsh", "clearer", "fuller", "airy", "xyzzy"]
    curve = [("started", rss_mb(proc.pid)[0])]
    outcomes: dict[str, int] = {}
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.bind(("127.0.0.1", 0))
    raw.settimeout(30)
    try:
        with Client("127.0.0.1", port, timeout_s=600) as client:
            for i in range(1, requests + 1):
                if i % 100 == 1 and i > 1:
                    curve.append((f"{i - 1} requests", rss_mb(proc.pid)[0]))
                kind = rng.random()
                try:
                    if kind < 0.1:
                        client.request("ping")
                    elif kind < 0.15:
                        client.request("status")
                    elif kind < 0.6:
                        client.request("eq", text=rng.choice(words), intensity=rng.uniform(-2, 2))
                    elif kind < 0.85:
                        op = rng.choice(["analyze", "adapt", "suggest"])
                        fields = {"text": rng.choice(words)} if op == "adapt" else {}
                        client.request(op, path=str(rng.choice(short)), **fields)
                    else:  # a malformed request as a raw datagram (tests/malformed.py): one error reply
                        dgram, _, _ = malformed_datagram(rng, str(home))
                        raw.sendto(dgram, ("127.0.0.1", port))
                        code = decode(raw.recv(65536)).params[1]
                        outcomes[f"malformed {code}"] = outcomes.get(f"malformed {code}", 0) + 1
                        continue
                    outcomes["ok"] = outcomes.get("ok", 0) + 1
                except ClientError as exc:
                    key = getattr(exc, "answer", {}).get("code", type(exc).__name__)
                    outcomes[key] = outcomes.get(key, 0) + 1
            curve.append((f"{requests} requests", rss_mb(proc.pid)[0]))
            for j in range(long_files):
                op = "analyze" if j % 2 == 0 else "adapt"
                fields = {"text": "warmer"} if op == "adapt" else {}
                try:
                    client.request(op, path=str(longs[j]), **fields)
                except ClientError as exc:
                    outcomes[f"long {type(exc).__name__}"] = outcomes.get(f"long {type(exc).__name__}", 0) + 1
                curve.append((f"long file {j + 1} ({long_min:g} min)", rss_mb(proc.pid)[0]))
    finally:
        raw.close()
        proc.terminate()
        proc.wait(10)
    report.say(f"answers: {dict(sorted(outcomes.items()))}")
    for label, mb in curve:
        report.say(f"  {label:28s} {mb:8.0f} MB")
    after_first = next(mb for label, mb in curve if label.startswith("long file 1 "))
    report.say(f"growth from after the first long file to the end: {curve[-1][1] - after_first:+.0f} MB (bar: within 50 MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths-min", type=float, nargs="+", default=[3.0, 30.0, 180.0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--long-files", type=int, default=20)
    parser.add_argument("--long-min", type=float, default=10.0)
    parser.add_argument("--jobs", nargs="+", choices=["import", "render", "analysis"], default=["import", "render", "analysis"],
                        help="which per-length jobs to run (an analysis that is not streamed needs about 20 bytes per sample)")
    parser.add_argument("--skip-lengths", action="store_true")
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated WAV files (kept)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()
    report.say(f"Memory benchmark, {utc_now()}")
    report.say(f"machine: {describe()}")
    tracks = fetch_packages([PACKAGE])[PACKAGE]
    work = args.work or Path(tempfile.mkdtemp(prefix="semeq-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.skip_lengths:
        report.say("peak resident memory per file length (fresh process per job; 16-bit stereo WAV, 44.1 kHz):")
        report.say(f"  {'job':26s} " + " ".join(f"{m:>10g} min" for m in args.lengths_min))
        files = [looped_wav(tracks, m, work / f"len{m:g}.wav") for m in args.lengths_min]
        for job in (j for j in _CHILD if j.split()[0] in args.jobs):
            cells = []
            for m, f in zip(args.lengths_min, files):
                args_ = (str(f), str(work / f"out{m:g}.wav")) if job.startswith("render") else (str(f),)
                mb, s = peak_rss_mb(job, *args_)
                cells.append(f"{mb:7.0f} MB ({s:5.0f} s)")
                (work / f"out{m:g}.wav").unlink(missing_ok=True)
            report.say(f"  {job:26s} " + " ".join(cells))
    if not args.skip_soak:
        report.say(f"server soak: {args.requests} mixed requests, then {args.long_files} files of {args.long_min:g} min:")
        soak(report, tracks, work, args.requests, args.long_files, args.long_min)
    report.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
