"""What a request was understood as: the words used (:class:`TermUse`), the text read at intensity 1
(:class:`Reading`, kept per text by the model) and the answer (:class:`Interpretation`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from daw_bridge.eq import EQParams


@dataclass(frozen=True)
class TermUse:
    """One vocabulary word used for a request.

    ``term``: the vocabulary word; ``weight``: signed weight in the blend (degree, comparative,
    "less" = negative); ``source``: the sources that shaped it ("lexicon+safe", "audealize", ...);
    ``similarity``: cosine similarity when the typed word was unknown and mapped by sentence
    embedding, else None; ``matched``: the words of the request it came from; ``kind``: problem,
    quality, no-change or crowd; ``definition``: the lexicon entry's definition ("" for crowd words);
    for an unknown word, ``route`` (synonym | similar | derived | antonym | indirect antonym | gloss |
    embedding: :mod:`daw_bridge.semantic.unknown`) and ``via`` (how, e.g. "opposite of dull (WordNet
    antonym 'dull', evidence 1.00)"); an antonym's weight is negated (the opposite move), and
    ``similarity`` then holds the relation evidence. A place named without a word ("cut 300 Hz") is a
    use of its own: ``term`` says the place, ``kind`` is ``place``, ``source`` is ``request``.
    """

    term: str
    weight: float
    source: str
    similarity: float | None
    matched: str
    kind: str = "crowd"
    definition: str = ""
    route: str = ""
    via: str = ""

    def to_dict(self) -> dict:
        """The fields as a dictionary; ``route`` and ``via`` only for an unknown word."""
        return {k: v for k, v in asdict(self).items() if v or k not in ("route", "via")}


@dataclass(frozen=True, eq=False)
class Interpretation:
    """What a request was understood as, and the EQ for it (``latent``: one word's 32-d latent, or
    the encoding of the EQ when the request blends words or names places). ``explicit``: the request names a place or
    an amount ("cut 300 Hz", "3 dB less boxy"), so the EQ is what was asked, not a size to adapt."""

    text: str
    terms: tuple[TermUse, ...]
    intensity: float
    params: EQParams
    latent: np.ndarray
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    explicit: bool = False

    def terms_as_dicts(self) -> list[dict]:
        """``terms`` as JSON-ready dictionaries (term, weight, source, similarity, matched)."""
        return [t.to_dict() for t in self.terms]

    def to_dict(self) -> dict:
        """JSON-ready: text, intensity, terms, params (the 13 named fields), latent (list), notes, warnings."""
        return {"text": self.text, "intensity": self.intensity, "terms": self.terms_as_dicts(),
                "params": self.params.to_dict(), "latent": [float(x) for x in self.latent],
                "notes": list(self.notes), "warnings": list(self.warnings)}


@dataclass(frozen=True, eq=False)
class Reading:
    """A text read at intensity 1: its words, notes and warnings, its EQ (``decoded``), latent,
    strength (the word's weight; 1 when ``decoded`` already holds the weights of a blend) and the EQ's gain furthest from 0 dB (the first in band order with
    the peaks sorted by frequency), for the clipping warning; with places (``explicit``), ``decoded``
    is already at the asked size (strength 1) and the gain is the largest asked before the limit."""

    terms: tuple[TermUse, ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    decoded: EQParams
    latent: np.ndarray
    strength: float
    peak_gain_db: float
    explicit: bool = False
