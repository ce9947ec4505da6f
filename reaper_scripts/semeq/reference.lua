-- @noindex
-- What "Match EQ to reference track" and "Say it in words" need besides the actions themselves:
-- the reference track as a file the server reads, and the sentence for words that need audio.

local U = require("semeq.util")
local A = require("semeq.audio")
local C = require("semeq.client")
local J = require("semeq.json")
local T = require("semeq.task")

local Ref = {}

local function track_name(track)
  local _, name = reaper.GetTrackName(track)
  return name or "track"
end

--- The reference track for the server: a track file (its items, as a request file describes a
--- track) in requests/, or, when the server may not read its media (`capture`), its audio read by
--- REAPER. Both are removed when the task ends. Returns a path or nil, message.
function Ref.track_file(task, settings, track, capture)
  local items = A.items(track)
  if items and #items == 0 then return nil, "The reference track has no audio items to listen to." end
  if items and not capture then
    local dir = C.requests_dir(settings)
    reaper.RecursiveCreateDirectory(dir, 0)
    local path = U.join(dir, U.unique_stem() .. ".reference.json")
    T.on_finish(task, function() os.remove(path) end)
    local ok, err = U.write_file_atomic(path, J.encode({ items = items, span_s = A.time_selection(),
      length_s = settings.analysis_seconds_number, sample_rate_hz = A.sample_rate() }))
    if not ok then return nil, "Could not write the reference track into " .. dir .. ": " .. tostring(err) end
    return path
  end
  T.status(task, "reading the reference '" .. track_name(track) .. "'")
  local wav, err = A.capture(task, track, settings, U.join(settings.home, "renders"))
  if not wav then return nil, "The reference track: " .. tostring(err) end
  return wav
end

--- Why words like "better" cannot be done on a track without audio.
function Ref.needs_audio_message(text)
  return string.format("'%s' does not say how it should sound: Semantic EQ would have to listen to the track "
    .. "to know what to fix, and this track has no audio before its FX to listen to (an instrument or "
    .. "MIDI track, or no items). Nothing was changed. Say how it should sound instead, e.g. 'warmer' "
    .. "or 'less harsh'.", text)
end

return Ref
