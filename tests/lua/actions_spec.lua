-- Specs of every action against a stand-in `semeq` command (a shell script run for real by
-- ExecProcess): what is sent, what is applied, which dialog appears, and that nothing is left
-- behind. The end-to-end specs (e2e_spec.lua) run the same actions against the real server.

local H = require("helpers")

local WARM = { 3.0, 180.0, 1.5, 350.0, 0.9, -1.0, 1200.0, 1.4, -2.0, 4500.0, 2.0, -1.5, 9000.0 }
local NAMES = { "low_shelf_gain_db", "low_shelf_freq_hz", "peak1_gain_db", "peak1_freq_hz", "peak1_q",
  "peak2_gain_db", "peak2_freq_hz", "peak2_q", "peak3_gain_db", "peak3_freq_hz", "peak3_q",
  "high_shelf_gain_db", "high_shelf_freq_hz" }

local function answer_json(json, op, p, extra)
  local params = {}
  for i, n in ipairs(NAMES) do params[n] = p[i] end
  local a = { ok = true, op = op, id = "t1", params = params, reaeq = { bands = H.answer_bands(p), bw_norm_known = false },
    explanation = "More low end, a softer top.", terms = {}, warnings = {} }
  for k, v in pairs(extra or {}) do a[k] = v end
  return json.encode(a)
end

--- A stand-in semeq: logs its arguments (one per line) to <dir>/args.<n>, prints <dir>/answer.json
--- and exits with the code in <dir>/code (0 if missing).
local function install_stub(dir)
  return H.script(dir, "semeq", table.concat({
    'd=' .. H.shell_quote(dir),
    'n=$(ls "$d" | grep -c "^args\\.")',
    'for a in "$@"; do printf "%s\\n" "$a"; done > "$d/args.$n"',
    'cat "$d/answer.json" 2>/dev/null',
    'code=$(cat "$d/code" 2>/dev/null || echo 0)',
    '[ "$code" != 0 ] && echo "semeq: error: stand-in failure $code" >&2',
    'exit $code',
  }, "\n"))
end

local function read_lines(path)
  local out = {}
  local f = io.open(path)
  if not f then return nil end
  for line in f:lines() do out[#out + 1] = line end
  f:close()
  return out
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function arg_after(args, flag)
  for i, a in ipairs(args) do if a == flag then return args[i + 1] end end
end

describe("actions with a stand-in semeq", function()
  local dir, home, r, state, json, track

  before_each(function()
    dir = H.tmpdir()
    home = dir .. "/home"
    os.execute("mkdir -p " .. H.shell_quote(home .. "/renders"))
    r, state = H.new({ device_rate = 8000 })
    json = H.module().json
    local stub = install_stub(dir)
    r.SetExtState("SemanticEQ", "semeq_path", stub, true)
    r.SetExtState("SemanticEQ", "home", home, true)
    r.SetExtState("SemanticEQ", "port", "7799", true)
    r.SetExtState("SemanticEQ", "timeout_seconds", "5", true)
    local noise = H.noise(3)
    local wav = H.write_wav(dir .. "/track.wav", 2, 8000, 4 * 8000, function() return 0.3 * noise() end)
    track = state.add_track({ name = "Keys", wav = wav })
    state.add_track({ name = "Other", selected = false })
  end)

  after_each(function() H.rmtree(dir) end)

  local function expect_unchanged(before)
    local after = state.snapshot()
    assert.are.same(before.tracks, after.tracks)
    assert.are.same(before.time_selection, after.time_selection)
    assert.are.same(before.undo, after.undo)
    assert.are.same({}, H.list(home .. "/renders"))
  end

  it("Make warmer: sends the track's audio, applies the answer in one undo point, leaves nothing", function()
    write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    state.time_selection = { 1.0, 3.0 }
    H.run_action(state, "warmer")
    local args = read_lines(dir .. "/args.0")
    assert.are.same({ "send", "--port", "7799", "--timeout", "5", "adapt" }, { table.unpack(args, 1, 6) })
    assert.matches("^" .. home:gsub("%p", "%%%0") .. "/renders/reaper%-.*%.wav$", args[7])
    assert.are.equal("warmer", args[8])
    assert.are.equal("1.0", arg_after(args, "--intensity"))
    assert.is_nil(arg_after(args, "--current"))
    assert.are.same({}, state.dialogs)
    assert.are.same({ { desc = "Semantic EQ: make warmer", flags = -1 } }, state.undo)
    assert.are.same({}, state.unblocked_changes)
    assert.are.equal(0, state.undo_open)
    assert.are.equal(0, state.refresh_depth)
    assert.are.equal(2, #state.tracks)
    assert.is_true(state.tracks[1].selected)
    assert.is_false(state.tracks[2].selected)
    assert.are.same({ 1.0, 3.0 }, state.time_selection)
    assert.are.same({}, H.list(home .. "/renders"))
    assert.are.equal(0, state.accessors_open)
    local bands = H.reaeq_bands(state, track)
    assert.are.equal(5, #bands)
    assert.are.near(3.0, bands[1].gain_db, 1e-6)
    -- the ExecProcess timeout is longer than the client's own, so the client reports a timeout
    assert.is_true(state.exec_log[1].timeout_ms > 5000)
  end)

  it("Make warmer twice: the second request carries the ReaEQ's current state", function()
    write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    H.run_action(state, "warmer")
    H.run_action(state, "warmer")
    local args = read_lines(dir .. "/args.1")
    local current = json.decode(arg_after(args, "--current"))
    for i, n in ipairs(NAMES) do
      local tol = n:match("_q$") and 0.02 * WARM[i] or 1e-4 * math.max(1, math.abs(WARM[i]))
      assert.are.near(WARM[i], current[n], tol, n)
    end
    assert.are.equal(2, #state.undo)
    assert.are.equal(1, #track.fx)
  end)

  local words = { brighter = "brighter", less_harsh = "less harsh", less_muddy = "less muddy", fuller = "fuller",
    clearer = "clearer" }
  for key, text in pairs(words) do
    it("Make " .. text .. ": sends '" .. text .. "' and names the undo point", function()
      write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
      H.run_action(state, key)
      assert.are.equal(text, read_lines(dir .. "/args.0")[8])
      assert.are.same({ { desc = "Semantic EQ: make " .. text, flags = -1 } }, state.undo)
    end)
  end

  local failures = {
    { code = 3, kind = "server not running", pattern = "semeq serve" },
    { code = 4, kind = "timeout", pattern = "did not answer within 5 s" },
    { code = 5, kind = "error reply", pattern = "could not do this: no such word", body = '{"ok": false, "id": "x", "code": "unknown_term", "message": "no such word"}' },
    { code = 1, kind = "clear user error", pattern = "stand%-in failure 1" },
    { code = 127, kind = "command not found", pattern = "Semantic EQ %- Settings" },
  }
  for _, case in ipairs(failures) do
    it("exit " .. case.code .. " (" .. case.kind .. "): the right dialog, nothing changed", function()
      write(dir .. "/code", tostring(case.code))
      write(dir .. "/answer.json", case.body or "")
      local before = state.snapshot()
      H.run_action(state, "warmer")
      assert.are.equal(1, #state.dialogs)
      assert.matches(case.pattern, state.dialogs[1].msg)
      expect_unchanged(before)
    end)
  end

  it("error reply when ExecProcess does not capture stderr: the reason comes from stdout's JSON", function()
    r, state = H.new({ exec_stderr = false, device_rate = 8000 })
    r.SetExtState("SemanticEQ", "semeq_path", dir .. "/semeq", true)
    r.SetExtState("SemanticEQ", "home", home, true)
    track = state.add_track({ wav = dir .. "/track.wav" })
    write(dir .. "/code", "5")
    write(dir .. "/answer.json", '{"ok": false, "id": "x", "code": "busy", "message": "the server is busy"}')
    H.run_action(state, "warmer")
    assert.matches("could not do this: the server is busy", state.dialogs[1].msg)
    assert.is_nil(state.dialogs[1].msg:find("stand-in failure", 1, true))
  end)

  it("a client REAPER cannot start at all (ExecProcess returns nil) points to the settings", function()
    r, state = H.new({ exec_hook = function() return nil end })
    r.SetExtState("SemanticEQ", "home", home, true)
    track = state.add_track({ wav = dir .. "/track.wav" })
    local before = state.snapshot()
    H.run_action(state, "brighter")
    assert.matches("could not run the Semantic EQ client", state.dialogs[1].msg)
    assert.matches("Semantic EQ %- Settings", state.dialogs[1].msg)
    expect_unchanged(before)
  end)

  it("the server's answer is checked before anything is applied", function()
    write(dir .. "/answer.json", '{"ok": true, "op": "adapt", "reaeq": {"bands": []}}')
    local before = state.snapshot()
    H.run_action(state, "warmer")
    assert.matches("no five ReaEQ bands", state.dialogs[1].msg)
    assert.are.same(before.tracks, state.snapshot().tracks)
  end)

  it("no selected track: says to select one, runs nothing", function()
    track.selected = false
    H.run_action(state, "warmer")
    assert.matches("Select a track first", state.dialogs[1].msg)
    assert.are.same({}, state.exec_log)
  end)

  it("a track without audio gets the words' plain EQ (op eq), still building on its ReaEQ", function()
    write(dir .. "/answer.json", answer_json(json, "eq", WARM))
    track.audio = nil
    H.run_action(state, "warmer")
    H.run_action(state, "warmer")
    local args = read_lines(dir .. "/args.1")
    assert.are.same({ "eq", "warmer" }, { args[6], args[7] })
    assert.is_not_nil(arg_after(args, "--current"))
    assert.are.equal(2, #state.undo)
  end)

  it("every selected track is analysed on its own and changed in the same undo point", function()
    write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    local second = state.add_track({ name = "Bass", wav = dir .. "/track.wav" })
    H.run_action(state, "fuller")
    assert.is_not_nil(read_lines(dir .. "/args.1"))
    assert.are.equal(1, #state.undo)
    assert.are.equal(1, #track.fx)
    assert.are.equal(1, #second.fx)
  end)

  describe("Say it in words", function()
    it("sends the typed words with the intensity and remembers them", function()
      write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
      state.inputs = { 'a bit "warmer" $(rm -rf x)|0.5' }
      H.run_action(state, "say")
      local args = read_lines(dir .. "/args.0")
      assert.are.equal("a bit warmer (rm -rf x)", args[8])
      assert.are.equal("0.5", arg_after(args, "--intensity"))
      assert.are.equal("Semantic EQ: a bit warmer (rm -rf x)", state.undo[1].desc)
      assert.are.equal("a bit warmer (rm -rf x)", r.GetExtState("SemanticEQ", "last_words"))
      state.inputs = {}
      H.run_action(state, "say") -- cancelled: the dialog offers the last words again
      assert.matches("^a bit warmer", state.input_calls[2].values)
      assert.are.equal(1, #state.exec_log)
    end)

    it("refuses an intensity outside -2..2 and empty words without asking the server", function()
      state.inputs = { "warmer|5" }
      H.run_action(state, "say")
      assert.matches("intensity must be a number from %-2 to 2", state.dialogs[1].msg)
      state.inputs = { " |1" }
      H.run_action(state, "say")
      assert.matches("Type a few words", state.dialogs[2].msg)
      assert.are.same({}, state.exec_log)
    end)
  end)

  describe("Auto-suggest", function()
    local extra = { analysis = { summary = "Dull (0.6): little air above 8 kHz." },
      blend = { { term = "bright", weight = 0.7 }, { term = "clear", weight = 0.3 } } }

    it("shows what it hears and the proposed EQ, applies on Yes", function()
      write(dir .. "/answer.json", answer_json(json, "suggest", WARM, extra))
      state.dialog_answers = { 6 }
      H.run_action(state, "suggest")
      local args = read_lines(dir .. "/args.0")
      assert.are.equal("suggest", args[6])
      assert.are.equal("0.5", arg_after(args, "--strength"))
      local msg = state.dialogs[1].msg
      assert.are.equal(4, state.dialogs[1].kind)
      assert.matches("Dull %(0%.6%)", msg)
      assert.matches("bright 70%%, clear 30%%", msg)
      assert.matches("Low shelf +180 Hz  %+3%.0 dB", msg)
      assert.matches("Apply it%?", msg)
      assert.are.same({ { desc = "Semantic EQ: auto-suggest", flags = -1 } }, state.undo)
      assert.are.equal(1, #track.fx)
    end)

    it("asks per track with Yes/No/Cancel when several are selected; Cancel stops asking", function()
      write(dir .. "/answer.json", answer_json(json, "suggest", WARM, extra))
      local second = state.add_track({ name = "Bass", wav = dir .. "/track.wav" })
      local third = state.add_track({ name = "Pad", wav = dir .. "/track.wav" })
      state.dialog_answers = { 6, 2 }
      H.run_action(state, "suggest")
      assert.are.equal(2, #state.dialogs)
      assert.are.equal(3, state.dialogs[1].kind)
      assert.matches("Track 'Keys'", state.dialogs[1].msg)
      assert.matches("Track 'Bass'", state.dialogs[2].msg)
      assert.are.equal(1, #track.fx)
      assert.are.equal(0, #second.fx)
      assert.are.equal(0, #third.fx)
      assert.are.equal(1, #state.undo)
    end)

    it("changes nothing on No", function()
      write(dir .. "/answer.json", answer_json(json, "suggest", WARM, extra))
      state.dialog_answers = { 7 }
      local before = state.snapshot()
      H.run_action(state, "suggest")
      expect_unchanged(before)
    end)
  end)

  it("Describe: shows the summary and the strongest words", function()
    write(dir .. "/answer.json", json.encode({ ok = true, op = "analyze", analysis = {
      summary = "Bright (0.75) and thin (0.4).", loudness_lufs = -14.2, true_peak_dbtp = -0.8,
      descriptors = { { term = "bright", score = 0.75 }, { term = "thin", score = 0.4 } } } }))
    local before = state.snapshot()
    H.run_action(state, "describe")
    assert.are.equal("analyze", read_lines(dir .. "/args.0")[6])
    local msg = state.dialogs[1].msg
    assert.matches("Bright %(0%.75%) and thin", msg)
    assert.matches("%-14%.2 LUFS", msg)
    assert.matches("bright%s+%+0%.75", msg)
    expect_unchanged(before)
  end)

  describe("Settings", function()
    it("stores valid settings (persisted) and checks the server with a ping", function()
      write(dir .. "/answer.json", '{"ok": true, "op": "ping", "version": "0.1.0"}')
      local stub = r.GetExtState("SemanticEQ", "semeq_path")
      state.inputs = { stub .. "|7711|" .. home .. "|20|send|12|0.3" }
      H.run_action(state, "settings")
      assert.are.equal("7711", state.ext_persist["SemanticEQ\0port"])
      assert.are.equal("20", state.ext_persist["SemanticEQ\0analysis_seconds"])
      assert.are.equal("0.3", state.ext_persist["SemanticEQ\0suggest_strength"])
      assert.are.same({ "send", "--port", "7711", "--timeout", "12", "ping" }, read_lines(dir .. "/args.0"))
      assert.matches("answers on port 7711 %(version 0%.1%.0%)", state.dialogs[1].msg)
    end)

    it("refuses a bad port and keeps the old settings", function()
      state.inputs = { "semeq|70000|" .. home .. "|30|send|30|0.5" }
      H.run_action(state, "settings")
      assert.matches("port must be a whole number", state.dialogs[1].msg)
      assert.are.equal("7799", r.GetExtState("SemanticEQ", "port"))
    end)

    it("says when the saved settings cannot reach a server", function()
      write(dir .. "/code", "3")
      local stub = r.GetExtState("SemanticEQ", "semeq_path")
      state.inputs = { stub .. "|7799|" .. home .. "|30|send|30|0.5" }
      H.run_action(state, "settings")
      assert.matches("Settings saved, but", state.dialogs[1].msg)
      assert.matches("semeq serve", state.dialogs[1].msg)
    end)
  end)
end)
