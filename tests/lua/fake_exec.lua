-- reaper.ExecProcess as REAPER runs it (../shared/docs/reaper-and-osc-facts.md, "Checked against
-- REAPER's own sources"): no shell. On macOS/Linux REAPER splits the line itself: spaces separate
-- words, double quotes group them (and are removed), every other character, backslashes included,
-- stays literal. On Windows the line goes to the program, which splits it with the C runtime's
-- rules (backslashes literal unless they precede a double quote; 2n backslashes + quote = n
-- backslashes and a delimiter, 2n+1 = n backslashes and a literal quote). Timeout (SDK 7.78):
-- 0 = wait without limit, -1 = do not wait, -2 = do not wait and minimise, > 0 = wait at most that
-- many ms (what REAPER returns then is undocumented: this fake kills the program and returns nil).
-- Return: "<exit code>\n<output>" when waited for, nil when the program cannot be started; in the
-- no-wait modes the return is undocumented: this fake returns "" (the scripts only test for nil).

local X = {}

--- Split a command line as REAPER does on macOS/Linux.
function X.split_posix(line)
  local args, cur, in_quote, has = {}, {}, false, false
  for ch in line:gmatch(".") do
    if ch == '"' then
      in_quote, has = not in_quote, true
    elseif ch == " " and not in_quote then
      if has then args[#args + 1] = table.concat(cur) end
      cur, has = {}, false
    else
      cur[#cur + 1], has = ch, true
    end
  end
  if has then args[#args + 1] = table.concat(cur) end
  return args
end

--- Split a command line as a Windows program's C runtime does (CommandLineToArgvW rules).
function X.split_windows(line)
  local args, cur, in_quote, has, i = {}, {}, false, false, 1
  while i <= #line do
    local ch = line:sub(i, i)
    if ch == "\\" then
      local j = i
      while line:sub(j, j) == "\\" do j = j + 1 end
      local n = j - i
      if line:sub(j, j) == '"' then
        cur[#cur + 1] = string.rep("\\", n // 2)
        if n % 2 == 1 then cur[#cur + 1] = '"' i = j + 1 else i = j end
      else
        cur[#cur + 1] = string.rep("\\", n)
        i = j
      end
      has = true
    elseif ch == '"' then
      in_quote, has, i = not in_quote, true, i + 1
    elseif (ch == " " or ch == "\t") and not in_quote then
      if has then args[#args + 1] = table.concat(cur) end
      cur, has, i = {}, false, i + 1
    else
      cur[#cur + 1], has, i = ch, true, i + 1
    end
  end
  if has then args[#args + 1] = table.concat(cur) end
  return args
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The program's path as exec would find it: absolute/relative paths as they are, bare names
--- through PATH (whether REAPER searches PATH is unverified; execvp does). nil when not runnable.
function X.resolve(program)
  if program:find("/", 1, true) then
    return (os.execute("test -x " .. sh_quote(program) .. " -a -f " .. sh_quote(program))) and program or nil
  end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local p = dir .. "/" .. program
    if os.execute("test -x " .. sh_quote(p) .. " -a -f " .. sh_quote(p)) then return p end
  end
  return nil
end

--- Run argv (a list) without any shell interpretation of its words. Returns the result string.
function X.run(argv, timeout_ms, windows)
  local program = X.resolve(argv[1] or "")
  if not program then return nil end
  local words = { sh_quote(program) }
  for i = 2, #argv do words[#words + 1] = sh_quote(argv[i]) end
  local cmd = table.concat(words, " ")
  if timeout_ms == -1 or timeout_ms == -2 then
    os.execute("( " .. cmd .. " ) </dev/null >/dev/null 2>&1 &")
    return ""
  end
  if timeout_ms > 0 then
    cmd = "timeout -s KILL " .. string.format("%.3f", timeout_ms / 1000) .. " " .. cmd
  end
  local p = io.popen(cmd .. " 2>&1", "r")
  local out = p:read("a")
  local _, _, code = p:close()
  if timeout_ms > 0 and code == 137 then return nil end
  return tostring(code) .. "\n" .. out
end

--- reaper.ExecProcess for a fake whose GetOS is `os_name`.
function X.exec_process(os_name, cmdline, timeout_ms)
  local windows = (os_name or ""):match("^Win") ~= nil
  local argv = windows and X.split_windows(cmdline) or X.split_posix(cmdline)
  return X.run(argv, math.tointeger(timeout_ms) or timeout_ms, windows), argv
end

return X
