"""Decisions: adaptive words sized to the track, side effects held back, building on the current EQ,
auto-suggest toward the reference balance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from daw_bridge.adapt import AdaptError, adapt_words, pushed_outside, suggest
from daw_bridge.analysis import analyze, band_response_db, region_deviations_db
from daw_bridge.eq import GAIN_INDEX, PARAM_NAMES, EQParams, apply_eq


@pytest.fixture(scope="module")
def model():
    from daw_bridge.semantic import SemanticModel

    return SemanticModel.load()


@pytest.fixture(scope="module")
def excerpt(real_music_excerpt):
    """10 s of the real excerpt (enough for a stable long-term spectrum, fast to analyse)."""
    x, sr = real_music_excerpt
    return x[: 10 * sr], sr


def low_mid_boost_db(params: EQParams, sample_rate_hz: float) -> float:
    """Mean band response of an EQ over 150-800 Hz (dB): where warmth and mud live."""
    from daw_bridge.eq import third_octave_centres_hz

    centres = third_octave_centres_hz()
    r = band_response_db(params, sample_rate_hz, centres)
    return float(np.mean(r[(centres >= 150) & (centres <= 800)]))


def versions(x, sr, model):
    """A thin, bright version and an already warm, muddy version of the same audio."""
    thin_bright = apply_eq(x, sr, model.params_for("bright", 1.0))
    warm_muddy = apply_eq(x, sr, model.params_for("warm", 1.5))
    return thin_bright, warm_muddy


def after_render(x, sr, params, model):
    return analyze(apply_eq(x, sr, params), sr, model=model)


def test_scenario_warm_version_gets_a_smaller_boost_and_both_stay_in_range(excerpt, model):
    x, sr = excerpt
    thin_bright, warm_muddy = versions(x, sr, model)
    a_thin = analyze(thin_bright, sr, model=model)
    a_warm = analyze(warm_muddy, sr, model=model)
    assert a_warm.score("warm") > a_thin.score("warm") + 1.0

    d_thin = adapt_words(a_thin, "make it warmer", model)
    d_warm = adapt_words(a_warm, "make it warmer", model)
    boost_thin = low_mid_boost_db(d_thin.params, sr)
    boost_warm = low_mid_boost_db(d_warm.params, sr)
    assert boost_thin > 0.5
    assert boost_warm < 0.6 * boost_thin, (boost_warm, boost_thin)
    assert d_warm.amount < d_thin.amount

    # Rendered and measured again: no band pushed out of the reference 5-95 % range.
    for audio, analysis, decision in ((thin_bright, a_thin, d_thin), (warm_muddy, a_warm, d_warm)):
        after = after_render(audio, sr, decision.params, model)
        change = band_response_db(decision.params, sr, analysis.centres_hz)
        assert not np.any(pushed_outside(after.deviation_db, change, analysis))
        # ... and the warm score went the asked way, as predicted.
        assert after.score("warm") > analysis.score("warm")
        predicted = dict((d.term, d.score) for d in decision.expected)["warm"]
        assert predicted == pytest.approx(after.score("warm"), abs=0.25)


def test_fixed_preset_is_not_sized(excerpt, model):
    """Contrast: the plain preset adds the same low-mid boost to both versions."""
    x, sr = excerpt
    fixed = model.interpret("make it warmer").params
    thin_bright, warm_muddy = versions(x, sr, model)
    a_warm = analyze(warm_muddy, sr, model=model)
    d_warm = adapt_words(a_warm, "make it warmer", model)
    assert low_mid_boost_db(d_warm.params, sr) < low_mid_boost_db(fixed, sr)


def test_beyond_the_warm_end_gets_nothing_and_says_why(excerpt, model):
    x, sr = excerpt
    d = adapt_words(analyze(x, sr, model=model), "warmer", model)
    very_warm = x
    for _ in range(8):  # warm it until it lies beyond real music's warm end
        very_warm = apply_eq(very_warm, sr, model.params_for("warm", 1.0))
        a = analyze(very_warm, sr, model=model)
        d = adapt_words(a, "warmer", model)
        if d.position > d.end_of_range:
            break
    assert d.position > d.end_of_range
    assert d.amount == 0.0
    assert d.params.is_flat
    assert "already" in d.explanation
    assert d.warnings
    # Between typical and the end: a smaller step than from where the track started.
    d0 = adapt_words(analyze(x, sr, model=model), "warmer", model)
    near = apply_eq(x, sr, model.params_for("warm", 0.6 * (d0.end_of_range - d0.position)))
    d_near = adapt_words(analyze(near, sr, model=model), "warmer", model)
    assert 0.0 < d_near.amount < 0.75 * d0.amount


def test_opposite_direction(excerpt, model):
    x, sr = excerpt
    _, warm_muddy = versions(x, sr, model)
    a = analyze(warm_muddy, sr, model=model)
    d = adapt_words(a, "less warm", model)
    assert low_mid_boost_db(d.params, sr) < -0.5
    after = after_render(warm_muddy, sr, d.params, model)
    assert after.score("warm") < a.score("warm") - 0.3


def test_current_eq_is_built_on(excerpt, model):
    """The analysed audio is pre-EQ; with the current EQ given, the answer is the new total EQ."""
    x, sr = excerpt
    thin_bright, _ = versions(x, sr, model)
    a = analyze(thin_bright, sr, model=model)
    first = adapt_words(a, "a bit warmer", model)
    second = adapt_words(a, "a bit warmer", model, current=first.params)
    after_first = after_render(thin_bright, sr, first.params, model)
    after_second = after_render(thin_bright, sr, second.params, model)
    # The second answer starts where the first one ended, and goes further.
    before_second = dict((d.term, d.score) for d in second.before)["warm"]
    assert before_second == pytest.approx(after_first.score("warm"), abs=0.25)
    assert after_second.score("warm") > after_first.score("warm") + 0.05
    assert low_mid_boost_db(second.params, sr) > low_mid_boost_db(first.params, sr)
    # Without the current EQ, the same request would have answered the first move again.
    again = adapt_words(a, "a bit warmer", model)
    assert again.params == first.params


def test_suggest_moves_toward_the_reference_within_limits(excerpt, model):
    x, sr = excerpt
    thin_bright, _ = versions(x, sr, model)
    a = analyze(thin_bright, sr, model=model)
    d = suggest(a, model, strength=1.0, max_gain_db=6.0)
    gains = [getattr(d.params, PARAM_NAMES[i]) for i in GAIN_INDEX]
    assert max(abs(g) for g in gains) <= 6.0 + 1e-9
    after = after_render(thin_bright, sr, d.params, model)

    def distance(dev):
        return float(np.sqrt(np.nanmean(dev**2)))

    assert distance(after.deviation_db) < distance(a.deviation_db) - 0.5
    assert d.blend and all(b["weight"] > 0 for b in d.blend)
    assert "%" in d.explanation
    # Weaker strength moves less.
    half = suggest(a, model, strength=0.3)

    def size(p):
        return float(np.sqrt(np.nanmean(band_response_db(p, sr) ** 2)))

    assert size(half.params) < size(d.params)
    out = d.to_dict()
    json.dumps(out, allow_nan=False)
    assert set(out["params"]) == set(PARAM_NAMES)
    assert {"explanation", "blend", "expected", "analysis"} <= set(out)


def test_suggest_arguments(excerpt, model):
    x, sr = excerpt
    a = analyze(x, sr, model=model)
    with pytest.raises(AdaptError):
        suggest(a, model, strength=1.5)
    with pytest.raises(AdaptError):
        suggest(a, model, max_gain_db=0)
    assert suggest(a, model, strength=0.0).params.is_flat


def test_suggest_on_dark_material_brightens(model):
    """Extremely dark material: the suggestion lifts the highs."""
    from test_analysis import music_like

    sr = 48000
    x = apply_eq(music_like(4.0, sr), sr, EQParams(6, 200, 0, 1000, 0.7, 0, 2000, 0.7, -8, 5000, 0.7, -12, 3000))
    a = analyze(x, sr, model=model)
    d = suggest(a, model, strength=0.5)
    regions = dict(region_deviations_db(a.centres_hz, band_response_db(d.params, sr, a.centres_hz)))
    assert regions["highs"] > 2.0 and regions["highs"] > regions["bass"]
