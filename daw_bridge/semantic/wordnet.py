"""General English word relations (WordNet 3.0), read from ``models/wordnet/relations.txt.gz``.

The table is built once by ``python -m tools.build_wordnet`` from the WordNet database (Debian's
``wordnet-base``) and committed; the run time needs only this file (any OS). It knows nothing of
the studio lexicon: :mod:`daw_bridge.semantic.unknown` maps its words onto the lexicon at run time.

:func:`related` lists, for one word, the words WordNet relates to it, each with its route and a
weight: ``synonym`` (same synset), ``similar`` (similar to, also see, verb group), ``derived``
(derivationally related, pertainym, attribute: "brightness" -> bright), ``antonym`` (direct, and
indirect through the head of an adjective cluster: a satellite of "light" is opposite to "dark").
The weight is :data:`ROUTE_WEIGHTS` x the sense's weight: ``1 / (1 + rank)`` in WordNet's sense
order (most frequent first), times :data:`SOUND_SENSE_BOOST` when the sense's gloss speaks of sound
("(of sound) ..."). :func:`glosses` gives the definitions of a word's senses, sound senses first.
:meth:`Relations.names_a_thing` tells a word that names only a made or material thing ("wood",
"glass", "window"; the build tool lists those lemmas) from a word about sound.
"""

from __future__ import annotations

import bisect
import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WORDNET_FOLDER = "wordnet"
RELATIONS_FILE = "relations.txt.gz"
#: First line of the table's text (:func:`encode`).
HEADER = "# WordNet 3.0 relations, built by tools/build_wordnet.py (licence: LICENSE beside this file)"

#: Route of each kept WordNet pointer (see tools/build_wordnet.py).
POINTER_ROUTES = {"!": "antonym", "&": "similar", "^": "similar", "$": "similar", "+": "derived",
                  "\\": "derived", "=": "derived"}
#: Weight of a related word by route (an indirect antonym is weaker than a direct one).
ROUTE_WEIGHTS = {"synonym": 1.0, "similar": 0.8, "derived": 0.8, "antonym": 1.0, "indirect antonym": 0.6}
#: A sense whose gloss speaks of sound counts this many times more than another sense of its rank.
SOUND_SENSE_BOOST = 3.0
_SOUND_GLOSS = re.compile(r"\b(sound|sounds|sonic|tone|tones|tonal|voice|vocal|music|musical|hear|heard|hearing|"
                          r"audio|acoustic|acoustics|noise|noisy|pitch|timbre|loud|loudness|resonance|resonant|"
                          r"audible|ring|ringing|speech|spoken|uttered|utterance)\b")
#: WordNet's detachment rules (morphy) by part of speech: (suffix, replacement).
_DETACH = {"n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
                 ("men", "man"), ("ies", "y")),
           "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
                 ("ing", "")),
           "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e"), ("ier", "y"), ("iest", "y")),
           "r": ()}


@dataclass(frozen=True)
class Related:
    """A word related to the query: ``word`` (lookup key), ``route`` (synonym | similar | derived |
    antonym | indirect antonym), ``weight`` (route x sense weight)."""

    word: str
    route: str
    weight: float

    @property
    def opposite(self) -> bool:
        return self.route.endswith("antonym")


Synset = tuple[str, list[str], str, list[tuple[str, int, int, int]]]


@dataclass(frozen=True)
class Relations:
    """The loaded table, kept as its text lines (parsed on use: about 20 MB instead of 80 MB as Python
    objects). ``synset_lines[i]``: synset i (:func:`encode`); ``lemma_lines``: "lemma<TAB>synset:sense
    ..." sorted by lemma (sense = sense number within its part of speech, 0 = most frequent);
    ``exceptions``: irregular form -> bases; ``things``: lemmas that name only a made or material
    thing (``tools.build_wordnet.thing_lemmas``)."""

    synset_lines: list[str]
    lemma_lines: list[str]
    exceptions: dict[str, list[str]]
    things: frozenset[str] = frozenset()

    def synset(self, i: int) -> Synset:
        """(pos, lemmas, gloss, pointers [(symbol, target, source word, target word)]) of synset ``i``."""
        pos, lemmas, gloss, pointers = self.synset_lines[i].split("\t")
        parsed = [(p[0], int(p[1]), int(p[2]), int(p[3])) for p in (q.split(" ") for q in pointers.split(";") if q)]
        return pos, lemmas.split("|"), gloss, parsed

    def index(self, lemma: str) -> list[tuple[int, int]]:
        """(synset, sense number) of ``lemma``, in WordNet's order; [] if the table does not hold it."""
        i = bisect.bisect_left(self.lemma_lines, lemma, key=lambda line: line.split("\t", 1)[0])
        if i == len(self.lemma_lines) or self.lemma_lines[i].split("\t", 1)[0] != lemma:
            return []
        return [(int(s), int(r)) for s, r in (x.split(":") for x in self.lemma_lines[i].split("\t", 1)[1].split())]

    def __contains__(self, lemma: object) -> bool:
        return isinstance(lemma, str) and bool(self.index(lemma))

    def __len__(self) -> int:
        """Number of lemmas."""
        return len(self.lemma_lines)

    def _has_pos(self, lemma: str, pos: str) -> bool:
        return any(self.synset(s)[0] in (("a", "s") if pos == "a" else (pos,)) for s, _ in self.index(lemma))

    def lemmas(self, word: str) -> list[tuple[str, bool]]:
        """Index lemmas ``word`` may be a form of: (lemma, is a comparative/superlative), itself first;
        inflections by WordNet's exception lists and detachment rules, and, only when none is known,
        the word an adjective is derived from (:func:`_derivation_bases`)."""
        key = re.sub(r"[\s_-]+", " ", word.strip().lower())
        found = [(key, False)] if key in self else []
        for base in self.exceptions.get(key, []):
            found.append((base, key.endswith(("er", "est")) and self._has_pos(base, "a")))
        for pos, rules in _DETACH.items():
            for suffix, repl in rules:
                if key.endswith(suffix) and len(key) > len(suffix) + 1:
                    base = key[: -len(suffix)] + repl
                    if self._has_pos(base, pos):
                        found.append((base, pos == "a"))
        if not found:  # derivation: "boomy" -> boom, "rumbly" -> rumble, "hissiness" -> hiss, "bell like" -> bell
            found = [(base, False) for base in _derivation_bases(key) if base in self]
        seen: set[str] = set()
        return [(w, c) for w, c in found if not (w in seen or seen.add(w))]

    def names_a_thing(self, word: str) -> bool:
        """True if every reading of ``word`` (itself or its inflections, :meth:`lemmas`) names only a
        made or material thing. A word read only through its derivation ("cardboardy" -> cardboard,
        "glassy") does not: an adjective made from a thing describes a sound."""
        readings = [w for w, _ in self.lemmas(word)]
        derived = set(_derivation_bases(re.sub(r"[\s_-]+", " ", word.strip().lower())))
        return bool(readings) and all(w in self.things for w in readings) and not set(readings) <= derived

    def senses(self, lemma: str) -> list[tuple[int, float]]:
        """(synset, sense weight) of ``lemma``, in WordNet's order (see the module docstring)."""
        return [(s, (SOUND_SENSE_BOOST if speaks_of_sound(self.synset(s)[2]) else 1.0) / (1.0 + rank))
                for s, rank in self.index(lemma)]


def speaks_of_sound(gloss: str) -> bool:
    """True if a sense's gloss speaks of sound ("(of sound) ...", "a hissing noise")."""
    return _SOUND_GLOSS.search(gloss) is not None


def encode(synsets: list, index: dict[str, list], exceptions: dict[str, list[str]], things: list[str] = ()) -> str:
    """The table as text: a header line, "S n" and n synset lines (pos, lemmas joined by "|", gloss,
    pointers "symbol target source target-word" joined by ";", tab-separated), "L m" and m lemma lines
    sorted by lemma, "E k" and k exception lines ("form<TAB>base|base"), and, when ``things`` is not
    empty, "T j" and j lemma lines (sorted)."""
    out = [HEADER, f"S {len(synsets)}"]
    out += ["\t".join((pos, "|".join(lemmas), " ".join(gloss.split()), ";".join(" ".join(map(str, p)) for p in pointers)))
            for pos, lemmas, gloss, pointers in synsets]
    out.append(f"L {len(index)}")
    out += [f"{lemma}\t" + " ".join(f"{s}:{r}" for s, r in index[lemma]) for lemma in sorted(index)]
    out.append(f"E {len(exceptions)}")
    out += [f"{form}\t" + "|".join(exceptions[form]) for form in sorted(exceptions)]
    if things:
        out += [f"T {len(things)}", *sorted(things)]
    return "\n".join(out) + "\n"


def decode(text: str) -> Relations:
    """The :class:`Relations` of a text made by :func:`encode`."""
    lines = text.split("\n")
    if lines[0] != HEADER:
        raise ValueError(f"not a relations table (first line {lines[0][:60]!r})")
    sections, i = [], 1
    for tag in ("S", "L", "E"):
        head, _, count = lines[i].partition(" ")
        if head != tag:
            raise ValueError(f"relations table: expected section {tag} at line {i + 1}")
        n = int(count)
        sections.append(lines[i + 1: i + 1 + n])
        i += 1 + n
    exceptions = {form: bases.split("|") for form, bases in (line.split("\t") for line in sections[2])}
    head, _, count = lines[i].partition(" ")
    things = frozenset(lines[i + 1: i + 1 + int(count)]) if head == "T" else frozenset()
    return Relations(sections[0], sections[1], exceptions, things)


#: Suffixes that make an adjective or a quality noun from a word, longest first: (suffix, replacement).
_DERIVATIONS = (("iness", "y"), ("iness", ""), ("ness", ""), ("ey", ""), ("ish", ""), ("like", ""), ("y", ""))


def _derivation_bases(key: str) -> list[str]:
    """Words a form made with -y, -ey, -ish, -like, -ness, -iness, "-like" or "-sounding" may be derived
    from (English suffix rules; the caller keeps those WordNet knows): "boomey" -> boom, "hissiness"
    -> hissy, hiss; "dronish" -> drone; "tubby" -> tub; "bell like" -> bell."""
    for suffix in (" like", " sounding", " ish"):
        if key.endswith(suffix) and len(key) > len(suffix) + 2:
            return [key[: -len(suffix)].strip()]
    for suffix, repl in _DERIVATIONS:
        if key.endswith(suffix) and len(key) > len(suffix) + 2:
            stem = key[: -len(suffix)]
            bases = [stem + repl, stem, stem + "e"] + ([stem[:-1]] if stem[-1] == stem[-2] else [])
            return list(dict.fromkeys(bases))
    return []


def relations_path(models: Path | None = None) -> Path:
    """``models/wordnet/relations.txt.gz`` of ``models`` (default: the models folder)."""
    if models is None:
        from daw_bridge.semantic.model import models_dir

        models = models_dir()
    return Path(models) / WORDNET_FOLDER / RELATIONS_FILE


@lru_cache(maxsize=2)
def load(path: Path | None = None) -> Relations | None:
    """The table at ``path`` (default :func:`relations_path`), or None if it is not there."""
    path = Path(path) if path is not None else relations_path()
    if not path.exists():
        return None
    return decode(gzip.decompress(path.read_bytes()).decode("utf-8"))


def related(lemma: str, table: Relations) -> list[Related]:
    """Words WordNet relates to ``lemma`` (an index lemma), with route and weight (module docstring)."""
    out: list[Related] = []
    for s, sense_weight in table.senses(lemma):
        pos, lemmas, _, pointers = table.synset(s)
        me = lemmas.index(lemma) + 1 if lemma in lemmas else 0  # WordNet's 1-based word number
        out += [Related(w, "synonym", ROUTE_WEIGHTS["synonym"] * sense_weight) for w in lemmas if w != lemma]
        for symbol, target, source_word, target_word in pointers:
            if source_word and source_word != me:
                continue  # a lexical pointer of another word of the synset
            route = POINTER_ROUTES[symbol]
            t_lemmas = table.synset(target)[1]
            words = [t_lemmas[target_word - 1]] if target_word else t_lemmas
            out += [Related(w, route, ROUTE_WEIGHTS[route] * sense_weight) for w in words]
            if pos == "s" and symbol == "&":  # a satellite: opposite to its head's antonyms
                for sym2, t2, _, w2 in table.synset(target)[3]:
                    if sym2 == "!":
                        t2_lemmas = table.synset(t2)[1]
                        out += [Related(w, "indirect antonym", ROUTE_WEIGHTS["indirect antonym"] * sense_weight)
                                for w in ([t2_lemmas[w2 - 1]] if w2 else t2_lemmas)]
    return out


def glosses(lemma: str, table: Relations, k: int = 3) -> list[tuple[str, float]]:
    """Up to ``k`` (gloss, sense weight) of ``lemma``, heaviest first (sound senses lead)."""
    senses = sorted(table.senses(lemma), key=lambda x: -x[1])[:k]
    return [(table.synset(s)[2], w) for s, w in senses]
