-- @description Semantic EQ: Make warmer
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @about
--   # Semantic EQ
--   Say what you want to hear and REAPER's own ReaEQ does it, sized to the track.
--   Needs the Semantic EQ Bridge server running (`semeq serve`); see docs/reaper.md.
-- @provides
--   [nomain] semantic_eq.lua
--   [main] Semantic EQ - Make brighter.lua
--   [main] Semantic EQ - Make less harsh.lua
--   [main] Semantic EQ - Make less muddy.lua
--   [main] Semantic EQ - Make fuller.lua
--   [main] Semantic EQ - Make clearer.lua
--   [main] Semantic EQ - Say it in words.lua
--   [main] Semantic EQ - Auto-suggest EQ for selected tracks.lua
--   [main] Semantic EQ - Describe selected track.lua
--   [main] Semantic EQ - Settings.lua
-- The selected track's ReaEQ ("Semantic EQ") made warmer, sized to what the track needs.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.words_action("warmer", 1.0, "Semantic EQ: make warmer")
