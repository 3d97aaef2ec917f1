--- Loudness of sound files (EBU R128 through libebur128) and how far a
-- render is from the loudness that delivery targets ask for.
--
--     local loudness = require "reel.loudness"
--     local m = assert(loudness.file("mix.wav"))
--     print(m.integrated, m.range, m.true_peak)       -- LUFS, LU, dBTP
--     for _, r in ipairs(loudness.report(m)) do print(r.target, r.verdict, r.text) end
--     assert(loudness.normalize("mix.wav", "mix-streaming.wav", "streaming"))
--
-- Measures (`loudness.file`): `integrated` (gated programme loudness,
-- LUFS), `range` (loudness range, LU), `momentary_max` and `short_term_max`
-- (the loudest 400 ms and 3 s, LUFS), `true_peak` (dBTP) and `sample_peak`
-- (dBFS), each peak the maximum over the channels, plus `frames`, `rate`,
-- `channels`, `seconds`. A level with no finite value is `-math.huge`:
-- `integrated` of silence or of a file shorter than 400 ms (`too_quiet` is
-- then true: "too quiet to measure"), the peaks of digital silence. A mono
-- file is measured as played over two loudspeakers (EBU "dual mono"); 5.1
-- files in the order L, R, C, LFE, Ls, Rs (the LFE is not counted; past the
-- sixth: 7.1's surrounds, else front channels).
--
-- Targets (`loudness.TARGETS`): integrated loudness, true-peak ceiling and
-- the tolerance within which a render counts as on target. A report says
-- per target how far the render is (`distance`, LU, positive when louder),
-- the gain that reaches it (`gain`), the most gain the true-peak ceiling
-- allows (`ceiling_gain`), and a verdict. Platforms turn loud masters
-- down; a quiet one is not turned up past the ceiling, which is why both
-- gains are given.
--
-- Normalizing writes a gain-only preview: gain = min(target - integrated,
-- ceiling - true_peak), into a new file (an existing one is never
-- replaced), measured again; its true peak never exceeds the ceiling.
--
-- Per take: `loudness.take(path)` gives what a session stores in each take
-- (`integrated`, `range`, `short_term_max`, `true_peak`; `note` "too quiet
-- to measure" when integrated has no value, which session.json holds as
-- null).
--
-- Threads: the script's (control) thread; measuring reads the whole file
-- (about 150 times faster than real time for stereo 48 kHz).
-- @module reel.loudness
local core = require "reel.loudness_core"
local reel_core = require "reel.core"
local util = require "reel.util"

local loudness = {}

--- Delivery targets by name: `{name, label, integrated (LUFS), true_peak
-- (the ceiling, dBTP), tolerance (LU)}`. EBU R128's tolerance is its own
-- (+-0.5 LU for programmes, +-1 live); ATSC A/85's is +-2 dB; the others
-- publish none and reel uses +-1 LU.
loudness.TARGETS = {
  streaming = { name = "streaming", label = "streaming (Spotify, YouTube, Tidal, Amazon)",
                integrated = -14, true_peak = -1, tolerance = 1 },
  apple = { name = "apple", label = "Apple Music", integrated = -16, true_peak = -1, tolerance = 1 },
  podcast = { name = "podcast", label = "podcast", integrated = -16, true_peak = -1, tolerance = 1 },
  broadcast = { name = "broadcast", label = "broadcast (EBU R128)", integrated = -23,
                true_peak = -1, tolerance = 0.5 },
  atsc = { name = "atsc", label = "US broadcast (ATSC A/85)", integrated = -24, true_peak = -2,
           tolerance = 2 },
}

--- The target names in the order reports list them.
loudness.ORDER = { "streaming", "apple", "podcast", "broadcast", "atsc" }

--- Takes longer than this (seconds) are not measured when they are filed
-- (measuring costs about 1/150 of their length per stereo track); `reel
-- loudness DIR` measures them later.
loudness.TAKE_MAX_SECONDS = 600

--- Seconds of audio (x channels) measured after one recording (see `take`).
loudness.RECORD_BUDGET_SECONDS = 1200

local misuse = util.misuse

local function names_text()
  return table.concat(loudness.ORDER, ", ")
end

-- The target t names or describes; raises at the level of the caller of
-- the public function that called this one (argument #argn of fname).
local function resolve(t, fname, argn)
  local function bad(why) error(("bad argument #%d to '%s' (%s)"):format(argn, fname, why), 4) end
  if type(t) == "string" then
    local found = loudness.TARGETS[t]
    if not found then bad(("unknown target '%s'; one of %s"):format(t, names_text())) end
    return found
  elseif type(t) == "table" then
    for _, k in ipairs{ "integrated", "true_peak" } do
      if type(t[k]) ~= "number" or t[k] ~= t[k] or math.abs(t[k]) == math.huge then
        bad(("field '%s' must be a finite number"):format(k))
      end
    end
    local tol = t.tolerance or 1
    if type(tol) ~= "number" or tol < 0 then bad("field 'tolerance' must be a number >= 0") end
    return { name = t.name or "custom", label = t.label or t.name or "custom",
             integrated = t.integrated, true_peak = t.true_peak, tolerance = tol }
  end
  bad(("target name or table expected, got %s"):format(type(t)))
end

--- A target by name, or a table `{integrated =, true_peak = [, tolerance =,
-- name =, label =]}` checked and completed (tolerance 1 LU, name
-- "custom"). Unknown names and malformed tables raise.
-- @param t string or table
-- @treturn table
function loudness.target(t)
  local found = resolve(t, "target", 1)
  return found
end

--- Measures a sound file (any format libsndfile reads).
-- @tparam string path
-- @treturn[1] table the measures (see the module's summary), with
--   `too_quiet` and `path`
-- @return[2] nil, message naming the file (missing, not a sound file,
--   truncated)
function loudness.file(path)
  if type(path) ~= "string" then
    misuse(("bad argument #1 to 'file' (string expected, got %s)"):format(type(path)))
  end
  local m, err = core.measure(path)
  if not m then return nil, err end
  m.path = path
  m.too_quiet = m.integrated == -math.huge
  return m
end

local function fmt(x) return ("%.1f"):format(x) end
local function signed(x)
  local s = ("%+.1f"):format(x)
  return s == "-0.0" and "+0.0" or s
end

--- How far measures are from each target.
-- @tparam table m measures from `loudness.file` (integrated, true_peak)
-- @param[opt] which a target name or table, or a list of them (default:
--   every target in `loudness.ORDER`)
-- @treturn {table,...} per target: `target` (name), `label`, `integrated`
--   and `ceiling` (the target's), `tolerance`, `distance` (LU, measured
--   minus target, positive when louder), `gain` (dB that reach the target),
--   `ceiling_gain` (the most gain that keeps the true peak at the ceiling),
--   `normalize_gain` (the smaller of the two: what `normalize` applies),
--   `reachable` (false when the ceiling stops short of the target),
--   `peak_over` (true peak above the ceiling), `verdict` ("ok", "too loud",
--   "too quiet", "peaks over ceiling" or "too quiet to measure") and `text`,
--   a sentence for people. Without an integrated loudness, distance and the
--   gains are nil.
function loudness.report(m, which)
  if type(m) ~= "table" or type(m.integrated) ~= "number" or type(m.true_peak) ~= "number" then
    misuse("bad argument #1 to 'report' (measures from loudness.file expected)")
  end
  local list = {}
  if which == nil then
    for i, name in ipairs(loudness.ORDER) do list[i] = loudness.TARGETS[name] end
  elseif type(which) == "string" or (type(which) == "table" and which.integrated ~= nil) then
    list[1] = resolve(which, "report", 2)
  elseif type(which) == "table" then
    for i, t in ipairs(which) do list[i] = resolve(t, "report", 2) end
  else
    misuse(("bad argument #2 to 'report' (target name, table or list expected, got %s)"):format(type(which)))
  end
  local out = {}
  for i, t in ipairs(list) do
    local r = { target = t.name, label = t.label, integrated = t.integrated, ceiling = t.true_peak,
                tolerance = t.tolerance }
    r.peak_over = m.true_peak > t.true_peak
    if m.integrated == -math.huge then
      r.verdict = "too quiet to measure"
      r.reachable = false
      r.text = "too quiet to measure: no 400 ms block above -70 LUFS"
    else
      r.distance = m.integrated - t.integrated
      r.gain = t.integrated - m.integrated
      r.ceiling_gain = t.true_peak - m.true_peak
      r.normalize_gain = math.min(r.gain, r.ceiling_gain)
      r.reachable = r.ceiling_gain >= r.gain
      local tp = ("true peak %s dBTP"):format(fmt(m.true_peak))
      if r.distance > t.tolerance then
        r.verdict = "too loud"
        r.text = ("%s LU louder than %s LUFS: turn it down %s dB"):format(fmt(r.distance),
          fmt(t.integrated), fmt(-r.normalize_gain))
        if r.peak_over and r.ceiling_gain < r.gain then
          r.text = r.text .. (" (%s over the %s dBTP ceiling)"):format(tp, fmt(t.true_peak))
        end
      elseif r.distance < -t.tolerance then
        r.verdict = "too quiet"
        if r.reachable then
          r.text = ("%s LU quieter than %s LUFS: %s dB reaches it with the %s under the %s dBTP ceiling")
            :format(fmt(-r.distance), fmt(t.integrated), signed(r.gain), tp, fmt(t.true_peak))
        else
          r.text = ("%s LU quieter than %s LUFS: the %s dBTP ceiling allows only %s dB (%s); a limiter would be needed")
            :format(fmt(-r.distance), fmt(t.integrated), fmt(t.true_peak), signed(r.ceiling_gain), tp)
        end
      elseif r.peak_over then
        r.verdict = "peaks over ceiling"
        r.text = ("on target, but the %s is over the %s dBTP ceiling: turn it down %s dB or limit")
          :format(tp, fmt(t.true_peak), fmt(-r.ceiling_gain))
      else
        r.verdict = "ok"
        r.text = ("within %s LU of %s LUFS, %s under the %s dBTP ceiling"):format(
          ("%g"):format(t.tolerance), fmt(t.integrated), tp, fmt(t.true_peak))
      end
    end
    out[i] = r
  end
  return out
end

--- Writes a normalized preview: `output` = `input` times one gain,
-- min(target - integrated, ceiling - true peak), measured again. WAV 24-bit
-- (32-bit float for a float input), FLAC when output ends in ".flac".
-- @tparam string input
-- @tparam string output a new file (never replaced)
-- @param target a target name ("streaming") or table `{integrated=,
--   true_peak=}`
-- @treturn[1] table `{target, before, after, gain, target_gain,
--   ceiling_gain, limited}`: before and after are measures; limited when
--   the ceiling held the gain below what the target needs
-- @return[2] nil, message (input missing or not sound, too quiet to
--   measure, output exists, disk)
function loudness.normalize(input, output, target)
  if type(input) ~= "string" then
    misuse(("bad argument #1 to 'normalize' (string expected, got %s)"):format(type(input)))
  end
  if type(output) ~= "string" or output == "" then
    misuse(("bad argument #2 to 'normalize' (output path expected, got %s)"):format(
      output == "" and "empty string" or type(output)))
  end
  local t = resolve(target, "normalize", 3)
  local r, err = core.normalize(input, output, t.integrated, t.true_peak)
  if not r then return nil, err end
  r.target = t.name
  r.before.path, r.after.path = input, output
  r.before.too_quiet = false
  r.after.too_quiet = r.after.integrated == -math.huge
  return r
end

--- What a session stores per take: `{integrated, range, short_term_max,
-- true_peak}` (-math.huge, stored as null, where there is no value, with
-- `note` "too quiet to measure" when integrated has none).
-- @tparam table m measures from `loudness.file`
-- @treturn table
function loudness.take_fields(m)
  return {
    integrated = m.integrated, range = m.range, short_term_max = m.short_term_max,
    true_peak = m.true_peak,
    note = m.integrated == -math.huge and "too quiet to measure" or nil,
  }
end

--- Measures a take's file for the session, unless it is longer than
-- `TAKE_MAX_SECONDS` or a recording's `budget` is spent. Never raises for a
-- file's sake: a take is filed whatever happens here.
--
-- Measuring costs about 1/400 of the audio's duration in CPU time per
-- channel, which after a take of many tracks would keep the musicians
-- waiting; so the takes filed after one recording share a budget of
-- `RECORD_BUDGET_SECONDS` of audio (seconds x channels, summed over the
-- takes; 1200: about 3 s of CPU). Takes past it get no loudness now;
-- `reel loudness DIR` measures them later.
-- @tparam string path the take file
-- @tparam[opt] table budget `{seconds = N}`, shared by the takes of one
--   recording and decreased by each take measured (`M.budget()` makes one)
-- @treturn[1] table see `take_fields`
-- @return[2] nil, message (unreadable, too long or over budget)
function loudness.take(path, budget)
  if type(path) ~= "string" then return nil, "no take file" end
  local info, ierr = reel_core.sound_info(path)
  if not info then return nil, ierr end
  if info.rate > 0 and info.frames / info.rate > loudness.TAKE_MAX_SECONDS then
    return nil, ("%s: longer than %d s; measure it with reel loudness"):format(path,
      loudness.TAKE_MAX_SECONDS)
  end
  if budget then
    local cost = (info.rate > 0 and info.frames / info.rate or 0) * math.max(info.channels or 1, 1)
    if cost > budget.seconds then
      budget.seconds = 0
      return nil, ("%s: not measured after recording (more than %d s of audio in one recording); "
        .. "measure it with reel loudness"):format(path, loudness.RECORD_BUDGET_SECONDS)
    end
    budget.seconds = budget.seconds - cost
  end
  local ok, m, err = pcall(loudness.file, path)
  if not ok then return nil, tostring(m) end
  if not m then return nil, err end
  return loudness.take_fields(m)
end

--- A fresh budget for the takes of one recording (see `take`).
-- @treturn table `{seconds = RECORD_BUDGET_SECONDS}`
function loudness.budget()
  return { seconds = loudness.RECORD_BUDGET_SECONDS }
end

--- libebur128's version, "1.2.6".
function loudness.version() return core.version() end

return loudness
