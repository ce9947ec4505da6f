"""The one request handler behind every door (OSC server, watch folder, command line).

A request is a JSON-like dict with an ``op`` and an ``id``; the answer is a dict in the answer JSON
of ``docs/architecture.md``, built for every EQ by :func:`eq_answer` (the single place that shapes
it). Errors are answers too: ``{"ok": false, "id", "op", "code", "message"}``.

Ops:

- ``ping``, ``status``: answered at once, in the caller's thread.
- ``eq`` (text -> EQ, no audio) runs in the *term lane*: a few milliseconds for known words, 0.1 s
  and more when a word goes through the sentence-embedding fallback, 0.1-0.5 s with ``current`` (a
  least-squares fit); the model is loaded once.
- ``analyze``, ``adapt``, ``suggest`` (they read audio) run in the *audio lane*.

A lane is a bounded worker pool (:class:`concurrent.futures.ThreadPoolExecutor`) with a bounded
queue. When every worker of a lane is busy and its queue is full the answer is the error ``busy``
at once; a request that is not answered within its timeout gets the error ``timeout`` (a queued
request is then cancelled). The lanes are separate, so a term request never waits behind an
analysis.

Requests may carry ``current`` (the host EQ's state, 13 parameters) so that a repeated action builds
on it, and ``push`` (``{"to": "ardour", "strip": N, "plugin": N}`` or ``{"to": "reaper",
"track": N, "fx": N}``) to send the answer's EQ to that host's OSC surface at the address the
service was configured with.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import threading
import time
import traceback
from collections import OrderedDict
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from daw_bridge import __version__
from daw_bridge.errors import SemeqError
from daw_bridge.paths import PathPolicy

#: Sample rate of an answer's response curve and host mapping when no audio is involved (Hz).
DEFAULT_SAMPLE_RATE_HZ = 48000.0
#: Points of the answer's response curve (log-spaced 20 Hz .. 20 kHz); keeps an OSC reply small.
RESPONSE_POINTS = 128

QUICK_OPS = ("ping", "status")
TERM_OPS = ("eq",)
AUDIO_OPS = ("analyze", "adapt", "suggest")
OPS = QUICK_OPS + TERM_OPS + AUDIO_OPS
#: Workers and queue places of the term lane (``eq``): a burst queues, at most ~0.3 s of work.
TERM_WORKERS = 2
TERM_QUEUE = 64
#: Answers to ``eq`` kept for repeated requests (same words, intensity and current EQ).
EQ_CACHE_SIZE = 512

#: Longest request id and text accepted (characters).
MAX_ID_CHARS = 128
MAX_TEXT_CHARS = 500

#: Fields each op accepts besides ``op``, ``id`` and ``timeout_s``.
OP_FIELDS: dict[str, tuple[str, ...]] = {
    "ping": (),
    "status": (),
    "eq": ("text", "intensity", "current", "push"),
    "analyze": ("path",),
    "adapt": ("path", "text", "intensity", "current", "push"),
    "suggest": ("path", "strength", "max_gain_db", "push", "reference"),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "eq": ("text",),
    "analyze": ("path",),
    "adapt": ("path", "text"),
    "suggest": ("path",),
}

Answer = dict
Reply = Callable[[Answer], None]


class BadRequestError(SemeqError):
    """A request that is malformed: unknown op, missing id, wrong field types."""

    code = "bad_request"


class BusyError(SemeqError):
    """Every worker is busy and the queue is full."""

    code = "busy"


class RequestTimeoutError(SemeqError):
    """The request was not answered within its timeout."""

    code = "timeout"


class _Lane:
    """A bounded worker pool: ``workers`` threads, at most ``queue_size`` requests waiting."""

    def __init__(self, name: str, workers: int, queue_size: int) -> None:
        self.name = name
        self.workers = workers
        self.queue_size = queue_size
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix=f"semeq-{name}")
        self.slots = threading.BoundedSemaphore(workers + queue_size)
        self.queued = 0  # guarded by the service's lock
        self.running = 0


@dataclass(frozen=True)
class OscTarget:
    """A host's OSC surface: host name or address and UDP port."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> "OscTarget":
        """Parse ``HOST:PORT`` (e.g. ``127.0.0.1:3819``)."""
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SemeqError(f"'{text}' is not HOST:PORT (for example 127.0.0.1:3819)")
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


# --- the answer JSON --------------------------------------------------------------------------


def error_answer(rid: Any, op: Any, code: str, message: str, **extra: Any) -> Answer:
    """The error answer: ``{"ok": false, "id", "op", "code", "message", ...}``."""
    return {"ok": False, "id": rid, "op": op, "code": code, "message": message, **extra}


def _terms_json(terms) -> list[dict]:
    """Term uses (objects with term, weight, source, similarity, matched, or such dicts) as JSON."""
    out = []
    for t in terms:
        get = t.get if isinstance(t, Mapping) else lambda name, t=t: getattr(t, name, None)
        similarity = get("similarity")
        out.append(
            {
                "term": get("term"),
                "weight": round(float(get("weight")), 4),
                "source": get("source"),
                "similarity": None if similarity is None else round(float(similarity), 4),
                "matched": get("matched"),
                "kind": get("kind"),
                "definition": get("definition") or None,
            }
        )
    return out


def describe_params(params) -> str:
    """One sentence naming the largest band change, e.g. '+2.1 dB low shelf at 120 Hz'."""
    bands = params.bands()
    names = ("low shelf", "peak 1", "peak 2", "peak 3", "high shelf")
    i = max(range(5), key=lambda k: abs(bands[k].gain_db))
    if bands[i].gain_db == 0.0:
        return "The EQ is flat: no band changes the sound."
    return f"Largest change: {bands[i].gain_db:+.1f} dB {names[i]} at {bands[i].freq_hz:.0f} Hz."


def eq_answer(
    op: str,
    rid: Any,
    params,
    *,
    sample_rate_hz: float = DEFAULT_SAMPLE_RATE_HZ,
    text: str | None = None,
    intensity: float | None = None,
    terms=(),
    explanation: str = "",
    warnings=(),
    extra: Mapping[str, Any] | None = None,
) -> Answer:
    """Build the answer of every request that carries an EQ (the one place for that JSON).

    ``params`` is an :class:`daw_bridge.eq.EQParams`; every host in :data:`daw_bridge.hosts.HOSTS`
    adds its block (``reaeq``, ``ardour``) and warnings; ``response_db`` is the exact magnitude
    response in dB on :data:`RESPONSE_POINTS` log-spaced frequencies (Hz) at ``sample_rate_hz``.
    ``extra`` (analysis, expected, blend, ...) is merged in last.
    """
    import numpy as np

    from daw_bridge.eq import log_freq_grid, response_db
    from daw_bridge.hosts import map_all

    mappings = map_all(params, sample_rate_hz)
    freqs_hz = np.round(log_freq_grid(RESPONSE_POINTS), 2)  # the dB are exact at these rounded Hz
    db = response_db(params, freqs_hz, sample_rate_hz)
    answer: Answer = {
        "ok": True,
        "op": op,
        "id": rid,
        "text": text,
        "intensity": intensity,
        "terms": _terms_json(terms),
        "params": params.to_dict(),
    }
    all_warnings = list(warnings)
    for name, mapping in mappings.items():
        answer[name] = mapping.block
        all_warnings.extend(mapping.warnings)
    answer["response_db"] = {
        "sample_rate_hz": float(sample_rate_hz),
        "freqs_hz": [float(f) for f in freqs_hz],
        "db": [round(float(d), 3) for d in db],
    }
    answer["warnings"] = all_warnings
    answer["explanation"] = explanation or describe_params(params)
    if extra:
        answer.update(extra)
    return answer


# --- request field checks ---------------------------------------------------------------------


def _number(request: Mapping, name: str, default: float, lo: float, hi: float) -> float:
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequestError(f"'{name}' must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise BadRequestError(f"'{name}' = {value:g} is outside {lo:g} .. {hi:g}")
    return float(value)


def _text(request: Mapping) -> str:
    text = request.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequestError("'text' must be the words describing the sound, e.g. 'warmer'")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequestError(f"'text' is longer than {MAX_TEXT_CHARS} characters")
    return text.strip()


def _current(request: Mapping):
    """The host EQ's current state: 13 named fields or a list of 13 numbers; None if absent."""
    current = request.get("current")
    if current is None:
        return None
    from daw_bridge.eq import EQParams

    if isinstance(current, (list, tuple)):
        return EQParams.from_vector(current)
    return EQParams.from_dict(current)


def _request_id(request: Mapping) -> str:
    rid = request.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or rid == "":
        raise BadRequestError("every request needs an 'id' (a short string)")
    rid = str(rid)
    if len(rid) > MAX_ID_CHARS:
        raise BadRequestError(f"the request id is longer than {MAX_ID_CHARS} characters")
    return rid


def _int_field(spec: Mapping, name: str, lo: int) -> int:
    value = spec.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise BadRequestError(f"push needs '{name}' as a whole number >= {lo}, got {value!r}")
    return value


# --- the service ------------------------------------------------------------------------------


class Service:
    """One request handler for every transport.

    ``home`` is the server's folder (its ``renders/`` and ``inbox/`` are readable by requests, with
    any folder in ``allow``); ``paths`` overrides that policy (the local command line passes
    :data:`daw_bridge.paths.UNRESTRICTED`). ``workers`` threads run audio ops with at most
    ``queue_size`` more waiting; ``request_timeout_s`` (seconds) bounds every audio request (a
    request may ask for less with ``timeout_s``).
    """

    def __init__(
        self,
        home: Path,
        model_dir: Path | None = None,
        workers: int = 2,
        queue_size: int = 8,
        request_timeout_s: float = 60.0,
        allow=(),
        paths: PathPolicy | None = None,
        ardour_osc: OscTarget = OscTarget("127.0.0.1", 3819),
        reaper_osc: OscTarget = OscTarget("127.0.0.1", 8000),
    ) -> None:
        if workers < 1 or queue_size < 0 or request_timeout_s <= 0:
            raise SemeqError("workers must be >= 1, queue size >= 0 and the timeout > 0 seconds")
        self.home = Path(home).expanduser()
        self.model_dir = model_dir
        self.workers = workers
        self.queue_size = queue_size
        self.request_timeout_s = float(request_timeout_s)
        self.paths = paths if paths is not None else PathPolicy.for_home(self.home, allow)
        self.push_targets = {"ardour": ardour_osc, "reaper": reaper_osc}
        self._lanes = {"audio": _Lane("audio", workers, queue_size), "term": _Lane("term", TERM_WORKERS, TERM_QUEUE)}
        self._lock = threading.Lock()
        self._model = None
        self._model_lock = threading.Lock()
        self._started = time.monotonic()
        self._counts = {"answered": 0, "errors": 0, "busy": 0, "timeouts": 0}
        self._eq_cache = AnswerCache(EQ_CACHE_SIZE)
        self._closed = False

    # --- model --------------------------------------------------------------------------------
    def model(self):
        """The semantic model, loaded once (thread-safe)."""
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    from daw_bridge.semantic import SemanticModel

                    self._model = (
                        SemanticModel.load(self.model_dir) if self.model_dir else SemanticModel.load()
                    )
        return self._model

    def warm(self) -> None:
        """Load the model and run one known word through it now (first-call costs of torch)."""
        self.model().interpret("warm")

    def warm_fallback(self) -> threading.Thread:
        """Load the sentence-embedding fallback for unknown words in a background thread.

        Loading it takes seconds (sentence-transformers and its model); ``semeq serve`` starts this
        after its ready line so that the first unknown word is answered quickly. It works through
        the public :meth:`interpret` with a word that is in no vocabulary.
        """

        def load() -> None:
            try:
                self.model().interpret("zzsemeqwarmup")
            except SemeqError:
                pass  # the expected answer: an unknown word (or the extra is not installed)

        thread = threading.Thread(target=load, name="semeq-warm-embeddings", daemon=True)
        thread.start()
        return thread

    # --- entry points -------------------------------------------------------------------------
    def handle(self, request: Mapping) -> Answer:
        """Answer ``request`` and return the answer (waits for audio ops up to their timeout)."""
        done = threading.Event()
        box: list[Answer] = []

        def reply(answer: Answer) -> None:
            box.append(answer)
            done.set()

        self.handle_async(request, reply)
        done.wait()
        return box[0]

    def handle_async(self, request: Mapping, reply: Reply) -> None:
        """Answer ``request`` by calling ``reply(answer)`` exactly once, possibly from another thread.

        ``ping``, ``status``, a repeated ``eq`` and every invalid request are answered before this
        returns; other ``eq`` and the audio ops are queued in their lane (or refused with ``busy``)
        and answered from a worker thread, or with ``timeout`` by a timer.
        """
        rid, op = None, None
        try:
            if not isinstance(request, Mapping):
                raise BadRequestError("a request is a JSON object with 'op' and 'id'")
            op = request.get("op")
            rid = _request_id(request)
            if op not in OPS:
                raise BadRequestError(f"unknown op {op!r}; known: {', '.join(OPS)}")
            self._check_fields(op, request)
            timeout_s = _number(request, "timeout_s", self.request_timeout_s, 0.001, self.request_timeout_s)
            lane = self._lane_for(op, request)
            answer = self._cached(op, request)
            if answer is not None:  # a repeated eq: no model work, answered in this thread
                answer["id"] = rid
            elif lane is None:
                answer = self._run(op, rid, request)
            else:
                self._submit(lane, op, rid, request, timeout_s, _Once(self._finish(reply)))
                return
        except SemeqError as exc:
            answer = self._error(rid, op, exc)
        except Exception as exc:  # a bug must not take the server down; the caller gets an answer
            answer = self._internal(rid, op, exc)
        self._finish(reply)(answer)

    def status(self) -> dict:
        """Version, model, uptime (s), queue depth and counters."""
        with self._lock:
            lanes = {
                name: {"queued": lane.queued, "running": lane.running, "workers": lane.workers, "queue_size": lane.queue_size}
                for name, lane in self._lanes.items()
            }
            counts = dict(self._counts)
        model = self._model
        return {
            "version": __version__,
            "model": None if model is None else _model_info(model),
            "uptime_s": round(time.monotonic() - self._started, 3),
            "queue_depth": sum(lane["queued"] for lane in lanes.values()),
            "running": sum(lane["running"] for lane in lanes.values()),
            "lanes": lanes,
            "workers": self.workers,
            "queue_size": self.queue_size,
            "request_timeout_s": self.request_timeout_s,
            "home": str(self.home),
            "readable_folders": None if self.paths.roots is None else [str(r) for r in self.paths.roots],
            "push_targets": {k: str(v) for k, v in self.push_targets.items()},
            "eq_cache_hits": self._eq_cache.hits,
            **counts,
        }

    def close(self) -> None:
        """Stop the worker pool; queued requests are cancelled, running ones finish."""
        self._closed = True
        for lane in self._lanes.values():
            lane.pool.shutdown(wait=True, cancel_futures=True)

    # --- internals ----------------------------------------------------------------------------
    def _finish(self, reply: Reply) -> Reply:
        def finish(answer: Answer) -> None:
            with self._lock:
                self._counts["answered"] += 1
                if not answer.get("ok"):
                    self._counts["errors"] += 1
                    code = answer.get("code")
                    if code == "busy":
                        self._counts["busy"] += 1
                    elif code == "timeout":
                        self._counts["timeouts"] += 1
            reply(answer)

        return finish

    @staticmethod
    def _check_fields(op: str, request: Mapping) -> None:
        allowed = {"op", "id", "timeout_s", *OP_FIELDS[op]}
        unknown = sorted(str(k) for k in request if k not in allowed)
        if unknown:
            raise BadRequestError(f"'{op}' does not take {', '.join(unknown)}")
        missing = [k for k in REQUIRED_FIELDS.get(op, ()) if k not in request]
        if missing:
            raise BadRequestError(f"'{op}' needs {', '.join(missing)}")

    def _error(self, rid, op, exc: SemeqError) -> Answer:
        extra = {}
        suggestions = getattr(exc, "suggestions", None)
        if suggestions:
            extra["suggestions"] = list(suggestions)
        return error_answer(rid, op, exc.code, str(exc), **extra)

    def _internal(self, rid, op, exc: BaseException) -> Answer:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        return error_answer(rid, op, "internal", f"internal error ({type(exc).__name__}: {exc}); see the server log")

    def _lane_for(self, op: str, request: Mapping) -> _Lane | None:
        """The lane an op runs in, or None to answer in the caller's thread."""
        if op in AUDIO_OPS:
            return self._lanes["audio"]
        if op in TERM_OPS:
            return self._lanes["term"]
        return None

    def _submit(self, lane: _Lane, op: str, rid: str, request: Mapping, timeout_s: float, reply: "_Once") -> None:
        if self._closed:
            raise BusyError("the server is shutting down")
        if not lane.slots.acquire(blocking=False):
            raise BusyError(
                f"the server is busy ({lane.workers} {lane.name} requests running, {lane.queue_size} "
                "waiting); try again in a moment"
            )
        with self._lock:
            lane.queued += 1

        def work() -> Answer:
            with self._lock:
                lane.queued -= 1
                lane.running += 1
            try:
                return self._run(op, rid, request)
            finally:
                with self._lock:
                    lane.running -= 1

        try:
            future = lane.pool.submit(work)
        except RuntimeError:  # pool shut down between the check and the submit
            with self._lock:
                lane.queued -= 1
            lane.slots.release()
            raise BusyError("the server is shutting down") from None

        def on_timeout() -> None:
            reply(error_answer(rid, op, "timeout", f"no answer within {timeout_s:g} s; the request was abandoned"))
            future.cancel()  # if it never started, it never will (on_done gives its place back)

        timer = threading.Timer(timeout_s, on_timeout)
        timer.daemon = True

        def on_done(f: Future) -> None:
            timer.cancel()
            lane.slots.release()
            try:
                answer = f.result()
            except CancelledError:  # by the timeout or by close(): it never started
                with self._lock:
                    lane.queued -= 1
                answer = error_answer(rid, op, "busy", "the server shut down before this request ran")
            except SemeqError as exc:
                answer = self._error(rid, op, exc)
            except Exception as exc:
                answer = self._internal(rid, op, exc)
            reply(answer)

        timer.start()
        future.add_done_callback(on_done)

    def _run(self, op: str, rid: str, request: Mapping) -> Answer:
        if op == "ping":
            return {"ok": True, "op": "ping", "id": rid, "version": __version__}
        if op == "status":
            return {"ok": True, "op": "status", "id": rid, **self.status()}
        if op == "eq":
            return self._eq(rid, request)
        if op == "analyze":
            return self._analyze(rid, request)
        if op == "adapt":
            return self._adapt(rid, request)
        return self._suggest(rid, request)

    @staticmethod
    def _eq_key(request: Mapping) -> tuple:
        """What an eq answer depends on: (text, intensity, current EQ as 13 numbers or None)."""
        current = _current(request)
        return (
            _text(request),
            _number(request, "intensity", 1.0, -2.0, 2.0),
            None if current is None else tuple(current.raw_vector()),
        )

    def _cached(self, op: str, request: Mapping) -> Answer | None:
        """The cached answer of a repeated eq request without push, else None."""
        if op not in TERM_OPS or request.get("push") is not None:
            return None
        return self._eq_cache.get(self._eq_key(request))

    def _eq(self, rid: str, request: Mapping) -> Answer:
        push = self._push_spec(request)
        key = self._eq_key(request)
        text, intensity, _ = key
        current = _current(request)
        answer = self._eq_cache.get(key)
        if answer is None:
            interp = self.model().interpret(text, intensity)
            params, note = interp.params, ""
            if current is not None:
                from daw_bridge.fit import fit_cascade

                fit = fit_cascade(current, params, DEFAULT_SAMPLE_RATE_HZ)
                params = fit.params
                note = f"Built on the current EQ (5-band fit of current + new within {fit.rms_db:.2f} dB RMS)."
            notes = " ".join(getattr(interp, "notes", ()))
            explanation = " ".join(filter(None, (_words_sentence(interp), notes, note or describe_params(params))))
            answer = eq_answer(
                "eq", None, params, text=text, intensity=intensity, terms=interp.terms, explanation=explanation,
                warnings=getattr(interp, "warnings", ()),
            )
            self._eq_cache.put(key, answer)
        answer["id"] = rid
        if push is None:
            return answer
        from daw_bridge.eq import EQParams

        return self._push(answer, EQParams.from_dict(answer["params"]), DEFAULT_SAMPLE_RATE_HZ, push)

    def _analysis(self, request: Mapping):
        path = self.paths.check(request.get("path"))
        from daw_bridge.analysis import analyze_file

        return path, analyze_file(path)

    def _analyze(self, rid: str, request: Mapping) -> Answer:
        path, analysis = self._analysis(request)
        return {"ok": True, "op": "analyze", "id": rid, "path": str(path), **analysis.to_dict()}

    def _adapt(self, rid: str, request: Mapping) -> Answer:
        text = _text(request)
        intensity = _number(request, "intensity", 1.0, -2.0, 2.0)
        current = _current(request)
        push = self._push_spec(request)
        from daw_bridge.semantic.model import NeedsAudioError

        try:  # "better", "fix it": words that need the audio are auto-suggest when there is audio
            self.model().interpret(text, intensity)
        except NeedsAudioError:
            return self._suggest(rid, request)
        path, analysis = self._analysis(request)
        from daw_bridge.adapt import adapt_words

        decision = adapt_words(analysis, text, self.model(), intensity, current=current)
        return self._decision_answer("adapt", rid, path, analysis, decision, push, text=text, intensity=intensity)

    def _suggest(self, rid: str, request: Mapping) -> Answer:
        strength = _number(request, "strength", 0.5, 0.0, 1.0)
        max_gain_db = _number(request, "max_gain_db", 6.0, 0.1, 12.0)
        push = self._push_spec(request)
        path, analysis = self._analysis(request)
        if request.get("reference") is not None:
            from daw_bridge.analysis import analyze_file
            from daw_bridge.match import match

            reference = analyze_file(self.paths.check(request.get("reference")))
            decision = match(analysis, reference, strength=strength, max_gain_db=max_gain_db)
        else:
            from daw_bridge.adapt import suggest

            decision = suggest(analysis, strength=strength, max_gain_db=max_gain_db)
        return self._decision_answer("suggest", rid, path, analysis, decision, push)

    def _decision_answer(self, op, rid, path, analysis, decision, push, text=None, intensity=None) -> Answer:
        """An adapt/suggest answer: the EQ block plus the decision's own members (analysis, expected...)."""
        decided = decision.to_dict()
        extra = {k: v for k, v in decided.items() if k not in _EQ_BLOCK_KEYS}
        sample_rate_hz = float(getattr(analysis, "sample_rate_hz", DEFAULT_SAMPLE_RATE_HZ))
        answer = eq_answer(
            op,
            rid,
            decision.params,
            sample_rate_hz=sample_rate_hz,
            text=text,
            intensity=intensity,
            terms=decided.get("terms") or (),
            explanation=decided.get("explanation") or "",
            warnings=decided.get("warnings") or (),
            extra={"path": str(path), "summary": analysis.summary, **extra},
        )
        return self._push(answer, decision.params, sample_rate_hz, push)

    # --- push to a host's OSC surface ---------------------------------------------------------
    def _push_spec(self, request: Mapping) -> dict | None:
        spec = request.get("push")
        if spec is None:
            return None
        if not isinstance(spec, Mapping):
            raise BadRequestError("'push' must be an object such as {\"to\": \"ardour\", \"strip\": 1, \"plugin\": 1}")
        to = spec.get("to")
        if to == "ardour":
            checked = {"to": to, "strip": _int_field(spec, "strip", 1), "plugin": _int_field(spec, "plugin", 1)}
            if "sample_rate_hz" in spec:
                checked["sample_rate_hz"] = _number(spec, "sample_rate_hz", 48000.0, 8000.0, 384000.0)
        elif to == "reaper":
            checked = {"to": to, "track": _int_field(spec, "track", 0), "fx": _int_field(spec, "fx", 1)}
        else:
            raise BadRequestError(f"push 'to' must be 'ardour' or 'reaper', got {to!r}")
        extra = sorted(set(spec) - set(checked) - {"sample_rate_hz"})
        if extra:
            raise BadRequestError(f"push does not take {', '.join(map(str, extra))}")
        return checked

    def _push(self, answer: Answer, params, sample_rate_hz: float, push: dict | None) -> Answer:
        if push is None:
            return answer
        target = self.push_targets[push["to"]]
        if push["to"] == "ardour":
            module = importlib.import_module("daw_bridge.hosts.ardour")
            sent = module.push_osc(
                params, push.get("sample_rate_hz", sample_rate_hz), target.host, target.port, push["strip"], push["plugin"]
            )
        else:
            module = importlib.import_module("daw_bridge.hosts.reaeq")
            sent = module.push_osc(params, target.host, target.port, push["track"], push["fx"])
        answer["pushed"] = {**push, "host": target.host, "port": target.port, "messages": len(sent or ())}
        return answer


#: Members of the EQ block that :func:`eq_answer` owns (a decision's own copies are not merged).
_EQ_BLOCK_KEYS = {"ok", "op", "id", "text", "intensity", "terms", "params", "reaeq", "ardour", "response_db", "warnings", "explanation"}


def _words_sentence(interp) -> str:
    used = ", ".join(f"{t.term} x{t.weight:.2f}" for t in interp.terms)
    return f"Read '{interp.text}' as {used or 'no known word'} at intensity {interp.intensity:g}."


def _model_info(model) -> dict:
    vocabulary = getattr(model, "vocabulary", None)
    info = {"class": type(model).__name__}
    try:
        info["vocabulary_size"] = len(vocabulary) if vocabulary is not None else None
    except TypeError:
        info["vocabulary_size"] = None
    path = getattr(model, "path", None)
    if path is not None:
        info["path"] = str(path)
    return info


class AnswerCache:
    """A bounded, thread-safe LRU of answers (stored as JSON text, so every hit is a fresh copy).

    The same words at the same intensity on the same current EQ always give the same answer (the
    model is deterministic), and a user pressing "Make warmer" again asks exactly that.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self._items: OrderedDict[Any, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> Answer | None:
        with self._lock:
            text = self._items.get(key)
            if text is None:
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return json.loads(text)

    def put(self, key, answer: Answer) -> None:
        text = json.dumps(answer)
        with self._lock:
            self._items[key] = text
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class _Once:
    """Call the wrapped reply at most once (a worker's answer and the timeout may race)."""

    def __init__(self, reply: Reply) -> None:
        self._reply = reply
        self._lock = threading.Lock()
        self.done = False

    def __call__(self, answer: Answer) -> None:
        with self._lock:
            if self.done:
                return
            self.done = True
        self._reply(answer)
