"""Listening: what a track sounds like, in studio words with Hz and dB.

:func:`analyze` takes audio as an array or as an iterable of ``(frames, channels)`` blocks (one pass,
bounded memory: :class:`daw_bridge.spectrum.SpectrumAccumulator`) and measures:

* loudness (BS.1770 integrated, LUFS) and true peak (dBTP);
* the gated long-term spectrum in one-third-octave bands, aligned to the reference balance of real
  music (:mod:`daw_bridge.reference`): ``level_db`` and ``deviation_db`` (level minus the reference
  median, dB per band), and for stereo the side-to-mid ratio per band;
* **problems** measured two ways and reported separately: against the track's own smoothed spectral
  envelope (basis ``"envelope"``, :mod:`daw_bridge.problems`: resonances, bumps, dips, steps) and
  against the reference balance (basis ``"reference"``, :mod:`daw_bridge.posterior`: broad departures
  that real music rarely has, each with the probability that it is a problem rather than the track's
  character); each named with a word of the studio lexicon (:mod:`daw_bridge.naming`):
  "muddy: +5 dB around 300 Hz";
* descriptors: every lexicon word's score for the deviation (:func:`daw_bridge.naming.descriptor_scores`),
  words that do not describe audio (``describes_audio = false``) left out.

Nothing is trained or derived from the semantic model at request time: the lexicon and the reference
are read once (cached), the word curves are computed per sample rate in one batch.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from daw_bridge.audio import AudioError, metered, open_audio
from daw_bridge.audio.blocks import array_blocks, db
from daw_bridge.naming import Descriptor, Problem, descriptor_scores, name_bumps
from daw_bridge.posterior import estimate_problems
from daw_bridge.problems import (
    FineSpectrum,
    bumps_band_response_db,
    find_envelope_problems,
    fine_spectrum,
)
from daw_bridge.reference import (
    REFERENCE_FILE,
    AnalysisError,
    Reference,
    align,
    load_reference,
)
from daw_bridge.spectrum import (
    LongTermSpectrum,
    SpectrumAccumulator,
    as_frames,
    band_response_db,
    band_spectrum,
    check_rate,
    third_octave_bands,
)

__all__ = [
    "REFERENCE_FILE",
    "Analysis",
    "AnalysisError",
    "Descriptor",
    "Problem",
    "Reference",
    "align",
    "analyze",
    "analyze_file",
    "band_response_db",
    "band_spectrum",
    "default_lexicon",
    "load_reference",
    "region_deviations_db",
]

#: Problems named in the summary (most important first).
SUMMARY_PROBLEMS = 3
#: Confidence from which the summary says a problem plainly; below it, "possibly".
LIKELY_CONFIDENCE = 0.5

#: Named regions of the spectrum used in plain sentences (Hz, lower edge inclusive).
REGIONS: tuple[tuple[str, float, float], ...] = (
    ("sub-bass", 0.0, 60.0),
    ("bass", 60.0, 250.0),
    ("low-mids", 250.0, 800.0),
    ("mids", 800.0, 2500.0),
    ("upper mids", 2500.0, 6000.0),
    ("highs", 6000.0, 1e9),
)


@lru_cache(maxsize=1)
def default_lexicon() -> Any:
    """The studio lexicon of ``models/lexicon`` (read once)."""
    from daw_bridge.semantic.lexicon import load_lexicon

    return load_lexicon()


@dataclass(frozen=True)
class Analysis:
    """What the analysis hears in a track (see the module docstring).

    Band arrays run over :func:`daw_bridge.eq.third_octave_centres_hz`; ``valid`` marks bands below
    Nyquist (the others are NaN). ``fine`` is the 1/24-octave spectrum the envelope problems come
    from. ``problems`` are most important first.
    """

    loudness_lufs: float
    true_peak_dbtp: float
    duration_s: float
    sample_rate_hz: float
    channels: int
    active_fraction: float
    centres_hz: np.ndarray
    valid: np.ndarray
    level_db: np.ndarray
    deviation_db: np.ndarray
    side_minus_mid_db: np.ndarray | None
    reference: Reference
    fine: FineSpectrum
    problems: tuple[Problem, ...]
    descriptors: tuple[Descriptor, ...]
    summary: str

    def score(self, term: str) -> float:
        for d in self.descriptors:
            if d.term == term:
                return d.score
        raise KeyError(term)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers rounded to what is meaningful, NaN as null."""
        ref = self.reference
        low, high = ref.range_db()

        def num(v: float, nd: int = 2) -> float | None:
            return None if not np.isfinite(v) else round(float(v), nd)

        bands = [
            {
                "centre_hz": round(float(f), 1),
                "valid": bool(self.valid[i]),
                "level_db": num(self.level_db[i]),
                "reference_db": num(ref.median_db[i]),
                "reference_p5_db": num(ref.percentiles_db[5][i]),
                "reference_p25_db": num(ref.percentiles_db[25][i]),
                "reference_p75_db": num(ref.percentiles_db[75][i]),
                "reference_p95_db": num(ref.percentiles_db[95][i]),
                "deviation_db": num(self.deviation_db[i]),
                "outside_reference_range": bool(self.valid[i] and not (low[i] <= self.deviation_db[i] <= high[i])),
                "side_minus_mid_db": None if self.side_minus_mid_db is None else num(self.side_minus_mid_db[i]),
            }
            for i, f in enumerate(self.centres_hz)
        ]
        return {
            "loudness_lufs": num(self.loudness_lufs),
            "true_peak_dbtp": num(self.true_peak_dbtp),
            "duration_s": num(self.duration_s, 3),
            "sample_rate_hz": self.sample_rate_hz,
            "channels": self.channels,
            "active_fraction": num(self.active_fraction, 3),
            "problems": [p.to_dict() for p in self.problems],
            "bands": bands,
            "descriptors": [
                {"term": d.term, "score": num(d.score, 3), "explained_db": num(d.explained_db), "common": d.common}
                for d in self.descriptors
            ],
            "summary": self.summary,
        }


def region_deviations_db(centres_hz: np.ndarray, deviation_db: np.ndarray) -> list[tuple[str, float]]:
    """Mean deviation (dB) of each named region that has measured bands."""
    out = []
    for name, lo, hi in REGIONS:
        sel = (centres_hz >= lo) & (centres_hz < hi) & np.isfinite(deviation_db)
        if np.any(sel):
            out.append((name, float(np.mean(deviation_db[sel]))))
    return out


def _said(problems: list[Problem]) -> str:
    """'boomy: +10 dB below 280 Hz and +7 dB around 80 Hz; dull: ...': each word once, with its places."""
    shown: dict[str, list[str]] = {}
    for p in problems:
        shown.setdefault(p.word, []).append(p.text.split(": ", 1)[1])
    return "; ".join(f"{word}: {' and '.join(places)}" for word, places in shown.items())


def describe(problems: tuple[Problem, ...], regions: list[tuple[str, float]]) -> str:
    """One plain sentence: the main problems in lexicon words with Hz and dB ("possibly" before those
    below :data:`LIKELY_CONFIDENCE`: real mixes often have such bumps), or, with none, how close the
    track is to typical music."""
    if problems:
        head = problems[:SUMMARY_PROBLEMS]
        likely = [p for p in head if p.confidence >= LIKELY_CONFIDENCE]
        maybe = [p for p in head if p.confidence < LIKELY_CONFIDENCE]
        parts = ([_said(likely)] if likely else []) + ([f"possibly {_said(maybe)} (real mixes often have such bumps)"] if maybe else [])
        more = len(problems) - SUMMARY_PROBLEMS
        text = "; ".join(parts) + (f"; and {more} smaller" if more > 0 else "")
        return text[0].upper() + text[1:] + "."
    notable = sorted((r for r in regions if abs(r[1]) >= 1.5), key=lambda r: -abs(r[1]))[:2]
    details = ", ".join(f"{name} {abs(v):.1f} dB {'above' if v > 0 else 'below'} typical music" for name, v in notable)
    return "No problems found" + (f"; {details}." if details else ": close to typical music in every region.")


def find_problems(fine: FineSpectrum, deviation_db: np.ndarray, reference: Reference, sample_rate_hz: float,
                  lexicon: Any) -> tuple[Problem, ...]:
    """Envelope problems, then reference problems in what the envelope ones leave unexplained."""
    narrow = find_envelope_problems(fine)
    rest = deviation_db - bumps_band_response_db(narrow, sample_rate_hz)
    broad = list(estimate_problems(rest - np.nanmedian(rest), reference, sample_rate_hz).bumps)
    return tuple(name_bumps(narrow + broad, lexicon))


#: Share of the power within one octave (three adjacent third-octave bands) from which audio is a
#: steady tone, not program material: real music reaches at most 0.88 (the reference balance's 92 tracks
#: and the 31 it holds out), a sine 0.9999, a sine clipped hard (tanh of 3x) 0.94.
TONE_POWER_SHARE = 0.99


def check_program(spectrum, lts: LongTermSpectrum) -> None:
    """Raise :class:`daw_bridge.audio.AudioError` if ``spectrum`` (third-octave bands of ``lts``) is a
    steady tone: its balance against music would read as absurd problems ("+70 dB around 450 Hz")."""
    power = np.nan_to_num(10.0 ** (spectrum.power_db / 10.0))
    share = float(np.convolve(power, np.ones(3), "valid").max() / power.sum())
    if share >= TONE_POWER_SHARE:
        raise AudioError(
            f"the audio is a steady tone around {np.argmax(lts.power) * lts.bin_hz:.0f} Hz ({100 * share:.2f} % of "
            "its power within one octave), not music or speech: it has no tonal balance to describe or fix; say "
            "what to change in words instead (e.g. semeq eq 'warmer')")


def _measure(audio: np.ndarray | Iterable[np.ndarray], sr: float) -> tuple[LongTermSpectrum, float, float, int, int]:
    """(long-term spectrum, loudness LUFS, true peak dBTP, frames, channels) in one pass over the
    blocks of an array or a stream: the meters (:func:`metered`: seamless across blocks) in this
    thread, each block's spectrum in a worker beside them (its FFTs release the GIL); one block in
    flight, so memory does not grow with the length."""
    blocks = iter(array_blocks(as_frames(audio)) if isinstance(audio, np.ndarray) else map(as_frames, audio))
    first = next((b for b in blocks if b.shape[0]), None)
    if first is None:
        raise AudioError("the audio is empty (no samples)")
    spectrum = SpectrumAccumulator(sr, first.shape[1])
    meters: dict = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for x in metered(itertools.chain([first], blocks), sr, first.shape[1], meters):
            if pending is not None:
                pending.result()
            pending = pool.submit(spectrum.add, x)
        if pending is not None:
            pending.result()
    lts = spectrum.result()
    return lts, meters["lufs"], db(meters["peak"]), lts.frames, lts.channels


def analyze(
    audio: np.ndarray | Iterable[np.ndarray],
    sample_rate_hz: float,
    reference: Reference | None = None,
    lexicon: Any = None,
) -> Analysis:
    """Analyse ``audio`` ((frames,) or (frames, channels) array, or an iterable of (frames, channels)
    blocks) at ``sample_rate_hz`` (Hz). ``reference``: the reference balance (default
    :func:`load_reference`); ``lexicon``: default :func:`default_lexicon`. Raises
    :class:`daw_bridge.audio.AudioError` for empty, silent or non-finite audio.
    """
    sr = check_rate(sample_rate_hz)
    lts, loudness_lufs, true_peak, frames, channels = _measure(audio, sr)
    spectrum = third_octave_bands(lts)
    check_program(spectrum, lts)
    ref = reference if reference is not None else load_reference()
    lex = lexicon if lexicon is not None else default_lexicon()
    level, _ = align(spectrum.power_db, ref)
    deviation = level - ref.median_db
    fine = fine_spectrum(lts)
    problems = find_problems(fine, deviation, ref, sr, lex)
    heard = {e.word for e in lex.entries if e.describes_audio}
    descriptors = tuple(d for d in descriptor_scores(deviation, sr, lex, ref.weights()) if d.term in heard)
    return Analysis(
        loudness_lufs=loudness_lufs,
        true_peak_dbtp=true_peak,
        duration_s=frames / sr,
        sample_rate_hz=sr,
        channels=channels,
        active_fraction=spectrum.active_fraction,
        centres_hz=spectrum.centres_hz,
        valid=spectrum.valid,
        level_db=level,
        deviation_db=deviation,
        side_minus_mid_db=spectrum.side_minus_mid_db,
        reference=ref,
        fine=fine,
        problems=problems,
        descriptors=descriptors,
        summary=describe(problems, region_deviations_db(spectrum.centres_hz, deviation)),
    )


def analyze_file(path: str | os.PathLike, reference: Reference | None = None, lexicon: Any = None) -> Analysis:
    """Read an audio file (any format :func:`daw_bridge.audio.open_audio` opens) in float32 blocks and
    analyse it, so memory does not grow with the file's length."""
    with open_audio(path) as source:
        return analyze(source.blocks(dtype="float32"), source.sample_rate_hz, reference=reference, lexicon=lexicon)
