"""What every word source shares: the example type, the response grid, the data folder.

Each word source is one module of :mod:`daw_bridge.semantic.sources` (SAFE-DB settings, Audealize
curves, the studio lexicon). Crowd data is never copied into the repository: it is read from a
folder given by option or by ``$SEMEQ_DATA`` (``$SEMEQ_DATA_DIR`` is still read), default
``../shared/data``; layouts are in ``../shared/README.md``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daw_bridge.eq import EQParams, log_freq_grid, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.files import write_text_atomic

#: Sample rate (Hz) at which every training response is computed.
SAMPLE_RATE_HZ = 48000.0
#: Log grid (Hz, 128 points 20 Hz - 20 kHz) on which every example's response is given.
FIT_GRID_HZ = log_freq_grid(128)


class DataError(SemeqError):
    """Training data missing or unreadable."""

    code = "bad_data"


def default_data_dir() -> Path:
    """``$SEMEQ_DATA`` (or ``$SEMEQ_DATA_DIR``), else ``../shared/data`` relative to the current directory."""
    return Path(os.environ.get("SEMEQ_DATA") or os.environ.get("SEMEQ_DATA_DIR") or "../shared/data")


@dataclass(frozen=True, eq=False)
class Example:
    """One piece of evidence that ``word`` means an EQ.

    ``source``: the module's name ("safe", "audealize", ...); ``params``: the 13-parameter EQ (a
    user's setting or a fit); ``response_db``: the target response (dB on :data:`FIT_GRID_HZ`);
    ``weight``: training weight (> 0); ``contributor``: who gave it (None if unknown, then it cannot
    be held out by person); ``people``: how many people it stands for; ``comparative``: typed as
    "-er"/"more".
    """

    word: str
    source: str
    params: EQParams
    response_db: np.ndarray
    weight: float
    contributor: str | None = None
    people: int = 1
    comparative: bool = False


def example_from_params(word: str, source: str, params: EQParams, weight: float, **extra) -> Example:
    """An example whose target response is the EQ's own response on :data:`FIT_GRID_HZ`."""
    return Example(word, source, params, response_db(params, FIT_GRID_HZ, SAMPLE_RATE_HZ), weight, **extra)


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to ``path`` atomically (creating its folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")
