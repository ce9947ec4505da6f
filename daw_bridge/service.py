"""The one request handler behind every door (OSC server, watch folder, command line).

:meth:`Service.handle` takes a request (a JSON-like dict, checked against the op table of
:mod:`daw_bridge.ops`) and returns its answer (the answer JSON of ``docs/architecture.md``, shaped by
:mod:`daw_bridge.answers`), synchronously, in the caller's thread. It never raises: errors are
answers too, ``{"ok": false, "id", "op", "code", "message"}``. Concurrency (worker pools, ``busy``,
``timeout``) belongs to the doors: the OSC server runs quick requests in its receive loop (see
:meth:`Service.is_quick`) and the rest in its lanes.

Each op's handler is the method named in the op table (``op_eq``, ``op_render``, ...); there is no
other dispatch. Requests may carry ``current`` (the host EQ's state) so that a repeated action
builds on it, and ``push`` (``{"to": HOST, ...}``) to send the answer's EQ to that host's OSC
surface; hosts come from the registry in :mod:`daw_bridge.hosts`.

Every request is logged as one line (op, id, outcome, milliseconds; errors with their code) on the
``daw_bridge.service`` logger.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from daw_bridge import __version__
from daw_bridge.answers import (
    DEFAULT_SAMPLE_RATE_HZ,
    EQ_BLOCK_KEYS,
    RESPONSE_POINTS,
    Answer,
    AnswerCache,
    describe_params,
    eq_answer,
    error_answer,
    model_info,
    words_sentence,
)
from daw_bridge.errors import SemeqError
from daw_bridge.ops import Call, validate
from daw_bridge.paths import PathPolicy

__all__ = ["DEFAULT_SAMPLE_RATE_HZ", "RESPONSE_POINTS", "OscTarget", "Service", "log_answer"]

#: Answers to ``eq`` kept for repeated requests (same words, intensity and current EQ).
EQ_CACHE_SIZE = 512
#: Analyses kept for requests on the same unchanged file (a few: each holds band arrays, not audio).
ANALYSES_KEPT = 8

log = logging.getLogger("daw_bridge.service")


def log_answer(answer: Mapping[str, Any], elapsed_s: float) -> None:
    """Log one request's outcome as one line: op, id, ``ok`` or ``error <code>: <message>``, ms."""
    outcome = "ok" if answer.get("ok") else f"error {answer.get('code')}: {str(answer.get('message'))[:200]}"
    log.info("%s id=%s %s (%.1f ms)", answer.get("op"), str(answer.get("id"))[:64], outcome, 1000.0 * elapsed_s)


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


class Service:
    """One request handler for every door.

    ``home`` is the server's folder: requests read audio from its ``renders/`` and ``inbox/`` and
    any folder in ``allow``, and ``render`` writes inside ``home`` only; ``paths`` overrides the
    reading policy (the local command line passes :data:`daw_bridge.paths.UNRESTRICTED`, which
    lifts the writing restriction too). ``push_targets`` maps host names to their OSC surfaces
    (default: each host's ``default_osc``). ``model`` is an already loaded semantic model (anything
    with ``interpret(text, intensity)``) to share between services; by default it is loaded from
    ``model_dir`` (or the package's models) on first use.
    """

    def __init__(
        self,
        home: Path,
        model_dir: Path | None = None,
        allow=(),
        paths: PathPolicy | None = None,
        push_targets: Mapping[str, OscTarget] | None = None,
        model=None,
    ) -> None:
        from daw_bridge.hosts import HOSTS

        self.home = Path(home).expanduser()
        self.model_dir = model_dir
        # requests/ holds REAPER's request files, which describe a track by its items (daw_bridge.items)
        self.paths = paths if paths is not None else PathPolicy.for_home(self.home, [*allow, self.home / "requests"])
        self.write_paths = self.paths if self.paths.roots is None else PathPolicy((self.home.resolve(),))
        self.push_targets = {name: OscTarget.parse(host.default_osc) for name, host in HOSTS.items()}
        self.push_targets.update(push_targets or {})
        #: Extra members of the ``status`` answer by source (a door adds its queues here).
        self.status_sources: dict[str, Callable[[], dict]] = {}
        self._lock = threading.Lock()
        self._model = model
        self._model_lock = threading.Lock()
        self._started = time.monotonic()
        self._counts = {"answered": 0, "errors": 0}
        self._eq_cache = AnswerCache(EQ_CACHE_SIZE)
        self._analyses: OrderedDict[tuple, Any] = OrderedDict()
        self._closed = False

    # --- model --------------------------------------------------------------------------------
    def model(self):
        """The semantic model, loaded once (thread-safe)."""
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    from daw_bridge.semantic import SemanticModel

                    self._model = SemanticModel.load(self.model_dir) if self.model_dir else SemanticModel.load()
        return self._model

    def warm(self) -> None:
        """Load the model and run one known word through it now (first-call costs of torch)."""
        self.model().interpret("warm")

    def warm_fallback(self) -> threading.Thread:
        """Load the sentence-embedding fallback for unknown words in a background thread.

        Loading it takes seconds (sentence-transformers and its model); ``semeq serve`` starts this
        after its ready line so that the first unknown word is answered quickly. It works through
        the public interpret with a word that is in no vocabulary.
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
    def handle(self, request: Any) -> Answer:
        """Check and answer ``request`` in this thread; never raises."""
        started = time.monotonic()
        try:
            call = self.prepare(request)
        except Exception as exc:
            rid = request.get("id") if isinstance(request, Mapping) else None
            op = request.get("op") if isinstance(request, Mapping) else None
            answer = self._failure(rid if isinstance(rid, (str, int)) else None, op if isinstance(op, str) else None, exc)
            return self._answered(answer, started)
        return self.run(call, started)

    def prepare(self, request: Any) -> Call:
        """Check ``request`` against the op table (raises a :class:`SemeqError`); ``current`` and
        ``params`` come out as :class:`~daw_bridge.eq.EQParams`, parsed once."""
        return validate(request)

    def run(self, call: Call, started: float | None = None) -> Answer:
        """Answer a checked request (the op table's handler); never raises; logs one line."""
        started = time.monotonic() if started is None else started
        try:
            if self._closed:
                raise SemeqError("the service is shut down", code="busy")
            answer = getattr(self, call.op.handler)(call)
        except Exception as exc:
            answer = self._failure(call.id, call.op.name, exc)
        return self._answered(answer, started)

    def cached(self, call: Call, started: float | None = None) -> Answer | None:
        """The stored answer of a repeated ``eq`` (same words, intensity, current; no push), else
        None: a door answers it at once instead of queueing model work. A hit is logged and counted."""
        if call.op.name != "eq" or call.values.get("push") is not None or self._closed:
            return None
        answer = self._eq_cache.get(self._eq_key(call))
        if answer is None:
            return None
        answer["id"] = call.id
        return self._answered(answer, time.monotonic() if started is None else started)

    def is_quick(self, call: Call) -> bool:
        """True when :meth:`run` answers ``call`` in a short, bounded time (well under a millisecond
        of this machine): an ``eq`` with no ``push`` and no ``current``, all of whose words the
        loaded model reads without the sentence-embedding fallback. A door may answer it in place."""
        if call.op.name != "eq" or call.values["push"] is not None or call.values["current"] is not None:
            return False
        local = getattr(self._model, "answers_locally", None)  # None: not loaded yet (loading takes long)
        return local is not None and local(call.values["text"])

    def status(self) -> dict:
        """Version, model, uptime (s), counters, and what each status source adds (queues, ...)."""
        with self._lock:
            counts = dict(self._counts)
        model = self._model
        status = {
            "version": __version__,
            "model": None if model is None else model_info(model),
            "uptime_s": round(time.monotonic() - self._started, 3),
            "home": str(self.home),
            "readable_folders": None if self.paths.roots is None else [str(r) for r in self.paths.roots],
            "push_targets": {k: str(v) for k, v in self.push_targets.items()},
            "eq_cache_hits": self._eq_cache.hits,
            **counts,
        }
        for source in list(self.status_sources.values()):
            status.update(source())
        return status

    def close(self) -> None:
        """Refuse further requests (answered with ``busy``: the service is shut down)."""
        self._closed = True

    # --- internals ----------------------------------------------------------------------------
    def _answered(self, answer: Answer, started: float) -> Answer:
        with self._lock:
            self._counts["answered"] += 1
            self._counts["errors"] += 0 if answer.get("ok") else 1
        log_answer(answer, time.monotonic() - started)
        return answer

    @staticmethod
    def _failure(rid: Any, op: Any, exc: BaseException) -> Answer:
        """The error answer for ``exc``: its code and message, or ``internal`` for a bug (logged)."""
        if isinstance(exc, SemeqError):
            suggestions = getattr(exc, "suggestions", None)
            extra = {"suggestions": list(suggestions)} if suggestions else {}
            return error_answer(rid, op, exc.code, str(exc), **extra)
        log.exception("internal error answering %s id=%s", op, rid)
        return error_answer(rid, op, "internal", f"internal error ({type(exc).__name__}: {exc}); see the server log")

    # --- ops (named by the op table's ``handler``) ---------------------------------------------
    def op_ping(self, call: Call) -> Answer:
        return {"ok": True, "op": "ping", "id": call.id, "version": __version__}

    def op_status(self, call: Call) -> Answer:
        return {"ok": True, "op": "status", "id": call.id, **self.status()}

    @staticmethod
    def _eq_key(call: Call) -> tuple:
        """What an eq answer depends on: (text, intensity, current EQ as 13 numbers or None)."""
        current = call.values["current"]
        return (call.values["text"], call.values["intensity"], None if current is None else tuple(current.raw_vector()))

    def op_eq(self, call: Call) -> Answer:
        key = self._eq_key(call)
        text, intensity, _ = key
        current = call.values["current"]
        answer = self._eq_cache.get(key)
        if answer is None:
            interp = self.model().interpret(text, intensity)
            params, note = interp.params, ""
            if current is not None:
                from daw_bridge.fit import cascade

                fit = cascade([current, params], DEFAULT_SAMPLE_RATE_HZ)
                params = fit.params
                note = ("Built on the current EQ (its bands and the new ones fit the five exactly)." if fit.rms_db == 0.0
                        else f"Built on the current EQ (5-band fit of current + new within {fit.rms_db:.2f} dB RMS).")
            notes = " ".join(getattr(interp, "notes", ()))  # e.g. a no-change word: flat, and why
            explanation = " ".join(filter(None, (words_sentence(interp), notes, note or describe_params(params))))
            answer = eq_answer("eq", None, params, text=text, intensity=intensity, terms=interp.terms,
                               explanation=explanation, warnings=getattr(interp, "warnings", ()))
            self._eq_cache.put(key, answer)
        answer["id"] = call.id
        if call.values["push"] is None:
            return answer
        from daw_bridge.eq import EQParams

        return self._push(answer, EQParams.from_dict(answer["params"]), DEFAULT_SAMPLE_RATE_HZ, call.values["push"])

    def _analysis(self, call: Call, field: str = "path"):
        """The checked path (of ``field``) and its analysis; the last few analyses are kept by (path,
        device, inode, size, mtime), so asking ``analyze`` and then ``adapt``/``suggest`` on one file
        reads and analyses it once. A ``.json`` path is a REAPER track's items, mixed here."""
        from daw_bridge.analysis import analyze_file

        if str(call.values[field]).lower().endswith(".json"):
            return self._track_analysis(call.values[field])
        # checked on what was opened, and read through that open file only (never by name again)
        with self.paths.open(call.values[field]) as opened:
            stat = os.fstat(opened.file.fileno())
            key = (str(opened.path), *opened.identity, stat.st_size, stat.st_mtime_ns)
            with self._lock:
                analysis = self._analyses.get(key)
            if analysis is None:
                analysis = analyze_file(opened)
        self._keep(key, analysis)
        return opened.path, analysis

    def _track_analysis(self, value: str):
        """A REAPER track file's path and the analysis of its items mixed (kept while they are unchanged)."""
        from daw_bridge.items import analyze_track_file, track_key

        path = self.paths.check(value)
        key = track_key(path)  # pressing again on an unchanged track hits
        with self._lock:
            analysis = None if key is None else self._analyses.get(key)
        if analysis is None:
            analysis = analyze_track_file(path, self.paths)
        if key is not None:
            self._keep(key, analysis)
        return path, analysis

    def _keep(self, key, analysis) -> None:
        with self._lock:
            self._analyses[key] = analysis
            self._analyses.move_to_end(key)
            while len(self._analyses) > ANALYSES_KEPT:
                self._analyses.popitem(last=False)

    def op_analyze(self, call: Call) -> Answer:
        path, analysis = self._analysis(call)
        return {"ok": True, "op": "analyze", "id": call.id, "path": str(path), **analysis.to_dict()}

    def op_adapt(self, call: Call) -> Answer:
        from daw_bridge.adapt import adapt_words

        from daw_bridge.semantic.model import NeedsAudioError

        v = call.values
        path, analysis = self._analysis(call)
        try:
            decision = adapt_words(analysis, v["text"], self.model(), v["intensity"], current=v["current"])
        except NeedsAudioError:  # "better", "fix it": with audio, that is auto-suggest
            from daw_bridge.adapt import suggest
            from daw_bridge.ops import FIELDS

            decision = suggest(analysis, self.model(), strength=FIELDS["strength"].default,
                               max_gain_db=FIELDS["max_gain_db"].default)
        return self._decision_answer(call, path, analysis, decision, text=v["text"], intensity=v["intensity"])

    def op_suggest(self, call: Call) -> Answer:
        from daw_bridge.adapt import suggest

        v = call.values
        path, analysis = self._analysis(call)
        if v["reference"] is not None:  # match to a reference track, corrective first
            from daw_bridge.match import match

            _, reference = self._analysis(call, "reference")
            decision = match(analysis, reference, strength=v["strength"], max_gain_db=v["max_gain_db"])
        else:
            decision = suggest(analysis, strength=v["strength"], max_gain_db=v["max_gain_db"])
        return self._decision_answer(call, path, analysis, decision)

    def op_render(self, call: Call) -> Answer:
        """Render ``path`` through ``params`` into ``output`` (inside home); the render report."""
        from daw_bridge.audio import render_file

        dst = self.write_paths.check(call.values["output"])
        with self.paths.open(call.values["path"]) as opened:  # read through what was checked
            report = render_file(opened, dst, call.values["params"], force=call.values["overwrite"], within=self.write_paths.roots)
        return {"ok": True, "op": "render", "id": call.id, "path": str(opened.path), "output": str(dst), "render": report.to_dict()}

    def _decision_answer(self, call: Call, path, analysis, decision, text=None, intensity=None) -> Answer:
        """An adapt/suggest answer: the EQ block plus the decision's own members (analysis, expected...)."""
        decided = decision.to_dict()
        extra = {k: v for k, v in decided.items() if k not in EQ_BLOCK_KEYS}
        sample_rate_hz = float(getattr(analysis, "sample_rate_hz", DEFAULT_SAMPLE_RATE_HZ))
        answer = eq_answer(
            call.op.name,
            call.id,
            decision.params,
            sample_rate_hz=sample_rate_hz,
            text=text,
            intensity=intensity,
            terms=decided.get("terms") or (),
            explanation=decided.get("explanation") or "",
            warnings=decided.get("warnings") or (),
            extra={"path": str(path), "summary": analysis.summary, **extra},
        )
        return self._push(answer, decision.params, sample_rate_hz, call.values["push"])

    def _push(self, answer: Answer, params, sample_rate_hz: float, push: dict | None) -> Answer:
        """Send the EQ to the host named in ``push`` (checked by the op table) and say so in ``pushed``."""
        if push is None:
            return answer
        from daw_bridge.hosts import HOSTS

        host = HOSTS[push["to"]]
        target = self.push_targets.get(host.name) or OscTarget.parse(host.default_osc)
        where = {f.name: push[f.name] for f in host.target}
        sent = host.push(params, push.get("sample_rate_hz", sample_rate_hz), target.host, target.port, **where)
        answer["pushed"] = {**push, "host": target.host, "port": target.port, "messages": len(sent or ())}
        return answer
