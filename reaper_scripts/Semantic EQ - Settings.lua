-- @description Semantic EQ: Settings
-- @version 0.1.0
-- @author Semantic EQ Bridge
-- @noindex
-- The semeq command, server port, watch folder, analysis length, timeout; checks the server.
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
local semeq = dofile(dir .. "semantic_eq.lua")
semeq.settings_action()
