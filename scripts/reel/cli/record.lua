--- `reel record [OPTIONS] DIR`: quick capture of every input channel into a
-- session folder, one mono track per channel (In1, In2, ...). Returns the
-- exit status: 0 recorded (also when stopped by Ctrl-C), 1 failed, 2 bad
-- command line.
local reel = require "reel"
local getopt = require "reel.getopt"
local core = reel.core

local function usage_error(msg)
  io.stderr:write("reel record: ", msg, "\nTry 'reel --help'.\n")
  return 2
end

local opts, rest = getopt.parse({ ... }, {
  device = { value = true }, input = { value = true, list = true },
  channels = { value = true }, seconds = { value = true }, format = { value = true },
  rate = { value = true }, period = { value = true }, name = { value = true },
  ["no-connect"] = {},
})
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("missing DIR (the session folder to record into)") end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one DIR)"):format(rest[2])) end
local dir = rest[1]

-- Numeric options: the whole text must be a number in range.
local function integer_option(name, min, max)
  local v = opts[name]
  if v == nil then return nil end
  local n = math.tointeger(tonumber(v))
  if not n or not v:match("^%s*%d+%s*$") or n < min or n > max then
    return nil, ("option '--%s' expects an integer from %d to %d, got '%s'"):format(name, min, max, v)
  end
  return n
end

local seconds
if opts.seconds then
  seconds = tonumber(opts.seconds)
  if not seconds or not (seconds > 0 and seconds <= 1e9) then
    return usage_error(("option '--seconds' expects a positive number of seconds, got '%s'")
      :format(opts.seconds))
  end
end
local channels, rate, period, err
channels, err = integer_option("channels", 1, 1024)
if err then return usage_error(err) end
rate, err = integer_option("rate", 1000, 768000)
if err then return usage_error(err) end
period, err = integer_option("period", 1, 65536)
if err then return usage_error(err) end
local format = opts.format or "wav24"
local known = {}
for _, f in ipairs(reel.formats()) do known[f] = true end
if not known[format] then
  return usage_error(("option '--format' must be one of %s, got '%s'")
    :format(table.concat(reel.formats(), ", "), format))
end
local spec = opts.device or ""
-- Inputs are sources for the virtual device: asking for them chooses it.
if opts.input and spec == "" then spec = "virtual" end
local kind = spec:match("^([^:]*)")
local kinds = { [""] = true, virtual = true, jack = true, alsa = true, pulse = true }
if not kinds[kind] or (kind == "virtual" and spec ~= "virtual" and spec ~= "virtual:freewheel")
    or (kind == "" and spec ~= "") then
  return usage_error(("option '--device' got '%s'; expected \"\" (auto), virtual, "
    .. "virtual:freewheel, jack, alsa[:NAME] or pulse[:NAME]"):format(spec))
end
if opts.name == "" then return usage_error("option '--name' needs a non-empty client name") end

local device = reel.device{
  spec = spec, inputs = opts.input, channels = channels, rate = rate, period = period,
  name = opts.name, no_connect = opts["no-connect"] or nil,
}
local info, derr = device:info()
if not info then
  io.stderr:write("reel record: ", derr, "\n")
  return 1
end
-- A real device opens 2 channels unless told: record all it has instead.
if not channels and info.api ~= "virtual" then
  local all = 0
  for _, d in ipairs(reel.devices() or {}) do
    if d.api == info.api and (d.name == info.name or (all == 0 and d.default_input)) then
      all = d.in_channels
    end
  end
  if all > info.in_channels then
    device = reel.device{ spec = spec, channels = all, rate = rate, period = period,
                          name = opts.name, no_connect = opts["no-connect"] or nil }
    info, derr = device:info()
    if not info then
      io.stderr:write("reel record: ", derr, "\n")
      return 1
    end
  end
end
if opts.input and info.api ~= "virtual" then
  return usage_error(("option '--input' feeds the virtual device only (the device is %s '%s')")
    :format(info.api, info.name))
end

local s, serr = reel.session(dir)
if not s then
  io.stderr:write("reel record: ", serr, "\n")
  return 1
end
local names = {}
for i = 1, info.in_channels do
  names[i] = "In" .. i
  s:track{ name = names[i], input = i }
end
for _, t in ipairs(s.tracks) do
  if not t.name:match("^In%d+$") or tonumber(t.name:sub(3)) > info.in_channels then
    s:arm(t.name, false)
  end
end

print(("Recording %d track%s (%s) from %s '%s' at %d Hz, period %d, %s, into %s%s")
  :format(#names, #names == 1 and "" or "s", table.concat(names, ", "), info.api, info.name,
    info.rate, info.period, format, dir,
    seconds and (" for %g s"):format(seconds) or "; Ctrl-C stops"))
io.stdout:flush()

local takes, rerr, partial = s:record{
  seconds = seconds, format = format, device = device, description = "reel record",
}
local list = takes or partial or {}
for _, t in ipairs(list) do
  print(("%s  %d frames  %.3f s  peak %s dBFS  xruns %d  overruns %d%s")
    :format(s.dir:gsub("/$", "") .. "/" .. t.file, t.frames, t.seconds, reel.format_db(t.peak_db),
      t.xruns, t.overruns, t.lost_frames > 0 and ("  lost %d frames"):format(t.lost_frames) or ""))
end
if not takes then
  io.stderr:write("reel record: ", rerr, "\n")
  return 1
end
if takes.interrupted then print("Stopped by signal; the takes are kept.") end
return 0
