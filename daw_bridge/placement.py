"""Where on this track a problem word's cut goes: at the track's own excess within the word's region.

An engineer asked for "less muddy" sweeps the cut through the mud region and leaves it where the
track has the most of it. :func:`place_cuts` does the same with a preset. Each cut (a peak band with
a negative gain) of problem words ("less muddy", "less boomy and less harsh") is tried at centres
across the region the lexicon documents for the word (every :data:`STEP_OCT`) and at
:data:`WIDTH_FACTORS` of its width. Each placement is scored by how much of the track's *local*
excess it would remove: the track's deviation from typical music, less its straight-line trend (dB
over log frequency) across the region and :data:`MARGIN_OCT` either side (a tilt is no excess in one
place), projected on the cut's third-octave response (weighted by how little real music varies,
dB). The best placement replaces the word's when it removes clearly more (:data:`MIN_REMOVED_DB`,
:data:`MIN_RATIO`). A placed cut is as deep as the local excess it faces (least squares, within
:data:`DEPTH_RANGE` times the word's cut and the EQ's gain range); the adaptive step
(:mod:`daw_bridge.adapt`) then applies it as measured, within the range of real music. Boosts and
quality words stay where the lexicon puts them: a boost has no excess to find.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from daw_bridge.eq import GAIN_RANGE_DB, PARAM_NAMES, EQParams
from daw_bridge.layout import BANDS, octaves_from_q, q_from_octaves
from daw_bridge.naming import hz_text
from daw_bridge.spectrum import vector_band_responses_db

#: Step of the search across the region (octaves).
STEP_OCT = 1.0 / 12.0
#: Margin either side of the region over which the local trend is fitted (octaves).
MARGIN_OCT = 1.0
#: Widths tried, as factors of the word's own width.
WIDTH_FACTORS = (1.0, 0.75, 0.5)
#: A placement replaces the word's own when it removes at least this much of the local excess (dB,
#: weighted projection) and this many times what the word's own placement removes.
MIN_REMOVED_DB = 0.5
MIN_RATIO = 1.25
#: Shallowest and deepest placed cut, as multiples of the word's own (the deepest: the adaptive
#: step's largest, 1.5 steps).
DEPTH_RANGE = (0.5, 1.5)


def problem_regions(interpretation: Any, lexicon: Any) -> list[tuple[float, float]]:
    """The documented regions (low, high Hz) of the request's words when every one is a problem word
    ("less muddy", "less boomy and less harsh"), else none: only problem words' cuts are placed."""
    terms = getattr(interpretation, "terms", ())
    if not terms or any(getattr(t, "kind", None) != "problem" for t in terms):
        return []
    return [(m.low_hz, m.high_hz) for t in terms for m in lexicon.lookup(t.term).moves]


def place_cuts(params: EQParams, regions_hz: list[tuple[float, float]], deviation_db: np.ndarray,
               centres_hz: np.ndarray, weights: np.ndarray, sample_rate_hz: float) -> tuple[EQParams, list[str]]:
    """``params`` (a problem word's preset) with each cut re-centred on the track's excess, and a note
    per moved band. ``regions_hz``: the word's documented regions (low, high Hz); a cut moves within
    the one that holds its centre. ``deviation_db``: the track's deviation from typical music per band
    of ``centres_hz`` (dB, NaN = not measured); ``weights``: per band (how little real music varies)."""
    ok = np.isfinite(deviation_db)
    if ok.sum() < 6:
        return params, []
    u = np.log2(np.asarray(centres_hz, dtype=float))
    vector = params.raw_vector()
    notes = []
    for slot in BANDS:
        gain_db = vector[slot.gain_index]
        if slot.kind != "peak" or gain_db >= 0.0:
            continue
        freq_hz, width_oct = vector[slot.freq_index], octaves_from_q(vector[slot.q_index])
        region = next(((lo, hi) for lo, hi in regions_hz if lo <= freq_hz <= hi), None)
        if region is None:
            continue
        dev, w = _local_excess(deviation_db, u, weights, np.log2(region[0]) - MARGIN_OCT, np.log2(region[1]) + MARGIN_OCT)
        if w is None:
            continue
        steps = np.concatenate([[0.0], np.arange(np.log2(region[0] / freq_hz), np.log2(region[1] / freq_hz), STEP_OCT)])
        freqs = np.repeat(freq_hz * 2.0**steps, len(WIDTH_FACTORS))
        widths = np.tile(width_oct * np.array(WIDTH_FACTORS), len(steps))
        candidates = np.tile(EQParams.flat().raw_vector(), (freqs.size, 1))
        candidates[:, slot.gain_index] = gain_db
        candidates[:, slot.freq_index] = freqs
        candidates[:, slot.q_index] = [q_from_octaves(x) for x in widths]
        cut = np.nan_to_num(vector_band_responses_db(candidates, sample_rate_hz, centres_hz))
        cut = cut - (cut @ w)[:, None]
        # dB of the deviation each placement removes: the projection of the excess on the cut's shape
        norms = np.sqrt(np.maximum((cut**2) @ w, 1e-12))
        removed = -(cut * w) @ dev / norms
        best = int(np.argmax(removed))
        if removed[best] < max(MIN_REMOVED_DB, MIN_RATIO * removed[0]):  # [0]: the word's own centre and width
            continue
        # as deep as the excess there (the least-squares gain factor), within DEPTH_RANGE x the word's cut
        depth = float(np.clip(removed[best] / norms[best], *DEPTH_RANGE))
        vector[slot.gain_index] = max(depth * gain_db, GAIN_RANGE_DB[0])
        vector[slot.freq_index], vector[slot.q_index] = freqs[best], q_from_octaves(widths[best])
        notes.append(f"Placed the cut at {hz_text(freqs[best])} ({widths[best]:.2g} octave wide) and {-vector[slot.gain_index]:.1f} dB "
                     f"deep, where this track has its excess, instead of the word's {hz_text(freq_hz)}.")
    if not notes:
        return params, []
    return replace(params, **{name: float(v) for name, v in zip(PARAM_NAMES, vector)}), notes


def _local_excess(deviation_db: np.ndarray, u: np.ndarray, weights: np.ndarray, low_u: float,
                  high_u: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The deviation less its weighted straight-line fit over log2-frequencies ``u`` in
    [``low_u``, ``high_u``], 0 elsewhere, and the normalised weights there (None: too few bands)."""
    inside = np.isfinite(deviation_db) & (u >= low_u) & (u <= high_u)
    if inside.sum() < 4:
        return np.zeros(u.size), None
    w = np.where(inside, weights, 0.0)
    w = w / w.sum()
    design = np.stack([np.ones(u.size), u], axis=1)
    dev = np.nan_to_num(deviation_db)
    coef = np.linalg.solve(design.T @ (w[:, None] * design), design.T @ (w * dev))
    return np.where(inside, dev - design @ coef, 0.0), w
