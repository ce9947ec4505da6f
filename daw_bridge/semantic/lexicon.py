"""The studio lexicon: words engineers use, each with the EQ move published references give it.

``models/lexicon/*.toml`` (folder :func:`lexicon_dir`) hold ``[[entry]]`` tables: ``word``, ``kind``
(problem | quality | no-change), ``definition`` (our own words, <= 200 characters), ``synonyms``,
``forms``, ``confidence`` (high: >= 2 sources; low: >= 1), ``sources`` (http(s) addresses), optional
``notes``, optional ``describes_audio`` (default true; false for a word that names a cause or a thing
to imitate, such as mains hum, wind on a microphone, a telephone or a vowel, which no spectrum shape
shows: the analysis never names audio with it, ``semeq eq`` answers it like any word) and
``[[entry.move]]`` tables (``shape`` peak | low_shelf | high_shelf, ``low_hz`` <
``centre_hz`` < ``high_hz`` inside 20..20000 Hz, peak ``width_oct`` <= 3.9 octaves, signed
``gain_db`` within +-12 dB). The moves make a neutral sound *more* like the word ("less muddy" is
their negation). Every rule is checked on load; a broken file raises :class:`LexiconError` naming
file, entry and rule. TOML via :mod:`tomllib`, or PyPI ``tomli`` on Python 3.10.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from daw_bridge.eq import FREQ_RANGE_HZ, GAIN_RANGE_DB, SHELF_Q, Band, EQParams, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.layout import BANDS, q_from_octaves

try:  # Python >= 3.11
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs `tomli; python_version<'3.11'`
    import tomli as _toml  # type: ignore[no-redef,import-not-found]

LEXICON_FOLDER = "lexicon"
KINDS, CONFIDENCES = ("problem", "quality", "no-change"), ("high", "low")
#: Move shapes are the layout's band kinds; a word may use each peak slot and each shelf once.
SHAPES, PEAK_SLOTS = ("peak", "low_shelf", "high_shelf"), sum(b.kind == "peak" for b in BANDS)
#: Widest peak (octaves; Q stays inside the EQ's design range), longest definition.
MAX_WIDTH_OCT, MAX_DEFINITION_CHARS = 3.9, 200

_REQUIRED_KEYS = ("word", "kind", "definition", "confidence", "sources")
_ENTRY_KEYS = {*_REQUIRED_KEYS, "synonyms", "forms", "notes", "describes_audio", "move"}
_MOVE_KEYS = {"shape", "low_hz", "high_hz", "centre_hz", "width_oct", "gain_db"}
_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")


class LexiconError(SemeqError):
    """A lexicon file that breaks a rule (the message names file, entry and rule)."""
    code = "lexicon"


def normalise(word: str) -> str:
    """Lookup key: lower case, trimmed, runs of space/hyphen/underscore -> one space."""
    return re.sub(r"[\s_-]+", " ", word.strip().lower())


@dataclass(frozen=True)
class Move:
    """One EQ move: ``shape`` over ``low_hz``..``high_hz`` (Hz), centre or shelf corner ``centre_hz``,
    peak bandwidth ``width_oct`` (octaves; unused by shelves), signed ``gain_db`` (+ = more energy)."""

    shape: str
    low_hz: float
    high_hz: float
    centre_hz: float
    width_oct: float
    gain_db: float


@dataclass(frozen=True)
class LexiconEntry:
    """One word of the lexicon (see the module docstring for the fields)."""

    word: str
    kind: str
    definition: str
    synonyms: tuple[str, ...]
    forms: tuple[str, ...]
    confidence: str
    sources: tuple[str, ...]
    moves: tuple[Move, ...]
    notes: str = ""
    describes_audio: bool = True

    def params(self, intensity: float = 1.0) -> EQParams:
        """The word's EQ at ``intensity`` (gains scaled, clipped to +-12 dB; flat without moves): shelves
        in the shelf slots, peaks in the peak slots sorted by frequency, Q from octaves by the RBJ
        relation; unused slots are 0 dB at the flat EQ's frequencies."""
        return EQParams.from_bands(Band(m.shape, m.centre_hz, m.gain_db, q_from_octaves(m.width_oct) if m.shape == "peak"
                                        else SHELF_Q) for m in self.moves).scaled(intensity)

    def curve_db(self, freqs_hz: np.ndarray, sample_rate_hz: float = 48000.0) -> np.ndarray:
        """Magnitude response (dB) of :meth:`params` at ``freqs_hz``."""
        return response_db(self.params(), np.asarray(freqs_hz, dtype=float), sample_rate_hz)

    @property
    def region_hz(self) -> tuple[float, float] | None:
        """(lowest ``low_hz``, highest ``high_hz``) over the moves; ``None`` without moves."""
        return (min(m.low_hz for m in self.moves), max(m.high_hz for m in self.moves)) if self.moves else None

    @property
    def centre_hz(self) -> float | None:
        """Centre (or shelf corner) of the move with the largest |gain|; ``None`` without moves."""
        return max(self.moves, key=lambda m: abs(m.gain_db)).centre_hz if self.moves else None

    @property
    def names(self) -> tuple[str, ...]:
        """Headword, synonyms and forms (as written)."""
        return (self.word, *self.synonyms, *self.forms)


@dataclass(frozen=True)
class Lexicon:
    """All entries, with lookup by headword, synonym or form."""

    entries: tuple[LexiconEntry, ...]

    def __post_init__(self) -> None:
        index: dict[str, LexiconEntry] = {}
        for entry in self.entries:
            for name in entry.names:
                other = index.setdefault(normalise(name), entry)
                if other is not entry:
                    raise LexiconError(f"'{name}' is claimed by both '{other.word}' and '{entry.word}'")
        object.__setattr__(self, "_index", index)

    def lookup(self, word: str) -> LexiconEntry | None:
        """The entry whose headword, synonym or form is ``word`` (case and spacing ignored)."""
        return self._index.get(normalise(word))  # type: ignore[attr-defined]

    def words(self, kind: str | None = None) -> list[str]:
        """Headwords, sorted, optionally only of one ``kind``."""
        if kind is not None and kind not in KINDS:
            raise LexiconError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return sorted(e.word for e in self.entries if kind is None or e.kind == kind)

    def __len__(self) -> int:
        return len(self.entries)


# --- loading and validation -----------------------------------------------------------------------
def _require(ok: bool, where: str, rule: str) -> None:
    """Raise :class:`LexiconError` ``"where: rule"`` unless ``ok``."""
    if not ok:
        raise LexiconError(f"{where}: {rule}")


def _number(where: str, table: dict, key: str) -> float:
    value = table.get(key)
    _require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value), where,
             f"{key} must be a finite number, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _strings(where: str, raw: dict, key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    _require(isinstance(value, list) and all(isinstance(s, str) and s.strip() for s in value), where,
             f"{key} must be a list of non-empty strings")
    return tuple(s.strip() for s in value)


def _one_of(where: str, raw: dict, key: str, allowed: tuple[str, ...]) -> str:
    _require(raw.get(key) in allowed, where, f"{key} must be one of {', '.join(allowed)}, got {raw.get(key)!r}")
    return raw[key]


def _move(where: str, raw: Any) -> Move:
    _require(isinstance(raw, dict), where, "a move must be a table [[entry.move]]")
    unknown = sorted(set(raw) - _MOVE_KEYS)
    _require(not unknown, where, f"unknown move field(s) {', '.join(unknown)}")
    shape = _one_of(where, raw, "shape", SHAPES)
    low, high, centre, gain = (_number(where, raw, k) for k in ("low_hz", "high_hz", "centre_hz", "gain_db"))
    lo_hz, hi_hz = FREQ_RANGE_HZ
    _require(lo_hz <= low < centre < high <= hi_hz, where,
             f"region must satisfy {lo_hz:g} <= low_hz < centre_hz < high_hz <= {hi_hz:g} Hz, "
             f"got {low:g} < {centre:g} < {high:g}")
    _require(0.0 < abs(gain) <= GAIN_RANGE_DB[1], where,
             f"gain_db must be non-zero and within +-{GAIN_RANGE_DB[1]:g} dB, got {gain:g}")
    width = _number(where, raw, "width_oct") if shape == "peak" or "width_oct" in raw else 0.0
    _require(0.0 < width <= MAX_WIDTH_OCT or (shape != "peak" and "width_oct" not in raw), where,
             f"width_oct must be in (0, {MAX_WIDTH_OCT:g}] octaves, got {width:g}")
    return Move(shape, low, high, centre, width, gain)


def _entry(where: str, raw: Any) -> LexiconEntry:
    _require(isinstance(raw, dict), where, "an entry must be a table [[entry]]")
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    _require(not unknown, where, f"unknown field(s) {', '.join(unknown)}")
    _require(not missing, where, f"missing field(s) {', '.join(missing)}")
    word = raw["word"]
    _require(isinstance(word, str) and bool(word.strip()) and word == word.strip().lower(), where,
             f"word must be a non-empty lower-case string, got {word!r}")
    where = f"{where} ('{word}')"
    kind = _one_of(where, raw, "kind", KINDS)
    confidence = _one_of(where, raw, "confidence", CONFIDENCES)
    definition = raw["definition"]
    _require(isinstance(definition, str) and 0 < len(definition.strip()) <= MAX_DEFINITION_CHARS, where,
             f"definition must be non-empty and at most {MAX_DEFINITION_CHARS} characters")
    sources = _strings(where, raw, "sources")
    bad = [s for s in sources if not _URL.match(s)]
    _require(not bad, where, f"sources must be http(s) addresses, got {bad[0]!r}" if bad else "")
    needed = 1 if confidence == "low" else 2
    _require(len(set(sources)) >= needed, where,
             f"confidence '{confidence}' needs at least {needed} distinct source(s), got {len(set(sources))}")
    notes = raw.get("notes", "")
    _require(isinstance(notes, str), where, "notes must be a string")
    describes_audio = raw.get("describes_audio", True)
    _require(isinstance(describes_audio, bool), where, f"describes_audio must be true or false, got {describes_audio!r}")
    _require(isinstance(raw.get("move", []), list), where, "moves must be an array of tables [[entry.move]]")
    moves = tuple(_move(f"{where} move {i + 1}", m) for i, m in enumerate(raw.get("move", [])))
    _require(kind != "no-change" or not moves, where, "a no-change word has no moves")
    _require(kind == "no-change" or bool(moves), where, f"a {kind} word needs at least one move")
    counts = {s: sum(m.shape == s for m in moves) for s in SHAPES}
    _require(counts["low_shelf"] <= 1 and counts["high_shelf"] <= 1 and counts["peak"] <= PEAK_SLOTS, where,
             f"at most one low shelf, one high shelf and {PEAK_SLOTS} peaks, got {counts}")
    return LexiconEntry(word, kind, definition.strip(), _strings(where, raw, "synonyms"),
                        _strings(where, raw, "forms"), confidence, sources, moves, notes.strip(), describes_audio)


def read_file(path: Path) -> list[LexiconEntry]:
    """Entries of one lexicon file, validated (:class:`LexiconError` on any broken rule)."""
    try:
        data = _toml.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, _toml.TOMLDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read the lexicon file: {exc}") from None
    unknown = sorted(set(data) - {"entry"})
    _require(not unknown, str(path), f"unknown top-level key(s) {', '.join(unknown)} (expected [[entry]] tables)")
    raw = data.get("entry", [])
    _require(isinstance(raw, list) and bool(raw), str(path), "no [[entry]] tables")
    return [_entry(f"{path.name} entry {i + 1}", r) for i, r in enumerate(raw)]


def lexicon_dir() -> Path:
    """Default lexicon folder: ``lexicon/`` inside the models folder."""
    from daw_bridge.semantic.model import models_dir

    return models_dir() / LEXICON_FOLDER


def load_lexicon(dir: str | Path | None = None) -> Lexicon:
    """Read and validate every ``*.toml`` in ``dir`` (default :func:`lexicon_dir`)."""
    folder = Path(dir) if dir is not None else lexicon_dir()
    files = sorted(folder.glob("*.toml"))
    _require(bool(files), str(folder), "no lexicon files (*.toml) in this folder")
    return Lexicon(tuple(e for f in files for e in read_file(f)))
