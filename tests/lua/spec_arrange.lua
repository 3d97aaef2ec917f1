--- spec_arrange.lua: variants of the arrangement (scripts/reel/arrange.lua
-- and Session:variant, variants, arrangement). Positions by hand: 48 kHz,
-- 120 bpm, 4/4 is 96000 samples a bar (2 s); the song is Intro 4, Verse 8,
-- Chorus 8, Bridge 4, Chorus 8, Outro 4 (bars 1, 5, 13, 21, 25, 33; 36 bars).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local json = require "reel.json"

local read = T.read

local function song()
  local dir = T.tmpdir() .. "/song"
  local s = assert(reel.new(dir, { rate = 48000, tempo = 120, meter = "4/4",
    tracks = { { name = "Vox", input = 1 }, { name = "Bass", input = 2 } },
    sections = { { "Intro", 4 }, { "Verse", 8 }, { "Chorus", 8 }, { "Bridge", 4 }, { "Chorus", 8 },
                 { "Outro", 4 } } }))
  return s, dir
end

local function labels(a)
  local out = {}
  for i, e in ipairs(a.sections) do out[i] = e.label end
  return table.concat(out, ",")
end

local function starts(a)
  local out = {}
  for i, e in ipairs(a.sections) do out[i] = tostring(e.start) end
  return table.concat(out, ",")
end

local function radio(a) a:drop("Bridge"); a:shorten("Intro", 2); a:fade_out("Outro", 4) end
local function festival(a)
  a:add_track{ name = "Horns", input = 9 }
  a:add_track{ name = "BGV", input = { 10, 11 } }
end

T.test("radio: drop, shorten, fade out", function()
  local s = song()
  local a = s:variant("radio", radio)
  T.eq(a.name, "radio")
  T.eq(labels(a), "Intro,Verse,Chorus 1,Chorus 2,Outro")
  T.eq(starts(a), "0,192000,960000,1728000,2496000")
  local intro, verse, outro = a.sections[1], a.sections[2], a.sections[5]
  T.eq(intro.bars, 2) T.eq(intro.source_bars, 4) T.eq(intro.length, 192000) T.eq(intro.seconds, 4.0)
  T.eq(verse.start, 192000) T.eq(verse.bar, 3) T.eq(verse.start_bbt, "3:1") T.eq(verse.start_seconds, 4.0)
  T.eq(verse.source_bar, 5) T.eq(verse.bars, 8) T.eq(verse.seconds, 16.0) T.eq(verse.tempo, nil)
  T.eq(a.sections[4].source_bar, 25) T.eq(a.sections[4].name, "Chorus")
  T.eq(outro.start, 2496000) T.eq(outro.start_bbt, "27:1") T.eq(outro.fade_out, 4) T.eq(outro.fade_in, nil)
  T.eq(a.bars, 30) T.eq(a.length, 2880000) T.eq(a.seconds, 60.0)
  T.eq(table.concat(a.tracks, ","), "Vox,Bass")
  -- The base arrangement is untouched.
  T.eq(s:section("Bridge"), 1920000)
  T.eq(#s:sections(), 6)
end)

T.test("festival: tracks added and removed", function()
  local s = song()
  local a = s:variant("festival", festival)
  T.eq(table.concat(a.tracks, ","), "Vox,Bass,Horns,BGV")
  T.eq(#a.added, 2)
  T.eq(a.added[1].name, "Horns") T.eq(table.concat(a.added[1].input, "+"), "9")
  T.eq(a.added[2].name, "BGV") T.eq(table.concat(a.added[2].input, "+"), "10+11")
  T.eq(#a.removed, 0)
  T.eq(starts(a), "0,384000,1152000,1920000,2304000,3072000", "sections as in the session")
  T.eq(#s.tracks, 2, "the session's tracks are untouched")
  a = s:variant("acoustic", function(v) v:remove_track("Bass"); v:add_track{ name = "Guitar", input = 3 } end)
  T.eq(table.concat(a.tracks, ","), "Vox,Guitar")
  T.eq(table.concat(a.removed, ","), "Bass")
  a = s:variant("undo", function(v) v:add_track{ name = "Horns", input = 9 }; v:remove_track("Horns") end)
  T.eq(#a.added, 0) T.eq(#a.removed, 0)
end)

T.test("tempo: variant-wide and from a section on", function()
  local s = song()
  local a = s:variant("slow", function(v) v:tempo(96) end)    -- 2.5 s a bar, 120000 samples
  T.eq(a.sections[2].start, 480000) T.eq(a.sections[2].seconds, 20.0) T.eq(a.sections[2].tempo, 96)
  T.eq(a.sections[2].bpm, 96)
  T.eq(a.length, 36 * 120000) T.eq(a.seconds, 90.0)
  a = s:variant("lift", function(v) v:tempo(132, "Chorus 2") end)
  T.eq(a.sections[4].tempo, nil) T.eq(a.sections[4].start, 1920000)
  local c2, outro = a.sections[5], a.sections[6]
  T.eq(c2.tempo, 132) T.eq(c2.start, 2304000) T.eq(c2.length, 698182)
  T.near(c2.seconds, 8 * 4 * 60 / 132, 1e-4)
  T.eq(outro.start, 3002182) T.eq(outro.start + outro.length, 3351273) T.eq(outro.tempo, 132)
  -- A session tempo change stays with its bars when sections move.
  s:set_tempo(21, 60)                                           -- the Bridge and after at 60
  a = s:variant("bridge_first", function(v) v:move("Bridge", { before = "Verse" }) end)
  T.eq(labels(a), "Intro,Bridge,Verse,Chorus 1,Chorus 2,Outro")
  T.eq(a.sections[2].bpm, 60) T.eq(a.sections[2].length, 4 * 192000)
  T.eq(a.sections[3].start, 384000 + 4 * 192000) T.eq(a.sections[3].bpm, 120)
  T.eq(a.sections[3].length, 8 * 96000)
end)

T.test("reorder, move, repeat, extend", function()
  local s = song()
  local a = s:variant("swap", function(v) v:reorder{ "Intro", "Chorus 1", "Verse", "Bridge", "Chorus 2", "Outro" } end)
  T.eq(labels(a), "Intro,Chorus 1,Verse,Bridge,Chorus 2,Outro")
  T.eq(starts(a), "0,384000,1152000,1920000,2304000,3072000")
  a = s:variant("late_bridge", function(v) v:move("Bridge", { after = "Chorus 2" }) end)
  T.eq(labels(a), "Intro,Verse,Chorus 1,Chorus 2,Bridge,Outro")
  T.eq(a.sections[4].start, 1920000) T.eq(a.sections[5].start, 2688000)
  a = s:variant("double", function(v) v:again("Chorus 2") end)
  T.eq(labels(a), "Intro,Verse,Chorus 1,Bridge,Chorus 2,Chorus 2,Outro")
  T.eq(a.sections[6].start, 3072000) T.eq(a.sections[7].start, 3840000) T.eq(a.bars, 44)
  a = s:variant("triple", function(v) v:repeat_section("Chorus 2", 3); v:fade_in("Chorus 2", 1); v:fade_out("Chorus 2", 2) end)
  T.eq(labels(a), "Intro,Verse,Chorus 1,Bridge,Chorus 2,Chorus 2,Chorus 2,Outro")
  T.eq(a.sections[5].fade_in, 1) T.eq(a.sections[5].fade_out, nil)
  T.eq(a.sections[7].fade_out, 2) T.eq(a.sections[7].fade_in, nil)
  a = s:variant("long_outro", function(v) v:extend("Outro", 8); v:fade_out("Outro") end)
  T.eq(a.sections[6].bars, 8) T.eq(a.sections[6].length, 768000) T.eq(a.sections[6].fade_out, 16.0)
  T.eq(a.bars, 40)
  a = s:variant("shuffle", function(v)
    v:again("Chorus 2"); v:reorder{ "Chorus 2", "Intro", "Verse", "Chorus 1", "Bridge", "Chorus 2", "Outro" }
  end)
  T.eq(labels(a), "Chorus 2,Intro,Verse,Chorus 1,Bridge,Chorus 2,Outro")
  T.eq(a.sections[2].start, 768000)
end)

T.test("variants: listed, replaced, stored and reloaded identically", function()
  local s, dir = song()
  T.eq(#s:variants(), 0)
  s:variant("radio", radio)
  s:variant("festival", festival)
  s:variant("lift", function(v) v:tempo(132, "Chorus 2"); v:move("Bridge", { after = "Outro" }) end)
  T.eq(table.concat(s:variants(), ","), "radio,festival,lift")
  s:variant("radio", function(v) v:drop("Bridge"); v:shorten("Intro", 2); v:fade_out("Outro", 4) end)
  T.eq(table.concat(s:variants(), ","), "radio,festival,lift", "replaced in place")
  assert(s:save())
  local text = read(dir .. "/session.json")
  local j = assert(json.decode(text))
  T.eq(#j.variants, 3)
  T.eq(j.variants[1].name, "radio")
  T.eq(#j.variants[1].ops, 3)
  T.eq(j.variants[1].ops[1][1], "drop") T.eq(j.variants[1].ops[1][2], "Bridge")
  T.eq(j.variants[1].ops[2][1], "shorten") T.eq(j.variants[1].ops[2][3], 2)
  T.eq(j.variants[1].ops[3][1], "fade_out") T.eq(j.variants[1].ops[3][3], 4)
  T.eq(j.variants[2].ops[2][1], "add_track") T.eq(j.variants[2].ops[2][2].name, "BGV")
  T.eq(j.variants[2].ops[2][2].input[2], 11)
  T.eq(j.variants[3].ops[2][3].after, "Outro")
  T.ok(text:find('["drop", "Bridge"]', 1, true), "ops written one per line")
  local s2 = assert(reel.open(dir))
  T.eq(table.concat(s2:variants(), ","), "radio,festival,lift")
  for _, name in ipairs(s:variants()) do
    T.eq(json.encode(s2:arrangement(name)), json.encode(s:arrangement(name)), name)
  end
  T.eq(json.encode(s2:document()), text, "saved again, the same file")
  -- A session without variants writes no "variants".
  local plain, pdir = song()
  assert(plain:save())
  T.eq(read(pdir .. "/session.json"):find('"variants"', 1, true), nil)
end)

T.test("misuse: errors word for word, at the caller's line", function()
  local s = song()
  local all = "(sections: Intro, Verse, Chorus 1, Bridge, Chorus 2, Outro)"
  T.raises(function() s:variant("x", function(a) a:drop("Brige") end) end,
    "drop: unknown section 'Brige' " .. all, T.here(-1))
  T.raises(function() s:variant("x", function(a) a:drop("Chorus") end) end,
    "drop: section 'Chorus' is ambiguous (Chorus 1, Chorus 2)")
  T.raises(function() s:variant("x", function(a) a:drop("Bridge"); a:shorten("Bridge", 2) end) end,
    "shorten: unknown section 'Bridge' (sections: Intro, Verse, Chorus 1, Chorus 2, Outro)")
  T.raises(function() s:variant("x", function(a) a:shorten("Intro", 0) end) end,
    "bad argument #2 to 'shorten' (at least 1 bar expected, got 0)", T.here(-1))
  T.raises(function() s:variant("x", function(a) a:shorten("Intro", 4) end) end,
    "shorten: 'Intro' has 4 bars; shorten to fewer (extend makes it longer)")
  T.raises(function() s:variant("x", function(a) a:shorten("Intro", 1.5) end) end,
    "bad argument #2 to 'shorten' (whole number of bars expected, got number)")
  T.raises(function() s:variant("x", function(a) a:extend("Outro", 1000) end) end,
    "bad argument #2 to 'extend' (at most 256 bars, got 1000)")
  T.raises(function() s:variant("x", function(a) a:extend("Outro", 2) end) end,
    "extend: 'Outro' has 4 bars; extend to more (shorten makes it shorter)")
  T.raises(function() s:variant("x", function(a) a:again("Outro", 17) end) end,
    "bad argument #2 to 'again' (times must be between 2 and 16, got 17)")
  T.raises(function() s:variant("x", function(a) a:reorder{ "Intro", "Verse" } end) end,
    "reorder: Chorus 1, Bridge, Chorus 2, Outro not listed; list every section or drop it first")
  T.raises(function() s:variant("x", function(a) a:reorder{ "Intro", "Intro" } end) end,
    "reorder: 'Intro' is listed more often than it is played")
  T.raises(function() s:variant("x", function(a) a:reorder("Intro") end) end,
    "bad argument #1 to 'reorder' (list of section labels expected, got string)")
  T.raises(function() s:variant("x", function(a) a:move("Bridge", { after = "Coda" }) end) end,
    "move: unknown section 'Coda' " .. all)
  T.raises(function() s:variant("x", function(a) a:move("Bridge", { after = "Intro", before = "Outro" }) end) end,
    "bad argument #2 to 'move' ({after = label} or {before = label} expected)")
  T.raises(function() s:variant("x", function(a) a:move("Bridge", { behind = "Intro" }) end) end,
    "bad argument #2 to 'move' (unknown field 'behind' ({after = label} or {before = label} expected))")
  T.raises(function() s:variant("x", function(a) a:tempo("fast") end) end,
    "bad argument #1 to 'tempo' (bpm expected, got string)")
  T.raises(function() s:variant("x", function(a) a:tempo(0) end) end,
    "bad argument #1 to 'tempo' (bpm 0 must be between 1 and 1000)")
  T.raises(function() s:variant("x", function(a) a:tempo(132, "Coda") end) end,
    "tempo: unknown section 'Coda' " .. all)
  T.raises(function() s:variant("x", function(a) a:add_track{ name = "Vox", input = 1 } end) end,
    "add_track: the variant already has a track 'Vox'")
  T.raises(function() s:variant("x", function(a) a:add_track{ name = "Horns" } end) end,
    "bad argument #1 to 'add_track' (input: missing)")
  T.raises(function() s:variant("x", function(a) a:add_track{ name = "Horns", input = 9, level = 3 } end) end,
    "bad argument #1 to 'add_track' (unknown field 'level' (a track has name, input, monitor, gain_db, pan))")
  T.raises(function() s:variant("x", function(a) a:remove_track("Horns") end) end,
    "remove_track: unknown track 'Horns' (tracks: Vox, Bass)")
  T.raises(function() s:variant("x", function(a) a:fade_out("Outro", -1) end) end,
    "bad argument #2 to 'fade_out' (seconds must be more than 0 and at most 600, got -1)")
  T.raises(function() s:variant("x", function(a) a:drop("Intro"); a:drop("Verse"); a:drop("Chorus 1");
    a:drop("Bridge"); a:drop("Chorus 2"); a:drop("Outro") end) end,
    "drop: 'Outro' is all there is; a variant needs a section")
  T.eq(#s:variants(), 0, "a variant whose function failed is not stored")
  T.raises(function() s:variant("x", 5) end, "bad argument #2 to 'variant' (function expected, got number)", T.here())
  T.raises(function() s:variant("", radio) end, "bad argument #1 to 'variant' (variant name expected, got '')")
  T.raises(function() s:arrangement("radio") end, "no variant 'radio' (the session has no variants)", T.here())
  s:variant("radio", radio)
  s:variant("festival", festival)
  T.raises(function() s:arrangement("radoi") end, "no variant 'radoi' (variants: radio, festival)", T.here())
  T.raises(function() s.variants() end,
    "bad self to 'variants' (reel.session expected, got nil); call it as s:variants(...)")
  local kept
  s:variant("later", function(a) kept = a end)
  T.raises(function() kept:drop("Intro") end, "'drop': variant 'later' is already stored; change it with s:variant")
end)

T.test("session.json: variants checked on load; stale variants reported", function()
  local s, dir = song()
  s:variant("radio", radio)
  assert(s:save())
  local good = read(dir .. "/session.json")
  local function with(old, new)
    local text = good:gsub(old:gsub("%p", "%%%0"), (new:gsub("%%", "%%%%")), 1)
    local f = assert(io.open(dir .. "/session.json", "w"))
    f:write(text)
    f:close()
    return reel.open(dir)
  end
  local r, err = with('["drop", "Bridge"]', '["explode", "Bridge"]')
  T.eq(r, nil)
  T.eq(err, dir .. "/session.json: variants[1].ops[1]: unknown operation 'explode' "
    .. "(drop, again, reorder, move, shorten, extend, tempo, add_track, remove_track, fade_in, fade_out)")
  r, err = with('["shorten", "Intro", 2]', '["shorten", "Intro", 0]')
  T.eq(err, dir .. "/session.json: variants[1].ops[2][3]: at least 1 bar expected, got 0")
  r, err = with('"name": "radio"', '"name": 7')
  T.eq(err, dir .. "/session.json: variants[1].name: variant name expected")
  -- The Bridge taken out of the file by hand: the session opens, the
  -- variant says what no longer fits.
  local j = assert(json.decode(good))
  table.remove(j.sections, 4)
  local f = assert(io.open(dir .. "/session.json", "w"))
  f:write(json.encode(j))
  f:close()
  local s2 = assert(reel.open(dir))
  T.raises(function() s2:arrangement("radio") end,
    "variant 'radio': operation 1 (drop): unknown section 'Bridge' "
    .. "(sections: Intro, Verse, Chorus 1, Chorus 2, Outro)", T.here(-2))
end)

T.done()
