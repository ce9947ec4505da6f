"""Reading a request: "make it a bit warmer and less muddy" -> words with signed weights.

Grammar (small and explicit):

* clauses are separated by commas, "and", "but", "with", "plus", and begin at "without" ("more low
  end without mud"); a second "more"/"less" after a word that already has its direction starts a
  new one ("more treble less bass");
* "n't" is "not" ("don't", "isnt"); phrases that say which way or ask for no change are read first
  (:data:`DIRECTION_PHRASES`: "tone down", "too much" = "too", "has no" = more;
  :data:`NO_CHANGE_PHRASES`: "leave it as is" = unchanged);
* in a clause, degree words multiply the weight ("a bit" 0.5, "much" 1.5, ... :data:`DEGREES`),
  "less", "not", "too", "no", "reduce"... flip its sign (:data:`NEGATORS`; "too harsh" asks for less
  harsh; "too" after a negation does not flip it back: "not too bright"), "more", "add", "boost" and
  comparative forms ("warmer") multiply it by :data:`COMPARATIVE` (1.25); "up"/"down" right after a
  region say which way for it ("bass up treble down"); "loud"/"quiet" beside another word say how
  much of it there is (:data:`AMOUNT_WORDS`: "the esses are too loud");
* filler ("make it", "please", "the vocals") is ignored (:data:`FILLER`), even where the word is
  also in the vocabulary (Audealize has "sound" and "please");
* every remaining word is a descriptor, folded onto a known word where possible ("warmer" -> warm,
  "air" -> airy, "brightness" -> bright) by :func:`daw_bridge.semantic.words.resolve`; an "-en" verb
  asks for more of its word ("tighten"), a "de-" verb for less ("de-mud", "de-ess");
* a region beside a quality only says where it acts ("smoother highs" is smooth, "less mud down
  low" is less muddy); alone it is the word ("more highs", "more on top");
* a clause that states what the sound is, with no wish or direction ("it sounds harsh and thin",
  "the low end is muddy", "the guitars sound boxy"), is a complaint: its problem words and faults
  ("it sounds muffled") ask for less (:func:`meant_weight`); there "not" says a word is missing ("it
  doesn't sound bright": more bright);
* a clause that forbids ("don't make it brighter") asks for less of its words beside other requests
  ("warmer but don't make it brighter") and for no change alone;
* known phrases of several words ("low end", "no eq", "lo-fi") are read as one descriptor, before
  degrees and negators (so "no eq" is a word, not "no" + "eq");
* a place or amount ("cut 300 Hz", "boost 2-5 kHz by 3 dB", "less mud around 250 Hz", "3 dB less
  boxy") is taken out of its clause first (:mod:`daw_bridge.semantic.frequencies`) and rides on the
  clause's mentions (``spot``); a clause with a place and no word is a mention of the place alone
  (``base`` ""), which takes the previous clause's direction when it has none ("cut 300 and 500 Hz").

The word tables (:data:`DEGREES`, :data:`NEGATORS`, :data:`FILLER`, ...) are in
:mod:`daw_bridge.semantic.phrasing`. Unknown descriptors are returned as such; the model decides
(sentence embeddings or an error).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from daw_bridge.errors import SemeqError
from daw_bridge.semantic.frequencies import FrequencyError, Spot, find_spot, join_ranges
from daw_bridge.semantic.phrasing import (AMOUNT_WORDS, DEGREES, DIRECTION_PHRASES, FILLER, INTENSIFIERS, LOCATIONS,
                                          NEGATORS, NO_CHANGE_PHRASES, SUBJECTS)
from daw_bridge.semantic.regions import NOUNS, POSITIONS, parse_region
from daw_bridge.semantic.words import FAULTS, comparative_readings, resolve

#: Weight factor of a comparative ("warmer", "more warm") against the plain word ("warm").
COMPARATIVE = 1.25

#: A clause that forbids ("don't make it brighter"): beside other requests it says what to avoid (less of
#: it); alone it asks for no change.
_FORBIDS = re.compile(r"\bdo not\b")
#: A clause that keeps ("keep the warmth", "keep it as bright as it is"): its words stay as they are.
_KEEPS = re.compile(r"\b(keep|keeps|keeping|preserve|preserving|retain|retaining|maintain|maintaining)\b")
#: "a dB more air": one dB.
_ONE_DB = re.compile(r"\b(?:a|one) (db|decibel)\b")
#: "don't", "shouldn't", "isnt": the verb and "not" ("can't" -> "can not", "won't" -> "will not").
_NOT_VERBS = {**{v: v for v in ("do", "does", "did", "is", "are", "was", "were", "should", "would", "could",
                                "has", "have", "must", "need")}, "ca": "can", "wo": "will", "ai": "is"}
_NOT = re.compile(r"\b(" + "|".join(_NOT_VERBS) + r")(?:n't|nt)\b")
#: A verb whose particle follows its object ("turn the highs down", "bring the mids up a bit"): put back
#: together before :data:`DIRECTION_PHRASES` are read.
_SPLIT_VERB = re.compile(r"\b(turn|bring|pull|push|dial|knock|roll|take|tone|calm)\s+"
                         r"((?:(?!and\b|but\b)[a-z0-9'.]+\s+){1,3}?)"
                         r"(down|up|back|out|off)\b")
#: "not <word> enough": more of the word.
_NOT_ENOUGH = re.compile(r"\bnot ([a-z' -]+?) enough\b")

#: Clause separators; a "." or "/" between digits ("2.5k", "1/3 octave"), a "+" before a number
#: ("+3 dB") and "with" before a Q ("with a Q of 2") do not separate.
_CLAUSE = re.compile(r"\s*(?:[,;!?&]|(?<!\d)[./]|[./](?!\d)|\+(?!\s*\d)|\band\b|\bbut\b|"
                     r"\bwith\b(?!\s+(?:an?\s+)?q\b)|\bplus\b|\bwhile\b|\balso\b|(?=\bwithout\b))\s*")
#: A position and a range noun not known as a phrase ("upper middle", "high middles"): one word, for
#: the named-region route (:mod:`daw_bridge.semantic.regions`).
_REGION_PAIR = re.compile(r"\b(" + "|".join(sorted(POSITIONS, key=len, reverse=True)) + r")[\s-]+("
                          + "|".join(sorted(map(re.escape, NOUNS), key=len, reverse=True)) + r")\b")
#: "<word>-heavy" (more of the word) and "<word>-shy" (less of it), when the word is known.
_TOO_LITTLE = ("light", "shy", "lite", "less", "starved", "deficient", "poor")
_AMOUNT_COMPOUND = re.compile(r"([a-z]+)-(heavy|rich|loaded|forward|" + "|".join(_TOO_LITTLE) + ")")
#: A clause that says what the sound is ("it sounds thin") and one that says what is wanted ("make it thin").
_STATES = re.compile(r"\b(is|are|was|were|sounds|seems|feels|it's|that's|they're|it is|has|have)\b"
                     r"|(?<=[a-z] )(?<!\ba )(?<!\bthe )(?<!\bmy )(?<!\bour )(?<!\byour )(?<!\bthis )(?<!\bthat )"
                     r"\b(?:sound|seem|feel)(?= [a-z])")  # "the guitars sound boxy", not "a thin sound"
_WISHES = re.compile(r"\b(make|makes|making|want|wants|wanted|should|could|would|need|needs|let's|give|i'd)\b")
#: Phrases read as other words before a clause is read: which way, or no change at all.
_REWRITES = {**DIRECTION_PHRASES, **{phrase: "unchanged" for phrase in NO_CHANGE_PHRASES}}
_DIRECTION = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _REWRITES), key=len, reverse=True)) + r")\b")
#: A descriptor read from a clause: (token as typed, base, comparative, sign).
Descriptor = tuple[str, str, bool, float]
_LOCATION = re.compile(r"\b(" + "|".join(sorted(map(re.escape, LOCATIONS), key=len, reverse=True)) + r")\b")
#: "de-<word>" takes the word away ("de-mud", "de-ess", "de-essing"; "deess" as de-essers are also
#: spelled): less of it. Unhyphenated only for "ess": "delight" and "deflated" are words of their own.
_TAKE_AWAY = re.compile(r"de-([a-z]{2,}?)(?:ing|er|ed)?|de(ess)(?:ing|er|ed)?")


@dataclass(frozen=True)
class Mention:
    """A descriptor found in the text.

    ``word``: the token as typed; ``base``: folded form to look up ("warmer" -> "warm");
    ``weight``: signed weight (degree x sign x comparative); ``matched``: the clause it came from;
    ``comparative``: whether :data:`COMPARATIVE` is already in the weight; ``spot``: the place or
    amount its clause names (a mention of a place alone has ``base`` ""); ``complaint``: the clause
    states what the sound is, with no wish or direction ("it sounds harsh", "the low end is muddy"),
    so a problem word or a fault asks for less of it (:func:`meant_weight`); ``described``: the
    clause names an instrument or the mix with no verb, direction or comparative ("harsh cymbals"),
    so a problem word (not a fault: "scooped guitars" may be wished for) asks for less of it;
    ``denied``: the statement says the word is not there ("it isn't muddy", "it doesn't sound bright"):
    a missing quality is wanted, an absent problem or fault asks for nothing; ``kept``: the clause
    keeps the word as it is ("keep the warmth"): weight 0; ``where``: the region (Hz) the clause asks
    the word in ("clean up the low end", "more sparkle on top"), which the word's move keeps to.
    """

    word: str
    base: str
    weight: float
    matched: str
    comparative: bool = False
    spot: Spot | None = None
    complaint: bool = False
    described: bool = False
    denied: bool = False
    kept: bool = False
    where: tuple[float, float] | None = None


class ParseError(SemeqError):
    """Text without any word to act on."""

    code = "unknown_term"


def parse(text: str, known: frozenset[str] | set[str]) -> list[Mention]:
    """Read ``text`` into descriptor mentions (see the module docstring); ``known`` is the vocabulary."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("say what you want to hear, e.g. 'warmer' or 'a bit less harsh'")
    lowered = _NOT.sub(lambda m: f"{_NOT_VERBS[m.group(1)]} not", join_ranges(text.lower().replace("’", "'")))
    lowered = _SPLIT_VERB.sub(r"\1 \3 \2", _NOT_ENOUGH.sub(r"more \1", lowered))
    lowered = _DIRECTION.sub(lambda m: _REWRITES[m.group(1)], lowered)
    lowered = _ONE_DB.sub(r"1 \1", lowered)
    mentions: list[Mention] = []
    forbidden = 0  # mentions from clauses that forbid ("don't make it brighter")
    stated = False  # "it sounds harsh and thin": the statement carries over to the next clause
    for clause in _CLAUSE.split(lowered):
        spot, clause = find_spot(clause)
        clause = " ".join(re.sub(r"[^a-z0-9' -]+", " ", clause).split())
        if not clause and spot is None:
            continue
        previous = mentions[-1].weight if mentions and mentions[-1].spot is not None else 0.0
        wished = bool(_WISHES.search(clause))
        stated = (stated or bool(_STATES.search(clause))) and not wished
        found = _parse_clause(clause, known, spot, previous, stated, wished)
        forbidden += len(found) if _FORBIDS.search(clause) and spot is None else 0
        if _KEEPS.search(clause) and spot is None:  # "warmer but keep the highs": the highs stay
            found = [replace(m, weight=0.0, kept=True) for m in found]
        mentions.extend(found)
    if mentions and forbidden == len(mentions):  # "don't make it brighter" alone: leave it as it is
        return [Mention(text.strip(), "unchanged", 1.0, lowered)]
    if not mentions:
        raise ParseError(
            f"found no word describing a sound in {text.strip()!r}; try e.g. 'warmer', 'a bit brighter' "
            "or 'less muddy'"
        )
    return mentions


@lru_cache(maxsize=8)
def _phrases(known: frozenset[str]) -> tuple[tuple[re.Pattern, str], ...]:
    """Known descriptors of several words, longest first, as (pattern, single token)."""
    multi = sorted((k for k in known if " " in k), key=len, reverse=True)
    return tuple((re.compile(r"\b" + r"[\s-]+".join(map(re.escape, k.split())) + r"\b"), k.replace(" ", "_"))
                 for k in multi)


def _parse_clause(clause: str, known: frozenset[str] | set[str], spot: Spot | None = None,
                  previous: float = 0.0, stated: bool = False, wished: bool = False) -> list[Mention]:
    factor = 1.0
    comparative = directed = False
    located = _LOCATION.search(clause)
    rest = _LOCATION.sub(" ", clause)
    for pattern, token in _phrases(frozenset(known)):
        rest = pattern.sub(token, rest)
    rest = _REGION_PAIR.sub(lambda m: f"{m.group(1)}-{m.group(2).replace(' ', '-')}", rest)  # "upper middle"
    for phrase in sorted(DEGREES, key=len, reverse=True):
        pattern = rf"\b{re.escape(phrase)}\b"
        if re.search(pattern, rest):
            factor *= DEGREES[phrase]
            rest = re.sub(pattern, " ", rest)
    words: list[Descriptor] = []
    tokens, tail, last_was_word, denied = rest.split(), "", False, False
    for i, token in enumerate(tokens):
        token = token.strip("'-")
        lead = token.split("_")[0]  # "more_treble": a listed phrase leads with its direction word
        if lead in ("more", "less", "fewer") and words and directed and spot is None:
            tail = " ".join(tokens[i:])  # "more treble less bass": a second request
            break
        if token in ("up", "down") and last_was_word and _names_region(words[-1][0]):  # "bass up treble down"
            words[-1] = (*words[-1][:2], True, words[-1][3] * (1.0 if token == "up" else -1.0))
            directed, last_was_word = True, False
            continue
        last_was_word = False
        if not token or (token == "too" and factor < 0):  # "not too bright": one negation
            continue
        if token == "not" and stated and tokens[i + 1:i + 2] not in (["too"], ["so"], ["as"]):
            denied = True  # "it doesn't sound bright", "it isn't muddy": said of the sound, the word is missing
            continue
        if token in NEGATORS:
            factor = -factor
            comparative = comparative or token in ("less", "fewer")
            directed = True
        elif token in INTENSIFIERS:
            comparative = directed = True
        elif not (token in FILLER or token.isdigit()):
            words.append(_read_word(token, known))
            last_was_word, directed = True, directed or lead in INTENSIFIERS
    bare = [t.strip("'-") for t in tokens]
    subject = next((t for t in bare if t in SUBJECTS), None)
    turned = next((b for a, b in zip(bare, bare[1:]) if a == subject and b in ("up", "down")), None)  # "kick down"
    if subject and (directed or words or turned) and all(w[0] in AMOUNT_WORDS for w in words) and spot is None:
        # "the kick is too loud", "less hi-hat": the part itself is the word (its range, or why not)
        words.insert(0, (subject, subject, turned is not None, -1.0 if turned == "down" else 1.0))
    words, amounted = _amounts(words, stated and not directed)
    stated = stated and not amounted
    where = None  # the region a word is asked in ("clean up the low end", "more sparkle on top")
    if spot is not None or not all(_names_region(w[0]) for w in words):
        # "smoother highs", "the bass is clashing around 100": the region (or the place) says where
        named = [w[0] for w in words if _names_region(w[0])] + ([LOCATIONS[located.group(1)]] if located else [])
        region = parse_region(named[0]) if named and spot is None else None
        where = (region.low_hz, region.high_hz) if region is not None else None
        words = [w for w in words if not _names_region(w[0])]
    if not words and located is not None and spot is None:  # "more on top": the place is the word
        words.append((located.group(1), LOCATIONS[located.group(1)], False, 1.0))
    if not words and clause in known and clause in DEGREES:  # a word that is also a degree ("far": distant, not "far brighter")
        words, factor = [(clause, clause, False, 1.0)], 1.0
    if spot is not None and not words:
        return [_place_alone(spot, factor, directed, previous, clause)]
    if spot is not None and spot.sign < 0:
        factor = -abs(factor)  # "-3 dB of mud"
    complaint = (stated or (spot is not None and spot.excess)) and not directed  # "the 250 Hz buildup is muddy"
    asked = wished or directed or comparative or any(w[2] for w in words)
    described = not asked and not SUBJECTS.isdisjoint(tokens)  # "harsh cymbals"
    out = []
    for token, base, is_comparative, sign in words:
        is_comparative = comparative or is_comparative
        weight = sign * factor * (COMPARATIVE if is_comparative else 1.0)
        out.append(Mention(token, base, weight, clause, is_comparative, spot, complaint and sign > 0,
                           described and sign > 0, denied and complaint and sign > 0, where=where))
    return out + (_parse_clause(tail, known, None, 0.0, stated, wished) if tail else [])


def _read_word(token: str, known: frozenset[str] | set[str]) -> Descriptor:
    """One descriptor token as (token, base, comparative, sign): a known phrase or word, "treble-heavy",
    a "de-" verb ("de-mud": less), an "-en" verb ("tighten"), or a form :func:`resolve` folds."""
    if "_" in token:  # a known phrase; "more nasal" (a listed form) is still a comparative
        phrase = token.replace("_", " ")
        return phrase, phrase, phrase.split()[0] in INTENSIFIERS, 1.0
    if token in known and not _folds_to_other(token, known):
        return token, token, False, 1.0
    if (m := _AMOUNT_COMPOUND.fullmatch(token)) and resolve(m.group(1), known)[0] in known:
        # "treble-heavy" is too much treble, "bass-shy" too little bass
        return token, resolve(m.group(1), known)[0], True, -1.0 if m.group(2) in _TOO_LITTLE else 1.0
    if (taken := _taken_away(token, known)) is not None:
        return token, taken, True, -1.0
    base, is_comparative = resolve(token, known)
    if base not in known and (verb := _made_more(token, known)) is not None:  # "tighten"
        base, is_comparative = verb, True
    return token, base, is_comparative, 1.0


def _amounts(words: list[Descriptor], stated: bool) -> tuple[list[Descriptor], bool]:
    """Beside another word, "loud" and "quiet" say how much of it there is ("the esses are too loud" is
    too much sibilance, "the bass is too quiet" too little bass); said as what the sound is ("the
    highs are quiet"), the opposite is wanted. Returns the words without them and whether there were any."""
    amount = [w for w in words if w[0] in AMOUNT_WORDS]
    if not amount or len(amount) == len(words):
        return words, False
    sign = math.prod(AMOUNT_WORDS[w[0]] for w in amount) * (-1.0 if stated else 1.0)
    louder = any(w[0].endswith("er") for w in amount)
    return [(t, b, c or louder, s * sign) for t, b, c, s in words if t not in AMOUNT_WORDS], True


def meant_weight(mention: Mention, weight: float, kind: str, term: str = "") -> float:
    """``weight`` of the entry ``term`` of ``kind`` as meant: a problem word or a fault
    (:data:`~daw_bridge.semantic.words.FAULTS`) said as a complaint ("it sounds harsh", "it sounds
    muffled"), and a problem word describing an instrument ("harsh cymbals"), ask for less of it, not more;
    one the statement denies ("it isn't muddy") asks for nothing (0)."""
    complaint = mention.complaint and (kind == "problem" or term in FAULTS)
    if complaint and mention.denied:
        return 0.0
    return -abs(weight) if complaint or (mention.described and kind == "problem") else weight


def flat_note(mentions: list[Mention]) -> str:
    """Why words gave a flat EQ: the statement denies them ("it isn't muddy"), keeps them ("keep the
    warmth"), or they cancel out."""
    denied = ", ".join(f"'{m.word}'" for m in mentions if m.denied)
    kept = ", ".join(f"'{m.word}'" for m in mentions if m.kept)
    if denied or kept:
        return (f"The words say the sound is not {denied}: nothing to fix" if denied else
                f"The words keep {kept} as it is: nothing to change") + ", the EQ is flat."
    return "The words cancel out: the EQ is flat."


def _place_alone(spot: Spot, factor: float, directed: bool, previous: float, clause: str) -> Mention:
    """The mention of a place (or amount) named without a word: its weight's sign says cut or boost
    (a negator, a typed sign, "boost"/"more", an excess word, or else the previous place's direction), its size the
    degree words ("cut 300 Hz a bit": 0.5)."""
    where = spot.text
    if not spot.names_place:
        raise FrequencyError(f"{where} of what? Say where ('boost {where} at 5 kHz') or what ('{where} brighter')")
    if factor < 0 or spot.sign < 0:
        sign = -1.0
    elif directed or spot.sign > 0:
        sign = 1.0
    elif spot.excess:  # "there's a resonance at 3k"
        sign = -1.0
    else:
        sign = math.copysign(1.0, previous) if previous else 0.0
    if sign == 0.0:
        raise FrequencyError(f"say which way for {where}: e.g. 'cut {where}' or 'boost {where}'")
    return Mention(word=where, base="", weight=sign * abs(factor), matched=clause or where, spot=spot)


def _taken_away(token: str, known: frozenset[str] | set[str]) -> str | None:
    """The known word a "de-" verb takes away ("de-mud" -> muddy, "de-essing" -> essy), or None; only
    for a token that is not itself a known word or a form of one."""
    if resolve(token, known)[0] in known or not (m := _TAKE_AWAY.fullmatch(token)):
        return None
    for stem in (m.group(1) or m.group(2), token[3:] if token[2] == "-" else ""):
        for base in (stem, stem + "y"):
            word = resolve(base, known)[0]
            if len(stem) >= 3 and word in known:
                return word
    return None


def _made_more(token: str, known: frozenset[str] | set[str]) -> str | None:
    """The known word an "-en" verb makes more of ("tighten" -> tight, "soften" -> soft, "fatten" ->
    fat, "loosen" -> loose), or None."""
    if not token.endswith("en") or len(token) < 5:
        return None
    stem = token[:-2]
    for base in (stem, stem + "e", stem[:-1] if stem[-1] == stem[-2] else ""):
        if base and resolve(base, known)[0] in known:
            return resolve(base, known)[0]
    return None


def _names_region(token: str) -> bool:
    """True if ``token`` names a part of the spectrum ("highs", "low end", "top", "upper mids",
    "upper-middle"): beside a quality word it only says where that word acts."""
    parts = token.replace("-", " ").split()
    return (token in NOUNS or token == "top"
            or (len(parts) == 2 and parts[0] in (*POSITIONS, "sub") and " ".join(parts[1:]) in NOUNS))


def _folds_to_other(token: str, known: frozenset[str] | set[str]) -> bool:
    """True if a known token is also the comparative of a known word ("muddier" listed as a form)."""
    return any(base in known for base in comparative_readings(token))
