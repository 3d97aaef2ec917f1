--- reel.events: events of a recording, delivered on the script's thread.
--
--     local reel = require "reel"
--     local h = reel.on("take_end", function(ev) print(ev.track, ev.take, ev.file) end)
--     reel.spawn(function()
--       local ev = reel.wait("take_start")          -- the coroutine sleeps here
--       print("recording", ev.track, "take", ev.take)
--       if not reel.wait("clip", 30) then print("30 s without clipping") end
--     end)
--     s:record{ tracks = { "Vox" }, loop = "Chorus 2", passes = 3 }
--     h:off()
--
-- The engine's threads never run Lua. While `Session:record` runs a roll it
-- runs an event loop on the script's (control) thread: about every 5 ms it
-- reads the transport's events (`rec:poll`), the meters (`rec:status`) and
-- the live take counters, turns them into the events below, calls the
-- handlers registered with `reel.on` in the order they were registered, and
-- then resumes the coroutines (started with `reel.spawn`) that wait for that
-- event in `reel.wait`, in the order they began waiting.
--
-- Events (every table also has `name`, the event's name):
--
--   * `rolling`    {pos}: the transport started; `pos` is the first timeline
--     sample it plays (negative during a count-in before 1:1).
--   * `take_start` {track, take, pass, pos, file, path}: one per recorded
--     track per pass, at the take's first frame (`pos`, timeline samples).
--   * `take_end`   {track, take, pass, start, pos, frames, seconds, file,
--     path}: one per track per pass; `pos` is one past the last frame. The
--     file may still be being written: peak, clipping and the final counters
--     are in the takes `Session:record` returns.
--   * `loop`       {pass, pos}: the loop wrapped; `pass` is the new pass.
--   * `stopped`    {pos, pass}: the transport stopped (the takes end one
--     round trip later).
--   * `xrun`       {pos, pass, take_pos}: the device lost audio while a take
--     recorded; `pos` is the timeline sample. Xruns of the first pass are
--     reported while it records, those of later passes when the roll ends.
--   * `overrun`    {track, frames, overruns}: the disk did not keep up;
--     `frames` were written as silence (so the take stays aligned).
--   * `clip`       {track, peak, pass}: a track's input reached full scale;
--     at most once per track per pass. Seen on the meters (read about every
--     5 ms) while recording; clipping in a take they missed (a freewheeling
--     roll may run through passes between two readings) when the roll ends.
--
-- Conventions: misuse (an unknown event name, a wrong type, `reel.wait`
-- outside `reel.spawn`) raises an error at the caller's line. An error
-- raised by a handler or a spawned coroutine propagates out of
-- `Session:record`, which first stops the recording cleanly and keeps what
-- was recorded (the takes are saved in session.json).
--
-- Threads: the script's thread only.
-- @module reel.events

local core = require "reel.core"
local util = require "reel.util"

local M = {}

--- The event names.
M.NAMES = { "rolling", "take_start", "take_end", "loop", "stopped", "xrun", "overrun", "clip" }

local known = {}
for _, n in ipairs(M.NAMES) do known[n] = true end

local typename = util.typename

local function check_name(name, fname, level)
  if type(name) ~= "string" then
    error(("bad argument #1 to '%s' (event name expected, got %s)"):format(fname, typename(name)),
      level + 1)
  end
  if not known[name] then
    error(("bad argument #1 to '%s' (unknown event '%s'; events: %s)")
      :format(fname, name, table.concat(M.NAMES, ", ")), level + 1)
  end
end

-- handlers[name] = list of handles; waiters = list of {co, name, deadline}
local handlers = {}
local waiters = {}
local spawned = setmetatable({}, { __mode = "k" })   -- coroutines started by spawn
local stop_requested = false

-- ---------------------------------------------------------------- handlers

local Handle = {}
Handle.__index = Handle
Handle.__name = "reel.handler"

function Handle:__tostring()
  return ("reel.handler (%s%s)"):format(self.name, self.active and "" or ", off")
end

--- Removes the handler; calling it again is harmless.
function Handle:off()
  if getmetatable(self) ~= Handle then
    error("bad self to 'off' (reel.handler expected); call it as h:off()", 2)
  end
  if not self.active then return end
  self.active = false
  local list = handlers[self.name]
  for i, h in ipairs(list) do
    if h == self then table.remove(list, i) break end
  end
end
Handle.__close = Handle.off

--- Calls fn(event) for every event `name` from now on.
-- @tparam string name one of `NAMES`
-- @tparam function fn called with the event table
-- @treturn handle with `off()` (also closed by `<close>`)
function M.on(name, fn)
  check_name(name, "on", 2)
  if type(fn) ~= "function" then
    error(("bad argument #2 to 'on' (function expected, got %s)"):format(typename(fn)), 2)
  end
  local h = setmetatable({ name = name, fn = fn, active = true }, Handle)
  handlers[name] = handlers[name] or {}
  table.insert(handlers[name], h)
  return h
end

-- -------------------------------------------------------------- coroutines

-- Resumes co with the given values; an error inside it propagates with its
-- own traceback.
local function resume(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    spawned[co] = nil
    error(debug.traceback(co, tostring(err)), 0)
  end
  if coroutine.status(co) == "dead" then spawned[co] = nil end
end

--- Runs fn(...) as a coroutine that may wait for events with `reel.wait`.
-- It runs at once, up to its first wait; the event loop of a recording
-- resumes it when its event comes.
-- @tparam function fn
-- @return the coroutine
function M.spawn(fn, ...)
  if type(fn) ~= "function" then
    error(("bad argument #1 to 'spawn' (function expected, got %s)"):format(typename(fn)), 2)
  end
  local co = coroutine.create(fn)
  spawned[co] = true
  resume(co, ...)
  return co
end

--- Waits, inside a coroutine started by `reel.spawn`, for the next event
-- `name`.
-- @tparam string name one of `NAMES`
-- @tparam[opt] number timeout seconds (wall clock, counted while a
--   recording's event loop runs); default: no limit
-- @treturn[1] table the event
-- @return[2] nil, "timeout"
function M.wait(name, timeout)
  check_name(name, "wait", 2)
  if timeout ~= nil and (type(timeout) ~= "number" or not (timeout >= 0)) then
    error(("bad argument #2 to 'wait' (seconds expected, got %s)"):format(
      type(timeout) == "number" and tostring(timeout) or typename(timeout)), 2)
  end
  local co, main = coroutine.running()
  if main or not spawned[co] then
    error("reel.wait must be called inside a function started with reel.spawn", 2)
  end
  waiters[#waiters + 1] = { co = co, name = name, deadline = timeout and core.now() + timeout }
  return coroutine.yield()
end

--- Asks the recording in progress to stop now (as Ctrl-C does, without the
-- flag): the takes end where the transport stops and are kept. Outside a
-- recording it does nothing.
function M.stop()
  stop_requested = true
end

-- ------------------------------------------------ the recording's side

--- (For Session:record.) Delivers an event: handlers first, then waiters.
-- @tparam string name
-- @tparam table ev
function M.emit(name, ev)
  ev.name = name
  local list = handlers[name]
  if list then
    local copy = { table.unpack(list) }
    for _, h in ipairs(copy) do
      if h.active then h.fn(ev) end
    end
  end
  local ready, keep = {}, {}
  for _, w in ipairs(waiters) do
    if w.name == name then ready[#ready + 1] = w else keep[#keep + 1] = w end
  end
  if #ready > 0 then
    waiters = keep
    for _, w in ipairs(ready) do resume(w.co, ev) end
  end
end

--- (For Session:record.) Resumes waiters whose timeout has passed with nil,
-- "timeout".
function M.tick(now)
  now = now or core.now()
  local ready, keep = {}, {}
  for _, w in ipairs(waiters) do
    if w.deadline and now >= w.deadline then ready[#ready + 1] = w else keep[#keep + 1] = w end
  end
  if #ready > 0 then
    waiters = keep
    for _, w in ipairs(ready) do resume(w.co, nil, "timeout") end
  end
end

--- (For Session:record.) True once `stop` was called; clears the request.
function M.take_stop_request()
  local s = stop_requested
  stop_requested = false
  return s
end

--- How many coroutines wait for events.
function M.waiting()
  return #waiters
end

return M
