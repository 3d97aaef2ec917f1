--- `reel check [OPTIONS] [RIG]`: a rig check for the start of a session.
--
-- Records every input the rig description RIG names (a path, or a name
-- under share/rigs/; reel.rig explains the fields) for `seconds` and
-- measures per input the peak and RMS levels, the noise floor (10th
-- percentile of 50 ms block levels), clipped samples and the DC offset;
-- then, per loop (an output cabled back to an input), plays a maximum
-- length sequence on the output alone and measures the round trip and the
-- level that comes back (reel.calibrate.measure). Each measurement is held
-- against the rig's thresholds: signal present (or dead), silence where
-- expected, level range, noise floor, clipping, DC offset, loop present,
-- latency and return level ranges. Without RIG every input of the device is
-- recorded and only clipping and DC offset are checked. The work is
-- reel.rig's `check`; this file reads the command line and writes the
-- table (rig.format), JSON (--json) and JUnit XML (--junit FILE,
-- rig.junit).
--
-- Returns the exit status: 0 every check passed, 1 a check failed or the
-- device could not be used, 2 bad command line or rig file.
local reel = require "reel"
local getopt = require "reel.getopt"
local json = require "reel.json"
local rig = require "reel.rig"
local core = reel.core

local PROG = "reel check"

local function usage_error(msg)
  for line in (msg .. "\n"):gmatch("([^\n]*)\n") do io.stderr:write(PROG, ": ", line, "\n") end
  io.stderr:write("Try 'reel --help'.\n")
  return 2
end

local opts, rest = getopt.parse({ ... }, {
  device = { value = true }, json = {}, junit = { value = true }, seconds = { value = true },
  input = { value = true, list = true }, loopback = { value = true },
  ["loopback-latency"] = { value = true }, rate = { value = true }, period = { value = true },
  name = { value = true }, ["no-connect"] = {}, connect = {},
})
if not opts then return usage_error(rest) end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one RIG)"):format(rest[2])) end
if rest[1] == "" then return usage_error("RIG must not be empty") end

local rate, period, lb_latency, err
rate, err = getopt.integer(opts, "rate", 1000, 768000)
if err then return usage_error(err) end
period, err = getopt.integer(opts, "period", 1, 65536)
if err then return usage_error(err) end
lb_latency, err = getopt.integer(opts, "loopback-latency", 1, 1 << 20)
if err then return usage_error(err) end
local seconds
if opts.seconds then
  seconds = tonumber(opts.seconds)
  if not seconds or not (seconds >= 0.1 and seconds <= 600) then
    return usage_error(("option '--seconds' expects seconds from 0.1 to 600, got '%s'")
      :format(opts.seconds))
  end
end
if opts.junit == "" then return usage_error("option '--junit' needs a file name") end
if opts.name == "" then return usage_error("option '--name' needs a non-empty client name") end
if lb_latency and not opts.loopback then
  return usage_error("option '--loopback-latency' needs '--loopback OUT>IN'")
end

local function bad_device(spec)
  if not getopt.device_kind(spec) then
    return ("device '%s'; expected \"\" (auto), virtual, virtual:freewheel, jack, alsa[:NAME] "
      .. "or pulse[:NAME]"):format(spec)
  end
end
if opts.device then
  local bad = bad_device(opts.device)
  if bad then return usage_error("option '--device' got " .. bad) end
  if (opts.input or opts.loopback) and not opts.device:match("^virtual") and opts.device ~= "" then
    return usage_error(("options '--input' and '--loopback' simulate a rig on the virtual device "
      .. "only (the device is '%s')"):format(opts.device))
  end
end

-- ------------------------------------------------------------ the rig

local r
if rest[1] then
  local rerr
  r, rerr = rig.load(rest[1])
  if not r then return usage_error(rerr) end
  if not opts.device and r.device and bad_device(r.device) then
    return usage_error(("%s: device: %s"):format(r.path, bad_device(r.device)))
  end
end

local check_opts = { device = opts.device, sources = opts.input, loopback = opts.loopback,
  loopback_latency = lb_latency, rate = rate, period = period, name = opts.name,
  seconds = seconds, no_connect = opts["no-connect"] or nil, connect = opts.connect or nil }

local function failure(msg, partial)
  if opts.json then
    local out = partial or {}
    out.ok, out.error = false, msg
    io.write(json.encode(out))
  end
  if opts.junit then
    local ok, jerr = core.write_atomic(opts.junit, rig.junit(partial or { checks = {} }, msg))
    if not ok then io.stderr:write(PROG, ": cannot write the JUnit file: ", jerr, "\n") end
  end
  io.stderr:write(PROG, ": ", msg, "\n")
  return 1
end

if not r then
  -- No rig file: every input the device opens with.
  local d = rig.device_options({ inputs = {}, loops = {} }, check_opts)
  local rec, oerr = core.open_recorder{ device = d.device, inputs = d.sources, rate = d.rate,
    period = d.period, name = d.name, loopback = d.loopback, loopback_latency = d.loopback_latency }
  if not rec then return failure(oerr) end
  local info = rec:info()
  rec:close()
  if info.in_channels < 1 then return failure(("%s '%s' has no inputs"):format(info.api, info.name)) end
  r = rig.default(info.in_channels)
  r.path = nil
end

local result, cerr, partial = rig.check(r, check_opts)
if not result then return failure(cerr, partial) end

if opts.json then
  io.write(json.encode(result))
else
  print(rig.format(result))
end
if opts.junit then
  local ok, jerr = core.write_atomic(opts.junit, rig.junit(result))
  if not ok then
    io.stderr:write(PROG, ": cannot write the JUnit file: ", jerr, "\n")
    return 1
  end
end
return result.ok and 0 or 1
