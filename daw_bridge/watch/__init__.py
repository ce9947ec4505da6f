"""The watch folder: drop audio into ``inbox/`` and get the EQ'd render and its EQ in ``outbox/``.

A door like the OSC server: every decision and every render comes from the service
(:meth:`Service.handle`: ``adapt``, ``suggest``, ``eq``, ``analyze``, ``render``); the watch folder
only moves files, names them and keeps a journal so that nothing is lost. Its parts:

- :mod:`~daw_bridge.watch.request`: what a dropped file asks for (words folder, sidecar);
- :mod:`~daw_bridge.watch.ready`: which files to take and when (regular, settled, closed, complete),
  with :mod:`~daw_bridge.watch.intake` (refusals, close events, snapshots of what was taken);
- :mod:`~daw_bridge.watch.journal`: the typed journal (:class:`Job`, :class:`State`, :class:`Step`);
- :mod:`~daw_bridge.watch.outputs`: what a processed file leaves in ``outbox/``;
- :mod:`~daw_bridge.watch.watcher`: the engine (scan, claim, workers), with
  :mod:`~daw_bridge.watch.jobs` (run one job, end it in `done/` or `failed/`);
- this module: :func:`start_watcher` and :func:`process_pending`.

Afterwards the input (and its sidecar) moves to ``done/``, keeping its words folder
(``done/warmer/song.wav``), or to ``failed/`` with ``song.error.txt`` saying why. Nothing in
``outbox/``, ``done/`` or ``failed/`` is ever overwritten (``-2``, ``-3``, ... are added). The
``.json`` answer is moved into ``outbox/`` last: when it is there, everything for that file is
finished. Kill the watcher at any moment and restart it: every job resumes from its journal; a file
that was being processed when the watcher died :data:`MAX_ATTEMPTS` times goes to ``failed/``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from daw_bridge.watch.journal import JOB_FILE, MAX_ATTEMPTS, PROCESSING_DIR, Job, State, Step, unique_name
from daw_bridge.watch.outputs import ARTIFACT_SUFFIXES, LONG_FILE_S, STAGES
from daw_bridge.watch.ready import Readiness, Settle, is_ignored, readiness
from daw_bridge.watch.request import (
    DEFAULT_STRENGTH,
    SIDECAR_FIELDS,
    SIDECAR_FLAGS,
    SIDECAR_KEYS,
    WatchError,
    WatchRequest,
    folder_request,
    read_sidecar,
    resolve_request,
    slugify,
)
from daw_bridge.watch.config import JobResult, Log, WatchConfig, log_line
from daw_bridge.watch.watcher import Watcher

__all__ = [
    "ARTIFACT_SUFFIXES", "DEFAULT_STRENGTH", "JOB_FILE", "LONG_FILE_S", "MAX_ATTEMPTS", "PROCESSING_DIR",
    "SIDECAR_FIELDS", "SIDECAR_FLAGS", "SIDECAR_KEYS", "STAGES", "Job", "JobResult", "Readiness", "Settle",
    "State", "Step", "WatchConfig", "WatchError", "WatchHandle", "WatchRequest", "Watcher", "folder_request",
    "is_ignored", "process_pending", "read_sidecar", "readiness", "resolve_request", "slugify",
    "start_watcher", "unique_name",
]


class WatchHandle:
    """A running watcher; :meth:`stop` ends it (running files finish or resume at the next start)."""

    def __init__(self, watcher: Watcher, observer, thread: threading.Thread) -> None:
        self.watcher = watcher
        self._observer = observer
        self._thread = thread

    def status(self) -> dict:
        """The watch folder's part of the service's ``status`` answer."""
        results = list(self.watcher.results)
        done = sum(r.status == "done" for r in results)
        return {"watch": {"inbox": str(self.watcher.inbox), "workers": self.watcher.workers,
                          "in_flight": self.watcher.in_flight, "done": done, "failed": len(results) - done}}

    def stop(self, timeout_s: float | None = 10.0) -> None:
        sources = getattr(self.watcher.service, "status_sources", None)
        if sources is not None:
            sources.pop("watch", None)
        self.watcher.stop_workers(timeout_s)
        self._thread.join(timeout_s)
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout_s)
        self.watcher.release_home()


def start_watcher(service: Any, home: Path, config: WatchConfig = WatchConfig(), log: Log = log_line) -> WatchHandle:
    """Start watching ``home/inbox`` in background threads of this process; return a handle with ``.stop()``.

    Resumes interrupted jobs, then processes everything already in the inbox, then every new file.
    Raises :class:`SemeqError` if another watcher uses the same home.
    """
    watcher = Watcher(service, home, config, log)
    watcher.acquire_home()
    observer = _start_observer(watcher)
    watcher.start_workers()
    watcher.recover()
    thread = threading.Thread(target=watcher.serve, name="semeq-watch-scan", daemon=True)
    thread.start()
    log(f"watch: watching {watcher.inbox} ({watcher.workers} at a time; results in {watcher.outbox})")
    handle = WatchHandle(watcher, observer, thread)
    sources = getattr(service, "status_sources", None)
    if sources is not None:  # `status` then reports the watch folder too
        sources["watch"] = handle.status
    return handle


def process_pending(
    service: Any, home: Path, config: WatchConfig = WatchConfig(), log: Log = log_line, deadline_s: float | None = None
) -> list[JobResult]:
    """One pass: resume interrupted jobs and process everything in the inbox, then return the results."""
    watcher = Watcher(service, home, config, log)
    watcher.acquire_home()
    try:
        watcher.start_workers()
        watcher.recover()
        watcher.drain(deadline_s)
        watcher.stop_workers()
    finally:
        watcher.release_home()
    return watcher.results


def _start_observer(watcher: Watcher):
    """A watchdog observer that wakes the scanner on any change in the inbox (None if unavailable)."""
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:
        return None

    class Wake(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if watcher.config.close_events:
                watcher.writers.event(event)  # who still writes what (close-after-write events)
            if PROCESSING_DIR not in Path(event.src_path).parts:
                watcher.wake.set()

    observer = Observer()
    try:
        observer.schedule(Wake(), str(watcher.inbox), recursive=True)
        observer.daemon = True
        observer.start()
    except OSError as exc:  # e.g. out of inotify watches: the periodic scan still finds every file
        watcher.log(f"watch: file-system events unavailable ({exc}); scanning every {watcher.config.poll_s:g} s")
        return None
    return observer
