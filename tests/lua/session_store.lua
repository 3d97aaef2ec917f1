--- session_store.lua: sessions on disk (scripts/reel/session.lua): reel.new
-- and templates, reel.open, the session.json loader and its error messages,
-- saving (derived fields, unknown keys kept, atomic), legacy files, take
-- numbering. No recording here (see session_record.lua).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local session = require "reel.session"
local core = require "reel.core"
local json = require "reel.json"

local read = T.read

local write = T.write

-- reel.json's decode: lua-cjson, with integral numbers as integers.
local function decode(path) return assert(json.decode(read(path))) end

-- A valid session document to break in the loader tests.
local function base_doc()
  return {
    reel_session = 1, name = "Song", rate = 48000, format = "wav24",
    tempo = { { bar = 1, bpm = 120, meter = "4/4" } },
    sections = { { name = "Intro", bar = 1, length_bars = 4 }, { name = "Chorus", bar = 5, length_bars = 8 } },
    markers = {},
    tracks = { { name = "Kick", inputs = { 1 } }, { name = "Vox", inputs = { 2 }, monitor = true } },
    takes = {
      { track = "Vox", take = 1, file = "audio/Vox_T01.wav", frames = 48000, rate = 48000, start = 0 },
      { track = "Vox", take = 2, file = "audio/Vox_T02.wav", frames = 48000, rate = 48000, start = 96000 },
      { track = "Vox", take = 3, file = "audio/Vox_T03.wav", frames = 48000, rate = 48000, start = 96000 },
    },
    last_take = { Vox = 3 },
  }
end

local function session_dir(doc)
  local dir = T.tmpdir()
  assert(core.mkdir_p(dir .. "/audio"))
  write(dir .. "/session.json", type(doc) == "string" and doc or json.encode(doc))
  return dir
end

-- ------------------------------------------------------------------ new

T.test("new: defaults, files, document", function()
  local dir = T.tmpdir() .. "/songs/First Song"
  local s = assert(reel.new(dir))
  T.eq(getmetatable(s).__name, "reel.session")
  T.eq(core.exists(dir .. "/audio"), "directory")
  T.eq(s.name, "First Song")
  T.eq(s.rate, 48000)
  T.eq(s.format, "wav24")
  T.eq(#s.tracks, 0)
  T.eq(#s.takes, 0)
  local j = decode(dir .. "/session.json")
  T.eq(j.reel_session, 1)
  T.eq(j.name, "First Song")
  T.eq(j.rate, 48000)
  T.eq(j.format, "wav24")
  T.eq(#j.tempo, 1)
  T.eq(j.tempo[1].bar, 1) T.eq(j.tempo[1].bpm, 120) T.eq(j.tempo[1].meter, "4/4") T.eq(j.tempo[1].start, 0)
  T.eq(#j.sections, 0) T.eq(#j.markers, 0) T.eq(#j.tracks, 0) T.eq(#j.takes, 0)
  T.eq(next(j.last_take), nil)
  T.eq(j.latency, nil)
  local text = read(dir .. "/session.json")
  T.ok(text:find('"takes": []', 1, true), "empty lists are lists")
  T.ok(text:find('"last_take": {}', 1, true), "empty objects are objects")
end)

T.test("new: options", function()
  local dir = T.tmpdir() .. "/s"
  local s = assert(reel.new(dir, {
    name = "Waltz", rate = 44100, tempo = 90, meter = "3/4", format = "flac",
    tracks = { { name = "Piano", input = { 1, 2 } }, { name = "Voice", input = 3, monitor = true, gain_db = -3, pan = -0.5 } },
    sections = { { "A", 8 }, { "B", 8 }, { "A", 8 } },
  }))
  T.eq(s.name, "Waltz") T.eq(s.rate, 44100) T.eq(s.format, "flac")
  T.eq(s.tracks[1].name, "Piano")
  T.eq(table.concat(s.tracks[1].input, ","), "1,2")
  T.eq(s.tracks[2].monitor, true)
  local j = decode(dir .. "/session.json")
  T.eq(j.tempo[1].bpm, 90) T.eq(j.tempo[1].meter, "3/4")
  T.eq(j.tracks[1].monitor, false) T.eq(j.tracks[1].gain_db, 0) T.eq(j.tracks[1].pan, 0)
  T.eq(table.concat(j.tracks[1].inputs, ","), "1,2")
  T.eq(table.concat(j.tracks[1].input, ","), "1,2", "input kept for earlier readers")
  T.eq(j.tracks[2].gain_db, -3) T.eq(j.tracks[2].pan, -0.5)
  -- Sections laid out from bar 1; 3/4 at 90 bpm at 44.1 kHz: a beat is
  -- 29400 samples, a bar 88200.
  T.eq(#j.sections, 3)
  T.eq(j.sections[1].label, "A 1") T.eq(j.sections[2].label, "B") T.eq(j.sections[3].label, "A 2")
  T.eq(j.sections[3].bar, 17) T.eq(j.sections[3].start, 16 * 88200) T.eq(j.sections[3].length, 8 * 88200)
  T.eq(j.sections[3].start_bbt, "17:1") T.eq(j.sections[3].seconds, 16)
  T.eq(j.sections[3].name, "A") T.eq(j.sections[3].length_bars, 8)
end)

T.test("new: never overwrites a session", function()
  local dir = T.tmpdir()
  assert(reel.new(dir, { name = "First" }))
  local before = read(dir .. "/session.json")
  local s, err = reel.new(dir, { name = "Second" })
  T.eq(s, nil)
  T.eq(err, dir .. "/session.json already exists; a session is never overwritten (open it with reel.open)")
  T.eq(read(dir .. "/session.json"), before)
  -- A folder that exists without a session is fine.
  local d2 = T.tmpdir()
  write(d2 .. "/notes.txt", "hello")
  assert(reel.new(d2))
  T.eq(read(d2 .. "/notes.txt"), "hello")
end)

T.test("new: misuse raises naming the option; nothing is created", function()
  local dir = T.tmpdir() .. "/never"
  T.raises(function() reel.new(42) end, "bad argument #1 to 'new' (folder path expected, got number)", T.here())
  T.raises(function() reel.new("") end, "bad argument #1 to 'new' (folder path expected, got empty string)")
  T.raises(function() reel.new(dir, 5) end,
    "bad argument #2 to 'new' (template name or table of options expected, got number)")
  T.raises(function() reel.new(dir, { colour = "red" }) end, "unknown option 'colour'", T.here())
  T.raises(function() reel.new(dir, { template = 7 }) end,
    "bad option 'template' (template name or path expected, got number)")
  T.raises(function() reel.new(dir, { rate = "fast" }) end, "bad option 'rate' (number expected, got string)")
  T.raises(function() reel.new(dir, { rate = 5 }) end, "bad option 'rate' (must be between 1000 and 768000, got 5)")
  T.raises(function() reel.new(dir, { tempo = 0 }) end,
    "bad option 'tempo' (bpm 0 at bar 1 must be between 1 and 1000)")
  T.raises(function() reel.new(dir, { meter = "4/3" }) end,
    "bad option 'meter' (meter 4/3 at bar 1: note value must be 1, 2, 4, 8, 16 or 32)")
  T.raises(function() reel.new(dir, { format = "mp3" }) end,
    "bad option 'format' ('mp3' is not one of wav24, wav32f, flac, rf64)")
  T.raises(function() reel.new(dir, { tracks = { { name = "a/b", input = 1 } } }) end,
    "bad option 'tracks' (tracks[1].name: name must not contain '/', '\\' or control characters)")
  T.raises(function() reel.new(dir, { tracks = { { name = "Vox" } } }) end,
    "bad option 'tracks' (tracks[1].input: missing)")
  T.raises(function() reel.new(dir, { tracks = { { name = "Vox", input = 1, colour = 2 } } }) end,
    "bad option 'tracks' (tracks[1]: unknown field 'colour' (a track has name, input, monitor, gain_db, pan))")
  T.raises(function() reel.new(dir, { tracks = { { name = "Vox", input = 1 }, { name = "Vox", input = 2 } } }) end,
    "bad option 'tracks' (tracks[2].name: 'Vox' is already tracks[1])")
  T.raises(function() reel.new(dir, { sections = { { "A" } } }) end,
    "bad option 'sections' (sections[1]: {name, bars} expected, e.g. {\"Verse\", 16}, got list)")
  T.raises(function() reel.new(dir, { sections = { { "A", 0 } } }) end,
    "bad option 'sections' (sections[1][2]: must be between 1 and 99999, got 0)")
  T.raises(function() reel.new(dir, { sections = { { "Chorus", 4 }, { "Chorus 2", 4 }, { "Chorus", 4 } } }) end,
    "bad option 'sections' (two sections would be called 'Chorus 2'; choose another name)")
  T.eq(core.exists(dir), false)
end)

-- ------------------------------------------------------------ templates

T.test("templates: band by name, options override", function()
  local names = session.templates()
  T.ok(#names >= 1 and names[1] == "band", table.concat(names, ","))
  local dir = T.tmpdir() .. "/band"
  local s = assert(reel.new(dir, "band"))
  T.eq(s.name, "Four-piece band")
  T.eq(#s.tracks, 12)
  T.eq(s.tracks[6].name, "Overheads")
  T.eq(table.concat(s.tracks[6].input, ","), "6,7")
  T.eq(s.tracks[11].monitor, true)
  local secs = s:sections()
  T.eq(#secs, 8)
  T.eq(secs[7].label, "Chorus 3")
  T.eq(secs[8].start, 76 * 96000)
  local d2 = T.tmpdir() .. "/band2"
  local s2 = assert(reel.new(d2, { template = "band", tempo = 60, rate = 96000, name = "Slow" }))
  T.eq(s2.name, "Slow") T.eq(s2.rate, 96000)
  T.eq(s2:tempo()[1].bpm, 60)
  T.eq(s2:section("Verse 1"), 4 * 4 * 96000)     -- four bars of four 1 s beats
  local data, path = session.load_template("band")
  T.eq(data.tempo, 120)
  T.ok(path:find("templates/band.lua$"), path)
end)

T.test("templates: a file of one's own; errors as T:LINE: message", function()
  local dir = T.tmpdir()
  local function tpl(name, src)
    local p = dir .. "/" .. name
    write(p, src)
    return p
  end
  local ok = tpl("duo.lua", 'return { name = "Duo", tempo = 100, tracks = { { name = "Gtr", input = 1 }, '
    .. '{ name = "Voc", input = 2 } }, sections = { { "Verse", 8 }, { "Verse", 8 } } }\n')
  local s = assert(reel.new(dir .. "/duo", ok))
  T.eq(s.name, "Duo")
  T.eq(#s.tracks, 2)
  T.eq(s:sections()[2].label, "Verse 2")

  local function fails(src, want, name)
    local p = tpl(name or "t.lua", src)
    local target = dir .. "/never"
    local s2, err = reel.new(target, p)
    T.eq(s2, nil)
    T.eq(err, (want:gsub("T:", p .. ":", 1)))
    T.eq(core.exists(target), false, "nothing created for " .. src)
  end
  fails("return {\n  name = 'x',\n  tracks = { }}\n}\n", "T:4: <eof> expected near '}'")
  fails("return { name = os.getenv('HOME') }", "T:1: 'os' is not available in templates")
  fails("local t = {}\nfor i = 1, 10 do t[i] = i end\nreturn { name = print(1) }",
    "T:3: 'print' is not available in templates")
  fails("return { name = ('x'):find('x') }", "T:1: 'string.find' is not available in templates")
  fails("return { name = string.dump(tostring) }", "T:1: 'string.dump' is not available in templates")
  fails("local n = 0\nwhile true do n = n + 1 end",
    "T:2: template ran too long (stopped after 0.1 s)")
  fails("local s = 'x'\nfor i = 1, 40 do s = s .. s end\nreturn {}",
    "T:2: not enough memory (a template may use 32 MiB)")
  fails("return 42", "T: a template returns a table, this one returned number")
  fails("return { tracks = { { name = 'Kick', input = 'one' } } }",
    "T:1: tracks[1].input: integer or list of 1 or 2 integers expected, got string")
  fails("return { colour = 'red' }",
    "T:1: unknown field 'colour' (a template has name, description, rate, format, tempo, meter, "
    .. "tracks, groups, sections, take_policy, extends, remove_tracks, remove_sections)")
  fails("return { meter = '5/6' }", "T:1: meter: meter 5/6 at bar 1: note value must be 1, 2, 4, 8, 16 or 32")
  fails("return { sections = { { 'Intro', 4.5 } } }", "T:1: sections[1][2]: integer expected, got 4.5")
  fails(string.dump(function() return {} end),
    "T: binary chunks are not allowed (a template is Lua source text)", "bin.lua")
  -- After a template ran, strings have their methods again.
  T.eq(("x"):rep(2), "xx")
  T.eq(debug.gethook(), nil)
  -- Names and missing files.
  local s3, err = reel.new(dir .. "/never", "nosuch")
  T.eq(s3, nil)
  T.eq(err, "template 'nosuch' not found (templates: band, band_horns, drum_tracking, live_two_track, "
    .. "podcast, podcast_duo, vocal_overdub); give a path such as ./nosuch.lua for a template of your own")
  s3, err = reel.new(dir .. "/never", dir .. "/missing.lua")
  T.eq(s3, nil)
  T.eq(err, dir .. "/missing.lua: No such file or directory")
  T.raises(function() session.load_template(42) end,
    "bad argument #1 to 'load_template' (template name or path expected, got number)")
end)

-- ----------------------------------------------------------------- open

T.test("open: missing folder, not a folder, not a session", function()
  local dir = T.tmpdir()
  local s, err = reel.open(dir .. "/nope")
  T.eq(s, nil)
  T.eq(err, dir .. "/nope: no such folder")
  write(dir .. "/file", "x")
  s, err = reel.open(dir .. "/file")
  T.eq(err, dir .. "/file: not a folder")
  s, err = reel.open(dir)
  T.eq(err, dir .. " is not a reel session (it has no session.json)")
  T.eq(core.exists(dir .. "/audio"), false, "open creates nothing")
  T.raises(function() reel.open() end, "bad argument #1 to 'open' (folder path expected, got nil)", T.here())
end)

T.test("open: a valid document", function()
  local dir = session_dir(base_doc())
  local s = assert(reel.open(dir))
  T.eq(s.name, "Song")
  T.eq(#s.tracks, 2)
  T.eq(s.tracks[2].monitor, true)
  T.eq(s.tracks[1].armed, true)
  T.eq(#s.takes, 3)
  T.eq(s.takes[3].start, 96000)
  T.eq(math.type(s.takes[3].frames), "integer")
  T.eq(#s:sections(), 2)
  T.eq(s.last_take.Vox, 3)
end)

-- The loader's messages, word for word; the file is never touched.
local broken = {
  { function(d) d.takes[3].frames = "many" end, "takes[3].frames: number expected, got string" },
  { function(d) d.takes[2].frames = 1.5 end, "takes[2].frames: integer expected, got 1.5" },
  { function(d) d.takes[1].frames = -1 end, "takes[1].frames: must not be negative, got -1" },
  { function(d) d.takes[1].track = nil end, "takes[1].track: missing" },
  { function(d) d.takes[1].file = "" end, "takes[1].file: must not be empty" },
  { function(d) d.takes[1].take = 0 end, "takes[1].take: must be at least 1, got 0" },
  { function(d) d.takes[1].status = "great" end, "takes[1].status: kept, rejected or selected expected, got 'great'" },
  { function(d) d.takes[2].status = "selected" d.takes[3].status = "selected" end,
    "takes[3].status: track 'Vox' already has a selected take (takes[2])" },
  { function(d) d.takes[3].take = 2 end, "takes[3]: take 2 of track 'Vox' is listed twice (also takes[2])" },
  { function(d) d.takes[1].xrun_positions = { 1, "x" } end, "takes[1].xrun_positions[2]: number expected, got string" },
  { function(d) d.takes[1].gaps = { { position = 5 } } end, "takes[1].gaps[1].frames: missing" },
  { function(d) d.takes[1].peak_db = "loud" end, "takes[1].peak_db: number expected, got string" },
  { function(d) d.takes[1].note = 5 end, "takes[1].note: string expected, got number" },
  { function(d) d.takes = { a = 1 } end, "takes: list expected, got object" },
  { function(d) d.takes[1] = 5 end, "takes[1]: object expected, got number" },
  { function(d) d.tracks[2].inputs = { 0 } end, "tracks[2].inputs: input channels are integers counting from 1" },
  { function(d) d.tracks[2].inputs = { 1, 2, 3 } end, "tracks[2].inputs: one or two input channels expected" },
  { function(d) d.tracks[1].inputs = nil end, "tracks[1].inputs: missing" },
  { function(d) d.tracks[1].input = { 2 } end, "tracks[1]: input [2] and inputs [1] disagree" },
  { function(d) d.tracks[2].name = "Kick" end, "tracks[2].name: 'Kick' is already tracks[1]" },
  { function(d) d.tracks[2].name = ".hidden" end, "tracks[2].name: name must not begin with '.' or '-'" },
  { function(d) d.tracks[1].pan = 2 end, "tracks[1].pan: must be between -1 and 1, got 2" },
  { function(d) d.tracks[1].monitor = "yes" end, "tracks[1].monitor: boolean expected, got string" },
  { function(d) d.tracks[1].gain_db = {} end, "tracks[1].gain_db: number expected, got object" },
  { function(d) d.tempo[1].bar = 2 end, "tempo[1].bar: the first change must be at bar 1, got 2" },
  { function(d) d.tempo[2] = { bar = 9, bpm = 0 } end, "tempo[2]: bpm 0 at bar 9 must be between 1 and 1000" },
  { function(d) d.tempo[2] = { bar = 9, bpm = 100, meter = "7/9" } end,
    "tempo[2]: meter 7/9 at bar 9: note value must be 1, 2, 4, 8, 16 or 32" },
  { function(d) d.tempo[2] = { bar = 9, bpm = 100 } d.tempo[3] = { bar = 5, bpm = 90 } end,
    "tempo[3].bar: changes must be in bar order: 5 comes after 9" },
  { function(d) d.tempo = {} end, "tempo: at least one change (at bar 1) expected" },
  { function(d) d.tempo[1].bpm = "fast" end, "tempo[1].bpm: number expected, got string" },
  { function(d) d.sections[2].bar = 3 end, "sections[2]: bars 3 to 10 overlap sections[1] 'Intro' (bars 1 to 4)" },
  { function(d) d.sections[1].length_bars = 0 end, "sections[1].length_bars: must be between 1 and 99999, got 0" },
  { function(d) d.sections[1].name = "" end, "sections[1].name: must not be empty" },
  { function(d) d.sections[1].bar = 99999 d.sections[1].length_bars = 2 end,
    "sections[1].length_bars: ends after the last bar (99999)" },
  { function(d) d.rate = 44100.5 end, "rate: integer expected, got 44100.5" },
  { function(d) d.rate = 500 end, "rate: must be between 1000 and 768000, got 500" },
  { function(d) d.format = "mp3" end, "format: 'mp3' is not one of wav24, wav32f, flac, rf64" },
  { function(d) d.name = 5 end, "name: string expected, got number" },
  { function(d) d.last_take.Vox = "3" end, "last_take.Vox: number expected, got string" },
  { function(d) d.latency = { round_trip = -5 } end, "latency.round_trip: must not be negative, got -5" },
  { function(d) d.markers = { { name = "x" } } end, "markers[1].start: missing" },
  { function(d) d.reel_session = 2 end, "reel_session: format version 2 is newer than this reel reads (1)" },
  { function(d) d.reel_session = nil end, "not a reel session file (no reel_session version)" },
  { function(d) d.reel_session = "1" end, 'not a reel session file (reel_session is "1")' },
}

T.test("open: broken documents are reported with file and field", function()
  for i, case in ipairs(broken) do
    local doc = base_doc()
    case[1](doc)
    local dir = session_dir(doc)
    local before = read(dir .. "/session.json")
    local s, err = reel.open(dir)
    T.eq(s, nil, "case " .. i)
    T.eq(err, dir .. "/session.json: " .. case[2], "case " .. i)
    T.eq(read(dir .. "/session.json"), before, "case " .. i .. " left the file alone")
  end
  local dir = session_dir("[1, 2]")
  local _, err = reel.open(dir)
  T.eq(err, dir .. "/session.json: not a reel session file (expected a JSON object)")
  dir = session_dir('{ "reel_session": 1, ')
  _, err = reel.open(dir)
  local prefix = dir .. "/session.json: not valid JSON (Expected"
  T.eq(err:sub(1, #prefix), prefix)
  T.ok(err:find("%)$"), err)
  -- reel.session (which creates folders) reports the same.
  local s2, err2 = reel.session(dir)
  T.eq(s2, nil)
  T.eq(err2, err)
end)

T.test("open: null is absent, and peak_db null is -inf", function()
  local doc = base_doc()
  doc.takes[1].note = json.null
  doc.takes[1].peak_db = json.null
  doc.takes[1].peak = 0
  doc.latency = json.null
  local s = assert(reel.open(session_dir(doc)))
  T.eq(s.takes[1].note, nil)
  T.eq(s.takes[1].peak_db, -math.huge)
  T.eq(s.latency, nil)
end)

-- ---------------------------------------------------------------- save

T.test("save: derived fields afresh, unknown keys kept, atomic", function()
  local doc = base_doc()
  doc.mixer = { bus = "A" }                           -- a key of a later version
  doc.tracks[1].colour = "red"
  doc.takes[2].rating = 5
  doc.sections[2].colour = "blue"
  doc.sections[2].start = 12345                       -- derived: recomputed
  doc.sections[2].label = "Wrong"
  doc.takes[1].start_bbt = "99:1"
  doc.takes[1].seconds = 7
  doc.latency = { round_trip = 480, measured = "2025-01-01T00:00:00Z" }
  local dir = session_dir(doc)
  local s = assert(reel.open(dir))
  assert(s:save())
  local j = decode(dir .. "/session.json")
  T.eq(j.mixer.bus, "A")
  T.eq(j.tracks[1].colour, "red")
  T.eq(j.takes[2].rating, 5)
  T.eq(j.sections[2].colour, "blue")
  T.eq(j.sections[2].start, 4 * 96000)
  T.eq(j.sections[2].label, "Chorus")
  T.eq(j.takes[1].start_bbt, "1:1")
  T.eq(j.takes[2].start_bbt, "2:1")
  T.eq(j.takes[1].seconds, 1)
  T.eq(j.takes[1].status, "kept")
  T.eq(j.latency.round_trip, 480)
  T.eq(j.latency.measured, "2025-01-01T00:00:00Z")
  T.eq(table.concat(j.tracks[1].input, ","), "1")
  T.eq(table.concat(j.tracks[1].inputs, ","), "1")
  T.eq(j.tracks[1].armed, nil, "runtime fields stay in memory")
  for _, name in ipairs(core.list_dir(dir)) do
    T.ok(not name:find("tmp", 1, true), "leftover " .. name)
  end
  -- A second save writes the same bytes.
  local first = read(dir .. "/session.json")
  assert(assert(reel.open(dir)):save())
  T.eq(read(dir .. "/session.json"), first)
  -- document() is what save writes.
  T.eq(json.encode(s:document()), first)
end)

T.test("save: a file as earlier versions wrote it", function()
  local legacy = {
    reel_session = 1,
    tracks = { { name = "In1", input = { 1 } }, { name = "In2", input = { 2 } } },
    takes = { {
      track = "In1", take = 1, file = "audio/In1_T01.wav", format = "wav24", rate = 44100,
      frames = 4410, seconds = 0.1, start = 0, peak = 0.5, peak_db = -6.02, clipped = 0,
      xruns = 0, xrun_positions = {}, overruns = 0, lost_frames = 0, gaps = {},
      device = "virtual:virtual", recorded = "2025-11-26T01:00:00Z",
    } },
    last_take = { In1 = 1 },
  }
  local dir = session_dir(legacy)
  local s = assert(reel.open(dir))
  T.eq(s.rate, nil, "no rate in the file")
  T.eq(s:tempo_map():rate(), 44100, "positions at the takes' rate")
  T.eq(s.name, dir:match("[^/]*$"))
  T.eq(table.concat(s.tracks[2].input, ","), "2")
  assert(s:save())
  local j = decode(dir .. "/session.json")
  T.eq(j.rate, 44100)
  T.eq(j.takes[1].status, "kept")
  T.eq(j.takes[1].peak_db, -6.02)
  T.eq(#j.takes[1].gaps, 0)
  T.ok(read(dir .. "/session.json"):find('"gaps": []', 1, true), "empty lists stay lists")
  T.eq(j.tempo[1].bpm, 120)
end)

-- ----------------------------------------------------------- numbering

T.test("numbering: last_take, takes and files; never reused", function()
  local doc = base_doc()
  doc.last_take = { Vox = 5, Kick = 2 }
  local dir = session_dir(doc)
  local s = assert(reel.open(dir))
  T.eq(s:next_take_number("Vox"), 6, "last_take remembers deleted takes")
  T.eq(s:next_take_number("Kick"), 3)
  T.eq(s:next_take_number("Bass"), 1, "a track without takes")
  write(dir .. "/audio/Vox_T09.flac", "")
  write(dir .. "/audio/Vox2_T20.wav", "")
  write(dir .. "/audio/Vox_Tx.wav", "")
  T.eq(s:next_take_number("Vox"), 10, "a file nobody recorded blocks its number")
  T.eq(s:next_take_number("Vox2"), 21)
  s.takes[#s.takes + 1] = { track = "Vox", take = 12, file = "audio/Vox_T12.wav" }
  T.eq(s:next_take_number("Vox"), 13)
  T.eq(session.last_take_number(s, "Vox", { "Vox_T40.wav" }), 40)
  T.eq(session.last_take_number(s, "Kick", {}), 2)
  T.raises(function() s.next_take_number("Vox") end,
    "bad self to 'next_take_number' (reel.session expected, got string); call it as s:next_take_number(...)")
end)

T.done()
