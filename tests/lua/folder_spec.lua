-- Specs of the watch-folder fallback: the request is written into inbox/ (sidecar first, audio
-- renamed in), the answer polled from outbox/ with reaper.defer (the action returns at once, so
-- REAPER's UI never waits), every file of the request removed afterwards. A small background
-- shell loop stands in for the server here; e2e_spec.lua uses the real `semeq serve`.

local H = require("helpers")

local WARM = { 3.0, 180.0, 1.5, 350.0, 0.9, -1.0, 1200.0, 1.4, -2.0, 4500.0, 2.0, -1.5, 9000.0 }

--- Background stand-in watcher: for each inbox/<stem>.wav, wait for it, then write
--- outbox/<stem>.<words>.json (or failed/<stem>.error.txt) and move the inputs to done/.
local function start_watcher(home, reply_file, fail)
  local script = table.concat({
    "cd " .. H.shell_quote(home),
    "for i in $(seq 1 200); do",
    "  for w in inbox/*.wav; do",
    '    [ -e "$w" ] || continue',
    '    s=$(basename "$w" .wav)',
    '    cp inbox/"$s".json "$s".sidecar.seen',
    fail and '    mv "$w" failed/ && echo "the audio is unreadable" > failed/"$s".error.txt && rm -f inbox/"$s".json; exit 0'
      or '    cp ' .. H.shell_quote(reply_file) .. ' outbox/."$s".tmp && mv outbox/."$s".tmp outbox/"$s".warmer.json '
        .. '&& touch outbox/"$s".warmer.wav outbox/"$s".warmer.png && mv "$w" inbox/"$s".json done/; exit 0',
    "  done",
    "  sleep 0.1",
    "done",
  }, "\n")
  os.execute("(" .. script .. ") >/dev/null 2>&1 &")
end

describe("watch-folder fallback", function()
  local dir, home, r, state, json, track

  before_each(function()
    dir = H.tmpdir()
    home = dir .. "/home"
    for _, sub in ipairs({ "inbox", "outbox", "done", "failed", "renders" }) do os.execute("mkdir -p " .. H.shell_quote(home .. "/" .. sub)) end
    r, state = H.new({ device_rate = 8000 })
    json = H.module().json
    r.SetExtState("SemanticEQ", "home", home, true)
    r.SetExtState("SemanticEQ", "transport", "folder", true)
    r.SetExtState("SemanticEQ", "timeout_seconds", "20", true)
    r.SetExtState("SemanticEQ", "semeq_path", "/nonexistent/semeq", true)
    local noise = H.noise(5)
    track = state.add_track({ wav = H.write_wav(dir .. "/t.wav", 2, 8000, 2 * 8000, function() return 0.2 * noise() end) })
  end)

  after_each(function() H.rmtree(dir) end)

  it("writes the request, returns at once, applies the answer from outbox/ and cleans up", function()
    local params = {}
    local names = { "low_shelf_gain_db", "low_shelf_freq_hz", "peak1_gain_db", "peak1_freq_hz", "peak1_q",
      "peak2_gain_db", "peak2_freq_hz", "peak2_q", "peak3_gain_db", "peak3_freq_hz", "peak3_q",
      "high_shelf_gain_db", "high_shelf_freq_hz" }
    for i, n in ipairs(names) do params[n] = WARM[i] end
    local reply = dir .. "/reply.json"
    local f = io.open(reply, "w")
    f:write(json.encode({ ok = true, op = "adapt", params = params, reaeq = { bands = H.answer_bands(WARM) } }))
    f:close()
    start_watcher(home, reply, false)
    state.run_script(H.BUNDLE, H.scripts_dir .. H.ACTIONS.warmer)
    -- the action has returned; the answer comes later through reaper.defer
    assert.is_true(#state.deferred > 0)
    assert.are.same({}, state.undo) -- and no automatic undo point: it deferred
    assert.are.equal(0, #track.fx)
    state.run_deferred(30)
    assert.are.same({}, state.dialogs)
    assert.are.same({ { desc = "Semantic EQ: make warmer", flags = -1 } }, state.undo)
    local bands = H.reaeq_bands(state, track)
    assert.are.near(3.0, bands[1].gain_db, 1e-6)
    assert.are.same({}, state.exec_log)
    -- the sidecar asked for the words at intensity 1, with keys the watcher accepts
    local seen = H.list(home)
    local sidecar
    for _, p in ipairs(seen) do if p:match("sidecar%.seen$") then sidecar = p end end
    local sf = io.open(sidecar)
    local request = json.decode(sf:read("a"))
    sf:close()
    assert.are.same({ text = "warmer", intensity = 1 }, request)
    -- nothing of the request is left in the server's folders
    for _, sub in ipairs({ "inbox", "outbox", "done", "failed", "renders" }) do
      assert.are.same({}, H.list(home .. "/" .. sub), sub)
    end
  end)

  it("shows the server's reason from failed/ and changes nothing", function()
    start_watcher(home, "", true)
    local before = state.snapshot()
    H.run_action(state, "warmer", 30)
    assert.matches("could not do this: the audio is unreadable", state.dialogs[1].msg)
    assert.are.same(before.tracks, state.snapshot().tracks)
    assert.are.same({}, H.list(home .. "/failed"))
  end)

  it("gives up after the timeout with a dialog naming the folder, and removes its request", function()
    r.SetExtState("SemanticEQ", "timeout_seconds", "1", true)
    H.run_action(state, "warmer", 60)
    assert.matches("No answer appeared in " .. (home .. "/outbox"):gsub("%p", "%%%0"), state.dialogs[1].msg)
    assert.are.same({}, H.list(home .. "/inbox"))
    assert.are.same({}, state.undo)
  end)

  it("works with REAPER before 6.19, whose listings end with \"\" (no endless loop)", function()
    r, state = H.new({ device_rate = 8000, old_enumerate = true })
    r.SetExtState("SemanticEQ", "home", home, true)
    r.SetExtState("SemanticEQ", "transport", "folder", true)
    r.SetExtState("SemanticEQ", "timeout_seconds", "20", true)
    track = state.add_track({ wav = dir .. "/t.wav" })
    start_watcher(home, "", true)
    H.run_action(state, "warmer", 30)
    assert.matches("could not do this: the audio is unreadable", state.dialogs[1].msg)
    assert.are.same({}, H.list(home .. "/failed"))
  end)

  it("says so when the watch folder does not exist", function()
    r.SetExtState("SemanticEQ", "home", dir .. "/nowhere", true)
    H.run_action(state, "warmer")
    assert.matches("does not exist", state.dialogs[1].msg)
    assert.matches("semeq serve", state.dialogs[1].msg)
  end)
end)

describe("watch-folder requests", function()
  it("carry the current EQ for words and only keys the watcher takes", function()
    local dir = H.tmpdir()
    local home = dir .. "/home"
    for _, sub in ipairs({ "inbox", "outbox", "done", "failed", "renders" }) do os.execute("mkdir -p " .. H.shell_quote(home .. "/" .. sub)) end
    local r, state = H.new({ device_rate = 8000 })
    local M = H.module()
    r.SetExtState("SemanticEQ", "home", home, true)
    r.SetExtState("SemanticEQ", "transport", "folder", true)
    r.SetExtState("SemanticEQ", "timeout_seconds", "0.3", true)
    local noise = H.noise(9)
    local track = state.add_track({ wav = H.write_wav(dir .. "/t.wav", 1, 8000, 8000, function() return 0.2 * noise() end) })
    -- the track already has a Semantic EQ, so a words request would have a current EQ to send
    assert.is_true(M.reaeq.apply(track, H.answer_bands({ 1, 100, 0, 300, 1, 0, 1000, 1, 0, 3000, 1, 0, 8000 })).ok)
    local sidecars = {}
    local real_rename = os.rename
    -- look at each sidecar as it is renamed into inbox/
    os.rename = function(a, b)
      if b:match("%.json$") then
        local f = io.open(a); sidecars[#sidecars + 1] = M.json.decode(f:read("a")); f:close()
      end
      return real_rename(a, b)
    end
    local ok, err = pcall(function()
      H.run_action(state, "warmer", 20)
      H.run_action(state, "describe", 20)
    end)
    os.rename = real_rename
    H.rmtree(dir)
    assert(ok, err)
    assert.are.same("warmer", sidecars[1].text)
    assert.are.same(1.0, sidecars[1].intensity)
    -- the ReaEQ's state goes along, so repeated actions build on it (the watcher checks the 13 names)
    assert.is_true(math.abs(sidecars[1].current.low_shelf_gain_db - 1) < 0.01)
    assert.is_true(math.abs(sidecars[1].current.peak3_freq_hz - 3000) < 1)
    assert.are.same({ suggest = true, strength = 0.5 }, sidecars[2])
  end)
end)
