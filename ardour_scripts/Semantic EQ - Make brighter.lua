ardour { ["type"] = "EditorAction", name = "Semantic EQ: make brighter", license = "MIT",
	description = [[Sets ACE EQ on the selected tracks to "brighter" (asks the running Semantic EQ server)]] }

function factory () return function ()
	local module = ARDOUR.LuaAPI.build_filename(ARDOUR.user_config_directory(-1), "scripts", "semeq_ardour.lua")
	loadfile(module)().run({ "eq", "brighter" })
end end
