--- `reel report DIR [--out FILE] [--width W] [--height H] [--stems]
-- [--no-measure] [--no-mix | --latest-mix]`: writes the session's report
-- page, one self-contained HTML file (`reel.report`): tracks, takes with
-- status, problems and loudness, the section timeline, the mix's loudness
-- against the delivery targets, and a waveform picture per take (and per
-- stem). --out defaults to DIR/report.html. --width/--height size the
-- waveforms (default 1200 x 120). --no-measure shows "not measured" for
-- takes without a loudness instead of measuring them; --latest-mix measures
-- only an existing render (never renders one), --no-mix leaves the mix out;
-- --stems renders stems for the page when no render has any.
-- Reads the session only: session.json and audio/ are not touched.
-- Returns the exit status: 0, 1 (no such folder, not a session, a broken
-- session.json, the page cannot be written), 2 bad command line.
local reel = require "reel"
local getopt = require "reel.getopt"

local usage_error = getopt.usage_error("reel report")
local failure = getopt.failure("reel report")

local opts, rest = getopt.parse({ ... }, {
  out = { value = true }, width = { value = true }, height = { value = true },
  stems = {}, ["no-measure"] = {}, ["no-mix"] = {}, ["latest-mix"] = {},
})
if not opts then return usage_error(rest) end
local dir, dir_err = getopt.operand(rest, "DIR", "the session folder")
if not dir then return usage_error(dir_err) end
if opts.out == "" then return usage_error("--out must not be empty") end
if opts["no-mix"] and opts["latest-mix"] then
  return usage_error("--no-mix and --latest-mix exclude each other")
end

local function size(name, max)
  local v = opts[name]
  if v == nil then return nil end
  local n = math.tointeger(tonumber(v))
  if not n or not v:match("^%d+$") or n < 1 or n > max then
    return nil, ("--%s must be a whole number from 1 to %d, got '%s'"):format(name, max, v)
  end
  return n
end
local width, werr = size("width", 16384)
if werr then return usage_error(werr) end
local height, herr = size("height", 4096)
if herr then return usage_error(herr) end

local s, err = reel.open(dir)
if not s then return failure(err) end

local mix
if opts["no-mix"] then mix = false elseif opts["latest-mix"] then mix = "latest" end
local out, facts = s:report{
  out = opts.out, width = width, height = height, stems = opts.stems or nil,
  measure = not opts["no-measure"], mix = mix,
}
if not out then return failure(facts) end
print(("%s: %d take%s, %d measured for the report; mix: %s"):format(out, facts.takes,
  facts.takes == 1 and "" or "s", facts.measured, facts.mix_note))
return 0
