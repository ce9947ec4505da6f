"""Watch folder: 200 short real-music files dropped at once into a running watcher; all processed?

The watcher runs as ``semeq serve`` runs it: in this process, on the real :class:`Service` (model
loaded before the clock starts), started with :func:`daw_bridge.watch.start_watcher`. The files are
excerpts of real music (Debian's ``drascula-music``, fetched by :mod:`benchmarks.debian_music`),
written as 16-bit WAV into a staging folder on the same file system and then renamed into the inbox
in one burst: a third into ``inbox/warmer/``, a third with a sidecar ``{"text": "a bit less
harsh"}``, a third with nothing (auto-suggest at strength 0.5).

Printed: files per minute from the first drop to the last file finished, how many ended in
``done/`` and ``failed/``, and the checks that none was lost or doubled (every input exactly once in
``done/``/``failed/`` and byte-identical, one complete output set per success, nothing left in the
inbox or its journal). Beside it, the peer run on the same files in the same process: a plain
sequential loop that asks the service for the same decision and renders with
:func:`daw_bridge.audio.render_file` (what a user's own script would do: no settle wait, no journal,
no measured "after", no plot, no ReaScript), and the ratio.

    python -m benchmarks.bench_watch [--files 200] [--seconds 5] [--out benchmarks/results/bench_watch.txt]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from benchmarks.machine import Report
from benchmarks.debian_music import fetch_packages

PACKAGE = "drascula-music"
SIDECAR = {"text": "a bit less harsh"}
WORDS_FOLDER = "warmer"


def make_excerpts(tracks: list[Path], n: int, seconds: float, folder: Path) -> list[Path]:
    """``n`` excerpts of ``seconds`` from the tracks in turn, at offsets that walk through each track."""
    folder.mkdir(parents=True, exist_ok=True)
    usable = [t for t in tracks if sf.info(str(t)).duration >= seconds + 1]
    if not usable:
        raise SystemExit(f"no track of {PACKAGE} is longer than {seconds + 1:g} s")
    paths = []
    for i in range(n):
        track = usable[i % len(usable)]
        info = sf.info(str(track))
        frames = int(seconds * info.samplerate)
        span = max(1, info.frames - frames)
        start = (i // len(usable) * 7 * info.samplerate) % span
        samples, sr = sf.read(str(track), start=start, frames=frames, always_2d=True)
        path = folder / f"clip{i:03d}.wav"
        sf.write(str(path), samples, sr, subtype="PCM_16")
        paths.append(path)
    return paths


def drop_plan(clips: list[Path]) -> list[tuple[Path, str, dict | None]]:
    """(clip, inbox-relative destination, sidecar or None) for each clip: words folder, sidecar, nothing."""
    plan = []
    for i, clip in enumerate(clips):
        kind = i % 3
        if kind == 0:
            plan.append((clip, f"{WORDS_FOLDER}/{clip.name}", None))
        elif kind == 1:
            plan.append((clip, clip.name, SIDECAR))
        else:
            plan.append((clip, clip.name, None))
    return plan


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_watcher(service, home: Path, plan, say) -> dict:
    from daw_bridge.watch import PROCESSING_DIR, start_watcher

    inbox = home / "inbox"
    (inbox / WORDS_FOLDER).mkdir(parents=True, exist_ok=True)
    expected = {dest: digest(clip) for clip, dest, _ in plan}
    lines: list[str] = []
    handle = start_watcher(service, home, log=lines.append)
    watcher = handle.watcher
    try:
        t0 = time.perf_counter()
        for clip, dest, sidecar in plan:  # the burst: sidecars first, then the audio, all renames
            if sidecar is not None:
                tmp = clip.with_suffix(".json.tmp")
                tmp.write_text(json.dumps(sidecar))
                os.rename(tmp, inbox / Path(dest).with_suffix(".json"))
            os.rename(clip, inbox / dest)
        t_dropped = time.perf_counter() - t0
        deadline = time.monotonic() + 3600
        while len(watcher.results) < len(plan) and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
    finally:
        handle.stop()
    results = list(watcher.results)

    # checks: every input exactly once in done/ or failed/, byte-identical; one output set per success
    placed: dict[str, str] = {}
    doubles = []
    for folder in ("done", "failed"):
        for p in (home / folder).rglob("*.wav"):
            rel = str(p.relative_to(home / folder))
            if rel in placed:
                doubles.append(rel)
            placed[rel] = digest(p)
    lost = sorted(set(expected) - set(placed))
    changed = sorted(k for k in expected if k in placed and placed[k] != expected[k])
    records = [json.loads(p.read_text()) for p in (home / "outbox").glob("*.json")]
    incomplete = [r["input"] for r in records if not all((home / "outbox" / o).is_file() for o in r["outputs"])]
    per_input: dict[str, int] = {}
    for r in records:
        per_input[r["input"]] = per_input.get(r["input"], 0) + 1
    done = sum(r.status == "done" for r in results)
    left = [p for p in inbox.rglob("*") if p.is_file() and PROCESSING_DIR not in p.parts]
    journal = list((inbox / PROCESSING_DIR).iterdir())
    failures = [f"{r.source}: {r.message}" for r in results if r.status != "done"]
    from daw_bridge.watch import STAGES

    stage_means = {name: sum(r.stages_s.get(name, 0.0) for r in results) / max(1, done) for name in STAGES}
    return {
        "elapsed_s": elapsed,
        "drop_s": t_dropped,
        "done": done,
        "failed": len(results) - done,
        "finished": len(results),
        "lost": lost,
        "doubles": doubles + sorted(k for k, v in per_input.items() if v > 1),
        "changed": changed,
        "output_sets": len(records),
        "incomplete_sets": incomplete,
        "left_in_inbox": len(left) + len(journal),
        "console_lines": sum(line.startswith("watch: done") or line.startswith("watch: FAILED") for line in lines),
        "failures": failures,
        "stage_means_s": stage_means,
    }


def run_peer(service, home: Path, plan) -> dict:
    """The same decisions and renders, one after the other, without the watcher."""
    from daw_bridge.audio import render_file
    from daw_bridge.eq import EQParams

    src, out = home / "inbox", home / "outbox"
    src.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, (clip, _, sidecar) in enumerate(plan):
        path = src / clip.name
        os.rename(clip, path)
        if sidecar is not None:
            request = {"op": "adapt", "text": sidecar["text"]}
        elif i % 3 == 0:
            request = {"op": "adapt", "text": WORDS_FOLDER}
        else:
            request = {"op": "suggest", "strength": 0.5}
        jobs.append((path, {**request, "id": f"peer{i}", "path": str(path)}))
    ok = 0
    t0 = time.perf_counter()
    for path, request in jobs:
        answer = service.handle(request)
        if answer.get("ok"):
            render_file(path, out / path.name, EQParams.from_dict(answer["params"]))
            ok += 1
    return {"elapsed_s": time.perf_counter() - t0, "done": ok}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each file (s)")
    parser.add_argument("--out", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args(argv)

    report = Report()
    say = report.say

    from daw_bridge.service import Service

    report.header("bench_watch")
    say(f"load average at start (1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
        "(other work on the machine slows both runs below alike)")
    tracks = fetch_packages([PACKAGE])[PACKAGE]
    with tempfile.TemporaryDirectory(prefix="semeq-bench-watch-") as tmp:
        tmp_path = Path(tmp)
        clips = make_excerpts(tracks, args.files, args.seconds, tmp_path / "staging")
        peer_clips = make_excerpts(tracks, args.files, args.seconds, tmp_path / "staging-peer")
        say(f"input: {args.files} excerpts of {args.seconds:g} s from {len(tracks)} tracks of {PACKAGE} "
            f"(16-bit WAV, {sf.info(str(clips[0])).samplerate} Hz, {sf.info(str(clips[0])).channels} ch); "
            f"1/3 in inbox/{WORDS_FOLDER}/, 1/3 with sidecar {json.dumps(SIDECAR)}, 1/3 bare (auto-suggest 0.5)")

        home = tmp_path / "home"
        service = Service(home)
        service.warm()
        from daw_bridge.watch import WatchConfig

        say(f"watcher: {WatchConfig().workers or 2} workers calling the synchronous service")
        w = run_watcher(service, home, drop_plan(clips), say)
        rate = w["finished"] / w["elapsed_s"] * 60
        say()
        say(f"watch folder: {args.files} files renamed into the inbox in {w['drop_s'] * 1000:.0f} ms")
        say(f"  finished {w['finished']}/{args.files} in {w['elapsed_s']:.1f} s: {rate:.1f} files/min "
            f"({w['done']} done, {w['failed']} failed)")
        say(f"  lost: {len(w['lost'])}  doubled: {len(w['doubles'])}  inputs changed: {len(w['changed'])}  "
            f"output sets: {w['output_sets']} (incomplete: {len(w['incomplete_sets'])})  "
            f"left in inbox/journal: {w['left_in_inbox']}  console result lines: {w['console_lines']}")
        say("  mean seconds per file and stage (one worker's view): " + ", ".join(
            f"{name} {secs:.2f}" for name, secs in w["stage_means_s"].items()))
        for line in w["failures"][:10]:
            say(f"  failed: {line}")
        service.close()

        peer_home = tmp_path / "peer"
        peer_service = Service(peer_home)
        peer_service.warm()
        p = run_peer(peer_service, peer_home, drop_plan(peer_clips))
        peer_service.close()
        peer_rate = p["done"] / p["elapsed_s"] * 60
        say()
        say(f"peer (same process, sequential service.handle + render_file, no watcher): {p['done']} files in "
            f"{p['elapsed_s']:.1f} s: {peer_rate:.1f} files/min")
        say(f"ratio watcher / peer (files per minute): {rate / peer_rate:.2f}  "
            "(the watcher also waits for files to settle, keeps a journal, measures each render, draws the plot "
            "and writes the ReaScript and the answer JSON)")
        ok = not (w["lost"] or w["doubles"] or w["changed"] or w["incomplete_sets"] or w["left_in_inbox"]) and w["finished"] == args.files
        say(f"none lost: {'yes' if ok else 'NO'}")
        say(f"load average at end (1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    report.save(args.out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
