-- Driver of benchmarks/bench_reaper.py: runs "Semantic EQ - Make warmer" under the fake REAPER
-- (tests/lua/fake_reaper.lua, REAPER's pace of ~30 deferred calls a second) against a real
-- `semeq serve`, and prints one JSON line with the timings of every run.
--
-- Environment: SEMEQ_BENCH_SEMEQ (semeq command), SEMEQ_BENCH_PORT, SEMEQ_BENCH_HOME,
-- SEMEQ_BENCH_WAV (the long track), SEMEQ_BENCH_WAV_SECONDS (its length), SEMEQ_BENCH_EXCERPT
-- (a shorter WAV for the accessor fallback, whose fake reads samples in Lua), SEMEQ_BENCH_RUNS.

local here = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
package.path = here .. "../tests/lua/?.lua;" .. package.path
local H = require("helpers")
local system = require("system")
local R = require("semeq.reaeq")
local J = require("semeq.json")

local function env(name) return (assert(os.getenv(name), name .. " is not set: run python -m benchmarks.bench_reaper")) end
local RUNS = tonumber(os.getenv("SEMEQ_BENCH_RUNS") or "5")

--- One "Make warmer" on a fresh fake: returns action-to-EQ-set (s), longest slice (s), slices.
local function run(setup)
  -- ReaEQ's value mappings as measured (facts doc): frequency formula, 0.5 = 0 dB, octaves = 4 n
  local r, state = H.new({ device_rate = 44100, gain_mapping = "documented", bw_mapping = "quarter" })
  for k, v in pairs({ semeq_path = env("SEMEQ_BENCH_SEMEQ"), port = env("SEMEQ_BENCH_PORT"), home = env("SEMEQ_BENCH_HOME"),
    analysis_seconds = "30", timeout_seconds = "60", transport = "send" }) do
    r.SetExtState("SemanticEQ", k, v, true)
  end
  local track = state.add_track({ name = "Music" })
  setup(track)
  local apply, t_set = R.apply, nil
  R.apply = function(...) local res = apply(...); t_set = system.monotime(); return res end
  local t0 = system.monotime()
  local ok, err = pcall(H.run_action, state, "warmer", 600)
  R.apply = apply
  assert(ok, err)
  assert(#state.dialogs == 0, state.dialogs[1] and state.dialogs[1].msg)
  assert(t_set, "the EQ was never set")
  local order = {}
  for i, d in ipairs(state.slices) do order[i] = { i, d } end
  table.sort(order, function(a, b) return a[2] > b[2] end)
  local top = {}
  for k = 1, math.min(4, #order) do top[k] = string.format("#%d %.1f ms", order[k][1], order[k][2] * 1000) end
  return { action_to_eq_s = t_set - t0, longest_slice_s = state.longest_slice(), slices = #state.slices,
    longest_slice_cpu_s = state.longest_slice(true),
    top = table.concat(top, ", ") }
end

local Media = H.Fake.Media
local long = env("SEMEQ_BENCH_WAV")
local long_s = tonumber(env("SEMEQ_BENCH_WAV_SECONDS"))
local results = { items = {}, again = {}, no_audio = {}, accessor = {} }
local function at(position) return function(track) track.items = { Media.item(long, { position = position, length = long_s }) } end end
-- the server's first audio request loads the analysis' reference and word curves: timed apart
results.cold = run(at(0))
for i = 1, RUNS do
  results.items[i] = run(at(i)) -- the item moved by a second: a new track to the server (no reuse)
  results.no_audio[i] = run(function(track) track.items = { Media.item(nil, { midi = true, length = long_s }) } end)
end
-- the same unchanged track again and again: the server reuses its analysis after the first
for i = 1, RUNS + 1 do results.again[i] = run(at(RUNS + 1)) end
-- the fallback: take FX make the server's mix impossible, so REAPER's accessor reads the track
results.accessor[1] = run(function(track)
  track.items = { Media.item(env("SEMEQ_BENCH_EXCERPT"), { take_fx = 1 }) }
end)
print(J.encode(results))
