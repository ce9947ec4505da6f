-- @noindex
-- Finding, inserting, reading and setting the track's ReaEQ named "Semantic EQ".
-- Every community fact is checked while the script runs (semeq/reaeq_values.lua): when REAPER
-- disagrees, the EQ is put back as it was and the caller gets a sentence saying what disagreed.

local U = require("semeq.util")
local V = require("semeq.reaeq_values")

local R = {}

R.FX_NAME = "Semantic EQ"
local MAX_BANDS = 64 -- stop counting ReaEQ bands here
--- TrackFX_AddByName's instantiate value that inserts at chain position 0 (-1000 - position, SDK).
R.INSERT_FIRST = -1000

local function fx_display_name(track, fx)
  local ok, renamed = reaper.TrackFX_GetNamedConfigParm(track, fx, "renamed_name")
  if ok and renamed and renamed ~= "" then return renamed end
  local _, name = reaper.TrackFX_GetFXName(track, fx, "")
  return name or ""
end

--- True when the FX answers ReaEQ's band configuration (BANDENABLED0), i.e. it is a ReaEQ.
local function is_reaeq(track, fx)
  local ok = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED0")
  return ok == true
end

--- Index of the track's ReaEQ named "Semantic EQ", or nil.
function R.find(track)
  for fx = 0, reaper.TrackFX_GetCount(track) - 1 do
    if fx_display_name(track, fx) == R.FX_NAME and is_reaeq(track, fx) then return fx end
  end
  return nil
end

--- Number of bands: BANDENABLED<n> read until the call returns false (OSARA's way).
function R.count_bands(track, fx)
  local n = 0
  while n < MAX_BANDS and reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. n) do n = n + 1 end
  return n
end

local PARAM_PREFIX = { freq = { "freq" }, gain = { "gain" }, bw = { "bw", "q" } }
local PARAM_OFFSET = { freq = 0, gain = 1, bw = 2 }
local EQ_PARAMTYPE = { freq = 0, gain = 1, bw = 2 }

--- Parameter index of a band's freq/gain/bw, checked against the parameter's name.
function R.param_index(track, fx, band, what)
  local index = 3 * band + PARAM_OFFSET[what]
  local _, name = reaper.TrackFX_GetParamName(track, fx, index, "")
  name = (name or ""):lower()
  for _, prefix in ipairs(PARAM_PREFIX[what]) do
    if name:sub(1, #prefix) == prefix then return index end
  end
  return nil, string.format("ReaEQ parameter %d is called '%s', not the %s of band %d as expected; "
    .. "this ReaEQ does not have the parameter layout the scripts know (Freq, Gain, BW per band).",
    index, name, V.WHAT_NAME[what], band + 1)
end

--- Snapshot of everything the scripts may change on one FX (for a restore on failure).
function R.snapshot(track, fx)
  local snap = { params = {}, bands = {} }
  for p = 0, reaper.TrackFX_GetNumParams(track, fx) - 1 do
    snap.params[p] = reaper.TrackFX_GetParamNormalized(track, fx, p)
  end
  for b = 0, R.count_bands(track, fx) - 1 do
    local _, t = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDTYPE" .. b)
    local _, e = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. b)
    snap.bands[b] = { type = t, enabled = e }
  end
  return snap
end

function R.restore(track, fx, snap)
  for b, band in pairs(snap.bands) do
    reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDTYPE" .. b, band.type)
    reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDENABLED" .. b, band.enabled)
  end
  for p, v in pairs(snap.params) do reaper.TrackFX_SetParamNormalized(track, fx, p, v) end
end

--- The 13 EQ parameters the "Semantic EQ" ReaEQ holds now, or nil when it is missing or its
--- first five bands are not low shelf, three peaks, high shelf.
function R.current_params(track)
  local fx = R.find(track)
  if not fx or R.count_bands(track, fx) < 5 then return nil end
  local bands = {}
  for b = 0, 4 do
    local _, code = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDTYPE" .. b)
    local _, on = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. b)
    if tonumber(code) ~= V.BANDTYPE[V.KINDS[b + 1]] then return nil end
    local values = {}
    for _, what in ipairs({ "freq", "gain", "bw" }) do
      local p = R.param_index(track, fx, b, what)
      if not p then return nil end
      values[what] = V.read_value(track, fx, p, what)
      if values[what] == nil then return nil end
    end
    if tonumber(on) == 0 then values.gain = 0 end
    bands[b + 1] = values
  end
  local function g(v) return U.clamp(v, -12, 12) end
  local function f(v) return U.clamp(v, 20, 20000) end
  local function q(bw) return U.clamp(V.q_from_bw(math.max(bw, 1e-3)), 0.1, 10) end
  return {
    low_shelf_gain_db = g(bands[1].gain), low_shelf_freq_hz = f(bands[1].freq),
    peak1_gain_db = g(bands[2].gain), peak1_freq_hz = f(bands[2].freq), peak1_q = q(bands[2].bw),
    peak2_gain_db = g(bands[3].gain), peak2_freq_hz = f(bands[3].freq), peak2_q = q(bands[3].bw),
    peak3_gain_db = g(bands[4].gain), peak3_freq_hz = f(bands[4].freq), peak3_q = q(bands[4].bw),
    high_shelf_gain_db = g(bands[5].gain), high_shelf_freq_hz = f(bands[5].freq),
  }
end

--- Write a named config value and read it back; the Set call's own answer is not trusted
--- (it returns false for BANDENABLEDn even when it works, reaper-sdk issue 14).
local function set_config_checked(track, fx, key, value)
  reaper.TrackFX_SetNamedConfigParm(track, fx, key, tostring(value))
  local ok, back = reaper.TrackFX_GetNamedConfigParm(track, fx, key)
  if not ok or tonumber(back) ~= tonumber(value) then
    return nil, string.format("REAPER did not take %s = %s (it reads back '%s').", key, tostring(value), tostring(back))
  end
  return true
end

--- Check with the SDK's own EQ call that a parameter belongs to the expected band type and role.
local function check_eq_param(track, fx, param, kind, what)
  local ok, bandtype, _, paramtype = reaper.TrackFX_GetEQParam(track, fx, param)
  if not ok then
    return nil, string.format("REAPER's TrackFX_GetEQParam does not know ReaEQ parameter %d.", param)
  end
  if bandtype ~= V.EQ_BANDTYPE[kind] or paramtype ~= EQ_PARAMTYPE[what] then
    return nil, string.format("After setting band type code %d, REAPER reports band type %d / parameter type %d "
      .. "for parameter %d, not %d / %d: the two band-type numberings are not the ones the scripts know.",
      V.BANDTYPE[kind], bandtype, paramtype, param, V.EQ_BANDTYPE[kind], EQ_PARAMTYPE[what])
  end
  return true
end

--- What to do when the ReaEQ has fewer than five bands (no documented call adds bands).
function R.few_bands_message(count)
  return string.format("The ReaEQ named '%s' on this track has %d band%s; Semantic EQ needs 5 (low shelf, "
    .. "three bands, high shelf). It was left in place and unchanged. To fix it: open it (click it in the "
    .. "track's FX chain), right-click the graph, choose 'Add band' until it shows 5 bands, and run the "
    .. "action again. To have 5 bands in every new ReaEQ, save such a ReaEQ as the default preset "
    .. "(+ menu > Save preset as default).", R.FX_NAME, count, count == 1 and "" or "s")
end

local function set_band_value(track, fx, b, band, what)
  local kind = V.KINDS[b + 1]
  local targets = {
    freq = { band.freq_hz, V.norm_from_freq(band.freq_hz) },
    gain = { band.gain_db, V.norm_from_gain(band.gain_db) },
    bw = { band.bw_oct, (type(band.bw_norm) == "number") and band.bw_norm or V.norm_guess_from_bw(band.bw_oct) },
  }
  local param, perr = R.param_index(track, fx, b, what)
  if not param then return nil, perr end
  local ok, err = check_eq_param(track, fx, param, kind, what)
  if not ok then return nil, err end
  local target, guess = targets[what][1], targets[what][2]
  local norm, how = V.solve_norm(track, fx, param, what, target, guess)
  if not norm then return nil, string.format("Band %d %s: %s.", b + 1, V.WHAT_NAME[what], how) end
  reaper.TrackFX_SetParamNormalized(track, fx, param, norm)
  local shown, res, text = V.formatted_now(track, fx, param)
  if shown == nil or math.abs(shown - target) > V.tolerance(what, math.abs(target), res) then
    return nil, string.format("REAPER shows band %d %s as '%s' after setting %s %s.",
      b + 1, V.WHAT_NAME[what], tostring(text), U.fmt_num(target, 2), V.WHAT_UNIT[what])
  end
  return true
end

--- Set the five bands of the answer on the FX, checking each step. Returns true or nil, reason.
function R.write_bands(track, fx, bands, fresh)
  local count = R.count_bands(track, fx)
  for b = 0, 4 do
    local band, kind = bands[b + 1], V.KINDS[b + 1]
    if band.kind and band.kind ~= kind then
      return nil, string.format("The server's band %d is a %s, expected a %s.", b + 1, band.kind, kind)
    end
    local ok, err = set_config_checked(track, fx, "BANDTYPE" .. b, band.bandtype_code or V.BANDTYPE[kind])
    if ok then ok, err = set_config_checked(track, fx, "BANDENABLED" .. b, 1) end
    if not ok then return nil, err end
  end
  if fresh then -- a new instance: bands past the fifth come from the user's default preset; turn them off
    for b = 5, count - 1 do
      local ok, err = set_config_checked(track, fx, "BANDENABLED" .. b, 0)
      if not ok then return nil, err end
    end
  end
  for b = 0, 4 do
    for _, what in ipairs({ "freq", "gain", "bw" }) do
      local ok, err = set_band_value(track, fx, b, bands[b + 1], what)
      if not ok then return nil, err end
    end
  end
  return true
end

--- Insert a ReaEQ first in the chain (the audio the server heard is the track before its FX)
--- and name it "Semantic EQ". Returns fx index or nil, reason.
local function insert(track)
  local fx = reaper.TrackFX_AddByName(track, "ReaEQ", false, R.INSERT_FIRST)
  if not fx or fx < 0 then return nil, "REAPER could not insert ReaEQ on this track." end
  reaper.TrackFX_SetNamedConfigParm(track, fx, "renamed_name", R.FX_NAME)
  if fx_display_name(track, fx) ~= R.FX_NAME then
    reaper.TrackFX_Delete(track, fx)
    return nil, "REAPER could not rename the new ReaEQ to 'Semantic EQ' (renaming FX needs REAPER 6.37 or newer)."
  end
  if not is_reaeq(track, fx) then
    reaper.TrackFX_Delete(track, fx)
    return nil, "The FX REAPER inserted for 'ReaEQ' does not answer ReaEQ's band configuration (BANDENABLED0)."
  end
  return fx
end

--- Apply one answer's five ReaEQ bands to a track, all or nothing.
--- Returns a result table { ok = true|false, changed = bool, message = sentence or nil,
--- bypassed = bool, inserted = bool }. An existing "Semantic EQ" stays where the user put it,
--- bypassed if it was; a new one goes first in the chain. With fewer than five bands the
--- instance is kept (a new one too: it is what the user must add bands to) and nothing is set.
function R.apply(track, bands)
  if type(bands) ~= "table" or #bands ~= 5 then
    return { ok = false, changed = false, message = "The server's answer has no five ReaEQ bands." }
  end
  local fx = R.find(track)
  local fresh = false
  if not fx then
    local err
    fx, err = insert(track)
    if not fx then return { ok = false, changed = false, message = err } end
    fresh = true
  end
  local count = R.count_bands(track, fx)
  if count < 5 then
    return { ok = false, changed = fresh, inserted = fresh, message = R.few_bands_message(count) }
  end
  local snap = not fresh and R.snapshot(track, fx)
  local ok, err = R.write_bands(track, fx, bands, fresh)
  if not ok then
    if fresh then reaper.TrackFX_Delete(track, fx) else R.restore(track, fx, snap) end
    return { ok = false, changed = false, message = err }
  end
  local bypassed = not reaper.TrackFX_GetEnabled(track, fx)
  return { ok = true, changed = true, inserted = fresh, bypassed = bypassed,
    message = bypassed and ("Its 'Semantic EQ' is bypassed, and was left bypassed: the new bands are set "
      .. "but you will hear them only after you switch it on (FX chain: the checkbox beside it).") or nil }
end

return R
