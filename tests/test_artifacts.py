"""The watch folder's artifacts: the generated ReaScript (run under Lua 5.4 against a fake REAPER that
follows ../shared/docs/reaper-and-osc-facts.md) and the EQ-over-spectrum plot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from daw_bridge import artifacts
from daw_bridge.eq import EQParams

REPO = Path(__file__).resolve().parents[1]
TESTS_LUA = REPO / "tests" / "lua"
SCRIPT_MODULES = REPO / "reaper_scripts" / "semeq"  # the folder holding semeq/api.lua

# Runs a generated script under Lua 5.4 with the project's fake REAPER (tests/lua/fake_reaper.lua:
# the documented ReaScript API, ReaEQ's parameters, band types and formatted values; bandwidth on a
# mapping the scripts must search) and prints what the track ends with.
RUNNER = r"""
package.path = {tests_lua!r} .. "/?.lua;" .. package.path
local Fake = require("fake_reaper")
local r, state = Fake.new({{ resource_path = {resource!r}, default_bands = {bands} }})
_G.reaper = r
state.add_track({{ name = "Mix", selected = {selected} }})
dofile({script!r})
for i, fx in ipairs(state.tracks[1].fx) do
  print(("FX\t%d\t%s\t%d"):format(i - 1, fx.renamed, fx.nbands))
  for b = 0, fx.nbands - 1 do
    local band = fx.bands[b]
    print(("BAND\t%d\t%d\t%.9g\t%.9g\t%.9g"):format(band.type, (band.enabled == 1 or band.enabled == true) and 1 or 0,
      state.value_of("freq", band.n[1]), state.value_of("gain", band.n[2]), state.value_of("bw", band.n[3])))
  end
end
for _, d in ipairs(state.dialogs) do print("MSG\t" .. d.msg:gsub("\n", " ")) end
for _, u in ipairs(state.undo) do print("UNDO\t" .. u.desc) end
"""


def answer_for(params: EQParams) -> dict:
    """The real answer JSON for ``params`` (the service's one builder, with the real ReaEQ mapping)."""
    from daw_bridge.answers import eq_answer

    return eq_answer("eq", "t1", params, text="warmer", explanation="More low end, softer top.")


PARAMS = EQParams(3.0, 150.0, -2.0, 300.0, 1.2, 1.5, 1200.0, 0.9, -4.0, 3500.0, 2.0, -2.5, 9000.0)


def run_in_fake_reaper(tmp_path: Path, script: str, install: str | None = artifacts.MODULE_PATHS[0],
                       bands: int = 5, selected: bool = True) -> dict:
    """The script run in the fake REAPER, the shared module installed at ``install`` (or not)."""
    resource = tmp_path / "reaper"
    if install is not None:
        shutil.copytree(SCRIPT_MODULES, (resource / install).parent)
    (tmp_path / "script.lua").write_text(script, encoding="utf-8")
    runner = RUNNER.format(tests_lua=str(TESTS_LUA), resource=str(resource), bands=bands,
                           selected="true" if selected else "false", script=str(tmp_path / "script.lua"))
    out = subprocess.run(["lua5.4", "-e", runner], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    state: dict = {"fx": [], "bands": [], "msg": [], "undo": []}
    for line in out.stdout.splitlines():
        kind, *rest = line.split("\t")
        if kind == "FX":
            state["fx"].append(rest[1])
        elif kind == "BAND":
            state["bands"].append((int(rest[0]), int(rest[1]), *map(float, rest[2:])))
        elif kind == "MSG":
            state["msg"].append(rest[0])
        elif kind == "UNDO":
            state["undo"].append(rest[0])
    return state


def test_script_compiles_and_lists_the_bands_for_setting_by_hand():
    answer = answer_for(PARAMS)
    script = artifacts.reaeq_script(answer, 'song "live".wav: warmer')
    out = subprocess.run(["luac5.4", "-p", "-"], input=script, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for band in answer["reaeq"]["bands"]:
        assert f"{float(band['freq_hz']):8.1f} Hz  {float(band['gain_db']):+6.2f} dB" in script


@pytest.mark.parametrize("install", artifacts.MODULE_PATHS)
def test_script_puts_the_answer_on_reaeq_through_the_shared_module(tmp_path, install):
    answer = answer_for(PARAMS)
    state = run_in_fake_reaper(tmp_path, artifacts.reaeq_script(answer, "song.wav: warmer"), install)
    assert state["msg"] == []
    assert state["fx"] == [artifacts.FX_NAME]
    assert state["undo"] == ["Semantic EQ: song.wav: warmer"]
    assert len(state["bands"]) == 5
    for (code, enabled, freq_hz, gain_db, bw_oct), want in zip(state["bands"], answer["reaeq"]["bands"]):
        assert (code, enabled) == (want["bandtype_code"], 1)
        assert freq_hz == pytest.approx(want["freq_hz"], rel=5e-3)
        assert gain_db == pytest.approx(want["gain_db"], abs=0.1)
        assert bw_oct == pytest.approx(want["bw_oct"], abs=0.05)


def test_script_without_the_shared_module_says_how_to_install_it(tmp_path):
    state = run_in_fake_reaper(tmp_path, artifacts.reaeq_script(answer_for(PARAMS), "x"), install=None)
    assert state["fx"] == [] and state["undo"] == []
    assert len(state["msg"]) == 1 and "semeq install-reaper" in state["msg"][0]


def test_script_with_a_four_band_reaeq_keeps_it_and_says_what_to_do(tmp_path):
    state = run_in_fake_reaper(tmp_path, artifacts.reaeq_script(answer_for(PARAMS), "x"), bands=4)
    assert state["fx"] == ["Semantic EQ"]  # kept (issue #13): it is the instance the user adds bands to
    assert len(state["msg"]) == 1 and "has 4 bands" in state["msg"][0] and "'Add band'" in state["msg"][0]
    assert state["undo"] == ["Semantic EQ: x (nothing changed)"]


def test_script_without_a_selected_track_asks_for_one(tmp_path):
    state = run_in_fake_reaper(tmp_path, artifacts.reaeq_script(answer_for(PARAMS), "x"), selected=False)
    assert state["msg"] == ["Select the track(s) to EQ first."] and state["undo"] == [] and state["fx"] == []


def test_script_refuses_an_answer_without_five_bands():
    answer = answer_for(PARAMS)
    answer["reaeq"]["bands"] = answer["reaeq"]["bands"][:4]
    with pytest.raises(ValueError):
        artifacts.reaeq_script(answer, "x")


def test_lua_string_escapes_everything_lua_would_misread():
    text = 'a "quoted" \\ back\nline – ünïcode'
    script = f"io.write({artifacts.lua_string(text)})"
    out = subprocess.run(["lua5.4", "-e", script], capture_output=True)
    assert out.returncode == 0 and out.stdout.decode("utf-8") == text


def _band_analysis(level_db: np.ndarray, centres: np.ndarray) -> dict:
    return {
        "bands": [
            {"centre_hz": float(f), "valid": True, "level_db": float(v), "reference_db": 0.0,
             "reference_p5_db": -3.0, "reference_p95_db": 3.0}
            for f, v in zip(centres, level_db)
        ]
    }


def test_plot_is_a_png_of_the_requested_size(tmp_path):
    from matplotlib.image import imread

    from daw_bridge.eq import response_db, third_octave_centres_hz

    centres = third_octave_centres_hz()
    before = _band_analysis(np.linspace(4, -4, centres.size), centres)
    after = _band_analysis(np.linspace(4, -4, centres.size) + response_db(PARAMS, centres), centres)
    path = tmp_path / "eq.png"
    artifacts.plot_eq_over_spectrum(path, answer_for(PARAMS), before, after, "song.wav: warmer")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(str(path))
    assert image.shape[:2] == (500, 900)
    # something was drawn in the EQ colour (matplotlib C3, red) — the curve is on the figure
    red = (image[..., 0] > 0.7) & (image[..., 1] < 0.3) & (image[..., 2] < 0.3)
    assert red.sum() > 500


def test_plot_without_analysis_still_shows_the_eq(tmp_path):
    path = tmp_path / "eq.png"
    artifacts.plot_eq_over_spectrum(path, answer_for(PARAMS), None, None, "fixed")
    assert path.stat().st_size > 1000
