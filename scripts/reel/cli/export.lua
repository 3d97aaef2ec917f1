--- `reel export DIR --to FOLDER [--variant NAME] [--comp-crossfade MS]
-- [--force]`: writes the handoff package of a session (see reel.export):
-- mix and stems, the take files the song uses, takes/sections/markers/tempo
-- as CSV (and takes as JSON), a MIDI file with the tempo map and markers, a
-- REAPER project and a DAWproject file, and a README for the mix engineer.
-- Comp switches are crossfaded over MS (default 10, 0: hard cuts) in the
-- stems, the mix and the projects alike. FOLDER must be new or empty unless
-- --force; the session folder is only read.
-- Returns the exit status: 0 written, 1 failed (no such session, a take
-- file missing, FOLDER not empty, no such variant, the disk), 2 bad command
-- line.
local reel = require "reel"
local getopt = require "reel.getopt"
require "reel.export"

local usage_error = getopt.usage_error("reel export")
local failure = getopt.failure("reel export")

local opts, rest = getopt.parse({ ... }, { to = { value = true }, variant = { value = true }, force = {},
  ["comp-crossfade"] = { value = true } })
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("missing DIR (the session folder)") end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one DIR)"):format(rest[2])) end
if not opts.to then return usage_error("missing --to FOLDER (where the package goes)") end
if opts.to == "" then return usage_error("option '--to' needs a folder") end
if opts.variant == "" then return usage_error("option '--variant' needs a variant name") end
local dir = rest[1]
if dir == "" then return usage_error("DIR must not be empty") end
local comp_ms
if opts["comp-crossfade"] then
  comp_ms = tonumber(opts["comp-crossfade"])
  if not comp_ms or not (comp_ms >= 0 and comp_ms <= 1000) then
    return usage_error(("--comp-crossfade: milliseconds from 0 to 1000 expected, got '%s'")
      :format(opts["comp-crossfade"]))
  end
end

local s, err = reel.open(dir)
if not s then return failure(err) end

local ok, summary, xerr = pcall(s.export, s, { to = opts.to, variant = opts.variant, force = opts.force,
  comp_crossfade_ms = comp_ms })
if not ok then
  -- A mistake the options carry (an unknown variant): said without Lua's position.
  return failure((tostring(summary):gsub("^[^\n]-:%d+: ", "")))
end
if not summary then return failure(xerr) end

local copied, converted, trimmed = 0, 0, 0
for _, a in ipairs(summary.audio) do
  if a.how == "copy" then copied = copied + 1
  elseif a.how == "trimmed" then trimmed = trimmed + 1
  else converted = converted + 1 end
end
print(("Exported %s%s to %s"):format(s.name, summary.variant and (" (variant " .. summary.variant .. ")") or "",
  summary.folder))
print(("  %d samples at %d Hz (%.3f s), %d track%s: %s"):format(summary.frames, summary.rate,
  summary.frames / summary.rate, #summary.tracks, #summary.tracks == 1 and "" or "s",
  table.concat(summary.tracks, ", ")))
print(("  audio: %d take file%s (%d copied, %d converted to BWF WAV%s)"):format(#summary.audio,
  #summary.audio == 1 and "" or "s", copied, converted,
  trimmed > 0 and (", %d trimmed to 1:1"):format(trimmed) or ""))
print(("  %d takes listed in takes.csv and takes.json"):format(summary.takes))
print(("  %d files:"):format(#summary.files))
for _, f in ipairs(summary.files) do print("    " .. f) end
return 0
