-- @noindex
-- The Semantic EQ settings, stored with REAPER's ExtState (section "SemanticEQ", persisted).

local U = require("semeq.util")

local S = {}

S.SECTION = "SemanticEQ"

S.ITEMS = {
  { key = "semeq_path", caption = "semeq command (full path)", default = function() return "semeq" end },
  { key = "port", caption = "Server port", default = function() return "7710" end },
  { key = "home", caption = "Server home / watch folder",
    default = function() return U.join(U.user_home(), "SemanticEQ") end },
  { key = "analysis_seconds", caption = "Analysis length (s)", default = function() return "30" end },
  { key = "transport", caption = "Talk via (send or folder)", default = function() return "send" end },
  { key = "timeout_seconds", caption = "Answer timeout (s)", default = function() return "30" end },
  { key = "suggest_strength", caption = "Auto-suggest strength (0-1)", default = function() return "0.5" end },
}

--- The current settings: stored values, or defaults for the ones never set; numbers parsed.
function S.load()
  local s = {}
  for _, item in ipairs(S.ITEMS) do
    local v = reaper.GetExtState(S.SECTION, item.key)
    s[item.key] = (v ~= nil and v ~= "") and v or item.default()
  end
  s.port_number = tonumber(s.port)
  s.analysis_seconds_number = tonumber(s.analysis_seconds)
  s.timeout_seconds_number = tonumber(s.timeout_seconds)
  s.suggest_strength_number = tonumber(s.suggest_strength)
  return s
end

local function number_in(value, lo, hi, integer)
  local n = tonumber(value)
  return n and n >= lo and n <= hi and (not integer or n == math.floor(n))
end

--- Check settings values; returns the values or nil and a sentence.
function S.validate(values)
  if not number_in(values.port, 1, 65535, true) then
    return nil, "The server port must be a whole number from 1 to 65535 (the server's default is 7710)."
  end
  if not number_in(values.analysis_seconds, 1, 600) then
    return nil, "The analysis length must be a number of seconds from 1 to 600."
  end
  if not number_in(values.timeout_seconds, 1, 600) then
    return nil, "The answer timeout must be a number of seconds from 1 to 600."
  end
  if not number_in(values.suggest_strength, 0, 1) then
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
  for _, key in ipairs({ "semeq_path", "home" }) do
    if values[key]:find('"', 1, true) then
      return nil, "Paths cannot contain a double quote (\"): REAPER could not pass them to the client."
    end
  end
  return values
end

function S.save(values)
  for _, item in ipairs(S.ITEMS) do
    reaper.SetExtState(S.SECTION, item.key, tostring(values[item.key]), true)
  end
end

return S
