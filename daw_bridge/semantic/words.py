"""One descriptor word, cleaned: case and spaces, comparatives, nouns and typos folded onto a word.

Used both to clean SAFE-DB's typed descriptors for training and to read a user's words, so the two
agree: "Brighter " -> ``bright`` (comparative), "warmth" -> ``warm``, "more air" -> ``airy``.

Junk in SAFE-DB's descriptors is listed in :data:`DROPPED_WORDS` with the reason for each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daw_bridge.semantic.phrasing import SUBJECTS
from daw_bridge.semantic.regions import INSTRUMENTS

#: A SAFE-only word needs at least this many settings to become a vocabulary word.
MIN_SAFE_ONLY_SETTINGS = 2

#: Misspellings seen in SAFE-DB and common in typing.
TYPOS = {
    "brght": "bright", "birght": "bright", "brite": "bright", "bight": "bright",
    "warn": "warm", "wawrm": "warm", "warth": "warm", "wram": "warm",
    "agressive": "aggressive", "fatt": "fat", "thicky": "thick", "bassic": "bassy",
    "middly": "mid", "shimmery": "shimmer", "brigther": "brighter", "harsness": "harshness", "presense": "presence",
}

#: Nouns (and a few verbs) that name the quality of an adjective in the vocabulary.
NOUNS = {
    "warmth": "warm", "brightness": "bright", "air": "airy", "mud": "muddy", "muddiness": "muddy",
    "bass": "bassy", "bottom": "bassy", "boom": "boomy", "presence": "present", "thickness": "thick",
    "beef": "beefy", "beefiness": "beefy", "fullness": "full", "depth": "deep", "harshness": "harsh",
    "crispness": "crisp", "sparkle": "sparkly", "sparkles": "sparkly", "box": "boxy", "bite": "biting", "fizz": "fizzy",
    "twang": "twangy", "thump": "thumpy", "snap": "snappy", "tightness": "tight",
    "darkness": "dark", "dullness": "dull", "clarity": "clear", "sharpness": "sharp",
    "softness": "soft", "smoothness": "smooth", "boxiness": "boxy", "tinniness": "tinny",
    "nasality": "nasal", "hollowness": "hollow", "sweetness": "sweet", "ess": "sibilant",
    "chest": "chesty", "silk": "silky",
}

#: Comparative and superlative forms that a suffix rule would get wrong.
IRREGULAR_COMPARATIVES = {
    "thinner": "thin", "thinnest": "thin", "fatter": "fat", "fattest": "fat", "bigger": "big",
    "biggest": "big", "wetter": "wet", "hotter": "hot", "better": "good", "best": "good",
    "worse": "bad", "worst": "bad", "dimmer": "dim", "flatter": "flat",
}

# Reasons a SAFE descriptor is not used, with the exact strings (lower case, spaces collapsed).
_TEST = "test entry or placeholder, not a description of a sound"
_GIBBERISH = "not a word (keyboard mash, a number, a code)"
_SOURCE = "names an instrument or source, not how it sounds"
_PRESET = "a preset, project or person's name"
_ACTION = "names an EQ action, not how it sounds"
_OFFTOPIC = "not about the sound (an exclamation, insult or unrelated word)"
_NON_ENGLISH = "not English (the vocabulary and its sentence embeddings are English)"

DROPPED_WORDS: dict[str, str] = {
    **{w: _TEST for w in ("test", "test1", "test_warm", "re27", "re27-1", "default", "hello",
                          "lv2", "!st", "1")},
    **{w: _GIBBERISH for w in ("fgjn", "jygkujh", "aeg", "hmm", "maadh", "plicke", "nulls", "raf",
                               "dii", "oink", "eqchi", "eqchri", "de fua")},
    **{w: _SOURCE for w in ("vocals", "vocal", "guitar", "kick", "keys", "keyboard", "keyboards", "hihat",
                            "crash", "acoustic", "drums", "drums,", "tube", "pad synth", "kickclean",
                            "sub kick", "clear piano", "crisp snare", "brighter hat", "hat crispy",
                            "pianoambient", "radio", "phone")},
    **{w: _PRESET for w in ("my", "my vocal", "my vocal setting", "my snare", "mix 1", "compo1", "bass1",
                            "drum 1", "dp-sar-1", "za hiwatt cab", "a_zimbo base1", "revision - epiano mda",
                            "magic_warm", "tele (bridge pu) bright 1", "cocteau", "franks", "giulia",
                            "chriss", "maybe jordan", "jams", "jammy", "cumbia", "jazz", "djent",
                            "mix voix", "bass eq prog mnml", "eigene", "ferie", "coso")},
    **{w: _ACTION for w in ("boost", "cuts", "midboost", "boostlow", "low cut", "high cut", "bass boost",
                            "reset", "equal", "balance", "contour", "sweetening", "effective")},
    **{w: _OFFTOPIC for w in ("bastard", "dioporco", "dio", "damned", "devil", "rubbish", "yuk", "love it",
                              "time", "cute", "true", "strike", "rollers are rockin", "we call it bass",
                              "damage limitation", "picking up the pieces", "haunted", "sinister",
                              "love, thick, honks", "squash fix")},
    **{w: _NON_ENGLISH for w in ("chitarrini", "chitarrone", "chitarriny", "guitarriche", "clinini", "voix")},
}

_PHRASE = "a phrase or several words (cannot be attributed to one word)"
_SPLIT = re.compile(r"[\s,+/&]+|\band\b")


@dataclass(frozen=True)
class Word:
    """A cleaned word: ``term`` (None when dropped), ``comparative`` (-er/-est/"more"), ``reason``."""

    term: str | None
    comparative: bool = False
    reason: str | None = None


def comparative_readings(word: str) -> list[str]:
    """Bases a word ending in -er/-est could be the comparative of: happier -> happy, wider -> wide."""
    for suffix in ("est", "er"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            bases = [stem, stem + "e"]
            if stem.endswith("i"):
                bases.append(stem[:-1] + "y")
            if len(stem) > 2 and stem[-1] == stem[-2]:
                bases.append(stem[:-1])
            return bases
    return []


def resolve(token: str, known: frozenset[str] | set[str]) -> tuple[str, bool]:
    """Fold one lower-case token onto a word of ``known``: (base, comparative).

    Order: typos, irregular comparatives, nouns ("warmth" -> warm), regular comparatives whose
    base is known ("brighter" -> bright), the token itself, a trailing -ness or plural -s whose
    base is known. A token that matches nothing comes back unchanged (the caller decides).
    """
    w = TYPOS.get(token, token)
    if w in IRREGULAR_COMPARATIVES:
        return IRREGULAR_COMPARATIVES[w], True
    if w in NOUNS and (NOUNS[w] in known or w not in known):
        return NOUNS[w], False
    for base in comparative_readings(w):
        if base in known:
            return base, True
    if w in known:
        return w, False
    for base in (w[:-4] if w.endswith("ness") else "", w[:-1] if w.endswith("s") else ""):
        if base and base in known:
            return base, False
    return w, False


def normalise_word(raw: str, known: frozenset[str] | set[str] = frozenset()) -> Word:
    """Clean one SAFE descriptor: a single English word describing the sound, or a drop reason.

    ``known`` are the words comparatives may fold onto (e.g. Audealize's words and SAFE's own).
    """
    text = " ".join(raw.lower().split())
    if not text:
        return Word(None, reason="empty")
    if text in DROPPED_WORDS:
        return Word(None, reason=DROPPED_WORDS[text])
    tokens = [t for t in _SPLIT.split(text) if t]
    if len(tokens) != 1:
        return Word(None, reason=_PHRASE)
    token = tokens[0].strip("-_.")
    if not re.fullmatch(r"[a-z]+(-[a-z]+)?", token):
        return Word(None, reason=_GIBBERISH)
    base, comparative = resolve(token, known)
    return Word(base, comparative)


# --- words that leave the vocabulary ----------------------------------------------------------------
# Rule: a word stays if it says how something sounds: an adjective of timbre, mood or loudness, or a
# noun/verb naming a sound or its quality (boom, punch, crunch, rumble, buzz, noise). It leaves if it
# names a thing (object, food, animal, person, place, time of day), a music genre or an instrument,
# is a greeting or a politeness formula, or describes a person's character rather than a sound. The
# crowd typed such words into Audealize; the list below is that rule applied by review, word by word.
_THING = "names a thing (object, food, animal, person, place or time), not how something sounds"
_GENRE = "names a music genre or an instrument, not how it sounds"
_GREETING = "is a greeting, politeness formula or exclamation, not a description"
_CHARACTER = "describes a person's character, not a sound"

NOT_SOUND: dict[str, str] = {
    **{w: _THING for w in ("taco", "cow", "dog", "cat", "apple", "ralph", "bear", "car", "computer", "corn",
                           "food", "god", "man", "mother", "oxygen", "rain", "sunshine", "tiger", "hero",
                           "morning", "fire", "melody")},
    **{w: _GENRE for w in ("guitar", "drums", "brass", "techno", "pop", "rock", "metal")},
    **{w: _GREETING for w in ("hello", "please", "welcome", "wow")},
    **{w: _CHARACTER for w in ("intelligent", "smart", "wise", "honest", "kind", "humble", "forgetful",
                               "brave", "caring", "famous", "important", "helpful")},
}

# --- words about what an EQ cannot do --------------------------------------------------------------
# Engineers' words for stereo, space, dynamics, distortion and time effects: answering them with an EQ
# (by meaning: "wider" -> big) would change the tone and not what was asked, so they are refused with
# the reason. Crowd words among them (wet, dry, loud, quiet, pumping) stay: the crowd gave them EQs.
_STEREO = "is about stereo width or placement, which an EQ does not change"
_SPACE = "is about reverb or room sound, which an EQ does not add or take away"
_DYNAMICS = "is about dynamics (compression, level over time), which an EQ does not change"
_DISTORTION = "is about distortion or saturation, which an EQ does not add"
_EFFECT = "names a time-based effect (delay, chorus, flanger, phaser), not an EQ"
_LEVEL = ("is a part whose sound spreads over most of the spectrum: how loud it is is a fader's job, and an EQ "
          "would only change its tone")

NOT_EQ: dict[str, str] = {
    **{w: _STEREO for w in ("wide", "wider", "widest", "widen", "width", "narrower", "stereo", "mono", "panned",
                            "pan", "spread", "phasey", "phasy", "out of phase")},
    **{w: _SPACE for w in ("reverberant", "reverby", "roomy", "echoey", "echoy", "echo", "reverb", "ambient",
                           "ambience", "ambiance")},
    **{w: _DYNAMICS for w in ("compressed", "squashed", "squashy", "pumpy", "dynamic", "limited", "compression")},
    **{w: _DISTORTION for w in ("distorted", "saturated", "clipped", "clipping", "overdriven", "distortion",
                                "saturation")},
    **{w: _EFFECT for w in ("delay", "delayed", "chorus", "chorused", "flanged", "flanger", "phaser", "phased")},
    # "the guitar is too loud", "less mix": a part asked louder or quieter with no range of its own
    # (the instruments with one, "the kick is too loud", are read as it: regions.INSTRUMENTS)
    **{w: _LEVEL for w in SUBJECTS if w not in INSTRUMENTS},
}

#: Quality entries that are faults: said as what the sound is ("it sounds muffled", "the vocal is
#: buried", "the low end is flabby"), they ask for less, as a problem word does ("it's warm" does not).
FAULTS = frozenset({"dull", "muffled", "distant", "hollow", "scooped", "loose", "veiled", "recessed", "etched",
                    "syrupy", "clinical", "sparse"})

#: Words that judge rather than describe: they name no region or direction, so they need audio to
#: act on (with audio: auto-suggest; without: an error that says so). "better" folds onto "good".
NEEDS_AUDIO = frozenset("""
good better best bad worse worst nice great awesome super fix fixed improve improved improvement perfect right fine proper
professional polished pro correct wrong
""".split())

#: Words for a resonance: one narrow frequency. With a place they are a narrow cut there
#: (:data:`daw_bridge.semantic.frequencies.EXCESS_WORDS`: "cut the ring at 900 Hz"); without one
#: ("the snare rings", "less ringing", "too resonant") only the audio can place them, so they need
#: audio as judging words do (the embedding route had read them as "bell like", "chesty" or "windy").
RESONANCE_WORDS = frozenset("""
ring rings ringing ringy resonance resonances resonant resonate resonates resonating whistle whistles whistling whistly
""".split())


def needs_audio(word: str, base: str) -> bool:
    """Whether a word needs the audio to act on (:data:`NEEDS_AUDIO`, :data:`RESONANCE_WORDS`)."""
    return base in NEEDS_AUDIO or word in RESONANCE_WORDS or base in RESONANCE_WORDS


def needs_audio_message(words: list[str], text: str) -> str:
    """The error for a request made only of such words, saying what to give instead."""
    quoted = ", ".join(repr(w) for w in words)
    why = ("names a resonance at one frequency that the words do not give" if any(w in RESONANCE_WORDS for w in words)
           else "says how it should be, not what to change")
    return (f"{quoted} {why}: that needs the audio. Give a track (semeq eq '{text.strip()}' --audio IN, semeq "
            "suggest IN, or the REAPER auto-suggest action) or say what to change, e.g. 'less muddy', 'a bit "
            "brighter' or 'cut the ring at 900 Hz'")


def needs_audio_warning(word: str) -> str:
    """The warning for such a word beside words that can be answered."""
    if word in RESONANCE_WORDS:
        return f"'{word}' names a resonance without a place; ignored (give its frequency, or the audio)"
    return f"'{word}' judges rather than describes; ignored (with audio, auto-suggest decides)"
