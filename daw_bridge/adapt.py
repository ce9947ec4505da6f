"""Decisions that listen first: adaptive words ("make it warmer" sized to this track) and auto-suggest.

Both work on the analysis' deviation from the reference balance (dB per one-third-octave band, see
:mod:`daw_bridge.analysis`) and predict the deviation after the EQ as ``deviation + band response``
(re-aligned by its median, as the analysis aligns a track), from which the expected descriptor
scores follow.

**Adaptive words** (:func:`adapt_words`). The text's preset (``model.interpret``) defines a direction:
its band response r (dB). A track's position along it is the weighted projection score s (0 = typical
music, 1 = typical music with the preset applied); real music's positions are those of the reference
tracks, the typical position is their median s50 and the "end of real music" in that direction is
their 95th percentile s95. The move is ``amount * r`` with
``amount = clip((s95 - s) / (s95 - s50), 0, 1.5)``: one step for a typical track, up to 1.5 steps for
a track on the opposite side, less the nearer it starts to the end, nothing beyond it. Side effects are held back per band: no band may be
pushed past the reference 5-95 % range (a band already outside may go :data:`OUTSIDE_STEP_DB` further
out, no more: a cut at 260 Hz may not stop for its -0.5 dB at a 125 Hz already low). A 5-band EQ
is fitted to the limited move (:func:`daw_bridge.fit.fit_eq`) and shrunk until the fitted EQ respects
the limits too. With ``current`` (the EQ already on the track, the analysed audio being pre-EQ), the
state is audio + current and the answer is the new total EQ, refitted into one 5-band EQ. A request
that names places or amounts ("cut 300 Hz", "3 dB brighter") is applied as asked, never resized. A
problem word's cut ("less muddy") first moves to this track's excess within the word's documented
region, as deep as that excess (:mod:`daw_bridge.placement`), and is then applied as measured.

**Auto-suggest** (:func:`suggest`): cuts for resonances that stand out far more than real music's own
first, then the part of the track's departure from typical music that is likely a problem rather than
its character, both scaled by the strength (:func:`daw_bridge.fix.plan_eq`); the answer lists each
band with its reason ("-4.0 dB at 300 Hz: muddy") and the problems it heard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from daw_bridge.analysis import Analysis, default_lexicon, region_deviations_db
from daw_bridge.eq import GAIN_INDEX, PARAM_NAMES, EQParams
from daw_bridge.errors import SemeqError
from daw_bridge.fit import cascade
from daw_bridge.fix import kept_problems, plan_eq
from daw_bridge.naming import Descriptor, descriptor_scores, hz_list, projection_scores
from daw_bridge.placement import place_cuts, problem_regions
from daw_bridge.spectrum import band_response_db

#: Percentile of the reference tracks' positions that marks the end of real music in a direction.
END_PERCENTILE = 95.0
#: Largest step for a track far on the opposite side (in units of the preset's step).
MAX_AMOUNT = 1.5
#: The reference range a move may not push a band out of (percentiles).
RANGE_PERCENTILES = (5, 95)
#: Tolerance (dB) when checking a fitted EQ against the per-band limits.
LIMIT_TOLERANCE_DB = 0.25
#: Safety margin (dB) the planner keeps inside the range (the measured result differs a little).
PLAN_MARGIN_DB = 0.5
#: Tolerance (dB) of the planner's own check (fits ripple a little where nothing should move).
PLAN_TOLERANCE_DB = 0.1
#: How much further out a band already outside the range may go (dB): the side of a move elsewhere.
OUTSIDE_STEP_DB = 1.0
#: A move smaller than this (dB, largest band) is reported as nothing to do.
NEGLIGIBLE_DB = 0.2
#: Blend: at most this many words, each with at least this weight (intensity) ...
BLEND_WORDS = 3
BLEND_MIN_WEIGHT = 0.1
#: ... and must explain at least this share of what the words before it left unexplained.
BLEND_MIN_EXPLAINED = 0.05


class AdaptError(SemeqError):
    """A decision request with a bad argument (strength or limit out of range)."""

    code = "bad_request"


@dataclass(frozen=True)
class Decision:
    """An EQ decided for a track, with what it expects to hear afterwards.

    ``params``: the EQ to set (for adaptive words with ``current``: the new total EQ). ``amount``:
    the step taken, in units of the preset (adaptive) or the strength used (suggest). ``before`` and
    ``expected``: descriptor scores before and predicted after (strongest first).
    ``expected_deviation_db``: predicted deviation from the reference per band (dB, NaN above Nyquist).
    Adaptive words only: ``position`` is the track's position along the request (in preset steps,
    0 = typical music) and ``end_of_range`` real music's 95th percentile along it.
    """

    params: EQParams
    explanation: str
    amount: float
    before: tuple[Descriptor, ...]
    expected: tuple[Descriptor, ...]
    terms: list[dict[str, Any]]
    warnings: list[str]
    expected_deviation_db: np.ndarray
    blend: list[dict[str, Any]] | None = None
    limited_bands_hz: list[float] = field(default_factory=list)
    position: float | None = None
    end_of_range: float | None = None
    bands: list[dict[str, Any]] | None = None
    problems: list[dict[str, Any]] | None = None

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready; ``top`` keeps only the strongest descriptor scores."""

        def scores(items: tuple[Descriptor, ...]) -> list[dict[str, Any]]:
            return [{"term": d.term, "score": round(float(d.score), 3)} for d in items[:top]]

        out: dict[str, Any] = {
            "params": self.params.to_dict(),
            "explanation": self.explanation,
            "amount": round(float(self.amount), 3),
            "terms": self.terms,
            "warnings": list(self.warnings),
            "analysis": scores(self.before),
            "expected": scores(self.expected),
            "expected_deviation_db": [None if not np.isfinite(v) else round(float(v), 2) for v in self.expected_deviation_db],
            "limited_bands_hz": [round(f, 1) for f in self.limited_bands_hz],
        }
        if self.position is not None:
            out["position"] = round(self.position, 3)
            out["end_of_range"] = round(float(self.end_of_range), 3)
        if self.blend is not None:
            out["blend"] = self.blend
        if self.bands is not None:
            out["bands"] = self.bands
            out["problems"] = self.problems or []
        return out


# --- helpers ------------------------------------------------------------------------------------


def realign(deviation_db: np.ndarray) -> np.ndarray:
    """A deviation re-aligned like the analysis does: its median over measured bands is 0 dB."""
    return deviation_db - np.nanmedian(deviation_db)


def predicted_deviation(analysis: Analysis, params: EQParams | None) -> np.ndarray:
    """The deviation (dB per band) the analysed audio would have with ``params`` applied."""
    if params is None or params.is_flat:
        return analysis.deviation_db.copy()
    return realign(analysis.deviation_db + band_response_db(params, analysis.sample_rate_hz, analysis.centres_hz))


def pushed_outside(
    after_db: np.ndarray,
    change_db: np.ndarray,
    analysis: Analysis,
    tolerance_db: float = LIMIT_TOLERANCE_DB,
    margin_db: float = 0.0,
) -> np.ndarray:
    """Bands (bool) an EQ pushed out of the reference 5-95 % range.

    A band is pushed out when the EQ raises it (``change_db``, the EQ's band response, above
    ``tolerance_db``) and its deviation after (re-aligned) lies above the range, or the EQ cuts it and
    it ends below; a band the EQ leaves alone but that drifts with the re-alignment is not "pushed",
    nor is one already outside that the EQ moves at most :data:`OUTSIDE_STEP_DB` further out.
    ``margin_db`` narrows the range on both sides and that step (the planner keeps a safety margin).
    """
    low0, high0 = analysis.reference.range_db(*RANGE_PERCENTILES)  # "already outside": the range itself
    low, high, tol, before = low0 + margin_db, high0 - margin_db, tolerance_db, after_db - change_db
    step = OUTSIDE_STEP_DB - margin_db + tol
    with np.errstate(invalid="ignore"):
        up = (change_db > tol) & (after_db > high + tol) & ~((before > high0) & (change_db <= step))
        down = (change_db < -tol) & (after_db < low - tol) & ~((before < low0) & (change_db >= -step))
    return np.isfinite(after_db) & (up | down)


def _terms_of(interpretation: Any) -> list[dict[str, Any]]:
    return [dict(t) if isinstance(t, dict) else t.to_dict() if hasattr(t, "to_dict") else
            {k: v for k, v in vars(t).items() if not k.startswith("_")} for t in getattr(interpretation, "terms", [])]


def _region_phrase(centres_hz: np.ndarray, change_db: np.ndarray) -> str:
    """'+2.1 dB bass, -1.5 dB highs' for the regions a change moves most."""
    regions = sorted(region_deviations_db(centres_hz, change_db), key=lambda r: -abs(r[1]))
    parts = [f"{v:+.1f} dB {name}" for name, v in regions[:3] if abs(v) >= 0.3]
    return ", ".join(parts) if parts else "no region changes by more than 0.3 dB"


def _band_only(params: EQParams, index: int) -> EQParams:
    """``params`` with every gain but the ``index``-th of :data:`GAIN_INDEX` set to 0 dB."""
    return replace(params, **{PARAM_NAMES[g]: 0.0 for g in GAIN_INDEX if g != GAIN_INDEX[index]})


def _with_gain_factors(params: EQParams, factors: np.ndarray) -> EQParams:
    return replace(params, **{PARAM_NAMES[g]: float(getattr(params, PARAM_NAMES[g]) * f) for g, f in zip(GAIN_INDEX, factors)})


@dataclass(frozen=True)
class _Move:
    params: EQParams  # the EQ to set (total, if a current EQ was given)
    after_db: np.ndarray  # predicted deviation after
    change_db: np.ndarray  # band response of the move alone (dB)
    factors: np.ndarray  # share of each preset band's gain kept (0..1)
    limited_hz: list[float]  # bands at their limit
    fit_rms_db: float | None  # error of combining with the current EQ into one 5-band EQ


def _limited_move(analysis: Analysis, before_db: np.ndarray, move: EQParams, current: EQParams | None) -> _Move:
    """The move (``move``: the preset at the chosen amount), each of its bands' gain reduced just
    enough that no band of the spectrum leaves the reference range (a linear program over the five
    gain factors, maximising progress along the move's own direction), then combined with ``current``.
    """
    from scipy.optimize import linprog

    ref = analysis.reference
    sr = analysis.sample_rate_hz
    centres = analysis.centres_hz
    ok = np.isfinite(before_db)
    low, high = ref.range_db(*RANGE_PERCENTILES)
    low, high = low + PLAN_MARGIN_DB, high - PLAN_MARGIN_DB
    singles = np.array([band_response_db(_band_only(move, i), sr, centres) for i in range(len(GAIN_INDEX))])
    singles = np.where(np.isfinite(singles), singles, 0.0)
    direction = singles.sum(axis=0)
    w = ref.weights() * ok
    gain = singles @ (w * direction)
    # The analysis re-aligns by the median: estimate each band's share of that shift (linearised).
    base_median = np.nanmedian(before_db)
    shifts = np.array([np.nanmedian(before_db + r) - base_median for r in singles])
    relative = singles - shifts[:, None]
    raised, cut = ok & (direction > PLAN_TOLERANCE_DB), ok & (direction < -PLAN_TOLERANCE_DB)
    # A raised band must end below the top of the range, or (already above it) not be raised.
    up_room = high - before_db
    up_rows = np.where((up_room >= 0)[None, :], relative, singles)[:, raised].T
    def room_limit(room: np.ndarray) -> np.ndarray:  # outside the range itself (not just its margin): the step
        return np.where(room >= 0, room, np.where(room < -PLAN_MARGIN_DB, OUTSIDE_STEP_DB - PLAN_MARGIN_DB, PLAN_TOLERANCE_DB))

    up_limits = room_limit(up_room)[raised]
    down_room = before_db - low
    down_rows = -np.where((down_room >= 0)[None, :], relative, singles)[:, cut].T
    down_limits = room_limit(down_room)[cut]
    a_ub, b_ub = np.vstack([up_rows, down_rows]), np.concatenate([up_limits, down_limits])
    if b_ub.size:
        result = linprog(-gain, A_ub=a_ub, b_ub=b_ub, bounds=[(0.0, 1.0)] * len(GAIN_INDEX), method="highs")
        factors = np.clip(result.x, 0.0, 1.0) if result.success else np.zeros(len(GAIN_INDEX))
    else:
        factors = np.ones(len(GAIN_INDEX))
    current_db = band_response_db(current, sr, centres) if current is not None else np.zeros_like(before_db)

    def build(f: np.ndarray) -> tuple[EQParams, float | None]:
        m = _with_gain_factors(move, f)
        if current is None:
            return m, None
        fit = cascade([current, m], sr)
        return fit.params, fit.rms_db

    for _ in range(12):
        params, fit_rms = build(factors)
        after = predicted_deviation(analysis, params)
        change = band_response_db(params, sr, centres) - current_db
        bad = pushed_outside(after, change, analysis, PLAN_TOLERANCE_DB, PLAN_MARGIN_DB) & ok
        if not np.any(bad):
            break
        factors = factors * 0.85  # the fit or the re-alignment went past a limit: shrink the whole move
    else:
        factors = np.zeros(len(GAIN_INDEX))
        params, fit_rms = build(factors)
        after = predicted_deviation(analysis, params)
        change = band_response_db(params, sr, centres) - current_db
    held = ok & (np.abs(change) < np.abs(direction) - 0.3)
    at_limit = (after >= high - 0.3) | (after <= low + 0.3)
    limited = [float(f) for f in centres[held & at_limit]]
    return _Move(params, after, change, factors, limited, fit_rms)


# --- adaptive words -------------------------------------------------------------------------------


def adapt_words(
    analysis: Analysis,
    text: str,
    model: Any,
    intensity: float = 1.0,
    current: EQParams | None = None,
) -> Decision:
    """The EQ that moves this track one step in the direction of ``text``, sized by where it starts.

    ``current``: the EQ already on the track (the analysed audio is before it); the returned params
    are then the new total EQ. Raises the model's errors for unknown words; the reading's notes end
    the explanation."""
    interpretation = model.interpret(text, intensity)
    decision = _adapted(analysis, text, interpretation, intensity, current)
    notes = " ".join(getattr(interpretation, "notes", ()))
    return replace(decision, explanation=f"{decision.explanation} {notes}") if notes else decision


def _adapted(analysis: Analysis, text: str, interpretation: Any, intensity: float,
             current: EQParams | None) -> Decision:
    preset: EQParams = interpretation.params
    terms = _terms_of(interpretation)
    sr = analysis.sample_rate_hz
    centres = analysis.centres_hz
    ref = analysis.reference
    weights = ref.weights()
    state = predicted_deviation(analysis, current)
    before = descriptor_scores(state, sr, default_lexicon(), weights)
    direction = band_response_db(preset, sr, centres)
    warnings: list[str] = []
    if preset.is_flat or not np.nanmax(np.abs(direction)) > NEGLIGIBLE_DB:
        params = current if current is not None else EQParams.flat()
        return Decision(params, f"'{text}' asks for no change at intensity {intensity:g}.", 0.0, before, before,
                        terms, warnings, state)
    if getattr(interpretation, "explicit", False):  # places and amounts ("cut 300 Hz"): as asked, never resized
        after = state + direction
        params = preset if current is None else cascade([current, preset], sr).params
        return Decision(params, f"Applied '{text.strip()}' as asked ({_region_phrase(centres, direction)}).", 1.0,
                        before, descriptor_scores(after, sr, default_lexicon(), weights), terms, warnings, after)
    regions = problem_regions(interpretation, default_lexicon())  # "less muddy": cut where this track has it
    preset, placed = place_cuts(preset, regions, state, centres, weights, sr) if regions else (preset, [])
    direction = band_response_db(preset, sr, centres) if placed else direction
    same_bands = np.where(np.isfinite(state), ref.track_deviations_db, np.nan)  # real tracks where this one is
    position, *reference_positions = map(float, projection_scores(np.vstack([state, same_bands]), direction[None, :], weights, 0.0)[:, 0])
    end, typical = (float(np.nanpercentile(reference_positions, q)) for q in (END_PERCENTILE, 50))
    amount = 1.0 if placed else float(np.clip((end - position) / max(end - typical, 1e-6), 0.0, MAX_AMOUNT))
    label = text.strip() or "the request"
    where = (
        f"along '{label}' this track sits at {position:+.2f} steps from typical music; "
        f"real music reaches {end:+.2f} (its {END_PERCENTILE:.0f}th percentile)"
    )
    if amount * np.nanmax(np.abs(direction)) <= NEGLIGIBLE_DB:
        params = current if current is not None else EQParams.flat()
        explanation = (
            f"Nothing applied: {where}, so the track is already at or beyond the end of real music in "
            f"this direction and more would take it outside what real music sounds like."
        )
        warnings.append("already beyond the range of real music in the requested direction")
        return Decision(params, explanation, 0.0, before, before, terms, warnings, state, None, [], position, end)

    move = _limited_move(analysis, state, preset.scaled(amount), current)
    params, after, limited = move.params, move.after_db, move.limited_hz
    expected = descriptor_scores(after, sr, default_lexicon(), weights)
    size = "one step" if abs(amount - 1.0) < 0.005 else f"{amount:.2f} steps"
    explanation = f"Applied {size} of '{label}' ({_region_phrase(centres, move.change_db)}): {where}." + "".join(f" {n}" for n in placed)
    reduced = [
        f"the {b.kind.replace('_', ' ')} at {hz_list([b.freq_hz])} to {round(100 * f)}%"
        for b, f in zip(preset.bands(), move.factors)
        if b.gain_db != 0.0 and f < 0.95
    ]
    if reduced:
        explanation += f" Held back {', '.join(reduced)} so no band leaves the range of real music."
        warnings.append("limited to stay inside the reference range" + (f" at {hz_list(limited)}" if limited else ""))
    if amount < 0.999:
        warnings.append(f"reduced to {amount:.2f} of a step: the track is already near the end of real music")
    if move.fit_rms_db is not None and move.fit_rms_db > 0.5:
        warnings.append(f"the current EQ and the new move are combined into one 5-band EQ within {move.fit_rms_db:.1f} dB RMS")
    return Decision(params, explanation, amount, before, expected, terms, warnings, after, None, limited, position, end)


# --- auto-suggest -------------------------------------------------------------------------------


def check_strength(strength: float, max_gain_db: float) -> None:
    """A clear :class:`AdaptError` for a strength outside 0..1 or a gain limit outside (0, 12] dB."""
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise AdaptError(f"strength must be a number from 0 to 1, got {strength!r}")
    if isinstance(max_gain_db, bool) or not isinstance(max_gain_db, (int, float)) or not 0.0 < max_gain_db <= 12.0:
        raise AdaptError(f"max_gain_db must be above 0 and at most 12 dB, got {max_gain_db!r}")


def planned_decision(analysis: Analysis, plan, strength: float, deviation_db: np.ndarray, goal: str,
                     problems, how_far: str = "") -> Decision:
    """A :class:`Decision` from a corrective-first plan (:func:`daw_bridge.fix.plan_eq`); ``goal``
    names what the bands move toward, ``how_far`` (optional) says how far."""
    lexicon = default_lexicon()
    weights = analysis.reference.weights()
    before = descriptor_scores(deviation_db, analysis.sample_rate_hz, lexicon, weights)
    kept = kept_problems(problems, plan.change_db, strength, analysis.sample_rate_hz) if strength > 0.0 else []
    kept_text = f" Heard and kept as the track's character: {'; '.join(kept)}." if kept else ""
    if plan.params.is_flat:
        reason = "strength 0" if strength == 0.0 else f"no problem to fix and already close to {goal}"
        return Decision(plan.params, f"No EQ suggested: {reason}.{kept_text}", float(strength), before, before, [],
                        [], deviation_db.copy(), bands=[], problems=[{**p.to_dict(), "kept": p.text in kept} for p in problems])
    after = realign(deviation_db + plan.change_db)
    expected = descriptor_scores(after, analysis.sample_rate_hz, lexicon, weights)
    explanation = "; ".join(b.text for b in plan.bands) + "."  # each begins with its signed gain
    if not any(b.kind == "corrective" for b in plan.bands):
        explanation += f" No resonance needed cutting; the bands move toward {goal}{how_far}."
    explanation += kept_text
    before_rms, after_rms = _weighted_rms(deviation_db, weights), _weighted_rms(after, weights)
    explanation += f" Distance to {goal} {before_rms:.1f} -> {after_rms:.1f} dB."
    return Decision(plan.params, explanation, float(strength), before, expected, [], [], after,
                    bands=[b.to_dict() for b in plan.bands], problems=[{**p.to_dict(), "kept": p.text in kept} for p in problems])


def suggest(analysis: Analysis, model: Any = None, strength: float = 0.5, max_gain_db: float = 6.0) -> Decision:
    """Auto-suggest: fix the track's problems, ``strength`` (0..1) of the way
    (:func:`daw_bridge.fix.plan_eq` with ``goal="typical"``).
    ``model`` is not used (kept for callers that pass one); every gain within +-``max_gain_db``."""
    check_strength(strength, max_gain_db)
    plan = plan_eq(analysis.problems, analysis.deviation_db, analysis.reference, analysis.sample_rate_hz,
                   float(strength), float(max_gain_db), goal="typical", lexicon=default_lexicon())
    return planned_decision(analysis, plan, strength, analysis.deviation_db, "the balance of typical music",
                            analysis.problems, how_far=" as far as the departure is likely a problem, not the track's character")


def _weighted_rms(deviation_db: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(deviation_db)
    return float(math.sqrt(np.sum(weights[ok] * deviation_db[ok] ** 2) / np.sum(weights[ok])))
