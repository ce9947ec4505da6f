-- @description Semantic EQ: Make fuller
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @noindex
-- The selected track's ReaEQ made fuller, sized to the track.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.words_action("fuller", 1.0, "Semantic EQ: make fuller")
