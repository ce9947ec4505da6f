-- @description Semantic EQ: Say it in words…
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @noindex
-- Type what it should sound like (any words the server understands) and an intensity.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.say_it_action()
