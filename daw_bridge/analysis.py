"""Listening: a track's tonal balance against real music, in the words the model understands.

The long-term average spectrum (LTAS) of a track is measured in base-2 one-third-octave bands from
20 Hz to 20 kHz (:func:`daw_bridge.eq.third_octave_centres_hz`):

* Short-time Fourier frames (Hann window, about 3 Hz per bin at any sample rate, 50 % overlap) are
  gated like ITU-R BS.1770: frames below -70 dBFS mean square, then frames more than 20 dB below the
  mean power of the rest, are ignored (silence, fades, gaps).
* The power of every channel is summed (for stereo that is the power of mid plus side, so out-of-phase
  content counts); stereo tracks also report the side-to-mid ratio per band (``side_minus_mid_db``).
* Band power integrates the power spectrum between the band edges (centre * 2^(+-1/6)); bands whose
  centre lies at or above Nyquist are excluded (``valid`` is false), a band cut by Nyquist is
  extrapolated from its part below Nyquist.
* Levels are dB relative to the track's total power over its valid bands, then shifted by one constant
  so that the median deviation from the reference is 0 dB: a quieter master, or a broad level change,
  has the same shape.

The reference (``models/reference_balance.json``, built by ``benchmarks/build_reference.py`` from
Debian's game soundtracks) holds, per band, the 5/25/50/75/95 % points of the same aligned levels
over real tracks, and each reference track's deviation (for ranges along any direction).

**Descriptors.** For a vocabulary word w, r_w is the band response (dB) of the word's EQ at intensity 1
(``model.params_for(w, 1.0)``) at the track's sample rate. The score of a deviation d (dB per band) is
the weighted projection

    score_w = <d, r_w~>_W / <r_w~, r_w~>_W,   r_w~ = r_w - (W-weighted mean of r_w),

with W = 1 / (reference spread^2 + 1 dB^2) per band, so bands where real music varies a lot count
less. Typical music scores 0, typical music with the word's EQ applied scores exactly 1 (a constant
level change does not count), the opposite EQ -1.

**Latent.** The audio is placed in the model's 32-d space by a learned linear audio encoder
(:func:`audio_encoder`: ridge regression from the band deviation to the latent, trained on the
reference tracks with the words' EQs applied at known intensities, the targets being the model's own
encodings of those EQs). ``benchmarks/eval_listening.py`` measured it against the parametric route
(fit a 5-band EQ to the deviation with :func:`daw_bridge.fit.fit_eq`, encode it): on held-out tracks
with held-out contributors' EQs the encoder places the audio nearer the true EQ's latent and names the
applied word more often (figures in ``benchmarks/results/eval_listening.txt``), and once trained (per
model and sample rate, well under a second) it costs microseconds per analysis instead of a fit.
"""

from __future__ import annotations

import json
import math
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.fft
from scipy import signal

from daw_bridge.audio import AudioError, integrated_loudness_lufs, read_audio, true_peak_dbtp
from daw_bridge.eq import GAIN_INDEX, GAIN_RANGE_DB, EQParams, responses_db, third_octave_centres_hz
from daw_bridge.errors import SemeqError

#: Gate of the long-term spectrum (dB): absolute (dBFS mean square) and relative to the gated mean.
GATE_ABSOLUTE_DB = -70.0
GATE_RELATIVE_DB = -20.0
#: Frequency resolution aimed at by the STFT (Hz per bin); the FFT length is the next power of 2.
TARGET_BIN_HZ = 3.0
#: Half a third of an octave: band edges are centre * 2^(+-1/6).
HALF_BAND_OCTAVES = 1.0 / 6.0
#: Frames transformed at once (bounds memory for long, high-rate, many-channel files).
FRAMES_PER_CHUNK = 32
#: Points per band used to average an EQ's response over a band (power mean).
RESPONSE_POINTS_PER_BAND = 9
#: Descriptor scores below this magnitude are not named in the summary.
SUMMARY_MIN_SCORE = 0.25
#: Words need this many examples (SAFE settings + Audealize contributors) to be named in a summary
#: or a blend (the long tail of the vocabulary has one or two contributors each).
MIN_NAMED_EXAMPLES = 8
#: Smallest RMS (dB) of a word's response counted as a real direction (flatter words score 0).
MIN_WORD_RMS_DB = 0.5

REFERENCE_FILE = "reference_balance.json"

#: Named regions of the spectrum used in plain sentences (Hz, lower edge inclusive).
REGIONS: tuple[tuple[str, float, float], ...] = (
    ("sub-bass", 0.0, 60.0),
    ("bass", 60.0, 250.0),
    ("low-mids", 250.0, 800.0),
    ("mids", 800.0, 2500.0),
    ("upper mids", 2500.0, 6000.0),
    ("highs", 6000.0, 1e9),
)


class AnalysisError(SemeqError):
    """The analysis cannot run (missing or broken reference statistics)."""

    code = "analysis"


# --- long-term spectrum -------------------------------------------------------------------------


@dataclass(frozen=True)
class BandSpectrum:
    """Gated long-term spectrum of a track in one-third-octave bands.

    ``power_db``: band power in dB relative to the total power of the valid bands (NaN where invalid).
    ``side_minus_mid_db``: side power minus mid power per band (dB), stereo only.
    ``active_fraction``: share of frames that passed the gate.
    """

    centres_hz: np.ndarray
    valid: np.ndarray
    power_db: np.ndarray
    side_minus_mid_db: np.ndarray | None
    active_fraction: float


def as_frames(samples: np.ndarray) -> np.ndarray:
    """Audio as a finite floating-point ``(frames, channels)`` array (float32 input stays float32:
    half the memory traffic, and ample precision for long-term spectra), or a clear :class:`AudioError`."""
    x = np.asarray(samples)
    if x.dtype.kind not in "fiu":
        raise AudioError(f"audio samples must be numbers, got {x.dtype}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise AudioError(f"audio must be (frames,) or (frames, channels), got shape {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise AudioError("the audio is empty (no samples)")
    if x.dtype.kind in "iu":
        x = x / float(np.iinfo(x.dtype).max)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise AudioError("the audio contains NaN or infinite samples; it cannot be analysed")
    return x


def _check_rate(sample_rate_hz: float) -> float:
    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, float, np.integer, np.floating)):
        raise AudioError(f"the sample rate must be a number of Hz, got {sample_rate_hz!r}")
    sr = float(sample_rate_hz)
    if not math.isfinite(sr) or sr < 4000.0 or sr > 768000.0:
        raise AudioError(f"the sample rate must be between 4000 and 768000 Hz, got {sample_rate_hz}")
    return sr


def band_edges_hz(centres_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges (Hz) of one-third-octave bands."""
    return centres_hz * 2.0 ** -HALF_BAND_OCTAVES, centres_hz * 2.0**HALF_BAND_OCTAVES


def band_spectrum(samples: np.ndarray, sample_rate_hz: float) -> BandSpectrum:
    """Gated long-term spectrum of ``samples`` ((frames,) or (frames, channels)) in 1/3-octave bands."""
    x = as_frames(samples)
    sr = _check_rate(sample_rate_hz)
    n, channels = x.shape
    nfft = int(2 ** math.ceil(math.log2(sr / TARGET_BIN_HZ)))
    hop = nfft // 2
    if n < nfft:
        x = np.concatenate([x, np.zeros((nfft - n, channels))])
        n = nfft
    x = np.ascontiguousarray(x)
    starts = np.arange(0, n - nfft + 1, hop)
    if starts[-1] + nfft < n:  # one last frame aligned with the end
        starts = np.append(starts, n - nfft)

    # Gate on each frame's mean square (all channels), from sums of squares per hop-long block.
    blocks = n // hop
    block_energy = np.einsum("ij,ij->i", x[: blocks * hop].reshape(blocks, -1), x[: blocks * hop].reshape(blocks, -1))
    frame_energy = np.append(block_energy[:-1] + block_energy[1:], 0.0)[: starts.size]
    if starts[-1] % hop:
        last = x[starts[-1] :]
        frame_energy[-1] = np.einsum("ij,ij->", last, last)
    frame_ms = frame_energy / (nfft * channels)
    with np.errstate(divide="ignore"):
        frame_db = 10.0 * np.log10(frame_ms)
    keep = frame_db > GATE_ABSOLUTE_DB
    if not np.any(keep):
        raise AudioError(
            f"the audio is silent (every part is below {GATE_ABSOLUTE_DB:g} dBFS); there is nothing to analyse"
        )
    keep &= frame_db > 10.0 * np.log10(np.mean(frame_ms[keep])) + GATE_RELATIVE_DB
    kept = starts[keep]

    # Stereo is transformed as mid (L+R) and side (L-R): |M|^2 + |S|^2 = 2 (|L|^2 + |R|^2).
    stereo = channels == 2
    window = signal.get_window("hann", nfft)
    per_channel = np.zeros((channels, nfft // 2 + 1))
    view = np.lib.stride_tricks.sliding_window_view(x, nfft, axis=0)  # (positions, channels, nfft)
    for i in range(0, kept.size, FRAMES_PER_CHUNK):
        frames = view[kept[i : i + FRAMES_PER_CHUNK]]
        if stereo:
            frames = np.stack([frames[:, 0] + frames[:, 1], frames[:, 0] - frames[:, 1]], axis=1)
        spec = scipy.fft.rfft((frames * window).astype(np.float32), axis=-1, overwrite_x=True)
        pairs = spec.view(np.float32)
        np.square(pairs, out=pairs)
        per_channel += pairs.sum(axis=0, dtype=np.float64).reshape(channels, -1, 2).sum(axis=-1)
    power = per_channel.sum(axis=0) / (2.0 if stereo else 1.0)

    centres = third_octave_centres_hz()
    nyquist = sr / 2.0
    valid = centres < nyquist
    lo, hi = band_edges_hz(centres)
    hi_cut = np.minimum(hi, nyquist)
    bin_hz = sr / nfft
    # Each bin covers [k - 1/2, k + 1/2] * bin_hz; integrate the piecewise-constant density.
    bin_edges = (np.arange(power.size + 1) - 0.5) * bin_hz

    def integrate(p: np.ndarray) -> np.ndarray:
        cum = np.concatenate([[0.0], np.cumsum(p)])
        part = np.interp(hi_cut, bin_edges, cum) - np.interp(lo, bin_edges, cum)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(valid, part * (hi - lo) / np.maximum(hi_cut - lo, 1e-12), np.nan)

    band_power = integrate(power)
    total = np.nansum(band_power)
    if not total > 0:
        raise AudioError("the audio has no energy in the audible bands (20 Hz - 20 kHz)")
    tiny = total * 1e-15
    power_db = 10.0 * np.log10(np.maximum(band_power, tiny) / total)
    side_minus_mid = None
    if stereo:
        mid, side = integrate(per_channel[0]), integrate(per_channel[1])
        side_minus_mid = 10.0 * np.log10(np.maximum(side, tiny) / np.maximum(mid, tiny))
    return BandSpectrum(
        centres_hz=centres,
        valid=valid,
        power_db=np.where(valid, power_db, np.nan),
        side_minus_mid_db=None if side_minus_mid is None else np.where(valid, side_minus_mid, np.nan),
        active_fraction=float(np.mean(keep)),
    )


def band_response_db(params: EQParams, sample_rate_hz: float, centres_hz: np.ndarray | None = None) -> np.ndarray:
    """An EQ's power-averaged magnitude response over each one-third-octave band (dB).

    Bands at or above Nyquist get NaN.
    """
    centres = third_octave_centres_hz() if centres_hz is None else np.asarray(centres_hz, dtype=float)
    return band_responses_db([params], sample_rate_hz, centres)[0]


def band_responses_db(params_list: list[EQParams], sample_rate_hz: float, centres_hz: np.ndarray) -> np.ndarray:
    """:func:`band_response_db` for many EQs at once, shape (len(params_list), bands)."""
    sr = float(sample_rate_hz)
    nyquist = sr / 2.0
    lo, hi = band_edges_hz(centres_hz)
    hi = np.minimum(hi, 0.999 * nyquist)
    offsets = np.linspace(0.0, 1.0, RESPONSE_POINTS_PER_BAND)
    grid = np.exp(np.log(lo)[:, None] + (np.log(np.maximum(hi, lo * 1.0001)) - np.log(lo))[:, None] * offsets)
    valid = centres_hz < nyquist
    out = np.full((len(params_list), centres_hz.size), np.nan)
    vectors = np.array([p.raw_vector() for p in params_list]).reshape(-1, 13)
    db = responses_db(vectors, grid[valid].ravel(), sr).reshape(len(params_list), -1, RESPONSE_POINTS_PER_BAND)
    out[:, valid] = 10.0 * np.log10(np.mean(10.0 ** (db / 10.0), axis=2))
    return out


# --- the reference --------------------------------------------------------------------------------


@dataclass(frozen=True)
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
        """Per-band weights of the descriptor projection: 1 / (spread^2 + 1 dB^2)."""
        return 1.0 / (self.spread_db**2 + 1.0)

    def range_db(self, low: int = 5, high: int = 95) -> tuple[np.ndarray, np.ndarray]:
        """The reference range as deviations from the median (dB): (lower, upper) per band."""
        return self.percentiles_db[low] - self.median_db, self.percentiles_db[high] - self.median_db

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Reference":
        try:
            centres = np.asarray(data["centres_hz"], dtype=float)
            pct = {int(k): np.asarray(v, dtype=float) for k, v in data["percentiles_db"].items()}
            sm = np.asarray(data.get("side_minus_mid_median_db", [np.nan] * centres.size), dtype=float)
            tracks = np.array(
                [[np.nan if v is None else v for v in row] for row in data["track_deviations_db"]], dtype=float
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisError(f"the reference balance file is malformed ({exc})") from None
        if centres.shape != third_octave_centres_hz().shape or not np.allclose(centres, third_octave_centres_hz(), rtol=1e-4) or set(pct) != {5, 25, 50, 75, 95}:
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


# --- words ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordCurves:
    """Every vocabulary word's band response at intensity 1 (dB), at one sample rate."""

    terms: tuple[str, ...]
    responses_db: np.ndarray  # (words, bands), NaN above Nyquist
    examples: np.ndarray  # how many settings / contributors stand behind each word
    params: tuple[EQParams, ...]  # each word's EQ at intensity 1

    @property
    def common(self) -> np.ndarray:
        """Words with enough data to be named in sentences and blends (bool per word)."""
        return self.examples >= MIN_NAMED_EXAMPLES


_curve_cache: "weakref.WeakKeyDictionary[Any, dict[float, WordCurves]]" = weakref.WeakKeyDictionary()
_curve_lock = threading.Lock()


def vocabulary_terms(model: Any) -> tuple[str, ...]:
    """The model's vocabulary as plain words (entries may be strings or records with ``term``)."""
    return tuple(v if isinstance(v, str) else v.term for v in model.vocabulary)


def word_curves(model: Any, sample_rate_hz: float) -> WordCurves:
    """Band responses of every vocabulary word at intensity 1 (cached per model and sample rate)."""
    sr = float(sample_rate_hz)
    with _curve_lock:
        per_model = _curve_cache.setdefault(model, {})
        if sr not in per_model:
            terms = vocabulary_terms(model)
            params = list(model.all_word_params())
            examples = np.array([getattr(v, "example_count", MIN_NAMED_EXAMPLES) for v in model.vocabulary])
            per_model[sr] = WordCurves(
                terms, band_responses_db(params, sr, third_octave_centres_hz()), examples, tuple(params)
            )
        return per_model[sr]


def projection_scores(
    deviation_db: np.ndarray, curves_db: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Weighted projection of a deviation onto each curve, normalised by the curve's own energy.

    ``deviation_db`` (bands,) or (n, bands); ``curves_db`` (words, bands); NaN bands are skipped.
    Returns (words,) or (n, words). A curve flatter than :data:`MIN_WORD_RMS_DB` scores 0.
    """
    d = np.atleast_2d(deviation_db)
    ok = np.all(np.isfinite(d), axis=0) & np.all(np.isfinite(curves_db), axis=0)
    w = weights[ok] / weights[ok].sum()
    c = curves_db[:, ok]
    c = c - (c @ w)[:, None]
    energy = (c**2) @ w
    scores = (d[:, ok] * w) @ c.T / np.maximum(energy, 1e-12)
    scores[:, energy < MIN_WORD_RMS_DB**2] = 0.0
    return scores[0] if np.ndim(deviation_db) == 1 else scores


# --- the audio encoder: band deviation -> latent -------------------------------------------------


#: Intensities at which every word's EQ is placed on every sampled reference track to train the encoder.
ENCODER_INTENSITIES = (-1.5, -0.75, 0.75, 1.5)
#: Ridge penalty per training example (inputs in dB).
ENCODER_RIDGE = 10.0


@dataclass(frozen=True)
class AudioEncoder:
    """A linear map from a band deviation (dB) to the model's latent space, learned from real music.

    Trained (ridge regression) on reference tracks with known EQs applied: input = a reference track's
    deviation + a word's EQ response at a known intensity (re-aligned), target = the model's encoding
    of that EQ. So the encoder learns to see the EQ through the natural variation of real music.
    """

    bands: np.ndarray  # bool: the bands it reads
    mean_db: np.ndarray
    matrix: np.ndarray  # (bands read, latent)
    mean_latent: np.ndarray

    def __call__(self, deviation_db: np.ndarray) -> np.ndarray:
        d = np.nan_to_num(np.asarray(deviation_db, dtype=float)[self.bands])
        return (d - self.mean_db) @ self.matrix + self.mean_latent


_encoder_cache: "weakref.WeakKeyDictionary[Any, dict[float, AudioEncoder]]" = weakref.WeakKeyDictionary()


def audio_encoder(model: Any, reference: Reference, sample_rate_hz: float) -> AudioEncoder:
    """The learned linear audio encoder for ``model`` at ``sample_rate_hz`` (trained once, cached).

    Deterministic (fixed seed). Word responses are scaled linearly in dB with the intensity (as the
    descriptor scores assume); the targets are the model's exact encodings of the scaled EQs.
    """
    sr = float(sample_rate_hz)
    with _curve_lock:
        cached = _encoder_cache.setdefault(model, {}).get(sr)
    if cached is not None:
        return cached
    curves = word_curves(model, sr)
    rng = np.random.default_rng(0)
    intensities = np.tile(ENCODER_INTENSITIES, len(curves.terms))
    words = np.repeat(np.arange(len(curves.terms)), len(ENCODER_INTENSITIES))
    tracks = reference.track_deviations_db[rng.integers(0, reference.track_deviations_db.shape[0], words.size)]
    x = tracks + intensities[:, None] * curves.responses_db[words]
    x = x - np.nanmedian(x, axis=1, keepdims=True)
    bands = np.all(np.isfinite(x), axis=0)
    # every word's EQ at every intensity (gains scaled and clipped as EQParams.scaled), encoded in one batch
    scaled = np.array([p.to_vector() for p in curves.params])[words]
    scaled[:, list(GAIN_INDEX)] = np.clip(scaled[:, list(GAIN_INDEX)] * intensities[:, None], *GAIN_RANGE_DB)
    z = model.encode_many(scaled)
    xs = x[:, bands]
    mean_db, mean_latent = xs.mean(axis=0), z.mean(axis=0)
    a = xs - mean_db
    matrix = np.linalg.solve(a.T @ a + ENCODER_RIDGE * words.size * np.eye(a.shape[1]), a.T @ (z - mean_latent))
    encoder = AudioEncoder(bands, mean_db, matrix, mean_latent)
    with _curve_lock:
        _encoder_cache[model][sr] = encoder
    return encoder


# --- the analysis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Descriptor:
    """A word's score (see the module docstring) and how much of the deviation it accounts for:
    ``explained_db`` = |score| x the weighted RMS of the word's curve (dB); ``common``: the word has
    enough data (:data:`MIN_NAMED_EXAMPLES`) to be named in sentences and blends."""

    term: str
    score: float
    explained_db: float = 0.0
    common: bool = True


@dataclass(frozen=True)
class Analysis:
    """What the analysis hears in a track (see the module docstring for every definition).

    Band arrays run over :func:`daw_bridge.eq.third_octave_centres_hz`; ``valid`` marks bands below
    Nyquist (the others are NaN). ``level_db`` is the track's aligned level, ``deviation_db`` its
    difference from the reference median. ``descriptors`` are sorted strongest first (the dB of the
    deviation each word accounts for, see :func:`descriptor_scores`).
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
    descriptors: tuple[Descriptor, ...]
    latent: np.ndarray
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

        bands = []
        for i, f in enumerate(self.centres_hz):
            bands.append(
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
                    "outside_reference_range": bool(
                        self.valid[i] and not (low[i] <= self.deviation_db[i] <= high[i])
                    ),
                    "side_minus_mid_db": None if self.side_minus_mid_db is None else num(self.side_minus_mid_db[i]),
                }
            )
        return {
            "loudness_lufs": num(self.loudness_lufs),
            "true_peak_dbtp": num(self.true_peak_dbtp),
            "duration_s": num(self.duration_s, 3),
            "sample_rate_hz": self.sample_rate_hz,
            "channels": self.channels,
            "active_fraction": num(self.active_fraction, 3),
            "bands": bands,
            "descriptors": [
                {"term": d.term, "score": num(d.score, 3), "explained_db": num(d.explained_db), "common": d.common}
                for d in self.descriptors
            ],
            "latent": [round(float(v), 4) for v in self.latent],
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


def describe(salient: list[Descriptor], regions: list[tuple[str, float]]) -> str:
    """One plain sentence: the most telling words with their scores, and the regions that stand out.

    ``salient``: descriptors in the order they should be named (see :func:`salient_descriptors`).
    """
    named = [d for d in salient if abs(d.score) >= SUMMARY_MIN_SCORE][:2]
    notable = sorted((r for r in regions if abs(r[1]) >= 1.5), key=lambda r: -abs(r[1]))[:2]
    details = ", ".join(f"{name} {abs(v):.1f} dB {'above' if v > 0 else 'below'} typical music" for name, v in notable)
    if not named:
        return "Close to typical music" + (f": {details}." if details else ": no region is more than 1.5 dB off.")
    words = " and ".join(
        f"{d.term if d.score > 0 else 'the opposite of ' + d.term} ({abs(d.score):.2f})" for d in named
    )
    words = words[0].upper() + words[1:]
    return f"{words}: {details}." if details else f"{words}."


def salient_descriptors(descriptors: tuple[Descriptor, ...], n: int = 2) -> list[Descriptor]:
    """The ``n`` common words that account for most of the deviation (the first common ones)."""
    return [d for d in descriptors if d.common][:n]


def analyze(
    samples: np.ndarray,
    sample_rate_hz: float,
    model: Any = None,
    reference: Reference | None = None,
) -> Analysis:
    """Analyse audio ``samples`` ((frames,) or (frames, channels), float) at ``sample_rate_hz`` (Hz).

    ``model``: a loaded semantic model (default: ``SemanticModel.load()``); ``reference``: the
    reference balance (default: :func:`load_reference`). Raises :class:`AudioError` for empty, silent
    or non-finite audio.
    """
    x = as_frames(samples)
    sr = _check_rate(sample_rate_hz)
    # loudness and true peak run beside the spectrum (scipy's filters and FFTs release the GIL)
    with ThreadPoolExecutor(max_workers=2) as pool:
        loudness = pool.submit(integrated_loudness_lufs, x, sr)
        true_peak = pool.submit(true_peak_dbtp, x)
        spectrum = band_spectrum(x, sr)
        loudness_lufs, true_peak_dbtp_value = float(loudness.result()), float(true_peak.result())
    ref = reference if reference is not None else load_reference()
    if model is None:
        from daw_bridge.semantic import SemanticModel

        model = SemanticModel.load()
    level, _ = align(spectrum.power_db, ref)
    deviation = level - ref.median_db
    descriptors = descriptor_scores(deviation, sr, model, ref)
    latent = audio_encoder(model, ref, sr)(deviation)
    summary = describe(salient_descriptors(descriptors), region_deviations_db(spectrum.centres_hz, deviation))
    return Analysis(
        loudness_lufs=loudness_lufs,
        true_peak_dbtp=true_peak_dbtp_value,
        duration_s=x.shape[0] / sr,
        sample_rate_hz=sr,
        channels=x.shape[1],
        active_fraction=spectrum.active_fraction,
        centres_hz=spectrum.centres_hz,
        valid=spectrum.valid,
        level_db=level,
        deviation_db=deviation,
        side_minus_mid_db=spectrum.side_minus_mid_db,
        reference=ref,
        descriptors=descriptors,
        latent=latent,
        summary=summary,
    )


def descriptor_scores(deviation_db: np.ndarray, sample_rate_hz: float, model: Any, reference: Reference) -> tuple[Descriptor, ...]:
    """Every vocabulary word's score for a deviation (dB per band), strongest first.

    Strongest = accounts for the most dB of the deviation (``explained_db``): a word whose EQ barely
    changes anything can reach a large score from a small deviation, and is not what a listener hears.
    """
    curves = word_curves(model, sample_rate_hz)
    weights = reference.weights()
    scores = projection_scores(deviation_db, curves.responses_db, weights)
    ok = np.isfinite(deviation_db) & np.all(np.isfinite(curves.responses_db), axis=0)
    w = weights[ok] / weights[ok].sum()
    c = curves.responses_db[:, ok]
    c = c - (c @ w)[:, None]
    explained = np.abs(scores) * np.sqrt((c**2) @ w)
    order = np.argsort(-explained, kind="stable")
    return tuple(
        Descriptor(curves.terms[i], float(scores[i]), float(explained[i]), bool(curves.common[i])) for i in order
    )


def deviation_to_params(deviation_db: np.ndarray, sample_rate_hz: float, weights: np.ndarray | None = None) -> EQParams:
    """The 5-band EQ whose band response best matches a deviation (dB per band; NaN bands skipped).

    ``weights`` (per band) weight the fit, e.g. :meth:`Reference.weights` so that bands where real
    music varies a lot count less.
    """
    from daw_bridge.fit import fit_eq

    centres = third_octave_centres_hz()
    ok = np.isfinite(deviation_db)
    target = np.clip(deviation_db[ok], -12.0, 12.0)
    w = None if weights is None else np.asarray(weights, dtype=float)[ok]
    return fit_eq(centres[ok], target, sample_rate_hz=max(float(sample_rate_hz), 8000.0), weights=w).params


def analyze_file(path: str | os.PathLike, model: Any = None) -> Analysis:
    """Read an audio file (any format :func:`daw_bridge.audio.read_audio` reads) and analyse it."""
    audio = read_audio(path)
    return analyze(audio.samples, audio.sample_rate_hz, model=model)
