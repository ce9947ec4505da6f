"""Build ``models/reference_balance.json``: the tonal balance of real mastered music.

Material: the game soundtracks Debian ships (:data:`PACKAGES`), fetched by
:func:`benchmarks.debian_music.fetch_packages` (``apt-get download`` + ``dpkg -x`` into a cache,
never committed). Only music is used: files under a ``music``/``cdtracks``/``audio`` folder, each
distinct file once (drascula links its tracks into one folder per language), at least
:data:`MIN_DURATION_S` long (jingles and stingers are left out).

Every fourth track of each package (sorted by path, positions 1, 5, 9, ...) is held out for
evaluation (``benchmarks/eval_listening.py``) and listed in the JSON; the rest make the reference.

Per track: the gated one-third-octave long-term spectrum of :func:`daw_bridge.analysis.band_spectrum`
(dB relative to the track's total power). The reference median is found by alternating (a) aligning
each track to the current median by its median offset and (b) taking the per-band median, exactly the
alignment :func:`daw_bridge.analysis.align` applies to an analysed track. Stored: the 5/25/50/75/95 %
points per band, the median side-to-mid ratio, and each reference track's deviation (0.1 dB).

Run: ``python -m tools.build_reference [--out models/reference_balance.json]``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.debian_music import fetch_packages
from daw_bridge.analysis import REFERENCE_FILE, band_spectrum
from daw_bridge.semantic.model import models_dir
from daw_bridge.audio import read_audio
from daw_bridge.eq import third_octave_centres_hz

PACKAGES = ("singularity-music", "nexuiz-music", "drascula-music", "supertux-data", "freedroidrpg-data")
#: Folder names that hold music (not sound effects or speech) in those packages.
MUSIC_FOLDERS = frozenset({"music", "cdtracks", "audio"})
#: Shorter files are jingles or stingers, not tracks.
MIN_DURATION_S = 30.0
#: Every HOLD_OUT_EVERY-th track of a package (from position HOLD_OUT_OFFSET) is held out.
HOLD_OUT_EVERY = 4
HOLD_OUT_OFFSET = 1
PERCENTILES = (5, 25, 50, 75, 95)
ALIGN_ITERATIONS = 8


@dataclass(frozen=True)
class Track:
    """A music file of a package: ``name`` is ``package:path inside the package``."""

    name: str
    path: Path


def music_tracks(packages=PACKAGES, cache_dir=None) -> list[Track]:
    """Distinct music files of ``packages`` of at least :data:`MIN_DURATION_S`, sorted by name."""
    import soundfile as sf

    found = fetch_packages(list(packages), cache_dir=cache_dir)
    tracks: dict[Path, Track] = {}
    for package, paths in found.items():
        for p in paths:
            real = Path(os.path.realpath(p))
            if real in tracks or not (MUSIC_FOLDERS & set(real.parent.parts[-2:])):
                continue
            try:
                if sf.info(str(real)).duration < MIN_DURATION_S:
                    continue
            except RuntimeError:
                continue
            rel = real.as_posix().split(f"/{package}/", 1)[-1]
            tracks[real] = Track(f"{package}:{rel}", real)
    return sorted(tracks.values(), key=lambda t: t.name)


def split_tracks(tracks: list[Track]) -> tuple[list[Track], list[Track]]:
    """(reference, held out): every :data:`HOLD_OUT_EVERY`-th track of each package is held out."""
    reference, held_out = [], []
    by_package: dict[str, list[Track]] = {}
    for t in tracks:
        by_package.setdefault(t.name.split(":", 1)[0], []).append(t)
    for items in by_package.values():
        for i, t in enumerate(sorted(items, key=lambda t: t.name)):
            (held_out if i % HOLD_OUT_EVERY == HOLD_OUT_OFFSET else reference).append(t)
    return sorted(reference, key=lambda t: t.name), sorted(held_out, key=lambda t: t.name)


def held_out_tracks(packages=PACKAGES, cache_dir=None) -> list[Track]:
    """The evaluation tracks (for benchmarks), same rule as the build."""
    return split_tracks(music_tracks(packages, cache_dir))[1]


def reference_statistics(power_db: np.ndarray, side_minus_mid_db: np.ndarray) -> dict:
    """Percentiles of aligned levels and per-track deviations from (tracks, bands) dB arrays."""
    median = np.nanmedian(power_db, axis=0)
    for _ in range(ALIGN_ITERATIONS):
        offsets = np.nanmedian(power_db - median, axis=1, keepdims=True)
        aligned = power_db - offsets
        median = np.nanmedian(aligned, axis=0)
    pct = np.nanpercentile(aligned, PERCENTILES, axis=0)
    deviations = aligned - pct[PERCENTILES.index(50)]

    def rounded(a: np.ndarray, nd: int) -> list:
        return [None if not np.isfinite(v) else round(float(v), nd) for v in a]

    return {
        "percentiles_db": {str(p): rounded(pct[i], 2) for i, p in enumerate(PERCENTILES)},
        "side_minus_mid_median_db": rounded(np.nanmedian(side_minus_mid_db, axis=0), 2),
        "track_deviations_db": [rounded(row, 1) for row in deviations],
    }


def build(out: Path, cache_dir=None) -> dict:
    tracks = music_tracks(cache_dir=cache_dir)
    reference, held_out = split_tracks(tracks)
    if len(reference) < 20:
        raise SystemExit(f"only {len(reference)} reference tracks found; expected far more")
    centres = third_octave_centres_hz()
    levels, widths, rates = [], [], []
    t0 = time.perf_counter()
    for t in reference:
        audio = read_audio(t.path)
        spec = band_spectrum(audio.samples, audio.sample_rate_hz)
        levels.append(spec.power_db)
        sm = spec.side_minus_mid_db
        widths.append(sm if sm is not None else np.full(centres.size, np.nan))
        rates.append(audio.sample_rate_hz)
    elapsed = time.perf_counter() - t0
    stats = reference_statistics(np.array(levels), np.array(widths))
    data = {
        "description": (
            "Tonal balance of real music: gated one-third-octave long-term spectra, dB relative to each "
            "track's total power, aligned by the median offset to the median; percentiles over tracks."
        ),
        "built": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "built_by": "tools/build_reference.py",
        "packages": list(PACKAGES),
        "centres_hz": [round(float(c), 3) for c in centres],
        "sample_rates_hz": sorted({int(r) for r in rates}),
        "reference_tracks": [t.name for t in reference],
        "held_out_tracks": [t.name for t in held_out],
        **stats,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=out.parent, prefix=".reference-", suffix=".json", delete=False) as f:
        json.dump(data, f, indent=1)
        tmp = f.name
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    print(f"{len(reference)} reference tracks, {len(held_out)} held out; spectra in {elapsed:.1f} s; wrote {out}")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=models_dir() / REFERENCE_FILE)
    parser.add_argument("--cache", type=Path, default=None, help="Debian music cache folder")
    args = parser.parse_args(argv)
    build(args.out, args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
