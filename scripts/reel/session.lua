--- reel.session: session folders on disk and the session object.
--
--     local reel = require "reel"
--     local s = assert(reel.new("songs/demo", "band"))     -- or reel.open("songs/demo")
--     s:set_tempo(33, 96, "6/8")
--     print(s:section("Chorus 2"))                         --> start, end (samples)
--     print(s:position("Chorus 2"), s:position("12.5s"), s:position("5:3"))
--     for _, t in ipairs(s:takes{ track = "Vox", status = "kept" }) do print(t.take, t.peak_db) end
--     s:select("Vox", 3)
--     s:comp("Vox", "Chorus 2", 5)                         -- take 5 plays in Chorus 2
--     s:comp_by_rule("Vox", "loudest_unclipped")           -- or every section by a rule
--     for _, r in ipairs(s:regions("Vox")) do print(r.take, r.at, r.offset, r.frames) end
--     assert(s:save())
--
-- A session is a folder a person can read without the program: `session.json`
-- and `audio/` with one file per take, `<Track>_T<NN>.<ext>`.
--
-- session.json (format version 1, written by `json.encode`: sorted keys, one
-- per line) holds:
--
--   * `reel_session` (1), `name`, `rate` (Hz), `format` (wav24, wav32f, flac,
--     rf64: the session's format for its takes);
--   * `tempo`: the tempo map, a list of changes `{bar, bpm, meter = "N/D",
--     start}` in bar order, the first at bar 1;
--   * `sections`: `{name, bar, length_bars}` in bar order, plus what is
--     derived from them: `label` (a name used more than once is numbered by
--     its place in time: "Chorus 1", "Chorus 2"), `start` and `length` in
--     samples, `start_bbt` ("13:1") and `seconds`;
--   * `markers`: `{name, start, start_bbt}`;
--   * `tracks`: `{name, input, inputs, monitor, gain_db, pan, mute, solo}`
--     (`mute` and `solo` only once set, see `set_mix`); `inputs` is
--     the list of device channels (`input`, the same list, is what earlier
--     files hold and is still written for their readers);
--   * `latency` (optional): `{round_trip = frames}`;
--   * `takes`: one entry per track per take: `track`, `take` (its number),
--     `file` (relative to the folder), `start` (samples) and `start_bbt`,
--     `frames`, `seconds`, `rate`, `format`, `peak`, `peak_db` (null for
--     silence), `clipped` (samples at full scale), `xruns` and
--     `xrun_positions`, `overruns`, `lost_frames` and `gaps` (`{position,
--     frames}`; positions count frames from the take's start), `recorded`
--     (UTC, ISO 8601), `device`, `section` and `pass` when a take was
--     recorded that way, `status` ("kept", "rejected" or "selected"; at most
--     one selected take per track), `note`, `error`, `loudness`
--     (`{integrated, range, short_term_max, true_peak}` in LUFS, LU and
--     dBTP, null levels with `note` "too quiet to measure"; see
--     `reel.loudness`);
--   * `last_take`: the highest take number ever given out per track;
--   * `variants` (optional): `{name, ops}` per variant of the arrangement,
--     `ops` a list of operations as data (see `reel.arrange`);
--   * `comps` (optional): which take plays in which section of a track,
--     `{track, section (label), bar (the section's first bar), take}`; the
--     bar is the truth (a label follows its section when sections are
--     added), a comp without one is found by its label. `Session:regions`
--     turns comps (or, for a track without any, its selected take) into
--     what playback and renders read.
--
-- The bar fields are the truth: on save, positions in samples (`start`,
-- `length`, `seconds`, `start_bbt`, `label`) are computed again from the
-- tempo map, so editing the tempo moves sections with their bars. A take's
-- `start` in samples is the truth for a take (the audio is where it is);
-- its `start_bbt` follows the tempo map. Keys this version does not know are
-- kept as they are, at the top level and inside tracks, takes, sections and
-- markers.
--
-- Loading never executes anything: the file is read with lua-cjson and every
-- known field is checked, so that a broken file is reported as
-- `DIR/session.json: takes[3].frames: number expected, got string` rather
-- than failing later. Saving is atomic (temporary file, fsync, rename, fsync
-- of the folder; `reel.core.write_atomic`).
--
-- One process writes a session at a time. The first time a Session writes
-- anything (`save`, or a recording about to open its device) it takes the
-- session's lock, an flock(2) on `DIR/.reel.lock` (see `lock`), and keeps it
-- until it is closed (`close`, `<close>`), collected, or the process ends,
-- however it ends (the kernel drops the lock of a killed process). Another
-- process that wants to write meanwhile is refused with `nil` and
-- "DIR: the session is in use by another reel process (pid 1234, reel
-- record, since 14:02:11); not writing to it". Reading (`open`, `document`,
-- `render`) takes no lock. Sessions of one process share the lock: a second
-- Session on the same folder writes too (they share the lock, not their
-- contents: the one that saves last wins, as one Session saved twice).
--
-- Take numbers count per track and are never reused: a new take gets one
-- more than the highest number in `last_take`, in `takes` or among the files
-- in `audio/`, so no file is ever overwritten.
--
-- Templates (`reel.new(dir, "band")`) are Lua chunks returning a data table,
-- loaded in a sandbox and checked by `reel.template`; see `load_template`.
--
-- Conventions (as in reel): misuse (a wrong type, an unknown option, an
-- unknown track or section name) raises an error naming the argument at the
-- caller's line; the outside world (a missing folder, a broken session.json,
-- a template file with an error) gives nil and a message.
--
-- Threads: the script's (control) thread only.
-- @module reel.session

local core = require "reel.core"
local json = require "reel.json"
local tempo = require "reel.tempo"
local arrange = require "reel.arrange"
local util = require "reel.util"
local sys = require "reel.sys"

local M = {}

--- The session file's name inside the folder.
M.FILE = "session.json"
--- The lock file's name inside the folder (see `lock`; it holds nothing
-- that matters and is never deleted).
M.LOCK_FILE = ".reel.lock"
--- The format version written in `reel_session`.
M.VERSION = 1
--- Take statuses.
M.STATUSES = { "kept", "rejected", "selected" }

local RATE_MIN, RATE_MAX = 1000, 768000
local DEFAULT_RATE, DEFAULT_BPM, DEFAULT_METER, DEFAULT_FORMAT = 48000, 120, "4/4", "wav24"

local FORMATS = core.formats()

-- ---------------------------------------------------------------- helpers

local misuse, join = util.misuse, util.join

local function basename(dir)
  local d = dir:gsub("/+$", "")
  return d:match("[^/]*$") ~= "" and d:match("[^/]*$") or dir
end

local is_list = util.is_list

-- Type names as a reader of JSON sees them.
local function jtype(v)
  if v == json.null then return "null" end
  local t = type(v)
  if t == "table" then return (next(v) == nil or not is_list(v)) and "object" or "list" end
  return t
end

-- Type names for Lua callers.
local typename = util.typename

--- Longest part of a value a message quotes, in bytes.
M.QUOTE_MAX = 60

local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

--- A value from a file, as an error message shows it: a string quoted
-- ('Vox'), with control characters and bytes that are not UTF-8 escaped
-- (\n, \x1b), and cut after QUOTE_MAX bytes ('xxxx...' (100000 bytes)),
-- so that a huge or binary value cannot flood the terminal; another value
-- by its JSON type.
-- @param v
-- @treturn string
function M.quote(v)
  if type(v) ~= "string" then return jtype(v) end
  local n, s = #v, v
  if n > M.QUOTE_MAX then
    -- not inside a UTF-8 sequence (at most 3 continuation bytes back)
    local i = M.QUOTE_MAX
    while i > M.QUOTE_MAX - 3 and v:byte(i + 1) & 0xC0 == 0x80 do i = i - 1 end
    s = v:sub(1, i)
  end
  s = s:gsub(utf8.len(s) and "%c" or "[%c\128-\255]", function(c)
    return ESCAPES[c] or ("\\x%02x"):format(c:byte())
  end)
  if n > M.QUOTE_MAX then return ("'%s...' (%d bytes)"):format(s, n) end
  return "'" .. s .. "'"
end
local quote = M.quote

-- text (JSON, a message) cut after QUOTE_MAX bytes, saying how long it was.
local function clip(text)
  if #text <= M.QUOTE_MAX then return text end
  return ("%s... (%d bytes)"):format(text:sub(1, M.QUOTE_MAX), #text)
end

--- A whole one-line message that may hold a value as it came (a check
-- elsewhere that echoes it, a template's own error()), made safe to print:
-- control characters escaped, cut after 400 bytes.
-- @tparam string msg
-- @treturn string
function M.tame(msg)
  msg = tostring(msg):gsub("%c", function(c) return ESCAPES[c] or ("\\x%02x"):format(c:byte()) end)
  if #msg > 400 then msg = ("%s... (%d bytes)"):format(msg:sub(1, 400), #msg) end
  return msg
end
local tame = M.tame

local function one_of_text(list)
  if #list == 1 then return list[1] end
  return table.concat(list, ", ", 1, #list - 1) .. " or " .. list[#list]
end

local index_of = util.index_of

-- The reason inside "[file:line: ]bad argument #n to 'f' (reason)".
local function reason_of(err)
  err = tostring(err)
  return err:match("bad argument #%d+ to '[^']*' %((.*)%)$") or err
end

-- Validation failures inside the checkers below: where ("takes[3].frames")
-- and what. Raised as a table, caught by the functions that report them.
local Bad = { __name = "reel.session.bad" }
local function bad(where, msg)
  error(setmetatable({ where = where, msg = msg }, Bad), 0)
end
local function is_bad(e) return getmetatable(e) == Bad end

-- Runs fn(...) and returns true and its result, or false and the Bad it
-- raised; other errors (bugs) propagate.
local function catch(fn, ...)
  local ok, e = pcall(fn, ...)
  if ok then return true, e end
  if is_bad(e) then return false, e end
  error(e, 0)
end

-- Checks a value; returns nil or the complaint.
local function complaint(v, kind, min, max)
  if kind == "string" then
    if type(v) ~= "string" then return "string expected, got " .. jtype(v) end
    if min and #v < min then return "must not be empty" end
  elseif kind == "integer" or kind == "number" then
    if type(v) ~= "number" then return "number expected, got " .. jtype(v) end
    if v ~= v or v == math.huge or v == -math.huge then return "finite number expected" end
    if kind == "integer" and math.tointeger(v) == nil then
      return ("integer expected, got %s"):format(v)
    end
    if min and max and (v < min or v > max) then
      return ("must be between %s and %s, got %s"):format(min, max, v)
    elseif min and v < min then
      return min == 0 and ("must not be negative, got %s"):format(v)
        or ("must be at least %s, got %s"):format(min, v)
    end
  elseif kind == "boolean" then
    if type(v) ~= "boolean" then return "boolean expected, got " .. jtype(v) end
  elseif kind == "list" then
    if type(v) ~= "table" or (next(v) ~= nil and not is_list(v)) then
      return "list expected, got " .. jtype(v)
    end
  elseif kind == "object" then
    if type(v) ~= "table" or (next(v) ~= nil and is_list(v)) then
      return "object expected, got " .. jtype(v)
    end
  end
  return nil
end

local function need(v, kind, where, min, max)
  if v == nil then bad(where, "missing") end
  local c = complaint(v, kind, min, max)
  if c then bad(where, c) end
  return v
end

--- Why a track name cannot be used, or nil. Names become file names:
-- not empty, at most 63 bytes, no '/', '\' or control characters, not
-- beginning with '.' or '-'.
-- @param name
-- @treturn ?string
function M.bad_track_name(name)
  if type(name) ~= "string" then return "string expected, got " .. jtype(name) end
  if name == "" then return "empty name" end
  if #name > 63 then return "name longer than 63 bytes" end
  if name:find("[/\\%c]") then return "name must not contain '/', '\\' or control characters" end
  if name:find("^[%.%-]") then return "name must not begin with '.' or '-'" end
  return nil
end

--- A track's input as a list of one or two channels (counting from 1).
-- @param v an integer or a list of one or two integers
-- @treturn[1] table the list (a JSON array)
-- @return[2] nil, complaint
function M.normalize_input(v)
  if math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v)) then
    v = { v }
  end
  if type(v) ~= "table" then
    return nil, "integer or list of 1 or 2 integers expected, got " .. jtype(v)
  end
  if #v < 1 or #v > 2 then return nil, "one or two input channels expected" end
  local out = {}
  for i = 1, #v do
    local c = v[i]
    if type(c) ~= "number" or c ~= math.floor(c) or c < 1 or c > 1024 then
      return nil, "input channels are integers counting from 1"
    end
    out[i] = math.tointeger(c)
  end
  return json.array(out)
end

-- The form "N/D" (at most 6 digits each, as reel.tempo reads it), checked
-- here so that the message quotes a long or binary text safely.
local function meter_form(text)
  local n, d = text:match("^(%d+)/(%d+)$")
  if n and #n <= 6 and #d <= 6 then return nil end
  return ("meter %s is not N/D (4/4, 7/8)"):format(quote(text))
end

--- Why a meter text cannot be used, or nil ("7/8" is fine).
-- @tparam string text
-- @treturn ?string
function M.check_meter(text)
  if type(text) ~= "string" then return "string expected, got " .. jtype(text) end
  local form = meter_form(text)
  if form then return form end
  local ok, err = pcall(tempo.new, DEFAULT_RATE, DEFAULT_BPM, text)
  if ok then err:close() return nil end
  return reason_of(err)
end

--- Why a tempo in BPM cannot be used, or nil.
-- @tparam number bpm
-- @treturn ?string
function M.check_tempo(bpm)
  if type(bpm) ~= "number" then return "number expected, got " .. jtype(bpm) end
  local ok, err = pcall(tempo.new, DEFAULT_RATE, bpm)
  if ok then err:close() return nil end
  return reason_of(err)
end

--- Why a sample rate cannot be a session's, or nil.
-- @tparam integer rate
-- @treturn ?string
function M.check_rate(rate)
  return complaint(rate, "integer", RATE_MIN, RATE_MAX)
end

--- Why a take format cannot be used, or nil.
-- @tparam string format
-- @treturn ?string
function M.check_format(format)
  if type(format) ~= "string" then return "string expected, got " .. jtype(format) end
  if not index_of(FORMATS, format) then
    return ("%s is not one of %s"):format(quote(format), table.concat(FORMATS, ", "))
  end
  return nil
end

-- Section labels: a name that occurs more than once is numbered in time
-- order ("Chorus 1", "Chorus 2"); a unique name is its own label.
local function labels_of(sections)
  local count, seen, out = {}, {}, {}
  for _, sec in ipairs(sections) do count[sec.name] = (count[sec.name] or 0) + 1 end
  for i, sec in ipairs(sections) do
    seen[sec.name] = (seen[sec.name] or 0) + 1
    out[i] = count[sec.name] > 1 and ("%s %d"):format(sec.name, seen[sec.name]) or sec.name
  end
  return out
end

-- A label given to two sections ("Chorus 2" written as a name beside two
-- "Chorus") cannot be referred to: refused.
local function label_clash(sections)
  local labels, at = labels_of(sections), {}
  for i, l in ipairs(labels) do
    if at[l] then return l, at[l], i end
    at[l] = i
  end
end

-- ------------------------------------------------------------- take lists

-- s.takes is the list of take tables (s.takes[1], #s.takes, ipairs) and,
-- being callable, also the method s:takes(filter).
local TakeList = { __name = "reel.takes" }

local function take_list(t)
  return setmetatable(t or {}, TakeList)
end

-- ----------------------------------------------------------------- session

--- The session object. Fields: `dir`, `name`, `rate` (nil until known for a
-- session made by `reel.session` before its first take), `format`,
-- `tracks` (list of `{name, input, monitor, gain_db, pan, armed}`), `takes`
-- (list of take tables, and the method `s:takes(filter)`), `markers`,
-- `latency`, `last_take`. Sections and the tempo map are reached through
-- methods.
-- @type Session
local Session = {}
Session.__index = Session
Session.__name = "reel.session"
M.Session = Session

local function check_self(self, fname)
  if getmetatable(self) ~= Session then
    misuse(("bad self to '%s' (reel.session expected, got %s); call it as s:%s(...)")
      :format(fname, typename(self), fname), 3)
  end
end

local function blank(dir)
  return setmetatable({
    dir = dir,
    name = basename(dir),
    rate = nil,
    format = DEFAULT_FORMAT,
    tracks = json.array{},
    takes = take_list{},
    markers = json.array{},
    last_take = json.object{},
    latency = nil,
    _sections = {},
    _segments = { { bar = 1, bpm = DEFAULT_BPM, meter = DEFAULT_METER } },
    _map = nil,
    _extra = {},
    _variants = {},
    _comps = {},
  }, Session)
end

function Session:__tostring()
  return ("reel.session (%s, %d tracks, %d takes)"):format(self.dir, #self.tracks, #self.takes)
end

-- The rate positions are computed at: the session's, else that of its first
-- take, else 48000.
local function effective_rate(self)
  if self.rate then return self.rate end
  local first = self.takes[1]
  local r = first and math.tointeger(first.rate)
  if r and r >= RATE_MIN and r <= RATE_MAX then return r end
  return DEFAULT_RATE
end

--- The session's tempo map (a `reel.tempo` map at the session's rate). It
-- is the session's own: changes made to it (`map:set`) are the session's
-- and are saved, like those made with `set_tempo`.
-- @treturn reel.tempo
function Session:tempo_map()
  check_self(self, "tempo_map")
  local rate = effective_rate(self)
  local m = self._map
  if m and m:rate() == rate then return m end
  local segs = m and m:segments() or self._segments
  local new = tempo.new(rate, segs[1].bpm, segs[1].meter)
  for i = 2, #segs do new:set(segs[i].bar, segs[i].bpm, segs[i].meter) end
  if m then m:close() end
  self._map = new
  return new
end

local function map_of(self)
  return Session.tempo_map(self)
end

-- Bars:beats text of a sample, or nil outside the map.
local function bbt(m, sample)
  if math.type(sample) ~= "integer" then return nil end
  local ok, text = pcall(m.format, m, sample)
  return ok and text or nil
end

-- Declared tracks, then tracks only takes mention.
local function track_names(self)
  local names, seen = {}, {}
  for _, t in ipairs(self.tracks) do
    if not seen[t.name] then names[#names + 1], seen[t.name] = t.name, true end
  end
  for _, t in ipairs(self.takes) do
    if type(t.track) == "string" and not seen[t.track] then
      names[#names + 1], seen[t.track] = t.track, true
    end
  end
  return names, seen
end

--- The session's track names: the declared tracks in their order, then
-- the names only takes mention (tracks since removed), in take order.
-- @treturn {string,...}
function Session:track_names()
  check_self(self, "track_names")
  return (track_names(self))
end

local function check_track_arg(self, name, argn, fname, level)
  if type(name) ~= "string" then
    misuse(("bad argument #%d to '%s' (track name expected, got %s)")
      :format(argn, fname, typename(name)), level + 1)
  end
  local names, seen = track_names(self)
  if not seen[name] then
    misuse(("unknown track '%s' (%s)"):format(name,
      #names > 0 and "tracks: " .. table.concat(names, ", ") or "the session has no tracks"),
      level + 1)
  end
  return name
end

local function status_of(take)
  return take.status or "kept"
end

-- ---------------------------------------------------------- sections

local function section_record(m, sec, label)
  local last = sec.bar + sec.length_bars - 1
  local start = m:to_sample(sec.bar, 1)
  local stop = m:to_sample(last, 1) + m:bar_length(last)
  return {
    name = sec.name, label = label, bar = sec.bar, length_bars = sec.length_bars,
    start = start, length = stop - start, start_bbt = ("%d:1"):format(sec.bar),
    seconds = m:to_seconds(stop - start),
  }
end

--- The sections in time order, with their positions.
-- @treturn {table,...} entries `{name, label, bar, length_bars, start,
--   length, start_bbt, seconds}`: `label` is what `section` and `position`
--   take ("Chorus 2"), `start` and `length` are samples.
function Session:sections()
  check_self(self, "sections")
  local m = map_of(self)
  local labels = labels_of(self._sections)
  local out = {}
  for i, sec in ipairs(self._sections) do out[i] = section_record(m, sec, labels[i]) end
  return out
end

-- The section a reference names ("Chorus 2", "Intro", "Intro 1"), or nil
-- and why not.
local function find_section(self, ref)
  local recs = Session.sections(self)
  for _, r in ipairs(recs) do
    if r.label == ref then return r end
  end
  local hits = {}
  for _, r in ipairs(recs) do
    if r.name == ref then hits[#hits + 1] = r.label end
  end
  if #hits > 1 then
    return nil, ("section '%s' is ambiguous (%s)"):format(ref, table.concat(hits, ", "))
  end
  local base, k = ref:match("^(.-) (%d+)$")
  if base and k == "1" then
    for _, r in ipairs(recs) do
      if r.name == base and r.label == base then return r end
    end
  end
  local labels = {}
  for i, r in ipairs(recs) do labels[i] = r.label end
  return nil, ("unknown section '%s' (%s)"):format(ref,
    #labels > 0 and "sections: " .. table.concat(labels, ", ") or "the session has no sections")
end

-- The sample position p names (see Session:position); errors name argument
-- argn of fname and point level levels up from the caller of resolve.
local function resolve(self, p, fname, argn, level)
  local m = map_of(self)
  if type(p) == "number" then
    local n = math.tointeger(p)
    if not n then
      misuse(("bad argument #%d to '%s' (whole samples expected, got %s; write seconds as '%ss')")
        :format(argn, fname, p, p), level + 1)
    end
    local v, err = m:parse(("%d"):format(n))
    if not v then misuse(err, level + 1) end
    return v
  elseif type(p) == "string" then
    for _, r in ipairs(Session.sections(self)) do
      if r.label == p then return r.start end
    end
    local v, err = m:parse(p)
    if v then return v end
    if p:find("^[%d%.%-]") then misuse(err, level + 1) end
    local r, serr = find_section(self, p)
    if r then return r.start end
    if serr:find("^unknown section") then
      serr = ("position '%s' is not samples, seconds (12.5s), bars:beats (5:1) or a section (%s)")
        :format(p, serr:match("%((.*)%)$"))
    end
    misuse(serr, level + 1)
  end
  misuse(("bad argument #%d to '%s' (samples, seconds ('12.5s'), bars:beats ('5:1') or "
    .. "a section name expected, got %s)"):format(argn, fname, typename(p)), level + 1)
end

--- Where a section is.
-- @tparam string name a label ("Chorus 2"), or a name used once ("Intro")
-- @treturn integer start (sample)
-- @treturn integer end (sample after its last)
-- @treturn table the section, as `sections` gives it
function Session:section(name)
  check_self(self, "section")
  if type(name) ~= "string" then
    misuse(("bad argument #1 to 'section' (section name expected, got %s)"):format(typename(name)))
  end
  local r, err = find_section(self, name)
  if not r then misuse(err) end
  return r.start, r.start + r.length, r
end

--- Adds a section of `bars` bars.
-- @tparam string name sections may share a name ("Chorus"); they are then
--   referred to as "Chorus 1", "Chorus 2"... in time order
-- @tparam integer bars its length in bars
-- @param[opt] at where it starts: a bar number, or a position (see
--   `position`) on a downbeat; default: right after the last section
--   (bar 1 for the first)
-- @treturn table the new section, as `sections` gives it
function Session:add_section(name, bars, at)
  check_self(self, "add_section")
  if type(name) ~= "string" or name == "" or name:find("%c") then
    misuse(("bad argument #1 to 'add_section' (section name expected, got %s)")
      :format(type(name) == "string" and ("'%s'"):format(name) or typename(name)))
  end
  if math.type(bars) ~= "integer" and not (type(bars) == "number" and bars == math.floor(bars)) then
    misuse(("bad argument #2 to 'add_section' (whole number of bars expected, got %s)")
      :format(typename(bars)))
  end
  bars = math.tointeger(bars)
  if bars < 1 then
    misuse(("bad argument #2 to 'add_section' (at least one bar expected, got %d)"):format(bars))
  end
  local m = map_of(self)
  local bar
  if at == nil then
    bar = 1
    for _, sec in ipairs(self._sections) do
      bar = math.max(bar, sec.bar + sec.length_bars)
    end
  elseif math.type(at) == "integer" or (type(at) == "number" and at == math.floor(at)) then
    bar = math.tointeger(at)
    if bar < 1 or bar > tempo.BAR_MAX then
      misuse(("bad argument #3 to 'add_section' (bar %d is not between 1 and %d)")
        :format(bar, tempo.BAR_MAX))
    end
  elseif type(at) == "string" then
    local p = resolve(self, at, "add_section", 3, 2)
    local b, beat, frac = m:to_bbt(p)
    if beat ~= 1 or frac ~= 0 then
      misuse(("bad argument #3 to 'add_section' (sections start on a bar's first beat; '%s' is %s)")
        :format(at, m:format(p)))
    end
    bar = b
  else
    misuse(("bad argument #3 to 'add_section' (bar number or position expected, got %s)")
      :format(typename(at)))
  end
  if bar + bars - 1 > tempo.BAR_MAX then
    misuse(("bad argument #2 to 'add_section' (%d bars from bar %d end after the last bar, %d)")
      :format(bars, bar, tempo.BAR_MAX))
  end
  local labels = labels_of(self._sections)
  for i, sec in ipairs(self._sections) do
    if bar < sec.bar + sec.length_bars and sec.bar < bar + bars then
      misuse(("add_section: '%s' (bars %d to %d) would overlap '%s' (bars %d to %d)")
        :format(name, bar, bar + bars - 1, labels[i], sec.bar, sec.bar + sec.length_bars - 1))
    end
  end
  local list = {}
  for i, sec in ipairs(self._sections) do list[i] = sec end
  local new = { name = name, bar = bar, length_bars = bars }
  list[#list + 1] = new
  table.sort(list, function(a, b) return a.bar < b.bar end)
  local clash = label_clash(list)
  if clash then
    misuse(("add_section: two sections would be called '%s'; choose another name"):format(clash))
  end
  self._sections = list
  local i = index_of(list, new)
  return section_record(m, new, labels_of(list)[i])
end

-- ------------------------------------------------------------ tempo

--- Sets the tempo (and meter) from a bar on, or changes the change already
-- there. Sections stay on their bars; their positions in samples move.
-- @tparam integer bar 1 to 99999
-- @tparam number bpm 1 to 1000, counting the meter's note value
-- @tparam[opt] string meter "N/D"; default: the meter in effect at bar
-- @treturn Session self
function Session:set_tempo(bar, bpm, meter)
  check_self(self, "set_tempo")
  local m = map_of(self)
  local ok, err = pcall(function() m:set(bar, bpm, meter) end)
  if not ok then
    -- The binding's message, at our caller's line and under our name.
    local msg = tostring(err):gsub("^.-:%d+: ", "", 1)
    misuse((msg:gsub("^bad argument (#%d+) to 'set'", "bad argument %1 to 'set_tempo'")))
  end
  return self
end

--- The tempo map as data: `{bar, bpm, meter, start}` per change, `start`
-- in samples.
-- @treturn {table,...}
function Session:tempo()
  check_self(self, "tempo")
  local out = {}
  for i, seg in ipairs(map_of(self):segments()) do
    out[i] = { bar = seg.bar, bpm = seg.bpm, meter = seg.meter, start = seg.sample }
  end
  return out
end

--- Converts a position to samples.
-- @param p an integer number of samples; or a string: samples ("96000"),
--   seconds ("12.5s"), bars:beats ("5:1", "5:2.5"), or a section ("Chorus 2",
--   its start)
-- @treturn integer sample
function Session:position(p)
  check_self(self, "position")
  local sample = resolve(self, p, "position", 1, 2)
  return sample     -- not a tail call: error levels count this frame
end

--- Adds a marker.
-- @tparam string name
-- @param p a position (see `position`)
-- @treturn table the marker `{name, start}`
function Session:add_marker(name, p)
  check_self(self, "add_marker")
  if type(name) ~= "string" or name == "" then
    misuse(("bad argument #1 to 'add_marker' (marker name expected, got %s)")
      :format(type(name) == "string" and "empty string" or typename(name)))
  end
  local start = resolve(self, p, "add_marker", 2, 2)
  local mk = { name = name, start = start }
  local list = self.markers
  list[#list + 1] = mk
  table.sort(list, function(a, b) return a.start < b.start end)
  return mk
end

-- ------------------------------------------------------------ variants

local function variant_names(self)
  local names = {}
  for i, v in ipairs(self._variants) do names[i] = v.name end
  return names
end

--- Records (or replaces) a variant of the arrangement: fn(a) is called
-- with a builder whose methods (`drop`, `again`, `reorder`, `move`,
-- `shorten`, `extend`, `tempo`, `add_track`, `remove_track`, `fade_in`,
-- `fade_out`; see `reel.arrange`) are stored as data.
-- @tparam string name
-- @tparam function fn
-- @treturn table the variant's arrangement, as `arrangement` gives it
function Session:variant(name, fn)
  check_self(self, "variant")
  if type(name) ~= "string" or name == "" or name:find("%c") then
    misuse(("bad argument #1 to 'variant' (variant name expected, got %s)")
      :format(type(name) == "string" and ("'%s'"):format(name) or typename(name)))
  end
  if type(fn) ~= "function" then
    misuse(("bad argument #2 to 'variant' (function expected, got %s)"):format(typename(fn)))
  end
  local v = arrange.record(name, fn, Session.sections(self), (track_names(self)))
  local i = index_of(variant_names(self), name) or #self._variants + 1
  self._variants[i] = v
  return Session.arrangement(self, name)
end

--- The names of the variants, in the order they were made.
-- @treturn {string,...}
function Session:variants()
  check_self(self, "variants")
  return variant_names(self)
end

--- A variant's arrangement: its sections laid out from bar 1 (see
-- `reel.arrange.layout`).
-- @tparam string name
-- @treturn table `{name, sections, bars, length, seconds, tracks, added, removed}`
function Session:arrangement(name)
  check_self(self, "arrangement")
  if type(name) ~= "string" then
    misuse(("bad argument #1 to 'arrangement' (variant name expected, got %s)"):format(typename(name)))
  end
  local names = variant_names(self)
  local i = index_of(names, name)
  if not i then
    misuse(("no variant '%s' (%s)"):format(name,
      #names > 0 and "variants: " .. table.concat(names, ", ") or "the session has no variants"))
  end
  local a, err = arrange.layout(self._variants[i], Session.sections(self), (track_names(self)), map_of(self))
  if not a then misuse(err) end
  return a
end

-- ------------------------------------------------------------ takes

local take_filter = { track = true, status = true, section = true, pass = true }

--- The takes matching a filter, in the order they were recorded.
-- Called as `s:takes(filter)`; `s.takes` itself is the list of all takes.
-- @tparam[opt] table filter `track` (name), `status` ("kept", "rejected",
--   "selected"), `section` (as recorded, e.g. "Chorus 2"), `pass` (integer)
-- @treturn {table,...} the take tables themselves (changing them changes
--   the session)
function TakeList.__call(list, self, filter)
  if getmetatable(self) ~= Session or rawget(self, "takes") ~= list then
    misuse("bad self to 'takes' (reel.session expected); call it as s:takes(...)")
  end
  if filter ~= nil and type(filter) ~= "table" then
    misuse(("bad argument #1 to 'takes' (table of options expected, got %s)"):format(typename(filter)))
  end
  filter = filter or {}
  for k, v in pairs(filter) do
    if not take_filter[k] then misuse(("unknown option '%s'"):format(tostring(k))) end
    if k == "status" and not index_of(M.STATUSES, v) then
      misuse(("bad option 'status' ('%s' is not %s)"):format(tostring(v), one_of_text(M.STATUSES)))
    elseif (k == "section") and type(v) ~= "string" then
      misuse(("bad option '%s' (string expected, got %s)"):format(k, typename(v)))
    elseif k == "pass" and math.type(v) ~= "integer" then
      misuse(("bad option 'pass' (integer expected, got %s)"):format(typename(v)))
    end
  end
  if filter.track ~= nil then
    if type(filter.track) ~= "string" then
      misuse(("bad option 'track' (string expected, got %s)"):format(typename(filter.track)))
    end
    check_track_arg(self, filter.track, 1, "takes", 2)
  end
  local section = filter.section
  if section then
    local recorded = false
    for _, t in ipairs(list) do
      if t.section == section then recorded = true break end
    end
    if not recorded then
      local r, err = find_section(self, section)
      if not r then misuse(err) end
      section = r.label
    end
  end
  local out = {}
  for _, t in ipairs(list) do
    if (filter.track == nil or t.track == filter.track)
        and (filter.status == nil or status_of(t) == filter.status)
        and (section == nil or t.section == section)
        and (filter.pass == nil or t.pass == filter.pass) then
      out[#out + 1] = t
    end
  end
  return out
end

local function find_take(self, track, n, fname, level)
  check_track_arg(self, track, 1, fname, level + 1)
  if math.type(n) ~= "integer" and not (type(n) == "number" and n == math.floor(n)) then
    misuse(("bad argument #2 to '%s' (take number expected, got %s)"):format(fname, typename(n)),
      level + 1)
  end
  n = math.tointeger(n)
  local numbers = {}
  for _, t in ipairs(self.takes) do
    if t.track == track then
      if t.take == n then return t end
      numbers[#numbers + 1] = tostring(t.take)
    end
  end
  misuse(("track '%s' has no take %d (%s)"):format(track, n,
    #numbers > 0 and "takes: " .. table.concat(numbers, ", ") or "no takes yet"), level + 1)
end

--- One take.
-- @tparam string track
-- @tparam integer n its number
-- @treturn table the take table
function Session:take(track, n)
  check_self(self, "take")
  local t = find_take(self, track, n, "take", 2)
  return t          -- not a tail call: error levels count this frame
end

--- The selected take of a track, or nil.
-- @tparam string track
-- @treturn ?table
function Session:selected(track)
  check_self(self, "selected")
  check_track_arg(self, track, 1, "selected", 2)
  for _, t in ipairs(self.takes) do
    if t.track == track and t.status == "selected" then return t end
  end
  return nil
end

--- Marks a take "kept", "rejected" or "selected" (a track has at most one
-- selected take: selecting one makes the previous one "kept").
-- @tparam string track
-- @tparam integer n
-- @tparam string status
-- @tparam[opt] string note replaces the take's note when given
-- @treturn table the take
function Session:set_status(track, n, status, note)
  check_self(self, "set_status")
  local t = find_take(self, track, n, "set_status", 2)
  if not index_of(M.STATUSES, status) then
    misuse(("bad argument #3 to 'set_status' (%s expected, got %s)"):format(one_of_text(M.STATUSES),
      type(status) == "string" and ("'%s'"):format(status) or typename(status)))
  end
  if note ~= nil and type(note) ~= "string" then
    misuse(("bad argument #4 to 'set_status' (string expected, got %s)"):format(typename(note)))
  end
  if status == "selected" then
    for _, other in ipairs(self.takes) do
      if other ~= t and other.track == t.track and other.status == "selected" then
        other.status = "kept"
      end
    end
  end
  t.status = status
  if note ~= nil then t.note = note end
  return t
end

--- Selects a take: `set_status(track, n, "selected")`.
-- @tparam string track
-- @tparam integer n
-- @treturn table the take
function Session:select(track, n)
  check_self(self, "select")
  find_take(self, track, n, "select", 2)
  return Session.set_status(self, track, n, "selected")
end

local MIX_OPTIONS = { gain_db = true, pan = true, mute = true, solo = true }

--- Sets a track's mix: what `render` does with it (saved with the session).
-- Solo works as on a console: when any track is soloed, only soloed tracks
-- are heard; otherwise every track that is not muted.
-- @tparam string track a track in `tracks`
-- @tparam table mix any of `gain_db` (number), `pan` (-1 left .. 1 right),
--   `mute`, `solo` (booleans); fields left out stay as they are
-- @treturn table the track
function Session:set_mix(track, mix)
  check_self(self, "set_mix")
  check_track_arg(self, track, 1, "set_mix", 2)
  if type(mix) ~= "table" then
    misuse(("bad argument #2 to 'set_mix' (table of mix settings expected, got %s)"):format(typename(mix)))
  end
  for k, v in pairs(mix) do
    if not MIX_OPTIONS[k] then
      misuse(("unknown mix setting '%s' (gain_db, pan, mute, solo)"):format(tostring(k)))
    end
    if k == "gain_db" and (type(v) ~= "number" or v ~= v or v == math.huge or v > 60) then
      misuse(("bad mix setting 'gain_db' (number of dB up to 60 expected, got %s)"):format(tostring(v)))
    elseif k == "pan" and (type(v) ~= "number" or not (v >= -1 and v <= 1)) then
      misuse(("bad mix setting 'pan' (number from -1 to 1 expected, got %s)"):format(tostring(v)))
    elseif (k == "mute" or k == "solo") and type(v) ~= "boolean" then
      misuse(("bad mix setting '%s' (boolean expected, got %s)"):format(k, typename(v)))
    end
  end
  local tr
  for _, t in ipairs(self.tracks) do
    if t.name == track then tr = t break end
  end
  if not tr then
    misuse(("track '%s' has takes but no entry in tracks; add it with s:track first"):format(track))
  end
  for k, v in pairs(mix) do tr[k] = v end
  return tr
end

--- Renders the session (or a variant) offline: a stereo mix and/or one
-- stem per track; see `reel.render`.
-- @tparam[opt] table opts `out`, `stems`, `variant`, `format`,
--   `crossfade_ms`, `comp_crossfade_ms`, `force`, `progress`
-- @treturn[1] table `{out, stems = {{track, path}...}, frames, rate, start}`
-- @return[2] nil, message
function Session:render(opts)
  check_self(self, "render")
  local r, err = require("reel.render").render(self, opts, 2)
  return r, err
end

--- What went wrong in a take, for people: a list such as
-- `{"clipped 12 samples", "2 xruns (at 1.500 s, 2.000 s)"}`, empty when
-- nothing did.
-- @tparam table take
-- @treturn {string,...}
function Session:problems(take)
  check_self(self, "problems")
  if type(take) ~= "table" then
    misuse(("bad argument #1 to 'problems' (take expected, got %s)"):format(typename(take)))
  end
  local out = {}
  local rate = math.tointeger(take.rate) or effective_rate(self)
  local function at(frames)
    local list = {}
    for i, f in ipairs(frames) do
      if i > 4 then list[#list + 1] = "..." break end
      list[#list + 1] = ("%.3f s"):format(f / rate)
    end
    return table.concat(list, ", ")
  end
  if (take.clipped or 0) > 0 then
    out[#out + 1] = ("clipped %d sample%s"):format(take.clipped, take.clipped == 1 and "" or "s")
  end
  if (take.xruns or 0) > 0 then
    local pos = {}
    for i, p in ipairs(take.xrun_positions or {}) do pos[i] = p end
    out[#out + 1] = ("%d xrun%s%s"):format(take.xruns, take.xruns == 1 and "" or "s",
      #pos > 0 and (" (at %s)"):format(at(pos)) or "")
  end
  if (take.overruns or 0) > 0 then
    local pos = {}
    for i, g in ipairs(take.gaps or {}) do pos[i] = g.position end
    out[#out + 1] = ("%d overrun%s, %d frames lost%s"):format(take.overruns,
      take.overruns == 1 and "" or "s", take.lost_frames or 0,
      #pos > 0 and (" (at %s)"):format(at(pos)) or "")
  end
  if take.error then out[#out + 1] = "error: " .. tostring(take.error) end
  if self.rate and take.rate and take.rate ~= self.rate then
    out[#out + 1] = ("recorded at %d Hz, the session is at %d Hz"):format(take.rate, self.rate)
  end
  return out
end

-- ------------------------------------------------------------ comps

-- A comp chooses, for one track and one section, the take that plays there.
-- Stored as `{track, bar, take}` (the section's first bar is the truth, as
-- for sections; its label is derived on save) plus whatever keys a newer
-- version wrote, which are kept.

--- The rules `comp_by_rule` knows.
M.COMP_RULES = { "fewest_problems", "loudest_unclipped", "latest", "first" }

local function section_at_bar(self, bar)
  for _, r in ipairs(Session.sections(self)) do
    if r.bar == bar then return r end
  end
end

local function take_range(t)
  local a = math.tointeger(t.start) or 0
  return a, a + (math.tointeger(t.frames) or 0)
end

-- A take's part of a section: at, offset, frames (frames 0 when they do
-- not meet).
local function clip_to(t, a, b)
  local ta, tb = take_range(t)
  local at, stop = math.max(a, ta), math.min(b, tb)
  if stop <= at then return at, 0, 0 end
  return at, at - ta, stop - at
end

local function check_section_arg(self, name, argn, fname, level)
  if type(name) ~= "string" then
    misuse(("bad argument #%d to '%s' (section name expected, got %s)")
      :format(argn, fname, typename(name)), level + 1)
  end
  local r, err = find_section(self, name)
  if not r then misuse(err, level + 1) end
  return r
end

--- The comps: which take plays in which section, per track.
-- @tparam[opt] string track only this track's
-- @treturn {table,...} `{track, section (label), bar, take}` in track then
--   time order (copies: change comps with `comp` and `clear_comp`)
function Session:comps(track)
  check_self(self, "comps")
  if track ~= nil then check_track_arg(self, track, 1, "comps", 2) end
  local out = {}
  for _, c in ipairs(self._comps) do
    if track == nil or c.track == track then
      local r = section_at_bar(self, c.bar)
      out[#out + 1] = { track = c.track, bar = c.bar, take = c.take, section = r and r.label }
    end
  end
  local order = {}
  for i, t in ipairs(track_names(self)) do order[t] = i end
  table.sort(out, function(x, y)
    if x.track ~= y.track then return (order[x.track] or 0) < (order[y.track] or 0) end
    return x.bar < y.bar
  end)
  return out
end

--- Chooses by hand the take that plays in a section of a track (replacing
-- the section's comp, if any). The take may be any of the track's takes,
-- rejected ones too (a person decides), but it must reach into the section.
-- @tparam string track
-- @tparam string section a label ("Chorus 2") or a name used once
-- @tparam integer take the take's number
-- @treturn table the comp `{track, section, bar, take}`
function Session:comp(track, section, take)
  check_self(self, "comp")
  check_track_arg(self, track, 1, "comp", 2)
  local r = check_section_arg(self, section, 2, "comp", 2)
  if math.type(take) ~= "integer" and not (type(take) == "number" and take == math.floor(take)) then
    misuse(("bad argument #3 to 'comp' (take number expected, got %s)"):format(typename(take)))
  end
  take = math.tointeger(take)
  local t
  for _, x in ipairs(self.takes) do
    if x.track == track and x.take == take then t = x break end
  end
  if not t then
    local numbers = {}
    for _, x in ipairs(self.takes) do
      if x.track == track then numbers[#numbers + 1] = tostring(x.take) end
    end
    misuse(("bad argument #3 to 'comp' (track '%s' has no take %d (%s))"):format(track, take,
      #numbers > 0 and "takes: " .. table.concat(numbers, ", ") or "no takes yet"))
  end
  local _, _, frames = clip_to(t, r.start, r.start + r.length)
  if frames == 0 then
    local ta, tb = take_range(t)
    misuse(("bad argument #3 to 'comp' (take %d of '%s' (samples %d to %d) does not reach into "
      .. "section '%s' (samples %d to %d))"):format(take, track, ta, tb, r.label, r.start,
      r.start + r.length))
  end
  for _, c in ipairs(self._comps) do
    if c.track == track and c.bar == r.bar then
      c.take = take
      return { track = track, section = r.label, bar = r.bar, take = take }
    end
  end
  self._comps[#self._comps + 1] = { track = track, bar = r.bar, take = take }
  return { track = track, section = r.label, bar = r.bar, take = take }
end

--- Removes comps: a track's in one section, or all of a track's.
-- @tparam string track
-- @tparam[opt] string section
-- @treturn integer how many were removed
function Session:clear_comp(track, section)
  check_self(self, "clear_comp")
  check_track_arg(self, track, 1, "clear_comp", 2)
  local bar
  if section ~= nil then bar = check_section_arg(self, section, 2, "clear_comp", 2).bar end
  local keep, n = {}, 0
  for _, c in ipairs(self._comps) do
    if c.track == track and (bar == nil or c.bar == bar) then n = n + 1 else keep[#keep + 1] = c end
  end
  self._comps = keep
  return n
end

-- Loudness of a take inside [a, b): mean square and the samples at full
-- scale, read from the file in chunks.
local function region_level(self, t, a, b)
  local at, offset, frames = clip_to(t, a, b)
  local path = t.file:sub(1, 1) == "/" and t.file or join(self.dir, t.file)
  local sum, n, clipped = 0.0, 0, 0
  local pos, left = offset, frames
  while left > 0 do
    local count = math.min(left, 65536)
    local data, err = core.read_frames(path, pos, count)
    if not data then return nil, err end
    for i = 1, #data do
      local x = data[i]
      sum = sum + x * x
      if x >= 1.0 or x <= -1.0 then clipped = clipped + 1 end
    end
    n = n + #data
    if #data == 0 then break end
    pos, left = pos + count, left - count
  end
  return { ms = n > 0 and sum / n or 0, clipped = clipped, at = at, frames = frames }
end

-- How bad a take is for fewest_problems: kinds of problem (as `problems`
-- lists them), then their count (clipped samples + xruns + overruns).
local function badness(self, t)
  local kinds = #Session.problems(self, t)
  return kinds, (t.clipped or 0) + (t.xruns or 0) + (t.overruns or 0) + (t.error and 1 or 0)
end

--- Comps a track by a rule, section by section. The candidates for a
-- section are the track's takes that are not rejected and cover the whole
-- section (start at or before its start, end at or after its end). Rules:
--
--   * "fewest_problems": fewest kinds of problem (`problems`), then the
--     smallest count of clipped samples, xruns and overruns together,
--     counted over the whole take as session.json records them;
--   * "loudest_unclipped": the highest RMS level inside the section among
--     the takes with no sample at full scale inside it (read from the
--     files); a take that clips elsewhere still qualifies;
--   * "latest", "first": the highest or lowest take number (the template
--     take_policy's `prefer` values).
--
-- Ties go to the later take (the higher number). A section without a
-- candidate keeps its comp, if it had one, and is listed in `skipped`.
-- @tparam string track
-- @tparam string rule
-- @tparam[opt] {string,...} sections labels; default: every section
-- @treturn[1] {table,...} the comps made, as `comp` gives them, and
--   `skipped`, a list of `{section, reason}`
-- @return[2] nil, message (a take file could not be read)
function Session:comp_by_rule(track, rule, sections)
  check_self(self, "comp_by_rule")
  check_track_arg(self, track, 1, "comp_by_rule", 2)
  if not index_of(M.COMP_RULES, rule) then
    misuse(("bad argument #2 to 'comp_by_rule' (%s expected, got %s)"):format(
      one_of_text(M.COMP_RULES), type(rule) == "string" and ("'%s'"):format(rule) or typename(rule)))
  end
  local recs
  if sections == nil then
    recs = Session.sections(self)
  else
    if type(sections) ~= "table" then
      misuse(("bad argument #3 to 'comp_by_rule' (list of section names expected, got %s)")
        :format(typename(sections)))
    end
    recs = {}
    for i, name in ipairs(sections) do
      if type(name) ~= "string" then
        misuse(("bad argument #3 to 'comp_by_rule' (section name expected at item %d, got %s)")
          :format(i, typename(name)))
      end
      local r, err = find_section(self, name)
      if not r then misuse(("bad argument #3 to 'comp_by_rule' (%s)"):format(err)) end
      recs[#recs + 1] = r
    end
  end
  local made, skipped = json.array{}, {}
  for _, r in ipairs(recs) do
    local a, b = r.start, r.start + r.length
    local best, best_key
    local n_cand = 0
    for _, t in ipairs(self.takes) do
      local ta, tb = take_range(t)
      if t.track == track and status_of(t) ~= "rejected" and ta <= a and tb >= b then
        n_cand = n_cand + 1
        local key          -- compared as a list, larger is better
        if rule == "fewest_problems" then
          local kinds, count = badness(self, t)
          key = { -kinds, -count }
        elseif rule == "loudest_unclipped" then
          local lv, err = region_level(self, t, a, b)
          if not lv then return nil, err end
          if lv.clipped == 0 then key = { lv.ms } end
        elseif rule == "latest" then
          key = {}
        else
          key = { -t.take }
        end
        if key then
          key[#key + 1] = t.take          -- ties: the later take
          local better = best_key == nil
          for i = 1, #key do
            if better then break end
            if key[i] ~= best_key[i] then better = key[i] > best_key[i] break end
          end
          if better then best, best_key = t, key end
        end
      end
    end
    if best then
      made[#made + 1] = Session.comp(self, track, r.label, best.take)
    else
      skipped[#skipped + 1] = { section = r.label, reason = n_cand == 0
        and "no take of this track that is not rejected covers it"
        or "every take clips inside it" }
    end
  end
  made.skipped = skipped
  return made
end

--- The regions of a track that play: what playback and renders read.
-- With comps: one region per comped section, the section's range met with
-- the comped take's extent. Without: the selected take whole. Neither:
-- an empty list.
-- @tparam string track
-- @treturn {table,...} `{take, file (as stored), path (to open), at
--   (timeline sample of the region's first frame), offset (its frame in the
--   file), frames, section (label, or nil for a whole take)}`, sorted by
--   `at`, not overlapping
function Session:regions(track)
  check_self(self, "regions")
  check_track_arg(self, track, 1, "regions", 2)
  local function path_of(t)
    return t.file:sub(1, 1) == "/" and t.file or join(self.dir, t.file)
  end
  local out = {}
  local comped = false
  for _, c in ipairs(self._comps) do
    if c.track == track then
      comped = true
      local r = section_at_bar(self, c.bar)
      local t
      for _, x in ipairs(self.takes) do
        if x.track == track and x.take == c.take then t = x break end
      end
      if r and t then
        local at, offset, frames = clip_to(t, r.start, r.start + r.length)
        if frames > 0 then
          out[#out + 1] = { take = t.take, file = t.file, path = path_of(t), at = at,
                            offset = offset, frames = frames, section = r.label }
        end
      end
    end
  end
  if not comped then
    for _, t in ipairs(self.takes) do
      if t.track == track and t.status == "selected" and (math.tointeger(t.frames) or 0) > 0 then
        out[1] = { take = t.take, file = t.file, path = path_of(t), at = math.tointeger(t.start) or 0,
                   offset = 0, frames = t.frames }
      end
    end
  end
  table.sort(out, function(x, y) return x.at < y.at end)
  return out
end

-- ------------------------------------------------------------ numbering

--- The highest take number used for a track: in `last_take`, in the takes
-- and among `files` (names in `audio/`, as `<Track>_T<NN>.<ext>`).
-- @tparam Session s
-- @tparam string name the track
-- @tparam {string,...} files
-- @treturn integer 0 when there is none
function M.last_take_number(s, name, files)
  local n = s.last_take[name] or 0
  for _, t in ipairs(s.takes) do
    if t.track == name and math.type(t.take) == "integer" and t.take > n then n = t.take end
  end
  local prefix = name .. "_T"
  for _, f in ipairs(files) do
    if f:sub(1, #prefix) == prefix then
      local num = f:sub(#prefix + 1):match("^(%d+)%.")
      num = num and math.tointeger(tonumber(num))
      if num and num > n then n = num end
    end
  end
  return n
end

--- The number the next take of track `name` will get.
-- @tparam string name
-- @treturn integer
function Session:next_take_number(name)
  check_self(self, "next_take_number")
  local files = core.list_dir(join(self.dir, "audio")) or {}
  return M.last_take_number(self, name, files) + 1
end

-- ------------------------------------------------------------ locking

-- The lock handle (reel.sys.lock) of each Session holding the lock; weak
-- keys, so that a Session collected lets go of its lock (the handle's
-- __gc).
local locks = setmetatable({}, { __mode = "k" })

-- What this process is, for the lock file: "reel record", "reel run
-- day.lua" (the program's name, its command, a script's name).
local function command_line()
  local f = io.open("/proc/self/cmdline", "rb")
  local text = f and f:read(4096) or ""
  if f then f:close() end
  local args = {}
  for a in text:gmatch("([^%z]*)%z") do args[#args + 1] = a end
  local prog = (args[1] or "reel"):match("[^/]*$")
  local out = { prog ~= "" and prog or "reel" }
  if args[2] then out[2] = args[2]:match("^%-") and args[2] or args[2]:match("[^/]*$") end
  if args[2] == "run" and args[3] then out[3] = args[3]:match("[^/]*$") end
  return tame(table.concat(out, " ")):sub(1, 200)
end

local function holder_text()
  local now = os.time()
  return ("# reel session lock: the flock(2) on this file is the lock, not this text;\n"
    .. "# it ends with the process below, however that ends.\n"
    .. "pid=%d\ncommand=%s\nstarted=%d\nsince=%s\n")
    :format(sys.pid(), command_line(), now, os.date("%Y-%m-%d %H:%M:%S %z", now))
end

-- "pid 1234, reel record, since 14:02:11" from a holder's text.
local function describe_holder(text)
  local f = {}
  for k, v in tostring(text):gmatch("([%w_]+)=([^\n]*)") do f[k] = v end
  local parts = {}
  local pid = math.tointeger(tonumber(f.pid))
  parts[#parts + 1] = pid and ("pid %d"):format(pid) or "pid unknown"
  if f.command and f.command ~= "" then parts[#parts + 1] = tame(f.command):sub(1, 200) end
  local started = math.tointeger(tonumber(f.started))
  if started then
    local today = os.date("%Y-%m-%d") == os.date("%Y-%m-%d", started)
    parts[#parts + 1] = "since " .. os.date(today and "%H:%M:%S" or "%Y-%m-%d %H:%M:%S", started)
  end
  return table.concat(parts, ", ")
end

local function folder_name(dir)
  return (dir:gsub("(.)/+$", "%1"))
end

--- Takes the lock of a session folder for this process, as `Session:lock`
-- does, without a Session (`reel recover` holds it before reading the
-- journal).
-- @tparam string dir the session folder
-- @treturn[1] userdata the lock (a `reel.sys.lock`: `:unlock()`, `<close>`;
--   collected, it lets go)
-- @return[2] nil, message ("DIR: the session is in use by another reel
--   process (pid 1234, reel record, since 14:02:11); not writing to it", or
--   why DIR/.reel.lock cannot be opened)
function M.lock(dir)
  if type(dir) ~= "string" or dir == "" then
    misuse(("bad argument #1 to 'lock' (folder path expected, got %s)")
      :format(dir == "" and "empty string" or typename(dir)))
  end
  local h, err, holder = sys.lock(join(dir, M.LOCK_FILE), holder_text())
  if h then return h end
  if type(holder) == "string" then
    return nil, ("%s: the session is in use by another reel process (%s); not writing to it")
      :format(folder_name(dir), describe_holder(holder))
  end
  return nil, ("cannot lock the session: %s"):format(err)
end

local function take_lock(self)
  if locks[self] then return true end
  local h, err = M.lock(self.dir)
  if not h then return nil, err end
  locks[self] = h
  return true
end

--- Takes the session's lock, if this Session does not hold it yet: an
-- exclusive flock(2) on `DIR/.reel.lock` (created if missing, never
-- deleted; the holder's pid, command and start time are written into it
-- for the message of a refused process). `save` and recordings take it by
-- themselves before they write; call it to claim a session early (before
-- a long measurement, say). Held until `close`, collection or the end of
-- the process. Other Sessions of this process on the same folder share it
-- (each saves its own contents: the last save wins).
-- @treturn[1] true
-- @return[2] nil, message (another process holds it: "DIR: the session is
--   in use by another reel process (pid 1234, reel record, since
--   14:02:11); not writing to it")
function Session:lock()
  check_self(self, "lock")
  return take_lock(self)
end

--- Whether this Session holds the session's lock.
-- @treturn boolean
function Session:locked()
  check_self(self, "locked")
  return locks[self] ~= nil
end

--- Lets go of the session's lock (other Sessions of this process on the
-- same folder keep it until they close too). The Session stays usable:
-- writing again takes the lock again. Also `<close>`; closing twice is
-- harmless.
function Session:close()
  check_self(self, "close")
  local h = locks[self]
  locks[self] = nil
  if h then h:unlock() end
end

Session.__close = Session.close

-- ------------------------------------------------------------ saving

local function copy(t, skip)
  local out = {}
  for k, v in pairs(t) do
    if not (skip and skip[k]) then out[k] = v end
  end
  return out
end

local TRACK_RUNTIME = { armed = true, inputs = true }
local TAKE_RUNTIME = { path = true }

--- The session as the JSON document `save` writes: every derived field
-- (positions in samples, bars:beats, labels, seconds) computed afresh.
-- @treturn table
function Session:document()
  check_self(self, "document")
  local m = map_of(self)
  local doc = copy(self._extra)
  doc.reel_session = M.VERSION
  doc.name = self.name
  doc.rate = m:rate()
  doc.format = self.format
  doc.tempo = json.array(Session.tempo(self))
  local sections = json.array{}
  for i, r in ipairs(Session.sections(self)) do
    local out = copy(self._sections[i])
    for k, v in pairs(r) do out[k] = v end
    sections[i] = out
  end
  doc.sections = sections
  local markers = json.array{}
  for i, mk in ipairs(self.markers) do
    local out = copy(mk)
    out.start_bbt = bbt(m, mk.start)
    markers[i] = out
  end
  doc.markers = markers
  local tracks = json.array{}
  for i, t in ipairs(self.tracks) do
    local out = copy(t, TRACK_RUNTIME)
    out.input = json.array{ table.unpack(t.input) }
    out.inputs = json.array{ table.unpack(t.input) }
    if out.monitor == nil then out.monitor = false end
    if out.gain_db == nil then out.gain_db = 0 end
    if out.pan == nil then out.pan = 0 end
    tracks[i] = out
  end
  doc.tracks = tracks
  local takes = json.array{}
  for i, t in ipairs(self.takes) do
    local out = copy(t, TAKE_RUNTIME)
    out.status = status_of(t)
    out.start_bbt = bbt(m, t.start)
    if math.type(t.frames) == "integer" and math.type(t.rate) == "integer" and t.rate > 0 then
      out.seconds = t.frames / t.rate
    end
    if type(t.xrun_positions) == "table" then out.xrun_positions = json.array(copy(t.xrun_positions)) end
    if type(t.gaps) == "table" then out.gaps = json.array(copy(t.gaps)) end
    takes[i] = out
  end
  doc.takes = takes
  doc.last_take = json.object(copy(self.last_take))
  doc.latency = self.latency and json.object(copy(self.latency)) or nil
  if #self._variants > 0 then doc.variants = json.array(arrange.document(self._variants)) end
  if #self._comps > 0 then
    local comps = json.array{}
    for _, c in ipairs(self._comps) do
      local out = copy(c)
      local r = section_at_bar(self, c.bar)
      out.section = r and r.label or c.section
      comps[#comps + 1] = out
    end
    doc.comps = comps
  end
  return doc
end

--- Writes DIR/session.json atomically (temporary file, fsync, rename,
-- fsync of the folder), after taking the session's lock (see `lock`).
-- @treturn[1] true
-- @return[2] nil, message (the session is in use by another process, the
--   folder cannot be written)
function Session:save()
  check_self(self, "save")
  local ok, err = take_lock(self)
  if not ok then return nil, err end
  return core.write_atomic(join(self.dir, M.FILE), json.encode(Session.document(self)))
end

-- ------------------------------------------------------------ loading

local TAKE_FIELDS = {
  { "track", "string", required = true, min = 1 },
  { "take", "integer", required = true, min = 1 },
  { "file", "string", required = true, min = 1 },
  { "status", "status" },
  { "start", "integer" },
  { "start_bbt", "string" },
  { "frames", "integer", min = 0 },
  { "seconds", "number" },
  { "rate", "integer", min = 1 },
  { "format", "string" },
  { "peak", "number", null = true },
  { "peak_db", "number", null = true },
  { "clipped", "integer", min = 0 },
  { "xruns", "integer", min = 0 },
  { "xrun_positions", "positions" },
  { "overruns", "integer", min = 0 },
  { "lost_frames", "integer", min = 0 },
  { "gaps", "gaps" },
  { "recorded", "string" },
  { "device", "string" },
  { "section", "string" },
  { "pass", "integer", min = 0 },
  { "note", "string" },
  { "error", "string" },
  { "loudness", "loudness" },
}

local function check_take(t, w)
  need(t, "object", w)
  for _, f in ipairs(TAKE_FIELDS) do
    local key, kind = f[1], f[2]
    local where = w .. "." .. key
    local v = t[key]
    if v == json.null and not f.null then v = nil t[key] = nil end
    if v == nil then
      if f.required then bad(where, "missing") end
    elseif v == json.null then
      t[key] = key == "peak_db" and -math.huge or nil
    elseif kind == "status" then
      if not index_of(M.STATUSES, v) then
        bad(where, ("%s expected, got %s"):format(one_of_text(M.STATUSES),
          quote(v)))
      end
    elseif kind == "positions" then
      need(v, "list", where)
      for i, p in ipairs(v) do need(p, "integer", ("%s[%d]"):format(where, i), 0) end
      json.array(v)
    elseif kind == "gaps" then
      need(v, "list", where)
      for i, g in ipairs(v) do
        local gw = ("%s[%d]"):format(where, i)
        need(g, "object", gw)
        need(g.position, "integer", gw .. ".position", 0)
        need(g.frames, "integer", gw .. ".frames", 0)
      end
      json.array(v)
    elseif kind == "loudness" then
      -- reel.loudness's take_fields; null levels (too quiet) are -inf.
      need(v, "object", where)
      for _, k in ipairs{ "integrated", "range", "short_term_max", "true_peak" } do
        if v[k] == json.null then
          v[k] = k ~= "range" and -math.huge or nil
        elseif v[k] ~= nil then
          need(v[k], "number", where .. "." .. k)
        end
      end
      if v.note ~= nil then need(v.note, "string", where .. ".note") end
    else
      need(v, kind, where, f.min)
    end
  end
  -- Take files are opened, played and rewritten by path: never one outside
  -- the folder (an absolute path, a '..' component) or one a C function
  -- would read only up to a NUL byte.
  local file = t.file
  if file:sub(1, 1) == "/" or file:find("\0", 1, true) or ("/" .. file .. "/"):find("/../", 1, true) then
    bad(w .. ".file", "must be a path inside the session folder")
  end
  -- Track names become file names (stems, exports): the same rule as for
  -- the tracks themselves.
  local why = M.bad_track_name(t.track)
  if why then bad(w .. ".track", why) end
  -- A take lies within a day of the session start (at the take's rate, or
  -- 384 kHz): renders and reports run over the whole timeline, and an absurd
  -- position would have them write without end.
  local day = 86400 * (t.rate or 384000)
  if t.start and (t.start < -day or t.start > day) then
    bad(w .. ".start", ("must lie within a day (%d samples) of the session start, got %d"):format(day, t.start))
  end
  if t.frames and t.frames > day then
    bad(w .. ".frames", ("a take is at most a day long (%d samples), got %d"):format(day, t.frames))
  end
  return t
end

local function check_track(t, w)
  need(t, "object", w)
  local why = M.bad_track_name(t.name)
  if why then bad(w .. ".name", t.name == nil and "missing" or why) end
  local input, inputs
  local err
  if t.inputs ~= nil and t.inputs ~= json.null then
    inputs, err = M.normalize_input(t.inputs)
    if not inputs then bad(w .. ".inputs", err) end
  end
  if t.input ~= nil and t.input ~= json.null then
    input, err = M.normalize_input(t.input)
    if not input then bad(w .. ".input", err) end
  end
  if not input and not inputs then bad(w .. ".inputs", "missing") end
  if input and inputs and table.concat(input, ",") ~= table.concat(inputs, ",") then
    bad(w, ("input [%s] and inputs [%s] disagree"):format(table.concat(input, ", "),
      table.concat(inputs, ", ")))
  end
  local out = copy(t, { input = true, inputs = true })
  out.input = inputs or input
  for _, k in ipairs{ "monitor", "gain_db", "pan", "mute", "solo" } do
    if out[k] == json.null then out[k] = nil end
  end
  if out.monitor ~= nil then need(out.monitor, "boolean", w .. ".monitor") end
  if out.gain_db ~= nil then need(out.gain_db, "number", w .. ".gain_db", -200, 60) end
  if out.pan ~= nil then need(out.pan, "number", w .. ".pan", -1, 1) end
  if out.mute ~= nil then need(out.mute, "boolean", w .. ".mute") end
  if out.solo ~= nil then need(out.solo, "boolean", w .. ".solo") end
  out.armed = true
  return out
end

local SECTION_DERIVED = { label = true, start = true, length = true, start_bbt = true, seconds = true }

local function check_sections(list)
  need(list, "list", "sections")
  local out = {}
  for i, sec in ipairs(list) do
    local w = ("sections[%d]"):format(i)
    need(sec, "object", w)
    need(sec.name, "string", w .. ".name", 1)
    need(sec.bar, "integer", w .. ".bar", 1, tempo.BAR_MAX)
    need(sec.length_bars, "integer", w .. ".length_bars", 1, tempo.BAR_MAX)
    if sec.bar + sec.length_bars - 1 > tempo.BAR_MAX then
      bad(w .. ".length_bars", ("ends after the last bar (%d)"):format(tempo.BAR_MAX))
    end
    local s = copy(sec, SECTION_DERIVED)
    s._index = i
    out[i] = s
  end
  table.sort(out, function(a, b) return a.bar < b.bar end)
  for i = 2, #out do
    local a, b = out[i - 1], out[i]
    if b.bar < a.bar + a.length_bars then
      bad(("sections[%d]"):format(b._index), ("bars %d to %d overlap sections[%d] %s (bars %d to %d)")
        :format(b.bar, b.bar + b.length_bars - 1, a._index, quote(a.name), a.bar, a.bar + a.length_bars - 1))
    end
  end
  local clash, _, j = label_clash(out)
  if clash then
    bad(("sections[%d].name"):format(out[j]._index),
      ("two sections are called %s"):format(quote(clash)))
  end
  for _, s in ipairs(out) do s._index = nil end
  return out
end

local function check_tempo(list)
  need(list, "list", "tempo")
  if #list == 0 then bad("tempo", "at least one change (at bar 1) expected") end
  local segs = {}
  for i, seg in ipairs(list) do
    local w = ("tempo[%d]"):format(i)
    need(seg, "object", w)
    need(seg.bar, "integer", w .. ".bar", 1, tempo.BAR_MAX)
    need(seg.bpm, "number", w .. ".bpm")
    if seg.meter ~= nil then
      need(seg.meter, "string", w .. ".meter")
      local form = meter_form(seg.meter)
      if form then bad(w, form) end
    end
    if i == 1 and seg.bar ~= 1 then bad(w .. ".bar", "the first change must be at bar 1, got " .. seg.bar) end
    if i > 1 and seg.bar <= list[i - 1].bar then
      bad(w .. ".bar", ("changes must be in bar order: %d comes after %d"):format(seg.bar, list[i - 1].bar))
    end
    local m = tempo.new(DEFAULT_RATE, DEFAULT_BPM)
    local ok, err = pcall(function() m:set(seg.bar, seg.bpm, seg.meter) end)
    m:close()
    if not ok then bad(w, reason_of(err)) end
    segs[i] = { bar = seg.bar, bpm = seg.bpm, meter = seg.meter or (i > 1 and segs[i - 1].meter) or DEFAULT_METER }
  end
  return segs
end

-- comps: `{track, section, take}` and optionally `bar` (the truth when
-- given: labels move when sections are added).
local function check_comps(s, list)
  need(list, "list", "comps")
  local out, seen = {}, {}
  local recs = Session.sections(s)
  for i, c in ipairs(list) do
    local w = ("comps[%d]"):format(i)
    need(c, "object", w)
    need(c.track, "string", w .. ".track", 1)
    need(c.section, "string", w .. ".section", 1)
    need(c.take, "integer", w .. ".take", 1)
    local r
    if c.bar ~= nil and c.bar ~= json.null then
      need(c.bar, "integer", w .. ".bar", 1)
      for _, x in ipairs(recs) do if x.bar == c.bar then r = x end end
      if not r then bad(w .. ".bar", ("no section starts at bar %d"):format(c.bar)) end
    else
      for _, x in ipairs(recs) do if x.label == c.section then r = x end end
      if not r then
        local labels = {}
        for i, x in ipairs(recs) do labels[i] = x.label end
        bad(w .. ".section", ("unknown section %s (%s)"):format(quote(c.section),
          #labels > 0 and "sections: " .. table.concat(labels, ", ") or "the session has no sections"))
      end
    end
    local found = false
    for _, t in ipairs(s.takes) do
      if t.track == c.track and t.take == c.take then found = true break end
    end
    if not found then
      bad(w .. ".take", ("track %s has no take %d in takes"):format(quote(c.track), c.take))
    end
    local key = c.track .. "\0" .. r.bar
    if seen[key] then
      bad(w, ("track %s already has a comp for section '%s' (comps[%d])"):format(quote(c.track), r.label,
        seen[key]))
    end
    seen[key] = i
    local kept = copy(c, { section = true })
    kept.bar = r.bar
    kept.take = math.tointeger(c.take)
    out[#out + 1] = kept
  end
  return out
end

local function check_document(doc, dir)
  if type(doc) ~= "table" or is_list(doc) then bad(nil, "not a reel session file (expected a JSON object)") end
  local v = doc.reel_session
  if v == nil or v == json.null then bad(nil, "not a reel session file (no reel_session version)") end
  if v ~= M.VERSION then
    if math.type(v) == "integer" and v > M.VERSION then
      bad("reel_session", ("format version %d is newer than this reel reads (%d)"):format(v, M.VERSION))
    end
    bad(nil, ("not a reel session file (reel_session is %s)"):format(clip((json.encode(v):gsub("\n$", "")))))
  end
  local s = blank(dir)
  local known = {
    reel_session = true, name = true, rate = true, format = true, tempo = true, sections = true,
    markers = true, tracks = true, takes = true, last_take = true, latency = true, variants = true,
    comps = true,
  }
  for k, x in pairs(doc) do
    if not known[k] then s._extra[k] = x end
  end
  local function opt(key) local x = doc[key] if x == json.null then return nil end return x end
  if opt("name") ~= nil then s.name = need(doc.name, "string", "name") end
  if opt("rate") ~= nil then s.rate = need(doc.rate, "integer", "rate", RATE_MIN, RATE_MAX) end
  if opt("format") ~= nil then
    local c = M.check_format(doc.format)
    if c then bad("format", c) end
    s.format = doc.format
  end
  if opt("tempo") ~= nil then s._segments = check_tempo(doc.tempo) end
  if opt("sections") ~= nil then s._sections = check_sections(doc.sections) end
  if opt("markers") ~= nil then
    need(doc.markers, "list", "markers")
    for i, mk in ipairs(doc.markers) do
      local w = ("markers[%d]"):format(i)
      need(mk, "object", w)
      need(mk.name, "string", w .. ".name", 1)
      need(mk.start, "integer", w .. ".start", 0)
      s.markers[i] = copy(mk, { start_bbt = true })
    end
  end
  if opt("tracks") ~= nil then
    need(doc.tracks, "list", "tracks")
    local seen = {}
    for i, t in ipairs(doc.tracks) do
      local w = ("tracks[%d]"):format(i)
      local tr = check_track(t, w)
      if seen[tr.name] then
        bad(w .. ".name", ("%s is already tracks[%d]"):format(quote(tr.name), seen[tr.name]))
      end
      seen[tr.name] = i
      s.tracks[i] = tr
    end
  end
  if opt("takes") ~= nil then
    need(doc.takes, "list", "takes")
    local seen, selected = {}, {}
    for i, t in ipairs(doc.takes) do
      local w = ("takes[%d]"):format(i)
      check_take(t, w)
      local key = t.track .. "\0" .. t.take
      if seen[key] then
        bad(w, ("take %d of track %s is listed twice (also takes[%d])"):format(t.take, quote(t.track), seen[key]))
      end
      seen[key] = i
      if t.status == "selected" then
        if selected[t.track] then
          bad(w .. ".status", ("track %s already has a selected take (takes[%d])")
            :format(quote(t.track), selected[t.track]))
        end
        selected[t.track] = i
      end
      s.takes[i] = t
    end
  end
  if opt("last_take") ~= nil then
    need(doc.last_take, "object", "last_take")
    for k, n in pairs(doc.last_take) do
      s.last_take[k] = need(n, "integer", type(k) == "string" and k:find("^[%w_]+$") and #k <= M.QUOTE_MAX and "last_take." .. k
        or ("last_take[%s]"):format(quote(k)), 0)
    end
  end
  if opt("latency") ~= nil then
    need(doc.latency, "object", "latency")
    if doc.latency.round_trip ~= nil then
      need(doc.latency.round_trip, "integer", "latency.round_trip", 0)
    end
    s.latency = doc.latency
  end
  if opt("variants") ~= nil then
    local list, where, msg = arrange.check(doc.variants)
    if not list then bad(where, msg) end
    s._variants = list
  end
  if opt("comps") ~= nil then s._comps = check_comps(s, doc.comps) end
  return s
end

--- Largest session.json read, in bytes.
M.MAX_BYTES = 64 << 20

-- A regular file only: opening a FIFO waits for a writer for ever, and a
-- device (/dev/zero) never ends. The size is checked before reading and
-- again while reading, for a file that grows meanwhile.
local function read_file(path)
  local kind = core.exists(path)
  if kind and kind ~= "file" then
    return nil, ("%s: not a regular file (a %s)"):format(path,
      kind == "directory" and "folder" or "FIFO, device or socket")
  end
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local size = f:seek("end")
  local text, rerr
  if size and size <= M.MAX_BYTES and f:seek("set") then
    text, rerr = f:read(M.MAX_BYTES + 1)
    text = text or (not rerr and "" or nil)
  end
  f:close()
  if (size and size > M.MAX_BYTES) or (text and #text > M.MAX_BYTES) then
    return nil, ("%s: larger than %d MiB, too large for a session file"):format(path, M.MAX_BYTES >> 20)
  end
  if not text then return nil, ("%s: %s"):format(path, rerr or "cannot be read") end
  return text
end

-- Loads dir/session.json, which exists.
local function load_session(dir)
  local path = join(dir, M.FILE)
  local text, err = read_file(path)
  if not text then return nil, err end
  local doc, derr = json.decode(text)
  if doc == nil then return nil, ("%s: not valid JSON (%s)"):format(path, derr) end
  local ok, s = catch(check_document, doc, dir)
  if not ok then
    local msg = tame(s.msg)
    return nil, s.where and ("%s: %s: %s"):format(path, tame(s.where), msg) or ("%s: %s"):format(path, msg)
  end
  -- Fail now rather than at the first position asked for.
  local mok, merr = pcall(map_of, s)
  if not mok then return nil, ("%s: tempo: %s"):format(path, reason_of(merr)) end
  return s
end

local function check_dir_arg(dir, fname)
  if type(dir) ~= "string" or dir == "" then
    misuse(("bad argument #1 to '%s' (folder path expected, got %s)"):format(fname,
      dir == "" and "empty string" or typename(dir)), 3)
  end
end

--- Opens an existing session.
-- @tparam string dir the session folder
-- @treturn[1] Session
-- @return[2] nil, message (no such folder, no session.json, a broken one)
function M.open(dir)
  check_dir_arg(dir, "open")
  local kind = core.exists(dir)
  if not kind then return nil, ("%s: no such folder"):format(dir) end
  if kind ~= "directory" then return nil, ("%s: not a folder"):format(dir) end
  if not core.exists(join(dir, M.FILE)) then
    return nil, ("%s is not a reel session (it has no %s)"):format(dir, M.FILE)
  end
  return load_session(dir)
end

--- Opens dir's session if it has one, else a new empty one that is not
-- saved yet (what `reel.session` does after creating the folder).
-- @tparam string dir an existing folder
-- @treturn[1] Session
-- @return[2] nil, message
function M.open_or_create(dir)
  if core.exists(join(dir, M.FILE)) then return load_session(dir) end
  return blank(dir)
end

-- ------------------------------------------------------------ templates

-- The setup a template or reel.new's options give. In `where`, fields are
-- named as in the table ("tracks[2].input").
local SETUP_FIELDS = { "name", "rate", "format", "tempo", "meter", "tracks", "sections" }
local TRACK_FIELDS = { name = true, input = true, monitor = true, gain_db = true, pan = true }

local function check_setup(t, extra_keys)
  for k in pairs(t) do
    if not (index_of(SETUP_FIELDS, k) or (extra_keys and extra_keys[k])) then
      bad(nil, ("unknown field %s (a template has %s)"):format(quote(tostring(k)), table.concat(SETUP_FIELDS, ", ")))
    end
  end
  if t.name ~= nil then need(t.name, "string", "name", 1) end
  if t.rate ~= nil then
    local c = M.check_rate(t.rate)
    if c then bad("rate", c) end
  end
  if t.format ~= nil then
    local c = M.check_format(t.format)
    if c then bad("format", c) end
  end
  if t.tempo ~= nil then
    local c = M.check_tempo(t.tempo)
    if c then bad("tempo", c) end
  end
  if t.meter ~= nil then
    local c = M.check_meter(t.meter)
    if c then bad("meter", c) end
  end
  if t.tracks ~= nil then
    need(t.tracks, "list", "tracks")
    local seen = {}
    for i, tr in ipairs(t.tracks) do
      local w = ("tracks[%d]"):format(i)
      need(tr, "object", w)
      for k in pairs(tr) do
        if not TRACK_FIELDS[k] then
          bad(w, ("unknown field %s (a track has name, input, monitor, gain_db, pan)"):format(quote(tostring(k))))
        end
      end
      local why = M.bad_track_name(tr.name)
      if why then bad(w .. ".name", tr.name == nil and "missing" or why) end
      if seen[tr.name] then bad(w .. ".name", ("%s is already tracks[%d]"):format(quote(tr.name), seen[tr.name])) end
      seen[tr.name] = i
      if tr.input == nil then bad(w .. ".input", "missing") end
      local _, err = M.normalize_input(tr.input)
      if err then bad(w .. ".input", err) end
      if tr.monitor ~= nil then need(tr.monitor, "boolean", w .. ".monitor") end
      if tr.gain_db ~= nil then need(tr.gain_db, "number", w .. ".gain_db", -200, 60) end
      if tr.pan ~= nil then need(tr.pan, "number", w .. ".pan", -1, 1) end
    end
  end
  if t.sections ~= nil then
    need(t.sections, "list", "sections")
    local list, bar = {}, 1
    for i, sec in ipairs(t.sections) do
      local w = ("sections[%d]"):format(i)
      local n = 0
      for _ in pairs(type(sec) == "table" and sec or {}) do n = n + 1 end
      if type(sec) ~= "table" or n ~= 2 or sec[1] == nil or sec[2] == nil then
        bad(w, ("{name, bars} expected, e.g. {\"Verse\", 16}, got %s"):format(jtype(sec)))
      end
      need(sec[1], "string", w .. "[1]", 1)
      need(sec[2], "integer", w .. "[2]", 1, tempo.BAR_MAX)
      list[i] = { name = sec[1], bar = bar, length_bars = math.tointeger(sec[2]) }
      bar = bar + sec[2]
    end
    if bar - 1 > tempo.BAR_MAX then
      bad("sections", ("%d bars in all, more than a session holds (%d)"):format(bar - 1, tempo.BAR_MAX))
    end
    local clash = label_clash(list)
    if clash then bad("sections", ("two sections would be called %s; choose another name"):format(quote(clash))) end
  end
end

--- The templates shipped under share/templates/ (see `reel.template`).
-- @treturn {string,...} names, sorted
function M.templates()
  return require("reel.template").list()
end

--- Loads a template by name or path: `reel.template`'s `load` (sandboxed,
-- composed with what it extends, every field checked).
-- @tparam string spec a path (containing "/" or ending in ".lua"), or the
--   name of a template under share/templates/ ("band")
-- @treturn[1] table the template's data
-- @treturn[1] string the file it came from
-- @return[2] nil, message ("FILE:LINE: field: what", a line per mistake)
function M.load_template(spec)
  if type(spec) ~= "string" or spec == "" then
    misuse(("bad argument #1 to 'load_template' (template name or path expected, got %s)")
      :format(spec == "" and "empty string" or typename(spec)))
  end
  return require("reel.template").load(spec)
end

-- ------------------------------------------------------------ new

local NEW_OPTIONS = { template = true }

--- Creates a session folder (DIR/session.json and DIR/audio/).
-- Never overwrites: a folder that already has a session.json is refused.
-- @tparam string dir
-- @param[opt] opts a template (name or path, see `load_template`), or a
--   table with `template` and any of the template's fields (`name`, `rate`,
--   `format`, `tempo`, `meter`, `tracks`, `sections`), which override the
--   template's. Defaults: the folder's name, 48000 Hz, wav24, 120 bpm 4/4,
--   no tracks, no sections.
-- @treturn[1] Session saved
-- @return[2] nil, message (session.json exists, the template has an error,
--   the folder cannot be created or written)
function M.new(dir, opts)
  check_dir_arg(dir, "new")
  if type(opts) == "string" then
    opts = { template = opts }
  elseif opts ~= nil and type(opts) ~= "table" then
    misuse(("bad argument #2 to 'new' (template name or table of options expected, got %s)")
      :format(typename(opts)))
  end
  opts = opts or {}
  if opts.template ~= nil and (type(opts.template) ~= "string" or opts.template == "") then
    misuse(("bad option 'template' (template name or path expected, got %s)")
      :format(opts.template == "" and "empty string" or typename(opts.template)))
  end
  local ok, e = catch(check_setup, opts, NEW_OPTIONS)
  if not ok then
    if not e.where then misuse((e.msg:gsub("^unknown field '([^']*)'.*", "unknown option '%1'"))) end
    local key = e.where:match("^[%w_]+")
    misuse(("bad option '%s' (%s%s)"):format(key, e.where ~= key and (e.where .. ": ") or "", e.msg))
  end
  local setup = {}
  if opts.template then
    local data, err = M.load_template(opts.template)
    if not data then return nil, err end
    setup = data
  end
  for k, v in pairs(opts) do
    if k ~= "template" then setup[k] = v end
  end

  local path = join(dir, M.FILE)
  if core.exists(path) then
    return nil, ("%s already exists; a session is never overwritten (open it with reel.open)")
      :format(path)
  end
  local mok, merr = core.mkdir_p(join(dir, "audio"))
  if not mok then return nil, merr end

  local s = blank(dir)
  s.name = setup.name or basename(dir)
  s.rate = math.tointeger(setup.rate) or DEFAULT_RATE
  s.format = setup.format or DEFAULT_FORMAT
  s._segments = { { bar = 1, bpm = setup.tempo or DEFAULT_BPM, meter = setup.meter or DEFAULT_METER } }
  for i, tr in ipairs(setup.tracks or {}) do
    s.tracks[i] = {
      name = tr.name, input = M.normalize_input(tr.input), monitor = tr.monitor or false,
      gain_db = tr.gain_db or 0, pan = tr.pan or 0, armed = true,
    }
  end
  local bar = 1
  for i, sec in ipairs(setup.sections or {}) do
    s._sections[i] = { name = sec[1], bar = bar, length_bars = math.tointeger(sec[2]) }
    bar = bar + sec[2]
  end
  for _, k in ipairs{ "description", "groups", "take_policy" } do   -- kept as they are
    if setup[k] ~= nil then s._extra[k] = setup[k] end
  end
  local sok, serr = s:save()
  if not sok then return nil, serr end
  return s
end

return M
