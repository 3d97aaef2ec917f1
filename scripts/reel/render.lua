--- reel.render: the session, or a variant of it, rendered offline to a
-- stereo mix and/or one stem per track.
--
--     local s = assert(reel.open("songs/demo"))
--     s:set_mix("Vox", { gain_db = -3, pan = 0.2 })
--     s:set_mix("Click", { mute = true })
--     local r = assert(s:render{ stems = "songs/demo/stems" })
--     print(r.out, r.frames, #r.stems)                  -- songs/demo/renders/demo.wav
--     assert(s:render{ variant = "radio" })             -- songs/demo/renders/demo-radio.wav
--
-- What plays: per track `s:regions(track)` (its comped sections, or its
-- selected take whole), with the track's `gain_db`, `pan`, `mute` and
-- `solo` (`s:set_mix`). The pan law, the solo rule and the rest are the
-- engine's (engine/render.h): mono tracks pan at constant power (-3 dB each
-- side at the centre), stereo tracks are balanced; when any track is soloed
-- only soloed tracks are heard; stems are pre-fader (no gain, pan, mute or
-- solo), in the track's channel count.
--
-- Comp switches: where a comp hands a track over from one take to another
-- (one region ends on the very sample where the next begins, from another
-- file or from elsewhere in the same one), the two are crossfaded, equal
-- power, over `comp_crossfade_ms` (default 10 ms, 0 for hard cuts) centred
-- on the switch: the outgoing take plays on past its region and the
-- incoming one starts early, read from their files, so the switch does not
-- click in the mix or in the stems. A take that has less audio beyond the
-- switch than half the crossfade shortens it (the same on both sides, so it
-- stays centred; none at all: a hard cut), and so does a region shorter
-- than the crossfade (at most half of the shorter region on each side). A
-- region next to silence is not faded. Variants play these crossfades too,
-- wherever their sections come from.
--
-- The range: from the session start (sample 0, bar 1:1) to the end of the
-- last section or of the last region, whichever is later. Every output
-- (mix and stems) has exactly that many frames and a BWF time reference of
-- 0, so the files line up sample for sample in any editor.
--
-- A variant (`variant = "radio"`, see `reel.arrange`) is assembled bar by
-- bar from the base timeline: each of its sections plays the audio of the
-- section it came from (a shortened one its first bars, an extended one its
-- last bar again); where two consecutive pieces are not contiguous in the
-- base timeline they are crossfaded, equal power, over `crossfade_ms`
-- (default 10 ms) centred on the edit, reading past the cut on both sides,
-- so edits do not click. Fades in and out are linear gain. Tracks the
-- variant adds have no takes and render silence; tracks it removes are not
-- rendered. A variant that changes the tempo is refused: recorded audio
-- cannot follow a new tempo without time-stretching, which reel does not do.
--
-- Files: `out` defaults to DIR/renders/<name>[-<variant>].<ext>, stems go to
-- `stems`/<Track>.<ext>; the format is `format`, else what the name of
-- `out` says (.flac, or .wav for a FLAC session: wav24), else the
-- session's (wav24 by default).
-- Nothing is replaced unless `force` is true: renders are not takes, but an
-- existing file is still somebody's work. Outputs are written under a
-- temporary name and moved into place when complete; a failed render
-- leaves nothing behind. Takes are never written to: an output in the
-- session's audio/ folder, or over its session.json, is refused even with
-- `force`.
--
-- Bad input: a missing or unreadable take file, a take shorter than the
-- session says, or a take at another sample rate than the session's
-- (reel does not resample; convert it first) gives nil and a message
-- naming the track, the take and the file.
--
-- Threads: the script's (control) thread; the render runs on it.
-- @module reel.render

local core = require "reel.core"
local renderer = require "reel.renderer"
local util = require "reel.util"
local comp_xfade = require "reel.comp_xfade"

local M = {}

--- Default crossfade at variant edits and comp switches, in milliseconds.
M.CROSSFADE_MS = 10

local typename, join = util.typename, util.join

local function dirname(p)
  local d = p:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  return d == "" and "/" or d
end

local OPTIONS = {
  out = true, stems = true, variant = true, format = true, crossfade_ms = true,
  comp_crossfade_ms = true, force = true, progress = true, description = true,
}

-- Checks opts; raises at `level` (the user's line).
local function check_options(opts, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #1 to 'render' (table of options expected, got %s)"):format(typename(opts)), level)
  end
  for k, v in pairs(opts) do
    if not OPTIONS[k] then
      error(("unknown option '%s' (out, stems, variant, format, crossfade_ms, comp_crossfade_ms, force, "
        .. "progress, description)"):format(tostring(k)), level)
    end
    local bad
    if k == "out" then
      if not ((type(v) == "string" and v ~= "") or v == false) then bad = "file path or false expected" end
    elseif k == "stems" or k == "variant" or k == "description" then
      if type(v) ~= "string" or v == "" then bad = "string expected" end
    elseif k == "format" then
      local ok = false
      for _, f in ipairs(core.formats()) do ok = ok or f == v end
      if not ok then bad = ("%s is not one of %s"):format(type(v) == "string" and ("'" .. v .. "'") or typename(v),
        table.concat(core.formats(), ", ")) end
    elseif k == "crossfade_ms" or k == "comp_crossfade_ms" then
      if type(v) ~= "number" then bad = "milliseconds from 0 to 1000 expected"
      elseif not (v >= 0 and v <= 1000) then
        error(("bad option '%s' (milliseconds from 0 to 1000 expected, got %s)"):format(k, ("%g"):format(v)), level)
      end
    elseif k == "force" then
      if type(v) ~= "boolean" then bad = "boolean expected" end
    elseif k == "progress" then
      if type(v) ~= "function" then bad = "function expected" end
    end
    if bad then
      if k ~= "format" then bad = ("%s, got %s"):format(bad, typename(v)) end
      error(("bad option '%s' (%s)"):format(k, bad), level)
    end
  end
  return opts
end

local function ext_of(format)
  return format == "flac" and "flac" or "wav"
end

--- The file a render goes to by default: DIR/renders/<name>[-<variant>].<ext>.
-- @tparam Session s
-- @tparam[opt] string variant
-- @tparam[opt] string format default: the session's
-- @treturn string
function M.default_out(s, variant, format)
  local name = (s.name or "mix"):gsub("[/\\%c]", "_")
  if variant then name = name .. "-" .. variant:gsub("[/\\%c]", "_") end
  return join(join(s.dir, "renders"), name .. "." .. ext_of(format or s.format))
end

-- The session's track table by name, or nil.
local function track_entry(s, name)
  for _, t in ipairs(s.tracks) do
    if t.name == name then return t end
  end
end

-- A track's regions for the engine: `what` names them, regions that start
-- before sample 0 (a take begun during a pre-roll) lose what lies before.
local function engine_regions(s, name)
  local out = {}
  for _, r in ipairs(s:regions(name)) do
    local at, offset, frames = math.tointeger(r.at), math.tointeger(r.offset) or 0, math.tointeger(r.frames)
    if at and frames then
      if at < 0 then
        offset, frames, at = offset - at, frames + at, 0
      end
      if frames > 0 then
        out[#out + 1] = { path = r.path, what = ("track '%s' take %s"):format(name, tostring(r.take)),
                          at = at, offset = offset, frames = frames }
      end
    end
  end
  return out
end

-- Channels of a track: its inputs, else (a track only takes mention) the
-- widest of its files (1 when none can be read: the engine reports them).
local function channels_of(entry, regions)
  if entry and type(entry.input) == "table" and #entry.input >= 1 then
    return math.min(#entry.input, 2)
  end
  local ch = 1
  for _, r in ipairs(regions) do
    local info = core.sound_info(r.path)
    if info and info.channels == 2 then ch = 2 end
  end
  return ch
end

-- The pieces of the base timeline a variant plays, bar by bar, merged where
-- contiguous; its fades; or nil and why it cannot be rendered.
local function variant_plan(s, a, rate)
  local map = s:tempo_map()
  for _, e in ipairs(a.sections) do
    if e.tempo then
      return nil, ("variant '%s' plays '%s' at %s bpm: recorded audio cannot follow a tempo change "
        .. "without time-stretching, which reel render does not do; render a variant without "
        .. "a tempo change"):format(a.name, e.label, ("%g"):format(e.tempo))
    end
  end
  local pieces, fades = {}, {}
  local dst = 0
  for _, e in ipairs(a.sections) do
    if dst ~= e.start then
      return nil, ("variant '%s': '%s' starts at sample %d, the bars before it end at %d")
        :format(a.name, e.label, e.start, dst)
    end
    for k = 0, e.bars - 1 do
      local bar = e.source_bar + math.min(k, e.source_bars - 1)
      local src, len = map:to_sample(bar, 1), map:bar_length(bar)
      local last = pieces[#pieces]
      if last and last[2] + last[3] == src then
        last[3] = last[3] + len
      else
        pieces[#pieces + 1] = { dst, src, len }
      end
      dst = dst + len
    end
    if e.fade_in then
      fades[#fades + 1] = { e.start, math.max(1, math.min(e.length, math.floor(e.fade_in * rate + 0.5))), "in" }
    end
    if e.fade_out then
      local n = math.max(1, math.min(e.length, math.floor(e.fade_out * rate + 0.5)))
      fades[#fades + 1] = { e.start + e.length - n, n, "out" }
    end
  end
  if dst ~= a.length then
    return nil, ("variant '%s': its bars add up to %d samples, its layout to %d"):format(a.name, dst, a.length)
  end
  return pieces, fades
end

--- Renders (see the module's description). Called as `s:render(opts)`.
-- @tparam Session s
-- @tparam[opt] table opts `out` (file, or false for stems only), `stems`
--   (folder), `variant` (name), `format` (wav24, wav32f, flac, rf64;
--   default the session's), `crossfade_ms` (at variant edits, default 10),
--   `comp_crossfade_ms` (at comp switches, default 10; 0: hard cuts),
--   `force` (replace existing files), `progress` (function(done, total),
--   frames; returning false cancels), `description` (BWF)
-- @tparam[opt] integer level where misuse is reported (for `Session:render`)
-- @treturn[1] table `{out (path or nil), stems = {{track, path}...}, frames,
--   rate, start = 0, seconds, variant, peak_db, clipped, heard}`
-- @return[2] nil, message
function M.render(s, opts, level)
  level = (level or 1) + 1
  opts = check_options(opts, level + 1)
  local rate = s:tempo_map():rate()
  -- The format: as asked; else what an explicit file name says (.flac is
  -- FLAC, .wav of a FLAC session is wav24); else the session's.
  local format = opts.format
  if not format and type(opts.out) == "string" then
    local ext = (opts.out:match("%.(%w+)$") or ""):lower()
    if ext == "flac" then format = "flac"
    elseif ext == "wav" and s.format == "flac" then format = "wav24" end
  end
  format = format or s.format or "wav24"

  local arrangement
  if opts.variant then
    local ok, a = pcall(s.arrangement, s, opts.variant)
    if not ok then error((tostring(a):gsub("^[^\n]-:%d+: ", "")), level) end
    arrangement = a
  end

  -- Tracks: the session's, or the variant's (added ones silent).
  local names = arrangement and arrangement.tracks or s:track_names()
  local added = {}
  for _, t in ipairs(arrangement and arrangement.added or {}) do added[t.name] = t end
  local tracks, base_end = {}, 0
  for _, name in ipairs(names) do
    local entry = added[name] or track_entry(s, name)
    local regions = added[name] and {} or engine_regions(s, name)
    for _, r in ipairs(regions) do base_end = math.max(base_end, r.at + r.frames) end
    tracks[#tracks + 1] = {
      name = name, channels = channels_of(entry, regions), regions = regions,
      gain_db = entry and entry.gain_db or 0, pan = entry and entry.pan or 0,
      mute = entry and entry.mute or false, solo = entry and entry.solo or false,
    }
  end

  local frames, pieces, fades
  if arrangement then
    local why
    pieces, why = variant_plan(s, arrangement, rate)
    if not pieces then return nil, why end
    fades = why
    frames = arrangement.length
  else
    frames = base_end
    for _, r in ipairs(s:sections()) do frames = math.max(frames, r.start + r.length) end
  end
  if frames == 0 then
    return nil, ("%s: nothing to render (no sections, and no track has a selected take or comp)"):format(s.dir)
  end

  -- Outputs.
  local out = opts.out
  if out == nil then out = M.default_out(s, opts.variant, format) end
  local stems = {}
  local existing = {}
  if out then
    local ok, err = core.mkdir_p(dirname(out))
    if not ok then return nil, err end
    if core.exists(out) then existing[#existing + 1] = out end
  end
  if opts.stems then
    local ok, err = core.mkdir_p(opts.stems)
    if not ok then return nil, err end
    for _, t in ipairs(tracks) do
      t.stem = join(opts.stems, t.name .. "." .. ext_of(format))
      stems[#stems + 1] = { track = t.name, path = t.stem }
      if core.exists(t.stem) then existing[#existing + 1] = t.stem end
    end
  end
  if not out and #stems == 0 then
    return nil, "nothing to write: out = false and no stems folder (or no tracks)"
  end
  -- Whatever `force` says: never into the session's audio/ (takes live
  -- there, and their numbers count the files) nor over its own files.
  do
    local bwf = require "reel.bwf"
    local function real(p)
      local d = bwf.realpath(dirname(p))
      return d and join(d, p:match("[^/]*$"))
    end
    local audio = bwf.realpath(join(s.dir, "audio"))
    local own = {}
    for _, f in ipairs{ "session.json", "journal.json", "latency.json", ".reel.lock" } do
      local r = real(join(s.dir, f))
      if r then own[r] = true end
    end
    local paths = {}
    if out then paths[#paths + 1] = out end
    for _, st in ipairs(stems) do paths[#paths + 1] = st.path end
    for _, p in ipairs(paths) do
      local r = real(p)
      if r and ((audio and dirname(r) == audio) or own[r]) then
        return nil, ("%s: renders are never written into the session's audio/ folder or over its files"):format(p)
      end
    end
  end
  if #existing > 0 and not opts.force then
    return nil, ("%s exists; renders never replace a file unless forced (force = true, reel render --force)")
      :format(existing[1])
  end

  local res, err = renderer.run{
    rate = rate, format = format, frames = frames,
    crossfade = comp_xfade.frames(opts.crossfade_ms or M.CROSSFADE_MS, rate),
    comp_crossfade = comp_xfade.frames(opts.comp_crossfade_ms or M.CROSSFADE_MS, rate),
    pieces = pieces, fades = fades, tracks = tracks,
    out = out or nil, overwrite = opts.force or false, time_reference = 0,
    description = opts.description or ("reel render of %s%s"):format(s.name or "",
      opts.variant and (", variant " .. opts.variant) or ""),
    progress = opts.progress,
  }
  if not res then return nil, err end
  return {
    out = out or nil, stems = stems, frames = res.frames, rate = rate, start = 0,
    seconds = res.frames / rate, variant = opts.variant, format = format,
    peak_db = res.peak_db, clipped = res.clipped, heard = res.heard,
  }
end

return M
