"""Running one watch-folder job: ask the service, write the outputs (started again if the input
changes), then end the job in ``done/`` or ``failed/`` and report it. The engine that scans and
claims is :mod:`~daw_bridge.watch.watcher`; what a job leaves is :mod:`~daw_bridge.watch.outputs`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from daw_bridge.errors import SemeqError
from daw_bridge.files import os_error_sentence, write_text_atomic
from daw_bridge.watch import intake, ready
from daw_bridge.watch.config import JobResult, Log, WatchConfig
from daw_bridge.watch.journal import MAX_ATTEMPTS, Job, State, Step, move_no_replace, read_job, unique_name, write_job
from daw_bridge.watch.outputs import (
    InputChanged,
    Marker,
    error_text,
    make_outputs,
    output_names,
    progress_bar,
    remove_outputs,
)
from daw_bridge.watch.request import SIDECAR_SUFFIX, WatchError


class _Stopping(Exception):
    """The watcher is stopping while a job waits for the service: the job resumes at the next start."""


class JobRunner:
    """Carries claimed jobs to their end. Shares with its :class:`~daw_bridge.watch.watcher.Watcher`
    the lock, the stop event, the reserved names and the results list."""

    def __init__(
        self, service: Any, home: Path, config: WatchConfig, log: Log, step: Callable[[Step, Job], None], *,
        lock: threading.Lock, stop: threading.Event, reserved_outputs: set[str], reserved_dest: set[Path],
        results: list[JobResult],
    ) -> None:
        self.service = service
        self.home = home
        self.outbox, self.done, self.failed = home / "outbox", home / "done", home / "failed"
        self.config = config
        self.log = log
        self._step = step
        self._lock = lock  # names reserved, results
        self._stop = stop
        self._reserved_outputs = reserved_outputs
        self._reserved_dest = reserved_dest
        self.results = results

    def run_job(self, job_dir: Path) -> JobResult | None:
        """Carry one job to its end: decide, render, write the outputs, move the input."""
        job = read_job(job_dir)
        if job is None:
            return None
        started = time.monotonic()
        if job.state is not State.CLAIMED:
            return self._finish(job_dir, job, started)
        job.attempts += 1
        write_job(job_dir, job)
        self._step(Step.ATTEMPT_JOURNALED, job)
        stages: dict[str, float] = {}
        try:
            if job.error:
                raise WatchError(job.error)
            if job.attempts > MAX_ATTEMPTS:
                raise WatchError(f"the watcher stopped {MAX_ATTEMPTS} times while processing this file, so it was set aside")
            stages = self._make_outputs(job_dir, job)
            job.state = State.DONE
        except _Stopping:  # not a crash: this attempt does not count
            job.attempts -= 1
            write_job(job_dir, job)
            return None
        except SemeqError as exc:
            job.state, job.error = State.FAILED, str(exc)
        except OSError as exc:  # a folder not writable, a full disk: a sentence, not a traceback
            job.state, job.error = State.FAILED, os_error_sentence(exc, "write the results")
        except Exception as exc:  # a bug: the file goes to failed/ with the reason, the watcher goes on
            traceback.print_exc(file=sys.stderr)
            job.state, job.error = State.FAILED, f"an internal error stopped the processing ({type(exc).__name__}: {exc})"
        if job.state is State.FAILED:
            remove_outputs(job, self.outbox)
        return self._finish(job_dir, job, started, stages)

    def _make_outputs(self, job_dir: Path, job: Job) -> dict[str, float]:
        """:func:`make_outputs`, started again (after the file settles) whenever the input changed
        after it was taken: never delivered from a file still being written."""
        marker = Marker(self.outbox / f"{job.output}.processing", job)
        try:
            for _ in range(self.config.max_restarts + 1):
                bar = progress_bar(job, job_dir / job.name, self.log, marker)
                try:
                    return make_outputs(self._ask, job, job_dir, self.outbox, bar, lambda step: self._step(step, job),
                                        lambda: self._unchanged(job_dir, job))
                except InputChanged as exc:
                    self.log(f"watch: {job.source} changed after it was taken ({exc}); starting again once it has settled")
                    self._settle_again(job_dir, job)
            raise WatchError(f"{job.name} kept changing while it was processed ({self.config.max_restarts} restarts); "
                             "drop it again once it is written completely")
        finally:
            marker.remove()

    def _unchanged(self, job_dir: Path, job: Job) -> None:
        """Raise :class:`InputChanged` when the input is not what was taken."""
        if job.snapshot is None:
            return
        change = intake.Snapshot.from_dict(job.snapshot).changed(intake.Snapshot.of_path(job_dir / job.name))
        if change is not None:
            raise InputChanged(change)

    def _settle_again(self, job_dir: Path, job: Job) -> None:
        """Wait until the input has not changed for ``settle_s`` and is complete, then journal it."""
        src = job_dir / job.name
        stable_since, last = time.monotonic(), intake.Snapshot.of_path(src)
        while not self._stop.is_set():
            time.sleep(max(0.01, min(self.config.poll_s, self.config.settle_s / 2)))
            now = intake.Snapshot.of_path(src)
            if now != last:
                stable_since, last = time.monotonic(), now
                continue
            still_s = time.monotonic() - stable_since
            if still_s >= self.config.settle_s and ready.readiness(
                    src, still_s, self.config.settle_s, self.config.corrupt_after_s, job_dir)[0] is not ready.Readiness.WAIT:
                break
        if self._stop.is_set():
            raise _Stopping()
        job.snapshot = None if last is None else last.to_dict()
        write_job(job_dir, job)

    def _ask(self, request: dict) -> dict:
        """Ask the service; wait and ask again while it is busy; raise on an error answer."""
        while True:
            answer = self.service.handle(request)
            if answer.get("ok"):
                return answer
            if answer.get("code") == "busy":
                if self._stop.is_set():
                    raise _Stopping()
                time.sleep(self.config.busy_retry_s)
                continue
            raise SemeqError(str(answer.get("message") or "the service refused the request"), code=answer.get("code"))

    def _finish(self, job_dir: Path, job: Job, started: float, stages: dict[str, float] | None = None) -> JobResult:
        """Journal the destinations, then move the input (and sidecar) and remove the job folder."""
        if not job.dest_audio:
            self._reserve_destinations(job)
            write_job(job_dir, job)
        self._step(Step.END_JOURNALED, job)
        (self.outbox / f"{job.output}.processing").unlink(missing_ok=True)  # left by a watcher that died
        dest_audio, dest_sidecar = self.home / str(job.dest_audio), self.home / str(job.dest_sidecar)
        dest_audio.parent.mkdir(parents=True, exist_ok=True)
        if job.state is State.FAILED and not (self.home / str(job.dest_error)).exists():
            write_text_atomic(self.home / str(job.dest_error), error_text(job))
        audio = job_dir / job.name
        if os.path.lexists(audio):  # a refused link or FIFO moves too (a rename never opens it)
            move_no_replace(audio, dest_audio)
        sidecar = job_dir / job.sidecar_name if job.sidecar_name and job.move_sidecar else None
        if sidecar is not None and sidecar.exists():
            move_no_replace(sidecar, dest_sidecar)
        elif job.sidecar is not None and not dest_sidecar.exists():
            write_text_atomic(dest_sidecar, json.dumps(job.sidecar, indent=2))
        self._step(Step.INPUT_MOVED, job)
        staged_answer = job_dir / f"out{SIDECAR_SUFFIX}"
        if job.state is State.DONE and staged_answer.exists():  # last: when the answer is there, all is finished
            os.replace(staged_answer, self.outbox / f"{job.output}{SIDECAR_SUFFIX}")
            self._step(Step.ANSWER_MOVED, job)
        shutil.rmtree(job_dir, ignore_errors=True)
        self._step(Step.JOB_REMOVED, job)
        return self._report(job, started, stages or {})

    def _reserve_destinations(self, job: Job) -> None:
        """Choose ``done/`` or ``failed/`` names that nothing there or in flight has."""
        target = (self.done if job.state is State.DONE else self.failed) / Path(job.source).parent
        name = Path(job.name)
        with self._lock:
            taken = {p.stem for p in self._reserved_dest if p.parent == target}
            stem = unique_name(target, name.stem, (name.suffix, SIDECAR_SUFFIX, ".error.txt"), taken)
            job.dest_audio = str((target / f"{stem}{name.suffix}").relative_to(self.home))
            job.dest_sidecar = str((target / f"{stem}{SIDECAR_SUFFIX}").relative_to(self.home))
            job.dest_error = str((target / f"{stem}.error.txt").relative_to(self.home)) if job.state is State.FAILED else None
            self._reserved_dest.update(self.home / d for d in job.destinations())

    def _report(self, job: Job, started: float, stages: dict[str, float]) -> JobResult:
        outputs = output_names(job) if job.state is State.DONE else []
        result = JobResult(job.source, job.state.value, outputs, job.error or "", time.monotonic() - started, stages)
        with self._lock:
            self._reserved_outputs.discard(job.output)
            self._reserved_dest.difference_update(self.home / d for d in job.destinations())
            self.results.append(result)
            n_done = sum(r.status == "done" for r in self.results)
            n_failed = len(self.results) - n_done
        if job.state is State.DONE:
            line = f"watch: done {job.source} -> outbox/{outputs[0]} ({result.seconds:.1f} s)"
        else:
            line = f"watch: FAILED {job.source} -> {job.dest_audio}: {job.error}"
        self.log(f"{line} [{n_done} done, {n_failed} failed]")
        return result
