"""Named frequency regions by composition: "upper mids", "low-treble", "midbass", "top octave", "sub".

A word the vocabulary does not know may still name a part of the spectrum the way engineers do: a
position qualifier and a range noun. :func:`parse_region` reads such a phrase into a
:class:`Region` in Hz by a small grammar, so "lower-mid", "upper midrange", "high bass", "middle
treble" and "low-mids region" are read by one rule, not from a list of phrases:

* **range nouns** (:data:`NOUNS`): bass (lows, low end, bottom end), mids (mid, midrange), middles,
  treble (top end, high end), highs, octave; "sub" alone or before a bass noun; a trailing "range",
  "region", "band" or "frequencies" is ignored; a qualifier may be glued on ("midbass", "lowmids");
* **positions** (:data:`POSITIONS`): low (lower, bottom), mid (middle, centre), high (upper, higher,
  top), extreme (super, ultra).

Each (position, range) the charts name gets its published band (:data:`NAMED_BANDS`); where charts
disagree the band is the union of theirs (the lexicon's own rule for disagreeing sources). A
combination no chart names gets the matching third (on a log-frequency scale) of the range, and
"extreme" the range's top octave. The charts (each band below lists the ones it comes from):

* [SD] speakerdecision.com, "Seven Frequency Bands of Audio Spectrum"
  (https://speakerdecision.com/blog/Seven-Frequency-Bands-of-Audio-Spectrum): sub-bass 20-60 Hz,
  bass 60-250 Hz, lower midrange 250-500 Hz, midrange 500 Hz-2 kHz, higher midrange 2-4 kHz,
  presence 4-6 kHz, brilliance 6-20 kHz; in three bands bass 20-250 Hz, mids 250 Hz-4 kHz, highs
  (treble) 4-20 kHz. [WC] whippedcreamsounds.com (https://www.whippedcreamsounds.com/audio-spectrum/)
  gives the same seven bands.
* [SDT] San Diego Troubadour, "What's the Frequency, Kenneth?"
  (https://sandiegotroubadour.com/whats-the-frequency-kenneth/): mid bass 100-300 Hz, low mid
  300-600 Hz, midrange 600 Hz-1.2 kHz, high mid 1.2-2.4 kHz, low treble 2.4-4.8 kHz, mid treble
  4.8-9.6 kHz, high treble 9.6-20 kHz. [FYM] Fix Your Mix (https://blog.fixyourmix.com/tag/treble):
  treble 2.4-20 kHz, low-mid 300-600 Hz, high-mid 1.2-2.4 kHz.
* [SP] Stereophile's glossary, as reproduced in a published headphone glossary
  (https://github.com/jarrettdowling/jarrettdowling.github.io/blob/4266d45b213d8bfe41be1e55b43e877c22e7c0a8/headphoneglossary.md):
  low bass 20-40 Hz, midbass 40-80 Hz, upper bass 80-160 Hz, middles 160-1300 Hz, lower middles
  160-320 Hz, upper middles 650-1300 Hz, lower highs 1.3-2.6 kHz, middle highs 2.6-5 kHz, upper
  highs / upper treble 10-20 kHz, extreme highs above 10 kHz, the high-frequency range above 1.3 kHz.
  [MH] majorhifi.com (http://majorhifi.com/understanding-headphone-frequency-response/): upper bass
  100-200 Hz. The octave 10-20 kHz is the top octave of hearing (octaves from 20 Hz: 20, 40, ...
  10240, 20480 Hz; http://coolwire.co.uk/tube-amps/eq-the-middle-frequency/).

**Instruments** a request asks more or less of ("the kick is too loud", "less hi-hat", "bring up the
vocals") are read as the range that carries them in a mix (:data:`INSTRUMENTS`): an EQ on a whole
mix can only move an instrument there, and on the instrument's own track that range is its body.
Only instruments whose range the charts agree on are listed; a guitar or a piano covers too much of
the spectrum to name one range. From:

* [ARM] audiorecording.me, "Drum Frequencies of Kick Bass Drum, Hi Hats, Snare and Crash Cymbals"
  (https://www.audiorecording.me/drum-frequencies-of-kick-bass-drum-hi-hats-snare-and-crash-cymbals.html/2):
  kick strongest near 40 Hz (other kicks 50-70 Hz), snare near 200 Hz, hi-hat near 10 kHz and above,
  crash cymbal mixed at its 10 kHz peak.
* [PPR] pauseplayrepeat.com, "Unraveling the Kick Drum"
  (https://www.pauseplayrepeat.com/blog/unraveling-the-kick-drum-a-guide-to-frequency-ranges): the
  kick's power 20-60 Hz and its punch 60-100 Hz. [EG] entertainmentguide.local.com, "Frequency
  Spectrums for Drums" (http://entertainmentguide.local.com/frequency-spectrums-drums-3029.html):
  more kick low end at 80-100 Hz, a snare's body around 150 Hz.
* [AT8] at8studios.com, closed hi-hat lesson
  (https://www.at8studios.com/eqingakickdrum-2/niche-eszfp-ym4da-fxgxg): the hi-hat's sizzle at 6-12 kHz.
* [AMP] amusicproducer.com, "Important Equalization Frequencies"
  (http://amusicproducer.com/tag/equalisation/): clarity of a voice at 3.15 kHz, vocal presence at
  5 kHz. [PS] PreSonus AudioBox USB manual, p. 44
  (http://www.manualsdir.com/manuals/360795/presonus-audiobox-usb.html?page=48): high mids 2-4 kHz
  carry the projection of midrange instruments; 4-6 kHz brings a part closer.

:func:`nearest_entry` then answers a region with the studio-lexicon entry (the model offers its
quality entries: a named region is a quality to have more or less of) whose EQ has the shape of a
boost there (:func:`region_curve`) most closely: the cosine of the two dB curves on a
log-frequency grid, not centred, so that an EQ which only cuts elsewhere (a telephone band-pass)
does not pass for a boost in between; a strongly negative cosine is the entry's opposite move
("mids" against a mid-scooped entry).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from daw_bridge.eq import EQParams, log_freq_grid, response_db
from daw_bridge.layout import BANDS, q_from_octaves

#: Range nouns -> (range, its whole extent in Hz, the charts that give it) (module docstring).
NOUNS: dict[str, tuple[str, float, float, str]] = {
    **{w: ("bass", 20.0, 250.0, "SD") for w in ("bass", "basses", "lows", "low end", "bottom end", "bottom",
                                                "low frequencies")},
    **{w: ("mids", 250.0, 4000.0, "SD") for w in ("mids", "mid", "midrange", "mid range", "midranges",
                                                  "mid frequencies", "middle frequencies")},
    **{w: ("middles", 160.0, 1300.0, "SP") for w in ("middles", "middle")},
    **{w: ("treble", 2400.0, 20000.0, "FYM, SDT") for w in ("treble", "trebles", "top end", "high end",
                                                            "high frequencies")},
    **{w: ("highs", 4000.0, 20000.0, "SD") for w in ("highs",)},
    **{w: ("octave", 20.0, 20000.0, "") for w in ("octave", "octaves")},
}
#: Position qualifiers -> position (module docstring).
POSITIONS: dict[str, str] = {
    **{w: "low" for w in ("low", "lower", "bottom", "lowest")},
    **{w: "mid" for w in ("mid", "middle", "centre", "center", "central")},
    **{w: "high" for w in ("upper", "high", "higher", "top", "highest", "uppermost")},
    **{w: "extreme" for w in ("extreme", "super", "ultra", "very high")},
}
#: (position, range) -> (low Hz, high Hz, charts) for the bands the charts name; where charts differ, the union.
NAMED_BANDS: dict[tuple[str, str], tuple[float, float, str]] = {
    ("sub", "bass"): (20.0, 60.0, "SD, WC"),
    ("low", "bass"): (20.0, 40.0, "SP"),
    ("mid", "bass"): (40.0, 300.0, "SP 40-80 Hz, SDT 100-300 Hz"),
    ("high", "bass"): (80.0, 200.0, "SP 80-160 Hz, MH 100-200 Hz"),
    ("low", "mids"): (250.0, 600.0, "SD, WC 250-500 Hz; SDT, FYM 300-600 Hz"),
    ("mid", "mids"): (500.0, 2000.0, "SD, WC 500-2000 Hz; SDT 600-1200 Hz"),
    ("high", "mids"): (1200.0, 4000.0, "SD, WC 2-4 kHz; SDT, FYM 1.2-2.4 kHz"),
    ("low", "middles"): (160.0, 320.0, "SP"),
    ("high", "middles"): (650.0, 1300.0, "SP"),
    ("low", "treble"): (2400.0, 4800.0, "SDT"),
    ("mid", "treble"): (4800.0, 9600.0, "SDT"),
    ("high", "treble"): (9600.0, 20000.0, "SDT 9.6-20 kHz, SP 10-20 kHz"),
    ("low", "highs"): (1300.0, 2600.0, "SP"),
    ("mid", "highs"): (2600.0, 5000.0, "SP"),
    ("high", "highs"): (10000.0, 20000.0, "SP"),
    ("extreme", "highs"): (10000.0, 20000.0, "SP"),
    ("high", "octave"): (10000.0, 20000.0, "top octave of hearing"),
    ("low", "octave"): (20.0, 40.0, "bottom octave of hearing"),
}
#: Instruments -> (low Hz, high Hz, charts): the range that carries them in a mix (module docstring).
INSTRUMENTS: dict[str, tuple[float, float, str]] = {
    **{w: (40.0, 100.0, "ARM 40-70 Hz, PPR 60-100 Hz, EG 80-100 Hz") for w in ("kick", "kicks", "kick drum",
                                                                              "bass drum")},
    **{w: (150.0, 250.0, "ARM 200 Hz, EG 150 Hz") for w in ("snare", "snares", "snare drum")},
    **{w: (6000.0, 12000.0, "AT8 6-12 kHz, ARM 10 kHz") for w in ("hat", "hats", "hihat", "hihats", "hi-hat",
                                                                 "hi-hats", "cymbal", "cymbals")},
    **{w: (2000.0, 5000.0, "AMP 3.15 and 5 kHz, PS 2-6 kHz") for w in ("vocal", "vocals", "voice", "voices",
                                                                      "singer", "singing")},
}
#: Words that may follow a region without changing it ("upper mid range", "low end frequencies").
_TRAILING = ("frequencies", "frequency", "region", "range", "band", "area")
#: Smallest |cosine| between a region's boost and an entry's EQ curve for the entry to answer.
MIN_COSINE = 0.7
#: Log-frequency grid (Hz) on which curves are compared.
GRID_HZ = log_freq_grid(200)
#: Gain (dB) of the boost a region is compared as (only its shape matters for the cosine).
REGION_GAIN_DB = 4.0


@dataclass(frozen=True)
class Region:
    """A named part of the spectrum: ``low_hz``..``high_hz`` (Hz); ``reading`` says how it was read,
    ``charts`` which charts give it (keys of the module docstring)."""

    low_hz: float
    high_hz: float
    reading: str
    charts: str = ""

    def describe(self) -> str:
        """E.g. "upper mids, 1.2-4 kHz"."""
        return f"{self.reading}, {_hz(self.low_hz)}-{_hz(self.high_hz)}"


def _hz(f: float) -> str:
    return f"{f / 1000:.2g} kHz" if f >= 1000 else f"{f:.0f} Hz"



def _split_glued(token: str) -> list[str]:
    """"midbass" -> ["mid", "bass"], "lowmids" -> ["low", "mids"], "subbass" -> ["sub", "bass"]."""
    for prefix in sorted([*POSITIONS, "sub"], key=len, reverse=True):
        rest = token[len(prefix):]
        if token.startswith(prefix) and rest in NOUNS and " " not in prefix:
            return [prefix, rest]
    return [token]


def parse_region(word: str) -> Region | None:
    """The region ``word`` names by the grammar (module docstring), or an instrument's range
    (:data:`INSTRUMENTS`), or None if it is not a region phrase (every word must be a qualifier, a
    range noun or a trailing "range"/"frequencies")."""
    if (instrument := INSTRUMENTS.get(word.strip().lower())) is not None:
        return Region(instrument[0], instrument[1], word.strip().lower(), instrument[2])
    key = re.sub(r"[\s_-]+", " ", word.strip().lower())
    tokens = [t for tok in key.split(" ") for t in _split_glued(tok)] if key else []
    while len(tokens) > 1 and tokens[-1] in _TRAILING and " ".join(tokens) not in NOUNS:
        tokens.pop()
    if tokens == ["sub"]:
        tokens = ["sub", "bass"]
    for n in (2, 1):  # a two-word noun ("low end", "top end") before its qualifier
        noun, qualifier = " ".join(tokens[-n:]), " ".join(tokens[:-n])
        if noun in NOUNS and (not qualifier or qualifier in POSITIONS or qualifier == "sub"):
            return _compose(POSITIONS.get(qualifier, qualifier), NOUNS[noun], " ".join(tokens))
    return None


def _compose(position: str, noun: tuple[str, float, float, str], phrase: str) -> Region | None:
    """The band of ``position`` ("" none, "sub", low, mid, high, extreme) in the range ``noun``;
    ``phrase``: the words as read, the name of a band the charts name."""
    name, low, high, charts = noun
    if (position, name) in NAMED_BANDS:
        lo, hi, charts = NAMED_BANDS[(position, name)]
        return Region(lo, hi, phrase, charts)
    if name == "octave" or position == "sub":  # only the top and bottom octaves; "sub" only of bass
        return None
    if not position:
        return Region(low, high, f"the {name}", charts)
    if position == "extreme":
        return Region(high / 2.0, high, f"top octave of the {name}", charts)
    third = math.log2(high / low) / 3.0
    lo = low * 2.0 ** (third * ("low", "mid", "high").index(position))
    return Region(lo, lo * 2.0 ** third, f"{position} third of the {name}", charts)


def region_curve(region: Region, freqs_hz: np.ndarray = GRID_HZ) -> np.ndarray:
    """dB response of a boost of :data:`REGION_GAIN_DB` over ``region``: a peak at its geometric centre
    as wide as the region, or a shelf from its centre when it reaches an end of the EQ's range."""
    centre = math.sqrt(region.low_hz * region.high_hz)
    width = min(max(math.log2(region.high_hz / region.low_hz), 1.0 / 3.0), 3.9)
    shape = "low_shelf" if region.low_hz <= 25.0 else "high_shelf" if region.high_hz >= 16000.0 else "peak"
    v = EQParams.flat().raw_vector()
    band = next(b for b in BANDS if b.kind == shape)
    v[band.gain_index], v[band.freq_index] = REGION_GAIN_DB, centre
    if band.q_index is not None:
        v[band.q_index] = q_from_octaves(width)
    return response_db(EQParams.from_vector(v), np.asarray(freqs_hz, dtype=float))


def nearest_entry(region: Region, curves: dict[str, np.ndarray]) -> tuple[str, float] | None:
    """(entry, signed cosine) of the entry in ``curves`` (term -> dB on :data:`GRID_HZ`) whose curve
    best matches a boost over ``region`` (module docstring), if |cosine| >= :data:`MIN_COSINE`;
    a negative cosine means the entry's opposite move, taken only when no entry boosts there (an
    answer "more snare = opposite of tight" reads worse than "full" when both fit)."""
    if not curves:
        return None
    terms = list(curves)
    target = region_curve(region)
    x, y = target, np.array([curves[t] for t in terms])
    norms = np.linalg.norm(y, axis=1) * np.linalg.norm(x)
    r = np.divide(y @ x, norms, out=np.zeros(len(terms)), where=norms > 0)
    best = int(np.argmax(r)) if r.max() >= MIN_COSINE else int(np.argmax(np.abs(r)))  # a boost there first
    return (terms[best], float(r[best])) if abs(r[best]) >= MIN_COSINE else None
