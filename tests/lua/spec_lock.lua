--- spec_lock.lua: the session lock. reel.sys.lock (lua/lsys.c: an flock on
-- a file, shared by the handles of one process, close-on-exec) checked
-- against util-linux's flock(1) in other processes; reel.session's lock,
-- locked, close and the refusal message. The same refusal between reel
-- commands is tests/cli/session_lock.sh.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local session = require "reel.session"
local sys = require "reel.sys"

-- Whether another process could take the lock on path now (flock -n exits
-- 3 when it is held).
local function free(path)
  local ok, how, code = os.execute(("flock -n -E 3 '%s' true"):format(path))
  if ok then return true end
  assert(how == "exit" and code == 3, ("flock(1) failed: %s %s"):format(how, code))
  return false
end

-- Another process holds path (flock(1) running sleep) until the returned
-- function is called.
local function hold_elsewhere(path, seconds)
  local pidfile = path .. ".pid"
  os.remove(pidfile)
  T.sh(("flock '%s' sh -c 'echo $$ > \"%s\"; exec sleep %s' >/dev/null 2>&1 &"):format(path, pidfile,
    seconds or 5))
  for _ = 1, 200 do
    local f = io.open(pidfile)
    local pid = f and f:read("n")
    if f then f:close() end
    if pid then
      return function()
        os.execute(("kill %d 2>/dev/null"):format(pid))
        for _ = 1, 500 do
          if free(path) then return end
          reel.sleep(0.01)
        end
        error("flock(1) did not let go of " .. path)
      end
    end
    reel.sleep(0.01)
  end
  error("flock(1) did not take " .. path)
end

T.test("sys.lock: an flock others see, with the text written, released by unlock", function()
  local path = T.tmpdir() .. "/x.lock"
  local l = assert(sys.lock(path, "pid=1\nhello\n"))
  T.eq(T.read(path), "pid=1\nhello\n")
  T.eq(l:held(), true)
  T.eq(tostring(l), "reel.sys.lock (" .. path .. ")")
  T.eq(free(path), false)
  T.eq(l:unlock(), true)
  T.eq(l:unlock(), true, "twice is harmless")
  T.eq(l:held(), false)
  T.eq(tostring(l), "reel.sys.lock (" .. path .. ", unlocked)")
  T.eq(free(path), true)
  T.eq(T.read(path), "pid=1\nhello\n", "the file stays")
  -- a shorter text replaces the longer one whole
  local again <close> = assert(sys.lock(path, "pid=2\n"))
  T.eq(T.read(path), "pid=2\n")
end)

T.test("sys.lock: handles of one process share the lock", function()
  local dir = T.tmpdir()
  local a = assert(sys.lock(dir .. "/x.lock", "a"))
  local b = assert(sys.lock(dir .. "/./x.lock", "b"))
  T.eq(T.read(dir .. "/x.lock"), "a", "the holder's text stays")
  a:unlock()
  T.eq(free(dir .. "/x.lock"), false, "b still holds it")
  b:unlock()
  T.eq(free(dir .. "/x.lock"), true)
end)

T.test("sys.lock: <close>, garbage collection, close-on-exec", function()
  local path = T.tmpdir() .. "/x.lock"
  do
    local l <close> = assert(sys.lock(path))
    T.eq(free(path), false)
  end
  T.eq(free(path), true, "<close> released it")
  local l = assert(sys.lock(path))
  T.eq(free(path), false)
  l = nil
  collectgarbage()
  collectgarbage()
  T.eq(l, nil)
  T.eq(free(path), true, "collected, it let go")
  -- a child started while the lock is held does not inherit it
  local l2 = assert(sys.lock(path))
  T.sh("sleep 3 >/dev/null 2>&1 &")
  l2:unlock()
  T.eq(free(path), true, "a child kept the lock")
end)

T.test("sys.lock: held by another process, and failures", function()
  local dir = T.tmpdir()
  local path = dir .. "/x.lock"
  T.write(path, "pid=77\n")
  local release = hold_elsewhere(path)
  local l, msg, holder = sys.lock(path, "mine")
  T.eq(l, nil)
  T.eq(msg, path .. ": locked by another process")
  T.eq(holder, "pid=77\n")
  T.eq(T.read(path), "pid=77\n", "a refused lock writes nothing")
  release()
  l = assert(sys.lock(path, "mine"))
  T.eq(T.read(path), "mine")
  l:unlock()

  local n, nmsg, errno = sys.lock(dir .. "/missing/x.lock")
  T.eq(n, nil)
  T.eq(nmsg, dir .. "/missing/x.lock: No such file or directory")
  T.eq(errno, 2)
  local d, dmsg = sys.lock(dir)
  T.eq(d, nil)
  T.eq(dmsg, dir .. ": Is a directory")
  T.raises(function() sys.lock() end, "bad argument #1 to 'lock' (string expected, got no value)")
  T.raises(function() sys.lock(path, {}) end, "bad argument #2 to 'lock' (string expected, got table)")
end)

T.test("session.lock: the refusal names the holder", function()
  local dir = T.tmpdir() .. "/song"
  assert(reel.new(dir)):close()
  local lockfile = dir .. "/" .. session.LOCK_FILE
  T.eq(session.LOCK_FILE, ".reel.lock")
  local started = os.time() - 5
  T.write(lockfile, ("pid=4242\ncommand=reel take\nstarted=%d\nsince=whenever\n"):format(started))
  local release = hold_elsewhere(lockfile)
  local l, msg = session.lock(dir)
  T.eq(l, nil)
  T.eq(msg, ("%s: the session is in use by another reel process (pid 4242, reel take, since %s); "
    .. "not writing to it"):format(dir, os.date("%H:%M:%S", started)))
  -- the folder as given, without trailing slashes
  T.eq(select(2, session.lock(dir .. "//")), msg)
  release()

  -- another day: the date too
  local old = os.time() - 3 * 86400
  T.write(lockfile, ("pid=5\ncommand=reel run day.lua\nstarted=%d\n"):format(old))
  release = hold_elsewhere(lockfile)
  T.eq(select(2, session.lock(dir)), ("%s: the session is in use by another reel process (pid 5, "
    .. "reel run day.lua, since %s); not writing to it"):format(dir, os.date("%Y-%m-%d %H:%M:%S", old)))
  release()

  -- a holder that wrote nothing (or not this): what is known
  T.write(lockfile, "")
  release = hold_elsewhere(lockfile)
  local s = assert(reel.open(dir))
  local ok, serr = s:save()
  T.eq(ok, nil)
  T.eq(serr, dir .. ": the session is in use by another reel process (pid unknown); not writing to it")
  T.eq(s:locked(), false)
  release()
  T.ok(s:save())
  T.eq(s:locked(), true)
  T.ok(T.read(lockfile):find(("\npid=%d\n"):format(sys.pid()), 1, true), T.read(lockfile))
  s:close()
  T.eq(s:locked(), false)
  T.eq(free(lockfile), true)
end)

T.test("Session: lock, locked, close; two Sessions share", function()
  local dir = T.tmpdir() .. "/song"
  local a = assert(reel.new(dir))
  T.eq(a:locked(), true, "new saved, so it locked")
  local b = assert(reel.open(dir))
  T.eq(b:locked(), false, "opening reads only")
  T.eq(b:lock(), true)
  T.eq(b:lock(), true, "again: still true")
  a:close()
  T.eq(free(dir .. "/.reel.lock"), false, "b holds it")
  T.ok(a:save(), "a takes it again")
  a:close()
  b:close()
  T.eq(free(dir .. "/.reel.lock"), true)
  do
    local c <close> = assert(reel.open(dir))
    T.ok(c:save())
    T.eq(free(dir .. "/.reel.lock"), false)
  end
  T.eq(free(dir .. "/.reel.lock"), true, "<close> let go")
  T.raises(function() a.lock({}) end, "bad self to 'lock' (reel.session expected, got table)")
  T.raises(function() a.close(1) end, "bad self to 'close' (reel.session expected, got number)")
  T.raises(function() session.lock("") end, "bad argument #1 to 'lock' (folder path expected, got empty string)")
end)

T.test("the lock file does not confuse reading or recovery", function()
  local dir = T.tmpdir() .. "/song"
  local s = assert(reel.new(dir))
  s:track{ name = "Vox", input = 1 }
  assert(s:record{ seconds = 0.05, meter = false,
                   device = reel.device{ spec = "virtual:freewheel", inputs = { "silence" } } })
  s:close()
  local again = assert(reel.open(dir))
  T.eq(#again.takes, 1)
  T.eq(again:next_take_number("Vox"), 2)
end)

T.done()
