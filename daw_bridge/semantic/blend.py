"""Several words, one EQ: every word's move at its weight, one after the other, where it is asked,
minus what is kept.

"Warmer but less muddy" is the warm bell and the mud cut, as an engineer would make them: the
moves' bands when they fit the layout, else a fit of their summed response
(:func:`daw_bridge.fit.cascade`).

Where a word is asked ("clean up the low end", "more definition in the low end", "open up the top
end"): its move keeps only its bands that act in that region (:func:`only_in`); "clean up the low
end" cuts clear's 250 Hz and leaves its 2.5 kHz lift out.

What a request keeps ("warmer but keep the highs"): a kept word (a clause with keep, preserve,
retain, maintain) has weight 0 and its studio-lexicon entry names a region (Hz). Every band of the
other words' moves that acts there is taken out of it (:func:`keep_out`), so "warmer but keep the
highs" is the warm bell without warm's high-shelf dip:

* a peak whose centre lies in the region is dropped (one beside it stays: "keep the low end but less
  mud" still cuts at 260 Hz);
* a shelf that reaches into the region keeps the part of its range outside it, :data:`MARGIN_OCT`
  away from it (a band's skirt reaches that far): a high shelf below a kept region becomes a bell
  from its corner to half an octave below the region, with the same gain, when that span is at least
  :data:`MIN_SPAN_OCT` ("darker but keep the air": a cut from 2.4 to 5 kHz); otherwise its corner
  moves half an octave above the region, unless that is above :data:`HIGH_SHELF_TOP_HZ` (then it is
  dropped: "warmer but keep the highs"); low shelves the same way down;
* a move that acts only inside the kept region ("cut the mud without killing the body") is made
  half as deep and half as wide instead of disappearing.
"""

from __future__ import annotations

import math

from daw_bridge.eq import EQParams
from daw_bridge.fit import cascade
from daw_bridge.layout import BANDS, BandSlot, q_from_octaves

#: Distance (octaves) a changed shelf keeps from a kept region, and the narrowest bell left of a shelf.
MARGIN_OCT = 0.5
MIN_SPAN_OCT = 1.0 / 3.0
#: A high shelf moved above this corner (Hz), or a low shelf below :data:`LOW_SHELF_BOTTOM_HZ`,
#: would act where little music is: it is dropped instead.
HIGH_SHELF_TOP_HZ = 14000.0
LOW_SHELF_BOTTOM_HZ = 40.0


def _shelf_outside(kind: str, corner_hz: float, low_hz: float, high_hz: float) -> tuple[str, float, float] | None:
    """What is left of a shelf (``kind`` low_shelf | high_shelf, corner Hz) outside the kept region
    [``low_hz``, ``high_hz``] (module docstring): ("peak", centre Hz, width octaves), (kind, new corner
    Hz, 0), or None (nothing left). A shelf that does not reach the region is returned unchanged."""
    margin = 2.0 ** MARGIN_OCT
    if kind == "high_shelf":
        if high_hz <= corner_hz:
            return kind, corner_hz, 0.0
        edge = low_hz / margin
        if math.log2(edge / corner_hz) >= MIN_SPAN_OCT:
            return "peak", math.sqrt(corner_hz * edge), math.log2(edge / corner_hz)
        return (kind, high_hz * margin, 0.0) if high_hz * margin <= HIGH_SHELF_TOP_HZ else None
    if low_hz >= corner_hz:
        return kind, corner_hz, 0.0
    edge = high_hz * margin
    if math.log2(corner_hz / edge) >= MIN_SPAN_OCT:
        return "peak", math.sqrt(corner_hz * edge), math.log2(corner_hz / edge)
    return (kind, low_hz / margin, 0.0) if low_hz / margin >= LOW_SHELF_BOTTOM_HZ else None


def _left_out(slot: BandSlot, gain_db: float, freq_hz: float) -> str:
    """How a note names a band taken out of a move: "the -1.7 dB high shelf at 4878 Hz left out"."""
    return f"the {gain_db:+.1f} dB {'bell' if slot.kind == 'peak' else slot.label} at {freq_hz:.0f} Hz left out"


def keep_out(params: EQParams, low_hz: float, high_hz: float) -> tuple[EQParams, list[str]]:
    """``params`` with no band acting in [``low_hz``, ``high_hz``] (module docstring), and what changed
    in words ("the -1.7 dB high shelf at 4878 Hz left out"). Bands that become bells take free peak slots; a bell
    with no free slot left is dropped (said so)."""
    v = params.raw_vector()
    changes: list[str] = []
    free = [s for s in BANDS if s.kind == "peak" and v[s.gain_index] == 0.0]
    for slot in BANDS:
        gain, freq = v[slot.gain_index], v[slot.freq_index]
        if gain == 0.0:
            continue
        if slot.kind == "peak":
            if low_hz <= freq <= high_hz:
                v[slot.gain_index] = 0.0
                changes.append(_left_out(slot, gain, freq))
            continue
        left = _shelf_outside(slot.kind, freq, low_hz, high_hz)
        if left == (slot.kind, freq, 0.0):
            continue
        v[slot.gain_index] = 0.0
        name = slot.label
        if left is None or (left[0] == "peak" and not free):
            changes.append(_left_out(slot, gain, freq))
        elif left[0] == "peak":
            bell = free.pop(0)
            assert bell.q_index is not None  # a peak slot
            v[bell.gain_index], v[bell.freq_index], v[bell.q_index] = gain, left[1], q_from_octaves(left[2])
            changes.append(f"the {gain:+.1f} dB {name} at {freq:.0f} Hz made a bell at {left[1]:.0f} Hz "
                           f"({left[2]:.1f} octaves)")
        else:
            v[slot.gain_index], v[slot.freq_index] = gain, left[1]
            changes.append(f"the {gain:+.1f} dB {name} moved from {freq:.0f} to {left[1]:.0f} Hz")
    return EQParams.from_vector(v, clip=True), changes


def only_in(params: EQParams, low_hz: float, high_hz: float) -> tuple[EQParams, list[str]]:
    """``params`` keeping only the bands that act in [``low_hz``, ``high_hz``] widened by
    :data:`MARGIN_OCT` each side: a peak centred there, a low shelf whose corner lies above the
    region's bottom, a high shelf whose corner lies below its top ("clean up the low end" is clear's cut
    at 250 Hz without its 2.5 kHz lift); and what was left out, in words. When no band acts there the
    move is kept whole ("smoother highs": smooth's cut sits at 3 kHz) and the words say so."""
    margin = 2.0 ** MARGIN_OCT
    low, high = low_hz / margin, high_hz * margin
    v = params.raw_vector()
    out: list[str] = []
    for slot in BANDS:
        gain, freq = v[slot.gain_index], v[slot.freq_index]
        acts = (low <= freq <= high if slot.kind == "peak" else freq > low if slot.kind == "low_shelf" else freq < high)
        if gain != 0.0 and not acts:
            v[slot.gain_index] = 0.0
            out.append(_left_out(slot, gain, freq))
    kept = EQParams.from_vector(v, clip=True)
    if kept.is_flat and not params.is_flat:
        return params, ["none of its bands acts there, so it is applied whole"]
    return kept, out


def _gentler(params: EQParams) -> tuple[EQParams, list[str]]:
    """A move that acts only inside a kept region ("cut the mud without killing the body"): rather
    than nothing, the same move half as deep and, for bells, half as wide (Q doubled)."""
    v = params.raw_vector()
    for slot in BANDS:
        v[slot.gain_index] *= 0.5
        if slot.q_index is not None:
            v[slot.q_index] *= 2.0
    return EQParams.from_vector(v, clip=True), ["the move acts only there, so it is made half as deep and half as wide"]


def blend(moves: list[tuple[str, EQParams, tuple[float, float] | None]], kept: list[tuple[str, tuple[float, float]]],
          sample_rate_hz: float, freqs_hz) -> tuple[EQParams, list[str]]:
    """One EQ doing every move of ``moves`` ((word, EQ at its weight, the region it is asked in or
    None), ...), each kept to its region (:func:`only_in`), with the regions of ``kept`` ((word, (low
    Hz, high Hz)), ...) left alone (:func:`keep_out`); and a note per word whose move changed.
    ``sample_rate_hz`` and ``freqs_hz``: the grid a fit uses when the bands do not fit the layout."""
    notes, eqs = [], []
    for word, params, where in moves:
        if where is not None:
            params, said = only_in(params, *where)
            if said:
                notes.append(f"'{word}' only where asked ({where[0]:.0f}-{where[1]:.0f} Hz): " + "; ".join(said) + ".")
        eqs.append(params)
    for word, (low_hz, high_hz) in kept:
        changed = [keep_out(m, low_hz, high_hz) for m in eqs]
        changed = [(c if not c[0].is_flat or m.is_flat else _gentler(m)) for m, c in zip(eqs, changed)]
        eqs = [m for m, _ in changed]
        said = [c for _, cs in changed for c in cs]
        if said:
            notes.append(f"Kept '{word}' ({low_hz:.0f}-{high_hz:.0f} Hz): " + "; ".join(said) + ".")
    return cascade(eqs, sample_rate_hz, freqs_hz).params, notes
