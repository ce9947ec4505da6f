-- End to end: the REAPER scripts under Lua 5.4 with the fake REAPER, against the real
-- `semeq send` and a real `semeq serve` (started by tests/test_lua.py in a temporary home), on a
-- track whose audio is real music (drascula-music from Debian, excerpt written as WAV). The
-- server is started with --allow on the music's folder, so it mixes the track's items itself; one
-- spec moves the media outside that folder to check the fallback through the audio accessor.
--
-- Environment (set by tests/test_lua.py): SEMEQ_E2E_SEMEQ (the semeq command), SEMEQ_E2E_PORT,
-- SEMEQ_E2E_HOME, SEMEQ_E2E_PID (the server's process id, to stop it for the timeout case),
-- SEMEQ_E2E_DOWN_PORT (a port where nothing listens), SEMEQ_E2E_WAV (the music), SEMEQ_E2E_RATE
-- (its sample rate), SEMEQ_E2E_REPORT (a JSON file this spec writes for the Python side's own check).

local H = require("helpers")

local function env(name)
  local v = os.getenv(name)
  assert(v and v ~= "", name .. " is not set: run these specs through tests/test_lua.py (pytest), "
    .. "which starts a real semeq serve and prepares real music")
  return v
end

local SEMEQ, PORT, HOME = env("SEMEQ_E2E_SEMEQ"), env("SEMEQ_E2E_PORT"), env("SEMEQ_E2E_HOME")
local PID, DOWN_PORT, WAV = env("SEMEQ_E2E_PID"), env("SEMEQ_E2E_DOWN_PORT"), env("SEMEQ_E2E_WAV")
local RATE, REPORT = tonumber(env("SEMEQ_E2E_RATE")), env("SEMEQ_E2E_REPORT")

local WAV_DATA = H.Fake.read_wav(WAV) -- read once, shared by every fake track

local json
local report = { runs = {} }
local answers, requests = {}, {}

-- record every request the scripts send and every answer they get (the files are removed)
do
  local C = H.module().client
  local ask, start = C.ask, C.start
  C.start = function(settings, request) requests[#requests + 1] = request return start(settings, request) end
  C.ask = function(...)
    local a, m, k, c = ask(...)
    answers[#answers + 1] = a or false
    return a, m, k, c
  end
end

local function fresh(settings, fake_opts)
  local opts = { device_rate = RATE }
  for k, v in pairs(fake_opts or {}) do opts[k] = v end
  local r, state = H.new(opts)
  json = H.module().json
  local defaults = { semeq_path = SEMEQ, port = PORT, home = HOME, analysis_seconds = "12", timeout_seconds = "60",
    transport = "send" }
  for k, v in pairs(settings or {}) do defaults[k] = v end
  for k, v in pairs(defaults) do r.SetExtState("SemanticEQ", k, v, true) end
  answers, requests = {}, {}
  local track = state.add_track({ name = "Music" })
  track.items = { H.Fake.Media.item(WAV, { wav = WAV_DATA }) }
  state.add_track({ name = "Other", selected = false })
  return r, state, track
end

--- The n-th answer the scripts got.
local function answer_of(state, n)
  return assert(answers[n], "no answer " .. n)
end

--- Max |ReaEQ response - server's response_db| in dB, on the answer's own frequency grid.
local function response_error(state, track, answer)
  local rdb = answer.response_db
  local mine = H.rbj_db((H.reaeq_bands(state, track)), rdb.freqs_hz, rdb.sample_rate_hz)
  return H.max_abs_diff(mine, rdb.db)
end

local function record(name, state, track, answer)
  local bands = H.reaeq_bands(state, track)
  report.runs[#report.runs + 1] = { name = name, params = answer.params, sample_rate_hz = answer.response_db.sample_rate_hz,
    bands = bands, lua_error_db = response_error(state, track, answer) }
  local f = assert(io.open(REPORT, "w"))
  f:write(json.encode(report))
  f:close()
end

local function server_files()
  local out = {}
  for _, sub in ipairs({ "renders", "inbox", "outbox", "done", "failed", "requests" }) do
    for _, p in ipairs(H.list(HOME .. "/" .. sub)) do out[#out + 1] = p end
  end
  return out
end

local function expect_unchanged(state, before)
  local after = state.snapshot()
  assert.are.same(before.tracks, after.tracks)
  assert.are.same(before.time_selection, after.time_selection)
  assert.are.same(before.undo, after.undo)
  assert.are.same({}, server_files())
end

describe("end to end against the real server", function()
  it("Make warmer on real music: the ReaEQ's response equals the server's EQ within 0.1 dB", function()
    local r, state, track = fresh()
    H.run_action(state, "warmer")
    assert.are.same({}, state.dialogs)
    local answer = answer_of(state, 1)
    assert.are.equal("adapt", answer.op)
    assert.is_table(answer.analysis)
    assert.is_table(requests[1].items) -- the server mixed the track's items itself
    assert.is_nil(requests[1].path)
    assert.matches("/requests/reaper%-.*%.request%.json$", answer.path) -- the track description the server read
    assert.are.equal(5, #answer.reaeq.bands)
    local err = response_error(state, track, answer)
    assert.is_true(err < 0.1, string.format("ReaEQ differs from the server's EQ by %.3f dB", err))
    assert.are.same({ { desc = "Semantic EQ: make warmer", flags = -1 } }, state.undo)
    assert.are.same({}, state.unblocked_changes)
    assert.are.equal(2, #state.tracks)
    assert.is_false(state.tracks[2].selected)
    assert.are.same({}, server_files()) -- the temporary render is gone
    record("warmer", state, track, answer)
  end)

  it("Make warmer with other gain and bandwidth scales (0.25 = 0 dB, octaves / 4): still within 0.1 dB", function()
    local r, state, track = fresh(nil, { gain_mapping = "quarter", bw_mapping = "quarter" })
    H.run_action(state, "warmer")
    assert.are.same({}, state.dialogs, state.dialogs[1] and state.dialogs[1].msg)
    local answer = answer_of(state, 1)
    local err = response_error(state, track, answer)
    assert.is_true(err < 0.1, string.format("ReaEQ differs from the server's EQ by %.3f dB", err))
    record("warmer, scales", state, track, answer)
  end)

  it("a second Make warmer builds on the first (sends the ReaEQ's state as --current)", function()
    local r, state, track = fresh()
    H.run_action(state, "warmer")
    local first = answer_of(state, 1)
    H.run_action(state, "warmer")
    assert.are.same({}, state.dialogs)
    local current = assert(requests[2].current, "no current EQ sent")
    for name, value in pairs(first.params) do
      local tol = name:match("_q$") and 0.02 * value or (name:match("freq") and 1e-3 * value or 0.01)
      assert.are.near(value, current[name], tol, name)
    end
    local second = answer_of(state, 2)
    assert.is_true(response_error(state, track, second) < 0.1)
    -- the second EQ is not the first again: it adds to it
    local diff = H.max_abs_diff(first.response_db.db, second.response_db.db)
    assert.is_true(diff > 0.3, string.format("the second answer differs from the first by only %.3f dB", diff))
    assert.are.equal(1, #track.fx)
    assert.are.equal(2, #state.undo)
    record("warmer twice", state, track, second)
  end)

  local words = { brighter = "brighter", less_harsh = "less harsh", less_muddy = "less muddy", fuller = "fuller",
    clearer = "clearer" }
  for key, text in pairs(words) do
    it("Make " .. text .. " applies the server's EQ within 0.1 dB", function()
      local r, state, track = fresh()
      H.run_action(state, key)
      assert.are.same({}, state.dialogs, state.dialogs[1] and state.dialogs[1].msg)
      local answer = answer_of(state, 1)
      assert.is_true(response_error(state, track, answer) < 0.1)
      assert.are.equal("Semantic EQ: make " .. text, state.undo[1].desc)
      record(text, state, track, answer)
    end)
  end

  it("Say it in words with an intensity", function()
    local r, state, track = fresh()
    state.inputs = { "a bit brighter|0.5" }
    H.run_action(state, "say")
    assert.are.same({}, state.dialogs, state.dialogs[1] and state.dialogs[1].msg)
    local answer = answer_of(state, 1)
    assert.are.equal(0.5, answer.intensity)
    assert.is_true(response_error(state, track, answer) < 0.1)
    record("a bit brighter", state, track, answer)
  end)

  it("Auto-suggest shows what it hears, applies on Yes; No changes nothing", function()
    local r, state, track = fresh()
    state.dialog_answers = { 6 }
    H.run_action(state, "suggest")
    local answer = answer_of(state, 1)
    assert.are.equal("suggest", answer.op)
    assert.are.equal(4, state.dialogs[1].kind)
    assert.matches("Apply it%?", state.dialogs[1].msg)
    assert.matches("Low shelf", state.dialogs[1].msg)
    assert.is_true(response_error(state, track, answer) < 0.1)
    record("suggest", state, track, answer)

    r, state, track = fresh()
    state.dialog_answers = { 7 }
    local before = state.snapshot()
    H.run_action(state, "suggest")
    expect_unchanged(state, before)
  end)

  it("Describe shows the server's summary", function()
    local r, state, track = fresh()
    local before = state.snapshot()
    H.run_action(state, "describe")
    local answer = answer_of(state, 1)
    local summary = (answer.analysis or answer).summary
    assert.is_string(summary)
    assert.is_truthy(state.dialogs[1].msg:find(summary, 1, true))
    expect_unchanged(state, before)
  end)

  it("Settings are stored and the real server answers the ping", function()
    local r, state = fresh()
    state.inputs = { table.concat({ SEMEQ, PORT, HOME, "10", "send", "30", "0.4" }, "|") }
    H.run_action(state, "settings")
    assert.matches("answers on port " .. PORT, state.dialogs[1].msg)
    assert.are.equal("0.4", state.ext_persist["SemanticEQ\0suggest_strength"])
  end)

  it("server not running: the dialog gives the command to start it; nothing changes", function()
    local r, state = fresh({ port = DOWN_PORT, timeout_seconds = "5" })
    local before = state.snapshot()
    H.run_action(state, "warmer")
    assert.are.equal(1, #state.dialogs)
    assert.matches("not running", state.dialogs[1].msg)
    assert.matches("semeq serve", state.dialogs[1].msg)
    expect_unchanged(state, before)
  end)

  it("timeout (the server is stopped): the timeout dialog; nothing changes", function()
    local r, state = fresh({ timeout_seconds = "2" })
    local before = state.snapshot()
    os.execute("kill -STOP " .. PID)
    local ok, err = pcall(H.run_action, state, "warmer")
    os.execute("kill -CONT " .. PID)
    assert(ok, err)
    assert.are.equal(1, #state.dialogs)
    assert.matches("did not answer within 2 s", state.dialogs[1].msg)
    expect_unchanged(state, before)
  end)

  it("error reply: the server's reason in the dialog; nothing changes", function()
    local r, state = fresh()
    state.inputs = { string.rep("warmer ", 100) .. "|1" } -- longer than the server accepts
    local before = state.snapshot()
    H.run_action(state, "say")
    assert.are.equal(1, #state.dialogs)
    assert.matches("could not do this", state.dialogs[1].msg)
    assert.matches("longer than", state.dialogs[1].msg)
    expect_unchanged(state, before)
  end)

  it("a client REAPER cannot find points to the settings", function()
    local r, state = fresh({ semeq_path = HOME .. "/no-such-semeq" })
    local before = state.snapshot()
    H.run_action(state, "warmer")
    assert.matches("Semantic EQ %- Settings", state.dialogs[1].msg)
    expect_unchanged(state, before)
  end)

  it("the watch-folder fallback gets the answer from the real server without blocking", function()
    local r, state, track = fresh({ transport = "folder", timeout_seconds = "120", semeq_path = HOME .. "/no-such-semeq" })
    state.run_script(H.BUNDLE, H.scripts_dir .. H.ACTIONS.warmer)
    assert.is_true(#state.deferred > 0) -- the action returned; polling goes on through reaper.defer
    assert.are.same({}, state.undo)
    state.run_deferred(150)
    assert.are.same({}, state.dialogs, state.dialogs[1] and state.dialogs[1].msg)
    assert.are.same({}, state.exec_log)
    assert.are.same({ { desc = "Semantic EQ: make warmer", flags = -1 } }, state.undo)
    assert.are.equal(5, #H.reaeq_bands(state, track))
    assert.are.same({}, server_files())
  end)

  it("media outside the server's folders: forbidden_path, then the accessor; same EQ within 0.1 dB", function()
    local r, state, track = fresh()
    local outside = os.tmpname()
    os.execute("cp " .. H.shell_quote(WAV) .. " " .. H.shell_quote(outside))
    track.items[1].take.source.path = outside
    H.run_action(state, "warmer")
    os.remove(outside)
    assert.are.same({}, state.dialogs, state.dialogs[1] and state.dialogs[1].msg)
    assert.is_false(answers[1]) -- refused: the server may not read there
    assert.is_string(requests[2].path) -- the accessor's WAV in renders/
    local answer = answer_of(state, 2)
    assert.is_true(response_error(state, track, answer) < 0.1)
    assert.matches("%-%-allow", state.console)
    assert.are.same({ { desc = "Semantic EQ: make warmer", flags = -1 } }, state.undo)
    assert.are.same({}, server_files())
  end)
end)
