"""Time ``semeq analyze`` on a 30-s stereo clip: cold start, warm, and a fresh server's first answers.

* cold: a new Python process that imports the analysis and analyses the clip file once (wall time of
  the whole process, as a user running ``semeq analyze`` pays it), and the same for ``semeq analyze``
  itself (the CLI through the request service);
* warm: ``analyze_file`` again in one process (best of :data:`REPEATS`);
* a fresh in-process service: its first ``analyze`` answer and its second on another file of the
  same length (nothing is trained or built at the first request; the issue asks first <= second + 0.5 s);
* peer in the same run: pyloudnorm measuring the integrated loudness alone on the same samples.

Run: ``python -m benchmarks.bench_analysis`` (the issue's limits: cold <= 2 s, warm <= 0.3 s).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from benchmarks.debian_music import fetch_packages
from benchmarks.machine import describe, utc_now

SECONDS = 30.0
REPEATS = 3


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _cold(code: str) -> float:
    return _timed(lambda: subprocess.run([sys.executable, "-c", code], check=True, capture_output=True))


def main() -> None:
    tracks = fetch_packages(["nexuiz-music"])["nexuiz-music"]
    longest = max(tracks, key=lambda p: sf.info(str(p)).frames)
    samples, rate = sf.read(str(longest), dtype="float32", always_2d=True)
    with tempfile.TemporaryDirectory() as tmp:
        clips = []
        for i, start_s in enumerate((30.0, 70.0)):
            clip = Path(tmp) / f"clip{i}.wav"
            start = int(start_s * rate)
            sf.write(str(clip), samples[start : start + int(SECONDS * rate)], rate, subtype="PCM_16")
            clips.append(clip)
        cold_lib = min(_cold(f"from daw_bridge.analysis import analyze_file; analyze_file({str(clips[0])!r})") for _ in range(2))
        cold_cli = min(_cold(f"import sys; from daw_bridge.cli import main; sys.argv=['semeq','analyze',{str(clips[0])!r}]; main()")
                       for _ in range(2))
        from daw_bridge.analysis import analyze_file

        analyze_file(clips[1])
        warm = min(_timed(lambda: analyze_file(clips[0])) for _ in range(REPEATS))
        first, second = _service_first_answers(clips, Path(tmp))
        import pyloudnorm

        x = sf.read(str(clips[0]), dtype="float64", always_2d=True)[0]
        meter = pyloudnorm.Meter(rate)
        peer = min(_timed(lambda: meter.integrated_loudness(x)) for _ in range(REPEATS))
    print(f"bench_analysis  {utc_now()}")
    print(f"machine: {describe()}")
    print(f"input: {SECONDS:g}-s stereo clips of {longest.name} at {rate} Hz (16-bit WAV)")
    print(f"cold start, new process importing the analysis and analysing once: {cold_lib:.2f} s (limit 2 s)")
    print(f"cold start, `semeq analyze` through the CLI and the service:        {cold_cli:.2f} s")
    print(f"warm analyze_file (read + analysis), best of {REPEATS}:                  {warm:.3f} s (limit 0.3 s)")
    print(f"fresh service: first analyze answer {first:.3f} s, second (another file) {second:.3f} s "
          f"(first - second = {first - second:+.3f} s, limit +0.5 s)")
    print(f"peer: pyloudnorm integrated loudness alone on the same clip: {peer:.3f} s "
          f"(ratio analysis / pyloudnorm {warm / peer:.2f})")


def _service_first_answers(clips: list[Path], home: Path) -> tuple[float, float]:
    from daw_bridge.paths import UNRESTRICTED
    from daw_bridge.service import Service

    service = Service(home / "home", paths=UNRESTRICTED)
    try:
        first = _timed(lambda: service.handle({"op": "analyze", "id": "1", "path": str(clips[0])}))
        second = _timed(lambda: service.handle({"op": "analyze", "id": "2", "path": str(clips[1])}))
    finally:
        service.close()
    return first, second


if __name__ == "__main__":
    main()
