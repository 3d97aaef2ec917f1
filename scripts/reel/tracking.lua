--- reel.tracking: takes recorded by the transport, for `Session:record`.
--
--     local reel = require "reel"
--     local s = assert(reel.open("song"))
--     -- punch in on the second chorus, one bar of pre-roll, two of count-in
--     local takes = assert(s:record{ tracks = { "Vox" }, punch = "Chorus 2",
--                                    preroll = 1, count_in = 2, click = "recording" })
--     -- three passes over the bridge, one take per pass
--     assert(s:record{ tracks = { "Gtr" }, loop = "Bridge", passes = 3 })
--
-- `Session:record` (reel/init.lua) comes here when it is given any of the
-- options below; with only `seconds` (or nothing) it records a plain timed
-- take as before. A roll plays the other tracks' regions (`Session:regions`:
-- their comps section by section, else their selected takes; comp switches
-- crossfaded exactly as `s:render` crossfades them, over the option
-- `comp_crossfade_ms`, default 10, 0 for hard cuts) and any
-- backing files from disk, mixes them with the monitored inputs into the
-- outputs, sounds the click, and records the armed inputs where the
-- transport says, each take aligned with the playback by the round-trip
-- latency. All of that runs in the engine's threads (reel.core's roll,
-- engine/transport.h); this file turns what a person writes into sample
-- positions, checks it, runs the event loop (reel.events) and files the
-- takes in session.json.
--
-- Positions (`from`, `to`, the ends of `punch` and `loop`, `backing[i].at`,
-- `preroll` given as a position) are anything `Session:position` takes:
-- samples (integer), seconds ("12.5s"), bars:beats ("5:1", "5:2.5") or a
-- section name (its start). They must lie inside the session: at or after
-- 1:1 and, when the session has sections, not after the end of the last
-- section (a start position must lie before it). `punch` and `loop` also
-- take a section name, meaning the whole section.
--
-- Conventions: misuse (a wrong type, an unknown option, track or section, a
-- position outside the session, a punch out before the punch in) raises an
-- error naming the option at the caller's line, before anything is opened;
-- failures of the outside world (the device, a folder that cannot be
-- written, a full disk, a missing backing file) return nil, a message and
-- the takes recorded so far, which are kept and listed in session.json.
--
-- Threads: the script's (control) thread.
-- @module reel.tracking

local latency_profile = require "reel.latency"
local core = require "reel.core"
local json = require "reel.json"
local session = require "reel.session"
local events = require "reel.events"
local journal = require "reel.journal"
local util = require "reel.util"
local comp_xfade = require "reel.comp_xfade"
local render = require "reel.render"

local Session = session.Session

local M = {}

-- ---------------------------------------------------------------- helpers

-- Caller mistakes found while planning: raised as a table, turned into a
-- plain error at the user's line by M.reraise.
local Misuse = { __name = "reel.tracking.misuse" }
local function misuse(fmt, ...)
  error(setmetatable({ msg = select("#", ...) > 0 and fmt:format(...) or fmt }, Misuse), 0)
end

--- Raises e at `level` above the caller when it is a caller mistake found
-- by `plan`; re-raises anything else untouched.
function M.reraise(e, level)
  if getmetatable(e) == Misuse then error(e.msg, (level or 1) + 1) end
  error(e, 0)
end

local typename, join = util.typename, util.join

local function is_integral(v)
  return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v) and v == v)
end

-- The reason inside "[file:line: ]bad argument #n to 'f' (reason)".
local function reason_of(err)
  err = tostring(err):gsub("^[^\n]-:%d+: ", "", 1)
  return err:match("^bad argument #%d+ to '[^']*' %((.*)%)$") or err
end

local function quote(v)
  if type(v) == "string" then return ("'%s'"):format(v) end
  return tostring(v)
end

-- -------------------------------------------------------------- options

--- The options that make `Session:record` roll the transport.
M.ROLL_OPTIONS = {
  "tracks", "from", "to", "punch", "loop", "passes", "count_in", "preroll", "click",
  "click_level_db", "click_outputs", "against", "backing", "monitor", "monitor_outputs",
  "latency", "comp_crossfade_ms",
}
-- Options shared with the plain timed take.
local COMMON = { seconds = true, format = true, device = true, meter = true, description = true,
                 progress = true, play_only = true, loudness = true }

local roll_option = {}
for _, k in ipairs(M.ROLL_OPTIONS) do roll_option[k] = true end

--- True when opts asks for a roll (has any of `ROLL_OPTIONS`).
function M.is_roll(opts)
  if type(opts) ~= "table" then return false end
  for k in pairs(opts) do
    if roll_option[k] then return true end
  end
  return false
end

local CLICK_MODES = { off = true, always = true, recording = true }

-- ------------------------------------------------------------- planning

-- The session's sample positions, with messages naming the option.
local Resolver = {} -- @local: positions for one plan, not part of the API
Resolver.__index = Resolver

local function resolver(s)
  local m = s:tempo_map()
  local secs = s:sections()
  local r = setmetatable({ s = s, m = m, rate = m:rate() }, Resolver)
  if #secs > 0 then
    local last = secs[#secs]
    r.stop, r.last = last.start + last.length, last
  end
  return r
end

-- "9:1 (sample 768000)"
function Resolver:describe(v)
  local ok, text = pcall(self.m.format, self.m, v)
  return ok and ("%s (sample %d)"):format(text, v) or ("sample %d"):format(v)
end

-- Resolves value (option `what`) to a sample. kind "start": must lie
-- before the session's end; "end": at or before it.
function Resolver:pos(value, what, kind)
  if type(value) ~= "string" and type(value) ~= "number" then
    misuse("bad option '%s' (samples, seconds ('12.5s'), bars:beats ('5:1') or a section "
      .. "name expected, got %s)", what, typename(value))
  end
  local ok, v = pcall(Session.position, self.s, is_integral(value) and math.tointeger(value) or value)
  if not ok then misuse("bad option '%s' (%s)", what, reason_of(v)) end
  if self.stop and (v > self.stop or (kind == "start" and v >= self.stop)) then
    misuse("bad option '%s' (position %s is %s the end of the session: the last section, '%s', "
      .. "ends at %s)", what, quote(value) .. " = " .. self:describe(v),
      v == self.stop and "at" or "after", self.last.label, self:describe(self.stop))
  end
  return v
end

-- A section's range for option `what`: start, end, label.
function Resolver:section(name, what)
  local ok, a, b, rec = pcall(Session.section, self.s, name)
  if not ok then
    misuse("bad option '%s' (%s; a range is written {IN, OUT})", what, reason_of(a))
  end
  return a, b, rec.label
end

-- Samples of n bars ending at `at` (bar by bar, with the tempo map's bar
-- lengths; bars before 1:1 have the first bar's length).
function Resolver:bars_before(at, n)
  if n == 0 then return 0 end
  local bar = self.m:to_bbt(at)
  return self.m:to_sample(bar, 1) - self.m:to_sample(bar - n, 1)
end

local function check_number(v, what, lo, hi)
  if type(v) ~= "number" or v ~= v then
    misuse("bad option '%s' (number expected, got %s)", what, typename(v))
  end
  if (lo and v < lo) or (hi and v > hi) then
    misuse("bad option '%s' (%s is not between %s and %s)", what, v, lo or "-inf", hi or "inf")
  end
  return v
end

local function check_count(v, what, lo, hi)
  if not is_integral(v) then
    misuse("bad option '%s' (whole number expected, got %s)", what,
      type(v) == "number" and tostring(v) or typename(v))
  end
  v = math.tointeger(v)
  if v < lo or v > hi then misuse("bad option '%s' (%d is not between %d and %d)", what, v, lo, hi) end
  return v
end

local function check_outputs(v, what)
  if type(v) ~= "table" or #v < 1 then
    misuse("bad option '%s' (list of output channels counting from 1 expected, got %s)", what,
      typename(v))
  end
  local out = {}
  for i, o in ipairs(v) do
    if not is_integral(o) or o < 1 or o > 1024 then
      misuse("bad option '%s' (output channels count from 1; item %d is %s)", what, i, tostring(o))
    end
    out[i] = math.tointeger(o)
  end
  return out
end

local function track_by_name(s, name)
  for _, t in ipairs(s.tracks) do
    if t.name == name then return t end
  end
end

local function track_list(s)
  local names = {}
  for i, t in ipairs(s.tracks) do names[i] = t.name end
  return #names > 0 and "tracks: " .. table.concat(names, ", ") or "the session has no tracks"
end

--- Checks opts and resolves every position: what `Session:record` would do,
-- without opening anything. Raises (a Misuse, see `reraise`) on mistakes.
-- @tparam Session s
-- @tparam table opts see `Session:record`
-- @treturn table the plan: `tracks` (session track tables), `rate`, `from`,
--   `preroll`, `count_in` (frames), `punch_in`, `punch_out`, `loop_start`,
--   `loop_end`, `passes`, `autostop` (samples or nil), `section` (label or
--   nil), `click`, `against`, `backing`, `monitor`, `monitor_outputs`,
--   `latency`, `format`, `description`
function M.plan(s, opts)
  if type(opts) ~= "table" then misuse("bad argument #1 to 'record' (table of options expected, got %s)", typename(opts)) end
  for k in pairs(opts) do
    if type(k) ~= "string" then misuse("bad option key (string expected, got %s)", typename(k)) end
    if not roll_option[k] and not COMMON[k] then misuse("unknown option '%s'", k) end
  end
  local r = resolver(s)
  if opts.loudness ~= nil and type(opts.loudness) ~= "boolean" then
    misuse("bad option 'loudness' (boolean expected, got %s)", typename(opts.loudness))
  end
  local p = { rate = r.rate, format = opts.format or s.format or "wav24",
              description = opts.description, loudness = opts.loudness ~= false }
  if opts.format ~= nil then
    local why = session.check_format(opts.format)
    if why then misuse("bad option 'format' (%s)", why) end
  end
  if opts.description ~= nil and type(opts.description) ~= "string" then
    misuse("bad option 'description' (string expected, got %s)", typename(opts.description))
  end
  if opts.meter ~= nil and type(opts.meter) ~= "boolean" then
    misuse("bad option 'meter' (boolean expected, got %s)", typename(opts.meter))
  end
  if opts.progress ~= nil and type(opts.progress) ~= "function" then
    misuse("bad option 'progress' (function expected, got %s)", typename(opts.progress))
  end

  -- tracks
  local tracks, seen = {}, {}
  local names = opts.tracks
  if type(names) == "string" then names = { names } end
  if names ~= nil then
    if type(names) ~= "table" or #names == 0 then
      misuse("bad option 'tracks' (list of track names expected, got %s)",
        type(names) == "table" and "an empty list" or typename(names))
    end
    for i, name in ipairs(names) do
      if type(name) ~= "string" then
        misuse("bad option 'tracks' (track name expected at item %d, got %s)", i, typename(name))
      end
      local t = track_by_name(s, name)
      if not t then misuse("bad option 'tracks' (unknown track '%s' (%s))", name, track_list(s)) end
      if seen[name] then misuse("bad option 'tracks' (track '%s' is listed twice)", name) end
      seen[name] = true
      tracks[#tracks + 1] = t
    end
  elseif not opts.play_only then
    for _, t in ipairs(s.tracks) do
      if t.armed then tracks[#tracks + 1], seen[t.name] = t, true end
    end
    if #tracks == 0 then
      misuse("record: no track is armed (declare one with s:track{...} or name them in 'tracks')")
    end
  end
  p.tracks = tracks
  p.play_only = opts.play_only and true or nil

  -- punch and loop ranges
  local section
  local function range(what)
    local v = opts[what]
    if v == nil then return nil end
    if type(v) == "string" then
      local a, b, label = r:section(v, what)
      return a, b, label
    end
    if type(v) ~= "table" then
      misuse("bad option '%s' (a section name or {IN, OUT} expected, got %s)", what, typename(v))
    end
    if v[1] == nil or (what == "loop" and v[2] == nil) then
      misuse("bad option '%s' (%s expected)", what, what == "loop" and "{START, END}" or "{IN, OUT}")
    end
    for k in pairs(v) do
      if k ~= 1 and k ~= 2 then
        misuse("bad option '%s' (a list of two positions expected; unexpected key %s)", what, quote(k))
      end
    end
    local a = r:pos(v[1], what, "start")
    local b = v[2] ~= nil and r:pos(v[2], what, "end") or nil
    return a, b, nil
  end
  local label
  p.punch_in, p.punch_out, label = range("punch")
  section = label
  p.loop_start, p.loop_end, label = range("loop")
  section = section or label      -- the punch's section, else the loop's
  p.section = section

  if p.punch_out and p.punch_out <= p.punch_in then
    misuse("bad option 'punch' (punch out %s is not after punch in %s)",
      r:describe(p.punch_out), r:describe(p.punch_in))
  end
  if p.loop_start and p.loop_end <= p.loop_start then
    misuse("bad option 'loop' (loop end %s is not after loop start %s)",
      r:describe(p.loop_end), r:describe(p.loop_start))
  end
  if p.loop_start and p.punch_in then
    local out = p.punch_out or p.loop_end
    if p.punch_in < p.loop_start or out > p.loop_end then
      misuse("bad option 'punch' (the punch range %s to %s is not inside the loop %s to %s)",
        r:describe(p.punch_in), r:describe(out), r:describe(p.loop_start), r:describe(p.loop_end))
    end
  end

  -- from, to (or seconds), passes
  if opts.from ~= nil then
    p.from = r:pos(opts.from, "from", "start")
  else
    p.from = p.loop_start or p.punch_in or 0
  end
  if p.punch_in and not p.loop_start and p.from > p.punch_in then
    misuse("bad option 'from' (%s is after the punch in %s; playback starts at or before it)",
      r:describe(p.from), r:describe(p.punch_in))
  end
  if p.loop_start and p.from >= p.loop_end then
    misuse("bad option 'from' (%s is not before the loop's end %s)", r:describe(p.from),
      r:describe(p.loop_end))
  end
  if opts.to ~= nil and opts.seconds ~= nil then
    misuse("bad option 'seconds' (give either 'to' or 'seconds', not both)")
  end
  if opts.to ~= nil then
    p.autostop = r:pos(opts.to, "to", "end")
  elseif opts.seconds ~= nil then
    local sec = check_number(opts.seconds, "seconds", 0, 1e9)
    if sec <= 0 then misuse("bad option 'seconds' (positive number of seconds expected)") end
    p.autostop = p.from + math.max(1, math.tointeger(math.floor(sec * r.rate + 0.5)))
  elseif p.punch_out and not p.loop_start then
    p.autostop = p.punch_out      -- a punch without a loop ends the roll at its out point
  end
  if p.autostop then
    if p.autostop <= p.from then
      misuse("bad option '%s' (%s is not after from %s)", opts.to ~= nil and "to" or "seconds",
        r:describe(p.autostop), r:describe(p.from))
    end
    if p.punch_out and not p.loop_start and p.autostop < p.punch_out then
      misuse("bad option 'to' (%s is before the punch out %s: the take would end early)",
        r:describe(p.autostop), r:describe(p.punch_out))
    end
    if p.loop_start and p.autostop > p.loop_end then
      misuse("bad option '%s' (%s is after the loop's end %s, which the transport never "
        .. "passes; end a loop with 'passes' or a stop)", opts.to ~= nil and "to" or "seconds",
        r:describe(p.autostop), r:describe(p.loop_end))
    end
  end
  if opts.passes ~= nil then
    p.passes = check_count(opts.passes, "passes", 1, 100000)
    if not p.loop_start then misuse("bad option 'passes' (passes need a loop)") end
  end

  -- pre-roll and count-in
  local preroll = opts.preroll
  if preroll == nil then
    p.preroll = 0
  elseif type(preroll) == "string" then
    local at = r:pos(preroll, "preroll", "start")
    if at > p.from then
      misuse("bad option 'preroll' (%s is after from %s; a pre-roll starts before it)",
        r:describe(at), r:describe(p.from))
    end
    p.preroll = p.from - at
  else
    p.preroll = r:bars_before(p.from, check_count(preroll, "preroll", 0, 999))
  end
  p.count_in_bars = opts.count_in ~= nil and check_count(opts.count_in, "count_in", 0, 64) or 0
  p.count_in = r:bars_before(p.from - p.preroll, p.count_in_bars)

  -- click
  local click = opts.click
  if click == nil then click = p.count_in_bars > 0 and "recording" or "off" end
  if type(click) ~= "string" or not CLICK_MODES[click] then
    misuse("bad option 'click' (off, always or recording expected, got %s)",
      type(click) == "string" and quote(click) or typename(click))
  end
  p.click = { mode = click }
  if opts.click_level_db ~= nil then
    p.click.level_db = check_number(opts.click_level_db, "click_level_db", -120, 0)
  end
  if opts.click_outputs ~= nil then p.click.outputs = check_outputs(opts.click_outputs, "click_outputs") end

  -- playback
  local against = opts.against
  if against == nil then against = "selected" end
  if against == false then against = "none" end
  if against ~= "selected" and against ~= "none" then
    misuse("bad option 'against' (\"selected\" or \"none\" expected, got %s)",
      type(against) == "string" and quote(against) or typename(against))
  end
  p.against = against
  local xms = opts.comp_crossfade_ms
  if xms ~= nil and (type(xms) ~= "number" or not (xms >= 0 and xms <= 1000)) then
    misuse("bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got %s)",
      type(xms) == "number" and ("%g"):format(xms) or typename(xms))
  end
  p.comp_crossfade_ms = xms or render.CROSSFADE_MS
  p.backing = {}
  if opts.backing ~= nil then
    if type(opts.backing) ~= "table" then
      misuse("bad option 'backing' (list of {file=, at=, gain_db=, pan=} expected, got %s)",
        typename(opts.backing))
    end
    for i, b in ipairs(opts.backing) do
      local w = ("backing[%d]"):format(i)
      if type(b) == "string" then b = { file = b } end
      if type(b) ~= "table" then misuse("bad option '%s' ({file=, at=, gain_db=, pan=} expected, got %s)", w, typename(b)) end
      for k in pairs(b) do
        if k ~= "file" and k ~= "at" and k ~= "gain_db" and k ~= "pan" then
          misuse("bad option '%s' (unknown field %s; a backing file has file, at, gain_db, pan)", w, quote(k))
        end
      end
      if type(b.file) ~= "string" or b.file == "" then
        misuse("bad option '%s.file' (path of a sound file expected, got %s)", w, typename(b.file))
      end
      p.backing[i] = {
        file = b.file,
        at = b.at ~= nil and r:pos(b.at, w .. ".at", "end") or 0,
        gain_db = b.gain_db ~= nil and check_number(b.gain_db, w .. ".gain_db", -120, 24) or 0,
        pan = b.pan ~= nil and check_number(b.pan, w .. ".pan", -1, 1) or 0,
      }
    end
  end

  -- monitoring
  p.monitor = {}
  for _, t in ipairs(tracks) do
    p.monitor[t.name] = { on = t.monitor == true, gain_db = t.gain_db or 0, pan = t.pan or 0 }
  end
  if opts.monitor ~= nil then
    if type(opts.monitor) ~= "table" then
      misuse("bad option 'monitor' (table of track name = true|false|{gain_db=, pan=} expected, got %s)",
        typename(opts.monitor))
    end
    for name, v in pairs(opts.monitor) do
      if type(name) ~= "string" or not p.monitor[name] then
        local recorded = {}
        for i, t in ipairs(tracks) do recorded[i] = t.name end
        misuse("bad option 'monitor' (%s is not a track being recorded (%s))", quote(name),
          table.concat(recorded, ", "))
      end
      local m = p.monitor[name]
      if type(v) == "boolean" then
        m.on = v
      elseif type(v) == "table" then
        m.on = true
        for k, x in pairs(v) do
          if k == "gain_db" then m.gain_db = check_number(x, "monitor." .. name .. ".gain_db", -120, 24)
          elseif k == "pan" then m.pan = check_number(x, "monitor." .. name .. ".pan", -1, 1)
          elseif k == "on" then
            if type(x) ~= "boolean" then misuse("bad option 'monitor.%s.on' (boolean expected)", name) end
            m.on = x
          else misuse("bad option 'monitor.%s' (unknown field %s; gain_db, pan, on)", name, quote(k)) end
        end
      else
        misuse("bad option 'monitor.%s' (true, false or {gain_db=, pan=} expected, got %s)", name, typename(v))
      end
    end
  end
  if opts.monitor_outputs ~= nil then
    local o = check_outputs(opts.monitor_outputs, "monitor_outputs")
    if #o > 2 then misuse("bad option 'monitor_outputs' (one or two outputs expected)") end
    p.monitor_outputs = o
  end

  -- latency
  if opts.latency ~= nil then
    p.latency = check_count(opts.latency, "latency", 0, 10 * r.rate)
  elseif type(s.latency) == "table" and math.type(s.latency.round_trip) == "integer" then
    p.latency = s.latency.round_trip
  end
  if p.latency and p.loop_start and (p.loop_end - p.loop_start) * 64 < p.latency then
    misuse("bad option 'loop' (%d samples is too short for a round trip of %d)",
      p.loop_end - p.loop_start, p.latency)
  end
  return p
end

-- --------------------------------------------------------------- running

local db = util.peak_db

-- Polls until the roll has reported record_done (or the deadline passes),
-- without delivering events: used when the roll must end after a failure.
local function drain(rec, seconds)
  local deadline = core.now() + seconds
  while core.now() < deadline do
    for _, ev in ipairs(rec:poll()) do
      if ev.type == "record_done" then return true end
    end
    core.sleep(0.005)
  end
  return false
end

--- Runs a planned roll (see `Session:record`). Takes the session's lock
-- first (`Session:lock`; a play-only roll too, as it saves session.json):
-- while another process writes the session, nil and its message, and
-- nothing is opened or written.
-- @tparam Session s
-- @tparam table p the plan from `plan`
-- @tparam table ctx `open(format, rate)` -> recorder | nil, message;
--   `device_label`; `draw_meter(elapsed, names, peaks, clip)`;
--   `meter` (boolean); `progress` (function or nil); `replan` (function
--   returning a new plan, after the session adopted the device's rate)
-- @return takes | nil, message, takes
function M.run(s, p, ctx)
  -- The session's lock before anything is written or the device opens: a
  -- refused roll records nothing.
  local lok, lerr = s:lock()
  if not lok then return nil, lerr end
  local audio = join(s.dir, "audio")
  local ok, err = core.mkdir_p(audio)
  if not ok then return nil, err end
  local listed, lerr = core.list_dir(audio)
  if not listed then return nil, lerr end

  local rec <close>, oerr = ctx.open(p.format, p.rate)
  if not rec then return nil, oerr end
  local info = rec:info()
  if info.rate ~= p.rate then
    if s.rate == nil and #s.takes == 0 then
      s.rate = info.rate          -- a new session takes the device's rate
      p = ctx.replan()
    else
      return nil, ("the device runs at %d Hz but the session is at %d Hz"):format(info.rate, p.rate)
    end
  end
  local device_label = info.api .. ":" .. info.name

  -- tracks
  local index = {}
  for i, t in ipairs(p.tracks) do
    local idx, aerr = rec:add_track(t.name, t.input)
    if not idx then return nil, aerr end
    assert(rec:arm(idx, true))
    index[i] = idx
  end

  -- tempo map, click, latency
  for _, seg in ipairs(s:tempo()) do
    local num, den = seg.meter:match("^(%d+)/(%d+)$")
    local tok, terr = rec:set_tempo(seg.bar, seg.bpm, math.tointeger(tonumber(num)),
      math.tointeger(tonumber(den)))
    if not tok then return nil, "tempo map: " .. terr end
  end
  local cok, cerr = rec:set_click(p.click)
  if not cok then return nil, "click: " .. cerr end
  -- Latency: the option, else the session's, else the device's calibrated
  -- round trip (reel calibrate's profile), else what the device reports.
  -- The virtual device reports its simulated round trip exactly, so a
  -- profile never overrides it.
  local rinfo = rec:info()
  local want_latency = p.latency
    or (rinfo.api ~= "virtual" and latency_profile.profile(rinfo) or nil)
  if want_latency then
    local lok, lerr2 = rec:set_latency(want_latency)
    if not lok then return nil, lerr2 end
  end
  local latency = rec:transport().latency
  if p.loop_start and (p.loop_end - p.loop_start) * 64 < latency then
    return nil, ("the loop (%d samples) is too short for the device's round trip of %d samples")
      :format(p.loop_end - p.loop_start, latency)
  end

  -- playback: the selected takes of the other tracks, then backing files
  local recording = {}
  for _, t in ipairs(p.tracks) do recording[t.name] = true end
  local sources = {}
  if p.against == "selected" then
    -- Each other track's regions: its comps, else its selected take whole.
    local names, seen = {}, {}
    for _, t in ipairs(s.tracks) do names[#names + 1], seen[t.name] = t.name, true end
    for _, t in ipairs(s.takes) do
      if not seen[t.track] then names[#names + 1], seen[t.track] = t.track, true end
    end
    -- Comp switches crossfade as the render's do (reel.comp_xfade, the
    -- same h): each side plays on into its file by h, weighted by the
    -- engine's reader, so the overdub hears what the stems will hold.
    local xfade = comp_xfade.frames(p.comp_crossfade_ms, info.rate)
    for _, name in ipairs(names) do
      if not recording[name] then
        local tr = track_by_name(s, name) or {}
        local regions = s:regions(name)
        local hs = {}
        if #regions > 1 and xfade > 1 then
          local items = {}
          for k, r in ipairs(regions) do
            -- A file that cannot be read gets no fades here; adding it
            -- below says what is wrong with it.
            local si = core.sound_info(r.path)
            items[k] = { at = r.at, offset = r.offset, frames = r.frames, source = r.path,
                         file_frames = si and si.frames or r.offset + r.frames }
          end
          hs = comp_xfade.half_lengths(items, xfade)
        end
        for k, r in ipairs(regions) do
          -- a whole take plays its whole file, as it always did; a comped
          -- section only its region
          sources[#sources + 1] = { path = r.path, at = r.at,
            offset = r.section and r.offset or nil, frames = r.section and r.frames or nil,
            hin = hs[k - 1] or 0, hout = hs[k] or 0,
            gain_db = tr.gain_db or 0, pan = tr.pan or 0,
            what = r.section and ("take %d of '%s' comped in '%s'"):format(r.take, name, r.section)
              or ("selected take %d of '%s'"):format(r.take, name) }
        end
      end
    end
  end
  for _, b in ipairs(p.backing) do
    sources[#sources + 1] = { path = b.file, at = b.at, gain_db = b.gain_db, pan = b.pan,
      what = "backing file" }
  end
  for _, src in ipairs(sources) do
    local sok, serr = rec:add_source(src.path, src.at, src.gain_db, src.pan, src.offset, src.frames,
      src.hin, src.hout)
    if not sok then return nil, ("%s: %s"):format(src.what, serr) end
  end

  -- monitoring
  if p.monitor_outputs then
    local mok, merr = pcall(rec.set_monitor_outputs, rec, p.monitor_outputs[1], p.monitor_outputs[2])
    if not mok then return nil, "monitor_outputs: " .. reason_of(merr) end
  end
  for i, t in ipairs(p.tracks) do
    local m = p.monitor[t.name]
    rec:set_monitor(index[i], m.on, m.gain_db, m.pan)
  end

  -- take names: each track's next free number, then one more per pass
  local ext = core.format_ext(p.format)
  local first, names = {}, {}
  for i, t in ipairs(p.tracks) do
    first[i] = s:next_take_number(t.name)
    names[t.name] = { join(audio, t.name .. "_T"), first[i] }
  end

  -- Journalled before the files exist (a pass's file is <prefix><NN>.<ext>),
  -- cleared once session.json lists them.
  local jid
  if not p.play_only then
    local jrolls = {}
    for i, t in ipairs(p.tracks) do
      jrolls[i] = { track = t.name, first = first[i], prefix = "audio/" .. t.name .. "_T", ext = ext,
                    start = p.punch_in or p.loop_start or p.from, section = p.section,
                    passes = p.passes }
    end
    -- A folder that cannot take the journal still records (recover then
    -- finds the files in audio/).
    jid = journal.begin(s, { kind = "roll", format = p.format, rate = info.rate,
      device = device_label, tracks = p.tracks, rolls = jrolls })
  end

  events.take_stop_request()    -- a stop asked for before this recording is void
  local rok, rerr = rec:roll{
    from = p.from, preroll = p.preroll, count_in = p.count_in, record = not p.play_only,
    punch_in = p.punch_in, punch_out = p.punch_out, loop_start = p.loop_start,
    loop_end = p.loop_end, max_passes = p.passes, autostop = p.autostop,
    takes = (not p.play_only) and names or nil, description = p.description or "reel take",
  }
  if not rok then journal.done(s.dir, jid) return nil, rerr end
  -- The first numbers are taken from now on, whatever follows.
  for i, t in ipairs(p.tracks) do
    if (s.last_take[t.name] or 0) < first[i] then s.last_take[t.name] = first[i] end
  end

  local map = s:tempo_map()
  local function bbt(v)
    local bok, text = pcall(map.format, map, v)
    return bok and text or nil
  end
  local function file_of(i, pass)
    return ("audio/%s_T%02d.%s"):format(p.tracks[i].name, first[i] + pass, ext)
  end

  -- What the event loop has seen.
  local pass_start = {}          -- pass -> timeline position of its first frame
  local xrun_seen = {}           -- "pass:take_pos" -> true
  local function emit_xrun(pass, take_pos)
    local key = pass .. ":" .. take_pos
    if xrun_seen[key] then return end
    xrun_seen[key] = true
    local start = pass_start[pass] or p.punch_in or p.loop_start or p.from
    events.emit("xrun", { pos = start + take_pos, pass = pass, take_pos = take_pos })
  end

  -- Ends the roll, files the takes and saves. Runs once: normally after
  -- record_done, or from the guard when a Lua error unwinds through here
  -- (then the roll is stopped and, unless record_done was seen already,
  -- waited for).
  local finished, record_done = false, false
  local function finish(note, wait_seconds)
    finished = true
    if wait_seconds and not record_done then
      rec:stop_roll()
      drain(rec, wait_seconds)
    end
    local fok, ferr = rec:finish_roll()
    local takes = json.array{}
    local per_pass = {}
    local lbudget = p.loudness and require("reel.loudness").budget() or nil
    for i, t in ipairs(p.tracks) do
      for _, st in ipairs(rec:takes(index[i])) do
        if st.path then
          local n = first[i] + st.pass
          local take = {
            track = t.name, take = n, pass = st.pass, path = st.path,
            file = "audio/" .. st.path:match("[^/]*$"),
            format = p.format, rate = info.rate, frames = st.frames, seconds = st.frames / info.rate,
            start = st.start, start_bbt = bbt(st.start), section = p.section,
            peak = st.peak, peak_db = st.peak_db, clipped = st.clipped,
            loudness = lbudget and require("reel.loudness").take(st.path, lbudget) or nil,
            xruns = st.xruns, xrun_positions = json.array(st.xrun_positions),
            overruns = st.overruns, lost_frames = st.lost_frames, gaps = json.array(st.gaps),
            error = st.error, device = device_label, latency = latency,
            recorded = os.date("!%Y-%m-%dT%H:%M:%SZ"), status = "kept",
            note = st.frames == 0 and "empty: the roll ended before this take began" or nil,
          }
          per_pass[#per_pass + 1] = { take = take, order = i }
          if (s.last_take[t.name] or 0) < n then s.last_take[t.name] = n end
        end
      end
    end
    table.sort(per_pass, function(a, b)
      if a.take.pass ~= b.take.pass then return a.take.pass < b.take.pass end
      return a.order < b.order
    end)
    -- A note (why the roll ended early) belongs to the takes it cut short.
    local last = per_pass[#per_pass] and per_pass[#per_pass].take.pass
    for _, e in ipairs(per_pass) do
      local take = e.take
      if note and take.pass == last then take.note = note end
      takes[#takes + 1] = take
      local saved = {}
      for k, v in pairs(take) do if k ~= "path" then saved[k] = v end end
      s.takes[#s.takes + 1] = saved
    end
    local sok, serr = s:save()
    if sok then journal.done(s.dir, jid) end
    local why = (not fok and ferr or nil) or (not sok and serr or nil)
    return takes, why
  end
  local guard <close> = setmetatable({}, { __close = function(_, gerr)
    if not finished then
      pcall(finish, gerr ~= nil and "stopped by an error: " .. tostring(gerr):match("[^\n]*")
        or "stopped when the script exited", 5 + latency / info.rate)
    end
  end })

  -- The event loop.
  local meter = ctx.meter
  local tnames = {}
  for i, t in ipairs(p.tracks) do tnames[i] = t.name end
  local peaks, clip, shown = {}, {}, core.now()
  local clip_seen, current_pass = {}, 0   -- "track index:pass" -> true
  local track_index = {}
  for i, t in ipairs(p.tracks) do track_index[t.name] = i end
  local live = {}
  for i in ipairs(p.tracks) do live[i] = { overruns = 0, lost = 0 } end
  local first_pos = p.from - p.preroll - p.count_in
  local interrupted, failure, stopping, done = false, nil, false, false
  local stop_deadline
  local function stop(why)
    if not stopping then
      stopping = true
      rec:stop_roll()
      stop_deadline = core.now() + 5 + latency / info.rate
    end
    return why
  end
  while not done do
    local batch = rec:poll()
    for _, ev in ipairs(batch) do
      -- A roll that only plays ends when the transport stops.
      if ev.type == "record_done" or (p.play_only and ev.type == "stopped") then
        record_done = true
      end
    end
    for _, ev in ipairs(batch) do
      local t = ev.type
      if t == "rolling" then
        events.emit("rolling", { pos = ev.pos })
      elseif t == "take_start" then
        pass_start[ev.pass] = ev.pos
        current_pass = ev.pass
        for i, tr in ipairs(p.tracks) do
          local file = file_of(i, ev.pass)
          events.emit("take_start", { track = tr.name, take = first[i] + ev.pass, pass = ev.pass,
            pos = ev.pos, file = file, path = join(s.dir, file) })
        end
      elseif t == "take_end" then
        for i, tr in ipairs(p.tracks) do
          local file = file_of(i, ev.pass)
          events.emit("take_end", { track = tr.name, take = first[i] + ev.pass, pass = ev.pass,
            start = pass_start[ev.pass], pos = ev.pos, frames = ev.frames,
            seconds = ev.frames / info.rate, file = file, path = join(s.dir, file) })
        end
      elseif t == "loop" then
        events.emit("loop", { pass = ev.pass, pos = ev.pos })
      elseif t == "stopped" then
        events.emit("stopped", { pos = ev.pos, pass = ev.pass })
        if p.play_only then done = true end
      elseif t == "record_done" then
        done = true
      end
    end

    -- Meters are peaks since the last reading, so one more reading after
    -- record_done still sees the end of the roll.
    local st = rec:status()
    for i, idx in ipairs(index) do
      local pk = st.meters[idx] or 0
      if pk > (peaks[i] or 0) then peaks[i] = pk end
      if pk >= 1.0 then
        clip[i] = true
        if not clip_seen[i .. ":" .. current_pass] then      -- once per track per pass
          clip_seen[i .. ":" .. current_pass] = true
          events.emit("clip", { track = p.tracks[i].name, peak = pk, pass = current_pass })
        end
      end
      local ls = rec:take_stats(idx)
      if ls and ls.overruns > live[i].overruns then
        events.emit("overrun", { track = p.tracks[i].name, overruns = ls.overruns,
          frames = ls.lost_frames - live[i].lost })
        live[i].overruns, live[i].lost = ls.overruns, ls.lost_frames
      end
      if i == 1 and ls then
        for _, x in ipairs(ls.xrun_positions) do emit_xrun(0, x) end
      end
    end
    if done then break end
    events.tick()

    if not failure then
      if st.writer_error then failure = stop(st.writer_error)
      elseif not st.alive then failure = ("device '%s' stopped working"):format(info.name) break
      elseif core.interrupted() then interrupted = true stop()
      elseif events.take_stop_request() then stop()
      end
    end
    local tr = rec:transport()
    if ctx.progress and not stopping then
      local pdb = {}
      for i in ipairs(index) do pdb[i] = db(peaks[i] or 0) end
      if ctx.progress{ position = tr.position, seconds = (tr.position - first_pos) / info.rate,
                       peaks_db = pdb } == false then
        stop()
      end
    end
    if meter and core.now() - shown >= 0.2 then
      ctx.draw_meter(math.max(0, tr.position) / info.rate, tnames, peaks, clip)
      peaks, clip, shown = {}, {}, core.now()
    end
    if stop_deadline and core.now() > stop_deadline then break end
    core.sleep(0.005)
  end
  if meter then io.stdout:write("\r\27[K") io.stdout:flush() end

  local takes, finish_err = finish(interrupted and "stopped by a signal" or failure and
    ("stopped: " .. failure) or nil)
  failure = failure or finish_err
  -- Xruns of later passes, and clipping the meters did not catch (a
  -- freewheeling roll may run through passes between two readings), are
  -- known only now.
  for _, take in ipairs(takes) do
    if take.track == p.tracks[1].name then
      for _, x in ipairs(take.xrun_positions) do emit_xrun(take.pass, x) end
    end
  end
  for _, take in ipairs(takes) do
    local i = track_index[take.track]
    if take.clipped > 0 and not clip_seen[i .. ":" .. take.pass] then
      clip_seen[i .. ":" .. take.pass] = true
      events.emit("clip", { track = take.track, peak = take.peak, pass = take.pass })
    end
  end
  takes.interrupted = interrupted or nil
  if failure then return nil, failure, takes end
  return takes
end

return M
