-- @description Semantic EQ: Describe selected track
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @noindex
-- Shows what the server hears in the selected track, in words.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.describe_action()
