--- reel: record multitrack sessions from Lua.
--
-- The friendly API over the C primitives of `reel.core`:
--
--     local reel = require "reel"
--     local s = reel.session("sessions/song")
--     s:track{ name = "Bass", input = 1 }
--     s:track{ name = "Keys", input = { 3, 4 } }
--     local takes = assert(s:record{ seconds = 30, format = "wav24" })
--     for _, t in ipairs(takes) do print(t.file, t.seconds, t.peak_db) end
--
-- With the transport (reel.tracking): punch into a section against the
-- selected takes of the other tracks, loop passes, count-in and click, with
-- events delivered to handlers and coroutines (reel.events):
--
--     local s = assert(reel.open("sessions/song"))
--     reel.on("take_end", function(ev) print(ev.file, ev.frames) end)
--     assert(s:record{ tracks = { "Vox" }, punch = "Chorus 2", preroll = 1, count_in = 1 })
--     assert(s:record{ tracks = { "Vox" }, loop = "Bridge", passes = 3 })
--
-- Conventions: misuse (a wrong type, an unknown option, an unknown track)
-- raises an error that names the argument or option and points at the
-- caller's line; failures of the outside world (no device, disk full, a
-- missing file) return nil and a message.
--
-- A session is a folder: `session.json` (tracks and takes; written
-- atomically) and `audio/` with one file per track per take, named
-- `<Track>_T<NN>.<ext>`. Take numbers count per track and are never reused:
-- the next number is one more than the highest ever recorded in the session
-- file or present in `audio/`, so nothing is ever overwritten. The session
-- object, session.json (loading, checking, saving), take numbering, sections
-- and the tempo map live in `reel.session`; `reel.new` and `reel.open` are
-- its `new` and `open`.
--
-- Threads: all of this runs on the script's (control) thread; recording
-- happens on the engine's device and disk threads, which Lua never enters.
-- @module reel

local core = require "reel.core"
local json = require "reel.json"
local session = require "reel.session"
local events = require "reel.events"
local tracking = require "reel.tracking"
local journal = require "reel.journal"
local util = require "reel.util"
require "reel.export"     -- adds Session:export (the handoff package)

local reel = {}

--- The version string, e.g. "0.1.0".
reel.version = core.version()

--- The primitives module `reel.core` (see reel(1)).
reel.core = core

-- ---------------------------------------------------------------- helpers

-- Raises msg at the caller of the public function that called us.
local misuse, typename = util.misuse, util.typename

-- Checks an options table against spec (key -> checker). A checker is a
-- type name ("string", "number", "integer", "boolean", "table", "function")
-- or a function(value) returning true or an error text.
local function check_options(opts, spec, level)
  level = (level or 2) + 1
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #1 (table of options expected, got %s)"):format(typename(opts)), level)
  end
  for k, v in pairs(opts) do
    if type(k) ~= "string" then
      error(("bad option key (string expected, got %s)"):format(typename(k)), level)
    end
    local want = spec[k]
    if want == nil then
      error(("unknown option '%s'"):format(k), level)
    end
    if type(want) == "function" then
      local ok = want(v)
      if ok ~= true then
        error(("bad option '%s' (%s)"):format(k, ok), level)
      end
    elseif want == "integer" then
      if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
        error(("bad option '%s' (integer expected, got %s)"):format(k, typename(v)), level)
      end
    elseif type(v) ~= want then
      error(("bad option '%s' (%s expected, got %s)"):format(k, want, typename(v)), level)
    end
  end
  return opts
end

local function one_of(list)
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return function(v)
    if type(v) ~= "string" then return "string expected, got " .. typename(v) end
    if not set[v] then
      return ("'%s' is not one of %s"):format(v, table.concat(list, ", "))
    end
    return true
  end
end

local FORMATS = core.formats()
local is_format = one_of(FORMATS)

local function positive_number(v)
  if type(v) ~= "number" then return "number expected, got " .. typename(v) end
  if not (v > 0 and v <= 1e9) then return "positive number of seconds expected, at most 1e9" end
  return true
end

local db = util.peak_db

--- Formats a level in dBFS for people: "-6.0", "-inf".
-- @tparam number value_db
-- @treturn string
function reel.format_db(value_db)
  if value_db == -math.huge or value_db ~= value_db then return "-inf" end
  return string.format("%.1f", value_db)
end

local join = util.join

-- -------------------------------------------------------------- primitives

--- Lists the audio APIs compiled in, plus "virtual".
-- @treturn {string,...}
function reel.apis()
  return core.apis()
end

--- Lists the real audio devices found (never the virtual one).
-- @treturn[1] {table,...} entries with api, name, in_channels, out_channels,
--   preferred_rate, rates, default_input, default_output
-- @return[2] nil, message
function reel.devices()
  return core.devices()
end

--- How many input channels a real device has in all, by `reel.devices`:
-- the entry of the same API and name, else the API's first default input
-- (what a device opened without a name is); 0 when none is listed. A
-- device opens 2 channels unless told; this is how many to ask for to
-- record all of them.
-- @tparam table info an open device's info (`api`, `name`)
-- @treturn integer
function reel.device_inputs(info)
  local all = 0
  for _, d in ipairs(reel.devices() or {}) do
    if d.api == info.api and (d.name == info.name or (all == 0 and d.default_input)) then
      all = d.in_channels
    end
  end
  return all
end

--- The sample formats takes can be written in: wav24, wav32f, flac, rf64.
-- @treturn {string,...}
function reel.formats()
  local t = {}
  for i, f in ipairs(FORMATS) do t[i] = f end
  return t
end

--- True once SIGINT or SIGTERM arrived (Ctrl-C). Recording stops by itself;
-- long-running scripts should check this between takes.
-- @treturn boolean
function reel.interrupted()
  return core.interrupted()
end

--- Sleeps, returning early (false) when a signal arrives.
-- @tparam number seconds
-- @treturn boolean true if the whole time was slept
function reel.sleep(seconds)
  if type(seconds) ~= "number" then
    misuse(("bad argument #1 to 'sleep' (number expected, got %s)"):format(typename(seconds)))
  end
  return core.sleep(seconds)
end

-- ------------------------------------------------------------------ device

local Device = {}
Device.__index = Device
Device.__name = "reel.device"

local device_spec = {
  spec = "string",
  inputs = function(v)
    if type(v) ~= "table" then return "table expected, got " .. typename(v) end
    for i, s in ipairs(v) do
      if type(s) ~= "string" then
        return ("string expected at index %d, got %s"):format(i, typename(s))
      end
    end
    return true
  end,
  channels = "integer",
  rate = "integer",
  period = "integer",
  name = "string",
  no_connect = "boolean",
  ring_seconds = "number",
  outputs = "integer",
  loopback = "string",
  loopback_latency = "integer",
}

--- Describes the audio device to record from.
-- The device is opened by each `Session:record` and closed after it, so one
-- description serves any number of takes; a virtual device's file inputs and
-- generators start again at every take.
-- @tparam[opt] table|string opts a device SPEC string, or a table:
--   `spec` ("" auto: JACK when a server runs, else virtual; "virtual",
--   "virtual:freewheel", "jack", "alsa[:NAME]", "pulse[:NAME]"),
--   `inputs` (virtual device sources: sound files or generator specs such as
--   "sine:440:-12", "noise:pink:-20", "impulse:48000", "silence",
--   "sweep:20:20000:4"), `channels`, `rate`, `period`, `name` (JACK client),
--   `no_connect`, `ring_seconds`, `outputs` (output channels to open),
--   `loopback` (virtual device: simulated cables from outputs to inputs,
--   "OUT>IN[,OUT>IN...]", e.g. "1>1") and `loopback_latency` (their round
--   trip in frames; 0: one period).
-- @treturn Device
function reel.device(opts)
  if type(opts) == "string" then opts = { spec = opts } end
  opts = check_options(opts, device_spec)
  local d = {}
  for k, v in pairs(opts) do d[k] = v end
  if d.inputs then
    local copy = {}
    for i, s in ipairs(d.inputs) do copy[i] = s end
    d.inputs = copy
  end
  return setmetatable({ opts = d }, Device)
end

function Device:__tostring()
  local spec = self.opts.spec
  return ("reel.device (%s)"):format(spec and spec ~= "" and spec or "auto")
end

-- Opens the device for one take, with the take's file format and, unless
-- the description names a rate, the session's rate.
function Device:_open(format, rate)
  local o = self.opts
  return core.open_recorder{
    device = o.spec, inputs = o.inputs, channels = o.channels and math.tointeger(o.channels),
    rate = o.rate and math.tointeger(o.rate) or rate, period = o.period and math.tointeger(o.period),
    name = o.name, no_connect = o.no_connect, ring_seconds = o.ring_seconds, format = format,
    outputs = o.outputs and math.tointeger(o.outputs), loopback = o.loopback,
    loopback_latency = o.loopback_latency and math.tointeger(o.loopback_latency),
  }
end

--- Opens the device briefly and reports what it really runs at.
-- @treturn[1] table api, name, clock, rate, period, in_channels, out_channels,
--   input_latency, output_latency
-- @return[2] nil, message
function Device:info()
  if getmetatable(self) ~= Device then misuse("bad self to 'info' (reel.device expected)") end
  local rec, err = self:_open("wav24")
  if not rec then return nil, err end
  local info = rec:info()
  rec:close()
  return info
end

-- ----------------------------------------------------------------- session

-- The class of reel.session (scripts/reel/session.lua); the methods below
-- (track, arm, record) are added to it.
local Session = session.Session

local function check_session(self, fname)
  if getmetatable(self) ~= Session then
    misuse(("bad self to '%s' (reel.session expected, got %s); call it as s:%s(...)")
      :format(fname, typename(self), fname), 3)
  end
end

-- Track names end up in file names: keep them portable and unambiguous.
local function bad_track_name(name)
  if type(name) ~= "string" then return "string expected, got " .. typename(name) end
  if name == "" then return "empty name" end
  if #name > 63 then return "name longer than 63 bytes" end
  if name:find("[/\\%c]") then return "name must not contain '/', '\\' or control characters" end
  if name:find("^[%.%-]") then return "name must not begin with '.' or '-'" end
  return nil
end

local function normalize_input(v)
  if math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v)) then
    v = { v }
  end
  if type(v) ~= "table" then return nil, "integer or list of 1 or 2 integers expected, got " .. typename(v) end
  if #v < 1 or #v > 2 then return nil, "one or two input channels expected" end
  local out = {}
  for i = 1, #v do
    local c = v[i]
    if type(c) ~= "number" or c ~= math.floor(c) or c < 1 then
      return nil, "input channels are integers counting from 1"
    end
    out[i] = math.tointeger(c)
  end
  return json.array(out)
end

--- Opens the session folder dir, creating it (and dir/audio) if missing and
-- reading dir/session.json if present (see `reel.session`'s `open_or_create`).
-- @tparam string dir
-- @treturn[1] Session
-- @return[2] nil, message (cannot create the folder, unreadable session file)
function reel.session(dir)
  if type(dir) ~= "string" or dir == "" then
    misuse(("bad argument #1 to 'session' (folder path expected, got %s)"):format(
      dir == "" and "empty string" or typename(dir)))
  end
  local ok, err = core.mkdir_p(join(dir, "audio"))
  if not ok then return nil, err end
  return session.open_or_create(dir)
end

--- Creates a session folder from a template and options; see
-- `reel.session`'s `new`. Never overwrites an existing session.json.
reel.new = session.new

--- Opens an existing session folder; see `reel.session`'s `open`.
reel.open = session.open

local function find_track(self, name)
  for _, t in ipairs(self.tracks) do
    if t.name == name then return t end
  end
end

--- Declares a track (or changes the input of an existing one). New and
-- loaded tracks are armed.
-- @tparam table opts `name` (string; becomes part of file names), `input`
--   (device input channel counting from 1, or a list of two for a stereo
--   track), `armed` (boolean, default true)
-- @treturn table the track: {name=, input={...}, armed=}
function Session:track(opts)
  check_session(self, "track")
  check_options(opts, {
    name = function(v) return bad_track_name(v) or true end,
    input = function(v) local ok, e = normalize_input(v) return ok and true or e end,
    armed = "boolean",
  })
  if opts.name == nil then misuse("bad option 'name' (track name required)") end
  if opts.input == nil then misuse("bad option 'input' (input channel required)") end
  local input = normalize_input(opts.input)
  local t = find_track(self, opts.name)
  if t then
    t.input = input
  else
    t = { name = opts.name, input = input }
    self.tracks[#self.tracks + 1] = t
  end
  if opts.armed == nil then t.armed = true else t.armed = opts.armed end
  return t
end

--- Arms or disarms a track for the next takes.
-- @tparam string name
-- @tparam[opt=true] boolean on
function Session:arm(name, on)
  check_session(self, "arm")
  if type(name) ~= "string" then
    misuse(("bad argument #1 to 'arm' (track name expected, got %s)"):format(typename(name)))
  end
  if on ~= nil and type(on) ~= "boolean" then
    misuse(("bad argument #2 to 'arm' (boolean expected, got %s)"):format(typename(on)))
  end
  local t = find_track(self, name)
  if not t then misuse(("bad argument #1 to 'arm' (no track named '%s')"):format(name)) end
  t.armed = on ~= false
end

-- Highest take number used for track, from the session and from audio/
-- (s:next_take_number and s:save are reel.session's).
local last_take_number = session.last_take_number

-- The one-line meter shown while recording on a terminal.
local function draw_meter(elapsed, names, peaks, clip)
  local cols = 79 - 10
  local per = math.max(8, cols // math.max(1, #names))
  local parts = {}
  for i, name in ipairs(names) do
    local d = db(peaks[i] or 0)
    local label = name:sub(1, 8)
    local text = reel.format_db(d)
    local cell
    local barw = per - #label - 8
    if barw >= 6 then
      local fill = 0
      if d > -60 then fill = math.floor((d + 60) / 60 * barw + 0.5) end
      fill = math.max(0, math.min(barw, fill))
      cell = ("%s %s%s%5s%s"):format(label, string.rep("#", fill), string.rep("-", barw - fill),
        text, clip[i] and "!" or " ")
    else
      cell = ("%s %5s%s"):format(label, text, clip[i] and "!" or "")
    end
    parts[#parts + 1] = cell
  end
  local m = math.floor(elapsed / 60)
  local line = ("\r%02d:%04.1f  %s"):format(m, elapsed - 60 * m, table.concat(parts, " "))
  io.stdout:write(line:sub(1, 80), "\27[K")
  io.stdout:flush()
end

local record_spec = {
  seconds = positive_number,
  format = is_format,
  meter = "boolean",
  device = function(v)
    if type(v) == "string" or getmetatable(v) == Device then return true end
    return "reel.device or device SPEC string expected, got " .. typename(v)
  end,
  description = "string",
  progress = "function",
  loudness = "boolean",
}

--- Records takes: a plain timed take, or a roll of the transport (punch,
-- loop passes, count-in, overdubs against the session's takes).
--
-- **Plain take** (only the options `seconds`, `format`, `device`, `meter`,
-- `description`, `progress`): opens the device, starts all armed tracks on
-- the same frame, waits until `seconds` have been recorded (exactly seconds
-- * rate frames), Ctrl-C (SIGINT/SIGTERM) arrives or `progress` returns
-- false, then closes the files and adds the takes to session.json. A take's
-- `start` is the device frame it began on.
--
-- **Roll** (any of the options below; see reel.tracking): the transport
-- plays the session timeline from `from` (less the pre-roll and count-in)
-- and records between the punch points, or each pass of the loop, on the
-- armed tracks (or `tracks`). Takes start and end exactly at those
-- positions (`start` is the timeline sample, 0 = 1:1), one per track per
-- pass, numbered on from each track's next free number. Every other track
-- plays its regions (`Session:regions`: its comps section by section, else
-- its selected take at its `start`), with its track's `gain_db` and `pan`;
-- inputs of tracks with `monitor` are mixed into the outputs; the take is
-- aligned with that playback by the round-trip latency, so an
-- overdub lands on the sample it was played against. Positions (POS) are
-- samples (integer), seconds ("12.5s"), bars:beats ("5:1", "5:2.5") or a
-- section name (its start), at or after 1:1 and, when the session has
-- sections, not after the end of the last one. Events are delivered
-- meanwhile to `reel.on` handlers and `reel.wait`ing coroutines.
--
-- Either way a Lua error raised meanwhile (in `progress` or an event
-- handler, say) stops the recording too: the files are closed valid, keep
-- what was recorded and are listed in session.json; then the error goes on.
-- @tparam[opt] table opts
--   `seconds` (plain: the take's length, default until interrupted; roll:
--   stop that long after `from`),
--   `format` ("wav24", "wav32f", "flac", "rf64"; default the session's),
--   `device` (a reel.device or SPEC string; default the session's `device`
--   field or auto), `meter` (a one-line peak meter; default: when stdout is
--   a terminal), `description` (BWF bext description), `loudness` (false:
--   do not measure the takes' loudness when filing them; default: measure
--   up to `reel.loudness.RECORD_BUDGET_SECONDS` of audio), `progress`
--   (function(p) called about 20 times a second with p.seconds, p.peaks_db
--   and p.frames (plain) or p.position (roll); a plain take adds
--   p.levels_db (per armed track, the peak since the previous call) and
--   p.counts (a function returning the take's live {xruns, overruns,
--   lost_frames}, summed over the tracks); return false to stop);
--   roll options: `tracks` (list of track names; default the armed tracks),
--   `from` (POS where playback starts; default the punch in, the loop start,
--   else 1:1), `to` (POS where the transport stops), `punch` ({IN, OUT} or a
--   section name: record only there; without a loop the roll stops at OUT
--   unless `to` says otherwise), `loop` ({A, B} or a section name: cycle,
--   one take per pass), `passes` (with a loop: stop after N), `count_in`
--   (bars of click before the pre-roll; playback is muted), `preroll` (bars
--   played before `from`, or the POS to start playing at), `click` ("off",
--   "always", "recording": during the count-in and while recording; default
--   "recording" with a count-in, else "off"; never recorded except through
--   the device's inputs), `click_level_db`, `click_outputs` ({1, 2}),
--   `against` ("selected" default, or "none"/false: no takes play),
--   `comp_crossfade_ms` (the crossfade at the comp switches of the tracks
--   that play, as `s:render` makes it; default 10, 0 for hard cuts),
--   `backing` (list of {file=, at=POS, gain_db=, pan=}), `monitor` ({Vox =
--   true} or {Vox = {gain_db=, pan=}}; default each track's `monitor`,
--   `gain_db`, `pan`), `monitor_outputs` ({1, 2}), `latency` (round trip in
--   frames; default the session's `latency.round_trip`, else what the
--   device reports)
-- @treturn[1] {take,...} one take table per track (per pass, in pass order):
--   track, take (number), file (relative to the session), path, format,
--   rate, frames, seconds, start, peak, peak_db, clipped, xruns,
--   xrun_positions, overruns, lost_frames, gaps; rolls add pass, start_bbt,
--   section (when `punch` or `loop` named one), latency, status ("kept");
--   the list has `interrupted = true` when a signal ended it
-- @return[2] nil, message[, takes] (device failed, a folder cannot be
--   written, the disk is full, a file to play is missing: the takes written
--   so far are kept and listed)
function Session:record(opts)
  check_session(self, "record")
  if tracking.is_roll(opts) or (type(opts) == "table" and opts.play_only) then
    local ok, plan = pcall(tracking.plan, self, opts)
    if not ok then tracking.reraise(plan, 2) end
    local device = opts.device or self.device or reel.device()
    if type(device) == "string" then device = reel.device(device) end
    if getmetatable(device) ~= Device then
      misuse(("bad option 'device' (reel.device or device SPEC string expected, got %s)")
        :format(typename(device)))
    end
    local meter = opts.meter
    if meter == nil then meter = core.isatty(io.stdout) end
    local fixed_rate = self.rate ~= nil or #self.takes > 0
    return tracking.run(self, plan, {
      open = function(format, rate) return device:_open(format, fixed_rate and rate or nil) end,
      replan = function() return tracking.plan(self, opts) end,
      draw_meter = draw_meter, meter = meter, progress = opts.progress,
    })
  end
  opts = check_options(opts, record_spec)
  local armed = {}
  for _, t in ipairs(self.tracks) do
    if t.armed then armed[#armed + 1] = t end
  end
  if #armed == 0 then misuse("record: no track is armed (declare one with s:track{...})") end
  local format = opts.format or self.format or "wav24"
  local ext = core.format_ext(format)
  local device = opts.device or self.device or reel.device()
  if type(device) == "string" then device = reel.device(device) end

  -- The session's lock before the device opens: a refused take records nothing.
  local lok, lerr = self:lock()
  if not lok then return nil, lerr end
  local rec <close>, err = device:_open(format, self.rate)
  if not rec then return nil, err end
  local info = rec:info()

  local audio = join(self.dir, "audio")
  local files, lerr = core.list_dir(audio)
  if not files then return nil, lerr end
  local paths, numbers, index = {}, {}, {}
  for _, t in ipairs(armed) do
    local idx, aerr = rec:add_track(t.name, t.input)
    if not idx then return nil, aerr end
    rec:arm(idx, true)
    local n = last_take_number(self, t.name, files) + 1
    local name = ("%s_T%02d.%s"):format(t.name, n, ext)
    paths[idx], numbers[idx], index[#index + 1] = join(audio, name), n, idx
  end

  local max_frames = 0
  if opts.seconds then
    -- Rounded to the sample, and never 0 (which would mean "until stopped").
    max_frames = math.max(1, math.tointeger(math.floor(opts.seconds * info.rate + 0.5)))
  end
  -- Journalled before the files exist, cleared once session.json lists them.
  local jtakes = {}
  for i, idx in ipairs(index) do
    jtakes[i] = { track = armed[i].name, take = numbers[idx], start = 0,
                  file = "audio/" .. paths[idx]:match("[^/]*$") }
  end
  -- (A folder that cannot take the journal still records: its take files
  -- are then recovered as files found in audio/.)
  local jid = journal.begin(self, { kind = "take", format = format, rate = info.rate,
    device = info.api .. ":" .. info.name, tracks = armed, takes = jtakes })
  local ok, serr = rec:start(paths, max_frames, opts.description)
  if not ok then journal.done(self.dir, jid) return nil, serr end
  -- The numbers are taken from now on, even if what follows fails.
  for i, idx in ipairs(index) do
    local name = armed[i].name
    if (self.last_take[name] or 0) < numbers[idx] then self.last_take[name] = numbers[idx] end
  end

  -- Ends the take, adds it to the session and saves. Runs once: normally
  -- below, or from the guard when a Lua error unwinds through here.
  local finished = false
  local function finish(note)
    finished = true
    local stopped, stop_err = rec:stop()
    local takes = json.array{}
    local lbudget = opts.loudness ~= false and require("reel.loudness").budget() or nil
    for i, idx in ipairs(index) do
      local st = rec:take_stats(idx)
      local take = {
        track = armed[i].name, take = numbers[idx], path = paths[idx],
        file = "audio/" .. paths[idx]:match("[^/]*$"),
        format = format, rate = info.rate, frames = st.frames, seconds = st.frames / info.rate,
        start = st.start, peak = st.peak, peak_db = st.peak_db, clipped = st.clipped,
        loudness = lbudget and require("reel.loudness").take(paths[idx], lbudget) or nil,
        xruns = st.xruns, xrun_positions = json.array(st.xrun_positions),
        overruns = st.overruns, lost_frames = st.lost_frames, gaps = json.array(st.gaps),
        error = st.error, note = note, device = info.api .. ":" .. info.name,
        recorded = os.date("!%Y-%m-%dT%H:%M:%SZ"),
      }
      takes[#takes + 1] = take
      local saved = {}
      for k, v in pairs(take) do if k ~= "path" then saved[k] = v end end
      self.takes[#self.takes + 1] = saved
    end
    rec:close()
    local saved, save_err = self:save()
    if saved then journal.done(self.dir, jid) end
    return takes, (not stopped and stop_err or nil) or (not saved and save_err or nil)
  end
  local guard <close> = setmetatable({}, { __close = function(_, err)
    -- Not finished: a Lua error is unwinding, or the state is being closed
    -- (os.exit). Never replace the error being raised with one of ours.
    if not finished then
      pcall(finish, err ~= nil and "stopped by an error: " .. tostring(err):match("[^\n]*")
        or "stopped when the script exited")
    end
  end })

  local meter = opts.meter
  if meter == nil then meter = core.isatty(io.stdout) end
  local names = {}
  for i, t in ipairs(armed) do names[i] = t.name end
  local peaks, clip, shown = {}, {}, core.now()
  local interrupted, failure = false, nil
  -- For progress: the take's live problem counts, on demand (cheap enough
  -- for a status line, too dear to compute 20 times a second unasked).
  local function live_counts()
    local x, o, l, ml = 0, 0, 0, 0
    for _, idx in ipairs(index) do
      local s = rec:take_stats(idx)
      if s then
        if s.xruns > x then x = s.xruns end
        if s.lost_frames > ml then ml = s.lost_frames end
        o, l = o + s.overruns, l + s.lost_frames
      end
    end
    return { xruns = x, overruns = o, lost_frames = l, max_lost_frames = ml }
  end
  local cause   -- "device" or "disk" when failure is set by the loop
  while true do
    local st = rec:status()
    for i, idx in ipairs(index) do
      local p = st.meters[idx] or 0
      if p > (peaks[i] or 0) then peaks[i] = p end
      if p >= 1.0 then clip[i] = true end
    end
    if st.complete or not st.running then break end
    if st.writer_error then failure, cause = st.writer_error, "disk" break end
    if not st.alive then
      failure, cause = ("device '%s' stopped working"):format(info.name), "device"
      break
    end
    if core.interrupted() then interrupted = true break end
    local elapsed = st.frames / info.rate
    if opts.progress then
      local pdb, ldb = {}, {}
      for i, idx in ipairs(index) do
        pdb[i] = db(peaks[i] or 0)
        ldb[i] = db(st.meters[idx] or 0)
      end
      if opts.progress{ seconds = elapsed, frames = st.frames, peaks_db = pdb, levels_db = ldb,
                        counts = live_counts } == false then break end
    end
    if meter and core.now() - shown >= 0.2 then
      draw_meter(elapsed, names, peaks, clip)
      peaks, clip, shown = {}, {}, core.now()
    end
    core.sleep(0.05)
  end
  if meter then io.stdout:write("\r\27[K") io.stdout:flush() end

  local takes, finish_err = finish(interrupted and "stopped by a signal" or nil)
  failure = failure or finish_err
  takes.interrupted = interrupted or nil
  -- Says why for callers that report it (reel record): "device" (lost) or
  -- "disk" (the writer failed: full, I/O error).
  takes.cause = failure and cause or nil
  if failure then return nil, failure, takes end
  return takes
end

--- Plays the session with the transport without recording: every track's
-- regions (its comps, else its selected take; see `Session:regions`) and
-- backing files from `from` (default 1:1) to `to`, or around a
-- `loop` for `passes`, with pre-roll, count-in, click and monitoring as for
-- a recording roll (`record`'s options except `tracks`). Returns an empty
-- list of takes, or nil and a message.
-- @tparam table opts
function Session:play(opts)
  check_session(self, "play")
  if type(opts) ~= "table" then
    misuse(("bad argument #1 to 'play' (table of options expected, got %s)"):format(typename(opts)))
  end
  if opts.tracks ~= nil then misuse("bad option 'tracks' (play records nothing)") end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.play_only = true
  return self:record(o)
end

--- Runs a take routine (reel.routine): records a section in loop passes
-- until enough good takes are in, rejecting takes by a policy (xruns,
-- overruns, clipping, silence) and an `on_take` callback, retrying up to a
-- limit, optionally comping the section by a rule. See reel.routine for
-- the options.
-- @tparam table opts
-- @treturn[1] table the result (`kept`, `rejected`, `takes`, `passes`)
-- @return[2] nil, message, result (every take recorded is kept)
function Session:routine(opts)
  check_session(self, "routine")
  local r, err, partial = require("reel.routine").run(self, opts, 2)
  return r, err, partial     -- not a tail call: error levels count this frame
end

--- The routine as an iterator whose body runs between takes: `for pass in
-- s:routine_passes{...} do if ... then pass:reject("why") end end`. See
-- reel.routine.
-- @tparam table opts
-- @treturn function iterator
-- @treturn table the result, filled in as the loop runs
function Session:routine_passes(opts)
  check_session(self, "routine_passes")
  local it, result = require("reel.routine").passes(self, opts, 2)
  return it, result
end

--- Checks the options of a roll as `record` would and resolves every
-- position, without opening the device or writing anything: a dry run.
-- Raises on the same mistakes as `record`.
-- @tparam table opts as for `record` (roll options)
-- @treturn table the plan: `tracks`, `from`, `preroll`, `count_in` (frames),
--   `punch_in`, `punch_out`, `loop_start`, `loop_end`, `passes`, `autostop`
--   (samples or nil), `section`, `click`, `against`, `backing`, `monitor`,
--   `latency`, `format`, `rate`
function Session:check_record(opts)
  check_session(self, "check_record")
  local ok, plan = pcall(tracking.plan, self, opts)
  if not ok then tracking.reraise(plan, 2) end
  return plan
end

-- ------------------------------------------------------------------ events

--- Calls fn(event) for every event `name` while recordings run; see
-- reel.events for the events and their fields.
-- @tparam string name "rolling", "take_start", "take_end", "loop",
--   "stopped", "xrun", "overrun" or "clip"
-- @tparam function fn
-- @return a handle: `h:off()` removes the handler (also `<close>`)
reel.on = events.on

--- Inside a coroutine started with `reel.spawn`: waits for the next event
-- `name` and returns it, or nil, "timeout" after `timeout` seconds.
reel.wait = events.wait

--- Starts fn(...) as a coroutine that may `reel.wait`; it runs at once up to
-- its first wait, and the event loop of each recording resumes it.
reel.spawn = events.spawn

--- Stops the recording in progress, keeping its takes (from a handler or a
-- spawned coroutine).
reel.stop = events.stop

--- Take routines (the module reel.routine; `Session:routine` runs one).
reel.routine = require "reel.routine"

--- Session report pages (the module reel.report; `Session:report` writes one).
reel.report = require "reel.report"

-- Exposed for reel.cli.* and tests.
reel.Session = Session
reel.Device = Device

return reel
