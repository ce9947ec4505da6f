"""Where and how much, as an engineer says it: "cut 300 Hz", "boost 2.5k by 3 dB", "less mud around
250 Hz", "more above 10 kHz", "a narrow cut at 3.4k", "-4 dB at 200-400 Hz", "3 dB less boxy".

A clause of a request may name a place and an amount besides (or instead of) words.
:func:`find_spot` takes them out of one clause and returns a :class:`Spot`:

* **a frequency**: ``300 Hz``, ``300hz``, ``2.5 kHz``, ``2.5k``, ``10 kilohertz``, ``60 cycle``, or a plain number
  from 20 to 20,000 (Hz: "cut 300"); optionally after "at", "around", "about", "near", "centred on";
* **a range** ``200-400 Hz``, ``2 to 5k``, ``between 2 and 5 kHz`` (:func:`join_ranges` keeps the
  "and" of the last from splitting the clause): a peak at the range's geometric centre, as wide as
  the range (at least a third of an octave);
* **a shelf**: ``below 100 Hz``, ``under 80``, ``above 10k``, ``over 12 kHz``, ``10k and up``: the
  corner of a low or high shelf;
* **a shape**: ``high shelf``, ``low shelf``, ``shelf`` (low below 632 Hz, high above), ``bell``,
  ``peak``; filters (high-pass, low cut, ...) are a clear error: the layout has none;
* **a width**: ``narrow`` (1/3 octave), ``surgical`` (1/6), ``notch`` (1/6, and a cut), ``wide`` or
  ``broad`` (2 octaves), ``Q 4``, ``an octave wide``, ``1/2 octave``; a peak without one is an
  octave wide (Q 1.41);
* **an amount**: ``3 dB``, ``+4 dB``, ``-2.5 dB`` (``sign`` keeps a typed sign);
* **an excess** at the place (:data:`EXCESS_WORDS`: "the 200 Hz buildup", "a resonance at 3k"): a
  cut unless the words say otherwise, a third of an octave wide for a resonance.

What the clause's words then mean is decided in :mod:`daw_bridge.semantic.model`: a place alone is a
bell or shelf of :data:`DEFAULT_GAIN_DB` (times the degree words: "cut 300 Hz a bit" is 1.5 dB) or
of the amount given; a studio word with a place moves its strongest band there ("less mud at
250 Hz"); an amount sets the size of the word's strongest band ("3 dB less boxy").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from daw_bridge.eq import SHELF_Q, Band, EQParams, log_freq_grid, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.layout import BANDS, GAIN_INDEX, q_from_octaves
from daw_bridge.semantic.interpretation import TermUse
from daw_bridge.semantic.words import RESONANCE_WORDS

#: Gain (dB) of a place named without an amount ("cut 300 Hz"): a clearly audible, modest move.
DEFAULT_GAIN_DB = 3.0
#: Width (octaves) of a peak named without a width: one octave (Q 1.41).
DEFAULT_WIDTH_OCT = 1.0
#: Narrowest width a range gives (octaves): "2.9-3.1 kHz" is a third of an octave, not a notch.
MIN_RANGE_OCT = 1.0 / 3.0
#: Width words (octaves).
WIDTH_WORDS = {"narrow": 1 / 3, "narrowly": 1 / 3, "tight q": 1 / 3, "surgical": 1 / 6, "surgically": 1 / 6,
               "notch": 1 / 6, "wide": 2.0, "broad": 2.0, "broadly": 2.0, "gentle slope": 2.0}
#: Words for too much at a place, and whether they are narrow (a resonance, :data:`~daw_bridge.semantic.words.RESONANCE_WORDS`:
#: a third of an octave).
EXCESS_WORDS = {**dict.fromkeys(RESONANCE_WORDS, True), "spike": True, "hot spot": True, "buildup": False,
                "build-up": False, "build up": False, "excess": False, "congestion": False, "clash": False, "clashes": False,
                "clashing": False, "fighting": False, "masking": False, "competing": False}
#: Lowest and highest frequency a request may name (Hz): the EQ's band range.
FREQ_LIMITS_HZ = (20.0, 20000.0)

_NUM = r"\d+(?:\.\d+)?"
_UNIT = r"(?:khz|kilohertz|k|hz|hertz|cycles?)"
_FREQ = rf"({_NUM})\s*({_UNIT})?"
_AT = r"(?:(?:at|around|about|near|close to|centred (?:on|at)|centered (?:on|at)|by|of)\s+)?"
_AREA = r"(?:\s+(?:region|area|range|zone|band|frequencies|frequency|mark))?"
_GAIN = re.compile(rf"(?<![\w.])(?:by\s+)?([+\-\u2212]?)\s*({_NUM})\s*(?:db|decibels?)(?!\w)")
#: "cut 250 by 2": a number after "by" without a unit, up to :data:`MAX_BARE_AMOUNT_DB`, is an amount in dB.
_BY_AMOUNT = re.compile(rf"(?<![\w.])by\s+([+\-\u2212]?)\s*({_NUM})(?!\s*(?:{_UNIT}|%|[\d.,]))(?![\w.])")
MAX_BARE_AMOUNT_DB = 24.0
#: Numbers written with a comma: a thousands separator before three digits ("1,500 Hz"), else a
#: decimal comma before a unit ("1,5 kHz", "2,5 dB").
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}\s*(?:khz|k|hz|kilohertz|db)\b)")
_Q = re.compile(rf"(?:(?:with|at|and)\s+)?(?:an?\s+)?\bq\s*(?:of|=|:)?\s*({_NUM})(?![\w.])")
_OCTAVES = re.compile(
    rf"(?<![\w.])({_NUM}|\d+\s*/\s*\d+|half an?|a half|a third of an?|a quarter of an?|one|two|three|an?)"
    r"\s*-?\s*oct(?:ave)?s?(?:\s+wide)?(?!\w)")
_SHELF = re.compile(rf"(?<![\w.])(below|under|beneath|lower than|up to|above|over|higher than|upwards of)\s+{_FREQ}"
                    rf"{_AREA}(?:\s+(?:and\s+)?(?:up|upwards|down|downwards|below|above))?(?![\w.])")
_UP_FROM = re.compile(rf"(?<![\w.])(?:from\s+)?{_FREQ}\s+(?:and\s+)?(up|upwards|above|down|downwards|below)(?![\w.])")
_RANGE = re.compile(rf"(?<![\w.]){_AT}{_FREQ}\s*(?:-|\u2013|to)\s*{_FREQ}{_AREA}(?![\w.])")
_SINGLE = re.compile(rf"(?<![\w.]){_AT}{_FREQ}{_AREA}(?![\w.])")
_WIDTH = re.compile(r"\b(" + "|".join(sorted(map(re.escape, WIDTH_WORDS), key=len, reverse=True)) + r")\b")
_EXCESS = re.compile(r"\b(" + "|".join(sorted(map(re.escape, EXCESS_WORDS), key=len, reverse=True)) + r")\b")
_WORD_NUMBERS = {"half a": 0.5, "half an": 0.5, "a half": 0.5, "a third of a": 1 / 3, "a third of an": 1 / 3,
                 "a quarter of a": 0.25, "a quarter of an": 0.25, "one": 1.0, "two": 2.0, "three": 3.0,
                 "a": 1.0, "an": 1.0}
_FILTER = re.compile(r"\b(high[\s-]?pass|low[\s-]?pass|band[\s-]?pass|hpf|lpf|low[\s-]?cut|high[\s-]?cut)\b")
_SHAPE = re.compile(r"\b(high[\s-]?shelf|low[\s-]?shelf|shelf|shelving|bell(?![\s-]*(?:like|tone))|peak|peaking)\b")
#: A shelf named without its side is a low shelf below this corner (Hz; the geometric middle of the band
#: range) and a high shelf above.
SHELF_SIDE_HZ = 632.0
_BETWEEN = re.compile(rf"\b(?:between|from)\s+({_NUM}\s*{_UNIT}?)\s+(?:and|to)\s+({_NUM}\s*{_UNIT}?)")
_AND_UP = re.compile(rf"({_NUM}\s*{_UNIT}?)\s+and\s+(up|upwards|above|down|downwards|below)\b")


class FrequencyError(SemeqError):
    """A place or amount in a request that cannot be used (outside 20 Hz - 20 kHz, no direction...)."""

    code = "bad_value"


@dataclass(frozen=True)
class Spot:
    """The place and amount one clause names.

    ``shape``: ``peak``, ``low_shelf``, ``high_shelf``, or ``""`` when the clause names an amount
    but no frequency; ``freq_hz``: peak centre or shelf corner (Hz; 0 without a frequency);
    ``width_oct``: peak bandwidth (octaves) when the clause gives one, else None; ``gain_db``: the
    amount (dB, >= 0) when given, else None; ``sign``: +1 or -1 when the text itself says which way
    ("+3 dB", "-2 dB", "notch"), else 0; ``text``: what was read, for people ("300 Hz", "3 dB");
    ``excess``: the clause calls the place too much ("buildup", "resonance"): a cut unless it says which way.
    """

    shape: str
    freq_hz: float
    width_oct: float | None
    gain_db: float | None
    sign: int
    text: str
    excess: bool = False

    @property
    def names_place(self) -> bool:
        return bool(self.shape)


def join_ranges(text: str) -> str:
    """``text`` with "between 2 and 5 kHz" / "from 2 to 5k" written "2-5 kHz", "10k and up" written
    "10k up" and a number's comma read ("1,500 Hz" -> 1500 Hz, "1,5 kHz" -> 1.5 kHz), so that
    splitting the request at "and" and "," keeps them whole."""
    text = _DECIMAL_COMMA.sub(".", _THOUSANDS.sub("", text))
    return _AND_UP.sub(r"\1 \2", _BETWEEN.sub(r"\1-\2", text))


def _hz(number: str, unit: str | None, other_unit: str | None = None) -> float:
    """Hz of a number and its unit ("2.5", "k" -> 2500); a range's one unit serves both ends."""
    unit = (unit or other_unit or "").strip()
    value = float(number) * (1000.0 if unit in ("k", "khz", "kilohertz") else 1.0)
    if not FREQ_LIMITS_HZ[0] <= value <= FREQ_LIMITS_HZ[1]:
        raise FrequencyError(f"{_say_hz(value)} is outside the EQ's range of 20 Hz to 20 kHz" if unit else
                             f"'{number}' is not a frequency; say e.g. '{number} kHz' or '{number} dB'")
    return value


def _single_place(text: str) -> re.Match | None:
    """The first frequency in ``text``: a number with a unit, or a plain one from 20 to 20,000 (Hz)."""
    return next((m for m in _SINGLE.finditer(text)
                 if m.group(2) or FREQ_LIMITS_HZ[0] <= float(m.group(1)) <= FREQ_LIMITS_HZ[1]), None)


def _say_hz(hz: float) -> str:
    return f"{hz / 1000:g} kHz" if hz >= 1000 else f"{hz:g} Hz"


def _octaves(word: str) -> float:
    word = " ".join(word.split())
    if "/" in word:
        top, bottom = (float(x) for x in word.split("/"))
        if bottom == 0:
            raise FrequencyError(f"'{word} octave' is not a width")
        return top / bottom
    return _WORD_NUMBERS[word] if word in _WORD_NUMBERS else float(word)


def find_spot(clause: str) -> tuple[Spot | None, str]:
    """The place and amount named in one clause (lower-case text) and the clause without them.

    Returns ``(None, clause)`` when the clause names neither. Raises :class:`FrequencyError` for a
    frequency outside 20 Hz - 20 kHz, a width or amount that is not positive, or two places in one
    clause (say them in two clauses: "cut 300 Hz and boost 3 kHz").
    """
    if m := _FILTER.search(clause):
        raise FrequencyError(
            f"'{m.group(1)}' is a filter, and the EQ's five bands (a low shelf, three bells, a high shelf) have none; "
            "say e.g. 'less below 80 Hz' or 'less above 12k' for a shelf cut, or use the host's own filter")
    rest, read = clause, []
    gain_db, sign, width_oct, amount, shape_word = None, 0, None, "", ""
    if m := _SHAPE.search(rest):
        shape_word = m.group(1).replace("-", " ")
        rest = rest[:m.start()] + " " + rest[m.end():]
    m = _GAIN.search(rest)
    if m is None and (m := _BY_AMOUNT.search(rest)) is not None and float(m.group(2)) > MAX_BARE_AMOUNT_DB:
        m = None  # "by 300": a place, not an amount
    if m:
        gain_db = float(m.group(2))
        sign = -1 if m.group(1) in ("-", "\u2212") else 1 if m.group(1) == "+" else 0
        amount = f"{'-' if sign < 0 else '+' if sign > 0 else ''}{gain_db:g} dB"
        rest = rest[:m.start()] + " " + rest[m.end():]
    if m := _Q.search(rest):
        q = float(m.group(1))
        if not q > 0:
            raise FrequencyError(f"Q {m.group(1)} is not a width; a peak's Q is above 0 (0.27 to 10 here)")
        width_oct = 2.0 / math.log(2.0) * math.asinh(1.0 / (2.0 * q))  # the RBJ relation, inverted
        rest = rest[:m.start()] + " " + rest[m.end():]
    elif m := _OCTAVES.search(rest):
        width_oct = _octaves(m.group(1))
        rest = rest[:m.start()] + " " + rest[m.end():]
    if m := _WIDTH.search(rest):
        if width_oct is None:
            width_oct = WIDTH_WORDS[m.group(1)]
        sign = -1 if m.group(1) == "notch" else sign
        rest = rest[:m.start()] + " " + rest[m.end():]
    if width_oct is not None and not 0 < width_oct <= 10:
        raise FrequencyError(f"a width of {width_oct:g} octaves is not usable; say e.g. 'narrow', 'Q 2' or '1 octave'")
    shape, freq_hz = "", 0.0
    if m := _SHELF.search(rest) or _UP_FROM.search(rest):
        if m.re is _SHELF:
            low = m.group(1) in ("below", "under", "beneath", "lower than", "up to")
            freq_hz = _hz(m.group(2), m.group(3))
        else:
            low = m.group(3) in ("down", "downwards", "below")
            freq_hz = _hz(m.group(1), m.group(2))
        shape = "low_shelf" if low else "high_shelf"
        read.append(f"{'below' if low else 'above'} {_say_hz(freq_hz)}")
        rest = rest[:m.start()] + " " + rest[m.end():]
    elif m := _RANGE.search(rest):
        low_hz, high_hz = sorted((_hz(m.group(1), m.group(2), m.group(4)), _hz(m.group(3), m.group(4), m.group(2))))
        shape, freq_hz = "peak", math.sqrt(low_hz * high_hz)
        if width_oct is None:
            width_oct = max(math.log2(high_hz / low_hz), MIN_RANGE_OCT)
        read.append(f"{_say_hz(low_hz)}-{_say_hz(high_hz)}")
        rest = rest[:m.start()] + " " + rest[m.end():]
    elif m := _single_place(rest):
        shape, freq_hz = "peak", _hz(m.group(1), m.group(2))
        read.append(_say_hz(freq_hz))
        rest = rest[:m.start()] + " " + rest[m.end():]
    if shape and _single_place(rest):
        raise FrequencyError(f"two places in one clause of {clause.strip()!r}; say each in its own clause, e.g. "
                             "'cut 300 Hz and boost 3 kHz'")
    if not shape and gain_db is None:
        return None, clause
    excess = _EXCESS.search(rest) if shape else None
    if excess is not None:  # "the 200 Hz buildup", "a resonance at 3k"
        width_oct = WIDTH_WORDS["narrow"] if width_oct is None and EXCESS_WORDS[excess.group(1)] else width_oct
        rest = rest[:excess.start()] + " " + rest[excess.end():]
    if shape and shape_word:  # "8k shelf", "low shelf at 200", "a bell at 3k"
        shelf = "low_shelf" if shape_word.startswith("low") or (
            not shape_word.startswith("high") and freq_hz < SHELF_SIDE_HZ) else "high_shelf"
        shape = "peak" if shape_word in ("bell", "peak", "peaking") else shelf
        read = [f"{'below' if shape == 'low_shelf' else 'above'} {_say_hz(freq_hz)}" if shape != "peak" else read[0]]
    if gain_db is not None and not 0 < gain_db:
        raise FrequencyError(f"an amount of {gain_db:g} dB changes nothing; say e.g. '3 dB'")
    text = ", ".join(filter(None, (" ".join(read), amount)))
    spot = Spot(shape, freq_hz, width_oct if shape == "peak" else None, gain_db, sign, text, excess is not None)
    return spot, " ".join(rest.split())


def spot_params(spot: Spot, gain_db: float) -> EQParams:
    """The EQ of a place alone: one bell (``spot.width_oct`` or an octave wide) or shelf of ``gain_db``
    (dB, signed; clipped to the EQ's +-12 dB) at ``spot.freq_hz``."""
    q = q_from_octaves(spot.width_oct or DEFAULT_WIDTH_OCT) if spot.shape == "peak" else SHELF_Q
    return EQParams.from_bands([Band(spot.shape, spot.freq_hz, gain_db, q)], clip=True)


def describe(spot: Spot) -> str:
    """The place in words: "bell at 300 Hz, 1 octave wide", "shelf above 10 kHz"."""
    if spot.shape == "peak":
        return f"bell at {_say_hz(spot.freq_hz)}, {spot.width_oct or DEFAULT_WIDTH_OCT:.2g} octave wide"
    return f"shelf {'below' if spot.shape == 'low_shelf' else 'above'} {_say_hz(spot.freq_hz)}"


def place_part(spot: Spot, weight: float, word: EQParams | None) -> tuple[EQParams, float]:
    """The EQ of one mention with a place or amount, and the gain it asks for (dB, signed, before the
    EQ's +-12 dB limit). A place alone (``word`` None): a bell or shelf of ``spot.gain_db`` or
    :data:`DEFAULT_GAIN_DB` times ``|weight|``, cut when ``weight`` < 0. A word (``word``: its EQ at
    intensity 1): its EQ times ``weight``, moved and sized by :func:`placed`."""
    if word is None:
        gain_db = math.copysign(spot.gain_db if spot.gain_db is not None else DEFAULT_GAIN_DB * abs(weight), weight)
        return spot_params(spot, gain_db), gain_db
    own_db = word.raw_vector()[list(GAIN_INDEX)] * weight
    peak_db = float(own_db[np.argmax(np.abs(own_db))])
    asked = peak_db if spot.gain_db is None else math.copysign(spot.gain_db, peak_db)
    return placed(word.scaled(weight), spot), asked


def placed(params: EQParams, spot: Spot) -> EQParams:
    """A word's EQ (``params``, already signed and weighted) with its strongest band moved to the
    place ``spot`` names (and given its width), and sized so that band is ``spot.gain_db`` when the
    clause gives an amount. A flat EQ stays flat."""
    v = params.raw_vector()
    gains = v[list(GAIN_INDEX)]
    k = int(np.argmax(np.abs(gains)))
    if gains[k] == 0.0:
        return params
    band = BANDS[k]
    if spot.gain_db is not None:
        v[list(GAIN_INDEX)] = gains * (spot.gain_db / abs(gains[k]))
    if spot.names_place:
        v[band.freq_index] = spot.freq_hz
        if band.q_index is not None and spot.width_oct is not None:
            v[band.q_index] = q_from_octaves(spot.width_oct)
    return EQParams.from_vector(v, clip=True)


def combine(parts: list[EQParams], sample_rate_hz: float = 48000.0) -> tuple[EQParams, float | None]:
    """One 5-band EQ doing every EQ of ``parts`` (their summed response in dB).

    Exact when their active bands fit the layout (at most one low shelf, three peaks and one high
    shelf in all): the bands are placed as they are. Otherwise a 5-band fit of the summed response
    (:func:`daw_bridge.fit.fit_eq`); the second value is then its RMS error (dB), else None.
    """
    active = [band for p in parts for band in p.bands() if band.gain_db != 0.0]
    kinds = [band.kind for band in active]
    if kinds.count("low_shelf") <= 1 and kinds.count("high_shelf") <= 1 and kinds.count("peak") <= 3:
        return EQParams.from_bands(active, clip=True), None
    from daw_bridge.fit import fit_eq

    freqs_hz = log_freq_grid(128, 20.0, min(20000.0, 0.49 * sample_rate_hz))
    target_db = sum(response_db(p, freqs_hz, sample_rate_hz) for p in parts)
    fit = fit_eq(freqs_hz, target_db, sample_rate_hz)
    return fit.params, fit.rms_db


def read_places(places: Sequence[Any], words: EQParams, use_of: Callable[[Any], TermUse],
                params_of: Callable[[str], EQParams]) -> tuple[EQParams, list[TermUse], list[str], float]:
    """One EQ for the mentions with a place or amount (``places``: :class:`~daw_bridge.semantic.parse.Mention`
    with a ``spot``) and the other words' EQ (``words``, already at its size), every part at the size
    asked. ``use_of`` looks a mention's word up (the model's vocabulary and unknown-word routes),
    ``params_of`` gives a vocabulary word's EQ at intensity 1. Returns the EQ, the places' term uses
    (a place alone is a use of ``kind`` "place"), notes ("'mud' placed at 250 Hz", a fit's error) and
    the largest gain asked (dB, signed, before the +-12 dB limit)."""
    words_db = words.raw_vector()[list(GAIN_INDEX)]
    parts, uses, notes, asked_db = [words], [], [], [float(words_db[np.argmax(np.abs(words_db))])]
    for m in places:
        use = use_of(m) if m.base else None
        part, asked = place_part(m.spot, m.weight if use is None else use.weight,
                                 None if use is None else params_of(use.term))
        if use is None:
            use = TermUse(m.spot.text, round(m.weight, 6), "request", None, m.matched, "place",
                          f"{asked:+.1f} dB {describe(m.spot)}, as asked.")
        else:
            where = "placed " + ("at " if m.spot.shape == "peak" else "") if m.spot.names_place else "sized to "
            notes.append(f"'{m.word}' {where}{m.spot.text}.")
        parts.append(part)
        uses.append(use)
        asked_db.append(asked)
    combined, fit_rms_db = combine([p for p in parts if not p.is_flat] or [words])
    if fit_rms_db is not None:
        notes.append(f"More moves than the 5 bands hold: combined by a 5-band fit within {fit_rms_db:.2f} dB RMS.")
    return combined, uses, notes, max(asked_db, key=abs)
