-- @description Semantic EQ: say what you want to hear, ReaEQ does it
-- @version 0.3.0
-- @author Semantic EQ Bridge
-- @changelog
--   Match EQ to reference track (a second selected track, or an audio file).
--   Auto-suggest and Describe show the problems heard and what each band does; "better" and
--   "fix it" become an auto-suggest on the track's audio.
--   Never blocks REAPER: requests go as files, the answer is polled; Esc cancels.
--   The server reads the track's media itself (item list); the audio accessor is the fallback.
--   Keeps a ReaEQ with fewer than five bands, leaves a bypassed EQ bypassed, inserts it first.
--   One undo point per change, none for read-only runs; checks the REAPER version.
-- @about
--   # Semantic EQ
--   Say what you want to hear ("warmer", "a bit less harsh") and REAPER's own ReaEQ does it,
--   sized to the track. Needs the Semantic EQ Bridge server running (`semeq serve`); see
--   docs/reaper.md in the repository.
-- @provides
--   [nomain] semeq/*.lua
--   [nomain] semeq/LICENSE-dkjson
--   [main] . > Semantic EQ - Make warmer.lua
--   [main] . > Semantic EQ - Make brighter.lua
--   [main] . > Semantic EQ - Make less harsh.lua
--   [main] . > Semantic EQ - Make less muddy.lua
--   [main] . > Semantic EQ - Make fuller.lua
--   [main] . > Semantic EQ - Make clearer.lua
--   [main] . > Semantic EQ - Say it in words.lua
--   [main] . > Semantic EQ - Auto-suggest EQ for selected tracks.lua
--   [main] . > Semantic EQ - Match EQ to reference track.lua
--   [main] . > Semantic EQ - Describe selected track.lua
--   [main] . > Semantic EQ - Settings.lua

-- One file, installed under each action's name (ReaPack aliases, or `semeq install-reaper`):
-- the name it runs under picks the action.
local path = ({ reaper.get_action_context() })[2] or debug.getinfo(1, "S").source:sub(2)
local dir, name = path:match("^(.*[/\\])(.-)%.lua$")
package.path = dir .. "?.lua;" .. package.path
local actions = require("semeq.actions")

local ACTIONS = {
  ["Semantic EQ - Make warmer"] = function() return actions.words("warmer") end,
  ["Semantic EQ - Make brighter"] = function() return actions.words("brighter") end,
  ["Semantic EQ - Make less harsh"] = function() return actions.words("less harsh") end,
  ["Semantic EQ - Make less muddy"] = function() return actions.words("less muddy") end,
  ["Semantic EQ - Make fuller"] = function() return actions.words("fuller") end,
  ["Semantic EQ - Make clearer"] = function() return actions.words("clearer") end,
  ["Semantic EQ - Say it in words"] = actions.say_it,
  ["Semantic EQ - Auto-suggest EQ for selected tracks"] = actions.suggest,
  ["Semantic EQ - Match EQ to reference track"] = actions.match,
  ["Semantic EQ - Describe selected track"] = actions.describe,
  ["Semantic EQ - Settings"] = actions.settings,
}

local action = ACTIONS[name] or actions.say_it -- the bundle itself: "say it in words"
return action()
