-- Every script compiles under Lua 5.4 (luac5.4 -p); modules are small, carry @noindex and set no
-- global; the bundle provides every action as an alias (ReaPack's index is checked by
-- tests/test_reapack_index.py against ReaPack's own parser rules).

local H = require("helpers")

local function lua_files(dir)
  local p = io.popen("find " .. H.shell_quote(dir) .. " -maxdepth 1 -name '*.lua' | sort")
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local function basename(path) return path:match("([^/]+)$") end

describe("scripts", function()
  local bundle = lua_files(H.scripts_dir)
  local modules = lua_files(H.scripts_dir .. "semeq")
  local specs = lua_files(H.tests_dir)

  it("are one bundle and its modules", function()
    assert.are.equal(H.BUNDLE, bundle[1])
    assert.are.equal(1, #bundle)
    assert.is_true(#modules >= 10)
  end)

  for _, list in ipairs({ bundle, modules, specs }) do
    for _, path in ipairs(list) do
      it("compiles with luac5.4 -p: " .. basename(path), function()
        local p = io.popen("luac5.4 -p " .. H.shell_quote(path) .. " 2>&1; echo rc=$?")
        local out = p:read("a")
        p:close()
        assert.matches("rc=0", out, 1, true)
      end)
    end
  end

  it("modules are at most 400 lines and kept out of ReaPack's index (@noindex), dkjson vendored unchanged", function()
    for _, path in ipairs(modules) do
      local text = H.read(path)
      local _, lines = text:gsub("\n", "")
      if basename(path) == "dkjson.lua" then
        local f = io.open("/usr/share/lua/5.4/dkjson.lua", "rb")
        if f then assert.are.equal(f:read("a"), text) f:close() end
        assert.matches("Copyright %(C%) 2010%-2021 David Heiko Kolf", text)
      else
        assert.is_true(lines <= 400, basename(path) .. " has " .. lines .. " lines")
        assert.matches("^%-%- @noindex", text)
      end
    end
    assert.matches("Expat", H.read(H.scripts_dir .. "semeq/LICENSE-dkjson"))
  end)

  it("the bundle has ReaPack's tags and provides every action as an alias, and its modules", function()
    local text = H.read(H.BUNDLE)
    for _, tag in ipairs({ "@description", "@version", "@author", "@changelog", "@about", "@provides" }) do
      assert.matches("%-%- " .. tag, text)
    end
    assert.is_truthy(text:find("[nomain] semeq/*.lua", 1, true))
    for _, name in pairs(H.ACTIONS) do
      assert.is_truthy(text:find("[main] . > " .. name, 1, true), name)
      assert.is_truthy(text:find('["' .. name:gsub("%.lua$", "") .. '"]', 1, true), name .. " has no entry in the action table")
    end
  end)
end)

describe("the modules", function()
  it("sets no global variable (local everywhere), also when an action runs", function()
    local _, state = H.new()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    H.module()
    state.add_track({ selected = false })
    H.run_action(state, "warmer") -- no track selected: a dialog, nothing else
    local added = {}
    for k in pairs(_G) do if not before[k] then added[#added + 1] = tostring(k) end end
    assert.are.same({}, added)
    assert.matches("Select a track", state.dialogs[1].msg)
  end)
end)
