--- `reel loudness [--json] [--target NAME] [--normalize OUT] FILE|DIR...`:
-- EBU R128 loudness of sound files and of a session's takes.
--
-- For each FILE: integrated loudness, loudness range, maximum momentary and
-- short-term loudness, true and sample peak, then per delivery target
-- (reel.loudness.TARGETS, or only --target NAME) how far the file is from
-- it, the gain that reaches it, the most gain the true-peak ceiling allows
-- and a verdict. --normalize OUT (one FILE only) also writes a gain-only
-- preview to the new file OUT for --target (default streaming), never over
-- the target's true-peak ceiling, and measures it again.
--
-- A DIR holding a session.json is a session: the takes that have no
-- loudness yet (filed by an older reel, longer than the filing limit, or
-- recovered) are measured and stored in session.json (written atomically;
-- the session is read again just before, so that takes filed meanwhile are
-- kept), and every take's loudness is listed. Measuring a session takes its
-- lock first (DIR/.reel.lock, see reel.session): while another reel process
-- writes the session (records into it), the session is refused, exit 1. A
-- session whose takes are all measured is only read.
--
-- --json prints one JSON array, an object per argument (`path`, the
-- measures, `targets` = the report; or `session`, `takes`, `measured`; or
-- `path`, `error`). Levels without a value (silence) are null and take
-- "too quiet to measure" in the table.
--
-- Returns the exit status: 0, 1 (a file missing, not sound, truncated; an
-- output that exists; a broken session), 2 bad command line.
local getopt = require "reel.getopt"
local json = require "reel.json"
local loudness = require "reel.loudness"
local session = require "reel.session"
local core = require "reel.core"
local util = require "reel.util"

local PROG = "reel loudness"

local usage_error = getopt.usage_error(PROG)

local opts, rest = getopt.parse({ ... }, { json = {}, target = { value = true },
  normalize = { value = true } })
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("missing FILE (a sound file or a session folder)") end
for _, a in ipairs(rest) do
  if a == "" then return usage_error("FILE must not be empty") end
end
if opts.target and not loudness.TARGETS[opts.target] then
  return usage_error(("unknown target '%s' (one of %s)"):format(opts.target,
    table.concat(loudness.ORDER, ", ")))
end
if opts.normalize then
  if opts.normalize == "" then return usage_error("option '--normalize' needs a file name") end
  if #rest > 1 then return usage_error("--normalize takes one FILE") end
  if core.exists(rest[1]) == "directory" then
    return usage_error("--normalize takes a sound file, not a folder")
  end
end
local which = opts.target

local function num(x, unit)
  if x == -math.huge then return "-inf" .. (unit and " " .. unit or "") end
  return ("%.1f"):format(x) .. (unit and " " .. unit or "")
end
local function signed(x)
  if x == nil then return "" end
  local s = ("%+.1f"):format(x)
  return s == "-0.0" and "+0.0" or s
end
local clock = util.clock

local failed = false
local results = json.array{}

-- say: print, with a blank line between the blocks of two arguments.
local any_block, block_started = false, false
local function say(line)
  if not block_started then
    if any_block then print("") end
    block_started, any_block = true, true
  end
  print(line)
end

local function complain(msg)
  failed = true
  io.stderr:write(PROG, ": ", msg, "\n")
end

local function print_file(m, report)
  say(("%s  (%d Hz, %d channel%s, %s)"):format(m.path, m.rate, m.channels,
    m.channels == 1 and "" or "s", clock(m.seconds)))
  if m.too_quiet then
    say("  integrated       too quiet to measure")
  else
    say(("  integrated      %8s LUFS"):format(num(m.integrated)))
  end
  say(("  loudness range  %8s LU"):format(num(m.range)))
  say(("  momentary max   %8s LUFS"):format(num(m.momentary_max)))
  say(("  short-term max  %8s LUFS"):format(num(m.short_term_max)))
  say(("  true peak       %8s dBTP"):format(num(m.true_peak)))
  say(("  sample peak     %8s dBFS"):format(num(m.sample_peak)))
  say(("  %-10s %6s %6s %9s %8s %9s  %s"):format("target", "LUFS", "dBTP", "distance", "gain",
    "ceiling", "verdict"))
  for _, r in ipairs(report) do
    say((("  %-10s %6s %6s %9s %8s %9s  %s"):format(r.target, num(r.integrated), num(r.ceiling),
      r.distance and signed(r.distance) .. " LU" or "-", r.gain and signed(r.gain) .. " dB" or "-",
      r.ceiling_gain and signed(r.ceiling_gain) .. " dB" or "-", r.verdict)))
  end
end

local function do_file(path)
  local m, err = loudness.file(path)
  if not m then
    complain(err)
    results[#results + 1] = { path = path, error = err }
    return
  end
  local report = loudness.report(m, which)
  local entry = {}
  for k, v in pairs(m) do entry[k] = v end
  entry.targets = json.array(report)
  results[#results + 1] = entry
  if not opts.json then print_file(m, report) end
  if opts.normalize then
    local target = which or "streaming"
    local r, nerr = loudness.normalize(path, opts.normalize, target)
    if not r then
      complain(nerr)
      entry.normalize_error = nerr
      return
    end
    entry.normalized = r
    if not opts.json then
      local t = loudness.TARGETS[target]
      say(("wrote %s: gain %s dB for %s (%s LUFS, ceiling %s dBTP)"):format(opts.normalize,
        signed(r.gain), target, num(t.integrated), num(t.true_peak)))
      say(("  now %s LUFS, true peak %s dBTP%s"):format(num(r.after.integrated),
        num(r.after.true_peak), r.limited and ("; held by the ceiling (the target needs %s dB)")
          :format(signed(r.target_gain)) or ""))
    end
  end
end

local function do_session(dir)
  local s, err = session.open(dir)
  if not s then
    complain(err)
    results[#results + 1] = { session = dir, error = err }
    return
  end
  local found = {}   -- "track\0take" -> loudness fields
  local measured = 0
  -- What is measured is saved: the session's lock before measuring (refused
  -- while another reel process writes the session; nothing is measured).
  for _, t in ipairs(s.takes) do
    if t.loudness == nil then
      local ok, lerr = s:lock()
      if not ok then
        complain(lerr)
        results[#results + 1] = { session = dir, error = lerr }
        return
      end
      break
    end
  end
  for _, t in ipairs(s.takes) do
    if t.loudness == nil then
      local path = t.file:sub(1, 1) == "/" and t.file or (dir .. "/" .. t.file)
      local m, merr = loudness.file(path)
      if m then
        found[t.track .. "\0" .. t.take] = loudness.take_fields(m)
      else
        complain(("take %d of '%s': %s"):format(t.take, t.track, merr))
      end
    end
  end
  if next(found) then
    -- Read again: a take filed while measuring must not be lost by saving.
    local fresh, ferr = session.open(dir)
    if not fresh then
      complain(ferr)
      results[#results + 1] = { session = dir, error = ferr }
      return
    end
    fresh:lock()      -- shares the lock s holds (this process's), before s goes
    s = fresh
    for _, t in ipairs(s.takes) do
      local l = found[t.track .. "\0" .. t.take]
      if l and t.loudness == nil then
        t.loudness = l
        measured = measured + 1
      end
    end
    local ok, serr = s:save()
    if not ok then
      complain(serr)
      results[#results + 1] = { session = dir, error = serr }
      return
    end
  end
  local takes = json.array{}
  for _, t in ipairs(s.takes) do
    takes[#takes + 1] = { track = t.track, take = t.take, file = t.file, loudness = t.loudness }
  end
  results[#results + 1] = { session = dir, takes = takes, measured = measured }
  if opts.json then return end
  say(("%s  (%d take%s, %d measured now)"):format(dir, #takes, #takes == 1 and "" or "s", measured))
  if #takes == 0 then return end
  local w = 5
  for _, t in ipairs(takes) do w = math.max(w, #t.track) end
  say((("  %-" .. w .. "s %4s %10s %8s %14s %10s"):format("track", "take", "integrated", "range",
    "short-term max", "true peak")))
  for _, t in ipairs(takes) do
    local l = t.loudness
    if not l then
      say((("  %-" .. w .. "s %4d  not measured"):format(t.track, t.take)))
    elseif l.integrated == -math.huge then
      say((("  %-" .. w .. "s %4d  too quiet to measure (true peak %s dBTP)"):format(t.track,
        t.take, num(l.true_peak or -math.huge))))
    else
      say((("  %-" .. w .. "s %4d %5s LUFS %5s LU %9s LUFS %5s dBTP"):format(t.track, t.take,
        num(l.integrated), num(l.range or 0), num(l.short_term_max or -math.huge),
        num(l.true_peak or -math.huge))))
    end
  end
end

for _, a in ipairs(rest) do
  block_started = false
  if core.exists(a) == "directory" then
    do_session(a)
  else
    do_file(a)
  end
end

if opts.json then io.write(json.encode(results)) end
return failed and 1 or 0
