-- spec_comp.lua: comps (Session:comp, comp_by_rule, clear_comp, comps,
-- regions) in reel.session: stored in session.json, checked on load, and
-- played by a roll sample for sample, comp switches crossfaded exactly as
-- the render's stems have them.
--
-- The song: 240 bpm 4/4 (a bar is 48000 samples); sections Verse, Chorus,
-- Verse, Chorus of one bar each: "Verse 1" [0, 48000), "Chorus 1" [48000,
-- 96000), "Verse 2" [96000, 144000), "Chorus 2" [144000, 192000).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local json = require "reel.json"

local BAR = 48000

local read = T.read
local write = T.write

local write_wav = T.write_wav

local function song()
  local dir = T.tmpdir() .. "/song"
  local s = assert(reel.new(dir, {
    format = "wav32f", tempo = 240, meter = "4/4",
    tracks = { { name = "Vox", input = 1 }, { name = "Gtr", input = 1 }, { name = "Dub", input = 1 } },
    sections = { { "Verse", 1 }, { "Chorus", 1 }, { "Verse", 1 }, { "Chorus", 1 } },
  }))
  return s, dir
end

-- Adds a Vox take by hand: a file of `frames` frames at `start`, sample i =
-- level * (-1)^i, with `clip_at` (frame) set to full scale when given.
local function add_take(s, n, start, frames, level, extra)
  extra = extra or {}
  local file = ("audio/Vox_T%02d.wav"):format(n)
  write_wav(s.dir .. "/" .. file, frames, function(i)
    if extra.clip_at and i == extra.clip_at then return 1.0 end
    return (i % 2 == 0) and level or -level
  end)
  local t = { track = "Vox", take = n, file = file, start = start, frames = frames, rate = 48000,
              status = extra.status or "kept", clipped = extra.clipped or 0, xruns = extra.xruns or 0,
              overruns = extra.overruns or 0 }
  s.takes[#s.takes + 1] = t
  s.last_take.Vox = n
  return t
end

local function regions_text(rs)
  local out = {}
  for _, r in ipairs(rs) do
    out[#out + 1] = ("%d@%d+%d/%d%s"):format(r.take, r.at, r.offset, r.frames,
      r.section and (":" .. r.section) or "")
  end
  return table.concat(out, " ")
end

T.test("regions: nothing, the selected take whole, then one region per comped section", function()
  local s, dir = song()
  T.eq(#s:regions("Vox"), 0, "no take selected, no comp")
  add_take(s, 1, 0, 4 * BAR, 0.1)
  add_take(s, 2, 40000, 2 * BAR, 0.2)          -- 40000 .. 136000: into Verse 2
  T.eq(#s:regions("Vox"), 0, "takes but none selected")
  s:select("Vox", 1)
  local r = s:regions("Vox")
  T.eq(regions_text(r), "1@0+0/192000")
  T.eq(r[1].file, "audio/Vox_T01.wav")
  T.eq(r[1].path, dir .. "/audio/Vox_T01.wav")
  T.eq(r[1].section, nil)
  -- comps: the section's range met with the take's extent, sorted by at
  s:comp("Vox", "Verse 2", 2)
  s:comp("Vox", "Chorus 1", 2)
  s:comp("Vox", "Verse 1", 1)
  T.eq(regions_text(s:regions("Vox")),
    "1@0+0/48000:Verse 1 2@48000+8000/48000:Chorus 1 2@96000+56000/40000:Verse 2")
  -- a take that starts inside its section: the region starts with the take
  s:comp("Vox", "Verse 1", 2)
  T.eq(regions_text(s:regions("Vox")),
    "2@40000+0/8000:Verse 1 2@48000+8000/48000:Chorus 1 2@96000+56000/40000:Verse 2")
  -- the selected take no longer plays once the track has comps
  T.eq(s:regions("Gtr")[1], nil)
  -- comping again replaces; clearing one section, then all
  T.eq(s:clear_comp("Vox", "Verse 1"), 1)
  T.eq(s:clear_comp("Vox", "Verse 1"), 0)
  T.eq(#s:comps("Vox"), 2)
  T.eq(s:clear_comp("Vox"), 2)
  T.eq(regions_text(s:regions("Vox")), "1@0+0/192000", "back to the selected take")
end)

T.test("comp by hand: errors name the argument at the caller's line", function()
  local s = song()
  add_take(s, 1, 40000, 2 * BAR, 0.1)
  local c = s:comp("Vox", "Chorus 1", 1)
  T.eq(c.track, "Vox") T.eq(c.section, "Chorus 1") T.eq(c.bar, 2) T.eq(c.take, 1)
  T.raises(function() s:comp("Vox", "Chorus 2", 1) end,
    "bad argument #3 to 'comp' (take 1 of 'Vox' (samples 40000 to 136000) does not reach into "
    .. "section 'Chorus 2' (samples 144000 to 192000))", T.here(-2))
  T.raises(function() s:comp("Vox", "Chorus 1", 7) end,
    "bad argument #3 to 'comp' (track 'Vox' has no take 7 (takes: 1))", T.here(-1))
  T.raises(function() s:comp("Vox", "Bridge", 1) end,
    "unknown section 'Bridge' (sections: Verse 1, Chorus 1, Verse 2, Chorus 2)", T.here(-1))
  T.raises(function() s:comp("Vox", "Chorus", 1) end,
    "section 'Chorus' is ambiguous (Chorus 1, Chorus 2)", T.here(-1))
  T.raises(function() s:comp("Keys", "Chorus 1", 1) end, "unknown track 'Keys'", T.here())
  T.raises(function() s:comp("Vox", "Chorus 1", "1") end,
    "bad argument #3 to 'comp' (take number expected, got string)", T.here(-1))
  T.raises(function() s:regions(3) end,
    "bad argument #1 to 'regions' (track name expected, got number)", T.here(-1))
end)

T.test("comp_by_rule fewest_problems: kinds, then counts, ties to the later take", function()
  local s = song()
  add_take(s, 1, 0, 4 * BAR, 0.1, { xruns = 1 })
  add_take(s, 2, 0, 4 * BAR, 0.1, { clipped = 5, xruns = 2 })
  add_take(s, 3, 0, 4 * BAR, 0.1, { clipped = 3 })
  add_take(s, 4, 0, 2 * BAR, 0.1)                      -- covers only the first two sections
  add_take(s, 5, 0, 4 * BAR, 0.1, { status = "rejected" })
  local made = assert(s:comp_by_rule("Vox", "fewest_problems"))
  local got = {}
  for _, c in ipairs(made) do got[#got + 1] = c.section .. "=" .. c.take end
  -- Verse 1, Chorus 1: take 4 has no problem. Verse 2, Chorus 2: takes 1 and
  -- 3 have one kind each; take 1's count (1 xrun) beats take 3's (3 clipped)
  T.eq(table.concat(got, " "), "Verse 1=4 Chorus 1=4 Verse 2=1 Chorus 2=1")
  T.eq(#made.skipped, 0)
  -- ties go to the later take
  add_take(s, 6, 0, 4 * BAR, 0.1, { xruns = 1 })
  made = assert(s:comp_by_rule("Vox", "fewest_problems", { "Chorus 2" }))
  T.eq(#made, 1) T.eq(made[1].take, 6)
  -- latest, first
  T.eq(assert(s:comp_by_rule("Vox", "latest", { "Verse 1" }))[1].take, 6)
  T.eq(assert(s:comp_by_rule("Vox", "first", { "Verse 1" }))[1].take, 1)
  T.raises(function() s:comp_by_rule("Vox", "best") end,
    "bad argument #2 to 'comp_by_rule' (fewest_problems, loudest_unclipped, latest or first expected, got 'best')",
    T.here(-2))
  T.raises(function() s:comp_by_rule("Vox", "latest", { "Bridge" }) end,
    "bad argument #3 to 'comp_by_rule' (unknown section 'Bridge'", T.here(-1))
end)

T.test("comp_by_rule loudest_unclipped reads the files section by section", function()
  local s = song()
  add_take(s, 1, 0, 4 * BAR, 0.5, { clip_at = 100 })           -- clips in Verse 1 only
  add_take(s, 2, 0, 4 * BAR, 0.3)
  add_take(s, 3, 0, 4 * BAR, 0.6, { clip_at = 3 * BAR + 7 })    -- clips in Chorus 2 only
  add_take(s, 4, BAR, BAR, 0.9)                                  -- Chorus 1 only, loudest
  local made = assert(s:comp_by_rule("Vox", "loudest_unclipped"))
  local got = {}
  for _, c in ipairs(made) do got[#got + 1] = c.section .. "=" .. c.take end
  T.eq(table.concat(got, " "), "Verse 1=3 Chorus 1=4 Verse 2=3 Chorus 2=1")
  -- a section where every candidate clips is skipped and keeps its comp
  local s2 = song()
  add_take(s2, 1, 0, BAR, 0.5, { clip_at = 0 })
  s2:comp("Vox", "Verse 1", 1)
  made = assert(s2:comp_by_rule("Vox", "loudest_unclipped", { "Verse 1", "Chorus 1" }))
  T.eq(#made, 0)
  T.eq(made.skipped[1].section, "Verse 1") T.eq(made.skipped[1].reason, "every take clips inside it")
  T.eq(made.skipped[2].section, "Chorus 1")
  T.eq(made.skipped[2].reason, "no take of this track that is not rejected covers it")
  T.eq(s2:comps("Vox")[1].take, 1)
  -- a missing file: nil and a message
  os.remove(s2.dir .. "/audio/Vox_T01.wav")
  local ok, err = s2:comp_by_rule("Vox", "loudest_unclipped", { "Verse 1" })
  T.eq(ok, nil) T.ok(err:find("Vox_T01.wav", 1, true), err)
end)

T.test("comps are saved and loaded: section label, bar, take; unknown keys kept", function()
  local s, dir = song()
  add_take(s, 1, 0, 4 * BAR, 0.1)
  add_take(s, 2, 0, 4 * BAR, 0.1)
  s:comp("Vox", "Chorus 2", 2)
  s:comp("Vox", "Verse 1", 1)
  assert(s:save())
  local j = json.decode(read(dir .. "/session.json"))
  T.eq(#j.comps, 2)
  T.eq(j.comps[1].track, "Vox") T.eq(j.comps[1].section, "Chorus 2") T.eq(j.comps[1].bar, 4)
  T.eq(j.comps[1].take, 2)
  -- a key from a newer version survives a round trip
  j.comps[1].fade_ms = 10
  write(dir .. "/session.json", json.encode(j))
  local s2 = assert(reel.open(dir))
  T.eq(regions_text(s2:regions("Vox")), "1@0+0/48000:Verse 1 2@144000+144000/48000:Chorus 2")
  local c = s2:comps()
  T.eq(#c, 2) T.eq(c[1].section, "Verse 1") T.eq(c[2].section, "Chorus 2")
  assert(s2:save())
  T.eq(json.decode(read(dir .. "/session.json")).comps[1].fade_ms, 10)
  -- the bar is the truth: a section added before moves the labels, and the
  -- comp follows its section
  s2:add_section("Verse", 1, 5)
  T.eq(s2:comps("Vox")[2].section, "Chorus 2")
  s2:add_section("Chorus", 1, 6)
  T.eq(s2:comps("Vox")[2].section, "Chorus 2", "Chorus 2 is still bar 4")
  assert(s2:save())
  local s3 = assert(reel.open(dir))
  T.eq(regions_text(s3:regions("Vox")), "1@0+0/48000:Verse 1 2@144000+144000/48000:Chorus 2")
end)

T.test("broken comps in session.json are reported word for word", function()
  local s, dir = song()
  add_take(s, 1, 0, 4 * BAR, 0.1)
  s:comp("Vox", "Verse 1", 1)
  assert(s:save())
  local good = read(dir .. "/session.json")
  local path = dir .. "/session.json"
  local function try(edit, want)
    local j = json.decode(good)
    edit(j)
    write(path, json.encode(j))
    local ok, err = reel.open(dir)
    T.eq(ok, nil)
    T.eq(err, path .. ": " .. want)
  end
  try(function(j) j.comps = { a = 1 } end, "comps: list expected, got object")
  try(function(j) j.comps[1] = 3 end, "comps[1]: object expected, got number")
  try(function(j) j.comps[1].track = nil end, "comps[1].track: missing")
  try(function(j) j.comps[1].section = 5 end, "comps[1].section: string expected, got number")
  try(function(j) j.comps[1].take = 1.5 end, "comps[1].take: integer expected, got 1.5")
  try(function(j) j.comps[1].take = 9 end, "comps[1].take: track 'Vox' has no take 9 in takes")
  try(function(j) j.comps[1].bar = 7 end, "comps[1].bar: no section starts at bar 7")
  try(function(j) j.comps[1].bar = nil j.comps[1].section = "Bridge" end,
    "comps[1].section: unknown section 'Bridge' (sections: Verse 1, Chorus 1, Verse 2, Chorus 2)")
  -- values from the file are quoted and cut short in messages
  try(function(j) j.comps[1].track = ("x"):rep(100) end,
    "comps[1].take: track '" .. ("x"):rep(60) .. "...' (100 bytes) has no take 1 in takes")
  try(function(j) j.comps[2] = j.comps[1] end,
    "comps[2]: track 'Vox' already has a comp for section 'Verse 1' (comps[1])")
  -- without a bar the label is enough
  local j = json.decode(good)
  j.comps[1].bar = nil
  write(path, json.encode(j))
  T.eq(assert(reel.open(dir)):comps()[1].bar, 1)
end)

-- The Gtr stem of the session as s:render writes it.
local function gtr_stem(s, dir, name)
  local r = assert(s:render{ out = false, stems = dir .. "/" .. name, format = "wav32f" })
  for _, st in ipairs(r.stems) do
    if st.track == "Gtr" then return assert(core.read_frames(st.path, 0, 4 * BAR)) end
  end
  error("no Gtr stem")
end

-- Frames (0-based) where got and want differ by more than tol, at most 6.
local function differing(got, want, tol, from, to)
  local wrong = {}
  for i = from or 1, to or #want do
    if not (math.abs(got[i] - want[i]) <= tol) then
      wrong[#wrong + 1] = ("%d (%.9g, not %.9g)"):format(i - 1, got[i], want[i])
      if #wrong > 5 then break end
    end
  end
  return table.concat(wrong, ", ")
end

T.test("a roll plays the comp: section by section, switches crossfaded as the stems are", function()
  local s, dir = song()
  local function freewheel(inputs, extra)
    local o = { spec = "virtual:freewheel", inputs = inputs }
    for k, v in pairs(extra or {}) do o[k] = v end
    return reel.device(o)
  end
  -- two Gtr takes over the whole song, from different sources
  local g1 = assert(s:record{ tracks = { "Gtr" }, from = 0, to = "4s", meter = false,
                              device = freewheel{ "noise:white:-6" } })[1]
  local g2 = assert(s:record{ tracks = { "Gtr" }, from = 0, to = "4s", meter = false,
                              device = freewheel{ "sine:440:-6" } })[1]
  T.eq(g1.take, 1) T.eq(g2.take, 2) T.eq(g2.frames, 4 * BAR)
  s:select("Gtr", 1)
  s:comp("Gtr", "Verse 1", 1)
  s:comp("Gtr", "Chorus 1", 2)
  s:comp("Gtr", "Chorus 2", 1)             -- Verse 2 has no comp: silence there
  assert(s:save())
  -- the rig loops output 1 back to input 1, 1000 frames later
  s.latency = { round_trip = 1000 }
  local function overdub(extra)
    local o = { tracks = { "Dub" }, from = 0, to = "4s", meter = false,
                device = freewheel({ "silence" }, { loopback = "1>1", loopback_latency = 1000 }) }
    for k, v in pairs(extra or {}) do o[k] = v end
    local d = assert(s:record(o))[1]
    T.eq(d.start, 0) T.eq(d.frames, 4 * BAR)
    return assert(core.read_frames(dir .. "/" .. d.file, 0, 4 * BAR))
  end
  local a = assert(core.read_frames(dir .. "/" .. g1.file, 0, 4 * BAR))
  local b = assert(core.read_frames(dir .. "/" .. g2.file, 0, 4 * BAR))
  local hard = {}
  local want_of = { a, b, false, a }
  for i = 1, 4 * BAR do
    local src = want_of[(i - 1) // BAR + 1]
    hard[i] = src and src[i] or 0
  end

  -- What the overdub heard is the rendered Gtr stem, sample for sample:
  -- the switch at 48000 (take 1 to take 2) crossfaded over 10 ms, h = 240;
  -- the edges next to Verse 2's silence hard.
  local got = overdub()
  local stem = gtr_stem(s, dir, "stems")
  T.eq(differing(got, stem, 1e-6), "", "frames that differ from the stem")
  T.eq(differing(got, hard, 0, 1, BAR - 240), "", "before the zone")
  T.eq(differing(got, hard, 0, BAR + 241, 4 * BAR), "", "after the zone")
  -- inside it, neither take alone but the equal-power sum
  local function w(i, rising)   -- render.c's ramp at zone frame i of 480
    local x = (i + 0.5) / 480
    return rising and math.sin(x * math.pi / 2) or math.cos(x * math.pi / 2)
  end
  local off = 0
  for i = 0, 479 do
    local t = BAR - 240 + i + 1   -- 1-based index of frame BAR - 240 + i
    local want = w(i, false) * a[t] + w(i, true) * b[t]
    off = math.max(off, math.abs(got[t] - want))
  end
  T.ok(off < 1e-6, ("the zone is the crossfade (off by %g)"):format(off))
  T.ok(got[BAR - 240 + 1] ~= hard[BAR - 240 + 1] and got[BAR + 240] ~= hard[BAR + 240],
    "the zone's ends are faded, not cut")
  T.ok(math.abs(got[BAR + 100]) > 0 and math.abs(got[100]) > 0, "the comped sections sound")

  -- comp_crossfade_ms = 0: hard cuts, bit for bit as the regions say
  T.eq(differing(overdub{ comp_crossfade_ms = 0 }, hard, 0), "", "frames that differ")
  T.raises(function() s:record{ tracks = { "Dub" }, comp_crossfade_ms = -1 } end,
    "bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got -1)", T.here(-1))

  -- Short handles cut h, as in the render: take 3 begins 30 frames before
  -- Verse 2 (h = 30 at the switch from take 2) and ends with it (no frame
  -- after: a hard cut into Chorus 2's take 1).
  write_wav(dir .. "/audio/Gtr_T03.wav", BAR + 30, function(i) return (i % 3 - 1) * 0.3 end)
  s.takes[#s.takes + 1] = { track = "Gtr", take = 3, file = "audio/Gtr_T03.wav", start = 2 * BAR - 30,
    frames = BAR + 30, rate = 48000, status = "kept", clipped = 0, xruns = 0, overruns = 0 }
  s.last_take.Gtr = 3
  s:comp("Gtr", "Verse 2", 3)
  got = overdub()
  stem = gtr_stem(s, dir, "stems2")
  T.eq(differing(got, stem, 1e-6), "", "frames that differ from the stem")
  local c = assert(core.read_frames(dir .. "/audio/Gtr_T03.wav", 0, BAR + 30))
  for i = 2 * BAR + 1, 3 * BAR do hard[i] = c[i - 2 * BAR + 30] end
  T.eq(differing(got, hard, 0, BAR + 241, 2 * BAR - 30), "", "take 2 up to the short zone")
  T.eq(differing(got, hard, 0, 2 * BAR + 31, 4 * BAR), "", "take 3, then take 1 after a hard cut")
  T.ok(got[2 * BAR - 30 + 1] ~= hard[2 * BAR - 30 + 1], "the short zone is faded")

  -- against = "none" plays nothing
  local q = assert(s:record{ tracks = { "Dub" }, from = 0, to = "1s", against = "none", meter = false,
                             device = freewheel({ "silence" },
                               { loopback = "1>1", loopback_latency = 1000 }) })[1]
  T.eq(q.peak, 0)
end)

T.test("a comped take whose file is shorter than session.json says: the roll refuses, naming it", function()
  local s, dir = song()
  add_take(s, 1, 0, 4 * BAR, 0.1)
  s:comp("Vox", "Verse 2", 1)
  write_wav(dir .. "/audio/Vox_T01.wav", 100000, function() return 0.1 end)   -- cut short
  local ok, err, takes = s:record{ tracks = { "Dub" }, from = 0, to = "1s", meter = false,
    device = reel.device{ spec = "virtual:freewheel", inputs = { "silence" } } }
  T.eq(ok, nil)
  T.eq(err, ("take 1 of 'Vox' comped in 'Verse 2': playback: %s/audio/Vox_T01.wav: region of "
    .. "48000 frames from frame 96000 ends after the file's end (100000 frames)"):format(dir))
  T.eq(takes, nil)
  T.eq(#s:takes{ track = "Dub" }, 0)
  -- the core binding checks its arguments
  local rec <close> = assert(core.open_recorder{ device = "virtual:freewheel", inputs = { "silence" } })
  T.raises(function() rec:add_source(dir .. "/audio/Vox_T01.wav", 0, 0, 0, -1, 10) end,
    "offset must not be negative")
  T.raises(function() rec:add_source(dir .. "/audio/Vox_T01.wav", 0, 0, 0, 0, -5) end,
    "frames must not be negative")
  T.eq(assert(rec:add_source(dir .. "/audio/Vox_T01.wav", 500, 0, 0, 99000, 1000)), 1)
end)

T.done()
