"""The watch-folder engine: scan ``inbox/``, claim ready files into jobs, run each job through the
service, end it in ``done/`` or ``failed/``. The journal's steps are :class:`~daw_bridge.watch.journal.Step`;
what a file asks for is :mod:`~daw_bridge.watch.request`, when it is taken :mod:`~daw_bridge.watch.ready`,
what it leaves :mod:`~daw_bridge.watch.outputs`, how one job runs and ends :mod:`~daw_bridge.watch.jobs`.

As many files at a time as ``WatchConfig.workers`` (the inbox is the queue: a file is only claimed
when a worker is free, so 200 files dropped at once wait there safely); a ``busy`` answer from the
service is asked again, not failed. One line per finished file (``watch: done warmer/song.wav ->
outbox/song.warmer.wav (1.2 s) [12 done, 0 failed]``) and, for long files, a bar per stage.
Only one watcher may use a home folder at a time (a lock file, released by the system on death).
"""

from __future__ import annotations

import errno
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
from daw_bridge.files import os_error_sentence
from daw_bridge.paths import HOME_FOLDERS
from daw_bridge.watch import intake, ready
from daw_bridge.watch.config import JobResult, Log, WatchConfig, log_line
from daw_bridge.watch.jobs import JobRunner
from daw_bridge.watch.journal import PROCESSING_DIR, Job, State, Step, read_job, unique_name, write_job
from daw_bridge.watch.outputs import ARTIFACT_SUFFIXES
from daw_bridge.watch.request import SIDECAR_SUFFIX, WatchError, read_json_or_none, read_sidecar, resolve_request

LOCK_FILE = ".semeq-watch.lock"


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
        self.writers = intake.Writers()
        self._ignored: dict[Path, intake.Snapshot | None] = {}  # said once, left in place
        self._runner = JobRunner(service, self.home, config, log, self._step, lock=self._lock, stop=self._stop,
                                 reserved_outputs=self._reserved_outputs, reserved_dest=self._reserved_dest,
                                 results=self.results)

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
                if not os.path.lexists(job_dir / job.name):
                    self.log(f"watch: {job.source} vanished before it was processed; nothing to do")
                    shutil.rmtree(job_dir, ignore_errors=True)
                    continue
                self._record_snapshot(job_dir, job)
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
            if not os.path.lexists(job_dir / name) and os.path.lexists(source):
                os.rename(source, job_dir / name)  # a rename: never opens it (a FIFO cannot block it)

    def _record_snapshot(self, job_dir: Path, job: Job) -> None:
        """Journal what the input looked like when taken (the job restarts if it changes)."""
        if job.snapshot is None and job.error is None:
            taken = intake.Snapshot.of_path(job_dir / job.name)
            if taken is not None:
                job.snapshot = taken.to_dict()
                write_job(job_dir, job)

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
            decision, reason = (ready.Readiness.WAIT, None) if busy else ready.readiness(
                audio, stable_s, self.config.settle_s, self.config.corrupt_after_s, self.inbox, self.writers)
            if decision is ready.Readiness.WAIT:
                waiting += 1
                continue
            if decision is ready.Readiness.IGNORE:
                self._ignore_once(audio, reason)
                continue
            try:
                self._claim(audio, sidecar, reason if decision is ready.Readiness.REFUSE else None)
            except FileNotFoundError:  # removed by the user between the scan and the claim
                continue
            except OSError as exc:  # the job folder cannot be made or the file moved: say so once
                self._ignore_once(audio, os_error_sentence(exc, f"take {audio.name} from the inbox"))
        return waiting

    def _ignore_once(self, audio: Path, reason: str | None) -> None:
        """Leave ``audio`` where it is and say why, once (again only if it changes)."""
        seen = intake.Snapshot.of_path(audio)
        if audio in self._ignored and self._ignored[audio] == seen:
            return
        self._ignored[audio] = seen
        self.log(f"watch: left in the inbox: {reason}")

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

    def _claim(self, audio: Path, sidecar: Path | None, refused: str | None = None) -> None:
        """Journal the job, then move the input (and its sidecar) into the job folder; a ``refused``
        file (the reason) goes through the same journal to ``failed/``."""
        rel = audio.relative_to(self.inbox)
        folder = rel.parts[0] if len(rel.parts) > 1 else None
        error, request = None, None
        try:
            if refused:
                raise WatchError(refused)
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
            if not os.path.lexists(job_dir / job.name):
                raise FileNotFoundError(errno.ENOENT, "the dropped file vanished", str(audio))
        except FileNotFoundError:
            shutil.rmtree(job_dir, ignore_errors=True)
            with self._lock:
                self._reserved_outputs.discard(output)
            raise
        self._record_snapshot(job_dir, job)
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
            except OSError as exc:  # e.g. failed/ not writable: say it in words; retried at the next start
                self.log(f"watch: could not finish {job_dir.name}: {os_error_sentence(exc, 'move the file to done/ or failed/')} "
                         "It stays in inbox/.processing/ and is tried again when the watcher starts next.")
            except Exception:  # never lose the worker; the job stays in processing and is retried at restart
                traceback.print_exc(file=sys.stderr)
            finally:
                with self._lock:
                    self._in_flight -= 1
                self.wake.set()

    def run_job(self, job_dir: Path) -> JobResult | None:
        """Carry one job to its end: decide, render, write the outputs, move the input."""
        return self._runner.run_job(job_dir)

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
