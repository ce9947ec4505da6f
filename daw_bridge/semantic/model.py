"""The trained semantic model at run time: words -> latent -> EQ, and any EQ -> latent.

``SemanticModel.load()`` reads ``models/semantic.npz`` (the trained networks as arrays, run with
numpy: :mod:`daw_bridge.semantic.runtime`; torch is for training only) and ``models/vocabulary.json``
(and, if present, ``models/vocab_embeddings.npz`` for unknown words). ``interpret(text, intensity)``
parses the request and looks every word up: a vocabulary word or one of a lexicon entry's synonyms
and forms; an unknown word goes to the studio-lexicon entry nearest in meaning (sentence embeddings
of headwords, synonyms and definitions), reported with the entry's definition and the similarity, or
raises :class:`UnknownTermError`. Words that judge rather than describe ("better", "fix it") raise
:class:`NeedsAudioError`; no-change words ("flat", "neutral") give exactly the flat EQ with a note.
One word alone gives its own EQ (for a lexicon word exactly the target the sources' precedence
decided); several words give every word's move at its weight, one after the other
(:func:`daw_bridge.fit.cascade`: their bands when they fit the five, else a fit of the summed
response): "warmer but less muddy" is the warm bell and the mud cut. Places and amounts ("cut 300
Hz", "less mud at 250 Hz", "3 dB brighter": :mod:`daw_bridge.semantic.frequencies`) are applied as
asked and combined with the words' EQ. A gain past the +-12 dB limit is reported in ``warnings``.
Word weights are signed (a negative weight is the opposite move); ``intensity`` scales the gains
(:meth:`EQParams.scaled`): 0 is exactly flat, -x is exactly the mirror of x.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from daw_bridge.eq import GAIN_INDEX, GAIN_RANGE_DB, EQError, EQParams, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.semantic import blend, embeddings, frequencies, regions, unknown, wordnet
from daw_bridge.semantic.data import FIT_GRID_HZ, SAMPLE_RATE_HZ
from daw_bridge.semantic.entries import vocabulary_entries
from daw_bridge.semantic.interpretation import Interpretation, Reading, TermUse
from daw_bridge.semantic.lexicon import normalise as lexicon_key
from daw_bridge.semantic.parse import COMPARATIVE, Mention, flat_note, meant_weight, parse
from daw_bridge.semantic.runtime import ARRAYS_FILE, NumpyNet
from daw_bridge.semantic.words import NOT_EQ, NOT_SOUND, needs_audio, needs_audio_message, needs_audio_warning

WEIGHTS_FILE = "semantic.pt"
VOCABULARY_FILE = "vocabulary.json"

#: Recent texts remembered per model (parsed, read at intensity 1, local or not).
TEXT_CACHE_SIZE = 4096
#: Allowed request intensity.
INTENSITY_RANGE = (-2.0, 2.0)


class UnknownTermError(SemeqError):
    """A word the model does not know and cannot map with confidence; ``suggestions`` are close words."""

    code = "unknown_term"

    def __init__(self, message: str, word: str = "", suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.word = word
        self.suggestions = list(suggestions or [])


class NeedsAudioError(SemeqError):
    """The words judge rather than describe ("better", "fix it"): only audio can say what to change.

    The service answers them with auto-suggest when the request has audio."""

    code = "needs_audio"

    def __init__(self, message: str, words: list[str] | None = None) -> None:
        super().__init__(message)
        self.words = list(words or [])


class ModelError(SemeqError):
    """The model files are missing or unreadable."""

    code = "model"


def models_dir() -> Path:
    """``$SEMEQ_MODELS_DIR`` if set, else ``models/`` at the top of the repository (or of the install)."""
    import os

    from daw_bridge.resources import resource_dir

    env = os.environ.get("SEMEQ_MODELS_DIR")
    return Path(env).expanduser() if env else resource_dir("models")


class SemanticModel:
    """A trained model (see the module docstring). Load with :meth:`load`.

    ``net`` is a :class:`~daw_bridge.semantic.runtime.NumpyNet` or a trained torch network (converted
    to the numpy runtime here, without importing torch). Every word's latent and EQ vector are
    computed once here, in one vectorised pass.
    """

    def __init__(self, net, vocabulary: list[dict], path: Path | None = None) -> None:
        terms = [v["term"] for v in vocabulary]
        self.net: NumpyNet = net if isinstance(net, NumpyNet) else NumpyNet.from_module(net, terms)
        if self.net.terms != terms:
            raise ModelError(f"the network's words do not match the vocabulary{'' if path is None else f' in {path}'}; retrain")
        self.path = path
        self.vocabulary: tuple = tuple(vocabulary_entries(vocabulary))
        self._entry = {e.term: e for e in self.vocabulary}
        self._index = {e.term: i for i, e in enumerate(self.vocabulary)}
        self._alias = {a: e.term for e in self.vocabulary for a in e.aliases}
        self._alias.update({t: t for t in self._index})
        self._known = frozenset(self._alias)
        self._no_change = frozenset(e.term for e in self.vocabulary if e.kind == "no-change")
        self._latents = self.net.latents
        self._latents.setflags(write=False)
        #: Every word's EQ at intensity 1 as 13-vectors (decoded once, in one batch).
        self._word_vectors = self.net.decode_params(self._latents)
        self._word_params: dict[int, EQParams] = {}
        #: Recent texts read into mentions (immutable; an unreadable text raises and is not kept).
        self._parsed = functools.lru_cache(maxsize=TEXT_CACHE_SIZE)(lambda text: tuple(parse(text, self._known)))
        #: Recent texts read into their EQ at intensity 1 (:class:`Reading`; errors are not kept):
        #: the same words at another intensity only scale it.
        self._reading = functools.lru_cache(maxsize=TEXT_CACHE_SIZE)(self._read)
        self._local = functools.lru_cache(maxsize=TEXT_CACHE_SIZE)(self._all_words_local)
        self._embeddings: object = False  # False = not looked up yet; None = extra not installed
        self._names: dict[str, str] = {}
        self._names_for: dict | None = None  # the alias map ``_names`` was built from
        self._curves: dict[str, np.ndarray] | None = None  # lexicon entries' EQ curves (unknown words)
        self._quality_terms: tuple[str, ...] = ()  # the quality entries among them (region phrases)

    # --- loading ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | str | None = None) -> "SemanticModel":
        """Load from a models folder (default :func:`models_dir`) or its ``semantic.npz`` / ``.pt`` file.

        Reads the numpy export ``semantic.npz`` and ``vocabulary.json``; torch is not needed.
        """
        base = Path(path) if path is not None else models_dir()
        folder = base.parent if base.suffix in (".npz", ".pt") else base
        try:
            net = NumpyNet.load(folder / ARRAYS_FILE)
            vocabulary = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            hint = (f" ({WEIGHTS_FILE} is there: daw_bridge.semantic.runtime.export_checkpoint writes "
                    f"{ARRAYS_FILE} from it, with torch installed)") if (folder / WEIGHTS_FILE).exists() else ""
            raise ModelError(
                f"no trained model in {folder} ({Path(exc.filename).name} missing){hint}; run "
                "'semeq train --out <folder>' or set SEMEQ_MODELS_DIR"
            ) from None
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ModelError(f"cannot read the model in {folder}: {exc}") from None
        if [v.get("term") for v in vocabulary] != net.terms:
            raise ModelError(
                f"{VOCABULARY_FILE} does not match {ARRAYS_FILE} in {folder}; retrain, or re-export the "
                f"arrays from {WEIGHTS_FILE} with torch installed: python -c \"from daw_bridge.semantic.runtime "
                f"import export_checkpoint as e; e('{folder / WEIGHTS_FILE}')\""
            )
        return cls(net, vocabulary, path=folder)

    # --- words and latents --------------------------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(e.term for e in self.vocabulary)

    def term_latent(self, term: str) -> np.ndarray:
        """The 32-d latent of a vocabulary word (exact spelling; see :meth:`interpret` for text)."""
        if term not in self._index:
            raise UnknownTermError(f"{term!r} is not in the vocabulary", term, self._spelling_suggestions(term))
        return self._latents[self._index[term]].copy()

    def decode(self, latent: np.ndarray) -> EQParams:
        """A latent vector (32,) -> the EQ (peaks sorted, values clipped to the legal ranges)."""
        z = np.asarray(latent, dtype=float)
        if z.shape != (self.net.latent_dim,) or not np.all(np.isfinite(z)):
            raise EQError(f"a latent vector has {self.net.latent_dim} finite values, got shape {z.shape}")
        return EQParams.from_vector(self.net.decode_params(z[None, :])[0], clip=True)

    def encode(self, params: EQParams) -> np.ndarray:
        """Any EQ -> its latent (32,) in the words' space (a flat EQ is the origin)."""
        return self.net.encode_params(params.to_vector()[None, :])[0]

    def encode_many(self, vectors: np.ndarray) -> np.ndarray:
        """Many EQs as sorted 13-vectors (n, 13) -> their latents (n, 32), in one batch."""
        return self.net.encode_params(np.asarray(vectors, dtype=float).reshape(-1, 13))

    def nearest_terms(self, latent: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` vocabulary words closest to ``latent`` (Euclidean distance, nearest first)."""
        d = np.linalg.norm(self._latents - np.asarray(latent, dtype=float)[None, :], axis=1)
        order = np.argsort(d, kind="stable")[:k]
        return [(self.vocabulary[i].term, float(d[i])) for i in order]

    def word_params(self, term: str) -> EQParams:
        """The EQ of one vocabulary word at intensity 1: for a lexicon word exactly the target the
        sources' precedence decided (``params`` in the vocabulary), for a crowd word its decoded latent
        (from the table decoded at load)."""
        if term not in self._index:
            raise UnknownTermError(f"{term!r} is not in the vocabulary", term, self._spelling_suggestions(term))
        i = self._index[term]
        params = self._word_params.get(i)
        if params is None:
            target = self.vocabulary[i].params
            params = EQParams.from_dict(target) if target is not None else EQParams.from_vector(self._word_vectors[i],
                                                                                                 clip=True)
            self._word_params[i] = params
        return params

    def all_word_params(self) -> tuple[EQParams, ...]:
        """Every vocabulary word's EQ at intensity 1, in vocabulary order (built once per model)."""
        if len(self._word_params) < len(self.vocabulary):
            for term in self.terms:
                self.word_params(term)
        return tuple(self._word_params[i] for i in range(len(self.vocabulary)))

    def params_for(self, term: str, intensity: float = 1.0) -> EQParams:
        """The EQ of one vocabulary word at ``intensity`` (gains scaled; 0 = flat, <0 = opposite)."""
        return self.word_params(term).scaled(_check_intensity(intensity))

    # --- text ------------------------------------------------------------------------------------
    def interpret(self, text: str, intensity: float = 1.0) -> Interpretation:
        """Understand a request ("a bit warmer and less muddy") and return its EQ.

        Raises :class:`NeedsAudioError` when every word judges rather than describes ("better",
        "fix it") and :class:`UnknownTermError` for a word with no meaning close enough.
        """
        intensity = _check_intensity(intensity)
        reading = self._reading(text)
        scale = reading.strength * intensity
        warnings = list(reading.warnings)
        asked = reading.peak_gain_db * scale  # the largest gain the words ask for (dB)
        if abs(asked) > GAIN_RANGE_DB[1] + 1e-9:
            warnings.append(f"clipped: the words ask for {asked:+.1f} dB, the EQ stops at +-{GAIN_RANGE_DB[1]:g} dB")
        return Interpretation(text=text, terms=reading.terms, intensity=intensity, params=reading.decoded.scaled(scale),
                              latent=reading.latent, notes=reading.notes, warnings=tuple(warnings), explicit=reading.explicit)

    def answers_locally(self, text: str) -> bool:
        """True when every word of ``text`` is a vocabulary word, a synonym or a judging word, or the
        text is unreadable: :meth:`interpret` then takes well under a millisecond. False when a word
        goes to the sentence-embedding fallback or is refused with spelling suggestions (1-50 ms)."""
        return self._local(text)

    def _all_words_local(self, text: str) -> bool:
        try:
            mentions = self._parsed(text)
        except SemeqError:
            return True
        return all(not m.base or lexicon_key(m.base) in self._alias or needs_audio(m.word, m.base) for m in mentions)

    def _read(self, text: str) -> "Reading":
        """What ``text`` asks for at intensity 1 (the intensity-independent part of :meth:`interpret`)."""
        mentions = list(self._parsed(text))
        judging = [m for m in mentions if needs_audio(m.word, m.base) and lexicon_key(m.base) not in self._alias]
        if len(judging) == len(mentions):
            raise NeedsAudioError(needs_audio_message([m.word for m in judging], text), [m.word for m in judging])
        warnings = tuple(needs_audio_warning(m.word) for m in judging)
        beyond = [m for m in mentions if (NOT_EQ.get(m.base) or NOT_EQ.get(m.word)) and lexicon_key(m.base) not in self._alias]
        if beyond and len(beyond) + len(judging) == len(mentions):
            self._use(beyond[0])  # nothing an EQ can do: the error says why
        warnings += tuple(f"'{m.word}' {NOT_EQ.get(m.base) or NOT_EQ[m.word]}; ignored" for m in beyond)  # "wider"
        uses: dict[str, TermUse] = {}
        kept: list[tuple[str, tuple[float, float]]] = []  # words a clause keeps, and their regions
        where: dict[str, tuple[float, float]] = {}  # the region a word is asked in ("the low end")
        for mention in (m for m in mentions if m not in judging and m not in beyond and m.spot is None):
            use = self._use(mention)
            if mention.kept and self._entry[use.term].region_hz:
                kept.append((mention.word, tuple(self._entry[use.term].region_hz)))
            where.update({use.term: mention.where} if mention.where else {})
            if use.term in uses:  # the same word twice: weights add, once per clause ("sibilant esses")
                old = uses[use.term]
                use = replace(use, weight=old.weight + use.weight * (use.matched not in old.matched.split("; ")),
                              similarity=old.similarity if old.similarity is not None else use.similarity,
                              matched=f"{old.matched}; {use.matched}")
            uses[use.term] = use
        terms = tuple(uses.values())
        notes = [f"'{t.term}' asks for no change: {t.definition[:1].lower() + t.definition[1:]}"
                 for t in terms if t.kind == "no-change"]
        active = [t for t in terms if t.kind != "no-change" and t.weight != 0.0]
        weights = np.array([t.weight for t in active])
        total = float(np.abs(weights).sum())
        places = [m for m in mentions if m not in judging and m.spot is not None]
        if total == 0.0 and not notes and not places:
            notes.append(flat_note(mentions))
        # One word alone: its own EQ at its weight (exact for lexicon words). Several, kept words or a
        # region: every word's move at its weight where asked, kept regions left alone (:mod:`blend`).
        latent, strength, decoded = np.zeros(self.net.latent_dim), float(np.abs(weights).max(initial=0.0)), EQParams.flat()
        if len(active) == 1 and not kept and not where:
            latent, decoded = self._latents[self._index[active[0].term]].copy(), self.word_params(active[0].term).scaled(
                float(np.sign(weights[0])))
        elif active:
            decoded, said = blend.blend([(t.term, self.word_params(t.term).scaled(w), where.get(t.term))
                                         for w, t in zip(weights, active)], kept, SAMPLE_RATE_HZ, FIT_GRID_HZ)
            latent, strength, notes = self.encode(decoded), 1.0, notes + said
        if places:
            return self._placed(places, decoded.scaled(strength), terms, notes, warnings)
        gains_db = np.concatenate([decoded.to_vector()[list(GAIN_INDEX)]] + [  # as asked, before the limit
            w * self.word_params(t.term).to_vector()[list(GAIN_INDEX)] for w, t in zip(weights, active) if len(active) > 1])
        latent.setflags(write=False)
        return Reading(terms, tuple(notes), warnings, decoded, latent, strength, float(gains_db[np.argmax(np.abs(gains_db))]))

    def _placed(self, places: list[Mention], words: EQParams, terms: tuple, notes: list[str],
                warnings: tuple[str, ...]) -> "Reading":
        """The reading of a request with places or amounts (:func:`frequencies.read_places`): the
        EQ as asked (strength 1), its latent the encoding of that EQ."""
        decoded, uses, more_notes, asked_db = frequencies.read_places(places, words, self._use, self.word_params)
        latent = self.encode(decoded)
        latent.setflags(write=False)
        return Reading(terms + tuple(uses), tuple(notes + more_notes), warnings, decoded, latent, 1.0, asked_db, True)

    def _use(self, mention: Mention) -> TermUse:
        term = self._alias.get(lexicon_key(mention.base))
        if term is not None:
            entry = self._entry[term]
            return TermUse(term, round(meant_weight(mention, mention.weight, entry.kind, term), 6), entry.source, None,
                           mention.matched, entry.kind, entry.definition)
        if reason := NOT_EQ.get(mention.base) or NOT_EQ.get(mention.word):  # stereo, space, dynamics, effects
            raise UnknownTermError(f"{mention.word!r} {reason}. An EQ changes tone: say e.g. 'brighter', 'less boomy' "
                                   "or 'cut 300 Hz'", mention.word, ["bright", "boomy", "warm"])
        if mention.base in NOT_SOUND:
            close = self._spelling_suggestions(mention.word)
            raise UnknownTermError(f"{mention.word!r} is not a studio word: it {NOT_SOUND[mention.base]}. Say how it "
                                   "should sound, e.g. 'warmer' or 'less harsh'", mention.word, close or ["warm", "bright"])
        moves = self._entry_curves()
        curves = {t: moves[t] for t in self._quality_terms} if regions.parse_region(mention.base) is not None else None
        found, close, score = unknown.resolve_unknown(mention.base, self._lexicon_names(), self._relations(),
                                                      self._embedding_table(), self._no_change, curves, moves)
        if found is None:
            close = _unique(close + self._spelling_suggestions(mention.word))[:6]
            relations = self._relations()
            if relations is not None and relations.names_a_thing(mention.base):
                raise UnknownTermError(f"{mention.word!r} names a thing or a material, not how something sounds. Say "
                                       "how it should sound, e.g. 'warmer' or 'less harsh'. Close studio words: "
                                       + _join(close), mention.word, close or ["warm", "bright"])
            if self._embedding_table() is None:
                raise UnknownTermError(
                    f"unknown word {mention.word!r}; the sentence-embedding extra that maps new words to known "
                    "ones is not installed (pip install 'semantic-eq-bridge[embeddings]'). Close known words: "
                    + _join(close), mention.word, close)
            raise UnknownTermError(
                f"unknown word {mention.word!r}: no studio word is close enough in meaning ({unknown.embedding_reason(score, close)}"
                ", and no related word in WordNet names one). Close known words: " + _join(close), mention.word, close)
        entry = self._entry[found.term]
        weight = mention.weight * (COMPARATIVE if found.comparative and not mention.comparative else 1.0)
        meant = meant_weight(mention, -weight if found.opposite else weight, entry.kind, found.term)
        return TermUse(found.term, round(meant, 6), entry.source, found.score, mention.matched, entry.kind,
                       entry.definition, found.route, found.describe())

    def _lexicon_names(self) -> dict[str, str]:
        """Lexicon names -> entry (for unknown words), rebuilt when the alias map is replaced."""
        if self._names_for is not self._alias:
            kinds = {e.term: e.kind for e in self.vocabulary}
            self._names, self._names_for = unknown.lexicon_names(self._alias, kinds), self._alias
        return self._names

    def _entry_curves(self) -> dict[str, np.ndarray]:
        """Problem and quality entries' EQ (dB on :data:`regions.GRID_HZ`): the quality ones answer region
        phrases (a named region is a quality to have more or less of; a problem entry names an excess),
        all of them check the embedding against WordNet (:func:`unknown.pull_apart`); built on the first
        unknown word (tens of ms)."""
        if self._curves is None:
            self._curves = {e.term: response_db(EQParams.from_dict(e.params), regions.GRID_HZ)
                            for e in self.vocabulary if e.kind in ("problem", "quality") and e.params is not None}
            self._quality_terms = tuple(e.term for e in self.vocabulary if e.kind == "quality" and e.term in self._curves)
        return self._curves

    def _relations(self):
        """WordNet's relations table (:mod:`wordnet`) beside the model, or None if it is not there."""
        return wordnet.load(wordnet.relations_path(self.path) if self.path is not None else None)

    def _embedding_table(self):
        """The lexicon's precomputed embeddings (:class:`embeddings.Table`), or None without the extra."""
        if self._embeddings is False:
            table = None
            if embeddings.available():
                table = embeddings.load_table(self.path) if self.path is not None else None
                if table is None or not set(table.terms) <= set(self._index):
                    table = embeddings.build_table(self.vocabulary)
            self._embeddings = table
        return self._embeddings  # type: ignore[return-value]

    def _spelling_suggestions(self, word: str) -> list[str]:
        return difflib.get_close_matches(word.lower(), list(self.terms), n=5, cutoff=0.6)


def _check_intensity(intensity: float) -> float:
    try:
        value = float(intensity)
    except (TypeError, ValueError):
        raise SemeqError(f"intensity must be a number from -2 to 2, got {intensity!r}", code="bad_params") from None
    if not math.isfinite(value) or not INTENSITY_RANGE[0] <= value <= INTENSITY_RANGE[1]:
        raise SemeqError(f"intensity must be a number from -2 to 2, got {intensity!r}", code="bad_params")
    return value + 0.0


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


def _join(words: list[str]) -> str:
    return ", ".join(words) if words else "(none)"
