-- Helpers for the Semantic EQ busted specs: paths, a fresh fake REAPER per test, running an
-- action file as REAPER would, WAV writing, RBJ cookbook responses and temporary folders.

local H = {}

local here = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
H.tests_dir = here
H.repo = here .. "../../"
H.scripts_dir = H.repo .. "reaper_scripts/"
package.path = here .. "?.lua;" .. package.path

local Fake = require("fake_reaper")
H.Fake = Fake

H.ACTIONS = {
  warmer = "Semantic EQ - Make warmer.lua",
  brighter = "Semantic EQ - Make brighter.lua",
  less_harsh = "Semantic EQ - Make less harsh.lua",
  less_muddy = "Semantic EQ - Make less muddy.lua",
  fuller = "Semantic EQ - Make fuller.lua",
  clearer = "Semantic EQ - Make clearer.lua",
  say = "Semantic EQ - Say it in words.lua",
  suggest = "Semantic EQ - Auto-suggest EQ for selected tracks.lua",
  describe = "Semantic EQ - Describe selected track.lua",
  match = "Semantic EQ - Match EQ to reference track.lua",
  settings = "Semantic EQ - Settings.lua",
}

H.BUNDLE = H.scripts_dir .. "Semantic EQ.lua"
package.path = H.scripts_dir .. "?.lua;" .. package.path

--- A fresh fake REAPER installed as the globals `reaper` and `gfx`. Returns reaper, state.
function H.new(opts)
  local r, state = Fake.new(opts)
  _G.reaper, _G.gfx = r, state.gfx
  return r, state
end

--- The scripts' modules (semeq.*), as a table: json, util, settings, reaeq, values, audio,
--- client, folder, task, actions.
function H.module()
  return {
    json = require("semeq.json"), util = require("semeq.util"), settings = require("semeq.settings"),
    reaeq = require("semeq.reaeq"), values = require("semeq.reaeq_values"), audio = require("semeq.audio"),
    client = require("semeq.client"), folder = require("semeq.folder"), task = require("semeq.task"),
    actions = require("semeq.actions"),
  }
end

--- Run an action the way REAPER does (the bundle under the action's alias name), then its
--- deferred functions; `each(state)` runs between UI cycles.
function H.run_action(state, key, max_s, each)
  state.run_script(H.BUNDLE, H.scripts_dir .. assert(H.ACTIONS[key], key))
  state.run_deferred(max_s or 120, each)
end

function H.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- A new empty temporary folder.
function H.tmpdir()
  local p = io.popen("mktemp -d")
  local dir = p:read("l")
  p:close()
  return dir
end

function H.rmtree(dir)
  if dir and dir:match("^/tmp/") then os.execute("rm -rf " .. H.shell_quote(dir)) end
end

function H.list(dir)
  local p = io.popen("find " .. H.shell_quote(dir) .. " -type f 2>/dev/null | sort")
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

--- Write a float32 WAV: value(frame_index0, channel1) for every frame.
function H.write_wav(path, channels, rate, frames, value)
  local f = assert(io.open(path, "wb"))
  local bytes = frames * channels * 4
  f:write("RIFF", string.pack("<I4", 36 + bytes), "WAVE", "fmt ",
    string.pack("<I4I2I2I4I4I2I2", 16, 3, channels, rate, rate * channels * 4, channels * 4, 32),
    "data", string.pack("<I4", bytes))
  local buf = {}
  for i = 0, frames - 1 do
    for c = 1, channels do buf[#buf + 1] = string.pack("<f", value(i, c)) end
    if #buf >= 8192 then f:write(table.concat(buf)); buf = {} end
  end
  f:write(table.concat(buf))
  f:close()
  return path
end

--- Deterministic noise in [-1, 1] (a linear congruential generator; no global state).
function H.noise(seed)
  local x = seed or 12345
  return function()
    x = (1103515245 * x + 12345) % 2147483648
    return x / 1073741824 - 1
  end
end

--- Peak bandwidth (octaves) -> Q.
function H.q_from_bw(oct)
  return 1 / (2 * math.sinh(math.log(2) / 2 * oct))
end

--- |H| in dB of RBJ cookbook biquads (kind "low_shelf", "peak", "high_shelf"; Hz, dB, Q) at
--- frequencies `freqs` (Hz) and sample rate `fs` (Hz).
function H.rbj_db(bands, freqs, fs)
  local out = {}
  for i, f in ipairs(freqs) do
    local total = 0.0
    for _, b in ipairs(bands) do
      if b.gain_db ~= 0 and b.freq_hz < fs / 2 then
        local A = 10 ^ (b.gain_db / 40)
        local w0 = 2 * math.pi * b.freq_hz / fs
        local cw, sw = math.cos(w0), math.sin(w0)
        local alpha = sw / (2 * b.q)
        local b0, b1, b2, a0, a1, a2
        if b.kind == "peak" then
          b0, b1, b2 = 1 + alpha * A, -2 * cw, 1 - alpha * A
          a0, a1, a2 = 1 + alpha / A, -2 * cw, 1 - alpha / A
        else
          local s = b.kind == "low_shelf" and 1 or -1
          local sq = 2 * math.sqrt(A) * alpha
          b0 = A * ((A + 1) - s * (A - 1) * cw + sq)
          b1 = s * 2 * A * ((A - 1) - s * (A + 1) * cw)
          b2 = A * ((A + 1) - s * (A - 1) * cw - sq)
          a0 = (A + 1) + s * (A - 1) * cw + sq
          a1 = -s * 2 * ((A - 1) + s * (A + 1) * cw)
          a2 = (A + 1) + s * (A - 1) * cw - sq
        end
        local w = 2 * math.pi * f / fs
        local c1, s1, c2, s2 = math.cos(w), math.sin(w), math.cos(2 * w), math.sin(2 * w)
        local nr, ni = b0 + b1 * c1 + b2 * c2, -(b1 * s1 + b2 * s2)
        local dr, di = a0 + a1 * c1 + a2 * c2, -(a1 * s1 + a2 * s2)
        total = total + 10 * math.log((nr * nr + ni * ni) / (dr * dr + di * di), 10)
      elseif b.gain_db ~= 0 and b.kind == "low_shelf" then
        total = total + b.gain_db
      end
    end
    out[i] = total
  end
  return out
end

local KINDS = { "low_shelf", "peak", "peak", "peak", "high_shelf" }
H.KINDS = KINDS

--- The bands the fake ReaEQ named "Semantic EQ" on `track` holds, as RBJ bands (Q from BW).
function H.reaeq_bands(state, track)
  local fx
  for _, f in ipairs(track.fx) do if f.renamed == "Semantic EQ" and f.kind == "reaeq" then fx = f end end
  assert(fx, "no ReaEQ named 'Semantic EQ' on the track")
  local bands = {}
  for b = 0, fx.nbands - 1 do
    local v = state.band_values(fx, b)
    if v.enabled == 1 then
      local code_kind = ({ [0] = "low_shelf", [1] = "high_shelf", [8] = "peak" })[v.type]
      assert(code_kind, "band " .. b .. " has a type the comparison does not model: " .. v.type)
      bands[#bands + 1] = { kind = code_kind, freq_hz = v.freq_hz, gain_db = v.gain_db, q = H.q_from_bw(v.bw_oct),
        bw_oct = v.bw_oct, band = b }
    end
  end
  return bands, fx
end

--- Log-spaced frequencies (Hz).
function H.log_grid(n, lo, hi)
  local out = {}
  for i = 0, n - 1 do out[i + 1] = lo * (hi / lo) ^ (i / (n - 1)) end
  return out
end

--- The five ReaEQ bands of an answer for a 13-parameter EQ, as the server's answer lays them
--- out (used by unit specs that do not talk to a server). Shelf bandwidth from Q 1/sqrt(2).
function H.answer_bands(p)
  local function bw(q) local x = 1 / (2 * q); return (2 / math.log(2)) * math.log(x + math.sqrt(x * x + 1)) end
  local shelf_q = 1 / math.sqrt(2)
  local rows = {
    { "low_shelf", 0, 1, p[2], p[1], shelf_q }, { "peak", 8, 2, p[4], p[3], p[5] },
    { "peak", 8, 2, p[7], p[6], p[8] }, { "peak", 8, 2, p[10], p[9], p[11] },
    { "high_shelf", 1, 4, p[13], p[12], shelf_q },
  }
  local bands = {}
  for i, row in ipairs(rows) do
    bands[i] = { band = i - 1, kind = row[1], bandtype_code = row[2], eq_bandtype = row[3], eq_bandidx = 0,
      freq_hz = row[4], gain_db = row[5], q = row[6], bw_oct = bw(row[6]), bw_norm = nil }
  end
  return bands
end

function H.bands_as_rbj(bands)
  local out = {}
  for i, b in ipairs(bands) do out[i] = { kind = b.kind, freq_hz = b.freq_hz, gain_db = b.gain_db, q = b.q } end
  return out
end

function H.max_abs_diff(a, b)
  local m = 0
  for i = 1, #a do m = math.max(m, math.abs(a[i] - b[i])) end
  return m
end

--- Write an executable shell script (a stand-in `semeq` for client unit specs).
function H.script(dir, name, body)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write("#!/bin/sh\n", body, "\n")
  f:close()
  os.execute("chmod +x " .. H.shell_quote(path))
  return path
end

--- A stand-in `semeq send` for the request-file protocol (a shell script run for real, without a
--- shell in between, by the fake's ExecProcess). In `dir`: it logs its arguments to args.<n> and
--- the request it read to request.<n>.json, creates <answer>.started, waits `dir/delay` seconds
--- if that file exists, and writes `dir/answer.<n>.json` (else `dir/answer.json`) to the answer
--- path atomically unless the
--- request file was deleted meanwhile (a cancel). With `dir/no_start` it exits at once (as a
--- program that is not semeq would).
function H.install_stub(dir)
  return H.script(dir, "semeq", table.concat({
    "d=" .. H.shell_quote(dir),
    'n=$(ls "$d" | grep -c "^args\\.")',
    'for a in "$@"; do printf "%s\\n" "$a"; done > "$d/args.$n"',
    '[ -f "$d/no_start" ] && exit 127',
    'req=; ans=',
    'while [ $# -gt 0 ]; do case "$1" in --request) req=$2; shift;; --answer) ans=$2; shift;; esac; shift; done',
    'touch "$ans.started"',
    'cp "$req" "$d/request.$n.json"',
    '[ -f "$d/delay" ] && sleep "$(cat "$d/delay")"',
    'if [ ! -f "$req" ]; then rm -f "$ans.started"; exit 0; fi',
    'a="$d/answer.$n.json"; [ -f "$a" ] || a="$d/answer.json"',
    'cp "$a" "$ans.tmp" && mv "$ans.tmp" "$ans"',
  }, "\n"))
end

function H.read_lines(path)
  local f = io.open(path)
  if not f then return nil end
  local out = {}
  for line in f:lines() do out[#out + 1] = line end
  f:close()
  return out
end

--- Write a file atomically (a stand-in reading it meanwhile sees the old or the new text).
function H.write(path, text)
  local f = assert(io.open(path .. ".tmp", "w"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

H.read = require("semeq.util").read_file

return H
