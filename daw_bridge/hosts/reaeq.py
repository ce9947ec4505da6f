"""REAPER's ReaEQ: the engine's 5-band EQ as ReaEQ bands, and a push over REAPER's own OSC surface.

Facts used (``../shared/docs/reaper-and-osc-facts.md``; "community" = measured by users, not in
REAPER's SDK):

* Band types, two enumerations. ``TrackFX_SetEQParam`` bandtype (SDK): low shelf 1, band 2,
  high shelf 4, with ``bandidx`` counting within its type. ``BANDTYPEx`` named config codes (Cockos,
  OSARA issue 543): low shelf 0, high shelf 1, band (peak) 8.
* Normalized frequency (community): ``f_hz = 20 + 23980 * (401**n - 1) / 400`` (20 Hz .. 24 kHz).
* Normalized gain (community): amplitude linear and piecewise, 0.5 = 0 dB; below 0 dB
  ``amp = 2 n``, above ``amp = 1 + (n - 0.5) * 2 * (10**(12/20) - 1)`` (+12 dB at 1.0).
* Bandwidth in octaves from Q: :func:`daw_bridge.layout.octaves_from_q`; shelves use the engine's
  :data:`~daw_bridge.eq.SHELF_Q` (1.90 octaves). The normalized bandwidth mapping is unknown, so
  ``bw_norm`` is ``None`` and ``bw_norm_known`` false: scripts set BW in octaves
  (``TrackFX_SetEQParam`` paramtype 2, ``isnorm=false``) and read it back.

ReaEQ's filters are commonly approximated by RBJ biquads (unverified); the engine's response is that
approximation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from daw_bridge.errors import SemeqError
from daw_bridge.hosts.base import Host, HostMapping, TargetField
from daw_bridge.layout import BANDS, octaves_from_q

if TYPE_CHECKING:
    from daw_bridge.eq import EQParams

#: ReaEQ's normalized frequency range (Hz) and its curve constant.
REAEQ_FREQ_RANGE_HZ = (20.0, 24000.0)
_FREQ_CURVE = 401.0
#: Gain (dB) at normalized 1.0.
REAEQ_MAX_GAIN_DB = 12.0
_GAIN_SLOPE = 2.0 * (10.0 ** (REAEQ_MAX_GAIN_DB / 20.0) - 1.0)
#: Widest bandwidth (octaves) ReaEQ is believed to hold (one community measurement, unverified;
#: the REAPER scripts check the real range through the displayed values).
REAEQ_MAX_BW_OCT = 4.0

#: ``TrackFX_SetEQParam`` band types (SDK) and ``BANDTYPEx`` codes (Cockos), per engine band kind.
EQ_BANDTYPE = {"low_shelf": 1, "peak": 2, "high_shelf": 4}
BANDTYPE_CODE = {"low_shelf": 0, "peak": 8, "high_shelf": 1}

#: REAPER's OSC control surface: default listening port, and the native-unit (``f``) patterns of
#: the default pattern file that drive the track's ReaEQ (``@`` = track number, then band index).
REAPER_OSC_PORT = 8000
_OSC_BAND_PATH = {
    "low_shelf": "/track/{track}/fxeq/loshelf",
    "peak": "/track/{track}/fxeq/band/{idx}",
    "high_shelf": "/track/{track}/fxeq/hishelf",
}


def freq_norm(freq_hz: float) -> float:
    """Frequency (Hz, 20 .. 24000) -> ReaEQ normalized value 0..1."""
    lo, hi = REAEQ_FREQ_RANGE_HZ
    return math.log(1.0 + (freq_hz - lo) * (_FREQ_CURVE - 1.0) / (hi - lo)) / math.log(_FREQ_CURVE)


def freq_hz_from_norm(norm: float) -> float:
    """ReaEQ normalized frequency 0..1 -> Hz."""
    lo, hi = REAEQ_FREQ_RANGE_HZ
    return lo + (hi - lo) * (_FREQ_CURVE**norm - 1.0) / (_FREQ_CURVE - 1.0)


def gain_norm(gain_db: float) -> float:
    """Gain (dB, up to +12) -> ReaEQ normalized value (0 = -inf dB, 0.5 = 0 dB, 1 = +12 dB)."""
    amp = 10.0 ** (gain_db / 20.0)
    return amp / 2.0 if amp <= 1.0 else 0.5 + (amp - 1.0) / _GAIN_SLOPE


def gain_db_from_norm(norm: float) -> float:
    """ReaEQ normalized gain 0..1 -> dB (``-inf`` at 0)."""
    amp = 2.0 * norm if norm <= 0.5 else 1.0 + (norm - 0.5) * _GAIN_SLOPE
    return 20.0 * math.log10(amp) if amp > 0 else -math.inf


def _band_name(kind: str, position: int) -> str:
    """ReaEQ's default band names: "Low Shelf", "Band 2", ..., "High Shelf 5" (1-based position)."""
    if kind == "low_shelf":
        return "Low Shelf" if position == 1 else f"Low Shelf {position}"
    return f"Band {position}" if kind == "peak" else f"High Shelf {position}"


def _band_slots() -> tuple[tuple[int, str, str, int, int, int], ...]:
    """Per band of the layout (:data:`daw_bridge.layout.BANDS`): position, name, kind, ``eq_bandtype``,
    ``eq_bandidx`` (counted within its type) and ``bandtype_code``: what no EQ changes, built once."""
    slots, index_in_type = [], {}
    for position, slot in enumerate(BANDS):
        idx = index_in_type.get(slot.kind, 0)
        index_in_type[slot.kind] = idx + 1
        slots.append((position, _band_name(slot.kind, position + 1), slot.kind, EQ_BANDTYPE[slot.kind], idx,
                      BANDTYPE_CODE[slot.kind]))
    return tuple(slots)


_SLOTS = _band_slots()


def map_eq(params: EQParams, sample_rate_hz: float = 48000.0) -> HostMapping:
    """The five ReaEQ bands for ``params`` (block ``{"bands": [...], "bw_norm_known": False}``).

    Each band: ``band`` (0-based position), ``name``, ``kind``, ``eq_bandtype`` and ``eq_bandidx``
    (``TrackFX_SetEQParam``), ``bandtype_code`` (``BANDTYPEx``), ``freq_hz``, ``gain_db``, ``bw_oct``,
    ``q``, ``freq_norm``, ``gain_norm``, ``bw_norm`` (None: unknown). ``sample_rate_hz`` is the
    project's rate, used only to warn about bands at or above its Nyquist frequency.
    """
    bands, warnings = [], []
    nyquist = sample_rate_hz / 2.0
    for (position, name, kind, bandtype, idx, code), band in zip(_SLOTS, params.bands()):
        bw_oct = octaves_from_q(band.q)
        bands.append(
            {
                "band": position,
                "name": name,
                "kind": kind,
                "eq_bandtype": bandtype,
                "eq_bandidx": idx,
                "bandtype_code": code,
                "freq_hz": band.freq_hz,
                "gain_db": band.gain_db,
                "bw_oct": bw_oct,
                "q": band.q,
                "freq_norm": freq_norm(band.freq_hz),
                "gain_norm": gain_norm(band.gain_db),
                "bw_norm": None,
            }
        )
        if band.gain_db != 0.0 and band.freq_hz >= nyquist:
            warnings.append(
                f"{name} at {band.freq_hz:g} Hz is at or above the Nyquist frequency ({nyquist:g} Hz) of a "
                f"{sample_rate_hz:g} Hz project; ReaEQ cannot play it as designed"
            )
        if kind == "peak" and band.gain_db != 0.0 and bw_oct > REAEQ_MAX_BW_OCT:
            warnings.append(
                f"{name} is {bw_oct:.2f} octaves wide (Q {band.q:g}); ReaEQ is believed to hold "
                f"at most {REAEQ_MAX_BW_OCT:g} octaves, so REAPER may refuse it"
            )
    return HostMapping({"bands": bands, "bw_norm_known": False}, tuple(warnings))


def osc_messages(params: EQParams, track: int = 1) -> list[tuple[str, float]]:
    """The ``(address, value)`` pairs that set ReaEQ on ``track`` through REAPER's default OSC patterns.

    Per band ``.../freq/hz`` (Hz), ``.../gain/db`` (dB) and ``.../q/oct`` (bandwidth in octaves), for
    the low shelf (``fxeq/loshelf``), the three peaks (``fxeq/band/<i>``, ``i`` = 0, 1, 2 counted
    within the band type like ``eq_bandidx``; the pattern file's index base is unverified) and the
    high shelf (``fxeq/hishelf``).
    """
    messages = []
    for b in map_eq(params).block["bands"]:
        base = _OSC_BAND_PATH[b["kind"]].format(track=track, idx=b["eq_bandidx"])
        messages += [(f"{base}/freq/hz", b["freq_hz"]), (f"{base}/gain/db", b["gain_db"]), (f"{base}/q/oct", b["bw_oct"])]
    return messages


def push_osc(
    params: EQParams, address: str = "127.0.0.1", port: int = REAPER_OSC_PORT, track: int = 1, fx: int = 1
) -> list[tuple[str, float]]:
    """Send ``params`` to REAPER's own OSC control surface (UDP); returns the messages sent.

    REAPER must have an OSC surface enabled (Preferences > Control/OSC/web, default pattern file,
    listening on ``port``). ``track`` is REAPER's OSC track number (relative to the surface's bank,
    0 = master). The ``fxeq`` patterns act on the track's first ReaEQ (REAPER inserts one if the
    track has none), so ``fx`` can only be 1; setting band types or adding bands is not possible over
    OSC: the track's ReaEQ must already have a low shelf, three bands and a high shelf. UDP does not
    confirm delivery.
    """
    from pythonosc.udp_client import SimpleUDPClient

    if isinstance(track, bool) or not isinstance(track, int) or track < 0:
        raise SemeqError(f"REAPER track number must be a whole number from 0 (master) up, got {track!r}", "bad_params")
    if fx != 1:
        raise SemeqError(
            f"REAPER's OSC EQ patterns drive the track's first ReaEQ only; fx must be 1, got {fx!r}", "bad_params"
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SemeqError(f"REAPER OSC port must be a whole number 1..65535, got {port!r}", "bad_params")
    messages = osc_messages(params, track)
    try:
        client = SimpleUDPClient(address, port)
        for path, value in messages:
            client.send_message(path, float(value))
    except OSError as exc:
        raise SemeqError(f"could not send OSC to REAPER at {address}:{port}: {exc}", "push_failed") from None
    return messages


def _push(params: EQParams, sample_rate_hz: float, address: str, port: int, track: int, fx: int) -> list:
    """:func:`push_osc` in the host protocol's form (REAPER's surface takes no sample rate)."""
    return push_osc(params, address, port, track, fx)


HOST = Host(
    name="reaper",
    block="reaeq",
    target=(
        TargetField("track", 0, "REAPER track number (0 = master)"),
        TargetField("fx", 1, "REAPER fx number on the track (1-based; the OSC patterns reach the first ReaEQ only)"),
    ),
    default_osc=f"127.0.0.1:{REAPER_OSC_PORT}",
    map_eq=map_eq,
    push=_push,
    doc="REAPER's ReaEQ (five bands; pushed through REAPER's own OSC surface, fxeq patterns)",
)
