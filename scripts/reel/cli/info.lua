--- `reel info DIR [--json] [--variant NAME]`: what a session holds: tempo
-- map, sections with their positions and durations, variants, markers,
-- tracks (with their mix settings), comps, and per track its takes
-- (number, status, start in bars:beats, length, peak, problems) with each
-- take's facts (loudness among them when measured). --json prints the session
-- document instead, as `save` would write it (positions computed afresh).
-- --variant NAME shows that variant of the arrangement instead: its sections
-- laid out from bar 1 (start in bars:beats and seconds, duration, what the
-- variant changed) and its tracks; with --json, the arrangement as JSON.
-- Reads only: nothing is written.
-- Returns the exit status: 0, 1 (no such folder, not a session, a broken
-- session.json, no such variant), 2 bad command line.
local reel = require "reel"
local getopt = require "reel.getopt"
local json = require "reel.json"
local util = require "reel.util"

local usage_error = getopt.usage_error("reel info")
local failure = getopt.failure("reel info")

local opts, rest = getopt.parse({ ... }, { json = {}, variant = { value = true } })
if not opts then return usage_error(rest) end
local dir, dir_err = getopt.operand(rest, "DIR", "the session folder")
if not dir then return usage_error(dir_err) end

local s, err = reel.open(dir)
if not s then return failure(err) end

local arrangement
if opts.variant then
  local ok, a = pcall(s.arrangement, s, opts.variant)
  if not ok then return failure((tostring(a):gsub("^[^\n]-:%d+: ", ""))) end
  arrangement = a
  if opts.json then
    io.write(json.encode(a))
    return 0
  end
end

if opts.json then
  io.write(json.encode(s:document()))
  return 0
end

local map = s:tempo_map()
local rate = map:rate()

-- 75.25 -> "1:15.250"
local clock = util.clock

local plural = util.plural

local function bbt(sample)
  local ok, text = pcall(map.format, map, sample)
  return ok and text or "?"
end

local function num(x)
  return ("%g"):format(x)
end

-- text padded with spaces to width bytes: string.format's "%-Ns" takes
-- widths up to 99 only (section labels can be longer) and refuses strings
-- holding a NUL byte (a marker's name from JSON can).
local function pad(text, width)
  return text .. (" "):rep(width - #text)
end

if arrangement then
  local a = arrangement
  print(("Session   %s"):format(s.name))
  print(("Variant   %s: %s, %s (%d samples)"):format(a.name, plural(a.bars, "bar"), clock(a.seconds), a.length))
  print("")
  if #a.sections == 0 then
    print("Sections: none")
  else
    print(("Sections (%d)"):format(#a.sections))
    local w = 4
    for _, r in ipairs(a.sections) do w = math.max(w, #r.label) end
    for _, r in ipairs(a.sections) do
      local facts = {}
      if r.bars < r.source_bars then
        facts[#facts + 1] = ("shortened from %d"):format(r.source_bars)
      elseif r.bars > r.source_bars then
        facts[#facts + 1] = ("extended from %d"):format(r.source_bars)
      end
      if r.tempo then facts[#facts + 1] = ("at %s bpm"):format(num(r.tempo)) end
      if r.fade_in then facts[#facts + 1] = ("fade in %.1f s"):format(r.fade_in) end
      if r.fade_out then facts[#facts + 1] = ("fade out %.1f s"):format(r.fade_out) end
      print((("  %s  %-7s %8s   %s - %s  %9.3f s   samples %d - %d   %s"):format(pad(r.label, w),
        r.start_bbt, plural(r.bars, "bar"), clock(r.start / rate), clock((r.start + r.length) / rate),
        r.seconds, r.start, r.start + r.length, table.concat(facts, ", ")):gsub("%s+$", "")))
    end
  end
  print("")
  local tracks = {}
  local added = {}
  for _, t in ipairs(a.added) do added[t.name] = true end
  for i, name in ipairs(a.tracks) do tracks[i] = added[name] and (name .. " (added)") or name end
  print(("Tracks (%d)%s%s"):format(#tracks, #tracks > 0 and ": " or "", table.concat(tracks, ", ")))
  if #a.removed > 0 then print(("Removed   %s"):format(table.concat(a.removed, ", "))) end
  return 0
end

print(("Session   %s"):format(s.name))
print(("Folder    %s"):format(dir))
print(("Rate      %d Hz; takes written as %s"):format(rate, s.format))
if s.latency and s.latency.round_trip then
  print(("Latency   %d frames round trip (%.1f ms)"):format(s.latency.round_trip,
    s.latency.round_trip * 1000 / rate))
end
for i, seg in ipairs(s:tempo()) do
  print(("%-9s bar %-5d %s bpm %s, from %s (sample %d)"):format(i == 1 and "Tempo" or "",
    seg.bar, num(seg.bpm), seg.meter, clock(seg.start / rate), seg.start))
end

local sections = s:sections()
print("")
if #sections == 0 then
  print("Sections: none")
else
  print(("Sections (%d)"):format(#sections))
  local w = 4
  for _, r in ipairs(sections) do w = math.max(w, #r.label) end
  for _, r in ipairs(sections) do
    print(("  %s  %-7s %8s   %s - %s  %9.3f s   samples %d - %d"):format(pad(r.label, w),
      r.start_bbt, plural(r.length_bars, "bar"), clock(r.start / rate),
      clock((r.start + r.length) / rate), r.seconds, r.start, r.start + r.length))
  end
end

local variants = s:variants()
if #variants > 0 then
  print("")
  print(("Variants (%d): %s"):format(#variants, table.concat(variants, ", ")))
end

if #s.markers > 0 then
  print("")
  print(("Markers (%d)"):format(#s.markers))
  for _, mk in ipairs(s.markers) do
    print(("  %s %-9s %s (sample %d)"):format(pad(mk.name, 12), bbt(mk.start), clock(mk.start / rate),
      mk.start))
  end
end

print("")
if #s.tracks == 0 then
  print("Tracks: none")
else
  print(("Tracks (%d)"):format(#s.tracks))
  for _, t in ipairs(s.tracks) do
    local facts = { (#t.input > 1 and "inputs " or "input ") .. table.concat(t.input, "+") }
    if t.monitor then facts[#facts + 1] = "monitored" end
    if t.gain_db and t.gain_db ~= 0 then facts[#facts + 1] = ("gain %+.1f dB"):format(t.gain_db) end
    if t.pan and t.pan ~= 0 then facts[#facts + 1] = ("pan %+.2f"):format(t.pan) end
    if t.mute then facts[#facts + 1] = "muted" end
    if t.solo then facts[#facts + 1] = "solo" end
    print(("  %s %s"):format(pad(t.name, 12), table.concat(facts, ", ")))
  end
end

-- Comps: which take plays in which section, per track.
local comps = s:comps()
if #comps > 0 then
  print("")
  print(("Comps (%d)"):format(#comps))
  local lines, by = {}, {}
  for _, c in ipairs(comps) do
    if not by[c.track] then
      by[c.track] = {}
      lines[#lines + 1] = c.track
    end
    local where = c.section or ("bar " .. c.bar)
    table.insert(by[c.track], ("%s T%02d"):format(where, c.take))
  end
  for _, name in ipairs(lines) do
    print(("  %s %s"):format(pad(name, 12), table.concat(by[name], ", ")))
  end
end

print("")
if #s.takes == 0 then
  print("Takes: none yet")
  return 0
end
print(("Takes (%d)"):format(#s.takes))
for _, name in ipairs(s:track_names()) do
  local takes = s:takes{ track = name }
  table.sort(takes, function(a, b) return a.take < b.take end)
  if #takes == 0 then
    print(("  %s: no takes"):format(name))
  else
    print(("  %s"):format(name))
    for _, t in ipairs(takes) do
      local problems = s:problems(t)
      local seconds = t.seconds or (t.frames and t.rate and t.frames / t.rate)
      print(("    T%02d  %-8s  %-10s %10s  peak %6s dBFS  %s"):format(t.take, t.status or "kept",
        t.start and bbt(t.start) or "?", seconds and ("%.3f s"):format(seconds) or "?",
        t.peak_db and reel.format_db(t.peak_db) or "?",
        #problems > 0 and table.concat(problems, "; ") or "ok"))
      local facts = { t.file }
      if t.frames then
        facts[#facts + 1] = ("%d frames at %s Hz"):format(t.frames, t.rate and tostring(t.rate) or "?")
      end
      if t.start then facts[#facts + 1] = ("start sample %d"):format(t.start) end
      if t.format then facts[#facts + 1] = t.format end
      if t.recorded then facts[#facts + 1] = "recorded " .. t.recorded end
      if t.device then facts[#facts + 1] = "on " .. t.device end
      if t.section then facts[#facts + 1] = "section " .. t.section end
      if t.pass then facts[#facts + 1] = "pass " .. t.pass end
      local ld = t.loudness
      if type(ld) == "table" and type(ld.integrated) == "number" and ld.integrated > -math.huge then
        facts[#facts + 1] = ("%.1f LUFS"):format(ld.integrated)
      end
      print("          " .. table.concat(facts, ", "))
      if t.note then print(("          note: %s"):format(t.note)) end
    end
  end
end
return 0
