-- @description Semantic EQ: Make brighter
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @noindex
-- The selected track's ReaEQ made brighter, sized to the track.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.words_action("brighter", 1.0, "Semantic EQ: make brighter")
