"""One vocabulary over every word source, with a stated precedence.

Precedence (the model card repeats it):

1. **The studio lexicon fixes region and direction.** A crowd word that is a lexicon headword,
   synonym or form is folded onto that entry; the entry's moves are the target.
2. **The crowd refines shape and amount only where it agrees.** For each crowd source with examples
   of the entry's names, its mean curve C is compared with the lexicon curve L inside the entry's
   region widened by half an octave each side (the *window*). The source agrees when the Pearson
   correlation r of C and L in the window is at least :data:`AGREE_CORRELATION` and C moves the
   same way (slope a of C on L, with an offset, > 0). A source that fails this but still puts more
   (or less) energy in the main move's region than outside it, as the lexicon does, by at least
   :data:`DIRECTION_CONTRAST_DB`, agrees on the *direction only*: its examples still count as examples
   of the word for the encoder (tie), but do not change the EQ. The agreeing
   sources' curves (weighted r x sqrt(people)) are then fitted in the window by the entry's own moves with bounded changes:
   gain x :data:`AMOUNT_RANGE`, centre within +-:data:`CENTRE_SHIFT_OCT` octave and inside the
   region, peak width x :data:`WIDTH_RANGE`. The target is lexicon + mean r x (fit - lexicon), so
   region and direction never change. A source that disagrees is listed, and ignored for that word.
   A problem word stays targeted: if the refined moves spill more than
   :data:`TARGETED_LIMIT_DB` - :data:`TARGETED_MARGIN_DB` outside the window at the strength of
   "less X", their peaks are narrowed (x0.9 per step) until they do not (:func:`keep_targeted`).
3. **No-change entries** (flat, neutral, ...) have no moves: their EQ is exactly flat; crowd curves
   for those names are listed as disagreements and ignored.
4. **Crowd-only words** (in no lexicon entry) stay as kind ``crowd``, trained on the crowd examples
   (SAFE settings and Audealize curves as before), unless they do not describe a sound
   (:data:`~daw_bridge.semantic.words.NOT_SOUND`, with reasons) or judge rather than describe
   (:data:`~daw_bridge.semantic.words.NEEDS_AUDIO`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import least_squares

from daw_bridge.eq import EQParams, response_db
from daw_bridge.semantic.data import FIT_GRID_HZ, Example, example_from_params
from daw_bridge.semantic.lexicon import Lexicon, LexiconEntry, Move, normalise
from daw_bridge.semantic.words import NEEDS_AUDIO, NOT_SOUND

#: Smallest in-window correlation with the lexicon curve for a crowd source to refine an entry.
AGREE_CORRELATION = 0.5
#: Allowed change of a move's gain (factor), centre (octaves) and peak width (factor) by the crowd.
AMOUNT_RANGE = (0.5, 1.5)
CENTRE_SHIFT_OCT = 1.0 / 3.0
WIDTH_RANGE = (0.5, 2.0)
#: Smallest region-minus-outside contrast (dB) of a crowd curve that counts as agreeing on direction.
DIRECTION_CONTRAST_DB = 1.0
#: The region is widened by this much (octaves) on each side to compare curves.
WINDOW_MARGIN_OCT = 0.5
#: A problem word stays a targeted move: at the strength of "less X" (:data:`TARGETED_STRENGTH`), the
#: response outside its region widened by :data:`WINDOW_MARGIN_OCT` stays within
#: :data:`TARGETED_LIMIT_DB` minus :data:`TARGETED_MARGIN_DB` (room for the network's error).
TARGETED_STRENGTH = 1.25
TARGETED_LIMIT_DB = 1.5
TARGETED_MARGIN_DB = 0.5
#: Training weight of a lexicon entry's target (a crowd word's examples share weight 1 per word).
LEXICON_WEIGHT = 8.0


@dataclass(frozen=True)
class SourceCheck:
    """How one crowd source's curve for an entry compares with the lexicon curve in the window."""

    source: str
    words: tuple[str, ...]
    people: int
    correlation: float
    slope: float
    agrees: bool
    contrast_db: float = 0.0
    verdict: str = "disagrees"  # agrees | direction only | disagrees


@dataclass
class VocabWord:
    """A vocabulary word: ``kind`` problem | quality | no-change | crowd; ``source`` e.g.
    "lexicon+safe" (the sources that shaped it); ``targets``: decoder targets; ``tie``: crowd
    examples whose encodings are pulled to the word's latent; ``checks``: crowd vs lexicon."""

    term: str
    kind: str
    source: str
    targets: list[Example]
    tie: list[Example] = field(default_factory=list)
    entry: LexiconEntry | None = None
    params: EQParams | None = None
    checks: list[SourceCheck] = field(default_factory=list)

    @property
    def disagreements(self) -> list[SourceCheck]:
        return [c for c in self.checks if not c.agrees]


@dataclass(frozen=True)
class Left:
    """A crowd word left out of the vocabulary, and why."""

    word: str
    source: str
    reason: str


def window_mask(entry: LexiconEntry, freqs_hz: np.ndarray = FIT_GRID_HZ) -> np.ndarray:
    """Grid points inside the entry's region widened by :data:`WINDOW_MARGIN_OCT` on each side."""
    low, high = entry.region_hz
    k = 2.0 ** WINDOW_MARGIN_OCT
    return (freqs_hz >= low / k) & (freqs_hz <= high * k)


def compare(lexicon_db: np.ndarray, crowd_db: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(Pearson correlation, least-squares slope) of the crowd curve on the lexicon curve in ``mask``."""
    x, y = lexicon_db[mask] - lexicon_db[mask].mean(), crowd_db[mask] - crowd_db[mask].mean()
    sx, sy = float(np.sqrt((x * x).sum())), float(np.sqrt((y * y).sum()))
    if sx == 0.0 or sy == 0.0:
        return 0.0, 0.0
    return float((x * y).sum() / (sx * sy)), float((x * y).sum() / (sx * sx))


def contrast_db(entry: LexiconEntry, crowd_db: np.ndarray) -> float:
    """Crowd mean in the main move's region minus outside it (dB), signed by the move's direction."""
    main = max(entry.moves, key=lambda m: abs(m.gain_db))
    inside = (FIT_GRID_HZ >= main.low_hz) & (FIT_GRID_HZ <= main.high_hz)
    if inside.all() or not inside.any():
        return 0.0
    return float(np.sign(main.gain_db) * (crowd_db[inside].mean() - crowd_db[~inside].mean()))


def _moved(entry: LexiconEntry, theta: np.ndarray) -> LexiconEntry:
    """The entry with each move changed by (gain factor, centre shift in octaves, log2 width factor)."""
    moves = []
    for m, (gain_factor, shift_oct, log_width) in zip(entry.moves, theta.reshape(-1, 3)):
        centre = float(np.clip(m.centre_hz * 2.0 ** shift_oct, m.low_hz * 1.0001, m.high_hz / 1.0001))
        width = m.width_oct * 2.0 ** log_width if m.shape == "peak" else m.width_oct
        moves.append(Move(m.shape, m.low_hz, m.high_hz, centre, min(width, 3.9), m.gain_db * gain_factor))
    return replace(entry, moves=tuple(moves))


def refine(entry: LexiconEntry, crowd_db: np.ndarray, mask: np.ndarray) -> LexiconEntry:
    """Fit the entry's moves (bounded changes, plus a free offset) to ``crowd_db`` in ``mask``."""
    n = len(entry.moves)
    lo = np.array([[AMOUNT_RANGE[0], -CENTRE_SHIFT_OCT, math.log2(WIDTH_RANGE[0])]] * n).ravel()
    hi = np.array([[AMOUNT_RANGE[1], CENTRE_SHIFT_OCT, math.log2(WIDTH_RANGE[1])]] * n).ravel()
    start = np.array([[1.0, 0.0, 0.0]] * n).ravel()
    freqs = FIT_GRID_HZ[mask]

    def residual(theta: np.ndarray) -> np.ndarray:
        curve = _moved(entry, theta[:-1]).curve_db(freqs)
        return curve + theta[-1] - crowd_db[mask]

    result = least_squares(residual, np.append(start, 0.0), bounds=(np.append(lo, -24.0), np.append(hi, 24.0)))
    return _moved(entry, result.x[:-1])


def blend_entries(entry: LexiconEntry, fitted: LexiconEntry, share: float) -> LexiconEntry:
    """``entry`` moved ``share`` (0..1) of the way to ``fitted`` (gain, log centre, log width)."""
    moves = []
    for a, b in zip(entry.moves, fitted.moves):
        gain = a.gain_db + share * (b.gain_db - a.gain_db)
        centre = a.centre_hz * (b.centre_hz / a.centre_hz) ** share
        width = a.width_oct * (b.width_oct / a.width_oct) ** share if a.width_oct > 0 else a.width_oct
        moves.append(Move(a.shape, a.low_hz, a.high_hz, centre, width, gain))
    return replace(entry, moves=tuple(moves))


def spill_db(entry: LexiconEntry, strength: float = TARGETED_STRENGTH) -> float:
    """Largest |dB| of the entry's EQ at ``strength`` outside its window (0 if nothing is outside)."""
    outside = ~window_mask(entry)
    if not outside.any():
        return 0.0
    return float(np.max(np.abs(response_db(entry.params(strength), FIT_GRID_HZ[outside]))))


def keep_targeted(entry: LexiconEntry) -> LexiconEntry:
    """Narrow the peaks of a problem entry until it spills at most the targeted limit (see above)."""
    limit = TARGETED_LIMIT_DB - TARGETED_MARGIN_DB
    for _ in range(40):
        if spill_db(entry) <= limit:
            break
        entry = replace(entry, moves=tuple(replace(m, width_oct=m.width_oct * 0.9) if m.shape == "peak" else m
                                           for m in entry.moves))
    return entry


def _mean_curve(examples: list[Example]) -> np.ndarray:
    w = np.array([e.weight for e in examples])
    return (w[:, None] * np.array([e.response_db for e in examples])).sum(axis=0) / w.sum()


def _lexicon_word(entry: LexiconEntry, crowd: list[Example]) -> VocabWord:
    term = normalise(entry.word)
    if entry.kind == "no-change":
        checks = [SourceCheck(s, tuple(sorted({e.word for e in ex})), sum(e.people for e in ex), 0.0, 0.0, False)
                  for s, ex in _by_source(crowd).items()]
        target = example_from_params(term, "lexicon", EQParams.flat(), LEXICON_WEIGHT)
        return VocabWord(term, entry.kind, "lexicon", [target], entry=entry, params=EQParams.flat(), checks=checks)
    mask = window_mask(entry)
    lexicon_db = entry.curve_db(FIT_GRID_HZ)
    checks, agreeing, tie = [], [], []
    for source, examples in _by_source(crowd).items():
        curve = _mean_curve(examples)
        r, slope = compare(lexicon_db, curve, mask)
        agrees = r >= AGREE_CORRELATION and slope > 0.0
        contrast = contrast_db(entry, curve)
        verdict = "agrees" if agrees else "direction only" if contrast >= DIRECTION_CONTRAST_DB else "disagrees"
        people = sum(e.people for e in examples)
        checks.append(SourceCheck(source, tuple(sorted({e.word for e in examples})), people, round(r, 3),
                                  round(slope, 3), agrees, round(contrast, 2), verdict))
        if agrees:
            agreeing.append((curve, r * math.sqrt(people), r, examples))
        if verdict != "disagrees":
            tie.extend(examples)
    refined = entry
    if agreeing:
        w = np.array([a[1] for a in agreeing])
        curve = (w[:, None] * np.array([a[0] for a in agreeing])).sum(axis=0) / w.sum()
        share = float(np.average([a[2] for a in agreeing], weights=w))
        refined = blend_entries(entry, refine(entry, curve, mask), share)
    if entry.kind == "problem":
        refined = keep_targeted(refined)
    params = refined.params()
    source = "+".join(["lexicon"] + [c.source for c in checks if c.agrees])
    target = example_from_params(term, "lexicon", params, LEXICON_WEIGHT)
    return VocabWord(term, entry.kind, source, [target], tie=tie, entry=entry, params=params, checks=checks)


def _by_source(examples: list[Example]) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        out[e.source].append(e)
    return dict(sorted(out.items()))


def build(crowd: list[Example], lexicon: Lexicon | None) -> tuple[list[VocabWord], list[Left]]:
    """The vocabulary (sorted by term) and the crowd words left out, by the precedence above."""
    per_entry: dict[str, list[Example]] = defaultdict(list)
    crowd_only: dict[str, list[Example]] = defaultdict(list)
    left: dict[tuple[str, str], Left] = {}
    for e in crowd:
        e = replace(e, word=normalise(e.word))
        entry = lexicon.lookup(e.word) if lexicon is not None else None
        if entry is not None:
            per_entry[entry.word].append(e)
        elif e.word in NOT_SOUND:
            left[(e.word, e.source)] = Left(e.word, e.source, NOT_SOUND[e.word])
        elif e.word in NEEDS_AUDIO:
            left[(e.word, e.source)] = Left(e.word, e.source, "judges rather than describes: needs audio")
        else:
            crowd_only[e.word].append(e)
    words = [_lexicon_word(entry, per_entry.get(entry.word, [])) for entry in (lexicon.entries if lexicon else ())]
    for term, examples in crowd_only.items():
        total = sum(e.weight for e in examples)
        targets = [replace(e, weight=e.weight / total) for e in examples]
        source = "+".join(sorted({e.source for e in examples}))
        words.append(VocabWord(term, "crowd", source, targets, tie=list(targets)))
    words.sort(key=lambda w: w.term)
    return words, sorted(left.values(), key=lambda x: (x.reason, x.word, x.source))
