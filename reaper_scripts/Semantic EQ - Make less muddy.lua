-- @description Semantic EQ: Make less muddy
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @noindex
-- The selected track's ReaEQ made less muddy, sized to the track.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.words_action("less muddy", 1.0, "Semantic EQ: make less muddy")
