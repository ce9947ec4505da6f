"""What a processed file leaves in ``outbox/`` (``<words>`` is a file-name-safe slug: ``warmer``,
``a-bit-less-harsh``, ``warmer-x0.5``, ``warmer-fixed``, ``suggest-50``):

- ``song.<words>.wav``: the render, same format, sample rate and bit depth as the input,
  loudness-matched and true-peak safe (the service's ``render`` op: the watch folder renders nothing
  itself);
- ``song.<words>.json``: the service's answer JSON (``docs/architecture.md``) with the watch
  folder's members added: ``analysis_before`` and ``analysis_after`` (the full ``analyze`` answers
  of the input and of the render), ``render`` (loudness and true peak in and out, gain, limiter),
  ``input``, ``request`` and ``outputs``;
- ``song.<words>.png``: the EQ curve over the track's spectrum; ``song.<words>.lua``: a ReaScript
  that puts this EQ on ReaEQ (:mod:`daw_bridge.artifacts`).

Each file is analysed once (the service keeps the analysis of a file it has just read) and its
render once. Everything is staged in the job folder; all but the answer is renamed into ``outbox/``
here, the answer after the input has moved (see :mod:`daw_bridge.watch.watcher`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

from daw_bridge.watch.journal import Job, Step
from daw_bridge.watch.request import WatchError

#: Files at least this long (s of audio) get a progress line per stage besides their result line.
LONG_FILE_S = 30.0
#: Stages of one file, in order (for the progress bar of long files).
STAGES = ("deciding the EQ", "rendering", "measuring the result", "writing plot and ReaScript", "moving into outbox")
#: Suffixes of the non-audio outputs, in the order they are moved into ``outbox/`` (json last).
ARTIFACT_SUFFIXES = (".png", ".lua", ".json")

Ask = Callable[[dict], dict]


def output_names(job: Job) -> list[str]:
    """The output file names of ``job`` in ``outbox/``: render first, answer last."""
    return [f"{job.output}{s}" for s in (job.suffix, *ARTIFACT_SUFFIXES)]


def analysis_of(answer: dict) -> dict:
    """An ``analyze`` answer without the envelope members (ok, op, id, path)."""
    return {k: v for k, v in answer.items() if k not in ("ok", "op", "id", "path")}


def make_outputs(ask: Ask, job: Job, job_dir: Path, outbox: Path, bar: Callable[[int], None],
                 step: Callable[[Step], None]) -> dict[str, float]:
    """Decide, render, measure, draw; stage everything in the job folder and move all but the answer
    into ``outbox/``. ``ask`` answers service requests (raising on errors); ``bar(k)`` shows stage
    ``k``; ``step`` reports each named step. Returns the seconds each of :data:`STAGES` took."""
    from daw_bridge import artifacts

    request = job.request
    if request is None:  # a job whose request could not be read fails before this (job.error)
        raise WatchError(job.error or "the request of this file could not be read")
    src = job_dir / job.name
    stage = {s: job_dir / f"out{s}" for s in (job.suffix, *ARTIFACT_SUFFIXES)}
    marks: list[float] = []

    def progress(k: int) -> None:
        marks.append(time.monotonic())
        bar(k)

    progress(0)
    before = analysis_of(ask({"op": "analyze", "id": f"watch-{job.id}-before", "path": str(src)}))
    answer = ask(request.service_request(src, f"watch-{job.id}"))
    step(Step.DECIDED)
    progress(1)
    rendered = ask({"op": "render", "id": f"watch-{job.id}-render", "path": str(src), "output": str(stage[job.suffix]),
                    "params": answer["params"], "overwrite": True})
    step(Step.RENDERED)
    progress(2)
    after = analysis_of(ask({"op": "analyze", "id": f"watch-{job.id}-after", "path": str(stage[job.suffix])}))
    progress(3)
    title = f"{job.name}: {request.describe()}"
    artifacts.plot_eq_over_spectrum(stage[".png"], answer, before, after, title)
    stage[".lua"].write_text(artifacts.reaeq_script(answer, title), encoding="utf-8")
    # the answer JSON itself (what REAPER's folder transport and every client read), plus the watch
    # folder's own members: what was dropped, what was written, the measured result, the render
    record = {
        **answer,
        "analysis_before": before,
        "analysis_after": after,
        "render": rendered["render"],
        "input": job.source,
        "request": request.to_dict(),
        "outputs": output_names(job),
    }
    record.pop("path", None)  # the job folder's copy, gone once the input moves to done/
    stage[".json"].write_text(json.dumps(record, indent=2), encoding="utf-8")
    step(Step.OUTPUTS_STAGED)
    progress(4)
    for s in (job.suffix, ".png", ".lua"):  # the .json follows the input's move to done/
        os.replace(stage[s], outbox / f"{job.output}{s}")
    step(Step.OUTPUTS_MOVED)
    marks.append(time.monotonic())
    return {name: marks[k + 1] - marks[k] for k, name in enumerate(STAGES)}


def remove_outputs(job: Job, outbox: Path) -> None:
    """Remove whatever of ``job``'s outputs reached ``outbox/`` (a job that failed late)."""
    for name in output_names(job):
        (outbox / name).unlink(missing_ok=True)


def progress_bar(job: Job, src: Path, log: Callable[[str], None]) -> Callable[[int], None]:
    """A per-stage text progress bar for files of at least :data:`LONG_FILE_S` seconds (else silent)."""
    import soundfile as sf

    info = sf.info(str(src))
    duration_s = info.frames / info.samplerate
    if duration_s < LONG_FILE_S:
        return lambda stage: None
    length = f"{int(duration_s // 60)}:{int(duration_s % 60):02d}"

    def show(stage: int) -> None:
        bar = "#" * (stage + 1) + "-" * (len(STAGES) - stage - 1)
        log(f"watch: {job.source} ({length}) [{bar}] {stage + 1}/{len(STAGES)} {STAGES[stage]}")

    return show


def error_text(job: Job) -> str:
    """The ``song.error.txt`` a person reads: what failed, why, and what to do."""
    asked = job.request.describe() if job.request else "(the request could not be read)"
    return (
        f"{job.name} could not be processed: {job.error}\n\n"
        f"Asked for: {asked}\n"
        f"Dropped as: inbox/{job.source}\n"
        f"Failed at: {time.strftime('%Y-%m-%d %H:%M:%S')}\n\n"
        "Nothing was written to outbox/ for this file. Fix the problem and drop the file into inbox/ again.\n"
    )
