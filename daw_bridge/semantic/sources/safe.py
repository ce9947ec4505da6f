"""Word source 1, SAFE-DB: users' own 5-band settings with the word they typed.

:func:`load_safe` cleans the typed descriptors (case, spaces, comparatives and nouns folded onto one
word, junk dropped with a reason, :mod:`daw_bridge.semantic.words`) and returns one :class:`SafeRow`
per usable setting; :func:`split_by_contributor` makes held-out splits by person, never by row;
:func:`examples` gives the rows as training examples. A setting weighs 1 / sqrt(settings by the same
person for the same word) (three contributors supplied 3/4 of warm and bright).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daw_bridge.eq import EQParams
from daw_bridge.errors import SemeqError
from daw_bridge.semantic.data import (
    DataError,
    Example,
    default_data_dir,
    example_from_params,
)
from daw_bridge.semantic.words import MIN_SAFE_ONLY_SETTINGS, normalise_word

NAME = "safe"
ROLE = "crowd"
SAFE_FILE = Path("safe-db") / "SAFEEqualiserUserData.csv"


@dataclass(frozen=True)
class SafeRow:
    """One usable SAFE setting: ``term`` is the cleaned word, ``raw`` what the user typed."""

    entry_id: str
    raw: str
    term: str
    comparative: bool
    contributor: str
    params: EQParams


@dataclass(frozen=True)
class Dropped:
    """Typed descriptors left out of training, how many rows, and why."""

    raw: str
    rows: int
    reason: str


@dataclass(frozen=True)
class SafeData:
    rows: list[SafeRow]
    dropped: list[Dropped]


def load_safe(data_dir: Path | str | None = None, known: set[str] | frozenset[str] = frozenset()) -> SafeData:
    """Read and clean SAFE-DB's equaliser data (see :mod:`daw_bridge.semantic.words` for the rules).

    Terms that only SAFE knows are kept when they have at least
    :data:`~daw_bridge.semantic.words.MIN_SAFE_ONLY_SETTINGS` settings; words in ``known`` (other sources)
    are kept from one setting. Peaks are sorted by frequency (``EQParams.from_vector``).
    """
    path = Path(data_dir or default_data_dir()) / SAFE_FILE
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            records = list(csv.reader(handle))
    except OSError as exc:
        raise DataError(f"cannot read the SAFE-DB file {path}: {exc.strerror or exc}") from None
    elsewhere = frozenset(known)
    known = elsewhere | {" ".join(r[1].lower().split()) for r in records if len(r) > 1}
    candidates: list[SafeRow] = []
    drops: Counter[tuple[str, str]] = Counter()
    for rec in records:
        if len(rec) < 18:
            drops[(",".join(rec)[:40], "row with fewer than 18 columns")] += 1
            continue
        raw = rec[1]
        shown = " ".join(raw.lower().split())
        word = normalise_word(raw, known)
        if word.reason is not None:
            drops[(shown, word.reason)] += 1
            continue
        try:
            params = EQParams.from_vector([float(x) for x in rec[5:18]])
        except (ValueError, SemeqError) as exc:
            drops[(shown, f"unusable parameters ({exc})")] += 1
            continue
        candidates.append(SafeRow(rec[0], raw, word.term, word.comparative, rec[2].strip(), params))
    counts = Counter(r.term for r in candidates)
    rows = []
    for row in candidates:
        if counts[row.term] < MIN_SAFE_ONLY_SETTINGS and row.term not in elsewhere:
            drops[(" ".join(row.raw.lower().split()), "a single setting of a word no other source knows")] += 1
        else:
            rows.append(row)
    dropped = [Dropped(raw, n, reason) for (raw, reason), n in sorted(drops.items(), key=lambda kv: (-kv[1], kv[0]))]
    return SafeData(rows=rows, dropped=dropped)


def split_by_contributor(
    rows: list[SafeRow], test_fraction: float = 0.3, seed: int = 0
) -> tuple[list[SafeRow], list[SafeRow]]:
    """Deterministic train/test split by contributor: ``test_fraction`` of the contributors
    (rounded, at least one) and all their rows are held out."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    contributors = sorted({r.contributor for r in rows})
    order = np.random.default_rng(seed).permutation(len(contributors))
    n_test = max(1, int(round(test_fraction * len(contributors))))
    held = {contributors[i] for i in order[:n_test]}
    return [r for r in rows if r.contributor not in held], [r for r in rows if r.contributor in held]


def contributor_folds(rows: list[SafeRow], folds: int = 4, seed: int = 0) -> list[set[str]]:
    """Contributors dealt into ``folds`` disjoint groups (deterministic), for cross-validation."""
    contributors = sorted({r.contributor for r in rows})
    order = np.random.default_rng(seed).permutation(len(contributors))
    return [{contributors[i] for i in order[k::folds]} for k in range(folds)]



def words(data_dir: Path | str | None = None) -> set[str]:
    """The descriptors as typed (lower case, spaces collapsed); empty if the file cannot be read."""
    try:
        with open(Path(data_dir or default_data_dir()) / SAFE_FILE, newline="", encoding="utf-8") as handle:
            return {" ".join(r[1].lower().split()) for r in csv.reader(handle) if len(r) > 1}
    except OSError:
        return set()


def examples(data_dir: Path | str | None = None, cache_dir: Path | str | None = None,
             known: set[str] | frozenset[str] = frozenset(), rows: list[SafeRow] | None = None) -> list[Example]:
    """Every usable SAFE setting as an :class:`Example` (or the given ``rows``, e.g. a training split).

    ``known``: words other sources know (comparatives fold onto them; a single setting of such a word
    is kept).
    """
    rows = load_safe(data_dir, known).rows if rows is None else rows
    group = Counter((r.contributor, r.term) for r in rows)
    return [example_from_params(r.term, NAME, r.params, 1.0 / math.sqrt(group[(r.contributor, r.term)]),
                                contributor=r.contributor, comparative=r.comparative) for r in rows]
