"""Word source 3, the studio lexicon (``models/lexicon/*.toml``): the authority on its words.

The files and their loader belong to :mod:`daw_bridge.semantic.lexicon`; this adapter gives the
model what it needs: the entries, and every name (headword, synonym, form) pointing to its headword.
"""

from __future__ import annotations

from pathlib import Path

from daw_bridge.semantic.lexicon import Lexicon, LexiconEntry, load_lexicon, normalise

NAME = "lexicon"
ROLE = "authority"


def load(lexicon_dir: Path | str | None = None) -> Lexicon:
    """The validated lexicon (default folder ``models/lexicon``)."""
    return load_lexicon(lexicon_dir)


def aliases(entry: LexiconEntry) -> list[str]:
    """The entry's other names, normalised (synonyms and forms; not the headword)."""
    return sorted({normalise(n) for n in entry.names} - {normalise(entry.word)})
