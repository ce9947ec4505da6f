ardour { ["type"] = "EditorAction", name = "Semantic EQ: make warmer", license = "MIT",
	description = [[Sets ACE EQ on the selected tracks to "warmer" (asks the running Semantic EQ server)]] }

function factory () return function ()
	local module = ARDOUR.LuaAPI.build_filename(ARDOUR.user_config_directory(-1), "scripts", "semeq_ardour.lua")
	loadfile(module)().run({ "eq", "warmer" })
end end
