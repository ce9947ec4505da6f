"""Training data: SAFE-DB parametric settings and Audealize word curves, read from ``../shared/data``.

Nothing here is copied into the repository; it is read from the shared folder at training and
evaluation time. Layouts are described in ``../shared/README.md``.

* :func:`load_safe` cleans the typed descriptors (case, spaces, comparatives and nouns folded onto
  one word, junk dropped with a reason) and returns one :class:`SafeRow` per usable setting.
* :func:`split_by_contributor` makes the held-out split by contributor, never by row.
* :func:`load_audealize` turns each English word's 40-band curve into a target response in dB with
  the Audealize player's own scaling, then fits the 13-parameter EQ to it (cached).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from daw_bridge.eq import Band, EQParams, band_sos, log_freq_grid
from daw_bridge.errors import SemeqError
from daw_bridge.files import write_text_atomic
from daw_bridge.semantic.words import MIN_SAFE_ONLY_SETTINGS, normalise_word

SAFE_FILE = Path("safe-db") / "SAFEEqualiserUserData.csv"
AUDEALIZE_FILE = Path("audealize") / "eqdescriptors.json"

#: Sample rate (Hz) at which every training response is computed.
SAMPLE_RATE_HZ = 48000.0
#: Log grid (Hz) on which Audealize targets are built and fitted.
FIT_GRID_HZ = log_freq_grid(128)

#: Audealize player: centre frequencies (Hz) of its 40 cascaded peaking biquads, their Q, and
#: gain_dB = AUDEALIZE_DB_PER_UNIT * amount * curve (curve min-max normalised to [-1, 1]).
AUDEALIZE_CENTRES_HZ = np.array(
    [20, 50, 83, 120, 161, 208, 259, 318, 383, 455, 537, 628, 729, 843, 971, 1114, 1273, 1452, 1652,
     1875, 2126, 2406, 2719, 3070, 3462, 3901, 4392, 4941, 5556, 6244, 7014, 7875, 8839, 9917, 11124,
     12474, 13984, 15675, 17566, 19682],
    dtype=float,
)
AUDEALIZE_Q = 4.31
AUDEALIZE_DB_PER_UNIT = 5.0
#: The player's "amount" we train on: 1 gives the curve's full +-5 dB swing.
AUDEALIZE_AMOUNT = 1.0


class DataError(SemeqError):
    """Training data missing or unreadable."""

    code = "bad_data"


def default_data_dir() -> Path:
    """``$SEMEQ_DATA_DIR`` or ``../shared/data`` relative to the current directory."""
    return Path(os.environ.get("SEMEQ_DATA_DIR", "../shared/data"))


# --- SAFE-DB ------------------------------------------------------------------------------------


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


def load_safe(data_dir: Path | str | None = None) -> SafeData:
    """Read and clean SAFE-DB's equaliser data (see :mod:`daw_bridge.semantic.words` for the rules).

    Terms that only SAFE knows are kept when they have at least
    :data:`~daw_bridge.semantic.words.MIN_SAFE_ONLY_SETTINGS` settings; words Audealize also knows
    are kept from one setting. Peaks are sorted by frequency (``EQParams.from_vector``).
    """
    path = Path(data_dir or default_data_dir()) / SAFE_FILE
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            records = list(csv.reader(handle))
    except OSError as exc:
        raise DataError(f"cannot read the SAFE-DB file {path}: {exc.strerror or exc}") from None
    audealize_words = audealize_word_set(Path(data_dir or default_data_dir()))
    known = frozenset(audealize_words | {" ".join(r[1].lower().split()) for r in records if len(r) > 1})
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
        if counts[row.term] < MIN_SAFE_ONLY_SETTINGS and row.term not in audealize_words:
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


# --- Audealize ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudealizeWord:
    """One English Audealize word, its target response (dB on :data:`FIT_GRID_HZ`) and its fit."""

    word: str
    agreement: float
    num: int
    curve: np.ndarray
    target_db: np.ndarray
    fit: EQParams
    fit_rms_db: float


def audealize_target_db(curve: np.ndarray, freqs_hz: np.ndarray, amount: float = AUDEALIZE_AMOUNT,
                        sample_rate_hz: float = SAMPLE_RATE_HZ) -> np.ndarray:
    """The Audealize player's response (dB) for a 40-band ``curve`` at ``freqs_hz`` (Hz).

    The curve is min-max normalised to [-1, 1]; band i is an RBJ peaking biquad (the engine's own,
    Q 4.31) at :data:`AUDEALIZE_CENTRES_HZ` ``[i]`` with gain ``5 * amount * curve[i]`` dB.
    """
    c = np.asarray(curve, dtype=float)
    if c.shape != (40,) or not np.all(np.isfinite(c)):
        raise DataError(f"an Audealize curve has 40 finite values, got shape {c.shape}")
    span = c.max() - c.min()
    norm = np.zeros_like(c) if span == 0 else 2.0 * (c - c.min()) / span - 1.0
    gains = AUDEALIZE_DB_PER_UNIT * amount * norm
    sos = np.array([band_sos(Band("peak", f, g, AUDEALIZE_Q), sample_rate_hz)
                    for f, g in zip(AUDEALIZE_CENTRES_HZ, gains)])
    _, h = signal.sosfreqz(sos, worN=np.asarray(freqs_hz, dtype=float), fs=sample_rate_hz)
    return 20.0 * np.log10(np.maximum(np.abs(h), 1e-12))


def _read_audealize(data_dir: Path) -> tuple[list[dict], str]:
    path = data_dir / AUDEALIZE_FILE
    try:
        blob = path.read_bytes()
        items = json.loads(blob)
    except OSError as exc:
        raise DataError(f"cannot read the Audealize file {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"the Audealize file {path} is not valid JSON: {exc}") from None
    english = [x for x in items if str(x.get("lang", "")).lower() in ("english", "en")]
    return english, hashlib.sha256(blob).hexdigest()


def audealize_word_set(data_dir: Path) -> set[str]:
    """The English Audealize words (lower case); empty if the file cannot be read."""
    try:
        english, _ = _read_audealize(data_dir)
    except DataError:
        return set()
    return {x["word"].strip().lower() for x in english}


def load_audealize(data_dir: Path | str | None = None, cache_dir: Path | str | None = None,
                   words: list[str] | None = None) -> list[AudealizeWord]:
    """The English Audealize words with target responses and 13-parameter fits.

    Fits take ~0.1 s per word; with ``cache_dir`` they are stored in
    ``cache_dir/audealize_fits.json`` keyed by the source file's SHA-256, and reused.
    ``words`` restricts the result to those words (e.g. for a tiny training run).
    """
    from daw_bridge.fit import fit_eq

    english, digest = _read_audealize(Path(data_dir or default_data_dir()))
    if words is not None:
        wanted = set(words)
        english = [x for x in english if x["word"] in wanted]
    cache_path = Path(cache_dir) / "audealize_fits.json" if cache_dir is not None else None
    cache: dict = {}
    if cache_path is not None and cache_path.exists():
        try:
            stored = json.loads(cache_path.read_text())
            if stored.get("source_sha256") == digest and stored.get("amount") == AUDEALIZE_AMOUNT:
                cache = stored.get("fits", {})
        except (OSError, json.JSONDecodeError):
            cache = {}
    result = []
    changed = False
    for item in english:
        word = item["word"].strip().lower()
        target = audealize_target_db(np.array(item["settings"]), FIT_GRID_HZ)
        if word in cache:
            params = EQParams.from_dict(cache[word]["params"])
            rms = float(cache[word]["rms_db"])
        else:
            fitted = fit_eq(FIT_GRID_HZ, target, SAMPLE_RATE_HZ)
            params, rms = fitted.params, fitted.rms_db
            cache[word] = {"params": params.to_dict(), "rms_db": rms}
            changed = True
        result.append(AudealizeWord(word, float(item["agreement"]), int(item["num"]),
                                    np.array(item["settings"], dtype=float), target, params, rms))
    if cache_path is not None and changed:
        write_json_atomic(cache_path, {"source_sha256": digest, "amount": AUDEALIZE_AMOUNT,
                                       "grid": "log_freq_grid(128), 48 kHz", "fits": cache})
    return result


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to ``path`` atomically (creating its folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")
