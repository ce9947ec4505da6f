-- @noindex
-- Small helpers shared by the Semantic EQ modules: the OS, paths, files, numbers, REAPER's version.

local U = {}

U.TITLE = "Semantic EQ"

--- True on Windows. reaper.GetOS() is one of "Win32", "Win64", "OSX32", "OSX64", "macOS-arm64"
--- or "Other" (SDK); anything not starting with "Win" is treated as macOS/Linux.
function U.is_windows()
  return (reaper.GetOS() or ""):match("^Win") ~= nil
end

function U.sep()
  return U.is_windows() and "\\" or "/"
end

--- Join path parts with the OS's separator (trailing separators of the first part dropped).
function U.join(...)
  local parts = { ... }
  local s = U.sep()
  local out = parts[1]:gsub("[/\\]+$", "")
  for i = 2, #parts do out = out .. s .. parts[i] end
  return out
end

function U.user_home()
  return os.getenv("HOME") or os.getenv("USERPROFILE") or "."
end

function U.file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

function U.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

--- Write text through a temporary name and a rename: a reader never sees half a file.
--- Returns true or nil, reason.
function U.write_file_atomic(path, data)
  local dir, name = path:match("^(.*[/\\])([^/\\]+)$")
  local tmp = (dir or "") .. "." .. (name or path) .. ".part"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(data)
  f:close()
  if not ok then os.remove(tmp) return nil, werr end
  if U.is_windows() then os.remove(path) end -- Windows' rename does not replace an existing file
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then os.remove(tmp) return nil, rerr end
  return true
end

local stem_counter = 0

--- A file stem unique for this REAPER session: time, a fraction of time_precise, a counter.
function U.unique_stem()
  stem_counter = stem_counter + 1
  local t = reaper.time_precise()
  return string.format("reaper-%d-%06d-%d", os.time(), math.floor((t * 1000003) % 1000000), stem_counter)
end

function U.show(message, kind)
  return reaper.ShowMessageBox(message, U.TITLE, kind or 0)
end

function U.fmt_num(x, decimals)
  return string.format("%." .. (decimals or 1) .. "f", x)
end

function U.fmt_signed(x, decimals)
  return string.format("%+." .. (decimals or 1) .. "f", x)
end

function U.clamp(x, lo, hi)
  return math.max(lo, math.min(hi, x))
end

function U.escape_pattern(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

--- The oldest REAPER the scripts support: FX renaming (`renamed_name`) and fx_ident came with
--- 6.37 (SWS PR 1569), the BANDTYPE codes with 6.30-era builds (OSARA issue 543).
U.MIN_REAPER = "6.37"

--- "7.20/linux-x86_64" -> { 7, 20 }; nil when there is no leading version number.
function U.parse_version(text)
  local major, minor = tostring(text or ""):match("^%s*(%d+)%.(%d+)")
  if not major then return nil end
  return { tonumber(major), tonumber(minor) }
end

--- True when REAPER's version (reaper.GetAppVersion()) is at least U.MIN_REAPER; else false and
--- a sentence for the user.
function U.check_version()
  local text = reaper.GetAppVersion()
  local have, need = U.parse_version(text), U.parse_version(U.MIN_REAPER)
  if not have then
    return false, string.format("Semantic EQ could not read REAPER's version ('%s'); it needs REAPER %s or newer.",
      tostring(text), U.MIN_REAPER)
  end
  if have[1] < need[1] or (have[1] == need[1] and have[2] < need[2]) then
    return false, string.format("Semantic EQ needs REAPER %s or newer; this is REAPER %d.%02d. "
      .. "Update REAPER (reaper.fm/download.php); nothing was changed.", U.MIN_REAPER, have[1], have[2])
  end
  return true
end

return U
