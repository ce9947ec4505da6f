-- @description Semantic EQ: Auto-suggest EQ for selected tracks
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @noindex
-- Listens to each selected track, shows what it hears and the EQ it proposes, and asks before applying.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.suggest_action()
