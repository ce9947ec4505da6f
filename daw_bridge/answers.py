"""The answer JSON (``docs/architecture.md``): the one place that shapes what every door returns.

:func:`eq_answer` builds every answer that carries an EQ (the hosts' blocks from the host registry,
the exact response curve, warnings, a plain explanation); :func:`error_answer` every error.
:class:`AnswerCache` keeps answers of repeated requests.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Mapping

from daw_bridge.layout import BAND_LABELS

#: Sample rate of an answer's response curve and host mapping when no audio is involved (Hz).
DEFAULT_SAMPLE_RATE_HZ = 48000.0
#: Points of the answer's response curve (log-spaced 20 Hz .. 20 kHz); keeps an OSC reply small.
RESPONSE_POINTS = 128

Answer = dict


def error_answer(rid: Any, op: Any, code: str, message: str, **extra: Any) -> Answer:
    """The error answer: ``{"ok": false, "id", "op", "code", "message", ...}``."""
    return {"ok": False, "id": rid, "op": op, "code": code, "message": message, **extra}


#: What a term use carries into the answer (the last four only when set).
_TERM_FIELDS = ("term", "weight", "source", "similarity", "matched", "kind", "definition", "route", "via")


def _terms_json(terms) -> list[dict]:
    """Term uses (objects with term, weight, source, similarity, matched, or such dicts) as JSON; kind,
    definition, route and via are added when set."""
    out = []
    for t in terms:
        if isinstance(t, Mapping):
            term, weight, source, similarity, matched, *extras = (t.get(name) for name in _TERM_FIELDS)
        else:
            term, weight, source, similarity, matched, *extras = (getattr(t, name, None) for name in _TERM_FIELDS)
        entry = {
            "term": term,
            "weight": round(float(weight), 4),
            "source": source,
            "similarity": None if similarity is None else round(float(similarity), 4),
            "matched": matched,
        }
        # what the word is (lexicon or crowd) and, for an unknown word, how it was reached
        for name, value in zip(_TERM_FIELDS[5:], extras):
            if value:
                entry[name] = value
        out.append(entry)
    return out


def describe_params(params) -> str:
    """One sentence naming the largest band change, e.g. '+2.1 dB low shelf at 120 Hz'."""
    bands = params.bands()
    i = max(range(len(bands)), key=lambda k: abs(bands[k].gain_db))
    if bands[i].gain_db == 0.0:
        return "The EQ is flat: no band changes the sound."
    return f"Largest change: {bands[i].gain_db:+.1f} dB {BAND_LABELS[i]} at {bands[i].freq_hz:.0f} Hz."


#: Largest change (dB, anywhere in the response) below which an EQ counts as changing nothing.
NO_CHANGE_DB = 0.1


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

    from daw_bridge.eq import response_db
    from daw_bridge.hosts import map_all

    mappings = map_all(params, sample_rate_hz)
    freqs_hz, freqs_json = _response_grid()
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
        "freqs_hz": list(freqs_json),
        "db": db.round(3).tolist(),
    }
    answer["warnings"] = all_warnings
    answer["explanation"] = explanation or describe_params(params)
    # an answer that changes nothing says so: in a member clients can test and in the sentence
    answer["changed"] = bool(np.abs(db).max(initial=0.0) >= NO_CHANGE_DB)
    if not answer["changed"]:
        answer["explanation"] += (
            f" This EQ is flat (no frequency moves by {NO_CHANGE_DB:g} dB or more): applying it changes nothing."
        )
    if extra:
        answer.update(extra)
    return answer



@lru_cache(maxsize=1)
def _response_grid():
    """The response curve's frequencies (Hz, rounded to 0.01: the dB are exact at these) as an array
    and as a tuple of floats for the JSON; the same for every answer, so computed once."""
    import numpy as np

    from daw_bridge.eq import log_freq_grid

    freqs_hz = np.round(log_freq_grid(RESPONSE_POINTS), 2)
    freqs_hz.setflags(write=False)
    return freqs_hz, tuple(float(f) for f in freqs_hz)


#: Members of the EQ block that :func:`eq_answer` owns (a decision's own copies are not merged).
EQ_BLOCK_KEYS = {"ok", "op", "id", "text", "intensity", "terms", "params", "reaeq", "ardour", "response_db", "warnings", "explanation"}


def words_sentence(interp) -> str:
    used = ", ".join(f"{t.term} x{t.weight:.2f}" for t in interp.terms)
    return f"Read '{interp.text}' as {used or 'no known word'} at intensity {interp.intensity:g}."


def model_info(model) -> dict:
    vocabulary = getattr(model, "vocabulary", None)
    info: dict[str, Any] = {"class": type(model).__name__}
    try:
        info["vocabulary_size"] = len(vocabulary) if vocabulary is not None else None
    except TypeError:
        info["vocabulary_size"] = None
    path = getattr(model, "path", None)
    if path is not None:
        info["path"] = str(path)
    return info


class AnswerCache:
    """A bounded, thread-safe LRU of answers (kept serialised, so every hit is an independent copy).

    The same words at the same intensity on the same current EQ always give the same answer (the
    model is deterministic), and a user pressing "Make warmer" again asks exactly that. Answers are
    kept as pickles of the answer's plain JSON values, in memory only: about ten times cheaper to
    store and to copy out than JSON text, which matters for a server answering a thousand a second.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self._items: OrderedDict[Any, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> Answer | None:
        with self._lock:
            data = self._items.get(key)
            if data is None:
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return pickle.loads(data)

    def put(self, key, answer: Answer) -> None:
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
