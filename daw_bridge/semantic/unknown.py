"""Unknown words through meaning: general English relations, embeddings, then glosses.

A word that is no vocabulary word is answered by a studio-lexicon entry (never by a crowd-only
word: those have no definition to check against); ``names`` (lexicon name -> entry term) are taken
from the *current* lexicon at call time, so a word left out of the lexicon is answered only by the
entries that remain. The routes:

0. **Region** (:mod:`daw_bridge.semantic.regions`): a phrase that names a part of the spectrum by a
   position and a range noun ("upper mids", "low-treble", "midbass", "top octave") is read by that
   grammar into Hz (band edges from published charts) and answered by the quality entry whose EQ is
   closest in shape to a boost there (or, with a negative cosine, its opposite). It answers first.
1. **Relations** (:mod:`daw_bridge.semantic.wordnet`): the words WordNet relates to the typed word
   (or to the base it is a comparative of, "muddier" -> muddy, or, by English suffix rules for -y,
   -ey, -ish, -like, -ness and -iness, derived from: "boomy" -> boom, "hissiness" -> hiss).
   Each one that is a lexicon name is evidence for its entry: a synonym, similar or derived word
   for the *same* move, an antonym for the *opposite* move ("opposite of dull"). An entry's evidence
   is its heaviest hit (:data:`~daw_bridge.semantic.wordnet.ROUTE_WEIGHTS` x sense weight; ties: the
   sum over hits); the heaviest entry is the relation answer if its evidence is at least
   :data:`MIN_EVIDENCE`. A reading none of whose related words names an entry may reach one in two
   steps, through the derivational family of a synonym ("hiss" -> sibilate -> sibilant: route
   ``family``, evidence the product of both steps, only from :data:`STRONG_EVIDENCE`). A compound
   WordNet does not know goes by its head word.
2. **Embedding**: the word itself against the lexicon's names and definitions
   (:func:`daw_bridge.semantic.embeddings.nearest`), from
   :data:`~daw_bridge.semantic.embeddings.THRESHOLD`; never with a no-change entry (a word that only
   resembles "neutral" is refused, not answered flat).
3. **Gloss**: the definitions WordNet gives the word's heaviest senses, embedded with MiniLM,
   against the lexicon's definitions, from :data:`GLOSS_THRESHOLD`.

Order: a relation answer with evidence of at least :data:`STRONG_EVIDENCE` (the first sense's
synonym or antonym, or any relation in a sense about sound) answers first; then the embedding (but
when WordNet names the embedding's entry as an antonym of the word, the answer is its opposite:
embeddings place antonyms together, "light" next to "dark"; and when a weaker relation answer's EQ
moves the opposite way to the embedding's, the relation answers: :func:`pull_apart`); then
a weaker relation answer; then the gloss. Otherwise the word is refused with close suggestions. A
word WordNet's table does not hold (nonsense, or a word naming a being, a place or a time: the table
leaves those senses out) can only pass the embedding route. A word WordNet knows only as a made or
material thing (:meth:`~daw_bridge.semantic.wordnet.Relations.names_a_thing`: "wood", "glass",
"window") is refused, with the lexicon names WordNet derives from it first among the suggestions
("glass" -> glassy): embeddings placed such words next to studio words ("wood" by "cardboard").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from daw_bridge.semantic import embeddings, regions, wordnet
from daw_bridge.semantic.lexicon import normalise
from daw_bridge.semantic.words import NOT_SOUND, comparative_readings, resolve

#: Smallest relation evidence that answers a word (a synonym in a word's 3rd sense: 0.33).
MIN_EVIDENCE = 0.3
#: Letters a synonym and its derived word share in the two-step "family" route (sibilate, sibilant).
FAMILY_STEM = 4
#: Relation evidence that answers before the embedding route (a synonym or antonym in a word's first
#: sense, or a related word in a sense about sound).
STRONG_EVIDENCE = 1.0
#: Smallest cosine similarity of a sense's gloss to a lexicon definition that answers a word.
GLOSS_THRESHOLD = 0.5
#: Glosses embedded per word (heaviest senses).
GLOSS_SENSES = 3
#: Correlation of two entries' EQ curves below which they pull opposite ways (:func:`pull_apart`).
#: Over 140 studio words outside the lexicon, the conflicts below -0.2 were antonym picks of the
#: embedding (frosty -> warm, bulky -> thin, radiant -> warm, papery -> cardboard); between -0.2 and 0
#: they were near-synonyms of the embedding's answer (cozy -> warm, mushy -> muddy).
OPPOSED_CORRELATION = -0.2


@dataclass(frozen=True)
class Resolution:
    """How an unknown word was answered: ``term`` (lexicon entry), ``route`` (region | synonym |
    similar | derived | antonym | indirect antonym | family | head word | gloss | embedding),
    ``via`` (the region, the related word, the gloss, or the closest name), ``opposite`` (the answer
    is the entry's opposite move), ``score`` (relation evidence or cosine similarity),
    ``comparative`` (the typed word was a comparative),
    ``antonym``: the WordNet antonym that turned an embedding answer into its opposite."""

    term: str
    route: str
    via: str
    opposite: bool
    score: float
    comparative: bool = False
    antonym: str = ""

    def describe(self) -> str:
        """E.g. "opposite of dull (WordNet antonym 'dull', evidence 1.00)"."""
        what = f"opposite of {self.term}" if self.opposite else self.term
        if self.route == "region":
            return f"{what} (the entry closest in EQ shape to a boost of the {self.via.removeprefix('the ')}; cosine {self.score:.2f})"
        if self.route == "family":
            return f"{what} (WordNet synonym and derived word '{self.via}', evidence {self.score:.2f})"
        if self.route == "gloss":
            return f"{what} (WordNet definition '{self.via}', similarity {self.score:.2f})"
        if self.route == "embedding":
            return f"{what} (closest in meaning, via '{self.via}', similarity {self.score:.2f}" + \
                (f"; WordNet antonym '{self.antonym}')" if self.antonym else ")")
        return f"{what} (WordNet {self.route} '{self.via}', evidence {self.score:.2f})"


def lexicon_names(alias: dict[str, str], kinds: dict[str, str]) -> dict[str, str]:
    """Lexicon names (lookup keys) -> entry term, from a model's ``alias`` map and each term's kind."""
    return {a: t for a, t in alias.items() if kinds.get(t, "crowd") != "crowd"}


def _name_of(word: str, names: dict[str, str]) -> str | None:
    """The entry ``word`` names (exactly, or folded: "thickness" -> thick), if any."""
    key = normalise(word)
    if key in names:
        return names[key]
    base, _ = resolve(key, names.keys())
    return names.get(base)


def relation_answers(word: str, names: dict[str, str], table: wordnet.Relations) -> list[Resolution]:
    """Every entry WordNet relates ``word`` to, as an answer with its evidence (the heaviest hit;
    ties: the sum over hits), heaviest first; from the first reading of the word that has any. A
    reading with no related word that names an entry may still reach one in two steps, through the
    derivational family of a word it is a synonym of or similar to (:func:`_family_hits`: "hiss" ->
    sibilate -> sibilant)."""
    for lemma, comparative in table.lemmas(word):
        hits = wordnet.related(lemma, table)
        ranked = _rank([(h, h.word) for h in hits], lemma, names) or _rank(_family_hits(lemma, hits, table), lemma, names)
        if ranked:
            return [Resolution(term, hit.route, via, top < 0, round(abs(top), 4), comparative)
                    for term, top, hit, via in ranked]
    return []


def _rank(hits: list[tuple[wordnet.Related, str]], lemma: str,
          names: dict[str, str]) -> list[tuple[str, float, wordnet.Related, str]]:
    """(entry, signed evidence, heaviest hit, its path) for each entry the ``hits`` (related word, path)
    name, heaviest first (ties: the sum over hits)."""
    best: dict[str, tuple[float, float, wordnet.Related, str]] = {}  # term -> (signed max, sum, hit, path)
    for hit, via in hits:
        if hit.word == lemma or hit.word in NOT_SOUND:
            continue
        term = _name_of(hit.word, names)
        if term is None:
            continue
        top, total, old, old_via = best.get(term, (0.0, 0.0, hit, via))
        signed = -hit.weight if hit.opposite else hit.weight
        if abs(signed) > abs(top):
            top, old, old_via = signed, hit, via
        best[term] = (top, total + hit.weight, old, old_via)
    ranked = sorted(best.items(), key=lambda kv: (-abs(kv[1][0]), -kv[1][1]))
    return [(term, top, hit, via) for term, (top, _, hit, via) in ranked]


def _family_hits(lemma: str, hits: list[wordnet.Related],
                 table: wordnet.Relations) -> list[tuple[wordnet.Related, str]]:
    """Second step of :func:`relation_answers`: the words WordNet derives from each synonym or similar
    word of ``lemma`` (not its antonyms) that share its stem (:data:`FAMILY_STEM` letters: a
    derivation, not an attribute such as unpleasant -> sweetness or a negation such as color ->
    uncolored; nor a privative -less, color -> colorless), weighted by the product of both steps, routed "family", each with its path
    ("sibilate -> sibilant"). Only hits from :data:`STRONG_EVIDENCE` count (a first-sense synonym or
    a sense about sound): weaker two-step paths answered about 1 % of a random sample of WordNet's
    words ("geld": cut -> cutting, "nerve": steel -> steely)."""
    out = []
    for hit in (h for h in hits if not h.opposite and h.word != lemma):
        out += [(wordnet.Related(d.word, "family", hit.weight * d.weight), f"{hit.word} -> {d.word}")
                for d in wordnet.related(hit.word, table)
                if d.route == "derived" and d.word not in (lemma, hit.word) and hit.weight * d.weight >= STRONG_EVIDENCE
                and d.word.replace(" ", "")[:FAMILY_STEM] == hit.word.replace(" ", "")[:FAMILY_STEM]
                and not d.word.endswith("less")]
    return out


def by_relations(word: str, names: dict[str, str], table: wordnet.Relations) -> Resolution | None:
    """Route 1 (module docstring): the entry with the heaviest WordNet evidence, or None."""
    answers = relation_answers(word, names, table)
    return answers[0] if answers and answers[0].score >= MIN_EVIDENCE else None


def by_gloss(word: str, table: wordnet.Relations, vectors: embeddings.Table) -> Resolution | None:
    """Route 3 (module docstring): a sense's gloss against the lexicon's definitions, or None."""
    rows = [i for i, v in enumerate(vectors.via) if v == "definition"]
    if not rows:
        return None
    for lemma, comparative in table.lemmas(word):
        texts = [g for g, _ in wordnet.glosses(lemma, table, GLOSS_SENSES)]
        if not texts:
            continue
        sims = embeddings.embed(texts) @ vectors.vectors[rows].T  # (glosses, definitions)
        g, d = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if sims[g, d] >= GLOSS_THRESHOLD:
            return Resolution(vectors.terms[rows[d]], "gloss", texts[g], False, round(float(sims[g, d]), 4),
                              comparative)
        return None
    return None


def by_embedding(word: str, vectors: embeddings.Table,
                 no_change: frozenset[str] = frozenset()) -> tuple[Resolution | None, list[str], float]:
    """Route 2: (answer or None, the closest entries, the best score), over the word and the bases it
    could be the comparative of ("cozier" -> cozy). The bare-word score gates (only entries from
    :data:`~daw_bridge.semantic.embeddings.THRESHOLD` may answer), the sound-context score picks among
    them (:mod:`~daw_bridge.semantic.embeddings`). A word whose closest entry (either way) is in
    ``no_change`` (entries with no EQ: flat, neutral, ...) is not answered: only a no-change word
    itself or a WordNet relation of one returns flat; a word that merely resembles one ("blue" near
    "colourless", a synonym of neutral) is refused with it among the suggestions."""
    readings = [(word, False)] + [(b, True) for b in comparative_readings(word)]
    tried = [(embeddings.nearest(base, vectors), comparative) for base, comparative in readings]
    best, comparative = max(tried, key=lambda t: max((m.score for m in t[0]), default=-1.0))
    if not best:
        return None, [], 0.0
    by_score = sorted(best, key=lambda m: -m.score)
    close, score = [m.term for m in by_score[:5]], by_score[0].score
    match = next(m for m in best if m.score >= embeddings.THRESHOLD) if score >= embeddings.THRESHOLD else None
    if match is None or by_score[0].term in no_change or match.term in no_change:
        return None, close, score
    return Resolution(match.term, "embedding", match.text, False, round(match.score, 4), comparative), close, score


def embedding_reason(score: float, close: list[str]) -> str:
    """Why :func:`by_embedding` did not answer, for the error: the best similarity was under the
    threshold, or (at or over it) the closest entry asks for no change and only a no-change word may."""
    if score < embeddings.THRESHOLD:
        return f"best embedding similarity {math.floor(score * 1000) / 1000:.3f} < {embeddings.THRESHOLD:g}"
    return (f"the closest, '{close[0] if close else '?'}' (similarity {score:.3f}), asks for no change, which only a "
            "no-change word itself may")


def _by_relations_or_head(word: str, names: dict[str, str], relations: wordnet.Relations) -> Resolution | None:
    """Route 1 on the word, or, for a compound WordNet does not know ("upper treble"), on its head word."""
    found = by_relations(word, names, relations)
    key = normalise(word)
    head = key.rsplit(" ", 1)[-1]
    if found is None and head != key and not relations.lemmas(word):
        found = Resolution(names[head], "head word", head, False, 1.0) if head in names else \
            by_relations(head, names, relations)
    return found


def by_region(word: str, names: dict[str, str], curves: dict[str, np.ndarray]) -> Resolution | None:
    """Route 0 (module docstring): a region phrase ("upper mids") answered by the entry of ``names`` and
    ``curves`` (term -> EQ dB on :data:`regions.GRID_HZ`; the model passes its quality entries) whose
    EQ is closest to a boost there."""
    region = regions.parse_region(word)
    if region is None:
        return None
    kept = set(names.values())
    found = regions.nearest_entry(region, {t: c for t, c in curves.items() if t in kept})
    if found is None:
        return None
    term, r = found
    return Resolution(term, "region", region.describe(), r < 0, round(abs(r), 4))


def pull_apart(embedded: Resolution, related: Resolution, moves: dict[str, np.ndarray]) -> bool:
    """True when the embedding's answer and a (weaker) WordNet answer move the EQ opposite ways: their
    curves (``moves``: entry -> EQ dB on one grid; an opposite answer negated) correlate below
    :data:`OPPOSED_CORRELATION`. The embedding has then most likely found an antonym of the word's
    sense, which WordNet's relation does not confuse: "frosty" is closest to "warmth" in the embedding
    and similar to "cold" in WordNet; "bulky" closest to "thin", similar to "big"."""
    a, b = moves.get(embedded.term), moves.get(related.term)
    if a is None or b is None or embedded.term == related.term:
        return False
    a, b = (-a if embedded.opposite else a), (-b if related.opposite else b)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return norm > 0 and float(a @ b) / norm < OPPOSED_CORRELATION


def resolve_unknown(word: str, names: dict[str, str], relations: wordnet.Relations | None,
                    vectors: embeddings.Table | None, no_change: frozenset[str] = frozenset(),
                    curves: dict[str, np.ndarray] | None = None,
                    moves: dict[str, np.ndarray] | None = None) -> tuple[Resolution | None, list[str], float]:
    """Answer ``word`` by the routes (module docstring): (answer or None, close entries, best embedding
    score). Relation evidence of at least :data:`STRONG_EVIDENCE` answers first; weaker relation
    evidence only when the word itself is not close enough to any entry in the embedding.

    A word that names a thing is refused (module docstring): (None, suggestions, 0.0).
    ``relations`` None: the relation and gloss routes are skipped; ``vectors`` None (no embedding
    extra): the embedding and gloss routes are skipped. Only entries named in ``names`` can answer;
    the embedding route never answers with an entry in ``no_change`` (:func:`by_embedding`).
    ``curves`` (entry -> EQ dB on :data:`regions.GRID_HZ`, the candidates for region phrases): a region
    phrase is answered by :func:`by_region` before any other route; None skips it. ``moves`` (every
    lexicon entry -> EQ dB on one grid): when the embedding's answer and a weaker relation answer pull
    apart (:func:`pull_apart`), the relation answers; None skips that check.
    """
    region = by_region(word, names, curves) if curves else None
    if region is not None:
        return region, [region.term], region.score
    if relations is not None and relations.names_a_thing(word):
        close = [r.via for r in relation_answers(word, names, relations)]
        if vectors is not None:
            close += [t for t in by_embedding(word, vectors, no_change)[1] if t not in close]
        return None, close[:5], 0.0
    related = _by_relations_or_head(word, names, relations) if relations is not None else None
    if related is not None and related.score >= STRONG_EVIDENCE:
        return related, [related.term], related.score
    if vectors is None:
        return (related, [related.term], related.score) if related is not None else (None, [], 0.0)
    embedded, close, score = by_embedding(word, vectors, no_change)
    if embedded is not None and relations is not None:  # embeddings place antonyms together: WordNet decides
        opposite = [r for r in relation_answers(word, names, relations) if r.term == embedded.term and r.opposite]
        embedded = replace(embedded, opposite=True, antonym=opposite[0].via) if opposite else embedded
    if embedded is not None and related is not None and moves and pull_apart(embedded, related, moves):
        embedded = None
    found = embedded or related or (by_gloss(word, relations, vectors) if relations is not None else None)
    return (found, [found.term], found.score) if found is not None else (None, close, score)
