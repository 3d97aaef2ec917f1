--- reel.rig: rig descriptions for `reel check`, loaded as data and checked.
--
--     local rig = require "reel.rig"
--     local r = assert(rig.load("share/rigs/example.lua"))   -- or a name: "example"
--     for _, input in ipairs(r.inputs) do print(input.channel, input.name, input.expect) end
--
-- A rig description says what a studio's rig should look like at the start
-- of a session: which inputs carry signal and at what level, which must be
-- quiet, which outputs are cabled back to which inputs. It is a Lua chunk
-- that returns a table of data, run like a template (reel.sandbox: text
-- only, no io, os, require or load, a tenth of a second, 32 MiB):
--
--     return {
--       name = "Studio A", device = "jack",
--       inputs = {
--         { channel = 1, name = "Kick", expect = "signal", level_db = { -40, -6 } },
--         { channel = 2, name = "Spare", expect = "silence" },
--       },
--       loops = { { output = 1, input = 3, latency = { 256, 2048 }, level_db = { -3, 3 } } },
--       seconds = 2, noise_floor_max_db = -60, dc_max = 0.01,
--     }
--
-- Fields (all optional; see share/rigs/example.lua for a commented one):
--
--   * `name`, `description`: strings;
--   * `device`: the device SPEC the check uses unless `--device` is given
--     ("" auto, virtual, virtual:freewheel, jack, alsa[:NAME], pulse[:NAME]);
--     `rate`, `period`: asked of the device;
--   * `sources`, `loopback`, `loopback_latency`: a simulated rig on the
--     virtual device (its input sources, "OUT>IN" cables and their round
--     trip in frames), used only when the device is virtual;
--   * `seconds`: how long the inputs are recorded (default 2);
--   * defaults for every input: `signal_min_db` (an input whose RMS level is
--     above this carries signal; default -60 dBFS), `noise_floor_max_db`
--     (default -60 dBFS; the noise floor is the 10th percentile of the RMS
--     levels of 50 ms blocks), `dc_max` (largest DC offset, the mean of the
--     samples; default 0.01), `clip_max` (clipped samples allowed, default 0),
--     `clip_db` (a sample at or above this level in dBFS is clipped; default
--     -0.01); `xruns_max`: device xruns (and ring overruns) allowed while
--     the inputs are recorded (default 0);
--   * `inputs`: `{ channel = N, name = , expect = "signal" | "silence" |
--     "any", level_db = { MIN, MAX }, peak_max_db = , signal_min_db = ,
--     noise_floor_max_db = , dc_max = , clip_max = }`. Checked for every
--     input: clipping and DC offset; with expect "signal" (the default):
--     signal present, its RMS level within level_db when given, its peak
--     under peak_max_db when given, its noise floor when the input sets
--     noise_floor_max_db; with "silence": no signal, noise floor; with
--     "any": nothing more (the levels are reported);
--   * `loops`: `{ output = N, input = M, name = , latency = { MIN, MAX }
--     (frames), level_db = { MIN, MAX } (returned level relative to the
--     level played, dB) }`: a maximum length sequence is played on the
--     output and looked for on the input (reel.calibrate.measure);
--     `loop_order` (MLS order 10-20, default 16) and `loop_level_db` (the
--     level played, default -12 dBFS) apply to all loops, `loop_max_latency`
--     (frames searched, default: one second or twice the largest latency
--     limit) too.
--
-- Messages name the file, the line and the field:
-- "studio.lua:7: inputs[2].expect: 'sgnal' is not one of signal, silence,
-- any (did you mean 'signal'?)"; a file with several mistakes gets one line
-- per mistake.
--
-- Checking (`check`): the inputs are recorded together for `seconds`;
-- then each loop is measured on its own. The result lists every
-- measurement as a row {subject, check, status = "PASS" | "FAIL" | "SKIP" |
-- "INFO", value, limit, message}; `format` makes the terminal table of
-- `reel check` from it and `junit` its JUnit XML.
--
--     local result = assert(rig.check(r, { device = "virtual:freewheel" }))
--     print(rig.format(result))
--     if not result.ok then os.exit(1) end
--
-- Conventions: misuse (a wrong argument type) raises; a rig that cannot be
-- found, read or used, or a device that cannot be used, returns nil and the
-- message.
--
-- Threads: the script's (control) thread.
-- @module reel.rig

local core = require "reel.core"
local util = require "reel.util"

local M = {}

--- Largest rig file read, in bytes.
M.MAX_BYTES = 1 << 20
--- At most this many messages are reported for one file.
M.MAX_ERRORS = 20

M.FIELDS = { "name", "description", "device", "rate", "period", "sources", "loopback",
  "loopback_latency", "seconds", "signal_min_db", "noise_floor_max_db", "dc_max", "clip_max",
  "clip_db", "xruns_max", "inputs", "loops", "loop_order", "loop_level_db", "loop_max_latency" }
M.INPUT_FIELDS = { "channel", "name", "expect", "level_db", "peak_max_db", "signal_min_db",
  "noise_floor_max_db", "dc_max", "clip_max" }
M.LOOP_FIELDS = { "output", "input", "name", "latency", "level_db" }
M.EXPECT = { "signal", "silence", "any" }

--- Defaults of the thresholds.
M.DEFAULTS = {
  seconds = 2, signal_min_db = -60, noise_floor_max_db = -60, dc_max = 0.01, clip_max = 0,
  clip_db = -0.01, xruns_max = 0, loop_order = 16, loop_level_db = -12,
}

local MAX_CHANNEL = 1024

-- ------------------------------------------------------------ helpers

local typename, index_of, join_path = util.typename, util.index_of, util.join

--- The word of `valid` nearest to a misspelt one, or nil (the same rule as
-- reel.template's suggestions).
-- @tparam string word
-- @tparam {string,...} valid
-- @treturn ?string
function M.suggest(word, valid)
  return require("reel.template").suggest(word, valid)
end

-- ------------------------------------------------------------ places

-- ctx = { path, src, spans (table -> {open, close} or nil), lines (cache),
-- errors }. A mistake is reported at a field: the table holding it and its
-- key; its line is where `key =` is written in that table's constructor,
-- else the constructor's first line.

local function line_of(ctx, tbl, key)
  local span = ctx.spans and type(tbl) == "table" and ctx.spans[tbl]
  if not span then return nil end
  if type(key) == "string" then
    -- Where `key =` is written; a key that is not a name, or not written so:
    -- the constructor's first line.
    ctx.lines = ctx.lines or util.lines(ctx.src)
    return util.key_line(ctx.lines, ctx.spans, tbl, span, key) or span[1]
  elseif math.type(key) == "integer" and type(tbl[key]) == "table" and ctx.spans[tbl[key]] then
    return ctx.spans[tbl[key]][1]
  end
  return span[1]
end

local function report(ctx, tbl, key, where, msg)
  ctx.errors[#ctx.errors + 1] = { line = line_of(ctx, tbl, key), where = where, msg = msg }
end

local function errors_text(ctx)
  local out = {}
  for i = 1, math.min(#ctx.errors, M.MAX_ERRORS) do
    local e = ctx.errors[i]
    local place = e.line and ("%s:%d"):format(ctx.path, e.line) or ctx.path
    out[i] = e.where and ("%s: %s: %s"):format(place, e.where, e.msg) or ("%s: %s"):format(place, e.msg)
  end
  if #ctx.errors > M.MAX_ERRORS then
    out[#out + 1] = ("(%d more mistakes not shown)"):format(#ctx.errors - M.MAX_ERRORS)
  end
  return table.concat(out, "\n")
end

-- ------------------------------------------------------------ checks

local is_list = util.is_list

local function fmt_value(v)
  if type(v) == "string" then return ("'%s'"):format(v) end
  return tostring(v)
end

-- Each checker: (ctx, tbl, key, where) -> the value (normalised) or nil
-- after reporting; only called for fields that are present.
local function number_in(min, max, unit, integer)
  return function(ctx, tbl, key, where)
    local v = tbl[key]
    if type(v) ~= "number" then
      report(ctx, tbl, key, where, ("%s expected, got %s"):format(integer and "integer" or "number",
        typename(v)))
      return nil
    end
    if v ~= v or v == math.huge or v == -math.huge then
      report(ctx, tbl, key, where, "finite number expected")
      return nil
    end
    if integer then
      local i = math.tointeger(v)
      if not i then
        report(ctx, tbl, key, where, ("integer expected, got %s"):format(v))
        return nil
      end
      v = i
    end
    if v < min or v > max then
      report(ctx, tbl, key, where, ("must be between %s and %s%s, got %s"):format(min, max,
        unit or "", v))
      return nil
    end
    return v
  end
end

local function string_field(nonempty)
  return function(ctx, tbl, key, where)
    local v = tbl[key]
    if type(v) ~= "string" then
      report(ctx, tbl, key, where, "string expected, got " .. typename(v))
      return nil
    end
    if nonempty and v == "" then
      report(ctx, tbl, key, where, "must not be empty")
      return nil
    end
    return v
  end
end

-- { MIN, MAX } with MIN <= MAX, each within [min, max].
local function range_field(min, max, unit, integer)
  local one = number_in(min, max, unit, integer)
  return function(ctx, tbl, key, where)
    local v = tbl[key]
    if type(v) ~= "table" or not is_list(v) or #v ~= 2 then
      report(ctx, tbl, key, where, ("a range { MIN, MAX }%s expected, got %s"):format(
        unit and (" in" .. unit) or "", type(v) == "table" and "a table of another shape" or typename(v)))
      return nil
    end
    local lo = one(ctx, v, 1, where .. "[1]")
    local hi = one(ctx, v, 2, where .. "[2]")
    if lo == nil or hi == nil then return nil end
    if lo > hi then
      report(ctx, tbl, key, where, ("the minimum %s is above the maximum %s"):format(lo, hi))
      return nil
    end
    return { lo, hi }
  end
end

local function one_of(list)
  return function(ctx, tbl, key, where)
    local v = tbl[key]
    if type(v) ~= "string" then
      report(ctx, tbl, key, where, ("one of %s expected, got %s"):format(table.concat(list, ", "),
        typename(v)))
      return nil
    end
    if not index_of(list, v) then
      local near = M.suggest(v, list)
      report(ctx, tbl, key, where, ("'%s' is not one of %s%s"):format(v, table.concat(list, ", "),
        near and (" (did you mean '%s'?)"):format(near) or ""))
      return nil
    end
    return v
  end
end

local function string_list(ctx, tbl, key, where)
  local v = tbl[key]
  if type(v) ~= "table" or not is_list(v) then
    report(ctx, tbl, key, where, "list of strings expected, got " .. typename(v))
    return nil
  end
  local out = {}
  for i, s in ipairs(v) do
    if type(s) ~= "string" or s == "" then
      report(ctx, v, i, ("%s[%d]"):format(where, i), "non-empty string expected, got "
        .. (s == "" and "an empty string" or typename(s)))
      return nil
    end
    out[i] = s
  end
  return out
end

local DB = number_in(-200, 40, " dB")
local DBFS = number_in(-200, 0, " dBFS")
local CHANNEL = number_in(1, MAX_CHANNEL, nil, true)

local TOP = {
  name = string_field(true), description = string_field(false), device = string_field(false),
  rate = number_in(1000, 768000, " Hz", true), period = number_in(1, 65536, " frames", true),
  sources = string_list, loopback = string_field(false),
  loopback_latency = number_in(1, 1 << 20, " frames", true),
  seconds = number_in(0.1, 600, " s"), signal_min_db = DBFS, noise_floor_max_db = DBFS,
  dc_max = number_in(0, 1), clip_max = number_in(0, 1 << 40, nil, true),
  clip_db = number_in(-40, 0, " dBFS"), xruns_max = number_in(0, 1 << 30, nil, true),
  loop_order = number_in(10, 20, nil, true),
  loop_level_db = number_in(-60, 0, " dBFS"),
  loop_max_latency = number_in(64, 1 << 20, " frames", true),
}
local INPUT = {
  channel = CHANNEL, name = string_field(true), expect = one_of(M.EXPECT),
  level_db = range_field(-200, 0, " dBFS"), peak_max_db = DB, signal_min_db = DBFS,
  noise_floor_max_db = DBFS, dc_max = number_in(0, 1), clip_max = number_in(0, 1 << 40, nil, true),
}
local LOOP = {
  output = CHANNEL, input = CHANNEL, name = string_field(true),
  latency = range_field(0, 1 << 20, " frames", true), level_db = range_field(-200, 40, " dB"),
}

-- Checks the fields of a record against `checkers` (name -> checker) and
-- the ordered list `valid`; returns the normalised record.
local function check_record(ctx, tbl, where, checkers, valid, owner)
  local out = {}
  local keys = {}
  for k in pairs(tbl) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) ~= type(b) then return type(a) < type(b) end
    if type(a) == "string" or type(a) == "number" then return a < b end
    return false
  end)
  for _, k in ipairs(keys) do
    local w = where and (where .. "." .. tostring(k)) or tostring(k)
    if type(k) ~= "string" then
      report(ctx, tbl, nil, where, ("fields have names, got a value at [%s]"):format(tostring(k)))
    elseif not checkers[k] then
      local near = M.suggest(k, valid)
      report(ctx, tbl, k, w, near and ("unknown field (did you mean '%s'?)"):format(near)
        or ("unknown field (%s has %s)"):format(owner, table.concat(valid, ", ")))
    elseif k ~= "inputs" and k ~= "loops" then
      out[k] = checkers[k](ctx, tbl, k, w)
    end
  end
  return out
end

local function check_list_of(ctx, tbl, key, what)
  local v = tbl[key]
  if type(v) ~= "table" or not is_list(v) then
    report(ctx, tbl, key, key, ("list of %s expected, got %s"):format(what,
      type(v) == "table" and "a table with keys other than 1..n" or typename(v)))
    return nil
  end
  return v
end

local function check_inputs(ctx, t, out)
  out.inputs = {}
  if t.inputs == nil then return end
  local list = check_list_of(ctx, t, "inputs", "inputs ({ channel = N, ... })")
  if not list then return end
  local seen = {}
  for i, rec in ipairs(list) do
    local w = ("inputs[%d]"):format(i)
    if type(rec) ~= "table" then
      report(ctx, list, i, w, "{ channel = N, ... } expected, got " .. typename(rec))
    else
      local r = check_record(ctx, rec, w, INPUT, M.INPUT_FIELDS, "an input")
      if rec.channel == nil then
        report(ctx, rec, nil, w, "the field 'channel' is missing (the input's number, from 1)")
      elseif r.channel then
        if seen[r.channel] then
          report(ctx, rec, "channel", w .. ".channel", ("channel %d is listed twice (also inputs[%d])")
            :format(r.channel, seen[r.channel]))
        end
        seen[r.channel] = seen[r.channel] or i
      end
      r.expect = r.expect or (rec.expect == nil and "signal" or nil)
      if r.expect and r.expect ~= "signal" then
        for _, k in ipairs{ "level_db", "peak_max_db" } do
          if rec[k] ~= nil then
            report(ctx, rec, k, w .. "." .. k, ("applies to inputs that expect signal (this one "
              .. "expects %s)"):format(r.expect))
          end
        end
      end
      r.name = r.name or (r.channel and ("In %d"):format(r.channel))
      out.inputs[#out.inputs + 1] = r
    end
  end
end

local function check_loops(ctx, t, out)
  out.loops = {}
  if t.loops == nil then return end
  local list = check_list_of(ctx, t, "loops", "loops ({ output = N, input = M, ... })")
  if not list then return end
  for i, rec in ipairs(list) do
    local w = ("loops[%d]"):format(i)
    if type(rec) ~= "table" then
      report(ctx, list, i, w, "{ output = N, input = M, ... } expected, got " .. typename(rec))
    else
      local r = check_record(ctx, rec, w, LOOP, M.LOOP_FIELDS, "a loop")
      for _, k in ipairs{ "output", "input" } do
        if rec[k] == nil then
          report(ctx, rec, nil, w, ("the field '%s' is missing (loops need an output and an input)")
            :format(k))
        end
      end
      if r.output and r.input then
        r.name = r.name or ("out %d > in %d"):format(r.output, r.input)
      end
      out.loops[#out.loops + 1] = r
    end
  end
end

-- Checks a data table as the chunk returned it; returns the rig or nil
-- after reporting.
local function check_rig(ctx, t)
  if type(t) ~= "table" then
    report(ctx, nil, nil, nil, ("a rig file returns a table, got %s"):format(typename(t)))
    return nil
  end
  local out = check_record(ctx, t, nil, setmetatable({ inputs = true, loops = true }, { __index = TOP }),
    M.FIELDS, "a rig")
  check_inputs(ctx, t, out)
  check_loops(ctx, t, out)
  local dev = out.device
  local virtual = dev == nil or dev == "" or dev:match("^virtual") ~= nil
  if not virtual then
    for _, k in ipairs{ "sources", "loopback", "loopback_latency" } do
      if t[k] ~= nil then
        report(ctx, t, k, k, ("simulates a rig on the virtual device; the device is '%s'"):format(dev))
      end
    end
  end
  if t.loopback_latency ~= nil and t.loopback == nil then
    report(ctx, t, "loopback_latency", "loopback_latency", "needs 'loopback' (OUT>IN cables)")
  end
  if #ctx.errors > 0 then return nil end
  for k, v in pairs(M.DEFAULTS) do
    if out[k] == nil then out[k] = v end
  end
  return out
end

-- ------------------------------------------------------------ loading

--- The names of the rigs shipped under share/rigs/, sorted.
-- @treturn {string,...}
function M.list()
  local share = core.share_dir()
  local names = {}
  for _, f in ipairs(share and core.list_dir(join_path(share, "rigs")) or {}) do
    local n = f:match("^(.+)%.lua$")
    if n then names[#names + 1] = n end
  end
  return names
end

--- Where a rig file is: a spec containing "/" or ending in ".lua" is a
-- path, any other a name under share/rigs/.
-- @tparam string spec
-- @treturn[1] string path
-- @return[2] nil, message
function M.find(spec)
  if type(spec) ~= "string" or spec == "" then
    error(("bad argument #1 to 'find' (rig name or path expected, got %s)")
      :format(spec == "" and "empty string" or typename(spec)), 2)
  end
  if spec:find("/", 1, true) or spec:find("%.lua$") then return spec end
  local share = core.share_dir()
  local path = share and join_path(share, "rigs/" .. spec .. ".lua")
  if path and core.exists(path) then return path end
  local names = M.list()
  local near = M.suggest(spec, names)
  return nil, ("rig '%s' not found (%s%s); give a path such as ./%s.lua for a rig of your own")
    :format(spec, near and ("did you mean '%s'? "):format(near) or "",
      #names > 0 and ("rigs: " .. table.concat(names, ", ")) or "no rigs installed", spec)
end

-- Runs the chunk as data: reel.sandbox when the host has it, else a plain
-- text-only load into an empty environment with an instruction budget.
local function run_data(src, path)
  local ok, sandbox = pcall(require, "reel.sandbox")
  if ok then return sandbox.load_data(src, "=" .. path) end
  local fn, err = load(src, "=" .. path, "t", {})
  if not fn then return nil, err end
  local co = coroutine.create(fn)
  debug.sethook(co, function() error("rig file ran too long", 2) end, "", 10000000)
  local rok, res = coroutine.resume(co)
  if not rok then return nil, res end
  return res, nil
end

--- Loads a rig description and checks every field.
-- @tparam string spec a path (containing "/" or ending in ".lua") or the
--   name of a rig under share/rigs/
-- @treturn[1] table the rig: the fields given, the defaults (M.DEFAULTS)
--   for thresholds not given, `inputs` (each with `channel`, `name`,
--   `expect`), `loops` (each with `output`, `input`, `name`) and `path`
-- @return[2] nil, message: one line per mistake, "FILE:LINE: field: what"
function M.load(spec)
  local path, ferr = M.find(spec)
  if not path then return nil, ferr end
  local f, oerr = io.open(path, "rb")
  if not f then return nil, ("cannot read the rig file: %s"):format(oerr) end
  local src = f:read(M.MAX_BYTES + 1) or ""
  f:close()
  if #src > M.MAX_BYTES then
    return nil, ("%s: a rig file larger than %d bytes"):format(path, M.MAX_BYTES)
  end
  local data, spans = run_data(src, path)
  if data == nil then return nil, spans end
  local ctx = { path = path, src = src, spans = type(spans) == "table" and spans or nil, errors = {} }
  local r = check_rig(ctx, data)
  if not r then return nil, errors_text(ctx) end
  r.path = path
  return r
end

--- Checks a rig given as a Lua table (as a rig file would return it).
-- @tparam table data
-- @tparam[opt] string name the name used in messages ("rig")
-- @treturn[1] table the rig, as `load` returns it
-- @return[2] nil, message
function M.from_table(data, name)
  local ctx = { path = name or "rig", src = "", errors = {} }
  local r = check_rig(ctx, data)
  if not r then return nil, errors_text(ctx) end
  r.path = name
  return r
end

--- A rig for a device that has no description: every input, expected to
-- carry anything (levels reported, clipping and DC offset checked).
-- @tparam integer channels the device's input channels
-- @treturn table the rig
function M.default(channels)
  local inputs = {}
  for ch = 1, channels do inputs[ch] = { channel = ch, name = ("In %d"):format(ch), expect = "any" } end
  return assert(M.from_table({ inputs = inputs }, "(no rig file)"))
end

--- The highest input and output channels a rig uses.
-- @tparam table r a rig
-- @treturn integer input channels needed
-- @treturn integer output channels needed
function M.channels_needed(r)
  local ins, outs = 0, 0
  for _, i in ipairs(r.inputs) do ins = math.max(ins, i.channel) end
  for _, l in ipairs(r.loops) do
    ins = math.max(ins, l.input)
    outs = math.max(outs, l.output)
  end
  return ins, outs
end

-- ------------------------------------------------------------ checking

-- One decimal, and no "-0.0".
local function dbfs(v)
  if v and v > -0.05 and v < 0.05 then v = 0 end
  if v == nil or v == -math.huge or v ~= v then return "-inf" end
  return ("%.1f"):format(v)
end

local function round(v, digits)
  if v == nil or v ~= v or v == math.huge or v == -math.huge then return v end
  local m = 10 ^ (digits or 2)
  return math.floor(v * m + 0.5) / m
end

local CHECK_OPTS = { device = "string", sources = "table", loopback = "string",
  loopback_latency = "number", rate = "number", period = "number", name = "string",
  seconds = "number", no_connect = "boolean", connect = "boolean" }

--- The device a check opens: `opts` first, then the rig's. The simulated
-- rig (sources, loopback) applies to the virtual device only; asking for
-- one without a device chooses the virtual device.
-- @tparam table r a rig
-- @tparam[opt] table opts as for `check`
-- @treturn table the options of reel.regress.capture: `device`, `sources`,
--   `loopback`, `loopback_latency`, `rate`, `period`, `name`, `no_connect`
function M.device_options(r, opts)
  opts = opts or {}
  local spec = opts.device or r.device or ""
  local sources, loopback, latency = opts.sources, opts.loopback, opts.loopback_latency
  if spec == "" and (sources or loopback or r.sources or r.loopback) then spec = "virtual" end
  local virtual = spec:match("^virtual") ~= nil
  if virtual then
    if not sources then sources = r.sources end
    if not loopback then loopback, latency = r.loopback, r.loopback_latency end
  else
    sources, loopback, latency = nil, nil, nil
  end
  if loopback == "" then loopback, latency = nil, nil end
  return { device = spec, sources = sources, loopback = loopback, loopback_latency = latency,
           rate = opts.rate or r.rate, period = opts.period or r.period, name = opts.name,
           no_connect = opts.no_connect or opts.connect }
end

-- The input checks of one recorded input; adds rows through add().
local function input_checks(r, input, s, add)
  local subject = ("input %d %s"):format(input.channel, input.name)
  local min_db = input.signal_min_db or r.signal_min_db
  local floor_max = input.noise_floor_max_db
  if input.expect == "silence" then floor_max = floor_max or r.noise_floor_max_db end
  local present = s.rms_db > min_db
  if input.expect == "signal" then
    add(subject, "signal present", present, dbfs(s.rms_db) .. " dBFS RMS",
      ("above %s dBFS"):format(dbfs(min_db)),
      ("no signal on input %d (%s): RMS %s dBFS, at or below %s dBFS: a dead input (check the "
        .. "cable, the source, phantom power, the preamp)"):format(input.channel, input.name,
        dbfs(s.rms_db), dbfs(min_db)))
  elseif input.expect == "silence" then
    add(subject, "silent", not present, dbfs(s.rms_db) .. " dBFS RMS",
      ("at most %s dBFS"):format(dbfs(min_db)),
      ("input %d (%s) should be silent but carries signal: RMS %s dBFS, above %s dBFS")
        :format(input.channel, input.name, dbfs(s.rms_db), dbfs(min_db)))
  end
  if input.level_db then
    local lo, hi = input.level_db[1], input.level_db[2]
    add(subject, "level", s.rms_db >= lo and s.rms_db <= hi, dbfs(s.rms_db) .. " dBFS RMS",
      ("%s to %s dBFS"):format(dbfs(lo), dbfs(hi)),
      ("input %d (%s) level %s dBFS RMS is outside %s to %s dBFS"):format(input.channel,
        input.name, dbfs(s.rms_db), dbfs(lo), dbfs(hi)))
  elseif input.expect ~= "silence" then
    add(subject, "level", nil, dbfs(s.rms_db) .. " dBFS RMS", "-")
  end
  if input.peak_max_db then
    add(subject, "peak", s.peak_db <= input.peak_max_db, dbfs(s.peak_db) .. " dBFS",
      ("at most %s dBFS"):format(dbfs(input.peak_max_db)),
      ("input %d (%s) peaks at %s dBFS, above %s dBFS"):format(input.channel, input.name,
        dbfs(s.peak_db), dbfs(input.peak_max_db)))
  else
    add(subject, "peak", nil, dbfs(s.peak_db) .. " dBFS", "-")
  end
  if floor_max then
    add(subject, "noise floor", s.noise_floor_db <= floor_max, dbfs(s.noise_floor_db) .. " dBFS",
      ("at most %s dBFS"):format(dbfs(floor_max)),
      ("input %d (%s) noise floor %s dBFS is above %s dBFS (hum, a noisy preamp or cable?)")
        :format(input.channel, input.name, dbfs(s.noise_floor_db), dbfs(floor_max)))
  else
    add(subject, "noise floor", nil, dbfs(s.noise_floor_db) .. " dBFS", "-")
  end
  local clip_max = input.clip_max or r.clip_max
  add(subject, "clipping", s.clipped <= clip_max, ("%d samples"):format(s.clipped),
    ("at most %d (at %.2f dBFS)"):format(clip_max, r.clip_db),
    ("input %d (%s) clips: %d samples at or above %.2f dBFS (peak %s dBFS); lower the gain")
      :format(input.channel, input.name, s.clipped, r.clip_db, dbfs(s.peak_db)))
  local dc_max = input.dc_max or r.dc_max
  add(subject, "DC offset", math.abs(s.dc) <= dc_max,
    ("%.4f"):format(math.abs(s.dc) < 5e-5 and 0 or s.dc), ("at most %g"):format(dc_max),
    ("input %d (%s) has a DC offset of %.4f (more than %g)"):format(input.channel, input.name,
      s.dc, dc_max))
end

--- Checks a rig: records its inputs, measures its loops, holds every
-- measurement against the rig's thresholds.
-- @tparam table r a rig (`load`, `from_table` or `default`)
-- @tparam[opt] table opts `device` (SPEC, overrides the rig's), `sources`,
--   `loopback`, `loopback_latency` (a simulated rig on the virtual device;
--   override the rig's), `rate`, `period`, `name` (JACK client),
--   `no_connect`, `seconds` (override the rig's)
-- @treturn[1] table result: `ok`, `passed`, `failed`, `skipped`, `checks`
--   (rows: `subject`, `check`, `status` PASS, FAIL, SKIP or INFO, `value`,
--   `limit`, `message` when failed), `inputs` (per input: `channel`,
--   `name`, `expect`, `peak_db`, `rms_db`, `noise_floor_db`, `clipped`,
--   `dc`, `frames`), `loops` (per loop: `output`, `input`, `name`,
--   `latency`, `latency_ms`, `level_db` (returned relative to played),
--   `returned_db`, `confidence`, `inverted`, or `error`), `device` (`api`,
--   `name`, `rate`, `period`), `seconds`, `rig` (the file), `rig_name`,
--   `time` (seconds the check took)
-- @return[2] nil, message, the result so far (for a report of the error)
function M.check(r, opts)
  if type(r) ~= "table" or type(r.inputs) ~= "table" or type(r.loops) ~= "table" then
    error(("bad argument #1 to 'check' (rig expected, got %s)"):format(typename(r)), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then
    error(("bad argument #2 to 'check' (table of options expected, got %s)"):format(typename(opts)), 2)
  end
  for k, v in pairs(opts) do
    if not CHECK_OPTS[k] then error(("unknown option '%s' to 'check'"):format(tostring(k)), 2) end
    if type(v) ~= CHECK_OPTS[k] then
      error(("bad option '%s' to 'check' (%s expected, got %s)"):format(k, CHECK_OPTS[k], typename(v)), 2)
    end
  end
  local regress = require "reel.regress"
  local analysis = require "reel.analysis"
  local calibrate = require "reel.calibrate"
  local json = require "reel.json"

  local started = core.now()
  local dev = M.device_options(r, opts)
  local n_in, n_out = M.channels_needed(r)
  for o, i in (dev.loopback or ""):gmatch("(%d+)%s*>%s*(%d+)") do
    n_out = math.max(n_out, math.tointeger(tonumber(o)) or 0)
    n_in = math.max(n_in, math.tointeger(tonumber(i)) or 0)
  end
  dev.channels = n_in > 0 and n_in or nil
  dev.outputs = n_out > 0 and n_out or nil
  local seconds = opts.seconds or r.seconds

  local result = { rig = r.path, rig_name = r.name, seconds = seconds, inputs = json.array{},
                   loops = json.array{}, checks = json.array{} }
  local checks = result.checks
  local function add(subject, check, ok, value, limit, message)
    local status = ok == nil and "INFO" or (ok == "skip" and "SKIP" or (ok and "PASS" or "FAIL"))
    checks[#checks + 1] = { subject = subject, check = check, status = status, value = value,
                            limit = limit, message = status == "FAIL" and message or nil }
  end
  local function set_device(info)
    result.device = result.device or { api = info.api, name = info.name, rate = info.rate,
                                       period = info.period }
  end

  local dir, terr = calibrate.tempdir()
  if not dir then return nil, terr, result end
  local function remove_dir()
    for _, n in ipairs(core.list_dir(dir) or {}) do os.remove(dir .. "/" .. n) end
    os.remove(dir)
  end
  local function capture(o)
    local c = {}
    for k, v in pairs(dev) do c[k] = v end
    for k, v in pairs(o) do c[k] = v end
    c.dir = dir
    return regress.capture(c)
  end
  local function fail(msg)
    remove_dir()
    result.ok = false
    result.error = msg
    result.time = core.now() - started
    return nil, msg, result
  end

  -- Inputs: recorded together.
  if #r.inputs > 0 then
    local record = {}
    for i, input in ipairs(r.inputs) do record[i] = input.channel end
    local cap, cerr = capture{ record = record, seconds = seconds }
    if not cap then return fail(cerr) end
    set_device(cap.info)
    local xruns = 0
    for i, input in ipairs(r.inputs) do
      local take = cap.takes[i]
      xruns = math.max(xruns, (take.xruns or 0) + (take.overruns or 0))
      local s, serr = analysis.stats(take.path, { clip_level = 10 ^ (r.clip_db / 20) })
      if not s then return fail(serr) end
      result.inputs[#result.inputs + 1] = {
        channel = input.channel, name = input.name, expect = input.expect,
        peak_db = round(s.peak_db), rms_db = round(s.rms_db),
        noise_floor_db = round(s.noise_floor_db), clipped = s.clipped, dc = round(s.dc, 6),
        frames = s.frames,
      }
      input_checks(r, input, s, add)
    end
    add("device", "xruns while recording", xruns <= r.xruns_max, ("%d"):format(xruns),
      ("at most %d"):format(r.xruns_max),
      ("%d xruns or overruns while the inputs were recorded (a busy machine, a period too "
        .. "short?)"):format(xruns))
  end

  -- Loops: one at a time, so that a cable in the wrong socket shows.
  local order, level = r.loop_order, r.loop_level_db
  local mls_frames = (1 << order) - 1
  for _, loop in ipairs(r.loops) do
    local subject = "loop " .. loop.name
    local max_lat = r.loop_max_latency
    local cap, cerr = capture{
      record = { loop.input }, output = loop.output, play = ("mls:%d:%g"):format(order, level),
      play_frames = mls_frames, connect = opts.connect or nil,
      open = function(info)
        max_lat = max_lat or math.max(info.rate, loop.latency and 2 * loop.latency[2] or 0)
        return { frames = mls_frames + max_lat }
      end,
    }
    if not cap then return fail(cerr) end
    set_device(cap.info)
    local res, merr = calibrate.measure(cap.played, cap.takes[1].path, { max_lag = max_lat })
    local entry = { output = loop.output, input = loop.input, name = loop.name }
    result.loops[#result.loops + 1] = entry
    if res then
      entry.latency = res.delay
      entry.latency_ms = round(res.delay * 1000 / cap.info.rate, 3)
      entry.level_db = round(res.gain_db)
      entry.returned_db = round(res.level_db)
      entry.confidence = round(res.confidence, 1)
      entry.inverted = res.inverted
      add(subject, "loop present", true, ("found (confidence %.0f)"):format(res.confidence), "found")
      if loop.latency then
        local lo, hi = loop.latency[1], loop.latency[2]
        add(subject, "latency", res.delay >= lo and res.delay <= hi, ("%d frames"):format(res.delay),
          ("%d to %d frames"):format(lo, hi),
          ("loop %s: round trip %d frames (%.2f ms) is outside %d to %d frames"):format(loop.name,
            res.delay, entry.latency_ms, lo, hi))
      else
        add(subject, "latency", nil, ("%d frames"):format(res.delay), "-")
      end
      if loop.level_db then
        local lo, hi = loop.level_db[1], loop.level_db[2]
        add(subject, "level", res.gain_db >= lo and res.gain_db <= hi,
          ("%s dB"):format(dbfs(res.gain_db)), ("%s to %s dB"):format(dbfs(lo), dbfs(hi)),
          ("loop %s: the signal comes back at %s dB, outside %s to %s dB"):format(loop.name,
            dbfs(res.gain_db), dbfs(lo), dbfs(hi)))
      else
        add(subject, "level", nil, ("%s dB"):format(dbfs(res.gain_db)), "-")
      end
      if res.inverted then
        add(subject, "polarity", false, "inverted", "as played",
          ("loop %s: the signal comes back with its polarity inverted"):format(loop.name))
      end
    else
      entry.error = merr
      add(subject, "loop present", false, "nothing found", "found",
        ("loop %s: the test signal played on output %d did not come back on input %d: %s")
          :format(loop.name, loop.output, loop.input, merr))
      if loop.latency then add(subject, "latency", "skip", "not measured (no loop)", "-") end
      if loop.level_db then add(subject, "level", "skip", "not measured (no loop)", "-") end
    end
  end
  remove_dir()

  local passed, failed, skipped = 0, 0, 0
  for _, c in ipairs(checks) do
    if c.status == "PASS" then passed = passed + 1 end
    if c.status == "FAIL" then failed = failed + 1 end
    if c.status == "SKIP" then skipped = skipped + 1 end
  end
  result.passed, result.failed, result.skipped = passed, failed, skipped
  result.ok = failed == 0
  result.time = core.now() - started
  return result
end

--- The result of `check` as the table `reel check` prints.
-- @tparam table result
-- @treturn string lines: a heading, one row per measurement (CHECK,
--   MEASURED, LIMIT, RESULT), the failures in words, a summary line
function M.format(result)
  local d = result.device
  local lines = {}
  lines[1] = ("Rig check%s on %s '%s' at %d Hz, period %d: inputs recorded for %g s%s")
    :format(result.rig and (" of " .. result.rig) or " (no rig file: levels only)",
      d and d.api or "?", d and d.name or "?", d and d.rate or 0, d and d.period or 0,
      result.seconds, #result.loops > 0 and (", %d loop%s measured"):format(#result.loops,
        #result.loops == 1 and "" or "s") or "")
  local w1, w2, w3 = #"CHECK", #"MEASURED", #"LIMIT"
  for _, c in ipairs(result.checks) do
    w1 = math.max(w1, #c.subject + 2 + #c.check)
    w2 = math.max(w2, #c.value)
    w3 = math.max(w3, #c.limit)
  end
  local fmt = ("%%-%ds  %%-%ds  %%-%ds  %%s"):format(w1, w2, w3)
  lines[#lines + 1] = ""
  lines[#lines + 1] = fmt:format("CHECK", "MEASURED", "LIMIT", "RESULT")
  for _, c in ipairs(result.checks) do
    lines[#lines + 1] = fmt:format(c.subject .. ": " .. c.check, c.value, c.limit,
      c.status == "INFO" and "-" or c.status)
  end
  lines[#lines + 1] = ""
  for _, c in ipairs(result.checks) do
    if c.status == "FAIL" then lines[#lines + 1] = "FAIL: " .. c.message end
  end
  lines[#lines + 1] = ("%d checks: %d passed, %d failed%s. %s"):format(result.passed
    + result.failed + result.skipped, result.passed, result.failed,
    result.skipped > 0 and (", %d skipped"):format(result.skipped) or "",
    result.failed == 0 and "RIG OK" or "RIG CHECK FAILED")
  return table.concat(lines, "\n")
end

local function xml_escape(s)
  s = tostring(s):gsub("[%z\1-\8\11\12\14-\31]", "")
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&apos;" }))
end

--- The result of `check` as JUnit XML: one testsuite (the rig), one
-- testcase per check (classname: the input or loop; name: the check), a
-- <failure> for each failed check, <skipped> for a check that could not be
-- measured, and an <error> testcase when the check itself failed.
-- @tparam table result (or the partial result `check` returns on failure)
-- @tparam[opt] string error_msg the failure of the check itself
-- @treturn string the XML document
function M.junit(result, error_msg)
  local name = result.rig_name or result.rig or "reel check"
  local tests, failures, skipped, errors = 0, 0, 0, error_msg and 1 or 0
  for _, c in ipairs(result.checks) do
    if c.status ~= "INFO" then tests = tests + 1 end
    if c.status == "FAIL" then failures = failures + 1 end
    if c.status == "SKIP" then skipped = skipped + 1 end
  end
  tests = tests + errors
  local t = ("%.3f"):format(result.time or 0)
  local out = {}
  local function w(line) out[#out + 1] = line end
  w('<?xml version="1.0" encoding="UTF-8"?>')
  w(('<testsuites name="reel check" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s">')
    :format(tests, failures, errors, skipped, t))
  w(('  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s" '
    .. 'timestamp="%s">'):format(xml_escape(name), tests, failures, errors, skipped, t,
      os.date("!%Y-%m-%dT%H:%M:%S")))
  local d = result.device
  if d or result.rig then
    w('    <properties>')
    if d then
      w(('      <property name="device" value="%s"/>'):format(xml_escape(("%s '%s'"):format(d.api, d.name))))
      w(('      <property name="rate" value="%d"/>'):format(d.rate))
    end
    if result.rig then w(('      <property name="rig" value="%s"/>'):format(xml_escape(result.rig))) end
    w('    </properties>')
  end
  for _, c in ipairs(result.checks) do
    if c.status ~= "INFO" then
      w(('    <testcase classname="%s" name="%s" time="0">'):format(xml_escape(c.subject),
        xml_escape(c.check)))
      if c.status == "FAIL" then
        w(('      <failure type="check" message="%s">measured: %s; limit: %s</failure>')
          :format(xml_escape(c.message or "failed"), xml_escape(c.value), xml_escape(c.limit)))
      elseif c.status == "SKIP" then
        w(('      <skipped message="%s"/>'):format(xml_escape(c.value)))
      else
        w(('      <system-out>measured: %s; limit: %s</system-out>'):format(xml_escape(c.value),
          xml_escape(c.limit)))
      end
      w('    </testcase>')
    end
  end
  if error_msg then
    w('    <testcase classname="rig check" name="run" time="0">')
    w(('      <error type="error" message="%s"/>'):format(xml_escape(error_msg)))
    w('    </testcase>')
  end
  w('  </testsuite>')
  w('</testsuites>')
  return table.concat(out, "\n") .. "\n"
end

return M
