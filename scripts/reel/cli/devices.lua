--- `reel devices [--json]`: lists audio APIs and devices.
-- Always lists the virtual device; when no real device is found, says so
-- and how to start a JACK server. Returns the exit status.
local reel = require "reel"
local getopt = require "reel.getopt"
local json = require "reel.json"
local core = reel.core

local opts, rest = getopt.parse({ ... }, { json = {} })
if not opts then
  io.stderr:write("reel devices: ", rest, "\nTry 'reel --help'.\n")
  return 2
end
if #rest > 0 then
  io.stderr:write("reel devices: unexpected argument '", rest[1], "'\nTry 'reel --help'.\n")
  return 2
end

local NO_DEVICE = "No audio device found. Start a JACK server, e.g.: jackd -d dummy -r 48000 -p 256 &"

local apis = core.apis()
local devices, err = core.devices()
local real = devices or {}
local virtual = {
  api = "virtual", name = "virtual", specs = json.array{ "virtual", "virtual:freewheel" },
  in_channels = 2, out_channels = 0, preferred_rate = 48000,
  rates = json.array{ 44100, 48000, 88200, 96000, 192000 },
  default_input = #real == 0, default_output = false,
  description = "inputs from sound files and generators (--input), one channel per "
    .. "generator, all channels of a file (2 silent channels without inputs); "
    .. "real-time clock, or freewheel as fast as the disk allows",
}

if opts.json then
  local list = json.array{}
  for _, d in ipairs(real) do
    d.rates = json.array(d.rates)
    list[#list + 1] = d
  end
  list[#list + 1] = virtual
  io.write(json.encode{
    apis = json.array(apis), devices = list, found = #real,
    message = #real == 0 and NO_DEVICE or nil, error = err,
  })
  return 0
end

print("Audio APIs: " .. table.concat(apis, ", "))
if err then print("Could not list devices: " .. err) end
if #real == 0 then
  print("")
  print(NO_DEVICE)
end
print("")
print("Devices:")
local function show(d, note)
  local marks = {}
  if d.default_input then marks[#marks + 1] = "default input" end
  if d.default_output then marks[#marks + 1] = "default output" end
  local rates = {}
  for i, r in ipairs(d.rates or {}) do rates[i] = tostring(r) end
  print(("  %-8s %-32s in %3d  out %3d  %6d Hz%s%s"):format(d.api, ("%q"):format(d.name),
    d.in_channels, d.out_channels, d.preferred_rate,
    #rates > 0 and ("  (rates " .. table.concat(rates, ", ") .. ")") or "",
    #marks > 0 and ("  [" .. table.concat(marks, ", ") .. "]") or ""))
  if note then print("           " .. note) end
end
for _, d in ipairs(real) do
  -- JACK has one device, the server; the others are chosen by name.
  show(d, d.api == "jack" and "--device jack" or ("--device %s:%s"):format(d.api, d.name))
end
show(virtual, "--device virtual | virtual:freewheel; sources: --input FILE or generator")
return 0
