"""The watch folder's artifacts: the generated ReaScript (run under Lua 5.4 against a fake REAPER that
follows ../shared/docs/reaper-and-osc-facts.md) and the EQ-over-spectrum plot."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from daw_bridge import artifacts
from daw_bridge.eq import EQParams

# A fake REAPER for the script: tracks with FX, ReaEQ instances whose bands have a BANDTYPE code
# (Cockos' enumeration), an enabled flag and normalized Freq/Gain/BW values; parameters per band in
# the order Freq, Gain, BW; TrackFX_SetEQParam addressed by (bandtype, index within that type).
# Frequencies in Hz are normalized with the community formula; bandwidth in octaves is stored / 4.
FAKE_REAPER = r"""
local EQ_OF_CODE = {[0] = 1, [1] = 4, [2] = 2, [3] = 5, [4] = 0, [6] = 3, [7] = 6, [8] = 2, [9] = 2, [10] = 7}
local function freq_norm(hz) return math.log(1 + (hz - 20) * 400 / 23980) / math.log(401) end
FAKE = {track = {fx = {}}, selected = true, default_bands = 4, gain_factor = 1.0, mb = {}, undo = {}}
local function new_reaeq(name, nbands)
  local f = {name = name, bands = {}, global = 0.5}
  for n = 0, nbands - 1 do f.bands[n] = {code = (n == 0 and 0) or (n == nbands - 1 and 1) or 8, enabled = "1", norm = {[0] = 0.3, [1] = 0.5, [2] = 0.25}} end
  return f
end
function FAKE.add(name, nbands) table.insert(FAKE.track.fx, new_reaeq(name, nbands)) end
local function count(f) local n = 0 while f.bands[n] do n = n + 1 end return n end
local function split(key) local kind, n = key:match("^(%u+)(%d+)$") return kind, tonumber(n) end
local function index_in_type(f, n)
  local k = 0
  for m = 0, n - 1 do if EQ_OF_CODE[f.bands[m].code] == EQ_OF_CODE[f.bands[n].code] then k = k + 1 end end
  return k
end
reaper = {}
function reaper.GetSelectedTrack(_, _) if FAKE.selected then return FAKE.track end return nil end
function reaper.TrackFX_GetCount(tr) return #tr.fx end
function reaper.TrackFX_GetFXName(tr, fx, _) return true, tr.fx[fx + 1].name end
function reaper.TrackFX_AddByName(tr, _, _, _) FAKE.add("ReaEQ (Cockos)", FAKE.default_bands) return #tr.fx - 1 end
function reaper.TrackFX_Delete(tr, fx) table.remove(tr.fx, fx + 1) return true end
function reaper.TrackFX_GetNumParams(tr, fx) return count(tr.fx[fx + 1]) * 3 + 4 end
function reaper.TrackFX_SetNamedConfigParm(tr, fx, key, val)
  local f = tr.fx[fx + 1]
  if key == "renamed_name" then f.name = val return true end
  local kind, n = split(key)
  local b = f.bands[n]
  if not b then return false end
  if kind == "BANDTYPE" then b.code = tonumber(val) elseif kind == "BANDENABLED" then b.enabled = val else return false end
  return true
end
function reaper.TrackFX_GetNamedConfigParm(tr, fx, key)
  local kind, n = split(key)
  local b = tr.fx[fx + 1].bands[n]
  if not b then return false, "" end
  if kind == "BANDTYPE" then return true, tostring(b.code) end
  if kind == "BANDENABLED" then return true, b.enabled end
  return false, ""
end
function reaper.TrackFX_SetEQParam(tr, fx, bandtype, bandidx, paramtype, val, isnorm)
  local f = tr.fx[fx + 1]
  for n = 0, count(f) - 1 do
    if EQ_OF_CODE[f.bands[n].code] == bandtype and index_in_type(f, n) == bandidx then
      local b = f.bands[n]
      if paramtype == 0 then b.norm[0] = isnorm and val or freq_norm(val)
      elseif paramtype == 1 then b.norm[1] = (isnorm and val or 0.5) * FAKE.gain_factor
      else b.norm[2] = isnorm and val or val / 4 end
      return true
    end
  end
  return false
end
function reaper.TrackFX_GetEQParam(tr, fx, p)
  local f = tr.fx[fx + 1]
  local n, pt = p // 3, p % 3
  local b = f.bands[n]
  if not b then return false, -1, -1, -1, 0 end
  return true, EQ_OF_CODE[b.code], index_in_type(f, n), pt, b.norm[pt]
end
function reaper.TrackFX_GetParamNormalized(tr, fx, p)
  local f = tr.fx[fx + 1]
  local b = f.bands[p // 3]
  if b then return b.norm[p % 3] end
  return f.global
end
function reaper.TrackFX_SetParamNormalized(tr, fx, p, v)
  local f = tr.fx[fx + 1]
  local b = f.bands[p // 3]
  if b then b.norm[p % 3] = v else f.global = v end
  return true
end
function reaper.Undo_BeginBlock() table.insert(FAKE.undo, "begin") end
function reaper.Undo_EndBlock(label, _) table.insert(FAKE.undo, label) end
function reaper.PreventUIRefresh(_) end
function reaper.MB(msg, _, _) table.insert(FAKE.mb, msg) return 1 end
function FAKE.dump()
  for i, f in ipairs(FAKE.track.fx) do
    print(("FX\t%d\t%s\t%d"):format(i - 1, f.name, count(f)))
    for n = 0, count(f) - 1 do
      local b = f.bands[n]
      print(("BAND\t%d\t%d\t%d\t%s\t%.9g\t%.9g\t%.9g"):format(i - 1, n, b.code, b.enabled, b.norm[0], b.norm[1], b.norm[2]))
    end
  end
  for _, m in ipairs(FAKE.mb) do print("MB\t" .. m) end
  for _, u in ipairs(FAKE.undo) do print("UNDO\t" .. u) end
end
"""


def answer_for(params: EQParams) -> dict:
    """The real answer JSON for ``params`` (the service's one builder, with the real ReaEQ mapping)."""
    from daw_bridge.service import eq_answer

    return eq_answer("eq", "t1", params, text="warmer", explanation="More low end, softer top.")


PARAMS = EQParams(3.0, 150.0, -2.0, 300.0, 1.2, 1.5, 1200.0, 0.9, -4.0, 3500.0, 2.0, -2.5, 9000.0)


@pytest.fixture()
def lua_runner(tmp_path, monkeypatch):
    """``run(script, setup)``: the script under Lua 5.4 with the fake REAPER (arguments via -e wrapper)."""

    def run(script: str, setup: str) -> dict:
        (tmp_path / "fake.lua").write_text(FAKE_REAPER + "\n" + setup + "\n", encoding="utf-8")
        (tmp_path / "action.lua").write_text(script, encoding="utf-8")
        code = f'dofile("{tmp_path / "fake.lua"}"); dofile("{tmp_path / "action.lua"}"); FAKE.dump()'
        out = subprocess.run(["lua5.4", "-e", code], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        state: dict = {"fx": [], "bands": {}, "mb": [], "undo": []}
        for line in out.stdout.splitlines():
            kind, *rest = line.split("\t")
            if kind == "FX":
                state["fx"].append(rest[1])
            elif kind == "BAND":
                fx, n, code_, enabled, f, g, bw = rest
                state["bands"].setdefault(int(fx), []).append((int(code_), enabled, float(f), float(g), float(bw)))
            elif kind == "MB":
                state["mb"].append(rest[0])
            elif kind == "UNDO":
                state["undo"].append(rest[0])
        return state

    return run


def test_script_compiles_and_carries_the_recipe():
    answer = answer_for(PARAMS)
    script = artifacts.reaeq_script(answer, 'song "live".wav: warmer')
    out = subprocess.run(["luac5.4", "-p", "-"], input=script, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for band in answer["reaeq"]["bands"]:
        assert f"{float(band['freq_hz']):8.1f} Hz" in script
        assert f"{float(band['gain_db']):+6.2f} dB" in script


def test_script_sets_five_bands_on_an_existing_semantic_eq(lua_runner):
    answer = answer_for(PARAMS)
    setup = 'FAKE.add("Other plug-in", 0); FAKE.add("Semantic EQ", 6)'
    state = lua_runner(artifacts.reaeq_script(answer, "song.wav: warmer"), setup)
    assert state["mb"] == []
    assert state["fx"] == ["Other plug-in", "Semantic EQ"]
    bands = state["bands"][1]
    for (code, enabled, f_norm, g_norm, bw), want in zip(bands, answer["reaeq"]["bands"]):
        assert code == want["bandtype_code"] and enabled == "1"
        assert f_norm == pytest.approx(want["freq_norm"], abs=2e-3)
        assert g_norm == pytest.approx(want["gain_norm"], abs=1e-9)
        assert bw == pytest.approx(want["bw_oct"] / 4)
    assert bands[5][1] == "0"  # the sixth band is switched off
    assert state["undo"] == ["begin", "Semantic EQ: song.wav: warmer"]


def test_script_with_a_four_band_reaeq_changes_nothing_and_says_why(lua_runner):
    state = lua_runner(artifacts.reaeq_script(answer_for(PARAMS), "song.wav: warmer"), "FAKE.default_bands = 4")
    assert state["fx"] == []  # the ReaEQ it inserted is removed again
    assert len(state["mb"]) == 1 and "has 4 bands" in state["mb"][0]
    assert state["undo"][-1].endswith("(nothing changed)")


def test_script_inserts_and_names_a_reaeq_with_enough_bands(lua_runner):
    state = lua_runner(artifacts.reaeq_script(answer_for(PARAMS), "x"), "FAKE.default_bands = 5")
    assert state["fx"] == ["Semantic EQ"] and state["mb"] == []


def test_script_restores_the_eq_when_reaper_disagrees(lua_runner):
    setup = 'FAKE.add("Semantic EQ", 5); FAKE.gain_factor = 0.9'
    state = lua_runner(artifacts.reaeq_script(answer_for(PARAMS), "x"), setup)
    assert len(state["mb"]) == 1 and "did not take band" in state["mb"][0]
    # exactly the fake's initial state: low shelf, three peaks, high shelf with the initial values
    assert state["bands"][0] == [(0, "1", 0.3, 0.5, 0.25)] + [(8, "1", 0.3, 0.5, 0.25)] * 3 + [(1, "1", 0.3, 0.5, 0.25)]


def test_script_without_a_selected_track_asks_for_one(lua_runner):
    state = lua_runner(artifacts.reaeq_script(answer_for(PARAMS), "x"), "FAKE.selected = false")
    assert state["mb"] == ["Select the track to EQ first."] and state["undo"] == []


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
