-- Unit specs: the item list sent to the server, and the fallback reading the track's pre-FX audio
-- through the (fake) audio accessor into a float32 WAV, in slices inside a task; time selection
-- first, else the loudest part.

local H = require("helpers")

describe("track audio for analysis", function()
  local dir

  before_each(function() dir = H.tmpdir() end)
  after_each(function() H.rmtree(dir) end)

  local function settings(M, seconds)
    local s = M.settings.load()
    s.analysis_seconds_number = seconds
    return s
  end

  --- capture() inside a task, as the actions run it; `look(path)` reads the WAV before the task's
  --- clean-up removes it. Returns capture's results.
  local function capture(state, M, track, s, look)
    local out
    M.task.start("test", function(task)
      out = { M.audio.capture(task, track, s, dir .. "/renders") }
      if out[1] and look then look(out[1]) end
    end)
    state.run_deferred(120)
    return table.unpack(out)
  end

  it("writes the time selection, sample for sample, and closes the accessor", function()
    local src = H.write_wav(dir .. "/src.wav", 2, 48000, 3 * 48000, function(i, c) return ((i * 7 + c * 13) % 200) / 200 - 0.5 end)
    local r, state = H.new({ device_rate = 48000 })
    local M = H.module()
    local track = state.add_track({ wav = src, position = 2.0 })
    state.time_selection = { 3.0, 4.0 }
    local got
    local path = assert(capture(state, M, track, settings(M, 30), function(p) got = H.Fake.read_wav(p) end))
    assert.are.equal(0, state.accessors_open)
    assert.matches("/renders/reaper%-[%d%-]+%.wav$", path)
    assert.are.same({}, H.list(dir .. "/renders")) -- removed when the task ended
    assert.are.equal(2, got.channels)
    assert.are.equal(48000, got.rate)
    assert.are.equal(48000, got.frames)
    local srcw = H.Fake.read_wav(src)
    for _, i in ipairs({ 0, 1, 777, 47999 }) do
      for c = 1, 2 do
        assert.are.equal(srcw.samples[(48000 + i) * 2 + c], got.samples[i * 2 + c])
      end
    end
    assert.are.same({ 3.0, 4.0 }, state.time_selection)
  end)

  it("takes the loudest stretch when there is no time selection", function()
    local noise = H.noise(7)
    local rate = 8000
    -- 40 s: quiet, loud from 22 s to 32 s, quiet
    local src = H.write_wav(dir .. "/src.wav", 1, rate, 40 * rate, function(i)
      local t = i / rate
      local gain = (t >= 22 and t < 32) and 0.8 or 0.02
      return gain * noise()
    end)
    local r, state = H.new({ device_rate = rate })
    local M = H.module()
    local track = state.add_track({ wav = src })
    local got
    assert(capture(state, M, track, settings(M, 10), function(p) got = H.Fake.read_wav(p) end))
    assert.are.equal(10 * rate, got.frames)
    local acc
    M.task.SLICE_BUDGET_S = 0 -- yield after every block: the scan must be able to pause anywhere
    M.task.start("scan", function(task) acc = M.audio.loudest_start(task, r.CreateTrackAudioAccessor(track), 0, 40, 10) end)
    state.run_deferred(120)
    M.task.SLICE_BUDGET_S = 0.02
    assert.is_true(acc >= 21 and acc <= 23, "loudest window starts at " .. acc)
    assert.is_true(#state.slices >= 40 * 8000 // 2048, "one slice per block: " .. #state.slices)
  end)

  it("takes the whole track when it is shorter than the analysis length", function()
    local src = H.write_wav(dir .. "/src.wav", 2, 44100, 44100, function(i, c) return 0.1 * c end)
    local r, state = H.new({ device_rate = 44100 })
    local M = H.module()
    local track = state.add_track({ wav = src, position = 1.5 })
    local frames
    assert(capture(state, M, track, settings(M, 30), function(p) frames = H.Fake.read_wav(p).frames end))
    assert.are.equal(44100, frames)
  end)

  it("says so when the track has no audio or only silence, and leaves no file", function()
    local r, state = H.new()
    local M = H.module()
    local empty = state.add_track({})
    local path, why, kind = capture(state, M, empty, settings(M, 30))
    assert.is_nil(path)
    assert.are.equal("no_audio", kind)
    assert.matches("no audio items", why)
    local silent = state.add_track({ wav = H.write_wav(dir .. "/silent.wav", 1, 8000, 8000, function() return 0 end) })
    path, why, kind = capture(state, M, silent, settings(M, 30))
    assert.is_nil(path)
    assert.matches("silent", why)
    assert.are.same({}, H.list(dir .. "/renders"))
    assert.are.equal(0, state.accessors_open)
  end)

  it("refuses a time selection that misses the audio", function()
    local src = H.write_wav(dir .. "/src.wav", 1, 8000, 8000, function(i) return 0.3 end)
    local r, state = H.new()
    local M = H.module()
    local track = state.add_track({ wav = src })
    state.time_selection = { 5.0, 9.0 }
    local path, why = capture(state, M, track, settings(M, 30))
    assert.is_nil(path)
    assert.matches("time selection", why)
  end)

  it("lists the audio items for the server: file, position, offset, length, rate, volumes, fades, mute", function()
    local src = H.write_wav(dir .. "/src.wav", 2, 8000, 8000, function() return 0.1 end)
    local r, state = H.new()
    local M = H.module()
    local track = state.add_track({})
    track.items = { H.Fake.Media.item(src, { position = 2, offset = 0.25, length = 0.5, playrate = 1.5, vol = 0.5,
      take_vol = -2, fade_in = 0.1, fade_out = 0.2, fade_in_shape = 1, loop = true, mute = true }),
      H.Fake.Media.item(nil, { midi = true, length = 4 }) }
    local items = assert(M.audio.items(track))
    assert.are.equal(1, #items) -- MIDI is not audio
    assert.are.same({ path = src, position_s = 2, offset_s = 0.25, length_s = 0.5, playrate = 1.5, volume = -1.0,
      pan = 0, fade_in_s = 0.1, fade_in_shape = 1, fade_out_s = 0.2, fade_out_shape = 0, loop = true, mute = true }, items[1])
    track.items[1].fade_in_auto = 0.3 -- an automatic crossfade replaces the manual fade
    assert.are.equal(0.3, M.audio.items(track)[1].fade_in_s)
  end)

  local cannot = {
    { "take FX", function(it) it.take.fx = 1 end }, { "take envelopes", function(it) it.take.envelopes = 2 end },
    { "pitch shift", function(it) it.take.pitch = 3 end }, { "a channel mode", function(it) it.take.chanmode = 2 end },
    { "time stretch", function(it) it.take.playrate = 2; it.take.ppitch = true end },
    { "a SECTION source", function(it) it.take.source.type = "SECTION" end },
    { "a source without a file path", function(it) it.take.source.path = "relative.wav" end },
  }
  for _, case in ipairs(cannot) do
    it("sends a track with " .. case[1] .. " to the accessor instead", function()
      local src = H.write_wav(dir .. "/src.wav", 1, 8000, 800, function() return 0.1 end)
      local r, state = H.new()
      local track = state.add_track({ wav = src })
      case[2](track.items[1])
      local items, why = H.module().audio.items(track)
      assert.is_nil(items)
      assert.are.equal(case[1], why)
    end)
  end
end)
