--- `reel new DIR [--template T] [--name NAME] [--rate HZ] [--tempo BPM]
-- [--meter N/D] [--format F]`: creates a session folder (DIR/session.json
-- and DIR/audio/) from a template and options. Never overwrites: a folder
-- that already holds a session.json is refused. Returns the exit status:
-- 0 created, 1 failed (the session exists, the template has an error, the
-- folder cannot be written), 2 bad command line.
local reel = require "reel"
local getopt = require "reel.getopt"
local session = require "reel.session"

local usage_error = getopt.usage_error("reel new")
local failure = getopt.failure("reel new")

local opts, rest = getopt.parse({ ... }, {
  template = { value = true }, name = { value = true }, rate = { value = true },
  tempo = { value = true }, meter = { value = true }, format = { value = true },
})
if not opts then return usage_error(rest) end
local dir, dir_err = getopt.operand(rest, "DIR", "the session folder to create")
if not dir then return usage_error(dir_err) end

local options = { template = opts.template }
if opts.template == "" then return usage_error("option '--template' needs a template name or path") end
if opts.name then
  if opts.name == "" then return usage_error("option '--name' needs a non-empty name") end
  options.name = opts.name
end
if opts.rate then
  local n = opts.rate:match("^%d+$") and math.tointeger(tonumber(opts.rate))
  if not n or session.check_rate(n) then
    return usage_error(("option '--rate' expects a sample rate in Hz from 1000 to 768000, got '%s'")
      :format(opts.rate))
  end
  options.rate = n
end
if opts.tempo then
  local bpm = opts.tempo:match("^%d*%.?%d+$") and tonumber(opts.tempo)
  if not bpm or session.check_tempo(bpm) then
    return usage_error(("option '--tempo' expects beats per minute from 1 to 1000, got '%s'")
      :format(opts.tempo))
  end
  options.tempo = bpm
end
if opts.meter then
  local why = session.check_meter(opts.meter)
  if why then return usage_error(("option '--meter': %s"):format(why)) end
  options.meter = opts.meter
end
if opts.format then
  local why = session.check_format(opts.format)
  if why then
    return usage_error(("option '--format' must be one of %s, got '%s'")
      :format(table.concat(reel.formats(), ", "), opts.format))
  end
  options.format = opts.format
end

local s, err = reel.new(dir, options)
if not s then return failure(err) end

local seg = s:tempo()[1]
print(("Created session '%s' in %s: %d Hz, %s, %s bpm %s")
  :format(s.name, dir, s.rate, s.format, ("%g"):format(seg.bpm), seg.meter))
if #s.tracks > 0 then
  local list = {}
  for i, t in ipairs(s.tracks) do
    list[i] = ("%s (input %s%s)"):format(t.name, table.concat(t.input, "+"),
      t.monitor and ", monitored" or "")
  end
  print(("%d track%s: %s"):format(#list, #list == 1 and "" or "s", table.concat(list, ", ")))
end
local sections = s:sections()
if #sections > 0 then
  local list, bars, samples = {}, 0, 0
  for i, r in ipairs(sections) do
    list[i] = r.label
    bars, samples = bars + r.length_bars, samples + r.length
  end
  print(("%d section%s, %d bars, %.1f s: %s"):format(#list, #list == 1 and "" or "s", bars,
    samples / s.rate, table.concat(list, ", ")))
end
return 0
