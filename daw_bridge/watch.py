"""The watch folder: drop audio into ``inbox/`` and get the EQ'd render and its EQ in ``outbox/``.

A transport like the OSC server: the decision comes from :meth:`Service.handle` (ops ``adapt``,
``suggest``, ``eq``, ``analyze``), the render from :func:`daw_bridge.audio.render_file`; this
module only moves files, names them and keeps a journal so that nothing is lost.

What to drop (the request of a file)
    ``inbox/song.wav`` with an optional sidecar ``inbox/song.json`` (or ``inbox/song.wav.json``):
    ``{"text": "warmer"}`` (adaptive: sized to the track), ``{"text": "warmer", "fixed": true}``
    (the plain preset), ``{"suggest": true, "strength": 0.5}`` (auto-suggest, strength 0..1), and
    ``"intensity"`` (-2..2) with a text. Or drop into a words folder ``inbox/<words>/song.wav``:
    ``inbox/warmer/``, ``inbox/a-bit-less-harsh/`` (``-`` and ``_`` read as spaces), and
    ``inbox/suggest/`` or ``inbox/suggest-30/`` (auto-suggest at strength 0.30). A sidecar's
    ``text`` or ``suggest`` replaces the folder's words; its other keys are added.
    **Neither a sidecar nor a words folder: auto-suggest at strength 0.5.** Any format soundfile
    reads (WAV, FLAC, Ogg, AIFF, ...). Write a sidecar before (or within the settle time of) its audio.
    ``song.json`` shared by ``song.wav`` and ``song.flac`` applies to both (each keeps a copy).

What is ignored
    Hidden files and folders (``.name``), temporary files (``*.tmp``, ``*.part``, ``*.partial``,
    ``*.crdownload``, ``*.download``, ``*.swp``), backups and lock files (``name~``, ``~$name``),
    ``Thumbs.db`` and ``desktop.ini``, and sidecars on their own (``*.json``, they wait for their
    audio). Anything else that soundfile cannot read goes to ``failed/`` with the reason.

When a file is taken
    When its size and modification time (and its sidecar's) have not changed for ``settle_s``
    seconds and soundfile can read its header. A file that stays unreadable for ``corrupt_after_s``
    seconds goes to ``failed/``.

What comes out (``<words>`` is a file-name-safe slug: ``warmer``, ``a-bit-less-harsh``,
``warmer-x0.5``, ``warmer-fixed``, ``suggest-50``)
    ``outbox/song.<words>.wav``: the render, same format, sample rate and bit depth as the input,
    loudness-matched and true-peak safe; ``outbox/song.<words>.json``: the service's answer JSON
    (``docs/architecture.md``: parameters, ReaEQ and Ardour blocks, response, ``analysis`` before,
    ``expected`` after, explanation) with the watch folder's members added: ``analysis_before`` and
    ``analysis_after`` (the full ``analyze`` answers of the input and of the render: band levels,
    loudness, true peak, descriptors, summary), ``render`` (loudness and true peak in and out, gain, limiter),
    ``input``, ``request`` and ``outputs``; ``outbox/song.<words>.png``: the EQ curve over the track's spectrum;
    ``outbox/song.<words>.lua``: a ReaScript that puts this EQ on ReaEQ (see
    :mod:`daw_bridge.artifacts`). When a name is taken, ``-2``, ``-3``, ... is added to the words;
    nothing in ``outbox/``, ``done/`` or ``failed/`` is ever overwritten. The ``.json`` is moved in
    last, after the input has moved to ``done/``: when it is there, everything for that file is finished.

Afterwards
    The input (and its sidecar) moves to ``done/``, keeping its words folder
    (``done/warmer/song.wav``), or to ``failed/`` with ``song.error.txt`` saying why. Names taken
    there get ``-2``, ``-3``, ... too.

Journal (kill it at any moment, restart, nothing lost and nothing twice)
    A file is claimed by moving it into its own job folder ``inbox/.processing/<job>/`` after the
    job's ``job.json`` (request, original place, the reserved output name) has been written
    atomically; everything is made inside the job folder and renamed into ``outbox/`` when complete
    (a rerun after a crash replaces only its own reserved names); the end (``done``/``failed`` with
    the destination names) is written to ``job.json`` before the input moves, the answer ``.json``
    follows, and the job folder is removed last. On start, every job folder is resumed from
    where its journal says it was, then everything already in ``inbox/`` is processed. The job
    folder lives inside ``inbox/`` (hidden) so the service's path policy lets it read the files and
    every rename stays on one file system. A file that was being processed when the watcher died
    :data:`MAX_ATTEMPTS` times goes to ``failed/`` instead of stopping the watcher again and again.
    Only one watcher may use a home folder at a time (a lock file, released by the kernel on death).

Concurrency and console
    As many files at a time as the service has audio workers (the inbox is the queue: a file is only
    claimed when a worker is free, so 200 files dropped at once wait there safely); a ``busy``
    answer from the service is asked again, not failed. One line per finished file
    (``watch: done warmer/song.wav -> outbox/song.warmer.wav (1.2 s) [12 done, 0 failed]``), and
    for files of :data:`LONG_FILE_S` seconds or more a text bar per stage (deciding, rendering,
    measuring, plot and ReaScript, outbox): ``render_file`` offers no block callback, so the bar
    moves by stage, not by block.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import queue
import re
import shutil
import sys
import threading
import time
import traceback
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from daw_bridge.errors import SemeqError
from daw_bridge.files import write_text_atomic
from daw_bridge.ops import OPS, check_field, loads_json
from daw_bridge.paths import HOME_FOLDERS

#: Job folders, inside ``inbox/`` so the service may read them (hidden: the scanner skips them).
PROCESSING_DIR = ".processing"
JOB_FILE = "job.json"
LOCK_FILE = ".semeq-watch.lock"
#: A job that was running this many times when the watcher died goes to ``failed/``.
MAX_ATTEMPTS = 4
#: Auto-suggest strength (0..1) when a file comes with neither a sidecar nor a words folder.
DEFAULT_STRENGTH = 0.5
#: Files at least this long (s of audio) get a progress line per stage besides their result line.
LONG_FILE_S = 30.0
#: Stages of one file, in order (for the progress bar of long files).
STAGES = ("deciding the EQ", "rendering", "measuring the result", "writing plot and ReaScript", "moving into outbox")
#: Longest slug of the words in an output name (characters).
MAX_SLUG_CHARS = 48

#: Files the operating system leaves in folders (compared lower-case).
SYSTEM_NAMES = ("thumbs.db", "desktop.ini")
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".lock")
SIDECAR_SUFFIX = ".json"
#: Sidecar keys: the request fields of the ops a dropped file can ask for (op table), and two flags.
SIDECAR_FIELDS = tuple(dict.fromkeys(
    name for op in ("adapt", "eq", "suggest") for name in OPS[op].required + OPS[op].optional if name not in ("path", "push")
))
SIDECAR_FLAGS = ("suggest", "fixed")
SIDECAR_KEYS = SIDECAR_FIELDS + SIDECAR_FLAGS
#: Suffixes of the non-audio outputs, in the order they are moved into ``outbox/`` (json last).
ARTIFACT_SUFFIXES = (".png", ".lua", ".json")
_SUGGEST_FOLDER = re.compile(r"^(?:auto[-_ ]?)?suggest(?:[-_ ](\d{1,3}))?$|^auto$", re.IGNORECASE)

Log = Callable[[str], None]


class WatchError(SemeqError):
    """A dropped file that cannot be processed as asked (bad sidecar, unreadable audio)."""

    code = "bad_request"


class _Stopping(Exception):
    """The watcher is stopping while a job waits for the service: the job resumes at the next start."""


# --- what a file asks for -----------------------------------------------------------------------


@dataclass(frozen=True)
class WatchRequest:
    """What to do with one dropped file.

    ``op`` is ``adapt`` (words sized to the track), ``eq`` (the fixed preset for the words) or
    ``suggest``; ``intensity`` multiplies the words' EQ (-2..2), ``strength`` scales a suggestion
    (0..1); ``origin`` says where the request came from (``sidecar``, ``folder``, ``default``);
    ``current`` is the 13 named parameters of the EQ already on the track (the words then build on it).
    """

    op: str
    text: str | None = None
    intensity: float = 1.0
    strength: float = DEFAULT_STRENGTH
    origin: str = "default"
    current: dict | None = None
    max_gain_db: float | None = None

    def slug(self) -> str:
        """The file-name-safe words of the output names, e.g. ``a-bit-less-harsh``, ``suggest-50``."""
        if self.op == "suggest":
            return f"suggest-{round(self.strength * 100)}"
        slug = slugify(self.text or "")
        if self.op == "eq":
            slug += "-fixed"
        if self.intensity != 1.0:
            slug += f"-x{self.intensity:g}"
        return slug

    def describe(self) -> str:
        """A short human description, e.g. ``adapt 'warmer'`` or ``suggest at strength 0.5``."""
        if self.op == "suggest":
            return f"auto-suggest at strength {self.strength:g}"
        kind = "fixed preset" if self.op == "eq" else "adaptive"
        extra = "" if self.intensity == 1.0 else f", intensity {self.intensity:g}"
        return f"'{self.text}' ({kind}{extra})"

    def service_request(self, audio_path: Path, request_id: str) -> dict:
        """The request for :meth:`Service.handle` deciding the EQ for ``audio_path``."""
        if self.op == "suggest":
            request = {"op": "suggest", "id": request_id, "path": str(audio_path), "strength": self.strength}
            if self.max_gain_db is not None:
                request["max_gain_db"] = self.max_gain_db
            return request
        request = {"op": self.op, "id": request_id, "text": self.text, "intensity": self.intensity}
        if self.current is not None:
            request["current"] = self.current
        if self.op == "adapt":
            request["path"] = str(audio_path)
        return request

    def to_dict(self) -> dict:
        return {"op": self.op, "text": self.text, "intensity": self.intensity, "strength": self.strength,
                "origin": self.origin, "current": self.current, "max_gain_db": self.max_gain_db}

    @classmethod
    def from_dict(cls, data: Mapping) -> "WatchRequest":
        return cls(data["op"], data.get("text"), float(data["intensity"]), float(data["strength"]), data["origin"],
                   data.get("current"), data.get("max_gain_db"))


def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits joined by ``-`` (at most :data:`MAX_SLUG_CHARS`); ``eq`` if empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_CHARS].rstrip("-") or "eq"


def folder_request(folder_name: str) -> dict:
    """The request a words folder stands for: ``warmer`` -> text, ``suggest-30`` -> suggest at 0.3."""
    match = _SUGGEST_FOLDER.match(folder_name.strip())
    if match:
        strength = DEFAULT_STRENGTH if match.group(1) is None else int(match.group(1)) / 100.0
        if not 0.0 <= strength <= 1.0:
            raise WatchError(f"the folder '{folder_name}' asks for strength {match.group(1)}%; use 0 to 100")
        return {"suggest": True, "strength": strength}
    text = re.sub(r"[-_\s]+", " ", folder_name).strip()
    if not text:
        raise WatchError(f"the folder name '{folder_name}' holds no words")
    return {"text": text}


def read_sidecar(path: Path) -> dict:
    """Parse and check a sidecar: a JSON object with only :data:`SIDECAR_KEYS`; request fields are
    checked by the op table (:func:`daw_bridge.ops.check_field`), size and nesting before parsing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise WatchError(f"the sidecar {path.name} cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise WatchError(f"the sidecar {path.name} is not valid JSON ({exc}); write e.g. {{\"text\": \"warmer\"}}") from None
    try:
        data = loads_json(text, path.name)
    except SemeqError as exc:
        raise WatchError(f"the sidecar {exc}; write e.g. {{\"text\": \"warmer\"}}") from None
    if not isinstance(data, dict):
        raise WatchError(f"the sidecar {path.name} must be a JSON object such as {{\"text\": \"warmer\"}}")
    unknown = sorted(str(k)[:40] for k in data if k not in SIDECAR_KEYS)
    if unknown:
        raise WatchError(
            f"the sidecar {path.name} has unknown keys {', '.join(unknown)}; it may have {', '.join(SIDECAR_KEYS)}"
        )
    for key in SIDECAR_FLAGS:
        if key in data and not isinstance(data[key], bool):
            raise WatchError(f"in {path.name}, '{key}' must be true or false")
    for key in SIDECAR_FIELDS:
        if key not in data:
            continue
        try:
            checked = check_field(key, data[key])
        except SemeqError as exc:
            if key == "current":
                raise WatchError(f"in {path.name}, 'current' must be the EQ on the track (13 named parameters): {exc}") from None
            raise WatchError(f"in {path.name}, {exc}") from None
        data[key] = checked.to_dict() if key == "current" else checked
    return data


def resolve_request(folder_name: str | None, sidecar: dict | None) -> WatchRequest:
    """Combine a words folder and a sidecar into one request (sidecar wins; neither: auto-suggest)."""
    merged: dict = {} if folder_name is None else folder_request(folder_name)
    origin = "default" if folder_name is None else "folder"
    if sidecar:
        if "text" in sidecar or "suggest" in sidecar:
            merged = {}
        merged.update(sidecar)
        origin = "sidecar"
    if merged.get("suggest") and merged.get("text"):
        raise WatchError("the sidecar asks for both words ('text') and 'suggest'; choose one")
    if merged.get("text"):
        if "max_gain_db" in merged:
            raise WatchError("'max_gain_db' limits an auto-suggest; words take 'intensity'")
        op = "eq" if merged.get("fixed") else "adapt"
        return WatchRequest(op, merged["text"].strip(), float(merged.get("intensity", 1.0)), origin=origin,
                            current=merged.get("current"))
    for key in ("intensity", "fixed", "current"):
        if key in merged:
            raise WatchError(f"'{key}' needs words ('text') to apply to; an auto-suggest takes 'strength'")
    return WatchRequest("suggest", strength=float(merged.get("strength", DEFAULT_STRENGTH)), origin=origin,
                        max_gain_db=merged.get("max_gain_db"))


def is_ignored(name: str) -> bool:
    """True for hidden, temporary, backup and lock files (never touched by the watcher)."""
    lower = name.lower()
    return (
        name.startswith(".")
        or name.startswith("~")
        or name.endswith("~")
        or lower.endswith(TEMP_SUFFIXES)
        or lower in SYSTEM_NAMES
    )


# --- files: atomic, never overwriting -------------------------------------------------------------


def unique_name(folder: Path, stem: str, suffixes: tuple[str, ...], taken: set[str] = frozenset()) -> str:
    """The first of ``stem``, ``stem-2``, ``stem-3``, ... such that no ``<name><suffix>`` exists in
    ``folder`` and ``<name>`` is not in ``taken`` (names reserved by jobs still running)."""
    n = 1
    while True:
        name = stem if n == 1 else f"{stem}-{n}"
        if name not in taken and not any((folder / f"{name}{s}").exists() for s in suffixes):
            return name
        n += 1


def _move(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` (same file system), never replacing an existing ``dst``."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "destination exists", str(dst))
    os.rename(src, dst)


# --- readiness --------------------------------------------------------------------------------


class Settle:
    """Tracks how long each file's signature (size, mtime of audio and sidecar) has been unchanged."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[Path, tuple[tuple, float]] = {}

    def observe(self, path: Path, signature: tuple) -> float:
        """Record ``signature`` for ``path``; return the seconds it has been unchanged (0 if new)."""
        now = self._clock()
        previous = self._seen.get(path)
        if previous is None or previous[0] != signature:
            self._seen[path] = (signature, now)
            return 0.0
        return now - previous[1]

    def forget_except(self, paths: set[Path]) -> None:
        for path in list(self._seen):
            if path not in paths:
                del self._seen[path]


def _signature(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


def audio_readable(path: Path) -> bool:
    """True when soundfile can read the header of ``path`` (a format it knows, not truncated there)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:
        return False
    return info.frames > 0 and info.samplerate > 0


# --- the watcher ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchConfig:
    """Timing (seconds) and concurrency of the watcher."""

    settle_s: float = 1.0
    corrupt_after_s: float = 10.0
    poll_s: float = 0.5
    workers: int | None = None  # default: the service's worker count (2 if it has none)
    busy_retry_s: float = 0.2


@dataclass
class JobResult:
    """How one dropped file ended: ``status`` ``done`` or ``failed``, the output names, the reason."""

    source: str
    status: str
    outputs: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    stages_s: dict[str, float] = field(default_factory=dict)  # seconds per entry of STAGES (done files)


def _print(line: str) -> None:
    print(line, flush=True)


class Watcher:
    """The watch-folder engine on one home folder. Use :func:`start_watcher` or :func:`process_pending`."""

    def __init__(self, service: Any, home: Path, config: WatchConfig = WatchConfig(), log: Log = _print) -> None:
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
        self.workers = config.workers or int(getattr(service, "workers", 2) or 2)
        self.results: list[JobResult] = []
        self._settle = Settle()
        self._lock = threading.Lock()  # names reserved, counters, results
        self._reserved_outputs: set[str] = set()
        self._reserved_dest: set[Path] = set()
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._in_flight = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock_fh = None
        self._counter = 0

    # --- life cycle ---------------------------------------------------------------------------
    def acquire_home(self) -> None:
        """Take the home folder's watcher lock, or raise :class:`SemeqError` if another watcher has it."""
        fh = open(self.home / LOCK_FILE, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise SemeqError(
                f"another Semantic EQ watcher is already using {self.home}; stop it or choose another --home",
                code="busy",
            ) from None
        self._lock_fh = fh

    def release_home(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def start_workers(self) -> None:
        for i in range(self.workers):
            t = threading.Thread(target=self._work_loop, name=f"semeq-watch-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop_workers(self, timeout_s: float | None = None) -> None:
        """Let running jobs finish (up to ``timeout_s``); unfinished ones resume at the next start."""
        self._stop.set()
        self._wake.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for t in self._threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._threads = []

    # --- recovery -----------------------------------------------------------------------------
    def recover(self) -> int:
        """Resume every job folder left by a previous run; return how many were queued."""
        count = 0
        for job_dir in sorted(p for p in self.processing.iterdir() if p.is_dir()):
            job = self._read_job(job_dir)
            if job is None:  # died before the claim was written: the input is still in the inbox
                shutil.rmtree(job_dir, ignore_errors=True)
                continue
            audio = job_dir / job["name"]
            if job["state"] == "claimed":
                self._complete_claim(job_dir, job)
                if not audio.exists():
                    self.log(f"watch: {job['source']} vanished before it was processed; nothing to do")
                    shutil.rmtree(job_dir, ignore_errors=True)
                    continue
            with self._lock:
                self._reserved_outputs.add(job["output"])
                for key in ("dest_audio", "dest_sidecar", "dest_error"):
                    if job.get(key):
                        self._reserved_dest.add(self.home / job[key])
            self._enqueue(job_dir)
            count += 1
        if count:
            self.log(f"watch: resuming {count} file(s) that were being processed when the watcher stopped")
        return count

    def _complete_claim(self, job_dir: Path, job: dict) -> None:
        """Move the journaled input (and sidecar) from the inbox into the job folder, if not done yet."""
        for key, moved in (("name", True), ("sidecar_name", job.get("move_sidecar"))):
            name = job.get(key)
            if not name or not moved:
                continue
            source = self.inbox / Path(job["source"]).parent / name
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
            signature = (_signature(audio), None if sidecar is None else _signature(sidecar))
            if signature[0] is None:
                continue
            stable_s = self._settle.observe(audio, signature)
            if stable_s < self.config.settle_s:
                waiting += 1
                continue
            with self._lock:
                busy = self._in_flight >= self.workers
            if busy:
                waiting += 1
                continue
            readable = audio_readable(audio)
            if not readable and stable_s < self.config.corrupt_after_s:
                waiting += 1
                continue
            try:
                self._claim(audio, sidecar, readable)
            except FileNotFoundError:  # removed by the user between the scan and the claim
                continue
        return waiting

    def _candidates(self) -> list[tuple[Path, Path | None]]:
        """Audio candidates in the inbox (oldest first) with their sidecar, if any."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.inbox):
            dirnames[:] = sorted(d for d in dirnames if not is_ignored(d))
            names = set(filenames)
            for name in filenames:
                if is_ignored(name) or name.lower().endswith(SIDECAR_SUFFIX):
                    continue
                audio = Path(dirpath) / name
                # song.wav.json (this file only) or song.json (every audio file named song.*)
                sidecar_name = next((n for n in (name + SIDECAR_SUFFIX, Path(name).stem + SIDECAR_SUFFIX) if n in names), None)
                sidecar = Path(dirpath) / sidecar_name if sidecar_name else None
                found.append((audio, sidecar))

        def age(item):
            sig = _signature(item[0])
            return (0 if sig is None else sig[1], str(item[0]))

        return sorted(found, key=age)

    def _claim(self, audio: Path, sidecar: Path | None, readable: bool) -> None:
        """Journal the job, then move the input (and its sidecar) into the job folder."""
        rel = audio.relative_to(self.inbox)
        folder = rel.parts[0] if len(rel.parts) > 1 else None
        error, request = None, None
        try:
            if not readable:
                raise WatchError(
                    f"{audio.name} is not an audio file soundfile can read (or it is truncated or empty)"
                )
            request = resolve_request(folder, read_sidecar(sidecar) if sidecar else None)
        except WatchError as exc:
            error = str(exc)
        # a sidecar shared by two audio files with the same stem (song.wav, song.flac) stays for the other
        siblings = sidecar is not None and sidecar.name == audio.stem + SIDECAR_SUFFIX and any(
            p.stem == audio.stem and p not in (audio, sidecar) and not is_ignored(p.name)
            for p in audio.parent.iterdir()
        )
        slug = request.slug() if request else "error"
        with self._lock:
            output = unique_name(self.outbox, f"{audio.stem}.{slug}", (audio.suffix, *ARTIFACT_SUFFIXES), self._reserved_outputs)
            self._reserved_outputs.add(output)
            self._counter += 1
        job_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{self._counter:05d}-{uuid.uuid4().hex[:6]}"
        job_dir = self.processing / job_id
        job = {
            "id": job_id,
            "state": "claimed",
            "source": str(rel),
            "name": audio.name,
            "sidecar_name": sidecar.name if sidecar else None,
            "move_sidecar": sidecar is not None and not siblings,
            "sidecar": read_json_or_none(sidecar) if sidecar and siblings else None,
            "request": request.to_dict() if request else None,
            "error": error,
            "output": output,
            "attempts": 0,
            "claimed_at": time.time(),
        }
        job_dir.mkdir()
        try:
            self._write_job(job_dir, job)
            self._complete_claim(job_dir, job)
            if not (job_dir / job["name"]).exists():
                raise FileNotFoundError(errno.ENOENT, "the dropped file vanished", str(audio))
        except FileNotFoundError:
            shutil.rmtree(job_dir, ignore_errors=True)
            with self._lock:
                self._reserved_outputs.discard(output)
            raise
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
                self._wake.set()

    def run_job(self, job_dir: Path) -> JobResult | None:
        """Carry one job to its end: decide, render, write the outputs, move the input."""
        job = self._read_job(job_dir)
        if job is None:
            return None
        started = time.monotonic()
        if job["state"] in ("done", "failed"):
            return self._finish(job_dir, job, started)
        job["attempts"] += 1
        self._write_job(job_dir, job)
        stages: dict[str, float] = {}
        try:
            if job["error"]:
                raise WatchError(job["error"])
            if job["attempts"] > MAX_ATTEMPTS:
                raise WatchError(
                    f"the watcher stopped {MAX_ATTEMPTS} times while processing this file, so it was set aside"
                )
            stages = self._make_outputs(job_dir, job)
            job["state"] = "done"
        except _Stopping:  # not a crash: this attempt does not count
            job["attempts"] -= 1
            self._write_job(job_dir, job)
            return None
        except SemeqError as exc:
            job.update(state="failed", error=str(exc))
        except Exception as exc:  # a bug: the file goes to failed/ with the reason, the watcher goes on
            traceback.print_exc(file=sys.stderr)
            job.update(state="failed", error=f"an internal error stopped the processing ({type(exc).__name__}: {exc})")
        if job["state"] == "failed":
            self._remove_outputs(job)
        return self._finish(job_dir, job, started, stages)

    def _make_outputs(self, job_dir: Path, job: dict) -> dict[str, float]:
        """Decide, render, measure, draw; stage everything in the job folder, move all but the answer
        into ``outbox/``. Returns the seconds each of :data:`STAGES` took."""
        from daw_bridge import artifacts, audio
        from daw_bridge.eq import EQParams

        request = WatchRequest.from_dict(job["request"])
        src = job_dir / job["name"]
        suffix = Path(job["name"]).suffix
        stage = {s: job_dir / f"out{s}" for s in (suffix, *ARTIFACT_SUFFIXES)}
        bar = self._progress_bar(job, src)
        marks: list[float] = []

        def progress(k: int) -> None:
            marks.append(time.monotonic())
            bar(k)

        progress(0)
        answer = self._ask(request.service_request(src, f"watch-{job['id']}"))
        params = EQParams.from_dict(answer["params"])
        progress(1)
        report = audio.render_file(src, stage[suffix], params, force=True)
        progress(2)
        # the answer's own "analysis" holds descriptor scores only; the plot needs the band levels
        before = _analysis_of(self._ask({"op": "analyze", "id": f"watch-{job['id']}-before", "path": str(src)}))
        after = _analysis_of(self._ask({"op": "analyze", "id": f"watch-{job['id']}-after", "path": str(stage[suffix])}))
        progress(3)
        title = f"{job['name']}: {request.describe()}"
        artifacts.plot_eq_over_spectrum(stage[".png"], answer, before, after, title)
        stage[".lua"].write_text(artifacts.reaeq_script(answer, title), encoding="utf-8")
        # the answer JSON itself (what REAPER's folder transport and every client read), plus the watch
        # folder's own members: what was dropped, what was written, the measured result, the render
        record = {
            **answer,
            "analysis_before": before,
            "analysis_after": after,
            "render": report.to_dict(),
            "input": job["source"],
            "request": request.to_dict(),
            "outputs": [f"{job['output']}{s}" for s in (suffix, *ARTIFACT_SUFFIXES)],
        }
        record.pop("path", None)  # the job folder's copy, gone once the input moves to done/
        stage[".json"].write_text(json.dumps(record, indent=2), encoding="utf-8")
        progress(4)
        for s in (suffix, ".png", ".lua"):  # the .json follows the input's move to done/ (see _finish)
            os.replace(stage[s], self.outbox / f"{job['output']}{s}")
        marks.append(time.monotonic())
        return {name: marks[k + 1] - marks[k] for k, name in enumerate(STAGES)}

    def _progress_bar(self, job: dict, src: Path) -> Callable[[int], None]:
        """A per-stage text progress bar for files of at least :data:`LONG_FILE_S` seconds (else silent)."""
        import soundfile as sf

        info = sf.info(str(src))
        duration_s = info.frames / info.samplerate
        if duration_s < LONG_FILE_S:
            return lambda stage: None
        length = f"{int(duration_s // 60)}:{int(duration_s % 60):02d}"

        def show(stage: int) -> None:
            bar = "#" * (stage + 1) + "-" * (len(STAGES) - stage - 1)
            self.log(f"watch: {job['source']} ({length}) [{bar}] {stage + 1}/{len(STAGES)} {STAGES[stage]}")

        return show

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

    def _remove_outputs(self, job: dict) -> None:
        suffix = Path(job["name"]).suffix
        for s in (suffix, *ARTIFACT_SUFFIXES):
            (self.outbox / f"{job['output']}{s}").unlink(missing_ok=True)

    def _finish(self, job_dir: Path, job: dict, started: float, stages: dict[str, float] | None = None) -> JobResult:
        """Journal the destinations, then move the input (and sidecar) and remove the job folder."""
        state = job["state"]
        target = self.done if state == "done" else self.failed
        rel_parent = Path(job["source"]).parent
        if not job.get("dest_audio"):
            name = Path(job["name"])
            with self._lock:
                taken = {p.stem for p in self._reserved_dest if p.parent == target / rel_parent}
                stem = unique_name(target / rel_parent, name.stem, (name.suffix, SIDECAR_SUFFIX, ".error.txt"), taken)
                job["dest_audio"] = str((target / rel_parent / f"{stem}{name.suffix}").relative_to(self.home))
                job["dest_sidecar"] = str((target / rel_parent / f"{stem}{SIDECAR_SUFFIX}").relative_to(self.home))
                job["dest_error"] = (
                    str((target / rel_parent / f"{stem}.error.txt").relative_to(self.home)) if state == "failed" else None
                )
                self._reserved_dest.update(self.home / job[k] for k in ("dest_audio", "dest_sidecar", "dest_error") if job[k])
            self._write_job(job_dir, job)
        (self.home / job["dest_audio"]).parent.mkdir(parents=True, exist_ok=True)
        if state == "failed" and not (self.home / job["dest_error"]).exists():
            write_text_atomic(self.home / job["dest_error"], error_text(job))
        audio = job_dir / job["name"]
        if audio.exists():
            _move(audio, self.home / job["dest_audio"])
        sidecar = job_dir / job["sidecar_name"] if job.get("sidecar_name") and job.get("move_sidecar") else None
        if sidecar is not None and sidecar.exists():
            _move(sidecar, self.home / job["dest_sidecar"])
        elif job.get("sidecar") is not None and not (self.home / job["dest_sidecar"]).exists():
            write_text_atomic(self.home / job["dest_sidecar"], json.dumps(job["sidecar"], indent=2))
        staged_answer = job_dir / f"out{SIDECAR_SUFFIX}"
        if state == "done" and staged_answer.exists():  # last: when the answer is there, all is finished
            os.replace(staged_answer, self.outbox / f"{job['output']}{SIDECAR_SUFFIX}")
        shutil.rmtree(job_dir, ignore_errors=True)
        suffix = Path(job["name"]).suffix
        outputs = [f"{job['output']}{s}" for s in (suffix, *ARTIFACT_SUFFIXES)] if state == "done" else []
        result = JobResult(job["source"], state, outputs, job.get("error") or "", time.monotonic() - started, stages or {})
        with self._lock:
            self._reserved_outputs.discard(job["output"])
            self._reserved_dest.difference_update(self.home / job[k] for k in ("dest_audio", "dest_sidecar", "dest_error") if job.get(k))
            self.results.append(result)
            n_done = sum(r.status == "done" for r in self.results)
            n_failed = len(self.results) - n_done
        if state == "done":
            line = f"watch: done {job['source']} -> outbox/{outputs[0]} ({result.seconds:.1f} s)"
        else:
            line = f"watch: FAILED {job['source']} -> {job['dest_audio']}: {job['error']}"
        self.log(f"{line} [{n_done} done, {n_failed} failed]")
        return result

    # --- journal ------------------------------------------------------------------------------
    @staticmethod
    def _read_job(job_dir: Path) -> dict | None:
        try:
            return json.loads((job_dir / JOB_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    @staticmethod
    def _write_job(job_dir: Path, job: dict) -> None:
        write_text_atomic(job_dir / JOB_FILE, json.dumps(job, indent=2))

    # --- loops --------------------------------------------------------------------------------
    def serve(self) -> None:
        """Scan until stopped, waking on file-system events and every ``poll_s`` seconds."""
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:  # e.g. a folder removed while scanning: log, keep watching
                traceback.print_exc(file=sys.stderr)
            self._wake.wait(self.config.poll_s)
            self._wake.clear()

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
            self._wake.wait(min(self.config.poll_s, 0.1))
            self._wake.clear()


def read_json_or_none(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def error_text(job: dict) -> str:
    """The ``song.error.txt`` a person reads: what failed, why, and what to do."""
    request = job.get("request")
    asked = WatchRequest.from_dict(request).describe() if request else "(the request could not be read)"
    return (
        f"{job['name']} could not be processed: {job['error']}\n\n"
        f"Asked for: {asked}\n"
        f"Dropped as: inbox/{job['source']}\n"
        f"Failed at: {time.strftime('%Y-%m-%d %H:%M:%S')}\n\n"
        "Nothing was written to outbox/ for this file. Fix the problem and drop the file into inbox/ again.\n"
    )


def _analysis_of(answer: dict) -> dict:
    """An ``analyze`` answer without the envelope members (ok, op, id, path)."""
    return {k: v for k, v in answer.items() if k not in ("ok", "op", "id", "path")}


# --- entry points -------------------------------------------------------------------------------


class WatchHandle:
    """A running watcher; :meth:`stop` ends it (running files finish or resume at the next start)."""

    def __init__(self, watcher: Watcher, observer, thread: threading.Thread) -> None:
        self.watcher = watcher
        self._observer = observer
        self._thread = thread

    def stop(self, timeout_s: float | None = 10.0) -> None:
        self.watcher.stop_workers(timeout_s)
        self._thread.join(timeout_s)
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout_s)
        self.watcher.release_home()


def start_watcher(service: Any, home: Path, config: WatchConfig = WatchConfig(), log: Log = _print) -> WatchHandle:
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
    return WatchHandle(watcher, observer, thread)


def process_pending(
    service: Any, home: Path, config: WatchConfig = WatchConfig(), log: Log = _print, deadline_s: float | None = None
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
            if PROCESSING_DIR not in Path(event.src_path).parts:
                watcher._wake.set()

    observer = Observer()
    try:
        observer.schedule(Wake(), str(watcher.inbox), recursive=True)
        observer.daemon = True
        observer.start()
    except OSError as exc:  # e.g. out of inotify watches: the periodic scan still finds every file
        watcher.log(f"watch: file-system events unavailable ({exc}); scanning every {watcher.config.poll_s:g} s")
        return None
    return observer
