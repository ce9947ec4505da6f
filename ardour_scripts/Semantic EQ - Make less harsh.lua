ardour { ["type"] = "EditorAction", name = "Semantic EQ: make less harsh", license = "MIT",
	description = [[Sets ACE EQ on the selected tracks to "less harsh" (asks the running Semantic EQ server)]] }

function factory () return function ()
	local module = ARDOUR.LuaAPI.build_filename(ARDOUR.user_config_directory(-1), "scripts", "semeq_ardour.lua")
	loadfile(module)().run({ "eq", "less harsh" })
end end
