-- Unit specs: reading the track's pre-FX audio through the (fake) audio accessor and writing it
-- as a float32 WAV for the server; time selection first, else the loudest part.

local H = require("helpers")

describe("track audio for analysis", function()
  local dir

  before_each(function() dir = H.tmpdir() end)
  after_each(function() H.rmtree(dir) end)

  local function settings(M, seconds)
    local s = M.settings()
    s.analysis_seconds_number = seconds
    return s
  end

  it("writes the time selection, sample for sample, and closes the accessor", function()
    local src = H.write_wav(dir .. "/src.wav", 2, 48000, 3 * 48000, function(i, c) return ((i * 7 + c * 13) % 200) / 200 - 0.5 end)
    local r, state = H.new({ device_rate = 48000 })
    local M = H.module()
    local track = state.add_track({ wav = src, position = 2.0 })
    state.time_selection = { 3.0, 4.0 }
    local path = assert(M.audio.capture(track, settings(M, 30), dir .. "/renders"))
    assert.are.equal(0, state.accessors_open)
    assert.matches("/renders/reaper%-[%d%-]+%.wav$", path)
    local got = H.Fake.read_wav(path)
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
    local path = assert(M.audio.capture(track, settings(M, 10), dir .. "/renders"))
    local got = H.Fake.read_wav(path)
    assert.are.equal(10 * rate, got.frames)
    local acc = M.audio.loudest_start(r.CreateTrackAudioAccessor(track), 0, 40, 10)
    assert.is_true(acc >= 21 and acc <= 23, "loudest window starts at " .. acc)
  end)

  it("takes the whole track when it is shorter than the analysis length", function()
    local src = H.write_wav(dir .. "/src.wav", 2, 44100, 44100, function(i, c) return 0.1 * c end)
    local r, state = H.new({ device_rate = 44100 })
    local M = H.module()
    local track = state.add_track({ wav = src, position = 1.5 })
    local path = assert(M.audio.capture(track, settings(M, 30), dir .. "/renders"))
    assert.are.equal(44100, H.Fake.read_wav(path).frames)
  end)

  it("says so when the track has no audio or only silence, and leaves no file", function()
    local r, state = H.new()
    local M = H.module()
    local empty = state.add_track({})
    local path, why, kind = M.audio.capture(empty, settings(M, 30), dir .. "/renders")
    assert.is_nil(path)
    assert.are.equal("no_audio", kind)
    assert.matches("no audio items", why)
    local silent = state.add_track({ wav = H.write_wav(dir .. "/silent.wav", 1, 8000, 8000, function() return 0 end) })
    path, why, kind = M.audio.capture(silent, settings(M, 30), dir .. "/renders")
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
    local path, why = M.audio.capture(track, settings(M, 30), dir .. "/renders")
    assert.is_nil(path)
    assert.matches("time selection", why)
  end)
end)
