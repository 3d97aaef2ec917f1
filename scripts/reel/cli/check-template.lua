--- `reel check-template [--device SPEC] [--channels N] [--input SRC]...
-- [--name CLIENT] T`: a dry run of template T (a name under share/templates
-- or a path) before anything is recorded. Loads it as `reel new` would (in
-- the sandbox, composed with what it extends, every field checked) and
-- prints what a session made from it holds; with a device (--device, or
-- --channels / --input for the virtual device) opens it briefly and checks
-- that every track's input channels exist. Nothing is written. Returns the
-- exit status: 0 the template is good (and fits the device), 1 it is not,
-- or the device cannot be opened, 2 bad command line.
local getopt = require "reel.getopt"
local tempo = require "reel.tempo"
local template = require "reel.template"

local PROG = "reel check-template"

local usage_error = getopt.usage_error(PROG)

local function fail(msg)
  for line in (msg .. "\n"):gmatch("([^\n]*)\n") do
    io.stderr:write(PROG, ": ", line, "\n")
  end
  return 1
end

local opts, rest = getopt.parse({ ... }, {
  device = { value = true }, channels = { value = true }, input = { value = true, list = true },
  name = { value = true },
})
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("missing T (a template name or a path to a template file)") end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one template)"):format(rest[2])) end
local spec = rest[1]
if spec == "" then return usage_error("T must not be empty") end
local channels
if opts.channels then
  channels = opts.channels:match("^%d+$") and math.tointeger(tonumber(opts.channels))
  if not channels or channels < 1 or channels > 1024 then
    return usage_error(("option '--channels' expects an integer from 1 to 1024, got '%s'")
      :format(opts.channels))
  end
end
if opts.name == "" then return usage_error("option '--name' needs a non-empty client name") end
local check_opts
if opts.device or channels or opts.input then
  check_opts = { device = opts.device, channels = channels, inputs = opts.input, name = opts.name }
end

local data, rep = template.check(spec, check_opts)
if not data then return fail(rep) end

-- What a session made from it holds (reel new's defaults where it is silent).
local rate, format = data.rate or 48000, data.format or "wav24"
local bpm, meter = data.tempo or 120, data.meter or "4/4"
local label = rep.path:match("([^/]+)%.lua$") or rep.path
print(("Template %s (%s%s): %s"):format(label, rep.path,
  data.extends and (", extends " .. data.extends) or "", data.name or "(no name: the folder's)"))
if data.description then print("  " .. data.description) end
print(("  %d Hz, %s, %s bpm %s"):format(rate, format, ("%g"):format(bpm), meter))

local tracks = data.tracks or {}
if #tracks > 0 then
  local list = {}
  for i, t in ipairs(tracks) do
    list[i] = ("%s (%s%s)"):format(t.name, table.concat(t.input, "+"), t.monitor and ", monitored" or "")
  end
  print(("  %d track%s on %d input channel%s: %s"):format(#tracks, #tracks == 1 and "" or "s",
    rep.channels, rep.channels == 1 and "" or "s", table.concat(list, ", ")))
else
  print("  no tracks")
end
if data.groups then
  local list = {}
  for i, g in ipairs(data.groups) do list[i] = ("%s (%s)"):format(g.name, table.concat(g.tracks, ", ")) end
  print("  groups: " .. table.concat(list, "; "))
end
if data.sections then
  local count, seen, names, bars = {}, {}, {}, 0
  for _, s in ipairs(data.sections) do count[s[1]] = (count[s[1]] or 0) + 1 end
  for i, s in ipairs(data.sections) do
    seen[s[1]] = (seen[s[1]] or 0) + 1
    names[i] = count[s[1]] > 1 and ("%s %d"):format(s[1], seen[s[1]]) or s[1]
    bars = bars + s[2]
  end
  local m = tempo.new(rate, bpm, meter)
  local seconds = m:to_sample(bars + 1, 1) / rate
  m:close()
  print(("  %d section%s, %d bars, %.1f s: %s"):format(#names, #names == 1 and "" or "s", bars,
    seconds, table.concat(names, ", ")))
end
local p = data.take_policy
if p then
  local parts = {}
  if p.passes then parts[#parts + 1] = ("%d pass%s"):format(p.passes, p.passes == 1 and "" or "es") end
  if p.count_in then parts[#parts + 1] = ("count-in %d bar%s"):format(p.count_in, p.count_in == 1 and "" or "s") end
  if p.pre_roll then parts[#parts + 1] = ("pre-roll %g s"):format(p.pre_roll) end
  if p.punch ~= nil then parts[#parts + 1] = p.punch and "punch in/out" or "no punch" end
  if p.click ~= nil then parts[#parts + 1] = p.click and "click" or "no click" end
  if p.reject then parts[#parts + 1] = "reject on " .. table.concat(p.reject, ", ") end
  if p.prefer then parts[#parts + 1] = "prefer " .. p.prefer end
  print("  takes: " .. table.concat(parts, ", "))
end

local d = rep.device
if d then
  print(("Device %s '%s': %d input channel%s at %d Hz"):format(d.api, d.name, d.in_channels,
    d.in_channels == 1 and "" or "s", d.rate))
end
for _, w in ipairs(rep.warnings) do print("warning: " .. w) end
if d then
  print(("OK: %s fits %s '%s'"):format(label, d.api, d.name))
else
  print(("OK: %s is valid; it needs %d input channel%s (check it against a device with --device SPEC)")
    :format(label, rep.channels, rep.channels == 1 and "" or "s"))
end
return 0
