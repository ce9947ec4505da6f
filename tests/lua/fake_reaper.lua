-- A fake `reaper` table for running the Semantic EQ scripts under plain Lua 5.4.
--
-- It follows the documented ReaScript API (signatures and return values as in REAPER's API
-- reference) and the ReaEQ facts in ../shared/docs/reaper-and-osc-facts.md:
--   * ReaEQ parameters per band in the order Freq, Gain, BW, then Global Gain, Bypass, Wet,
--     Delta; names like "Freq-Low Shelf", "Gain-Band 2", "BW-High Shelf 4";
--   * BANDTYPEx / BANDENABLEDx named config (codes 0 low shelf, 1 high shelf, 8 band, ...),
--     counted by reading BANDENABLED<n> until false; no way to add bands;
--   * TrackFX_GetEQParam band types of the other enumeration (1 low shelf, 2 band, 4 high shelf);
--   * formatted values from the normalized mappings (frequency and gain: the community formulas;
--     bandwidth: a mapping the scripts do NOT know, so they must search it);
--   * undo blocks recorded; the automatic "ReaScript: Run" undo point of a script that ends
--     without calling reaper.defer (REAPER's ReaScript help);
--   * ExecProcess without a shell (fake_exec.lua), with its wait, timeout and no-wait modes;
--   * items, takes and sources, and an audio accessor mixing them (fake_media.lua);
--   * TrackFX_SetNamedConfigParm returning false for BANDENABLEDn even though it works
--     (reaper-sdk issue 14); EnumerateFiles ending with "" instead of nil (old_enumerate, REAPER
--     before 6.19); GetOS values from the SDK's list; GetAppVersion; a fresh band's gain stored as
--     0.5 (gain_mapping "documented") or 0.25 (gain_mapping "quarter"), the two captures reported;
--   * ExtState, scripted answers for GetUserInputs and ShowMessageBox, a gfx window whose keys the
--     test scripts (27 = Esc), reaper.defer queued and run by the test at REAPER's pace, the
--     wall-clock length of every main-thread slice (the script's run and each deferred call).
-- Any function the fake does not define raises an error, so a script cannot use an API the
-- fake does not model without the specs noticing.

local Media = require("fake_media")
local Exec = require("fake_exec")
local system = require("system") -- luasystem (a busted dependency): a monotonic clock and sleep

local Fake = {}
Fake.read_wav = Media.read_wav
Fake.Media = Media
--- reaper.GetOS() values listed in the SDK (reaper_plugin_functions.h).
Fake.OS_VALUES = { "Win32", "Win64", "OSX32", "OSX64", "macOS-arm64", "Other" }
--- REAPER runs deferred functions about 30 times a second (community measurements; unverified).
Fake.DEFER_INTERVAL_S = 1 / 30

local AMP_12DB = 10 ^ (12 / 20)

-- BANDTYPE code -> { label, TrackFX_GetEQParam band type }
local BAND_TYPES = {
  [0] = { "Low Shelf", 1 }, [1] = { "High Shelf", 4 }, [2] = { "Band", 2 }, [3] = { "Low Pass", 5 },
  [4] = { "High Pass", 0 }, [5] = { "All Pass", 2 }, [6] = { "Notch", 3 }, [7] = { "Band Pass", 6 },
  [8] = { "Band", 2 }, [9] = { "Band", 2 }, [10] = { "Parallel Band Pass", 7 },
}
Fake.BAND_TYPES = BAND_TYPES

-- Normalized <-> unit mappings of the fake ReaEQ.
local mappings = {}
Fake.mappings = mappings

function mappings.freq(n) return 20 + 23980 * (401 ^ n - 1) / 400 end

function mappings.gain_documented(n)
  local amp = n <= 0.5 and 2 * n or 1 + (n - 0.5) * 2 * (AMP_12DB - 1)
  if amp <= 0 then return -math.huge end
  return 20 * math.log(amp, 10)
end

-- The other claim found in the wild (0.25 = 0 dB, amplitude = 4 n).
function mappings.gain_quarter(n)
  if n <= 0 then return -math.huge end
  return 20 * math.log(4 * n, 10)
end

-- Bandwidth: unknown in REAPER; the fake uses a curve the scripts cannot guess.
function mappings.bw_curve(n) return 0.05 + 3.95 * n ^ 1.7 end
function mappings.bw_quarter(n) return 4 * n end

local function default_format(kind, value)
  if kind == "freq" then return string.format("%.1f", value) end
  if kind == "gain" then
    if value == -math.huge then return "-inf" end
    return string.format("%+.1f", value)
  end
  if kind == "bw" then return string.format("%.2f", value) end
  if kind == "global" then return string.format("%+.1f", value) end
  return string.format("%.3f", value)
end

-- ----------------------------------------------------------------------------------------------
-- The fake
-- ----------------------------------------------------------------------------------------------

--- Build a fake REAPER. opts (all optional):
---   os ("Other", one of Fake.OS_VALUES), app_version ("7.20/linux-x86_64"), old_enumerate,
---   device_rate (48000), default_bands (5: LS, band, band, HS, HP),
---   gain_mapping ("documented" | "quarter"), bw_mapping ("curve" | "quarter"),
---   format (function(kind, value) -> string), resource_path, exec_stderr (true: ExecProcess output
---   includes stderr), disobey = { [what]=true } to make REAPER ignore writes ("bw", "gain",
---   "freq", "bandtype", "rename").
--- Returns reaper, state.
function Fake.new(opts)
  opts = opts or {}
  local state = {
    tracks = {}, ext = {}, ext_persist = {}, undo = {}, undo_open = 0, unblocked_changes = {},
    dialogs = {}, dialog_answers = {}, inputs = {}, input_calls = {}, exec_log = {}, deferred = {},
    time_selection = { 0, 0 }, accessors_open = 0, refresh_depth = 0, slices = {}, keys = {},
    atexit = {}, gfx_open = false, opts = opts,
  }
  local format = opts.format or default_format
  local gain_map = opts.gain_mapping == "quarter" and mappings.gain_quarter or mappings.gain_documented
  local bw_map = opts.bw_mapping == "quarter" and mappings.bw_quarter or mappings.bw_curve
  local disobey = opts.disobey or {}
  state.gain_map, state.bw_map = gain_map, bw_map

  local r = {}

  local function changed(what)
    if state.undo_open == 0 then state.unblocked_changes[#state.unblocked_changes + 1] = what end
  end

  -- tracks -------------------------------------------------------------------------------------
  function state.add_track(t)
    local track = { name = t.name or ("Track " .. (#state.tracks + 1)), selected = t.selected ~= false,
      fx = {}, items = {}, guid = {} }
    if t.wav then track.items[1] = Media.item(t.wav, { position = t.position }) end
    state.tracks[#state.tracks + 1] = track
    return track
  end

  local function new_reaeq()
    local bands = {}
    local codes = opts.default_band_codes or { 0, 8, 8, 1, 4 }
    local count = opts.default_bands or 5
    local fresh_gain = opts.gain_mapping == "quarter" and 0.25 or 0.5 -- 0 dB in either capture
    for b = 0, count - 1 do
      bands[b] = { type = codes[b + 1] or 8, enabled = 1, n = { 0.283, fresh_gain, 0.295 } }
    end
    return { kind = "reaeq", ident = "VST: ReaEQ (Cockos)", renamed = "", enabled = true, nbands = count,
      bands = bands, globals = { 1.0, 0.0, 1.0, 0.0 } }
  end

  local function new_other(name)
    return { kind = "other", ident = name, renamed = "", enabled = true, params = { 0.5, 0.5 } }
  end
  state.new_reaeq, state.new_other = new_reaeq, new_other

  local function band_of(fx, param)
    if fx.kind ~= "reaeq" then return nil end
    if param < 3 * fx.nbands then return param // 3, ({ "freq", "gain", "bw" })[param % 3 + 1] end
    return nil, ({ "global", "bypass", "wet", "delta" })[param - 3 * fx.nbands + 1]
  end

  local function value_of(kind, n)
    if kind == "freq" then return mappings.freq(n) end
    if kind == "gain" then return gain_map(n) end
    if kind == "bw" then return bw_map(n) end
    if kind == "global" then return 20 * math.log(math.max(n, 1e-9), 10) end
    return n
  end
  state.value_of = value_of

  local function get_norm(fx, param)
    if fx.kind ~= "reaeq" then return fx.params[param + 1] end
    local b, what = band_of(fx, param)
    if b then return fx.bands[b].n[({ freq = 1, gain = 2, bw = 3 })[what]] end
    return fx.globals[param - 3 * fx.nbands + 1]
  end

  local function fx_at(track, fx)
    return track and track.fx[fx + 1]
  end

  -- reaper API ----------------------------------------------------------------------------------
  function r.GetOS() return opts.os or "Other" end
  function r.GetResourcePath() return opts.resource_path or "/tmp/fake-reaper" end
  function r.GetAppVersion() return opts.app_version or "7.20/linux-x86_64" end
  function r.time_precise() return system.monotime() end
  function r.ShowConsoleMsg(msg) state.console = (state.console or "") .. msg end
  function r.defer(fn) state.deferred[#state.deferred + 1] = fn; state.deferred_in_run = true end
  function r.atexit(fn) state.atexit[#state.atexit + 1] = fn end
  function r.get_action_context()
    return false, state.action_path or "", 0, 0, -1, -1, -1, ""
  end
  function r.PreventUIRefresh(n) state.refresh_depth = state.refresh_depth + n end
  function r.UpdateArrange() end
  function r.TrackList_AdjustWindows() end

  function r.CountTracks(proj) return #state.tracks end
  function r.GetTrack(proj, i) return state.tracks[i + 1] end
  function r.CountSelectedTracks(proj)
    local n = 0
    for _, t in ipairs(state.tracks) do if t.selected then n = n + 1 end end
    return n
  end
  function r.GetSelectedTrack(proj, i)
    local n = -1
    for _, t in ipairs(state.tracks) do
      if t.selected then n = n + 1; if n == i then return t end end
    end
    return nil
  end
  function r.GetTrackName(track) return true, track.name end
  function r.ValidatePtr2(proj, ptr, kind)
    if kind ~= "MediaTrack*" then return false end
    for _, t in ipairs(state.tracks) do if t == ptr then return true end end
    return false
  end
  function r.GetSet_LoopTimeRange2(proj, isSet, isLoop, s, e, seek)
    if isSet then changed("time selection"); state.time_selection = { s, e } end
    return state.time_selection[1], state.time_selection[2]
  end
  function r.GetSetProjectInfo(proj, desc, value, is_set)
    if is_set then error("fake: the scripts must not change project settings (" .. desc .. ")") end
    if desc == "PROJECT_SRATE" then return opts.project_rate or 0 end
    if desc == "PROJECT_SRATE_USE" then return opts.project_rate and 1 or 0 end
    error("fake: GetSetProjectInfo " .. desc .. " not modelled")
  end
  function r.GetAudioDeviceInfo(attr)
    if attr == "SRATE" then return true, tostring(opts.device_rate or 48000) end
    return false, ""
  end

  -- ExtState
  function r.GetExtState(section, key) return state.ext[section .. "\0" .. key] or "" end
  function r.HasExtState(section, key) return state.ext[section .. "\0" .. key] ~= nil end
  function r.SetExtState(section, key, value, persist)
    state.ext[section .. "\0" .. key] = tostring(value)
    if persist then state.ext_persist[section .. "\0" .. key] = tostring(value) end
  end
  function r.DeleteExtState(section, key, persist) state.ext[section .. "\0" .. key] = nil end

  -- dialogs
  function r.ShowMessageBox(msg, title, kind)
    state.dialogs[#state.dialogs + 1] = { msg = msg, title = title, kind = kind }
    local answer = table.remove(state.dialog_answers, 1)
    if answer == nil then answer = (kind == 4 or kind == 3) and 7 or 1 end
    return answer
  end
  -- retval, filename = GetUserFileNameForRead(filenameNeed4096, title, defext): false when cancelled
  function r.GetUserFileNameForRead(initial, title, defext)
    state.file_calls = state.file_calls or {}
    state.file_calls[#state.file_calls + 1] = { initial = initial, title = title, defext = defext }
    local answer = table.remove(state.file_answers or {}, 1)
    if not answer then return false, initial or "" end
    return true, answer
  end
  function r.GetUserInputs(title, n, captions, values)
    state.input_calls[#state.input_calls + 1] = { title = title, n = n, captions = captions, values = values }
    local answer = table.remove(state.inputs, 1)
    if answer == nil then return false, values end
    if answer == false then return false, values end
    return true, answer
  end

  -- undo
  function r.Undo_BeginBlock()
    state.undo_open = state.undo_open + 1
  end
  function r.Undo_BeginBlock2(proj) r.Undo_BeginBlock() end
  --- Every closed outer block is recorded as an undo point, whatever changed (the pessimistic
  --- reading: the scripts must not open a block when they change nothing).
  function r.Undo_EndBlock(desc, flags)
    assert(state.undo_open > 0, "fake: Undo_EndBlock without Undo_BeginBlock")
    state.undo_open = state.undo_open - 1
    if state.undo_open == 0 then state.undo[#state.undo + 1] = { desc = desc, flags = flags } end
  end
  function r.Undo_EndBlock2(proj, desc, flags) r.Undo_EndBlock(desc, flags) end

  -- FX
  function r.TrackFX_GetCount(track) return #track.fx end
  function r.TrackFX_AddByName(track, name, rec, instantiate)
    if name ~= "ReaEQ" and name ~= "ReaEQ (Cockos)" and name ~= "VST: ReaEQ (Cockos)" then
      if instantiate == 0 then return -1 end
      error("fake: only ReaEQ can be inserted, asked for " .. tostring(name))
    end
    if instantiate == 0 or instantiate == 1 then
      for i, fx in ipairs(track.fx) do if fx.kind == "reaeq" then return i - 1 end end
      if instantiate == 0 then return -1 end
    end
    changed("insert fx")
    -- instantiate -1000 - n inserts at chain position n (SDK); -1 and others append at the end
    local at = #track.fx
    if instantiate <= -1000 then at = math.min(-1000 - instantiate, #track.fx) end
    table.insert(track.fx, at + 1, new_reaeq())
    return at
  end
  function r.TrackFX_Delete(track, fx)
    if not fx_at(track, fx) then return false end
    changed("delete fx")
    table.remove(track.fx, fx + 1)
    return true
  end
  function r.TrackFX_GetFXName(track, fx, buf)
    local f = fx_at(track, fx)
    if not f then return false, "" end
    return true, (f.renamed ~= "" and f.renamed) or f.ident
  end
  function r.TrackFX_GetEnabled(track, fx) return fx_at(track, fx).enabled end
  function r.TrackFX_SetEnabled(track, fx, on) changed("fx enabled"); fx_at(track, fx).enabled = on end
  function r.TrackFX_GetNumParams(track, fx)
    local f = fx_at(track, fx)
    if f.kind ~= "reaeq" then return #f.params end
    return 3 * f.nbands + 4
  end
  function r.TrackFX_GetParamName(track, fx, param, buf)
    local f = fx_at(track, fx)
    if not f or param < 0 or param >= r.TrackFX_GetNumParams(track, fx) then return false, "" end
    if f.kind ~= "reaeq" then return true, "Param " .. (param + 1) end
    local b, what = band_of(f, param)
    if b then
      local label = BAND_TYPES[f.bands[b].type][1] .. (b == 0 and "" or (" " .. (b + 1)))
      return true, ({ freq = "Freq", gain = "Gain", bw = "BW" })[what] .. "-" .. label
    end
    return true, ({ global = "Global Gain", bypass = "Bypass", wet = "Wet", delta = "Delta" })[what]
  end
  function r.TrackFX_GetParamNormalized(track, fx, param) return get_norm(fx_at(track, fx), param) end
  function r.TrackFX_SetParamNormalized(track, fx, param, value)
    local f = fx_at(track, fx)
    if not f or param < 0 or param >= r.TrackFX_GetNumParams(track, fx) then return false end
    changed("param")
    value = math.max(0, math.min(1, value))
    if f.kind ~= "reaeq" then f.params[param + 1] = value return true end
    local b, what = band_of(f, param)
    if b then
      if disobey[what] then return true end
      f.bands[b].n[({ freq = 1, gain = 2, bw = 3 })[what]] = value
    else
      f.globals[param - 3 * f.nbands + 1] = value
    end
    return true
  end
  local function formatted(f, param, n)
    if f.kind ~= "reaeq" then return string.format("%.3f", n) end
    local _, what = band_of(f, param)
    return format(what, value_of(what, n))
  end
  function r.TrackFX_GetFormattedParamValue(track, fx, param, buf)
    local f = fx_at(track, fx)
    if not f or param < 0 or param >= r.TrackFX_GetNumParams(track, fx) then return false, "" end
    return true, formatted(f, param, get_norm(f, param))
  end
  function r.TrackFX_FormatParamValueNormalized(track, fx, param, value, buf)
    local f = fx_at(track, fx)
    if not f or param < 0 or param >= r.TrackFX_GetNumParams(track, fx) then return false, "" end
    return true, formatted(f, param, math.max(0, math.min(1, value)))
  end
  function r.TrackFX_GetEQParam(track, fx, param)
    local f = fx_at(track, fx)
    if not f or f.kind ~= "reaeq" then return false, 0, 0, 0, 0 end
    local b, what = band_of(f, param)
    if b then
      local eqtype = BAND_TYPES[f.bands[b].type][2]
      local idx = 0
      for k = 0, b - 1 do if BAND_TYPES[f.bands[k].type][2] == eqtype then idx = idx + 1 end end
      return true, eqtype, idx, ({ freq = 0, gain = 1, bw = 2 })[what], get_norm(f, param)
    end
    if what == "global" then return true, -1, 0, 0, get_norm(f, param) end
    return false, 0, 0, 0, 0
  end
  function r.TrackFX_GetNamedConfigParm(track, fx, name)
    local f = fx_at(track, fx)
    if not f then return false, "" end
    if name == "renamed_name" then return true, f.renamed end
    if name == "fx_ident" then return true, f.ident end
    if f.kind ~= "reaeq" then return false, "" end
    local key, idx = name:match("^(BAND%u+)(%d+)$")
    idx = tonumber(idx)
    if idx and f.bands[idx] then
      if key == "BANDTYPE" then return true, tostring(f.bands[idx].type) end
      if key == "BANDENABLED" then return true, tostring(f.bands[idx].enabled) end
    end
    return false, ""
  end
  function r.TrackFX_SetNamedConfigParm(track, fx, name, value)
    local f = fx_at(track, fx)
    if not f then return false end
    if name == "renamed_name" then
      changed("rename fx")
      if not disobey.rename then f.renamed = tostring(value) end
      return true
    end
    if f.kind ~= "reaeq" then return false end
    local key, idx = name:match("^(BAND%u+)(%d+)$")
    idx = tonumber(idx)
    if not idx or not f.bands[idx] then return false end -- ReaEQ cannot gain bands this way
    local v = tonumber(value)
    if key == "BANDTYPE" and v and BAND_TYPES[v] then
      changed("band type")
      if not disobey.bandtype then f.bands[idx].type = v end
      return true
    end
    if key == "BANDENABLED" and v then -- works, yet returns false (reaper-sdk issue 14)
      changed("band enabled"); f.bands[idx].enabled = (v ~= 0) and 1 or 0; return false
    end
    return false
  end

  -- items and the audio accessor
  Media.install(r)
  function r.CreateTrackAudioAccessor(track)
    state.accessors_open = state.accessors_open + 1
    return { track = track }
  end
  function r.DestroyAudioAccessor(acc) state.accessors_open = state.accessors_open - 1 end
  function r.GetAudioAccessorStartTime(acc) return (Media.span(acc.track)) end
  function r.GetAudioAccessorEndTime(acc) return select(2, Media.span(acc.track)) end
  function r.GetAudioAccessorSamples(acc, rate, channels, start, frames, buf)
    return Media.mix(acc.track, rate, channels, start, frames, buf._data)
  end

  -- gfx: a window that exists between gfx.init and gfx.quit; getchar returns the test's keys
  local gfx = { w = 0, h = 0, x = 0, y = 0 }
  function gfx.init(title, w, h) state.gfx_open, state.gfx_title, gfx.w, gfx.h = true, title, w, h return 1 end
  function gfx.quit() state.gfx_open = false end
  function gfx.getchar()
    if not state.gfx_open then return -1 end
    local key = table.remove(state.keys, 1)
    if key == -1 then state.gfx_open = false end
    return key or 0
  end
  function gfx.set() end
  function gfx.rect() end
  function gfx.drawstr(s) state.gfx_text = s end
  function gfx.update() end
  state.gfx = gfx

  --- reaper.array: methods are called with a dot (buf.table(), buf.clear()).
  function r.new_array(size)
    local data = {}
    for i = 1, size do data[i] = 0.0 end
    local arr = { _data = data }
    function arr.clear(value, offset)
      for i = (offset or 0) + 1, size do data[i] = value or 0.0 end
    end
    function arr.table(offset, count)
      offset = offset or 1
      count = count or (size - offset + 1)
      return table.move(data, offset, offset + count - 1, 1, {})
    end
    function arr.get_alloc() return size end
    return arr
  end

  -- files and processes
  function r.RecursiveCreateDirectory(path, ignored)
    os.execute("mkdir -p '" .. path:gsub("'", "'\\''") .. "'")
    return 1
  end
  local function list(path, dirs)
    local flag = dirs and "-type d" or "-type f"
    local p = io.popen("find '" .. path:gsub("'", "'\\''") .. "' -mindepth 1 -maxdepth 1 " .. flag
      .. " -printf '%f\\n' 2>/dev/null | sort")
    local names = {}
    for line in p:lines() do names[#names + 1] = line end
    p:close()
    return names
  end
  -- REAPER caches directory listings: index -1 invalidates the cache (and returns nil)
  local listing_cache = {}
  local function cached(path, dirs, idx)
    local key = (dirs and "d\0" or "f\0") .. path
    if idx == -1 then listing_cache[key] = nil return nil end
    listing_cache[key] = listing_cache[key] or list(path, dirs)
    return listing_cache[key][idx + 1]
  end
  -- before 6.19 the end of a listing was "" in Lua (REAPER 6.09's help), nil since
  local function ending(name) if name == nil and opts.old_enumerate then return "" end return name end
  function r.EnumerateFiles(path, idx) return ending(cached(path, false, idx)) end
  function r.EnumerateSubdirectories(path, idx) return ending(cached(path, true, idx)) end
  function r.file_exists(path)
    local f = io.open(path, "rb")
    if f then f:close() return true end
    return false
  end

  --- Runs the program without a shell, as REAPER does (fake_exec.lua).
  function r.ExecProcess(cmdline, timeout_ms)
    local entry = { cmd = cmdline, timeout_ms = timeout_ms }
    state.exec_log[#state.exec_log + 1] = entry
    if opts.exec_hook then
      local result = opts.exec_hook(cmdline, timeout_ms)
      if result ~= false then entry.result = result return result end
    end
    entry.result, entry.argv = Exec.exec_process(r.GetOS(), cmdline, timeout_ms)
    return entry.result
  end

  setmetatable(r, { __index = function(_, key)
    error("fake REAPER: reaper." .. tostring(key) .. " is not modelled (is it a real ReaScript function?)", 2)
  end })

  --- Wall-clock (state.slices) and CPU time of this process (state.slices_cpu) of one slice, s:
  --- on a busy machine the wall time includes waiting for a CPU, the CPU time is the script's work.
  state.slices_cpu = {}
  local function timed(fn, ...)
    local t0, c0 = system.monotime(), os.clock()
    fn(...)
    state.slices[#state.slices + 1] = system.monotime() - t0
    state.slices_cpu[#state.slices_cpu + 1] = os.clock() - c0
  end

  --- Run a script file as REAPER does: `action_path` is the name it runs under (an alias of a
  --- bundle); a script that never called reaper.defer gets the automatic undo point.
  function state.run_script(path, action_path)
    state.action_path = action_path or path
    state.deferred_in_run = false
    timed(dofile, path)
    if not state.deferred_in_run then state.undo[#state.undo + 1] = { desc = "ReaScript: Run", auto = true } end
  end

  --- Run deferred functions at REAPER's pace until none is left or `max_s` seconds pass;
  --- `each(state)` (optional) runs between UI cycles (a test pressing keys, say).
  function state.run_deferred(max_s, each)
    local t_end = system.monotime() + (max_s or 60)
    while #state.deferred > 0 do
      local queue = state.deferred
      state.deferred = {}
      for _, fn in ipairs(queue) do timed(fn) end
      if system.monotime() > t_end then
        for _, fn in ipairs(state.atexit) do fn() end -- as when the user terminates the script
        error("fake: deferred functions still running after " .. (max_s or 60) .. " s")
      end
      if each then each(state) end
      if #state.deferred > 0 then system.sleep(Fake.DEFER_INTERVAL_S) end
    end
  end

  --- The longest main-thread slice so far (s): wall clock, or CPU time with `cpu`.
  function state.longest_slice(cpu)
    local m = 0
    for _, d in ipairs(cpu and state.slices_cpu or state.slices) do m = math.max(m, d) end
    return m
  end

  --- Values of a ReaEQ band in units: { type, enabled, freq_hz, gain_db, bw_oct }.
  function state.band_values(fx, b)
    local band = fx.bands[b]
    return { type = band.type, enabled = band.enabled, freq_hz = mappings.freq(band.n[1]),
      gain_db = gain_map(band.n[2]), bw_oct = bw_map(band.n[3]) }
  end

  --- A deep copy of everything the scripts may change (to compare before/after).
  function state.snapshot()
    local function copy(v)
      if type(v) ~= "table" then return v end
      local out = {}
      for k, x in pairs(v) do out[k] = (k == "wav") and x or copy(x) end
      return out
    end
    return copy({ tracks = state.tracks, time_selection = state.time_selection, undo = state.undo })
  end

  state.reaper = r
  return r, state
end

return Fake
