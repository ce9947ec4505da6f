-- Unit specs: finding, checking and setting the "Semantic EQ" ReaEQ through the fake REAPER.

local H = require("helpers")

-- A warm-ish EQ: 13 parameters in SAFE order.
local WARM = { 3.0, 180.0, 1.5, 350.0, 0.9, -1.0, 1200.0, 1.4, -2.0, 4500.0, 2.0, -1.5, 9000.0 }
local BRIGHT = { -1.0, 120.0, 0.5, 500.0, 0.7, 1.0, 2500.0, 1.0, 2.5, 6000.0, 1.2, 4.0, 10000.0 }
local FREQS = H.log_grid(200, 20, 20000)

local function response_of_track(state, track, fs)
  return H.rbj_db((H.reaeq_bands(state, track)), FREQS, fs or 48000)
end

local function response_of_bands(bands, fs)
  return H.rbj_db(H.bands_as_rbj(bands), FREQS, fs or 48000)
end

describe("ReaEQ display parsing", function()
  it("reads numbers, kHz, signs, -inf and the display step", function()
    local M = (function() H.new(); return H.module() end)()
    local v, res = M.values.parse_display("1000.0")
    assert.are.equal(1000.0, v); assert.are.near(0.1, res, 1e-12)
    v, res = M.values.parse_display("1.25k")
    assert.are.near(1250, v, 1e-9); assert.are.near(10, res, 1e-9)
    v = M.values.parse_display("+2.1 dB")
    assert.are.near(2.1, v, 1e-12)
    v = M.values.parse_display("-inf")
    assert.are.equal(-math.huge, v)
    assert.is_nil(M.values.parse_display("Low Shelf"))
  end)

  it("inverts the community formulas exactly", function()
    H.new()
    local M = H.module()
    for _, hz in ipairs({ 20, 100, 1000, 4624.6, 20000 }) do
      assert.are.near(hz, M.values.freq_from_norm(M.values.norm_from_freq(hz)), 1e-9 * hz)
    end
    for _, db in ipairs({ -12, -6, -0.5, 0, 0.5, 6, 12 }) do
      assert.are.near(db, M.values.gain_from_norm(M.values.norm_from_gain(db)), 1e-9)
    end
    -- the facts sheet's check points
    assert.are.near(1000, M.values.freq_from_norm(0.476), 15)
    assert.are.near(300, M.values.freq_from_norm(0.290), 5)
    assert.are.near(0.25, M.values.norm_from_gain(-6.0206), 1e-4)
    -- the sheet rounds +6 dB to 0.664; the piecewise formula it states gives 0.667 (0.07 dB apart)
    assert.are.near(0.664, M.values.norm_from_gain(6), 0.004)
    assert.are.near(1.90, M.values.bw_from_q(0.7071), 0.01)
    assert.are.near(1.0, M.values.bw_from_q(1.4142), 0.01)
  end)
end)

describe("applying bands to the track's ReaEQ", function()
  local r, state, M, track

  before_each(function()
    r, state = H.new()
    M = H.module()
    track = state.add_track({ name = "Gtr" })
  end)

  it("inserts one ReaEQ named 'Semantic EQ' with low shelf, three bands, high shelf", function()
    local bands = H.answer_bands(WARM)
    assert.is_true(M.reaeq.apply(track, bands).ok)
    assert.are.equal(1, #track.fx)
    local fx = track.fx[1]
    assert.are.equal("Semantic EQ", fx.renamed)
    local types = {}
    for b = 0, 4 do types[b + 1] = fx.bands[b].type; assert.are.equal(1, fx.bands[b].enabled) end
    assert.are.same({ 0, 8, 8, 8, 1 }, types)
  end)

  it("sets frequency, gain and bandwidth so the response equals the asked EQ within 0.05 dB", function()
    local bands = H.answer_bands(WARM)
    assert.is_true(M.reaeq.apply(track, bands).ok)
    local got = H.reaeq_bands(state, track)
    for i, b in ipairs(bands) do
      assert.are.near(b.freq_hz, got[i].freq_hz, 1e-6 * b.freq_hz)
      assert.are.near(b.gain_db, got[i].gain_db, 1e-6)
      -- bandwidth: REAPER's mapping is unknown; found by searching the display (2 decimals)
      assert.are.near(b.bw_oct, got[i].bw_oct, 0.006)
    end
    assert.is_true(H.max_abs_diff(response_of_bands(bands), response_of_track(state, track)) < 0.05)
  end)

  it("finds the right values when REAPER's gain mapping is not the documented one", function()
    r, state = H.new({ gain_mapping = "quarter", bw_mapping = "quarter" })
    M = H.module()
    track = state.add_track({})
    local bands = H.answer_bands(BRIGHT)
    assert.is_true(M.reaeq.apply(track, bands).ok)
    local got = H.reaeq_bands(state, track)
    for i, b in ipairs(bands) do assert.are.near(b.gain_db, got[i].gain_db, 0.02) end
    assert.is_true(H.max_abs_diff(response_of_bands(bands), response_of_track(state, track)) < 0.1)
  end)

  it("re-uses the existing 'Semantic EQ' and leaves other FX alone", function()
    local other = state.new_other("VST: ReaComp (Cockos)")
    other.renamed = "Semantic EQ" -- same name, but not a ReaEQ: must not be touched
    track.fx[1] = other
    assert.is_true(M.reaeq.apply(track, H.answer_bands(WARM)).ok)
    assert.is_true(M.reaeq.apply(track, H.answer_bands(BRIGHT)).ok)
    assert.are.equal(2, #track.fx)
    assert.are.same({ 0.5, 0.5 }, other.params)
    assert.is_true(H.max_abs_diff(response_of_bands(H.answer_bands(BRIGHT)), response_of_track(state, track)) < 0.05)
  end)

  it("turns off the extra bands of a fresh instance but keeps a user's extra bands later", function()
    r, state = H.new({ default_bands = 6, default_band_codes = { 0, 8, 8, 1, 4, 3 } })
    M = H.module()
    track = state.add_track({})
    assert.is_true(M.reaeq.apply(track, H.answer_bands(WARM)).ok)
    assert.are.equal(0, track.fx[1].bands[5].enabled)
    track.fx[1].bands[5].enabled = 1 -- the user turns the low pass on again
    assert.is_true(M.reaeq.apply(track, H.answer_bands(BRIGHT)).ok)
    assert.are.equal(1, track.fx[1].bands[5].enabled)
  end)

  it("with fewer than five bands keeps the new instance, says exactly what to do, sets nothing", function()
    r, state = H.new({ default_bands = 4 })
    M = H.module()
    track = state.add_track({})
    local res = M.reaeq.apply(track, H.answer_bands(WARM))
    assert.is_false(res.ok)
    assert.matches("has 4 bands", res.message)
    assert.matches("left in place and unchanged", res.message)
    assert.matches("'Add band' until it shows 5 bands", res.message)
    assert.are.equal(1, #track.fx) -- kept: it is the instance the user adds bands to
    assert.are.equal("Semantic EQ", track.fx[1].renamed)
    assert.are.same({ 0, 8, 8, 1 }, { track.fx[1].bands[0].type, track.fx[1].bands[1].type,
      track.fx[1].bands[2].type, track.fx[1].bands[3].type }) -- the user's default preset, untouched
  end)

  it("with fewer than five bands on an existing Semantic EQ changes and deletes nothing", function()
    r, state = H.new({ default_bands = 3 })
    M = H.module()
    track = state.add_track({})
    local fx = r.TrackFX_AddByName(track, "ReaEQ", false, -1)
    r.TrackFX_SetNamedConfigParm(track, fx, "renamed_name", "Semantic EQ")
    local before = state.snapshot().tracks
    local res = M.reaeq.apply(track, H.answer_bands(WARM))
    assert.is_false(res.ok)
    assert.is_false(res.changed)
    assert.matches("has 3 bands", res.message)
    assert.are.same(before, state.snapshot().tracks)
  end)

  it("inserts a new Semantic EQ first in the chain (the server heard the track before its FX)", function()
    track.fx[1] = state.new_other("VST: ReaComp (Cockos)")
    track.fx[2] = state.new_other("VST: ReaVerb (Cockos)")
    local res = M.reaeq.apply(track, H.answer_bands(WARM))
    assert.is_true(res.ok)
    assert.is_true(res.inserted)
    assert.are.equal("Semantic EQ", track.fx[1].renamed)
    assert.are.equal("VST: ReaComp (Cockos)", track.fx[2].ident)
  end)

  it("leaves a Semantic EQ where the user placed it", function()
    track.fx[1] = state.new_other("VST: ReaComp (Cockos)")
    assert.is_true(M.reaeq.apply(track, H.answer_bands(WARM)).ok)
    local eq = table.remove(track.fx, 1)
    track.fx[2] = eq -- the user drags it after the compressor
    local res = M.reaeq.apply(track, H.answer_bands(BRIGHT))
    assert.is_true(res.ok)
    assert.is_false(res.inserted)
    assert.are.equal(eq, track.fx[2])
    assert.are.equal(2, #track.fx)
  end)

  it("leaves a bypassed Semantic EQ bypassed and says so", function()
    assert.is_true(M.reaeq.apply(track, H.answer_bands(WARM)).ok)
    track.fx[1].enabled = false
    local res = M.reaeq.apply(track, H.answer_bands(BRIGHT))
    assert.is_true(res.ok)
    assert.is_true(res.bypassed)
    assert.is_false(track.fx[1].enabled)
    assert.matches("bypassed, and was left bypassed", res.message)
    assert.is_true(H.max_abs_diff(response_of_bands(H.answer_bands(BRIGHT)), response_of_track(state, track)) < 0.05)
  end)

  for _, what in ipairs({ "bw", "gain", "freq" }) do
    it("undoes everything when REAPER does not take the " .. what .. " (fresh instance)", function()
      r, state = H.new({ disobey = { [what] = true } })
      M = H.module()
      track = state.add_track({})
      local res = M.reaeq.apply(track, H.answer_bands(WARM))
      local err = res.message
      assert.is_false(res.ok)
      assert.matches("REAPER shows band", err)
      assert.are.equal(0, #track.fx)
    end)
  end

  it("restores an existing instance exactly when REAPER disagrees", function()
    assert.is_true(M.reaeq.apply(track, H.answer_bands(WARM)).ok)
    local before = state.snapshot().tracks
    state.opts.disobey = nil
    -- a REAPER that ignores bandwidth writes from now on
    local fake_r, fake_state = H.new({ disobey = { bw = true } })
    fake_state.tracks = state.tracks
    M = H.module()
    local res = M.reaeq.apply(track, H.answer_bands(BRIGHT))
    local err = res.message
    assert.is_false(res.ok)
    assert.matches("bandwidth", err)
    assert.are.same(before, fake_state.snapshot().tracks)
  end)

  it("refuses a bandwidth wider than the ReaEQ can hold, naming it", function()
    local wide = { 3.0, 180.0, 1.5, 350.0, 0.15, -1.0, 1200.0, 1.4, -2.0, 4500.0, 2.0, -1.5, 9000.0 }
    local res = M.reaeq.apply(track, H.answer_bands(wide))
    local err = res.message
    assert.is_false(res.ok)
    assert.matches("Band 2 bandwidth: 5%.54 octaves is outside what this ReaEQ can hold", err)
    assert.are.equal(0, #track.fx)
  end)

  it("refuses when the band type does not stick", function()
    r, state = H.new({ disobey = { bandtype = true }, default_band_codes = { 0, 8, 8, 1, 4 } })
    M = H.module()
    track = state.add_track({})
    local res = M.reaeq.apply(track, H.answer_bands(WARM))
    local err = res.message
    assert.is_false(res.ok)
    assert.matches("did not take BANDTYPE%d", err)
    assert.are.equal(0, #track.fx)
  end)

  it("refuses when the FX cannot be renamed (REAPER older than 6.37)", function()
    r, state = H.new({ disobey = { rename = true } })
    M = H.module()
    track = state.add_track({})
    local res = M.reaeq.apply(track, H.answer_bands(WARM))
    local err = res.message
    assert.is_false(res.ok)
    assert.matches("6.37", err)
    assert.are.equal(0, #track.fx)
  end)

  it("reads back the 13 parameters it set (the 'current' sent with the next request)", function()
    assert.is_nil(M.reaeq.current_params(track))
    assert.is_true(M.reaeq.apply(track, H.answer_bands(WARM)).ok)
    local cur = M.reaeq.current_params(track)
    local names = { "low_shelf_gain_db", "low_shelf_freq_hz", "peak1_gain_db", "peak1_freq_hz", "peak1_q",
      "peak2_gain_db", "peak2_freq_hz", "peak2_q", "peak3_gain_db", "peak3_freq_hz", "peak3_q",
      "high_shelf_gain_db", "high_shelf_freq_hz" }
    for i, name in ipairs(names) do
      local tol = name:match("gain") and 1e-6 or (name:match("freq") and 1e-6 * WARM[i] or 0.02 * WARM[i])
      assert.are.near(WARM[i], cur[name], tol)
    end
  end)

  it("counts bands by reading BANDENABLED<n> until it fails", function()
    r, state = H.new({ default_bands = 7 })
    M = H.module()
    track = state.add_track({})
    local fx = r.TrackFX_AddByName(track, "ReaEQ", false, -1)
    assert.are.equal(7, M.reaeq.count_bands(track, fx))
  end)

  it("semeq/api.lua (for the watch folder's generated scripts) applies bands: true, or nil and why", function()
    local api = dofile(H.scripts_dir .. "semeq/api.lua")
    assert.is_true(api.reaeq.apply(track, H.answer_bands(WARM)))
    local ok, err = api.reaeq.apply(track, {})
    assert.is_nil(ok)
    assert.matches("no five ReaEQ bands", err)
  end)
end)
