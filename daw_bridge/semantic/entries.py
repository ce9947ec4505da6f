"""A vocabulary word as the run time sees it: one record of ``models/vocabulary.json``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False)
class VocabularyEntry:
    """A vocabulary word as the run time sees it (``models/vocabulary.json``).

    ``kind``: problem | quality | no-change (studio lexicon) or crowd; ``source``: the sources that
    shaped its EQ ("lexicon", "lexicon+safe", "safe+audealize", ...); ``example_count``: crowd
    people plus references behind it; ``evidence``: people per crowd source. Lexicon words also
    carry ``definition``, ``aliases`` (synonyms and forms), ``confidence``, ``references``
    (addresses), the main move's ``region_hz`` (low, high), ``centre_hz`` and ``direction``
    (+1 more energy there, -1 less, 0 none), ``span_hz`` (lowest to highest Hz over all its moves)
    and the EQ target ``params`` it was trained on.
    """

    term: str
    kind: str
    source: str
    example_count: int
    evidence: dict = field(default_factory=dict)
    definition: str = ""
    aliases: list = field(default_factory=list)
    confidence: str = ""
    region_hz: list | None = None
    span_hz: list | None = None
    centre_hz: float | None = None
    direction: int = 0
    params: dict | None = None
    references: list = field(default_factory=list)


def vocabulary_entries(records: list[dict]) -> list[VocabularyEntry]:
    fields_ = VocabularyEntry.__dataclass_fields__
    return [VocabularyEntry(**{k: v for k, v in r.items() if k in fields_}) for r in records]
