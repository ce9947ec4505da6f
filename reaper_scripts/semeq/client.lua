-- @noindex
-- Asking the server through the `semeq send` client without blocking REAPER and without data on
-- a command line: the request is a JSON file in the server home's requests/ folder, the client is
-- started with ExecProcess's no-wait mode, and the script polls for the answer file once per UI
-- cycle. Only two plain file paths (and the port and timeout) go on the command line.
--
-- How REAPER runs the line (../shared/docs/reaper-and-osc-facts.md, "Checked against REAPER's own
-- sources"): without a shell; on macOS/Linux it splits on spaces, double quotes group words and
-- every other character, backslashes included, stays literal; so each argument is put in double
-- quotes and a double quote inside an argument cannot be passed at all (refused before running).
-- On Windows the program splits the line itself (the C runtime's rules: backslashes are literal
-- except before a double quote), so backslashes before a closing quote are doubled.
--
-- Protocol with the client (daw_bridge/request_file.py): the client writes <stem>.started when it
-- runs, then <stem>.answer.json atomically (temporary name + rename). Cancelling deletes the
-- request file; a client that finds its request gone throws its answer away.

local U = require("semeq.util")
local J = require("semeq.json")
local T = require("semeq.task")

local C = {}

C.NO_WAIT = -2 -- ExecProcess timeout: do not wait, minimise the console window (SDK 7.78)
C.START_TIMEOUT_S = 10 -- the client must have started within this time
C.EXTRA_WAIT_S = 5 -- waited past the client's own timeout for its answer file

--- Quote one argument the way REAPER's ExecProcess line is split on this OS; nil, reason when
--- the argument cannot be passed (a double quote on macOS/Linux).
function C.quote(arg)
  local s = tostring(arg)
  if U.is_windows() then
    s = s:gsub('(\\*)"', function(slashes) return slashes .. slashes .. '\\"' end)
    s = s:gsub("(\\+)$", "%1%1")
    return '"' .. s .. '"'
  end
  if s:find('"', 1, true) then
    return nil, "REAPER cannot pass a double quote (\") inside an argument on this system: " .. s
  end
  return '"' .. s .. '"'
end

--- Words typed by a person, cleaned of control characters and outer spaces (they travel in the
--- request file as JSON, so quotes and backslashes are fine).
function C.clean_text(text)
  local s = tostring(text or ""):gsub("%c", " "):gsub("%s+", " ")
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

function C.requests_dir(settings)
  return U.join(settings.home, "requests")
end

--- The command line that runs the client on one request file.
function C.command_line(settings, request_path, answer_path)
  local parts = {}
  for i, a in ipairs({ settings.semeq_path, "send", "--port", settings.port, "--timeout", settings.timeout_seconds,
    "--request", request_path, "--answer", answer_path }) do
    local q, err = C.quote(a)
    if not q then return nil, err end
    parts[i] = q
  end
  return table.concat(parts, " ")
end

local function not_found_message(settings)
  return string.format("REAPER could not run the Semantic EQ client '%s'.\n\n"
    .. "Run the action 'Semantic EQ - Settings' and give the full path of the semeq command "
    .. "(in a terminal: 'which semeq' on macOS/Linux, 'where semeq' on Windows).", settings.semeq_path)
end

local function server_down_message(settings)
  return string.format("The Semantic EQ server is not running (nothing answers on port %s).\n\n"
    .. "Start it in a terminal with:\n\n    semeq serve\n\nand keep that window open while you work "
    .. "(it listens on 127.0.0.1:7710 by default; the port is set in 'Semantic EQ - Settings').",
    settings.port)
end

--- Start the client on `request` (a table with op and fields). Returns a handle or nil, message, kind.
function C.start(settings, request)
  local dir = C.requests_dir(settings)
  reaper.RecursiveCreateDirectory(dir, 0)
  local stem = U.unique_stem()
  local h = { request = U.join(dir, stem .. ".request.json"), answer = U.join(dir, stem .. ".answer.json") }
  h.started_marker = h.answer .. ".started"
  local cmd, qerr = C.command_line(settings, h.request, h.answer)
  if not cmd then return nil, qerr .. "\n\nChoose a folder without double quotes in 'Semantic EQ - Settings'.", "usage" end
  local ok, err = U.write_file_atomic(h.request, J.encode(request))
  if not ok then
    return nil, "Could not write the request into " .. dir .. ": " .. tostring(err)
      .. "\n\nIs the server home folder in 'Semantic EQ - Settings' right and writable?", "write"
  end
  if reaper.ExecProcess(cmd, C.NO_WAIT) == nil then
    os.remove(h.request)
    return nil, not_found_message(settings), "not_found"
  end
  h.launched = reaper.time_precise()
  return h
end

--- Remove every file of a request (request, answer, marker): also how a request is cancelled.
function C.forget(h)
  os.remove(h.request)
  os.remove(h.answer)
  os.remove(h.started_marker)
end

local CLIENT_CODES = {
  server_down = "server_down", timeout = "timeout", not_found = "not_found",
}

--- Turn an error answer into a dialog message and a kind.
function C.error_of(settings, answer)
  local code = tostring(answer.code or "")
  if code == "server_down" then return server_down_message(settings), "server_down" end
  if code == "timeout" then
    return string.format("The Semantic EQ server did not answer within %s s. It may be busy with another "
      .. "track: try again in a moment, or raise the timeout in 'Semantic EQ - Settings'. Nothing was changed.",
      settings.timeout_seconds), "timeout"
  end
  if code == "usage" or code == "bad_request_file" then
    return "The installed semeq did not understand the request: " .. tostring(answer.message)
      .. "\n\nAre the scripts newer than semeq? Update both to the same version.", "usage"
  end
  return "The Semantic EQ server could not do this: " .. tostring(answer.message or code)
    .. "\n\nNothing was changed.", CLIENT_CODES[code] or "error_reply", code
end

--- Ask the server inside a task: start the client, poll once per UI cycle, return the answer
--- table (ok = true) or nil, message, kind, server code. The request's files are removed in
--- every case (also on cancel, through the task's clean-up).
function C.ask(task, settings, request, label)
  local h, msg, kind = C.start(settings, request)
  if not h then return nil, msg, kind end
  T.on_finish(task, function() C.forget(h) end)
  local deadline = h.launched + (settings.timeout_seconds_number or 30) + C.EXTRA_WAIT_S
  while true do
    local text = U.read_file(h.answer)
    if text then
      C.forget(h)
      local ok, answer = pcall(J.decode, text)
      if not ok or type(answer) ~= "table" then
        return nil, "The Semantic EQ client wrote an answer that is not JSON:\n\n" .. text:sub(1, 300), "bad_output"
      end
      if answer.ok == false then return nil, C.error_of(settings, answer) end
      return answer
    end
    local now = reaper.time_precise()
    if now - h.launched > C.START_TIMEOUT_S and not U.file_exists(h.started_marker) then
      C.forget(h)
      return nil, not_found_message(settings), "not_found"
    end
    if now > deadline then
      C.forget(h)
      return nil, C.error_of(settings, { code = "timeout" })
    end
    T.status(task, string.format("%s (%.1f s)", label or "asking the server", now - h.launched))
    T.next_cycle(task)
  end
end

return C
