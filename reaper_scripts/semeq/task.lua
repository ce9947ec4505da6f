-- @noindex
-- Long work without freezing REAPER: an action runs as a coroutine that REAPER resumes once per
-- UI cycle (reaper.defer). The work yields whenever its slice has used SLICE_BUDGET_S, so REAPER
-- redraws and takes input between slices. After SHOW_AFTER_S a small progress window appears;
-- Esc in it (or closing it) cancels: gfx.getchar() returns 27 for Esc and -1 once the window is
-- closed (REAPER's ReaScript help). If the user terminates the script instead (running the action
-- again answers REAPER's "already running" prompt), reaper.atexit runs the same clean-up.
--
-- Because every run defers, REAPER adds no automatic "ReaScript: Run" undo point: the actions
-- make their own undo point when, and only when, they change something.

local T = {}

T.SLICE_BUDGET_S = 0.02 -- work per UI cycle before yielding (s)
T.SHOW_AFTER_S = 0.4 -- open the progress window only for work that takes longer (s)
T.CANCELLED = setmetatable({}, { __tostring = function() return "cancelled" end })

local ESC, CLOSED = 27, -1

--- Yield to REAPER when this slice has run for SLICE_BUDGET_S; raises T.CANCELLED on cancel.
function T.breathe(task)
  if reaper.time_precise() - task.slice_start >= T.SLICE_BUDGET_S then T.next_cycle(task) end
end

--- Yield until the next UI cycle; raises T.CANCELLED when the user cancelled meanwhile.
function T.next_cycle(task)
  local cancelled = coroutine.yield()
  if cancelled then error(T.CANCELLED, 0) end
end

--- Say what the task is doing (shown in the progress window); fraction in 0..1 or nil.
function T.status(task, text, fraction)
  task.text, task.fraction = text, fraction
end

--- Run fn(task) later again when the task ends, cancelled or not (clean-up of temporary files).
function T.on_finish(task, fn)
  task.cleanups[#task.cleanups + 1] = fn
end

local function draw(task)
  local w = gfx.w > 0 and gfx.w or 420
  gfx.set(0.15, 0.15, 0.15)
  gfx.rect(0, 0, w, 90, 1)
  gfx.set(0.9, 0.9, 0.9)
  gfx.x, gfx.y = 12, 12
  gfx.drawstr(task.title .. ": " .. (task.text or "working"))
  if task.fraction then
    gfx.set(0.35, 0.6, 0.9)
    gfx.rect(12, 40, math.floor((w - 24) * math.max(0, math.min(1, task.fraction))), 10, 1)
  end
  gfx.set(0.7, 0.7, 0.7)
  gfx.x, gfx.y = 12, 62
  gfx.drawstr(string.format("%.1f s   Esc cancels", reaper.time_precise() - task.started))
  gfx.update()
end

local function user_cancelled(task)
  if not task.window then return false end
  local c = gfx.getchar()
  return c == ESC or c == CLOSED
end

local function finish(task)
  if task.finished then return end
  task.finished = true
  if task.window then gfx.quit() task.window = false end
  for i = #task.cleanups, 1, -1 do pcall(task.cleanups[i]) end
end

--- Start fn(task) as a deferred task titled `title`. on_error(message) gets a failure that is
--- not a cancel (a bug); a cancel ends quietly after the clean-ups.
function T.start(title, fn, on_error)
  local task = { title = title, started = reaper.time_precise(), cleanups = {}, window = false }
  local co = coroutine.create(function() return fn(task) end)
  local cancelled = false
  local function step()
    task.slice_start = reaper.time_precise()
    cancelled = cancelled or user_cancelled(task)
    local ok, err = coroutine.resume(co, cancelled)
    if coroutine.status(co) == "dead" then
      finish(task)
      if not ok and err ~= T.CANCELLED and on_error then on_error(tostring(err)) end
      return
    end
    if not task.window and reaper.time_precise() - task.started >= T.SHOW_AFTER_S then
      gfx.init(title, 420, 90)
      task.window = true
    end
    if task.window then draw(task) end
    reaper.defer(step)
  end
  reaper.atexit(function() finish(task) end)
  reaper.defer(step)
  return task
end

return T
