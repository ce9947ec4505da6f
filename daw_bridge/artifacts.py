"""What the watch folder puts beside a render: the EQ plot and a ReaScript that loads the EQ into ReaEQ.

``plot_eq_over_spectrum`` draws the track's one-third-octave balance (before and after, measured by
the analysis) against the reference range of real music, with the EQ's magnitude response on a
second axis (matplotlib's Agg canvas, no display; one plot at a time, as matplotlib is not thread-safe).

``reaeq_script`` writes a self-contained Lua 5.4 ReaScript a REAPER user loads directly (Actions >
Show action list > New action > Load ReaScript..., then run it with the track selected). It finds the
selected track's ReaEQ named "Semantic EQ" or inserts one, sets the five band types with the
``BANDTYPEx``/``BANDENABLEDx`` named config parameters (SDK, codes from Cockos), sets frequency in Hz
and bandwidth in octaves with ``TrackFX_SetEQParam`` (SDK, all sources agree) and gain as ReaEQ's
normalized value (community formula), then reads every band back (``TrackFX_GetEQParam``: band type,
band index and normalized frequency and gain). If REAPER disagrees, or the ReaEQ has fewer than five
bands (no API adds bands), it puts the track back as it was (values saved before, an inserted ReaEQ
removed) and says why. Bandwidth cannot be read back (its
normalization is unknown) and is trusted as set. The header comment of the script is also the recipe
for setting the same EQ by hand.

No ``.RfxChain`` / preset file is written: the only route to a five-band ReaEQ state is the
``vst_chunk`` layout in ``../shared/docs/reaper-and-osc-facts.md``, which is reverse-engineered and
unverified, and a wrong chunk would load a wrong EQ without any check.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any, Mapping

#: Name of the ReaEQ instance the script creates or reuses (the same name as the REAPER actions use).
FX_NAME = "Semantic EQ"
#: Labelled frequencies of the plot (Hz).
_FREQ_TICKS_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
#: matplotlib is not thread-safe (its text layout and mathtext parser share state): one plot at a time.
_PLOT_LOCK = threading.Lock()
#: Largest accepted difference between a normalized value set and the one read back.
READBACK_TOLERANCE = 0.002


# --- the plot -----------------------------------------------------------------------------------


def _band_arrays(analysis: Mapping | None, key: str):
    import numpy as np

    if not analysis or "bands" not in analysis:
        return None, None
    bands = [b for b in analysis["bands"] if b.get("valid", True) and b.get(key) is not None]
    if not bands:
        return None, None
    return np.array([b["centre_hz"] for b in bands], float), np.array([b[key] for b in bands], float)


def plot_eq_over_spectrum(
    path: Path, answer: Mapping, before: Mapping | None, after: Mapping | None, title: str
) -> None:
    """Save a PNG: the EQ curve (dB, right axis) over the track's band levels (dB, left axis).

    ``answer`` carries ``response_db`` (``freqs_hz``, ``db``); ``before``/``after`` are analysis
    dicts (``bands`` with ``centre_hz``, ``level_db``, ``reference_db``, ``reference_p5_db``,
    ``reference_p95_db``). Written as given (the caller renames it into place).
    """
    with _PLOT_LOCK:
        _plot(path, answer, before, after, title)


def _plot(path: Path, answer: Mapping, before: Mapping | None, after: Mapping | None, title: str) -> None:
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    fig = Figure(figsize=(9.0, 5.0), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.08, right=0.92, bottom=0.11, top=0.93)
    ax = fig.add_subplot(1, 1, 1)
    f_ref, lo = _band_arrays(before, "reference_p5_db")
    _, hi = _band_arrays(before, "reference_p95_db")
    if f_ref is not None and hi is not None and len(lo) == len(hi):
        ax.fill_between(f_ref, lo, hi, color="0.85", label="typical music (5-95 %)")
    f_med, med = _band_arrays(before, "reference_db")
    if f_med is not None:
        ax.plot(f_med, med, color="0.5", lw=1, ls="--", label="typical music (median)")
    for analysis, label, style in ((before, "track before", "C0"), (after, "track after", "C1")):
        f, level = _band_arrays(analysis, "level_db")
        if f is not None:
            ax.plot(f, level, color=style, lw=1.8, marker="o", ms=2.5, label=label)
    ax.set_xscale("log")
    ax.set_xlim(20, 20000)
    ax.set_xticks(_FREQ_TICKS_HZ, [f"{f / 1000:g}k" if f >= 1000 else f"{f:g}" for f in _FREQ_TICKS_HZ])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("band level (dB, aligned to typical music)")
    ax.grid(True, which="both", alpha=0.3)

    eq_ax = ax.twinx()
    response = answer.get("response_db") or {}
    freqs, db = np.asarray(response.get("freqs_hz", []), float), np.asarray(response.get("db", []), float)
    if freqs.size:
        eq_ax.plot(freqs, db, color="C3", lw=2.5, label="EQ (right axis)")
        eq_ax.axhline(0.0, color="C3", lw=0.6, alpha=0.5)
    span = max(6.0, float(np.max(np.abs(db))) * 1.25) if db.size else 6.0
    eq_ax.set_ylim(-span, span)
    eq_ax.set_ylabel("EQ gain (dB)", color="C3")
    handles = ax.get_legend_handles_labels()
    eq_handles = eq_ax.get_legend_handles_labels()
    ax.legend(handles[0] + eq_handles[0], handles[1] + eq_handles[1], loc="best", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.savefig(str(path), format="png")


# --- the ReaScript ------------------------------------------------------------------------------

_BAND_KEYS = ("name", "eq_bandtype", "eq_bandidx", "bandtype_code", "freq_hz", "gain_db", "bw_oct", "freq_norm", "gain_norm")
_INT_KEYS = ("eq_bandtype", "eq_bandidx", "bandtype_code")


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal (quotes, backslashes, control and non-ASCII bytes escaped)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _lua_number(value: Any, integer: bool = False) -> str:
    if integer:
        if float(value) != int(value):
            raise ValueError(f"a ReaEQ band code or index must be a whole number, got {value}")
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"a ReaEQ band value must be finite, got {value}")
    return repr(value)


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def reaeq_script(answer: Mapping, title: str) -> str:
    """Lua source of a ReaScript that applies ``answer['reaeq']['bands']`` to the selected track.

    Raises ``ValueError`` if the answer has no five complete ReaEQ bands.
    """
    bands = list((answer.get("reaeq") or {}).get("bands") or [])
    if len(bands) != 5 or any(k not in b or b[k] is None for b in bands for k in _BAND_KEYS):
        raise ValueError("the answer has no five complete ReaEQ bands")
    recipe = "\n".join(
        f"--   {i + 1}. {b['name']:<11} {float(b['freq_hz']):8.1f} Hz  {float(b['gain_db']):+6.2f} dB  "
        f"bandwidth {float(b['bw_oct']):.2f} oct"
        for i, b in enumerate(bands)
    )
    rows = "\n".join(
        "  {"
        + ", ".join(
            f"{k} = {lua_string(str(b[k])) if k == 'name' else _lua_number(b[k], k in _INT_KEYS)}"
            for k in _BAND_KEYS
        )
        + "},"
        for b in bands
    )
    explanation = _comment(answer.get("explanation") or "")
    undo = lua_string(f"Semantic EQ: {_comment(title)}")
    return f"""-- Semantic EQ Bridge: ReaEQ settings for {_comment(title)}
-- Written {time.strftime('%Y-%m-%d %H:%M')} by the Semantic EQ watch folder.
-- {explanation}
--
-- Run it in REAPER: Actions > Show action list > New action > Load ReaScript..., choose this file,
-- select the track to EQ and run the action. It sets the five bands of the track's ReaEQ named
-- "{FX_NAME}" (inserted if missing) in one undo step, reads them back, and if REAPER disagrees puts
-- everything back as it was and says so. The same EQ by hand (ReaEQ, band types as named):
{recipe}
-- REAPER facts used: TrackFX_SetEQParam with frequency in Hz and bandwidth in octaves (SDK);
-- gain as ReaEQ's normalized value (community formula, read back); band types through the
-- BANDTYPEx / BANDENABLEDx named config parameters (SDK; codes from Cockos). Bandwidth is not read
-- back (its normalization is unknown). No FX chain chunk is used: its layout is unverified.

local FX_NAME = {lua_string(FX_NAME)}
local UNDO_LABEL = {undo}
local TOLERANCE = {_lua_number(READBACK_TOLERANCE)}
local BANDS = {{
{rows}
}}

local function find_or_insert(track)
  for fx = 0, reaper.TrackFX_GetCount(track) - 1 do
    local _, name = reaper.TrackFX_GetFXName(track, fx, "")
    if name == FX_NAME then return fx, false end
  end
  local fx = reaper.TrackFX_AddByName(track, "ReaEQ", false, -1)
  if fx >= 0 then reaper.TrackFX_SetNamedConfigParm(track, fx, "renamed_name", FX_NAME) end
  return fx, true
end

local function band_count(track, fx)
  local n = 0
  while reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. n) do n = n + 1 end
  return n
end

local function snapshot(track, fx, count)
  local s = {{params = {{}}, types = {{}}, enabled = {{}}}}
  for n = 0, count - 1 do
    s.types[n] = select(2, reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDTYPE" .. n))
    s.enabled[n] = select(2, reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. n))
  end
  for p = 0, reaper.TrackFX_GetNumParams(track, fx) - 1 do
    s.params[p] = reaper.TrackFX_GetParamNormalized(track, fx, p)
  end
  return s
end

local function restore(track, fx, s)
  for n, v in pairs(s.types) do reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDTYPE" .. n, v) end
  for n, v in pairs(s.enabled) do reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDENABLED" .. n, v) end
  for p, v in pairs(s.params) do reaper.TrackFX_SetParamNormalized(track, fx, p, v) end
end

local function set_bands(track, fx, count)
  for i, b in ipairs(BANDS) do
    reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDTYPE" .. (i - 1), tostring(b.bandtype_code))
    reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDENABLED" .. (i - 1), "1")
  end
  for n = #BANDS, count - 1 do reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDENABLED" .. n, "0") end
  for _, b in ipairs(BANDS) do
    reaper.TrackFX_SetEQParam(track, fx, b.eq_bandtype, b.eq_bandidx, 0, b.freq_hz, false)
    reaper.TrackFX_SetEQParam(track, fx, b.eq_bandtype, b.eq_bandidx, 1, b.gain_norm, true)
    reaper.TrackFX_SetEQParam(track, fx, b.eq_bandtype, b.eq_bandidx, 2, b.bw_oct, false)
  end
  for i, b in ipairs(BANDS) do
    for paramtype, want in pairs({{[0] = b.freq_norm, [1] = b.gain_norm}}) do
      local ok, bandtype, bandidx, got_type, normval = reaper.TrackFX_GetEQParam(track, fx, (i - 1) * 3 + paramtype)
      if not ok or bandtype ~= b.eq_bandtype or bandidx ~= b.eq_bandidx or got_type ~= paramtype
          or math.abs(normval - want) > TOLERANCE then
        return ("REAPER did not take band %d (%s) as asked, so nothing was changed. " ..
          "Set it by hand from the recipe at the top of this script."):format(i, b.name)
      end
    end
  end
  return nil
end

-- Returns nil when the EQ is set, else a message (and the track is as it was).
local function apply(track)
  local fx, inserted = find_or_insert(track)
  if fx < 0 then return "ReaEQ could not be inserted on the selected track." end
  local count = band_count(track, fx)
  local problem
  if count < #BANDS then
    problem = ("The ReaEQ named '%s' has %d bands and this EQ needs %d. Add bands in ReaEQ " ..
      "(right-click the graph > Add band) and run the script again."):format(FX_NAME, count, #BANDS)
  else
    local before = snapshot(track, fx, count)
    problem = set_bands(track, fx, count)
    if problem then restore(track, fx, before) end
  end
  if problem and inserted then reaper.TrackFX_Delete(track, fx) end
  return problem
end

local track = reaper.GetSelectedTrack(0, 0)
if not track then
  reaper.MB("Select the track to EQ first.", "Semantic EQ", 0)
  return
end
reaper.Undo_BeginBlock()
reaper.PreventUIRefresh(1)
local problem = apply(track)
reaper.PreventUIRefresh(-1)
if problem then
  reaper.Undo_EndBlock(UNDO_LABEL .. " (nothing changed)", -1)
  reaper.MB(problem, "Semantic EQ", 0)
else
  reaper.Undo_EndBlock(UNDO_LABEL, -1)
end
"""
