-- @noindex
-- The entry for ReaScripts made outside the bundle (the watch folder writes one per answer,
-- daw_bridge/artifacts.py): `local semeq = dofile(<this file>)`, then
-- `semeq.reaeq.apply(track, bands)` -> true (and a note, e.g. "left bypassed") or nil, reason.
-- It finds this folder's siblings itself, wherever ReaPack or `semeq install-reaper` put them.

local here = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
package.path = here .. ".." .. here:sub(-1) .. "?.lua;" .. package.path

local R = require("semeq.reaeq")
local U = require("semeq.util")

local api = { reaeq = {}, check_version = U.check_version }

--- Apply five ReaEQ bands (the answer's reaeq.bands) to the track's "Semantic EQ".
function api.reaeq.apply(track, bands)
  local result = R.apply(track, bands)
  if result.ok then return true, result.message end
  return nil, result.message
end

return api
