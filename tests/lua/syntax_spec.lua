-- Every script compiles under Lua 5.4 (luac5.4 -p); every action file is a few lines with the
-- ReaPack header tags; index.xml lists exactly the files the scripts folder holds.

local H = require("helpers")

local function lua_files(dir)
  local p = io.popen("find " .. H.shell_quote(dir) .. " -maxdepth 1 -name '*.lua' | sort")
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function basename(path) return path:match("([^/]+)$") end

describe("scripts", function()
  local scripts = lua_files(H.scripts_dir)
  local specs = lua_files(H.tests_dir)

  it("are all there (module + ten actions)", function()
    assert.are.equal(11, #scripts)
  end)

  for _, path in ipairs(scripts) do
    it("compiles with luac5.4 -p: " .. basename(path), function()
      local p = io.popen("luac5.4 -p " .. H.shell_quote(path) .. " 2>&1; echo rc=$?")
      local out = p:read("a")
      p:close()
      assert.matches("rc=0", out, 1, true)
    end)
  end

  for _, path in ipairs(specs) do
    it("spec file compiles with luac5.4 -p: " .. basename(path), function()
      local p = io.popen("luac5.4 -p " .. H.shell_quote(path) .. " 2>&1; echo rc=$?")
      assert.matches("rc=0", p:read("a"), 1, true)
      p:close()
    end)
  end

  it("action files are a few lines with ReaPack tags and the module's version", function()
    H.new()
    local version = H.module().VERSION
    for _, path in ipairs(scripts) do
      local name = basename(path)
      if name ~= "semantic_eq.lua" then
        local text = read(path)
        local code = 0
        for line in text:gmatch("[^\n]+") do if not line:match("^%-%-") then code = code + 1 end end
        assert.is_true(code <= 4, name .. " has " .. code .. " lines of code")
        assert.matches("%-%- @description Semantic EQ: ", text)
        assert.matches("%-%- @version " .. version:gsub("%.", "%%."), text)
        assert.matches("%-%- @author ", text)
        assert.matches('dofile%(dir %.%. "semantic_eq%.lua"%)', text)
      end
    end
  end)

  it("the package's main file provides the module and every other action", function()
    local main = read(H.scripts_dir .. "Semantic EQ - Make warmer.lua")
    assert.matches("@about", main)
    assert.matches("%[nomain%] semantic_eq%.lua", main)
    for _, path in ipairs(scripts) do
      local name = basename(path)
      if name ~= "semantic_eq.lua" and name ~= "Semantic EQ - Make warmer.lua" then
        assert.is_truthy(main:find("[main] " .. name, 1, true), name)
      end
    end
  end)

  it("index.xml lists every script once, at the module's version", function()
    H.new()
    local version = H.module().VERSION
    local index = read(H.scripts_dir .. "index.xml")
    assert.matches('^<%?xml version="1%.0" encoding="utf%-8"%?>', index)
    assert.matches('<index version="1"', index)
    assert.is_truthy(index:find('<version name="' .. version .. '"', 1, true))
    local listed = {}
    for file in index:gmatch('<source[^>]-file="([^"]+)"') do listed[#listed + 1] = file end
    local expected = {}
    for _, path in ipairs(scripts) do expected[#expected + 1] = basename(path) end
    table.sort(listed)
    assert.are.same(expected, listed)
    for _, path in ipairs(scripts) do
      local name = basename(path)
      local url = name:gsub(" ", "%%20")
      assert.is_truthy(index:find(url, 1, true), name .. " has no URL in index.xml")
    end
  end)
end)

describe("the shared module", function()
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
