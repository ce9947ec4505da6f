-- Specs of every action against a stand-in `semeq send` (a shell script run for real, without a
-- shell, by the fake's ExecProcess; helpers.install_stub): what is sent (the request file), what
-- is applied, which dialog appears, which undo point REAPER records, and that nothing is left
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

local function arg_after(args, flag)
  for i, a in ipairs(args) do if a == flag then return args[i + 1] end end
end

describe("actions with a stand-in semeq", function()
  local dir, home, r, state, M, json, track

  before_each(function()
    dir = H.tmpdir()
    home = dir .. "/my home"
    os.execute("mkdir -p " .. H.shell_quote(home .. "/renders"))
    r, state = H.new({ device_rate = 8000 })
    M = H.module()
    json = M.json
    r.SetExtState("SemanticEQ", "semeq_path", H.install_stub(dir), true)
    r.SetExtState("SemanticEQ", "home", home, true)
    r.SetExtState("SemanticEQ", "port", "7799", true)
    r.SetExtState("SemanticEQ", "timeout_seconds", "5", true)
    local noise = H.noise(3)
    local wav = H.write_wav(dir .. "/track.wav", 2, 8000, 4 * 8000, function() return 0.3 * noise() end)
    track = state.add_track({ name = "Keys", wav = wav })
    state.add_track({ name = "Other", selected = false })
  end)

  after_each(function() H.rmtree(dir) end)

  local function request(n) return json.decode(assert(H.read(dir .. "/request." .. n .. ".json"), "no request " .. n)) end
  local function leftovers()
    local out = H.list(home .. "/renders")
    for _, p in ipairs(H.list(home .. "/requests")) do out[#out + 1] = p end
    return out
  end
  local function expect_unchanged(before)
    local after = state.snapshot()
    assert.are.same(before.tracks, after.tracks)
    assert.are.same(before.time_selection, after.time_selection)
    assert.are.same(before.undo, after.undo)
    assert.are.same({}, leftovers())
  end

  it("Make warmer: sends the item list in a request file, applies the answer in one undo point", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    state.time_selection = { 1.0, 3.0 }
    H.run_action(state, "warmer")
    local args = H.read_lines(dir .. "/args.0")
    assert.are.same({ "send", "--port", "7799", "--timeout", "5", "--request" }, { table.unpack(args, 1, 6) })
    assert.matches("/my home/requests/reaper%-.*%.request%.json$", args[7])
    assert.are.equal(args[7]:gsub("request%.json$", "answer.json"), arg_after(args, "--answer"))
    assert.are.equal(M.client.NO_WAIT, state.exec_log[1].timeout_ms)
    local req = request(0)
    assert.are.equal("adapt", req.op)
    assert.are.equal("warmer", req.text)
    assert.are.equal(1, req.intensity)
    assert.are.same({ 1.0, 3.0 }, req.span_s)
    assert.are.equal(1, #req.items)
    assert.are.equal(dir .. "/track.wav", req.items[1].path)
    assert.is_nil(req.path) -- no render: the server reads the media itself
    assert.are.same({}, state.dialogs)
    assert.are.same({ { desc = "Semantic EQ: make warmer", flags = -1 } }, state.undo)
    assert.are.same({}, state.unblocked_changes)
    assert.are.equal(0, state.undo_open)
    assert.are.equal(0, state.refresh_depth)
    assert.is_false(state.tracks[2].selected)
    assert.are.same({ 1.0, 3.0 }, state.time_selection)
    assert.are.same({}, leftovers())
    assert.are.near(3.0, H.reaeq_bands(state, track)[1].gain_db, 1e-6)
  end)

  it("Make warmer twice: the second request carries the ReaEQ's state as JSON in the file", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    H.run_action(state, "warmer")
    H.run_action(state, "warmer")
    local current = request(1).current
    for i, n in ipairs(NAMES) do
      local tol = n:match("gain") and 1e-6 or (n:match("freq") and 1e-6 * WARM[i] or 0.02 * WARM[i])
      assert.are.near(WARM[i], current[n], tol, n)
    end
    for _, a in ipairs(H.read_lines(dir .. "/args.1")) do assert.is_nil(a:find("{", 1, true)) end
    assert.are.equal(2, #state.undo)
    assert.are.equal(1, #track.fx)
  end)

  for key, text in pairs({ brighter = "brighter", less_harsh = "less harsh", less_muddy = "less muddy",
    fuller = "fuller", clearer = "clearer" }) do
    it("Make " .. text .. ": sends '" .. text .. "' and names the undo point", function()
      H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
      H.run_action(state, key)
      assert.are.equal(text, request(0).text)
      assert.are.same({ { desc = "Semantic EQ: make " .. text, flags = -1 } }, state.undo)
    end)
  end

  local failures = {
    { code = "server_down", pattern = "semeq serve" },
    { code = "timeout", pattern = "did not answer within 5 s" },
    { code = "unknown_term", pattern = "could not do this: no such word" },
    { code = "bad_request_file", pattern = "Update both to the same version" },
  }
  for _, case in ipairs(failures) do
    it("error answer '" .. case.code .. "': the right dialog, nothing changed, no undo point", function()
      H.write(dir .. "/answer.json", json.encode({ ok = false, code = case.code, message = "no such word" }))
      local before = state.snapshot()
      H.run_action(state, "warmer")
      assert.are.equal(1, #state.dialogs)
      assert.matches(case.pattern, state.dialogs[1].msg)
      expect_unchanged(before)
    end)
  end

  it("a client REAPER cannot start (ExecProcess returns nil) points to the settings", function()
    r.SetExtState("SemanticEQ", "semeq_path", dir .. "/no such semeq", true)
    local before = state.snapshot()
    H.run_action(state, "brighter")
    assert.matches("could not run the Semantic EQ client", state.dialogs[1].msg)
    assert.matches("Semantic EQ %- Settings", state.dialogs[1].msg)
    expect_unchanged(before)
  end)

  it("a program that starts but is not the client is reported after the start timeout", function()
    H.write(dir .. "/no_start", "")
    M.client.START_TIMEOUT_S = 0.5
    local before = state.snapshot()
    H.run_action(state, "warmer")
    M.client.START_TIMEOUT_S = 10
    assert.matches("could not run the Semantic EQ client", state.dialogs[1].msg)
    expect_unchanged(before)
  end)

  for _, case in ipairs({ { key = 27, what = "Esc in the progress window" }, { key = -1, what = "closing the progress window" } }) do
    it(case.what .. " cancels: request withdrawn, nothing changed, no undo point", function()
      H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
      H.write(dir .. "/delay", "1.5")
      local before = state.snapshot()
      local pressed = false
      H.run_action(state, "warmer", 30, function(s)
        if s.gfx_open and not pressed then s.keys[#s.keys + 1] = case.key; pressed = true end
      end)
      assert.is_true(pressed)
      assert.is_false(state.gfx_open)
      assert.are.same({}, state.dialogs)
      os.execute("sleep 1.8") -- the stand-in finishes: it must find its request gone and write nothing
      expect_unchanged(before)
    end)
  end

  it("the server's answer is checked before anything is applied", function()
    H.write(dir .. "/answer.json", '{"ok": true, "op": "adapt", "reaeq": {"bands": []}}')
    local before = state.snapshot()
    H.run_action(state, "warmer")
    assert.matches("no five ReaEQ bands", state.dialogs[1].msg)
    assert.are.same(before.tracks, state.snapshot().tracks)
  end)

  it("no selected track: says to select one, runs nothing, leaves no undo point", function()
    track.selected = false
    H.run_action(state, "warmer")
    assert.matches("Select a track first", state.dialogs[1].msg)
    assert.are.same({}, state.exec_log)
    assert.are.same({}, state.undo)
  end)

  it("REAPER older than 6.37: says which version is needed, changes nothing", function()
    r, state = H.new({ app_version = "6.29/x64" })
    r.SetExtState("SemanticEQ", "home", home, true)
    track = state.add_track({ wav = dir .. "/track.wav" })
    H.run_action(state, "warmer")
    assert.matches("needs REAPER 6%.37 or newer; this is REAPER 6%.29", state.dialogs[1].msg)
    assert.are.same({}, state.exec_log)
    assert.are.same({}, state.undo)
    assert.are.equal(0, #track.fx)
  end)

  it("a track with only MIDI items gets the words' plain EQ (op eq), building on its ReaEQ", function()
    H.write(dir .. "/answer.json", answer_json(json, "eq", WARM))
    track.items = { H.Fake.Media.item(nil, { midi = true, length = 8 }) }
    H.run_action(state, "warmer")
    H.run_action(state, "warmer")
    assert.are.equal("eq", request(0).op)
    assert.is_table(request(1).current)
    assert.are.equal(0, state.accessors_open)
    assert.are.equal(2, #state.undo)
  end)

  it("items the server cannot mix (take FX) go through the audio accessor into renders/", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    track.items[1].take.fx = 1
    H.run_action(state, "warmer")
    local req = request(0)
    assert.is_nil(req.items)
    assert.matches("/my home/renders/reaper%-.*%.wav$", req.path)
    assert.are.equal(0, state.accessors_open)
    assert.are.same({}, leftovers())
    assert.are.equal(1, #state.undo)
  end)

  it("the server refusing the media folder (forbidden_path) falls back to the accessor, once noted", function()
    H.write(dir .. "/answer.0.json", json.encode({ ok = false, code = "forbidden_path", message = "outside" }))
    H.write(dir .. "/answer.1.json", answer_json(json, "adapt", WARM))
    H.run_action(state, "warmer", 60)
    assert.are.same({}, state.dialogs)
    assert.is_table(request(0).items)
    assert.is_string(request(1).path)
    assert.matches("semeq serve %-%-allow", state.console)
    assert.are.same({}, state.dialogs)
    assert.are.equal(1, #state.undo)
  end)

  it("every selected track is analysed on its own and changed in the same undo point", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    local second = state.add_track({ name = "Bass", wav = dir .. "/track.wav" })
    H.run_action(state, "fuller")
    assert.is_table(request(1))
    assert.are.equal(1, #state.undo)
    assert.are.equal(1, #track.fx)
    assert.are.equal(1, #second.fx)
  end)

  it("a bypassed Semantic EQ is set, left bypassed, and the user is told", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    H.run_action(state, "warmer")
    track.fx[1].enabled = false
    H.run_action(state, "warmer")
    assert.is_false(track.fx[1].enabled)
    assert.matches("Track 'Keys': Its 'Semantic EQ' is bypassed, and was left bypassed", state.dialogs[1].msg)
    assert.are.equal(2, #state.undo)
  end)

  it("an existing Semantic EQ with fewer than five bands: told what to do, no change, no undo point", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    r, state = H.new({ device_rate = 8000, default_bands = 4 })
    r.SetExtState("SemanticEQ", "semeq_path", dir .. "/semeq", true)
    r.SetExtState("SemanticEQ", "home", home, true)
    track = state.add_track({ name = "Keys", wav = dir .. "/track.wav" })
    local fx = r.TrackFX_AddByName(track, "ReaEQ", false, -1)
    r.TrackFX_SetNamedConfigParm(track, fx, "renamed_name", "Semantic EQ")
    local before = state.snapshot()
    H.run_action(state, "warmer")
    assert.matches("has 4 bands; Semantic EQ needs 5", state.dialogs[1].msg)
    expect_unchanged(before)
  end)

  it("a new ReaEQ from a four-band default preset is kept, in one undo point, with what to do", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    r, state = H.new({ device_rate = 8000, default_bands = 4 })
    r.SetExtState("SemanticEQ", "semeq_path", dir .. "/semeq", true)
    r.SetExtState("SemanticEQ", "home", home, true)
    track = state.add_track({ name = "Keys", wav = dir .. "/track.wav" })
    H.run_action(state, "warmer")
    assert.are.equal(1, #track.fx)
    assert.are.equal("Semantic EQ", track.fx[1].renamed)
    assert.matches("has 4 bands; Semantic EQ needs 5", state.dialogs[1].msg)
    assert.are.same({ { desc = "Semantic EQ: make warmer", flags = -1 } }, state.undo) -- undoes the insert
  end)

  it("a bug inside an action ends in a dialog, and the request's files are still removed", function()
    H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
    local apply = M.reaeq.apply
    M.reaeq.apply = function() error("deliberate failure") end
    local ok, err = pcall(H.run_action, state, "warmer")
    M.reaeq.apply = apply
    assert(ok, err)
    assert.matches("stopped on an unexpected error", state.dialogs[1].msg)
    assert.matches("deliberate failure", state.dialogs[1].msg)
    assert.are.same({}, leftovers())
    assert.is_false(state.gfx_open)
  end)

  it("the bundle run under its own name asks for words (Say it in words)", function()
    state.inputs = {}
    state.run_script(H.BUNDLE)
    state.run_deferred(10)
    assert.are.equal("Semantic EQ: say it in words", state.input_calls[1].title)
    assert.are.same({}, state.undo)
  end)

  describe("Say it in words", function()
    it("sends the typed words as JSON (quotes and $ intact) with the intensity and remembers them", function()
      H.write(dir .. "/answer.json", answer_json(json, "adapt", WARM))
      state.inputs = { 'a bit "warmer" $(rm -rf x) C:\\x|0.5' }
      H.run_action(state, "say")
      local req = request(0)
      assert.are.equal('a bit "warmer" $(rm -rf x) C:\\x', req.text)
      assert.are.equal(0.5, req.intensity)
      assert.are.equal('Semantic EQ: a bit "warmer" $(rm -rf x) C:\\x', state.undo[1].desc)
      assert.are.equal(1, #state.undo)
      state.inputs = {}
      H.run_action(state, "say") -- cancelled: the dialog offers the last words again, no undo point
      assert.matches('^a bit "warmer"', state.input_calls[2].values)
      assert.are.equal(1, #state.exec_log)
      assert.are.equal(1, #state.undo)
    end)

    it("'better' (needs_audio): sent again as an auto-suggest on the track's audio, and says so", function()
      H.write(dir .. "/answer.0.json", json.encode({ ok = false, code = "needs_audio", message = "'better' needs audio" }))
      H.write(dir .. "/answer.1.json", answer_json(json, "suggest", WARM))
      state.inputs = { "better|1" }
      H.run_action(state, "say")
      assert.are.equal("adapt", request(0).op)
      local req = request(1)
      assert.are.equal("suggest", req.op)
      assert.are.equal(0.5, req.strength)
      assert.are.equal(dir .. "/track.wav", req.items[1].path)
      assert.are.same({ { desc = "Semantic EQ: better", flags = -1 } }, state.undo)
      assert.are.equal(1, #track.fx)
      assert.matches("'better' does not say how it should sound, so Semantic EQ auto%-suggested", state.dialogs[1].msg)
    end)

    it("'fix it' on a track without audio: tells why it cannot be done, changes nothing", function()
      track.selected = false
      state.add_track({ name = "Synth" }) -- no items: an instrument track
      H.write(dir .. "/answer.json", json.encode({ ok = false, code = "needs_audio", message = "'fix it' needs audio" }))
      state.inputs = { "fix it|1" }
      local before = state.snapshot()
      H.run_action(state, "say")
      assert.are.equal("eq", request(0).op)
      assert.are.equal(1, #state.exec_log) -- no auto-suggest: there is nothing to listen to
      assert.matches("Track 'Synth': 'fix it' does not say how it should sound", state.dialogs[1].msg)
      assert.matches("no audio before its FX", state.dialogs[1].msg)
      assert.are.same(before.undo, state.undo)
      assert.are.same(before.tracks, state.snapshot().tracks)
    end)

    it("refuses an intensity outside -2..2 and empty words without asking the server", function()
      state.inputs = { "warmer|5" }
      H.run_action(state, "say")
      assert.matches("intensity must be a number from %-2 to 2", state.dialogs[1].msg)
      state.inputs = { " |1" }
      H.run_action(state, "say")
      assert.matches("Type a few words", state.dialogs[2].msg)
      assert.are.same({}, state.exec_log)
      assert.are.same({}, state.undo)
    end)
  end)

  describe("Auto-suggest", function()
    local extra = { analysis = { summary = "Dull (0.6): little air above 8 kHz." }, blend = {},
      bands = { { text = "-6.0 dB at 300 Hz: muddy" }, { text = "+2.5 dB above 8 kHz: toward real music" } },
      problems = { { text = "muddy: +7 dB around 298 Hz", word = "muddy", freq_hz = 298, gain_db = 7,
        confidence = 0.8, basis = "envelope" } } }

    it("shows what it hears and the proposed EQ, applies on Yes", function()
      H.write(dir .. "/answer.json", answer_json(json, "suggest", WARM, extra))
      state.dialog_answers = { 6 }
      H.run_action(state, "suggest")
      assert.are.equal("suggest", request(0).op)
      assert.are.equal(0.5, request(0).strength)
      local msg = state.dialogs[1].msg
      assert.are.equal(4, state.dialogs[1].kind)
      assert.matches("Dull %(0%.6%)", msg)
      assert.matches("Problems heard:\n  muddy: %+7 dB around 298 Hz", msg)
      assert.matches("What the EQ does:\n  %-6%.0 dB at 300 Hz: muddy\n  %+2%.5 dB above 8 kHz: toward real music", msg)
      assert.is_nil(msg:find("Blend", 1, true)) -- the empty blend is not shown
      assert.matches("Low shelf +180 Hz  %+3%.0 dB", msg)
      assert.are.same({ { desc = "Semantic EQ: auto-suggest", flags = -1 } }, state.undo)
    end)

    it("marks the problems it heard but kept as the track's character", function()
      local kept = { analysis = extra.analysis, blend = {}, bands = extra.bands, problems = {
        extra.problems[1], { text = "distant: -9 dB around 5.1 kHz", kept = true } } }
      H.write(dir .. "/answer.json", answer_json(json, "suggest", WARM, kept))
      state.dialog_answers = { 7 }
      H.run_action(state, "suggest")
      local msg = state.dialogs[1].msg
      assert.matches("  muddy: %+7 dB around 298 Hz\n  distant: %-9 dB around 5%.1 kHz  %(kept: the track's character%)", msg)
      assert.is_nil(msg:find("298 Hz  (kept", 1, true))
    end)

    it("asks per track with Yes/No/Cancel when several are selected; Cancel stops asking", function()
      H.write(dir .. "/answer.json", answer_json(json, "suggest", WARM, extra))
      local second = state.add_track({ name = "Bass", wav = dir .. "/track.wav" })
      local third = state.add_track({ name = "Pad", wav = dir .. "/track.wav" })
      state.dialog_answers = { 6, 2 }
      H.run_action(state, "suggest")
      assert.are.equal(2, #state.dialogs)
      assert.are.equal(3, state.dialogs[1].kind)
      assert.matches("Track 'Bass'", state.dialogs[2].msg)
      assert.are.equal(1, #track.fx)
      assert.are.equal(0, #second.fx + #third.fx)
      assert.are.equal(1, #state.undo)
    end)

    it("changes nothing and leaves no undo point on No", function()
      H.write(dir .. "/answer.json", answer_json(json, "suggest", WARM, extra))
      state.dialog_answers = { 7 }
      local before = state.snapshot()
      H.run_action(state, "suggest")
      expect_unchanged(before)
    end)
  end)

  it("Describe: shows the summary and the strongest words; read-only, so no undo point", function()
    H.write(dir .. "/answer.json", json.encode({ ok = true, op = "analyze", analysis = {
      summary = "Bright (0.75) and thin (0.4).", loudness_lufs = -14.2, true_peak_dbtp = -0.8,
      descriptors = { { term = "bright", score = 0.75 }, { term = "thin", score = 0.4 } } } }))
    local before = state.snapshot()
    H.run_action(state, "describe")
    assert.are.equal("analyze", request(0).op)
    local msg = state.dialogs[1].msg
    assert.matches("Bright %(0%.75%) and thin", msg)
    assert.matches("%-14%.2 LUFS", msg)
    assert.matches("bright%s+%+0%.75", msg)
    assert.matches("No problems were found%.", msg)
    expect_unchanged(before)
  end)

  it("Describe: lists the problems heard", function()
    H.write(dir .. "/answer.json", json.encode({ ok = true, op = "analyze", analysis = { summary = "Muddy." },
      problems = { { text = "muddy: +7 dB around 298 Hz" }, { text = "harsh: +4 dB around 3.1 kHz" } } }))
    H.run_action(state, "describe")
    local msg = state.dialogs[1].msg
    assert.matches("Problems heard:\n  muddy: %+7 dB around 298 Hz\n  harsh: %+4 dB around 3%.1 kHz", msg)
    assert.is_nil(msg:find("No problems", 1, true))
  end)

  describe("Match EQ to reference track", function()
    it("two selected tracks: the first is matched to the second's items, in one undo point", function()
      local ref_wav = H.write_wav(dir .. "/ref.wav", 1, 8000, 2 * 8000, function() return 0.1 end)
      state.add_track({ name = "Reference", wav = ref_wav })
      H.write(dir .. "/answer.json", answer_json(json, "suggest", WARM))
      H.write(dir .. "/delay", "0.3")
      local seen
      H.run_action(state, "match", nil, function()
        for _, p in ipairs(H.list(home .. "/requests")) do
          if p:match("%.reference%.json$") then seen = { path = p, body = json.decode(H.read(p)) } end
        end
      end)
      local req = request(0)
      assert.are.equal("suggest", req.op)
      assert.are.equal(1, req.strength)
      assert.are.equal(dir .. "/track.wav", req.items[1].path) -- the target's items
      assert.are.equal(seen.path, req.reference)
      assert.are.equal(ref_wav, seen.body.items[1].path) -- the reference track file holds its items
      assert.are.same({}, state.file_calls or {}) -- no file asked for
      assert.are.same({ { desc = "Semantic EQ: match to reference", flags = -1 } }, state.undo)
      assert.are.equal(1, #track.fx)
      local bands = H.reaeq_bands(state, track)
      assert.are.near(3.0, bands[1].gain_db, 1e-6)
      assert.are.same({}, state.dialogs)
      assert.are.same({}, leftovers()) -- the reference file is gone too
    end)

    it("one selected track: the reference is the audio file chosen; cancelling the chooser sends nothing", function()
      state.file_answers = {}
      H.run_action(state, "match")
      assert.are.equal(1, #state.file_calls)
      assert.are.same({}, state.exec_log)
      assert.are.same({}, state.undo)
      state.file_answers = { dir .. "/mix reference.flac" }
      H.write(dir .. "/answer.json", answer_json(json, "suggest", WARM))
      H.run_action(state, "match")
      assert.are.equal(dir .. "/mix reference.flac", request(0).reference)
      assert.are.equal(1, #state.undo)
    end)

    it("a reference file the server may not read: says how to allow it, changes nothing", function()
      state.file_answers = { "/elsewhere/ref.wav" }
      H.write(dir .. "/answer.json", json.encode({ ok = false, code = "forbidden_path", message = "outside the allowed folders" }))
      local before = state.snapshot()
      H.run_action(state, "match")
      assert.matches("semeq serve %-%-allow", state.dialogs[#state.dialogs].msg)
      assert.are.same(before.undo, state.undo)
      assert.are.same(before.tracks, state.snapshot().tracks)
    end)

    it("a reference track whose media the server may not read is read by REAPER instead", function()
      local ref_wav = H.write_wav(dir .. "/ref.wav", 1, 8000, 2 * 8000, function() return 0.1 end)
      state.add_track({ name = "Reference", wav = ref_wav })
      local refused = json.encode({ ok = false, code = "forbidden_path", message = "outside" })
      for n = 0, 2 do H.write(dir .. "/answer." .. n .. ".json", refused) end
      H.write(dir .. "/answer.3.json", answer_json(json, "suggest", WARM))
      H.run_action(state, "match")
      assert.matches("%.reference%.json$", request(0).reference)
      assert.matches("/my home/renders/.*%.wav$", request(3).path)
      assert.matches("/my home/renders/.*%.wav$", request(3).reference)
      assert.are_not.equal(request(3).path, request(3).reference)
      assert.are.equal(1, #state.undo)
      assert.are.same({}, leftovers())
    end)
  end)

  describe("Settings", function()
    it("stores valid settings (persisted), pings the server, leaves no undo point", function()
      H.write(dir .. "/answer.json", '{"ok": true, "op": "ping", "version": "0.1.0"}')
      local stub = r.GetExtState("SemanticEQ", "semeq_path")
      state.inputs = { stub .. "|7711|" .. home .. "|20|send|12|0.3" }
      H.run_action(state, "settings")
      assert.are.equal("7711", state.ext_persist["SemanticEQ\0port"])
      assert.are.equal("0.3", state.ext_persist["SemanticEQ\0suggest_strength"])
      assert.are.equal("ping", request(0).op)
      assert.are.same({ "send", "--port", "7711", "--timeout", "12" }, { table.unpack(H.read_lines(dir .. "/args.0"), 1, 5) })
      assert.matches("answers on port 7711 %(version 0%.1%.0%)", state.dialogs[1].msg)
      assert.are.same({}, state.undo)
    end)

    it("refuses a bad port and a path with a double quote, keeping the old settings", function()
      state.inputs = { "semeq|70000|" .. home .. "|30|send|30|0.5" }
      H.run_action(state, "settings")
      assert.matches("port must be a whole number", state.dialogs[1].msg)
      state.inputs = { 'sem"eq|7799|' .. home .. "|30|send|30|0.5" }
      H.run_action(state, "settings")
      assert.matches("cannot contain a double quote", state.dialogs[2].msg)
      assert.are.equal("7799", r.GetExtState("SemanticEQ", "port"))
      assert.are.same({}, state.undo)
    end)
  end)
end)
