--- reel.export: the handoff package, a folder a mix engineer opens.
--
--     local reel = require "reel"
--     local s = assert(reel.open("songs/demo"))
--     local summary = assert(s:export{ to = "handoff/demo" })   -- or variant = "radio"
--     print(summary.folder, #summary.files)
--
-- What the folder holds (README.txt in it says the same for the engineer):
--
--   * `mix.wav` and `stems/<Track>.wav`: rendered by `s:render` (see
--     reel.render), from the session start (1:1) to the end of the last
--     section or region, whichever is later; WAV (a FLAC session's become
--     24-bit WAV), the stems before the faders;
--   * `audio/`: the take files the arrangement uses (the selected take, or
--     the comped takes, per track: `s:regions`), under their own names,
--     copied (never hard-linked: a package file changed in place must not
--     change the session's take; copy-on-write clones where the file
--     system has them); a take begun in a pre-roll is trimmed to 1:1 (see
--     below);
--   * `takes.csv`, `takes.json`: every take of the session: track, take,
--     file, start (samples) and start_bbt, length (frames), status,
--     problems (`s:problems`; in the CSV joined with "; "), as the session
--     has them, and trimmed_frames: how many frames its copy in audio/
--     lacks at the start (0; empty or null when the package has no copy);
--   * `sections.csv`, `markers.csv`, `tempo.csv`;
--   * `tempo_markers.mid`: a Standard MIDI File (format 1, 960 ticks a
--     quarter note) with the tempo map, meters, and markers at the sections'
--     starts and at the session's markers (see reel.smf);
--   * `<name>.RPP`: a REAPER project (see reel.rpp);
--   * `<name>.dawproject`: a DAWproject 1.0 file (see reel.dawproject), its
--     audio referenced in the package (external), not embedded.
--
-- Comp switches sound the same everywhere: the render crossfades them over
-- `comp_crossfade_ms` (default 10, reel.render), and the projects' items
-- play the same crossfade: at a switch the outgoing item runs on h frames
-- past it and the incoming one starts h frames early, further back in its
-- file, both with a 2h fade (equal power where the format can say so), h
-- computed as the render does (`comp_crossfades`). Items elsewhere have no
-- fades.
--
-- Every audio file in the package carries a BWF `bext` time reference: the
-- timeline sample of its first frame (a take's start, 0 for the mix and the
-- stems). Files that have one already (takes do) are kept as they are;
-- others get one by being rewritten under the same name. A take in a format without bext (FLAC) becomes a BWF WAV of the
-- same samples, `audio/<name>.wav`.
--
-- A time reference cannot be negative, so a take begun in a pre-roll
-- (start -N, before 1:1) is put into audio/ trimmed: without its first N
-- frames, time reference 0, the same samples from 1:1 on (`bwf.rewrite`
-- with `skip`), so that a DAW spotting files to their time stamp puts it
-- where it belongs. Its items in the projects count their offsets in the
-- trimmed file (they start at 1:1 or later, as the render's stems do:
-- nothing before 1:1 is heard anywhere), and the comp crossfades are the
-- render's, since h never reaches before 1:1. The session's file keeps
-- all its frames.
--
-- With `variant`, the mix and stems are that variant's (`s:render{variant}`)
-- and the projects, the MIDI file and the CSVs describe the variant's
-- timeline: its sections laid out from bar 1 with their tempo, and one item
-- per track, its stem, from 1:1 (a variant moves sections, so the takes no
-- longer sit where they were recorded). takes.csv still lists the session's
-- takes; the session's markers are left out (they mark the session's
-- timeline, not the variant's).
--
-- The target folder must be new or empty (`force` writes into a non-empty
-- one, replacing files of the same names); it may not be the session's
-- folder, inside it, or hold it. Nothing in the session folder is written.
--
-- Threads: the script's (control) thread.
-- @module reel.export

local core = require "reel.core"
local json = require "reel.json"
local bwf = require "reel.bwf"
local session = require "reel.session"
local smf = require "reel.smf"
local rpp = require "reel.rpp"
local dawproject = require "reel.dawproject"
local render = require "reel.render"
local comp_xfade = require "reel.comp_xfade"
local util = require "reel.util"

local M = {}

local Session = session.Session

local misuse, typename, join = util.misuse, util.typename, util.join

local function basename(p)
  return (p:match("[^/]*$"))
end

local function write_file(path, data)
  return core.write_atomic(path, data)
end

-- ------------------------------------------------------------------ CSV

--- One CSV field per RFC 4180: quoted when it holds a comma, a quote, CR or
-- LF (or starts or ends with a space), quotes doubled.
-- @param v a string, number, boolean or nil (empty)
-- @treturn string
function M.csv_field(v)
  if v == nil or v == json.null then return "" end
  if math.type(v) == "float" then
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then
      v = ("%d"):format(v)
    else
      -- The shortest of 15 or 17 digits that reads back as the same number.
      local short = ("%.15g"):format(v)
      v = tonumber(short) == v and short or ("%.17g"):format(v)
    end
  end
  v = tostring(v)
  if v:find('[,"\r\n]') or v:find("^ ") or v:find(" $") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

--- A CSV document: a header line and one line per row, CRLF line ends
-- (RFC 4180).
-- @tparam {string,...} header
-- @tparam {table,...} rows each a list of fields in header order
-- @treturn string
function M.csv(header, rows)
  local lines = {}
  local function line(list)
    local out = {}
    for i = 1, #header do out[i] = M.csv_field(list[i]) end
    lines[#lines + 1] = table.concat(out, ",")
  end
  line(header)
  for _, r in ipairs(rows) do line(r) end
  return table.concat(lines, "\r\n") .. "\r\n"
end

-- ------------------------------------------------------------------ plan

local function parse_meter(meter)
  local n, d = meter:match("^(%d+)/(%d+)$")
  return math.tointeger(tonumber(n)), math.tointeger(tonumber(d))
end

-- Quarter notes a minute for bpm beats of 1/den notes.
local function quarter_bpm(bpm, den)
  return bpm * 4 / den
end

-- Tick (960 a quarter note) of each bar's start, exact: a bar of a meter
-- num/den is num * 3840 / den ticks, an integer for every meter the tempo
-- map allows (den up to 32).
local function bar_ticker(segments)
  return function(bar)
    local tick = 0
    for i, seg in ipairs(segments) do
      local next_bar = segments[i + 1] and segments[i + 1].bar or math.huge
      local upto = math.min(bar, next_bar)
      if upto > seg.bar then tick = tick + (upto - seg.bar) * (seg.num * 3840 // seg.den) end
      if bar <= next_bar then break end
    end
    return tick
  end
end

-- The tick of a sample position through the map: the bar's tick plus the
-- beats (and fraction) into it.
local function tick_of(map, ticker, sample)
  local bar, beat, frac = map:to_bbt(sample)
  local _, meter = map:at(bar)
  local _, den = parse_meter(meter)
  local per_beat = 3840 // den
  return ticker(bar) + (beat - 1) * per_beat + math.floor(frac * per_beat + 0.5)
end

local function segments_of(map)
  local out = {}
  for i, seg in ipairs(map:segments()) do
    out[i] = {
      bar = seg.bar, bpm = seg.bpm, meter = seg.meter, num = seg.num, den = seg.den,
      sample = seg.sample, start = seg.start, qbpm = quarter_bpm(seg.bpm, seg.den),
    }
  end
  local ticker = bar_ticker(out)
  for _, seg in ipairs(out) do seg.tick = ticker(seg.bar) end
  return out, ticker
end

-- The variant's tempo map, built as reel.arrange lays it out: bar by bar the
-- tempo and meter of the source bars, or the variant's tempo.
local function variant_map(s, a, rate)
  local map = s:tempo_map()
  local plan = {}
  for _, e in ipairs(a.sections) do
    for k = 0, e.bars - 1 do
      local bpm, meter = map:at(e.source_bar + math.min(k, e.source_bars - 1))
      plan[#plan + 1] = { bar = e.bar + k, bpm = e.tempo or bpm, meter = meter }
    end
  end
  local tempo = require "reel.tempo"
  if #plan == 0 then
    local bpm, meter = map:at(1)
    return tempo.new(rate, bpm, meter)
  end
  local vm = tempo.new(rate, plan[1].bpm, plan[1].meter)
  for i = 2, #plan do
    local p, q = plan[i], plan[i - 1]
    if p.bpm ~= q.bpm or p.meter ~= q.meter then vm:set(p.bar, p.bpm, p.meter) end
  end
  return vm
end

-- ------------------------------------------------------------------ comp switches

--- The half-length of the comp crossfade at each switch of a track, the
-- same h as the render's (engine/render.h, "Comp switches"), so that the
-- projects fade where the stems and the mix do: `reel.comp_xfade`'s
-- `half_lengths`, the one Lua copy of the rule (overdub playback uses it
-- too).
--
-- A switch is where item k ends on the very sample where item k+1 starts
-- and the two do not continue one another in one file (another file, or
-- not the next frame of the same one). Its h is `crossfade // 2`, cut down
-- to the frames item k's file has after its end, to item k+1's offset into
-- its own file (the frames before it), to half the shorter of the two and
-- to the switch's distance from sample 0. Anything else (a gap, one stretch
-- of one file, crossfade 0 or 1) has h = 0: a hard cut.
-- @tparam {table,...} items one track's regions in timeline order, as the
--   render gets them (starts before 0 already cut off): `at`, `offset`,
--   `frames` (samples), `file_frames` (the length of the file), `source`
--   (the file's path: the same file on both sides is no switch when it
--   runs on)
-- @tparam integer crossfade the whole crossfade in frames
--   (`comp_crossfade_ms * rate / 1000`, rounded)
-- @treturn {integer,...} h for the switch after each item (the last one's
--   is 0)
function M.comp_crossfades(items, crossfade)
  return comp_xfade.half_lengths(items, crossfade)
end

-- A comp crossfade in frames, rounded as s:render rounds it (both must
-- count the same frames).
local comp_frames_of = comp_xfade.frames

-- Lays the crossfades of comp_crossfades over a track's items: each side
-- of a switch reaches h past it, into the other take's region, and fades
-- over the 2h frames both play (fade_out, fade_in: frames), so the two
-- overlap exactly where the render crossfades them.
local function crossfade_items(items, crossfade)
  local hs = M.comp_crossfades(items, crossfade)
  for k = 1, #items - 1 do
    local h = hs[k]
    if h > 0 then
      local a, b = items[k], items[k + 1]
      a.frames, a.fade_out = a.frames + h, 2 * h
      b.at, b.offset, b.frames, b.fade_in = b.at - h, b.offset - h, b.frames + h, 2 * h
    end
  end
  return hs
end

-- ------------------------------------------------------------------ checks

local OPTIONS = { to = true, variant = true, force = true, comp_crossfade_ms = true }

local function check_opts(s, opts)
  if type(opts) ~= "table" then
    misuse(("bad argument #1 to 'export' (table of options expected, got %s)"):format(typename(opts)), 3)
  end
  for k in pairs(opts) do
    if not OPTIONS[k] then
      misuse(("unknown option '%s' (options: to, variant, force, comp_crossfade_ms)"):format(tostring(k)), 3)
    end
  end
  if type(opts.to) ~= "string" or opts.to == "" then
    misuse(("bad option 'to' (folder path expected, got %s)")
      :format(opts.to == "" and "empty string" or typename(opts.to)), 3)
  end
  if opts.force ~= nil and type(opts.force) ~= "boolean" then
    misuse(("bad option 'force' (boolean expected, got %s)"):format(typename(opts.force)), 3)
  end
  local ms = opts.comp_crossfade_ms
  if ms ~= nil and (type(ms) ~= "number" or not (ms >= 0 and ms <= 1000)) then
    misuse(("bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got %s)")
      :format(type(ms) == "number" and ("%g"):format(ms) or typename(ms)), 3)
  end
  if opts.variant ~= nil then
    if type(opts.variant) ~= "string" then
      misuse(("bad option 'variant' (variant name expected, got %s)"):format(typename(opts.variant)), 3)
    end
    local names = s:variants()
    local known = false
    for _, n in ipairs(names) do if n == opts.variant then known = true end end
    if not known then
      misuse(("no variant '%s' (%s)"):format(opts.variant,
        #names > 0 and "variants: " .. table.concat(names, ", ") or "the session has no variants"), 3)
    end
  end
end

-- The folder's real path, or nil when it does not exist.
local function real(path)
  return bwf.realpath(path)
end

-- nil, or why the target cannot be used.
local function check_target(s, to, force)
  local kind = core.exists(to)
  local sess = real(s.dir)
  if kind and kind ~= "directory" then return ("%s: exists and is not a folder"):format(to) end
  -- Compare real paths: the target's, or its nearest existing parent's.
  local probe, rest = to:gsub("/+$", ""), ""
  while probe ~= "" and not core.exists(probe) do
    rest = "/" .. basename(probe) .. rest
    probe = probe:match("^(.*)/[^/]*$") or ""
  end
  local target = (real(probe ~= "" and probe or ".") or "") .. rest
  if sess then
    if target == sess or target:sub(1, #sess + 1) == sess .. "/" then
      return ("%s: is inside the session folder %s; export writes only outside it"):format(to, s.dir)
    end
    if sess:sub(1, #target + 1) == target .. "/" then
      return ("%s: holds the session folder %s; export writes only outside it"):format(to, s.dir)
    end
  end
  if kind and not force then
    local list = core.list_dir(to) or {}
    local n = 0
    for _, name in ipairs(list) do
      if name ~= "." and name ~= ".." then n = n + 1 end
    end
    if n > 0 then
      return ("%s: folder is not empty; export writes into a new or empty folder (force replaces files in it)")
        :format(to)
    end
  end
  return nil
end

-- ------------------------------------------------------------------ export

-- Puts a new file at path: with force, whatever had that name goes first.
local function clear(path)
  if core.exists(path) then os.remove(path) end
end

-- Gives path a bext time reference when it has none (or another one):
-- rewritten beside it and renamed over it.
local function ensure_bext(path, time_reference, description)
  local b, err = bwf.read(path)
  if b == nil then return nil, err end
  if b and b.time_reference == time_reference then return "kept" end
  local tmp = path .. ".bwf-tmp"
  clear(tmp)
  local ok, werr = bwf.rewrite(path, tmp, { time_reference = time_reference, description = description })
  if not ok then return nil, werr end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp) return nil, rerr end
  return b and "corrected" or "added"
end

-- The projects' file name: the session's name, usable as a file name.
local function project_name(s)
  local n = (s.name or ""):gsub("[/\\%c]", "_"):gsub("^[.%-]", "_")
  return n ~= "" and n or "session"
end

local function take_of(s, track, n)
  for _, t in ipairs(s.takes) do
    if t.track == track and t.take == n then return t end
  end
end

local function stem_name(track)
  return track .. ".wav"
end

-- What README.txt says of comp switches (lines of at most 75 characters).
local function comp_sentence(ms, frames)
  if frames // 2 == 0 then
    return "Comp switches (where a track's comp hands over from one take to another)\n"
      .. "are hard cuts, in the stems, the mix and the projects alike."
  end
  return ("Comp switches (where a track's comp hands over from one take to another)\n"
    .. "are crossfaded, equal power, over %s ms centred on the switch (less where a\n"
    .. "take has less audio beyond it) in the stems, the mix and the projects alike:\n"
    .. "the projects' items overlap there and carry the matching fades."):format(("%g"):format(ms))
end

local function readme(s, plan, summary, variant)
  local lines = {
    ("Session: %s%s"):format(s.name, variant and (" (variant " .. variant .. ")") or ""),
    ("Exported by reel %s."):format(core.version()),
    "",
    ("Sample rate: %d Hz. Sound files: %s."):format(plan.rate,
      s.format == "wav32f" and "WAV (RF64 above 4 GiB), 32-bit float"
      or "WAV (RF64 above 4 GiB), 24-bit PCM (takes keep their own sample format)"),
    "Every sound file carries a broadcast-wave (BWF bext) time reference: the",
    "sample of the timeline where its first frame belongs. The timeline starts",
    "at the session start, bar 1 beat 1 = sample 0 = 0 s.",
    "Takes begun in a pre-roll (before 1:1) are trimmed to 1:1 in audio/, time",
    "reference 0 (the session keeps them whole; takes.csv: trimmed_frames).",
    "",
    comp_sentence(plan.comp_crossfade_ms, plan.comp_crossfade),
    "",
    "What is where:",
    "  mix.wav                 the stereo mix of all tracks, from 1:1",
    "  stems/<Track>.wav       one file per track, from 1:1, before its fader (no gain or pan)",
    "  audio/                  the recorded takes the song uses, unprocessed",
    ("  %-23s REAPER project: tracks, items at their positions, regions, tempo"):format(plan.name .. ".RPP"),
    ("  %-23s DAWproject 1.0 (Bitwig, Studio One, Cubase); audio referenced in this folder"):format(plan.name .. ".dawproject"),
    "  tempo_markers.mid       tempo map, meters and markers (Standard MIDI File, 960 PPQ)",
    "  takes.csv, takes.json   every take: track, take, file, start, length, status, problems,",
    "                          trimmed_frames (of its copy in audio/)",
    "  sections.csv            song sections: bar, start (samples, seconds), length",
    "  markers.csv             markers",
    "  tempo.csv               tempo changes (bpm counts the meter's denominator;",
    "                          quarter_bpm is what DAWs and MIDI count)",
    "",
    "Tracks:",
  }
  for _, tr in ipairs(plan.tracks) do
    lines[#lines + 1] = ("  %s: %d item%s, gain %s dB, pan %s%s"):format(tr.name, #tr.items,
      #tr.items == 1 and "" or "s", ("%g"):format(tr.gain_db or 0), ("%g"):format(tr.pan or 0),
      tr.mute and ", muted" or "")
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = ("Length: %d samples (%.3f s)."):format(summary.frames or 0, (summary.frames or 0) / plan.rate)
  return table.concat(lines, "\n") .. "\n"
end

-- A folder export made and everything in it (after a failure: a package
-- folder that did not exist before holds only what export wrote).
local function remove_tree(path)
  if core.exists(path) == "directory" then
    for _, name in ipairs(core.list_dir(path) or {}) do
      if name ~= "." and name ~= ".." then remove_tree(join(path, name)) end
    end
  end
  os.remove(path)
end

local write_package

-- Writes the package; the options are checked.
local function run(s, opts)
  local to, variant, force = opts.to, opts.variant, opts.force == true
  local map = s:tempo_map()
  local rate = map:rate()
  local comp_ms = opts.comp_crossfade_ms or render.CROSSFADE_MS
  local comp_frames = comp_frames_of(comp_ms, rate)

  -- Everything that can be checked is, before anything is written.
  local tracks = {}
  local names = {}
  for _, t in ipairs(s.tracks) do names[#names + 1] = t.name end
  for _, t in ipairs(s.takes) do
    local seen = false
    for _, n in ipairs(names) do if n == t.track then seen = true end end
    if not seen then names[#names + 1] = t.track end
  end
  local track_info = {}
  for _, t in ipairs(s.tracks) do track_info[t.name] = t end
  local used = {}           -- package file name -> {source, take}
  for _, name in ipairs(names) do
    local info = track_info[name] or {}
    local tr = { name = name, gain_db = info.gain_db or 0, pan = info.pan or 0, mute = info.mute == true,
                 solo = info.solo == true, items = {},
                 channels = info.input and #info.input or 1 }
    if not variant then
      for _, r in ipairs(s:regions(name)) do
        local take = take_of(s, name, r.take)
        if not core.exists(r.path) then
          return nil, ("%s: missing take file (track '%s', take %d)"):format(r.path, name, r.take)
        end
        local sinfo, serr = core.sound_info(r.path)
        if not sinfo then return nil, serr end
        local file = basename(r.path)
        if sinfo.container ~= "wav" and sinfo.container ~= "rf64" then
          file = file:gsub("%.[^.]*$", "") .. ".wav"
        end
        local prev = used[file]
        if prev and prev.source ~= r.path then
          return nil, ("%s and %s would both be audio/%s in the package"):format(prev.source, r.path, file)
        end
        -- A take begun in a pre-roll starts before 1:1: its item starts at
        -- 1:1 further into the file, as the render's stems do, and the
        -- package's copy of the file starts at 1:1 too (trim frames
        -- shorter), so offsets count from there.
        local trim = math.max(0, -(math.tointeger(take and take.start) or 0))
        local at, offset, frames = r.at, r.offset, r.frames
        if at < 0 then offset, frames, at = offset - at, frames + at, 0 end
        if trim < sinfo.frames then
          used[file] = { source = r.path, take = take, info = sinfo, file = file, trim = trim }
        end
        if frames > 0 then
          -- Regions lie where their take was recorded (at = start + offset),
          -- so past the trim point once cut at 1:1.
          assert(offset >= trim, "a region of a pre-roll take before its 1:1")
          tr.items[#tr.items + 1] = {
            name = ("%s T%d%s"):format(name, r.take, r.section and (" (" .. r.section .. ")") or ""),
            file = "audio/" .. file, at = at, offset = offset - trim, frames = frames,
            channels = sinfo.channels, rate = sinfo.rate, file_frames = sinfo.frames - trim,
            take = r.take, section = r.section, source = r.path,
          }
        end
      end
      crossfade_items(tr.items, comp_frames)
      if tr.channels < (tr.items[1] and tr.items[1].channels or 1) then tr.channels = tr.items[1].channels end
    end
    tracks[#tracks + 1] = tr
  end
  local why = check_target(s, to, force)
  if why then return nil, why end
  local fresh = not core.exists(to)
  local r, err = write_package(s, to, variant, tracks, used, map, rate, comp_ms)
  if not r and fresh then remove_tree(to) end
  return r, err
end

-- Writes into `to` what run has checked.
write_package = function(s, to, variant, tracks, used, map, rate, comp_ms)
  local mok, merr = core.mkdir_p(join(to, "stems"))
  if not mok then return nil, merr end
  local aok, aerr = core.mkdir_p(join(to, "audio"))
  if not aok then return nil, aerr end

  -- The mix and the stems.
  local mix_path, stems_dir = join(to, "mix.wav"), join(to, "stems")
  clear(mix_path)
  for _, tr in ipairs(tracks) do clear(join(stems_dir, stem_name(tr.name))) end
  -- WAV whatever the session's take format: every file gets a bext chunk.
  local rendered, rerr = s:render{ out = mix_path, stems = stems_dir, variant = variant,
    format = (s.format == "flac") and "wav24" or s.format, force = true, comp_crossfade_ms = comp_ms,
    description = ("reel mix of %s%s"):format(s.name, variant and (", variant " .. variant) or "") }
  if not rendered then return nil, rerr end
  local summary = {
    folder = to, files = {}, mix = "mix.wav", stems = {}, audio = {}, takes = #s.takes,
    tracks = {}, frames = rendered.frames, rate = rendered.rate or rate, variant = variant,
  }
  local start = rendered.start or 0
  local stem_of = {}
  for _, st in ipairs(rendered.stems or {}) do
    local rel = "stems/" .. basename(st.path)
    local ok, err = ensure_bext(st.path, start, ("reel stem: %s"):format(st.track))
    if not ok then return nil, err end
    summary.stems[#summary.stems + 1] = { track = st.track, file = rel, bext = ok }
    stem_of[st.track] = { file = rel, path = st.path }
  end
  do
    local ok, err = ensure_bext(rendered.out or mix_path, start, "reel mix")
    if not ok then return nil, err end
    summary.mix_bext = ok
  end

  -- The takes the arrangement uses.
  local files = {}
  for file in pairs(used) do files[#files + 1] = file end
  table.sort(files)
  for _, file in ipairs(files) do
    local u = used[file]
    local dst = join(join(to, "audio"), file)
    clear(dst)
    local how, herr
    -- A trimmed copy's first frame is the one at 1:1.
    local tref = u.trim > 0 and 0 or math.max(0, math.tointeger(u.take and u.take.start) or 0)
    local desc = ("reel take: %s T%d"):format(u.take and u.take.track or "?", u.take and u.take.take or 0)
    if u.trim > 0 then
      how, herr = bwf.rewrite(u.source, dst, { time_reference = 0, description = desc, skip = u.trim })
      how = how and "trimmed"
    elseif basename(u.source) == file then
      how, herr = bwf.copy(u.source, dst)
    else
      how, herr = bwf.rewrite(u.source, dst, { time_reference = tref, description = desc })
      how = how and "converted"
    end
    if not how then return nil, herr end
    local b, berr = ensure_bext(dst, tref, desc)
    if not b then return nil, berr end
    summary.audio[#summary.audio + 1] = { file = "audio/" .. file, source = u.source, how = how, bext = b,
      trimmed_frames = u.trim }
  end

  -- The timeline the projects describe.
  local plan = { name = project_name(s), rate = rate, version = core.version(), tracks = tracks,
                 comment = "Exported by reel", comp_crossfade_ms = comp_ms,
                 comp_crossfade = comp_frames_of(comp_ms, rate) }
  local tmap, close_map = map, false
  local sections = {}
  if variant then
    local a = s:arrangement(variant)
    tmap, close_map = variant_map(s, a, rate), true
    for i, e in ipairs(a.sections) do
      sections[i] = { label = e.label, name = e.name, bar = e.bar, length_bars = e.bars,
        start = e.start, length = e.length, start_bbt = e.start_bbt }
    end
    plan.comment = ("Exported by reel: variant %s"):format(variant)
    local keep = {}
    for _, n in ipairs(a.tracks) do keep[n] = true end
    local list = {}
    for _, tr in ipairs(tracks) do
      if keep[tr.name] then list[#list + 1] = tr end
    end
    for _, added in ipairs(a.added or {}) do
      list[#list + 1] = { name = added.name, gain_db = 0, pan = 0, items = {}, channels = #(added.input or { 1 }) }
    end
    for _, tr in ipairs(list) do
      local st = stem_of[tr.name]
      if st then
        local info = core.sound_info(st.path)
        if info and info.frames > 0 then
          tr.items = { { name = tr.name .. " (stem)", file = st.file, at = start, offset = 0,
            frames = info.frames, channels = info.channels, rate = info.rate, file_frames = info.frames } }
          tr.channels = info.channels
        end
      end
    end
    tracks = list
    plan.tracks = list
  else
    for i, r in ipairs(s:sections()) do
      sections[i] = { label = r.label, name = r.name, bar = r.bar, length_bars = r.length_bars,
        start = r.start, length = r.length, start_bbt = r.start_bbt }
    end
  end
  local segments, ticker = segments_of(tmap)
  for _, sec in ipairs(sections) do sec.tick = ticker(sec.bar) end
  local markers = {}
  if not variant then
    for i, mk in ipairs(s.markers) do
      local ok, text = pcall(tmap.format, tmap, mk.start)
      markers[i] = { name = mk.name, start = mk.start, start_bbt = ok and text or nil,
        tick = tick_of(tmap, ticker, mk.start) }
    end
  end
  plan.segments, plan.sections, plan.markers = segments, sections, markers
  local function seconds(sample) return tmap:to_seconds(sample) end

  -- Tables.
  -- The session's takes as the session has them, and of each one copied
  -- into audio/ the frames its copy lacks (a pre-roll trimmed to 1:1).
  local trimmed = {}
  for _, u in pairs(used) do
    if u.take then trimmed[u.take] = u.trim end
  end
  local take_rows, take_docs = {}, json.array{}
  for _, t in ipairs(s.takes) do
    local problems = s:problems(t)
    local ok, bbt = pcall(map.format, map, t.start)
    bbt = ok and bbt or nil
    take_rows[#take_rows + 1] = { t.track, t.take, t.file, t.start, bbt, t.frames, t.status or "kept",
      table.concat(problems, "; "), trimmed[t] }
    take_docs[#take_docs + 1] = json.object{ track = t.track, take = t.take, file = t.file, start = t.start,
      start_bbt = bbt, length = t.frames, status = t.status or "kept", problems = json.array(problems),
      trimmed_frames = trimmed[t] or json.null }
  end
  local sec_rows = {}
  for _, sec in ipairs(sections) do
    sec_rows[#sec_rows + 1] = { sec.label, sec.name, sec.bar, sec.length_bars, sec.start, sec.length,
      sec.start_bbt, seconds(sec.start), seconds(sec.length) }
  end
  local mk_rows = {}
  for _, mk in ipairs(markers) do
    mk_rows[#mk_rows + 1] = { mk.name, mk.start, mk.start_bbt, seconds(mk.start) }
  end
  local tempo_rows = {}
  for _, seg in ipairs(segments) do
    tempo_rows[#tempo_rows + 1] = { seg.bar, seg.bpm, seg.meter, seg.sample, seg.start / rate, seg.qbpm, seg.tick }
  end

  local meters, tempos, mid_markers = {}, {}, {}
  for _, seg in ipairs(segments) do
    meters[#meters + 1] = { tick = seg.tick, num = seg.num, den = seg.den }
    tempos[#tempos + 1] = { tick = seg.tick, bpm = seg.bpm, den = seg.den }
  end
  for _, sec in ipairs(sections) do mid_markers[#mid_markers + 1] = { tick = sec.tick, name = sec.label } end
  for _, mk in ipairs(markers) do mid_markers[#mid_markers + 1] = { tick = mk.tick, name = mk.name } end

  local outputs = {
    { "takes.csv", M.csv({ "track", "take", "file", "start", "start_bbt", "length", "status", "problems",
      "trimmed_frames" }, take_rows) },
    { "takes.json", json.encode(take_docs) },
    { "sections.csv", M.csv({ "label", "name", "bar", "length_bars", "start", "length", "start_bbt",
      "start_seconds", "seconds" }, sec_rows) },
    { "markers.csv", M.csv({ "name", "start", "start_bbt", "start_seconds" }, mk_rows) },
    { "tempo.csv", M.csv({ "bar", "bpm", "meter", "start", "start_seconds", "quarter_bpm", "tick" }, tempo_rows) },
    { "tempo_markers.mid", smf.encode{ name = s.name, ppq = smf.PPQ, tempos = tempos, meters = meters,
      markers = mid_markers } },
    { plan.name .. ".RPP", rpp.encode(plan) },
  }
  summary.tracks = {}
  for _, tr in ipairs(tracks) do summary.tracks[#summary.tracks + 1] = tr.name end
  outputs[#outputs + 1] = { "README.txt", readme(s, plan, summary, variant) }
  for _, o in ipairs(outputs) do
    local path = join(to, o[1])
    clear(path)
    local ok, err = write_file(path, o[2])
    if not ok then
      if close_map then tmap:close() end
      return nil, err
    end
  end
  local dp = join(to, plan.name .. ".dawproject")
  clear(dp)
  local dok, derr = dawproject.write(dp, plan)
  if close_map then tmap:close() end
  if not dok then return nil, derr end

  -- Every file, and a last check that every sound file has its bext.
  local function walk(rel)
    local list = core.list_dir(rel == "" and to or join(to, rel)) or {}
    table.sort(list)
    for _, name in ipairs(list) do
      local r = rel == "" and name or (rel .. "/" .. name)
      local kind = core.exists(join(to, r))
      if kind == "directory" then walk(r) else summary.files[#summary.files + 1] = r end
    end
  end
  walk("")
  for _, f in ipairs(summary.files) do
    if f:match("%.wav$") then
      local b, err = bwf.read(join(to, f))
      if not b then
        return nil, err or ("%s: no bext time reference after export"):format(join(to, f))
      end
    end
  end
  return summary
end

--- Writes the handoff package.
-- @tparam Session s
-- @tparam table opts `to` (folder), `variant` (name), `force` (boolean),
--   `comp_crossfade_ms` (at comp switches, in the stems, the mix and the
--   projects; default 10, 0: hard cuts)
-- @treturn[1] table summary: `folder`, `files` (paths relative to it,
--   sorted), `mix`, `stems` ({track, file}), `audio` ({file, source, how =
--   "copy" | "converted" | "trimmed" (a pre-roll take from 1:1), bext =
--   "kept" | "added" | "corrected", trimmed_frames}),
--   `takes` (count), `tracks` (names), `frames`, `rate`, `variant`
-- @return[2] nil, message (a take file missing, the target not empty or not
--   writable, the renderer failed)
function M.export(s, opts)
  if getmetatable(s) ~= Session then
    misuse(("bad argument #1 to 'export' (reel.session expected, got %s)"):format(typename(s)))
  end
  check_opts(s, opts)
  local r, err = run(s, opts)
  return r, err
end

--- `s:export{ to = FOLDER, variant = NAME, force = false, comp_crossfade_ms = 10 }`:
-- see `export`.
-- @function Session:export
function Session:export(opts)
  if getmetatable(self) ~= Session then
    misuse("bad self to 'export' (reel.session expected); call it as s:export{...}")
  end
  check_opts(self, opts)
  local r, err = run(self, opts)
  return r, err
end

return M
