-- @noindex
-- What the server listens to: the track's signal before its FX.
--
-- First choice, the item list: each audio item's source file, position, take offset, length,
-- play rate, volumes, fades and mute go to the server, which reads and mixes the files itself
-- (daw_bridge/items.py); no sample passes through Lua. Items the server cannot reproduce (MIDI,
-- take FX, take envelopes, pitch shift, time stretch with preserved pitch, channel modes, section
-- or reversed sources) send the track to the fallback: REAPER's audio accessor, read into a
-- float32 WAV in the server's renders/ folder in slices of at most one UI cycle's budget.

local U = require("semeq.util")
local T = require("semeq.task")

local A = {}

local SAMPLE_RATE_FALLBACK_HZ = 48000
local SCAN_RATE_HZ = 8000 -- rate at which the accessor fallback scans for the loudest part
local BLOCK_FRAMES = 2048 -- audio accessor block (frames): one block is a few ms, so a slice ends near its budget
--- Source types (GetMediaSourceType) the server reads as files (soundfile: WAV, AIFF, FLAC, Ogg, MP3).
A.FILE_TYPES = { WAVE = true, AIFF = true, FLAC = true, VORBIS = true, OGG = true, MP3 = true }

function A.sample_rate()
  local srate = reaper.GetSetProjectInfo(0, "PROJECT_SRATE", 0, false)
  local use = reaper.GetSetProjectInfo(0, "PROJECT_SRATE_USE", 0, false)
  if use and use > 0 and srate and srate > 0 then return math.floor(srate) end
  local ok, dev = reaper.GetAudioDeviceInfo("SRATE")
  local n = ok and tonumber(dev)
  if n and n > 0 then return math.floor(n) end
  return SAMPLE_RATE_FALLBACK_HZ
end

local function is_absolute(path)
  return path:match("^/") or path:match("^%a:[/\\]") or path:match("^\\\\")
end

--- Why the server cannot mix this take itself (a sentence), or nil when it can.
local function unmixable(take, source)
  if reaper.TakeFX_GetCount(take) > 0 then return "take FX" end
  if reaper.CountTakeEnvelopes(take) > 0 then return "take envelopes" end
  if reaper.GetMediaItemTakeInfo_Value(take, "D_PITCH") ~= 0 then return "pitch shift" end
  if reaper.GetMediaItemTakeInfo_Value(take, "I_CHANMODE") ~= 0 then return "a channel mode" end
  if reaper.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE") ~= 1
    and reaper.GetMediaItemTakeInfo_Value(take, "B_PPITCH") ~= 0 then return "time stretch" end
  local kind = reaper.GetMediaSourceType(source, "")
  if not A.FILE_TYPES[kind] then return "a " .. tostring(kind) .. " source" end
  local path = reaper.GetMediaSourceFileName(source, "")
  if not path or path == "" or not is_absolute(path) then return "a source without a file path" end
  return nil
end

local function fade(item, which)
  local auto = reaper.GetMediaItemInfo_Value(item, "D_FADE" .. which .. "LEN_AUTO")
  local len = (auto and auto > 0) and auto or reaper.GetMediaItemInfo_Value(item, "D_FADE" .. which .. "LEN")
  return math.max(0, len or 0), math.floor(reaper.GetMediaItemInfo_Value(item, "C_FADE" .. which .. "SHAPE") or 0)
end

--- The track's audio items as the server's item list. Returns list (possibly empty when the track
--- has only MIDI or empty items), or nil and why the server cannot mix them (use the accessor).
function A.items(track)
  local list = {}
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local item = reaper.GetTrackMediaItem(track, i)
    local take = reaper.GetActiveTake(item)
    if take and not reaper.TakeIsMIDI(take) then
      local source = reaper.GetMediaItemTake_Source(take)
      local why = unmixable(take, source)
      if why then return nil, why end
      local fade_in_s, fade_in_shape = fade(item, "IN")
      local fade_out_s, fade_out_shape = fade(item, "OUT")
      list[#list + 1] = {
        path = reaper.GetMediaSourceFileName(source, ""),
        position_s = reaper.GetMediaItemInfo_Value(item, "D_POSITION"),
        length_s = reaper.GetMediaItemInfo_Value(item, "D_LENGTH"),
        offset_s = reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS"),
        playrate = reaper.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE"),
        volume = reaper.GetMediaItemInfo_Value(item, "D_VOL") * reaper.GetMediaItemTakeInfo_Value(take, "D_VOL"),
        pan = reaper.GetMediaItemTakeInfo_Value(take, "D_PAN"),
        fade_in_s = fade_in_s, fade_in_shape = fade_in_shape,
        fade_out_s = fade_out_s, fade_out_shape = fade_out_shape,
        loop = reaper.GetMediaItemInfo_Value(item, "B_LOOPSRC") ~= 0,
        mute = reaper.GetMediaItemInfo_Value(item, "B_MUTE") ~= 0,
      }
    end
  end
  return list
end

--- The time selection as { start_s, end_s }, or nil when there is none.
function A.time_selection()
  local s0, s1 = reaper.GetSet_LoopTimeRange2(0, false, false, 0, 0, false)
  if s0 and s1 and s1 > s0 then return { s0, s1 } end
  return nil
end

-- --- fallback: the audio accessor, in slices -------------------------------------------------

--- Read `frames` frames starting at start_s, calling sink(values, n) per block, yielding
--- between blocks when the slice is used up.
local function read_blocks(task, accessor, rate, channels, start_s, frames, sink)
  local buf = reaper.new_array(BLOCK_FRAMES * channels)
  local done = 0
  while done < frames do
    local n = math.min(BLOCK_FRAMES, frames - done)
    buf.clear()
    local r = reaper.GetAudioAccessorSamples(accessor, rate, channels, start_s + done / rate, n, buf)
    if r < 0 then error("REAPER's audio accessor failed while reading the track", 0) end
    sink(buf.table(1, n * channels), n)
    done = done + n
    T.status(task, "reading the track", done / frames)
    T.breathe(task)
  end
end

--- Start time (s) of the loudest `length_s` of audio in [t0, t1], scanned at a low rate.
function A.loudest_start(task, accessor, t0, t1, length_s)
  if t1 - t0 <= length_s then return t0 end
  local rate = SCAN_RATE_HZ
  local per_sec, acc, filled, sec = {}, 0.0, 0, 1
  read_blocks(task, accessor, rate, 1, t0, math.floor((t1 - t0) * rate), function(values, n)
    for i = 1, n do
      local v = values[i]
      acc, filled = acc + v * v, filled + 1
      if filled == rate then per_sec[sec], acc, filled, sec = acc, 0.0, 0, sec + 1 end
    end
  end)
  if filled > 0 then per_sec[sec] = acc end
  local win = math.max(1, math.floor(length_s))
  local best, best_i, sum = -1, 1, 0.0
  for i = 1, #per_sec do
    sum = sum + per_sec[i]
    if i > win then sum = sum - per_sec[i - win] end
    if i >= win and sum > best then best, best_i = sum, i - win + 1 end
  end
  return math.min(t0 + (best_i - 1), t1 - length_s)
end

--- The span to analyse: the time selection (within the audio), else the loudest `length_s`.
local function choose_span(task, accessor, length_s)
  local a0, a1 = reaper.GetAudioAccessorStartTime(accessor), reaper.GetAudioAccessorEndTime(accessor)
  if not a0 or not a1 or a1 - a0 <= 0 then return nil, "no audio" end
  local sel = A.time_selection()
  if sel then
    local t0, t1 = math.max(sel[1], a0), math.min(sel[2], a1)
    if t1 - t0 < 0.5 then return nil, "The time selection does not cover at least half a second of this track's audio." end
    return t0, t1
  end
  local start = A.loudest_start(task, accessor, a0, a1, length_s)
  return start, math.min(a1, start + length_s)
end

local function wav_header(channels, rate, data_bytes)
  -- WAVE_FORMAT_IEEE_FLOAT (3), 32-bit
  return "RIFF" .. string.pack("<I4", 36 + data_bytes) .. "WAVE"
    .. "fmt " .. string.pack("<I4I2I2I4I4I2I2", 16, 3, channels, rate, rate * channels * 4, channels * 4, 32)
    .. "data" .. string.pack("<I4", data_bytes)
end

--- Write the pre-FX audio between t0 and t1 (s) to `path` as float32 WAV, through a temporary
--- name. Returns true, or nil and a reason ("silent" when the span holds only silence).
local function write_wav(task, accessor, t0, t1, path)
  local rate, channels = A.sample_rate(), 2
  local frames = math.floor((t1 - t0) * rate + 0.5)
  local dir, name = path:match("^(.*[/\\])([^/\\]+)$")
  local tmp = dir .. "." .. name .. ".part"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, "cannot write " .. tmp .. ": " .. tostring(err) end
  T.on_finish(task, function() f:close() os.remove(tmp) end)
  f:write(wav_header(channels, rate, frames * channels * 4))
  local peak = 0.0
  read_blocks(task, accessor, rate, channels, t0, frames, function(values, n)
    local count = n * channels
    for i = 1, count do
      local v = values[i]
      if v ~= v then values[i] = 0.0 elseif v > peak then peak = v elseif -v > peak then peak = -v end
    end
    f:write(string.pack("<" .. string.rep("f", count), table.unpack(values, 1, count)))
  end)
  f:close()
  if peak == 0 then os.remove(tmp) return nil, "silent" end
  local renamed, nerr = os.rename(tmp, path)
  if not renamed then os.remove(tmp) return nil, tostring(nerr) end
  return true
end

--- The track's pre-FX audio as a WAV in `folder` (the accessor, in slices). Returns path or nil,
--- reason, kind ("no_audio" when there is nothing to hear). The WAV is removed when the task ends.
function A.capture(task, track, settings, folder)
  local accessor = reaper.CreateTrackAudioAccessor(track)
  if not accessor then return nil, "REAPER could not open the track's audio.", "no_audio" end
  local function close()
    if accessor then reaper.DestroyAudioAccessor(accessor) accessor = nil end
  end
  T.on_finish(task, close)
  local t0, t1 = choose_span(task, accessor, settings.analysis_seconds_number or 30)
  if not t0 then
    close()
    if t1 == "no audio" then return nil, "This track has no audio items to listen to.", "no_audio" end
    return nil, t1, "span"
  end
  reaper.RecursiveCreateDirectory(folder, 0)
  local path = U.join(folder, U.unique_stem() .. ".wav")
  T.on_finish(task, function() os.remove(path) end)
  local ok, err = write_wav(task, accessor, t0, t1, path)
  close()
  if not ok then
    if err == "silent" then return nil, "The part of this track that would be analysed is silent.", "no_audio" end
    return nil, "Could not write the track's audio for the server: " .. err, "write"
  end
  return path
end

return A
