"""Small SAFE-DB- and Audealize-shaped data sets made by the tests (nothing read from ``../shared``).

The layouts follow ``../shared/README.md``: SAFE's CSV has 25 columns per row (id, descriptor as typed,
contributor, two flags, the 13 EQ parameters with unsorted peaks, six free-text columns, a hash);
Audealize's JSON is a list of objects with ``word``, ``lang``, ``settings`` (40 numbers),
``agreement``, ``num``, ``x``, ``y``. The values are generated from simple engineering shapes
(a warm setting lifts the low mids and dips the top, a bright one lifts a high shelf, ...) with
random spread per contributor, plus the junk the real files contain (test rows, placeholders,
phrases, Spanish words).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

# Audealize player centres (Hz), the same published list the product uses.
CENTRES_HZ = np.array([20, 50, 83, 120, 161, 208, 259, 318, 383, 455, 537, 628, 729, 843, 971, 1114, 1273, 1452,
                       1652, 1875, 2126, 2406, 2719, 3070, 3462, 3901, 4392, 4941, 5556, 6244, 7014, 7875, 8839,
                       9917, 11124, 12474, 13984, 15675, 17566, 19682], dtype=float)

#: SAFE-shaped settings: word -> (low shelf dB, Hz), (peak dB, Hz, Q), (high shelf dB, Hz).
SAFE_SHAPES = {
    "warm": ((3.0, 200.0), (3.0, 250.0, 0.9), (-3.0, 6000.0)),
    "bright": ((-1.0, 150.0), (1.0, 3000.0, 1.0), (6.0, 5000.0)),
    "muddy": ((1.0, 120.0), (6.0, 300.0, 1.2), (-1.0, 8000.0)),
    "boomy": ((2.0, 90.0), (6.0, 110.0, 1.4), (0.0, 8000.0)),
    "thin": ((-6.0, 200.0), (-2.0, 150.0, 1.0), (1.0, 6000.0)),
    "happy": ((-1.0, 100.0), (2.0, 2000.0, 0.7), (3.0, 8000.0)),
}
#: Audealize-shaped curves: word -> (centre Hz, width octaves, peak height) of a bump on a 40-band curve.
AUDEALIZE_SHAPES = {
    "warm": (250.0, 2.0, 1.0), "bright": (9000.0, 3.0, 1.0), "harsh": (3200.0, 1.5, 1.0),
    "muddy": (300.0, 1.5, 1.0), "boomy": (110.0, 1.2, -1.0),  # the crowd disagrees with the lexicon here
    "taco": (1200.0, 1.0, -1.0), "happy": (4000.0, 3.0, 1.0), "flat": (1000.0, 2.0, 0.6),
}


def write_safe(folder: Path, people: int = 8, per_person: int = 4, seed: int = 0) -> Path:
    """Write ``folder/safe-db/SAFEEqualiserUserData.csv``; return ``folder``."""
    rng = np.random.default_rng(seed)
    rows, entry = [], 0
    for person in range(people):
        contributor = f"contrib{person + 1:03d}"
        for word, ((ls_g, ls_f), (p_g, p_f, p_q), (hs_g, hs_f)) in SAFE_SHAPES.items():
            for k in range(per_person if word in ("warm", "bright") else 1):
                jitter = rng.normal(0.0, 1.0, 6)
                peaks = [(p_g + jitter[0], p_f * 2 ** (0.2 * jitter[1]), p_q),
                         (0.5 * jitter[2], 1000.0, 1.0), (0.5 * jitter[3], 2500.0, 1.0)]
                rng.shuffle(peaks)  # SAFE's peaks are not ordered by frequency
                typed = word.capitalize() + " " if k % 2 else word  # case and stray spaces, as typed
                params = [ls_g + jitter[4], ls_f] + [x for p in peaks for x in p] + [hs_g + jitter[5], hs_f]
                rows.append([str(entry), typed, contributor, "1", "1", *[f"{x:.3f}" for x in params],
                             "", "", "", "", "", "", f"hash{entry}"])
                entry += 1
        for junk in ("test", "re27", "warm and present"):
            rows.append([str(entry), junk, contributor, "1", "1", *(["0", "100", "0", "500", "1", "0", "1000", "1",
                                                                     "0", "2000", "1", "0", "8000"]),
                         "", "", "", "", "", "", f"hash{entry}"])
            entry += 1
    path = Path(folder) / "safe-db" / "SAFEEqualiserUserData.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return Path(folder)


def audealize_curve(centre_hz: float, width_oct: float, height: float) -> list[float]:
    """A 40-band relative curve: a Gaussian bump (in octaves) of ``height`` at ``centre_hz``."""
    octaves = np.log2(CENTRES_HZ / centre_hz)
    return [round(float(x), 4) for x in height * np.exp(-0.5 * (octaves / (width_oct / 2.0)) ** 2)]


def write_audealize(folder: Path) -> Path:
    """Write ``folder/audealize/eqdescriptors.json`` (English words plus one Spanish); return ``folder``."""
    items = [{"word": w, "lang": "English", "settings": audealize_curve(*shape), "agreement": 0.6, "num": 4,
              "x": 0.0, "y": 0.0} for w, shape in AUDEALIZE_SHAPES.items()]
    items.append({"word": "cálido", "lang": "Spanish", "settings": audealize_curve(250.0, 2.0, 1.0),
                  "agreement": 0.5, "num": 3, "x": 0.0, "y": 0.0})
    path = Path(folder) / "audealize" / "eqdescriptors.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items), encoding="utf-8")
    return Path(folder)


def write_crowd_data(folder: Path) -> Path:
    """Both data sets in ``folder`` (the layout ``semeq train --data`` reads)."""
    write_safe(folder)
    return write_audealize(folder)
