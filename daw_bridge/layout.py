"""The EQ's layout, in one place: five bands (SAFE-DB order), the 13-vector and its JSON names.

A low shelf, three peaks and a high shelf. The 13-vector is, band by band, gain (dB), frequency
(Hz) and, for peaks only, Q: ``[ls_gain, ls_freq, p1_gain, p1_freq, p1_q, p2_..., p3_..., hs_gain,
hs_freq]``. Its JSON names are :data:`PARAM_NAMES`. Hosts and the REAPER scripts take a peak's
width as a bandwidth in octaves; :func:`octaves_from_q` and :func:`q_from_octaves` convert (the RBJ
cookbook relation ``1/Q = 2 sinh(ln(2)/2 * BW)``).

Pure standard library: every layer (DSP, model, hosts, doors, the light command-line client) may
import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BandSlot:
    """One band of the layout: where its values sit in the 13-vector and how it is named.

    ``key`` prefixes its JSON names (``low_shelf`` -> ``low_shelf_gain_db``); ``kind`` is
    ``low_shelf``, ``peak`` or ``high_shelf``; ``label`` is for people ("peak 2"); ``q_index`` is
    None for shelves (they have a fixed slope, :data:`daw_bridge.eq.SHELF_Q`).
    """

    key: str
    kind: str
    label: str
    gain_index: int
    freq_index: int
    q_index: int | None

    @property
    def indices(self) -> tuple[int, ...]:
        """The band's entries of the 13-vector: gain, frequency and (peaks) Q."""
        return (self.gain_index, self.freq_index) + (() if self.q_index is None else (self.q_index,))

    @property
    def names(self) -> tuple[str, ...]:
        """The band's JSON names, in vector order."""
        return (f"{self.key}_gain_db", f"{self.key}_freq_hz") + (() if self.q_index is None else (f"{self.key}_q",))


#: The five bands in processing order.
BANDS: tuple[BandSlot, ...] = (
    BandSlot("low_shelf", "low_shelf", "low shelf", 0, 1, None),
    BandSlot("peak1", "peak", "peak 1", 2, 3, 4),
    BandSlot("peak2", "peak", "peak 2", 5, 6, 7),
    BandSlot("peak3", "peak", "peak 3", 8, 9, 10),
    BandSlot("high_shelf", "high_shelf", "high shelf", 11, 12, None),
)
#: Number of values in an EQ vector.
N_PARAMS = 13
#: The 13 JSON names in vector order.
PARAM_NAMES: tuple[str, ...] = tuple(name for band in BANDS for name in band.names)
#: Index of every gain in the 13-vector (the entries an intensity scales).
GAIN_INDEX: tuple[int, ...] = tuple(b.gain_index for b in BANDS)
#: Index of every frequency in the 13-vector.
FREQ_INDEX: tuple[int, ...] = tuple(b.freq_index for b in BANDS)
#: Index of every peak Q in the 13-vector.
Q_INDEX: tuple[int, ...] = tuple(b.q_index for b in BANDS if b.q_index is not None)
#: Start index of each peak's (gain, freq, Q) triple.
PEAK_STARTS: tuple[int, ...] = tuple(b.gain_index for b in BANDS if b.kind == "peak")
#: People's names of the bands, in order.
BAND_LABELS: tuple[str, ...] = tuple(b.label for b in BANDS)

assert len(PARAM_NAMES) == N_PARAMS and sorted(GAIN_INDEX + FREQ_INDEX + Q_INDEX) == list(range(N_PARAMS))


def octaves_from_q(q: float) -> float:
    """Peak quality factor -> bandwidth in octaves, ``(2/ln 2) * asinh(1/(2 Q))``."""
    return 2.0 / math.log(2.0) * math.asinh(1.0 / (2.0 * q))


def q_from_octaves(bw_oct: float) -> float:
    """Bandwidth in octaves -> peak quality factor, ``1 / (2 sinh(ln(2)/2 * BW))`` (inverse of
    :func:`octaves_from_q`; equal to ``2**(BW/2) / (2**BW - 1)``)."""
    return 1.0 / (2.0 * math.sinh(math.log(2.0) / 2.0 * bw_oct))
