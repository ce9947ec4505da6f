-- Semantic EQ for Ardour: the code every "Semantic EQ: ..." editor action shares.
--
-- An action asks the Semantic EQ server (`semeq send ...`, the server must be running) for an
-- EQ and sets the answer's `ardour` block (ACE EQ's 24 values, index 0..23) on the first ACE EQ
-- of each selected track, adding ACE EQ at the top of the track when it has none. Install: copy
-- this folder's .lua files into Ardour's scripts folder (docs/ardour.md).

local M = {}

M.ACE_URI = "urn:ardour:a-eq"
-- The client command (nil: $SEMEQ_COMMAND, else `semeq`); set SEMEQ_COMMAND when `semeq` is not
-- on Ardour's PATH.
M.command = nil

local function shell_quote(text)
	return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

-- Run `semeq send ARGS...`; returns the answer JSON text, or nil and what went wrong.
function M.send(args)
	local command = M.command or os.getenv("SEMEQ_COMMAND") or "semeq"
	local parts = { command, "send" }
	for _, arg in ipairs(args) do
		parts[#parts + 1] = shell_quote(arg)
	end
	local pipe = io.popen(table.concat(parts, " ") .. " 2>&1", "r")
	if not pipe then
		return nil, "cannot run " .. command
	end
	local text = pipe:read("*a")
	local ok = pipe:close()
	if not ok or not text:find('"ok": true', 1, true) then
		return nil, "the Semantic EQ server did not answer: " .. text
	end
	return text
end

-- The answer's `ardour` block as a table: control index (0..23) -> value.
function M.ardour_values(answer)
	local block = answer:match('"ardour"%s*:%s*(%b[])')
	if not block then
		return nil
	end
	local values = {}
	for item in block:gmatch("%b{}") do
		local index = tonumber(item:match('"index"%s*:%s*(%d+)'))
		local value = tonumber(item:match('"value"%s*:%s*([-+%deE.]+)'))
		if index and value then
			values[index] = value
		end
	end
	return values
end

-- The first ACE EQ on ROUTE; one is added at the top of the route when there is none.
function M.ace(route)
	local i = 0
	while true do
		local proc = route:nth_plugin(i)
		if proc:isnil() then
			break
		end
		local insert = proc:to_insert()
		if not insert:isnil() and insert:plugin(0):unique_id() == M.ACE_URI then
			return proc
		end
		i = i + 1
	end
	local proc = ARDOUR.LuaAPI.new_plugin(Session, M.ACE_URI, ARDOUR.PluginType.LV2, "")
	if proc:isnil() then
		return nil
	end
	route:add_processor_by_index(proc, 0, nil, true)
	return proc
end

-- Set ROUTE's ACE EQ to the answer; returns true, or nil and what went wrong.
function M.apply(route, answer)
	local values = M.ardour_values(answer)
	if not values or values[23] == nil then
		return nil, "the answer has no complete ardour block"
	end
	local proc = M.ace(route)
	if not proc then
		return nil, "ACE EQ (" .. M.ACE_URI .. ") is not available"
	end
	for index = 0, 23 do
		ARDOUR.LuaAPI.set_processor_param(proc, index, values[index])
	end
	return true
end

-- The editor action: ask with ARGS once, set every selected track's ACE EQ to the answer.
function M.run(args)
	local routes = Editor:get_selection().tracks:routelist()
	local answer, err = nil, "select one or more tracks first"
	if not routes:empty() then
		answer, err = M.send(args)
	end
	for route in routes:iter() do
		if not answer then
			break
		end
		local ok, apply_err = M.apply(route, answer)
		if not ok then
			err, answer = apply_err, nil
		end
	end
	if not answer then
		LuaDialog.Message("Semantic EQ", err, LuaDialog.MessageType.Warning, LuaDialog.ButtonType.Close):run()
	end
end

return M
