"""The request vocabulary: ONE table of ops and their fields, and the checks that follow from it.

Everything that knows what a request may say reads it from here: the service's validation
(:func:`validate`), the OSC door's positional arguments and options (:mod:`daw_bridge.wire`),
``semeq send``'s subcommands (:mod:`daw_bridge.cli.send`), the watch folder's sidecar checks and the
tables of ``docs/osc-protocol.md`` (:func:`protocol_tables`; a test fails when the document drifts).

A request is a mapping ``{"op": NAME, "id": "...", field: value, ...}``. Every op also takes
``timeout_s``. Adding an op is one :class:`Op` line in :data:`OPS` plus its handler in
:mod:`daw_bridge.service`; a new field is one :class:`Field` line in :data:`FIELDS`.

Light to import (standard library only): the command-line client builds its parser from this table.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from daw_bridge.errors import SemeqError

#: Longest request id (characters).
MAX_ID_CHARS = 128
#: Longest JSON text accepted in a field or a sidecar (characters), and its deepest nesting.
MAX_JSON_CHARS = 20_000
MAX_JSON_DEPTH = 4
#: Largest whole number a host's OSC surface takes (OSC ``i`` is a signed 32-bit integer).
OSC_INT_MAX = 2**31 - 1
#: Longest path (characters).
MAX_PATH_CHARS = 4096


class BadRequestError(SemeqError):
    """A request that is malformed: unknown op, missing id, wrong field types or values."""

    code = "bad_request"


@dataclass(frozen=True)
class Field:
    """One request field. ``kind`` is one of :data:`KINDS`; ``lo``/``hi`` bound a number
    (inclusive), ``max_chars`` a text; ``default`` is used when an optional field is absent."""

    name: str
    kind: str
    doc: str
    lo: float | None = None
    hi: float | None = None
    default: Any = None
    max_chars: int | None = None

    @property
    def wire(self) -> str:
        """How the field travels in an OSC message: ``string``, ``number``, ``bool`` or ``json``."""
        return KINDS[self.kind]

    def describe(self) -> str:
        """The field's range and default in words (for the protocol tables and ``--help``)."""
        parts = []
        if self.lo is not None or self.hi is not None:
            lo = "" if self.lo is None else f"{self.lo:g}"
            hi = "" if self.hi is None else f"{self.hi:g}"
            parts.append(f"{lo} .. {hi}".strip())
        if self.max_chars is not None:
            parts.append(f"at most {self.max_chars} characters")
        if isinstance(self.default, bool):
            parts.append(f"default {str(self.default).lower()}")
        elif self.default is not None:
            parts.append(f"default {self.default:g}")
        return "; ".join(parts)


#: Field kinds and how each travels over OSC.
KINDS = {"text": "string", "path": "string", "number": "number", "bool": "bool", "eq": "json", "push": "json"}


@dataclass(frozen=True)
class Op:
    """One request: ``required`` fields in positional order (OSC arguments after the id, CLI
    positionals), ``optional`` fields, the ``lane`` it runs in (``quick``: answered at once;
    ``term``: words, no audio; ``audio``: reads or writes audio), the :class:`Service` method
    ``handler`` (its method name) and a one-line ``doc``."""

    name: str
    lane: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    handler: str
    doc: str
    fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", self.required + self.optional + COMMON)


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("text", "text", "the words describing the sound, e.g. 'a bit warmer'; places and amounts are applied "
              "as asked ('cut 300 Hz', 'less mud around 250 Hz', '3 dB brighter': a term of kind 'place')", max_chars=500),
        Field("path", "path", "absolute path of an audio file in a folder the server may read, or of a REAPER track file (.json item list in the home's requests/)", max_chars=MAX_PATH_CHARS),
        Field("output", "path", "absolute path of the audio file to write, inside the server's home", max_chars=MAX_PATH_CHARS),
        Field("intensity", "number", "how much of the words' EQ (negative = the opposite EQ, 0 = flat)", -2.0, 2.0, 1.0),
        Field("strength", "number", "how much of what suggest finds it corrects (0: flat, 1: all of the estimate)", 0.0, 1.0, 0.5),
        Field("reference", "path", "suggest: absolute path of a reference track (audio or REAPER track file) to match instead of typical music", max_chars=MAX_PATH_CHARS),
        Field("max_gain_db", "number", "largest boost or cut per band for suggest (dB)", 0.1, 12.0, 6.0),
        Field("current", "eq", "the host EQ's state: the 13 named parameters or a list of 13 numbers; a repeated action builds on it"),
        Field("params", "eq", "the EQ to apply: the 13 named parameters or a list of 13 numbers"),
        Field("overwrite", "bool", "replace an existing output file", default=False),
        Field("push", "push", 'also send the EQ to a host\'s OSC surface: {"to": HOST, ...its target fields} (optional "sample_rate_hz")'),
        Field("timeout_s", "number", "give up after this many seconds (at most the server's --request-timeout)", 0.001, 3600.0),
    )
}
#: Fields every op takes.
COMMON = ("timeout_s",)

OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("ping", "quick", (), (), "op_ping", "answers at once"),
        Op("status", "quick", (), (), "op_status", "version, model, uptime, queue depth, counters"),
        Op("eq", "term", ("text",), ("intensity", "current", "push"), "op_eq", "words -> EQ (no audio)"),
        Op("analyze", "audio", ("path",), (), "op_analyze", "what the analysis hears in the file"),
        Op("adapt", "audio", ("path", "text"), ("intensity", "current", "push"), "op_adapt", "words -> EQ sized to the track"),
        Op("suggest", "audio", ("path",), ("strength", "max_gain_db", "reference", "push"), "op_suggest", "fix what is likely a problem in the track (or match a reference track)"),
        Op("render", "audio", ("path", "output", "params"), ("overwrite",), "op_render", "the file through the EQ, loudness-matched and peak-safe"),
    )
}


@dataclass(frozen=True)
class Call:
    """A checked request: its :class:`Op`, id and every field of the op (defaults filled in,
    absent optional fields None; ``current``/``params`` as :class:`~daw_bridge.eq.EQParams`)."""

    op: Op
    id: str
    values: dict[str, Any]


# --- checks -------------------------------------------------------------------------------------


def request_id(request: Mapping) -> str:
    """The request's id as a string (an int is read as its decimal string)."""
    rid = request.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or rid == "":
        raise BadRequestError("every request needs an 'id' (a short string)")
    rid = str(rid)
    if len(rid) > MAX_ID_CHARS:
        raise BadRequestError(f"the request id is longer than {MAX_ID_CHARS} characters")
    return rid


def find_op(name: Any) -> Op:
    """The :class:`Op` called ``name``, or :class:`BadRequestError` listing the known ops."""
    op = OPS.get(name) if isinstance(name, str) else None
    if op is None:
        shown = repr(name[:40]) if isinstance(name, str) else _shown(name)
        raise BadRequestError(f"unknown op {shown}; known: {', '.join(OPS)}")
    return op


def validate(request: Any) -> Call:
    """Check a whole request against the table; raise :class:`BadRequestError` (or ``bad_params``
    for an EQ value out of range) with a message naming the field."""
    if not isinstance(request, Mapping):
        raise BadRequestError("a request is a JSON object with 'op' and 'id'")
    rid = request_id(request)
    op = find_op(request.get("op"))
    unknown = sorted(str(k)[:40] for k in request if k not in ("op", "id") and k not in op.fields)
    if unknown:
        named = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise BadRequestError(f"'{op.name}' does not take {named}; it takes {', '.join(op.fields)}")
    missing = [name for name in op.required if request.get(name) is None]
    if missing:
        raise BadRequestError(f"'{op.name}' needs {', '.join(missing)}")
    values = {name: check_field(name, request[name]) if request.get(name) is not None else FIELDS[name].default for name in op.fields}
    return Call(op, rid, values)


def check_field(name: str, value: Any) -> Any:
    """Check one field's value (type, range, size) and return it in its working form."""
    spec = FIELDS[name]
    return _CHECKS[spec.kind](spec, value)


def _number(spec: Field, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequestError(f"'{spec.name}' must be a number, got {_shown(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer too big for a float
        raise BadRequestError(f"'{spec.name}' = {_shown(value)} is far outside {spec.describe().split(';')[0]}") from None
    if not finite:
        raise BadRequestError(f"'{spec.name}' must be a finite number, got {value}")
    lo = -math.inf if spec.lo is None else spec.lo
    hi = math.inf if spec.hi is None else spec.hi
    if not lo <= value <= hi:
        raise BadRequestError(f"'{spec.name}' = {value:g} is outside {spec.describe().split(';')[0]}")
    return float(value)


def _string(spec: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise BadRequestError(f"'{spec.name}' must be a string: {spec.doc}; got {_shown(value)}")
    if spec.max_chars is not None and len(value) > spec.max_chars:
        raise BadRequestError(f"'{spec.name}' is longer than {spec.max_chars} characters ({len(value)})")
    if "\x00" in value:
        raise BadRequestError(f"'{spec.name}' contains a NUL character")
    return value


def _text(spec: Field, value: Any) -> str:
    text = _string(spec, value).strip()
    if not text:
        raise BadRequestError(f"'{spec.name}' must be {spec.doc}")
    return text


def _path(spec: Field, value: Any) -> str:
    path = _string(spec, value)
    if not path:
        raise BadRequestError(f"'{spec.name}' is empty: it must be the {spec.doc}")
    return path


def _bool(spec: Field, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequestError(f"'{spec.name}' must be true or false, got {_shown(value)}")
    return value


def _eq(spec: Field, value: Any):
    """An EQ as 13 named parameters or 13 numbers -> EQParams (errors: ``bad_params``)."""
    check_depth(value, spec.name)
    from daw_bridge.eq import EQParams

    if isinstance(value, (list, tuple)) and not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise BadRequestError(f"'{spec.name}' as a list must be 13 numbers, got {_shown(value)}")
    try:
        if isinstance(value, (list, tuple)):
            return EQParams.from_vector(value)
        return EQParams.from_dict(value)
    except SemeqError:
        raise
    except (TypeError, ValueError, OverflowError):  # not numbers, or too big for a float
        raise BadRequestError(
            f"'{spec.name}' must be the 13 EQ parameters as numbers (named or a list), got {_shown(value)}"
        ) from None


def _push(spec: Field, value: Any) -> dict:
    """``{"to": HOST, <the host's target fields>, "sample_rate_hz"?}`` checked against the host registry."""
    from daw_bridge.hosts import HOSTS

    check_depth(value, spec.name)
    if not isinstance(value, Mapping):
        raise BadRequestError(f"'push' must be an object such as {{\"to\": \"{next(iter(HOSTS))}\", ...}}, got {_shown(value)}")
    to = value.get("to")
    host = HOSTS.get(to) if isinstance(to, str) else None
    if host is None:
        raise BadRequestError(f"push 'to' must be one of {', '.join(HOSTS)}, got {_shown(value.get('to'))}")
    checked: dict[str, Any] = {"to": host.name}
    for target in host.target:
        number = value.get(target.name)
        if isinstance(number, bool) or not isinstance(number, int) or not target.minimum <= number <= OSC_INT_MAX:
            raise BadRequestError(
                f"push to {host.name} needs '{target.name}' ({target.doc}) as a whole number from {target.minimum} "
                f"to {OSC_INT_MAX} (an OSC int), got {_shown(number)}"
            )
        checked[target.name] = number
    if "sample_rate_hz" in value:
        checked["sample_rate_hz"] = _number(Field("sample_rate_hz", "number", "", 8000.0, 384000.0), value["sample_rate_hz"])
    extra = sorted(str(k)[:40] for k in value if k not in checked)
    if extra:
        raise BadRequestError(f"push to {host.name} does not take {', '.join(extra)}")
    return checked


_CHECKS = {"text": _text, "path": _path, "number": _number, "bool": _bool, "eq": _eq, "push": _push}


def _shown(value: Any) -> str:
    """A value for an error message: its repr, cut to 60 characters, and its type."""
    text = repr(value)
    return f"{text[:57] + '...' if len(text) > 60 else text} ({type(value).__name__})"


def check_depth(value: Any, what: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse a decoded value nested deeper than ``max_depth`` (checked without recursing past it)."""
    level = [value]
    for _ in range(max_depth + 1):
        level = [v for item in level for v in (item.values() if isinstance(item, Mapping) else item if isinstance(item, (list, tuple)) else ())]
        if not level:
            return
    raise BadRequestError(f"'{what}' is nested deeper than {max_depth} levels")


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def loads_json(text: Any, what: str, max_chars: int = MAX_JSON_CHARS, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON text with limits checked *before* parsing: at most ``max_chars`` characters and
    ``max_depth`` levels of nesting. Raises :class:`BadRequestError` naming ``what``."""
    if not isinstance(text, str):
        raise BadRequestError(f"'{what}' must be a JSON text, got {_shown(text)}")
    if len(text) > max_chars:
        raise BadRequestError(f"'{what}' is longer than {max_chars} characters ({len(text)})")
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > max_depth:
            raise BadRequestError(f"'{what}' is nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadRequestError(f"'{what}' is not valid JSON ({exc})") from None


# --- the protocol document's tables -------------------------------------------------------------


def protocol_tables() -> str:
    """The Markdown tables of ``docs/osc-protocol.md`` between its generated-table markers."""
    rows = ["| address | required after the id | optional `key value` pairs | lane | what it does |", "|---|---|---|---|---|"]
    for op in OPS.values():
        required = ", ".join(f"`{n}`" for n in op.required)
        optional = ", ".join(f"`{n}`" for n in op.optional)
        rows.append(f"| `/semeq/{op.name}` | {required} | {optional} | {op.lane} | {op.doc} |")
    rows += ["", "| field | kind (OSC type) | range / default | meaning |", "|---|---|---|---|"]
    wire_types = {"string": "`s`", "number": "`i`, `f`, `d` or `h`", "bool": "`T` or `F`", "json": "`s`: JSON"}
    for spec in FIELDS.values():
        rows.append(f"| `{spec.name}` | {spec.kind} ({wire_types[spec.wire]}) | {spec.describe()} | {spec.doc} |")
    return "\n".join(rows)
