--- `reel take DIR [OPTIONS]`: records takes into an existing session with
-- the transport: punch in/out, loop passes, pre-roll, count-in and click,
-- playing the session's selected takes and backing files meanwhile, aligned
-- by the round-trip latency. It is `Session:record` (reel.tracking) from the
-- command line. Returns the exit status: 0 recorded (also when stopped by
-- Ctrl-C), 1 failed (no session, the device, the disk), 2 bad command line
-- (including an unknown track or section, a position outside the session,
-- a punch out before the punch in).
local reel = require "reel"
local getopt = require "reel.getopt"

local usage_error = getopt.usage_error("reel take")
local failure = getopt.failure("reel take")

local opts, rest = getopt.parse({ ... }, {
  track = { value = true, list = true }, from = { value = true }, to = { value = true },
  punch = { value = true }, loop = { value = true }, passes = { value = true },
  ["count-in"] = { value = true }, preroll = { value = true }, click = { value = true },
  latency = { value = true }, ["no-playback"] = {}, backing = { value = true, list = true },
  ["comp-crossfade"] = { value = true },
  play = {},
  device = { value = true }, input = { value = true, list = true }, loopback = { value = true },
  ["loopback-latency"] = { value = true },
})
if not opts then return usage_error(rest) end
local dir, dir_err = getopt.operand(rest, "DIR", "the session folder to record into")
if not dir then return usage_error(dir_err) end

-- Whole numbers in range; the whole text must be the number.
local function integer_option(name, min, max)
  local v = opts[name]
  if v == nil then return nil end
  local n = v:match("^%d+$") and math.tointeger(tonumber(v))
  if not n or n < min or n > max then
    return nil, ("option '--%s' expects a whole number from %d to %d, got '%s'"):format(name, min, max, v)
  end
  return n
end

local record = { meter = nil, description = "reel take" }
local err
record.passes, err = integer_option("passes", 1, 100000)
if err then return usage_error(err) end
record.count_in, err = integer_option("count-in", 0, 64)
if err then return usage_error(err) end
record.preroll, err = integer_option("preroll", 0, 999)
if err then return usage_error(err) end
record.latency, err = integer_option("latency", 0, 10 * 768000)
if err then return usage_error(err) end
local loopback_latency
loopback_latency, err = integer_option("loopback-latency", 0, 1 << 20)
if err then return usage_error(err) end

if opts.click then
  local modes = { off = true, always = true, recording = true }
  if not modes[opts.click] then
    return usage_error(("option '--click' must be off, always or recording, got '%s'"):format(opts.click))
  end
  record.click = opts.click
end
for _, name in ipairs{ "from", "to" } do
  if opts[name] == "" then return usage_error(("option '--%s' needs a position"):format(name)) end
  record[name] = opts[name]
end

-- IN..OUT, A..B, or a section name.
local function range(name)
  local v = opts[name]
  if v == nil then return nil end
  local a, b = v:match("^(.-)%.%.(.*)$")
  if not a then
    if v == "" then return nil, ("option '--%s' needs a section name or START..END"):format(name) end
    return v
  end
  if a == "" or b == "" then
    return nil, ("option '--%s' expects START..END (two positions), got '%s'"):format(name, v)
  end
  return { a, b }
end
record.punch, err = range("punch")
if err then return usage_error(err) end
record.loop, err = range("loop")
if err then return usage_error(err) end

if opts.track then record.tracks = opts.track end
if opts.play then
  -- Play only: the transport rolls over the same range, nothing is recorded.
  if opts.track then return usage_error("options '--play' and '--track' exclude each other") end
  record.play_only = true
end
if opts["no-playback"] then record.against = "none" end
if opts["comp-crossfade"] then
  local ms = tonumber(opts["comp-crossfade"])
  if not ms or ms < 0 or ms > 1000 then
    return usage_error(("option '--comp-crossfade' expects milliseconds from 0 to 1000, got '%s'")
      :format(opts["comp-crossfade"]))
  end
  record.comp_crossfade_ms = ms
end
if opts.backing then
  record.backing = {}
  for i, b in ipairs(opts.backing) do
    local file, at = b:match("^(.*)@([^@]*)$")
    file = file or b
    if file == "" or at == "" then
      return usage_error(("option '--backing' expects FILE or FILE@POSITION, got '%s'"):format(b))
    end
    record.backing[i] = { file = file, at = at }
  end
end

-- The device, as for `reel record`.
local spec = opts.device or ""
if (opts.input or opts.loopback) and spec == "" then spec = "virtual" end
local kind, kerr = getopt.device_kind(spec)
if not kind then return usage_error(kerr) end
if (opts.input or opts.loopback) and kind ~= "virtual" then
  return usage_error(("options '--input' and '--loopback' are for the virtual device (got --device %s)")
    :format(spec))
end
if opts.loopback then
  for cable in (opts.loopback .. ","):gmatch("([^,]*),") do
    if not cable:match("^%s*%d+%s*>%s*%d+%s*$") then
      return usage_error(("option '--loopback' expects OUT>IN[,OUT>IN...] such as 1>1, got '%s'")
        :format(opts.loopback))
    end
  end
end
record.device = reel.device{ spec = spec, inputs = opts.input, loopback = opts.loopback,
                             loopback_latency = loopback_latency }

local s, serr = reel.open(dir)
if not s then return failure(serr) end
-- Claimed before any device opens or anything is printed; see reel record.
local locked, lerr = s:lock()
if not locked then return failure(lerr) end
if #s.tracks == 0 and not record.play_only then
  return failure(("%s has no tracks (make the session with 'reel new --template', or record "
    .. "into it once with 'reel record')"):format(dir))
end

-- Caller mistakes (unknown track or section, positions) before any device.
-- The Lua option names become the command's.
local cli_name = { tracks = "track", count_in = "count-in", against = "no-playback",
                   comp_crossfade_ms = "comp-crossfade" }
local ok, plan = pcall(s.check_record, s, record)
if not ok then
  local msg = tostring(plan):gsub("^[^\n]-%.lua:%d+: ", "", 1):gsub("{IN, OUT}", "IN..OUT")
  msg = msg:gsub("^bad option '([%w_]+)[^']*' %((.*)%)$", function(name, why)
    return ("option '--%s': %s"):format(cli_name[name] or name:gsub("_", "-"), why)
  end)
  return usage_error(msg)
end

local map = s:tempo_map()
local function at(v) return ("%s (%d)"):format(map:format(v), v) end
local names = {}
for i, t in ipairs(plan.tracks) do names[i] = t.name end
local what = {}
if plan.loop_start then
  what[#what + 1] = ("loop %s..%s%s"):format(map:format(plan.loop_start), map:format(plan.loop_end),
    plan.passes and (", %d pass%s"):format(plan.passes, plan.passes == 1 and "" or "es") or ", until Ctrl-C")
end
if plan.punch_in then
  what[#what + 1] = ("punch %s..%s"):format(map:format(plan.punch_in),
    plan.punch_out and map:format(plan.punch_out) or "")
end
if plan.section then what[#what + 1] = ("section '%s'"):format(plan.section) end
what[#what + 1] = "from " .. at(plan.from)
if plan.autostop then what[#what + 1] = "to " .. at(plan.autostop)
elseif not plan.passes then what[#what + 1] = "until Ctrl-C" end
if plan.preroll > 0 then what[#what + 1] = ("pre-roll %d samples"):format(plan.preroll) end
if plan.count_in > 0 then what[#what + 1] = ("count-in %d bar%s"):format(plan.count_in_bars,
  plan.count_in_bars == 1 and "" or "s") end
what[#what + 1] = "click " .. plan.click.mode
if record.play_only then
  print(("Playing %s: %s"):format(dir, table.concat(what, ", ")))
else
  print(("Recording %s into %s: %s"):format(table.concat(names, ", "), dir, table.concat(what, ", ")))
end
io.stdout:flush()

local takes, rerr, partial = s:record(record)
for _, t in ipairs(takes or partial or {}) do
  print(("%s  pass %d  at %s  %d frames  %.3f s  peak %s dBFS  xruns %d  overruns %d%s%s")
    :format(s.dir:gsub("/$", "") .. "/" .. t.file, t.pass + 1, t.start_bbt or tostring(t.start),
      t.frames, t.seconds, reel.format_db(t.peak_db), t.xruns, t.overruns,
      t.lost_frames > 0 and ("  lost %d frames"):format(t.lost_frames) or "",
      t.error and ("  error: " .. t.error) or ""))
end
if not takes then return failure(rerr) end
if takes.interrupted then print("Stopped by signal; the takes are kept.") end
return 0
