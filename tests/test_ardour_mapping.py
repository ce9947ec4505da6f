"""ACE EQ mapping (daw_bridge.hosts.ardour) against an independent model of ACE's own filters.

The reference below is written from ACE EQ's source (Ardour's ``libs/plugins/a-eq.lv2/a-eq.c``), not
from the RBJ cookbook the engine uses: each band is a linear trapezoidal state-variable filter, i.e.
the bilinear transform with ``s = (z - 1) / (g (z + 1))``, ``g = tan(pi f0 / fs)`` of

* low shelf  ``(s^2 + k A s + A^2) / (s^2 + k s + 1)``,          ``k = 1 / 0.7071068``
* high shelf ``(A^2 s^2 + k A s + 1) / (s^2 + k s + 1)``
* peak       ``(s^2 + (A/q) s + 1) / (s^2 + s / (q A) + 1)``,   ``q = 2**(BW/2) / (2**BW - 1)``

with ``A = 10**(G/40)``, each band only when its switch is on, times the master gain. If the
mapping's shelf remap or Q -> bandwidth conversion were wrong, these curves would not meet the
engine's ``response_db``.
"""

from __future__ import annotations

import re
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage

from daw_bridge.eq import EQParams, response_db
from daw_bridge.errors import SemeqError
from daw_bridge.hosts.ardour import (
    ACE_PARAMETERS,
    map_eq,
    push_osc,
)
from daw_bridge.layout import octaves_from_q as q_to_bandwidth_oct, q_from_octaves as bandwidth_oct_to_q

GRID = np.geomspace(20.0, 20000.0, 700)
ACE_SHELF_Q = 0.7071068  # the constant in ACE's source


def ace_reference_db(block: list[dict], freqs_hz: np.ndarray, fs: float) -> np.ndarray:
    """|H| in dB of ACE EQ holding the values of an ``ardour`` block, per ACE's source."""
    v = {item["name"]: float(item["value"]) for item in block}
    z = np.exp(2j * np.pi * np.asarray(freqs_hz) / fs)
    h = np.ones_like(z)
    k = 1.0 / ACE_SHELF_Q

    def s_of(freq: float) -> np.ndarray:
        return (z - 1.0) / ((z + 1.0) * np.tan(np.pi * freq / fs))

    if v["Enable"] < 0.5:
        return np.zeros(len(z))
    if v["Filter L"] > 0.5:
        a, s = 10.0 ** (v["Gain L"] / 40.0), s_of(v["Frequency L"])
        h *= (s**2 + k * a * s + a**2) / (s**2 + k * s + 1.0)
    for n in "1234":
        if v[f"Filter {n}"] > 0.5:
            a, s = 10.0 ** (v[f"Gain {n}"] / 40.0), s_of(v[f"Frequency {n}"])
            bw = v[f"Bandwidth {n}"]
            q = 2.0 ** (bw / 2.0) / (2.0**bw - 1.0)
            h *= (s**2 + (a / q) * s + 1.0) / (s**2 + s / (q * a) + 1.0)
    if v["Filter H"] > 0.5:
        a, s = 10.0 ** (v["Gain H"] / 40.0), s_of(v["Frequency H"])
        h *= (a**2 * s**2 + k * a * s + 1.0) / (s**2 + k * s + 1.0)
    return 20.0 * np.log10(np.abs(h)) + v["Master Gain"]


def eq(ls_g=3.0, ls_f=120.0, p=((-2.0, 400.0, 1.2), (1.5, 2500.0, 2.0), (-3.0, 8000.0, 0.7)), hs_g=-4.0, hs_f=10000.0):
    return EQParams(ls_g, ls_f, *p[0], *p[1], *p[2], hs_g, hs_f)


def stated_deviation_db(warning: str) -> float:
    return float(re.search(r"up to ([0-9.]+) dB", warning).group(1))


# --- the block ------------------------------------------------------------------------------------


def test_block_lists_all_24_inputs_in_index_order_with_ace_names():
    block = map_eq(eq()).block
    assert [item["index"] for item in block] == list(range(24))
    names = [item["name"] for item in block]
    assert names[:2] == ["Frequency L", "Gain L"]
    assert names[2:5] == ["Frequency 1", "Gain 1", "Bandwidth 1"]
    assert names[14:17] == ["Frequency H", "Gain H", "Master Gain"]
    assert names[17:] == ["Filter L", "Filter 1", "Filter 2", "Filter 3", "Filter 4", "Filter H", "Enable"]
    assert all(isinstance(item["value"], float) for item in block)


def test_fourth_peak_is_off_master_is_0_db_and_everything_else_is_on():
    v = {item["name"]: item["value"] for item in map_eq(eq()).block}
    assert v["Filter 4"] == 0.0 and v["Gain 4"] == 0.0
    assert v["Master Gain"] == 0.0
    assert [v[f"Filter {n}"] for n in "L123H"] == [1.0] * 5 and v["Enable"] == 1.0


def test_peaks_keep_frequency_and_gain_and_get_bandwidth_in_octaves():
    v = {item["name"]: item["value"] for item in map_eq(eq()).block}
    assert (v["Frequency 1"], v["Gain 1"]) == (400.0, -2.0)
    assert (v["Frequency 3"], v["Gain 3"]) == (8000.0, -3.0)
    assert v["Bandwidth 1"] == pytest.approx(q_to_bandwidth_oct(1.2), abs=1e-6)


def test_bandwidth_q_relation_matches_ace_documentation():
    assert bandwidth_oct_to_q(1.0) == pytest.approx(1.41421, abs=1e-5)  # BW 1 -> Q 1.414
    assert bandwidth_oct_to_q(4.0) == pytest.approx(4.0 / 15.0)
    for q in (0.27, 0.5, 0.7071, 1.0, 2.0, 5.0, 10.0):
        assert bandwidth_oct_to_q(q_to_bandwidth_oct(q)) == pytest.approx(q, rel=1e-12)


def test_shelf_frequencies_are_remapped_by_sqrt_a_and_not_for_0_db():
    v = {item["name"]: item["value"] for item in map_eq(eq(ls_g=12.0, ls_f=400.0, hs_g=12.0, hs_f=2000.0)).block}
    root_a = 10.0 ** (12.0 / 80.0)
    # Far below Nyquist the digital remap is the analog one: low shelf f / sqrt(A), high f * sqrt(A).
    assert v["Frequency L"] == pytest.approx(400.0 / root_a, rel=1e-3)
    assert v["Frequency H"] == pytest.approx(2000.0 * root_a, rel=2e-2)
    flat_shelves = {item["name"]: item["value"] for item in map_eq(eq(ls_g=0.0, hs_g=0.0)).block}
    assert (flat_shelves["Frequency L"], flat_shelves["Frequency H"]) == (120.0, 10000.0)


# --- the response: ACE (independent model) == engine -----------------------------------------------


@pytest.mark.parametrize("fs", [48000.0, 44100.0, 96000.0])
@pytest.mark.parametrize(
    "params",
    [
        eq(),
        eq(ls_g=12.0, ls_f=60.0, hs_g=12.0, hs_f=12000.0),
        eq(ls_g=-12.0, ls_f=3000.0, hs_g=-12.0, hs_f=300.0),
        eq(p=((6.0, 90.0, 0.3), (-12.0, 1000.0, 10.0), (12.0, 15000.0, 4.0))),
        EQParams.flat(),
    ],
)
def test_ace_curve_equals_engine_within_0_01_db(params, fs):
    mapping = map_eq(params, fs)
    assert mapping.warnings == ()
    error = np.abs(ace_reference_db(mapping.block, GRID, fs) - response_db(params, GRID, fs))
    assert error.max() < 0.01


gain = st.floats(-12.0, 12.0, allow_nan=False)
freq = st.floats(20.0, 20000.0, allow_nan=False)
q_value = st.floats(0.1, 10.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(st.tuples(gain, freq, gain, freq, q_value, gain, freq, q_value, gain, freq, q_value, gain, freq))
def test_any_eq_is_exact_or_warns_with_the_true_deviation(values):
    params = EQParams(*values)
    mapping = map_eq(params)
    deviation = np.abs(ace_reference_db(mapping.block, GRID, 48000.0) - response_db(params, GRID, 48000.0)).max()
    for item, spec in zip(mapping.block, ACE_PARAMETERS):
        assert spec.low <= item["value"] <= spec.high, item
    if not mapping.warnings:
        assert deviation < 0.01
    else:
        (warning,) = mapping.warnings
        assert "ACE EQ cannot reproduce" in warning
        assert stated_deviation_db(warning) == pytest.approx(deviation, abs=0.02)


@pytest.mark.parametrize(
    "params, clamped",
    [
        (eq(p=((-2.0, 400.0, 0.15), (1.5, 2500.0, 2.0), (-3.0, 8000.0, 0.7))), "Bandwidth 1"),  # Q < 0.267
        (eq(ls_g=12.0, ls_f=22.0), "Frequency L"),  # remap below 20 Hz
        (eq(hs_g=12.0, hs_f=19500.0), "Frequency H"),  # remap above 20 kHz
        (eq(ls_g=-12.0, ls_f=19000.0), "Frequency L"),
        (eq(hs_g=-12.0, hs_f=25.0), "Frequency H"),
    ],
)
def test_unreproducible_eqs_are_named_with_their_deviation(params, clamped):
    (warning,) = map_eq(params).warnings
    assert clamped in warning
    deviation = np.abs(ace_reference_db(map_eq(params).block, GRID, 48000.0) - response_db(params, GRID, 48000.0)).max()
    assert deviation > 0.01
    assert stated_deviation_db(warning) == pytest.approx(deviation, abs=0.02)


def test_a_silent_band_never_warns():
    params = eq(p=((0.0, 400.0, 0.1), (1.5, 2500.0, 2.0), (-3.0, 8000.0, 0.7)), ls_g=0.0, ls_f=20.0)
    assert map_eq(params).warnings == ()


# --- OSC push --------------------------------------------------------------------------------------


def test_push_osc_sends_strip_plugin_parameter_iiif_for_every_input():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5.0)
        port = receiver.getsockname()[1]
        sent = push_osc(eq(), address="127.0.0.1", port=port, strip=3, plugin=2)
        datagrams = [receiver.recv(4096) for _ in range(len(sent))]
    block = map_eq(eq()).block
    assert sent == [(item["index"] + 1, item["value"]) for item in block]
    for datagram, (param_id, value) in zip(datagrams, sent):
        message = OscMessage(datagram)
        assert message.address == "/strip/plugin/parameter"
        assert b",iiif" in datagram
        assert message.params[:3] == [3, 2, param_id]
        assert message.params[3] == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize("kwargs", [{"strip": 0}, {"plugin": -1}, {"strip": 1.5}, {"port": 70000},
                                    {"address": "no-such-host.invalid"}])
def test_push_osc_rejects_bad_targets_with_a_clear_error(kwargs):
    with pytest.raises(SemeqError) as info:
        push_osc(eq(), **kwargs)
    assert str(info.value)
