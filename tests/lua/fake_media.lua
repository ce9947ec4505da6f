-- Media of the fake REAPER: items, takes and sources as REAPER's item API shows them, and the
-- audio accessor mixing a track's items (what REAPER's track accessor returns: the track's own
-- items before its FX). Each item: { position, length, mute, vol, fade_in, fade_out (s),
-- fade_in_auto, fade_out_auto (s, 0 = none), fade_in_shape, fade_out_shape, loop, take = {
-- offset (s), playrate, vol (negative = polarity), pan, ppitch, pitch, chanmode, fx, envelopes,
-- midi, source = { type ("WAVE", "MIDI", "SECTION", ...), path } } }.
-- The accessor here applies offset, play rate (linear interpolation), volumes, looping and fades
-- (as linear ramps whatever the shape): close to REAPER for the specs' purposes, not bit-exact.

local Media = {}

function Media.read_wav(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("a")
  f:close()
  assert(data:sub(1, 4) == "RIFF" and data:sub(9, 12) == "WAVE", path .. " is not a WAV file")
  local pos, fmt, samples = 13, nil, nil
  while pos + 8 <= #data do
    local id, size = data:sub(pos, pos + 3), string.unpack("<I4", data, pos + 4)
    local body = pos + 8
    if id == "fmt " then
      local tag, ch, rate, _, _, bits = string.unpack("<I2I2I4I4I2I2", data, body)
      if tag == 0xFFFE then tag = string.unpack("<I2", data, body + 24) end
      fmt = { tag = tag, channels = ch, rate = rate, bits = bits }
    elseif id == "data" then
      assert(fmt, "WAV data before fmt")
      local width = fmt.bits // 8
      local count = math.min(size, #data - body + 1) // width
      local code
      if fmt.tag == 3 then code = (width == 4) and "f" or "d"
      elseif width == 2 then code = "i2" elseif width == 3 then code = "i3" elseif width == 4 then code = "i4" end
      assert(code, "unsupported WAV sample format")
      local scale = (fmt.tag == 3) and 1 or 1 / (2 ^ (fmt.bits - 1))
      samples = {}
      local p = body
      local chunk = 4096
      for i = 1, count, chunk do
        local n = math.min(chunk, count - i + 1)
        local vals = { string.unpack("<" .. string.rep(code, n), data, p) }
        for k = 1, n do samples[i + k - 1] = vals[k] * scale end
        p = vals[n + 1]
      end
    end
    pos = body + size + (size % 2)
  end
  assert(fmt and samples, path .. " has no audio data")
  return { channels = fmt.channels, rate = fmt.rate, frames = #samples // fmt.channels, samples = samples }
end


local wav_cache = {}

--- A source's samples (read once per path).
function Media.samples(source)
  if source.wav then return source.wav end
  wav_cache[source.path] = wav_cache[source.path] or Media.read_wav(source.path)
  source.wav = wav_cache[source.path]
  return source.wav
end

--- A new audio item of `length` s (default: the whole file) at `position` s on a WAV file.
function Media.item(path, opts)
  opts = opts or {}
  local item = { position = opts.position or 0.0, mute = opts.mute or false, vol = opts.vol or 1.0,
    fade_in = opts.fade_in or 0, fade_out = opts.fade_out or 0, fade_in_auto = 0, fade_out_auto = 0,
    fade_in_shape = opts.fade_in_shape or 0, fade_out_shape = opts.fade_out_shape or 0, loop = opts.loop or false,
    take = { offset = opts.offset or 0.0, playrate = opts.playrate or 1.0, vol = opts.take_vol or 1.0, pan = 0,
      ppitch = opts.ppitch or false, pitch = opts.pitch or 0, chanmode = opts.chanmode or 0, fx = opts.take_fx or 0,
      envelopes = opts.envelopes or 0, midi = opts.midi or false,
      source = { type = opts.type or (opts.midi and "MIDI" or "WAVE"), path = path, wav = opts.wav } } }
  if opts.length then item.length = opts.length
  elseif not item.take.midi then
    local w = Media.samples(item.take.source)
    item.length = (w.frames / w.rate - item.take.offset) / item.take.playrate
  else item.length = 4.0 end
  return item
end

local function audible(item)
  return not item.mute and item.take and not item.take.midi
end

function Media.span(track)
  local t0, t1
  for _, it in ipairs(track.items) do
    if audible(it) then
      t0 = math.min(t0 or math.huge, it.position)
      t1 = math.max(t1 or -math.huge, it.position + it.length)
    end
  end
  return t0 or 0.0, t1 or 0.0
end

local function fade_gain(item, t)
  local into = t - item.position
  local left = item.position + item.length - t
  local fin = item.fade_in_auto > 0 and item.fade_in_auto or item.fade_in
  local fout = item.fade_out_auto > 0 and item.fade_out_auto or item.fade_out
  local g = 1.0
  if fin > 0 and into < fin then g = g * into / fin end
  if fout > 0 and left < fout then g = g * left / fout end
  return g
end

--- GetAudioAccessorSamples into `out` (interleaved, zeroed first). Returns 1 if any item sounded.
function Media.mix(track, rate, channels, start, frames, out)
  for i = 1, frames * channels do out[i] = 0.0 end
  local any = false
  for _, it in ipairs(track.items) do
    if audible(it) then
      local w = Media.samples(it.take.source)
      local gain = it.vol * it.take.vol
      local src_len_s = w.frames / w.rate
      for i = 0, frames - 1 do
        local t = start + i / rate
        if t >= it.position and t < it.position + it.length then
          local src_t = it.take.offset + (t - it.position) * it.take.playrate
          if it.loop then src_t = src_t % src_len_s end
          local pos = src_t * w.rate
          local i0 = math.floor(pos)
          if i0 >= 0 and i0 < w.frames then
            local frac, i1 = pos - i0, math.min(i0 + 1, w.frames - 1)
            local g = gain * fade_gain(it, t)
            for c = 1, channels do
              local sc = math.min(c, w.channels)
              local v0, v1 = w.samples[i0 * w.channels + sc], w.samples[i1 * w.channels + sc]
              out[i * channels + c] = out[i * channels + c] + g * (v0 + (v1 - v0) * frac)
            end
            any = true
          end
        end
      end
    end
  end
  return any and 1 or 0
end

--- The item and take API of the fake (functions added to the `reaper` table `r`).
function Media.install(r)
  local ITEM = { D_POSITION = "position", D_LENGTH = "length", D_VOL = "vol", D_FADEINLEN = "fade_in",
    D_FADEOUTLEN = "fade_out", D_FADEINLEN_AUTO = "fade_in_auto", D_FADEOUTLEN_AUTO = "fade_out_auto",
    C_FADEINSHAPE = "fade_in_shape", C_FADEOUTSHAPE = "fade_out_shape", B_MUTE = "mute", B_LOOPSRC = "loop" }
  local TAKE = { D_STARTOFFS = "offset", D_PLAYRATE = "playrate", D_VOL = "vol", D_PAN = "pan", B_PPITCH = "ppitch",
    D_PITCH = "pitch", I_CHANMODE = "chanmode" }
  local function number(v)
    if type(v) == "boolean" then return v and 1.0 or 0.0 end
    return v + 0.0
  end
  function r.CountTrackMediaItems(track) return #track.items end
  function r.GetTrackMediaItem(track, i) return track.items[i + 1] end
  function r.GetActiveTake(item) return item.take end
  function r.TakeIsMIDI(take) return take.midi end
  function r.GetMediaItemTake_Source(take) return take.source end
  function r.GetMediaSourceType(source, buf) return source.type end
  function r.GetMediaSourceFileName(source, buf) return source.path or "" end
  function r.TakeFX_GetCount(take) return take.fx end
  function r.CountTakeEnvelopes(take) return take.envelopes end
  function r.GetMediaItemInfo_Value(item, key)
    local field = assert(ITEM[key], "fake: item value " .. key .. " is not modelled")
    return number(item[field])
  end
  function r.GetMediaItemTakeInfo_Value(take, key)
    local field = assert(TAKE[key], "fake: take value " .. key .. " is not modelled")
    return number(take[field])
  end
end

return Media
