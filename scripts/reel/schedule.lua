--- reel.schedule: wall-clock start and stop times for unattended recordings.
--
--     local reel = require "reel"
--     local schedule = require "reel.schedule"
--
--     -- Record the room from 22:00 until 06:00 the next morning.
--     local takes, err = schedule{
--       start_at = "22:00", stop_at = "06:00",
--       run = function(when)
--         local s = assert(reel.session("night"))
--         s:track{ name = "Room", input = 1 }
--         return s:record{ progress = when.progress }   -- stops at 06:00
--       end,
--     }
--     if not takes then print(err) end
--
-- Times are local wall-clock times:
--
--   * "HH:MM" or "HH:MM:SS": the next time the clock shows it, strictly
--     after the reference (now, or for a stop time, the start time): a stop
--     at "06:00" after a start at "22:00" is the next morning;
--   * "YYYY-MM-DD HH:MM[:SS]" or "YYYY-MM-DDTHH:MM[:SS]": that date, local
--     time, or UTC with a "Z" suffix, or at an offset "+HH:MM" / "-HHMM";
--   * a number: seconds since the Unix epoch (what `parse` returns).
--
-- Waiting is a sleep that SIGINT or SIGTERM (Ctrl-C) ends: `wait_until`
-- returns false, `schedule{...}` returns nil and a message without calling
-- `run`, and the interruption stays flagged (`reel.core.interrupted()`), as
-- it does for a recording.
--
-- Threads: the script's (control) thread; waiting blocks it.
-- @module reel.schedule

local core = require "reel.core"
local sys = require "reel.sys"
local util = require "reel.util"

local M = {}

local typename = util.typename

--- The wall clock: seconds since the Unix epoch, with a fraction.
-- @treturn number
function M.now()
  return sys.time()
end

-- Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
-- days_from_civil), for times given in UTC or at an offset.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function days_in_month(y, m)
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  return ({ 31, leap and 29 or 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[m]
end

-- A local time from fields; nil when the clock never shows it (a date that
-- does not exist; os.time would silently normalise it).
local function local_time(y, mo, d, h, mi, s)
  local t = os.time{ year = y, month = mo, day = d, hour = h, min = mi, sec = s }
  local back = os.date("*t", t)
  if back.year ~= y or back.month ~= mo or back.day ~= d then return nil end
  return t
end

local FORMS = '"HH:MM[:SS]", "YYYY-MM-DD HH:MM[:SS]" (or with "T"), optionally ending '
  .. 'in "Z" or "+HH:MM"'

--- Parses a wall-clock time.
-- @tparam string|number text see the module's description
-- @tparam[opt] number after the reference for "HH:MM[:SS]" (seconds since
--   the epoch; default now): the result is the first such time after it
-- @treturn[1] number seconds since the Unix epoch (an integer number of
--   seconds for the text forms)
-- @return[2] nil, message (not a time this module understands)
function M.parse(text, after)
  if type(text) == "number" then return text end
  if type(text) ~= "string" then
    error(("bad argument #1 to 'parse' (string or number expected, got %s)"):format(typename(text)), 2)
  end
  if after ~= nil and type(after) ~= "number" then
    error(("bad argument #2 to 'parse' (number expected, got %s)"):format(typename(after)), 2)
  end
  local function bad(why)
    return nil, ("'%s' is not a time%s (expected %s)"):format(text, why and ": " .. why or "", FORMS)
  end
  local function check_clock(h, mi, s)
    if h > 23 then return "hour " .. h .. " is past 23" end
    if mi > 59 then return "minute " .. mi .. " is past 59" end
    if s > 59 then return "second " .. s .. " is past 59" end
  end

  -- HH:MM[:SS]: the next such time after the reference.
  local h, mi, s = text:match("^(%d%d?):(%d%d)$")
  if not h then h, mi, s = text:match("^(%d%d?):(%d%d):(%d%d)$") end
  if h then
    h, mi, s = tonumber(h), tonumber(mi), tonumber(s or 0)
    local why = check_clock(h, mi, s)
    if why then return bad(why) end
    after = after or M.now()
    local base = os.date("*t", math.floor(after))
    -- Today, else the following days (a time skipped by a DST change is
    -- taken on the next day that has it).
    for day = 0, 2 do
      local t = os.time{ year = base.year, month = base.month, day = base.day + day,
                         hour = h, min = mi, sec = s }
      local back = os.date("*t", t)
      if t > after and back.hour == h and back.min == mi then return t end
    end
    return bad("the clock does not show it in the next two days")
  end

  -- YYYY-MM-DD[T ]HH:MM[:SS][zone]
  local y, mo, d, rest = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](.*)$")
  if not y then return bad() end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local zone
  h, mi, s, zone = rest:match("^(%d%d):(%d%d):(%d%d)(.*)$")
  if not h then h, mi, zone = rest:match("^(%d%d):(%d%d)(.*)$") end
  if not h then return bad() end
  h, mi, s = tonumber(h), tonumber(mi), tonumber(s or 0)
  if mo < 1 or mo > 12 then return bad("month " .. mo .. " does not exist") end
  if d < 1 or d > days_in_month(y, mo) then
    return bad(("%04d-%02d has no day %d"):format(y, mo, d))
  end
  local why = check_clock(h, mi, s)
  if why then return bad(why) end
  if zone == "" then
    local t = local_time(y, mo, d, h, mi, s)
    if not t then return bad("no such local time") end
    return t
  end
  local offset
  if zone == "Z" then
    offset = 0
  else
    local sign, oh, om = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return bad("bad time zone '" .. zone .. "'") end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60
    if sign == "-" then offset = -offset end
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset
end

--- A wall-clock time for people: "2025-11-26 14:00:00" (local), with
-- milliseconds when `millis` is true.
-- @tparam number t seconds since the epoch
-- @tparam[opt] boolean millis
-- @treturn string
function M.format(t, millis)
  local whole = math.floor(t)
  local out = os.date("%Y-%m-%d %H:%M:%S", whole)
  if millis then out = out .. (".%03d"):format(math.min(999, math.floor((t - whole) * 1000))) end
  return out
end

--- A duration for people: "H:MM:SS" (hours as many as needed).
-- @tparam number seconds
-- @treturn string
function M.duration(seconds)
  local s = math.max(0, math.floor(seconds))
  return ("%02d:%02d:%02d"):format(s // 3600, s // 60 % 60, s % 60)
end

--- Sleeps until the wall clock reaches t. The clock is read again at least
-- every half second, so setting the clock (or an NTP step) is followed.
-- @tparam number t seconds since the epoch
-- @tparam[opt] function tick called about once a second with the seconds
--   left (for a countdown)
-- @treturn boolean true at t (at once if t has passed), false when SIGINT or
--   SIGTERM interrupted the wait
function M.wait_until(t, tick)
  if type(t) ~= "number" then
    error(("bad argument #1 to 'wait_until' (number expected, got %s)"):format(typename(t)), 2)
  end
  if tick ~= nil and type(tick) ~= "function" then
    error(("bad argument #2 to 'wait_until' (function expected, got %s)"):format(typename(tick)), 2)
  end
  local last_tick
  while true do
    if core.interrupted() then return false end
    local left = t - M.now()
    if left <= 0 then return true end
    if tick and (not last_tick or core.now() - last_tick >= 1) then
      last_tick = core.now()
      tick(left)
    end
    core.sleep(math.min(left, 0.5))
  end
end

--- A `progress` function for `Session:record` that stops the take when the
-- wall clock reaches t (within the recorder's polling, about 50 ms).
-- @tparam number t seconds since the epoch
-- @treturn function
function M.stopper(t)
  if type(t) ~= "number" then
    error(("bad argument #1 to 'stopper' (number expected, got %s)"):format(typename(t)), 2)
  end
  return function() return M.now() < t end
end

local run_keys = { start_at = true, stop_at = true, run = true, tick = true }

--- Waits for `start_at`, then calls `run(when)`.
-- Called as `schedule{...}` (or `schedule.run{...}`).
-- @tparam table opts `start_at` (a time; default now), `stop_at` (a time,
--   "HH:MM" counting from the start; optional), `run` (function(when),
--   required), `tick` (function(seconds_left) called about once a second
--   while waiting). `when` has `start_at` and `stop_at` (seconds since the
--   epoch; stop_at may be nil), `remaining()` (seconds until stop_at, or
--   nil), `due()` (true once stop_at has passed or a signal arrived) and
--   `progress` (a `Session:record` progress function that stops the take at
--   stop_at).
-- @return what `run` returns
-- @return[2] nil, message (a signal ended the wait; run was not called)
function M.run(opts)
  if type(opts) ~= "table" then
    error(("bad argument #1 to 'schedule' (table of options expected, got %s)"):format(typename(opts)), 2)
  end
  for k in pairs(opts) do
    if not run_keys[k] then error(("unknown option '%s'"):format(tostring(k)), 2) end
  end
  if type(opts.run) ~= "function" then
    error(("bad option 'run' (function expected, got %s)"):format(typename(opts.run)), 2)
  end
  if opts.tick ~= nil and type(opts.tick) ~= "function" then
    error(("bad option 'tick' (function expected, got %s)"):format(typename(opts.tick)), 2)
  end
  local now = M.now()
  local start_at = now
  if opts.start_at ~= nil then
    local t, err = M.parse(opts.start_at, now)
    if not t then error("bad option 'start_at' (" .. err .. ")", 2) end
    start_at = t
  end
  local stop_at
  if opts.stop_at ~= nil then
    local t, err = M.parse(opts.stop_at, math.max(start_at, now))
    if not t then error("bad option 'stop_at' (" .. err .. ")", 2) end
    if t <= math.max(start_at, now) then
      error(("bad option 'stop_at' (%s is not after the start, %s)")
        :format(M.format(t), M.format(math.max(start_at, now))), 2)
    end
    stop_at = t
  end
  if not M.wait_until(start_at, opts.tick) then
    return nil, ("interrupted while waiting to start at %s"):format(M.format(start_at))
  end
  local when = { start_at = start_at, stop_at = stop_at }
  function when.remaining()
    if not stop_at then return nil end
    return math.max(0, stop_at - M.now())
  end
  function when.due()
    return core.interrupted() or (stop_at ~= nil and M.now() >= stop_at)
  end
  when.progress = stop_at and M.stopper(stop_at) or function() return true end
  return opts.run(when)
end

return setmetatable(M, { __call = function(_, opts) return M.run(opts) end })
