-- @noindex
-- Semantic EQ Bridge for REAPER: the shared module behind every "Semantic EQ" action.
--
-- The actions are a few lines each; they load this file with dofile() and call one function.
-- What it does, in order: reads the selected track's audio before its FX (audio accessor) into a
-- float32 WAV in the server's renders/ folder, asks the running `semeq serve` through the
-- `semeq send` client (reaper.ExecProcess) or through the watch folder (reaper.defer polling),
-- and sets the track's ReaEQ named "Semantic EQ" to the answer, reading every value back.
--
-- Units: frequencies in Hz, gains in dB, bandwidths in octaves, times in seconds.
-- Every REAPER fact that is not stated by REAPER's own SDK is checked while the script runs
-- (see docs/reaper.md, "What the scripts check"): when REAPER disagrees, nothing is left changed.

local M = {}

M.VERSION = "0.1.0"
M.FX_NAME = "Semantic EQ"
M.EXT_SECTION = "SemanticEQ"
M.TITLE = "Semantic EQ"

local SAMPLE_RATE_FALLBACK_HZ = 48000
local SCAN_RATE_HZ = 8000          -- rate at which the whole track is scanned for its loudest part
local BLOCK_FRAMES = 8192          -- audio accessor block size (frames)
local SEARCH_STEPS = 40            -- bisection steps when searching a normalized value
local MAX_BANDS = 64               -- stop counting ReaEQ bands here

-- ---------------------------------------------------------------------------------------------
-- JSON (REAPER's Lua has none): decode objects, arrays, strings, numbers, true/false/null;
-- encode tables (arrays when keys are 1..n, objects otherwise, keys sorted).
-- ---------------------------------------------------------------------------------------------

local json = {}
M.json = json
json.null = setmetatable({}, { __tostring = function() return "null" end })

local function utf8_char(code)
  return utf8.char(code)
end

local function decode_error(text, pos, what)
  error(string.format("invalid JSON at character %d: %s", pos, what), 0)
end

local decode_value

local function skip_ws(text, pos)
  return text:find("[^ \t\r\n]", pos) or (#text + 1)
end

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function decode_string(text, pos)
  local parts, i = {}, pos + 1
  while true do
    local j = text:find('["\\]', i)
    if not j then decode_error(text, pos, "unterminated string") end
    parts[#parts + 1] = text:sub(i, j - 1)
    if text:sub(j, j) == '"' then return table.concat(parts), j + 1 end
    local e = text:sub(j + 1, j + 1)
    if e == "u" then
      local hex = text:sub(j + 2, j + 5)
      if not hex:match("^%x%x%x%x$") then decode_error(text, j, "bad \\u escape") end
      local code = tonumber(hex, 16)
      local next_i = j + 6
      if code >= 0xD800 and code <= 0xDBFF and text:sub(next_i, next_i + 1) == "\\u" then
        local low = tonumber(text:sub(next_i + 2, next_i + 5), 16)
        if low and low >= 0xDC00 and low <= 0xDFFF then
          code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
          next_i = next_i + 6
        end
      end
      parts[#parts + 1] = utf8_char(code)
      i = next_i
    elseif escapes[e] then
      parts[#parts + 1] = escapes[e]
      i = j + 2
    else
      decode_error(text, j, "bad escape")
    end
  end
end

local function decode_number(text, pos)
  local s = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  local n = s and tonumber(s)
  if not n then decode_error(text, pos, "bad number") end
  return n, pos + #s
end

local literals = { ["true"] = true, ["false"] = false }

decode_value = function(text, pos)
  pos = skip_ws(text, pos)
  local c = text:sub(pos, pos)
  if c == "{" then
    local obj = {}
    pos = skip_ws(text, pos + 1)
    if text:sub(pos, pos) == "}" then return obj, pos + 1 end
    while true do
      pos = skip_ws(text, pos)
      if text:sub(pos, pos) ~= '"' then decode_error(text, pos, "expected a key") end
      local key
      key, pos = decode_string(text, pos)
      pos = skip_ws(text, pos)
      if text:sub(pos, pos) ~= ":" then decode_error(text, pos, "expected ':'") end
      obj[key], pos = decode_value(text, pos + 1)
      pos = skip_ws(text, pos)
      local d = text:sub(pos, pos)
      if d == "}" then return obj, pos + 1 end
      if d ~= "," then decode_error(text, pos, "expected ',' or '}'") end
      pos = pos + 1
    end
  elseif c == "[" then
    local arr, n = {}, 0
    pos = skip_ws(text, pos + 1)
    if text:sub(pos, pos) == "]" then return arr, pos + 1 end
    while true do
      n = n + 1
      arr[n], pos = decode_value(text, pos)
      pos = skip_ws(text, pos)
      local d = text:sub(pos, pos)
      if d == "]" then return arr, pos + 1 end
      if d ~= "," then decode_error(text, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == '"' then
    return decode_string(text, pos)
  elseif c == "-" or c:match("%d") then
    return decode_number(text, pos)
  end
  for word, value in pairs(literals) do
    if text:sub(pos, pos + #word - 1) == word then return value, pos + #word end
  end
  if text:sub(pos, pos + 3) == "null" then return json.null, pos + 4 end
  if text:sub(pos, pos + 2) == "NaN" then return 0 / 0, pos + 3 end
  decode_error(text, pos, "unexpected '" .. c .. "'")
end

--- Decode one JSON value; raises an error naming the position on bad input.
function json.decode(text)
  if type(text) ~= "string" then error("invalid JSON: not a string", 0) end
  local value, pos = decode_value(text, 1)
  pos = skip_ws(text, pos)
  if pos <= #text then decode_error(text, pos, "trailing characters") end
  return value
end

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(ch)
    local map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return map[ch] or string.format("\\u%04x", ch:byte())
  end) .. '"'
end

local function encode(value)
  local t = type(value)
  if value == json.null or value == nil then return "null" end
  if t == "boolean" then return tostring(value) end
  if t == "number" then
    if value ~= value or value == math.huge or value == -math.huge then error("JSON cannot hold " .. tostring(value), 0) end
    if math.type(value) == "integer" then return tostring(value) end
    return string.format("%.17g", value)
  end
  if t == "string" then return encode_string(value) end
  if t == "table" then
    local n = #value
    local count = 0
    for _ in pairs(value) do count = count + 1 end
    if count == n and (n > 0 or getmetatable(value) == json.array_mt) then
      local out = {}
      for i = 1, n do out[i] = encode(value[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(value) do
      if type(k) ~= "string" then error("JSON object keys must be strings", 0) end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    local out = {}
    for i, k in ipairs(keys) do out[i] = encode_string(k) .. ":" .. encode(value[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  error("JSON cannot hold a " .. t, 0)
end
json.array_mt = {}

--- Encode a Lua value as JSON text.
function json.encode(value)
  return encode(value)
end

-- ---------------------------------------------------------------------------------------------
-- Small helpers
-- ---------------------------------------------------------------------------------------------

local function is_windows()
  return (reaper.GetOS() or ""):match("^Win") ~= nil
end

local function sep()
  return is_windows() and "\\" or "/"
end

local function join(...)
  local parts = { ... }
  local s = sep()
  local out = parts[1]:gsub("[/\\]+$", "")
  for i = 2, #parts do out = out .. s .. parts[i] end
  return out
end
M.join = join

local function user_home()
  return os.getenv("HOME") or os.getenv("USERPROFILE") or "."
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

--- Write text to a file through a temporary name and a rename (the reader never sees half a file).
local function write_file_atomic(path, data)
  local dir, name = path:match("^(.*[/\\])([^/\\]+)$")
  local tmp = (dir or "") .. "." .. (name or path) .. ".part"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write(data)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then os.remove(tmp) return nil, rerr end
  return true
end

local stem_counter = 0

local function unique_stem()
  stem_counter = stem_counter + 1
  local t = reaper.time_precise()
  return string.format("reaper-%d-%06d-%d", os.time(), math.floor((t * 1000003) % 1000000), stem_counter)
end

local function show(message, kind)
  return reaper.ShowMessageBox(message, M.TITLE, kind or 0)
end
M.show = show

local function fmt_num(x, decimals)
  return string.format("%." .. (decimals or 1) .. "f", x)
end

local function fmt_signed(x, decimals)
  return string.format("%+." .. (decimals or 1) .. "f", x)
end

-- ---------------------------------------------------------------------------------------------
-- Settings (SetExtState/GetExtState, persisted)
-- ---------------------------------------------------------------------------------------------

local SETTINGS = {
  { key = "semeq_path", caption = "semeq command (full path)", default = function() return "semeq" end },
  { key = "port", caption = "Server port", default = function() return "7710" end },
  { key = "home", caption = "Server home / watch folder",
    default = function() return join(user_home(), "SemanticEQ") end },
  { key = "analysis_seconds", caption = "Analysis length (s)", default = function() return "30" end },
  { key = "transport", caption = "Talk via (send or folder)", default = function() return "send" end },
  { key = "timeout_seconds", caption = "Answer timeout (s)", default = function() return "30" end },
  { key = "suggest_strength", caption = "Auto-suggest strength (0-1)", default = function() return "0.5" end },
}
M.SETTINGS = SETTINGS

--- The current settings: stored values, or defaults for the ones never set.
function M.settings()
  local s = {}
  for _, item in ipairs(SETTINGS) do
    local v = reaper.GetExtState(M.EXT_SECTION, item.key)
    s[item.key] = (v ~= nil and v ~= "") and v or item.default()
  end
  s.port_number = tonumber(s.port)
  s.analysis_seconds_number = tonumber(s.analysis_seconds)
  s.timeout_seconds_number = tonumber(s.timeout_seconds)
  s.suggest_strength_number = tonumber(s.suggest_strength)
  return s
end

--- Check settings values; returns a table of clean values or nil and a sentence.
function M.validate_settings(values)
  local port = tonumber(values.port)
  if not port or port ~= math.floor(port) or port < 1 or port > 65535 then
    return nil, "The server port must be a whole number from 1 to 65535 (the server's default is 7710)."
  end
  local secs = tonumber(values.analysis_seconds)
  if not secs or secs < 1 or secs > 600 then
    return nil, "The analysis length must be a number of seconds from 1 to 600."
  end
  local timeout = tonumber(values.timeout_seconds)
  if not timeout or timeout < 1 or timeout > 600 then
    return nil, "The answer timeout must be a number of seconds from 1 to 600."
  end
  local strength = tonumber(values.suggest_strength)
  if not strength or strength < 0 or strength > 1 then
    return nil, "The auto-suggest strength must be a number from 0 to 1."
  end
  if values.transport ~= "send" and values.transport ~= "folder" then
    return nil, "'Talk via' must be 'send' (the semeq send client) or 'folder' (the watch folder)."
  end
  if (values.semeq_path or ""):match("^%s*$") then
    return nil, "The semeq command cannot be empty; give its full path, e.g. /home/me/.venv/bin/semeq."
  end
  if (values.home or ""):match("^%s*$") then
    return nil, "The server home folder cannot be empty (the server's default is ~/SemanticEQ)."
  end
  return values
end

function M.save_settings(values)
  for _, item in ipairs(SETTINGS) do
    reaper.SetExtState(M.EXT_SECTION, item.key, tostring(values[item.key]), true)
  end
end

-- ---------------------------------------------------------------------------------------------
-- ReaEQ facts (../shared/docs/reaper-and-osc-facts.md). Community formulas are only a first
-- guess: every value is checked against REAPER's own formatted display before it is used.
-- ---------------------------------------------------------------------------------------------

local reaeq = {}
M.reaeq = reaeq

-- BANDTYPEx codes (Cockos, OSARA issue 543) and TrackFX_GetEQParam band types (SDK).
reaeq.BANDTYPE = { low_shelf = 0, high_shelf = 1, peak = 8 }
reaeq.EQ_BANDTYPE = { low_shelf = 1, peak = 2, high_shelf = 4 }
reaeq.KINDS = { "low_shelf", "peak", "peak", "peak", "high_shelf" }

--- Community formula: normalized value -> Hz (20 Hz .. 24 kHz).
function reaeq.freq_from_norm(n)
  return 20 + 23980 * (401 ^ n - 1) / 400
end

function reaeq.norm_from_freq(hz)
  return math.log(1 + (hz - 20) * 400 / 23980) / math.log(401)
end

local AMP_12DB = 10 ^ (12 / 20)

--- Community formula: normalized gain -> dB (piecewise linear in amplitude; 0.5 = 0 dB).
function reaeq.gain_from_norm(n)
  local amp
  if n <= 0.5 then amp = 2 * n else amp = 1 + (n - 0.5) * 2 * (AMP_12DB - 1) end
  if amp <= 0 then return -math.huge end
  return 20 * math.log(amp, 10)
end

function reaeq.norm_from_gain(db)
  local amp = 10 ^ (db / 20)
  if amp <= 1 then return amp / 2 end
  return 0.5 + (amp - 1) / (2 * (AMP_12DB - 1))
end

--- One source: a raw BW value is octaves / 4. Only a first guess for the search.
function reaeq.norm_guess_from_bw(oct)
  return oct / 4
end

--- Peak bandwidth (octaves) <-> Q.
function reaeq.q_from_bw(oct)
  return 1 / (2 * math.sinh(math.log(2) / 2 * oct))
end

function reaeq.bw_from_q(q)
  local x = 1 / (2 * q)
  return (2 / math.log(2)) * math.log(x + math.sqrt(x * x + 1))
end

--- Parse a displayed value ("1000.0", "1.20k", "+2.1 dB", "-inf", "1.90 oct") into a number
--- and the display's resolution (one unit of the last digit, in the same unit).
function reaeq.parse_display(text)
  if type(text) ~= "string" then return nil end
  local s = text:lower():gsub(",", ".")
  if s:match("%-%s*inf") then return -math.huge, 0 end
  if s:match("inf") then return math.huge, 0 end
  local num = s:match("[-+]?%d+%.?%d*")
  if not num then return nil end
  local value = tonumber(num)
  local decimals = #(num:match("%.(%d*)$") or "")
  local resolution = 10 ^ (-decimals)
  local rest = s:sub((s:find(num, 1, true) or 0) + #num)
  if rest:match("^%s*k") then value, resolution = value * 1000, resolution * 1000 end
  return value, resolution
end

-- What counts as "REAPER agrees": base tolerance, widened to half a display step up to a cap.
reaeq.TOLERANCE = {
  freq = { base_rel = 0.005, cap_rel = 0.02 },
  gain = { base = 0.05, cap = 0.1 },
  bw = { base = 0.02, cap = 0.05 },
}

function reaeq.tolerance(kind, target, resolution)
  local t = reaeq.TOLERANCE[kind]
  local half = (resolution or 0) / 2
  if kind == "freq" then
    return math.max(t.base_rel * target, math.min(half, t.cap_rel * target))
  end
  return math.max(t.base, math.min(half, t.cap))
end

-- ---------------------------------------------------------------------------------------------
-- Finding, checking and setting the "Semantic EQ" ReaEQ
-- ---------------------------------------------------------------------------------------------

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
function reaeq.find(track)
  for fx = 0, reaper.TrackFX_GetCount(track) - 1 do
    if fx_display_name(track, fx) == M.FX_NAME and is_reaeq(track, fx) then return fx end
  end
  return nil
end

--- Number of bands: BANDENABLED<n> read until the call returns false (OSARA's way).
function reaeq.count_bands(track, fx)
  local n = 0
  while n < MAX_BANDS and reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. n) do n = n + 1 end
  return n
end

local PARAM_PREFIX = { freq = { "freq" }, gain = { "gain" }, bw = { "bw", "q" } }
local PARAM_OFFSET = { freq = 0, gain = 1, bw = 2 }
local EQ_PARAMTYPE = { freq = 0, gain = 1, bw = 2 }

--- Parameter index of a band's freq/gain/bw, checked against the parameter's name.
function reaeq.param_index(track, fx, band, what)
  local index = 3 * band + PARAM_OFFSET[what]
  local _, name = reaper.TrackFX_GetParamName(track, fx, index, "")
  name = (name or ""):lower()
  for _, prefix in ipairs(PARAM_PREFIX[what]) do
    if name:sub(1, #prefix) == prefix then return index end
  end
  return nil, string.format("ReaEQ parameter %d is called '%s', not the %s of band %d as expected; "
    .. "this ReaEQ does not have the parameter layout the scripts know (Freq, Gain, BW per band).",
    index, name, what == "bw" and "bandwidth" or what, band + 1)
end

local WHAT_UNIT = { freq = "Hz", gain = "dB", bw = "octaves" }
local WHAT_NAME = { freq = "frequency", gain = "gain", bw = "bandwidth" }

local function display_of(track, fx, param, norm)
  local ok, text = reaper.TrackFX_FormatParamValueNormalized(track, fx, param, norm, "")
  if not ok then return nil end
  return reaeq.parse_display(text)
end

local function formatted_now(track, fx, param)
  local ok, text = reaper.TrackFX_GetFormattedParamValue(track, fx, param, "")
  if not ok then return nil, nil, text end
  local v, res = reaeq.parse_display(text)
  return v, res, text
end

--- Smallest normalized value whose display is >= threshold (display increasing in n).
local function first_norm_at_or_above(track, fx, param, threshold, increasing)
  local lo, hi = 0.0, 1.0
  for _ = 1, SEARCH_STEPS do
    local mid = (lo + hi) / 2
    local v = display_of(track, fx, param, mid)
    if v == nil then return nil end
    if (v >= threshold) == increasing then hi = mid else lo = mid end
  end
  return increasing and hi or lo
end

--- Normalized value that REAPER displays as `target` (unit of `kind`).
--- Tries the community formula first; if REAPER's display disagrees, searches the display with
--- TrackFX_FormatParamValueNormalized (bisection) and interpolates between the two display steps
--- around the target, which is finer than the display itself.
function reaeq.solve_norm(track, fx, param, kind, target, guess)
  if guess and guess >= 0 and guess <= 1 then
    local v, res = display_of(track, fx, param, guess)
    if v and math.abs(v - target) <= reaeq.tolerance(kind, target, res) then return guess, "formula" end
  end
  local v0, res0 = display_of(track, fx, param, 0.0)
  local v1, res1 = display_of(track, fx, param, 1.0)
  if v0 == nil or v1 == nil then
    return nil, "REAPER's display of this parameter is not a number"
  end
  local increasing = v1 > v0
  local lo_v, hi_v = math.min(v0, v1), math.max(v0, v1)
  if target < lo_v or target > hi_v then
    return nil, string.format("%s %s is outside what this ReaEQ can hold (%s to %s), so REAPER cannot "
      .. "play this EQ as the server designed it", fmt_num(target, 2), WHAT_UNIT[kind], fmt_num(lo_v, 2), fmt_num(hi_v, 2))
  end
  local res = math.max(res0 or 0, res1 or 0)
  local _, res_mid = display_of(track, fx, param, guess or 0.5)
  res = res_mid or res
  if res <= 0 then res = 1e-6 end
  -- display steps are multiples of res; the step from k*res to (k+1)*res sits at (k+0.5)*res
  local k = math.floor(target / res - 0.5)
  local b1 = first_norm_at_or_above(track, fx, param, (k + 1) * res - res * 1e-3, increasing)
  local b2 = first_norm_at_or_above(track, fx, param, (k + 2) * res - res * 1e-3, increasing)
  if not b1 or not b2 then return nil, "REAPER's display of this parameter is not a number" end
  local frac = (target - (k + 0.5) * res) / res
  return b1 + frac * (b2 - b1), "search"
end

--- Snapshot of everything the scripts may change on one FX (for a restore on failure).
function reaeq.snapshot(track, fx)
  local snap = { params = {}, bands = {} }
  for p = 0, reaper.TrackFX_GetNumParams(track, fx) - 1 do
    snap.params[p] = reaper.TrackFX_GetParamNormalized(track, fx, p)
  end
  for b = 0, reaeq.count_bands(track, fx) - 1 do
    local _, t = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDTYPE" .. b)
    local _, e = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. b)
    snap.bands[b] = { type = t, enabled = e }
  end
  snap.enabled = reaper.TrackFX_GetEnabled(track, fx)
  return snap
end

function reaeq.restore(track, fx, snap)
  for b, band in pairs(snap.bands) do
    reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDTYPE" .. b, band.type)
    reaper.TrackFX_SetNamedConfigParm(track, fx, "BANDENABLED" .. b, band.enabled)
  end
  for p, v in pairs(snap.params) do reaper.TrackFX_SetParamNormalized(track, fx, p, v) end
  reaper.TrackFX_SetEnabled(track, fx, snap.enabled)
end

--- Read one value of a band in its unit: the formula's value when REAPER's display agrees with
--- it, otherwise REAPER's displayed value.
local function read_value(track, fx, param, kind)
  local n = reaper.TrackFX_GetParamNormalized(track, fx, param)
  local shown, res = formatted_now(track, fx, param)
  if shown == nil then return nil end
  local formula = (kind == "freq" and reaeq.freq_from_norm(n)) or (kind == "gain" and reaeq.gain_from_norm(n)) or nil
  if formula and math.abs(formula - shown) <= reaeq.tolerance(kind, math.abs(shown), res) then return formula end
  return shown
end

local function clamp(x, lo, hi)
  return math.max(lo, math.min(hi, x))
end

--- The 13 EQ parameters the "Semantic EQ" ReaEQ holds now, or nil when it is missing or its
--- first five bands are not low shelf, three peaks, high shelf.
function reaeq.current_params(track)
  local fx = reaeq.find(track)
  if not fx or reaeq.count_bands(track, fx) < 5 then return nil end
  local bands = {}
  for b = 0, 4 do
    local _, code = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDTYPE" .. b)
    local _, on = reaper.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED" .. b)
    if tonumber(code) ~= reaeq.BANDTYPE[reaeq.KINDS[b + 1]] then return nil end
    local values = {}
    for _, what in ipairs({ "freq", "gain", "bw" }) do
      local p = reaeq.param_index(track, fx, b, what)
      if not p then return nil end
      values[what] = read_value(track, fx, p, what)
      if values[what] == nil then return nil end
    end
    if tonumber(on) == 0 then values.gain = 0 end
    bands[b + 1] = values
  end
  local function g(v) return clamp(v, -12, 12) end
  local function f(v) return clamp(v, 20, 20000) end
  local function q(bw) return clamp(reaeq.q_from_bw(math.max(bw, 1e-3)), 0.1, 10) end
  return {
    low_shelf_gain_db = g(bands[1].gain), low_shelf_freq_hz = f(bands[1].freq),
    peak1_gain_db = g(bands[2].gain), peak1_freq_hz = f(bands[2].freq), peak1_q = q(bands[2].bw),
    peak2_gain_db = g(bands[3].gain), peak2_freq_hz = f(bands[3].freq), peak2_q = q(bands[3].bw),
    peak3_gain_db = g(bands[4].gain), peak3_freq_hz = f(bands[4].freq), peak3_q = q(bands[4].bw),
    high_shelf_gain_db = g(bands[5].gain), high_shelf_freq_hz = f(bands[5].freq),
  }
end

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
  if bandtype ~= reaeq.EQ_BANDTYPE[kind] or paramtype ~= EQ_PARAMTYPE[what] then
    return nil, string.format("After setting band type code %d, REAPER reports band type %d / parameter type %d "
      .. "for parameter %d, not %d / %d: the two band-type numberings are not the ones the scripts know.",
      reaeq.BANDTYPE[kind], bandtype, paramtype, param, reaeq.EQ_BANDTYPE[kind], EQ_PARAMTYPE[what])
  end
  return true
end

--- Set the five bands of the answer on the FX, checking each step. Returns true or nil, reason.
function reaeq.write_bands(track, fx, bands, fresh)
  local count = reaeq.count_bands(track, fx)
  if count < 5 then
    return nil, string.format("The ReaEQ named '%s' has %d band%s; Semantic EQ needs 5 (low shelf, three bands, "
      .. "high shelf). Open it, add bands (right-click the graph > Add band) until it has 5, and run the action again.",
      M.FX_NAME, count, count == 1 and "" or "s")
  end
  for b = 0, 4 do
    local band = bands[b + 1]
    local kind = reaeq.KINDS[b + 1]
    if band.kind and band.kind ~= kind then
      return nil, string.format("The server's band %d is a %s, expected a %s.", b + 1, band.kind, kind)
    end
    local code = band.bandtype_code or reaeq.BANDTYPE[kind]
    local ok, err = set_config_checked(track, fx, "BANDTYPE" .. b, code)
    if not ok then return nil, err end
    ok, err = set_config_checked(track, fx, "BANDENABLED" .. b, 1)
    if not ok then return nil, err end
  end
  if fresh then -- a new instance: bands past the fifth come from the user's default preset; turn them off
    for b = 5, count - 1 do
      local ok, err = set_config_checked(track, fx, "BANDENABLED" .. b, 0)
      if not ok then return nil, err end
    end
  end
  for b = 0, 4 do
    local band = bands[b + 1]
    local kind = reaeq.KINDS[b + 1]
    local targets = {
      freq = { band.freq_hz, reaeq.norm_from_freq(band.freq_hz) },
      gain = { band.gain_db, reaeq.norm_from_gain(band.gain_db) },
      bw = { band.bw_oct, (type(band.bw_norm) == "number") and band.bw_norm or reaeq.norm_guess_from_bw(band.bw_oct) },
    }
    for _, what in ipairs({ "freq", "gain", "bw" }) do
      local param, perr = reaeq.param_index(track, fx, b, what)
      if not param then return nil, perr end
      local ok, err = check_eq_param(track, fx, param, kind, what)
      if not ok then return nil, err end
      local target, guess = targets[what][1], targets[what][2]
      local norm, how = reaeq.solve_norm(track, fx, param, what, target, guess)
      if not norm then
        return nil, string.format("Band %d %s: %s.", b + 1, WHAT_NAME[what], how)
      end
      reaper.TrackFX_SetParamNormalized(track, fx, param, norm)
      local shown, res, text = formatted_now(track, fx, param)
      if shown == nil or math.abs(shown - target) > reaeq.tolerance(what, math.abs(target), res) then
        return nil, string.format("REAPER shows band %d %s as '%s' after setting %s %s.",
          b + 1, WHAT_NAME[what], tostring(text), fmt_num(target, 2), WHAT_UNIT[what])
      end
    end
  end
  return true
end

--- Find or insert the "Semantic EQ" ReaEQ. Returns fx index, fresh (inserted now) or nil, reason.
function reaeq.find_or_insert(track)
  local fx = reaeq.find(track)
  if fx then return fx, false end
  fx = reaper.TrackFX_AddByName(track, "ReaEQ", false, -1)
  if not fx or fx < 0 then return nil, "REAPER could not insert ReaEQ on this track." end
  reaper.TrackFX_SetNamedConfigParm(track, fx, "renamed_name", M.FX_NAME)
  if fx_display_name(track, fx) ~= M.FX_NAME then
    reaper.TrackFX_Delete(track, fx)
    return nil, "REAPER could not rename the new ReaEQ to 'Semantic EQ' (renaming FX needs REAPER 6.37 or newer)."
  end
  if not is_reaeq(track, fx) then
    reaper.TrackFX_Delete(track, fx)
    return nil, "The FX REAPER inserted for 'ReaEQ' does not answer ReaEQ's band configuration (BANDENABLED0)."
  end
  return fx, true
end

--- Apply one answer's ReaEQ bands to a track, all or nothing. Returns true or nil, reason.
function reaeq.apply(track, bands)
  if type(bands) ~= "table" or #bands ~= 5 then
    return nil, "The server's answer has no five ReaEQ bands."
  end
  local existing = reaeq.find(track)
  local snap = existing and reaeq.snapshot(track, existing)
  local fx, fresh = reaeq.find_or_insert(track)
  if not fx then return nil, fresh end
  local ok, err = reaeq.write_bands(track, fx, bands, fresh)
  if ok then
    if not reaper.TrackFX_GetEnabled(track, fx) then reaper.TrackFX_SetEnabled(track, fx, true) end
    return true
  end
  if fresh then reaper.TrackFX_Delete(track, fx) else reaeq.restore(track, fx, snap) end
  return nil, err
end

-- ---------------------------------------------------------------------------------------------
-- Audio: the track's audio before its FX, through the audio accessor, into a float32 WAV
-- ---------------------------------------------------------------------------------------------

local audio = {}
M.audio = audio

function audio.sample_rate()
  local srate = reaper.GetSetProjectInfo(0, "PROJECT_SRATE", 0, false)
  local use = reaper.GetSetProjectInfo(0, "PROJECT_SRATE_USE", 0, false)
  if use and use > 0 and srate and srate > 0 then return math.floor(srate) end
  local ok, dev = reaper.GetAudioDeviceInfo("SRATE")
  local n = ok and tonumber(dev)
  if n and n > 0 then return math.floor(n) end
  return SAMPLE_RATE_FALLBACK_HZ
end

--- Read `frames` frames (all channels interleaved) starting at `start_s` through the accessor,
--- calling sink(values_table, count) per block. Returns true if any block had audio.
local function read_blocks(accessor, rate, channels, start_s, frames, sink)
  local buf = reaper.new_array(BLOCK_FRAMES * channels)
  local done, any = 0, false
  while done < frames do
    local n = math.min(BLOCK_FRAMES, frames - done)
    buf.clear()
    local r = reaper.GetAudioAccessorSamples(accessor, rate, channels, start_s + done / rate, n, buf)
    if r < 0 then error("REAPER's audio accessor failed while reading the track", 0) end
    if r > 0 then any = true end
    sink(buf.table(1, n * channels), n)
    done = done + n
  end
  return any
end

--- Start time (s) of the loudest `length_s` of audio in [t0, t1], scanned at a low rate.
function audio.loudest_start(accessor, t0, t1, length_s)
  if t1 - t0 <= length_s then return t0 end
  local rate = SCAN_RATE_HZ
  local per_sec = {}
  local frames = math.floor((t1 - t0) * rate)
  local acc, filled, sec = 0.0, 0, 1
  read_blocks(accessor, rate, 1, t0, frames, function(values, n)
    for i = 1, n do
      local v = values[i]
      acc = acc + v * v
      filled = filled + 1
      if filled == rate then per_sec[sec], acc, filled, sec = acc, 0.0, 0, sec + 1 end
    end
  end)
  if filled > 0 then per_sec[sec] = acc end
  local win = math.max(1, math.floor(length_s))
  local best, best_i, sum = -1, 1, 0.0
  for i = 1, #per_sec do
    sum = sum + per_sec[i]
    if i > win then sum = sum - per_sec[i - win] end
    if i >= win and sum > best then best, best_i = sum, i - win + 1 end
  end
  return math.min(t0 + (best_i - 1), t1 - length_s)
end

--- The span to analyse: the time selection if any (within the audio), else the loudest
--- `length_s` of the track. Returns start_s, end_s or nil, reason.
function audio.choose_span(accessor, length_s)
  local a0 = reaper.GetAudioAccessorStartTime(accessor)
  local a1 = reaper.GetAudioAccessorEndTime(accessor)
  if not a0 or not a1 or a1 - a0 <= 0 then return nil, "no audio" end
  local s0, s1 = reaper.GetSet_LoopTimeRange2(0, false, false, 0, 0, false)
  if s1 and s0 and s1 > s0 then
    local t0, t1 = math.max(s0, a0), math.min(s1, a1)
    if t1 - t0 < 0.5 then return nil, "The time selection does not cover at least half a second of this track's audio." end
    return t0, t1
  end
  local start = audio.loudest_start(accessor, a0, a1, length_s)
  return start, math.min(a1, start + length_s)
end

local function wav_header(channels, rate, data_bytes)
  -- WAVE_FORMAT_IEEE_FLOAT (3), 32-bit
  return "RIFF" .. string.pack("<I4", 36 + data_bytes) .. "WAVE"
    .. "fmt " .. string.pack("<I4I2I2I4I4I2I2", 16, 3, channels, rate, rate * channels * 4, channels * 4, 32)
    .. "data" .. string.pack("<I4", data_bytes)
end

--- Write the track's pre-FX audio between t0 and t1 (s) to `path` as float32 WAV.
--- Returns true, or nil and a reason ("silent" when the span holds only silence).
function audio.write_wav(accessor, t0, t1, path)
  local rate = audio.sample_rate()
  local channels = 2
  local frames = math.floor((t1 - t0) * rate + 0.5)
  local dir, name = path:match("^(.*[/\\])([^/\\]+)$")
  local tmp = dir .. "." .. name .. ".part"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, "cannot write " .. tmp .. ": " .. tostring(err) end
  f:write(wav_header(channels, rate, frames * channels * 4))
  local peak = 0.0
  local ok, rerr = pcall(read_blocks, accessor, rate, channels, t0, frames, function(values, n)
    local count = n * channels
    for i = 1, count do
      local v = values[i]
      if v ~= v then values[i] = 0.0 elseif v > peak then peak = v elseif -v > peak then peak = -v end
    end
    for i = 1, count, 4096 do
      local j = math.min(count, i + 4095)
      f:write(string.pack("<" .. string.rep("f", j - i + 1), table.unpack(values, i, j)))
    end
  end)
  f:close()
  if not ok then os.remove(tmp) return nil, tostring(rerr) end
  if peak == 0 then os.remove(tmp) return nil, "silent" end
  local renamed, nerr = os.rename(tmp, path)
  if not renamed then os.remove(tmp) return nil, tostring(nerr) end
  return true
end

--- Render the selected track's audio for the server. Returns path or nil, reason, kind
--- (kind "no_audio" when the track has nothing the accessor can read).
function audio.capture(track, settings, folder)
  local accessor = reaper.CreateTrackAudioAccessor(track)
  if not accessor then return nil, "REAPER could not open the track's audio.", "no_audio" end
  local t0, t1 = audio.choose_span(accessor, settings.analysis_seconds_number or 30)
  if not t0 then
    reaper.DestroyAudioAccessor(accessor)
    if t1 == "no audio" then return nil, "This track has no audio items to listen to.", "no_audio" end
    return nil, t1, "span"
  end
  reaper.RecursiveCreateDirectory(folder, 0)
  local path = join(folder, unique_stem() .. ".wav")
  local ok, err = audio.write_wav(accessor, t0, t1, path)
  reaper.DestroyAudioAccessor(accessor)
  if not ok then
    if err == "silent" then
      return nil, "The part of this track that would be analysed is silent.", "no_audio"
    end
    return nil, "Could not write the track's audio for the server: " .. err, "write"
  end
  return path
end

-- ---------------------------------------------------------------------------------------------
-- Talking to the server through `semeq send` (reaper.ExecProcess)
-- ---------------------------------------------------------------------------------------------

local client = {}
M.client = client

--- Quote one argument for ExecProcess: double quotes, inner quotes escaped with a backslash;
--- on macOS/Linux also $, ` and \ (a POSIX shell may read the line).
function client.quote(arg)
  local s = tostring(arg)
  if is_windows() then
    s = s:gsub('"', '\\"')
  else
    s = s:gsub('[\\"$`]', "\\%0")
  end
  return '"' .. s .. '"'
end

--- Words typed by a person, made safe for any command line: printable characters only.
function client.clean_text(text)
  local s = tostring(text or ""):gsub("[%c\"$`\\%%!]", " "):gsub("%s+", " ")
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local NOT_FOUND_CODES = { [126] = true, [127] = true, [9009] = true }

local function not_found_message(settings)
  return string.format("REAPER could not run the Semantic EQ client '%s'.\n\n"
    .. "Run the action 'Semantic EQ - Settings' and give the full path of the semeq command "
    .. "(in a terminal: 'which semeq' on macOS/Linux, 'where semeq' on Windows).", settings.semeq_path)
end

local function server_down_message(settings)
  return string.format("The Semantic EQ server is not running (nothing answers on port %s).\n\n"
    .. "Start it in a terminal with:\n\n    semeq serve\n\nand keep that window open while you work "
    .. "(it listens on 127.0.0.1:7710 by default; the port is set in 'Semantic EQ - Settings').",
    settings.port)
end

--- Pull the JSON object out of the client's output (ExecProcess may add stderr lines).
local function json_in(output)
  local first = output:find("{", 1, true)
  local last = output:match(".*()}")
  if not first or not last then return nil end
  local ok, value = pcall(json.decode, output:sub(first, last))
  if ok and type(value) == "table" then return value end
  return nil
end

local function error_text(output, answer)
  if answer and answer.message then return tostring(answer.message) end
  local line = output:match("semeq: error: ([^\r\n]+)") or output:match("([^\r\n]+)%s*$")
  return line or "(no message)"
end

--- Run `semeq send ARGS...`; returns the answer table, or nil, a dialog message and a kind
--- ("not_found", "server_down", "timeout", "error_reply", "refused", "usage", "bad_output").
function client.send(settings, args)
  local parts = { client.quote(settings.semeq_path), "send", "--port", client.quote(settings.port),
    "--timeout", client.quote(settings.timeout_seconds) }
  for _, a in ipairs(args) do parts[#parts + 1] = client.quote(a) end
  local cmd = table.concat(parts, " ")
  local wait_ms = math.floor(((settings.timeout_seconds_number or 30) + 15) * 1000)
  local result = reaper.ExecProcess(cmd, wait_ms)
  if result == nil then return nil, not_found_message(settings), "not_found" end
  local code_text, output = result:match("^([^\r\n]*)\r?\n?(.*)$")
  local code = tonumber(code_text)
  output = output or ""
  local answer = json_in(output)
  if code == 0 then
    if not answer then
      return nil, "The Semantic EQ client answered something that is not JSON:\n\n" .. output:sub(1, 300), "bad_output"
    end
    if answer.ok == false then
      return nil, "The Semantic EQ server refused the request: " .. error_text(output, answer), "error_reply"
    end
    return answer
  end
  if code == nil or NOT_FOUND_CODES[code] then return nil, not_found_message(settings), "not_found" end
  if code == 3 then return nil, server_down_message(settings), "server_down" end
  if code == 4 then
    return nil, string.format("The Semantic EQ server did not answer within %s s. It may be busy with "
      .. "another track: try again in a moment, or raise the timeout in 'Semantic EQ - Settings'. Nothing was changed.",
      settings.timeout_seconds), "timeout"
  end
  if code == 5 then
    return nil, "The Semantic EQ server could not do this: " .. error_text(output, answer)
      .. "\n\nNothing was changed.", "error_reply"
  end
  if code == 1 then
    return nil, "Semantic EQ: " .. error_text(output, answer) .. "\n\nNothing was changed.", "refused"
  end
  if code == 2 then
    return nil, "The installed semeq did not understand the request (usage error). Are the scripts newer than "
      .. "semeq? Update both to the same version.\n\n" .. output:sub(1, 300), "usage"
  end
  return nil, string.format("The Semantic EQ client stopped with exit code %s:\n\n%s", tostring(code), output:sub(1, 300)), "bad_output"
end

-- ---------------------------------------------------------------------------------------------
-- Talking to the server through the watch folder (no client needed): write the WAV and a
-- sidecar into inbox/, poll outbox/ with reaper.defer, never blocking REAPER's UI.
-- ---------------------------------------------------------------------------------------------

local folder = {}
M.folder = folder

local POLL_INTERVAL_S = 0.2

local function list_files(dir)
  reaper.EnumerateFiles(dir, -1) -- REAPER caches listings; -1 forces a fresh read
  local names, i = {}, 0
  while true do
    local name = reaper.EnumerateFiles(dir, i)
    if not name then break end
    names[#names + 1] = name
    i = i + 1
  end
  return names
end

local function has_subfolder(dir, name)
  reaper.EnumerateSubdirectories(dir, -1)
  local i = 0
  while true do
    local sub = reaper.EnumerateSubdirectories(dir, i)
    if not sub then return false end
    if sub == name then return true end
    i = i + 1
  end
end

local function escape_pattern(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

--- Delete every file of ours (named stem.*) in the server's folders.
function folder.cleanup(settings, stem)
  local pattern = "^" .. escape_pattern(stem) .. "%."
  for _, sub in ipairs({ "inbox", "outbox", "done", "failed" }) do
    local dir = join(settings.home, sub)
    for _, name in ipairs(list_files(dir)) do
      if name:match(pattern) then os.remove(join(dir, name)) end
    end
  end
end

--- Send a request through the watch folder. `wav_path` is our captured WAV (moved into inbox/),
--- `request` the sidecar table; `on_answer(answer)` or `on_error(message, kind)` runs later.
function folder.request(settings, wav_path, request, on_answer, on_error)
  local inbox = join(settings.home, "inbox")
  local outbox = join(settings.home, "outbox")
  local failed = join(settings.home, "failed")
  if not has_subfolder(settings.home, "inbox") then
    os.remove(wav_path)
    return on_error(string.format("The watch folder %s does not exist. Start the server once with 'semeq serve' "
      .. "(it creates it), or correct the folder in 'Semantic EQ - Settings'.", inbox), "server_down")
  end
  local stem = wav_path:match("([^/\\]+)%.wav$")
  local ok, err = write_file_atomic(join(inbox, stem .. ".json"), json.encode(request))
  if ok then ok, err = os.rename(wav_path, join(inbox, stem .. ".wav")) end
  if not ok then
    os.remove(wav_path)
    folder.cleanup(settings, stem)
    return on_error("Could not write the request into the watch folder " .. inbox .. ": " .. tostring(err), "write")
  end
  -- the timeout covers the watcher's settle time and the analysis as well
  local deadline = reaper.time_precise() + (settings.timeout_seconds_number or 30)
  local next_look = 0
  local answer_pattern = "^" .. escape_pattern(stem) .. "%..+%.json$"
  local function poll()
    local now = reaper.time_precise()
    if now >= next_look then
      next_look = now + POLL_INTERVAL_S
      for _, name in ipairs(list_files(outbox)) do
        if name:match(answer_pattern) then
          local text = read_file(join(outbox, name))
          local okj, answer = pcall(json.decode, text or "")
          if okj and type(answer) == "table" then
            folder.cleanup(settings, stem)
            if answer.ok == false then
              return on_error("The Semantic EQ server could not do this: " .. tostring(answer.message)
                .. "\n\nNothing was changed.", "error_reply")
            end
            return on_answer(answer)
          end
        end
      end
      local reason = read_file(join(failed, stem .. ".error.txt"))
      if reason then
        folder.cleanup(settings, stem)
        return on_error("The Semantic EQ server could not do this: " .. reason:gsub("%s+$", "")
          .. "\n\nNothing was changed.", "error_reply")
      end
      if now >= deadline then
        folder.cleanup(settings, stem)
        return on_error(string.format("No answer appeared in %s. Is 'semeq serve' running with this home "
          .. "folder (%s)? Nothing was changed.", outbox, settings.home), "timeout")
      end
    end
    reaper.defer(poll)
  end
  reaper.defer(poll)
end

-- ---------------------------------------------------------------------------------------------
-- Actions
-- ---------------------------------------------------------------------------------------------

local function selected_tracks()
  local tracks = {}
  for i = 0, reaper.CountSelectedTracks(0) - 1 do tracks[#tracks + 1] = reaper.GetSelectedTrack(0, i) end
  return tracks
end

local function track_name(track)
  local _, name = reaper.GetTrackName(track)
  return name or "track"
end

local function describe_bands(bands)
  local names = { "Low shelf", "Band 2", "Band 3", "Band 4", "High shelf" }
  local lines = {}
  for i, b in ipairs(bands) do
    local freq = b.freq_hz >= 1000 and (fmt_num(b.freq_hz / 1000, 2) .. " kHz") or (fmt_num(b.freq_hz, 0) .. " Hz")
    lines[i] = string.format("  %-10s %9s  %s dB  %s oct", names[i], freq, fmt_signed(b.gain_db, 1), fmt_num(b.bw_oct, 2))
  end
  return table.concat(lines, "\n")
end
M.describe_bands = describe_bands

--- One request for one track. `op` is "words" (adapt to the audio; a plain "eq" request when
--- the track has no audio), "suggest" or "analyze". Calls done(answer) or fail(message, kind).
local function request_for_track(settings, track, op, text, intensity, done, fail)
  local renders = join(settings.home, "renders")
  local wav, why, kind = audio.capture(track, settings, renders)
  if not wav then
    if op == "words" and kind == "no_audio" and settings.transport == "send" then
      local args = { "eq", text, "--intensity", tostring(intensity) }
      local current = reaeq.current_params(track)
      if current then args[#args + 1] = "--current"; args[#args + 1] = json.encode(current) end
      local answer, msg, k = client.send(settings, args)
      if answer then return done(answer) end
      return fail(msg, k)
    end
    if kind == "no_audio" then
      return fail(string.format("Track '%s': %s Semantic EQ listens to the audio on the track before its FX "
        .. "(instrument tracks have none).", track_name(track), why), kind)
    end
    return fail(string.format("Track '%s': %s", track_name(track), why), kind)
  end
  local current = (op == "words") and reaeq.current_params(track) or nil
  if settings.transport == "folder" then
    -- the watch folder takes text/intensity/current or suggest/strength (no analyze):
    -- a description comes from an auto-suggest answer's analysis there
    local request = (op == "words") and { text = text, intensity = intensity, current = current }
      or { suggest = true, strength = settings.suggest_strength_number }
    return folder.request(settings, wav, request, done, fail)
  end
  local args
  if op == "words" then
    args = { "adapt", wav, text, "--intensity", tostring(intensity) }
    if current then args[#args + 1] = "--current"; args[#args + 1] = json.encode(current) end
  elseif op == "suggest" then
    args = { "suggest", wav, "--strength", tostring(settings.suggest_strength_number) }
  else
    args = { "analyze", wav }
  end
  local answer, msg, k = client.send(settings, args)
  os.remove(wav)
  if answer then return done(answer) end
  return fail(msg, k)
end

--- Apply answers in one undo point. `items` = { {track=, answer=}, ... }. Returns true or nil, msg.
local function apply_answers(items, undo_label)
  reaper.PreventUIRefresh(1)
  reaper.Undo_BeginBlock()
  local problems, applied = {}, 0
  for _, item in ipairs(items) do
    local bands = item.answer.reaeq and item.answer.reaeq.bands
    local ok, err = reaeq.apply(item.track, bands)
    if ok then applied = applied + 1 else
      problems[#problems + 1] = string.format("Track '%s': %s", track_name(item.track), err)
    end
  end
  reaper.Undo_EndBlock(applied > 0 and undo_label or (undo_label .. " (nothing changed)"), -1)
  reaper.PreventUIRefresh(-1)
  reaper.UpdateArrange()
  if #problems > 0 then
    return nil, table.concat(problems, "\n\n") .. "\n\nThat track's EQ was left as it was."
  end
  return true
end

local function need_tracks()
  local tracks = selected_tracks()
  if #tracks == 0 then
    show("Select a track first: Semantic EQ works on the selected track(s).")
    return nil
  end
  return tracks
end

--- Run `op` for every track in turn (one at a time, also through the watch folder), then
--- finish(results) with results = { {track=, answer=} or {track=, error=, kind=} }.
local function for_each_track(settings, tracks, op, text, intensity, finish)
  local results = {}
  local function step(i)
    if i > #tracks then return finish(results) end
    local track = tracks[i]
    request_for_track(settings, track, op, text, intensity,
      function(answer) results[#results + 1] = { track = track, answer = answer }; step(i + 1) end,
      function(message, kind)
        results[#results + 1] = { track = track, error = message, kind = kind }
        if kind == "server_down" or kind == "not_found" or kind == "timeout" then return finish(results) end
        step(i + 1)
      end)
  end
  step(1)
end

local function first_error(results)
  for _, r in ipairs(results) do if r.error then return r end end
  return nil
end

local function valid_track(track)
  return reaper.ValidatePtr2(0, track, "MediaTrack*")
end

--- "Make warmer" and friends: the words sized to each selected track, applied to its ReaEQ.
function M.words_action(text, intensity, label)
  intensity = intensity or 1.0
  label = label or ("Semantic EQ: make " .. text:gsub("^make ", ""))
  local tracks = need_tracks()
  if not tracks then return false end
  local settings = M.settings()
  local finished = false
  for_each_track(settings, tracks, "words", text, intensity, function(results)
    finished = true
    local items = {}
    for _, r in ipairs(results) do
      if r.answer and valid_track(r.track) then items[#items + 1] = r end
    end
    local problems = {}
    local err = first_error(results)
    if err then problems[#problems + 1] = err.error end
    if #items > 0 then
      local ok, msg = apply_answers(items, label)
      if not ok then problems[#problems + 1] = msg end
    end
    if #problems > 0 then show(table.concat(problems, "\n\n")) end
  end)
  return finished
end

--- "Say it in words…": any text the server understands, with an intensity.
function M.say_it_action()
  if not need_tracks() then return false end
  local last = reaper.GetExtState(M.EXT_SECTION, "last_words")
  local last_intensity = reaper.GetExtState(M.EXT_SECTION, "last_intensity")
  if last_intensity == "" then last_intensity = "1.0" end
  local ok, csv = reaper.GetUserInputs("Semantic EQ: say it in words", 2,
    "What should it sound like?,Intensity (-2 to 2),extrawidth=220,separator=|",
    (last or "") .. "|" .. last_intensity)
  if not ok then return false end
  local text, intensity_text = csv:match("^(.-)|(.*)$")
  text = client.clean_text(text or csv)
  local intensity = tonumber(intensity_text)
  if text == "" then show("Type a few words first, e.g. 'a bit warmer' or 'less harsh, more air'.") return false end
  if not intensity or intensity < -2 or intensity > 2 then
    show("The intensity must be a number from -2 to 2 (1 = as said, 0.5 = a bit, negative = the opposite).")
    return false
  end
  reaper.SetExtState(M.EXT_SECTION, "last_words", text, true)
  reaper.SetExtState(M.EXT_SECTION, "last_intensity", tostring(intensity), true)
  return M.words_action(text, intensity, "Semantic EQ: " .. text)
end

--- "Auto-suggest EQ for selected track(s)": show what it hears and proposes, ask, apply.
function M.suggest_action()
  local tracks = need_tracks()
  if not tracks then return false end
  local settings = M.settings()
  for_each_track(settings, tracks, "suggest", nil, nil, function(results)
    local err = first_error(results)
    local items = {}
    for _, r in ipairs(results) do
      if r.answer and valid_track(r.track) then
        local a = r.answer
        local blend = {}
        for _, t in ipairs(a.blend or {}) do
          blend[#blend + 1] = string.format("%s %d%%", tostring(t.term), math.floor((t.weight or 0) * 100 + 0.5))
        end
        local what = (a.analysis and a.analysis.summary) or ""
        local msg = string.format("Track '%s'\n\n%s\n\n%s%sProposed EQ (replaces the track's Semantic EQ):\n%s\n\nApply it?",
          track_name(r.track), what, a.explanation or "",
          #blend > 0 and ("\nBlend: " .. table.concat(blend, ", ") .. "\n\n") or "\n\n",
          describe_bands(a.reaeq.bands))
        local answer = show(msg, #tracks > 1 and 3 or 4)
        if answer == 2 then break end -- cancel
        if answer == 6 then items[#items + 1] = r end
      end
    end
    local problems = {}
    if err then problems[#problems + 1] = err.error end
    if #items > 0 then
      local ok, msg = apply_answers(items, "Semantic EQ: auto-suggest")
      if not ok then problems[#problems + 1] = msg end
    end
    if #problems > 0 then show(table.concat(problems, "\n\n")) end
  end)
  return true
end

--- "Describe selected track": what the server hears, in words.
function M.describe_action()
  local tracks = need_tracks()
  if not tracks then return false end
  local settings = M.settings()
  for_each_track(settings, { tracks[1] }, "analyze", nil, nil, function(results)
    local r = results[1]
    if r.error then return show(r.error) end
    local a = r.answer.analysis or r.answer
    local lines = { string.format("Track '%s'", track_name(r.track)), "", tostring(a.summary or "") }
    if a.loudness_lufs then
      lines[#lines + 1] = string.format("\nLoudness %s LUFS, true peak %s dBTP.", fmt_num(a.loudness_lufs, 1),
        fmt_num(a.true_peak_dbtp or 0, 1))
    end
    local shown = 0
    for _, d in ipairs(a.descriptors or {}) do
      if shown == 0 then lines[#lines + 1] = "\nStrongest words (0 = like typical music, 1 = as much as the word's own EQ adds):" end
      if shown >= 6 then break end
      lines[#lines + 1] = string.format("  %-12s %s", tostring(d.term or d.word), fmt_signed(d.score or 0, 2))
      shown = shown + 1
    end
    show(table.concat(lines, "\n"))
  end)
  return true
end

--- "Semantic EQ settings": edit, check and store the settings, then ping the server.
function M.settings_action()
  local s = M.settings()
  local captions, values = {}, {}
  for i, item in ipairs(SETTINGS) do captions[i] = item.caption; values[i] = s[item.key] end
  local ok, csv = reaper.GetUserInputs("Semantic EQ settings", #SETTINGS,
    table.concat(captions, ",") .. ",extrawidth=260,separator=|", table.concat(values, "|"))
  if not ok then return false end
  local fields, i = {}, 0
  for field in (csv .. "|"):gmatch("(.-)|") do i = i + 1; fields[i] = field:gsub("^%s+", ""):gsub("%s+$", "") end
  local new = {}
  for k, item in ipairs(SETTINGS) do new[item.key] = fields[k] or "" end
  local clean, err = M.validate_settings(new)
  if not clean then show(err .. "\n\nThe settings were not changed.") return false end
  M.save_settings(clean)
  local saved = M.settings()
  if saved.transport == "folder" then
    show("Settings saved. Requests go through the watch folder " .. join(saved.home, "inbox") .. ".")
    return true
  end
  local answer, msg = client.send(saved, { "ping" })
  if answer then
    show(string.format("Settings saved. The Semantic EQ server answers on port %s%s.", saved.port,
      answer.version and (" (version " .. tostring(answer.version) .. ")") or ""))
  else
    show("Settings saved, but:\n\n" .. msg)
  end
  return true
end

return M
