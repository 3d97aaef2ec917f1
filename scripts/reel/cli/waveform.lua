--- `reel waveform FILE --out PNG [--width W] [--height H] [--clip-level X]`:
-- draws a waveform overview of a sound file (`reel.waveform`): per channel
-- a lane with a centre line and, per pixel column, a bar from the column's
-- minimum to its maximum; columns holding a clipped sample (|x| >= the clip
-- level, default 0.999) in red. Default size 1200 x 120. The PNG is
-- written atomically; a file at --out that is not a PNG is never replaced.
-- Prints the file's frames, channels, peak and clipped samples.
-- Returns the exit status: 0, 1 (missing or unreadable FILE, --out cannot
-- be written), 2 bad command line.
local getopt = require "reel.getopt"
local waveform = require "reel.waveform"

local usage_error = getopt.usage_error("reel waveform")
local failure = getopt.failure("reel waveform")

local opts, rest = getopt.parse({ ... }, {
  out = { value = true }, width = { value = true }, height = { value = true },
  ["clip-level"] = { value = true },
})
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("missing FILE (the sound file)") end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one FILE)"):format(rest[2])) end
if not opts.out or opts.out == "" then return usage_error("missing --out PNG") end

local wopts = {}
for _, k in ipairs{ "width", "height" } do
  local v = opts[k]
  if v ~= nil then
    local max = k == "width" and waveform.MAX_WIDTH or waveform.MAX_HEIGHT
    local n = v:match("^%d+$") and math.tointeger(tonumber(v))
    if not n or n < 1 or n > max then
      return usage_error(("--%s must be a whole number from 1 to %d, got '%s'"):format(k, max, v))
    end
    wopts[k] = n
  end
end
if opts["clip-level"] then
  local x = tonumber(opts["clip-level"])
  if not x or x <= 0 or x ~= x or x == math.huge then
    return usage_error(("--clip-level must be a positive number, got '%s'"):format(opts["clip-level"]))
  end
  wopts.clip_level = x
end

local info, err = waveform.write(rest[1], opts.out, wopts)
if not info then return failure(err) end
print(("%s: %d frames, %d channel%s at %d Hz, peak %s dBFS, %d clipped -> %s (%dx%d)"):format(
  rest[1], info.frames, info.channels, info.channels == 1 and "" or "s", info.rate,
  info.peak_db and ("%.1f"):format(info.peak_db) or "-inf", info.clipped, opts.out,
  info.width, info.height))
return 0
