-- @noindex
-- Talking to the server through its watch folder (no client needed): the WAV and a sidecar go
-- into inbox/, the answer is polled in outbox/ once per UI cycle inside the action's task.

local U = require("semeq.util")
local J = require("semeq.json")
local T = require("semeq.task")

local F = {}

F.POLL_INTERVAL_S = 0.2

--- Names of a folder's files (or sub-folders), fresh: REAPER caches listings, index -1 refreshes.
--- The listing ends at nil, or at "" in REAPER before 6.19 (its help: "NULL (or empty string, in Lua)").
local function listing(enumerate, dir)
  enumerate(dir, -1)
  local names, i = {}, 0
  while true do
    local name = enumerate(dir, i)
    if name == nil or name == "" then return names end
    names[#names + 1] = name
    i = i + 1
  end
end

function F.list_files(dir)
  return listing(reaper.EnumerateFiles, dir)
end

function F.has_subfolder(dir, name)
  for _, sub in ipairs(listing(reaper.EnumerateSubdirectories, dir)) do
    if sub == name then return true end
  end
  return false
end

--- Delete every file of ours (named stem.*) in the server's folders.
function F.cleanup(settings, stem)
  local pattern = "^" .. U.escape_pattern(stem) .. "%."
  for _, sub in ipairs({ "inbox", "outbox", "done", "failed" }) do
    local dir = U.join(settings.home, sub)
    for _, name in ipairs(F.list_files(dir)) do
      if name:match(pattern) then os.remove(U.join(dir, name)) end
    end
  end
end

local function failed(message)
  return nil, "The Semantic EQ server could not do this: " .. message .. "\n\nNothing was changed.", "error_reply"
end

--- Send a request through the watch folder inside a task. `wav_path` is the captured WAV (moved
--- into inbox/), `request` the sidecar table. Returns the answer or nil, message, kind.
function F.ask(task, settings, wav_path, request)
  local inbox, outbox = U.join(settings.home, "inbox"), U.join(settings.home, "outbox")
  if not F.has_subfolder(settings.home, "inbox") then
    return nil, string.format("The watch folder %s does not exist. Start the server once with 'semeq serve' "
      .. "(it creates it), or correct the folder in 'Semantic EQ - Settings'.", inbox), "server_down"
  end
  local stem = wav_path:match("([^/\\]+)%.wav$")
  T.on_finish(task, function() F.cleanup(settings, stem) end)
  local ok, err = U.write_file_atomic(U.join(inbox, stem .. ".json"), J.encode(request))
  if ok then ok, err = os.rename(wav_path, U.join(inbox, stem .. ".wav")) end
  if not ok then return nil, "Could not write the request into the watch folder " .. inbox .. ": " .. tostring(err), "write" end
  -- the timeout covers the watcher's settle time and the analysis as well
  local started = reaper.time_precise()
  local deadline = started + (settings.timeout_seconds_number or 30)
  local answer_pattern = "^" .. U.escape_pattern(stem) .. "%..+%.json$"
  local next_look = 0
  while true do
    local now = reaper.time_precise()
    if now >= next_look then
      next_look = now + F.POLL_INTERVAL_S
      for _, name in ipairs(F.list_files(outbox)) do
        if name:match(answer_pattern) then
          local okj, answer = pcall(J.decode, U.read_file(U.join(outbox, name)) or "")
          if okj and type(answer) == "table" then
            if answer.ok == false then return failed(tostring(answer.message)) end
            return answer
          end
        end
      end
      local reason = U.read_file(U.join(settings.home, "failed", stem .. ".error.txt"))
      if reason then return failed((reason:gsub("%s+$", ""))) end
      if now >= deadline then
        return nil, string.format("No answer appeared in %s. Is 'semeq serve' running with this home "
          .. "folder (%s)? Nothing was changed.", outbox, settings.home), "timeout"
      end
    end
    T.status(task, string.format("waiting for the watch folder (%.1f s)", now - started))
    T.next_cycle(task)
  end
end

return F
