"""The watch-folder engine: scan ``inbox/``, claim ready files into jobs, run each job through the
service, end it in ``done/`` or ``failed/``. The journal's steps are :class:`~daw_bridge.watch.journal.Step`;
what a file asks for is :mod:`~daw_bridge.watch.request`, when it is taken :mod:`~daw_bridge.watch.ready`,
what it leaves :mod:`~daw_bridge.watch.outputs`.

As many files at a time as ``WatchConfig.workers`` (the inbox is the queue: a file is only claimed
when a worker is free, so 200 files dropped at once wait there safely); a ``busy`` answer from the
service is asked again, not failed. One line per finished file (``watch: done warmer/song.wav ->
outbox/song.warmer.wav (1.2 s) [12 done, 0 failed]``) and, for long files, a bar per stage.
Only one watcher may use a home folder at a time (a lock file, released by the system on death).
"""

from __future__ import annotations

import errno
import json
import os
import queue
import shutil
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from daw_bridge.errors import SemeqError
from daw_bridge.files import write_text_atomic
from daw_bridge.paths import HOME_FOLDERS
from daw_bridge.watch import ready
from daw_bridge.watch.config import JobResult, Log, WatchConfig, log_line
from daw_bridge.watch.journal import (
    MAX_ATTEMPTS,
    PROCESSING_DIR,
    Job,
    State,
    Step,
    move_no_replace,
    read_job,
    unique_name,
    write_job,
)
from daw_bridge.watch.outputs import ARTIFACT_SUFFIXES, error_text, make_outputs, output_names, progress_bar, remove_outputs
from daw_bridge.watch.request import SIDECAR_SUFFIX, WatchError, read_json_or_none, read_sidecar, resolve_request

LOCK_FILE = ".semeq-watch.lock"


class _Stopping(Exception):
    """The watcher is stopping while a job waits for the service: the job resumes at the next start."""


class Watcher:
    """The watch-folder engine on one home folder. Use :func:`start_watcher` or :func:`process_pending`."""

    def __init__(self, service: Any, home: Path, config: WatchConfig = WatchConfig(), log: Log = log_line) -> None:
        self.service = service
        self.home = Path(home).expanduser().resolve()
        self.config = config
        self.log = log
        for name in HOME_FOLDERS:
            (self.home / name).mkdir(parents=True, exist_ok=True)
        self.inbox, self.outbox = self.home / "inbox", self.home / "outbox"
        self.done, self.failed = self.home / "done", self.home / "failed"
        self.processing = self.inbox / PROCESSING_DIR
        self.processing.mkdir(exist_ok=True)
        self.workers = config.workers
        self.results: list[JobResult] = []
        self.wake = threading.Event()
        self._settle = ready.Settle()
        self._lock = threading.Lock()  # names reserved, counters, results
        self._reserved_outputs: set[str] = set()
        self._reserved_dest: set[Path] = set()
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._in_flight = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._home_lock: Any = None
        self._counter = 0

    # --- life cycle ---------------------------------------------------------------------------
    def acquire_home(self) -> None:
        """Take the home folder's watcher lock, or raise :class:`SemeqError` if another watcher has it."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.home / LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise SemeqError(
                f"another Semantic EQ watcher is already using {self.home}; stop it or choose another --home",
                code="busy",
            ) from None
        self._home_lock = lock

    def release_home(self) -> None:
        if self._home_lock is not None:
            self._home_lock.release()
            self._home_lock = None

    def start_workers(self) -> None:
        for i in range(self.workers):
            t = threading.Thread(target=self._work_loop, name=f"semeq-watch-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop_workers(self, timeout_s: float | None = None) -> None:
        """Let running jobs finish (up to ``timeout_s``); unfinished ones resume at the next start."""
        self._stop.set()
        self.wake.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for t in self._threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._threads = []

    @property
    def in_flight(self) -> int:
        """Files claimed and not yet ended."""
        with self._lock:
            return self._in_flight

    def _step(self, step: Step, job: Job) -> None:
        if self.config.on_step is not None:
            self.config.on_step(step, job)

    # --- recovery -----------------------------------------------------------------------------
    def recover(self) -> int:
        """Resume every job folder left by a previous run; return how many were queued."""
        count = 0
        for job_dir in sorted(p for p in self.processing.iterdir() if p.is_dir()):
            job = read_job(job_dir)
            if job is None:  # died before the claim was written: the input is still in the inbox
                shutil.rmtree(job_dir, ignore_errors=True)
                continue
            if job.state is State.CLAIMED:
                self._take_input(job_dir, job)
                if not (job_dir / job.name).exists():
                    self.log(f"watch: {job.source} vanished before it was processed; nothing to do")
                    shutil.rmtree(job_dir, ignore_errors=True)
                    continue
            with self._lock:
                self._reserved_outputs.add(job.output)
                self._reserved_dest.update(self.home / d for d in job.destinations())
            self._enqueue(job_dir)
            count += 1
        if count:
            self.log(f"watch: resuming {count} file(s) that were being processed when the watcher stopped")
        return count

    def _take_input(self, job_dir: Path, job: Job) -> None:
        """Move the journaled input (and sidecar) from the inbox into the job folder, if not done yet."""
        for name, moved in ((job.name, True), (job.sidecar_name, job.move_sidecar)):
            if not name or not moved:
                continue
            source = self.inbox / Path(job.source).parent / name
            if not (job_dir / name).exists() and source.exists():
                os.rename(source, job_dir / name)

    # --- scanning -----------------------------------------------------------------------------
    def scan(self) -> int:
        """Look at the inbox once: claim every file that is ready (while workers are free).

        Returns the number of candidate files still waiting (being written or queued behind others).
        """
        candidates = self._candidates()
        self._settle.forget_except({audio for audio, _ in candidates})
        waiting = 0
        for audio, sidecar in candidates:
            signature = (ready.signature(audio), None if sidecar is None else ready.signature(sidecar))
            if signature[0] is None:
                continue
            stable_s = self._settle.observe(audio, signature)
            with self._lock:
                busy = self._in_flight >= self.workers
            decision = ready.Readiness.WAIT if busy else ready.readiness(
                audio, stable_s, self.config.settle_s, self.config.corrupt_after_s)
            if decision is ready.Readiness.WAIT:
                waiting += 1
                continue
            try:
                self._claim(audio, sidecar, decision is ready.Readiness.TAKE)
            except FileNotFoundError:  # removed by the user between the scan and the claim
                continue
        return waiting

    def _candidates(self) -> list[tuple[Path, Path | None]]:
        """Audio candidates in the inbox (oldest first) with their sidecar, if any."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.inbox):
            dirnames[:] = sorted(d for d in dirnames if not ready.is_ignored(d))
            names = set(filenames)
            for name in filenames:
                if ready.is_ignored(name) or name.lower().endswith(SIDECAR_SUFFIX):
                    continue
                # song.wav.json (this file only) or song.json (every audio file named song.*)
                sidecar_name = next((n for n in (name + SIDECAR_SUFFIX, Path(name).stem + SIDECAR_SUFFIX) if n in names), None)
                found.append((Path(dirpath) / name, Path(dirpath) / sidecar_name if sidecar_name else None))

        def age(item):
            sig = ready.signature(item[0])
            return (0 if sig is None else sig[1], str(item[0]))

        return sorted(found, key=age)

    def _claim(self, audio: Path, sidecar: Path | None, readable: bool) -> None:
        """Journal the job, then move the input (and its sidecar) into the job folder."""
        rel = audio.relative_to(self.inbox)
        folder = rel.parts[0] if len(rel.parts) > 1 else None
        error, request = None, None
        try:
            if not readable:
                raise WatchError(f"{audio.name} is not an audio file soundfile can read (or it is truncated or empty)")
            request = resolve_request(folder, read_sidecar(sidecar) if sidecar else None)
        except WatchError as exc:
            error = str(exc)
        # a sidecar shared by two audio files with the same stem (song.wav, song.flac) stays for the other
        siblings = sidecar is not None and sidecar.name == audio.stem + SIDECAR_SUFFIX and any(
            p.stem == audio.stem and p not in (audio, sidecar) and not ready.is_ignored(p.name)
            for p in audio.parent.iterdir()
        )
        slug = request.slug() if request else "error"
        with self._lock:
            output = unique_name(self.outbox, f"{audio.stem}.{slug}", (audio.suffix, *ARTIFACT_SUFFIXES), self._reserved_outputs)
            self._reserved_outputs.add(output)
            self._counter += 1
        job_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{self._counter:05d}-{uuid.uuid4().hex[:6]}"
        job_dir = self.processing / job_id
        job = Job(
            id=job_id, source=str(rel), name=audio.name, output=output,
            sidecar_name=sidecar.name if sidecar else None,
            move_sidecar=sidecar is not None and not siblings,
            sidecar=read_json_or_none(sidecar) if sidecar and siblings else None,
            request=request, error=error, claimed_at=time.time(),
        )
        job_dir.mkdir()
        try:
            write_job(job_dir, job)
            self._step(Step.CLAIM_JOURNALED, job)
            self._take_input(job_dir, job)
            if not (job_dir / job.name).exists():
                raise FileNotFoundError(errno.ENOENT, "the dropped file vanished", str(audio))
        except FileNotFoundError:
            shutil.rmtree(job_dir, ignore_errors=True)
            with self._lock:
                self._reserved_outputs.discard(output)
            raise
        self._step(Step.INPUT_TAKEN, job)
        self._enqueue(job_dir)

    def _enqueue(self, job_dir: Path) -> None:
        with self._lock:
            self._in_flight += 1
        self._queue.put(job_dir)

    # --- jobs ---------------------------------------------------------------------------------
    def _work_loop(self) -> None:
        while True:
            job_dir = self._queue.get()
            if job_dir is None:
                return
            try:
                self.run_job(job_dir)
            except Exception:  # never lose the worker; the job stays in processing and is retried at restart
                traceback.print_exc(file=sys.stderr)
            finally:
                with self._lock:
                    self._in_flight -= 1
                self.wake.set()

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
            bar = progress_bar(job, job_dir / job.name, self.log)
            stages = make_outputs(self._ask, job, job_dir, self.outbox, bar, lambda step: self._step(step, job))
            job.state = State.DONE
        except _Stopping:  # not a crash: this attempt does not count
            job.attempts -= 1
            write_job(job_dir, job)
            return None
        except SemeqError as exc:
            job.state, job.error = State.FAILED, str(exc)
        except Exception as exc:  # a bug: the file goes to failed/ with the reason, the watcher goes on
            traceback.print_exc(file=sys.stderr)
            job.state, job.error = State.FAILED, f"an internal error stopped the processing ({type(exc).__name__}: {exc})"
        if job.state is State.FAILED:
            remove_outputs(job, self.outbox)
        return self._finish(job_dir, job, started, stages)

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
        dest_audio, dest_sidecar = self.home / str(job.dest_audio), self.home / str(job.dest_sidecar)
        dest_audio.parent.mkdir(parents=True, exist_ok=True)
        if job.state is State.FAILED and not (self.home / str(job.dest_error)).exists():
            write_text_atomic(self.home / str(job.dest_error), error_text(job))
        audio = job_dir / job.name
        if audio.exists():
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

    # --- loops --------------------------------------------------------------------------------
    def serve(self) -> None:
        """Scan until stopped, waking on file-system events and every ``poll_s`` seconds."""
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:  # e.g. a folder removed while scanning: log, keep watching
                traceback.print_exc(file=sys.stderr)
            self.wake.wait(self.config.poll_s)
            self.wake.clear()

    def drain(self, deadline_s: float | None = None) -> None:
        """Scan and process until the inbox holds nothing ready or settling and no job runs."""
        deadline = None if deadline_s is None else time.monotonic() + deadline_s
        while not self._stop.is_set():
            waiting = self.scan()
            with self._lock:
                idle = self._in_flight == 0
            if waiting == 0 and idle:
                return
            if deadline is not None and time.monotonic() > deadline:
                return
            self.wake.wait(min(self.config.poll_s, 0.1))
            self.wake.clear()
