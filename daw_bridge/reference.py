"""The reference balance: the tonal balance of real music, and how much real tracks vary around it.

``models/reference_balance.json`` (built by ``benchmarks/build_reference.py`` from Debian's game
soundtracks) holds, per base-2 one-third-octave band, the 5/25/50/75/95 % points of real tracks'
aligned band levels (dB relative to each track's total power, shifted by one constant so that the
median deviation from the reference median is 0 dB) and every reference track's deviation from the
median. :meth:`Reference.covariance_db2` turns those deviations into the covariance of natural
variation (tilts are common in real music, a lone bump is not), which :mod:`daw_bridge.problems`
uses to tell a problem from a track's own character.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from daw_bridge.eq import third_octave_centres_hz
from daw_bridge.errors import SemeqError

REFERENCE_FILE = "reference_balance.json"
#: Shrinkage of the covariance toward its diagonal, and a floor of independent variation (dB).
COVARIANCE_SHRINK = 0.15
COVARIANCE_FLOOR_DB = 1.0


class AnalysisError(SemeqError):
    """The analysis cannot run (missing or broken reference statistics)."""

    code = "analysis"


@dataclass(frozen=True, eq=False)
class Reference:
    """Tonal balance of real music: aligned band levels (dB) per percentile, and per reference track.

    ``percentiles_db`` maps 5, 25, 50, 75, 95 to arrays over ``centres_hz``; ``track_deviations_db``
    is (tracks, bands) deviation of each reference track from the median (NaN where not measured).
    """

    centres_hz: np.ndarray
    percentiles_db: dict[int, np.ndarray]
    side_minus_mid_median_db: np.ndarray
    track_deviations_db: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def median_db(self) -> np.ndarray:
        return self.percentiles_db[50]

    @property
    def spread_db(self) -> np.ndarray:
        """Robust standard deviation per band (interquartile range / 1.349), dB."""
        return (self.percentiles_db[75] - self.percentiles_db[25]) / 1.349

    def weights(self) -> np.ndarray:
        """Per-band weights where real music varies: 1 / (spread^2 + 1 dB^2)."""
        return 1.0 / (self.spread_db**2 + 1.0)

    def range_db(self, low: int = 5, high: int = 95) -> tuple[np.ndarray, np.ndarray]:
        """The reference range as deviations from the median (dB): (lower, upper) per band."""
        return self.percentiles_db[low] - self.median_db, self.percentiles_db[high] - self.median_db

    @functools.cached_property
    def covariance_db2(self) -> np.ndarray:
        """Covariance (dB^2) of real tracks' deviations between bands, shrunk toward its diagonal,
        plus :data:`COVARIANCE_FLOOR_DB` squared on the diagonal; bands never measured get the floor."""
        d = self.track_deviations_db
        ok = np.isfinite(d)
        filled = np.where(ok, d, 0.0)
        counts = ok.T.astype(float) @ ok.astype(float)
        cov = (filled.T @ filled) / np.maximum(counts - 1.0, 1.0)
        cov = (1.0 - COVARIANCE_SHRINK) * cov + COVARIANCE_SHRINK * np.diag(np.diag(cov))
        return cov + COVARIANCE_FLOOR_DB**2 * np.eye(cov.shape[0])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        try:
            centres = np.asarray(data["centres_hz"], dtype=float)
            pct = {int(k): np.asarray(v, dtype=float) for k, v in data["percentiles_db"].items()}
            sm = np.asarray(data.get("side_minus_mid_median_db", [np.nan] * centres.size), dtype=float)
            tracks = np.array(
                [[np.nan if v is None else v for v in row] for row in data["track_deviations_db"]], dtype=float
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisError(f"the reference balance file is malformed ({exc})") from None
        expected = third_octave_centres_hz()
        if centres.shape != expected.shape or not np.allclose(centres, expected, rtol=1e-4) or set(pct) != {5, 25, 50, 75, 95}:
            raise AnalysisError("the reference balance file does not match the analysis bands; rebuild it")
        info = {k: v for k, v in data.items() if k not in ("percentiles_db", "track_deviations_db")}
        return cls(centres, pct, sm, tracks.reshape(-1, centres.size), info)


_reference_cache: dict[Path, Reference] = {}


def load_reference(path: Path | str | None = None) -> Reference:
    """Load ``reference_balance.json`` (default: the models folder); cached per path."""
    from daw_bridge.semantic.model import models_dir

    p = Path(path) if path is not None else models_dir() / REFERENCE_FILE
    if p not in _reference_cache:
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise AnalysisError(
                f"the reference balance {p} is missing; build it with `python -m benchmarks.build_reference`"
            ) from None
        except (OSError, json.JSONDecodeError) as exc:
            raise AnalysisError(f"the reference balance {p} cannot be read ({exc})") from None
        _reference_cache[p] = Reference.from_dict(data)
    return _reference_cache[p]


def align(power_db: np.ndarray, reference: Reference) -> tuple[np.ndarray, float]:
    """Shift band levels by one constant so the median deviation from the reference median is 0.

    Returns (aligned levels dB, the shift dB). NaN bands stay NaN.
    """
    shift = -float(np.nanmedian(power_db - reference.median_db))
    return power_db + shift, shift
