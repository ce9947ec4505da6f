ardour { ["type"] = "EditorAction", name = "Semantic EQ: say it in words", license = "MIT",
	description = [[Sets ACE EQ on the selected tracks to what you type (asks the running Semantic EQ server)]] }

function factory () return function ()
	local module = ARDOUR.LuaAPI.build_filename(ARDOUR.user_config_directory(-1), "scripts", "semeq_ardour.lua")
	local reply = LuaDialog.Dialog("Semantic EQ", { { type = "entry", key = "text", default = "", title = "Say it in words" } }):run()
	if reply and reply["text"] ~= "" then loadfile(module)().run({ "eq", reply["text"] }) end
end end
