"""What the watch folder puts beside a render: the EQ plot and a ReaScript that loads the EQ into ReaEQ.

``plot_eq_over_spectrum`` draws the track's one-third-octave balance (before and after, measured by
the analysis) against the reference range of real music, with the EQ's magnitude response on a
second axis (matplotlib's Agg canvas, no display; one plot at a time, as matplotlib is not thread-safe).

``reaeq_script`` writes a small Lua ReaScript a REAPER user loads directly (Actions > Show action
list > New action > Load ReaScript..., then run it with the track selected). It holds the answer's
five ReaEQ bands and hands them to the Semantic EQ ReaScripts' entry for such scripts
(``reaper_scripts/semeq/api.lua``, found where ``semeq install-reaper`` or ReaPack put it), whose
``reaeq.apply`` finds or inserts the track's ReaEQ named "Semantic EQ", sets the band types and
values, checks every value REAPER shows and restores the track when anything disagrees: one way to
put an EQ on ReaEQ, shared with the REAPER actions. Without the module installed, the script says
how to install it; its header comment lists the five bands for setting them by hand.

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

#: Name of the ReaEQ instance the REAPER actions (and so this script) create or reuse.
FX_NAME = "Semantic EQ"
#: Labelled frequencies of the plot (Hz).
_FREQ_TICKS_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
#: matplotlib is not thread-safe (its text layout and mathtext parser share state): one plot at a time.
_PLOT_LOCK = threading.Lock()


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
    levels = []
    for analysis, label, style in ((before, "track before", "C0"), (after, "track after", "C1")):
        f, level = _band_arrays(analysis, "level_db")
        if f is not None:
            ax.plot(f, level, color=style, lw=1.8, marker="o", ms=2.5, label=label)
            levels.append(level)
    if levels:  # the track's range, not the reference's extremes at the band edges
        ax.set_ylim(min(map(np.min, levels)) - 12.0, max(map(np.max, levels)) + 6.0)
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

#: Where the Semantic EQ ReaScripts' entry for generated scripts lives under REAPER's resource path:
#: as copied by ``semeq install-reaper``, and as ReaPack installs the index (index name / category).
MODULE_PATHS = ("Scripts/Semantic EQ/semeq/api.lua", "Scripts/Semantic EQ Bridge/reaper_scripts/semeq/api.lua")
#: Band members the shared module's ``reaeq.apply`` reads (the answer's ReaEQ block, unchanged).
_BAND_KEYS = ("band", "name", "kind", "eq_bandtype", "eq_bandidx", "bandtype_code", "freq_hz", "gain_db",
              "bw_oct", "q", "freq_norm", "gain_norm", "bw_norm")


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


def _lua_value(value: Any) -> str:
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"a ReaEQ band value must be finite, got {value}")
    return repr(number)


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def reaeq_script(answer: Mapping, title: str) -> str:
    """Lua source of a ReaScript that applies ``answer['reaeq']['bands']`` to the selected tracks.

    Raises ``ValueError`` if the answer has no five ReaEQ bands.
    """
    bands = list((answer.get("reaeq") or {}).get("bands") or [])
    if len(bands) != 5 or any(not isinstance(b, Mapping) for b in bands):
        raise ValueError("the answer has no five ReaEQ bands")
    recipe = "\n".join(
        f"--   {i + 1}. {b['name']:<11} {float(b['freq_hz']):8.1f} Hz  {float(b['gain_db']):+6.2f} dB  "
        f"bandwidth {float(b['bw_oct']):.2f} oct"
        for i, b in enumerate(bands)
    )
    rows = "\n".join(
        "  { " + ", ".join(f"{k} = {_lua_value(b[k])}" for k in _BAND_KEYS if b.get(k) is not None) + " },"
        for b in bands
    )
    paths = ", ".join(lua_string(p) for p in MODULE_PATHS)
    return f"""-- Semantic EQ Bridge: ReaEQ settings for {_comment(title)}
-- Written {time.strftime('%Y-%m-%d %H:%M')} by the Semantic EQ watch folder.
-- {_comment(answer.get("explanation") or "")}
--
-- In REAPER: Actions > Show action list > New action > Load ReaScript..., choose this file, select
-- the track(s) and run it. It sets the ReaEQ named "{FX_NAME}" on each selected track (inserted if
-- missing) through the Semantic EQ ReaScripts' own module (install them once with
-- `semeq install-reaper` or ReaPack), checks every value REAPER shows, and leaves a track as it was
-- if anything disagrees; one undo step. No FX chain chunk is used: ReaEQ's chunk layout is unverified.
-- The same EQ by hand (ReaEQ, band types as named):
{recipe}

local BANDS = {{
{rows}
}}
local UNDO_LABEL = {lua_string("Semantic EQ: " + _comment(title))}
local TITLE = "Semantic EQ"

local module_path
for _, rel in ipairs({{ {paths} }}) do
  local path = reaper.GetResourcePath() .. "/" .. rel
  if reaper.file_exists(path) then module_path = path break end
end
if not module_path then
  reaper.ShowMessageBox("This script uses the Semantic EQ ReaScripts, which are not installed. Install them "
    .. "with 'semeq install-reaper' (or ReaPack), or set the five bands by hand from the list at the top "
    .. "of this file.", TITLE, 0)
  return
end
local semeq = dofile(module_path)

local count = reaper.CountSelectedTracks(0)
if count == 0 then
  reaper.ShowMessageBox("Select the track(s) to EQ first.", TITLE, 0)
  return
end
local problems, applied = {{}}, 0
reaper.PreventUIRefresh(1)
reaper.Undo_BeginBlock()
for i = 0, count - 1 do
  local track = reaper.GetSelectedTrack(0, i)
  local ok, err = semeq.reaeq.apply(track, BANDS)
  if ok then applied = applied + 1 else problems[#problems + 1] = err end
end
reaper.Undo_EndBlock(applied > 0 and UNDO_LABEL or (UNDO_LABEL .. " (nothing changed)"), -1)
reaper.PreventUIRefresh(-1)
reaper.UpdateArrange()
if #problems > 0 then
  reaper.ShowMessageBox(table.concat(problems, "\\n\\n") .. "\\n\\nThat track's EQ was left as it was.", TITLE, 0)
end
"""
