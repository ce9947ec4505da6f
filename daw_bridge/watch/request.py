"""What a dropped file asks for: a words folder and/or a sidecar, checked by the op table.

``inbox/song.wav`` with an optional sidecar ``inbox/song.json`` (or ``inbox/song.wav.json``):
``{"text": "warmer"}`` (adaptive: sized to the track), ``{"text": "warmer", "fixed": true}`` (the
plain preset), ``{"suggest": true, "strength": 0.5, "max_gain_db": 4}`` (auto-suggest), and
``"intensity"`` (-2..2) or ``"current"`` (the EQ on the track) with a text. Or a words folder
``inbox/<words>/song.wav``: ``inbox/warmer/``, ``inbox/a-bit-less-harsh/`` (``-`` and ``_`` read as
spaces), ``inbox/suggest/`` or ``inbox/suggest-30/`` (auto-suggest at strength 0.30). A sidecar's
``text`` or ``suggest`` replaces the folder's words; its other keys are added. Neither: auto-suggest
at strength 0.5. The sidecar's request fields, their types and ranges are the op table's
(:mod:`daw_bridge.ops`); its size and nesting are checked before it is parsed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from daw_bridge.errors import SemeqError
from daw_bridge.ops import OPS, check_field, loads_json

#: Auto-suggest strength (0..1) when a file comes with neither a sidecar nor a words folder.
DEFAULT_STRENGTH = 0.5
#: Longest slug of the words in an output name (characters).
MAX_SLUG_CHARS = 48
SIDECAR_SUFFIX = ".json"
#: Sidecar keys: the request fields of the ops a dropped file can ask for (op table), and two flags.
SIDECAR_FIELDS = tuple(dict.fromkeys(
    name for op in ("adapt", "eq", "suggest") for name in OPS[op].required + OPS[op].optional if name not in ("path", "push")
))
SIDECAR_FLAGS = ("suggest", "fixed")
SIDECAR_KEYS = SIDECAR_FIELDS + SIDECAR_FLAGS
_SUGGEST_FOLDER = re.compile(r"^(?:auto[-_ ]?)?suggest(?:[-_ ](\d{1,3}))?$|^auto$", re.IGNORECASE)


class WatchError(SemeqError):
    """A dropped file that cannot be processed as asked (bad sidecar, unreadable audio)."""

    code = "bad_request"


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


def read_json_or_none(path: Path | None):
    """The JSON in ``path``, or None when it is missing or not JSON (a sidecar copied as it is)."""
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
