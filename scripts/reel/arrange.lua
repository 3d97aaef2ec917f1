--- reel.arrange: arrangements and their variants.
--
--     s:variant("radio", function(a)
--       a:drop("Bridge"); a:shorten("Intro", 2); a:fade_out("Outro", 4)
--     end)
--     for _, e in ipairs(s:arrangement("radio").sections) do print(e.label, e.start_bbt, e.seconds) end
--
-- A variant is a named list of operations on the session's sections (its
-- base arrangement), stored as data in session.json, never as code:
--
--     { name = "radio", ops = { { "drop", "Bridge" }, { "shorten", "Intro", 2 },
--                               { "fade_out", "Outro", 4 } } }
--
-- The function given to `s:variant` is called once with a builder `a`; each
-- method checks its arguments and applies itself at once to the arrangement
-- built so far (so a mistake is reported at the caller's line, naming the
-- section and listing those there are), then is recorded. Operations:
--
--   * `a:drop(label)`: leaves the section out (every copy of it);
--   * `a:again(label[, times])` (also `a:repeat_section`): plays it `times`
--     times in all (default 2, at most 16), the copies right after it;
--   * `a:reorder{labels...}`: the new order; every section there is must be
--     listed (a repeated one as often as it is played);
--   * `a:move(label, {after = label2} | {before = label2})`;
--   * `a:shorten(label, bars)`, `a:extend(label, bars)`: its new length in
--     bars (shorter: its first bars; longer: its last bar goes on, at most
--     256 bars);
--   * `a:tempo(bpm[, label])`: the whole variant, or from that section on;
--   * `a:add_track{name =, input =, monitor =, gain_db =, pan =}`,
--     `a:remove_track(name)`;
--   * `a:fade_in(label[, seconds])`, `a:fade_out(label[, seconds])`: at the
--     start of its first copy, the end of its last; default, and at most:
--     the whole section.
--
-- Sections are referred to by their labels in the session ("Chorus 2"; a
-- name used once is its own label). `arrangement` replays the operations on
-- the session's sections as they are now and lays the result out from bar 1
-- with no gaps: each section keeps the tempo and meter of its bars in the
-- session (unless the variant changes the tempo), positions in samples come
-- from the tempo map so built (`reel.tempo`, exact to the sample).
--
-- Threads: the script's (control) thread only.
-- @module reel.arrange

local tempo = require "reel.tempo"
local util = require "reel.util"

local M = {}

--- The longest a section can be made (bars).
M.MAX_BARS = 256
--- The most times a section can be played.
M.MAX_TIMES = 16
--- The longest fade (seconds).
M.MAX_FADE = 600

local typename = util.typename

local function whole(v)
  return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v) and v == v
    and math.abs(v) < 2^53)
end

-- ------------------------------------------------------ argument checks
-- Each returns nil, or argument number and complaint. They judge the
-- arguments alone: used by the builder and when session.json is loaded.

local function check_label(v, argn)
  if type(v) ~= "string" or v == "" then
    return argn or 1, ("section label expected, got %s"):format(v == "" and "empty string" or typename(v))
  end
end

local function check_bars(v)
  if not whole(v) then return 2, ("whole number of bars expected, got %s"):format(typename(v)) end
  if v < 1 then return 2, ("at least 1 bar expected, got %d"):format(math.tointeger(v)) end
  if v > M.MAX_BARS then
    return 2, ("at most %d bars, got %d"):format(M.MAX_BARS, math.tointeger(v))
  end
end

local function check_seconds(v, argn)
  if v == nil then return end
  if type(v) ~= "number" then return argn, ("seconds expected, got %s"):format(typename(v)) end
  if not (v > 0 and v <= M.MAX_FADE) then
    return argn, ("seconds must be more than 0 and at most %d, got %s"):format(M.MAX_FADE, v)
  end
end

local function check_bpm(v)
  if type(v) ~= "number" then return 1, ("bpm expected, got %s"):format(typename(v)) end
  local ok, err = pcall(tempo.new, 48000, v)
  if not ok then
    return 1, ((tostring(err):match("%((.*)%)$") or tostring(err)):gsub(" at bar %d+", ""))
  end
  err:close()
end

local TRACK_FIELDS = { name = true, input = true, monitor = true, gain_db = true, pan = true }

local function check_track(t)
  local session = require "reel.session"
  if type(t) ~= "table" then return 1, ("track table expected, got %s"):format(typename(t)) end
  for k in pairs(t) do
    if not TRACK_FIELDS[k] then
      return 1, ("unknown field '%s' (a track has name, input, monitor, gain_db, pan)"):format(tostring(k))
    end
  end
  local why = session.bad_track_name(t.name)
  if why then return 1, "name: " .. (t.name == nil and "missing" or why) end
  if t.input == nil then return 1, "input: missing" end
  local _, err = session.normalize_input(t.input)
  if err then return 1, "input: " .. err end
  if t.monitor ~= nil and type(t.monitor) ~= "boolean" then
    return 1, "monitor: boolean expected, got " .. typename(t.monitor)
  end
  if t.gain_db ~= nil and type(t.gain_db) ~= "number" then
    return 1, "gain_db: number expected, got " .. typename(t.gain_db)
  end
  if t.pan ~= nil and (type(t.pan) ~= "number" or t.pan < -1 or t.pan > 1) then
    return 1, "pan: number between -1 and 1 expected"
  end
end

local ARGS = {}

ARGS.drop = function(label) return check_label(label) end
ARGS.again = function(label, times)
  local n, c = check_label(label)
  if n then return n, c end
  if times == nil then return end
  if not whole(times) then return 2, ("number of times expected, got %s"):format(typename(times)) end
  if times < 2 or times > M.MAX_TIMES then
    return 2, ("times must be between 2 and %d, got %d"):format(M.MAX_TIMES, math.tointeger(times))
  end
end
ARGS.reorder = function(list)
  if type(list) ~= "table" or #list == 0 then
    return 1, ("list of section labels expected, got %s"):format(type(list) == "table" and "empty table"
      or typename(list))
  end
  for i, l in ipairs(list) do
    if type(l) ~= "string" then
      return 1, ("list of section labels expected; item %d is a %s"):format(i, typename(l))
    end
  end
end
ARGS.move = function(label, where)
  local n, c = check_label(label)
  if n then return n, c end
  if type(where) ~= "table" then
    return 2, ("{after = label} or {before = label} expected, got %s"):format(typename(where))
  end
  local count, key = 0, nil
  for k, v in pairs(where) do
    if k ~= "after" and k ~= "before" then
      return 2, ("unknown field '%s' ({after = label} or {before = label} expected)"):format(tostring(k))
    end
    if type(v) ~= "string" then return 2, ("%s: section label expected, got %s"):format(k, typename(v)) end
    count, key = count + 1, k
  end
  if count ~= 1 then return 2, "{after = label} or {before = label} expected" end
  if where[key] == label then return 2, ("cannot move '%s' %s itself"):format(label, key) end
end
ARGS.shorten = function(label, bars)
  local n, c = check_label(label)
  if n then return n, c end
  return check_bars(bars)
end
ARGS.extend = ARGS.shorten
ARGS.tempo = function(bpm, label)
  local n, c = check_bpm(bpm)
  if n then return n, c end
  if label ~= nil then return check_label(label, 2) end
end
ARGS.add_track = check_track
ARGS.remove_track = function(name)
  if type(name) ~= "string" or name == "" then
    return 1, ("track name expected, got %s"):format(name == "" and "empty string" or typename(name))
  end
end
ARGS.fade_in = function(label, seconds)
  local n, c = check_label(label)
  if n then return n, c end
  return check_seconds(seconds, 2)
end
ARGS.fade_out = ARGS.fade_in

--- The operations, in the order they are documented.
M.OPS = { "drop", "again", "reorder", "move", "shorten", "extend", "tempo", "add_track",
  "remove_track", "fade_in", "fade_out" }

-- ------------------------------------------------------------ applying
-- state: { entries = {{label, name, source_bar, source_bars, bars, bpm,
-- fade_in, fade_out}...}, tracks = {names now}, base = {set of session
-- track names}, added = {track tables}, removed = {names} }. Each apply
-- raises a plain string (the complaint) when the operation does not fit.

local function labels_text(st)
  local out, seen = {}, {}
  for _, e in ipairs(st.entries) do
    if not seen[e.label] then out[#out + 1], seen[e.label] = e.label, true end
  end
  return #out > 0 and "sections: " .. table.concat(out, ", ") or "no sections left"
end

local function fail(msg) error({ msg = msg }, 0) end

-- Indices of the entries with that label (all copies), or a failure.
local function find(st, label)
  local hits = {}
  for i, e in ipairs(st.entries) do
    if e.label == label then hits[#hits + 1] = i end
  end
  if #hits > 0 then return hits end
  local named, seen = {}, {}
  for _, e in ipairs(st.entries) do
    if e.name == label and not seen[e.label] then named[#named + 1], seen[e.label] = e.label, true end
  end
  if #named > 1 then
    fail(("section '%s' is ambiguous (%s)"):format(label, table.concat(named, ", ")))
  end
  fail(("unknown section '%s' (%s)"):format(label, labels_text(st)))
end

local function copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end

local APPLY = {}

function APPLY.drop(st, label)
  local hits = find(st, label)
  if #hits == #st.entries then fail(("'%s' is all there is; a variant needs a section"):format(label)) end
  for i = #hits, 1, -1 do table.remove(st.entries, hits[i]) end
end

function APPLY.again(st, label, times)
  local hits = find(st, label)
  local last = hits[#hits]
  for k = 1, (times or 2) - 1 do
    table.insert(st.entries, last + k, copy(st.entries[last]))
  end
end

function APPLY.reorder(st, list)
  local pool, out = {}, {}
  for _, e in ipairs(st.entries) do pool[#pool + 1] = e end
  for _, l in ipairs(list) do
    local found
    for i, e in ipairs(pool) do
      if e.label == l then found = i break end
    end
    if not found then
      local listed = false
      for _, e in ipairs(st.entries) do if e.label == l then listed = true end end
      if listed then fail(("'%s' is listed more often than it is played"):format(l)) end
      find(st, l)        -- ambiguous or unknown
    end
    out[#out + 1] = table.remove(pool, found)
  end
  if #pool > 0 then
    local miss = {}
    for i, e in ipairs(pool) do miss[i] = e.label end
    fail(("%s not listed; list every section or drop it first"):format(table.concat(miss, ", ")))
  end
  st.entries = out
end

function APPLY.move(st, label, where)
  local hits = find(st, label)
  local key, ref = next(where)
  find(st, ref)
  local moved = {}
  for i = #hits, 1, -1 do table.insert(moved, 1, table.remove(st.entries, hits[i])) end
  local at = find(st, ref)
  local pos = key == "after" and at[#at] + 1 or at[1]
  for k, e in ipairs(moved) do table.insert(st.entries, pos + k - 1, e) end
end

function APPLY.shorten(st, label, bars)
  local hits = find(st, label)
  local cur = st.entries[hits[1]].bars
  if bars >= cur then
    fail(("'%s' has %d bar%s; shorten to fewer (extend makes it longer)")
      :format(label, cur, cur == 1 and "" or "s"))
  end
  for _, i in ipairs(hits) do st.entries[i].bars = math.tointeger(bars) end
end

function APPLY.extend(st, label, bars)
  local hits = find(st, label)
  local cur = st.entries[hits[1]].bars
  if bars <= cur then
    fail(("'%s' has %d bar%s; extend to more (shorten makes it shorter)")
      :format(label, cur, cur == 1 and "" or "s"))
  end
  for _, i in ipairs(hits) do st.entries[i].bars = math.tointeger(bars) end
end

function APPLY.tempo(st, bpm, label)
  local from = label and find(st, label)[1] or 1
  for i = from, #st.entries do st.entries[i].bpm = bpm end
end

local function has_track(st, name)
  for i, n in ipairs(st.tracks) do if n == name then return i end end
end

function APPLY.add_track(st, t)
  if has_track(st, t.name) then fail(("the variant already has a track '%s'"):format(t.name)) end
  st.tracks[#st.tracks + 1] = t.name
  st.added[#st.added + 1] = t
  for i, n in ipairs(st.removed) do
    if n == t.name then table.remove(st.removed, i) break end
  end
end

function APPLY.remove_track(st, name)
  local i = has_track(st, name)
  if not i then
    fail(("unknown track '%s' (%s)"):format(name,
      #st.tracks > 0 and "tracks: " .. table.concat(st.tracks, ", ") or "no tracks"))
  end
  table.remove(st.tracks, i)
  for k, t in ipairs(st.added) do
    if t.name == name then table.remove(st.added, k) return end
  end
  st.removed[#st.removed + 1] = name
end

function APPLY.fade_in(st, label, seconds)
  local hits = find(st, label)
  st.entries[hits[1]].fade_in = seconds or true
end

function APPLY.fade_out(st, label, seconds)
  local hits = find(st, label)
  st.entries[hits[#hits]].fade_out = seconds or true
end

-- The starting state: the session's sections and tracks.
local function base_state(sections, track_names)
  local st = { entries = {}, tracks = {}, added = {}, removed = {} }
  for i, r in ipairs(sections) do
    st.entries[i] = { label = r.label, name = r.name, source_bar = r.bar, source_bars = r.length_bars,
      bars = r.length_bars }
  end
  for i, n in ipairs(track_names) do st.tracks[i] = n end
  return st
end

-- Applies op (a stored list {kind, args...}); nil or the complaint.
local function apply(st, op)
  local ok, e = pcall(APPLY[op[1]], st, table.unpack(op, 2, 3))
  if ok then return nil end
  if type(e) == "table" then return e.msg end
  error(e, 0)
end

-- --------------------------------------------------------------- builder

local Builder = { __name = "reel.arrange.builder" }
Builder.__index = Builder

local function method(kind)
  return function(self, ...)
    if getmetatable(self) ~= Builder then
      error(("bad self to '%s' (arrangement builder expected); call it as a:%s(...)"):format(kind, kind), 2)
    end
    if self._closed then
      error(("'%s': variant '%s' is already stored; change it with s:variant"):format(kind, self._name), 2)
    end
    local args = table.pack(...)
    local n, c = ARGS[kind](...)
    if n then error(("bad argument #%d to '%s' (%s)"):format(n, kind, c), 2) end
    local op = { kind }
    for i = 1, args.n do
      local v = args[i]
      if type(v) == "table" then v = copy(v) end
      if kind == "add_track" then
        v.input = require("reel.session").normalize_input(v.input)
      end
      op[i + 1] = v
    end
    -- Trailing nils make no holes: a stored op is a list.
    local msg = apply(self._state, op)
    if msg then error(("%s: %s"):format(kind, msg), 2) end
    self._ops[#self._ops + 1] = op
    return self
  end
end

for _, kind in ipairs(M.OPS) do Builder[kind] = method(kind) end
Builder.repeat_section = method("again")

--- Records a variant: calls fn(a) with a builder on the base arrangement.
-- @tparam string name
-- @tparam function fn
-- @tparam {table,...} sections the session's sections (`s:sections()`)
-- @tparam {string,...} track_names
-- @treturn table the variant `{name, ops}`
function M.record(name, fn, sections, track_names)
  local b = setmetatable({ _name = name, _ops = {}, _state = base_state(sections, track_names) }, Builder)
  fn(b)
  b._closed = true
  return { name = name, ops = b._ops }
end

--- Checks a stored variant list (decoded JSON); the arguments of each
-- operation are judged, not whether its sections exist (the session may
-- have changed since; `layout` says so).
-- @treturn[1] table the variants
-- @return[2] nil, where ("variants[1].ops[2]"), complaint
function M.check(list)
  if type(list) ~= "table" then return nil, "variants", "list expected, got " .. typename(list) end
  local out, seen = {}, {}
  for i, v in ipairs(list) do
    local w = ("variants[%d]"):format(i)
    if type(v) ~= "table" then return nil, w, "object expected, got " .. typename(v) end
    if type(v.name) ~= "string" or v.name == "" then return nil, w .. ".name", "variant name expected" end
    if seen[v.name] then return nil, w .. ".name", ("'%s' is already variants[%d]"):format(v.name, seen[v.name]) end
    seen[v.name] = i
    if type(v.ops) ~= "table" then return nil, w .. ".ops", "list expected, got " .. typename(v.ops) end
    local ops = {}
    for k, op in ipairs(v.ops) do
      local ow = ("%s.ops[%d]"):format(w, k)
      if type(op) ~= "table" or type(op[1]) ~= "string" then
        return nil, ow, "{operation, arguments...} expected"
      end
      if not ARGS[op[1]] then
        return nil, ow, ("unknown operation '%s' (%s)"):format(op[1], table.concat(M.OPS, ", "))
      end
      if #op > 3 then return nil, ow, "too many arguments" end
      local n, c = ARGS[op[1]](table.unpack(op, 2, 3))
      if n then return nil, ("%s[%d]"):format(ow, n + 1), c end
      ops[k] = op
    end
    out[i] = { name = v.name, ops = ops }
  end
  return out
end

-- A deep copy for JSON: lists marked as arrays, other tables as objects.
local function to_json(v)
  if type(v) ~= "table" then return v end
  local json = require "reel.json"
  local out = {}
  for k, x in pairs(v) do out[k] = to_json(x) end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return (n == #v) and json.array(out) or json.object(out)
end

--- The variants as session.json holds them.
-- @tparam {table,...} variants
-- @treturn {table,...}
function M.document(variants)
  local out = {}
  for i, v in ipairs(variants) do
    local ops = {}
    for k, op in ipairs(v.ops) do ops[k] = to_json(op) end
    out[i] = require("reel.json").object{ name = v.name, ops = require("reel.json").array(ops) }
  end
  return out
end

--- Replays a variant's operations on the sections as they are now and
-- lays them out from bar 1.
-- @tparam table variant `{name, ops}`
-- @tparam {table,...} sections the session's (`s:sections()`)
-- @tparam {string,...} track_names the session's tracks
-- @param map the session's tempo map
-- @treturn[1] table `{name, sections = {{label, name, bar, source_bar,
--   source_bars, bars, start, length, start_bbt, start_seconds, seconds, bpm, meter,
--   tempo (when the variant changed it), fade_in, fade_out}...}, bars,
--   length, seconds, tracks (names), added (tracks), removed (names)}`
-- @return[2] nil, message (an operation no longer fits the sections)
function M.layout(variant, sections, track_names, map)
  local st = base_state(sections, track_names)
  for k, op in ipairs(variant.ops) do
    local msg = apply(st, op)
    if msg then
      return nil, ("variant '%s': operation %d (%s): %s"):format(variant.name, k, op[1], msg)
    end
  end
  local rate = map:rate()
  if #st.entries == 0 then
    return { name = variant.name, sections = {}, bars = 0, length = 0, seconds = 0,
      tracks = st.tracks, added = st.added, removed = st.removed }
  end
  local plan, bar = {}, 1
  for _, e in ipairs(st.entries) do
    for k = 0, e.bars - 1 do
      local bpm, meter = map:at(e.source_bar + math.min(k, e.source_bars - 1))
      plan[#plan + 1] = { bar = bar + k, bpm = e.bpm or bpm, meter = meter }
    end
    e.bar = bar
    bar = bar + e.bars
  end
  if bar - 1 > tempo.BAR_MAX then
    return nil, ("variant '%s': %d bars, more than a session holds (%d)"):format(variant.name, bar - 1, tempo.BAR_MAX)
  end
  local vm <close> = tempo.new(rate, plan[1].bpm, plan[1].meter)
  for i = 2, #plan do
    local p, q = plan[i], plan[i - 1]
    if p.bpm ~= q.bpm or p.meter ~= q.meter then vm:set(p.bar, p.bpm, p.meter) end
  end
  local out = { name = variant.name, sections = {}, bars = bar - 1, tracks = st.tracks,
    added = st.added, removed = st.removed }
  for i, e in ipairs(st.entries) do
    local last = e.bar + e.bars - 1
    local start = vm:to_sample(e.bar, 1)
    local stop = vm:to_sample(last, 1) + vm:bar_length(last)
    local bpm, meter = vm:at(e.bar)
    local r = {
      label = e.label, name = e.name, bar = e.bar, source_bar = e.source_bar,
      source_bars = e.source_bars, bars = e.bars,
      start = start, length = stop - start, start_bbt = ("%d:1"):format(e.bar),
      start_seconds = vm:to_seconds(start), seconds = vm:to_seconds(stop - start),
      bpm = bpm, meter = meter, tempo = e.bpm,
    }
    if e.fade_in then r.fade_in = e.fade_in == true and r.seconds or math.min(e.fade_in, r.seconds) end
    if e.fade_out then r.fade_out = e.fade_out == true and r.seconds or math.min(e.fade_out, r.seconds) end
    out.sections[i] = r
  end
  local endpos = vm:to_sample(out.bars, 1) + vm:bar_length(out.bars)
  out.length = endpos
  out.seconds = vm:to_seconds(endpos)
  return out
end

return M
