--- helper.lua: a tiny spec runner for Lua tests run with `reel run`.
--
--     local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
--     T.test("name", function() T.eq(1 + 1, 2) end)
--     T.done()   -- exits 1 when a test failed
--
-- Assertions raise; a failing test is reported with file:line and the run
-- goes on. Temporary folders made by T.tmpdir() are removed by T.done().
-- Also the small file helpers the specs share (T.read, T.write,
-- T.write_wav, T.impulses, T.sh).
local core = require "reel.core"

local T = { failed = 0, passed = 0, dirs = {} }

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function T.eq(got, want, what)
  if got ~= want then
    error(("%sexpected %s, got %s"):format(what and (what .. ": ") or "", fmt(want), fmt(got)), 2)
  end
end

function T.ok(v, what)
  if not v then error("expected a true value" .. (what and (": " .. what) or ""), 2) end
  return v
end

function T.near(got, want, tol, what)
  if type(got) ~= "number" or math.abs(got - want) > tol then
    error(("%sexpected %s +- %s, got %s"):format(what and (what .. ": ") or "", want, tol, fmt(got)), 2)
  end
end

--- Calls fn, which must raise an error whose message contains `text`
-- (plain). `where`, if given, must appear too (e.g. "spec_session.lua:42:").
function T.raises(fn, text, where)
  local ok, err = pcall(fn)
  if ok then error(("expected an error containing %q, got none"):format(text), 2) end
  err = tostring(err)
  if not err:find(text, 1, true) then
    error(("expected an error containing %q, got %q"):format(text, err), 2)
  end
  if where and not err:find(where, 1, true) then
    error(("expected the error at %q, got %q"):format(where, err), 2)
  end
  return err
end

--- The "file:line:" of the caller's caller line + offset, for checking that
-- errors point at user code.
function T.here(offset)
  local info = debug.getinfo(2, "Sl")
  return ("%s:%d:"):format(info.short_src, info.currentline + (offset or 0))
end

--- The whole content of a file (which must exist), as bytes.
function T.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Writes text to a file, replacing it; returns the path.
function T.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

--- Writes a mono 32-bit float WAV at 48 kHz of n frames whose sample i
-- (0-based) is fn(i).
function T.write_wav(path, n, fn)
  local parts = {}
  for i = 0, n - 1 do parts[#parts + 1] = string.pack("<f", fn(i)) end
  local data = table.concat(parts)
  T.write(path, "RIFF" .. string.pack("<I4", 36 + #data) .. "WAVE" .. "fmt "
    .. string.pack("<I4I2I2I4I4I2I2", 16, 3, 1, 48000, 48000 * 4, 4, 32)
    .. "data" .. string.pack("<I4", #data) .. data)
end

--- Positions (0-based) of the samples above 0.5 in a mono sound file, and
-- its length in frames.
function T.impulses(path)
  local info = assert(core.sound_info(path))
  local s = assert(core.read_frames(path, 0, info.frames))
  local at = {}
  for i = 1, #s do
    if s[i] > 0.5 then at[#at + 1] = i - 1 end
  end
  return at, info.frames
end

--- Runs a shell command, which must succeed.
function T.sh(cmd)
  local ok, how, code = os.execute(cmd)
  assert(ok, ("'%s' failed (%s %s)"):format(cmd, how, code))
end

function T.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(core.mkdir_p(p))
  T.dirs[#T.dirs + 1] = p
  return p
end

function T.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    T.passed = T.passed + 1
    print("ok   " .. name)
  else
    T.failed = T.failed + 1
    print("FAIL " .. name .. "\n" .. tostring(err))
  end
end

function T.done()
  for _, d in ipairs(T.dirs) do
    if d:match("^/tmp/lua_") then os.execute("rm -rf '" .. d .. "'") end
  end
  print(("%d passed, %d failed"):format(T.passed, T.failed))
  if T.failed > 0 or T.passed == 0 then os.exit(1) end
end

return T
