--- session_api.lua: the session object of scripts/reel/session.lua:
-- sections, section, add_section, set_tempo, tempo, tempo_map, position,
-- add_marker, takes, take, set_status, select, selected, problems, save.
-- Positions are worked out by hand: 48 kHz, 120 bpm, 4/4 is 24000 samples a
-- beat and 96000 a bar; 6/8 at 60 bpm is 48000 an eighth, 288000 a bar.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local json = require "reel.json"

local read = T.read

-- Intro 1-4, Verse 1 5-12, Chorus 1 13-16, Verse 2 17-24, Chorus 2 25-28;
-- takes: Kick 1, 2; Vox 1, 2, 3 (2 and 3 in Chorus 2, passes 1 and 2).
local function song()
  local dir = T.tmpdir()
  assert(core.mkdir_p(dir .. "/audio"))
  local function take(track, n, extra)
    local t = { track = track, take = n, file = ("audio/%s_T%02d.wav"):format(track, n),
                frames = 96000, rate = 48000, start = 0, peak_db = -6 }
    for k, v in pairs(extra or {}) do t[k] = v end
    return t
  end
  local doc = {
    reel_session = 1, name = "Song", rate = 48000, format = "wav24",
    tempo = { { bar = 1, bpm = 120, meter = "4/4" } },
    sections = {
      { name = "Intro", bar = 1, length_bars = 4 }, { name = "Verse", bar = 5, length_bars = 8 },
      { name = "Chorus", bar = 13, length_bars = 4 }, { name = "Verse", bar = 17, length_bars = 8 },
      { name = "Chorus", bar = 25, length_bars = 4 },
    },
    tracks = { { name = "Kick", inputs = { 1 } }, { name = "Snare", inputs = { 2 } },
               { name = "Vox", inputs = { 3 }, monitor = true } },
    takes = {
      take("Kick", 1), take("Kick", 2, { status = "rejected", note = "rushed" }),
      take("Vox", 1, { start = 2304000 }),
      take("Vox", 2, { start = 2304000, section = "Chorus 2", pass = 1 }),
      take("Vox", 3, { start = 2304000, section = "Chorus 2", pass = 2, clipped = 12, xruns = 2,
                       xrun_positions = { 24000, 48000 }, overruns = 1, lost_frames = 512,
                       gaps = { { position = 96000, frames = 512 } } }),
    },
    last_take = { Kick = 2, Vox = 3 },
  }
  local f = assert(io.open(dir .. "/session.json", "w"))
  f:write(json.encode(doc))
  f:close()
  return assert(reel.open(dir)), dir
end

T.test("sections: labels, positions, lengths", function()
  local s = song()
  local secs = s:sections()
  T.eq(#secs, 5)
  local labels = {}
  for i, r in ipairs(secs) do labels[i] = r.label end
  T.eq(table.concat(labels, ","), "Intro,Verse 1,Chorus 1,Verse 2,Chorus 2")
  local c2 = secs[5]
  T.eq(c2.name, "Chorus") T.eq(c2.bar, 25) T.eq(c2.length_bars, 4)
  T.eq(c2.start, 2304000) T.eq(c2.length, 384000) T.eq(c2.start_bbt, "25:1") T.eq(c2.seconds, 8.0)
  T.eq(secs[2].start, 384000) T.eq(secs[2].length, 768000)
end)

T.test("section: by label, unique name, errors", function()
  local s = song()
  local a, b, r = s:section("Chorus 2")
  T.eq(a, 2304000) T.eq(b, 2688000) T.eq(r.label, "Chorus 2")
  T.eq(s:section("Intro"), 0)
  T.eq(s:section("Intro 1"), 0, "a unique name also answers to 'Name 1'")
  T.eq(select(2, s:section("Verse 1")), 1152000)
  T.raises(function() s:section("Chorus") end, "section 'Chorus' is ambiguous (Chorus 1, Chorus 2)", T.here())
  T.raises(function() s:section("Bridge") end,
    "unknown section 'Bridge' (sections: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2)", T.here(-1))
  T.raises(function() s:section("Chorus 3") end, "unknown section 'Chorus 3'")
  T.raises(function() s:section("Intro 2") end, "unknown section 'Intro 2'")
  T.raises(function() s:section(5) end, "bad argument #1 to 'section' (section name expected, got number)")
  T.raises(function() s.section("Intro") end,
    "bad self to 'section' (reel.session expected, got string); call it as s:section(...)")
  local empty = assert(reel.new(T.tmpdir() .. "/e"))
  T.raises(function() empty:section("Intro") end, "unknown section 'Intro' (the session has no sections)")
  T.eq(#empty:sections(), 0)
end)

T.test("add_section: placement, renumbering, errors", function()
  local s = song()
  local r = s:add_section("Outro", 4)
  T.eq(r.bar, 29) T.eq(r.start, 2688000) T.eq(r.label, "Outro") T.eq(r.length, 384000)
  r = s:add_section("Solo", 4, 40)
  T.eq(r.bar, 40) T.eq(r.start, 39 * 96000)
  r = s:add_section("Chorus", 2, "45:1")
  T.eq(r.bar, 45) T.eq(r.label, "Chorus 3")
  r = s:add_section("Pre", 2, 33)                      -- between, in time order
  local labels = {}
  for i, x in ipairs(s:sections()) do labels[i] = x.label end
  T.eq(table.concat(labels, ","), "Intro,Verse 1,Chorus 1,Verse 2,Chorus 2,Outro,Pre,Solo,Chorus 3")
  T.raises(function() s:add_section("Break", 2, 27) end,
    "add_section: 'Break' (bars 27 to 28) would overlap 'Chorus 2' (bars 25 to 28)", T.here(-1))
  T.raises(function() s:add_section("Break", 2, "50:2") end,
    "bad argument #3 to 'add_section' (sections start on a bar's first beat; '50:2' is 50:2)")
  T.raises(function() s:add_section("Break", 2, "Chorus 2") end, "would overlap 'Chorus 2'")
  T.raises(function() s:add_section("Break", 0) end,
    "bad argument #2 to 'add_section' (at least one bar expected, got 0)")
  T.raises(function() s:add_section("Break", "4") end,
    "bad argument #2 to 'add_section' (whole number of bars expected, got string)")
  T.raises(function() s:add_section(5, 4) end, "bad argument #1 to 'add_section' (section name expected, got number)")
  T.raises(function() s:add_section("", 4) end, "bad argument #1 to 'add_section' (section name expected, got '')")
  T.raises(function() s:add_section("Break", 4, {}) end,
    "bad argument #3 to 'add_section' (bar number or position expected, got table)")
  T.raises(function() s:add_section("Break", 4, 0) end,
    "bad argument #3 to 'add_section' (bar 0 is not between 1 and 99999)")
  T.raises(function() s:add_section("Break", 4, 99998) end,
    "bad argument #2 to 'add_section' (4 bars from bar 99998 end after the last bar, 99999)")
  T.raises(function() s:add_section("Verse 2", 4, 60) end,
    "add_section: two sections would be called 'Verse 2'; choose another name")
  T.eq(#s:sections(), 9, "failed adds add nothing")
end)

T.test("set_tempo moves sections with their bars", function()
  local s = song()
  T.eq(s:set_tempo(17, 60, "6/8"), s)
  T.eq(s:section("Verse 2"), 1536000)
  local a, b = s:section("Chorus 2")
  T.eq(a, 1536000 + 8 * 288000)
  T.eq(b, a + 4 * 288000)
  local t = s:tempo()
  T.eq(#t, 2)
  T.eq(t[2].bar, 17) T.eq(t[2].bpm, 60) T.eq(t[2].meter, "6/8") T.eq(t[2].start, 1536000)
  -- Without a meter the one in effect stays.
  s:set_tempo(5, 240)
  T.eq(s:tempo()[2].meter, "4/4")
  T.eq(s:section("Verse 1"), 384000)
  T.eq(s:section("Chorus 1"), 384000 + 8 * 48000)
  T.raises(function() s:set_tempo(0, 100) end,
    "bad argument #1 to 'set_tempo' (bar 0 must be between 1 and 99999)", T.here(-1))
  T.raises(function() s:set_tempo(5, 0) end,
    "bad argument #2 to 'set_tempo' (bpm 0 at bar 5 must be between 1 and 1000)", T.here(-1))
  T.raises(function() s:set_tempo(5, 100, "4/5") end,
    "bad argument #3 to 'set_tempo' (meter 4/5 at bar 5: note value must be 1, 2, 4, 8, 16 or 32)")
  T.raises(function() s:set_tempo("x", 100) end, "bad argument #1 to 'set_tempo' (number expected, got string)")
  T.raises(function() s:set_tempo(5, 100, "x") end, "bad argument #3 to 'set_tempo' (meter 'x' is not N/D (4/4, 7/8))")
  T.eq(#s:tempo(), 3, "failed changes change nothing")
end)

T.test("tempo_map: the session's own map", function()
  local s, dir = song()
  local m = s:tempo_map()
  T.eq(s:tempo_map(), m)
  T.eq(getmetatable(m).__name, "reel.tempo")
  m:set(9, 60)                         -- straight on the map: saved too
  assert(s:save())
  local j = assert(json.decode(read(dir .. "/session.json")))
  T.eq(#j.tempo, 2)
  T.eq(j.tempo[2].bar, 9) T.eq(j.tempo[2].start, 768000)
  T.eq(j.sections[3].start, 768000 + 4 * 192000, "Chorus 1 at bar 13 moved")
end)

T.test("position: samples, seconds, bars:beats, sections", function()
  local s = song()
  T.eq(s:position(96000), 96000)
  T.eq(s:position(96000.0), 96000)
  T.eq(s:position("96000"), 96000)
  T.eq(s:position("12.5s"), 600000)
  T.eq(s:position("5:3"), 432000)
  T.eq(s:position("5:2.5"), 420000)
  T.eq(s:position("Chorus 2"), 2304000)
  T.eq(s:position("Intro"), 0)
  T.eq(s:position("Intro 1"), 0)
  T.eq(math.type(s:position("1s")), "integer")
  s:set_tempo(17, 60, "6/8")
  T.eq(s:position("Chorus 2"), 3840000)
  T.eq(s:position("18:2"), 1536000 + 288000 + 48000)
  T.raises(function() s:position("Chorsu") end,
    "position 'Chorsu' is not samples, seconds (12.5s), bars:beats (5:1) or a section "
    .. "(sections: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2)", T.here(-2))
  T.raises(function() s:position("Verse") end, "section 'Verse' is ambiguous (Verse 1, Verse 2)")
  T.raises(function() s:position("5:9") end, "position '5:9': bar 5 has only 4 beats", T.here())
  T.raises(function() s:position("12.5") end,
    "position '12.5' is not samples, seconds (12.5s) or bars:beats (5:1)")
  T.raises(function() s:position(-1) end, "position '-1' is before the start (1:1)")
  T.raises(function() s:position(1.5) end,
    "bad argument #1 to 'position' (whole samples expected, got 1.5; write seconds as '1.5s')")
  T.raises(function() s:position{} end,
    "bad argument #1 to 'position' (samples, seconds ('12.5s'), bars:beats ('5:1') or a section name expected, got table)")
end)

T.test("add_marker: sorted, saved with bars:beats", function()
  local s, dir = song()
  local mk = s:add_marker("Idea", "3:2.5")
  T.eq(mk.name, "Idea") T.eq(mk.start, 228000)
  s:add_marker("Top", 0)
  T.eq(s.markers[1].name, "Top") T.eq(s.markers[2].name, "Idea")
  T.raises(function() s:add_marker("X", "nowhere") end, "position 'nowhere' is not samples", T.here())
  T.raises(function() s:add_marker(5, 0) end, "bad argument #1 to 'add_marker' (marker name expected, got number)")
  T.raises(function() s:add_marker("Y", {}) end, "bad argument #2 to 'add_marker' (samples,")
  T.raises(function() s:add_marker("Y", 0.5) end, "bad argument #2 to 'add_marker' (whole samples expected")
  assert(s:save())
  local j = assert(json.decode(read(dir .. "/session.json")))
  T.eq(#j.markers, 2)
  T.eq(j.markers[2].start_bbt, "3:2.5") T.eq(j.markers[2].start, 228000)
  local again = assert(reel.open(dir))
  T.eq(again.markers[2].start, 228000)
end)

T.test("takes: filters, live tables, misuse", function()
  local s = song()
  T.eq(#s.takes, 5, "s.takes is the list")
  T.eq(#s:takes(), 5)
  T.eq(#s:takes{}, 5)
  local vox = s:takes{ track = "Vox" }
  T.eq(#vox, 3)
  T.eq(vox[1], s:take("Vox", 1), "the take tables themselves")
  local rejected = s:takes{ status = "rejected" }
  T.eq(#rejected, 1) T.eq(rejected[1].track, "Kick") T.eq(rejected[1].take, 2)
  T.eq(#s:takes{ status = "kept" }, 4, "no status means kept")
  T.eq(#s:takes{ section = "Chorus 2" }, 2)
  local p2 = s:takes{ section = "Chorus 2", pass = 2 }
  T.eq(#p2, 1) T.eq(p2[1].take, 3)
  T.eq(#s:takes{ track = "Snare" }, 0)
  T.eq(#s:takes{ section = "Intro" }, 0)
  T.raises(function() s:takes{ track = "Vxo" } end, "unknown track 'Vxo' (tracks: Kick, Snare, Vox)", T.here())
  T.raises(function() s:takes{ section = "Bridge" } end, "unknown section 'Bridge'")
  T.raises(function() s:takes{ colour = 1 } end, "unknown option 'colour'", T.here())
  T.raises(function() s:takes{ status = "meh" } end, "bad option 'status' ('meh' is not kept, rejected or selected)")
  T.raises(function() s:takes{ pass = "2" } end, "bad option 'pass' (integer expected, got string)")
  T.raises(function() s:takes{ track = 5 } end, "bad option 'track' (string expected, got number)")
  T.raises(function() s:takes(5) end, "bad argument #1 to 'takes' (table of options expected, got number)")
  T.raises(function() s.takes() end, "bad self to 'takes' (reel.session expected); call it as s:takes(...)")
end)

T.test("track_names: declared tracks, then those only takes name", function()
  local s = song()
  T.eq(table.concat(s:track_names(), ","), "Kick,Snare,Vox")
  s.takes[#s.takes + 1] = { track = "Gone", take = 1, file = "audio/Gone_T01.wav" }
  T.eq(table.concat(s:track_names(), ","), "Kick,Snare,Vox,Gone")
  T.raises(function() s.track_names() end,
    "bad self to 'track_names' (reel.session expected, got nil); call it as s:track_names(...)")
end)

T.test("take: by track and number", function()
  local s = song()
  local t = s:take("Kick", 2)
  T.eq(t.note, "rushed")
  T.raises(function() s:take("Vox", 7) end, "track 'Vox' has no take 7 (takes: 1, 2, 3)", T.here())
  T.raises(function() s:take("Snare", 1) end, "track 'Snare' has no take 1 (no takes yet)")
  T.raises(function() s:take("Vxo", 1) end, "unknown track 'Vxo' (tracks: Kick, Snare, Vox)", T.here())
  T.raises(function() s:take("Vox", "2") end, "bad argument #2 to 'take' (take number expected, got string)")
  T.raises(function() s:take(5, 1) end, "bad argument #1 to 'take' (track name expected, got number)")
  local empty = assert(reel.new(T.tmpdir() .. "/e"))
  T.raises(function() empty:take("Vox", 1) end, "unknown track 'Vox' (the session has no tracks)")
end)

T.test("set_status, select, selected: one selected take per track; saved", function()
  local s, dir = song()
  local t = s:set_status("Vox", 1, "rejected", "flat")
  T.eq(t.status, "rejected") T.eq(t.note, "flat")
  s:set_status("Vox", 1, "kept")
  T.eq(s:take("Vox", 1).note, "flat", "no note given: the note stays")
  T.eq(s:set_status("Vox", 2, "selected").status, "selected")
  T.eq(s:selected("Vox"), s:take("Vox", 2))
  T.eq(s:select("Vox", 3), s:take("Vox", 3))
  T.eq(s:take("Vox", 2).status, "kept", "the previous selection is kept")
  T.eq(s:selected("Vox").take, 3)
  T.eq(s:selected("Kick"), nil)
  s:select("Kick", 2)                                 -- a rejected take can be selected
  T.eq(s:take("Kick", 2).status, "selected")
  T.eq(s:selected("Vox").take, 3, "tracks are independent")
  T.raises(function() s:set_status("Vox", 1, "keep") end,
    "bad argument #3 to 'set_status' (kept, rejected or selected expected, got 'keep')", T.here(-1))
  T.raises(function() s:set_status("Vox", 1, nil) end,
    "bad argument #3 to 'set_status' (kept, rejected or selected expected, got nil)")
  T.raises(function() s:set_status("Vox", 1, "kept", 5) end,
    "bad argument #4 to 'set_status' (string expected, got number)")
  T.raises(function() s:set_status("Vox", 9, "kept") end, "track 'Vox' has no take 9 (takes: 1, 2, 3)")
  T.raises(function() s:select("Vxo", 1) end, "unknown track 'Vxo' (tracks: Kick, Snare, Vox)", T.here())
  T.raises(function() s:select("Vox", 9) end, "track 'Vox' has no take 9")
  T.raises(function() s:selected("Vxo") end, "unknown track 'Vxo'")
  assert(s:save())
  local again = assert(reel.open(dir))
  T.eq(again:take("Vox", 1).note, "flat")
  T.eq(again:take("Vox", 2).status, "kept")
  T.eq(again:selected("Vox").take, 3)
  T.eq(again:selected("Kick").take, 2)
  local j = assert(json.decode(read(dir .. "/session.json")))
  T.eq(j.takes[1].status, "kept") T.eq(j.takes[5].status, "selected")
  T.eq(j.takes[5].section, "Chorus 2") T.eq(j.takes[5].pass, 2)
  T.eq(j.takes[3].start_bbt, "25:1")
end)

T.test("problems: what went wrong, for people", function()
  local s = song()
  T.eq(#s:problems(s:take("Vox", 1)), 0)
  T.eq(table.concat(s:problems(s:take("Vox", 3)), "; "),
    "clipped 12 samples; 2 xruns (at 0.500 s, 1.000 s); 1 overrun, 512 frames lost (at 2.000 s)")
  local t = s:take("Vox", 1)
  t.rate = 44100
  t.error = "disk full"
  T.eq(table.concat(s:problems(t), "; "),
    "error: disk full; recorded at 44100 Hz, the session is at 48000 Hz")
  T.raises(function() s:problems(5) end, "bad argument #1 to 'problems' (take expected, got number)")
end)

T.test("document and tostring", function()
  local s = song()
  T.ok(tostring(s):find("^reel.session %(.*, 3 tracks, 5 takes%)$"), tostring(s))
  local doc = s:document()
  T.eq(doc.reel_session, 1)
  T.eq(#doc.sections, 5)
  T.eq(doc.sections[5].label, "Chorus 2")
  T.eq(doc.takes[2].status, "rejected")
  T.eq(doc.tracks[3].monitor, true)
  T.raises(function() s.document() end, "bad self to 'document'")
end)

T.done()
