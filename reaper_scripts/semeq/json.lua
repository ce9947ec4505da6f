-- @noindex
-- JSON for the Semantic EQ scripts: dkjson (vendored unchanged, see LICENSE-dkjson) with the
-- two conventions the scripts rely on: decode errors are raised with a position, and an empty
-- table can be marked as an array.

local dkjson = require("semeq.dkjson")

local J = {}

J.null = dkjson.null

--- Decode one JSON value; raises "invalid JSON at character N: reason" on bad input.
function J.decode(text)
  if type(text) ~= "string" then error("invalid JSON: not a string", 0) end
  local value, pos, err = dkjson.decode(text, 1, dkjson.null)
  if err then error(string.format("invalid JSON at character %s: %s", tostring(pos), err), 0) end
  if pos and text:find("[^ \t\r\n]", pos) then
    error(string.format("invalid JSON at character %d: trailing characters", pos), 0)
  end
  return value
end

--- Encode a Lua value (NaN and infinities become null, as dkjson does); raises on functions etc.
function J.encode(value)
  local text, err = dkjson.encode(value, { exception = function(reason, v)
    return nil, "JSON cannot hold " .. tostring(v) .. " (" .. tostring(reason) .. ")"
  end })
  if not text then error(err, 0) end
  return text
end

--- An empty (or any) table that encodes as a JSON array.
function J.array(t)
  return setmetatable(t or {}, { __jsontype = "array" })
end

return J
