"""Word source 2, Audealize: crowd-sourced 40-band word curves (SocialEQ / Audealize).

:func:`load_audealize` turns each English word's curve into the target response (dB) with the
Audealize player's own scaling, then fits the 13-parameter EQ to it (cached by the file's SHA-256);
:func:`examples` gives one example per word. A word weighs agreement x sqrt(contributors); the
words have no contributor ids, so they cannot be held out by person.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from daw_bridge.eq import Band, EQParams, band_sos
from daw_bridge.semantic.data import (
    FIT_GRID_HZ,
    SAMPLE_RATE_HZ,
    DataError,
    Example,
    default_data_dir,
    write_json_atomic,
)

NAME = "audealize"
ROLE = "crowd"
AUDEALIZE_FILE = Path("audealize") / "eqdescriptors.json"

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



def words(data_dir: Path | str | None = None) -> set[str]:
    """The English Audealize words (lower case); empty if the file cannot be read."""
    return audealize_word_set(Path(data_dir or default_data_dir()))


def examples(data_dir: Path | str | None = None, cache_dir: Path | str | None = None,
             known: set[str] | frozenset[str] = frozenset(), only: list[str] | None = None) -> list[Example]:
    """One :class:`Example` per English word: the player's response as target, the fit as parameters."""
    return [Example(a.word, NAME, a.fit, a.target_db, a.agreement * math.sqrt(a.num), None, a.num)
            for a in load_audealize(data_dir, cache_dir, only)]
