"""The studio lexicon: words engineers use, each with the EQ move a published reference gives it.

Folder ``models/lexicon/`` (default :func:`daw_bridge.semantic.model.models_dir` ``/ "lexicon"``)
holds ``*.toml`` files, each an array of tables ``[[entry]]`` with ``word``, ``kind`` (problem |
quality | no-change), ``definition`` (our own words, <= 200 characters), ``synonyms``, ``forms``,
``confidence`` (high | low), ``sources`` (http(s) addresses; >= 2, exactly >= 1 when low),
optional ``notes`` and zero to five ``[[entry.move]]`` tables (``shape`` peak | low_shelf |
high_shelf, ``low_hz`` < ``centre_hz`` < ``high_hz`` inside 20..20000 Hz, ``width_oct`` <= 3.9
octaves for peaks, signed ``gain_db`` within +-12 dB). A word's moves describe the sound *more*
like the word, applied to a neutral sound; "less muddy" is the negated moves.

Every rule is checked on load; a broken file raises :class:`LexiconError` naming the file, the
entry and the rule. TOML is read with :mod:`tomllib` (Python >= 3.11) or PyPI ``tomli`` (3.10).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from daw_bridge.eq import FREQ_RANGE_HZ, GAIN_RANGE_DB, EQParams, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.hosts.reaeq import q_from_bw_oct

try:  # Python >= 3.11
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs `tomli; python_version<'3.11'`
    import tomli as _toml  # type: ignore[no-redef]

LEXICON_FOLDER = "lexicon"
KINDS = ("problem", "quality", "no-change")
SHAPES = ("peak", "low_shelf", "high_shelf")
CONFIDENCES = ("high", "low")
#: Widest peak (octaves) an entry may ask for; Q stays inside the EQ's design range.
MAX_WIDTH_OCT = 3.9
MAX_DEFINITION_CHARS = 200
#: Peak slots of the 5-band layout (low shelf, three peaks, high shelf).
PEAK_SLOTS = 3

_ENTRY_KEYS = {"word", "kind", "definition", "synonyms", "forms", "confidence", "sources", "notes", "move"}
_REQUIRED_KEYS = ("word", "kind", "definition", "confidence", "sources")
_MOVE_KEYS = {"shape", "low_hz", "high_hz", "centre_hz", "width_oct", "gain_db"}
_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")


class LexiconError(SemeqError):
    """A lexicon file that breaks a rule (the message names file, entry and rule)."""

    code = "lexicon"


def normalise(word: str) -> str:
    """Lookup key: lower case, surrounding space dropped, inner runs of space/hyphen/underscore -> one space."""
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

    def params(self, intensity: float = 1.0) -> EQParams:
        """The word's EQ at ``intensity`` (gains scaled, clipped to +-12 dB; flat without moves).

        Shelves take the shelf slots, peaks the three peak slots sorted by frequency, Q from the
        width in octaves by the RBJ relation; unused slots are 0 dB at the flat EQ's frequencies.
        """
        v = EQParams.flat().raw_vector()
        peaks = []
        for m in self.moves:
            if m.shape == "low_shelf":
                v[0], v[1] = m.gain_db, m.centre_hz
            elif m.shape == "high_shelf":
                v[11], v[12] = m.gain_db, m.centre_hz
            else:
                peaks.append((m.gain_db, m.centre_hz, q_from_bw_oct(m.width_oct)))
        for slot, peak in enumerate(sorted(peaks, key=lambda p: p[1])):
            v[2 + 3 * slot : 5 + 3 * slot] = peak
        return EQParams.from_vector(v).scaled(intensity)

    def curve_db(self, freqs_hz: np.ndarray, sample_rate_hz: float = 48000.0) -> np.ndarray:
        """Magnitude response (dB) of :meth:`params` at ``freqs_hz``."""
        return response_db(self.params(), np.asarray(freqs_hz, dtype=float), sample_rate_hz)

    @property
    def region_hz(self) -> tuple[float, float] | None:
        """(lowest ``low_hz``, highest ``high_hz``) over the moves; ``None`` without moves."""
        if not self.moves:
            return None
        return min(m.low_hz for m in self.moves), max(m.high_hz for m in self.moves)

    @property
    def centre_hz(self) -> float | None:
        """Centre (or shelf corner) of the move with the largest |gain|; ``None`` without moves."""
        if not self.moves:
            return None
        return max(self.moves, key=lambda m: abs(m.gain_db)).centre_hz

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
                key = normalise(name)
                other = index.get(key)
                if other is not None and other is not entry:
                    raise LexiconError(f"'{name}' is claimed by both '{other.word}' and '{entry.word}'")
                index[key] = entry
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
def _fail(where: str, rule: str) -> None:
    raise LexiconError(f"{where}: {rule}")


def _number(where: str, table: dict, key: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(where, f"{key} must be a finite number, got {value!r}")
    return float(value)


def _strings(where: str, raw: dict, key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        _fail(where, f"{key} must be a list of non-empty strings")
    return tuple(s.strip() for s in value)


def _move(where: str, raw: Any) -> Move:
    if not isinstance(raw, dict):
        _fail(where, "a move must be a table [[entry.move]]")
    unknown = sorted(set(raw) - _MOVE_KEYS)
    if unknown:
        _fail(where, f"unknown move field(s) {', '.join(unknown)}")
    shape = raw.get("shape")
    if shape not in SHAPES:
        _fail(where, f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    low, high, centre, gain = (_number(where, raw, k) for k in ("low_hz", "high_hz", "centre_hz", "gain_db"))
    lo_hz, hi_hz = FREQ_RANGE_HZ
    if not lo_hz <= low < centre < high <= hi_hz:
        _fail(where, f"region must satisfy {lo_hz:g} <= low_hz < centre_hz < high_hz <= {hi_hz:g} Hz, "
                     f"got {low:g} < {centre:g} < {high:g}")
    if abs(gain) > GAIN_RANGE_DB[1] or gain == 0.0:
        _fail(where, f"gain_db must be non-zero and within +-{GAIN_RANGE_DB[1]:g} dB, got {gain:g}")
    width = 0.0
    if shape == "peak" or "width_oct" in raw:
        width = _number(where, raw, "width_oct")
        if not 0.0 < width <= MAX_WIDTH_OCT:
            _fail(where, f"width_oct must be in (0, {MAX_WIDTH_OCT:g}] octaves, got {width:g}")
    return Move(shape, low, high, centre, width, gain)


def _entry(where: str, raw: Any) -> LexiconEntry:
    if not isinstance(raw, dict):
        _fail(where, "an entry must be a table [[entry]]")
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    if unknown or missing:
        _fail(where, "; ".join(([f"unknown field(s) {', '.join(unknown)}"] if unknown else [])
                               + ([f"missing field(s) {', '.join(missing)}"] if missing else [])))
    word = raw["word"]
    if not isinstance(word, str) or not word.strip() or word != word.strip().lower():
        _fail(where, f"word must be a non-empty lower-case string, got {word!r}")
    where = f"{where} ('{word}')"
    if raw["kind"] not in KINDS:
        _fail(where, f"kind must be one of {', '.join(KINDS)}, got {raw['kind']!r}")
    definition = raw["definition"]
    if not isinstance(definition, str) or not definition.strip() or len(definition) > MAX_DEFINITION_CHARS:
        _fail(where, f"definition must be non-empty and at most {MAX_DEFINITION_CHARS} characters")
    if raw["confidence"] not in CONFIDENCES:
        _fail(where, f"confidence must be one of {', '.join(CONFIDENCES)}, got {raw['confidence']!r}")
    sources = _strings(where, raw, "sources")
    bad = [s for s in sources if not _URL.match(s)]
    if bad:
        _fail(where, f"sources must be http(s) addresses, got {bad[0]!r}")
    needed = 1 if raw["confidence"] == "low" else 2
    if len(set(sources)) < needed:
        _fail(where, f"confidence '{raw['confidence']}' needs at least {needed} distinct source(s), "
                     f"got {len(set(sources))}")
    notes = raw.get("notes", "")
    if not isinstance(notes, str):
        _fail(where, "notes must be a string")
    moves_raw = raw.get("move", [])
    if not isinstance(moves_raw, list):
        _fail(where, "moves must be an array of tables [[entry.move]]")
    moves = tuple(_move(f"{where} move {i + 1}", m) for i, m in enumerate(moves_raw))
    if raw["kind"] == "no-change" and moves:
        _fail(where, "a no-change word has no moves")
    if raw["kind"] != "no-change" and not moves:
        _fail(where, f"a {raw['kind']} word needs at least one move")
    counts = {s: sum(m.shape == s for m in moves) for s in SHAPES}
    if counts["low_shelf"] > 1 or counts["high_shelf"] > 1 or counts["peak"] > PEAK_SLOTS:
        _fail(where, f"at most one low shelf, one high shelf and {PEAK_SLOTS} peaks, got {counts}")
    return LexiconEntry(word, raw["kind"], definition.strip(), _strings(where, raw, "synonyms"),
                        _strings(where, raw, "forms"), raw["confidence"], sources, moves, notes.strip())


def read_file(path: Path) -> list[LexiconEntry]:
    """Entries of one lexicon file, validated (:class:`LexiconError` on any broken rule)."""
    try:
        data = _toml.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, _toml.TOMLDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read the lexicon file: {exc}") from None
    unknown = sorted(set(data) - {"entry"})
    if unknown:
        _fail(str(path), f"unknown top-level key(s) {', '.join(unknown)} (expected [[entry]] tables)")
    raw = data.get("entry", [])
    if not isinstance(raw, list) or not raw:
        _fail(str(path), "no [[entry]] tables")
    return [_entry(f"{path.name} entry {i + 1}", r) for i, r in enumerate(raw)]


def lexicon_dir() -> Path:
    """Default lexicon folder: ``lexicon/`` inside the models folder."""
    from daw_bridge.semantic.model import models_dir

    return models_dir() / LEXICON_FOLDER


def load_lexicon(dir: str | Path | None = None) -> Lexicon:
    """Read and validate every ``*.toml`` in ``dir`` (default :func:`lexicon_dir`)."""
    folder = Path(dir) if dir is not None else lexicon_dir()
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise LexiconError(f"no lexicon files (*.toml) in {folder}")
    entries = [e for f in files for e in read_file(f)]
    return Lexicon(tuple(entries))
