--- `reel regress record|compare ...`: regression recordings (reel.regress).
--
--   reel regress record [OPTIONS] FILE
--       records a stimulus through the rig into the new file FILE: plays it
--       on output --out (if given) while recording input --in, aligns the
--       recording to the stimulus and cuts it to the stimulus's length.
--       With --against REF it then compares FILE with the reference REF.
--   reel regress compare [--json] [--tolerance KEY=VALUE]... REFERENCE TAKE
--       compares TAKE with REFERENCE and says where and how they differ.
--
-- Returns the exit status: 0 recorded / the same within the tolerances,
-- 1 a failure (no device, unreadable file) or a difference, 2 bad command
-- line.
local reel = require "reel"
local getopt = require "reel.getopt"
local json = require "reel.json"
local regress = require "reel.regress"
local core = reel.core

local PROG = "reel regress"

local usage_error = getopt.usage_error(PROG)

local function failure(msg, as_json)
  if as_json then io.write(json.encode({ ok = false, error = msg })) end
  io.stderr:write(PROG, ": ", msg, "\n")
  return 1
end

local args = { ... }
local sub = table.remove(args, 1)
if sub == nil then return usage_error("missing the subcommand: record or compare") end
if sub ~= "record" and sub ~= "compare" then
  return usage_error(("unknown subcommand '%s' (record or compare)"):format(sub))
end

-- --tolerance KEY=VALUE: numbers, true/false, or words (method=spectrum).
local function tolerances(list)
  local t = {}
  for _, kv in ipairs(list or {}) do
    local k, v = kv:match("^([%w_]+)=(.+)$")
    if not k then
      return nil, ("option '--tolerance' expects KEY=VALUE (e.g. level_db=0.5), got '%s'"):format(kv)
    end
    local n = tonumber(v)
    if v == "true" then
      t[k] = true
    elseif v == "false" then
      t[k] = false
    elseif n then
      t[k] = math.tointeger(n) or n
    else
      t[k] = v
    end
  end
  return t
end

-- Runs compare; a wrong tolerance is the command line's mistake.
local function compare(ref, take, tol, as_json, recording)
  local ok, report, err = pcall(regress.compare, ref, take, tol)
  if not ok then
    return usage_error("option '--tolerance': " .. tostring(report):gsub("^[^:]*:%d+: ", ""))
  end
  if not report then return failure(err, as_json) end
  if as_json then
    local out = {}
    for k, v in pairs(report) do out[k] = v end
    out.regions = json.array(report.regions)
    out.failures = json.array(report.failures)
    out.recording = recording
    io.write(json.encode(out))
  else
    print(regress.format(report))
  end
  return report.ok and 0 or 1
end

if sub == "compare" then
  local opts, rest = getopt.parse(args, { json = {}, tolerance = { value = true, list = true } })
  if not opts then return usage_error(rest) end
  if #rest < 2 then return usage_error("compare needs REFERENCE and TAKE (two sound files)") end
  if #rest > 2 then return usage_error(("unexpected argument '%s'"):format(rest[3])) end
  local tol, terr = tolerances(opts.tolerance)
  if not tol then return usage_error(terr) end
  return compare(rest[1], rest[2], tol, opts.json)
end

-- ------------------------------------------------------------ record

local opts, rest = getopt.parse(args, {
  stimulus = { value = true }, out = { value = true }, ["in"] = { value = true },
  seconds = { value = true }, ["max-latency"] = { value = true }, ["no-align"] = {},
  format = { value = true }, device = { value = true }, input = { value = true, list = true },
  loopback = { value = true }, ["loopback-latency"] = { value = true }, rate = { value = true },
  period = { value = true }, name = { value = true }, json = {}, against = { value = true },
  tolerance = { value = true, list = true }, connect = {},
})
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("record needs FILE (the recording to write)") end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one FILE)"):format(rest[2])) end

local o = { path = rest[1], stimulus = opts.stimulus, sources = opts.input,
            loopback = opts.loopback, name = opts.name, format = opts.format,
            connect = opts.connect or nil }
for _, spec in ipairs{ { "out", "output", 1, 1024 }, { "in", "input", 1, 1024 },
                       { "max-latency", "max_latency", 64, 1 << 20 },
                       { "loopback-latency", "loopback_latency", 1, 1 << 20 },
                       { "rate", "rate", 1000, 768000 }, { "period", "period", 1, 65536 } } do
  local v, err = getopt.integer(opts, spec[1], spec[3], spec[4])
  if err then return usage_error(err) end
  o[spec[2]] = v
end
if opts.seconds then
  o.seconds = tonumber(opts.seconds)
  if not o.seconds or not (o.seconds > 0 and o.seconds <= 3600) then
    return usage_error(("option '--seconds' expects seconds from 0 to 3600, got '%s'"):format(opts.seconds))
  end
end
if o.output and not o.stimulus then return usage_error("option '--out' needs '--stimulus'") end
if not o.stimulus and not o.seconds then
  return usage_error("record needs '--stimulus SIGNAL' or '--seconds S'")
end
if o.stimulus and core.is_generator(o.stimulus) and not o.seconds then
  return usage_error(("a generated stimulus ('%s') needs '--seconds'"):format(o.stimulus))
end
if opts.format and not pcall(core.format_ext, opts.format) then
  return usage_error(("option '--format' got '%s'; expected wav24, wav32f, flac or rf64")
    :format(opts.format))
end
if o.loopback_latency and not o.loopback then
  return usage_error("option '--loopback-latency' needs '--loopback OUT>IN'")
end
if opts.tolerance and not opts.against then
  return usage_error("option '--tolerance' goes with '--against REF' (or use 'reel regress compare')")
end
local tol, terr = tolerances(opts.tolerance)
if not tol then return usage_error(terr) end
if opts["no-align"] then o.align = false end
if o.align == nil and o.stimulus and not o.output then o.align = false end
if opts.name == "" then return usage_error("option '--name' needs a non-empty client name") end

local spec = opts.device or ""
if (o.sources or o.loopback) and spec == "" then spec = "virtual" end
if (o.sources or o.loopback) and not spec:match("^virtual") then
  return usage_error(("options '--input' and '--loopback' simulate a rig on the virtual device "
    .. "only (the device is '%s')"):format(spec))
end
o.device = spec

local res, err = regress.record(o)
if not res then return failure(err, opts.json) end
if opts.json and not opts.against then
  io.write(json.encode(res))
elseif not opts.json then
  print(("Recorded input %d%s into %s: %d frames at %d Hz (%s)"):format(res.input,
    res.output and (" with %s played on output %d"):format(o.stimulus, res.output) or "",
    res.path, res.frames, res.rate, res.device))
  if res.latency then
    print(("Aligned to the stimulus: round trip %d frames (%.3f ms)%s"):format(res.latency,
      res.latency * 1000 / res.rate,
      res.gain_db and (", return level %s dB"):format(reel.format_db(
        math.abs(res.gain_db) < 0.05 and 0 or res.gain_db)) or ""))
  end
  if res.xruns and res.xruns > 0 then print(("Xruns while recording: %d"):format(res.xruns)) end
end
if opts.against then return compare(opts.against, res.path, tol, opts.json, res) end
return 0
