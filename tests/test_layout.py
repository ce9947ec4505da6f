"""The EQ's layout in one place: the 13-vector, its names, the bands, and Q <-> octaves."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest

from daw_bridge import layout
from daw_bridge.eq import EQParams


def test_the_layout_is_exactly_the_fields_of_the_eq():
    assert tuple(f.name for f in fields(EQParams)) == layout.PARAM_NAMES
    params = EQParams.from_vector(range(1, 14), clip=True)
    vector = params.raw_vector()
    for slot, band in zip(layout.BANDS, params.bands()):
        assert band.kind == slot.kind
        assert (band.gain_db, band.freq_hz) == (vector[slot.gain_index], vector[slot.freq_index])
        if slot.q_index is not None:
            assert band.q == vector[slot.q_index]
        assert all(getattr(params, name) == vector[i] for name, i in zip(slot.names, slot.indices))


@pytest.mark.parametrize("q, octaves", [(math.sqrt(2), 1.0), (1 / math.sqrt(2), 1.8999), (4.3185, 1 / 3), (4 / 15, 4.0)])
def test_q_and_octaves_follow_the_rbj_cookbook(q, octaves):
    """RBJ Audio-EQ-Cookbook: 1/Q = 2 sinh(ln(2)/2 * BW); one octave is Q = sqrt(2); Ardour's ACE
    source writes the same relation as Q = 2**(BW/2) / (2**BW - 1) (4 octaves: Q = 4/15)."""
    assert layout.octaves_from_q(q) == pytest.approx(octaves, abs=1e-3)
    assert layout.q_from_octaves(octaves) == pytest.approx(q, rel=1e-3)
    assert layout.q_from_octaves(octaves) == pytest.approx(2 ** (octaves / 2) / (2**octaves - 1), rel=1e-12)
