"""Ardour's ACE EQ (``urn:ardour:a-eq``): an EQ in ACE's native units, and a push over Ardour's OSC.

ACE EQ has a low shelf, four peaks and a high shelf, each with an on/off switch, plus a master gain
and a global enable: 24 control inputs, listed in :data:`ACE_PARAMETERS` (index = the plug-in's
control-input index; Ardour's OSC parameter id is ``index + 1``).

How the engine's 5-band EQ (:mod:`daw_bridge.eq`, RBJ biquads) becomes ACE values:

* **Peaks** are RBJ peaking filters in both; ACE takes the bandwidth in octaves, related to Q by
  ``Q = 2**(BW/2) / (2**BW - 1)``, inverted here as ``BW = 2/ln 2 * asinh(1/(2 Q))``.
* **Shelves** have ACE's fixed Q of 0.7071 = the engine's :data:`~daw_bridge.eq.SHELF_Q`, but ACE's
  frequency is not the RBJ corner: an ACE low shelf at ``f`` equals an RBJ low shelf at
  ``f_rbj`` with ``tan(pi f_rbj/fs) = tan(pi f/fs) * sqrt(A)`` (high shelf: ``/ sqrt(A)``),
  ``A = 10**(G/40)``. The mapping inverts that, so the ACE curve equals the engine's exactly.
* The fourth peak is switched off (switch 0, gain 0), master gain is 0 dB, the other switches and
  the global enable are on.

ACE's ranges are 20..20000 Hz, -20..+20 dB and 0.1..4 octaves. Values outside are clamped, and the
answer then carries a warning with the largest difference (dB, 20 Hz..20 kHz) between what ACE
will do and the engine's curve. Not exactly reproducible (the engine's own ranges are 20..20000 Hz,
+-12 dB, Q 0.1..10):

* a peak with Q below 4/15 = 0.267 (wider than 4 octaves); e.g. +6 dB at Q 0.2 is off by 0.83 dB;
* a shelf whose remapped frequency leaves 20..20000 Hz: a low-shelf boost or a high-shelf cut of
  G dB with its corner below ``20 * 10**(G/80)`` Hz (23.8 Hz at 6 dB, 28.3 Hz at 12 dB), and a
  low-shelf cut or a high-shelf boost with its corner above 19.3 kHz (6 dB) or 18.5 kHz (12 dB)
  at 48 kHz (44.1 kHz: 19.6 / 19.2 kHz); e.g. +6 dB low shelf at 20 Hz is off by 0.99 dB.

Peaks up to the engine's Q 10 (0.144 octave) and every gain are within ACE's ranges. With the
shelf slope equal (Q 1/sqrt 2 in both), a reproducible EQ leaves no residual: the curves agree to
float precision.
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass

from typing import TYPE_CHECKING

from daw_bridge.errors import SemeqError
from daw_bridge.hosts.base import Host, HostMapping, TargetField
from daw_bridge.layout import octaves_from_q, q_from_octaves

if TYPE_CHECKING:  # numpy and the DSP load on first use: the host registry stays light to import
    import numpy as np

    from daw_bridge.eq import Band, EQParams

#: ACE EQ's plug-in URI in Ardour.
ACE_URI = "urn:ardour:a-eq"

#: ACE's ranges (from the plug-in's LV2 description).
ACE_FREQ_RANGE_HZ = (20.0, 20000.0)
ACE_GAIN_RANGE_DB = (-20.0, 20.0)
ACE_BW_RANGE_OCT = (0.1, 4.0)

#: Default address of Ardour's OSC surface.
ARDOUR_OSC_ADDRESS = "127.0.0.1"
ARDOUR_OSC_PORT = 3819


@dataclass(frozen=True)
class AceParameter:
    """One ACE control input: ``index`` (0-based), ``name`` (as Ardour shows it), range, default."""

    index: int
    name: str
    low: float
    high: float
    default: float


def _band_parameters() -> list[AceParameter]:
    params = [AceParameter(0, "Frequency L", *ACE_FREQ_RANGE_HZ, 160.0),
              AceParameter(1, "Gain L", *ACE_GAIN_RANGE_DB, 0.0)]
    for n, freq in zip(range(1, 5), (300.0, 1000.0, 2500.0, 6000.0)):
        base = 2 + 3 * (n - 1)
        params += [AceParameter(base, f"Frequency {n}", *ACE_FREQ_RANGE_HZ, freq),
                   AceParameter(base + 1, f"Gain {n}", *ACE_GAIN_RANGE_DB, 0.0),
                   AceParameter(base + 2, f"Bandwidth {n}", *ACE_BW_RANGE_OCT, 1.0)]
    params += [AceParameter(14, "Frequency H", *ACE_FREQ_RANGE_HZ, 9000.0),
               AceParameter(15, "Gain H", *ACE_GAIN_RANGE_DB, 0.0),
               AceParameter(16, "Master Gain", *ACE_GAIN_RANGE_DB, 0.0)]
    params += [AceParameter(17 + i, f"Filter {s}", 0.0, 1.0, 1.0) for i, s in enumerate("L1234H")]
    params.append(AceParameter(23, "Enable", 0.0, 1.0, 1.0))
    return params


#: The 24 control inputs of ACE EQ in index order.
ACE_PARAMETERS: tuple[AceParameter, ...] = tuple(_band_parameters())


def _shelf_scale(kind: str, gain_db: float) -> float:
    """Factor on ``tan(pi f/fs)`` from an ACE shelf frequency to the equal RBJ shelf's corner."""
    root_a = 10.0 ** (gain_db / 80.0)  # sqrt(A), A = 10**(G/40)
    return root_a if kind == "low_shelf" else 1.0 / root_a


def _warp(freq_hz: float, factor: float, sample_rate_hz: float) -> float:
    """``fs/pi * atan(tan(pi f/fs) * factor)`` (Hz): scales a frequency in the bilinear domain."""
    return sample_rate_hz / math.pi * math.atan(math.tan(math.pi * freq_hz / sample_rate_hz) * factor)


def ace_shelf_freq_hz(kind: str, rbj_freq_hz: float, gain_db: float, sample_rate_hz: float) -> float:
    """The ACE shelf frequency (Hz) whose curve equals an RBJ shelf (Q 1/sqrt 2) at ``rbj_freq_hz``."""
    return _warp(rbj_freq_hz, 1.0 / _shelf_scale(kind, gain_db), sample_rate_hz)


def rbj_shelf_freq_hz(kind: str, ace_freq_hz: float, gain_db: float, sample_rate_hz: float) -> float:
    """The RBJ corner (Hz) of the shelf ACE plays for a shelf set to ``ace_freq_hz``."""
    return _warp(ace_freq_hz, _shelf_scale(kind, gain_db), sample_rate_hz)


def _ace_bands(values: list[float], sample_rate_hz: float) -> list[Band]:
    """The RBJ bands ACE plays for the 24 control values (switched-off bands left out)."""
    from daw_bridge.eq import SHELF_Q, Band

    bands = []
    if values[17] > 0.5:
        f = rbj_shelf_freq_hz("low_shelf", values[0], values[1], sample_rate_hz)
        bands.append(Band("low_shelf", f, values[1], SHELF_Q))
    for n in range(4):
        if values[18 + n] > 0.5:
            base = 2 + 3 * n
            bands.append(Band("peak", values[base], values[base + 1], q_from_octaves(values[base + 2])))
    if values[22] > 0.5:
        f = rbj_shelf_freq_hz("high_shelf", values[14], values[15], sample_rate_hz)
        bands.append(Band("high_shelf", f, values[15], SHELF_Q))
    return bands


def ace_response_db(values: list[float], freqs_hz: np.ndarray, sample_rate_hz: float = 48000.0) -> np.ndarray:
    """Magnitude response (dB) of ACE EQ set to the 24 ``values`` at ``freqs_hz`` (Hz)."""
    import numpy as np

    from daw_bridge.eq import band_sos

    if values[23] <= 0.5:
        return np.zeros(len(freqs_hz))
    sections = [band_sos(b, sample_rate_hz) for b in _ace_bands(values, sample_rate_hz) if b.gain_db != 0.0]
    if not sections:
        return np.full(len(freqs_hz), float(values[16]))
    from scipy import signal  # only for a clamped EQ's warning: a plain answer never loads it

    _, h = signal.sosfreqz(np.array(sections), worN=np.asarray(freqs_hz, float), fs=sample_rate_hz)
    return 20.0 * np.log10(np.maximum(np.abs(h), 1e-12)) + values[16]


#: The defaults of the 24 inputs, and each input's (index, name) for the answer block: built once.
_DEFAULTS: tuple[float, ...] = tuple(p.default for p in ACE_PARAMETERS)
_INDEX_NAMES: tuple[tuple[int, str], ...] = tuple((p.index, p.name) for p in ACE_PARAMETERS)
#: Values that are already exact at the block's 6 decimals (switches, 0 dB, the defaults): round() skips them.
_ROUND_EXACT = frozenset({0.0, 1.0, *_DEFAULTS})
#: Control-input indices of each band: (frequency, gain) of the shelves, (frequency, gain, bandwidth) of peaks 1-3.
_SHELF_INPUTS = ((0, 1), (14, 15))
_PEAK_INPUTS = ((2, 3, 4), (5, 6, 7), (8, 9, 10))


def ace_values(params: EQParams, sample_rate_hz: float = 48000.0) -> tuple[list[float], list[str]]:
    """The 24 ACE control values for ``params`` and the names of the values that had to be clamped."""
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise SemeqError(f"sample rate must be a positive number of Hz, got {sample_rate_hz}", "bad_params")
    values = list(_DEFAULTS)
    clamped: list[str] = []
    # ACE's tan() prewarp needs a frequency below Nyquist as well as within its range.
    f_low, f_high = ACE_FREQ_RANGE_HZ[0], min(ACE_FREQ_RANGE_HZ[1], 0.49 * sample_rate_hz)
    g_low, g_high = ACE_GAIN_RANGE_DB
    bw_low, bw_high = ACE_BW_RANGE_OCT
    # (index, wanted, low, high, audible) of every value that is set from the EQ, clamped into range
    wanted: list[tuple[int, float, float, float, bool]] = []
    bands = params.bands()
    nyquist = sample_rate_hz / 2.0
    master_db = 0.0
    for band, (fi, gi) in zip((bands[0], bands[4]), _SHELF_INPUTS):
        if band.freq_hz >= nyquist:
            # The engine plays a shelf above Nyquist as its full gain (low) or nothing (high).
            master_db += band.gain_db if band.kind == "low_shelf" else 0.0
            values[gi] = 0.0
            continue
        audible = band.gain_db != 0.0
        wanted.append((fi, ace_shelf_freq_hz(band.kind, band.freq_hz, band.gain_db, sample_rate_hz), f_low, f_high, audible))
        wanted.append((gi, band.gain_db, g_low, g_high, True))
    for band, (fi, gi, bi) in zip(bands[1:4], _PEAK_INPUTS):
        if band.freq_hz >= nyquist:  # the engine leaves such a peak out
            values[gi] = 0.0
            continue
        audible = band.gain_db != 0.0  # a 0 dB peak is silent at any frequency and width
        wanted.append((fi, band.freq_hz, f_low, f_high, audible))
        wanted.append((gi, band.gain_db, g_low, g_high, True))
        wanted.append((bi, octaves_from_q(band.q), bw_low, bw_high, audible))
    for index, value, low, high, audible in wanted:
        kept = min(max(value, low), high)
        if kept != value and audible:
            clamped.append(f"{ACE_PARAMETERS[index].name} {value:.5g} -> {kept:.5g}")
        values[index] = kept
    values[12] = 0.0  # fourth peak: gain 0 and switched off
    values[16] = master_db
    values[17:23] = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    values[23] = 1.0
    return values, clamped


def map_eq(params: EQParams, sample_rate_hz: float = 48000.0) -> HostMapping:
    """``params`` as ACE EQ values: block = ``[{index, name, value}, ...]`` for all 24 inputs.

    ``warnings`` is empty when ACE plays exactly the engine's EQ; otherwise it names the clamped
    values and the largest resulting difference in dB between 20 Hz and 20 kHz.
    """
    values, clamped = ace_values(params, sample_rate_hz)
    block = [{"index": index, "name": name, "value": v if v in _ROUND_EXACT else round(v, 6)}
             for (index, name), v in zip(_INDEX_NAMES, values)]
    warnings: list[str] = []
    if clamped:
        import numpy as np

        from daw_bridge.eq import log_freq_grid, response_db

        # Unclamped values reproduce the engine exactly (tested); only a clamp costs accuracy.
        freqs = log_freq_grid(512)
        deviation_db = float(np.max(np.abs(ace_response_db(values, freqs, sample_rate_hz)
                                           - response_db(params, freqs, sample_rate_hz))))
        warnings.append(
            f"Ardour's ACE EQ cannot reproduce this EQ exactly ({'; '.join(clamped)}): its curve "
            f"differs by up to {deviation_db:.2f} dB between 20 Hz and 20 kHz."
        )
    return HostMapping(block=block, warnings=tuple(warnings))


def osc_messages(block: list[dict]) -> list[tuple[int, float]]:
    """``(OSC parameter id, value)`` pairs for an ``ardour`` block (parameter id = index + 1)."""
    return [(int(item["index"]) + 1, float(item["value"])) for item in block]


def push_osc(
    params: EQParams,
    sample_rate_hz: float = 48000.0,
    address: str = ARDOUR_OSC_ADDRESS,
    port: int = ARDOUR_OSC_PORT,
    strip: int = 1,
    plugin: int = 1,
) -> list[tuple[int, float]]:
    """Set ACE EQ on a running Ardour to ``params`` through Ardour's OSC surface.

    Sends ``/strip/plugin/parameter`` (types ``iiif``: strip id, plugin id, parameter id, value;
    ids 1-based as Ardour's OSC numbers them) for all 24 ACE inputs to ``address:port`` over UDP.
    ``sample_rate_hz`` is the Ardour session's rate (the shelf remap depends on it). Returns the
    ``(parameter id, value)`` pairs sent. UDP does not confirm delivery: Ardour must be running with
    its OSC surface enabled (see docs/ardour.md).
    """
    from pythonosc.osc_message_builder import OscMessageBuilder

    for label, value in (("strip", strip), ("plugin", plugin)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SemeqError(f"Ardour {label} id must be a whole number from 1 up, got {value!r}", "bad_params")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SemeqError(f"Ardour OSC port must be a whole number 1..65535, got {port!r}", "bad_params")
    messages = osc_messages(map_eq(params, sample_rate_hz).block)
    datagrams = []
    for param_id, value in messages:
        builder = OscMessageBuilder("/strip/plugin/parameter")
        for arg, kind in ((strip, "i"), (plugin, "i"), (param_id, "i"), (value, "f")):
            builder.add_arg(arg, kind)
        datagrams.append(builder.build().dgram)
    try:
        family, _, _, _, target = socket.getaddrinfo(address, port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            for datagram in datagrams:
                sock.sendto(datagram, target)
    except OSError as exc:
        raise SemeqError(f"could not send OSC to Ardour at {address}:{port}: {exc}", "push_failed") from None
    return messages


def _push(params: EQParams, sample_rate_hz: float, address: str, port: int, strip: int, plugin: int) -> list:
    """:func:`push_osc` in the host protocol's form."""
    return push_osc(params, sample_rate_hz, address, port, strip, plugin)


HOST = Host(
    name="ardour",
    block="ardour",
    target=(
        TargetField("strip", 1, "Ardour strip id (1-based)"),
        TargetField("plugin", 1, "Ardour plugin id on the strip (1-based)"),
    ),
    default_osc=f"{ARDOUR_OSC_ADDRESS}:{ARDOUR_OSC_PORT}",
    map_eq=map_eq,
    push=_push,
    doc="Ardour's ACE EQ (24 control inputs; pushed through Ardour's OSC surface, /strip/plugin/parameter)",
)
