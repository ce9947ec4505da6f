-- The fake REAPER behaves like REAPER where REAPER is awkward (../shared/docs/reaper-and-osc-facts.md,
-- "Checked against REAPER's own sources"), and the scripts cope with each behaviour.

local H = require("helpers")

local function argv_printer(dir)
  return H.script(dir, "show args", 'for a in "$@"; do printf "[%s]\\n" "$a"; done')
end

describe("the fake's ExecProcess", function()
  local dir, r, state
  before_each(function() dir = H.tmpdir(); r, state = H.new() end)
  after_each(function() H.rmtree(dir) end)

  it("splits without a shell on macOS/Linux: quotes group, backslashes and $ stay literal", function()
    local prog = argv_printer(dir)
    local out = r.ExecProcess('"' .. prog .. '" "a b" c\\d "$HOME" \'x y\' {\\"k\\":1}', 0)
    assert.are.equal("0\n[a b]\n[c\\d]\n[$HOME]\n['x]\n[y']\n[{\\k\\:1}]\n", out)
  end)

  it("shows why shell-escaped JSON broke the second 'Make warmer' (the old --current argument)", function()
    local X = require("fake_exec")
    assert.are.same({ "--current", "{\\low_shelf_gain_db\\:1.5}" }, X.split_posix('--current "{\\"low_shelf_gain_db\\":1.5}"'))
  end)

  it("splits a Windows line with the C runtime's backslash rules", function()
    local X = require("fake_exec")
    assert.are.same({ "C:\\Program Files\\semeq.exe", "a\"b", "C:\\dir\\", "x y" },
      X.split_windows('"C:\\Program Files\\semeq.exe" "a\\"b" "C:\\dir\\\\" "x y"'))
  end)

  it("returns nil when the program cannot be started", function()
    assert.is_nil(r.ExecProcess('"' .. dir .. '/missing" x', 0))
    assert.is_nil(r.ExecProcess('"' .. dir .. '/missing" x', -1))
  end)

  it("does not wait with -1 and -2: returns at once while the program runs on", function()
    local prog = H.script(dir, "slow", 'sleep 0.6; touch "$1"')
    for _, mode in ipairs({ -1, -2 }) do
      local flag = dir .. "/done" .. mode
      local t0 = r.time_precise()
      local out = r.ExecProcess('"' .. prog .. '" "' .. flag .. '"', mode)
      assert.is_not_nil(out)
      assert.is_true(r.time_precise() - t0 < 0.3)
      assert.is_nil(io.open(flag), "not finished yet")
      os.execute("sleep 0.9")
      assert.is_not_nil(io.open(flag), "the program ran on")
    end
  end)

  it("stops waiting after a positive timeout (returns nil) and waits without limit for 0", function()
    local prog = H.script(dir, "slow", "sleep 1; echo late")
    local t0 = r.time_precise()
    assert.is_nil(r.ExecProcess('"' .. prog .. '"', 200))
    assert.is_true(r.time_precise() - t0 < 0.8)
    assert.are.equal("0\nlate\n", r.ExecProcess('"' .. prog .. '"', 0))
  end)
end)

describe("the scripts' command lines under REAPER's splitting", function()
  local dir
  before_each(function() dir = H.tmpdir() end)
  after_each(function() H.rmtree(dir) end)

  for _, os_name in ipairs(H.Fake.OS_VALUES) do
    it("GetOS '" .. os_name .. "': every argument arrives exactly", function()
      local r, state = H.new({ os = os_name })
      local C = H.module().client
      local prog = argv_printer(dir)
      local settings = { semeq_path = prog, port = "7710", timeout_seconds = "30" }
      local odd = dir .. "/my $HOME's \\ folder/req.json"
      local line = assert(C.command_line(settings, odd, odd .. ".answer"))
      local windows = os_name:match("^Win") ~= nil
      assert.are.equal(windows, H.module().util.is_windows())
      local X = require("fake_exec")
      local argv = windows and X.split_windows(line) or X.split_posix(line)
      assert.are.same({ prog, "send", "--port", "7710", "--timeout", "30", "--request", odd, "--answer", odd .. ".answer" }, argv)
      if not windows then
        assert.are.equal("0\n[send]\n[--port]\n[7710]\n[--timeout]\n[30]\n[--request]\n[" .. odd .. "]\n[--answer]\n["
          .. odd .. ".answer]\n", r.ExecProcess(line, 0))
      end
    end)
  end

  it("refuses a double quote inside an argument on macOS/Linux (REAPER cannot pass it)", function()
    H.new({ os = "macOS-arm64" })
    local C = H.module().client
    local q, err = C.quote('a"b')
    assert.is_nil(q)
    assert.matches("double quote", err)
  end)
end)

describe("the automatic undo point", function()
  local dir
  before_each(function() dir = H.tmpdir() end)
  after_each(function() H.rmtree(dir) end)

  it("is added when a script ends without reaper.defer, not when it deferred", function()
    local r, state = H.new()
    H.write(dir .. "/plain.lua", "local x = 1")
    H.write(dir .. "/deferring.lua", "reaper.defer(function() end)")
    state.run_script(dir .. "/plain.lua")
    assert.are.same({ { desc = "ReaScript: Run", auto = true } }, state.undo)
    state.run_script(dir .. "/deferring.lua")
    state.run_deferred(5)
    assert.are.equal(1, #state.undo)
  end)
end)

describe("EnumerateFiles", function()
  local dir
  before_each(function()
    dir = H.tmpdir()
    H.write(dir .. "/a.json", "{}")
    H.write(dir .. "/b.json", "{}")
  end)
  after_each(function() H.rmtree(dir) end)

  it("ends with nil (6.19+) or with \"\" (older REAPER), and the scripts stop on both", function()
    for _, old in ipairs({ false, true }) do
      local r = H.new({ old_enumerate = old })
      r.EnumerateFiles(dir, -1)
      assert.are.equal(old and "" or nil, r.EnumerateFiles(dir, 2))
      assert.are.same({ "a.json", "b.json" }, H.module().folder.list_files(dir))
    end
  end)
end)

describe("ReaEQ's awkward corners", function()
  it("SetNamedConfigParm returns false for BANDENABLEDn although it works; the scripts read back", function()
    local r, state = H.new()
    local track = state.add_track({})
    local fx = r.TrackFX_AddByName(track, "ReaEQ", false, -1)
    assert.is_false(r.TrackFX_SetNamedConfigParm(track, fx, "BANDENABLED1", "0"))
    assert.are.same({ true, "0" }, { r.TrackFX_GetNamedConfigParm(track, fx, "BANDENABLED1") })
    assert.is_true(H.module().reaeq.apply(track, H.answer_bands({ 3, 180, 1.5, 350, 0.9, -1, 1200, 1.4, -2, 4500, 2, -1.5, 9000 })).ok)
  end)

  for _, mapping in ipairs({ "documented", "quarter" }) do
    it("a fresh band reads 0 dB under the '" .. mapping .. "' gain capture, and the scripts read it so", function()
      local r, state = H.new({ gain_mapping = mapping })
      local track = state.add_track({})
      local fx = r.TrackFX_AddByName(track, "ReaEQ", false, -1)
      r.TrackFX_SetNamedConfigParm(track, fx, "renamed_name", "Semantic EQ")
      r.TrackFX_SetNamedConfigParm(track, fx, "BANDTYPE3", "8")
      r.TrackFX_SetNamedConfigParm(track, fx, "BANDTYPE4", "1")
      assert.are.equal(mapping == "quarter" and 0.25 or 0.5, r.TrackFX_GetParamNormalized(track, fx, 1))
      assert.are.equal("+0.0", select(2, r.TrackFX_GetFormattedParamValue(track, fx, 1, "")))
      local cur = H.module().reaeq.current_params(track)
      assert.are.near(0, cur.low_shelf_gain_db, 1e-9)
      assert.are.near(0, cur.peak2_gain_db, 1e-9)
    end)
  end
end)

describe("GetAppVersion and the version check", function()
  local cases = { { "7.20/linux-x86_64", true }, { "6.37/x64", true }, { "7.0/macOS-arm64", true },
    { "6.36/win64", false }, { "5.99/OSX64", false }, { "", false }, { "dev build", false } }
  for _, case in ipairs(cases) do
    it("'" .. case[1] .. "' is " .. (case[2] and "accepted" or "refused with the minimum named"), function()
      local r = H.new({ app_version = case[1] })
      assert.are.equal(case[1], r.GetAppVersion())
      local ok, why = H.module().util.check_version()
      assert.are.equal(case[2], ok)
      if not ok then assert.matches("REAPER 6%.37 or newer", why) end
    end)
  end
end)

describe("main-thread slices", function()
  it("are timed for the script's run and each deferred call", function()
    local r, state = H.new()
    local dir = H.tmpdir()
    H.write(dir .. "/s.lua", "local n = 0; local function f() n = n + 1; if n < 3 then reaper.defer(f) end end; reaper.defer(f)")
    state.run_script(dir .. "/s.lua")
    state.run_deferred(5)
    assert.are.equal(4, #state.slices)
    for _, d in ipairs(state.slices) do assert.is_true(d >= 0 and d <= state.longest_slice()) end
    H.rmtree(dir)
  end)
end)
