ardour { ["type"] = "EditorAction", name = "Semantic EQ: make fuller", license = "MIT",
	description = [[Sets ACE EQ on the selected tracks to "fuller" (asks the running Semantic EQ server)]] }

function factory () return function ()
	local module = ARDOUR.LuaAPI.build_filename(ARDOUR.user_config_directory(-1), "scripts", "semeq_ardour.lua")
	loadfile(module)().run({ "eq", "fuller" })
end end
