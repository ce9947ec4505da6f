"""The watch folder's crash-safe journal: one :class:`Job` per dropped file, its :class:`State`, and
the named :class:`Step` s a job goes through (kill the watcher between any two, restart: nothing
lost, nothing twice).

A file is claimed by writing the job's ``job.json`` (request, original place, the reserved output
name) atomically and then moving the file into its own job folder ``inbox/.processing/<job>/``;
everything is made inside the job folder and renamed into ``outbox/`` when complete (a rerun after a
crash replaces only its own reserved names); the end (``done``/``failed`` with the destination names)
is journaled before the input moves, the answer ``.json`` follows, and the job folder is removed
last. The job folder lives inside ``inbox/`` (hidden) so the service's path policy lets it read the
files and every rename stays on one file system.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from daw_bridge.files import write_text_atomic
from daw_bridge.watch.request import WatchRequest

#: Job folders, inside ``inbox/`` so the service may read them (hidden: the scanner skips them).
PROCESSING_DIR = ".processing"
JOB_FILE = "job.json"
#: A job that was running this many times when the watcher died goes to ``failed/``.
MAX_ATTEMPTS = 4


class State(str, Enum):
    """Where a job is: claimed (being processed), or ended (``done``/``failed``, destinations set)."""

    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


class Step(str, Enum):
    """The named steps of a job, in order. The watcher reports each one when it is complete (see
    ``WatchConfig.on_step``), so a test can stop the process exactly there."""

    CLAIM_JOURNALED = "claim_journaled"  # job.json written; the input still in the inbox
    INPUT_TAKEN = "input_taken"  # the input (and its sidecar) moved into the job folder
    ATTEMPT_JOURNALED = "attempt_journaled"  # one more attempt counted in job.json
    DECIDED = "decided"  # the service answered the request (the EQ)
    RENDERED = "rendered"  # the service rendered the input into the job folder
    OUTPUTS_STAGED = "outputs_staged"  # plot, ReaScript and answer written in the job folder
    OUTPUTS_MOVED = "outputs_moved"  # render, plot and ReaScript renamed into outbox/
    END_JOURNALED = "end_journaled"  # done/failed and the destination names in job.json
    INPUT_MOVED = "input_moved"  # the input (and sidecar) in done/ or failed/
    ANSWER_MOVED = "answer_moved"  # the answer .json in outbox/: everything for the file is there
    JOB_REMOVED = "job_removed"  # the job folder is gone


@dataclass
class Job:
    """One dropped file's journal entry (``job.json``).

    ``source`` is the file's path relative to ``inbox/``; ``name`` its file name; ``sidecar_name``
    its sidecar's, moved with it when ``move_sidecar`` (else shared with a sibling and copied as
    ``sidecar``); ``request`` what it asks for (None when that could not be read: ``error`` says
    why); ``output`` the reserved output name (no suffix); ``dest_*`` the destinations in
    ``done/``/``failed/`` relative to home, set when the job ends.
    """

    id: str
    source: str
    name: str
    output: str
    state: State = State.CLAIMED
    sidecar_name: str | None = None
    move_sidecar: bool = False
    sidecar: Any = None
    request: WatchRequest | None = None
    error: str | None = None
    attempts: int = 0
    claimed_at: float = 0.0
    dest_audio: str | None = None
    dest_sidecar: str | None = None
    dest_error: str | None = None

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix

    def destinations(self) -> list[str]:
        return [d for d in (self.dest_audio, self.dest_sidecar, self.dest_error) if d]

    def to_json(self) -> str:
        data = asdict(self)
        data["state"] = self.state.value
        data["request"] = None if self.request is None else self.request.to_dict()
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Job":
        data = json.loads(text)
        data["state"] = State(data["state"])
        data["request"] = None if data.get("request") is None else WatchRequest.from_dict(data["request"])
        return cls(**data)


def read_job(job_dir: Path) -> Job | None:
    """The journal of ``job_dir``, or None when the claim was never written."""
    try:
        return Job.from_json((job_dir / JOB_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def write_job(job_dir: Path, job: Job) -> None:
    """Write the journal atomically (a crash leaves the old or the new one, never half)."""
    write_text_atomic(job_dir / JOB_FILE, job.to_json())


def unique_name(folder: Path, stem: str, suffixes: tuple[str, ...], taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The first of ``stem``, ``stem-2``, ``stem-3``, ... such that no ``<name><suffix>`` exists in
    ``folder`` and ``<name>`` is not in ``taken`` (names reserved by jobs still running)."""
    n = 1
    while True:
        name = stem if n == 1 else f"{stem}-{n}"
        if name not in taken and not any((folder / f"{name}{s}").exists() for s in suffixes):
            return name
        n += 1


def move_no_replace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` (same file system), never replacing an existing ``dst``."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "destination exists", str(dst))
    os.rename(src, dst)
