-- @noindex
-- ReaEQ's values: the community mappings between normalized values and Hz / dB / octaves, and
-- the search that checks them against REAPER's own display (TrackFX_FormatParamValueNormalized).
-- Facts and their sources: ../shared/docs/reaper-and-osc-facts.md; what is verified: docs/reaper.md.

local U = require("semeq.util")

local V = {}

local SEARCH_STEPS = 40 -- bisection steps when searching a normalized value

-- BANDTYPEx codes (Cockos, OSARA issue 543) and TrackFX_GetEQParam band types (SDK).
V.BANDTYPE = { low_shelf = 0, high_shelf = 1, peak = 8 }
V.EQ_BANDTYPE = { low_shelf = 1, peak = 2, high_shelf = 4 }
V.KINDS = { "low_shelf", "peak", "peak", "peak", "high_shelf" }

--- Community formula: normalized value -> Hz (20 Hz .. 24 kHz).
function V.freq_from_norm(n)
  return 20 + 23980 * (401 ^ n - 1) / 400
end

function V.norm_from_freq(hz)
  return math.log(1 + (hz - 20) * 400 / 23980) / math.log(401)
end

local AMP_12DB = 10 ^ (12 / 20)

--- Community formula: normalized gain -> dB (piecewise linear in amplitude; 0.5 = 0 dB).
function V.gain_from_norm(n)
  local amp
  if n <= 0.5 then amp = 2 * n else amp = 1 + (n - 0.5) * 2 * (AMP_12DB - 1) end
  if amp <= 0 then return -math.huge end
  return 20 * math.log(amp, 10)
end

function V.norm_from_gain(db)
  local amp = 10 ^ (db / 20)
  if amp <= 1 then return amp / 2 end
  return 0.5 + (amp - 1) / (2 * (AMP_12DB - 1))
end

--- One source: a raw BW value is octaves / 4. Only a first guess for the search.
function V.norm_guess_from_bw(oct)
  return oct / 4
end

--- Peak bandwidth (octaves) <-> Q.
function V.q_from_bw(oct)
  return 1 / (2 * math.sinh(math.log(2) / 2 * oct))
end

function V.bw_from_q(q)
  local x = 1 / (2 * q)
  return (2 / math.log(2)) * math.log(x + math.sqrt(x * x + 1))
end

--- Parse a displayed value ("1000.0", "1.20k", "+2.1 dB", "-inf", "1.90 oct") into a number
--- and the display's resolution (one unit of the last digit, in the same unit).
function V.parse_display(text)
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
V.TOLERANCE = {
  freq = { base_rel = 0.005, cap_rel = 0.02 },
  gain = { base = 0.05, cap = 0.1 },
  bw = { base = 0.02, cap = 0.05 },
}

function V.tolerance(kind, target, resolution)
  local t = V.TOLERANCE[kind]
  local half = (resolution or 0) / 2
  if kind == "freq" then
    return math.max(t.base_rel * target, math.min(half, t.cap_rel * target))
  end
  return math.max(t.base, math.min(half, t.cap))
end

V.WHAT_UNIT = { freq = "Hz", gain = "dB", bw = "octaves" }
V.WHAT_NAME = { freq = "frequency", gain = "gain", bw = "bandwidth" }

function V.display_of(track, fx, param, norm)
  local ok, text = reaper.TrackFX_FormatParamValueNormalized(track, fx, param, norm, "")
  if not ok then return nil end
  return V.parse_display(text)
end

function V.formatted_now(track, fx, param)
  local ok, text = reaper.TrackFX_GetFormattedParamValue(track, fx, param, "")
  if not ok then return nil, nil, text end
  local v, res = V.parse_display(text)
  return v, res, text
end

--- Smallest normalized value whose display is >= threshold (display increasing in n).
local function first_norm_at_or_above(track, fx, param, threshold, increasing)
  local lo, hi = 0.0, 1.0
  for _ = 1, SEARCH_STEPS do
    local mid = (lo + hi) / 2
    local v = V.display_of(track, fx, param, mid)
    if v == nil then return nil end
    if (v >= threshold) == increasing then hi = mid else lo = mid end
  end
  return increasing and hi or lo
end

--- Normalized value that REAPER displays as `target` (unit of `kind`).
--- Tries the community formula first; if REAPER's display disagrees, searches the display with
--- TrackFX_FormatParamValueNormalized (bisection) and interpolates between the two display steps
--- around the target, which is finer than the display itself.
function V.solve_norm(track, fx, param, kind, target, guess)
  if guess and guess >= 0 and guess <= 1 then
    local v, res = V.display_of(track, fx, param, guess)
    if v and math.abs(v - target) <= V.tolerance(kind, target, res) then return guess, "formula" end
  end
  local v0, res0 = V.display_of(track, fx, param, 0.0)
  local v1, res1 = V.display_of(track, fx, param, 1.0)
  if v0 == nil or v1 == nil then
    return nil, "REAPER's display of this parameter is not a number"
  end
  local increasing = v1 > v0
  local lo_v, hi_v = math.min(v0, v1), math.max(v0, v1)
  if target < lo_v or target > hi_v then
    return nil, string.format("%s %s is outside what this ReaEQ can hold (%s to %s), so REAPER cannot "
      .. "play this EQ as the server designed it", U.fmt_num(target, 2), V.WHAT_UNIT[kind], U.fmt_num(lo_v, 2), U.fmt_num(hi_v, 2))
  end
  local res = math.max(res0 or 0, res1 or 0)
  local _, res_mid = V.display_of(track, fx, param, guess or 0.5)
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

--- Read one value of a band in its unit: the formula's value when REAPER's display agrees with
--- it, otherwise REAPER's displayed value.
function V.read_value(track, fx, param, kind)
  local n = reaper.TrackFX_GetParamNormalized(track, fx, param)
  local shown, res = V.formatted_now(track, fx, param)
  if shown == nil then return nil end
  local formula = (kind == "freq" and V.freq_from_norm(n)) or (kind == "gain" and V.gain_from_norm(n)) or nil
  if formula and math.abs(formula - shown) <= V.tolerance(kind, math.abs(shown), res) then return formula end
  return shown
end


return V
