-- @noindex
-- The Semantic EQ actions. Each runs as a task (semeq/task.lua): REAPER stays responsive, Esc in
-- the progress window cancels, and the only undo point is the one made when an EQ is changed.

local U = require("semeq.util")
local S = require("semeq.settings")
local R = require("semeq.reaeq")
local A = require("semeq.audio")
local C = require("semeq.client")
local F = require("semeq.folder")
local T = require("semeq.task")
local Ref = require("semeq.reference")

local M = {}

--- Server codes after which the accessor is used instead of the item list.
M.FALLBACK_CODES = { forbidden_path = true, unreadable_media = true }
--- Client failures that end a run over several tracks (the next track would fail the same way).
local FATAL_KINDS = { server_down = true, not_found = true, timeout = true, usage = true, write = true }

local function track_name(track)
  local _, name = reaper.GetTrackName(track)
  return name or "track"
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

--- Hint, once per REAPER session, that the server could read the project's media itself.
local function note_fallback(code)
  if reaper.GetExtState(S.SECTION, "fallback_noted") ~= "" then return end
  reaper.SetExtState(S.SECTION, "fallback_noted", "1", false)
  reaper.ShowConsoleMsg(string.format("Semantic EQ: the server did not read this project's media itself (%s), "
    .. "so REAPER read the track instead (slower). To let it read the media, start it with "
    .. "'semeq serve --allow <your projects folder>'.\n", code))
end

--- Ask the server about one track's pre-FX audio. `request` holds op and fields without audio.
--- Returns answer, or nil, message, kind ("no_audio" when the track has nothing to hear).
local function ask_about_audio(task, settings, track, request)
  local items, why = A.items(track)
  if items and #items == 0 then return nil, "This track has no audio items to listen to.", "no_audio" end
  if items and settings.transport == "send" then
    local r = copy(request)
    r.items, r.span_s, r.length_s, r.sample_rate_hz = items, A.time_selection(), settings.analysis_seconds_number,
      A.sample_rate()
    local answer, msg, kind, code = C.ask(task, settings, r, "listening to '" .. track_name(track) .. "'")
    if answer then return answer end
    if code == "silent_audio" then return nil, msg, "no_audio" end
    if not M.FALLBACK_CODES[code] then return nil, msg, kind, code end
    note_fallback(code)
  end
  T.status(task, "reading '" .. track_name(track) .. "'" .. (why and (" (" .. why .. ")") or ""))
  local wav, werr, wkind = A.capture(task, track, settings, U.join(settings.home, "renders"))
  if not wav then return nil, werr, wkind end
  if settings.transport == "folder" then
    -- the watch folder takes text/intensity/current or suggest/strength (no analyze)
    local sidecar = request.op == "adapt" and { text = request.text, intensity = request.intensity, current = request.current }
      or { suggest = true, strength = request.strength or settings.suggest_strength_number }
    return F.ask(task, settings, wav, sidecar)
  end
  local r = copy(request)
  r.path = wav
  return C.ask(task, settings, r, "listening to '" .. track_name(track) .. "'")
end

--- One request per selected track, in turn. Returns results { {track=, answer=} | {track=, error=, kind=} }.
local function for_each_track(task, settings, tracks, request_for)
  local results = {}
  for _, track in ipairs(tracks) do
    local answer, msg, kind = request_for(track)
    results[#results + 1] = { track = track, answer = answer, error = msg, kind = kind }
    if not answer and FATAL_KINDS[kind] then break end
  end
  return results
end

--- Apply answers in one undo point. A track whose "Semantic EQ" has fewer than five bands is
--- only told what to do (nothing changes there, so no undo block is opened for it alone).
--- Returns a list of sentences for the user.
local function apply_answers(items, undo_label)
  local notes, todo = {}, {}
  for _, item in ipairs(items) do
    local fx = R.find(item.track)
    local count = fx and R.count_bands(item.track, fx)
    if count and count < 5 then
      notes[#notes + 1] = string.format("Track '%s': %s", track_name(item.track), R.few_bands_message(count))
    else
      todo[#todo + 1] = item
    end
  end
  if #todo == 0 then return notes end
  reaper.PreventUIRefresh(1)
  reaper.Undo_BeginBlock()
  for _, item in ipairs(todo) do
    local result = R.apply(item.track, item.answer.reaeq and item.answer.reaeq.bands)
    if result.message then
      notes[#notes + 1] = string.format("Track '%s': %s", track_name(item.track), result.message)
    end
  end
  reaper.Undo_EndBlock(undo_label, -1)
  reaper.PreventUIRefresh(-1)
  reaper.UpdateArrange()
  return notes
end

local function selected_tracks()
  local tracks = {}
  for i = 0, reaper.CountSelectedTracks(0) - 1 do tracks[#tracks + 1] = reaper.GetSelectedTrack(0, i) end
  return tracks
end

--- Common start of every action: version check, selected tracks. Returns tracks or nil.
local function begin(need_track)
  local ok, why = U.check_version()
  if not ok then U.show(why) return nil end
  local tracks = selected_tracks()
  if need_track and #tracks == 0 then
    U.show("Select a track first: Semantic EQ works on the selected track(s).")
    return nil
  end
  return tracks
end

local function valid(track)
  return reaper.ValidatePtr2(0, track, "MediaTrack*")
end

--- Run `work(task)` as a task; its returned sentences (if any) are shown in one dialog.
local function run(title, work)
  return T.start(title, function(task)
    local lines = work(task)
    if lines and #lines > 0 then U.show(table.concat(lines, "\n\n")) end
  end, function(bug) U.show("Semantic EQ stopped on an unexpected error (nothing was changed):\n\n" .. bug) end)
end

--- "Make warmer" and friends: the words sized to each selected track, applied to its ReaEQ.
function M.words(text, intensity, label)
  intensity = intensity or 1.0
  label = label or ("Semantic EQ: make " .. text)
  local tracks = begin(true)
  if not tracks then reaper.defer(function() end) return nil end
  local settings = S.load()
  return run(label, function(task)
    local suggested = {}
    local results = for_each_track(task, settings, tracks, function(track)
      local base = { op = "adapt", text = text, intensity = intensity, current = R.current_params(track) }
      local answer, msg, kind, code = ask_about_audio(task, settings, track, base)
      local heard = kind ~= "no_audio"
      if not answer and not heard and settings.transport == "send" then
        -- an instrument or MIDI track has no audio before its FX: the words' plain EQ
        answer, msg, kind, code = C.ask(task, settings, { op = "eq", text = text, intensity = intensity, current = base.current }, "asking the server")
      end
      if answer or code ~= "needs_audio" then return answer, msg, kind end
      -- "better", "fix it": only the track's audio says what to change, so auto-suggest on it
      if heard then
        answer, msg, kind = ask_about_audio(task, settings, track, { op = "suggest", strength = settings.suggest_strength_number })
      end
      if answer then suggested[track] = true return answer end
      if not heard or kind == "no_audio" then
        return nil, Ref.needs_audio_message(text), "needs_audio"
      end
      return nil, msg, kind
    end)
    local lines, items = {}, {}
    for _, r in ipairs(results) do
      if r.answer and suggested[r.track] then
        lines[#lines + 1] = string.format("Track '%s': '%s' does not say how it should sound, so Semantic EQ "
          .. "auto-suggested from the track's audio instead.", track_name(r.track), text)
      end
      if r.answer and valid(r.track) then items[#items + 1] = r
      elseif r.error then lines[#lines + 1] = string.format("Track '%s': %s", track_name(r.track), r.error) end
    end
    if #items > 0 then
      for _, note in ipairs(apply_answers(items, label)) do lines[#lines + 1] = note end
    end
    return lines
  end)
end

--- "Say it in words…": any text the server understands, with an intensity.
function M.say_it()
  if not begin(true) then reaper.defer(function() end) return nil end
  local last = reaper.GetExtState(S.SECTION, "last_words")
  local last_intensity = reaper.GetExtState(S.SECTION, "last_intensity")
  if last_intensity == "" then last_intensity = "1.0" end
  local ok, csv = reaper.GetUserInputs("Semantic EQ: say it in words", 2,
    "What should it sound like?,Intensity (-2 to 2),extrawidth=220,separator=|", (last or "") .. "|" .. last_intensity)
  reaper.defer(function() end) -- a dialog is no change: no automatic undo point
  if not ok then return nil end
  local text, intensity_text = csv:match("^(.-)|(.*)$")
  text = C.clean_text(text or csv)
  local intensity = tonumber(intensity_text)
  if text == "" then U.show("Type a few words first, e.g. 'a bit warmer' or 'less harsh, more air'.") return nil end
  if not intensity or intensity < -2 or intensity > 2 then
    U.show("The intensity must be a number from -2 to 2 (1 = as said, 0.5 = a bit, negative = the opposite).")
    return nil
  end
  reaper.SetExtState(S.SECTION, "last_words", text, true)
  reaper.SetExtState(S.SECTION, "last_intensity", tostring(intensity), true)
  return M.words(text, intensity, "Semantic EQ: " .. text)
end

local function describe_bands(bands)
  local names = { "Low shelf", "Band 2", "Band 3", "Band 4", "High shelf" }
  local lines = {}
  for i, b in ipairs(bands) do
    local freq = b.freq_hz >= 1000 and (U.fmt_num(b.freq_hz / 1000, 2) .. " kHz") or (U.fmt_num(b.freq_hz, 0) .. " Hz")
    lines[i] = string.format("  %-10s %9s  %s dB  %s oct", names[i], freq, U.fmt_signed(b.gain_db, 1), U.fmt_num(b.bw_oct, 2))
  end
  return table.concat(lines, "\n")
end
M.describe_bands = describe_bands

--- The `text` of each entry of a list from the server (bands, problems), as indented lines; a problem
--- suggest heard but left as it is (`kept`) says so.
local function texts(list, limit)
  local out = {}
  for _, item in ipairs(list or {}) do
    if type(item) == "table" and item.text and item.text ~= "" then
      out[#out + 1] = "  " .. tostring(item.text) .. (item.kept == true and "  (kept: the track's character)" or "")
    end
    if limit and #out >= limit then break end
  end
  return out
end
M.texts = texts

local function proposal_text(track, a)
  local parts = { string.format("Track '%s'", track_name(track)), (a.analysis and a.analysis.summary) or a.summary or "" }
  local problems = texts(a.problems or (a.analysis and a.analysis.problems))
  if #problems > 0 then parts[#parts + 1] = "Problems heard:\n" .. table.concat(problems, "\n") end
  local bands = texts(a.bands)
  if #bands > 0 then
    parts[#parts + 1] = "What the EQ does:\n" .. table.concat(bands, "\n")
  elseif a.explanation and a.explanation ~= "" then
    parts[#parts + 1] = a.explanation
  end
  local blend = {}
  for _, t in ipairs(a.blend or {}) do
    blend[#blend + 1] = string.format("%s %d%%", tostring(t.term), math.floor((t.weight or 0) * 100 + 0.5))
  end
  if #blend > 0 then parts[#parts + 1] = "Blend: " .. table.concat(blend, ", ") end
  parts[#parts + 1] = "Proposed EQ (replaces the track's Semantic EQ):\n" .. describe_bands(a.reaeq.bands) .. "\n\nApply it?"
  return table.concat(parts, "\n\n")
end

--- "Auto-suggest EQ for selected track(s)": show what it hears and proposes, ask, apply.
function M.suggest()
  local tracks = begin(true)
  if not tracks then reaper.defer(function() end) return nil end
  local settings = S.load()
  return run("Semantic EQ: auto-suggest", function(task)
    local results = for_each_track(task, settings, tracks, function(track)
      return ask_about_audio(task, settings, track, { op = "suggest", strength = settings.suggest_strength_number })
    end)
    local lines, items = {}, {}
    for _, r in ipairs(results) do
      if r.error then lines[#lines + 1] = string.format("Track '%s': %s", track_name(r.track), r.error) end
    end
    for _, r in ipairs(results) do
      if r.answer and valid(r.track) then
        local choice = U.show(proposal_text(r.track, r.answer), #tracks > 1 and 3 or 4)
        if choice == 2 then break end -- cancel
        if choice == 6 then items[#items + 1] = r end
      end
    end
    if #items > 0 then
      for _, note in ipairs(apply_answers(items, "Semantic EQ: auto-suggest")) do lines[#lines + 1] = note end
    end
    return lines
  end)
end

--- "Match EQ to reference track": the first selected track gets the EQ that makes it sound like
--- the reference (the second selected track, or an audio file chosen when only one is selected).
function M.match()
  local tracks = begin(true)
  if not tracks then reaper.defer(function() end) return nil end
  local settings = S.load()
  local target, ref_track, ref_file = tracks[1], tracks[2], nil
  if settings.transport ~= "send" then
    reaper.defer(function() end)
    U.show("Matching to a reference needs the Semantic EQ server: the watch folder cannot do it. "
      .. "Choose the transport 'send' in 'Semantic EQ - Settings'.")
    return nil
  end
  if not ref_track then
    local ok, file = reaper.GetUserFileNameForRead("", "Semantic EQ: choose the reference track's audio", "wav")
    reaper.defer(function() end) -- a dialog is no change: no automatic undo point
    if not ok or not file or file == "" then return nil end
    ref_file = file
  end
  local label = "Semantic EQ: match to reference"
  return run(label, function(task)
    local request = { op = "suggest", strength = 1.0 }
    if ref_track then
      local reference, why = Ref.track_file(task, settings, ref_track, false)
      if not reference then return { why } end
      request.reference = reference
    else
      request.reference = ref_file
    end
    local answer, msg, _, code = ask_about_audio(task, settings, target, request)
    if not answer and ref_track and M.FALLBACK_CODES[code] then -- the server may not read the reference's media
      local wav, why = Ref.track_file(task, settings, ref_track, true)
      if not wav then return { why } end
      request.reference = wav
      answer, msg, _, code = ask_about_audio(task, settings, target, request)
    end
    if not answer then
      if ref_file and code == "forbidden_path" then
        msg = msg .. "\n\nThe server may only read files in the folders it was allowed: start it with "
          .. "'semeq serve --allow <the reference file's folder>'."
      end
      return { string.format("Track '%s': %s", track_name(target), msg) }
    end
    if not valid(target) then return {} end
    return apply_answers({ { track = target, answer = answer } }, label)
  end)
end

--- "Describe selected track": what the server hears, in words (changes nothing).
function M.describe()
  local tracks = begin(true)
  if not tracks then reaper.defer(function() end) return nil end
  local settings = S.load()
  local track = tracks[1]
  return run("Semantic EQ: describe", function(task)
    local answer, msg = ask_about_audio(task, settings, track, { op = "analyze" })
    if not answer then return { string.format("Track '%s': %s", track_name(track), msg) } end
    local a = answer.analysis or answer
    local lines = { string.format("Track '%s'", track_name(track)), "", tostring(a.summary or "") }
    if a.loudness_lufs then
      lines[#lines + 1] = string.format("\nLoudness %s LUFS, true peak %s dBTP.", U.fmt_num(a.loudness_lufs, 1),
        U.fmt_num(a.true_peak_dbtp or 0, 1))
    end
    local problems = texts(answer.problems or a.problems)
    if #problems > 0 then
      lines[#lines + 1] = "\nProblems heard:\n" .. table.concat(problems, "\n")
    else
      lines[#lines + 1] = "\nNo problems were found."
    end
    for i, d in ipairs(a.descriptors or {}) do
      if i == 1 then lines[#lines + 1] = "\nStrongest words (0 = like typical music, 1 = as much as the word's own EQ adds):" end
      if i > 6 then break end
      lines[#lines + 1] = string.format("  %-12s %s", tostring(d.term or d.word), U.fmt_signed(d.score or 0, 2))
    end
    return { table.concat(lines, "\n") }
  end)
end

--- "Semantic EQ settings": edit, check and store the settings, then ping the server.
function M.settings()
  local ok_version, why = U.check_version()
  if not ok_version then U.show(why) reaper.defer(function() end) return nil end
  local s = S.load()
  local captions, values = {}, {}
  for i, item in ipairs(S.ITEMS) do captions[i] = item.caption; values[i] = s[item.key] end
  local ok, csv = reaper.GetUserInputs("Semantic EQ settings", #S.ITEMS,
    table.concat(captions, ",") .. ",extrawidth=260,separator=|", table.concat(values, "|"))
  reaper.defer(function() end) -- settings are no project change: no automatic undo point
  if not ok then return nil end
  local fields, i = {}, 0
  for field in (csv .. "|"):gmatch("(.-)|") do i = i + 1; fields[i] = field:gsub("^%s+", ""):gsub("%s+$", "") end
  local new = {}
  for k, item in ipairs(S.ITEMS) do new[item.key] = fields[k] or "" end
  local clean, err = S.validate(new)
  if not clean then U.show(err .. "\n\nThe settings were not changed.") return nil end
  S.save(clean)
  local saved = S.load()
  if saved.transport == "folder" then
    U.show("Settings saved. Requests go through the watch folder " .. U.join(saved.home, "inbox") .. ".")
    return nil
  end
  return run("Semantic EQ: settings", function(task)
    local answer, msg = C.ask(task, saved, { op = "ping" }, "asking the server")
    if not answer then return { "Settings saved, but:\n\n" .. msg } end
    return { string.format("Settings saved. The Semantic EQ server answers on port %s%s.", saved.port,
      answer.version and (" (version " .. tostring(answer.version) .. ")") or "") }
  end)
end

return M
